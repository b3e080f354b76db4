//! `costwatch invoke` as a user runs it, on the moto it starts itself (`COSTWATCH_MOTO`): the
//! built `collect` binary with events/collect/scheduled.json answers its summary; with Cost
//! Explorer unreachable the invocation fails and the command exits non-zero; the built
//! `dispatch-zapier` binary, with the Zapier table of a costwatch.toml (its inline hook URL moved
//! into moto's Secrets Manager) and `--vendor-endpoint` on the Zapier fake, delivers every
//! envelope of events/dispatch-zapier/sqs.json.
//!
//! The function binaries are the dev ones beside `costwatch` (a workspace test run builds every
//! binary); when one is missing it is built first.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use assert_cmd::Command;
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::zapier::CatchHook;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The dev binary `name` of `package`, beside `costwatch`; built when it is not there yet.
fn binary(name: &str, package: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_costwatch")).with_file_name(name);
    if !path.is_file() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", package])
            .current_dir(repo())
            .status()
            .unwrap();
        assert!(status.success(), "cargo build -p {package}");
    }
    path
}

/// `costwatch invoke ARGS…` from the repository (where events/ is), on a moto of its own.
fn invoke(args: &[&str]) -> Output {
    Command::cargo_bin("costwatch")
        .unwrap()
        .current_dir(repo())
        .env_remove("COSTWATCH_CONFIG")
        .arg("invoke")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn with_aws_and_no_credentials_it_says_so_before_starting_the_function() {
    binary("collect", "costwatch-collect");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("costwatch")
        .unwrap()
        .current_dir(repo())
        .env_remove("COSTWATCH_CONFIG")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", dir.path().join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .args(["invoke", "collect", "--aws"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("no AWS credentials for the function to run with on your account")
            && stderr.contains("AWS_PROFILE"),
        "{stderr}"
    );
    // Nothing ran: no summary, no log of the function's.
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(!stderr.contains("invocation"), "{stderr}");
}

#[test]
fn collect_answers_its_summary_and_fails_when_cost_explorer_is_unreachable() {
    binary("collect", "costwatch-collect");
    let out = invoke(&["collect", "--event", "events/collect/scheduled.json"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert!(summary["requests"].as_u64().unwrap() >= 1, "{summary}");
    assert!(summary.get("rejected").is_none(), "{summary}");
    // The function's own log lines, through the emulator.
    assert!(stderr.contains("collect"), "{stderr}");

    // Port 9 (discard) on loopback: nothing listens; the SDK's retries end in an error.
    let out = invoke(&[
        "collect",
        "--event",
        "events/collect/scheduled.json",
        "--env",
        "AWS_ENDPOINT_URL_COST_EXPLORER=http://127.0.0.1:9",
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("the invocation failed (Lambda would retry it)"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_delivers_the_sample_to_the_vendor_endpoint() {
    binary("dispatch-zapier", "costwatch-dispatch-zapier");
    let hook = Arc::new(CatchHook::new());
    let server = FakeServer::start(hook.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("costwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[integrations.zapier.destinations.tickets]\nwebhook_url = \"{}\"\n",
            CatchHook::hook_url("https://hooks.zapier.com")
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let url = server.url();
    let out = tokio::task::block_in_place(|| {
        invoke(&[
            "--config",
            &config,
            "zapier",
            "--event",
            "events/dispatch-zapier/sqs.json",
            "--vendor-endpoint",
            &url,
        ])
    });
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let response: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        response["batchItemFailures"],
        serde_json::json!([]),
        "{response}"
    );
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("events/dispatch-zapier/sqs.json")).unwrap(),
    )
    .unwrap();
    let envelopes = sample["Records"].as_array().unwrap().len();
    assert_eq!(hook.runs().len(), envelopes, "{stderr}");
    // The hook URL is the credential: never printed.
    assert!(
        !stderr.contains(costwatch_vendor_fakes::zapier::HOOK),
        "{stderr}"
    );
}

/// `costwatch bench coldstart` on the dev binaries (the figures README quotes come from release
/// ones, `make bench-coldstart`): one start each of the hello-world baseline and aggregate, each
/// reaching its first /next with its peak memory read, aggregate's ratios against hello-world's.
#[test]
fn bench_coldstart_measures_each_binary_beside_hello_world() {
    binary("hello-lambda", "costwatch-hello-lambda");
    binary("aggregate", "costwatch-aggregate");
    let dir = Path::new(env!("CARGO_BIN_EXE_costwatch")).parent().unwrap();
    let out = Command::cargo_bin("costwatch")
        .unwrap()
        .current_dir(repo())
        .args([
            "--json",
            "bench",
            "coldstart",
            "--runs",
            "1",
            "--only",
            "aggregate",
        ])
        .arg("--bin-dir")
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let rows = report["functions"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["function"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hello-lambda", "aggregate"]);
    for row in rows {
        assert!(row["init_ms_median"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["peak_rss_kib"].as_u64().unwrap() > 0, "{row}");
        assert!(row["binary_bytes"].as_u64().unwrap() > 0, "{row}");
    }
    let ratio =
        rows[1]["init_ms_median"].as_f64().unwrap() / rows[0]["init_ms_median"].as_f64().unwrap();
    assert!((rows[1]["init_ratio"].as_f64().unwrap() - ratio).abs() < 1e-9);
    assert_eq!(rows[0]["init_ratio"].as_f64(), Some(1.0));
}
