//! Constructed usage lines and findings for unit tests (labelled as constructed: the real-CUR
//! tests are in tests/recommend_real_cur.rs).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use costwatch_core::{Money, UsageLine};

use super::{Action, Finding, Kind, Source};

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

/// One day's usage line of `resource` in account 111111111111, us-east-1.
pub fn line(
    d: u32,
    product: &str,
    usage_type: &str,
    resource: &str,
    amount: i64,
    cost: &str,
) -> UsageLine {
    UsageLine {
        day: day(d),
        account: "111111111111".into(),
        account_name: None,
        product_code: product.into(),
        region: Some("us-east-1".into()),
        usage_type: usage_type.into(),
        operation: None,
        resource_id: (!resource.is_empty()).then(|| resource.into()),
        line_item_type: "Usage".into(),
        cost: cost.parse().unwrap(),
        usage_amount: Money::from(amount),
        tags: BTreeMap::new(),
        lines: 24,
    }
}

/// `line` for each of days `from..=to`.
pub fn daily(
    from: u32,
    to: u32,
    product: &str,
    usage_type: &str,
    resource: &str,
    amount: i64,
    cost: &str,
) -> Vec<UsageLine> {
    (from..=to)
        .map(|d| line(d, product, usage_type, resource, amount, cost))
        .collect()
}

pub fn finding(source: Source, kind: Kind, resource: &str, savings: i64) -> Finding {
    Finding {
        source,
        kind,
        account: "111111111111".into(),
        account_name: None,
        region: Some("us-east-1".into()),
        service: "AmazonEC2".into(),
        resource: resource.into(),
        title: format!("{kind} {resource}"),
        current_monthly_cost: Money::from(savings * 4),
        monthly_savings: Money::from(savings),
        formula: String::new(),
        evidence: Vec::new(),
        action: Action {
            summary: String::new(),
            console_url: String::new(),
            cli: String::new(),
        },
        tags: BTreeMap::new(),
        share_pct: None,
    }
}
