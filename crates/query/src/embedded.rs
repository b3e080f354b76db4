//! The embedded engine: DataFusion over Parquet on disk, for the CLI and for the SQL's own tests.
//! A folder laid out as Data Exports writes it (`data/BILLING_PERIOD=YYYY-MM/*.parquet`) becomes
//! a table with a `billing_period` column, so the query prunes months here as Athena does with
//! partition projection; any other file or folder of Parquet is one unpartitioned table.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::{Answer, Engine, ExportTable, QueryError, Rows};

/// The folder name Data Exports gives each month's files, and the partition column's name in
/// the Glue table (Athena lowercases it).
const PERIOD_DIRECTORY_KEY: &str = "BILLING_PERIOD";

pub struct EmbeddedEngine {
    ctx: SessionContext,
}

impl EmbeddedEngine {
    /// An engine with `table` over the export at `path` (one partition per run of the CLI: the
    /// process's cores are the query's threads).
    pub async fn open(path: &Path, table: &str) -> Result<Self, QueryError> {
        let config = SessionConfig::new()
            .with_target_partitions(std::thread::available_parallelism().map_or(1, |n| n.get()));
        let ctx = SessionContext::new_with_config(config);
        ctx.register_udf(crate::embedded_udf::element_at());
        let source = |e: datafusion::error::DataFusionError| {
            QueryError::Source(format!("{}: {e}", path.display()))
        };
        let data = path.join("data");
        let partitioned = has_period_folders(&data);
        let root = if partitioned {
            data
        } else {
            path.to_path_buf()
        };
        let mut url = root
            .to_str()
            .ok_or_else(|| QueryError::Source(format!("{}: not UTF-8", path.display())))?
            .to_owned();
        if root.is_dir() && !url.ends_with('/') {
            url.push('/');
        }
        let mut options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(if root.is_dir() { ".parquet" } else { "" });
        if partitioned {
            options = options
                .with_table_partition_cols(vec![(PERIOD_DIRECTORY_KEY.into(), DataType::Utf8)]);
        }
        let listing = ListingTableUrl::parse(&url).map_err(source)?;
        let schema = options
            .infer_schema(&ctx.state(), &listing)
            .await
            .map_err(source)?;
        let files = format!("{table}_files");
        ctx.register_listing_table(&files, &url, options, Some(nullable(&schema)), None)
            .await
            .map_err(source)?;
        // Every column under its lowercase name, as Athena's Glue table names it (FOCUS files
        // say `BilledCost`, the queries `billedcost`); the folders' BILLING_PERIOD becomes
        // billing_period likewise.
        let mut names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        if partitioned {
            names.push(PERIOD_DIRECTORY_KEY.into());
        }
        let select: Vec<String> = names
            .iter()
            .map(|n| format!("{} AS {}", quoted(n), quoted(&n.to_ascii_lowercase())))
            .collect();
        ctx.sql(&format!(
            "CREATE VIEW {table} AS SELECT {} FROM {files}",
            select.join(", ")
        ))
        .await
        .map_err(source)?;
        Ok(Self { ctx })
    }

    /// The table as the queries see it: FOCUS when it has `ChargePeriodStart` and `BilledCost`,
    /// CUR 2.0 when `resource_tags` is a map (for both, `tag_keys` and `cost_categories` name
    /// what to keep, as in the Cost Explorer settings), else the legacy Athena-named layout
    /// with every tag and cost category column.
    pub async fn export_table(
        &self,
        table: &str,
        tag_keys: Vec<String>,
        cost_categories: Vec<String>,
    ) -> Result<ExportTable, QueryError> {
        let frame = self
            .ctx
            .table(table)
            .await
            .map_err(|e| QueryError::Source(e.to_string()))?;
        let schema = frame.schema();
        let columns: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| f.name().to_ascii_lowercase())
            .collect();
        let maps = schema
            .fields()
            .iter()
            .any(|f| f.name() == "resource_tags" && matches!(f.data_type(), DataType::Map(..)));
        let has = |name: &str| columns.iter().any(|c| c == name);
        let focus = has("chargeperiodstart") && has("billedcost");
        Ok(if focus || maps {
            let mut export = if focus {
                ExportTable::focus(table, tag_keys, cost_categories)
            } else {
                ExportTable::cur2(table, tag_keys, cost_categories)
            };
            export.billing_period = columns
                .iter()
                .any(|c| c == "billing_period")
                .then(|| "billing_period".into());
            export.columns = columns.into_iter().collect();
            export
        } else {
            ExportTable::legacy(table, columns)
        })
    }

    /// The table's column names (lowercase, as the queries name them).
    pub async fn columns(&self, table: &str) -> Result<Vec<String>, QueryError> {
        let frame = self
            .ctx
            .table(table)
            .await
            .map_err(|e| QueryError::Source(e.to_string()))?;
        Ok(frame
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().to_ascii_lowercase())
            .collect())
    }
}

/// Every column nullable: each month's file declares its own columns (a tag first seen in
/// November is REQUIRED in November's file and absent from October's), and the merged table
/// must take nulls where a file lacks one.
fn nullable(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ))
}

/// A SQL identifier in double quotes, any quote inside doubled.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn has_period_folders(data: &Path) -> bool {
    let prefix = format!("{PERIOD_DIRECTORY_KEY}=");
    std::fs::read_dir(data).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
    })
}

#[async_trait]
impl Engine for EmbeddedEngine {
    async fn run(&self, sql: &str) -> Result<Answer, QueryError> {
        let failed = |e: datafusion::error::DataFusionError| QueryError::Failed(e.to_string());
        let frame = self.ctx.sql(sql).await.map_err(failed)?;
        let plan = frame.create_physical_plan().await.map_err(failed)?;
        let batches = collect(plan.clone(), self.ctx.task_ctx())
            .await
            .map_err(failed)?;
        let columns = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        Ok(Answer {
            rows: Rows {
                columns,
                rows: text_rows(&batches)?,
            },
            bytes_scanned: bytes_scanned(plan.as_ref()),
        })
    }
}

/// Every cell as text, formatted as Athena writes its results (dates `YYYY-MM-DD`, decimals
/// with their scale), nulls as `None`.
fn text_rows(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<String>>>, QueryError> {
    let options = FormatOptions::default();
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| QueryError::Shape(e.to_string()))?;
        for i in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .zip(&formatters)
                    .map(|(c, f)| c.is_valid(i).then(|| f.value(i).to_string()))
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// The Parquet bytes the plan's scans fetched, summed over the plan.
fn bytes_scanned(plan: &dyn ExecutionPlan) -> u64 {
    let own = plan
        .metrics()
        .and_then(|m| m.sum_by_name("bytes_scanned"))
        .map_or(0, |v| v.as_usize() as u64);
    own + plan
        .children()
        .into_iter()
        .map(|c| bytes_scanned(c.as_ref()))
        .sum::<u64>()
}
