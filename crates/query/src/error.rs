use thiserror::Error;

#[derive(Debug, Error)]
pub enum QueryError {
    /// The engine refused or failed the query (syntax, permissions, bytes-scanned cutoff).
    #[error("query failed: {0}")]
    Failed(String),
    /// The engine could not be reached or answered in a way the adapter cannot read; worth
    /// retrying.
    #[error("query engine unavailable: {0}")]
    Unavailable(String),
    /// The query did not finish within the time given to it.
    #[error("query did not finish in {seconds} s (execution {execution_id})")]
    TimedOut { execution_id: String, seconds: u64 },
    /// The answer's columns or values are not what the query asked for.
    #[error("unexpected answer: {0}")]
    Shape(String),
    /// The export on disk or in the catalog cannot be read as a table.
    #[error("cannot open the export: {0}")]
    Source(String),
}

impl QueryError {
    /// Whether running the same query again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::TimedOut { .. })
    }
}
