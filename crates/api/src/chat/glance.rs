//! What `/cost` answers in Slack and Discord: the latest day, month to date, the month-end
//! forecast with its 80 % interval, the services that moved most against the day before, and
//! the open anomalies. Plain figures; each chat renders and escapes them its own way.

use chrono::{Datelike, Days, NaiveDate};
use costwatch_core::scope::ScopeKind;
use costwatch_core::{Money, Scope};
use costwatch_pipeline::detect::AnomalyState;
use costwatch_pipeline::standing;

use super::Chat;
use super::followup::Followup;
use crate::{Api, Problem};

/// Services listed as top movers.
const MOVERS: usize = 3;
/// Open anomalies listed by name (the count is always given).
const ANOMALIES: usize = 3;

pub struct Glance {
    /// The last day with data; `None` when the store holds no costs yet.
    pub day: Option<NaiveDate>,
    pub day_total: Money,
    pub month_to_date: Money,
    /// Month-end total and its 80 % interval.
    pub forecast: Option<(Money, Money, Money)>,
    /// (service, that day, change against the day before), largest change first.
    pub movers: Vec<(String, Money, Money)>,
    pub open_anomalies: usize,
    /// (id, label, impact) of the largest open anomalies.
    pub anomalies: Vec<(String, String, Money)>,
}

/// The budget for an inline `/cost` answer, inside Slack's and Discord's 3 s.
pub const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_millis(2500);

/// What a `/cost` command gets back within the chat's 3 s.
pub enum CostAnswer {
    Now(Glance),
    /// Handed to the deferrer: acknowledge now, the answer follows.
    Later,
    /// The sentence to answer instead: a failed read, or a store too slow with nobody to defer
    /// to, gets an honest "try again" rather than the chat's own timeout error.
    Sorry(&'static str),
}

/// [`glance`] within the chat's `answer_within`; too slow, `followup` goes to its deferrer. A
/// zero `answer_within` always defers.
pub async fn cost_answer(chat: &Chat, followup: Option<Followup>) -> CostAnswer {
    let read = match chat.answer_within.is_zero() {
        true => None,
        false => tokio::time::timeout(chat.answer_within, glance(&chat.api))
            .await
            .ok(),
    };
    match read {
        Some(Ok(g)) => CostAnswer::Now(g),
        Some(Err(problem)) => {
            tracing::warn!(problem = ?problem, "/cost failed");
            CostAnswer::Sorry(
                "costwatch could not read the figures just now; try again in a minute.",
            )
        }
        None => {
            let slow =
                "costwatch is slow to read the figures right now; try `/cost` again in a minute.";
            let (Some(defer), Some(followup)) = (&chat.defer, followup) else {
                return CostAnswer::Sorry(slow);
            };
            match defer.defer(followup).await {
                Ok(()) => CostAnswer::Later,
                Err(e) => {
                    tracing::warn!(error = %e, "/cost could not be deferred");
                    CostAnswer::Sorry(slow)
                }
            }
        }
    }
}

pub async fn glance(api: &Api) -> Result<Glance, Problem> {
    let mut g = Glance {
        day: None,
        day_total: Money::ZERO,
        month_to_date: Money::ZERO,
        forecast: None,
        movers: Vec::new(),
        open_anomalies: 0,
        anomalies: Vec::new(),
    };
    let Some(day) = api.latest_day().await? else {
        return Ok(g);
    };
    g.day = Some(day);
    let month_start = day.with_day(1).unwrap_or(day);
    let org = api.rollups.series(&Scope::Org, month_start, day).await?;
    g.day_total = org.get(day).map(|c| c.total()).unwrap_or_default();
    g.month_to_date = month_start
        .iter_days()
        .take_while(|d| *d <= day)
        .filter_map(|d| org.get(d))
        .map(|c| c.total())
        .sum();
    let run = standing(api.rollups.as_ref(), &api.config, day).await?;
    g.forecast = run
        .forecasts
        .values()
        .find(|f| f.scope == Scope::Org)
        .map(|f| (f.total, f.lo80, f.hi80));
    let before = day - Days::new(1);
    for s in api
        .rollups
        .all_series(before, day, &[ScopeKind::Service])
        .await?
    {
        let scope = &s.scope;
        let today = s.get(day).map(|c| c.total()).unwrap_or_default();
        let yesterday = s.get(before).map(|c| c.total()).unwrap_or_default();
        g.movers.push((scope.label(), today, today - yesterday));
    }
    g.movers
        .sort_by(|a, b| b.2.abs().cmp(&a.2.abs()).then(a.0.cmp(&b.0)));
    g.movers.truncate(MOVERS);
    let mut open: Vec<AnomalyState> = api
        .state
        .list("anomaly/")
        .await?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_value::<AnomalyState>(v.value).ok())
        .filter(AnomalyState::is_active)
        .collect();
    open.sort_by_key(|a| std::cmp::Reverse(a.anomaly.impact.abs()));
    g.open_anomalies = open.len();
    g.anomalies = open
        .into_iter()
        .take(ANOMALIES)
        .map(|a| (a.subject_id, a.anomaly.scope.label(), a.anomaly.impact))
        .collect();
    Ok(g)
}

/// Money as the envelopes show it (`$1,234.56`), signed for changes when asked.
pub fn money(m: Money, signed: bool) -> String {
    use costwatch_core::money::{display, display_signed};
    let currency = costwatch_core::envelopes::DEFAULT_CURRENCY;
    if signed {
        display_signed(m, currency)
    } else {
        display(m, currency)
    }
}
