//! Collection from AWS Data Exports (CUR 2.0) through a SQL engine: Athena in the collect
//! Lambda, the embedded engine in the CLI. Each run asks one query for the days AWS may still
//! revise (the previous month and this month up to yesterday: [`Window::restated`]), so a restated day
//! is simply queried again, and replaces those days' curated partitions with the answer. The
//! bytes the query scanned and what Athena bills for them go to the request ledger
//! (`ledger/athena/…`), beside Cost Explorer's requests.

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_query::price::{athena_dollars, billed_bytes, billed_dollars};
use costwatch_query::{DailyQuery, Engine, ExportTable, Window};
use costwatch_store::{LakeWriter, StateStore};
use serde::Serialize;
use serde_json::json;

use crate::collect::{group_by_day, write_days};
use crate::error::Result;
use crate::incremental::{add_to_totals, put_run_entry};
pub use crate::resource_causes::QueryUsage;

pub const LEDGER_RUN_PREFIX: &str = "ledger/athena/run/";
pub const LEDGER_MONTH_PREFIX: &str = "ledger/athena/month/";

/// What one run did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DataExportsCollected {
    /// The days whose partitions were replaced (the whole window, empty days included).
    pub days: Vec<NaiveDate>,
    pub records: usize,
    pub bytes_scanned: u64,
    /// Athena's price for the query ($5/TB, at least 10 MB); the embedded engine costs nothing
    /// but the figure says what the same query would cost on Athena.
    pub dollars: String,
    pub ledger_line: String,
}

/// Runs the window's query on `engine` over `table`, writes its days to the lake and the
/// ledger entry to `state` when given (the collect Lambda on Athena; the CLI's embedded engine
/// bills nothing and passes none).
pub async fn collect_data_exports(
    engine: &dyn Engine,
    table: &ExportTable,
    lake: &dyn LakeWriter,
    state: Option<&dyn StateStore>,
    window: Window,
    now: DateTime<Utc>,
) -> Result<DataExportsCollected> {
    let query = DailyQuery::new(table, window);
    let answer = engine.run(&query.sql).await?;
    let records = query.records(&answer.rows)?;
    let count = records.len();
    let by_day = group_by_day(records);
    let days: Vec<NaiveDate> = window
        .from
        .iter_days()
        .take_while(|d| *d < window.to)
        .collect();
    write_days(lake, &days, &by_day, &Default::default()).await?;

    let dollars = athena_dollars(answer.bytes_scanned);
    let ledger_line = format!(
        "1 Athena query, {} scanned (billed {}) = ${}",
        bytes_text(answer.bytes_scanned),
        bytes_text(billed_bytes(answer.bytes_scanned)),
        dollars.round_dp(6)
    );
    if let Some(state) = state {
        let usage = QueryUsage {
            queries: 1,
            bytes_scanned: answer.bytes_scanned,
            billed_bytes: billed_bytes(answer.bytes_scanned),
        };
        record_ledger(state, usage, &days, &ledger_line, now).await?;
    }
    tracing::info!(records = count, days = days.len(), "{ledger_line}");
    Ok(DataExportsCollected {
        days,
        records: count,
        bytes_scanned: answer.bytes_scanned,
        dollars: format!("${}", dollars.round_dp(6)),
        ledger_line,
    })
}

/// One run's Athena queries (collect's roll-up, detect's resource queries) in the ledger.
pub async fn record_ledger(
    state: &dyn StateStore,
    usage: QueryUsage,
    days: &[NaiveDate],
    line: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let cost = billed_dollars(usage.billed_bytes);
    let entry = json!({
        "at": now,
        "requests": usage.queries,
        "bytes_scanned": usage.bytes_scanned,
        "billed_bytes": usage.billed_bytes,
        "cost": cost.normalize().to_string(),
        "days": days,
        "text": line,
    });
    put_run_entry(state, LEDGER_RUN_PREFIX, entry, now).await?;
    let month = now.format("%Y-%m").to_string();
    let key = format!("{LEDGER_MONTH_PREFIX}{month}");
    let counts = [
        ("requests", usage.queries),
        ("bytes_scanned", usage.bytes_scanned),
        ("billed_bytes", usage.billed_bytes),
    ];
    add_to_totals(state, &key, &counts, |t| {
        // The month's price from its billed bytes (each query's minimum already applied).
        let cost = billed_dollars(t["billed_bytes"]);
        json!({
            "month": month,
            "cost": cost.normalize().to_string(),
            "text": format!(
                "{} Athena queries, {} billed = ${}",
                t["requests"],
                bytes_text(t["billed_bytes"]),
                cost.round_dp(4)
            ),
        })
    })
    .await?;
    Ok(())
}

/// Bytes in decimal units, as Athena prices them.
fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_as_athena_prices_them() {
        assert_eq!(bytes_text(999), "999 B");
        assert_eq!(bytes_text(10_000_000), "10.0 MB");
        assert_eq!(bytes_text(2_500_000_000_000), "2.5 TB");
    }
}
