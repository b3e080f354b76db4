//! What a person does about an anomaly — acknowledge, snooze, or judge it expected / not an
//! anomaly — from the REST API, the dashboard, or a Slack or Discord button: recorded with the
//! functions of [`crate::feedback`], then told to every integration at once as one envelope on
//! the bus, so the Slack message is updated, the PagerDuty incident acknowledged and the Jira
//! issue commented without waiting for the next detection run.
//!
//! - acknowledge or snooze: the active anomaly becomes `acknowledged` (revision + 1);
//! - feedback: it becomes `resolved` (revision + 1), and the next detection run, finding it
//!   resolved, stays quiet about it;
//! - an anomaly already in that state gets no second envelope (a double click, a retry), and one
//!   never announced (kept quiet by a snooze or earlier feedback) gets none at all;
//! - a budget alert (subject `bu_…`) can be acknowledged, announced the same way
//!   ([`crate::budgets::acknowledge`]);
//! - an anomaly AWS Cost Anomaly Detection also reported gets the verdict sent back to AWS
//!   (`ProvideAnomalyFeedback`), so its model learns too.

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_core::notification::State;
use costwatch_core::{Notification, envelopes};
use costwatch_store::{AnomalyFeedbackSink, AwsVerdict, NotificationBus, StateStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::detect::{AnomalyState, state_key};
use crate::error::{PipelineError, Result};
use crate::feedback::{self, Verdict};
use crate::meta::account_names;

/// Attempts at the conditional write when a detection run or another click writes between.
const ATTEMPTS: usize = 3;

/// What a person did.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Acknowledge,
    /// Quiet through this day (inclusive).
    Snooze(NaiveDate),
    Feedback(Verdict),
}

/// Who did it and where, as the caller knows them (`@ana in Slack`); free text, shown in the
/// envelope's summary, which every dispatcher escapes.
pub type Actor = Option<String>;

/// The ports an action needs: the lifecycle, the bus, and AWS's feedback API when anomalies are
/// imported from Cost Anomaly Detection.
pub struct ActionPorts<'a> {
    pub state: &'a dyn StateStore,
    pub bus: &'a dyn NotificationBus,
    pub aws: Option<&'a dyn AnomalyFeedbackSink>,
}

/// The outcome: the envelope published, if any (`None`: nothing changed).
pub struct Applied {
    pub announced: Option<Notification>,
}

/// Budget alerts' subject ids (`envelopes::budget_subject`) start with this.
const BUDGET_SUBJECT: &str = "bu_";

/// Records `action` on `subject_id` and announces the new state once.
pub async fn apply(
    ports: &ActionPorts<'_>,
    subject_id: &str,
    action: &Action,
    by: Actor,
    now: DateTime<Utc>,
) -> Result<Applied> {
    if subject_id.starts_with(BUDGET_SUBJECT) {
        // A budget alert takes one action: acknowledge (see `budgets::acknowledge`).
        if *action != Action::Acknowledge {
            return Err(PipelineError::Config(
                "a budget alert can be acknowledged, not snoozed or judged".into(),
            ));
        }
        let said = what_happened(action, by.as_deref());
        let announced =
            crate::budgets::acknowledge(ports.state, ports.bus, subject_id, &said, now).await?;
        return Ok(Applied { announced });
    }
    match action {
        Action::Acknowledge => {
            feedback::acknowledge(ports.state, subject_id, by.clone(), now).await?;
        }
        Action::Snooze(until) => {
            feedback::snooze(ports.state, subject_id, *until, now.date_naive()).await?;
        }
        Action::Feedback(verdict) => {
            feedback::give_feedback(ports.state, subject_id, *verdict, now).await?;
            tell_aws(ports, subject_id, *verdict).await;
        }
    }
    let mut attempt = 1;
    loop {
        match transition(ports, subject_id, action, by.as_deref(), now).await {
            Err(PipelineError::Store(StoreError::Conflict { .. })) if attempt < ATTEMPTS => {
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn transition(
    ports: &ActionPorts<'_>,
    subject_id: &str,
    action: &Action,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Applied> {
    let found = feedback::find(ports.state, subject_id).await?;
    let key = state_key(&found.anomaly.scope);
    let stored = ports
        .state
        .get(&key)
        .await?
        .ok_or_else(|| PipelineError::NotFound(format!("no anomaly with id `{subject_id}`")))?;
    let mut next: AnomalyState = serde_json::from_value(stored.value)
        .map_err(|e| PipelineError::Config(format!("anomaly state `{key}`: {e}")))?;
    let target = match action {
        Action::Acknowledge | Action::Snooze(_) => State::Acknowledged,
        Action::Feedback(_) => State::Resolved,
    };
    if !next.is_active() || next.state == target || next.subject_id != subject_id {
        return Ok(Applied { announced: None });
    }
    next.state = target;
    next.revision += 1;
    let envelope = if next.announced {
        let names = account_names(ports.state).await?;
        let account_name = next
            .anomaly
            .scope
            .account()
            .and_then(|a| names.get(a))
            .map(String::as_str);
        let mut n = envelopes::anomaly(&next.anomaly, target, next.revision, account_name, now)
            .with_subject(&next.subject_id);
        n.summary = format!("{} {}", what_happened(action, by), n.summary);
        ports.bus.publish(&n).await?;
        Some(n)
    } else {
        None
    };
    let value = serde_json::to_value(&next).map_err(|e| PipelineError::Config(e.to_string()))?;
    // Published first, as detection does: a lost race re-reads, finds the state already moved
    // and sends nothing more; the envelope id (subject, state, revision) dedups any repeat.
    ports
        .state
        .put(&key, value, Some(stored.version), None)
        .await?;
    Ok(Applied {
        announced: envelope,
    })
}

/// The sentence put before the envelope's summary.
pub fn what_happened(action: &Action, by: Option<&str>) -> String {
    let by = by.map(|b| format!(" by {b}")).unwrap_or_default();
    match action {
        Action::Acknowledge => format!("Acknowledged{by}."),
        Action::Snooze(until) => format!("Snoozed{by} until {until}."),
        Action::Feedback(Verdict::Expected) => {
            format!("Marked expected{by}; this pattern will not alert again for a while.")
        }
        Action::Feedback(Verdict::NotAnomaly) => {
            format!("Marked not an anomaly{by}; this pattern will not alert again for a while.")
        }
    }
}

/// AWS's ids for an anomaly it also reported, recorded by detection (see [`remember_aws_ids`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AwsIds {
    pub anomaly_ids: Vec<String>,
}

pub fn aws_ids_key(subject_id: &str) -> String {
    format!("anomaly-aws/{subject_id}")
}

/// Keeps AWS's `AnomalyId` beside our subject, so feedback can reach Cost Anomaly Detection.
pub async fn remember_aws_id(
    state: &dyn StateStore,
    subject_id: &str,
    anomaly_id: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let key = aws_ids_key(subject_id);
    let stored = state.get(&key).await?;
    let mut ids: AwsIds = stored
        .as_ref()
        .and_then(|v| serde_json::from_value(v.value.clone()).ok())
        .unwrap_or_default();
    if ids.anomaly_ids.iter().any(|i| i == anomaly_id) {
        return Ok(());
    }
    ids.anomaly_ids.push(anomaly_id.to_owned());
    let value = serde_json::to_value(&ids).map_err(|e| PipelineError::Config(e.to_string()))?;
    let expires = now + chrono::Duration::days(feedback::FEEDBACK_DAYS as i64);
    match state
        .put(&key, value, stored.map(|v| v.version), Some(expires))
        .await
    {
        // Another run recorded it first: the next run adds this id if it is still missing.
        Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Sends the verdict to AWS for each of its anomalies behind `subject_id`. AWS learning is a
/// bonus, not the action: a failure is logged and the person's feedback stands.
async fn tell_aws(ports: &ActionPorts<'_>, subject_id: &str, verdict: Verdict) {
    let Some(aws) = ports.aws else { return };
    let ids: AwsIds = match ports.state.get(&aws_ids_key(subject_id)).await {
        Ok(Some(v)) => serde_json::from_value(v.value).unwrap_or_default(),
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, subject_id, "reading AWS anomaly ids");
            return;
        }
    };
    let aws_verdict = match verdict {
        Verdict::Expected => AwsVerdict::PlannedActivity,
        Verdict::NotAnomaly => AwsVerdict::No,
    };
    for id in &ids.anomaly_ids {
        if let Err(e) = aws.provide_feedback(id, aws_verdict).await {
            tracing::warn!(error = %e, anomaly_id = %id, "ce:ProvideAnomalyFeedback failed");
        }
    }
}
