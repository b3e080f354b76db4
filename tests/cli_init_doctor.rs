//! `costwatch init` and `costwatch doctor` as a user runs them: init writes a commented
//! costwatch.toml and refuses to overwrite it (that the loader takes the file and its
//! uncommented defaults is checked by init.rs's unit tests, on the real `Settings::load`; here
//! `doctor` loads it through the same loader); doctor against moto: a secret that exists and
//! one that does not, the Cost Explorer check skipped without `--yes` and made with it (exactly
//! one GetCostAndUsage request, counted by a proxy in front of moto), `--send-test` through the
//! dispatcher to the fake Slack.

#[path = "support/cfn_stack.rs"]
mod cfn_stack;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use costwatch_store::aws::sdk::{aws_sdk_secretsmanager, aws_sdk_ssm};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::moto_ce::queue_cost_and_usage;
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::slack::FakeSlack;
use serde_json::{Value, json};

/// The binary in `dir`, with no config or data dir from the environment.
fn costwatch(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("costwatch").unwrap();
    cmd.current_dir(dir)
        .env_remove("COSTWATCH_DATA_DIR")
        .env_remove("COSTWATCH_CONFIG");
    cmd
}

fn output(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every top-level option of costwatch.toml and every key of its sections.
const OPTIONS: &[&str] = &[
    "data_dir",
    "[pipeline]",
    "cost_metric",
    "rollup_scopes",
    "detect_scopes",
    "history_days",
    "resolve_after_days",
    "forecast_alert_pct",
    "dashboard_url",
    "budgets",
    "[pipeline.detector]",
    "min_impact",
    "min_pct",
    "require",
    "sensitivity",
    "detect_falls",
    "lookback_days",
    "new_spend_floor",
    "scopes",
    "[pipeline.forecast]",
    "credits",
    "[collect]",
    "restate_days",
    "backfill_days",
    "max_requests_per_run",
    "[cost_explorer]",
    "billing_account_id",
    "tag_keys",
    "cost_categories",
    "days_per_request",
    "import_anomalies",
    "[integrations.slack]",
    "[integrations.teams]",
    "[integrations.discord]",
    "[integrations.pagerduty]",
    "[integrations.datadog]",
    "[integrations.jira]",
];

#[test]
fn init_writes_every_option_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = output(costwatch(dir.path()).args(["init", "--json"]));
    assert!(ok, "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["path"], "costwatch.toml");
    let path = dir.path().join("costwatch.toml");
    let written = std::fs::read_to_string(&path).unwrap();
    for option in OPTIONS {
        assert!(written.contains(option), "{option} missing:\n{written}");
    }
    assert!(written.contains("#history_days = 120"), "{written}");
    assert!(
        written.contains("webhook_url = { secrets_manager = \"costwatch/slack/finops\" }"),
        "{written}"
    );

    // The real loader takes it: `doctor` reads it through the same Settings::load as `run`.
    let (_, stdout, stderr) = output(
        costwatch(dir.path())
            .args(["--json", "doctor"])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", dir.path().join("none"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none")),
    );
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!(check(&report, "config")["status"], "ok", "{report}");

    // Off EC2 the SDK probes instance metadata for credentials and region and logs a warning
    // with a debug dump each time it is not there; doctor's checklist says so in one line.
    // Here the metadata endpoint is a closed local port, so the probe fails at once; the AWS
    // config files exist and are empty (a missing one is a warning worth keeping).
    let empty = dir.path().join("empty-aws-file");
    std::fs::write(&empty, "").unwrap();
    let (_, stdout, stderr) = output(
        costwatch(dir.path())
            .arg("doctor")
            .env_remove("COSTWATCH_LOG")
            .env_remove("AWS_EC2_METADATA_DISABLED")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")
            .env("AWS_CONFIG_FILE", &empty)
            .env("AWS_SHARED_CREDENTIALS_FILE", &empty),
    );
    assert!(stdout.contains("aws credentials"), "{stdout}\n{stderr}");
    assert!(!stderr.contains("WARN"), "{stderr}");

    // A second run refuses, says why, and leaves the file as it was.
    let (ok, _, stderr) = output(costwatch(dir.path()).arg("init"));
    assert!(!ok);
    assert!(stderr.contains("refusing to overwrite"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);

    // --path writes elsewhere.
    let (ok, _, stderr) = output(costwatch(dir.path()).args(["init", "--path", "other.toml"]));
    assert!(ok, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("other.toml")).unwrap(),
        written
    );
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

/// A TCP proxy in front of moto that counts Cost Explorer GetCostAndUsage requests (their
/// `X-Amz-Target` header) on the way through.
struct CountingProxy {
    addr: SocketAddr,
    count: Arc<AtomicUsize>,
}

const NEEDLE: &[u8] = b"AWSInsightsIndexService.GetCostAndUsage";

impl CountingProxy {
    fn start(upstream: &str) -> CountingProxy {
        let upstream: SocketAddr = upstream.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (mut client_r, mut server_w) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut server_r, mut client_w) = (server, client);
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let mut carry: Vec<u8> = Vec::new();
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = client_r.read(&mut buf) {
                        if n == 0 || server_w.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        carry.extend_from_slice(&buf[..n]);
                        let found = carry.windows(NEEDLE.len()).filter(|w| *w == NEEDLE).count();
                        counter.fetch_add(found, Ordering::SeqCst);
                        // Keep a needle's length minus one: a match split across reads.
                        let keep = carry.len().min(NEEDLE.len() - 1);
                        carry.drain(..carry.len() - keep);
                    }
                    let _ = server_w.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server_r, &mut client_w);
                    let _ = client_w.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        CountingProxy { addr, count }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// The binary with `aws` (moto, or the proxy in front of it) as its only AWS.
fn doctor(dir: &Path, aws: &str) -> Command {
    cfn_stack::costwatch_on(dir, aws)
}

const SECRET_VALUE: &str = "https://hooks.slack.com/services/T1/B1/secretvalue-never-printed";

async fn create_secret(moto: &Moto, name: &str, value: &str) {
    let sdk = moto.sdk_config().await;
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
}

fn one_day() -> Value {
    json!([{"GroupDefinitions": [], "DimensionValueAttributes": [], "ResultsByTime": [
        {"TimePeriod": {"Start": "2026-03-01", "End": "2026-03-02"},
         "Total": {"UnblendedCost": {"Amount": "1", "Unit": "USD"}},
         "Groups": [], "Estimated": true}]}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_the_missing_secret_and_spends_one_request_only_when_allowed() {
    let moto = Moto::start();
    create_secret(&moto, "costwatch/slack/finops", SECRET_VALUE).await;
    aws_sdk_ssm::Client::new(&moto.sdk_config().await)
        .put_parameter()
        .name("/costwatch/slack/data")
        .value(SECRET_VALUE)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    queue_cost_and_usage(&moto, &one_day().to_string());
    let proxy = CountingProxy::start(&moto.url());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("costwatch.toml"),
        "[integrations.slack.destinations.finops]\n\
         webhook_url = { secrets_manager = \"costwatch/slack/finops\" }\n\
         [integrations.slack.destinations.ops]\n\
         webhook_url = { secrets_manager = \"costwatch/slack/missing\" }\n\
         [integrations.slack.destinations.data]\n\
         webhook_url = { ssm = \"/costwatch/slack/data\" }\n",
    )
    .unwrap();
    let (path, url) = (dir.path().to_path_buf(), proxy.url());

    // Without --yes (and not on a terminal) the paid check is skipped and says why.
    let (p, u) = (path.clone(), url.clone());
    let (ok, stdout, stderr) =
        tokio::task::spawn_blocking(move || output(doctor(&p, &u).args(["--json", "doctor"])))
            .await
            .unwrap();
    assert!(!ok, "a missing secret fails the run\n{stdout}\n{stderr}");
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let ce = check(&report, "cost explorer");
    assert_eq!(ce["status"], "skip", "{ce}");
    assert!(ce["detail"].as_str().unwrap().contains("$0.01"), "{ce}");
    assert!(ce["detail"].as_str().unwrap().contains("--yes"), "{ce}");
    assert_eq!(report["cost_explorer_requests"], 0);
    assert_eq!(proxy.requests(), 0);

    // With --yes: one request, and the rest of the checks.
    let (p, u) = (path.clone(), url.clone());
    let (ok, stdout, stderr) = tokio::task::spawn_blocking(move || {
        output(doctor(&p, &u).args(["--json", "doctor", "--yes"]))
    })
    .await
    .unwrap();
    assert!(!ok, "{stdout}\n{stderr}");
    // The missing secret, and the stack: none deployed on this moto (tests/cli_doctor_stack.rs
    // checks one that is).
    assert!(stderr.contains("2 check(s) failed"), "{stderr}");
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!(report["ok"], false);
    assert_eq!(report["failed"], 2);
    assert_eq!(check(&report, "config")["status"], "ok");
    assert_eq!(check(&report, "aws credentials")["status"], "ok");
    assert_eq!(check(&report, "aws region")["detail"], "us-east-1");
    let ce = check(&report, "cost explorer");
    assert_eq!(ce["status"], "ok", "{ce}");
    assert!(ce["detail"].as_str().unwrap().contains("$0.01"), "{ce}");
    assert_eq!(report["cost_explorer_requests"], 1);
    assert_eq!(report["cost_explorer_dollars"], "$0.01");
    assert_eq!(proxy.requests(), 1, "exactly one GetCostAndUsage request");
    let stack = check(&report, "stack");
    assert_eq!(stack["status"], "fail", "{stack}");
    assert_eq!(
        stack["detail"],
        "no stack `costwatch` (default) in us-east-1"
    );
    assert_eq!(check(&report, "integration slack")["status"], "ok");
    let found = check(
        &report,
        "slack secret `secrets_manager:costwatch/slack/finops`",
    );
    assert_eq!(found["status"], "ok", "{found}");
    let missing = check(
        &report,
        "slack secret `secrets_manager:costwatch/slack/missing`",
    );
    assert_eq!(missing["status"], "fail", "{missing}");
    assert!(
        missing["detail"]
            .as_str()
            .unwrap()
            .contains("costwatch/slack/missing"),
        "{missing}"
    );
    assert!(missing["fix"].is_string(), "{missing}");
    assert!(!stdout.contains("secretvalue"), "{stdout}");
    assert!(!stderr.contains("secretvalue"), "{stderr}");

    // The text form: one line per check, the fix under a failure, the cost in the last line.
    let (p, u) = (path.clone(), url.clone());
    let (_, text, _) =
        tokio::task::spawn_blocking(move || output(doctor(&p, &u).args(["doctor", "--yes"])))
            .await
            .unwrap();
    assert!(
        text.contains("FAIL  slack secret `secrets_manager:costwatch/slack/missing`"),
        "{text}"
    );
    assert!(text.contains("fix: create it"), "{text}");
    assert!(
        text.contains("1 Cost Explorer request(s) = $0.01"),
        "{text}"
    );
    assert!(!text.contains("secretvalue"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_send_test_delivers_the_test_envelope_to_every_destination() {
    let moto = Moto::start();
    let shape = cfn_stack::Shape {
        integrations: &["Slack"],
        without: &[],
        pipeline_config_key: None,
        parameters: &[],
    };
    cfn_stack::create(&moto.sdk_config().await, "costwatch", &shape).await;
    create_secret(&moto, "costwatch/slack/finops", SECRET_VALUE).await;
    let slack = Arc::new(
        FakeSlack::new().with_webhook("/services/T1/B1/secretvalue-never-printed", "C0FINOPS"),
    );
    let fake = FakeServer::start(slack.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    // Routing that would send a test envelope nowhere: --send-test goes to every destination.
    std::fs::write(
        dir.path().join("costwatch.toml"),
        "[integrations.slack.destinations.finops]\n\
         webhook_url = { secrets_manager = \"costwatch/slack/finops\" }\n\
         [[integrations.slack.routing.rules]]\n\
         kinds = [\"anomaly\"]\n\
         destinations = [\"finops\"]\n",
    )
    .unwrap();
    let (path, url, endpoint) = (dir.path().to_path_buf(), moto.url(), fake.url());
    let (ok, stdout, stderr) = tokio::task::spawn_blocking(move || {
        output(doctor(&path, &url).args([
            "--json",
            "doctor",
            "--send-test",
            "--endpoint",
            &endpoint,
        ]))
    })
    .await
    .unwrap();
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert!(ok, "{report}\n{stderr}");
    let sent = check(&report, "send test slack");
    assert_eq!(sent["status"], "ok", "{sent}");
    assert_eq!(sent["detail"], "sent to finops");
    let messages = slack.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].channel, "C0FINOPS");
    assert_eq!(messages[0].via, "webhook");
    assert!(!stdout.contains("secretvalue"), "{stdout}");
}

/// `[metrics]` series are checked for data: CloudWatch answers a misspelt dimension with no
/// data, not an error, so a series watched that way would never alert. One GetMetricData pull
/// over the first pull's window: the instance with points passes, the misspelt one fails by
/// name with what to check; with only the real one watched the check is one line, ok.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_a_watched_metric_cloudwatch_has_no_data_for() {
    use costwatch_testkit::moto_cw::{put_cpu_day, steady};
    let moto = Moto::start();
    let now = chrono::Utc::now();
    let end = chrono::DateTime::from_timestamp(now.timestamp() / 300 * 300, 0).unwrap();
    put_cpu_day(&moto.sdk_config().await, "i-0real", end, steady).await;
    let watch = |instance: &str| {
        format!(
            "[[metrics.watch]]\nstat = \"Average\"\nperiod_secs = 300\nmetric = {{ namespace = \
             \"AWS/EC2\", name = \"CPUUtilization\", dimensions = {{ InstanceId = \"{instance}\" }} }}\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let run = |config: String| {
        std::fs::write(dir.path().join("costwatch.toml"), config).unwrap();
        let (path, url) = (dir.path().to_path_buf(), moto.url());
        tokio::task::spawn_blocking(move || output(doctor(&path, &url).args(["--json", "doctor"])))
    };
    let metric_checks = |report: &Value| -> Vec<Value> {
        let checks = report["checks"].as_array().unwrap().iter();
        let cw = checks.filter(|c| {
            c["check"]
                .as_str()
                .unwrap()
                .starts_with("cloudwatch metrics")
        });
        cw.cloned().collect()
    };

    let (ok, stdout, stderr) = run(watch("i-0real") + &watch("i-0reel")).await.unwrap();
    assert!(!ok, "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let checks = metric_checks(&report);
    assert_eq!(checks.len(), 1, "{report:#}");
    let silent = &checks[0];
    assert_eq!(silent["status"], "fail", "{silent}");
    // In the report's cost, beside Cost Explorer's.
    assert_eq!(report["cloudwatch_requests"], 1, "{report:#}");
    assert_eq!(report["cloudwatch_metrics"], 2, "{report:#}");
    let name = silent["check"].as_str().unwrap();
    assert!(
        name.contains("InstanceId=i-0reel") && name.ends_with("Average"),
        "{silent}"
    );
    let detail = silent["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("no data in the last 168 hours (1 GetMetricData requests, 2 metrics"),
        "{silent}"
    );
    assert!(
        silent["fix"]
            .as_str()
            .unwrap()
            .contains("list-metrics --namespace AWS/EC2"),
        "{silent}"
    );

    let (_, stdout, _) = run(watch("i-0real")).await.unwrap();
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let checks = metric_checks(&report);
    assert_eq!(checks.len(), 1, "{report:#}");
    assert_eq!(checks[0]["status"], "ok", "{report:#}");
    assert_eq!(
        checks[0]["detail"],
        "1 series, each with data in the last 168 hours (1 GetMetricData requests, 1 metrics = $0.00001)"
    );
}
