//! One envelope as a product-analytics event (Mixpanel, Amplitude, Google Analytics 4): a name
//! from a small fixed set, the time, the envelope's id for deduplication, one user id per scope
//! (so every state of a subject — detected, resolved — lands on the same "user" and a funnel by
//! account works), and flat properties: figures as numbers, the currency as a property, dates as
//! `YYYY-MM-DD`, user text made inert.
//!
//! Every property name is fixed here, lowercase `snake_case` of at most 40 characters, and an
//! event has at most [`MAX_PROPERTIES`] of them: the strictest of the three vendors (GA4) takes
//! 25 parameters of 40-character names; the others take more.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_core::Notification;
use costwatch_core::findings::Drivers;
use costwatch_core::money::{Money, to_f64};
use costwatch_core::notification::{NotificationBody, ReportPeriod, State};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::escape::plain;
use crate::fit::fit_text;
use crate::request::{Body, VendorRequest};

/// Properties per event, at most (GA4's parameter limit).
pub const MAX_PROPERTIES: usize = 25;
/// A property name's length, at most (GA4's).
pub const MAX_NAME: usize = 40;

/// Every event name costwatch sends, in the order of the docs pages.
pub const EVENT_NAMES: [&str; 8] = [
    "cost_anomaly_detected",
    "cost_anomaly_updated",
    "cost_anomaly_resolved",
    "budget_threshold_crossed",
    "cost_forecast_updated",
    "recommendation_created",
    "report_generated",
    "costwatch_test",
];

/// One envelope as an analytics event.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductEvent {
    /// One of [`EVENT_NAMES`].
    pub name: &'static str,
    /// When costwatch raised it (the envelope's `created_at`): stable across redeliveries, so a
    /// vendor that deduplicates on (name, time, user, insert id) sees the same event.
    pub time: DateTime<Utc>,
    /// The envelope's id.
    pub envelope_id: String,
    /// One id per scope, see [`user_id`].
    pub user_id: String,
    /// Flat, in a fixed order; strings not yet fitted to a vendor's length limit.
    pub properties: Vec<(&'static str, Value)>,
}

/// The "user" of every event about `scope_key`: `costwatch:` and the scope key
/// (`costwatch:account=444455556666`), or — for a key longer than 64 characters (long tag
/// values) — `costwatch:` and 32 hex digits of its SHA-256, so it fits every vendor's id limit
/// (GA4 client ids, Mixpanel's 255 characters) and Amplitude's 5-character minimum.
pub fn user_id(scope_key: &str) -> String {
    if scope_key.chars().count() <= 64 && !scope_key.chars().any(char::is_control) {
        format!("costwatch:{scope_key}")
    } else {
        format!("costwatch:{}", hash32(scope_key))
    }
}

/// 32 hex digits of the SHA-256 of `id`: a deduplication id in the alphabet and length every
/// vendor accepts (Mixpanel's `$insert_id`: at most 36 letters, digits and `-`).
pub fn insert_id(id: &str) -> String {
    hash32(id)
}

fn hash32(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))[..32].to_owned()
}

/// A number property from money (JSON numbers; analytics tools sum and average them).
fn money(m: Money) -> Value {
    number(to_f64(m))
}

fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn date(d: NaiveDate) -> Value {
    Value::String(d.format("%Y-%m-%d").to_string())
}

fn word<T: Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// What moved the month most, beside a budget's or forecast's figures ("account web-prod",
/// +1840.00), as a report's `top_mover`: what an analyst charts alerts by.
fn top_driver(drivers: Option<&Drivers>) -> Vec<(&'static str, Value)> {
    let Some(top) = drivers.and_then(|d| d.causes.first()) else {
        return Vec::new();
    };
    vec![
        ("top_driver", text(&top.label())),
        ("top_driver_change", money(top.contribution)),
    ]
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

impl ProductEvent {
    pub fn of(n: &Notification) -> ProductEvent {
        let scope = &n.scope;
        let mut p: Vec<(&'static str, Value)> = vec![
            ("envelope_id", text(&n.id)),
            ("subject_id", text(&n.subject_id)),
            ("kind", text(n.kind())),
            ("severity", word(n.severity)),
            ("state", word(n.state)),
            ("revision", Value::from(n.revision)),
            ("scope_kind", word(scope.kind)),
            ("scope", text(&scope.label)),
            ("currency", text(&n.currency)),
        ];
        if let Some(a) = &scope.account_id {
            p.push(("account_id", text(a)));
        }
        if let Some(a) = &scope.account_name {
            p.push(("account_name", text(a)));
        }
        if let Some(s) = &scope.service {
            p.push(("service", text(s)));
        }
        let name = match &n.body {
            NotificationBody::Anomaly(f) => {
                p.extend([
                    ("anomaly_date", date(f.date)),
                    ("start_date", date(f.start_date)),
                    ("direction", word(f.direction)),
                    ("actual", money(f.actual)),
                    ("expected", money(f.expected)),
                    ("expected_low", money(f.expected_low)),
                    ("expected_high", money(f.expected_high)),
                    ("impact", money(f.impact)),
                    ("score", number(f.score)),
                ]);
                p.extend(f.impact_pct.map(|v| ("impact_pct", number(v))));
                if let Some(top) = f.root_causes.first() {
                    p.push((
                        "top_cause",
                        text(&format!("{} {}", top.dimension, top.value)),
                    ));
                }
                match n.state {
                    State::Open => "cost_anomaly_detected",
                    State::Ongoing => "cost_anomaly_updated",
                    State::Acknowledged => "cost_anomaly_acknowledged",
                    State::Resolved => "cost_anomaly_resolved",
                }
            }
            NotificationBody::Budget(f) => {
                p.extend([
                    ("budget", text(&f.budget)),
                    ("threshold_percent", Value::from(f.threshold_percent)),
                    ("basis", word(f.basis)),
                    ("percent_of_limit", number(f.percent_of_limit)),
                    ("limit", money(f.limit)),
                    ("actual", money(f.actual)),
                    ("period_start", date(f.period_start)),
                    ("period_end", date(f.period_end)),
                    // "monthly", "quarterly", "annually": what analysts segment budgets by.
                    ("budget_period", word(f.period())),
                    ("as_of", date(f.as_of)),
                ]);
                p.extend(f.breach_date.map(|d| ("breach_date", date(d))));
                p.extend(
                    f.auto_adjusted_months
                        .map(|m| ("auto_adjusted_months", Value::from(m))),
                );
                // No forecast yet: the property is left out rather than set to the actual.
                p.extend((!f.forecast_pending).then(|| ("forecast", money(f.forecast))));
                p.extend(top_driver(f.drivers.as_ref()));
                "budget_threshold_crossed"
            }
            NotificationBody::Forecast(f) => {
                p.extend([
                    ("month", date(f.month)),
                    ("as_of", date(f.as_of)),
                    ("actual_to_date", money(f.actual_to_date)),
                    ("forecast_total", money(f.forecast_total)),
                    ("forecast_lo80", money(f.lo80)),
                    ("forecast_hi80", money(f.hi80)),
                ]);
                p.extend(
                    f.previous_month_total
                        .map(|m| ("previous_month_total", money(m))),
                );
                p.extend(f.change_pct.map(|v| ("change_pct", number(v))));
                p.extend(top_driver(f.drivers.as_ref()));
                "cost_forecast_updated"
            }
            NotificationBody::Recommendation(f) => {
                p.extend([
                    ("category", text(&f.category)),
                    ("action", text(&f.action)),
                    ("current_monthly_cost", money(f.current_monthly_cost)),
                    ("monthly_savings", money(f.monthly_savings)),
                    ("annual_savings", money(f.annual_savings)),
                ]);
                p.extend(f.resource_id.as_deref().map(|r| ("resource_id", text(r))));
                "recommendation_created"
            }
            NotificationBody::Report(f) => {
                let period = match f.period {
                    ReportPeriod::Daily => "daily",
                    ReportPeriod::Weekly => "weekly",
                };
                p.extend([
                    ("period", text(period)),
                    ("start", date(f.start)),
                    ("end", date(f.end)),
                    ("total", money(f.total)),
                    ("previous_total", money(f.previous_total)),
                    ("month_to_date", money(f.month_to_date)),
                    ("open_anomalies", Value::from(f.open_anomalies)),
                ]);
                p.extend(f.change_pct.map(|v| ("change_pct", number(v))));
                p.extend(
                    f.forecast_month_end
                        .map(|m| ("forecast_month_end", money(m))),
                );
                p.extend(f.saved_so_far.map(|m| ("saved_so_far", money(m))));
                if let Some(top) = f.top_movers.first() {
                    p.push(("top_mover", text(&top.label)));
                    p.push(("top_mover_change", money(top.change)));
                }
                "report_generated"
            }
            NotificationBody::Test(f) => {
                p.push(("message", text(&f.message)));
                "costwatch_test"
            }
        };
        p.retain(|(_, v)| !v.is_null());
        ProductEvent {
            name,
            time: n.created_at,
            envelope_id: n.id.clone(),
            user_id: user_id(&scope.key),
            properties: p,
        }
    }

    /// The properties as a JSON object, every string made inert (control characters removed,
    /// `@` defused, see [`plain`]) and fitted to `max_chars` with a visible note.
    pub fn properties_json(&self, max_chars: usize) -> Map<String, Value> {
        self.properties
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => Value::String(fit_text(&plain(s), max_chars, None)),
                    other => other.clone(),
                };
                ((*k).to_owned(), v)
            })
            .collect()
    }
}

/// `items` in batches of at most `max_items` each and at most `max_bytes` serialized with
/// `wrapper_bytes` around them and a comma between (a single item larger than that travels
/// alone; ours are a few hundred bytes).
pub fn batches(
    items: Vec<Value>,
    max_items: usize,
    max_bytes: usize,
    wrapper_bytes: usize,
) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut size = wrapper_bytes;
    for item in items {
        let len = serde_json::to_vec(&item).map_or(0, |b| b.len());
        if !current.is_empty() && (current.len() == max_items || size + 1 + len > max_bytes) {
            out.push(std::mem::take(&mut current));
            size = wrapper_bytes;
        }
        size += usize::from(!current.is_empty()) + len;
        current.push(item);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// What is left of a batch after the vendor refused some of its events by index (Amplitude's
/// 400 naming events, Mixpanel's `strict=1` 400 with `failed_records`): the same request with the
/// JSON array at `events_at` (a JSON pointer, `""` for a body that is the array) without the
/// `refused` events, or `None` when nothing is left or nothing was refused. The refused events
/// can never succeed; they are logged with `why` (the vendor's words) so a dropped event is
/// never silent. Serves an [`Integration::remainder`](crate::Integration::remainder).
pub fn without_refused(
    request: &VendorRequest,
    events_at: &str,
    refused: &BTreeSet<usize>,
    why: &str,
) -> Option<VendorRequest> {
    let mut rest = request.clone();
    let (Body::Json(json) | Body::SecretJson { json, .. }) = &mut rest.body else {
        return None;
    };
    let events = json.pointer_mut(events_at)?.as_array_mut()?;
    let total = events.len();
    let mut index = 0;
    events.retain(|_| {
        index += 1;
        !refused.contains(&(index - 1))
    });
    let dropped = total - events.len();
    if dropped == 0 {
        return None;
    }
    tracing::warn!(
        step = %request.step,
        dropped,
        of = total,
        reason = %why,
        "the vendor refused these events for good: dropped"
    );
    (!events.is_empty()).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refused_events_are_dropped_and_the_rest_kept_in_order() {
        let root = VendorRequest::post_json("import", "https://x.test/i".into(), json!([1, 2, 3]));
        let refused: BTreeSet<usize> = [0, 2].into();
        let rest = without_refused(&root, "", &refused, "invalid").unwrap();
        assert_eq!(rest.body.json(), Some(&json!([2])));
        let nested = VendorRequest::post_json(
            "send",
            "https://x.test/s".into(),
            json!({"key": "k", "events": ["a", "b"]}),
        );
        let rest = without_refused(&nested, "/events", &[1].into(), "invalid").unwrap();
        assert_eq!(
            rest.body.json(),
            Some(&json!({"key": "k", "events": ["a"]}))
        );
        assert!(without_refused(&nested, "/events", &[0, 1].into(), "all").is_none());
        assert!(without_refused(&nested, "/events", &[7].into(), "none named").is_none());
        assert!(without_refused(&nested, "/missing", &[0].into(), "no array").is_none());
    }

    #[test]
    fn every_sample_is_an_event_within_the_strictest_limits() {
        for (stem, n) in costwatch_core::samples::all() {
            let e = ProductEvent::of(&n);
            assert!(EVENT_NAMES.contains(&e.name), "{stem}: {}", e.name);
            assert!(
                e.properties.len() <= MAX_PROPERTIES,
                "{stem}: {}",
                e.properties.len()
            );
            for (k, _) in &e.properties {
                assert!(k.len() <= MAX_NAME && k.starts_with(|c: char| c.is_ascii_lowercase()));
                assert!(
                    k.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                );
            }
            let props = e.properties_json(100);
            assert_eq!(props["envelope_id"], json!(n.id), "{stem}");
            assert_eq!(props["currency"], json!(n.currency), "{stem}");
        }
    }

    #[test]
    fn figures_are_numbers_and_states_name_the_event() {
        let mut n = costwatch_core::samples::of_kind("anomaly");
        let e = ProductEvent::of(&n);
        assert_eq!(e.name, "cost_anomaly_detected");
        let props = e.properties_json(100);
        assert_eq!(props["impact"], json!(372.0));
        assert_eq!(props["actual"], json!(558.0));
        assert_eq!(props["account_id"], json!("444455556666"));
        n.state = State::Resolved;
        let resolved = ProductEvent::of(&n);
        assert_eq!(resolved.name, "cost_anomaly_resolved");
        assert_eq!(resolved.user_id, e.user_id, "one user per scope");
        assert_eq!(
            e.user_id,
            "costwatch:account=444455556666|service=Amazon SageMaker"
        );
        let budget = ProductEvent::of(&costwatch_core::samples::of_kind("budget"));
        assert_eq!(budget.name, "budget_threshold_crossed");
        assert_ne!(budget.user_id, e.user_id, "another scope is another user");
        assert_eq!(budget.properties_json(100)["budget_period"], "monthly");
        let mut year = costwatch_core::samples::of_kind("budget");
        if let NotificationBody::Budget(f) = &mut year.body {
            let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
            (f.period_start, f.period_end) = (day(2026, 4, 1), day(2027, 3, 31));
        }
        let props = ProductEvent::of(&year).properties_json(100);
        assert_eq!(
            props["budget_period"], "annually",
            "a fiscal year is a year"
        );
    }

    #[test]
    fn long_or_odd_scope_keys_become_a_hash_and_ids_fit_mixpanel() {
        let long = "tag=team|value=".to_owned() + &"x".repeat(100);
        let id = user_id(&long);
        assert_eq!(id.len(), "costwatch:".len() + 32);
        assert_eq!(id, user_id(&long));
        assert_ne!(user_id("a\u{7}b"), "costwatch:a\u{7}b");
        let insert = insert_id("ntf_5ccb6cafb116f1b24b96");
        assert_eq!(insert.len(), 32);
        assert!(insert.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn user_text_is_inert_and_fitted() {
        let mut n = costwatch_core::samples::of_kind("budget");
        if let NotificationBody::Budget(f) = &mut n.body {
            f.budget = format!("@everyone \u{202E}{}", "y".repeat(300));
        }
        let props = ProductEvent::of(&n).properties_json(100);
        let budget = props["budget"].as_str().unwrap();
        assert!(
            budget.chars().count() <= 100 && !budget.contains("@everyone"),
            "{budget}"
        );
        assert!(!budget.contains('\u{202E}') && budget.contains("more characters"));
    }

    #[test]
    fn batches_respect_count_and_bytes_and_lose_nothing() {
        let items: Vec<Value> = (0..45).map(|i| json!({"i": i})).collect();
        let by_count = batches(items.clone(), 20, usize::MAX, 2);
        assert_eq!(
            by_count.iter().map(Vec::len).collect::<Vec<_>>(),
            [20, 20, 5]
        );
        let one = serde_json::to_vec(&items[0]).unwrap().len();
        let by_bytes = batches(items.clone(), 2000, 2 + 10 * (one + 1), 2);
        assert!(by_bytes.iter().all(|b| {
            serde_json::to_vec(&Value::Array(b.clone())).unwrap().len() <= 2 + 10 * (one + 1)
        }));
        assert_eq!(by_bytes.into_iter().flatten().collect::<Vec<_>>(), items);
    }
}
