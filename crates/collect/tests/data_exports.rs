//! The built `collect` binary with `COSTWATCH_COST_SOURCE=data-exports`, under the Runtime API
//! emulator on moto: the scheduled event's day gives the window AWS may still revise (last month
//! and this month up to yesterday), one Athena query answers it (moto's queued result), every day of the
//! window is replaced in the lake, the Athena ledger is written and the days are announced. A
//! query Athena fails for good (a scripted endpoint: COLUMN_NOT_FOUND) is dead-lettered with
//! Athena's reason, and nothing is announced.

use chrono::NaiveDate;
use costwatch_pipeline::lake::read_day;
use costwatch_query::athena::aws_sdk_athena;
use costwatch_query::{DailyQuery, ExportTable, Window};
use costwatch_store::StateStore;
use costwatch_store::aws::{DynamoState, S3Lake};
use costwatch_testkit::aws_json_fake::{AwsJsonFake, Reply};
use costwatch_testkit::deployed::Deployed;
use costwatch_testkit::moto_athena::{executions_advance_per_poll, queue_query_results};
use costwatch_testkit::repo_file;
use costwatch_testkit::stack::{BUCKET, TABLE, drain};
use serde_json::{Value, json};

fn row(day: &str, amount: &str) -> Vec<Option<String>> {
    [
        Some(day),
        Some("111111111111"),
        None,
        Some("222222222222"),
        None,
        Some("Amazon Simple Storage Service"),
        Some("us-east-1"),
        Some("USD"),
        Some("TimedStorage-ByteHrs"),
        Some("Usage"),
        Some("data"),
        Some(amount),
        Some(amount),
        None,
    ]
    .map(|c| c.map(str::to_owned))
    .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_binary_queries_a_data_export_on_athena() {
    let env = [
        ("COSTWATCH_COST_SOURCE", "data-exports"),
        ("COSTWATCH_ATHENA_WORKGROUP", "costwatch-data-exports"),
        ("COSTWATCH_ATHENA_DATABASE", "costwatch_db"),
        ("COSTWATCH_ATHENA_TABLE", "cur2"),
        ("COSTWATCH_CE_TAG_KEYS", "team"),
    ];
    let mut collect = Deployed::start(env!("CARGO_BIN_EXE_collect"), "collect", &env).await;
    executions_advance_per_poll(&collect.moto);
    aws_sdk_athena::Client::new(&collect.config)
        .create_work_group()
        .name("costwatch-data-exports")
        .send()
        .await
        .unwrap();
    let announced = collect
        .stack
        .subscribe_queue(&collect.stack.pipeline_topic_arn, "to-aggregate", None)
        .await;
    let sample = repo_file("events/collect/scheduled.json");
    let scheduled: Value = serde_json::from_str(&sample).unwrap();
    let today: NaiveDate = scheduled["time"].as_str().unwrap()[..10].parse().unwrap();
    let window = Window::restated(today);
    let restated = window.from.to_string();
    // The columns of the query collect sends (its table as collect builds it from the env).
    let table = ExportTable::cur2("cur2", vec!["team".into()], vec![]);
    let query = DailyQuery::new(&table, window);
    let columns: Vec<&str> = query.columns().iter().map(String::as_str).collect();
    queue_query_results(
        &collect.moto,
        &[(
            &columns,
            vec![
                row(&restated, "4.0000000000"),
                row(&today.pred_opt().unwrap().to_string(), "1.5000000000"),
            ],
        )],
    );

    let summary = collect.summary(&sample);
    let days = window
        .from
        .iter_days()
        .take_while(|d| *d < window.to)
        .count();
    assert_eq!(summary["days"].as_array().unwrap().len(), days, "{summary}");
    assert_eq!(summary["records"], 2, "{summary}");
    assert!(
        summary["ledger_line"]
            .as_str()
            .unwrap()
            .contains("1 Athena query"),
        "{summary}"
    );

    let lake = S3Lake::new(&collect.config, BUCKET);
    let first = read_day(&lake, window.from).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].tags.get("team").map(String::as_str), Some("data"));
    assert!(
        read_day(&lake, window.from.succ_opt().unwrap())
            .await
            .unwrap()
            .is_empty()
    );

    let state = DynamoState::new(&collect.config, TABLE);
    // Listed, not named by today's month: a run across a month's last midnight stays green.
    let months = state.list("ledger/athena/month/").await.unwrap();
    assert_eq!(months.len(), 1, "one month's Athena ledger: {months:?}");
    let ledger = &months[0].1;
    assert_eq!(ledger.value["requests"], 1);
    // moto reports no bytes scanned, so the query is billed Athena's 10 MB minimum.
    assert_eq!(ledger.value["billed_bytes"], 10_000_000);

    let messages = drain(&collect.config, &announced).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message: Value = serde_json::from_str(&messages[0].body).unwrap();
    assert_eq!(message["event"], "CostDataCollected");
    assert_eq!(message["days"].as_array().unwrap().len(), days);

    // Athena fails the query for good: dead-lettered with its reason, nothing announced.
    let failing = AwsJsonFake::start(vec![
        Reply::ok(json!({ "QueryExecutionId": "q-9" }).to_string()),
        Reply::ok(
            json!({ "QueryExecution": { "QueryExecutionId": "q-9", "Status": {
                "State": "FAILED",
                "AthenaError": { "ErrorCategory": 2, "Retryable": false,
                    "ErrorMessage": "COLUMN_NOT_FOUND: Column 'product' cannot be resolved" }
            } } })
            .to_string(),
        ),
    ]);
    let url = failing.url();
    collect.restart(&[("AWS_ENDPOINT_URL_ATHENA", &url)]);
    collect
        .assert_dead_lettered(&sample, "Column 'product' cannot be resolved")
        .await;
    assert!(drain(&collect.config, &announced).await.is_empty());
}
