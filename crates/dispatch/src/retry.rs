//! Retry timing, shared by every integration: exponential backoff with full jitter (backon's
//! schedule), never sooner than the vendor's `Retry-After` or reset header, and only while the
//! wait fits in the Lambda's remaining time. A retry that does not fit goes back to SQS with the
//! delay as the message's visibility, so the queue waits instead of the function.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per request inside one invocation (the first included).
    pub max_attempts: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

/// The delays of one request's retries, in order.
pub struct Schedule {
    backoff: backon::ExponentialBackoff,
    left: usize,
}

/// What to do after a retryable failure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// Wait this long here, then try again.
    Wait(Duration),
    /// Give the message back to SQS, visible again after this long.
    Requeue(Duration),
}

impl RetryPolicy {
    pub fn schedule(&self) -> Schedule {
        Schedule {
            backoff: ExponentialBuilder::default()
                .with_min_delay(self.min_delay)
                .with_max_delay(self.max_delay)
                .with_jitter()
                .without_max_times()
                .build(),
            left: self.max_attempts.saturating_sub(1),
        }
    }
}

impl Schedule {
    /// The next step after a failure the vendor asked to retry `after` (if it said), with
    /// `remaining` time left before the invocation must return.
    pub fn next(&mut self, after: Option<Duration>, remaining: Duration) -> Next {
        let backoff = self.backoff.next().unwrap_or_default();
        let wait = after.map_or(backoff, |a| a.max(backoff.min(a + Duration::from_secs(1))));
        if self.left == 0 || wait >= remaining {
            // At least the vendor's wait, and never 0 (SQS would hand it straight back).
            return Next::Requeue(after.unwrap_or(wait).max(Duration::from_secs(1)));
        }
        self.left -= 1;
        Next::Wait(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_a_floor_and_the_deadline_a_ceiling() {
        let policy = RetryPolicy::default();
        let mut s = policy.schedule();
        let plenty = Duration::from_secs(600);
        let Next::Wait(w) = s.next(Some(Duration::from_secs(3)), plenty) else {
            panic!("fits in the remaining time");
        };
        assert!(w >= Duration::from_secs(3), "{w:?}");
        assert!(w <= Duration::from_secs(4), "{w:?}");
        // A wait longer than what is left goes back to the queue with the vendor's delay.
        assert_eq!(
            s.next(Some(Duration::from_secs(30)), Duration::from_secs(10)),
            Next::Requeue(Duration::from_secs(30))
        );
    }

    #[test]
    fn attempts_are_bounded_and_backoff_stays_within_its_limits() {
        let policy = RetryPolicy::default();
        let mut s = policy.schedule();
        let plenty = Duration::from_secs(600);
        for _ in 0..policy.max_attempts - 1 {
            let Next::Wait(w) = s.next(None, plenty) else {
                panic!("within max_attempts");
            };
            assert!(w <= policy.max_delay * 2, "{w:?}");
        }
        assert!(matches!(s.next(None, plenty), Next::Requeue(_)));
    }
}
