//! `costwatch demo --integrations fakes`: the normal demo, then the four scenarios of issue 12
//! against the vendor fakes on loopback, and per scenario what each vendor received.

use assert_cmd::Command;
use serde_json::Value;

#[test]
fn demo_with_the_fakes_shows_what_each_vendor_received_per_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("costwatch")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("COSTWATCH_DATA_DIR")
        .env_remove("COSTWATCH_CONFIG")
        .args(["demo", "--integrations", "fakes", "--json", "--out", "out"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The normal demo's summary is still there, and its report written.
    assert_eq!(doc["command"], "demo", "{doc:#}");
    assert!(dir.path().join("out/report.html").exists());

    let scenarios = doc["scenarios"].as_array().expect("scenarios");
    let numbers: Vec<u64> = scenarios
        .iter()
        .map(|s| s["scenario"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    for s in scenarios {
        let n = &s["scenario"];
        assert!(!s["envelopes"].as_array().unwrap().is_empty(), "{n}");
        // Every vendor configured in every scenario received at least one request, each
        // described.
        let vendors: Vec<&str> = s["vendors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let requests = v["requests"].as_u64().unwrap();
                let received = v["received"].as_array().unwrap();
                assert!(requests >= 1, "scenario {n}: {v:#}");
                assert_eq!(received.len() as u64, requests, "scenario {n}: {v:#}");
                v["vendor"].as_str().unwrap()
            })
            .collect();
        assert_eq!(
            vendors,
            ["slack", "teams", "pagerduty", "jira", "datadog"],
            "scenario {n}"
        );
        // The redelivery of every message sent nothing again.
        assert_eq!(s["requests_after_redelivery"], 0, "scenario {n}");
        // Jira: exactly one issue per subject that opens a ticket, and one create each.
        let per_subject = s["jira_issues_per_subject"].as_object().unwrap();
        for (subject, keys) in per_subject {
            assert_eq!(
                keys.as_array().unwrap().len(),
                1,
                "scenario {n}: {subject}: {keys}"
            );
        }
        let creates = received(s, "jira")
            .iter()
            .filter(|r| r.starts_with("created "))
            .count();
        assert_eq!(creates, per_subject.len(), "scenario {n}");
    }
    // Scenarios 1–3 open tickets (the spike, the saving, the budget subjects); the report only
    // comments on the tracking issue.
    for s in &scenarios[..3] {
        assert!(!s["jira_issues_per_subject"].as_object().unwrap().is_empty());
    }
    assert!(
        received(&scenarios[3], "jira")
            .iter()
            .any(|r| r == "comment on OPS-1"),
        "{:#}",
        scenarios[3]
    );

    // Scenario 1: triggered, then resolved, on PagerDuty.
    let pd = received(&scenarios[0], "pagerduty");
    assert!(pd[0].starts_with("trigger "), "{pd:?}");
    assert!(pd.iter().any(|r| r.starts_with("resolve ")), "{pd:?}");
    // Scenario 3: the budget at 150 % pages PagerDuty critical.
    let pd = received(&scenarios[2], "pagerduty");
    assert!(
        pd.iter()
            .any(|r| r.starts_with("trigger critical dedup_key=")),
        "{pd:?}"
    );
    // Scenario 4: the report's chart uploaded into its Slack thread.
    let slack = received(&scenarios[3], "slack");
    assert!(
        slack.iter().any(|r| r.starts_with("chart uploaded")),
        "{slack:?}"
    );
}

/// What `vendor` received in scenario `s`, one line a request.
fn received(s: &Value, vendor: &str) -> Vec<String> {
    s["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vendor"] == vendor)
        .unwrap_or_else(|| panic!("no {vendor} in {s:#}"))["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}
