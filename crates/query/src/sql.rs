//! The shape both queries share: grouped columns with their aliases, sums, one table, the
//! window's filters, GROUP BY the grouped columns by position (Trino and DataFusion both take
//! ordinals, so long expressions are not written twice).

use std::fmt::Write as _;

use crate::Window;
use crate::export::{ExportTable, quote};

/// Amounts are read as DECIMAL(38, 10) before they are summed, so Athena and the embedded engine
/// add the same exact values (doubles summed in a different order differ in the last bits).
pub(crate) const AMOUNT: &str = "DECIMAL(38, 10)";

/// `SUM(CAST(column AS DECIMAL(38, 10)))`, or `fallback` when the table lacks the column.
pub(crate) fn sum_or(table: &ExportTable, column: &str, fallback: &str) -> String {
    if table.has(column) {
        format!("SUM(CAST({column} AS {AMOUNT}))")
    } else {
        format!("CAST({fallback} AS {AMOUNT})")
    }
}

/// The conditions that keep the window's lines: its months by partition, when the table has
/// one (Athena then reads only those months' files), and its days by each line's start.
pub(crate) fn window_filters(table: &ExportTable, window: Window) -> Vec<String> {
    let mut filters = Vec::new();
    if let Some(partition) = &table.billing_period {
        let periods: Vec<String> = window.billing_periods().iter().map(|p| quote(p)).collect();
        filters.push(format!("{partition} IN ({})", periods.join(", ")));
    }
    let start = table.start_column();
    filters.push(format!("{start} >= TIMESTAMP '{} 00:00:00'", window.from));
    filters.push(format!("{start} < TIMESTAMP '{} 00:00:00'", window.to));
    filters
}

/// `SELECT <groups>, <sums> FROM <table> WHERE <filters> GROUP BY 1, 2, …`; each item is
/// (expression, alias).
pub(crate) fn grouped(
    groups: &[(String, String)],
    sums: &[(String, &str)],
    table: &str,
    filters: &[String],
) -> String {
    let mut sql = String::from("SELECT\n");
    let items = groups
        .iter()
        .map(|(e, a)| (e.as_str(), a.as_str()))
        .chain(sums.iter().map(|(e, a)| (e.as_str(), *a)));
    let items: Vec<String> = items.map(|(e, a)| format!("  {e} AS {a}")).collect();
    let _ = writeln!(sql, "{}", items.join(",\n"));
    let _ = writeln!(sql, "FROM {table}");
    let _ = writeln!(sql, "WHERE {}", filters.join("\n  AND "));
    let positions: Vec<String> = (1..=groups.len()).map(|i| i.to_string()).collect();
    let _ = write!(sql, "GROUP BY {}", positions.join(", "));
    sql
}
