//! What `/cost` answers in Slack and Discord: for the organisation, or whatever the command's
//! text names ([`scope_query`](super::scope_query): an account, a service, `team=web`), the
//! latest day, month to date, the month-end forecast with its 80 % interval, what moved most
//! against the day before inside it (the organisation's services, an account's services, a
//! service's accounts), and its open anomalies. Plain figures; each chat renders and escapes them
//! its own way.

use chrono::{Datelike, Days, NaiveDate};
use costwatch_analytics::forecast::month_end_with;
use costwatch_core::envelopes::DEFAULT_CURRENCY;
use costwatch_core::money::{display_with_interval, shows_as_zero};
use costwatch_core::notification::ScopeRef;
use costwatch_core::scope::ScopeKind;
use costwatch_core::series::month_last_day;
use costwatch_core::{DailySeries, Money, Scope};
use costwatch_pipeline::detect::AnomalyState;
use costwatch_pipeline::meta::account_names;

use super::Chat;
use super::followup::Followup;
use super::scope_query::{Known, resolve, within};
use crate::{Api, Problem};

/// Scopes listed as top movers.
const MOVERS: usize = 3;
/// Open anomalies listed by name (the count is always given).
const ANOMALIES: usize = 3;

pub struct Glance {
    /// What was asked about, as messages name it; `None`: the organisation.
    pub label: Option<String>,
    /// The sentence to answer instead when the text names nothing, or several things.
    pub unmatched: Option<String>,
    /// The last day with data; `None` when the store holds no costs yet.
    pub day: Option<NaiveDate>,
    pub day_total: Money,
    pub month_to_date: Money,
    /// Month-end total and its 80 % interval; `None` on a month's last day (nothing is left to
    /// forecast) or without a forecast.
    pub forecast: Option<(Money, Money, Money)>,
    /// (what moved, that day, change against the day before), largest change first; only
    /// changes that read as at least a cent.
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
pub async fn cost_answer(chat: &Chat, query: &str, followup: Option<Followup>) -> CostAnswer {
    let read = match chat.answer_within.is_zero() {
        true => None,
        false => tokio::time::timeout(chat.answer_within, glance(&chat.api, query))
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

pub async fn glance(api: &Api, query: &str) -> Result<Glance, Problem> {
    let mut g = Glance {
        label: None,
        unmatched: None,
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
    // The latest two days of every scope a text can name or a mover can be: one read that
    // both resolves the text and ranks what moved.
    let kinds = [
        ScopeKind::Account,
        ScopeKind::Service,
        ScopeKind::AccountService,
        ScopeKind::Tag,
        ScopeKind::CostCategory,
    ];
    let recent = api
        .rollups
        .all_series(day - Days::new(1), day, &kinds)
        .await?;
    let names = account_names(api.state.as_ref()).await?;
    let on_day = recent
        .iter()
        .filter(|s| s.get(day).is_some())
        .map(|s| &s.scope);
    let scope = match resolve(query, &Known::new(on_day, &names)) {
        Ok(scope) => scope,
        Err(sentence) => {
            g.unmatched = Some(sentence);
            return Ok(g);
        }
    };
    let name_of = |s: &Scope| s.account().and_then(|a| names.get(a)).map(String::as_str);
    if scope != Scope::Org {
        g.label = Some(ScopeRef::new(&scope, name_of(&scope)).label);
    }
    let cfg = api.config().await?;
    // The forecast run's window, read from the month's first day when that is earlier (a
    // `history_days` of 28 on the 30th), so the month to date is whole.
    let history_start = day - Days::new(u64::from(cfg.history_days.saturating_sub(1)));
    let month_start = day.with_day(1).unwrap_or(day);
    let read_from = history_start.min(month_start);
    let series = api.rollups.series(&scope, read_from, day).await?;
    g.day_total = series.get(day).map(|c| c.total()).unwrap_or_default();
    g.month_to_date = series.month_to_date(day);
    // On a month's last day the month to date is the total: no forecast to give.
    if day != month_last_day(day) {
        let history = series.since(history_start);
        g.forecast =
            month_end_with(&history, day, &cfg.forecast).map(|f| (f.total, f.lo80, f.hi80));
    }
    let inside: Vec<(String, &DailySeries)> = recent
        .iter()
        .filter_map(|s| match (&scope, &s.scope) {
            (Scope::Org, Scope::Service(name)) => Some((name.clone(), s)),
            (Scope::Account(a), Scope::AccountService { account, service }) if a == account => {
                Some((service.clone(), s))
            }
            (Scope::Service(asked), Scope::AccountService { service, .. }) if asked == service => {
                let label = ScopeRef::new(
                    &Scope::Account(s.scope.account()?.to_owned()),
                    name_of(&s.scope),
                );
                Some((label.label, s))
            }
            _ => None,
        })
        .collect();
    g.movers = movers(&inside, day);
    let mut open: Vec<AnomalyState> = api
        .state
        .list("anomaly/")
        .await?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_value::<AnomalyState>(v.value).ok())
        .filter(|a| a.is_active() && within(&a.anomaly.scope, &scope))
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

/// The [`MOVERS`] series (with their labels) whose cost on `day` differs most from the day
/// before, among those whose change reads as a cent or more ($0.00 did not move): (label, that
/// day, change). None when the day before has no data at all (the data's first day): nothing
/// moved from nothing.
fn movers(labelled: &[(String, &DailySeries)], day: NaiveDate) -> Vec<(String, Money, Money)> {
    let before = day - Days::new(1);
    if !labelled.iter().any(|(_, s)| s.get(before).is_some()) {
        return Vec::new();
    }
    let cost = |s: &DailySeries, d| s.get(d).map(|c| c.total()).unwrap_or_default();
    let mut movers: Vec<(String, Money, Money)> = labelled
        .iter()
        .map(|(label, s)| (label.clone(), cost(s, day), cost(s, day) - cost(s, before)))
        .filter(|(_, _, change)| !shows_as_zero(*change, DEFAULT_CURRENCY))
        .collect();
    movers.sort_by(|a, b| b.2.abs().cmp(&a.2.abs()).then(a.0.cmp(&b.0)));
    movers.truncate(MOVERS);
    movers
}

/// Money as the envelopes show it (`$1,234.56`), signed for changes when asked.
pub fn money(m: Money, signed: bool) -> String {
    use costwatch_core::money::{display, display_signed};
    if signed {
        display_signed(m, DEFAULT_CURRENCY)
    } else {
        display(m, DEFAULT_CURRENCY)
    }
}

/// The month-end forecast as the envelopes write it: `$4,790.67 (80%: $4,100.00–$5,300.00)`.
pub fn forecast_text((total, lo80, hi80): (Money, Money, Money)) -> String {
    display_with_interval(total, lo80, hi80, DEFAULT_CURRENCY)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use costwatch_core::DailyCost;

    use super::*;

    fn service(name: &str, day: NaiveDate, before: i64, on_day: i64) -> DailySeries {
        let cost = |thousandths| DailyCost {
            usage: Money::new(thousandths, 3),
            ..DailyCost::default()
        };
        let yesterday = day - Days::new(1);
        let points = BTreeMap::from([(yesterday, cost(before)), (day, cost(on_day))]);
        DailySeries::from_points(Scope::Service(name.into()), yesterday, day, &points)
    }

    fn labelled(services: &[DailySeries]) -> Vec<(String, &DailySeries)> {
        services.iter().map(|s| (s.scope.label(), s)).collect()
    }

    #[test]
    fn movers_are_the_largest_changes_of_a_cent_or_more() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let services = [
            service("S3", day, 10_000, 10_004),
            service("EC2", day, 5_000, 9_000),
            service("KMS", day, 1_000, 1_000),
            service("Glue", day, 3_000, 2_990),
            service("RDS", day, 7_000, 8_000),
            service("Lambda", day, 2_000, 2_500),
        ];
        let shown: Vec<(String, String)> = movers(&labelled(&services), day)
            .into_iter()
            .map(|(name, _, change)| (name, money(change, true)))
            .collect();
        let expected = [("EC2", "+$4.00"), ("RDS", "+$1.00"), ("Lambda", "+$0.50")];
        assert_eq!(shown, expected.map(|(n, c)| (n.to_owned(), c.to_owned())));
        // Fewer than three moved: the others are not padded in.
        let quiet = movers(&labelled(&services[..4]), day);
        assert_eq!(quiet.len(), 2, "{quiet:?}");
        assert_eq!(quiet[1].2, Money::new(-10, 3), "Glue's -$0.01");
    }

    #[test]
    fn the_datas_first_day_has_no_movers() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let first_day = |name: &str| {
            let points = BTreeMap::from([(day, DailyCost::default())]);
            DailySeries::from_points(
                Scope::Service(name.into()),
                day - Days::new(1),
                day,
                &points,
            )
        };
        let mut services = vec![first_day("EC2"), first_day("S3")];
        services[0].days[1] = Some(DailyCost {
            usage: Money::from(70),
            ..DailyCost::default()
        });
        assert_eq!(movers(&labelled(&services), day), Vec::new());
        // A service new today beside one charged yesterday did move.
        services.push(service("RDS", day, 5_000, 5_000));
        assert_eq!(movers(&labelled(&services), day).len(), 1);
    }
}
