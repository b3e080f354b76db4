//! Integrations' health, one entry per integration the suite ships: configured or not, its last
//! delivery, its failing deliveries, destinations it disabled, and its dead-letter queue depth.
//! Everything comes from what the dispatchers already record — the delivery ledger and the
//! disabled-destination items of crates/dispatch, read through [`crate::deliveries`] — and SQS.
//! What they do not record is null, and `notes` says why.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::deliveries::{
    DisabledRecord, KNOWN, LEDGER_DAYS, LedgerEntry, LedgerState, disabled_prefix, ledger_prefix,
};
use crate::{Api, Problem};

/// Failing deliveries shown with their error, the most attempted first.
const ERRORS_SHOWN: usize = 5;

#[derive(Deserialize)]
pub struct HealthQuery {
    /// Only integrations that are (true) or are not (false) configured.
    configured: Option<bool>,
}

#[derive(Serialize)]
pub struct Health {
    /// Days the dispatchers keep ledger items: every count covers them.
    window_days: u32,
    items: Vec<Integration>,
}

#[derive(Serialize)]
pub struct Integration {
    name: &'static str,
    configured: Option<bool>,
    last_delivery: Option<Delivery>,
    failures: Failures,
    disabled: Vec<Disabled>,
    dead_letters: Option<u64>,
    /// Why a null field is null, in words.
    notes: Vec<String>,
}

#[derive(Serialize)]
pub struct Delivery {
    at: DateTime<Utc>,
    destination: String,
    /// The notification envelope's id (the ledger keeps the id, not the envelope).
    envelope_id: String,
}

#[derive(Serialize, Default)]
pub struct Failures {
    /// Deliveries whose latest attempt failed and that are not delivered yet.
    failing: usize,
    /// Deliveries that needed more than one attempt.
    retried: usize,
    errors: Vec<FailedDelivery>,
}

#[derive(Serialize)]
pub struct FailedDelivery {
    destination: String,
    envelope_id: String,
    attempts: u32,
    /// The latest attempt's error (the dispatcher keeps secrets out of it).
    error: String,
    /// The vendor asked not to be called again before this (`Retry-After`).
    retry_after: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
pub struct Disabled {
    destination: String,
    since: DateTime<Utc>,
    reason: String,
}

/// `destination/envelope id` after the prefix; a destination name holds no `/`, so the last
/// segment is the envelope.
fn split_key<'a>(key: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    key.strip_prefix(prefix)?.rsplit_once('/')
}

fn configured(api: &Api, name: &str) -> Option<bool> {
    api.integrations
        .configured
        .as_ref()
        .map(|c| c.contains(name))
}

async fn health_of(api: &Api, name: &'static str) -> Result<Integration, Problem> {
    let store = api.integrations.states.of(name);
    let prefix = ledger_prefix(name);
    let mut last_delivery: Option<Delivery> = None;
    let mut failures = Failures::default();
    for (key, item) in store.list(&prefix).await? {
        let (Some((destination, envelope)), Ok(entry)) = (
            split_key(&key, &prefix),
            serde_json::from_value::<LedgerEntry>(item.value),
        ) else {
            continue;
        };
        if entry.attempts > 1 {
            failures.retried += 1;
        }
        match (entry.state, entry.sent_at, entry.last_error) {
            (LedgerState::Sent, Some(at), _)
                if last_delivery.as_ref().is_none_or(|d| at > d.at) =>
            {
                last_delivery = Some(Delivery {
                    at,
                    destination: destination.to_owned(),
                    envelope_id: envelope.to_owned(),
                });
            }
            (LedgerState::Pending, _, Some(error)) => {
                failures.failing += 1;
                failures.errors.push(FailedDelivery {
                    destination: destination.to_owned(),
                    envelope_id: envelope.to_owned(),
                    attempts: entry.attempts,
                    error,
                    retry_after: entry.not_before,
                });
            }
            // Sent earlier than the latest, claimed and in flight, or sent without a time.
            _ => {}
        }
    }
    failures.errors.sort_by(|a, b| {
        b.attempts
            .cmp(&a.attempts)
            .then_with(|| a.envelope_id.cmp(&b.envelope_id))
    });
    failures.errors.truncate(ERRORS_SHOWN);

    let prefix = disabled_prefix(name);
    let disabled = store
        .list(&prefix)
        .await?
        .into_iter()
        .filter_map(|(key, item)| {
            let record: DisabledRecord = serde_json::from_value(item.value).ok()?;
            Some(Disabled {
                destination: key.strip_prefix(&prefix)?.to_owned(),
                since: record.since,
                reason: record.reason,
            })
        })
        .collect();

    let configured = configured(api, name);
    let mut notes = Vec::new();
    if configured.is_none() {
        notes.push("configured: the deployment does not say which integrations it runs".into());
    }
    if last_delivery.is_none() {
        notes.push(format!(
            "last_delivery: nothing delivered in the last {LEDGER_DAYS} days that the ledger keeps"
        ));
    }
    let dead_letters = match api.integrations.dead_letters.depth(name).await {
        Ok(Some(n)) => Some(n),
        Ok(None) => {
            let why = api.integrations.dead_letters.why_none(name);
            notes.push(format!("dead_letters: {why}"));
            None
        }
        Err(e) => {
            notes.push(format!("dead_letters: {e}"));
            None
        }
    };
    Ok(Integration {
        name,
        configured,
        last_delivery,
        failures,
        disabled,
        dead_letters,
        notes,
    })
}

pub async fn health(
    State(api): State<Arc<Api>>,
    Query(q): Query<HealthQuery>,
) -> Result<Json<Health>, Problem> {
    let mut items = Vec::with_capacity(KNOWN.len());
    for name in KNOWN {
        // Filtered first: no ledger read or SQS call for an integration not shown.
        if q.configured
            .is_none_or(|want| configured(&api, name) == Some(want))
        {
            items.push(health_of(&api, name).await?);
        }
    }
    Ok(Json(Health {
        window_days: LEDGER_DAYS,
        items,
    }))
}
