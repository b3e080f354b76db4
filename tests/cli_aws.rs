//! `costwatch run --aws` as a user runs it, against moto's Cost Explorer: the binary finds moto
//! through `AWS_ENDPOINT_URL` with dummy keys, pulls into the local store, analyses, reports and
//! prints what the requests cost; with a low cap it stops and says so, and the next run resumes.

use std::path::Path;

use assert_cmd::Command;
use costwatch_testkit::moto::Moto;
use costwatch_testkit::moto_ce::queue_cost_and_usage;
use serde_json::{Value, json};

fn money(amount: &str) -> Value {
    json!({"Amount": amount, "Unit": "USD"})
}

fn metrics(amount: &str) -> Value {
    json!({"UnblendedCost": money(amount), "AmortizedCost": money(amount),
           "NetUnblendedCost": money(amount), "UsageQuantity": {"Amount": "1", "Unit": "N/A"}})
}

fn period(day: u32) -> Value {
    json!({"Start": format!("2026-03-{day:02}"), "End": format!("2026-03-{:02}", day + 1)})
}

fn probe(days: &[(u32, &str)]) -> Value {
    let results: Vec<Value> = days
        .iter()
        .map(|(d, a)| json!({"TimePeriod": period(*d), "Total": metrics(a), "Groups": [], "Estimated": true}))
        .collect();
    json!({"GroupDefinitions": [], "ResultsByTime": results, "DimensionValueAttributes": []})
}

fn grouped(days: &[(u32, &str, &str)], next: Option<&str>) -> Value {
    let results: Vec<Value> = days
        .iter()
        .map(|(d, account, amount)| {
            json!({"TimePeriod": period(*d), "Total": {}, "Estimated": true, "Groups": [
                {"Keys": [account, "Amazon Simple Storage Service"], "Metrics": metrics(amount)}]})
        })
        .collect();
    let mut page = json!({
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
                             {"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": results,
        "DimensionValueAttributes": [{"Value": "111111111111", "Attributes": {"description": "web"}}]
    });
    if let Some(token) = next {
        page["NextPageToken"] = json!(token);
    }
    page
}

/// The binary with moto as its only AWS: no profile files, no instance metadata.
fn costwatch(dir: &Path, moto: &Moto) -> Command {
    let mut cmd = Command::cargo_bin("costwatch").unwrap();
    cmd.current_dir(dir)
        .env_remove("COSTWATCH_DATA_DIR")
        .env_remove("COSTWATCH_CONFIG")
        .env_remove("AWS_PROFILE")
        .env("AWS_ENDPOINT_URL", moto.url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        );
    cmd
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn run_aws_pulls_prints_the_cost_and_stops_at_the_cap() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("costwatch.toml"),
        "[collect]\nbackfill_days = 3\n",
    )
    .unwrap();
    let results = json!([
        // First run (today 10th): the probe and one request for the 7th–9th.
        probe(&[(7, "2"), (8, "2"), (9, "2")]),
        grouped(
            &[
                (7, "111111111111", "2"),
                (8, "111111111111", "2"),
                (9, "111111111111", "2")
            ],
            None
        ),
        // Second run (11th): the probe and the 10th's first page; its second page would pass the cap.
        probe(&[(8, "2"), (9, "2"), (10, "3")]),
        grouped(&[(10, "111111111111", "1")], Some("page-2")),
        grouped(&[(10, "222222222222", "2")], None),
    ]);
    queue_cost_and_usage(&moto, &results.to_string());

    let first = costwatch(dir.path(), &moto)
        .args([
            "--json",
            "run",
            "--aws",
            "--today",
            "2026-03-10",
            "--out",
            "out",
        ])
        .output()
        .unwrap();
    let summary: Value = serde_json::from_str(&ok(&first)).unwrap();
    assert_eq!(
        summary["cost_explorer"]["line"],
        "2 Cost Explorer requests = $0.02"
    );
    assert_eq!(summary["cost_explorer"]["dollars"], "$0.02");
    assert_eq!(summary["cost_explorer"]["capped"], false);
    assert_eq!(summary["cost_explorer_requests"], 2);
    assert_eq!(summary["days_collected"], 3);
    assert_eq!(summary["as_of"], "2026-03-09");
    assert_eq!(summary["notifications_by_kind"]["report"], 1);
    assert!(dir.path().join("out/report.html").is_file());
    let lake = dir.path().join(".costwatch/lake");
    assert!(
        lake.join("curated/daily/dt=2026-03-09/records.jsonl")
            .is_file()
    );
    assert!(
        lake.join("raw/ce/dt=2026-03-07/account-service-p000.json")
            .is_file()
    );

    let capped = costwatch(dir.path(), &moto)
        .args([
            "run",
            "--aws",
            "--today",
            "2026-03-11",
            "--max-requests",
            "2",
            "--out",
            "out",
        ])
        .output()
        .unwrap();
    let text = ok(&capped);
    assert!(text.contains("2 Cost Explorer requests = $0.02"), "{text}");
    assert!(text.contains("request cap reached"), "{text}");
    assert!(
        !lake.join("curated/daily/dt=2026-03-10").exists(),
        "half a day is not written"
    );

    // The same window again: the probe and first page are asked again, then the last page.
    let resumed = costwatch(dir.path(), &moto)
        .args([
            "--json",
            "run",
            "--aws",
            "--today",
            "2026-03-11",
            "--out",
            "out",
        ])
        .output()
        .unwrap();
    let summary: Value = serde_json::from_str(&ok(&resumed)).unwrap();
    assert_eq!(
        summary["cost_explorer"]["line"],
        "3 Cost Explorer requests = $0.03"
    );
    assert_eq!(summary["cost_explorer"]["month_requests"], 7);
    assert_eq!(summary["cost_explorer"]["collected_through"], "2026-03-10");
    assert_eq!(summary["as_of"], "2026-03-10");
    let day10 = std::fs::read_to_string(lake.join("curated/daily/dt=2026-03-10/records.jsonl"));
    assert_eq!(day10.unwrap().lines().count(), 2, "both pages of the 10th");
}

/// `[metrics]` makes `run --aws` the metrics Lambda's step too: the watched series are pulled
/// from moto's CloudWatch (GetMetricData) into the local lake and judged by the stream detector;
/// the spiking instance is one anomaly envelope naming its metric, the steady one none, and
/// the next run pulls from where this one stopped and sends nothing again.
#[test]
fn run_aws_watches_the_configured_metrics() {
    use costwatch_testkit::moto_cw::{POINTS_PER_DAY, put_cpu_day, spiky, steady};
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    // CloudWatch (and moto's model of it) serves recent data: the points end now.
    let now = chrono::Utc::now();
    let end = chrono::DateTime::from_timestamp(now.timestamp() / 300 * 300, 0).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let config = moto.sdk_config().await;
        put_cpu_day(&config, "i-0spiky", end, spiky).await;
        put_cpu_day(&config, "i-0steady", end, steady).await;
    });
    let watch = |instance: &str| {
        format!(
            "[[metrics.watch]]\nstat = \"Average\"\nperiod_secs = 300\nmetric = {{ namespace = \
             \"AWS/EC2\", name = \"CPUUtilization\", dimensions = {{ InstanceId = \"{instance}\" }} }}\n"
        )
    };
    let config = format!(
        "[collect]\nbackfill_days = 3\n\n[metrics]\nbackfill_hours = 25\nhistory_hours = 576\n\n{}{}",
        watch("i-0spiky"),
        watch("i-0steady")
    );
    std::fs::write(dir.path().join("costwatch.toml"), config).unwrap();
    let days = [
        (7, "111111111111", "2"),
        (8, "111111111111", "2"),
        (9, "111111111111", "2"),
    ];
    let results = json!([
        probe(&[(7, "2"), (8, "2"), (9, "2")]),
        grouped(&days, None),
        probe(&[(7, "2"), (8, "2"), (9, "2")]),
        grouped(&days, None),
    ]);
    queue_cost_and_usage(&moto, &results.to_string());
    let run = || {
        let out = costwatch(dir.path(), &moto)
            .args(["--json", "run", "--aws", "--today", "2026-03-10"])
            .args(["--out", "out"])
            .output()
            .unwrap();
        serde_json::from_str::<Value>(&ok(&out)).unwrap()
    };
    let metric_alerts = |summary: &Value| -> Vec<Value> {
        let lines = summary["notifications"].as_array().unwrap().iter();
        let anomalies = lines.filter(|n| n["kind"] == "anomaly");
        anomalies.cloned().collect()
    };

    let first = run();
    let cw = &first["cloudwatch"];
    assert_eq!(cw["series"], 2, "{first:#}");
    assert_eq!(cw["points"], 2 * POINTS_PER_DAY, "{first:#}");
    assert_eq!(cw["requests"], 1, "{first:#}");
    assert_eq!(cw["complete"], true, "{first:#}");
    assert_eq!(
        cw["ledger_line"], "1 GetMetricData requests, 2 metrics = $0.00002",
        "{first:#}"
    );
    let alerts = metric_alerts(&first);
    assert_eq!(alerts.len(), 1, "{first:#}");
    let id = alerts[0]["id"].as_str().unwrap();
    let written = dir
        .path()
        .join(format!("out/notifications/anomaly-{id}.json"));
    let envelope: Value = serde_json::from_str(&std::fs::read_to_string(written).unwrap()).unwrap();
    assert_eq!(envelope["scope"]["kind"], "metric", "{envelope:#}");
    let dimensions = &envelope["scope"]["metric"]["dimensions"];
    assert_eq!(dimensions["InstanceId"], "i-0spiky", "{envelope:#}");
    assert_eq!(first["notifications_by_kind"]["anomaly"], 1, "{first:#}");
    // In the local lake, where the recommender and the next run's detector read them.
    assert!(dir.path().join(".costwatch/lake/metrics").is_dir());

    let again = run();
    assert!(metric_alerts(&again).is_empty(), "{again:#}");
    let window = again["cloudwatch"]["window"].as_array().unwrap();
    let from: chrono::DateTime<chrono::Utc> = window[0].as_str().unwrap().parse().unwrap();
    assert!(from > end - chrono::Duration::hours(1), "{again:#}");
}

/// People sign in through a profile: a `credential_process` one (aws-vault, a password manager)
/// gives `run --aws` its credentials, fetched once a run, with `[metrics]` as without (the
/// steps share one AWS configuration, whose credentials are fetched once); an IAM Identity
/// Center profile
/// without a login says that none is cached, not that the build lacks SSO.
#[test]
fn run_aws_signs_in_through_the_profile_once_for_every_step() {
    use costwatch_testkit::moto_cw::{put_cpu_day, steady};
    use std::os::unix::fs::PermissionsExt;
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("credential-process-calls");
    let process = dir.path().join("credentials.sh");
    std::fs::write(
        &process,
        format!(
            "#!/bin/sh\necho call >> '{}'\necho '{{\"Version\": 1, \"AccessKeyId\": \"testing\", \
             \"SecretAccessKey\": \"testing\"}}'\n",
            calls.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&process, std::fs::Permissions::from_mode(0o755)).unwrap();
    let aws_config = dir.path().join("aws-config");
    std::fs::write(
        &aws_config,
        format!(
            "[profile vault]\ncredential_process = {}\nregion = us-east-1\n\n[profile sso]\n\
             sso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n\
             sso_account_id = 123456789012\nsso_role_name = ReadOnly\nregion = us-east-1\n",
            process.display()
        ),
    )
    .unwrap();
    let now = chrono::Utc::now();
    let end = chrono::DateTime::from_timestamp(now.timestamp() / 300 * 300, 0).unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async { put_cpu_day(&moto.sdk_config().await, "i-0web", end, steady).await });
    let days = [(7, "111111111111", "2"), (8, "111111111111", "2")];
    let results = json!([
        probe(&[(7, "2"), (8, "2")]),
        grouped(&days, None),
        probe(&[(7, "2"), (8, "2")]),
        grouped(&days, None),
    ]);
    queue_cost_and_usage(&moto, &results.to_string());
    let config = dir.path().join("costwatch.toml");
    // The credential process's calls in one run of `run --aws --profile <profile>`.
    let run = |profile: &str, file: &str| -> (std::process::Output, usize) {
        std::fs::write(&config, file).unwrap();
        let _ = std::fs::remove_file(&calls);
        let out = costwatch(dir.path(), &moto)
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_CONFIG_FILE", &aws_config)
            .env("HOME", dir.path())
            .args(["--json", "run", "--aws", "--today", "2026-03-09"])
            .args(["--profile", profile, "--out", "out"])
            .output()
            .unwrap();
        let made = std::fs::read_to_string(&calls).map_or(0, |c| c.lines().count());
        (out, made)
    };
    let (alone, by_cost_explorer) = run("vault", "[collect]\nbackfill_days = 2\n");
    ok(&alone);
    assert_eq!(by_cost_explorer, 1, "the profile's process runs once a run");
    let watched = "[collect]\nbackfill_days = 2\n\n[metrics]\nbackfill_hours = 25\n\n\
                   [[metrics.watch]]\nstat = \"Average\"\nperiod_secs = 300\nmetric = { namespace = \
                   \"AWS/EC2\", name = \"CPUUtilization\", dimensions = { InstanceId = \"i-0web\" } }\n";
    let (both, with_metrics) = run("vault", watched);
    let summary: Value = serde_json::from_str(&ok(&both)).unwrap();
    assert_eq!(summary["cloudwatch"]["series"], 1, "{summary:#}");
    assert_eq!(
        with_metrics, by_cost_explorer,
        "CloudWatch signs with the credentials Cost Explorer's step fetched"
    );

    let (signed_out, _) = run("sso", "[collect]\nbackfill_days = 2\n");
    assert!(!signed_out.status.success());
    let err = String::from_utf8_lossy(&signed_out.stderr);
    assert!(
        err.contains("no AWS credentials for Cost Explorer"),
        "{err}"
    );
    // The cause, not only "an error occurred while loading credentials": no login cached.
    assert!(err.contains("/.aws/sso/cache/"), "{err}");
    assert!(err.contains("aws sso login"), "{err}");
    assert!(!err.contains("feature"), "{err}");
}

#[test]
fn run_aws_refuses_a_cap_too_small_to_collect_anything() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let out = costwatch(dir.path(), &moto)
        .args(["run", "--aws", "--max-requests", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("max_requests_per_run must be at least 2"),
        "{err}"
    );
}

/// Without credentials the run stops before its first request and says what to set: a missing
/// credential is not an outage to retry (it was: five attempts, 12 s, a page of debug output).
#[test]
fn run_aws_without_credentials_says_so_before_any_request() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let out = costwatch(dir.path(), &moto)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .args(["run", "--aws"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no AWS credentials for Cost Explorer") && err.contains("AWS_PROFILE"),
        "{err}"
    );
    assert!(!err.contains("gave up after"), "{err}");
}

#[test]
fn aws_flags_need_aws() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("costwatch")
        .unwrap()
        .current_dir(dir.path())
        .args(["run", "--max-requests", "5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--aws"));
}
