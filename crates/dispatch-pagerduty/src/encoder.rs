//! Envelope → one Events API v2 request. Anomalies, budget breaches and forecasts are alerts on
//! one `dedup_key` per subject: `open` triggers (severity mapped, summary with the scope, the
//! money at stake and the percentage; the figures, root causes and tables in `custom_details`;
//! the envelope's web links), `resolved` resolves, `ongoing` sends what [`Ongoing`] says.
//! Recommendations, reports and tests are change events: context on the service's timeline,
//! never an incident or a page.
//!
//! Limits (PagerDuty's): `summary` ≤ 1,024 characters, `dedup_key` ≤ 255, the event ≤ 512 KB.
//! A long summary is shortened with a note of what was left out; an event over 512 KB leaves the
//! raw figures out (the tables show them), then keeps the most table rows that fit, each table
//! ending "… and N more", saying so in `custom_details` — nothing is cut silently. User text
//! (scope labels, tags, names) is plain text in PagerDuty: control and bidi characters are
//! removed and mentions defused ([`costwatch_dispatch::escape::plain`]).

use chrono::SecondsFormat;
use costwatch_core::Notification;
use costwatch_core::findings::Direction;
use costwatch_core::money::{Money, display, display_percent_used, display_signed};
use costwatch_core::notification::{NotificationBody, ReportPeriod, Severity, State};
use costwatch_dispatch::escape::plain;
use costwatch_dispatch::fit::{fit_text, more_line};
use costwatch_dispatch::view::{View, is_web_url, severity_word};
use costwatch_dispatch::{Body, Text, VendorRequest};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::config::Ongoing;

pub const MAX_SUMMARY: usize = 1024;
pub const MAX_DEDUP_KEY: usize = 255;
/// The largest event PagerDuty takes, routing key included.
pub const MAX_EVENT_BYTES: usize = 512 * 1024;
pub const ENQUEUE: &str = "/v2/enqueue";
pub const CHANGE_ENQUEUE: &str = "/v2/change/enqueue";
/// Longest string of `custom_details`, `source`, `component`, `group` and link texts.
const MAX_TEXT: usize = 2_000;
/// Links sent with an event, each at most [`MAX_HREF`] characters (a longer URL would hardly
/// open); the rest are counted in `custom_details`.
const MAX_LINKS: usize = 10;
const MAX_HREF: usize = 2_048;
/// Room for `"routing_key":"…",` beside the redacted JSON when sizing an event.
const KEY_ROOM: usize = 64;

/// What an envelope becomes at PagerDuty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Trigger,
    Acknowledge,
    Resolve,
    Change,
}

impl Action {
    pub fn of(n: &Notification, ongoing: Ongoing) -> Action {
        match n.body {
            NotificationBody::Recommendation(_)
            | NotificationBody::Report(_)
            | NotificationBody::Test(_) => Action::Change,
            _ => match (n.state, ongoing) {
                (State::Open, _) => Action::Trigger,
                (State::Ongoing, Ongoing::Change) => Action::Change,
                (State::Ongoing, Ongoing::Acknowledge) => Action::Acknowledge,
                // A person took it (chat button, API, dashboard): PagerDuty's own acknowledge,
                // which stops the escalation; repeated on later updates, which PagerDuty ignores.
                (State::Acknowledged, _) => Action::Acknowledge,
                (State::Resolved, _) => Action::Resolve,
            },
        }
    }

    /// The request's step name (logs, dead-letter reasons) and the Events API's `event_action`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Trigger => "trigger",
            Self::Acknowledge => "acknowledge",
            Self::Resolve => "resolve",
            Self::Change => "change",
        }
    }
}

/// One key for the whole life of a subject (its anomaly, its budget threshold in a period), so
/// the resolve closes the alert the trigger opened.
pub fn dedup_key(subject_id: &str) -> String {
    let key = format!("costwatch/{subject_id}");
    if key.chars().count() <= MAX_DEDUP_KEY {
        key
    } else {
        format!(
            "costwatch/sha256:{}",
            hex::encode(Sha256::digest(subject_id.as_bytes()))
        )
    }
}

/// PagerDuty has four severities; ours has five.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "info",
    }
}

/// The request for `n` to the service whose events origin is `origin`; `routing_key` travels in
/// the body as a secret (printed `[REDACTED]`).
pub fn request(
    n: &Notification,
    ongoing: Ongoing,
    origin: &str,
    routing_key: &str,
) -> VendorRequest {
    let action = Action::of(n, ongoing);
    let (path, event) = match action {
        Action::Trigger => (ENQUEUE, trigger(n)),
        Action::Acknowledge | Action::Resolve => (
            ENQUEUE,
            json!({"event_action": action.name(), "dedup_key": dedup_key(&n.subject_id)}),
        ),
        Action::Change => (CHANGE_ENQUEUE, change(n)),
    };
    let mut request = VendorRequest::post_json(
        action.name(),
        Text::Plain(format!("{origin}{path}")),
        Value::Null,
    );
    request.body = Body::json_with_secret(event, "/routing_key", routing_key);
    request
}

fn trigger(n: &Notification) -> Value {
    let view = View::of(n);
    let link = view.details_link().map(|l| l.url.clone());
    let mut payload = json!({
        "summary": fit_text(&plain(&summary(n)), MAX_SUMMARY, link.as_deref()),
        "timestamp": timestamp(n),
        "severity": severity(n.severity),
        "source": source(n),
        "class": n.kind(),
    });
    if let Some(service) = &n.scope.service {
        payload["component"] = text(service).into();
    }
    if let Some(account) = account(n) {
        payload["group"] = text(&account).into();
    }
    let mut event = json!({
        "event_action": "trigger",
        "dedup_key": dedup_key(&n.subject_id),
        "client": "costwatch",
        "payload": payload,
    });
    if let Some(url) = &link {
        event["client_url"] = url.clone().into();
    }
    with_links_and_details(event, n, &view)
}

fn change(n: &Notification) -> Value {
    let view = View::of(n);
    let link = view.details_link().map(|l| l.url.clone());
    let state = match n.state {
        State::Open => "",
        State::Ongoing => "Ongoing: ",
        State::Acknowledged => "Acknowledged: ",
        State::Resolved => "Resolved: ",
    };
    let summary = format!("{state}{}", summary(n));
    let event = json!({
        "payload": {
            "summary": fit_text(&plain(&summary), MAX_SUMMARY, link.as_deref()),
            "timestamp": timestamp(n),
            "source": source(n),
        },
    });
    with_links_and_details(event, n, &view)
}

/// `event` with the envelope's web links and the largest `custom_details` that keeps it within
/// [`MAX_EVENT_BYTES`].
fn with_links_and_details(mut event: Value, n: &Notification, view: &View) -> Value {
    let link = view.details_link().map(|l| l.url.as_str());
    let usable: Vec<_> = view
        .links
        .iter()
        .filter(|l| is_web_url(&l.url) && l.url.len() <= MAX_HREF)
        .collect();
    let links: Vec<Value> = usable
        .iter()
        .take(MAX_LINKS)
        .map(|l| json!({"href": l.url, "text": text(&l.label)}))
        .collect();
    let links_left_out = view.links.len() - links.len();
    if !links.is_empty() {
        event["links"] = Value::Array(links);
    }
    let fitted = |rows: usize, figures: bool| {
        let mut details = details(n, view, rows, figures, link);
        if links_left_out > 0 {
            details["Links not shown"] = format!(
                "{links_left_out} (sent: http(s) links only, at most {MAX_LINKS}, each at most {MAX_HREF} characters)"
            )
            .into();
        }
        let mut event = event.clone();
        event["payload"]["custom_details"] = details;
        (wire_size(&event) <= MAX_EVENT_BYTES).then_some(event)
    };
    // Everything; then without the raw figures (the tables show them); then the most table rows
    // that fit, found by bisection.
    if let Some(event) = fitted(usize::MAX, true).or_else(|| fitted(usize::MAX, false)) {
        return event;
    }
    let most = view.tables.iter().map(|t| t.rows.len()).max().unwrap_or(0);
    if let Some(mut best) = fitted(0, false) {
        let (mut fits, mut too_many) = (0, most);
        while too_many - fits > 1 {
            let mid = fits + (too_many - fits) / 2;
            match fitted(mid, false) {
                Some(event) => (fits, best) = (mid, event),
                None => too_many = mid,
            }
        }
        return best;
    }
    // Even without a table row the strings do not fit (thousands of facts): say where the rest is.
    event["payload"]["custom_details"] = json!({
        "Details not shown": format!(
            "this notification is larger than PagerDuty's {} KB; see {}",
            MAX_EVENT_BYTES / 1024,
            link.unwrap_or("costwatch (reference below)")
        ),
        "costwatch": costwatch_ids(n),
    });
    event
}

fn wire_size(event: &Value) -> usize {
    serde_json::to_vec(event).map_or(usize::MAX, |b| b.len()) + KEY_ROOM
}

/// What the envelope says, for PagerDuty's details table: the summary, the view's facts, each
/// table as rows of `{header: cell}` (at most `rows`, then "… and N more"), the envelope's raw
/// figures (for Event Orchestration rules) when `figures`, and the ids support asks for.
fn details(n: &Notification, view: &View, rows: usize, figures: bool, link: Option<&str>) -> Value {
    let mut d = Map::new();
    d.insert("Summary".into(), view.summary.clone().into());
    for (label, value) in &view.facts {
        d.insert(label.clone(), value.clone().into());
    }
    for table in &view.tables {
        let shown = table.rows.len().min(rows);
        let mut items: Vec<Value> = table.rows[..shown]
            .iter()
            .map(|row| {
                Value::Object(
                    table
                        .headers
                        .iter()
                        .zip(row)
                        .map(|(h, c)| (h.clone(), Value::String(c.clone())))
                        .collect(),
                )
            })
            .collect();
        if let Some(line) = more_line(table.rows.len() - shown, &table.what, link) {
            items.push(line.into());
        }
        d.insert(table.heading.clone(), Value::Array(items));
    }
    let raw = serde_json::to_value(&n.body)
        .ok()
        .and_then(|b| b.get("figures").cloned())
        .unwrap_or(Value::Null);
    d.insert(
        "figures".into(),
        if figures {
            raw
        } else {
            format!(
                "left out to keep the event within PagerDuty's {} KB; the tables above show them",
                MAX_EVENT_BYTES / 1024
            )
            .into()
        },
    );
    d.insert("costwatch".into(), costwatch_ids(n));
    clean(Value::Object(d))
}

fn costwatch_ids(n: &Notification) -> Value {
    clean(json!({
        "envelope_id": n.id,
        "subject_id": n.subject_id,
        "dedup_key": dedup_key(&n.subject_id),
        "revision": n.revision,
        "kind": n.kind(),
        "state": n.state.as_str(),
        "severity": severity_word(n.severity),
        "scope": n.scope.key,
    }))
}

/// Every string and key as plain text within [`MAX_TEXT`].
fn clean(value: Value) -> Value {
    match value {
        Value::String(s) => text(&s).into(),
        Value::Array(items) => Value::Array(items.into_iter().map(clean).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (text(&k), clean(v))).collect())
        }
        other => other,
    }
}

fn text(s: &str) -> String {
    fit_text(&plain(s), MAX_TEXT, None)
}

fn timestamp(n: &Notification) -> String {
    n.created_at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What the alert is about: the scope as costwatch names it.
fn source(n: &Notification) -> String {
    text(&n.scope.label)
}

/// `name (id)`, the id, or the name.
fn account(n: &Notification) -> Option<String> {
    match (&n.scope.account_name, &n.scope.account_id) {
        (Some(name), Some(id)) => Some(format!("{name} ({id})")),
        (Some(one), None) | (None, Some(one)) => Some(one.clone()),
        (None, None) => None,
    }
}

fn percent(p: f64) -> String {
    format!("{p:+.0}%")
}

/// One line with the scope, the money at stake and the percentage (raw text; escaped by the
/// caller).
pub fn summary(n: &Notification) -> String {
    let money = |m: Money| display(m, &n.currency);
    let signed = |m: Money| display_signed(m, &n.currency);
    let scope = &n.scope.label;
    match &n.body {
        NotificationBody::Anomaly(f) => {
            let word = match f.direction {
                Direction::Rise => "Cost spike",
                Direction::Fall => "Cost drop",
            };
            let pct = f
                .impact_pct
                .map(|p| format!(" ({})", percent(p)))
                .unwrap_or_default();
            let when = if f.start_date == f.date {
                format!("on {}", f.date)
            } else {
                format!("from {} to {}", f.start_date, f.date)
            };
            format!(
                "{word} in {scope}: {}{pct} {when} ({} vs {} expected)",
                signed(f.impact),
                money(f.actual),
                money(f.expected)
            )
        }
        NotificationBody::Budget(f) => {
            let over = f.actual - f.limit;
            let balance = if over.is_sign_positive() && !over.is_zero() {
                format!("{} over", signed(over))
            } else {
                format!("{} left", money(-over))
            };
            let forecast = match f.forecast_pending {
                true => "no month-end forecast yet".to_owned(),
                false => format!("month-end forecast {}", money(f.forecast)),
            };
            format!(
                "Budget \"{}\" for {scope}: {} of {} spent ({}), {balance}; {forecast}",
                f.budget,
                money(f.actual),
                money(f.limit),
                display_percent_used(f.percent_of_limit),
            )
        }
        NotificationBody::Forecast(f) => {
            let change = match (f.previous_month_total, f.change_pct) {
                (Some(prev), Some(p)) => {
                    format!(
                        " ({}, {} vs last month)",
                        signed(f.forecast_total - prev),
                        percent(p)
                    )
                }
                (Some(prev), None) => {
                    format!(" ({} vs last month)", signed(f.forecast_total - prev))
                }
                _ => String::new(),
            };
            format!(
                "Month-end forecast for {scope}, {}: {}{change}; 80% range {}–{}",
                f.month.format("%B %Y"),
                money(f.forecast_total),
                money(f.lo80),
                money(f.hi80)
            )
        }
        NotificationBody::Recommendation(f) => format!(
            "Saving for {scope}: {}: {} a month ({} a year)",
            f.action,
            money(f.monthly_savings),
            money(f.annual_savings)
        ),
        NotificationBody::Report(f) => {
            let period = match f.period {
                ReportPeriod::Daily => "Daily",
                ReportPeriod::Weekly => "Weekly",
            };
            let range = if f.start == f.end {
                f.start.to_string()
            } else {
                format!("{} to {}", f.start, f.end)
            };
            let pct = f
                .change_pct
                .map(|p| format!(", {}", percent(p)))
                .unwrap_or_default();
            format!(
                "{period} cost report for {scope}, {range}: {} ({}{pct} vs previous); month to date {}",
                money(f.total),
                signed(f.total - f.previous_total),
                money(f.month_to_date)
            )
        }
        NotificationBody::Test(f) => format!("costwatch test: {}", f.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_core::samples::of_kind as sample;

    #[test]
    fn summaries_name_the_scope_the_money_and_the_percentage() {
        assert_eq!(
            summary(&sample("anomaly")),
            "Cost spike in Amazon SageMaker in data-platform: +$372.00 (+200%) on 2026-11-20 ($558.00 vs $186.00 expected)"
        );
        let budget = summary(&sample("budget"));
        assert!(
            budget.contains("$15,000.00 of $10,000.00 spent (150%), +$5,000.00 over"),
            "{budget}"
        );
        let report = summary(&sample("report"));
        assert!(
            report.contains("$4,681.23 (+$362.46, +8% vs previous)"),
            "{report}"
        );
    }

    #[test]
    fn one_dedup_key_per_subject_within_255_characters() {
        assert_eq!(dedup_key("an_1"), "costwatch/an_1");
        let long = "x".repeat(300);
        let key = dedup_key(&long);
        assert!(key.chars().count() <= MAX_DEDUP_KEY, "{key}");
        assert_eq!(key, dedup_key(&long));
        assert_ne!(key, dedup_key(&"y".repeat(300)));
    }

    #[test]
    fn states_and_kinds_choose_the_action() {
        let mut n = sample("anomaly");
        assert_eq!(Action::of(&n, Ongoing::Change), Action::Trigger);
        n.state = State::Ongoing;
        assert_eq!(Action::of(&n, Ongoing::Change), Action::Change);
        assert_eq!(Action::of(&n, Ongoing::Acknowledge), Action::Acknowledge);
        n.state = State::Resolved;
        assert_eq!(Action::of(&n, Ongoing::Acknowledge), Action::Resolve);
        for kind in ["recommendation", "report", "test"] {
            assert_eq!(Action::of(&sample(kind), Ongoing::Change), Action::Change);
        }
        assert_eq!(
            [
                Severity::Critical,
                Severity::High,
                Severity::Medium,
                Severity::Low,
                Severity::Info
            ]
            .map(severity),
            ["critical", "error", "warning", "info", "info"]
        );
    }
}
