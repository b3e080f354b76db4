//! Block Kit layouts for every kind. User-controlled strings go into `plain_text` objects where
//! Block Kit allows them (headers, context) and through `escape::slack_mrkdwn` everywhere else;
//! every text is fitted to Slack's limits with a visible note, and a message never has more than
//! 50 blocks.

use costwatch_core::money::format_amount;
use costwatch_core::notification::*;
use costwatch_core::{Money, Notification};
use costwatch_dispatch::escape::{slack_mrkdwn as md, slack_plain};
use costwatch_dispatch::fit::{fit_items, fit_text, more_line};
use serde_json::{Value, json};

/// Slack's documented limits.
pub const MAX_BLOCKS: usize = 50;
pub const SECTION_TEXT: usize = 3000;
pub const HEADER_TEXT: usize = 150;
pub const FIELD_TEXT: usize = 2000;
pub const MAX_FIELDS: usize = 10;
/// The top-level `text` (the notification and accessibility fallback); Slack truncates at 40,000.
pub const FALLBACK_TEXT: usize = 4000;

fn money(n: &Notification, m: Money) -> String {
    let symbol = if n.currency == "USD" { "$" } else { "" };
    let code = if n.currency == "USD" {
        String::new()
    } else {
        format!(" {}", md(&n.currency))
    };
    format!("{symbol}{}{code}", format_amount(m))
}

fn link(n: &Notification) -> Option<&str> {
    n.links.first().map(|l| l.url.as_str())
}

pub fn header(text: &str) -> Value {
    json!({"type": "header", "text": {"type": "plain_text", "text": fit_text(&slack_plain(text), HEADER_TEXT, None), "emoji": false}})
}

/// A mrkdwn section; `text` is already escaped mrkdwn.
pub fn section(text: &str, more: Option<&str>) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": fit_text(text, SECTION_TEXT, more)}})
}

fn fields(pairs: &[(&str, String)]) -> Value {
    let (shown, _) = fit_items(pairs, MAX_FIELDS);
    let fields: Vec<Value> = shown
        .iter()
        .map(|(k, v)| json!({"type": "mrkdwn", "text": fit_text(&format!("*{k}*\n{v}"), FIELD_TEXT, None)}))
        .collect();
    json!({"type": "section", "fields": fields})
}

fn context(n: &Notification) -> Value {
    let state = match n.state {
        State::Open => "open",
        State::Ongoing => "ongoing",
        State::Resolved => "resolved",
    };
    let mut parts = vec![format!("{:?} · {state}", n.severity).to_lowercase()];
    parts.push(n.scope.label.clone());
    if let (Some(id), Some(name)) = (&n.scope.account_id, &n.scope.account_name) {
        parts.push(format!("account {name} ({id})"));
    }
    for (k, v) in n.scope.tags.iter().chain(&n.scope.cost_categories) {
        parts.push(format!("{k}={v}"));
    }
    let text = fit_text(&slack_plain(&parts.join(" · ")), SECTION_TEXT, None);
    json!({"type": "context", "elements": [{"type": "plain_text", "text": text, "emoji": false}]})
}

fn links(n: &Notification) -> Option<Value> {
    if n.links.is_empty() {
        return None;
    }
    // `<url|label>`: the URL cannot contain `|` or `>` unescaped; labels are escaped mrkdwn.
    let text = n
        .links
        .iter()
        .take(10)
        .map(|l| {
            format!(
                "<{}|{}>",
                l.url.replace('|', "%7C").replace('>', "%3E"),
                md(&l.label)
            )
        })
        .collect::<Vec<_>>()
        .join("  ·  ");
    Some(section(&text, None))
}

fn pct(p: Option<f64>) -> String {
    p.map_or_else(|| "n/a".to_owned(), |p| format!("{p:+.0}%"))
}

/// The figures of one kind, as field pairs and extra sections.
fn body(n: &Notification) -> (Vec<(&'static str, String)>, Vec<Value>) {
    let more = link(n);
    match &n.body {
        NotificationBody::Anomaly(a) => {
            let pairs = vec![
                ("Actual", money(n, a.actual)),
                (
                    "Expected",
                    format!(
                        "{} (usual {} – {})",
                        money(n, a.expected),
                        money(n, a.expected_low),
                        money(n, a.expected_high)
                    ),
                ),
                (
                    "Impact",
                    format!("{} ({})", money(n, a.impact), pct(a.impact_pct)),
                ),
                ("Days", format!("{} → {}", a.start_date, a.date)),
            ];
            let mut sections = Vec::new();
            if !a.root_causes.is_empty() {
                let (shown, hidden) = fit_items(&a.root_causes, 5);
                let mut lines: Vec<String> = shown
                    .iter()
                    .map(|c| {
                        format!(
                            "• {} `{}`: {} ({:.0}% of the change)",
                            md(&c.dimension.to_string()),
                            md(&c.value),
                            money(n, c.contribution),
                            c.share * 100.0
                        )
                    })
                    .collect();
                lines.extend(more_line(hidden, "contributors", more));
                sections.push(section(
                    &format!("*Root cause*\n{}", lines.join("\n")),
                    more,
                ));
            }
            (pairs, sections)
        }
        NotificationBody::Budget(b) => (
            vec![
                ("Budget", md(&b.budget)),
                (
                    "Used",
                    format!(
                        "{} of {} ({:.0}%)",
                        money(n, b.actual),
                        money(n, b.limit),
                        b.percent_of_limit
                    ),
                ),
                ("Forecast", money(n, b.forecast)),
                (
                    "Threshold",
                    format!("{}% ({:?})", b.threshold_percent, b.basis).to_lowercase(),
                ),
                ("Period", format!("{} – {}", b.period_start, b.period_end)),
                (
                    "Allowed per day",
                    b.allowed_daily_spend
                        .map_or_else(|| "n/a".into(), |m| money(n, m)),
                ),
            ],
            Vec::new(),
        ),
        NotificationBody::Forecast(f) => (
            vec![
                ("Month-end forecast", money(n, f.forecast_total)),
                (
                    "80% range",
                    format!("{} – {}", money(n, f.lo80), money(n, f.hi80)),
                ),
                (
                    "95% range",
                    format!("{} – {}", money(n, f.lo95), money(n, f.hi95)),
                ),
                ("Spent so far", money(n, f.actual_to_date)),
                (
                    "Last month",
                    f.previous_month_total
                        .map_or_else(|| "n/a".into(), |m| money(n, m)),
                ),
                ("Change", pct(f.change_pct)),
            ],
            Vec::new(),
        ),
        NotificationBody::Recommendation(r) => {
            let mut pairs = vec![
                ("Action", md(&r.action)),
                ("Category", md(&r.category)),
                (
                    "Saves",
                    format!(
                        "{} a month ({} a year)",
                        money(n, r.monthly_savings),
                        money(n, r.annual_savings)
                    ),
                ),
                (
                    "Costs now",
                    format!("{} a month", money(n, r.current_monthly_cost)),
                ),
            ];
            if let Some(id) = &r.resource_id {
                pairs.push(("Resource", format!("`{}`", md(id))));
            }
            (pairs, Vec::new())
        }
        NotificationBody::Report(r) => {
            let period = match r.period {
                ReportPeriod::Daily => "Day",
                ReportPeriod::Weekly => "Week",
            };
            let pairs = vec![
                (period, format!("{} – {}", r.start, r.end)),
                (
                    "Total",
                    format!(
                        "{} ({} vs {})",
                        money(n, r.total),
                        pct(r.change_pct),
                        money(n, r.previous_total)
                    ),
                ),
                ("Month to date", money(n, r.month_to_date)),
                (
                    "Month-end forecast",
                    r.forecast_month_end
                        .map_or_else(|| "n/a".into(), |m| money(n, m)),
                ),
                ("Open anomalies", r.open_anomalies.to_string()),
            ];
            let mut sections = Vec::new();
            for (title, movers) in [
                ("Top movers", &r.top_movers),
                ("Top services", &r.top_services),
            ] {
                if movers.is_empty() {
                    continue;
                }
                let (shown, hidden) = fit_items(movers, 10);
                let mut lines: Vec<String> = shown
                    .iter()
                    .map(|m| {
                        format!(
                            "• {}: {} ({}{})",
                            md(&m.label),
                            money(n, m.amount),
                            if m.change.is_sign_negative() { "" } else { "+" },
                            money(n, m.change)
                        )
                    })
                    .collect();
                lines.extend(more_line(hidden, "more", more));
                sections.push(section(&format!("*{title}*\n{}", lines.join("\n")), more));
            }
            if !r.budgets.is_empty() {
                let (shown, hidden) = fit_items(&r.budgets, 10);
                let mut lines: Vec<String> = shown
                    .iter()
                    .map(|b| {
                        format!(
                            "• {}: {:.0}% used ({} of {}, forecast {})",
                            md(&b.budget),
                            b.percent_used,
                            money(n, b.actual),
                            money(n, b.limit),
                            money(n, b.forecast)
                        )
                    })
                    .collect();
                lines.extend(more_line(hidden, "budgets", more));
                sections.push(section(&format!("*Budgets*\n{}", lines.join("\n")), more));
            }
            (pairs, sections)
        }
        NotificationBody::Test(t) => (Vec::new(), vec![section(&md(&t.message), None)]),
    }
}

/// The blocks of one envelope.
pub fn envelope(n: &Notification) -> Vec<Value> {
    let mut blocks = vec![header(&n.title), section(&md(&n.summary), link(n))];
    let (pairs, sections) = body(n);
    if !pairs.is_empty() {
        blocks.push(fields(&pairs));
    }
    blocks.extend(sections);
    blocks.extend(links(n));
    blocks.push(context(n));
    blocks.truncate(MAX_BLOCKS);
    blocks
}

/// One message for an alert storm: a header, one line per envelope, within 50 blocks.
pub fn digest(all: &[Notification]) -> Vec<Value> {
    let mut blocks = vec![header(&format!("{} cost alerts", all.len()))];
    // header + one section per envelope + one "more" line + divider: keep 2 spare.
    let (shown, hidden) = fit_items(all, MAX_BLOCKS - 3);
    for n in shown {
        let severity = format!("{:?}", n.severity).to_lowercase();
        let mut text = format!("*{}* ({severity})\n{}", md(&n.title), md(&n.summary));
        if let Some(url) = link(n) {
            text.push_str(&format!(
                " <{}|details>",
                url.replace('|', "%7C").replace('>', "%3E")
            ));
        }
        blocks.push(section(&text, link(n)));
    }
    if let Some(more) = more_line(hidden, "alerts in this batch", None) {
        blocks.push(section(&md(&more), None));
    }
    blocks
}

/// The top-level `text`: what notifications and screen readers show.
pub fn fallback_text(n: &Notification) -> String {
    fit_text(&md(&n.title), FALLBACK_TEXT, link(n))
}

pub fn digest_fallback(all: &[Notification]) -> String {
    let titles: Vec<String> = all.iter().map(|n| md(&n.title)).collect();
    fit_text(
        &format!("{} cost alerts: {}", all.len(), titles.join("; ")),
        FALLBACK_TEXT,
        None,
    )
}
