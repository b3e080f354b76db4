//! The pipeline end to end on the in-memory store with the synthetic organisation: the planted
//! spike is found with its root cause, every transition publishes once, re-runs publish nothing,
//! budgets notify once per threshold, and every envelope validates against the schema.

mod support;

use chrono::{Datelike, Days, NaiveDate, TimeZone, Utc};
use costwatch_analytics::budget::{Budget, planted_budgets};
use costwatch_core::notification::ReportPeriod;
use costwatch_core::{Notification, NotificationBody, Scope, State, synth};
use costwatch_pipeline::html::render_page;
use costwatch_pipeline::run::report_day;
use costwatch_pipeline::{PipelineConfig, Ports, aggregate, collect, run_day};
use costwatch_store::memory::MemoryCostSource;
use costwatch_store::{LakeReader, MemoryStore, RollupStore};

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
}

fn at(day: NaiveDate) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(6, 0, 0).unwrap()) + chrono::Duration::days(1)
}

fn config(org: &synth::SyntheticOrg) -> PipelineConfig {
    PipelineConfig {
        budgets: planted_budgets(org),
        ..PipelineConfig::default()
    }
}

fn ports(store: &MemoryStore) -> Ports<'_> {
    Ports {
        lake: &store.lake,
        rollups: &store.rollups,
        state: &store.state,
        bus: &store.bus,
    }
}

/// A budget with the default thresholds: a fixed `amount`, or auto-adjusting over `auto` months
/// (amount zero).
fn budget(name: &str, scope: &str, amount: i64, auto: Option<u8>) -> Budget {
    Budget {
        name: name.into(),
        scope: scope.parse().unwrap(),
        period: Default::default(),
        start_month: None,
        amount: costwatch_core::Money::from(amount),
        auto_adjust_months: auto,
        planned_amounts: Default::default(),
        thresholds: costwatch_analytics::budget::default_thresholds(),
    }
}

async fn loaded() -> (synth::SyntheticOrg, MemoryStore, PipelineConfig) {
    loaded_days(120).await
}

/// The synthetic organisation's last `days` days to [`end`], collected and aggregated.
async fn loaded_days(days: u32) -> (synth::SyntheticOrg, MemoryStore, PipelineConfig) {
    let org = synth::generate(synth::DEFAULT_SEED, end(), days);
    let store = MemoryStore::default();
    let cfg = config(&org);
    cfg.validate().unwrap();
    load(&store, &cfg, org.records.clone(), (org.start, org.end)).await;
    (org, store, cfg)
}

/// `records` collected into the store's lake for the days `from` to `to` (replacing them) and
/// aggregated: as a run that pulls those days from Cost Explorer.
async fn load(
    store: &MemoryStore,
    cfg: &PipelineConfig,
    records: Vec<costwatch_core::CostRecord>,
    (from, to): (NaiveDate, NaiveDate),
) {
    let source = MemoryCostSource::new(records);
    let collected = collect::collect(&source, &store.lake, from, to)
        .await
        .unwrap();
    let days = &collected.days;
    aggregate::aggregate(&store.lake, &store.rollups, &store.state, cfg, days)
        .await
        .unwrap();
}

/// The organisation's records of `day`.
fn records_of(org: &synth::SyntheticOrg, day: NaiveDate) -> Vec<costwatch_core::CostRecord> {
    let on_day = org.records.iter().filter(|r| r.day() == day);
    on_day.cloned().collect()
}

#[tokio::test]
async fn collecting_again_replaces_rather_than_duplicates() {
    let (org, store, cfg) = loaded().await;
    let before = store.lake.list("curated/daily/").await.unwrap();
    let org_total = |s: &costwatch_core::DailySeries| -> costwatch_core::Money {
        s.days.iter().flatten().map(|c| c.total()).sum()
    };
    let first = store
        .rollups
        .series(&Scope::Org, org.start, org.end)
        .await
        .unwrap();
    let source = MemoryCostSource::new(org.records.clone());
    let again = collect::collect(&source, &store.lake, org.start, org.end)
        .await
        .unwrap();
    aggregate::aggregate(&store.lake, &store.rollups, &store.state, &cfg, &again.days)
        .await
        .unwrap();
    assert_eq!(store.lake.list("curated/daily/").await.unwrap(), before);
    let second = store
        .rollups
        .series(&Scope::Org, org.start, org.end)
        .await
        .unwrap();
    assert_eq!(org_total(&first), org_total(&second));
    let expected: costwatch_core::Money = org.records.iter().map(|r| r.billed_cost).sum();
    assert_eq!(org_total(&second), expected);
    assert_eq!(before.len(), 120);
}

#[tokio::test]
async fn replayed_days_find_the_spike_once_and_notify_budgets_once() {
    let (org, store, cfg) = loaded().await;
    let ports = ports(&store);
    let first = end() - Days::new(59);
    for day in first.iter_days().take_while(|d| *d <= end()) {
        run_day(&ports, &cfg, day, at(day)).await.unwrap();
    }
    let published = store.bus.published();
    let validator = support::schema();
    for n in &published {
        let doc = serde_json::to_value(n).unwrap();
        assert!(
            validator.is_valid(&doc),
            "{}: {:?}",
            n.title,
            validator
                .iter_errors(&doc)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
    }

    // The planted spike: opened on its day, on the account × service scope, caused by the
    // training usage type.
    let spike_scope = Scope::AccountService {
        account: org.planted.spike_account.clone(),
        service: org.planted.spike_service.clone(),
    };
    let spike: Vec<&Notification> = published
        .iter()
        .filter(|n| n.kind() == "anomaly" && n.scope.key == spike_scope.key())
        .collect();
    assert_eq!(
        spike.len(),
        1,
        "{:#?}",
        spike.iter().map(|n| &n.title).collect::<Vec<_>>()
    );
    assert_eq!(spike[0].state, State::Open);
    let NotificationBody::Anomaly(fig) = &spike[0].body else {
        panic!("not an anomaly")
    };
    assert_eq!(fig.date, org.planted.spike_date);
    let pct = fig.impact_pct.unwrap();
    assert!((150.0..260.0).contains(&pct), "impact {pct}%");
    let top = fig.root_causes.first().expect("root causes");
    assert_eq!(
        (top.dimension.as_str(), top.value.as_str()),
        ("usage_type", org.planted.spike_usage_type.as_str())
    );

    // One incident, one alert: the account and the service it lifted are folded into it.
    let broader = [
        Scope::Service(org.planted.spike_service.clone()).key(),
        Scope::Account(org.planted.spike_account.clone()).key(),
    ];
    let folded: Vec<&str> = published
        .iter()
        .filter(|n| n.kind() == "anomaly" && broader.contains(&n.scope.key))
        .map(|n| n.title.as_str())
        .collect();
    assert!(folded.is_empty(), "broader scopes alerted too: {folded:?}");

    // The level shift alerted (once opened), and is not still open at the end.
    let shift_key = Scope::AccountService {
        account: org.planted.level_shift_account.clone(),
        service: org.planted.level_shift_service.clone(),
    }
    .key();
    let shift: Vec<&Notification> = published
        .iter()
        .filter(|n| n.kind() == "anomaly" && n.scope.key == shift_key)
        .collect();
    assert_eq!(
        shift.iter().filter(|n| n.state == State::Open).count(),
        1,
        "{:#?}",
        shift
            .iter()
            .map(|n| (&n.title, n.state))
            .collect::<Vec<_>>()
    );
    assert_eq!(shift.last().map(|n| n.state), Some(State::Resolved));

    // One event, one alert: the level shift's dollars also lift its account, its service and
    // the organisation; none of them opens an anomaly of its own while the shift runs (the
    // service total used to, on a day the shift's own scope sat in its band).
    let (shift_account, shift_service) = (
        org.planted.level_shift_account.clone(),
        org.planted.level_shift_service.clone(),
    );
    let nested = [
        shift_key.clone(),
        Scope::Account(shift_account).key(),
        Scope::Service(shift_service).key(),
        Scope::Org.key(),
    ];
    let shift_end = org.planted.level_shift_date + Days::new(14);
    let opened: Vec<(&str, &str)> = published
        .iter()
        .filter(|n| n.kind() == "anomaly" && n.state == State::Open)
        .filter(|n| nested.contains(&n.scope.key))
        .filter(|n| match &n.body {
            NotificationBody::Anomaly(fig) => {
                (org.planted.level_shift_date..=shift_end).contains(&fig.date)
            }
            _ => false,
        })
        .map(|n| (n.scope.key.as_str(), n.title.as_str()))
        .collect();
    assert_eq!(opened.len(), 1, "{opened:#?}");
    assert_eq!(opened[0].0, shift_key);

    // Every envelope id is unique: no transition was published twice.
    let mut ids: Vec<&str> = published.iter().map(|n| n.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), published.len());

    // Budget: the data-platform budget ends at 150 %; each threshold is covered once per month.
    let budget_msgs: Vec<&Notification> = published
        .iter()
        .filter(|n| {
            n.kind() == "budget"
                && n.scope.account_id.as_deref() == Some(org.planted.spike_account.as_str())
        })
        .filter(|n| matches!(&n.body, NotificationBody::Budget(b) if b.period_start.month() == 11))
        .collect();
    let thresholds: Vec<u32> = budget_msgs
        .iter()
        .map(|n| match &n.body {
            NotificationBody::Budget(b) => b.threshold_percent,
            _ => 0,
        })
        .collect();
    let mut unique = thresholds.clone();
    unique.dedup();
    assert_eq!(
        unique, thresholds,
        "a threshold was notified twice: {thresholds:?}"
    );
    assert_eq!(thresholds.last(), Some(&120));

    // Re-running the last day publishes nothing new.
    let count = store.bus.published().len();
    let rerun = run_day(&ports, &cfg, end(), at(end())).await.unwrap();
    assert!(
        rerun.notifications.is_empty(),
        "{:?}",
        rerun
            .notifications
            .iter()
            .map(|n| &n.title)
            .collect::<Vec<_>>()
    );
    assert_eq!(store.bus.published().len(), count);

    // The report: valid envelope, and an HTML page with the chart and the anomaly.
    let (report, page) = report_day(&ports, &cfg, &rerun, ReportPeriod::Daily, at(end()))
        .await
        .unwrap();
    assert!(validator.is_valid(&serde_json::to_value(&report).unwrap()));
    let NotificationBody::Report(r) = &report.body else {
        panic!("not a report")
    };
    assert!(r.open_anomalies >= 1);
    assert_eq!(
        r.top_movers.first().map(|m| m.scope.as_str()),
        Some(spike_scope.key().as_str())
    );
    let html = render_page(&page).unwrap();
    assert!(html.contains("<svg"), "no chart");
    assert!(html.contains("Amazon SageMaker in data-platform"));
    assert!(html.contains("150%"), "budget at 150% not shown");
    // Allocation: the month's untagged spend (the purchases on the 1st) on the page and in the
    // CSV, and every team's line.
    let team = page
        .allocation
        .iter()
        .find(|k| k.key == "team")
        .expect("the team tag");
    assert!(team.unallocated.amount > costwatch_core::Money::ZERO);
    let untagged = costwatch_core::money::display(team.unallocated.amount, "USD");
    assert!(
        html.contains("Allocation, month to date")
            && html.contains(&format!("<strong>{untagged}</strong>")),
        "{untagged}"
    );
    let csv = costwatch_pipeline::archive::render_csv(&page).unwrap();
    assert!(
        csv.contains(&format!(
            "allocation,team (untagged),tag=team|value=,,,USD,{},",
            team.unallocated.amount
        )),
        "{csv}"
    );
    assert_eq!(
        csv.matches("\nallocation,team=").count(),
        team.values.len(),
        "{csv}"
    );
}

#[test]
fn names_from_tags_and_accounts_cannot_inject_markup_into_the_report() {
    use costwatch_pipeline::html::{AnomalyView, ReportPage};
    let hostile = "<script>alert('x')</script>";
    let (_, report) = costwatch_core::samples::all().remove(4);
    let NotificationBody::Report(mut figures) = report.body else {
        panic!("not a report")
    };
    figures.top_movers[0].label = hostile.to_owned();
    figures.budgets[0].budget = format!("{hostile} budget");
    figures.top_services[0].label = "=1+2".to_owned();
    let page = ReportPage {
        title: "report".into(),
        currency: "USD".into(),
        generated_at: "now".into(),
        figures,
        chart_svg: "<svg></svg>".into(),
        forecast: None,
        notes: vec![hostile.into()],
        allocation: vec![costwatch_pipeline::allocation::KeyAllocation {
            kind: costwatch_core::ScopeKind::Tag,
            key: "team".into(),
            label: "tag team".into(),
            missing: "untagged",
            values: vec![costwatch_pipeline::allocation::Share {
                scope: "tag=team|value=x".into(),
                value: hostile.into(),
                amount: costwatch_core::Money::ONE,
                share_pct: Some(100.0),
            }],
            rest: None,
            unallocated: costwatch_pipeline::allocation::Share {
                scope: "tag=team|value=".into(),
                value: String::new(),
                amount: costwatch_core::Money::ZERO,
                share_pct: Some(0.0),
            },
            total: costwatch_core::Money::ONE,
            coverage_pct: Some(100.0),
        }],
        anomalies: vec![AnomalyView {
            title: hostile.into(),
            scope: "org".into(),
            state: "open".into(),
            start_date: end(),
            actual: "1.00".into(),
            expected: "1.00".into(),
            impact: "0.00".into(),
            impact_pct: "+0%".into(),
            causes: vec![(
                "tag:team".into(),
                hostile.into(),
                "0.00".into(),
                "0%".into(),
            )],
            chart_svg: String::new(),
            raw: costwatch_pipeline::html::AnomalyAmounts {
                actual: costwatch_core::Money::ONE,
                expected: costwatch_core::Money::ONE,
                impact: costwatch_core::Money::ZERO,
            },
        }],
    };
    let html = render_page(&page).unwrap();
    assert!(!html.contains("<script>"), "raw markup reached the page");
    assert_eq!(html.matches("&lt;script&gt;").count(), 6);
    // The archived CSV: a label a spreadsheet would run as a formula is defused.
    let csv = costwatch_pipeline::archive::render_csv(&page).unwrap();
    assert!(csv.contains("\ntop_service,'=1+2,"), "{csv}");
    assert!(!csv.contains(",=1+2,"), "{csv}");
    assert!(
        html.contains("<svg></svg>"),
        "the chart itself must stay markup"
    );
}

/// The pipeline's run on the only day of data there is: a deployment's first day, or the first
/// day of the first file imported.
async fn first_day() -> (MemoryStore, PipelineConfig, costwatch_pipeline::RunSummary) {
    let (_, store, cfg) = loaded_days(1).await;
    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    (store, cfg, run)
}

/// Every service is charged on the data's first day; none of them is new spend (nothing was
/// watched before it).
#[tokio::test]
async fn the_datas_first_day_is_not_new_spend() {
    let (_, _, run) = first_day().await;
    let anomalies: Vec<&str> = run
        .notifications
        .iter()
        .filter(|n| n.kind() == "anomaly")
        .map(|n| n.title.as_str())
        .collect();
    assert!(anomalies.is_empty(), "{anomalies:?}");
}

/// A deployment's first day (or a day after one that cost nothing) has no previous total to
/// compare with: the report says so by leaving the change out, and still renders.
#[tokio::test]
async fn the_first_days_report_renders_without_a_change() {
    let (store, cfg, run) = first_day().await;
    let (report, page) = report_day(&ports(&store), &cfg, &run, ReportPeriod::Daily, at(end()))
        .await
        .unwrap();
    let NotificationBody::Report(r) = &report.body else {
        panic!("not a report")
    };
    assert_eq!(r.change_pct, None, "nothing before the first day");
    assert_eq!(r.top_movers, Vec::new(), "nothing moved from no data");
    assert!(!r.top_services.is_empty());
    let html = render_page(&page).unwrap();
    assert!(html.contains("Spend"), "{html}");
    assert!(
        !html.contains("vs previous"),
        "a change with nothing to compare"
    );
}

/// A budget on untagged spend (`tag=team|value=`, the synthetic organisation's purchases on the
/// 1st, which no resource carries) reads the organisation's month less every team's, and is
/// forecast like any scope.
#[tokio::test]
async fn a_budget_on_untagged_spend_reads_what_no_team_carries() {
    let (org, store, mut cfg) = loaded().await;
    let untagged: Scope = "tag=team|value=".parse().unwrap();
    cfg.budgets
        .push(budget("untagged", "tag=team|value=", 6_000, None));
    cfg.validate().unwrap();
    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    let month = end().with_day(1).unwrap();
    let expected: costwatch_core::Money = org
        .records
        .iter()
        .filter(|r| r.day() >= month && !r.tags.contains_key("team"))
        .map(|r| r.billed_cost)
        .sum();
    assert!(
        expected > costwatch_core::Money::ZERO,
        "the month has untagged spend"
    );
    let status = run
        .budgets
        .iter()
        .find(|b| b.line.budget == "untagged")
        .unwrap();
    assert_eq!(status.line.actual, expected);
    assert!(!status.line.forecast_pending, "{:?}", status.line);
    assert!(
        run.forecasts.contains_key(&untagged),
        "forecast as a budget's scope"
    );
    assert_eq!(status.note, None, "costs carry `team`: {:?}", status.note);
    // A misspelt key is carried by no cost: all spend counts as without it, and the line says so.
    cfg.budgets
        .push(budget("typo", "tag=tam|value=", 6_000, None));
    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    let typo = run
        .budgets
        .iter()
        .find(|b| b.line.budget == "typo")
        .unwrap();
    let note = typo.note.as_deref().unwrap_or_default();
    assert!(
        note.contains("carries tag key `tam`") && note.contains("did you mean `team`?"),
        "{note}"
    );
    // Without the organisation's rollup, untagged spend could not be derived: refused.
    let not_org = |k: &costwatch_core::ScopeKind| *k != costwatch_core::ScopeKind::Org;
    cfg.rollup_scopes.retain(not_org);
    cfg.detect_scopes.retain(not_org);
    cfg.budgets.retain(|b| b.scope == untagged);
    let err = cfg.validate().unwrap_err().to_string();
    assert!(
        err.contains("`untagged`") && err.contains("add org to rollup_scopes"),
        "{err}"
    );
}

/// An auto-adjusting budget's amount is its scope's average over the full months before this
/// one, counted from the records themselves; the months the data only partly covers are left
/// out, and a crossing says what the limit is.
#[tokio::test]
async fn an_auto_adjusting_budget_is_the_average_of_the_full_months_before() {
    let (org, store, mut cfg) = loaded().await;
    let auto = |name: &str, months: u8| budget(name, "tag=team|value=web", 0, Some(months));
    cfg.budgets = vec![auto("web-3", 3), auto("web-6", 6)];
    cfg.validate().unwrap();
    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    // The data begins on 24 July: August to October are the full months.
    assert!(
        org.start > NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
        "{}",
        org.start
    );
    let month_of = |m: u32| -> costwatch_core::Money {
        org.records
            .iter()
            .filter(|r| {
                r.day().month() == m && r.tags.get("team").map(String::as_str) == Some("web")
            })
            .map(|r| r.billed_cost)
            .sum()
    };
    let expected =
        ((month_of(8) + month_of(9) + month_of(10)) / costwatch_core::Money::from(3)).round_dp(2);
    for name in ["web-3", "web-6"] {
        let status = run.budgets.iter().find(|b| b.line.budget == name).unwrap();
        assert_eq!(status.line.limit, expected, "{name}");
        let auto = status.auto.unwrap();
        assert_eq!(
            (auto.months, auto.since),
            (3, NaiveDate::from_ymd_opt(2026, 8, 1).unwrap()),
            "{name}"
        );
        let used = costwatch_core::money::to_f64(status.line.actual / expected) * 100.0;
        assert!((status.line.percent_used - used).abs() < 1e-9);
        for c in status.crossings.iter().chain(&status.cleared) {
            assert_eq!((c.limit, c.auto_adjusted_months), (expected, Some(3)));
        }
    }
    // Its envelope says the limit adjusts itself, and validates.
    let alert = run.notifications.iter().find(
        |n| matches!(&n.body, NotificationBody::Budget(b) if b.auto_adjusted_months == Some(3)),
    );
    let alert = alert.expect("two thirds of the month spend more than half an average month");
    assert!(
        alert.summary.contains("adjusts itself"),
        "{}",
        alert.summary
    );
    // Both an amount and auto_adjust_months: refused, as are 13 months.
    let mut both = auto("both", 3);
    both.amount = costwatch_core::Money::from(100);
    for (bad, why) in [(both, "both an amount"), (auto("long", 13), "1 to 12")] {
        let refused = PipelineConfig {
            budgets: vec![bad],
            ..cfg.clone()
        };
        let err = refused.validate().unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
    }
}

/// On the data's first day no earlier month was collected: the budget has no amount yet, checks
/// no threshold, says why, and stays out of the report's budget table.
#[tokio::test]
async fn an_auto_adjusting_budget_without_a_full_month_waits_and_says_so() {
    let (_, store, mut cfg) = loaded_days(1).await;
    cfg.budgets = vec![budget("web", "tag=team|value=web", 0, Some(3))];
    cfg.validate().unwrap();
    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    let status = &run.budgets[0];
    assert!(status.amount_pending());
    assert!(status.line.actual > costwatch_core::Money::ZERO);
    assert!(status.crossings.is_empty() && status.cleared.is_empty());
    let note = status.note.as_deref().unwrap_or_default();
    assert!(note.contains("no amount yet"), "{note}");
    assert!(!run.notifications.iter().any(|n| n.kind() == "budget"));
    let (report, _) = report_day(&ports(&store), &cfg, &run, ReportPeriod::Daily, at(end()))
        .await
        .unwrap();
    let NotificationBody::Report(r) = &report.body else {
        panic!("not a report")
    };
    assert!(r.budgets.is_empty(), "{:?}", r.budgets);
}

/// A month with a planned amount is held to it, whether the budget's own amount is fixed or
/// auto-adjusting; a planned amount's month must be written as 2026-11 and be at least a cent.
#[tokio::test]
async fn a_planned_amount_replaces_the_budgets_own_for_its_month() {
    let (_, store, mut cfg) = loaded().await;
    let planned = std::collections::BTreeMap::from([
        ("2026-11".to_owned(), costwatch_core::Money::from(50_000)),
        ("2026-12".to_owned(), costwatch_core::Money::from(1)),
    ]);
    let planned_budget = |name: &str, amount: i64, auto: Option<u8>| Budget {
        planned_amounts: planned.clone(),
        ..budget(name, "org", amount, auto)
    };
    cfg.budgets = vec![
        planned_budget("fixed", 1_000, None),
        planned_budget("auto", 0, Some(3)),
    ];
    cfg.validate().unwrap();
    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    for status in &run.budgets {
        assert_eq!(
            status.line.limit,
            costwatch_core::Money::from(50_000),
            "{}",
            status.line.budget
        );
        assert_eq!(status.auto, None, "planned, not averaged");
        for c in status.crossings.iter().chain(&status.cleared) {
            assert_eq!(
                (c.limit, c.auto_adjusted_months),
                (costwatch_core::Money::from(50_000), None)
            );
        }
    }
    // Without the plan the fixed budget is back to its own amount, well passed by the 20th.
    cfg.budgets[0].planned_amounts.clear();
    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    assert_eq!(
        run.budgets[0].line.limit,
        costwatch_core::Money::from(1_000)
    );
    for (month, amount, why) in [
        ("2026-1", 100, "keyed by month as 2027-01"),
        ("November", 100, "keyed by month as 2027-01"),
        ("2026-11", 0, "at least 0.01"),
    ] {
        let mut bad = budget("bad", "org", 1_000, None);
        bad.planned_amounts = std::collections::BTreeMap::from([(
            month.to_owned(),
            costwatch_core::Money::from(amount),
        )]);
        let refused = PipelineConfig {
            budgets: vec![bad],
            ..cfg.clone()
        };
        let err = refused.validate().unwrap_err().to_string();
        assert!(err.contains(why), "{month}: {err}");
    }
}

/// A quarterly budget counts from the quarter's first day, is forecast to its last, and
/// auto-adjusts to three months at the average month; planned amounts are keyed by a quarter's
/// first month.
#[tokio::test]
async fn a_quarterly_budget_holds_the_quarter_to_date_against_its_forecast() {
    use costwatch_core::findings::BudgetPeriod;
    let (org, store, mut cfg) = loaded().await;
    let quarterly = |name: &str, amount: i64, auto: Option<u8>| Budget {
        period: BudgetPeriod::Quarterly,
        ..budget(name, "org", amount, auto)
    };
    cfg.budgets = vec![
        quarterly("q-fixed", 100_000, None),
        quarterly("q-auto", 0, Some(3)),
    ];
    cfg.validate().unwrap();
    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    let net_in = |from: NaiveDate, to: NaiveDate| -> costwatch_core::Money {
        let records = org
            .records
            .iter()
            .filter(|r| (from..=to).contains(&r.day()));
        records.map(|r| r.billed_cost).sum()
    };
    let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    let quarter_to_date = net_in(day(10, 1), end());
    let fixed = &run.budgets[0];
    assert_eq!(fixed.line.actual, quarter_to_date);
    assert!(
        fixed.line.forecast > quarter_to_date && !fixed.line.forecast_pending,
        "a forecast to 31 December: {:?}",
        fixed.line
    );
    // Forty-one days are left; the quarter's forecast is more than the month's.
    let month_end = run.forecasts.get(&Scope::Org).expect("org forecast").total;
    assert!(
        fixed.line.forecast > month_end,
        "{:?} vs {month_end}",
        fixed.line
    );
    for c in fixed.crossings.iter().chain(&fixed.cleared) {
        assert_eq!((c.period_start, c.period_end), (day(10, 1), day(12, 31)));
    }
    // The data begins on 24 July: August and September are the full months before October.
    let (aug, sep) = (net_in(day(8, 1), day(8, 31)), net_in(day(9, 1), day(9, 30)));
    let average = ((aug + sep) / costwatch_core::Money::from(2)).round_dp(2);
    let auto = &run.budgets[1];
    assert_eq!(auto.line.limit, average * costwatch_core::Money::from(3));
    assert_eq!(auto.auto.map(|a| (a.months, a.since)), Some((2, day(8, 1))));
    let alert = run
        .notifications
        .iter()
        .find(|n| matches!(&n.body, NotificationBody::Budget(b) if b.budget == "q-auto"));
    let alert = alert.expect("most of a quarter's average is spent by 20 November");
    assert!(
        alert.summary.contains("quarter-end forecast"),
        "{}",
        alert.summary
    );
    assert!(
        alert
            .summary
            .contains("3 months at the average of the last 2 months"),
        "{}",
        alert.summary
    );
    let doc = serde_json::to_value(alert).unwrap();
    assert!(support::schema().is_valid(&doc), "{doc}");

    // The quarter is in the data; the year, begun six months before it, says so.
    assert_eq!(fixed.note, None);
    let annual = Budget {
        period: BudgetPeriod::Annually,
        ..budget("year", "org", 1_000_000, None)
    };
    cfg.budgets = vec![annual];
    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    let year = &run.budgets[0];
    assert_eq!(year.line.actual, net_in(day(1, 1), end()));
    let note = year.note.as_deref().unwrap_or_default();
    assert!(
        note.starts_with(&format!(
            "the year so far counts from {}, the first day collected: its {} days before",
            org.start,
            (org.start - day(1, 1)).num_days()
        )),
        "{note}"
    );

    let mut planned = quarterly("q-planned", 100_000, None);
    planned.planned_amounts =
        std::collections::BTreeMap::from([("2026-10".to_owned(), costwatch_core::Money::from(1))]);
    cfg.budgets = vec![planned.clone()];
    cfg.validate().unwrap();
    planned.planned_amounts =
        std::collections::BTreeMap::from([("2026-11".to_owned(), costwatch_core::Money::from(1))]);
    cfg.budgets = vec![planned.clone()];
    let err = cfg.validate().unwrap_err().to_string();
    assert!(err.contains("January, April, July or October"), "{err}");
    // Quarters from February start in November: then 2026-11 is a quarter's first month.
    planned.start_month = Some(2);
    cfg.budgets = vec![planned.clone()];
    cfg.validate().unwrap();
    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    assert_eq!(run.budgets[0].line.limit, costwatch_core::Money::from(1));
    assert_eq!(run.budgets[0].line.actual, net_in(day(11, 1), end()));
    for (period, start_month, why) in [
        (BudgetPeriod::Quarterly, 13, "1 (January) to 12"),
        (
            BudgetPeriod::Monthly,
            4,
            "a monthly budget's periods are the calendar months",
        ),
    ] {
        let mut bad = quarterly("bad", 100, None);
        (bad.period, bad.start_month) = (period, Some(start_month));
        cfg.budgets = vec![bad];
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
    }
}

/// A daily budget holds each day's spend to its amount: the planted spike's day crosses, the
/// day before does not; a day has no forecast (its forecast thresholds are skipped, it is
/// never "forecast pending"), one alert per day, which says what moved the day against the
/// same weekday a week before, and a day has no months to average or plan.
#[tokio::test]
async fn a_daily_budget_holds_each_day_to_its_amount() {
    use costwatch_core::findings::{BudgetPeriod, Threshold, ThresholdBasis};
    let (org, store, mut cfg) = loaded().await;
    let p = &org.planted;
    assert_eq!(p.spike_date, end());
    let scope = format!("account={}", p.spike_account);
    // The account's net spend on a day, from the records.
    let spent = |d: NaiveDate| -> costwatch_core::Money {
        let records = org.records.iter();
        records
            .filter(|r| r.day() == d && r.sub_account_id == p.spike_account)
            .map(|r| r.billed_cost)
            .sum()
    };
    let (before, spike) = (spent(end() - Days::new(1)), spent(end()));
    assert!(spike > before, "{spike} against {before}");
    let amount = ((before + spike) / costwatch_core::Money::from(2)).round_dp(2);
    let threshold = |basis| Threshold {
        percent: 100,
        basis,
    };
    cfg.budgets = vec![Budget {
        period: BudgetPeriod::Daily,
        amount,
        thresholds: vec![
            threshold(ThresholdBasis::Actual),
            threshold(ThresholdBasis::Forecast),
        ],
        ..budget("sandbox daily", &scope, 0, None)
    }];
    cfg.validate().unwrap();
    let daily_alerts = |run: &costwatch_pipeline::RunSummary| -> Vec<Notification> {
        run.notifications
            .iter()
            .filter(
                |n| matches!(&n.body, NotificationBody::Budget(b) if b.budget == "sandbox daily"),
            )
            .cloned()
            .collect()
    };

    let quiet = run_day(
        &ports(&store),
        &cfg,
        end() - Days::new(1),
        at(end() - Days::new(1)),
    )
    .await
    .unwrap();
    let line = &quiet.budgets[0].line;
    assert_eq!(line.actual, before);
    assert_eq!((line.forecast, line.forecast_pending), (before, false));
    assert_eq!(quiet.budgets[0].note, None);
    assert!(daily_alerts(&quiet).is_empty(), "{:?}", quiet.notifications);

    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    let status = &run.budgets[0];
    assert_eq!(status.line.actual, spike);
    let alerts = daily_alerts(&run);
    assert_eq!(alerts.len(), 1, "the actual threshold only: {alerts:#?}");
    let alert = &alerts[0];
    let NotificationBody::Budget(figures) = &alert.body else {
        unreachable!()
    };
    assert_eq!((figures.period_start, figures.period_end), (end(), end()));
    assert_eq!(figures.period(), BudgetPeriod::Daily);
    assert!(
        alert.summary.contains(&format!(" spent on {}.", end())),
        "{}",
        alert.summary
    );
    assert!(!alert.summary.contains("forecast"), "{}", alert.summary);
    // What moved the day: against the same weekday a week before, not the month's movers.
    let week_before = end() - Days::new(7);
    let drivers = figures
        .drivers
        .as_ref()
        .expect("what moved the spike's day");
    let windows = (
        drivers.from,
        drivers.to,
        drivers.compared_from,
        drivers.compared_to,
    );
    assert_eq!(windows, (end(), end(), week_before, week_before));
    assert_eq!(drivers.change, spike - spent(week_before));
    let spiking = |d: NaiveDate| -> costwatch_core::Money {
        let records = org
            .records
            .iter()
            .filter(|r| r.service_name == p.spike_service);
        records
            .filter(|r| r.day() == d && r.sub_account_id == p.spike_account)
            .map(|r| r.billed_cost)
            .sum()
    };
    let first = &drivers.causes[0];
    assert_eq!(
        (first.dimension.as_str(), first.value.as_str()),
        ("service", p.spike_service.as_str())
    );
    assert_eq!(first.contribution, spiking(end()) - spiking(week_before));
    let why = format!(
        " on {}, most in {} (+$",
        week_before.format("%-d %B"),
        p.spike_service
    );
    assert!(
        alert.summary.contains(" The day is up $"),
        "{}",
        alert.summary
    );
    assert!(alert.summary.contains(&why), "{}", alert.summary);
    let doc = serde_json::to_value(alert).unwrap();
    assert!(support::schema().is_valid(&doc), "{doc}");
    // The same day again: notified once.
    let again = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    assert!(daily_alerts(&again).is_empty());

    let mut bad = cfg.budgets[0].clone();
    bad.planned_amounts =
        std::collections::BTreeMap::from([("2026-11".to_owned(), costwatch_core::Money::from(1))]);
    let mut auto = cfg.budgets[0].clone();
    (auto.amount, auto.auto_adjust_months) = (costwatch_core::Money::ZERO, Some(3));
    let mut fiscal = cfg.budgets[0].clone();
    fiscal.start_month = Some(4);
    for (refused, why) in [
        (bad, "is daily: auto_adjust_months and planned_amounts"),
        (auto, "is daily: auto_adjust_months and planned_amounts"),
        (fiscal, "a daily budget's periods are the calendar days"),
    ] {
        cfg.budgets = vec![refused];
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
    }
}

/// Cost Explorer first reports a day before it has settled: a daily budget checks its last
/// `RECHECKED_DAYS` days on every run, so a day a revision takes over its amount is notified
/// once, as that day's alert, and resolved when a revision takes it back under; a day older
/// than that is not read again, unless collection restates more days (`recheck_days`, from
/// `collect.restate_days`).
#[tokio::test]
async fn a_daily_budget_hears_of_a_day_revised_over_its_amount() {
    use costwatch_core::findings::{BudgetPeriod, Threshold, ThresholdBasis};
    use costwatch_pipeline::budgets::RECHECKED_DAYS;
    assert_eq!(RECHECKED_DAYS, 3);
    let (org, store, mut cfg) = loaded().await;
    let account = org.planted.spike_account.clone();
    let spent = |records: &[costwatch_core::CostRecord], d: NaiveDate| -> costwatch_core::Money {
        let on_day = records.iter().filter(|r| r.day() == d);
        on_day
            .filter(|r| r.sub_account_id == account)
            .map(|r| r.billed_cost)
            .sum()
    };
    let days_before = |n: u64| end() - Days::new(n);
    // Half as much again as the account's largest day in the week before the spike: no day
    // before the spike crosses as first reported.
    let largest = (1..=9).map(|n| spent(&org.records, days_before(n))).max();
    let amount = (largest.unwrap() * costwatch_core::Money::new(15, 1)).round_dp(2);
    cfg.budgets = vec![Budget {
        period: BudgetPeriod::Daily,
        amount,
        thresholds: vec![Threshold {
            percent: 100,
            basis: ThresholdBasis::Actual,
        }],
        ..budget("sandbox daily", &format!("account={account}"), 0, None)
    }];
    cfg.validate().unwrap();
    let alerts = |run: &costwatch_pipeline::RunSummary| -> Vec<Notification> {
        let budget_alerts = run.notifications.iter().filter(
            |n| matches!(&n.body, NotificationBody::Budget(b) if b.budget == "sandbox daily"),
        );
        budget_alerts.cloned().collect()
    };
    // A day's records as Cost Explorer reports them now: collected and aggregated again.
    let restate = |records, day| load(&store, &cfg, records, (day, day));
    // The account's records of `day` with a late charge of `extra` on its first one.
    let revised = |day: NaiveDate, extra: costwatch_core::Money| {
        let mut records = records_of(&org, day);
        let late = records
            .iter()
            .position(|r| r.sub_account_id == account)
            .unwrap();
        records[late].billed_cost += extra;
        records[late].effective_cost += extra;
        records
    };
    let as_of = days_before(1);
    let run_as_of = || async {
        run_day(&ports(&store), &cfg, as_of, at(as_of))
            .await
            .unwrap()
    };
    // The budget's first run: it checks the days from this one on.
    let first = days_before(5);
    let quiet = run_day(&ports(&store), &cfg, first, at(first))
        .await
        .unwrap();
    assert!(alerts(&quiet).is_empty(), "{:#?}", alerts(&quiet));
    let day = days_before(3);

    // Two days before the run: still checked. Over by a revision, it is that day's alert.
    restate(revised(day, amount), day).await;
    let run = run_as_of().await;
    let sent = alerts(&run);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let NotificationBody::Budget(figures) = &sent[0].body else {
        unreachable!()
    };
    assert_eq!((figures.period_start, figures.period_end), (day, day));
    assert_eq!(figures.actual, spent(&org.records, day) + amount);
    assert_eq!(sent[0].state, State::Open);
    let subject = sent[0].subject_id.clone();
    assert!(
        sent[0].summary.contains(&format!(" spent on {day}.")),
        "{}",
        sent[0].summary
    );
    let doc = serde_json::to_value(&sent[0]).unwrap();
    assert!(support::schema().is_valid(&doc), "{doc}");
    // The budget's line is still the day evaluated.
    assert_eq!(run.budgets[0].line.actual, spent(&org.records, as_of));
    let again = run_as_of().await;
    assert!(alerts(&again).is_empty(), "{:#?}", alerts(&again));

    // Revised back under: resolved, once.
    restate(revised(day, costwatch_core::Money::ZERO), day).await;
    let run = run_as_of().await;
    let sent = alerts(&run);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].state, State::Resolved);
    assert_eq!(sent[0].subject_id, subject);
    let again = run_as_of().await;
    assert!(alerts(&again).is_empty(), "{:#?}", alerts(&again));

    // Three days before the run: past the days Cost Explorer revises, not read again.
    let older = days_before(4);
    restate(revised(older, amount), older).await;
    let run = run_as_of().await;
    assert!(alerts(&run).is_empty(), "{:#?}", alerts(&run));
    // Unless collection restates five days: then budgets check as many.
    let wider = PipelineConfig {
        recheck_days: 5,
        ..cfg.clone()
    };
    let run = run_day(&ports(&store), &wider, as_of, at(as_of))
        .await
        .unwrap();
    let sent = alerts(&run);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let NotificationBody::Budget(figures) = &sent[0].body else {
        unreachable!()
    };
    assert_eq!((figures.period_start, figures.period_end), (older, older));
}

/// A day Cost Explorer revises after detection judged it is looked at again: a late charge in
/// one account × service is one alert, on that scope, for that day, with its account, its
/// service and the organisation folded into it as on any day.
#[tokio::test]
async fn a_late_charge_on_a_judged_day_is_one_alert_for_that_day() {
    use costwatch_core::record::CostBucket;
    let (org, store, cfg) = loaded().await;
    let day = end() - Days::new(3);
    for judged in [end() - Days::new(4), day] {
        run_day(&ports(&store), &cfg, judged, at(judged))
            .await
            .unwrap();
    }
    // The day restated with a late usage charge as large as the day of the largest account
    // without a planted event.
    let planted = [&org.planted.spike_account, &org.planted.level_shift_account];
    let mut records = records_of(&org, day);
    let day_of = |account: &str| -> costwatch_core::Money {
        let of_account = records.iter().filter(|r| r.sub_account_id == account);
        of_account.map(|r| r.billed_cost).sum()
    };
    let late = (0..records.len())
        .filter(|i| records[*i].bucket() == CostBucket::Usage)
        .filter(|i| !planted.contains(&&records[*i].sub_account_id))
        .max_by_key(|i| day_of(&records[*i].sub_account_id))
        .unwrap();
    let (account, service) = (
        records[late].sub_account_id.clone(),
        records[late].service_name.clone(),
    );
    let account_day = day_of(&account);
    records[late].billed_cost += account_day;
    records[late].effective_cost += account_day;
    load(&store, &cfg, records, (day, day)).await;

    let as_of = end() - Days::new(1);
    let run = run_day(&ports(&store), &cfg, as_of, at(as_of))
        .await
        .unwrap();
    let anomalies: Vec<&Notification> = run
        .notifications
        .iter()
        .filter(|n| n.kind() == "anomaly")
        .collect();
    let titles: Vec<&str> = anomalies.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(anomalies.len(), 1, "{titles:?}");
    let scope = Scope::AccountService { account, service };
    assert_eq!(anomalies[0].scope.key, scope.key());
    assert_eq!(anomalies[0].state, State::Open);
    let NotificationBody::Anomaly(figures) = &anomalies[0].body else {
        unreachable!()
    };
    assert_eq!(figures.date, day);
    let share = costwatch_core::money::to_f64(figures.impact / account_day);
    assert!(
        (0.8..1.2).contains(&share),
        "impact {} of {account_day}",
        figures.impact
    );
    let doc = serde_json::to_value(anomalies[0]).unwrap();
    assert!(support::schema().is_valid(&doc), "{doc}");
    let again = run_day(&ports(&store), &cfg, as_of, at(as_of))
        .await
        .unwrap();
    assert!(!again.notifications.iter().any(|n| n.kind() == "anomaly"));
}

/// A budget alert says what moved its scope's month: for the organisation its accounts,
/// services and tags, for an account its services, each the month so far against the same
/// days of last month, and each equal to the synthetic records summed independently.
#[tokio::test]
async fn a_budget_alert_names_what_moved_the_month_against_last_month() {
    use std::collections::BTreeMap;
    let (org, store, mut cfg) = loaded().await;
    let account = org.planted.level_shift_account.clone();
    cfg.budgets = vec![
        budget("org", "org", 1_000, None),
        budget("shift", &format!("account={account}"), 100, None),
    ];
    // Every month-end forecast above last month is announced, with its drivers too.
    cfg.forecast_alert_pct = 0.0;
    cfg.validate().unwrap();
    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    // Net spend (billed, credits in) per value of `key`, 1–20 November less 1–20 October.
    let moved = |key: &dyn Fn(&costwatch_core::record::CostRecord) -> Option<String>| {
        let mut change: BTreeMap<String, costwatch_core::Money> = BTreeMap::new();
        for r in &org.records {
            let sign = match r.day() {
                d if (day(11, 1)..=end()).contains(&d) => 1,
                d if (day(10, 1)..=day(10, 20)).contains(&d) => -1,
                _ => continue,
            };
            if let Some(k) = key(r) {
                *change.entry(k).or_default() += r.billed_cost * costwatch_core::Money::from(sign);
            }
        }
        change
    };
    let validator = support::schema();
    let org_forecast = run
        .notifications
        .iter()
        .find(|n| n.kind() == "forecast" && n.scope.key == Scope::Org.key())
        .expect("the organisation's month-end forecast alert");
    assert!(validator.is_valid(&serde_json::to_value(org_forecast).unwrap()));
    let NotificationBody::Forecast(f) = &org_forecast.body else {
        panic!("not a forecast alert")
    };
    let org_moved = moved(&|_| Some(String::new()))[""];
    assert_eq!(f.drivers.as_ref().map(|d| d.change), Some(org_moved));
    let budget_alerts: Vec<&Notification> = run
        .notifications
        .iter()
        .filter(|n| n.kind() == "budget")
        .collect();
    // The highest actual and the highest forecast threshold of each budget.
    assert_eq!(budget_alerts.len(), 4);
    for n in budget_alerts {
        let doc = serde_json::to_value(n).unwrap();
        assert!(validator.is_valid(&doc), "{}", n.title);
        let NotificationBody::Budget(b) = &n.body else {
            panic!("not a budget alert")
        };
        let drivers = b
            .drivers
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no drivers", n.title));
        assert_eq!(
            (drivers.from, drivers.compared_from, drivers.compared_to),
            (day(11, 1), day(10, 1), day(10, 20))
        );
        assert!(!drivers.causes.is_empty() && drivers.causes.len() <= 5);
        assert!(n.summary.contains("The month so far is"), "{}", n.summary);
        let in_scope = |r: &costwatch_core::record::CostRecord| {
            b.budget == "org" || r.sub_account_id == account
        };
        let total = moved(&|r| in_scope(r).then(String::new));
        assert_eq!(drivers.change, total[""], "{}", n.title);
        let by_account = moved(&|r| Some(r.account_label().to_owned()));
        let by_service = moved(&|r| in_scope(r).then(|| r.service_name.clone()));
        for cause in &drivers.causes {
            let expected = match cause.dimension.as_str() {
                "account" => by_account[&cause.value],
                "service" => by_service[&cause.value],
                _ => continue,
            };
            assert_eq!(cause.contribution, expected, "{}: {cause:?}", n.title);
            assert!(
                b.budget == "org" || cause.dimension != "account",
                "{cause:?}"
            );
        }
        // The largest mover of each listed dimension leads its dimension.
        let rising = drivers.change > costwatch_core::Money::ZERO;
        let service_moves = by_service.values().map(|m| if rising { *m } else { -*m });
        let top_service = service_moves.max().unwrap();
        if let Some(first) = drivers.causes.iter().find(|c| c.dimension == "service") {
            assert_eq!(first.contribution.abs(), top_service.abs(), "{}", n.title);
        }
    }
}
