//! Queries over AWS Data Exports: the SQL that turns CUR line items into costwatch's daily
//! records, written once in the dialect Athena (Trino) runs, and the mapping of its rows back to
//! [`CostRecord`](costwatch_core::CostRecord)s.
//!
//! Two engines run the same text: Athena in the collect Lambda (feature `athena`), where the
//! export sits in S3 behind a Glue table with partition projection on `billing_period`, and an
//! embedded DataFusion engine (feature `embedded`) in the CLI and in the SQL's own tests, over
//! Parquet files on disk. The tests run the SQL on the real CUR in `../shared/data/cost/cur` and
//! compare its roll-up with the one the project's own reader computes from the same files.

pub mod daily;
pub mod error;
pub mod export;
pub mod price;
pub mod resources;
pub mod rows;
mod sql;

#[cfg(feature = "athena")]
pub mod athena;
#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "embedded")]
mod embedded_udf;
#[cfg(feature = "embedded")]
pub mod synthetic;

pub use daily::{DailyQuery, Window};
pub use error::QueryError;
pub use export::{CUR2_COLUMNS, ExportTable, FOCUS_COLUMNS, Flavour};
pub use resources::ResourceQuery;
pub use rows::{Answer, Rows};

/// Something that runs a query's text and answers with its rows as text, the way Athena's
/// GetQueryResults does, plus how many bytes it read (what Athena bills).
#[async_trait::async_trait]
pub trait Engine: Send + Sync {
    async fn run(&self, sql: &str) -> Result<Answer, QueryError>;
}
