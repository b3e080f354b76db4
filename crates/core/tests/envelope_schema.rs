//! Every envelope the code produces validates against the committed JSON Schema, the schema
//! rejects what it should, and the sample files under events/notifications/ are exactly what
//! the code produces (run with UPDATE_SAMPLES=1 to rewrite them after a deliberate change).

use std::path::PathBuf;

use costwatch_core::Notification;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn validator() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(repo().join("schemas/notification.v1.json")).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn every_sample_validates_and_round_trips() {
    let v = validator();
    let samples = costwatch_core::samples::all();
    let kinds: Vec<_> = samples.iter().map(|(_, n)| n.kind()).collect();
    assert_eq!(
        kinds,
        [
            "anomaly",
            "budget",
            "forecast",
            "recommendation",
            "report",
            "test"
        ]
    );
    for (name, n) in samples {
        let doc = serde_json::to_value(&n).unwrap();
        assert!(
            errors(&v, &doc).is_empty(),
            "{name}: {:?}",
            errors(&v, &doc)
        );
        let back: Notification = serde_json::from_value(doc).unwrap();
        assert_eq!(back, n);
    }
}

#[test]
fn sample_files_match_the_code() {
    let dir = repo().join("events/notifications");
    for (name, n) in costwatch_core::samples::all() {
        let path = dir.join(format!("{name}.json"));
        let expected = serde_json::to_string_pretty(&n).unwrap() + "\n";
        if std::env::var_os("UPDATE_SAMPLES").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &expected).unwrap();
        }
        let found =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            found,
            expected,
            "{} is stale: rerun with UPDATE_SAMPLES=1",
            path.display()
        );
    }
}

/// A named change that must make an envelope invalid.
type Mutation = Box<dyn Fn(&mut Value)>;

#[test]
fn schema_rejects_broken_envelopes() {
    let v = validator();
    let (_, anomaly) = costwatch_core::samples::all().remove(0);
    let good = serde_json::to_value(&anomaly).unwrap();
    let broken: Vec<(&str, Mutation)> = vec![
        ("kind unknown", Box::new(|d| d["kind"] = "alert".into())),
        (
            "figures of another kind",
            Box::new(|d| d["kind"] = "budget".into()),
        ),
        (
            "money as float",
            Box::new(|d| d["figures"]["actual"] = 558.0.into()),
        ),
        (
            "missing id",
            Box::new(|d| {
                d.as_object_mut().unwrap().remove("id");
            }),
        ),
        ("extra field", Box::new(|d| d["extra"] = true.into())),
        ("bad state", Box::new(|d| d["state"] = "closed".into())),
        (
            "bad date",
            Box::new(|d| d["figures"]["date"] = "20/11/2026".into()),
        ),
        ("version 2", Box::new(|d| d["version"] = 2.into())),
    ];
    for (what, mutate) in broken {
        let mut doc = good.clone();
        mutate(&mut doc);
        assert!(!errors(&v, &doc).is_empty(), "schema accepted: {what}");
    }
    // A forecast's drivers: at least one cause, each of a known dimension, dates as dates.
    let forecast = costwatch_core::samples::all()
        .into_iter()
        .find(|(name, _)| *name == "forecast")
        .map(|(_, n)| serde_json::to_value(n).unwrap())
        .unwrap();
    assert!(errors(&v, &forecast).is_empty());
    let broken: Vec<(&str, Mutation)> = vec![
        (
            "no causes",
            Box::new(|d| d["figures"]["drivers"]["causes"] = serde_json::json!([])),
        ),
        (
            "unknown dimension",
            Box::new(|d| d["figures"]["drivers"]["causes"][0]["dimension"] = "team".into()),
        ),
        (
            "bad compared date",
            Box::new(|d| d["figures"]["drivers"]["compared_to"] = "October".into()),
        ),
    ];
    for (what, mutate) in broken {
        let mut doc = forecast.clone();
        mutate(&mut doc);
        assert!(!errors(&v, &doc).is_empty(), "schema accepted: {what}");
    }
}

#[test]
fn ids_are_deterministic_and_differ_per_transition() {
    let (_, a) = costwatch_core::samples::all().remove(0);
    let (_, again) = costwatch_core::samples::all().remove(0);
    assert_eq!(a.id, again.id);
    let rebuilt = Notification::new(
        a.subject_id.clone(),
        1,
        a.body.clone(),
        a.severity,
        costwatch_core::State::Resolved,
        a.title.clone(),
        a.summary.clone(),
        a.scope.clone(),
        a.created_at,
    );
    assert_eq!(rebuilt.subject_id, a.subject_id);
    assert_ne!(rebuilt.id, a.id);
}

/// The budget sample (an open crossing) and the crossing that produced it, on `scope`.
fn budget_sample(
    scope: costwatch_core::Scope,
) -> (
    costwatch_core::Notification,
    costwatch_core::findings::BudgetCrossing,
) {
    let (_, open) = costwatch_core::samples::all()
        .into_iter()
        .find(|(k, _)| *k == "budget")
        .unwrap();
    let costwatch_core::NotificationBody::Budget(b) = &open.body else {
        panic!("budget sample")
    };
    let crossing = costwatch_core::findings::BudgetCrossing {
        budget: b.budget.clone(),
        scope,
        period_start: b.period_start,
        period_end: b.period_end,
        as_of: b.as_of,
        limit: b.limit,
        actual: b.actual,
        forecast: b.forecast,
        forecast_pending: false,
        threshold: costwatch_core::findings::Threshold {
            percent: b.threshold_percent,
            basis: b.basis,
        },
        percent_of_limit: b.percent_of_limit,
        breach_date: b.breach_date,
        allowed_daily_spend: b.allowed_daily_spend,
        auto_adjusted_months: b.auto_adjusted_months,
    };
    (open, crossing)
}

#[test]
fn a_resolved_budget_update_validates_and_keeps_its_subject() {
    use costwatch_core::notification::State;
    let v = validator();
    let (open, mut crossing) = budget_sample(costwatch_core::Scope::Account("444455556666".into()));
    crossing.actual = crossing.limit - rust_decimal::Decimal::ONE;
    crossing.percent_of_limit = 99.99;
    crossing.breach_date = None;
    crossing.allowed_daily_spend = Some(rust_decimal::Decimal::ONE);
    let n = costwatch_core::envelopes::budget_update(
        &crossing,
        State::Resolved,
        1,
        None,
        open.created_at,
    );
    let doc = serde_json::to_value(&n).unwrap();
    assert!(errors(&v, &doc).is_empty(), "{:?}", errors(&v, &doc));
    assert_eq!(n.subject_id, open.subject_id);
    assert_ne!(n.id, open.id);
    assert!(n.title.starts_with("Back under 100%"), "{}", n.title);
    // 99.99 % reads 99 %: rounded, the title said "Back under 100%: … 100% of $10,000.00".
    assert!(n.title.contains("\": 99% of "), "{}", n.title);
}

/// An auto-adjusting budget's crossing says its limit is an average, in the figures and the
/// summary, and validates; the schema holds the months to AWS's 1 to 12.
#[test]
fn an_auto_adjusting_budgets_envelope_says_its_limit_is_an_average() {
    let v = validator();
    let (open, mut crossing) = budget_sample(costwatch_core::Scope::Org);
    crossing.auto_adjusted_months = Some(3);
    let n = costwatch_core::envelopes::budget(&crossing, None, open.created_at);
    let mut doc = serde_json::to_value(&n).unwrap();
    assert!(errors(&v, &doc).is_empty(), "{:?}", errors(&v, &doc));
    assert_eq!(doc["figures"]["auto_adjusted_months"], 3);
    assert!(
        n.summary
            .contains("The budget adjusts itself: $10,000.00 is the average of the last 3 months."),
        "{}",
        n.summary
    );
    doc["figures"]["auto_adjusted_months"] = 13.into();
    assert!(!errors(&v, &doc).is_empty(), "13 months refused");
    // A fixed budget's envelope has no such field.
    let fixed = serde_json::to_value(&open).unwrap();
    assert!(fixed["figures"].get("auto_adjusted_months").is_none());
}

/// A budget crossed before its scope can be forecast (the first two weeks of data): the
/// envelope says there is no forecast instead of giving the spend to date as one, and validates.
#[test]
fn a_crossing_without_a_forecast_says_so_and_validates() {
    let v = validator();
    let (open, mut crossing) = budget_sample(costwatch_core::Scope::Org);
    crossing.forecast = crossing.actual;
    crossing.forecast_pending = true;
    crossing.breach_date = None;
    crossing.allowed_daily_spend = None;
    let n = costwatch_core::envelopes::budget(&crossing, None, open.created_at);
    let doc = serde_json::to_value(&n).unwrap();
    assert!(errors(&v, &doc).is_empty(), "{:?}", errors(&v, &doc));
    assert_eq!(doc["figures"]["forecast_pending"], true);
    assert!(
        n.summary.contains("no month-end forecast yet")
            && !n.summary.contains("month-end forecast $"),
        "{}",
        n.summary
    );
    // A known forecast leaves the field out: envelopes read as before.
    let known = serde_json::to_value(&open).unwrap();
    assert!(
        known["figures"].get("forecast_pending").is_none(),
        "{known}"
    );
}

/// A crossing on its period's first day says the day once.
#[test]
fn a_crossing_on_the_first_day_says_spent_on_that_day() {
    let (open, mut crossing) = budget_sample(costwatch_core::Scope::Org);
    crossing.as_of = crossing.period_start;
    let n = costwatch_core::envelopes::budget(&crossing, None, open.created_at);
    assert!(
        n.summary.contains(" spent on 2026-11-01; ") && !n.summary.contains(" to 2026-11-01"),
        "{}",
        n.summary
    );
    assert!(
        open.summary
            .contains(" spent from 2026-11-01 to 2026-11-20; "),
        "{}",
        open.summary
    );
}

/// A quarterly budget's line in a report names its period, and validates; a monthly one's
/// sends nothing new. Its crossing's summary speaks of the quarter's end.
#[test]
fn a_quarterly_budget_validates_and_says_quarter() {
    use costwatch_core::findings::BudgetPeriod;
    let v = validator();
    let mut report = costwatch_core::samples::of_kind("report");
    let costwatch_core::NotificationBody::Report(r) = &mut report.body else {
        panic!("report sample")
    };
    assert!(
        serde_json::to_value(&r.budgets[0])
            .unwrap()
            .get("period")
            .is_none()
    );
    r.budgets[0].period = BudgetPeriod::Quarterly;
    let mut doc = serde_json::to_value(&report).unwrap();
    assert!(errors(&v, &doc).is_empty(), "{:?}", errors(&v, &doc));
    doc["figures"]["budgets"][0]["period"] = "weekly".into();
    assert!(
        !errors(&v, &doc).is_empty(),
        "only quarterly or annually is sent"
    );

    let (open, mut crossing) = budget_sample(costwatch_core::Scope::Org);
    let day = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    (crossing.period_start, crossing.period_end) = (day(10, 1), day(12, 31));
    let n = costwatch_core::envelopes::budget(&crossing, None, open.created_at);
    let doc = serde_json::to_value(&n).unwrap();
    assert!(errors(&v, &doc).is_empty(), "{:?}", errors(&v, &doc));
    assert!(n.summary.contains("from 2026-10-01"), "{}", n.summary);
    assert!(
        n.summary.contains("quarter-end forecast $"),
        "{}",
        n.summary
    );
}
