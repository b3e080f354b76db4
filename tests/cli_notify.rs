//! `costwatch render` and `costwatch notify` as a user runs them, with the shipped
//! examples/contract.toml; `notify --endpoint` sends to the fake Slack.

use std::path::Path;
use std::sync::Arc;

use assert_cmd::Command;
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::slack::FakeSlack;
use serde_json::Value;

fn repo(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

fn costwatch() -> Command {
    let mut cmd = Command::cargo_bin("costwatch").unwrap();
    cmd.current_dir(std::env::temp_dir());
    cmd
}

#[test]
fn render_prints_the_exact_requests_with_secrets_redacted() {
    let out = costwatch()
        .args([
            "render",
            "--integration",
            "slack",
            "--config",
            &repo("examples/contract.toml"),
        ])
        .args(["--input", &repo("events/notifications/anomaly.json")])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let requests: Vec<Value> = serde_json::from_str(&text).unwrap();
    // The SageMaker anomaly is routed to ml-team (bot channel) by the example's rules.
    assert_eq!(requests.len(), 1, "{text}");
    let r = &requests[0];
    assert_eq!(r["method"], "POST");
    assert_eq!(r["url"], "https://slack.com/api/chat.postMessage");
    assert_eq!(r["headers"]["authorization"], "[REDACTED]");
    assert_eq!(r["body"]["channel"], "C0000000000");
    assert!(
        r["body"]["blocks"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
    );
    assert!(!text.contains("xoxb-"), "{text}");

    let out = costwatch()
        .args([
            "render",
            "--integration",
            "slack",
            "--config",
            &repo("examples/contract.toml"),
        ])
        .args(["--input", &repo("events/notifications/budget.json")])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let requests: Vec<Value> = serde_json::from_slice(&out).unwrap();
    assert_eq!(requests[0]["url"], "https://hooks.slack.com/[REDACTED]");
    assert!(!String::from_utf8_lossy(&out).contains("XXXXXXXX"));
}

/// `costwatch render --integration NAME [--config FILE]` on the sample anomaly, which must
/// fail; its stderr.
fn render_error(integration: &str, config: Option<&Path>) -> String {
    let mut cmd = costwatch();
    cmd.args(["render", "--integration", integration]);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    let out = cmd
        .args(["--input", &repo("events/notifications/anomaly.json")])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn unknown_integrations_and_bad_configs_are_named() {
    let err = render_error("pager", None);
    assert!(
        err.contains("unknown integration `pager` (known: slack"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[integrations.slack.destinations.a]\nwebhook = \"https://x\"\n",
    )
    .unwrap();
    let err = render_error("slack", Some(&cfg));
    assert!(err.contains("webhook"), "{err}");
    // A config with budgets and no integration table says where to find one.
    let budgets_only = dir.path().join("costwatch.toml");
    std::fs::write(
        &budgets_only,
        "[[pipeline.budgets]]\nname = \"org\"\nscope = \"org\"\namount = \"100\"\n",
    )
    .unwrap();
    let err = render_error("teams", Some(&budgets_only));
    assert!(
        err.contains("has no [integrations.teams] table: copy it from examples/contract.toml"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_with_the_contract_config_sends_real_requests_to_the_endpoint() {
    let slack = Arc::new(
        FakeSlack::new()
            .with_webhook(
                "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
                "C0FINOPS",
            )
            .with_bot(
                "xoxb-000000000000-0000000000000-placeholderplaceholder0000",
                &["C0000000000"],
            ),
    );
    let fake = FakeServer::start(slack.clone()).await;
    let endpoint = fake.url();
    for kind in ["anomaly", "budget", "report"] {
        let endpoint = endpoint.clone();
        let assert = tokio::task::spawn_blocking(move || {
            costwatch()
                .args([
                    "notify",
                    "--integration",
                    "slack",
                    "--config",
                    &repo("examples/contract.toml"),
                ])
                .args([
                    "--input",
                    &repo(&format!("events/notifications/{kind}.json")),
                    "--endpoint",
                    &endpoint,
                ])
                .assert()
        })
        .await
        .unwrap();
        assert.success();
    }
    let messages = slack.messages();
    let channels: Vec<_> = messages
        .iter()
        .map(|m| (m.channel.as_str(), m.via.as_str()))
        .collect();
    assert_eq!(
        channels,
        [
            ("C0000000000", "chat.postMessage"),
            ("C0FINOPS", "webhook"),
            ("C0FINOPS", "webhook")
        ],
        "{messages:?}"
    );
}

/// Every integration of examples/contract.toml renders every sample envelope out of the box,
/// and no placeholder credential reaches the output. A registry entry without a table there
/// fails here (the CLI says "has no [integrations.X] table").
#[test]
fn every_integration_in_the_contract_renders_every_sample_without_its_credentials() {
    let contract: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo("examples/contract.toml")).unwrap()).unwrap();
    let integrations: Vec<&String> = contract["integrations"]
        .as_table()
        .unwrap()
        .keys()
        .collect();
    assert!(integrations.len() >= 3, "{integrations:?}");
    let samples: Vec<_> = std::fs::read_dir(repo("events/notifications"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert!(samples.len() >= 6, "{samples:?}");
    // What in each placeholder is the credential (token, signature), never to be printed.
    let secrets = [
        "placeholderplaceholder",
        "placeholder-token",
        "XXXXXXXXXXXXXXXXXXXXXXXX",
    ];
    for integration in integrations {
        for sample in &samples {
            let out = costwatch()
                .args(["render", "--integration", integration])
                .args(["--config", &repo("examples/contract.toml")])
                .args(["--input", sample.to_str().unwrap()])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone();
            let text = String::from_utf8(out).unwrap();
            let requests: Vec<Value> = serde_json::from_str(&text).unwrap();
            // The Azure archive copies reports only; anything else it acknowledges unsent.
            let archive_skips = integration == "azure-blob" && !text_is_report(sample);
            assert_eq!(
                requests.is_empty(),
                archive_skips,
                "{integration} {sample:?}"
            );
            for secret in secrets {
                assert!(!text.contains(secret), "{integration} {sample:?}: {text}");
            }
        }
    }
}

/// A config with a syntax error on a line that holds a credential: the error says where, and
/// never quotes the line (toml's own message would).
#[test]
fn a_config_syntax_error_names_the_line_but_not_the_credential() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("costwatch.toml");
    std::fs::write(
        &path,
        "[integrations.slack]\nbot_token = \"xoxb-1111-2222-leakedleakedleaked\n",
    )
    .unwrap();
    let out = costwatch()
        .args(["render", "--integration", "slack"])
        .args(["--config", path.to_str().unwrap()])
        .args(["--input", &repo("events/notifications/test.json")])
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(!stderr.contains("leaked"), "{stderr}");
    // The same file through the general loader (`costwatch demo --config`).
    let out = costwatch()
        .args(["--config", path.to_str().unwrap(), "demo", "--out"])
        .arg(dir.path().join("out"))
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2") && !stderr.contains("leaked"),
        "{stderr}"
    );
}

/// Whether a sample envelope file is a report (what an archive integration copies).
fn text_is_report(sample: &std::path::Path) -> bool {
    let envelope: Value = serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
    envelope["kind"] == "report"
}
