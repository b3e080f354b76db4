//! The self-contained HTML report: a chart of daily cost with the forecast band and anomalies
//! marked, top movers, budget status and the open anomalies with their own charts.
//! Rendered with minijinja's HTML auto-escaping: names from tags and accounts cannot inject markup.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use costwatch_analytics::detect::score_series;
use costwatch_core::findings::MonthEndForecast;
use costwatch_core::money::{display, display_percent_used, display_signed, to_f64};
use costwatch_core::notification::{ReportFigures, ScopeRef};
use costwatch_core::{DailySeries, Money, Scope};
use costwatch_store::{RollupStore, StateStore};
use minijinja::{Environment, context};
use serde::Serialize;

use crate::allocation::KeyAllocation;
use crate::chart::{ChartData, render};
use crate::config::PipelineConfig;
use crate::detect::{AnomalyState, active};
use crate::error::{PipelineError, Result};

const TEMPLATE: &str = include_str!("../templates/report.html");

#[derive(Debug, Serialize)]
pub struct AnomalyView {
    pub title: String,
    /// The scope's key (`account_service:…`), for the archived JSON and CSV.
    pub scope: String,
    pub state: String,
    pub start_date: NaiveDate,
    pub actual: String,
    pub expected: String,
    pub impact: String,
    pub impact_pct: String,
    pub causes: Vec<(String, String, String, String)>,
    pub chart_svg: String,
    /// The amounts above as decimals, for the archived JSON and CSV.
    pub raw: AnomalyAmounts,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnomalyAmounts {
    pub actual: Money,
    pub expected: Money,
    pub impact: Money,
}

#[derive(Debug, Serialize)]
pub struct ReportPage {
    pub title: String,
    /// ISO 4217 code of every amount on the page, written with [`display`].
    pub currency: String,
    pub generated_at: String,
    pub figures: ReportFigures,
    pub chart_svg: String,
    /// The organisation's month-end forecast; `None` without one, or once every day of the month
    /// is in.
    pub forecast: Option<MonthEndForecast>,
    pub anomalies: Vec<AnomalyView>,
    /// What the report lacks, e.g. a pipeline step that had not finished when it went out
    /// (the report Lambda's fallback schedule); shown above the figures.
    pub notes: Vec<String>,
    /// The month so far per tag key and cost category, with the spend carrying none.
    pub allocation: Vec<KeyAllocation>,
}

fn chart_for(
    series: &DailySeries,
    cfg: &PipelineConfig,
    forecast: Option<&MonthEndForecast>,
    marks: &[(NaiveDate, String)],
) -> Result<String> {
    let actual: Vec<(NaiveDate, f64)> = series
        .totals_f64()
        .into_iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (series.date_at(i), v)))
        .collect();
    let scores = score_series(series, &cfg.detector);
    let data = ChartData {
        band: scores
            .iter()
            .map(|s| (s.date, to_f64(s.lower), to_f64(s.upper)))
            .collect(),
        forecast: forecast
            .map(|f| {
                f.daily
                    .iter()
                    .map(|p| (p.date, to_f64(p.mean), to_f64(p.lo80), to_f64(p.hi80)))
                    .collect()
            })
            .unwrap_or_default(),
        markers: marks
            .iter()
            .filter_map(|(d, label)| {
                series
                    .get(*d)
                    .map(|c| (*d, to_f64(c.total()), label.clone()))
            })
            .collect(),
        actual,
    };
    render(&data, 960, 340)
}

fn pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:+.0}%"))
        .unwrap_or_else(|| "new".to_owned())
}

#[allow(clippy::too_many_arguments)]
pub async fn build_page(
    rollups: &dyn RollupStore,
    state: &dyn StateStore,
    cfg: &PipelineConfig,
    names: &BTreeMap<String, String>,
    figures: ReportFigures,
    org_forecast: Option<&MonthEndForecast>,
    allocation: Vec<KeyAllocation>,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ReportPage> {
    // The pipeline's figures and envelopes are in the envelope builders' currency.
    let currency = costwatch_core::envelopes::DEFAULT_CURRENCY;
    let history = as_of - Days::new(u64::from(cfg.history_days.saturating_sub(1)));
    let open: Vec<AnomalyState> = active(state).await?;
    let org = rollups.series(&Scope::Org, history, as_of).await?;
    let org_marks: Vec<(NaiveDate, String)> = open
        .iter()
        .map(|a| (a.anomaly.date, pct(a.anomaly.impact_pct)))
        .collect();
    let chart_svg = chart_for(&org, cfg, org_forecast, &org_marks)?;
    let mut anomalies = Vec::new();
    for a in &open {
        let x = &a.anomaly;
        let series = rollups
            .series(&x.scope, as_of - Days::new(59), as_of)
            .await?;
        let name = x
            .scope
            .account()
            .and_then(|id| names.get(id))
            .map(String::as_str);
        anomalies.push(AnomalyView {
            title: ScopeRef::new(&x.scope, name).label,
            scope: x.scope.key(),
            state: format!("{:?}", a.state).to_lowercase(),
            start_date: x.start_date,
            actual: display(x.actual, currency),
            expected: display(x.expected, currency),
            impact: display_signed(x.impact, currency),
            impact_pct: pct(x.impact_pct),
            causes: x
                .root_causes
                .iter()
                .map(|c| {
                    (
                        c.dimension.clone(),
                        c.value.clone(),
                        display_signed(c.contribution, currency),
                        format!("{:.0}%", c.share * 100.0),
                    )
                })
                .collect(),
            chart_svg: chart_for(&series, cfg, None, &[(x.date, pct(x.impact_pct))])?,
            raw: AnomalyAmounts {
                actual: x.actual,
                expected: x.expected,
                impact: x.impact,
            },
        });
    }
    Ok(ReportPage {
        title: format!("costwatch report — {as_of}"),
        currency: currency.to_owned(),
        generated_at: now.format("%Y-%m-%d %H:%M UTC").to_string(),
        figures,
        chart_svg,
        forecast: org_forecast.cloned(),
        anomalies,
        notes: Vec::new(),
        allocation,
    })
}

pub fn render_page(page: &ReportPage) -> Result<String> {
    let mut env = Environment::new();
    // Amounts arrive as the decimal strings figures serialise to.
    let currency = page.currency.clone();
    env.add_filter("money", move |v: String| -> String {
        v.parse::<costwatch_core::Money>()
            .map(|m| display(m, &currency))
            .unwrap_or(v)
    });
    let currency = page.currency.clone();
    env.add_filter("signed_money", move |v: String| -> String {
        v.parse::<costwatch_core::Money>()
            .map(|m| display_signed(m, &currency))
            .unwrap_or(v)
    });
    env.add_filter("signed_pct", |v: f64| format!("{v:+.1}%"));
    env.add_filter("whole_pct", display_percent_used);
    env.add_filter("share", |v: Option<f64>| {
        v.map_or_else(|| "–".to_owned(), |p| format!("{p:.1}%"))
    });
    env.add_filter("bar_width", |v: f64| format!("{:.1}", v.clamp(0.0, 100.0)));
    env.add_test("negative_amount", |v: String| v.starts_with('-'));
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| PipelineError::Render(e.to_string()))?;
    let template = env
        .get_template("report.html")
        .map_err(|e| PipelineError::Render(e.to_string()))?;
    template
        .render(context! { page => minijinja::value::Serde(page) })
        .map_err(|e| PipelineError::Render(e.to_string()))
}
