//! What the Cost Explorer source asks for and how it retries: plain data with its checks, no
//! SDK, so a build without the `aws` feature (the CLI's lean `make demo` build) still reads and
//! checks the `[cost_explorer]` configuration. The source itself is `aws::CostExplorerSource`.

use std::time::Duration;

use crate::error::{Result, StoreError};

/// How throttled or failed requests are retried: at most `max_attempts` sends per page, waiting
/// between `delay/2` and `delay` (jittered), `delay` doubling from `base_delay` up to
/// `max_delay`. Each send is a request taken from the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(20),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostExplorerOptions {
    /// BillingAccountId on every record (the management account); responses do not carry it.
    pub billing_account_id: String,
    /// Cost allocation tag keys, one breakdown request each.
    pub tag_keys: Vec<String>,
    /// Cost category names, one breakdown request each.
    pub cost_categories: Vec<String>,
    /// Longest run of days one grouped request covers. A request cut off by the cap loses all
    /// its days, so this bounds the work a capped run throws away.
    pub days_per_request: u32,
    pub retry: RetryPolicy,
}

impl Default for CostExplorerOptions {
    fn default() -> Self {
        Self {
            billing_account_id: costwatch_ingest::UNKNOWN_ACCOUNT.to_owned(),
            tag_keys: Vec::new(),
            cost_categories: Vec::new(),
            days_per_request: 7,
            retry: RetryPolicy::default(),
        }
    }
}

impl CostExplorerOptions {
    /// Checks the options without I/O.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(StoreError::Source(format!("Cost Explorer options: {m}")));
        if self.billing_account_id.trim().is_empty() {
            return bad("billing_account_id is empty".into());
        }
        if !(1..=366).contains(&self.days_per_request) {
            return bad(format!(
                "days_per_request must be 1 to 366, got {}",
                self.days_per_request
            ));
        }
        if self.retry.max_attempts == 0 {
            return bad("retry.max_attempts must be at least 1".into());
        }
        for (what, names) in [
            ("tag key", &self.tag_keys),
            ("cost category", &self.cost_categories),
        ] {
            let mut seen = std::collections::BTreeSet::new();
            for name in names {
                if name.trim().is_empty() {
                    return bad(format!("empty {what}"));
                }
                if !seen.insert(name) {
                    return bad(format!("{what} `{name}` is listed twice"));
                }
            }
        }
        Ok(())
    }
}
