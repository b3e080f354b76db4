//! Pages → what the lake keeps and what the pipeline reads: a page split per day (the lake is
//! partitioned by day), day documents parsed with the file importer's reader, probe totals.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use costwatch_core::CostRecord;
use serde_json::Value;

use super::request::OPERATION;
use crate::aws::error::corrupt;
use crate::error::{Result, StoreError};
use crate::ports::DayTotal;

/// One day's documents of one request: (page index, bytes).
pub(super) type DayDocs = Vec<(usize, Vec<u8>)>;

/// The page per day it covers. A page holding one day (the daily run's case) is kept byte for
/// byte; a page spanning several days becomes one document per day: the page with only that
/// day's `ResultsByTime` (group definitions and account names kept, `NextPageToken` dropped),
/// still a valid response that `costwatch import` reads. Days outside `first..=last` are refused.
pub(super) fn split_page(
    body: &[u8],
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<(NaiveDate, Vec<u8>)>> {
    let bad = |reason: String| corrupt(OPERATION, reason);
    let page: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("response is not JSON: {e}")))?;
    let Value::Object(mut page) = page else {
        return Err(bad("response is not a JSON object".into()));
    };
    let results = match page.remove("ResultsByTime") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(results)) => results,
        Some(_) => return Err(bad("`ResultsByTime` is not a list".into())),
    };
    let mut by_day: BTreeMap<NaiveDate, Vec<Value>> = BTreeMap::new();
    for result in results {
        let start = result
            .pointer("/TimePeriod/Start")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("a result has no `TimePeriod.Start`".into()))?;
        let day = NaiveDate::parse_from_str(start.get(..10).unwrap_or(start), "%Y-%m-%d")
            .map_err(|e| bad(format!("`TimePeriod.Start` = {start:?}: {e}")))?;
        if !(first..=last).contains(&day) {
            return Err(bad(format!(
                "answered {day}, outside the requested {first}..{last}"
            )));
        }
        by_day.entry(day).or_default().push(result);
    }
    if by_day.len() == 1 {
        let day = *by_day.keys().next().expect("one day");
        return Ok(vec![(day, body.to_vec())]);
    }
    page.remove("NextPageToken");
    by_day
        .into_iter()
        .map(|(day, results)| {
            let mut doc = page.clone();
            doc.insert("ResultsByTime".to_owned(), Value::Array(results));
            let bytes = serde_json::to_vec(&Value::Object(doc))
                .map_err(|e| bad(format!("re-encoding {day}: {e}")))?;
            Ok((day, bytes))
        })
        .collect()
}

/// A day's documents, parsed together as the pages of one response.
pub(super) fn parse_day(
    docs: &DayDocs,
    label: &str,
    billing_account_id: &str,
) -> Result<Vec<CostRecord>> {
    let mut pages = Vec::with_capacity(docs.iter().map(|(_, d)| d.len() + 1).sum::<usize>() + 2);
    pages.push(b'[');
    for (i, (_, doc)) in docs.iter().enumerate() {
        if i > 0 {
            pages.push(b',');
        }
        pages.extend_from_slice(doc);
    }
    pages.push(b']');
    costwatch_ingest::ce_json::parse(&pages, label, billing_account_id)
        .map_err(|e| StoreError::Source(e.to_string()))
}

/// Adds ungrouped probe records into per-day totals, keeping days in `start..=end`.
pub(super) fn day_totals(
    totals: &mut BTreeMap<NaiveDate, DayTotal>,
    records: &[CostRecord],
    start: NaiveDate,
    end: NaiveDate,
) -> Result<()> {
    for r in records.iter().filter(|r| (start..=end).contains(&r.day())) {
        let total = totals.entry(r.day()).or_insert(DayTotal {
            billed: Default::default(),
            effective: Default::default(),
        });
        let sum = |a: &mut costwatch_core::Money, b| {
            *a = a
                .checked_add(b)
                .ok_or_else(|| corrupt(OPERATION, format!("total of {} overflows", r.day())))?;
            Ok::<_, StoreError>(())
        };
        sum(&mut total.billed, r.billed_cost)?;
        sum(&mut total.effective, r.effective_cost)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }

    fn result(day: u32, amount: &str) -> Value {
        serde_json::json!({
            "TimePeriod": {"Start": format!("2026-03-{day:02}"), "End": format!("2026-03-{:02}", day + 1)},
            "Total": {},
            "Groups": [{"Keys": ["111111111111", "Amazon S3"], "Metrics": {
                "UnblendedCost": {"Amount": amount, "Unit": "USD"},
                "AmortizedCost": {"Amount": amount, "Unit": "USD"}}}],
            "Estimated": true
        })
    }

    fn page(results: Vec<Value>) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "GroupDefinitions": [
                {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
                {"Type": "DIMENSION", "Key": "SERVICE"}],
            "ResultsByTime": results,
            "DimensionValueAttributes": [{"Value": "111111111111", "Attributes": {"description": "web"}}],
            "NextPageToken": "next"
        }))
        .unwrap()
    }

    #[test]
    fn a_one_day_page_is_kept_byte_for_byte() {
        let body = page(vec![result(2, "1.5")]);
        assert_eq!(split_page(&body, d(1), d(3)).unwrap(), vec![(d(2), body)]);
    }

    #[test]
    fn a_page_over_days_splits_into_readable_day_documents() {
        let body = page(vec![result(1, "1.25"), result(2, "2.5")]);
        let docs = split_page(&body, d(1), d(2)).unwrap();
        assert_eq!(
            docs.iter().map(|(day, _)| *day).collect::<Vec<_>>(),
            [d(1), d(2)]
        );
        for (day, doc) in &docs {
            let records = parse_day(&vec![(0, doc.clone())], "test", "999").unwrap();
            assert_eq!(records.len(), 1);
            assert_eq!(records[0].day(), *day);
            assert_eq!(records[0].sub_account_name.as_deref(), Some("web"));
            assert_eq!(records[0].billing_currency, "USD");
            let json: Value = serde_json::from_slice(doc).unwrap();
            assert!(json.get("NextPageToken").is_none());
        }
    }

    #[test]
    fn an_answer_outside_the_request_is_refused() {
        let body = page(vec![result(5, "1")]);
        assert!(split_page(&body, d(1), d(2)).is_err());
    }

    #[test]
    fn a_day_over_two_pages_is_one_set_of_records() {
        let docs = vec![
            (0, page(vec![result(2, "1")])),
            (1, page(vec![result(2, "2")])),
        ];
        let records = parse_day(&docs, "test", "999").unwrap();
        assert_eq!(records.len(), 1, "same account and service merge");
        assert_eq!(records[0].billed_cost.to_string(), "3");
    }
}
