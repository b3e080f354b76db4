//! `GET /v1/recommendations` over what the recommendation lifecycle keeps: the suite's own
//! rules run on the real CUR (data/cost/cur, two workshop accounts), made one list, stepped
//! through `lifecycle::step` twice (the second run drops one item, which resolves) and stored
//! under `recommendation/<id>` — then read back through the router, against openapi.json.

// Shared with tests/api.rs, which uses the rest of it.
#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use costwatch_analytics::recommend::lifecycle::{self, DEFAULT_UPDATE_SHARE};
use costwatch_analytics::recommend::list::{self, List, Threshold, Thresholds};
use costwatch_analytics::recommend::{Settings, suite_findings};
use costwatch_core::Money;
use costwatch_core::shared::shared_path;
use costwatch_ingest::cur::read_usage;
use costwatch_store::StateStore;
use serde_json::Value;
use support::contract::Contract;
use support::{Seeded, call, get, seeded};

const PATH: &str = "/v1/recommendations";

/// Every saving above zero is listed, so the real CUR gives several items to sort and filter.
fn real_cur_list() -> List {
    let lines: Vec<_> = [
        "Oct2018-WorkshopCUR-00001.snappy.parquet",
        "Nov2018-WorkshopCUR-00001.snappy.parquet",
    ]
    .iter()
    .flat_map(|f| read_usage(&shared_path(&format!("data/cost/cur/{f}"))).unwrap())
    .collect();
    let thresholds = Thresholds {
        default: Threshold {
            min_monthly_savings: Money::ZERO,
            min_savings_pct: 0.0,
        },
        ..Thresholds::default()
    };
    list::build(suite_findings(&lines, &Settings::default()), &thresholds)
}

/// Two weekly runs: all of `full` on 2018-12-01, then all but its first item a week later.
/// Returns the id that resolved.
async fn track(s: &Seeded, full: &List) -> String {
    let day = |d| NaiveDate::from_ymd_opt(2018, 12, d).unwrap();
    let first = lifecycle::step(&BTreeMap::new(), full, DEFAULT_UPDATE_SHARE, day(1));
    let dropped = full.items[0].id.clone();
    let fewer = List {
        items: full.items[1..].to_vec(),
        ..full.clone()
    };
    let second = lifecycle::step(&first.tracked, &fewer, DEFAULT_UPDATE_SHARE, day(8));
    for (id, tracked) in second.tracked {
        let value = serde_json::to_value(&tracked).unwrap();
        s.state
            .put(&format!("recommendation/{id}"), value, None, None)
            .await
            .unwrap();
    }
    dropped
}

fn money(v: &Value) -> Money {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_tracked_list_is_served_biggest_saving_first_with_its_filters() {
    let s = seeded().await;
    let full = real_cur_list();
    assert!(
        full.items.len() >= 3,
        "the real CUR lists several: {full:#?}"
    );
    let resolved_id = track(&s, &full).await;
    let api = s.open();
    let contract = Contract::load();

    let active = call(&api, get(PATH)).await;
    contract.check("GET", PATH, 200, &active.content_type, &active.body);
    let active = active.json();
    let items = active["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        full.items.len() - 1,
        "the dropped one resolved"
    );
    assert!(items.iter().all(|i| i["id"] != resolved_id.as_str()));
    assert!(items.iter().all(|i| i["state"] == "open"));
    let savings: Vec<Money> = items.iter().map(|i| money(&i["monthly_savings"])).collect();
    assert!(
        savings.windows(2).all(|w| w[0] >= w[1]),
        "sorted by saving: {savings:?}"
    );
    let counted: Money = full.items[1..].iter().map(|i| i.counted_savings).sum();
    assert_eq!(money(&active["total_monthly_savings"]), counted);
    assert_eq!(active["total_items"], items.len());
    // What the list said of each item is what the API says.
    let top = &items[0];
    let source = full.items.iter().find(|i| i.id == top["id"]).unwrap();
    assert_eq!(top["formula"], source.finding.formula.as_str());
    assert_eq!(top["action"]["cli"], source.finding.action.cli.as_str());
    assert_eq!(
        top["evidence"].as_array().unwrap().len(),
        source.finding.evidence.len()
    );

    // The floor: only savings at or above it, and the total follows the filter.
    let floor = savings[1];
    let above = call(&api, get(&format!("{PATH}?min_savings={floor}")))
        .await
        .json();
    let above_items = above["items"].as_array().unwrap();
    assert_eq!(
        above_items.len(),
        savings.iter().filter(|s| **s >= floor).count()
    );
    assert!(money(&above["total_monthly_savings"]) < counted || savings.len() == 2);

    // One kind; a resolved item is still there when asked for.
    let kind = top["kind"].as_str().unwrap();
    let of_kind = call(&api, get(&format!("{PATH}?kind={kind}&state=all")))
        .await
        .json();
    assert!(
        of_kind["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["kind"] == kind)
    );
    let resolved = call(&api, get(&format!("{PATH}?state=resolved")))
        .await
        .json();
    assert_eq!(resolved["items"][0]["id"], resolved_id.as_str());
    assert_eq!(resolved["items"][0]["resolved"], "2018-12-08");
    assert_eq!(resolved["items"][0]["revision"], 1);

    // Paging: one at a time, in the same order, without overlap.
    let first = call(&api, get(&format!("{PATH}?limit=1"))).await.json();
    assert_eq!(first["items"][0]["id"], top["id"]);
    assert_eq!(first["next_cursor"], "1");
    let second = call(&api, get(&format!("{PATH}?limit=1&cursor=1")))
        .await
        .json();
    assert_eq!(second["items"][0]["id"], items[1]["id"]);

    let account = top["account"].as_str().unwrap();
    let by_account = call(&api, get(&format!("{PATH}?account={account}")))
        .await
        .json();
    assert!(
        by_account["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["account"] == account)
    );
}

#[tokio::test]
async fn bad_filters_are_problems_and_no_store_is_an_empty_list() {
    let s = seeded().await;
    let api = s.open();
    let contract = Contract::load();
    let empty = call(&api, get(PATH)).await;
    contract.check("GET", PATH, 200, &empty.content_type, &empty.body);
    let empty = empty.json();
    assert_eq!(empty["items"], serde_json::json!([]));
    assert_eq!(empty["total_monthly_savings"], "0");
    for query in [
        "min_savings=-5",
        "min_savings=lots",
        "kind=bogus",
        "source=oracle",
        "state=closed",
        "limit=0",
    ] {
        let a = call(&api, get(&format!("{PATH}?{query}"))).await;
        assert_eq!(a.status.as_u16(), 400, "{query}");
        contract.check("GET", PATH, 400, &a.content_type, &a.body);
    }
}
