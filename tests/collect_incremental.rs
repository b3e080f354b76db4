//! Incremental collection's rules on a scripted source (one request per probe and per day
//! pulled) and the in-memory store: windows, restating, the cap, breakdowns, the ledger. The real
//! Cost Explorer source runs the same path against moto in `collect_aws.rs`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use costwatch_core::{ChargeCategory, CostRecord, Money, Scope};
use std::sync::Arc;

use costwatch_store::memory::MemoryState;
use costwatch_store::{
    CostSource, DayPull, DayTotal, Fetched, LakeReader, ManualClock, MemoryStore, RequestBudget,
    RollupStore, StateStore, StoreError, Versioned,
};

use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::aggregate::aggregate;
use costwatch_pipeline::incremental::{
    CollectSettings, IncrementalOutcome, LEDGER_MONTH_PREFIX, LEDGER_RUN_PREFIX, PROGRESS_KEY,
    collect_incremental,
};
use costwatch_pipeline::lake::{breakdown_key, curated_key, read_day};

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, n).unwrap()
}

fn at(today: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&today.and_hms_opt(6, 0, 0).unwrap())
}

/// A store whose expiry is judged on the tests' own clock (the end of their March): on the
/// system clock the ledger's 400-day run items, written on fixed March 2026 days, would expire
/// in April 2027 and these tests would fail from then on.
fn store() -> MemoryStore {
    MemoryStore::with_clock(Arc::new(ManualClock::new(at(day(31)))))
}

fn record(on: NaiveDate, account: &str, service: &str, cost: i64) -> CostRecord {
    let start = Utc.from_utc_datetime(&on.and_hms_opt(0, 0, 0).unwrap());
    CostRecord {
        charge_period_start: start,
        charge_period_end: start + chrono::Duration::days(1),
        billing_account_id: "999".into(),
        billing_account_name: None,
        sub_account_id: account.into(),
        sub_account_name: None,
        service_name: service.into(),
        service_category: None,
        region_id: None,
        charge_category: ChargeCategory::Usage,
        charge_frequency: None,
        billed_cost: Money::from(cost),
        effective_cost: Money::from(cost),
        list_cost: None,
        billing_currency: "USD".into(),
        tags: BTreeMap::new(),
        resource_id: None,
        x_usage_type: None,
        x_cost_categories: BTreeMap::new(),
    }
}

fn tagged(on: NaiveDate, team: &str, cost: i64) -> CostRecord {
    let mut r = record(on, "999", "(all services)", cost);
    r.tags.insert("team".into(), team.into());
    r
}

fn total(cost: i64) -> DayTotal {
    DayTotal {
        billed: Money::from(cost),
        effective: Money::from(cost),
    }
}

/// A source that charges one request for the probe and one per day pulled, and whose days'
/// totals and records a test changes between runs.
#[derive(Default)]
struct Scripted {
    cost: Mutex<BTreeMap<NaiveDate, i64>>,
    tags: bool,
    fail_pull: bool,
    pulls: Mutex<Vec<Vec<NaiveDate>>>,
}

impl Scripted {
    fn with_days(days: impl IntoIterator<Item = (NaiveDate, i64)>) -> Self {
        Self {
            cost: Mutex::new(days.into_iter().collect()),
            ..Self::default()
        }
    }

    fn set(&self, on: NaiveDate, cost: i64) {
        self.cost.lock().unwrap().insert(on, cost);
    }

    fn last_pull(&self) -> Vec<NaiveDate> {
        self.pulls
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }
}

#[async_trait]
impl CostSource for Scripted {
    async fn fetch(&self, _: NaiveDate, _: NaiveDate) -> costwatch_store::error::Result<Fetched> {
        unreachable!("incremental collection pulls days")
    }

    async fn probe_totals(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        budget: &RequestBudget,
    ) -> costwatch_store::error::Result<Option<BTreeMap<NaiveDate, DayTotal>>> {
        if !budget.try_take() {
            return Ok(Some(BTreeMap::new()));
        }
        let cost = self.cost.lock().unwrap();
        Ok(Some(
            cost.range(start..=end)
                .map(|(d, c)| (*d, total(*c)))
                .collect(),
        ))
    }

    async fn fetch_days(
        &self,
        days: &[NaiveDate],
        budget: &RequestBudget,
    ) -> costwatch_store::error::Result<DayPull> {
        self.pulls.lock().unwrap().push(days.to_vec());
        let mut pull = DayPull {
            raw_source: "fake".into(),
            ..DayPull::default()
        };
        for d in days {
            if !budget.try_take() {
                break;
            }
            if self.fail_pull {
                return Err(StoreError::Source("Cost Explorer said no".into()));
            }
            let cost = self.cost.lock().unwrap().get(d).copied().unwrap_or(0);
            pull.records.push(record(*d, "111", "Amazon S3", cost - 1));
            pull.records.push(record(*d, "222", "AWS Lambda", 1));
            if self.tags {
                pull.breakdown.push(tagged(*d, "web", cost));
            }
            pull.raw
                .push((*d, "page-p000.json".into(), format!("{cost}").into_bytes()));
            pull.complete.push(*d);
        }
        Ok(pull)
    }
}

fn settings(backfill: u32, cap: u32) -> CollectSettings {
    CollectSettings {
        restate_days: 3,
        backfill_days: backfill,
        max_requests_per_run: cap,
    }
}

async fn run(
    source: &dyn CostSource,
    store: &MemoryStore,
    settings: &CollectSettings,
    today: NaiveDate,
) -> IncrementalOutcome {
    collect_incremental(
        source,
        &store.lake,
        &store.state,
        settings,
        today,
        at(today),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn first_run_backfills_and_a_quiet_run_costs_two_requests() {
    let source = Scripted::with_days((1..=10).map(|d| (day(d), 10)));
    let store = store();
    let first = run(&source, &store, &settings(5, 20), day(10)).await;
    assert_eq!(first.window, Some((day(5), day(9))));
    assert_eq!(first.days, (5..=9).map(day).collect::<Vec<_>>());
    assert_eq!(first.requests, 6, "probe + 5 days");
    assert_eq!(first.watermark, Some(day(9)));
    assert!(!first.capped);
    assert_eq!(first.ledger_line, "6 Cost Explorer requests = $0.06");
    assert_eq!(first.records, 10);

    let quiet = run(&source, &store, &settings(5, 20), day(11)).await;
    assert_eq!(quiet.window, Some((day(7), day(10))), "restates 3 days");
    assert_eq!(quiet.days, vec![day(10)]);
    assert_eq!(source.last_pull(), vec![day(10)]);
    assert_eq!(quiet.requests, 2);
    assert_eq!(quiet.ledger_line, "2 Cost Explorer requests = $0.02");
    assert_eq!(quiet.month_requests, 8);

    let again = run(&source, &store, &settings(5, 20), day(11)).await;
    assert_eq!(again.requests, 1, "nothing new: the probe only");
    assert!(again.days.is_empty());
}

#[tokio::test]
async fn a_revised_day_is_pulled_again_and_its_partition_replaced() {
    let source = Scripted::with_days((1..=10).map(|d| (day(d), 10)));
    let store = store();
    run(&source, &store, &settings(5, 20), day(10)).await;
    let before = read_day(&store.lake, day(8)).await.unwrap();
    source.set(day(8), 25);
    let next = run(&source, &store, &settings(5, 20), day(11)).await;
    assert_eq!(next.days, vec![day(8), day(10)]);
    assert_eq!(next.requests, 3);
    let after = read_day(&store.lake, day(8)).await.unwrap();
    assert_eq!(after.len(), before.len(), "replaced, not appended");
    let sum: Money = after.iter().map(|r| r.billed_cost).sum();
    assert_eq!(sum, Money::from(25));
    let raw = store
        .lake
        .get("raw/fake/dt=2026-03-08/page-p000.json")
        .await;
    assert_eq!(raw.unwrap().unwrap(), b"25");
}

#[tokio::test]
async fn the_cap_stops_before_passing_and_the_next_run_continues() {
    let source = Scripted::with_days((1..=10).map(|d| (day(d), 10)));
    let store = store();
    let capped = run(&source, &store, &settings(5, 3), day(10)).await;
    assert_eq!(capped.requests, 3, "probe + 2 days, never a 4th");
    assert!(capped.capped);
    assert_eq!(capped.days, vec![day(5), day(6)]);
    assert_eq!(capped.pending, vec![day(7), day(8), day(9)]);
    assert_eq!(capped.watermark, Some(day(6)));
    assert!(
        store
            .lake
            .get(&curated_key(day(7)))
            .await
            .unwrap()
            .is_none(),
        "an unfetched day is not written"
    );

    let rest = run(&source, &store, &settings(5, 20), day(10)).await;
    assert_eq!(source.last_pull(), vec![day(7), day(8), day(9)]);
    assert_eq!(rest.days, vec![day(7), day(8), day(9)]);
    assert_eq!(rest.requests, 4);
    assert!(!rest.capped);
    assert_eq!(rest.watermark, Some(day(9)));
}

#[tokio::test]
async fn a_revision_cut_off_by_the_cap_moves_the_watermark_back() {
    let source = Scripted::with_days((1..=10).map(|d| (day(d), 10)));
    let store = store();
    run(&source, &store, &settings(5, 20), day(10)).await;
    source.set(day(7), 11);
    source.set(day(8), 12);
    let capped = run(&source, &store, &settings(5, 2), day(11)).await;
    assert_eq!(capped.days, vec![day(7)]);
    assert_eq!(capped.pending, vec![day(8), day(10)]);
    assert_eq!(capped.watermark, Some(day(7)));
    let next = run(&source, &store, &settings(5, 20), day(11)).await;
    assert_eq!(next.window, Some((day(6), day(10))));
    assert_eq!(
        next.days,
        vec![day(8), day(10)],
        "day 7 is stored as revised"
    );
}

#[tokio::test]
async fn breakdowns_are_kept_apart_and_never_add_to_totals() {
    let source = Scripted {
        tags: true,
        ..Scripted::with_days([(day(9), 10)])
    };
    let store = store();
    let out = run(&source, &store, &settings(1, 20), day(10)).await;
    assert_eq!((out.records, out.breakdown_records), (2, 1));
    assert!(
        store
            .lake
            .get(&breakdown_key(day(9)))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(read_day(&store.lake, day(9)).await.unwrap().len(), 2);

    let cfg = PipelineConfig::default();
    aggregate(&store.lake, &store.rollups, &store.state, &cfg, &out.days)
        .await
        .unwrap();
    let org = store
        .rollups
        .series(&Scope::Org, day(9), day(9))
        .await
        .unwrap();
    assert_eq!(
        org.totals_f64(),
        vec![Some(10.0)],
        "not 20: the tag request is the same spend"
    );
    let web = Scope::Tag {
        key: "team".into(),
        value: "web".into(),
    };
    let team = store.rollups.series(&web, day(9), day(9)).await.unwrap();
    assert_eq!(team.totals_f64(), vec![Some(10.0)]);
}

#[tokio::test]
async fn a_failed_run_still_books_its_requests() {
    let source = Scripted {
        fail_pull: true,
        ..Scripted::with_days([(day(9), 10)])
    };
    let store = store();
    let err = collect_incremental(
        &source,
        &store.lake,
        &store.state,
        &settings(1, 20),
        day(10),
        at(day(10)),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("Cost Explorer said no"), "{err}");
    let runs = store.state.list(LEDGER_RUN_PREFIX).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].1.value["requests"], 2);
    assert!(store.state.get(PROGRESS_KEY).await.unwrap().is_none());
}

#[tokio::test]
async fn the_ledger_keeps_runs_with_expiry_and_a_total_per_month() {
    let source = Scripted::with_days((1..=31).map(|d| (day(d), 10)));
    let clock = Arc::new(ManualClock::new(at(day(30))));
    let store = MemoryStore::with_clock(clock.clone());
    run(&source, &store, &settings(2, 20), day(30)).await;
    run(&source, &store, &settings(2, 20), day(31)).await;
    let runs = store.state.list(LEDGER_RUN_PREFIX).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        runs[0].0,
        "ledger/cost-explorer/run/2026-03-30T06:00:00.000000Z"
    );
    assert_eq!(runs[0].1.value["text"], "3 Cost Explorer requests = $0.03");
    assert_eq!(runs[1].1.value["dollars"], "$0.02");
    let month = store.state.get("ledger/cost-explorer/month/2026-03").await;
    let month = month.unwrap().unwrap().value;
    assert_eq!(
        (month["requests"].as_u64(), month["runs"].as_u64()),
        (Some(5), Some(2))
    );
    assert_eq!(month["text"], "5 Cost Explorer requests = $0.05");

    clock.set(at(day(30)) + chrono::Duration::days(399));
    assert_eq!(store.state.list(LEDGER_RUN_PREFIX).await.unwrap().len(), 2);
    clock.set(at(day(31)) + chrono::Duration::days(400));
    assert!(
        store
            .state
            .list(LEDGER_RUN_PREFIX)
            .await
            .unwrap()
            .is_empty(),
        "runs expire"
    );
    assert!(
        store
            .state
            .get("ledger/cost-explorer/month/2026-03")
            .await
            .unwrap()
            .is_some()
    );

    // A run in April starts April's total.
    let april = Utc.with_ymd_and_hms(2026, 4, 1, 6, 0, 0).unwrap();
    clock.set(april);
    let out = collect_incremental(
        &source,
        &store.lake,
        &store.state,
        &settings(2, 20),
        day(31),
        april,
    )
    .await
    .unwrap();
    assert_eq!(out.month_requests, u64::from(out.requests));
    assert!(
        store
            .state
            .get("ledger/cost-explorer/month/2026-04")
            .await
            .unwrap()
            .is_some()
    );
}

/// A state store where another run adds to the month total between our read and our write.
struct Racing {
    inner: costwatch_store::memory::MemoryState,
    raced: Mutex<bool>,
}

#[async_trait]
impl StateStore for Racing {
    async fn get(&self, key: &str) -> costwatch_store::error::Result<Option<Versioned>> {
        self.inner.get(key).await
    }

    async fn put(
        &self,
        key: &str,
        value: serde_json::Value,
        expected: Option<u64>,
        expires_at: Option<DateTime<Utc>>,
    ) -> costwatch_store::error::Result<u64> {
        let race = key.starts_with(LEDGER_MONTH_PREFIX)
            && !std::mem::replace(&mut *self.raced.lock().unwrap(), true);
        if race {
            let other = serde_json::json!({"requests": 7, "runs": 1});
            self.inner.put(key, other, expected, None).await?;
        }
        self.inner.put(key, value, expected, expires_at).await
    }

    async fn list(&self, prefix: &str) -> costwatch_store::error::Result<Vec<(String, Versioned)>> {
        self.inner.list(prefix).await
    }
}

#[tokio::test]
async fn two_writers_of_the_month_total_both_count() {
    let source = Scripted::with_days([(day(9), 10)]);
    let store = store();
    let state = Racing {
        inner: MemoryState::new(),
        raced: Mutex::new(false),
    };
    let out = collect_incremental(
        &source,
        &store.lake,
        &state,
        &settings(1, 20),
        day(10),
        at(day(10)),
    )
    .await
    .unwrap();
    assert_eq!(out.ledger_line, "2 Cost Explorer requests = $0.02");
    assert_eq!(
        out.month_requests, 9,
        "7 from the other run + 2 from this one"
    );
    let stored = state
        .get("ledger/cost-explorer/month/2026-03")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.value["runs"], 2);
    assert_eq!(stored.value["text"], "9 Cost Explorer requests = $0.09");
}
