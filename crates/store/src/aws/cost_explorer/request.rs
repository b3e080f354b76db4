//! Sending GetCostAndUsage: pagination on NextPageToken (the SDK has no paginator for it),
//! retries with jittered backoff, one budget request per send, and the response body as received.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_costexplorer::config::http::HttpResponse;
use aws_sdk_costexplorer::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_costexplorer::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_costexplorer::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_costexplorer::types::{DateInterval, Granularity, GroupDefinition};
use chrono::NaiveDate;

use super::{CostExplorerSource, METRICS, RetryPolicy};
use crate::aws::error::{aws_error, corrupt};
use crate::error::{Result, StoreError};
use crate::ports::RequestBudget;

pub(super) const OPERATION: &str = "ce:GetCostAndUsage";

/// The pages of one request, in order; `complete` is false when the budget cut it off.
pub(super) struct Paged {
    pub bodies: Vec<Vec<u8>>,
    pub complete: bool,
}

impl CostExplorerSource {
    /// Every page of one request over `first..=last` (`End` is exclusive on the wire).
    pub(super) async fn pages(
        &self,
        group_by: Option<&[GroupDefinition]>,
        first: NaiveDate,
        last: NaiveDate,
        budget: &RequestBudget,
    ) -> Result<Paged> {
        let end = last
            .succ_opt()
            .ok_or_else(|| StoreError::Source(format!("no day after {last}")))?;
        let period = DateInterval::builder()
            .start(first.to_string())
            .end(end.to_string())
            .build()
            .map_err(|e| StoreError::Source(e.to_string()))?;
        let mut bodies = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let sent = self
                .send(&period, group_by, token.as_deref(), budget)
                .await?;
            let Some((body, next)) = sent else {
                return Ok(Paged {
                    bodies,
                    complete: false,
                });
            };
            bodies.push(body);
            match next {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => {
                    return Ok(Paged {
                        bodies,
                        complete: true,
                    });
                }
            }
        }
    }

    /// One page: (body, next page token), or `None` when the budget refuses the next send.
    async fn send(
        &self,
        period: &DateInterval,
        group_by: Option<&[GroupDefinition]>,
        token: Option<&str>,
        budget: &RequestBudget,
    ) -> Result<Option<(Vec<u8>, Option<String>)>> {
        let policy = self.options.retry;
        let mut attempt = 0;
        loop {
            if !budget.try_take() {
                return Ok(None);
            }
            attempt += 1;
            let capture = BodyCapture::default();
            let sent = self
                .client
                .get_cost_and_usage()
                .time_period(period.clone())
                .granularity(Granularity::Daily)
                .set_metrics(Some(METRICS.iter().map(|m| (*m).to_owned()).collect()))
                .set_group_by(group_by.map(<[_]>::to_vec))
                .set_next_page_token(token.map(str::to_owned))
                .customize()
                .interceptor(capture.clone())
                .send()
                .await;
            let err = match sent {
                Ok(out) => {
                    let body = capture
                        .take()
                        .ok_or_else(|| corrupt(OPERATION, "response body was not kept"))?;
                    return Ok(Some((body, out.next_page_token().map(str::to_owned))));
                }
                Err(err) => err,
            };
            // Cost Explorer says "slow down" with a 400 LimitExceededException, which the
            // shared classification does not treat as throttling.
            let limit = err
                .as_service_error()
                .is_some_and(|e| e.is_limit_exceeded_exception());
            let throttled = limit || is_throttling(&err);
            if throttled {
                budget.note_throttled();
            }
            let error = aws_error(OPERATION, err);
            if !(throttled || error.is_retryable()) {
                return Err(error);
            }
            if attempt >= policy.max_attempts {
                let message = match error {
                    StoreError::Aws { message, .. } => message,
                    other => other.to_string(),
                };
                return Err(StoreError::Aws {
                    operation: OPERATION,
                    message: format!("gave up after {attempt} attempts: {message}"),
                    retryable: true,
                });
            }
            // The caller sees throttling in the budget (and the run's ledger), errors in the end.
            tokio::time::sleep(backoff(policy, attempt)).await;
        }
    }
}

fn is_throttling<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    let status = err.raw_response().map(|r| r.status().as_u16());
    status == Some(429)
        || err
            .code()
            .is_some_and(|c| c.contains("Throttl") || c == "TooManyRequestsException")
}

/// The wait before retry `attempt + 1`: between half and all of `base × 2^(attempt-1)`
/// (capped at `max_delay`), so retries never come at once and clients spread out.
pub(crate) fn backoff(policy: RetryPolicy, attempt: u32) -> Duration {
    let doubled = policy
        .base_delay
        .saturating_mul(1 << attempt.saturating_sub(1).min(16));
    let ceiling = doubled.min(policy.max_delay);
    let half = ceiling / 2;
    half + half.mul_f64(jitter(attempt))
}

/// A uniform number in `[0, 1)` from the standard library's randomly keyed hasher: enough for
/// jitter without a random-number dependency.
fn jitter(salt: u32) -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(salt);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Keeps the response body of the attempt it is attached to. After deserialization the body
/// of a non-streaming response is in memory, so this copies what came over the wire, byte for
/// byte, without a second request or a re-serialisation of the SDK's types.
#[derive(Debug, Default, Clone)]
struct BodyCapture(Arc<Mutex<Option<Vec<u8>>>>);

impl BodyCapture {
    fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl Intercept for BodyCapture {
    fn name(&self) -> &'static str {
        "CostwatchKeepResponseBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = context.response().body().bytes() {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(bytes.to_vec());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jittered_bounds_and_stops_at_the_maximum() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        for (attempt, ceiling) in [(1, 100), (2, 200), (3, 400), (4, 500), (9, 500), (40, 500)] {
            let ceiling = Duration::from_millis(ceiling);
            for _ in 0..20 {
                let wait = backoff(policy, attempt);
                assert!(
                    wait >= ceiling / 2 && wait <= ceiling,
                    "attempt {attempt}: {wait:?} outside {:?}..={ceiling:?}",
                    ceiling / 2
                );
            }
        }
        let spread: std::collections::BTreeSet<Duration> =
            (0..20).map(|_| backoff(policy, 3)).collect();
        assert!(spread.len() > 1, "no jitter: {spread:?}");
    }
}
