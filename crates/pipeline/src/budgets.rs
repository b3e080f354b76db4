//! Budgets: evaluate every configured budget and notify each threshold crossing once per period.
//!
//! A threshold's record in the state store (`budget/<subject id>`, one per budget, period,
//! percent and basis) says whether it was notified and whether it is open or resolved:
//!
//! * crossed, no record → notified (open, revision 0); the highest of several crossed at once
//!   is sent, the lower ones recorded as covered;
//! * an **actual** threshold notified and no longer crossed → spend fell back under it, which
//!   only a credit or refund does: one `resolved` message (revision + 1) for the highest such
//!   threshold that had been sent, the others marked resolved silently;
//! * crossed again after that, in the same period → notified again (open, revision + 1): it is a
//!   new crossing, not a repeat;
//! * a **forecast** threshold is notified once per period and never resolved: forecasts move
//!   by a few percent from day to day and would otherwise flap.
//!
//! A record expires [`RECORD_KEPT_DAYS`] after its period ends (or after the run, for an old
//! period run again).
//!
//! A **daily** budget's period is one day, and Cost Explorer first reports a day before it has
//! settled: every run checks the budget's last days again (the days collection restates,
//! `recheck_days`: [`RECHECKED_DAYS`] by default), so a day that a revision takes over its
//! amount is notified then (its own period, once), and one a revision takes back under is
//! resolved. Only days it was checked on before are checked again
//! ([`crate::budget_watched`]): a daily budget added or changed (scope, amount or thresholds) starts
//! with its day, one alert at most, not one for each of the days before it.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use costwatch_analytics::budget::{AutoAmount, Budget, auto_amount, thresholds};
use costwatch_analytics::forecast::{
    MIN_HISTORY_DAYS, PERIOD_HISTORY_DAYS, RECENT_DAYS, period_end_with,
};
use costwatch_core::findings::{
    BudgetCrossing, BudgetPeriod, ForecastPoint, MonthEndForecast, ThresholdBasis,
};
use costwatch_core::notification::{BudgetLine, State};
use costwatch_core::scope::ScopeKind;
use costwatch_core::{DailySeries, Money, Notification, NotificationBody, Scope, envelopes};
use costwatch_store::{NotificationBus, RollupStore, StateStore, StoreError, Versioned};
use futures_util::future::try_join_all;
use serde_json::json;

use crate::budget_watched::{watch_id, watched_since};
use crate::config::PipelineConfig;
use crate::drivers::DriverReader;
use crate::error::Result;

/// Where each budget stands (for reports) and the crossings it has now.
pub struct BudgetStatus {
    /// Its figures, for the period its `period` says (this month's, quarter's or year's so far).
    pub line: BudgetLine,
    /// Thresholds crossed now: the period's, and a daily budget's on each day it checks again
    /// (`PipelineConfig::recheck_days`).
    pub crossings: Vec<BudgetCrossing>,
    /// Actual-basis thresholds not crossed now (to resolve those notified before a credit or a
    /// revision), on the same days.
    pub cleared: Vec<BudgetCrossing>,
    /// The budget's scope from its period's first day to the day evaluated, as read for it:
    /// the burn-down (`/v1/budgets`) needs no second read.
    pub period_so_far: DailySeries,
    /// The forecast's daily means from the day after the last with data to the period's end:
    /// the burn-down's second part (a quarter's or a year's is not the run's month-end one).
    pub forecast_daily: Vec<ForecastPoint>,
    /// What the line alone would hide: its scope has had no costs for [`UNKNOWN_SCOPE_DAYS`]
    /// days, with the nearest scope of its kind that has (a misspelt `service=AWS Glu` read
    /// $0.00 every day and never said so); on untagged spend, no cost carries its key (so it
    /// reads the whole organisation's); or it has too little history to be forecast yet; or,
    /// auto-adjusting, it has no amount yet.
    pub note: Option<String>,
    /// An auto-adjusting budget's amount this month (the line's `limit`) and what it averages.
    pub auto: Option<AutoAmount>,
    /// A daily budget's definition, by which the first day it was checked is kept
    /// ([`crate::budget_watched`]); the day evaluated is its `period_so_far`'s first.
    pub watch_id: Option<String>,
}

impl BudgetStatus {
    /// An auto-adjusting budget with no amount yet ([`without_amount`]): its line's limit is
    /// zero (a fixed amount never is), no threshold is checked and no percent of it means
    /// anything.
    pub fn amount_pending(&self) -> bool {
        self.line.limit.is_zero()
    }

    /// The scope has had no costs this month and the note says so (no costs for
    /// [`UNKNOWN_SCOPE_DAYS`] either: a quiet month carries no note): the line a reader must not
    /// miss among many budgets.
    pub fn watches_nothing(&self) -> bool {
        self.note.is_some() && !self.period_so_far.days.iter().any(Option::is_some)
    }
}

/// Days a daily budget checks on every run by default (`PipelineConfig::recheck_days`), the day
/// evaluated and those before it: the days collection restates by default
/// (`collect.restate_days`), which the CLI passes on when it is set. The first report of a day is
/// partial (a day's budget read on it alone missed spend that arrived the next morning).
/// Detection looks at the same days again ([`crate::revised`]).
pub const RECHECKED_DAYS: u32 = crate::incremental::DEFAULT_RESTATE_DAYS;

/// The days whose thresholds a run checks, oldest first: the day evaluated, and for a daily
/// budget the days before it that Cost Explorer may still have revised (`recheck_days` in all).
fn checked_days(period: BudgetPeriod, as_of: NaiveDate, recheck_days: u32) -> Vec<NaiveDate> {
    let back = match period.is_daily() {
        true => recheck_days.saturating_sub(1),
        false => 0,
    };
    (0..=back)
        .rev()
        .filter_map(|n| as_of.checked_sub_days(Days::new(n.into())))
        .collect()
}

/// Days without a cost after which a budget's scope is named as possibly misspelt.
pub const UNKNOWN_SCOPE_DAYS: u64 = 90;

/// Budgets whose month is read at once. Each is one Query on DynamoDB: 500 budgets one after
/// another would wait for 500 round trips in the forecast run and in every `/v1/budgets`.
const CONCURRENT_READS: usize = 8;

pub async fn evaluate_all(
    rollups: &dyn RollupStore,
    cfg: &PipelineConfig,
    forecasts: &BTreeMap<Scope, MonthEndForecast>,
    as_of: NaiveDate,
) -> Result<Vec<BudgetStatus>> {
    // A quarter's or a year's forecast reads two years at least: last year's same quarter.
    let history_days = cfg.history_days.max(PERIOD_HISTORY_DAYS);
    let forecast_from = as_of - Days::new(u64::from(history_days.saturating_sub(1)));
    // One Query per budget reads everything it needs: its period so far; the months an
    // auto-adjusting budget averages (unless this period's amount is planned); and a quarter's
    // or a year's forecast history (the forecast run's month-end forecasts end with the month).
    let averaged_from = |budget: &Budget| {
        let start = budget.period_start(as_of);
        budget
            .auto_adjust_months
            .filter(|_| budget.planned_for(start).is_none())
            .and_then(|n| start.checked_sub_months(Months::new(n.into())))
    };
    let read_from = |budget: &Budget| {
        let from = averaged_from(budget).unwrap_or(budget.period_start(as_of));
        match budget.period {
            BudgetPeriod::Monthly => from,
            BudgetPeriod::Daily => checked_days(budget.period, as_of, cfg.recheck_days)[0],
            BudgetPeriod::Quarterly | BudgetPeriod::Annually => from.min(forecast_from),
        }
    };
    let untagged_budgets: Vec<(&Budget, NaiveDate)> = cfg
        .budgets
        .iter()
        .filter(|b| b.scope.is_unallocated())
        .map(|b| (b, read_from(b)))
        .collect();
    let untagged = Untagged::read(rollups, &untagged_budgets, as_of).await?;
    // Eight reads at a time, in order. (A `buffered` stream here made the handlers' futures
    // fail axum's `Send` check: a closure borrowing the store held across the await.)
    let mut histories: Vec<DailySeries> = Vec::with_capacity(cfg.budgets.len());
    for batch in cfg.budgets.chunks(CONCURRENT_READS) {
        let reads = batch.iter().map(|budget| async {
            match &untagged {
                Some(u) if budget.scope.is_unallocated() => {
                    Ok(u.series(&budget.scope, read_from(budget)))
                }
                _ => {
                    rollups
                        .series(&budget.scope, read_from(budget), as_of)
                        .await
                }
            }
        });
        histories.extend(try_join_all(reads).await?);
    }
    // Which days were collected, told by the organisation's, read once: the earlier months an
    // auto-adjusting budget averages, and whether a quarter or a year began before the data did.
    let collected_from = |budget: &Budget| {
        let period = spans_months(budget.period).then(|| budget.period_start(as_of));
        averaged_from(budget).into_iter().chain(period).min()
    };
    let collected = match cfg.budgets.iter().filter_map(collected_from).min() {
        Some(from) => Some(rollups.series(&Scope::Org, from, as_of).await?),
        None => None,
    };
    let mut out = Vec::new();
    for (configured, history) in cfg.budgets.iter().zip(histories) {
        let period_start = configured.period_start(as_of);
        let series = history.since(period_start);
        // A month's forecast is the run's; a quarter's or a year's is made here, to its end,
        // from the period so far or two years, whichever is longer (as benchmarked).
        let bounds = (period_start, configured.period_end(as_of));
        let fitted_on = history.since(period_start.min(forecast_from));
        // A day is complete when its budget is checked: nothing to forecast.
        let period_forecast = match configured.period {
            BudgetPeriod::Monthly | BudgetPeriod::Daily => None,
            BudgetPeriod::Quarterly | BudgetPeriod::Annually => {
                period_end_with(&fitted_on, as_of, bounds, &cfg.forecast)
            }
        };
        let forecast = period_forecast.as_ref().or_else(|| {
            forecasts
                .get(&configured.scope)
                .filter(|_| configured.period.is_monthly())
        });
        let planned = configured.planned_for(period_start);
        let auto = match configured.auto_adjust_months.filter(|_| planned.is_none()) {
            None => None,
            Some(months) => {
                let sized = collected
                    .as_ref()
                    .and_then(|collected| auto_amount(&history, collected, period_start, months))
                    .map(|auto| AutoAmount {
                        amount: auto.amount * Money::from(configured.period.months()),
                        ..auto
                    })
                    .filter(|auto| auto.amount >= Money::new(1, 2));
                if sized.is_none() {
                    // A scope with no cost at all is more likely misspelt than young.
                    let misspelt = match history.days.iter().any(Option::is_some) {
                        true => None,
                        false => unknown_scope_note(rollups, &configured.scope, as_of).await?,
                    };
                    let status = without_amount(configured, series, months, as_of, forecast);
                    out.push(BudgetStatus {
                        note: misspelt.or(status.note),
                        ..status
                    });
                    continue;
                }
                sized
            }
        };
        // This period's amount: planned for it, else the average, else the budget's own.
        let budget = match planned.or(auto.map(|a| a.amount)) {
            Some(amount) => Cow::Owned(Budget {
                amount,
                ..configured.clone()
            }),
            None => Cow::Borrowed(configured),
        };
        let (mut crossings, mut cleared) = (Vec::new(), Vec::new());
        for day in checked_days(budget.period, as_of, cfg.recheck_days) {
            for (mut c, crossed) in thresholds(&budget, &history, forecast, day) {
                c.auto_adjusted_months = auto.map(|a| a.months);
                if crossed {
                    crossings.push(c);
                } else if c.threshold.basis == ThresholdBasis::Actual {
                    cleared.push(c);
                }
            }
        }
        let has_costs = series.days.iter().any(Option::is_some);
        let unknown_key = match has_costs && budget.scope.is_unallocated() {
            true => untagged.as_ref().and_then(|u| {
                unknown_key_note(&budget.scope, &u.carried(&budget.scope, as_of), as_of)
            }),
            false => None,
        };
        let note = match (has_costs, forecast) {
            _ if unknown_key.is_some() => unknown_key,
            (false, _) => unknown_scope_note(rollups, &budget.scope, as_of).await?,
            (true, None) if budget.period.is_daily() => None,
            (true, None) => Some(format!(
                "no forecast yet: a scope is forecast once it has {MIN_HISTORY_DAYS} days of costs \
                 in the last {RECENT_DAYS}; until then the forecast thresholds wait"
            )),
            (true, Some(_)) => None,
        };
        let begun_before = collected
            .as_ref()
            .filter(|_| spans_months(budget.period))
            .and_then(|collected| begun_before_the_data(budget.period, period_start, collected));
        let note = match (note, begun_before) {
            (Some(note), Some(also)) => Some(format!("{note}; {also}")),
            (note, also) => note.or(also),
        };
        let actual = series.total_between(period_start, as_of);
        let projected = forecast.map(|f| f.total).unwrap_or(actual);
        let percent_used = costwatch_core::money::to_f64(actual / budget.amount) * 100.0;
        out.push(BudgetStatus {
            line: BudgetLine {
                budget: budget.name.clone(),
                period: budget.period,
                limit: budget.amount,
                actual,
                forecast: projected,
                forecast_pending: forecast.is_none() && !budget.period.is_daily(),
                percent_used,
            },
            crossings,
            cleared,
            period_so_far: series,
            forecast_daily: forecast.map(|f| f.daily.clone()).unwrap_or_default(),
            note,
            auto,
            watch_id: budget.period.is_daily().then(|| watch_id(&budget)),
        });
    }
    Ok(out)
}

/// A quarter or a year: a period that can begin before the data did, and is forecast here.
fn spans_months(period: BudgetPeriod) -> bool {
    matches!(period, BudgetPeriod::Quarterly | BudgetPeriod::Annually)
}

/// A quarter or a year that began before the first day collected (`collected`: the
/// organisation's days from the period's first): its spend so far, and the forecast on top of
/// it, are short by every day before, and a budget reading "ok" on half a year must say so.
/// `None` when the data covers the period, or when nothing was collected at all (no
/// organisation rollup: nothing is known).
fn begun_before_the_data(
    period: BudgetPeriod,
    period_start: NaiveDate,
    collected: &DailySeries,
) -> Option<String> {
    let first = collected.first_observed()?;
    let missing = (first - period_start).num_days();
    (collected.start <= period_start && missing > 0).then(|| {
        format!(
            "the {} so far counts from {first}, the first day collected: its {missing} days \
             before are not in the data (collect.backfill_days reaches up to 425 days back)",
            period.noun()
        )
    })
}

/// An auto-adjusting budget with no amount yet: no month before this one was collected in full
/// since its scope's first cost (or the average is not positive). It has a line, so every list
/// of budgets shows it and why, but no threshold is checked: there is no percent of nothing.
fn without_amount(
    budget: &Budget,
    series: DailySeries,
    months: u8,
    as_of: NaiveDate,
    forecast: Option<&MonthEndForecast>,
) -> BudgetStatus {
    let actual = series.total_between(budget.period_start(as_of), as_of);
    BudgetStatus {
        line: BudgetLine {
            budget: budget.name.clone(),
            period: budget.period,
            limit: Money::ZERO,
            actual,
            forecast: forecast.map(|f| f.total).unwrap_or(actual),
            forecast_pending: forecast.is_none(),
            percent_used: 0.0,
        },
        crossings: Vec::new(),
        cleared: Vec::new(),
        period_so_far: series,
        forecast_daily: forecast.map(|f| f.daily.clone()).unwrap_or_default(),
        auto: None,
        watch_id: None,
        note: Some(format!(
            "auto-adjusting over {}: no amount yet, as no month before {} was collected in full \
             since `{}` had its first cost (or its average is not positive); no threshold is \
             checked until one is",
            costwatch_core::findings::last_months(months),
            as_of.format("%Y-%m"),
            budget.scope.key()
        )),
    }
}

/// For a budget whose month so far has no costs: `None` when its scope had some in the
/// [`UNKNOWN_SCOPE_DAYS`] before (a quiet month); else what to check, naming the nearest scope
/// of its kind with costs that day. Runs only for such budgets, so a correct configuration
/// reads nothing more.
async fn unknown_scope_note(
    rollups: &dyn RollupStore,
    scope: &Scope,
    as_of: NaiveDate,
) -> Result<Option<String>> {
    let since = as_of - chrono::Days::new(UNKNOWN_SCOPE_DAYS - 1);
    let history = rollups.series(scope, since, as_of).await?;
    if history.days.iter().any(Option::is_some) {
        return Ok(None);
    }
    let key = scope.key();
    let nearest = rollups
        .all_series(as_of, as_of, &[scope.kind()])
        .await?
        .into_iter()
        .map(|s| s.scope.key())
        .map(|k| (strsim::normalized_levenshtein(&key, &k), k))
        .filter(|(similarity, _)| *similarity >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let hint = match nearest {
        Some((_, k)) => format!("; did you mean `{k}`?"),
        None => String::new(),
    };
    Ok(Some(format!(
        "no costs for `{key}` in the {UNKNOWN_SCOPE_DAYS} days to {as_of}: check the scope's name{hint}"
    )))
}

/// Budgets on a key's untagged spend (`tag=team|value=`): their series are derived from the
/// organisation's and their keys' values, read once for all of them from the earliest day any
/// needs. Read one by one, each read every labelled scope of its window (on DynamoDB, every
/// scope of every day of it), and again the day's keys for [`unknown_key_note`].
struct Untagged {
    org: DailySeries,
    labelled: Vec<DailySeries>,
}

impl Untagged {
    /// `None` without such budgets; `budgets`: each with the first day it reads.
    async fn read(
        rollups: &dyn RollupStore,
        budgets: &[(&Budget, NaiveDate)],
        as_of: NaiveDate,
    ) -> Result<Option<Self>> {
        let Some(from) = budgets.iter().map(|(_, from)| *from).min() else {
            return Ok(None);
        };
        let mut kinds: Vec<ScopeKind> = budgets.iter().map(|(b, _)| b.scope.kind()).collect();
        kinds.sort();
        kinds.dedup();
        let org = rollups.series(&Scope::Org, from, as_of).await?;
        let labelled = rollups.stored_all_series(from, as_of, &kinds).await?;
        Ok(Some(Self { org, labelled }))
    }

    /// `scope`'s series from `from`, as `RollupStore::series` derives it.
    fn series(&self, scope: &Scope, from: NaiveDate) -> DailySeries {
        costwatch_store::unallocated::of(scope, &self.org, &self.labelled).since(from)
    }

    /// The keys of `scope`'s kind that some cost carries on `day`.
    fn carried(&self, scope: &Scope, day: NaiveDate) -> BTreeSet<String> {
        let carrying = self.labelled.iter().filter(|s| {
            s.scope.kind() == scope.kind() && !s.scope.is_unallocated() && s.get(day).is_some()
        });
        carrying.filter_map(|s| key_of(&s.scope)).collect()
    }
}

/// A tag's key or a cost category's name.
fn key_of(scope: &Scope) -> Option<String> {
    match scope {
        Scope::Tag { key, .. } => Some(key.clone()),
        Scope::CostCategory { name, .. } => Some(name.clone()),
        _ => None,
    }
}

/// For a budget on a key's untagged spend (`tag=team|value=`): `None` when some cost on `as_of`
/// carries the key (`carried`); else every dollar counts as untagged — a misspelt
/// `tag=tam|value=` reads the whole organisation and never looks wrong — so say so, with the
/// nearest key that is carried.
fn unknown_key_note(scope: &Scope, carried: &BTreeSet<String>, as_of: NaiveDate) -> Option<String> {
    let wanted = key_of(scope).unwrap_or_default();
    if carried.contains(&wanted) {
        return None;
    }
    let hint = carried
        .iter()
        .map(|k| (strsim::normalized_levenshtein(&wanted, k), k))
        .filter(|(similarity, _)| *similarity >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!("; did you mean `{k}`?"))
        .unwrap_or_default();
    let (what, missing) = (scope.kind().key_noun(), scope.kind().missing_value());
    Some(format!(
        "no cost on {as_of} carries {what} `{wanted}`, so all of the organisation's spend counts \
         as {missing}: check the key's name{hint}"
    ))
}

/// What the state store says of one threshold in one period.
struct Record {
    version: u64,
    sent: bool,
    open: bool,
    revision: u32,
}

impl Record {
    fn read(v: &Versioned) -> Self {
        let field = |k: &str| v.value.get(k);
        Self {
            version: v.version,
            sent: field("sent").and_then(|s| s.as_bool()).unwrap_or(true),
            // Records written before resolution existed are open.
            open: field("state").and_then(|s| s.as_str()) != Some("resolved"),
            revision: field("revision")
                .and_then(|r| r.as_u64())
                .and_then(|r| u32::try_from(r).ok())
                .unwrap_or(0),
        }
    }
}

fn threshold_percent(n: &Notification) -> u32 {
    match &n.body {
        NotificationBody::Budget(b) => b.threshold_percent,
        _ => 0,
    }
}

/// Days a threshold's record is kept after its period ends, or after the run that wrote it when
/// that is later (a replay of an old period): any day Cost Explorer still holds (about 14
/// months) can be run again without alerting twice, and the state table does not keep every
/// day of every daily budget for ever.
pub const RECORD_KEPT_DAYS: u64 = 430;

/// When the record of `n`'s threshold expires ([`RECORD_KEPT_DAYS`]).
fn record_expiry(n: &Notification, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let NotificationBody::Budget(b) = &n.body else {
        return None;
    };
    let period_end = b.period_end.and_hms_opt(0, 0, 0)?.and_utc();
    period_end
        .max(now)
        .checked_add_days(Days::new(RECORD_KEPT_DAYS))
}

/// Create-only (or compare-and-set) write; a conflict means a concurrent run wrote it first.
async fn record(
    state: &dyn StateStore,
    key: &str,
    n: &Notification,
    sent: bool,
    expected: Option<u64>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let open = n.state != State::Resolved;
    let mut value = json!({
        "id": n.id,
        "sent": sent,
        "state": if open { "open" } else { "resolved" },
        "revision": n.revision,
    });
    // The envelope people saw, so an acknowledgement from chat can announce it again
    // (`acknowledge`).
    if sent && open {
        value["envelope"] = serde_json::to_value(n).unwrap_or_default();
    }
    match state.put(key, value, expected, record_expiry(n, now)).await {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Where each threshold's record lives in the state store: by its envelopes' `subject_id`.
fn record_key(c: &BudgetCrossing) -> String {
    let (budget, basis) = (&c.budget, c.threshold.basis);
    subject_key(&envelopes::budget_subject(
        budget,
        c.period_start,
        c.threshold.percent,
        basis,
    ))
}

/// The state key of the threshold record whose envelopes carry `subject_id`.
fn subject_key(subject_id: &str) -> String {
    format!("budget/{subject_id}")
}

/// `keys` from the state store, [`CONCURRENT_READS`] at a time, in order. One after another
/// the threshold records were a round trip each: five for a budget with the default
/// thresholds, fifteen for a daily one's three days, 2,500 for 500 budgets.
pub(crate) async fn read_all(
    state: &dyn StateStore,
    keys: &[String],
) -> Result<Vec<Option<Versioned>>> {
    let mut read = Vec::with_capacity(keys.len());
    for batch in keys.chunks(CONCURRENT_READS) {
        read.extend(try_join_all(batch.iter().map(|key| state.get(key))).await?);
    }
    Ok(read)
}

/// The crossings (or cleared thresholds) on days a budget checks: a daily budget's from
/// `since`, the first day it was checked ([`watched_since`]); every one of the others'.
fn on_checked_days<'a>(
    of: impl IntoIterator<Item = &'a BudgetCrossing>,
    since: Option<NaiveDate>,
) -> impl Iterator<Item = &'a BudgetCrossing> {
    of.into_iter()
        .filter(move |c| since.is_none_or(|first| c.period_start >= first))
}

/// Publishes crossings not yet notified in their period (see the module docs), and the
/// resolution of actual thresholds a credit brought spend back under. When several thresholds
/// of one budget and basis are crossed at once (a first run mid-month), only the highest is
/// sent: one message that says 120 %, not three. The state store's conditional writes make
/// "once" hold across re-runs and concurrent runs.
/// Each crossing carries what moved its scope's spend (`drivers`).
pub async fn notify_crossings(
    state: &dyn StateStore,
    bus: &dyn NotificationBus,
    names: &BTreeMap<String, String>,
    statuses: &[BudgetStatus],
    drivers: &DriverReader<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<Notification>> {
    let mut published = Vec::new();
    let since = watched_since(state, statuses).await?;
    let since = |i: usize| since.get(&i).copied();
    // Each key is one threshold in one period, read once and written at most once a run; a
    // concurrent run's write in between fails the conditional write, as it did before.
    let keys: Vec<String> = (statuses.iter().enumerate())
        .flat_map(|(i, s)| on_checked_days(s.crossings.iter().chain(&s.cleared), since(i)))
        .map(record_key)
        .collect();
    let read = read_all(state, &keys).await?;
    let read = read.iter().map(|v| v.as_ref().map(Record::read));
    let mut records: BTreeMap<String, Option<Record>> = keys.iter().cloned().zip(read).collect();
    for (i, status) in statuses.iter().enumerate() {
        let name_of = |c: &BudgetCrossing| {
            c.scope
                .account()
                .and_then(|a| names.get(a))
                .map(String::as_str)
        };
        // By period (a daily budget checks several days) and basis: the highest of each.
        type Fresh = Vec<(String, Notification, Option<u64>)>;
        let mut fresh: BTreeMap<(NaiveDate, ThresholdBasis), Fresh> = BTreeMap::new();
        for crossing in on_checked_days(&status.crossings, since(i)) {
            let first = envelopes::budget(crossing, name_of(crossing), now);
            let key = record_key(crossing);
            let (n, expected) = match records.remove(&key).flatten() {
                None => (first, None),
                Some(r) if !r.open => (
                    envelopes::budget_update(
                        crossing,
                        State::Open,
                        r.revision + 1,
                        name_of(crossing),
                        now,
                    ),
                    Some(r.version),
                ),
                Some(_) => continue,
            };
            fresh
                .entry((crossing.period_start, crossing.threshold.basis))
                .or_default()
                .push((key, n, expected));
        }
        for ((period, _), mut group) in fresh {
            group.sort_by_key(|(_, n, _)| threshold_percent(n));
            let Some((_, highest, _)) = group.last_mut() else {
                continue;
            };
            // Recorded as sent, drivers and all: an acknowledgement announces it again. A
            // day's budget is over for what moved that day: its day against the same weekday
            // a week before, not the month's movers.
            let scope = &status.period_so_far.scope;
            let found = match status.line.period.is_daily() {
                true => drivers.of_day(scope, period).await?,
                false => drivers.of(scope).await?,
            };
            if let Some(d) = found {
                *highest = highest.clone().with_drivers(d);
            }
            let highest = highest.clone();
            bus.publish(&highest).await?;
            for (key, n, expected) in &group {
                record(state, key, n, n.id == highest.id, *expected, now).await?;
            }
            published.push(highest);
        }

        // Fell back under: resolve what is open, announce the highest one of each period that
        // was sent.
        let mut resolved: BTreeMap<NaiveDate, Vec<(String, Notification, Record)>> =
            BTreeMap::new();
        for crossing in on_checked_days(&status.cleared, since(i)) {
            let key = record_key(crossing);
            let Some(r) = records.remove(&key).flatten() else {
                continue;
            };
            if r.open {
                let n = envelopes::budget_update(
                    crossing,
                    State::Resolved,
                    r.revision + 1,
                    name_of(crossing),
                    now,
                );
                let period = resolved.entry(crossing.period_start).or_default();
                period.push((key, n, r));
            }
        }
        for mut period in resolved.into_values() {
            period.sort_by_key(|(_, n, _)| threshold_percent(n));
            let announce = period
                .iter()
                .rev()
                .find(|(_, _, r)| r.sent)
                .map(|(_, n, _)| n.id.clone());
            for (key, n, r) in &period {
                let sent = announce.as_deref() == Some(n.id.as_str());
                // Published before it is recorded, like a crossing: a failed write means a
                // retry may send it twice, never that it is lost.
                if sent {
                    bus.publish(n).await?;
                    published.push(n.clone());
                }
                record(state, key, n, sent, Some(r.version), now).await?;
            }
        }
    }
    Ok(published)
}

/// A person acknowledged a budget alert (a chat button): announced once to every integration as
/// the alert people saw, now `acknowledged` (revision + 1: PagerDuty acknowledges, Jira
/// comments, Slack updates the message). `None` when there is nothing to announce: already
/// acknowledged, resolved, or never sent. A crossing alerts once per threshold and period, so
/// there is nothing to snooze or judge; acknowledging is the one action a budget alert takes.
pub async fn acknowledge(
    state: &dyn StateStore,
    bus: &dyn NotificationBus,
    subject_id: &str,
    what_happened: &str,
    now: DateTime<Utc>,
) -> Result<Option<Notification>> {
    let key = subject_key(subject_id);
    let stored = state.get(&key).await?.ok_or_else(|| {
        crate::PipelineError::NotFound(format!("no budget alert with id `{subject_id}`"))
    })?;
    let r = Record::read(&stored);
    let acknowledged = stored.value.get("state").and_then(|s| s.as_str()) == Some("acknowledged");
    let Some(seen) = stored
        .value
        .get("envelope")
        .and_then(|e| serde_json::from_value::<Notification>(e.clone()).ok())
    else {
        return Ok(None);
    };
    if !r.open || acknowledged {
        return Ok(None);
    }
    let mut n = seen;
    n.revision = r.revision + 1;
    n.state = State::Acknowledged;
    n.id = costwatch_core::notification::envelope_id(&n.subject_id, n.state, n.revision);
    n.summary = format!("{what_happened} {}", n.summary);
    n.created_at = now;
    bus.publish(&n).await?;
    let value = json!({
        "id": n.id,
        "sent": true,
        "state": "acknowledged",
        "revision": n.revision,
        "envelope": n,
    });
    match state
        .put(&key, value, Some(r.version), record_expiry(&n, now))
        .await
    {
        // A concurrent click recorded it first; the envelope id dedups the repeat.
        Ok(_) | Err(StoreError::Conflict { .. }) => Ok(Some(n)),
        Err(e) => Err(e.into()),
    }
}
