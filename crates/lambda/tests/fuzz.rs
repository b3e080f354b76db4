//! Fuzz targets for what the pipeline Lambdas read from outside (issue 17): the scheduled
//! EventBridge events, the SNS deliveries of pipeline events, and the settings in their
//! environment (pipeline configuration, budgets, watched metrics — JSON set by template.yaml).
//! Each gets arbitrary bytes and mutations of a valid sample, parsed the way the runtime hands
//! them over (bytes → JSON value → handler); the answer is a value or a `HandlerError`, never a
//! panic, within `costwatch_testkit::fuzz::memory_bound`. `PROPTEST_CASES` sets the number of
//! cases (`make fuzz`).

use costwatch_analytics::budget::Budget;
use costwatch_lambda::HandlerError;
use costwatch_lambda::env::{BUDGETS, Env, PIPELINE_CONFIG};
use costwatch_lambda::events::{PipelineEvent, from_sns, scheduled_time};
use costwatch_lambda::handlers::metrics::{self, WATCHED_METRICS};
use costwatch_pipeline::PipelineConfig;
use costwatch_testkit::fuzz;
use costwatch_testkit::repo_file;
use proptest::prelude::*;
use serde_json::{Value, json};

costwatch_testkit::counting_allocator!();

fn sample(path: &str) -> Value {
    serde_json::from_str(&repo_file(path)).unwrap()
}

/// The runtime's part (bytes to a JSON value) and the handler's, measured together.
fn from_bytes<T>(
    text: &str,
    parse: impl FnOnce(Value) -> Result<T, HandlerError>,
) -> Result<Result<T, String>, TestCaseError> {
    fuzz::bounded(text.len(), || {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        parse(value).map_err(|e| {
            // Bad input is never worth a retry.
            assert!(!e.is_retryable(), "{e}");
            e.to_string()
        })
    })
}

/// Every pipeline event, as the message an SNS record carries.
fn messages() -> Vec<Value> {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    [
        PipelineEvent::CostDataCollected {
            days: vec![day, day.succ_opt().unwrap()],
            records: 412,
            requests: 2,
        },
        PipelineEvent::AggregatesUpdated {
            days: vec![day],
            as_of: day,
        },
        PipelineEvent::AnomaliesDetected { as_of: day },
        PipelineEvent::ForecastsUpdated { as_of: day },
    ]
    .iter()
    .map(|e| serde_json::to_value(e).unwrap())
    .collect()
}

/// An SNS delivery damaged outside (the record) or inside (the pipeline event in `Message`).
fn sns_input() -> impl Strategy<Value = String> {
    let outer = sample("events/aggregate/sns-cost-data-collected.json");
    let inner = proptest::sample::select(messages()).prop_flat_map(|m| fuzz::mutated_json(&m));
    prop_oneof![
        1 => fuzz::json_input(&outer),
        2 => inner.prop_map(move |message| {
            let mut event = outer.clone();
            event["Records"][0]["Sns"]["Message"] = Value::String(message);
            event.to_string()
        }),
    ]
}

/// The pipeline configuration with every field, and two budgets.
fn pipeline_json() -> (Value, Value) {
    let budgets = json!([
        {"name": "org", "scope": "org", "amount": "1000"},
        {"name": "ec2", "scope": "service=Amazon EC2", "amount": "250",
         "thresholds": [{"percent": 80, "basis": "actual"}, {"percent": 100, "basis": "forecast"}]}
    ]);
    let mut config = PipelineConfig {
        dashboard_url: Some("https://costs.example.com".into()),
        ..PipelineConfig::default()
    };
    config.budgets = serde_json::from_value::<Vec<Budget>>(budgets.clone()).unwrap();
    (serde_json::to_value(&config).unwrap(), budgets)
}

proptest! {
    #![proptest_config(fuzz::config(64))]

    #[test]
    fn fuzz_eventbridge_event(text in prop_oneof![
        fuzz::json_input(&sample("events/collect/scheduled.json")),
        fuzz::json_input(&sample("events/metrics/scheduled.json")),
        fuzz::json_input(&sample("events/recommend/weekly.json")),
    ]) {
        // A time, or the reason the event is not a scheduled one: both are answers.
        let _time = from_bytes(&text, scheduled_time)?;
    }

    #[test]
    fn fuzz_sns_event(text in sns_input()) {
        if let Ok(events) = from_bytes(&text, from_sns)? {
            prop_assert!(!events.is_empty());
        }
    }

    #[test]
    fn fuzz_pipeline_config(
        config in fuzz::json_input(&pipeline_json().0),
        budgets in prop_oneof![Just(None), fuzz::json_input(&pipeline_json().1).prop_map(Some)],
    ) {
        let mut vars = vec![(PIPELINE_CONFIG, config.clone())];
        vars.extend(budgets.clone().map(|b| (BUDGETS, b)));
        let env = Env::from_pairs(vars);
        let len = config.len() + budgets.map_or(0, |b| b.len());
        if let Err(e) = fuzz::bounded(len, || env.pipeline_config())? {
            prop_assert!(matches!(e, HandlerError::Config(_) | HandlerError::Pipeline(_)), "{e}");
        }
    }

    #[test]
    fn fuzz_watched_metrics(text in fuzz::json_input(&json!([
        {"metric": {"namespace": "AWS/EC2", "name": "CPUUtilization",
                    "dimensions": {"InstanceId": "i-0abc"}},
         "stat": "Average", "period_secs": 300},
        {"metric": {"namespace": "AWS/Lambda", "name": "Duration"}, "stat": "p99", "period_secs": 60}
    ]))) {
        let env = Env::from_pairs([(WATCHED_METRICS, text.clone())]);
        if let Err(e) = fuzz::bounded(text.len(), || metrics::settings(&env))? {
            prop_assert!(!e.is_retryable(), "{e}");
        }
    }
}
