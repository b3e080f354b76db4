//! The first day a check judged, kept in the state store. Checks that look again at days Cost
//! Explorer may still revise (detection's second look, [`crate::revised`]; a daily budget's
//! re-checked days, [`crate::budget_watched`]) look only at days they have judged before: a new
//! installation, or a budget just added or changed, must not alert on the days before it began.

use chrono::NaiveDate;
use costwatch_store::{StateStore, StoreError, Versioned};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Serialize, Deserialize)]
struct JudgedSince {
    first: NaiveDate,
}

/// The first day judged, as recorded in `stored` (`None`: no record, or one unreadable).
pub(crate) fn first_judged(stored: Option<&Versioned>) -> Option<NaiveDate> {
    let value = stored?.value.clone();
    serde_json::from_value::<JudgedSince>(value)
        .ok()
        .map(|j| j.first)
}

/// Records `first` under `key` when it is earlier than the day recorded (`stored`, as read
/// this run), or nothing is: a run for an earlier day (a backfill) judged that day too.
pub(crate) async fn remember(
    state: &dyn StateStore,
    key: &str,
    stored: Option<&Versioned>,
    first: NaiveDate,
) -> Result<()> {
    if first_judged(stored).is_some_and(|recorded| recorded <= first) {
        return Ok(());
    }
    let value = serde_json::to_value(JudgedSince { first }).unwrap_or_default();
    match state.put(key, value, stored.map(|v| v.version), None).await {
        // A concurrent run recorded a day too; both are days that were judged.
        Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
