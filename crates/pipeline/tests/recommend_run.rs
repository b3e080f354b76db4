//! The weekly recommend run over the store ports: the real CUR (data/cost/cur, Oct–Nov 2018)
//! for the suite's rules, and a second source served from memory (Cost Optimization Hub's place)
//! that answers, fails, then answers without its item. Each run's envelopes are checked against
//! the notification schema, and the stored lifecycles are read back.

mod support;

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use costwatch_analytics::recommend::lifecycle::STATE_PREFIX;
use costwatch_analytics::recommend::list::Threshold;
use costwatch_core::recommend::{Action, Finding, Kind, Source};
use costwatch_core::shared::shared_path;
use costwatch_core::{Money, State, UsageLine};
use costwatch_pipeline::recommend::{External, RecommendConfig, run, saved_so_far, tracked};
use costwatch_store::memory::MemoryRecommendations;
use costwatch_store::{MemoryStore, RequestBudget, StateStore};

fn real() -> Vec<UsageLine> {
    [
        "Oct2018-WorkshopCUR-00001.snappy.parquet",
        "Nov2018-WorkshopCUR-00001.snappy.parquet",
    ]
    .iter()
    .flat_map(|f| {
        costwatch_ingest::cur::read_usage(&shared_path(&format!("data/cost/cur/{f}"))).unwrap()
    })
    .collect()
}

/// A Cost Optimization Hub finding on an instance the CUR rules do not list.
fn hub_rightsizing() -> Finding {
    Finding {
        source: Source::CostOptimizationHub,
        kind: Kind::Rightsizing,
        account: "836060457634".into(),
        account_name: None,
        region: Some("us-east-1".into()),
        service: "AmazonEC2".into(),
        resource: "i-0hub000000000001".into(),
        title: "Rightsize m5.2xlarge to m5.large".into(),
        current_monthly_cost: Money::from(280),
        monthly_savings: Money::from(210),
        formula: "estimatedMonthlySavings $210 (after discounts)".into(),
        evidence: Vec::new(),
        action: Action {
            summary: "Rightsize".into(),
            console_url: "https://console.aws.amazon.com/costhub/home".into(),
            cli: "aws cost-optimization-hub get-recommendation --recommendation-id r-1".into(),
        },
        tags: BTreeMap::new(),
        share_pct: None,
    }
}

/// Every finding listed: the real CUR's are small (a workshop account), so the default $10 / 5 %
/// thresholds would list one.
fn list_everything() -> RecommendConfig {
    let mut cfg = RecommendConfig::default();
    cfg.thresholds.default = Threshold {
        min_monthly_savings: Money::ZERO,
        min_savings_pct: 0.0,
    };
    cfg
}

#[tokio::test]
async fn weekly_runs_open_once_keep_what_an_unheard_source_listed_and_resolve_the_rest() {
    let store = MemoryStore::default();
    let hub = MemoryRecommendations::new(vec![hub_rightsizing()]);
    let external = [External {
        name: "cost_optimization_hub",
        produces: &[Source::CostOptimizationHub],
        source: &hub,
    }];
    let cfg = list_everything();
    let lines = real();
    let at = Utc.with_ymd_and_hms(2018, 12, 3, 6, 0, 0).unwrap();
    let budget = RequestBudget::new(0);
    let week = async || {
        run(
            &store.state,
            &store.bus,
            &cfg,
            &lines,
            &external,
            &budget,
            at,
        )
        .await
        .unwrap()
    };

    // Week 1: every listed item opens, one envelope each, schema-valid, each one stored.
    let first = week().await;
    assert_eq!(first.as_of.to_string(), "2018-11-30", "the CUR's last day");
    assert!(first.unheard.is_empty(), "{:?}", first.unheard);
    assert!(first.list.items.len() >= 2, "{:#?}", first.list.items);
    assert_eq!(first.published.len(), first.list.items.len());
    assert!(first.published.iter().all(|n| n.state == State::Open));
    let validator = support::schema();
    for n in &first.published {
        let json = serde_json::to_value(n).unwrap();
        assert!(validator.is_valid(&json), "{json:#}");
    }
    let hub_id = hub_rightsizing().id();
    assert!(first.list.items.iter().any(|i| i.id == hub_id));
    let stored = tracked(&store.state).await.unwrap();
    assert_eq!(stored.len(), first.list.items.len());
    assert_eq!(store.bus.published().len(), first.published.len());

    // The same week again: nothing new to say.
    let again = week().await;
    assert!(again.published.is_empty(), "{:?}", again.published);

    // Week 2: the hub is down. Its item is kept as it was, not resolved for its absence.
    hub.fail("cost-optimization-hub:ListRecommendations: ThrottlingException");
    let down = week().await;
    assert!(down.published.is_empty(), "{:?}", down.published);
    assert!(down.unheard["cost_optimization_hub"].contains("Throttling"));
    let (kept, _) = &tracked(&store.state).await.unwrap()[&hub_id];
    assert_eq!(kept.state, State::Open);

    // Week 3: the hub answers without it (implemented): resolved, one envelope, revision 1.
    hub.answer(Vec::new());
    let gone = week().await;
    let sent: Vec<_> = gone
        .published
        .iter()
        .map(|n| (n.subject_id.as_str(), n.state, n.revision))
        .collect();
    assert_eq!(sent, [(hub_id.as_str(), State::Resolved, 1)]);
    let stored = store
        .state
        .get(&format!("{STATE_PREFIX}{hub_id}"))
        .await
        .unwrap();
    assert_eq!(stored.unwrap().value["state"], "resolved");
    // Its realised saving needs usage lines of the resource after the resolution: none yet.
    assert_eq!(saved_so_far(&store.state).await.unwrap(), None);
}

#[tokio::test]
async fn without_cur_lines_the_suite_resolves_nothing() {
    let store = MemoryStore::default();
    let cfg = list_everything();
    let at = Utc.with_ymd_and_hms(2018, 12, 3, 6, 0, 0).unwrap();
    let budget = RequestBudget::new(0);
    let first = run(&store.state, &store.bus, &cfg, &real(), &[], &budget, at)
        .await
        .unwrap();
    assert!(!first.published.is_empty());
    // The export was not delivered this week: the suite is unheard, its items stay open.
    let empty = run(&store.state, &store.bus, &cfg, &[], &[], &budget, at)
        .await
        .unwrap();
    assert!(empty.published.is_empty(), "{:?}", empty.published);
    assert!(empty.unheard.contains_key("cur"));
    assert!(
        tracked(&store.state)
            .await
            .unwrap()
            .values()
            .all(|(t, _)| t.state == State::Open)
    );
}
