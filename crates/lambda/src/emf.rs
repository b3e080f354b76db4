//! CloudWatch metrics as Embedded Metric Format log lines: written to stdout, turned into metrics
//! by CloudWatch Logs — no PutMetricData calls, no extra permissions, no extra latency. Handlers
//! record through these functions; [`crate::serve`] flushes once per invocation. Without
//! [`init`] (tests, the CLI) recording is a no-op.

use std::sync::OnceLock;

use metrics_cloudwatch_embedded::{Builder, Collector};

pub const NAMESPACE: &str = "costwatch";

static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();

/// Installs the EMF recorder once per process.
pub fn init() {
    if COLLECTOR.get().is_some() {
        return;
    }
    match Builder::new().cloudwatch_namespace(NAMESPACE).init() {
        Ok(collector) => {
            let _ = COLLECTOR.set(collector);
        }
        Err(e) => tracing::warn!(error = %e, "EMF metrics disabled"),
    }
}

/// Writes what was recorded since the last flush to `writer` (stdout in a Lambda).
pub fn flush_to(writer: impl std::io::Write) {
    if let Some(collector) = COLLECTOR.get()
        && let Err(e) = collector.flush(writer)
    {
        tracing::warn!(error = %e, "cannot write EMF metrics");
    }
}

pub fn flush() {
    flush_to(std::io::stdout());
}

/// A day's spend for a scope (dimension `Scope`, its storage key: `org`, `account=…`).
pub fn daily_cost(scope_key: &str, dollars: f64) {
    metrics::gauge!("DailyCost", "Scope" => scope_key.to_owned()).set(dollars);
}

/// The month-end forecast for a scope, with its 80 % interval.
pub fn month_end_forecast(scope_key: &str, total: f64, lo80: f64, hi80: f64) {
    let scope = scope_key.to_owned();
    metrics::gauge!("MonthEndForecast", "Scope" => scope.clone()).set(total);
    metrics::gauge!("MonthEndForecastLow80", "Scope" => scope.clone()).set(lo80);
    metrics::gauge!("MonthEndForecastHigh80", "Scope" => scope).set(hi80);
}

/// How much of a budget is used, on actual and on forecast spend, in percent.
pub fn budget_used(budget: &str, actual_percent: f64, forecast_percent: f64) {
    let name = budget.to_owned();
    metrics::gauge!("BudgetUsedPercent", "Budget" => name.clone()).set(actual_percent);
    metrics::gauge!("BudgetForecastPercent", "Budget" => name).set(forecast_percent);
}

/// Billable Cost Explorer requests made by this invocation.
pub fn cost_explorer_requests(requests: u32) {
    metrics::counter!("CostExplorerRequests").increment(u64::from(requests));
}

/// What Athena billed by: bytes the Data Exports query scanned.
pub fn athena_bytes_scanned(bytes: u64) {
    metrics::counter!("AthenaBytesScanned").increment(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// One test owns the process-wide recorder (nextest runs each test in its own process).
    #[test]
    fn records_emf_documents_cloudwatch_can_read() {
        init();
        daily_cost("org", 1234.5);
        month_end_forecast("org", 40000.0, 38000.0, 42000.0);
        budget_used("org-monthly", 61.7, 103.2);
        cost_explorer_requests(2);
        let mut out = Vec::new();
        flush_to(&mut out);
        let docs: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let find = |metric: &str| {
            docs.iter()
                .find(|d| d.get(metric).is_some())
                .unwrap_or_else(|| panic!("no document with {metric}: {docs:?}"))
        };
        let daily = find("DailyCost");
        assert_eq!(daily["DailyCost"], 1234.5);
        assert_eq!(daily["Scope"], "org");
        let meta = &daily["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(meta["Namespace"], NAMESPACE);
        assert_eq!(meta["Dimensions"][0][0], "Scope");
        assert!(daily["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
        assert_eq!(
            find("MonthEndForecastHigh80")["MonthEndForecastHigh80"],
            42000.0
        );
        let budget = find("BudgetUsedPercent");
        assert_eq!(budget["Budget"], "org-monthly");
        assert_eq!(budget["BudgetForecastPercent"], 103.2);
        assert_eq!(find("CostExplorerRequests")["CostExplorerRequests"], 2);

        // Counters report the delta since the last flush: nothing new, no request count.
        let mut again = Vec::new();
        flush_to(&mut again);
        assert!(
            !String::from_utf8(again)
                .unwrap()
                .contains("CostExplorerRequests")
        );
    }
}
