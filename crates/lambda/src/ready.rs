//! A function's dependencies, built on its first event instead of before the runtime loop. The
//! SDK configuration, the clients and (for a dispatcher) the secrets take milliseconds to tens
//! of milliseconds; built before the loop they delay the first `GET /next`, and on Lambda the
//! first event waits the same either way. Built on first use, the init phase ends as soon as a
//! hello-world's would (`make bench-coldstart`, which times the first answer too: that is where
//! the time went, not away). Spawning the build beside the loop instead was measured and set
//! aside: the build's thread competes with the loop's for the core (a Lambda of 256 MB has a
//! fraction of one), so the Slack dispatcher reached `/next` at 8.0 ms (median of 10) instead of
//! 2.4 ms, and its first answer came no sooner (22 ms against 18–19 ms).
//!
//! Built once, the dependencies live as long as the process (they are leaked on purpose), so
//! handlers borrow them for `'static`. A failed build is logged and fails the invocation that
//! asked for it (Lambda retries it, SQS gives the batch back); the next invocation builds again.

use std::future::Future;

use tokio::sync::OnceCell;

type Built<S> = Result<S, lambda_runtime::Error>;

pub struct Ready<S: 'static, I> {
    init: I,
    built: OnceCell<&'static S>,
}

impl<S, I, F> Ready<S, I>
where
    S: Send + Sync + 'static,
    I: Fn() -> F,
    F: Future<Output = Built<S>>,
{
    /// Nothing is built yet: [`Ready::get`] builds.
    pub fn new(init: I) -> Self {
        Self {
            init,
            built: OnceCell::new(),
        }
    }

    /// The dependencies: built by the first call (and again after a failed build), then kept.
    pub async fn get(&self) -> Result<&'static S, lambda_runtime::Error> {
        let built = self
            .built
            .get_or_try_init(|| async {
                match (self.init)().await {
                    Ok(deps) => Ok(&*Box::leak(Box::new(deps))),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot build the function's dependencies");
                        Err(e)
                    }
                }
            })
            .await?;
        Ok(*built)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn nothing_is_built_before_the_first_call_and_it_is_built_once() {
        let builds = Arc::new(AtomicUsize::new(0));
        let counter = builds.clone();
        let ready = Ready::new(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok::<_, lambda_runtime::Error>(String::from("clients"))
            }
        });
        tokio::task::yield_now().await;
        assert_eq!(builds.load(Ordering::SeqCst), 0);
        assert_eq!(ready.get().await.unwrap(), "clients");
        assert_eq!(ready.get().await.unwrap(), "clients");
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_build_fails_its_caller_and_the_next_caller_builds_again() {
        let builds = Arc::new(AtomicUsize::new(0));
        let counter = builds.clone();
        let ready = Ready::new(move || {
            let attempt = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if attempt == 0 {
                    Err("COSTWATCH_TABLE is not set".into())
                } else {
                    Ok(attempt)
                }
            }
        });
        let first = ready.get().await.unwrap_err();
        assert!(first.to_string().contains("COSTWATCH_TABLE"), "{first}");
        assert_eq!(*ready.get().await.unwrap(), 1);
        assert_eq!(builds.load(Ordering::SeqCst), 2);
    }
}
