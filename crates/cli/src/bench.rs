//! `costwatch bench nab --data DIR --out DIR`: the stream detector over every `timestamp,value`
//! CSV under DIR (recursively), written to `OUT/<same relative path>` with an `anomaly_score`
//! column — NAB's results layout, for its scorer or ours (`make nab`). One configuration for
//! every file; only the values and their times, in row order, decide the scores (never labels,
//! file or folder names).

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
}

pub fn bench(args: BenchArgs, json: bool) -> Result<()> {
    let BenchCommand::Nab { data, out } = args.command;
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
