use thiserror::Error;

#[derive(Debug, Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] costwatch_store::StoreError),
    #[error("curated partition `{key}` line {line}: {reason}")]
    CorruptPartition {
        key: String,
        line: usize,
        reason: String,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("report rendering: {0}")]
    Render(String),
    /// A Data Exports query failed or answered rows that cannot be read.
    #[error(transparent)]
    Query(#[from] costwatch_query::QueryError),
}

impl PipelineError {
    /// Retry only what may succeed on retry; bad data or config goes to the dead-letter queue.
    pub fn is_retryable(&self) -> bool {
        match self {
            PipelineError::Store(e) => e.is_retryable(),
            PipelineError::Query(e) => e.is_retryable(),
            _ => false,
        }
    }
}

pub type Result<T, E = PipelineError> = std::result::Result<T, E>;
