//! Every AWS call the suite makes is bounded (issue 17): the SDK's defaults have no attempt or
//! operation timeout, so a connection that hangs would hold a Lambda until its own timeout and
//! lose the batch. The bounds must fit inside the shortest function timeout of the templates.

use std::time::Duration;

use costwatch_store::aws::{config_loader, timeouts};

/// `Timeout:` of every function in template.yaml and the nested templates, in seconds.
fn function_timeouts() -> Vec<u64> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    ["template.yaml", "templates/dispatcher.yaml"]
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
            text.lines()
                .filter_map(|l| l.trim().strip_prefix("Timeout:"))
                .map(|v| v.trim().parse::<u64>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_call_has_connect_attempt_and_operation_timeouts() {
    let t = timeouts();
    let connect = t.connect_timeout().expect("a connect timeout");
    let attempt = t.operation_attempt_timeout().expect("an attempt timeout");
    let operation = t.operation_timeout().expect("an operation timeout");
    assert!(connect <= attempt && attempt <= operation, "{t:?}");
    let shortest = function_timeouts()
        .into_iter()
        .min()
        .expect("functions with a Timeout");
    assert!(
        operation < Duration::from_secs(shortest),
        "an AWS call may take {operation:?}, longer than the shortest function timeout ({shortest} s)"
    );
}

#[tokio::test]
async fn the_loader_every_config_starts_from_applies_them() {
    let config = config_loader()
        .region(costwatch_store::aws::sdk::aws_config::Region::new(
            "us-east-1",
        ))
        .load()
        .await;
    let applied = config.timeout_config().expect("timeouts on the config");
    assert_eq!(applied.operation_timeout(), timeouts().operation_timeout());
    assert_eq!(
        applied.operation_attempt_timeout(),
        timeouts().operation_attempt_timeout()
    );
    assert_eq!(applied.connect_timeout(), timeouts().connect_timeout());
}
