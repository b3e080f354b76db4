//! `costwatch bench nab --data DIR --out DIR`: the stream detector over every `timestamp,value`
//! CSV under DIR (recursively), written to `OUT/<same relative path>` with an `anomaly_score`
//! column — NAB's results layout, for its scorer or ours (`make nab`). One configuration for
//! every file; only the values and their times, in row order, decide the scores (never labels,
//! file or folder names).
//!
//! `costwatch bench coldstart`: the Lambdas' cold starts beside hello-world's (src/coldstart.rs).
//!
//! `costwatch bench scale`: the daily run at 1,000 accounts on both stores (src/scale/).
//!
//! `costwatch bench cur`: import + daily roll-ups of generated CUR 2.0 months, one core
//! (src/cur_bench.rs).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use costwatch_analytics::stream::{StreamConfig, score_timed_stream};
use costwatch_ingest::metric_csv;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Score NAB-style metric streams online (each row from the rows up to it).
    Nab {
        /// Folder of `timestamp,value` CSV files, searched recursively.
        #[arg(long)]
        data: PathBuf,
        /// Folder for the scored files (same relative paths).
        #[arg(long)]
        out: PathBuf,
    },
    /// Each Lambda's cold start (time to its first /next, peak RSS, size) beside a hello-world
    /// lambda_runtime binary's: `bench coldstart --bin-dir $CARGO_TARGET_DIR/release`.
    #[cfg(feature = "invoke")]
    Coldstart(crate::coldstart::ColdstartArgs),
    /// The whole daily run on a synthetic organisation of 1,000 accounts × 16 services × 400
    /// days, on the local store and on moto: time, peak memory, DynamoDB request units.
    #[cfg(feature = "invoke")]
    Scale(crate::scale::ScaleArgs),
    /// One measured daily run on a store `bench scale` seeded (its child process).
    #[cfg(feature = "invoke")]
    #[command(hide = true)]
    ScaleRun(crate::scale::RunArgs),
    /// `import --cur` of a generated CUR 2.0 month per `--lines` size (Data Exports layout),
    /// each on one core: time, peak memory, the export's size.
    #[cfg(feature = "data-exports")]
    Cur(crate::cur_bench::CurBenchArgs),
    /// One measured import (`bench cur`'s child process).
    #[cfg(feature = "data-exports")]
    #[command(hide = true)]
    CurImport(crate::cur_bench::CurImportArgs),
}

pub async fn bench(args: BenchArgs, settings: &crate::config::Settings, json: bool) -> Result<()> {
    let (data, out) = match args.command {
        BenchCommand::Nab { data, out } => (data, out),
        #[cfg(feature = "invoke")]
        BenchCommand::Coldstart(args) => return crate::coldstart::coldstart(args, json).await,
        #[cfg(feature = "invoke")]
        BenchCommand::Scale(args) => return crate::scale::scale(args, json).await,
        #[cfg(feature = "invoke")]
        BenchCommand::ScaleRun(args) => return crate::scale::scale_run(args).await,
        #[cfg(feature = "data-exports")]
        BenchCommand::Cur(args) => return crate::cur_bench::cur_bench(args, json).await,
        #[cfg(feature = "data-exports")]
        BenchCommand::CurImport(args) => return crate::cur_bench::cur_import(args, settings).await,
    };
    let _ = settings;
    let files = metric_csv::csv_files(&data)?;
    if files.is_empty() {
        bail!("no .csv files under {}", data.display());
    }
    let cfg = StreamConfig::default();
    let mut rows_total = 0;
    for relative in &files {
        let rows = metric_csv::read(&data.join(relative))?;
        let points: Vec<(Option<i64>, Option<f64>)> =
            rows.iter().map(|r| (r.time, r.value)).collect();
        let scores = score_timed_stream(&points, &cfg);
        let target = out.join(relative);
        metric_csv::write(&target, &rows, &scores)
            .with_context(|| format!("writing {}", target.display()))?;
        rows_total += rows.len();
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"files": files.len(), "rows": rows_total, "out": out})
        );
    } else {
        println!(
            "scored {} files ({rows_total} rows) into {}",
            files.len(),
            out.display()
        );
    }
    Ok(())
}
