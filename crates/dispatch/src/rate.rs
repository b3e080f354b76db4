//! Per-destination send rates (Slack: one message per second per channel), one limiter per
//! integration keyed by destination. A wait that would outlast the invocation is not taken: the
//! message goes back to the queue instead.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::integration::RateLimit;

pub struct Limiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl Limiter {
    pub fn new(rate: RateLimit) -> Self {
        let messages = NonZeroU32::new(rate.messages.max(1)).unwrap_or(NonZeroU32::MIN);
        let period = rate.per / messages.get();
        let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(messages))
            .allow_burst(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Takes a slot for `destination`: `Ok` now, or `Err(wait)` until one is free.
    pub fn try_take(&self, destination: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&destination.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_per_second_per_channel() {
        let limiter = Limiter::new(RateLimit::per_second(1));
        assert_eq!(limiter.try_take("C1"), Ok(()));
        let wait = limiter.try_take("C1").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // Another channel has its own allowance.
        assert_eq!(limiter.try_take("C2"), Ok(()));
    }
}
