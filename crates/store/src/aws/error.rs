//! SDK errors → [`StoreError::Aws`], deciding what a retry may fix.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::error::StoreError;

/// Error codes AWS uses for "slow down" that do not always come with a 429.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
];

pub fn aws_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            status >= 500 || status == 429 || err.code().is_some_and(|c| THROTTLING.contains(&c))
        }
        _ => false,
    };
    StoreError::Aws {
        operation,
        message: DisplayErrorContext(&err).to_string(),
        retryable,
    }
}

/// A malformed item or response: not retryable, the data must be fixed.
pub(crate) fn corrupt(path: impl Into<String>, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        path: path.into(),
        reason: reason.into(),
    }
}
