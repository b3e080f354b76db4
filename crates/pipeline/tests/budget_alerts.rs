//! Budget crossings are notified once per threshold and period, a credit that brings actual
//! spend back under a notified threshold resolves it once, and crossing it again in the same
//! period is a new message; forecast thresholds never flap.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{NaiveDate, TimeZone, Utc};
use costwatch_analytics::budget::Budget;
use costwatch_core::findings::MonthEndForecast;
use costwatch_core::{DailyCost, Money, NotificationBody, Scope, State};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::budgets::{evaluate_all, notify_crossings};
use costwatch_pipeline::drivers::DriverReader;
use costwatch_store::memory::{MemoryBus, MemoryRollups, MemoryState};
use costwatch_store::{RollupRow, RollupStore, StateStore, Versioned};

fn d(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 4, day).unwrap()
}

fn cfg() -> PipelineConfig {
    PipelineConfig {
        budgets: vec![Budget::monthly("team", Scope::Org, Money::from(1000))],
        ..PipelineConfig::default()
    }
}

/// Sets the org's cost of each day 1..=days: `usage` a day, and `credit` on the last day.
async fn spend(rollups: &MemoryRollups, days: u32, usage: Money, credit: Money) {
    let all: Vec<NaiveDate> = (1..=days).map(d).collect();
    let rows: Vec<RollupRow> = all
        .iter()
        .map(|day| RollupRow {
            scope: Scope::Org,
            day: *day,
            cost: DailyCost {
                usage,
                credit: if *day == d(days) { credit } else { Money::ZERO },
                ..Default::default()
            },
        })
        .collect();
    rollups.replace_days(&all, &rows).await.unwrap();
}

/// April's month-end forecast of `scope`, made on `as_of`: `total`, with no spread.
fn month_end(scope: Scope, as_of: NaiveDate, total: Money) -> MonthEndForecast {
    MonthEndForecast {
        scope,
        month: d(1),
        as_of,
        actual_to_date: Money::ZERO,
        total,
        lo80: total,
        hi80: total,
        lo95: total,
        hi95: total,
        previous_month_total: None,
        daily: Vec::new(),
    }
}

/// One run on `as_of` with a month-end forecast of `forecast`; returns (threshold, basis, state,
/// revision) of what it published.
async fn run(
    rollups: &MemoryRollups,
    state: &MemoryState,
    as_of: NaiveDate,
    forecast: Money,
) -> Vec<(u32, String, State, u32)> {
    let bus = MemoryBus::new();
    let forecasts = BTreeMap::from([(Scope::Org, month_end(Scope::Org, as_of, forecast))]);
    let (cfg, names) = (cfg(), BTreeMap::new());
    let statuses = evaluate_all(rollups, &cfg, &forecasts, as_of)
        .await
        .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 4, 25, 6, 0, 0).unwrap();
    let drivers = DriverReader::new(rollups, &cfg, &names, as_of);
    notify_crossings(state, &bus, &names, &statuses, &drivers, now)
        .await
        .unwrap();
    bus.published()
        .iter()
        .map(|n| match &n.body {
            NotificationBody::Budget(b) => (
                b.threshold_percent,
                format!("{:?}", b.basis).to_lowercase(),
                n.state,
                n.revision,
            ),
            other => panic!("not a budget envelope: {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn crossings_notify_once_and_a_credit_resolves_once() {
    let (rollups, state) = (MemoryRollups::default(), MemoryState::new());
    let open = |p: u32, basis: &str, rev: u32| (p, basis.to_owned(), State::Open, rev);

    // 10 × 105 = 1,050: 50, 80 and 100 % of actual at once → only 100 % is sent; forecast 1,200.
    spend(&rollups, 10, Money::from(105), Money::ZERO).await;
    let first = run(&rollups, &state, d(10), Money::from(1200)).await;
    assert_eq!(
        first,
        vec![open(100, "actual", 0), open(100, "forecast", 0)]
    );
    assert!(
        run(&rollups, &state, d(10), Money::from(1200))
            .await
            .is_empty(),
        "re-run"
    );

    // A credit of −200 on day 11: 1,050 + 105 − 200 = 955 < 1,000 → resolved, once. The
    // forecast falls under 100 % too, and is not resolved (forecasts wobble).
    spend(&rollups, 11, Money::from(105), Money::from(-200)).await;
    let credited = run(&rollups, &state, d(11), Money::from(990)).await;
    assert_eq!(credited, vec![(100, "actual".into(), State::Resolved, 1)]);
    assert!(
        run(&rollups, &state, d(11), Money::from(990))
            .await
            .is_empty(),
        "re-run"
    );

    // Crossing again in the same period is new: open, revision 2; the forecast crossing is not
    // repeated in the period.
    // 12 × 90 = 1,080: over 100 % again, under 120 %.
    spend(&rollups, 12, Money::from(90), Money::ZERO).await;
    let again = run(&rollups, &state, d(12), Money::from(1300)).await;
    assert_eq!(again, vec![open(100, "actual", 2)]);
    assert!(
        run(&rollups, &state, d(12), Money::from(1300))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_threshold_crossed_later_is_sent_on_its_own_day() {
    let (rollups, state) = (MemoryRollups::default(), MemoryState::new());
    spend(&rollups, 5, Money::from(110), Money::ZERO).await; // 550: 50 %
    let sent = run(&rollups, &state, d(5), Money::from(900)).await;
    assert_eq!(sent, vec![(50, "actual".into(), State::Open, 0)]);
    spend(&rollups, 8, Money::from(110), Money::ZERO).await; // 880: 80 %
    let sent = run(&rollups, &state, d(8), Money::from(900)).await;
    assert_eq!(sent, vec![(80, "actual".into(), State::Open, 0)]);
}

#[tokio::test]
async fn an_acknowledgement_from_chat_is_announced_once_and_the_resolve_follows_it() {
    use costwatch_core::envelopes::budget_subject;
    use costwatch_core::findings::ThresholdBasis;
    use costwatch_pipeline::actions::{Action, ActionPorts, apply};
    let (rollups, state) = (MemoryRollups::default(), MemoryState::new());
    // 1–10 March at $90 a day and 1–10 April at $105, all of it account 111111111111's: the
    // alert's drivers name the account (+$150).
    let mut rows = Vec::new();
    let march = |day| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
    let days: Vec<NaiveDate> = (1..=10).flat_map(|day| [march(day), d(day)]).collect();
    for day in &days {
        let usage = Money::from(if *day < d(1) { 90 } else { 105 });
        for scope in [Scope::Org, Scope::Account("111111111111".into())] {
            let cost = DailyCost {
                usage,
                ..Default::default()
            };
            rows.push(RollupRow {
                scope,
                day: *day,
                cost,
            });
        }
    }
    rollups.replace_days(&days, &rows).await.unwrap();
    run(&rollups, &state, d(10), Money::from(1200)).await;
    let bus = MemoryBus::new();
    let ports = ActionPorts {
        state: &state,
        bus: &bus,
        aws: None,
    };
    let now = Utc.with_ymd_and_hms(2026, 4, 10, 9, 0, 0).unwrap();
    let subject = budget_subject("team", d(1), 100, ThresholdBasis::Actual);
    let by = Some("@ana in Slack".to_owned());
    let acked = apply(&ports, &subject, &Action::Acknowledge, by.clone(), now)
        .await
        .unwrap()
        .announced
        .expect("the alert people saw, announced again");
    assert_eq!((acked.state, acked.revision), (State::Acknowledged, 1));
    assert_eq!(acked.subject_id, subject);
    assert!(
        acked.summary.starts_with("Acknowledged by @ana in Slack."),
        "{}",
        acked.summary
    );
    let NotificationBody::Budget(b) = &acked.body else {
        panic!("not a budget envelope")
    };
    assert_eq!(b.threshold_percent, 100);
    let drivers = b.drivers.as_ref().expect("the drivers it was sent with");
    let cause = &drivers.causes[0];
    assert_eq!(
        (cause.value.as_str(), cause.contribution, drivers.change),
        ("111111111111", Money::from(150), Money::from(150))
    );
    // Twice: nothing more. Snooze or a verdict: not for a budget alert.
    let again = apply(&ports, &subject, &Action::Acknowledge, by, now)
        .await
        .unwrap();
    assert!(again.announced.is_none());
    let snooze = Action::Snooze(d(11));
    assert!(apply(&ports, &subject, &snooze, None, now).await.is_err());
    // 50 % was crossed in the same run but not sent (only the highest is): nothing to announce.
    let unsent = budget_subject("team", d(1), 50, ThresholdBasis::Actual);
    let quiet = apply(&ports, &unsent, &Action::Acknowledge, None, now)
        .await
        .unwrap();
    assert!(quiet.announced.is_none());
    assert_eq!(bus.published().len(), 1);
    // The same day again sends nothing; a credit resolves it after the acknowledgement.
    assert!(
        run(&rollups, &state, d(10), Money::from(1200))
            .await
            .is_empty()
    );
    spend(&rollups, 11, Money::from(105), Money::from(-200)).await;
    let credited = run(&rollups, &state, d(11), Money::from(990)).await;
    assert_eq!(credited, vec![(100, "actual".into(), State::Resolved, 2)]);
}

/// A budget whose scope has had no costs for 90 days says so beside its $0.00, naming the
/// nearest scope of its kind that has costs; a scope that is only quiet this month, and a
/// correct one, say nothing.
#[tokio::test]
async fn a_budget_on_a_scope_without_costs_names_the_nearest_one() {
    let rollups = MemoryRollups::default();
    let glue = Scope::Service("AWS Glue".into());
    let retired = Scope::Service("Amazon Redshift".into());
    let day = |d: NaiveDate, scope: &Scope| RollupRow {
        scope: scope.clone(),
        day: d,
        cost: DailyCost {
            usage: Money::from(10),
            ..Default::default()
        },
    };
    // Redshift spent in March, nothing in April; Glue spends every day of April.
    let march = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
    let mut rows = vec![day(march, &retired)];
    rows.extend((1..=10).map(|n| day(d(n), &glue)));
    let mut days: Vec<NaiveDate> = (1..=10).map(d).collect();
    days.push(march);
    rollups.replace_days(&days, &rows).await.unwrap();
    let budget = |name: &str, scope: Scope| Budget::monthly(name, scope, Money::from(100));
    let cfg = PipelineConfig {
        budgets: vec![
            budget("typo", Scope::Service("AWS Glu".into())),
            budget("quiet", retired),
            budget("glue", glue.clone()),
        ],
        ..PipelineConfig::default()
    };
    let forecasts = BTreeMap::from([(glue.clone(), month_end(glue, d(10), Money::from(300)))]);
    let statuses = evaluate_all(&rollups, &cfg, &forecasts, d(10))
        .await
        .unwrap();
    let note = |i: usize| statuses[i].note.clone();
    let typo = note(0).expect("the misspelt scope is named");
    assert!(
        typo.contains("no costs for `service=AWS Glu` in the 90 days to 2026-04-10")
            && typo.contains("did you mean `service=AWS Glue`?"),
        "{typo}"
    );
    assert_eq!(
        note(1),
        None,
        "costs 21 days ago: a quiet month, not a typo"
    );
    assert_eq!(note(2), None);
}

/// A budget whose scope has costs but too few days to be forecast says so, and its line shows
/// no forecast (the forecast field falls back to the actual, which is not a forecast).
#[tokio::test]
async fn a_budget_not_forecast_yet_says_so() {
    let rollups = MemoryRollups::default();
    spend(&rollups, 5, Money::from(40), Money::ZERO).await;
    let statuses = evaluate_all(&rollups, &cfg(), &BTreeMap::new(), d(5))
        .await
        .unwrap();
    let status = &statuses[0];
    assert!(status.line.forecast_pending);
    let note = status.note.clone().expect("a note");
    assert!(
        note.starts_with("no forecast yet") && note.contains("14 days of costs"),
        "{note}"
    );
    let forecasts = BTreeMap::from([(Scope::Org, month_end(Scope::Org, d(5), Money::from(1200)))]);
    let statuses = evaluate_all(&rollups, &cfg(), &forecasts, d(5))
        .await
        .unwrap();
    assert!(!statuses[0].line.forecast_pending);
    assert_eq!(statuses[0].note, None);
}

/// The memory state store, counting its reads and the most of them in flight at once, and
/// keeping the expiry each key was last written with.
#[derive(Default)]
struct Gauged {
    inner: MemoryState,
    reads: AtomicUsize,
    in_flight: AtomicUsize,
    most: AtomicUsize,
    expiries: std::sync::Mutex<BTreeMap<String, Option<chrono::DateTime<Utc>>>>,
}

#[async_trait::async_trait]
impl StateStore for Gauged {
    async fn get(&self, key: &str) -> costwatch_store::error::Result<Option<Versioned>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        // A round trip: the others may start meanwhile.
        tokio::task::yield_now().await;
        let found = self.inner.get(key).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        found
    }

    async fn put(
        &self,
        key: &str,
        value: serde_json::Value,
        expected: Option<u64>,
        expires_at: Option<chrono::DateTime<Utc>>,
    ) -> costwatch_store::error::Result<u64> {
        let version = self.inner.put(key, value, expected, expires_at).await?;
        self.expiries
            .lock()
            .unwrap()
            .insert(key.to_owned(), expires_at);
        Ok(version)
    }

    async fn list(&self, prefix: &str) -> costwatch_store::error::Result<Vec<(String, Versioned)>> {
        self.inner.list(prefix).await
    }
}

/// $105 a day from April 1 to 10; the monthly budget `team` of $1,000 (a month-end forecast of
/// $1,200) and a daily one, `daily`, of $100, both with the default thresholds.
async fn month_and_day() -> (
    MemoryRollups,
    PipelineConfig,
    BTreeMap<Scope, MonthEndForecast>,
) {
    use costwatch_core::findings::BudgetPeriod;
    let rollups = MemoryRollups::default();
    spend(&rollups, 10, Money::from(105), Money::ZERO).await;
    let mut cfg = cfg();
    let daily = Budget {
        name: "daily".into(),
        period: BudgetPeriod::Daily,
        amount: Money::from(100),
        ..cfg.budgets[0].clone()
    };
    cfg.budgets.push(daily);
    let forecasts = BTreeMap::from([(Scope::Org, month_end(Scope::Org, d(10), Money::from(1200)))]);
    (rollups, cfg, forecasts)
}

/// Every threshold's record is read once a run, several at a time: one after another, 500
/// budgets' thresholds (and a daily budget's three days of them) were a round trip each.
#[tokio::test]
async fn threshold_records_are_read_once_and_together() {
    let (rollups, cfg, forecasts) = month_and_day().await;
    let statuses = evaluate_all(&rollups, &cfg, &forecasts, d(10))
        .await
        .unwrap();
    let checked: usize = statuses
        .iter()
        .map(|s| s.crossings.len() + s.cleared.len())
        .sum();
    // The monthly budget's five thresholds; the daily one's four actual ones on three days.
    assert_eq!(checked, 5 + 4 * 3);
    let (state, bus, names) = (Gauged::default(), MemoryBus::new(), BTreeMap::new());
    let now = Utc.with_ymd_and_hms(2026, 4, 11, 6, 0, 0).unwrap();
    let drivers = DriverReader::new(&rollups, &cfg, &names, d(10));
    // The daily budget alone ran the day before (not counted): it has been checked since d(9).
    let daily_only = PipelineConfig {
        budgets: cfg.budgets[1..].to_vec(),
        ..cfg.clone()
    };
    let yesterday = evaluate_all(&rollups, &daily_only, &forecasts, d(9)).await;
    let yesterday = yesterday.unwrap();
    let first = notify_crossings(&state.inner, &bus, &names, &yesterday, &drivers, now);
    assert_eq!(daily_days(&first.await.unwrap()), vec![d(9)]);
    let sent = notify_crossings(&state, &bus, &names, &statuses, &drivers, now)
        .await
        .unwrap();
    // The daily budget's first day checked, then the thresholds of the days it checks: d(9)
    // and d(10), not d(8), before which it was not checked.
    assert_eq!(state.reads.load(Ordering::SeqCst), 1 + 5 + 4 * 2);
    assert!(state.most.load(Ordering::SeqCst) > 1, "read one at a time");
    // $1,050 of $1,000 (100 % of actual, the highest crossed; forecast 120 %), and the daily
    // budget's new day at 105 % of $100 (100 %).
    assert_eq!(daily_days(&sent), vec![d(10)], "{sent:#?}");
    assert_eq!(sent.len(), 2 + 1, "{sent:#?}");
    let again = notify_crossings(&state, &bus, &names, &statuses, &drivers, now)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:#?}");
}

/// The days of the daily budget `daily` that `sent` alerts on.
fn daily_days(sent: &[costwatch_core::Notification]) -> Vec<NaiveDate> {
    let daily = sent.iter().filter_map(|n| match &n.body {
        NotificationBody::Budget(b) if b.budget == "daily" => Some(b.period_start),
        _ => None,
    });
    daily.collect()
}

/// A daily budget checks again only the days it was checked on: added on a day when its
/// three re-checked days are all over, it alerts once, for that day; the next run adds the
/// next day; changed (a threshold added), it starts again from its day, though the days before
/// were over the new threshold too; and a run for an earlier day (a backfill) checks that day.
#[tokio::test]
async fn a_daily_budget_added_or_changed_alerts_from_its_first_day_only() {
    use costwatch_core::findings::{BudgetPeriod, Threshold, ThresholdBasis};
    let rollups = MemoryRollups::default();
    spend(&rollups, 14, Money::from(105), Money::ZERO).await;
    let actual = |percent| Threshold {
        percent,
        basis: ThresholdBasis::Actual,
    };
    let daily = Budget {
        name: "daily".into(),
        period: BudgetPeriod::Daily,
        amount: Money::from(100),
        thresholds: vec![actual(100)],
        ..Budget::monthly("daily", Scope::Org, Money::from(100))
    };
    let state = MemoryState::new();
    let run = |budget: Budget, as_of: NaiveDate| {
        let (rollups, state) = (&rollups, &state);
        async move {
            let cfg = PipelineConfig {
                budgets: vec![budget],
                ..PipelineConfig::default()
            };
            let (bus, names) = (MemoryBus::new(), BTreeMap::new());
            let statuses = evaluate_all(rollups, &cfg, &BTreeMap::new(), as_of)
                .await
                .unwrap();
            let now = Utc.with_ymd_and_hms(2026, 4, 20, 6, 0, 0).unwrap();
            let drivers = DriverReader::new(rollups, &cfg, &names, as_of);
            let sent = notify_crossings(state, &bus, &names, &statuses, &drivers, now)
                .await
                .unwrap();
            daily_days(&sent)
        }
    };
    assert_eq!(run(daily.clone(), d(10)).await, vec![d(10)]);
    assert_eq!(run(daily.clone(), d(10)).await, vec![]);
    assert_eq!(run(daily.clone(), d(11)).await, vec![d(11)]);
    // 90 % is new on every day: it starts from d(12), one alert (100 %, the highest crossed).
    let changed = Budget {
        thresholds: vec![actual(90), actual(100)],
        ..daily.clone()
    };
    assert_eq!(run(changed.clone(), d(12)).await, vec![d(12)]);
    assert_eq!(run(changed.clone(), d(13)).await, vec![d(13)]);
    // A backfill's run for d(5): that day is checked, and from then on the days after it.
    assert_eq!(run(daily.clone(), d(5)).await, vec![d(5)]);
    assert_eq!(run(daily, d(7)).await, vec![d(6), d(7)]);
}

/// A threshold's record expires `RECORD_KEPT_DAYS` after its period ends, so the state table
/// does not keep every day of every daily budget for ever; a record of an old period run again
/// (a replay) is kept as long from the run, so running it once more alerts nothing.
#[tokio::test]
async fn threshold_records_expire_a_while_after_their_period() {
    use costwatch_pipeline::budgets::RECORD_KEPT_DAYS;
    let (rollups, cfg, forecasts) = month_and_day().await;
    let statuses = evaluate_all(&rollups, &cfg, &forecasts, d(10))
        .await
        .unwrap();
    let names = BTreeMap::new();
    let drivers = DriverReader::new(&rollups, &cfg, &names, d(10));
    let kept = chrono::Days::new(RECORD_KEPT_DAYS);
    let midnight = |day: NaiveDate| day.and_hms_opt(0, 0, 0).unwrap().and_utc();
    // Run on the morning after: the month's records from its last day, the day's from the run.
    let now = Utc.with_ymd_and_hms(2026, 4, 11, 6, 0, 0).unwrap();
    let state = Gauged::default();
    let sent = notify_crossings(&state, &MemoryBus::new(), &names, &statuses, &drivers, now)
        .await
        .unwrap();
    assert_eq!(sent.len(), 3, "{sent:#?}");
    let expiries = state.expiries.lock().unwrap().clone();
    let records: Vec<_> = expiries
        .iter()
        .filter(|(k, _)| k.starts_with("budget/"))
        .collect();
    // The monthly budget's crossed thresholds (50, 80 and 100 % of actual, 100 % of forecast)
    // from April's last day; the daily one's (50, 80 and 100 % of d(10), the first day it was
    // checked) from the run, its day having ended before it.
    let count = |expiry| records.iter().filter(|(_, e)| **e == Some(expiry)).count();
    assert_eq!(count(midnight(d(30)) + kept), 4, "{expiries:#?}");
    assert_eq!(count(now + kept), 3, "{expiries:#?}");
    assert_eq!(records.len(), 4 + 3, "{expiries:#?}");

    // The same April run in December (a replay), twice: kept from December, and the second
    // sends nothing.
    let december = Utc.with_ymd_and_hms(2026, 12, 7, 6, 0, 0).unwrap();
    let replay = Gauged::default();
    let mut sent_each = Vec::new();
    for _ in 0..2 {
        let bus = MemoryBus::new();
        let sent = notify_crossings(&replay, &bus, &names, &statuses, &drivers, december);
        sent_each.push(sent.await.unwrap().len());
    }
    assert_eq!(sent_each, vec![3, 0]);
    let expiries = replay.expiries.lock().unwrap().clone();
    let mut replayed = expiries.iter().filter(|(k, _)| k.starts_with("budget/"));
    assert!(
        replayed.all(|(_, e)| *e == Some(december + kept)),
        "{expiries:#?}"
    );
}
