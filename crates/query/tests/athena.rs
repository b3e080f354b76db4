//! The Athena adapter through the real SDK. On moto: the start → poll → results protocol, with
//! executions that stay QUEUED and RUNNING for a poll each (reading results early is refused
//! there as on AWS), and the daily query's answer read back as records. Against a scripted AWS
//! JSON endpoint, for what moto never does: a second page of results, failed and cancelled
//! executions, a query past its deadline, a throttled start.
#![cfg(feature = "athena")]

use std::time::Duration;

use aws_sdk_athena::config::retry::RetryConfig;
use chrono::NaiveDate;
use costwatch_query::athena::{AthenaEngine, AthenaSettings};
use costwatch_query::{DailyQuery, Engine, ExportTable, QueryError, Window};
use costwatch_testkit::aws_json_fake::{AwsJsonFake, Reply};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::moto_athena::{executions_advance_per_poll, queue_query_results};
use serde_json::{Value, json};

fn settings() -> AthenaSettings {
    AthenaSettings {
        // Short waits keep the test quick; the protocol is the same.
        first_poll: Duration::from_millis(5),
        max_poll: Duration::from_millis(20),
        ..AthenaSettings::new("costwatch-data-exports", "costwatch_db")
    }
}

fn client(config: &costwatch_store::aws::sdk::aws_config::SdkConfig) -> aws_sdk_athena::Client {
    // No SDK retries: each scripted reply answers exactly one request.
    let conf = aws_sdk_athena::config::Builder::from(config)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_athena::Client::from_conf(conf)
}

fn text(cells: &[Option<&str>]) -> Vec<Option<String>> {
    cells.iter().map(|c| c.map(str::to_owned)).collect()
}

#[tokio::test]
async fn the_daily_query_runs_on_moto_and_its_rows_become_records() {
    let moto = Moto::start();
    executions_advance_per_poll(&moto);
    let config = moto.sdk_config().await;
    let athena = client(&config);
    athena
        .create_work_group()
        .name("costwatch-data-exports")
        .send()
        .await
        .unwrap();

    let table = ExportTable::cur2("cur2", vec!["team".into()], vec![]);
    let day = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    let query = DailyQuery::new(&table, Window::restated(day));
    let columns: Vec<&str> = query.columns().iter().map(String::as_str).collect();
    let row = |day: &str, kind: &str, amount: &str, team: Option<&str>| {
        text(&[
            Some(day),
            Some("111111111111"),
            Some("Payer"),
            Some("222222222222"),
            Some("Dev"),
            Some("Amazon Elastic Compute Cloud"),
            Some("eu-west-1"),
            Some("USD"),
            Some("EUW1-BoxUsage:m5.large"),
            Some(kind),
            team,
            Some(amount),
            Some(amount),
            Some(amount),
        ])
    };
    queue_query_results(
        &moto,
        &[(
            &columns,
            vec![
                row("2026-01-14", "Usage", "12.5000000000", Some("web")),
                row("2026-01-14", "Usage", "0.2500000000", None),
                row("2026-01-15", "DiscountedUsage", "3.0000000000", Some("web")),
            ],
        )],
    );

    let engine = AthenaEngine::new(athena.clone(), settings());
    let answer = engine.run(&query.sql).await.unwrap();
    let records = query.records(&answer.rows).unwrap();
    assert_eq!(
        records.len(),
        3,
        "the 14th's two tag sets and the 15th's reserved line: {records:#?}"
    );
    let web: Vec<_> = records
        .iter()
        .filter(|r| r.tags.contains_key("team"))
        .collect();
    assert_eq!(
        web.len(),
        2,
        "the user's key `team`, user_team in the export"
    );
    assert_eq!(records.iter().filter(|r| r.tags.is_empty()).count(), 1);
    let last_day = records.last().map(|r| r.day().to_string());
    assert_eq!(last_day.as_deref(), Some("2026-01-15"));

    // Moto kept the execution as the adapter sent it: our SQL, in the workgroup, the database.
    let ids = athena
        .list_query_executions()
        .work_group("costwatch-data-exports")
        .send()
        .await
        .unwrap();
    let id = ids
        .query_execution_ids()
        .first()
        .expect("one execution")
        .clone();
    let execution = athena
        .get_query_execution()
        .query_execution_id(id)
        .send()
        .await
        .unwrap();
    let execution = execution.query_execution().unwrap();
    assert_eq!(execution.query(), Some(query.sql.as_str()));
    assert_eq!(
        execution
            .query_execution_context()
            .and_then(|c| c.database()),
        Some("costwatch_db")
    );
}

fn execution(state: &str, extra: Value) -> Reply {
    let mut status = json!({ "State": state });
    if let Some(fields) = extra.as_object() {
        for (k, v) in fields {
            status[k] = v.clone();
        }
    }
    Reply::ok(
        json!({
            "QueryExecution": {
                "QueryExecutionId": "q-1",
                "Status": status,
                "Statistics": { "DataScannedInBytes": 123_456_789 }
            }
        })
        .to_string(),
    )
}

fn started() -> Reply {
    Reply::ok(json!({ "QueryExecutionId": "q-1" }).to_string())
}

fn page(rows: &[&[&str]], header: bool, next: Option<&str>) -> Reply {
    let data = |cells: &[&str]| json!({ "Data": cells.iter().map(|c| json!({ "VarCharValue": c })).collect::<Vec<_>>() });
    let mut all: Vec<Value> = Vec::new();
    if header {
        all.push(data(&["a", "b"]));
    }
    all.extend(rows.iter().map(|r| data(r)));
    let mut body = json!({
        "ResultSet": {
            "Rows": all,
            "ResultSetMetadata": { "ColumnInfo": [
                { "Name": "a", "Type": "varchar" }, { "Name": "b", "Type": "varchar" }
            ] }
        }
    });
    if let Some(next) = next {
        body["NextToken"] = json!(next);
    }
    Reply::ok(body.to_string())
}

async fn run_against(
    script: Vec<Reply>,
    settings: AthenaSettings,
) -> (Result<costwatch_query::Answer, QueryError>, Vec<String>) {
    let fake = AwsJsonFake::start(script);
    let engine = AthenaEngine::new(client(&fake.sdk_config().await), settings);
    let result = engine.run("SELECT 1").await;
    let targets = fake
        .requests()
        .iter()
        .map(|r| r.target.clone().unwrap_or_default())
        .collect();
    (result, targets)
}

#[tokio::test]
async fn every_page_is_read_and_the_header_row_skipped_once() {
    let fake = AwsJsonFake::start(vec![
        started(),
        execution("RUNNING", json!({})),
        execution("SUCCEEDED", json!({})),
        page(&[&["1", "x"], &["2", "y"]], true, Some("page-2")),
        page(&[&["3", "z"]], false, None),
    ]);
    let engine = AthenaEngine::new(client(&fake.sdk_config().await), settings());
    let answer = engine.run("SELECT a, b FROM t").await.unwrap();
    assert_eq!(answer.rows.columns, ["a", "b"]);
    let firsts: Vec<_> = answer
        .rows
        .rows
        .iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(firsts, ["1", "2", "3"]);
    assert_eq!(answer.bytes_scanned, 123_456_789);
    let requests = fake.requests();
    let second_page: Value = serde_json::from_str(&requests[4].body).unwrap();
    assert_eq!(second_page["NextToken"], "page-2");
    let start: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(start["WorkGroup"], "costwatch-data-exports");
    assert_eq!(start["QueryExecutionContext"]["Database"], "costwatch_db");
}

#[tokio::test]
async fn a_failed_query_says_why_and_only_athenas_retryable_errors_are_retried() {
    let syntax = json!({ "AthenaError": {
        "ErrorCategory": 2, "ErrorType": 1301, "Retryable": false,
        "ErrorMessage": "COLUMN_NOT_FOUND: line 3:5: Column 'x' cannot be resolved"
    }});
    let (result, _) = run_against(vec![started(), execution("FAILED", syntax)], settings()).await;
    let err = result.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(
        err.to_string().contains("Column 'x' cannot be resolved"),
        "{err}"
    );

    let internal = json!({ "AthenaError": {
        "ErrorCategory": 1, "ErrorType": 401, "Retryable": true,
        "ErrorMessage": "GENERIC_INTERNAL_ERROR"
    }});
    let (result, _) = run_against(vec![started(), execution("FAILED", internal)], settings()).await;
    assert!(result.unwrap_err().is_retryable());
}

#[tokio::test]
async fn a_query_cancelled_by_the_bytes_cutoff_is_a_failure_not_a_retry() {
    let cutoff = json!({
        "StateChangeReason": "Query cancelled! : Bytes scanned limit was exceeded"
    });
    let (result, _) =
        run_against(vec![started(), execution("CANCELLED", cutoff)], settings()).await;
    let err = result.unwrap_err();
    assert!(!err.is_retryable());
    assert!(
        err.to_string().contains("Bytes scanned limit was exceeded"),
        "{err}"
    );
}

#[tokio::test]
async fn a_query_past_its_deadline_is_stopped() {
    let quick = AthenaSettings {
        timeout: Duration::ZERO,
        ..settings()
    };
    let (result, targets) = run_against(
        vec![started(), execution("RUNNING", json!({})), Reply::ok("{}")],
        quick,
    )
    .await;
    assert!(
        matches!(result, Err(QueryError::TimedOut { .. })),
        "{result:?}"
    );
    assert_eq!(
        targets.last().map(String::as_str),
        Some("AmazonAthena.StopQueryExecution")
    );
}

#[tokio::test]
async fn a_throttled_start_is_worth_a_retry_and_a_refused_one_is_not() {
    let throttled = Reply::error(
        400,
        "com.amazonaws.athena",
        "TooManyRequestsException",
        "Rate exceeded",
    );
    let (result, _) = run_against(vec![throttled], settings()).await;
    assert!(result.unwrap_err().is_retryable());

    let refused = Reply::error(
        400,
        "com.amazonaws.athena",
        "InvalidRequestException",
        "WorkGroup costwatch-data-exports is not found.",
    );
    let (result, _) = run_against(vec![refused], settings()).await;
    let err = result.unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("is not found"), "{err}");
}
