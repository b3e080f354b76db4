//! `costwatch doctor`'s stack check against CloudFormation on moto: a stack with every needed
//! output passes; one deployed from a template without an output, and a stack that does not
//! exist, each fail with what to fix, and doctor exits non-zero. The stack's name comes from
//! --stack, else ./samconfig.toml, else `costwatch`.

#[path = "support/cfn_stack.rs"]
mod cfn_stack;

use cfn_stack::{Shape, costwatch_on, output};
use costwatch_testkit::moto::Moto;
use serde_json::Value;

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

fn report(stdout: &str, stderr: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_a_complete_stack_and_names_the_fix_for_a_missing_output_or_stack() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let complete = Shape {
        integrations: &["Slack", "PagerDuty"],
        without: &[],
        pipeline_config_key: None,
        parameters: &[],
    };
    cfn_stack::create(&sdk, "costwatch", &complete).await;
    let old = Shape {
        integrations: &[],
        without: &["ReportFunctionArn", "PipelineDeadLetterQueueUrl"],
        pipeline_config_key: None,
        parameters: &[],
    };
    cfn_stack::create(&sdk, "cw-old", &old).await;
    let dir = tempfile::tempdir().unwrap();

    // The default name, `costwatch`: every needed output there, the DLQs listed.
    let (ok, stdout, stderr) = output({
        let mut c = costwatch_on(dir.path(), &moto.url());
        c.args(["--json", "doctor"]);
        c
    })
    .await;
    let r = report(&stdout, &stderr);
    assert!(ok, "{r}\n{stderr}");
    let stack = check(&r, "stack");
    assert_eq!(stack["status"], "ok", "{stack}");
    assert_eq!(
        stack["detail"],
        "`costwatch` (default) in us-east-1: CREATE_COMPLETE"
    );
    let outputs = check(&r, "stack outputs");
    assert_eq!(outputs["status"], "ok", "{outputs}");
    assert!(
        outputs["detail"]
            .as_str()
            .unwrap()
            .ends_with("dead-letter queues: PagerDuty, Pipeline, Slack"),
        "{outputs}"
    );

    // samconfig.toml names the older stack: each missing output is a failed check with its
    // reader and the fix.
    std::fs::write(
        dir.path().join("samconfig.toml"),
        "version = 0.1\n[default.global.parameters]\nstack_name = \"cw-old\"\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = output({
        let mut c = costwatch_on(dir.path(), &moto.url());
        c.args(["--json", "doctor"]);
        c
    })
    .await;
    let r = report(&stdout, &stderr);
    assert!(!ok, "{r}");
    assert!(stderr.contains("2 check(s) failed"), "{stderr}");
    assert_eq!(check(&r, "stack")["status"], "ok");
    assert_eq!(
        check(&r, "stack")["detail"],
        "`cw-old` (samconfig.toml) in us-east-1: CREATE_COMPLETE"
    );
    for (name, reader) in [
        ("ReportFunctionArn", "`make smoke` invokes report"),
        ("PipelineDeadLetterQueueUrl", "`costwatch dlq redrive`"),
    ] {
        let missing = check(&r, &format!("stack output {name}"));
        assert_eq!(missing["status"], "fail", "{missing}");
        assert!(
            missing["detail"].as_str().unwrap().contains(reader),
            "{missing}"
        );
        assert!(
            missing["fix"].as_str().unwrap().contains("make deploy"),
            "{missing}"
        );
    }
    assert!(
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["check"] != "stack outputs"),
        "{r}"
    );
    // The text form: the failed output and its fix under it.
    let (ok, text, _) = output({
        let mut c = costwatch_on(dir.path(), &moto.url());
        c.arg("doctor");
        c
    })
    .await;
    assert!(!ok);
    assert!(
        text.contains("FAIL  stack output ReportFunctionArn"),
        "{text}"
    );
    assert!(
        text.contains("fix: deploy this version of template.yaml (`make deploy`)"),
        "{text}"
    );

    // --stack wins over samconfig.toml; a stack that does not exist says how to get one.
    let (ok, stdout, stderr) = output({
        let mut c = costwatch_on(dir.path(), &moto.url());
        c.args(["--json", "doctor", "--stack", "nope"]);
        c
    })
    .await;
    let r = report(&stdout, &stderr);
    assert!(!ok, "{r}");
    let absent = check(&r, "stack");
    assert_eq!(absent["status"], "fail", "{absent}");
    assert_eq!(
        absent["detail"],
        "no stack `nope` (--stack / COSTWATCH_STACK) in us-east-1"
    );
    assert!(
        absent["fix"].as_str().unwrap().contains("make deploy"),
        "{absent}"
    );
    assert_eq!(r["failed"], 1, "{r}");
}
