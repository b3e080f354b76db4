//! What the SQL tests share: matching the query's records with a reader's, to the cent.

use std::collections::BTreeMap;

use costwatch_core::{CostRecord, Money};

/// A record's dimensions as text, to match the two sides record by record.
fn key(r: &CostRecord) -> String {
    let mut r = r.clone();
    r.billed_cost = Money::ZERO;
    r.effective_cost = Money::ZERO;
    r.list_cost = None;
    format!("{r:?}")
}

/// Asserts both sides hold the same records and the same amounts to the cent; the largest
/// difference seen, for the message.
pub fn assert_same_to_the_cent(sql: &[CostRecord], reader: &[CostRecord]) -> Money {
    let by_key = |records: &[CostRecord]| -> BTreeMap<String, CostRecord> {
        records.iter().map(|r| (key(r), r.clone())).collect()
    };
    let (sql, reader) = (by_key(sql), by_key(reader));
    let only_sql: Vec<_> = sql
        .keys()
        .filter(|k| !reader.contains_key(*k))
        .take(3)
        .collect();
    let only_reader: Vec<_> = reader
        .keys()
        .filter(|k| !sql.contains_key(*k))
        .take(3)
        .collect();
    assert!(
        only_sql.is_empty() && only_reader.is_empty(),
        "records differ: only in the SQL's answer {only_sql:#?}, only in the reader's {only_reader:#?}"
    );
    let cent = Money::new(1, 2);
    let mut largest = Money::ZERO;
    for (k, a) in &sql {
        let b = &reader[k];
        let list = |r: &CostRecord| r.list_cost.unwrap_or_default();
        assert_eq!(
            a.list_cost.is_some(),
            b.list_cost.is_some(),
            "list cost presence of {k}"
        );
        for (what, x, y) in [
            ("billed", a.billed_cost, b.billed_cost),
            ("effective", a.effective_cost, b.effective_cost),
            ("list", list(a), list(b)),
        ] {
            let diff = (x - y).abs();
            assert!(diff < cent, "{what} of {k}: SQL {x}, reader {y}");
            largest = largest.max(diff);
        }
    }
    largest
}
