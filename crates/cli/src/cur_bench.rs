//! `costwatch bench cur`: import + daily roll-ups of a generated CUR 2.0 month (Data Exports
//! layout, `costwatch_query::synthetic`) of each given size, each import in a child process
//! (`bench cur-import`) pinned to one core with `taskset`: wall time, the child's peak memory
//! (VmHWM), the export's size on disk. The scaling curve for the README (docs/benchmarks.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use chrono::NaiveDate;
use clap::Args;
use serde::{Deserialize, Serialize};

#[derive(Args)]
pub struct CurBenchArgs {
    /// Line items in the month; repeat for a curve (default 1,000,000 and 10,000,000).
    #[arg(long = "lines")]
    lines: Vec<u64>,
    /// Accounts the lines spread over.
    #[arg(long, default_value_t = 1_000)]
    accounts: u32,
    /// Where the generated exports are written (one folder per size, reused when present).
    #[arg(long, default_value = "costwatch-bench-cur")]
    dir: PathBuf,
}

#[derive(Args)]
pub struct CurImportArgs {
    #[arg(long)]
    cur: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct ChildReport {
    peak_rss_mib: f64,
}

#[derive(Serialize)]
struct Row {
    lines: u64,
    files: usize,
    export_mib: f64,
    generate_seconds: Option<f64>,
    import_seconds: f64,
    lines_per_second: f64,
    peak_rss_mib: f64,
    cores: &'static str,
}

const MONTH: (i32, u32) = (2026, 11);

pub async fn cur_bench(args: CurBenchArgs, json: bool) -> Result<()> {
    let sizes = if args.lines.is_empty() {
        vec![1_000_000, 10_000_000]
    } else {
        args.lines.clone()
    };
    let month = NaiveDate::from_ymd_opt(MONTH.0, MONTH.1, 1).context("month")?;
    let mut rows = Vec::new();
    for lines in sizes {
        let export = args.dir.join(format!("cur2-{lines}"));
        let generate_seconds = if export.join("data").is_dir() {
            None
        } else {
            let started = Instant::now();
            let spec = costwatch_query::synthetic::MonthSpec {
                month,
                lines,
                accounts: args.accounts,
                lines_per_file: 2_000_000,
            };
            costwatch_query::synthetic::write_month(&export, &spec)?;
            Some(started.elapsed().as_secs_f64())
        };
        let (files, bytes) = parquet_files(&export)?;
        let data = args.dir.join(format!("store-{lines}"));
        let _ = std::fs::remove_dir_all(&data);
        let (report, seconds) = import_child(&export, &data)?;
        let row = Row {
            lines,
            files,
            export_mib: bytes as f64 / (1024.0 * 1024.0),
            generate_seconds,
            import_seconds: seconds,
            lines_per_second: lines as f64 / seconds,
            peak_rss_mib: report.peak_rss_mib,
            cores: "1 (taskset -c 0)",
        };
        if !json {
            println!(
                "{:>11} lines, {} files, {:>7.1} MiB: import + daily roll-ups {:>6.1} s \
                 ({:.0} lines/s), peak {:.0} MiB",
                row.lines,
                row.files,
                row.export_mib,
                row.import_seconds,
                row.lines_per_second,
                row.peak_rss_mib
            );
        }
        rows.push(row);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}

fn parquet_files(export: &Path) -> Result<(usize, u64)> {
    let mut files = 0;
    let mut bytes = 0;
    let mut stack = vec![export.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| dir.display().to_string())? {
            let entry = entry?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                files += 1;
                bytes += entry.metadata()?.len();
            }
        }
    }
    Ok((files, bytes))
}

/// `costwatch import --cur <export>` as `bench cur-import`, on core 0 only.
fn import_child(export: &Path, data: &Path) -> Result<(ChildReport, f64)> {
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let output = Command::new("taskset")
        .args(["-c", "0"])
        .arg(exe)
        .arg("--data-dir")
        .arg(data)
        .args(["bench", "cur-import", "--cur"])
        .arg(export)
        .stderr(Stdio::inherit())
        .output()
        .context("starting taskset (util-linux) with bench cur-import")?;
    let seconds = started.elapsed().as_secs_f64();
    ensure!(
        output.status.success(),
        "bench cur-import failed: {}",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let report = serde_json::from_str(line).with_context(|| format!("cur-import said: {line}"))?;
    Ok((report, seconds))
}

/// The child: the import exactly as `costwatch import --cur`, then its own peak memory.
pub async fn cur_import(args: CurImportArgs, settings: &crate::config::Settings) -> Result<()> {
    crate::import::import(crate::import::ImportArgs::cur(args.cur), settings, true).await?;
    let kib = crate::rss::peak_rss_kib("self").context("no VmHWM in /proc/self/status")?;
    let report = ChildReport {
        peak_rss_mib: kib as f64 / 1024.0,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
