//! "What costwatch cost you this month", from the suite's own ledgers in the state store: every
//! billed API source keeps a month total under `ledger/<source>/month/YYYY-MM` (Cost Explorer at
//! $0.01 a request; CloudWatch GetMetricData when the metrics source runs; Athena at $5 per TB
//! scanned with a Data Export, priced to fractions of a cent in `cost`). Lambda, DynamoDB and
//! S3 charges are not metered by the suite and are named as not counted, never guessed.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Api, Problem};

/// Named in every answer, so a reader knows the figure is a floor.
pub const NOT_COUNTED: &str = "Lambda invocations and duration, DynamoDB reads and writes, S3 storage and requests, SNS and SQS messages";

#[derive(Deserialize)]
pub struct MonthQuery {
    /// `YYYY-MM`; the current month by default.
    month: Option<String>,
}

#[derive(Serialize)]
pub struct SourceUsage {
    /// `cost-explorer`, `cloudwatch`, …
    source: String,
    requests: u64,
    /// What the source bills for those requests, when its ledger prices them.
    cost: Option<Decimal>,
    text: Option<String>,
}

#[derive(Serialize)]
pub struct Usage {
    month: String,
    currency: &'static str,
    /// The sum of the priced sources.
    total: Decimal,
    sources: Vec<SourceUsage>,
    not_counted: &'static str,
}

fn valid_month(m: &str) -> bool {
    chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_ok() && m.len() == 7
}

pub async fn month(
    State(api): State<Arc<Api>>,
    Query(q): Query<MonthQuery>,
) -> Result<Json<Usage>, Problem> {
    let month = q
        .month
        .unwrap_or_else(|| api.now().format("%Y-%m").to_string());
    if !valid_month(&month) {
        return Err(Problem::bad_request(format!(
            "month `{month}` is not YYYY-MM"
        )));
    }
    let suffix = format!("/month/{month}");
    let mut sources = Vec::new();
    for (key, item) in api.state.list("ledger/").await? {
        let Some(source) = key
            .strip_prefix("ledger/")
            .and_then(|k| k.strip_suffix(suffix.as_str()))
        else {
            continue;
        };
        let v = &item.value;
        sources.push(SourceUsage {
            source: source.to_owned(),
            requests: v.get("requests").and_then(|r| r.as_u64()).unwrap_or(0),
            cost: v
                .get("cost")
                .and_then(|c| c.as_str())
                .and_then(|c| c.parse().ok())
                .or_else(|| {
                    v.get("cents")
                        .and_then(|c| c.as_u64())
                        .map(|c| Decimal::new(c as i64, 2))
                }),
            text: v.get("text").and_then(|t| t.as_str()).map(str::to_owned),
        });
    }
    let total = sources.iter().filter_map(|s| s.cost).sum();
    Ok(Json(Usage {
        month,
        currency: "USD",
        total,
        sources,
        not_counted: NOT_COUNTED,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn months() {
        assert!(super::valid_month("2026-11"));
        assert!(!super::valid_month("2026-13") && !super::valid_month("2026-1"));
    }
}
