//! Anomalies: the list, one anomaly with its root causes and series, and what people say about
//! it. Acknowledge, snooze and feedback go through `costwatch_pipeline::actions`, as the chat
//! buttons do: recorded for detection, and announced to every integration once (the anomaly
//! becomes `acknowledged`, or `resolved` on feedback).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use chrono::{Days, NaiveDate};
use costwatch_core::findings::{Direction, RootCause};
use costwatch_core::notification::State as Lifecycle;
use costwatch_core::scope::ScopeKind;
use costwatch_core::{Money, Scope};
use costwatch_pipeline::actions::{Action, apply};
use costwatch_pipeline::detect::AnomalyState;
use costwatch_pipeline::feedback::{
    self, Acknowledgement, Feedback, Snooze, Verdict, acknowledgement, feedback_for, snooze_for,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::costs::{Day, days};
use super::params::{Page, PageQuery};
use crate::{Api, Problem};

/// Days of the scope's series shown before an anomaly starts.
const CONTEXT_DAYS: u64 = 30;

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum StateFilter {
    /// Open or ongoing (the default).
    Active,
    Open,
    Ongoing,
    Acknowledged,
    Resolved,
    All,
}

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<StateFilter>,
    scope_kind: Option<ScopeKind>,
    /// Only anomalies whose latest day is on or after this one.
    since: Option<NaiveDate>,
}

#[derive(Serialize)]
pub struct Summary {
    id: String,
    state: Lifecycle,
    scope: Scope,
    label: String,
    start_date: NaiveDate,
    date: NaiveDate,
    direction: Direction,
    actual: Money,
    expected: Money,
    impact: Money,
    impact_pct: Option<f64>,
    /// The largest root cause, for one-line displays.
    top_cause: Option<RootCause>,
    acknowledged: Option<Acknowledgement>,
    snoozed_until: Option<NaiveDate>,
    /// The feedback given on this anomaly (`expected` / `not_anomaly`), if any.
    feedback: Option<Verdict>,
}

#[derive(Serialize)]
pub struct Detail {
    #[serde(flatten)]
    summary: Summary,
    lower: Money,
    upper: Money,
    score: f64,
    revision: u32,
    root_causes: Vec<RootCause>,
    /// The scope's daily costs from 30 days before the start to the latest day.
    series: Vec<Day>,
}

async fn all(api: &Api) -> Result<Vec<AnomalyState>, Problem> {
    Ok(api
        .state
        .list("anomaly/")
        .await?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_value::<AnomalyState>(v.value).ok())
        .collect())
}

async fn summary(api: &Api, a: AnomalyState) -> Result<Summary, Problem> {
    let scope = a.anomaly.scope.clone();
    let given: Option<Feedback> = feedback_for(api.state.as_ref(), &scope).await?;
    let snooze: Option<Snooze> = snooze_for(api.state.as_ref(), &scope).await?;
    Ok(Summary {
        acknowledged: acknowledgement(api.state.as_ref(), &a.subject_id).await?,
        snoozed_until: snooze
            .filter(|s| s.subject_id == a.subject_id)
            .map(|s| s.until),
        feedback: given
            .filter(|f| f.subject_id == a.subject_id)
            .map(|f| f.verdict),
        id: a.subject_id,
        state: a.state,
        label: scope.label(),
        scope,
        start_date: a.anomaly.start_date,
        date: a.anomaly.date,
        direction: a.anomaly.direction,
        actual: a.anomaly.actual,
        expected: a.anomaly.expected,
        impact: a.anomaly.impact,
        impact_pct: a.anomaly.impact_pct,
        top_cause: a.anomaly.root_causes.first().cloned(),
    })
}

pub async fn list(
    State(api): State<Arc<Api>>,
    Query(q): Query<ListQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<Summary>>, Problem> {
    let filter = q.state.unwrap_or(StateFilter::Active);
    let mut found: Vec<AnomalyState> = all(&api)
        .await?
        .into_iter()
        .filter(|a| match filter {
            StateFilter::Active => a.is_active(),
            StateFilter::Open => a.state == Lifecycle::Open,
            StateFilter::Ongoing => a.state == Lifecycle::Ongoing,
            StateFilter::Acknowledged => a.state == Lifecycle::Acknowledged,
            StateFilter::Resolved => a.state == Lifecycle::Resolved,
            StateFilter::All => true,
        })
        .filter(|a| q.scope_kind.is_none_or(|k| a.anomaly.scope.kind() == k))
        .filter(|a| q.since.is_none_or(|d| a.anomaly.date >= d))
        .collect();
    // Newest first, then the biggest; the id keeps the order total (and paging stable).
    found.sort_by(|a, b| {
        b.anomaly
            .start_date
            .cmp(&a.anomaly.start_date)
            .then(b.anomaly.impact.abs().cmp(&a.anomaly.impact.abs()))
            .then(a.subject_id.cmp(&b.subject_id))
    });
    let page = page.page(found)?;
    let mut items = Vec::with_capacity(page.items.len());
    for a in page.items {
        items.push(summary(&api, a).await?);
    }
    Ok(Json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

async fn detail_of(api: &Api, id: &str) -> Result<Detail, Problem> {
    let a = feedback::find(api.state.as_ref(), id).await?;
    let start = a.anomaly.start_date - Days::new(CONTEXT_DAYS);
    let end = a.anomaly.date.max(a.last_checked);
    let series = api.rollups.series(&a.anomaly.scope, start, end).await?;
    Ok(Detail {
        lower: a.anomaly.lower,
        upper: a.anomaly.upper,
        score: a.anomaly.score,
        revision: a.revision,
        root_causes: a.anomaly.root_causes.clone(),
        series: days(&series, start, end),
        summary: summary(api, a).await?,
    })
}

pub async fn detail(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
) -> Result<Json<Detail>, Problem> {
    Ok(Json(detail_of(&api, &id).await?))
}

/// A JSON body, or the type's default for an empty one.
fn body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| Problem::bad_request(format!("request body: {e}")))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AckBody {
    by: Option<String>,
}

pub async fn acknowledge(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Detail>, Problem> {
    let AckBody { by } = body(&bytes)?;
    let by = by.map(|b| b.chars().take(200).collect());
    apply(
        &api.action_ports(),
        &id,
        &Action::Acknowledge,
        by,
        api.now(),
    )
    .await?;
    Ok(Json(detail_of(&api, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnoozeBody {
    /// Last quiet day (inclusive).
    until: NaiveDate,
}

fn required<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Problem> {
    serde_json::from_slice(bytes).map_err(|e| Problem::bad_request(format!("request body: {e}")))
}

pub async fn snooze(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Detail>, Problem> {
    let SnoozeBody { until } = required(&bytes)?;
    let ports = api.action_ports();
    apply(&ports, &id, &Action::Snooze(until), None, api.now()).await?;
    Ok(Json(detail_of(&api, &id).await?))
}

/// The verdicts as the API spells them.
#[derive(Deserialize, Clone, Copy)]
enum VerdictBody {
    #[serde(rename = "expected")]
    Expected,
    #[serde(rename = "not-an-anomaly")]
    NotAnAnomaly,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    verdict: VerdictBody,
}

pub async fn feedback(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Detail>, Problem> {
    let FeedbackBody { verdict } = required(&bytes)?;
    let verdict = match verdict {
        VerdictBody::Expected => Verdict::Expected,
        VerdictBody::NotAnAnomaly => Verdict::NotAnomaly,
    };
    let action = Action::Feedback(verdict);
    apply(&api.action_ports(), &id, &action, None, api.now()).await?;
    Ok(Json(detail_of(&api, &id).await?))
}
