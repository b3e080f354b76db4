//! What people tell costwatch about an anomaly, kept in the state store so the CLI
//! (`costwatch anomaly …`) and the REST API of a later issue share one function each:
//!
//! * **feedback** on an anomaly (`expected`: a planned change; `not_anomaly`: a false alarm)
//!   closes it at the next detection run (one `resolved` envelope, if it was ever announced) and
//!   suppresses the same pattern for `FEEDBACK_DAYS`: a later anomaly on the same scope, in the
//!   same direction, whose impact is at most `PATTERN_FACTOR` × the one judged. A larger move,
//!   the other direction or another scope still alerts.
//! * **snooze** until a date: no open/ongoing envelopes for that scope until then (a resolve is
//!   still sent, so a posted message gets closed); afterwards it alerts again as usual.
//! * **acknowledge**: someone has it in hand. Detection carries on as before; the anomaly shows
//!   who acknowledged it and when (REST API, dashboard).

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_core::Money;
use costwatch_core::Scope;
use costwatch_core::findings::{Anomaly, Direction};
use costwatch_store::StateStore;
use serde::{Deserialize, Serialize};

use crate::detect::AnomalyState;
use crate::error::{PipelineError, Result};

/// How long feedback keeps suppressing its pattern.
pub const FEEDBACK_DAYS: u64 = 180;
/// A later move up to this multiple of the judged impact is "the same pattern".
pub const PATTERN_FACTOR: f64 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A real change the team planned (a migration, a launch).
    Expected,
    /// A false alarm.
    NotAnomaly,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub subject_id: String,
    pub scope: Scope,
    pub direction: Direction,
    /// The judged anomaly's impact, the yardstick of "the same pattern".
    pub impact: Money,
    pub verdict: Verdict,
    pub given_at: DateTime<Utc>,
}

impl Feedback {
    /// Whether `anomaly` is the pattern this feedback was about.
    pub fn covers(&self, anomaly: &Anomaly) -> bool {
        let limit = costwatch_core::money::to_f64(self.impact.abs()) * PATTERN_FACTOR;
        anomaly.scope == self.scope
            && anomaly.direction == self.direction
            && costwatch_core::money::to_f64(anomaly.impact.abs()) <= limit
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snooze {
    pub subject_id: String,
    pub scope: Scope,
    /// Last day on which the scope stays quiet.
    pub until: NaiveDate,
}

pub fn feedback_key(scope: &Scope) -> String {
    format!("anomaly-feedback/{}", scope.key())
}

pub fn snooze_key(scope: &Scope) -> String {
    format!("anomaly-snooze/{}", scope.key())
}

/// An anomaly acknowledged: kept under `anomaly-ack/<subject id>` for as long as feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub subject_id: String,
    /// Who, as the caller gave it (free text; the API does not know people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub at: DateTime<Utc>,
}

pub fn ack_key(subject_id: &str) -> String {
    format!("anomaly-ack/{subject_id}")
}

/// The anomaly state holding `subject_id`.
pub async fn find(state: &dyn StateStore, subject_id: &str) -> Result<AnomalyState> {
    state
        .list("anomaly/")
        .await?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_value::<AnomalyState>(v.value).ok())
        .find(|a| a.subject_id == subject_id)
        .ok_or_else(|| PipelineError::NotFound(format!("no anomaly with id `{subject_id}`")))
}

/// Records feedback on an anomaly (replacing earlier feedback on its scope).
pub async fn give_feedback(
    state: &dyn StateStore,
    subject_id: &str,
    verdict: Verdict,
    now: DateTime<Utc>,
) -> Result<Feedback> {
    let found = find(state, subject_id).await?;
    let feedback = Feedback {
        subject_id: found.subject_id,
        scope: found.anomaly.scope.clone(),
        direction: found.anomaly.direction,
        impact: found.anomaly.impact,
        verdict,
        given_at: now,
    };
    let key = feedback_key(&feedback.scope);
    let value =
        serde_json::to_value(&feedback).map_err(|e| PipelineError::Config(e.to_string()))?;
    let expires = now + chrono::Duration::days(FEEDBACK_DAYS as i64);
    put_replacing(state, &key, value, Some(expires)).await?;
    Ok(feedback)
}

/// Snoozes an anomaly's scope through `until` (inclusive).
pub async fn snooze(
    state: &dyn StateStore,
    subject_id: &str,
    until: NaiveDate,
    today: NaiveDate,
) -> Result<Snooze> {
    if until < today {
        return Err(PipelineError::Config(format!(
            "snooze until {until} is in the past"
        )));
    }
    let found = find(state, subject_id).await?;
    let snooze = Snooze {
        subject_id: found.subject_id,
        scope: found.anomaly.scope.clone(),
        until,
    };
    let value = serde_json::to_value(&snooze).map_err(|e| PipelineError::Config(e.to_string()))?;
    // No store TTL: detection may replay past days, so the date decides, not the wall clock.
    put_replacing(state, &snooze_key(&snooze.scope), value, None).await?;
    Ok(snooze)
}

/// Records that someone has an anomaly in hand (replacing an earlier acknowledgement).
pub async fn acknowledge(
    state: &dyn StateStore,
    subject_id: &str,
    by: Option<String>,
    now: DateTime<Utc>,
) -> Result<Acknowledgement> {
    let found = find(state, subject_id).await?;
    let ack = Acknowledgement {
        subject_id: found.subject_id,
        by,
        at: now,
    };
    let value = serde_json::to_value(&ack).map_err(|e| PipelineError::Config(e.to_string()))?;
    let expires = now + chrono::Duration::days(FEEDBACK_DAYS as i64);
    put_replacing(state, &ack_key(&ack.subject_id), value, Some(expires)).await?;
    Ok(ack)
}

/// The acknowledgement of `subject_id`, if any.
pub async fn acknowledgement(
    state: &dyn StateStore,
    subject_id: &str,
) -> Result<Option<Acknowledgement>> {
    Ok(state
        .get(&ack_key(subject_id))
        .await?
        .and_then(|v| serde_json::from_value(v.value).ok()))
}

/// The snooze on `scope`, if one was given (past ones included: compare `until` with the day).
pub async fn snooze_for(state: &dyn StateStore, scope: &Scope) -> Result<Option<Snooze>> {
    Ok(state
        .get(&snooze_key(scope))
        .await?
        .and_then(|v| serde_json::from_value(v.value).ok()))
}

async fn put_replacing(
    state: &dyn StateStore,
    key: &str,
    value: serde_json::Value,
    expires: Option<DateTime<Utc>>,
) -> Result<()> {
    let version = state.get(key).await?.map(|v| v.version);
    state.put(key, value, version, expires).await?;
    Ok(())
}

/// The feedback on `scope`, if any is live.
pub async fn feedback_for(state: &dyn StateStore, scope: &Scope) -> Result<Option<Feedback>> {
    Ok(state
        .get(&feedback_key(scope))
        .await?
        .and_then(|v| serde_json::from_value(v.value).ok()))
}

/// Whether `scope` is snoozed on `day`.
pub(crate) async fn snoozed(state: &dyn StateStore, scope: &Scope, day: NaiveDate) -> Result<bool> {
    Ok(snooze_for(state, scope)
        .await?
        .is_some_and(|s| day <= s.until))
}
