//! What the forecast run reads of the rollups more than once would cost again: on DynamoDB
//! each read is one Query per day over every scope of the day, whatever kinds are kept. What
//! moved the month (or a daily budget's day) is read once a run for every scope with drivers;
//! the labelled scopes behind budgets on untagged spend, once for all of them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::NaiveDate;
use costwatch_analytics::budget::Budget;
use costwatch_core::scope::ScopeKind;
use costwatch_core::{DailyCost, DailySeries, Money, Scope};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::budgets::evaluate_all;
use costwatch_pipeline::drivers::DriverReader;
use costwatch_store::memory::MemoryRollups;
use costwatch_store::{RollupRow, RollupStore};

/// The memory store, counting the whole-window reads.
#[derive(Default)]
struct Counting {
    inner: MemoryRollups,
    reads: AtomicUsize,
}

#[async_trait]
impl RollupStore for Counting {
    async fn replace_days(
        &self,
        days: &[NaiveDate],
        rows: &[RollupRow],
    ) -> costwatch_store::error::Result<()> {
        self.inner.replace_days(days, rows).await
    }

    async fn stored_series(
        &self,
        scope: &Scope,
        start: NaiveDate,
        end: NaiveDate,
    ) -> costwatch_store::error::Result<DailySeries> {
        self.inner.stored_series(scope, start, end).await
    }

    async fn scopes(&self) -> costwatch_store::error::Result<Vec<Scope>> {
        self.inner.scopes().await
    }

    async fn stored_all_series(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        kinds: &[ScopeKind],
    ) -> costwatch_store::error::Result<Vec<DailySeries>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.stored_all_series(start, end, kinds).await
    }

    async fn day_range(&self) -> costwatch_store::error::Result<Option<(NaiveDate, NaiveDate)>> {
        self.inner.day_range().await
    }
}

#[tokio::test]
async fn drivers_read_the_window_once_a_run() {
    let rollups = Counting::default();
    let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    let days: Vec<NaiveDate> = day(3, 1)
        .iter_days()
        .take_while(|d| *d <= day(4, 20))
        .collect();
    let scopes: Vec<Scope> = [
        "org",
        "account=111",
        "service=Amazon EC2",
        "tag=team|value=web",
    ]
    .iter()
    .map(|k| k.parse().unwrap())
    .chain([Scope::AccountService {
        account: "111".into(),
        service: "Amazon EC2".into(),
    }])
    .collect();
    // April spends more than March: every scope has drivers to find.
    let rows: Vec<RollupRow> = days
        .iter()
        .flat_map(|d| {
            let usage = Money::from(if *d >= day(4, 1) { 20 } else { 10 });
            scopes.iter().map(move |scope| RollupRow {
                scope: scope.clone(),
                day: *d,
                cost: DailyCost {
                    usage,
                    ..Default::default()
                },
            })
        })
        .collect();
    rollups.replace_days(&days, &rows).await.unwrap();
    let (cfg, names) = (PipelineConfig::default(), BTreeMap::new());
    let reader = DriverReader::new(&rollups, &cfg, &names, day(4, 20));
    let reads = || rollups.reads.load(Ordering::SeqCst);
    // The pair has only usage to name, which is no news: no drivers, but it is read.
    for scope in [&scopes[1], &scopes[2], &scopes[4]] {
        let found = reader.of(scope).await.unwrap();
        let pair = scope.kind() == ScopeKind::AccountService;
        assert_eq!(found.is_some(), !pair, "{scope:?}");
    }
    assert_eq!(
        reads(),
        1,
        "an account, a service and their pair share one read"
    );
    // The tag too has only usage to name.
    assert!(reader.of(&scopes[0]).await.unwrap().is_some());
    assert!(reader.of(&scopes[3]).await.unwrap().is_none());
    // A day of the last three weeks (a daily budget's), against the same weekday a week
    // before it: April's first Sunday against March's last.
    let days_ago = reader.of_day(&scopes[1], day(4, 5)).await.unwrap();
    let windows = days_ago.map(|d| (d.to, d.compared_to, d.change));
    assert_eq!(windows, Some((day(4, 5), day(3, 29), Money::from(10))));
    assert_eq!(reads(), 1, "the organisation, a tag and a day share it too");
}

/// Budgets on untagged spend, each told when no cost carries its key (a misspelt key reads the
/// whole organisation): their months and the keys a day's costs carry are read once, however
/// many such budgets, and each month is what `RollupStore::series` derives for it alone.
#[tokio::test]
async fn untagged_budgets_read_the_labelled_scopes_once() {
    let rollups = Counting::default();
    let day = NaiveDate::from_ymd_opt(2026, 4, 20).unwrap();
    let rows: Vec<RollupRow> = ["org", "tag=team|value=web", "tag=team|value="]
        .iter()
        .map(|k| RollupRow {
            scope: k.parse().unwrap(),
            day,
            cost: DailyCost {
                usage: Money::from(10),
                ..Default::default()
            },
        })
        .collect();
    rollups.replace_days(&[day], &rows).await.unwrap();
    let untagged = |name: &str, key: &str| {
        let scope = format!("tag={key}|value=").parse().unwrap();
        Budget::monthly(name, scope, Money::from(100))
    };
    let cfg = PipelineConfig {
        budgets: vec![
            untagged("untagged", "team"),
            untagged("misspelt", "tam"),
            // A quarter's budget reads two years: the read starts with the earliest.
            Budget {
                period: costwatch_core::findings::BudgetPeriod::Quarterly,
                ..untagged("unknown", "owner")
            },
        ],
        ..PipelineConfig::default()
    };
    let statuses = evaluate_all(&rollups, &cfg, &BTreeMap::new(), day)
        .await
        .unwrap();
    // Their months (derived from the organisation's and their keys' values) and the keys the
    // day's costs carry, in one read of the labelled scopes: each budget's own read, and the
    // day's again, were two a budget.
    assert_eq!(rollups.reads.load(Ordering::SeqCst), 1);
    for (budget, status) in cfg.budgets.iter().zip(&statuses) {
        let own = rollups.series(&budget.scope, status.period_so_far.start, day);
        assert_eq!(status.period_so_far, own.await.unwrap(), "{}", budget.name);
    }
    let notes: Vec<Option<&str>> = statuses.iter().map(|s| s.note.as_deref()).collect();
    assert!(notes[0].is_none_or(|n| !n.contains("carries")), "{notes:?}");
    for (note, key) in [(notes[1], "tam"), (notes[2], "owner")] {
        let note = note.unwrap_or_default();
        assert!(note.contains(&format!("carries tag key `{key}`")), "{note}");
    }
    assert!(
        notes[1].unwrap().contains("did you mean `team`?"),
        "{notes:?}"
    );
}
