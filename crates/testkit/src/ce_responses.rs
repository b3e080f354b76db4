//! Cost Explorer GetCostAndUsage answers (wire JSON) built from cost records: what Cost Explorer
//! would say about an organisation whose line items are `records`. The probe's daily totals and
//! the LINKED_ACCOUNT × SERVICE pages the collect step asks for, to queue in moto.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use costwatch_core::{CostRecord, Money};
use serde_json::{Value, json};

fn metric(amount: Money) -> Value {
    json!({"Amount": amount.to_string(), "Unit": "USD"})
}

fn metrics(billed: Money, effective: Money) -> Value {
    json!({
        "UnblendedCost": metric(billed),
        "NetUnblendedCost": metric(billed),
        "AmortizedCost": metric(effective),
        "UsageQuantity": {"Amount": "0", "Unit": "N/A"},
    })
}

fn period(day: NaiveDate) -> Value {
    json!({"Start": day.to_string(), "End": (day + Days::new(1)).to_string()})
}

/// The ungrouped answer: each day's totals.
pub fn totals(records: &[CostRecord], days: &[NaiveDate]) -> Value {
    let results: Vec<Value> = days
        .iter()
        .map(|day| {
            let (billed, effective) = records
                .iter()
                .filter(|r| r.day() == *day)
                .fold((Money::ZERO, Money::ZERO), |(b, e), r| {
                    (b + r.billed_cost, e + r.effective_cost)
                });
            json!({
                "TimePeriod": period(*day),
                "Total": metrics(billed, effective),
                "Groups": [],
                "Estimated": false,
            })
        })
        .collect();
    json!({"GroupDefinitions": [], "ResultsByTime": results, "DimensionValueAttributes": []})
}

/// The answer grouped by LINKED_ACCOUNT and SERVICE, with account names as Cost Explorer gives
/// them (DimensionValueAttributes `description`).
pub fn by_account_and_service(records: &[CostRecord], days: &[NaiveDate]) -> Value {
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    let results: Vec<Value> = days
        .iter()
        .map(|day| {
            let mut groups: BTreeMap<(&str, &str), (Money, Money)> = BTreeMap::new();
            for r in records.iter().filter(|r| r.day() == *day) {
                if let Some(name) = &r.sub_account_name {
                    names.insert(&r.sub_account_id, name);
                }
                let g = groups
                    .entry((&r.sub_account_id, &r.service_name))
                    .or_insert((Money::ZERO, Money::ZERO));
                g.0 += r.billed_cost;
                g.1 += r.effective_cost;
            }
            let groups: Vec<Value> = groups
                .into_iter()
                .map(|((account, service), (billed, effective))| {
                    json!({"Keys": [account, service], "Metrics": metrics(billed, effective)})
                })
                .collect();
            json!({"TimePeriod": period(*day), "Total": {}, "Groups": groups, "Estimated": false})
        })
        .collect();
    let attributes: Vec<Value> = names
        .into_iter()
        .map(|(id, name)| json!({"Value": id, "Attributes": {"description": name}}))
        .collect();
    json!({
        "GroupDefinitions": [
            {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
            {"Type": "DIMENSION", "Key": "SERVICE"},
        ],
        "ResultsByTime": results,
        "DimensionValueAttributes": attributes,
    })
}
