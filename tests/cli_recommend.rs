//! `costwatch recommend` on the real CUR (data/cost/cur): the list a user sees, as JSON and as
//! text, and a file that is not a CUR refused with the reason.

use assert_cmd::Command;
use costwatch_core::shared::shared_path;

fn costwatch() -> Command {
    let mut cmd = Command::cargo_bin("costwatch").unwrap();
    cmd.env_remove("COSTWATCH_DATA_DIR")
        .env_remove("COSTWATCH_CONFIG");
    cmd
}

fn cur(month: &str) -> String {
    shared_path(&format!(
        "data/cost/cur/{month}2018-WorkshopCUR-00001.snappy.parquet"
    ))
    .display()
    .to_string()
}

#[test]
fn the_real_cur_at_one_dollar_lists_the_idle_addresses_and_two_t2_large() {
    let out = costwatch()
        .args(["--json", "recommend", "--min-savings", "1", "--cur"])
        .args([cur("Oct"), cur("Nov")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = list["items"].as_array().unwrap();
    let saved: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["finding"]["kind"].as_str().unwrap(),
                i["finding"]["monthly_savings"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        saved,
        [
            ("idle_elastic_ip", "7.31"),
            ("previous_generation", "7.01"),
            ("previous_generation", "7.01")
        ]
    );
    assert_eq!(list["total_monthly_savings"], "21.33");
    assert_eq!(list["untagged"].as_array().unwrap().len(), 2);
}

#[test]
fn text_output_names_formula_action_and_evidence() {
    let out = costwatch()
        .args(["recommend", "--min-savings", "7.2", "--cur"])
        .arg(cur("Nov"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("1 recommendation, $7.31 a month in total"),
        "{text}"
    );
    assert!(text.contains("formula: 336 idle address-hours"), "{text}");
    assert!(
        text.contains("aws ec2 release-address --region us-east-1"),
        "{text}"
    );
    assert!(text.contains("evidence: - ElasticIP:IdleAddress Usage 2018-11-24..2018-11-30: 336 units, $1.68 (168 CUR rows)"), "{text}");
}

#[test]
fn a_file_without_usage_amounts_is_refused_with_the_reason() {
    let focus = shared_path("data/cost/focus/focus_1.0_sample_1000.csv");
    let out = costwatch()
        .args(["recommend", "--cur"])
        .arg(focus)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("recommendations need a CUR"), "{err}");
}

/// `--track` on the data directory: the first week opens the three items (one envelope each,
/// written under --out), the same week again sends nothing, and the lifecycles are in the data
/// directory's state for `costwatch serve` to show.
#[test]
fn track_opens_each_item_once_and_keeps_it_in_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("out");
    let week = || {
        let run = costwatch()
            .arg("--json")
            .arg("--data-dir")
            .arg(&data)
            .args(["recommend", "--min-savings", "1", "--track", "--out"])
            .arg(&out)
            .arg("--cur")
            .args([cur("Oct"), cur("Nov")])
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&run.stdout).unwrap()
    };
    let first = week();
    assert_eq!(first["list"]["items"].as_array().unwrap().len(), 3);
    let opened = first["published"].as_array().unwrap();
    assert_eq!(opened.len(), 3);
    assert!(opened.iter().all(|n| n["state"] == "open"));
    let written = std::fs::read_dir(out.join("notifications"))
        .unwrap()
        .count();
    assert_eq!(written, 3);
    let again = week();
    assert!(
        again["published"].as_array().unwrap().is_empty(),
        "{again:#}"
    );
    assert_eq!(
        std::fs::read_dir(out.join("notifications"))
            .unwrap()
            .count(),
        3
    );
}
