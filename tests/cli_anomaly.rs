//! `costwatch bench nab` and `costwatch anomaly …` as a user runs them.

use std::path::Path;

use assert_cmd::Command;

fn costwatch(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("costwatch").unwrap();
    cmd.current_dir(dir)
        .env_remove("COSTWATCH_DATA_DIR")
        .env_remove("COSTWATCH_CONFIG");
    cmd
}

#[test]
fn bench_nab_writes_one_scored_row_per_input_row_under_the_same_paths() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("nested/deeper")).unwrap();
    // A spiky stream, a constant one, and a short one with a gap and a bad value.
    let mut spiky = String::from("timestamp,value\n");
    for i in 0..600 {
        let v = if i == 500 {
            900.0
        } else {
            10.0 + f64::from(i % 5)
        };
        let (h, m) = (i * 5 / 60, i * 5 % 60);
        spiky.push_str(&format!("2014-02-14 {:02}:{:02}:00,{v}\n", h % 24, m));
    }
    std::fs::write(data.join("spiky.csv"), &spiky).unwrap();
    let constant: String = std::iter::once("timestamp,value\n".to_owned())
        .chain((0..300).map(|i| format!("2014-02-14T00:{:02}:00Z,7.5\n", i % 60)))
        .collect();
    std::fs::write(data.join("nested/constant.csv"), constant).unwrap();
    std::fs::write(
        data.join("nested/deeper/short.csv"),
        "timestamp,value\n2014-02-14 14:27:00,1\n2014-02-14 14:32:00,\n2014-02-14 14:37:00,abc\n",
    )
    .unwrap();

    let out = costwatch(dir.path())
        .args([
            "bench", "nab", "--data", "data", "--out", "scored", "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["files"], 3);
    assert_eq!(summary["rows"], 903);

    for (name, rows) in [
        ("spiky.csv", 600),
        ("nested/constant.csv", 300),
        ("nested/deeper/short.csv", 3),
    ] {
        let text = std::fs::read_to_string(dir.path().join("scored").join(name)).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("timestamp,value,anomaly_score"));
        let scores: Vec<f64> = lines
            .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
            .collect();
        assert_eq!(scores.len(), rows, "{name}");
        assert!(
            scores
                .iter()
                .all(|s| s.is_finite() && (0.0..=1.0).contains(s)),
            "{name}"
        );
        if name == "spiky.csv" {
            let top = scores
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            assert_eq!(top, 500, "the spike scores highest");
        }
    }
    // Timestamps and values pass through as written.
    let short = std::fs::read_to_string(dir.path().join("scored/nested/deeper/short.csv")).unwrap();
    assert!(short.contains("2014-02-14 14:37:00,abc,"), "{short}");
}

#[test]
fn anomaly_commands_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let out = costwatch(dir.path())
        .args(["anomaly", "feedback", "an_00000000000000000000", "expected"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no anomaly with id `an_00000000000000000000`"),
        "{err}"
    );
    let out = costwatch(dir.path())
        .args(["anomaly", "feedback", "an_x", "maybe"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "unknown verdict is refused");
    let out = costwatch(dir.path())
        .args(["anomaly", "list"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nothing to list is said, not left blank.
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.starts_with("no open, ongoing or acknowledged anomalies in "),
        "{listed}"
    );
}

/// `anomaly ack` on the demo's open spike goes through the same action as the API and the chat
/// buttons: the anomaly becomes acknowledged once and one envelope saying so is written beside
/// the data for the integrations; a second ack changes and announces nothing.
#[test]
fn ack_is_recorded_once_and_announced_once() {
    let dir = tempfile::tempdir().unwrap();
    let demo = costwatch(dir.path())
        .args(["demo", "--out", "out"])
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let data = dir.path().join("out/data");
    // `costwatch --json --data-dir DATA anomaly …`, which must succeed; its JSON.
    let anomaly = |args: &[&str]| {
        let out = costwatch(dir.path())
            .arg("--json")
            .arg("--data-dir")
            .arg(&data)
            .arg("anomaly")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let open = anomaly(&["list"]);
    let subject = open[0]["subject_id"].as_str().unwrap().to_owned();
    // The text list words the anomaly as its alert does: state, scope, signed dollars.
    let text = costwatch(dir.path())
        .arg("--data-dir")
        .arg(&data)
        .args(["anomaly", "list"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with(&subject))
        .unwrap_or_else(|| panic!("{subject} listed: {text}"));
    assert!(
        line.contains("  open  ") && line.contains("impact +$"),
        "{line}"
    );
    let notifications = data.join("notifications");
    let written = || match std::fs::read_dir(&notifications) {
        Ok(entries) => entries.count(),
        Err(_) => 0,
    };
    let before = written();
    let first = anomaly(&["ack", &subject]);
    assert_eq!(first["announced"]["state"], "acknowledged", "{first:#}");
    assert_eq!(first["announced"]["subject_id"], subject.as_str());
    assert_eq!(written(), before + 1);
    let second = anomaly(&["ack", &subject]);
    assert!(second["announced"].is_null(), "{second:#}");
    assert_eq!(written(), before + 1);
    let listed = anomaly(&["list"]);
    let spike = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["subject_id"] == subject.as_str())
        .unwrap();
    assert_eq!(spike["state"], "acknowledged");
}
