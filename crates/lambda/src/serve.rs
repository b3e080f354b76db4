//! The boundary between the Lambda runtime and a handler: every invocation's outcome is decided
//! here. Success returns the handler's summary; a retryable error fails the invocation so Lambda
//! retries it (then parks it in the DLQ); any other error — a malformed event above all — goes to
//! the dead-letter queue at once with its reason and the invocation succeeds, so the same bad
//! event is never retried in a loop.

use std::future::Future;

use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::{Value, json};

use crate::dead_letter::{DeadLetter, DeadLetters, SqsDeadLetters};
use crate::emf;
use crate::error::{HandlerError, Result};
use crate::ready::Ready;

/// Serves `handler` with the real runtime loop (the Runtime API at `AWS_LAMBDA_RUNTIME_API`).
/// `init` builds the function's ports and its dead-letter queue on the first event ([`Ready`]);
/// later ones find them built. The event arrives as raw JSON so that a malformed one reaches
/// [`settle`] instead of failing deserialisation inside the runtime.
pub async fn serve<S, I, IF, H, F, R>(
    function: &'static str,
    init: I,
    handler: H,
) -> Result<(), lambda_runtime::Error>
where
    S: Send + Sync + 'static,
    I: Fn() -> IF,
    IF: Future<Output = Result<(S, SqsDeadLetters), lambda_runtime::Error>>,
    H: Fn(&'static S, Value) -> F,
    F: Future<Output = Result<R>>,
    R: Serialize,
{
    emf::init();
    let ready = Ready::new(init);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let payload = event.payload;
        let (handler, ready) = (&handler, &ready);
        async move {
            let (ports, dead_letters) = ready.get().await?;
            let outcome = handler(ports, payload.clone()).await;
            let settled = settle(function, dead_letters, &payload, outcome).await;
            emf::flush();
            settled.map_err(|e| lambda_runtime::Error::from(e.to_string()))
        }
    }))
    .await
}

/// Decides one invocation's outcome (see the module docs).
pub async fn settle<R: Serialize>(
    function: &str,
    dead_letters: &dyn DeadLetters,
    payload: &Value,
    outcome: Result<R>,
) -> Result<Value> {
    match outcome {
        Ok(summary) => serde_json::to_value(summary)
            .map_err(|e| HandlerError::Malformed(format!("summary: {e}"))),
        Err(e) if e.is_retryable() => {
            tracing::warn!(function, error = %e, "retryable failure; Lambda will retry");
            Err(e)
        }
        Err(e) => {
            let reason = e.to_string();
            tracing::error!(function, reason = %reason, "rejected; sent to the dead-letter queue");
            let letter = DeadLetter {
                function: function.to_owned(),
                reason: reason.clone(),
                event: payload.clone(),
            };
            // If the queue itself fails, fail the invocation: Lambda retries, then its own DLQ
            // takes the event. Nothing is dropped either way.
            dead_letters.send(&letter).await?;
            Ok(json!({ "rejected": reason }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dead_letter::MemoryDeadLetters;
    use costwatch_store::StoreError;

    #[tokio::test]
    async fn malformed_events_go_to_the_dead_letter_queue_once_and_succeed() {
        let dlq = MemoryDeadLetters::default();
        let payload = json!({"Records": "nope"});
        let out = settle::<()>(
            "aggregate",
            &dlq,
            &payload,
            Err(HandlerError::Malformed("not an SNS event".into())),
        )
        .await
        .unwrap();
        assert_eq!(out["rejected"], "malformed event: not an SNS event");
        let letters = dlq.letters().await;
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].function, "aggregate");
        assert_eq!(letters[0].event, payload);
    }

    #[tokio::test]
    async fn retryable_failures_fail_the_invocation_and_skip_the_queue() {
        let dlq = MemoryDeadLetters::default();
        let err = settle::<()>(
            "detect",
            &dlq,
            &json!({}),
            Err(HandlerError::Store(StoreError::Aws {
                operation: "dynamodb:Query",
                message: "throttled".into(),
                retryable: true,
            })),
        )
        .await
        .unwrap_err();
        assert!(err.is_retryable());
        assert!(dlq.letters().await.is_empty());
    }

    #[tokio::test]
    async fn success_returns_the_summary() {
        let dlq = MemoryDeadLetters::default();
        let out = settle("report", &dlq, &json!({}), Ok(json!({"published": 1})))
            .await
            .unwrap();
        assert_eq!(out, json!({"published": 1}));
        assert!(dlq.letters().await.is_empty());
    }
}
