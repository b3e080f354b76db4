//! What the CLI prints: a short human summary, or the same facts as JSON with `--json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use costwatch_core::Notification;
use costwatch_core::archive::ReportFile;
use costwatch_core::envelopes::DEFAULT_CURRENCY as CURRENCY;
use costwatch_core::money::{display, display_percent_used, display_with_interval};
use costwatch_pipeline::RunSummary;
use costwatch_pipeline::archive::{archive_files, archive_report};
use costwatch_pipeline::collect::Collected;
use costwatch_pipeline::html::ReportPage;
use costwatch_pipeline::incremental::{IncrementalOutcome, dollars, ledger_line};
use costwatch_pipeline::metrics::MetricsOutcome;
use costwatch_pipeline::report::by_risk;
use costwatch_store::LakeWriter;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// Budgets `costwatch run` prints one by one, the most at risk first.
const SHOWN_BUDGETS: usize = 10;

/// A progress bar on stderr; hidden for `--json` (and by indicatif when stderr is no terminal).
pub fn progress(json: bool, len: u64, message: &'static str) -> ProgressBar {
    if json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len).with_message(message);
    if let Ok(style) = ProgressStyle::with_template("{msg:>22} [{bar:30}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    // Ticks from its own thread, so the elapsed time moves during one long step (a big file).
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// The report's archive files (report.html, report.json, report.csv) in `out`, as the report
/// Lambda archives them under `reports/`; returns the HTML's path.
pub async fn write_report(out: &Path, lake: &dyn LakeWriter, page: &ReportPage) -> Result<PathBuf> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (file, body) in archive_files(page)? {
        let path = out.join(file.file_name());
        std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
    }
    // Also where `costwatch serve` lists reports, as the report Lambda archives them on AWS.
    archive_report(lake, page).await?;
    Ok(out.join(ReportFile::Html.file_name()))
}

#[derive(Serialize)]
pub struct NotificationLine {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub severity: String,
    pub title: String,
}

/// What a Cost Explorer pull cost and how far it got.
#[derive(Serialize)]
pub struct CostExplorerLine {
    /// "N Cost Explorer requests = $0.0N"
    pub line: String,
    pub requests: u32,
    pub dollars: String,
    pub throttled: u32,
    /// The request cap stopped the pull; `pending_days` wait for the next run.
    pub capped: bool,
    pub pending_days: Vec<chrono::NaiveDate>,
    /// Requests this month, this run included.
    pub month_requests: u64,
    /// Last day fully collected.
    pub collected_through: Option<chrono::NaiveDate>,
}

impl From<&IncrementalOutcome> for CostExplorerLine {
    fn from(o: &IncrementalOutcome) -> Self {
        Self {
            line: o.ledger_line.clone(),
            requests: o.requests,
            dollars: dollars(u64::from(o.requests)),
            throttled: o.throttled,
            capped: o.capped,
            pending_days: o.pending.clone(),
            month_requests: o.month_requests,
            collected_through: o.watermark,
        }
    }
}

#[derive(Serialize)]
pub struct Summary {
    pub command: &'static str,
    pub days_collected: usize,
    pub records: usize,
    pub cost_explorer_requests: u32,
    pub as_of: chrono::NaiveDate,
    pub notifications_by_kind: BTreeMap<String, usize>,
    pub notifications: Vec<NotificationLine>,
    pub open_anomalies: Vec<String>,
    /// The most at risk first.
    pub budgets: Vec<String>,
    /// Beside `budgets`: the budget's scope has no costs this month (its line carries the "did
    /// you mean" note), so the text output shows it however many budgets there are.
    #[serde(skip)]
    pub watching_nothing: Vec<bool>,
    pub month_end_forecast: Option<String>,
    pub report: PathBuf,
    pub notifications_dir: PathBuf,
    /// Set by `run --aws`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_explorer: Option<CostExplorerLine>,
    /// Set by `run --data-export`: the query's bytes and what Athena would bill for them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_export: Option<String>,
    /// Set by `run --aws` with `[metrics]`: the CloudWatch pull and what it is billed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudwatch: Option<MetricsOutcome>,
}

fn lower(v: impl std::fmt::Debug) -> String {
    format!("{v:?}").to_lowercase()
}

impl Summary {
    pub fn new(
        command: &'static str,
        collected: &Collected,
        run: &RunSummary,
        published: &[Notification],
        report: &Path,
        notifications_dir: &Path,
    ) -> Self {
        let mut by_kind = BTreeMap::new();
        for n in published {
            *by_kind.entry(n.kind().to_owned()).or_insert(0) += 1;
        }
        // Ranked once: the lines and the flags beside them are in the same order.
        let ranked = by_risk(&run.budgets);
        let latest_anomaly_titles = run
            .notifications
            .iter()
            .filter(|n| n.kind() == "anomaly" && n.state != costwatch_core::State::Resolved)
            .map(|n| n.title.clone())
            .collect();
        Self {
            command,
            days_collected: collected.days.len(),
            records: collected.records,
            cost_explorer_requests: collected.requests,
            as_of: run.as_of,
            notifications_by_kind: by_kind,
            notifications: published
                .iter()
                .map(|n| NotificationLine {
                    id: n.id.clone(),
                    kind: n.kind().to_owned(),
                    state: lower(n.state),
                    severity: lower(n.severity),
                    title: n.title.clone(),
                })
                .collect(),
            open_anomalies: latest_anomaly_titles,
            budgets: ranked
                .iter()
                .map(|b| {
                    let auto = b.auto.map(|a| {
                        let basis =
                            costwatch_core::findings::auto_amount_basis(b.line.period, a.months);
                        format!(", {basis}")
                    });
                    let auto = auto.unwrap_or_default();
                    // A month's budget is what every budget was before quarters and years.
                    let period = match b.line.period {
                        costwatch_core::findings::BudgetPeriod::Monthly => String::new(),
                        costwatch_core::findings::BudgetPeriod::Daily => " for the day".to_owned(),
                        other => format!(" this {}", other.noun()),
                    };
                    let mut line = match b.amount_pending() {
                        true => format!(
                            "{}: {} spent",
                            b.line.budget,
                            display(b.line.actual, CURRENCY)
                        ),
                        false => format!(
                            "{}: {} of {}{period}{auto} ({})",
                            b.line.budget,
                            display(b.line.actual, CURRENCY),
                            display(b.line.limit, CURRENCY),
                            display_percent_used(b.line.percent_used),
                        ),
                    };
                    // A day's budget is checked on a complete day: nothing to forecast.
                    if !b.line.forecast_pending && !b.line.period.is_daily() {
                        line += &format!(", forecast {}", display(b.line.forecast, CURRENCY));
                    }
                    match &b.note {
                        Some(note) => format!("{line} — {note}"),
                        None => line,
                    }
                })
                .collect(),
            watching_nothing: ranked.iter().map(|b| b.watches_nothing()).collect(),
            month_end_forecast: run
                .forecasts
                .get(&costwatch_core::Scope::Org)
                .filter(|f| !f.is_complete())
                .map(|f| display_with_interval(f.total, f.lo80, f.hi80, CURRENCY)),
            report: report.to_path_buf(),
            notifications_dir: notifications_dir.to_path_buf(),
            cost_explorer: None,
            data_export: None,
            cloudwatch: None,
        }
    }

    pub fn print(&self, json: bool) -> Result<()> {
        if json {
            println!("{}", serde_json::to_string_pretty(self)?);
            return Ok(());
        }
        if self.days_collected > 0 {
            println!(
                "costwatch {}: {} records over {} days, analysed as of {}",
                self.command, self.records, self.days_collected, self.as_of
            );
        } else {
            println!("costwatch {}: analysed as of {}", self.command, self.as_of);
        }
        if let Some(ce) = &self.cost_explorer {
            println!("  {}", ce.line);
            if ce.capped {
                println!(
                    "  request cap reached: stopped before passing it; {} days wait for the next \
                     run (or raise --max-requests)",
                    ce.pending_days.len()
                );
            }
        } else if self.cost_explorer_requests > 0 {
            println!("  {}", ledger_line(self.cost_explorer_requests));
        }
        if let Some(line) = &self.data_export {
            println!("  {line} (on Athena; here the embedded engine, free)");
        }
        if let Some(cw) = &self.cloudwatch {
            println!(
                "  CloudWatch: {} ({} series, {} new points)",
                cw.ledger_line, cw.series, cw.points
            );
            if !cw.complete {
                println!(
                    "  CloudWatch request cap reached ([metrics] max_requests_per_run): the \
                     window is pulled again next run"
                );
            }
        }
        let kinds: Vec<String> = self
            .notifications_by_kind
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        println!(
            "  notifications: {} ({})",
            self.notifications.len(),
            kinds.join(", ")
        );
        for title in &self.open_anomalies {
            println!("  anomaly today: {title}");
        }
        // The most at risk first, and any watching nothing; the rest in one line (a file of 500
        // budgets printed 500).
        let mut folded = 0;
        for (i, line) in self.budgets.iter().enumerate() {
            if i < SHOWN_BUDGETS || self.watching_nothing.get(i).copied().unwrap_or(false) {
                println!("  budget {line}");
            } else {
                folded += 1;
            }
        }
        if folded > 0 {
            println!("  … and {folded} more budgets, less at risk (--json lists every one)");
        }
        if let Some(f) = &self.month_end_forecast {
            println!("  month-end forecast: {f}");
        }
        println!("  report: {}", self.report.display());
        println!("  envelopes: {}", self.notifications_dir.display());
        Ok(())
    }
}
