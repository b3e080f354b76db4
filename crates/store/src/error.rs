use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A conditional write lost a race: someone else changed the item first. Retryable.
    #[error("conflict on `{key}`: expected version {expected:?}, found {found:?}")]
    Conflict {
        key: String,
        expected: Option<u64>,
        found: Option<u64>,
    },
    #[error("secret `{0}` not found")]
    SecretNotFound(String),
    #[error("invalid key `{0}`: {1}")]
    InvalidKey(String, &'static str),
    #[error("corrupt data in `{path}`: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("cost source: {0}")]
    Source(String),
    /// An AWS call failed (the AWS adapters, feature `aws`). `retryable` for throttling,
    /// timeouts, connection failures and 5xx answers.
    #[error("AWS {operation}: {message}")]
    Aws {
        operation: &'static str,
        message: String,
        retryable: bool,
    },
    #[error("I/O on `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// Whether retrying the same call may succeed (conflicts and I/O); at the Lambda boundary a
    /// retryable error goes back to the queue, anything else to the dead-letter queue.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Conflict { .. }
                | StoreError::Io { .. }
                | StoreError::Aws {
                    retryable: true,
                    ..
                }
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
