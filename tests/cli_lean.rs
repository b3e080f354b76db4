//! The lean `costwatch` that `make demo` builds (`--no-default-features`: no AWS SDK, no HTTP
//! client): the demo runs as in the full build, and each command the build leaves out fails
//! saying which feature it needs and how to get the full build. Compiled only into a build
//! without the `aws` feature (`make test` runs it with --no-default-features).
#![cfg(not(feature = "aws"))]

use std::path::Path;

use assert_cmd::Command;

fn costwatch(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("costwatch").unwrap();
    cmd.current_dir(dir)
        .env_remove("COSTWATCH_DATA_DIR")
        .env_remove("COSTWATCH_CONFIG");
    cmd
}

/// Runs `args`, expects a failure naming `feature` and the full build, and nothing on stdout.
fn left_out(args: &[&str], feature: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = costwatch(dir.path()).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded: {stderr}");
    assert!(
        stderr.contains(&format!("built without the `{feature}` feature"))
            && stderr.contains("cargo run -p costwatch-cli --"),
        "{args:?}: {stderr}"
    );
    assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
}

#[test]
fn the_lean_demo_writes_the_report_and_the_envelopes() {
    let dir = tempfile::tempdir().unwrap();
    let out = costwatch(dir.path())
        .args(["demo", "--json", "--out", "out"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        summary["notifications_by_kind"]["anomaly"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "{summary}"
    );
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Amazon SageMaker in data-platform"));
}

#[test]
fn run_aws_doctor_dlq_and_config_say_they_need_the_aws_build() {
    left_out(&["run", "--aws"], "aws");
    left_out(
        &["run", "--aws", "--profile", "p", "--max-requests", "3"],
        "aws",
    );
    left_out(&["doctor", "--yes"], "aws");
    left_out(&["dlq", "redrive", "--dry-run"], "aws");
    left_out(&["config", "push", "--dry-run"], "aws");
}

#[cfg(not(feature = "integrations"))]
#[test]
fn render_notify_and_the_fakes_say_they_need_the_integrations_build() {
    left_out(
        &["render", "--integration", "slack", "--input", "x.json"],
        "integrations",
    );
    left_out(&["notify", "--integration", "slack"], "integrations");
    left_out(&["demo", "--integrations", "fakes"], "integrations");
}
