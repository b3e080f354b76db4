//! A Data Export on disk (a CUR 2.0 export's folder — `data/BILLING_PERIOD=YYYY-MM/*.parquet` —
//! or any CUR Parquet file or folder) read by the embedded engine with the same SQL the collect
//! Lambda sends to Athena (`costwatch_query`). `import --cur` and `run --data-export` use it.
//! The lean build (`make demo`) leaves the engine out and says which build it needs.

use std::path::Path;

use anyhow::Result;
#[cfg(feature = "data-exports")]
use chrono::NaiveDate;
use costwatch_core::CostRecord;
use costwatch_ingest::Format;

use crate::config::Settings;

/// The table name the queries read.
#[cfg(feature = "data-exports")]
const TABLE: &str = "cur";

/// Whether `path` is read through the engine: a folder, or a Parquet file when the build has the
/// engine (CSV, and Parquet in the lean build, keep the project's own reader).
pub fn through_engine(path: &Path) -> bool {
    path.is_dir()
        || (cfg!(feature = "data-exports") && path.extension().is_some_and(|e| e == "parquet"))
}

#[cfg(feature = "data-exports")]
pub struct LocalExport {
    engine: std::sync::Arc<costwatch_query::embedded::EmbeddedEngine>,
    table: costwatch_query::ExportTable,
}

/// Tag keys that name a resource's owner in the resource-level root cause (as the detect
/// Lambda's default).
#[cfg(feature = "data-exports")]
const OWNER_TAG_KEYS: [&str; 2] = ["owner", "team"];

#[cfg(feature = "data-exports")]
impl LocalExport {
    /// Opens the export; CUR 2.0 keeps the tag keys and cost categories of `[cost_explorer]`,
    /// the legacy layout every tag and cost category column.
    pub async fn open(path: &Path, settings: &Settings) -> Result<Self> {
        use anyhow::Context;
        let engine = costwatch_query::embedded::EmbeddedEngine::open(path, TABLE)
            .await
            .with_context(|| format!("opening {} as a cost export", path.display()))?;
        let table = engine
            .export_table(
                TABLE,
                settings.cost_explorer.tag_keys.clone(),
                settings.cost_explorer.cost_categories.clone(),
            )
            .await?;
        Ok(Self {
            engine: std::sync::Arc::new(engine),
            table,
        })
    }

    /// The first and last day with line items, or `None` for an empty export.
    pub async fn extent(&self) -> Result<Option<(NaiveDate, NaiveDate)>> {
        use costwatch_query::Engine;
        let sql = format!(
            "SELECT CAST(MIN(line_item_usage_start_date) AS DATE) AS first_day, \
             CAST(MAX(line_item_usage_start_date) AS DATE) AS last_day FROM {TABLE}"
        );
        let answer = self.engine.run(&sql).await?;
        let [first, last] = answer.rows.positions(["first_day", "last_day"])?;
        let day = |i: usize| -> Result<Option<NaiveDate>> {
            let cell = answer
                .rows
                .rows
                .first()
                .and_then(|r| r.get(i).cloned().flatten());
            Ok(cell.map(|c| c.parse()).transpose()?)
        };
        Ok(day(first)?.zip(day(last)?))
    }

    /// The daily records of `first..=last`.
    pub async fn records(&self, first: NaiveDate, last: NaiveDate) -> Result<Vec<CostRecord>> {
        use costwatch_query::{DailyQuery, Engine, Window};
        let window = Window {
            from: first,
            to: last.succ_opt().unwrap_or(last),
        };
        let query = DailyQuery::new(&self.table, window);
        let answer = self.engine.run(&query.sql).await?;
        Ok(query.records(&answer.rows)?)
    }

    pub fn engine(&self) -> &costwatch_query::embedded::EmbeddedEngine {
        &self.engine
    }

    pub fn table(&self) -> &costwatch_query::ExportTable {
        &self.table
    }

    /// The export's line items for resource-level root cause, through the same engine.
    pub fn resource_lines(&self) -> costwatch_pipeline::resource_causes::ExportLines {
        costwatch_pipeline::resource_causes::ExportLines::new(
            self.engine.clone(),
            self.table.clone(),
            OWNER_TAG_KEYS.map(String::from).to_vec(),
        )
    }
}

/// Every daily record of the export at `path`, and the family its columns put it in
/// ([`Format::FocusCsv`] for FOCUS, [`Format::CurParquet`] for a CUR), whatever the flag said.
#[cfg(feature = "data-exports")]
pub async fn read_all(path: &Path, settings: &Settings) -> Result<(Vec<CostRecord>, Format)> {
    let export = LocalExport::open(path, settings).await?;
    let kind = match export.table.flavour {
        costwatch_query::Flavour::Focus => Format::FocusCsv,
        _ => Format::CurParquet,
    };
    let records = match export.extent().await? {
        Some((first, last)) => export.records(first, last).await?,
        None => Vec::new(),
    };
    Ok((records, kind))
}

#[cfg(not(feature = "data-exports"))]
pub async fn read_all(_: &Path, _: &Settings) -> Result<(Vec<CostRecord>, Format)> {
    Err(crate::needs::needs("data-exports", "import --cur <folder>"))
}
