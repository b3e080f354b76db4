//! `costwatch config push | show` against a costwatch-shaped stack on moto: the `[pipeline]`
//! settings of costwatch.toml, more budgets than a Lambda's environment holds, written to the
//! stack's PipelineConfigKey object and read back by the functions' own reader; what a push
//! changes, named; nothing written on a dry run or when nothing changed; `doctor`'s check of
//! the object; and the refusals (a stack deployed without the key, no config file).

#[path = "support/cfn_stack.rs"]
mod cfn_stack;

use std::sync::Arc;
use std::time::Duration;

use cfn_stack::{Shape, costwatch_on, output};
use costwatch_pipeline::config_source::{ConfigObject, ConfigSource};
use costwatch_store::LakeReader;
use costwatch_store::aws::S3Lake;
use costwatch_testkit::moto::Moto;
use serde_json::Value;

const KEY: &str = "config/pipeline.json";

/// A costwatch.toml with `budgets` team budgets, the first one's amount `first_amount`.
fn config_file(budgets: usize, first_amount: &str) -> String {
    let mut text = String::from("[pipeline]\nhistory_days = 90\n");
    for i in 0..budgets {
        let amount = if i == 0 { first_amount } else { "2500" };
        text.push_str(&format!(
            "\n[[pipeline.budgets]]\nname = \"team-{i}\"\nscope = \"tag=team|value=team-{i}\"\n\
             amount = \"{amount}\"\n"
        ));
    }
    text
}

async fn push(moto: &Moto, dir: &std::path::Path, flags: &[&str]) -> Value {
    let (ok, stdout, stderr) = output({
        let mut c = costwatch_on(dir, &moto.url());
        c.args(["--json", "config", "push"]).args(flags);
        c
    })
    .await;
    assert!(ok, "{flags:?}\n{stdout}\n{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

/// A costwatch-shaped stack on `moto`, deployed with PipelineConfigKey `key` (or without) and
/// `parameters`; its outputs.
async fn stack(
    moto: &Moto,
    key: Option<&str>,
    parameters: &[(&str, &str)],
) -> serde_json::Map<String, Value> {
    let shape = Shape {
        integrations: &[],
        without: &[],
        pipeline_config_key: key,
        parameters,
    };
    cfn_stack::create(&moto.sdk_config().await, "costwatch", &shape).await
}

/// `costwatch doctor`'s check of the stack's configuration object.
async fn doctor_check(moto: &Moto, dir: &std::path::Path) -> Value {
    let report = doctor(moto, dir, &[]).await;
    named(&report, "pipeline config object")
        .unwrap_or_else(|| panic!("no config object check: {report}"))
        .clone()
}

/// `costwatch doctor`'s report, with `flags` after `doctor`.
async fn doctor(moto: &Moto, dir: &std::path::Path, flags: &[&str]) -> Value {
    let (_, stdout, stderr) = output({
        let mut c = costwatch_on(dir, &moto.url());
        c.args(["--json", "doctor"]).args(flags);
        c
    })
    .await;
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

/// The report's check called `name`.
fn named<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    let checks = report["checks"].as_array().unwrap();
    checks.iter().find(|c| c["check"] == name)
}

fn changes(pushed: &Value) -> Vec<&str> {
    pushed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_writes_what_the_functions_read_and_says_what_changed() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    // The stack rolls up two tag keys, not `team`, which the budgets are on.
    let outputs = stack(&moto, Some(KEY), &[("CeTagKeys", "env,cost-center")]).await;
    let bucket = outputs["LakeBucketName"].as_str().unwrap();
    let lake = Arc::new(S3Lake::new(&sdk, bucket));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("costwatch.toml"), config_file(150, "1000")).unwrap();
    let doctor = doctor_check(&moto, dir.path()).await;
    assert_eq!(doctor["status"], "fail", "{doctor}");
    assert!(
        doctor["fix"]
            .as_str()
            .unwrap()
            .contains("costwatch config push"),
        "{doctor}"
    );

    // A dry run says everything is new and writes nothing.
    let dry = push(&moto, dir.path(), &["--dry-run"]).await;
    assert_eq!(dry["written"], false);
    assert_eq!(dry["object"], format!("s3://{bucket}/{KEY}"));
    assert_eq!(lake.get(KEY).await.unwrap(), None);

    let first = push(&moto, dir.path(), &[]).await;
    assert_eq!(first["written"], true);
    assert_eq!(first["budgets"], 150);
    assert!(first["bytes"].as_u64().unwrap() > 4096, "{first}");
    assert_eq!(
        first["warnings"],
        serde_json::json!([
            "budgets team-0, team-1 and 148 more are on tag key `team`, which the stack does not \
             roll up (CeTagKeys is `env,cost-center`): they read $0.00 until `team` is added to \
             CeTagKeys and the stack deployed"
        ])
    );
    // The functions' own reader (crates/pipeline config_source.rs) takes it whole.
    let functions = ConfigObject::new(lake.clone(), KEY).with_max_age(Duration::ZERO);
    let read = functions.current().await.unwrap();
    assert_eq!(read.budgets.len(), 150);
    assert_eq!(read.history_days, 90);
    assert_eq!(read.budgets[0].amount.to_string(), "1000");
    let doctor = doctor_check(&moto, dir.path()).await;
    assert_eq!(doctor["status"], "ok", "{doctor}");
    assert_eq!(
        doctor["detail"],
        format!("s3://{bucket}/{KEY}: 150 budgets")
    );

    // One budget changed, the last one removed: named, written, read.
    std::fs::write(dir.path().join("costwatch.toml"), config_file(149, "1200")).unwrap();
    let second = push(&moto, dir.path(), &[]).await;
    assert_eq!(
        changes(&second),
        ["changed budget team-0", "removed budget team-149"]
    );
    let read = functions.current().await.unwrap();
    assert_eq!(read.budgets.len(), 149);
    assert_eq!(read.budgets[0].amount.to_string(), "1200");

    // Nothing changed: nothing written.
    let again = push(&moto, dir.path(), &[]).await;
    assert_eq!(again["written"], false);
    assert!(changes(&again).is_empty());

    // `show` prints what runs.
    let (ok, stdout, stderr) = output({
        let mut c = costwatch_on(dir.path(), &moto.url());
        c.args(["config", "show"]);
        c
    })
    .await;
    assert!(ok, "{stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["budgets"].as_array().unwrap().len(), 149);
}

/// `[metrics]` is template parameters on AWS, which push cannot write: push warns and doctor
/// fails while the stack runs other settings, each naming the overrides to deploy, and both
/// are quiet once a stack is deployed with them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_and_doctor_name_the_metrics_the_stack_does_not_watch() {
    let moto = Moto::start();
    // The budget's tag key rolled up: the metrics are the only difference.
    stack(&moto, Some(KEY), &[("CeTagKeys", "team")]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = format!(
        "{}\n[metrics]\nhistory_hours = 576\n\n[[metrics.watch]]\nmetric = {{ namespace = \
         \"AWS/EC2\", name = \"CPUUtilization\", dimensions = {{ InstanceId = \"i-0web\" }} }}\n\
         stat = \"Average\"\nperiod_secs = 300\n",
        config_file(1, "10")
    );
    std::fs::write(dir.path().join("costwatch.toml"), file).unwrap();
    let pushed = push(&moto, dir.path(), &[]).await;
    assert_eq!(pushed["written"], true, "the [pipeline] object is written");
    let warnings = pushed["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = warnings[0].as_str().unwrap();
    for expected in [
        "the stack does not run the metrics function (EnableMetrics is false)",
        "only in costwatch.toml: CPUUtilization (AWS/EC2, InstanceId=i-0web) Average 300 s",
        "its MetricsHistoryHours is 168, history_hours 576",
        "make deploy DEPLOY_FLAGS='--parameter-overrides EnableMetrics=true WatchedMetrics=\"",
    ] {
        assert!(warning.contains(expected), "{expected:?} in {warning}");
    }
    let report = doctor(&moto, dir.path(), &[]).await;
    let check = named(&report, "stack metrics").unwrap_or_else(|| panic!("{report}"));
    assert_eq!(check["status"], "fail", "{check}");
    assert_eq!(check["detail"].as_str(), Some(warning));

    // Deployed with the overrides as the shell passes them on: quiet.
    let overrides = warning
        .split("--parameter-overrides ")
        .nth(1)
        .and_then(|rest| rest.split("'`").next())
        .unwrap();
    let parameters: Vec<(&str, String)> = overrides
        .split(' ')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap();
            let value = value.trim_matches('"').replace("\\\"", "\"");
            (name, value)
        })
        .collect();
    let parameters: Vec<(&str, &str)> = (parameters.iter().map(|(k, v)| (*k, v.as_str())))
        .chain([("CeTagKeys", "team")])
        .collect();
    let shape = Shape {
        integrations: &[],
        without: &[],
        pipeline_config_key: Some(KEY),
        parameters: &parameters,
    };
    cfn_stack::create(&moto.sdk_config().await, "costwatch-metrics", &shape).await;
    let again = push(&moto, dir.path(), &["--stack", "costwatch-metrics"]).await;
    assert_eq!(again["warnings"], serde_json::json!([]), "{again}");
    let report = doctor(&moto, dir.path(), &["--stack", "costwatch-metrics"]).await;
    assert!(named(&report, "stack metrics").is_none(), "{report}");
}

/// Moving a stack's settings from its parameters to the lake: `show --toml` turns the running
/// PipelineConfigJson and BudgetsJson into costwatch.toml's table, and `push --key` writes the
/// object before the deploy that makes the functions read it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_moves_its_settings_from_its_parameters_to_the_lake() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let budgets = r#"[{"name":"org-monthly","scope":"org","amount":"10000"},{"name":"ec2","scope":"service=Amazon Elastic Compute Cloud - Compute","amount":"2500"}]"#;
    let settings = r#"{"detector":{"min_impact":"50"}}"#;
    let parameters = [("PipelineConfigJson", settings), ("BudgetsJson", budgets)];
    let outputs = stack(&moto, None, &parameters).await;
    let dir = tempfile::tempdir().unwrap();
    let (ok, toml, stderr) = output({
        let mut c = costwatch_on(dir.path(), &moto.url());
        c.args(["config", "show", "--toml"]);
        c
    })
    .await;
    assert!(ok, "{stderr}");
    assert!(
        toml.contains("[[pipeline.budgets]]") && toml.contains("min_impact = \"50\""),
        "{toml}"
    );
    std::fs::write(dir.path().join("costwatch.toml"), &toml).unwrap();

    let pushed = push(&moto, dir.path(), &["--key", KEY]).await;
    assert_eq!(pushed["written"], true, "{pushed}");
    assert_eq!(pushed["budgets"], 2, "{pushed}");
    let bucket = outputs["LakeBucketName"].as_str().unwrap();
    let lake = Arc::new(S3Lake::new(&sdk, bucket));
    let read = ConfigObject::new(lake, KEY).current().await.unwrap();
    assert_eq!(read.budgets.len(), 2);
    assert_eq!(read.detector.min_impact.to_string(), "50");

    // Without --key the stack (still deployed without the key) says how to go on.
    let (ok, _, stderr) = output({
        let mut c = costwatch_on(dir.path(), &moto.url());
        c.args(["config", "push"]);
        c
    })
    .await;
    assert!(
        !ok && stderr.contains("push with --key config/pipeline.json"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_refuses_a_stack_without_the_key_and_a_missing_file() {
    let moto = Moto::start();
    stack(&moto, None, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |dir: &std::path::Path| {
        let mut c = costwatch_on(dir, &moto.url());
        c.args(["config", "push"]);
        c
    };
    // No costwatch.toml: the defaults would drop every budget the stack runs with.
    let (ok, _, stderr) = output(run(dir.path())).await;
    assert!(!ok && stderr.contains("never the defaults"), "{stderr}");

    std::fs::write(dir.path().join("costwatch.toml"), config_file(2, "10")).unwrap();
    let (ok, _, stderr) = output(run(dir.path())).await;
    assert!(
        !ok && stderr.contains("PipelineConfigKey=config/pipeline.json"),
        "{stderr}"
    );
    // A key the template would not take.
    let (ok, _, stderr) = output({
        let mut c = run(dir.path());
        c.args(["--key", "pipeline.json"]);
        c
    })
    .await;
    assert!(!ok && stderr.contains("config/<name>.json"), "{stderr}");

    // An invalid [pipeline] stops before anything is read or written.
    std::fs::write(
        dir.path().join("costwatch.toml"),
        "[pipeline]\nhistory_days = 7\n",
    )
    .unwrap();
    let (ok, _, stderr) = output(run(dir.path())).await;
    assert!(!ok && stderr.contains("history_days"), "{stderr}");
}
