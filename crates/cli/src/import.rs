//! `costwatch import`: one cost file into the local store (raw copy, curated days, rollups).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use costwatch_core::money::display;
use costwatch_core::{CostRecord, Money};
use costwatch_ingest::Format;
use costwatch_pipeline::{aggregate, collect};
use costwatch_store::memory::MemoryCostSource;
use costwatch_store::{LakeWriter, LocalStore};
use serde::Serialize;

use crate::output::progress;

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct ImportArgs {
    /// Cost and Usage Report: a Data Export's folder (CUR 2.0, `data/BILLING_PERIOD=…/`), a
    /// Parquet file or folder (read by the embedded SQL engine, the queries Athena runs), or CSV
    /// (.csv / .csv.gz, any delimiter).
    #[arg(long)]
    cur: Option<PathBuf>,
    /// FOCUS 1.0 / 1.2: a Data Export's folder or Parquet (read by the embedded SQL engine, the
    /// queries Athena runs), or CSV (optionally gzipped).
    #[arg(long)]
    focus: Option<PathBuf>,
    /// Cost Explorer GetCostAndUsage response JSON (one response or an array of pages).
    #[arg(long)]
    ce_json: Option<PathBuf>,
    /// Cost Explorer's CSV download from the console (a daily report, grouped by service,
    /// linked account, region, usage type or charge type, or not at all).
    #[arg(long)]
    ce_csv: Option<PathBuf>,
}

impl ImportArgs {
    /// `--cur path` (for `bench cur`'s child).
    #[cfg(feature = "data-exports")]
    pub fn cur(path: PathBuf) -> Self {
        Self {
            cur: Some(path),
            focus: None,
            ce_json: None,
            ce_csv: None,
        }
    }
}

#[derive(Serialize)]
struct ImportSummary {
    file: PathBuf,
    format: String,
    records: usize,
    days: usize,
    first_day: Option<chrono::NaiveDate>,
    last_day: Option<chrono::NaiveDate>,
    billed_cost: Money,
    rollup_rows: usize,
    data_dir: PathBuf,
}

fn chosen(args: &ImportArgs) -> Result<(&Path, Format)> {
    if let Some(p) = &args.cur {
        let format = if p.extension().is_some_and(|e| e == "parquet") {
            Format::CurParquet
        } else {
            Format::CurCsv
        };
        return Ok((p, format));
    }
    if let Some(p) = &args.focus {
        return Ok((p, Format::FocusCsv));
    }
    if let Some(p) = &args.ce_json {
        return Ok((p, Format::CeJson));
    }
    if let Some(p) = &args.ce_csv {
        return Ok((p, Format::CeCsv));
    }
    anyhow::bail!("give one of --cur, --focus, --ce-json or --ce-csv")
}

/// The flag that reads `format`, and what to call such a file.
fn flag(format: Format) -> (&'static str, &'static str) {
    match format {
        Format::CurCsv | Format::CurParquet => ("--cur", "a Cost and Usage Report"),
        Format::FocusCsv => ("--focus", "a FOCUS export"),
        Format::CeJson => ("--ce-json", "Cost Explorer JSON"),
        Format::CeCsv => ("--ce-csv", "Cost Explorer's CSV download"),
    }
}

/// A file given under the wrong flag fails on a column or a shape it lacks; when its content
/// says what it is, the error names the flag that reads it.
fn with_flag_hint(e: costwatch_ingest::IngestError, path: &Path, given: Format) -> anyhow::Error {
    match costwatch_ingest::detect(path) {
        Ok(found) if flag(found).0 != flag(given).0 => {
            let (found_flag, found_kind) = flag(found);
            anyhow::Error::new(e).context(format!(
                "this looks like {found_kind}, not what {} reads: import it with {found_flag}",
                flag(given).0
            ))
        }
        _ => e.into(),
    }
}

pub async fn import(
    args: ImportArgs,
    settings: &crate::config::Settings,
    json: bool,
) -> Result<()> {
    let (path, format) = chosen(&args)?;
    let bar = progress(json, 3, "read, collect, aggregate");
    // Cost Explorer's files are small and have no export folder to read in place.
    let engine = !matches!(format, Format::CeJson | Format::CeCsv)
        && crate::data_export::through_engine(path);
    // Through the engine, the columns say what the export is, whichever flag named it. The
    // kind for the JSON summary, and what a person calls it for the line.
    let (records, kind, words): (Vec<CostRecord>, String, &str) = match engine {
        true => {
            let (records, family) = crate::data_export::read_all(path, settings).await?;
            let kind = match family {
                Format::FocusCsv => "FocusExport",
                _ => "CurExport",
            };
            (records, kind.to_owned(), flag(family).1)
        }
        false => (
            costwatch_ingest::read_as(path, format).map_err(|e| with_flag_hint(e, path, format))?,
            format!("{format:?}"),
            flag(format).1,
        ),
    };
    bar.inc(1);
    let (Some(first), Some(last)) = (
        records.iter().map(CostRecord::day).min(),
        records.iter().map(CostRecord::day).max(),
    ) else {
        anyhow::bail!("{} holds no cost records", path.display());
    };
    let store = LocalStore::open(&settings.data_dir)
        .with_context(|| format!("opening data directory {}", settings.data_dir.display()))?;
    // A text file is kept under raw/ as received; an export read in place by the engine (a
    // folder, or Parquet of any size) is already a file the user keeps.
    if !engine {
        let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "import".into());
        store
            .lake
            .put(&format!("raw/import/{file_name}"), raw)
            .await?;
    }
    let billed_cost: Money = records.iter().map(|r| r.billed_cost).sum();
    let count = records.len();
    let collected =
        collect::collect(&MemoryCostSource::new(records), &store.lake, first, last).await?;
    bar.inc(1);
    let all: Vec<CostRecord> = collected.by_day.values().flatten().cloned().collect();
    let agg = aggregate::aggregate_records(
        &store.rollups,
        &store.state,
        &settings.pipeline,
        &collected.days,
        &all,
    )
    .await?;
    bar.finish_and_clear();
    let summary = ImportSummary {
        file: path.to_path_buf(),
        format: kind,
        records: count,
        days: collected.days.len(),
        first_day: Some(first),
        last_day: Some(last),
        billed_cost,
        rollup_rows: agg.rows,
        data_dir: settings.data_dir.clone(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        let days = match summary.days {
            1 => format!("1 day ({first})"),
            n => format!("{n} days ({first} to {last})"),
        };
        println!(
            "imported {} ({}): {} records, {days}, billed {}, {} rollup rows in {}",
            path.display(),
            words,
            count,
            display(billed_cost, costwatch_core::envelopes::DEFAULT_CURRENCY),
            agg.rows,
            settings.data_dir.display()
        );
    }
    Ok(())
}
