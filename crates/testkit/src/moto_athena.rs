//! Athena on moto: query results queued through `POST /moto-api/static/athena/query-results`
//! (moto runs no SQL; each new execution takes the next queued result), and executions that pass
//! through QUEUED and RUNNING one GetQueryExecution at a time (moto's state manager, "manual"
//! progression), so an adapter that reads results before the query ends is refused as on AWS.

use serde_json::{Value, json};

use crate::moto::Moto;
use crate::moto_ce::post;

/// One query's answer: column names, and rows of optional text cells.
pub type QueryResult<'a> = (&'a [&'a str], Vec<Vec<Option<String>>>);

/// Queues one result per entry of `results`. Each is sent with the header row first, as Athena's
/// first page of a SELECT is.
pub fn queue_query_results(moto: &Moto, results: &[QueryResult<'_>]) {
    let results: Vec<Value> = results
        .iter()
        .map(|(columns, rows)| {
            let cell = |v: Option<&str>| match v {
                Some(v) => json!({ "VarCharValue": v }),
                None => json!({}),
            };
            let header =
                json!({ "Data": columns.iter().map(|c| cell(Some(c))).collect::<Vec<_>>() });
            let data = rows.iter().map(
                |r| json!({ "Data": r.iter().map(|v| cell(v.as_deref())).collect::<Vec<_>>() }),
            );
            json!({
                "rows": std::iter::once(header).chain(data).collect::<Vec<_>>(),
                "column_info": columns
                    .iter()
                    .map(|c| json!({ "Name": c, "Label": c, "Type": "varchar" }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let status = post(
        &moto.url(),
        "/moto-api/static/athena/query-results",
        &json!({ "results": results }).to_string(),
    )
    .expect("queue Athena results in moto");
    assert_eq!(status, 201, "moto refused the queued Athena results");
}

/// Every execution advances one state (QUEUED → RUNNING → SUCCEEDED) per GetQueryExecution.
pub fn executions_advance_per_poll(moto: &Moto) {
    let body = json!({
        "model_name": "athena::execution",
        "transition": { "progression": "manual", "times": 1 },
    });
    let status = post(
        &moto.url(),
        "/moto-api/state-manager/set-transition",
        &body.to_string(),
    )
    .expect("set moto's Athena transition");
    assert_eq!(status, 201, "moto refused the state transition");
}
