//! The built `forecast` binary under the Runtime API emulator on moto
//! (costwatch_testkit::deployed): the sample AggregatesUpdated of events/forecast/ over 30 days of
//! rollups forecasts the month; the malformed sample of events/aggregate/ is dead-lettered with
//! its reason; with the state table gone, the sample is dead-lettered naming the missing resource.

use costwatch_testkit::deployed::Deployed;
use costwatch_testkit::repo_file;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forecast_binary_answers_success_malformed_and_a_missing_table() {
    let mut forecast = Deployed::start(env!("CARGO_BIN_EXE_forecast"), "forecast", &[]).await;
    let as_of = "2026-11-21".parse().unwrap(); // the sample's `as_of`
    forecast
        .seed(&costwatch_core::synth::generate(7, as_of, 30))
        .await;
    let sample = repo_file("events/forecast/sns-aggregates-updated.json");

    let summary = forecast.summary(&sample);
    assert_eq!(summary["as_of"], "2026-11-21", "{summary}");
    assert!(summary["forecasts"].as_u64().unwrap() > 0, "{summary}");
    let logs = forecast.restart(&[]);
    assert!(
        logs.contains("\"MonthEndForecast\""),
        "no EMF forecast line:\n{logs}"
    );

    let malformed = repo_file("events/aggregate/sns-malformed.json");
    forecast
        .assert_dead_lettered(&malformed, "Records[0]")
        .await;

    forecast.delete_table().await;
    forecast
        .assert_dead_lettered(&sample, "ResourceNotFound")
        .await;
}
