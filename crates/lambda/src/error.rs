//! The one error type handlers return, and the retry decision made from it at the boundary.

use costwatch_pipeline::PipelineError;
use costwatch_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum HandlerError {
    /// The event is not what this function takes: retrying cannot help.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// A setting is missing or invalid (environment, pipeline configuration).
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl HandlerError {
    /// Retryable errors go back to Lambda, which retries the invocation and finally hands it to
    /// the function's dead-letter queue; the others are sent there at once, with the reason.
    pub fn is_retryable(&self) -> bool {
        match self {
            HandlerError::Malformed(_) | HandlerError::Config(_) => false,
            HandlerError::Pipeline(e) => e.is_retryable(),
            HandlerError::Store(e) => e.is_retryable(),
        }
    }
}

pub type Result<T, E = HandlerError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_retried_and_bad_input_is_not() {
        let throttled = StoreError::Aws {
            operation: "dynamodb:Query",
            message: "ProvisionedThroughputExceeded".into(),
            retryable: true,
        };
        assert!(HandlerError::from(throttled).is_retryable());
        let denied = StoreError::Aws {
            operation: "s3:PutObject",
            message: "AccessDenied".into(),
            retryable: false,
        };
        assert!(!HandlerError::from(denied).is_retryable());
        assert!(!HandlerError::Malformed("no Records".into()).is_retryable());
        let corrupt = PipelineError::CorruptPartition {
            key: "curated/daily/dt=2026-11-01/records.jsonl".into(),
            line: 3,
            reason: "not JSON".into(),
        };
        assert!(!HandlerError::from(corrupt).is_retryable());
    }
}
