//! `costwatch bench scale` at a size `make test` can afford (5 accounts × 60 days, both
//! stores), so the benchmark `make bench-scale` runs at 1,000 accounts cannot rot: the same
//! organisation gives the same run on the local store and on moto, the planted spike is found,
//! and the request units the meter reports add up with what the run wrote.

use assert_cmd::Command;
use serde_json::Value;

fn run(out: &std::path::Path) -> Value {
    let output = Command::cargo_bin("costwatch")
        .unwrap()
        .args([
            "--json",
            "bench",
            "scale",
            "--accounts",
            "5",
            "--days",
            "60",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_daily_run_at_scale_is_the_same_on_both_stores_and_metered_on_moto() {
    let dir = tempfile::tempdir().unwrap();
    let report = run(dir.path());
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let (local, moto) = (&runs[0], &runs[1]);
    assert_eq!(
        (local["store"].as_str(), moto["store"].as_str()),
        (Some("local"), Some("moto"))
    );
    // 5 accounts of the demo's services, one of them (Support) billed only on the 1st.
    assert_eq!(report["account_service_series"], 5 * 15);
    let rows_per_day = report["rollup_rows_per_day"].as_u64().unwrap();
    for r in runs {
        assert_eq!(r["spike_found"], true, "{r}");
        assert_eq!(r["run"]["rows_aggregated"].as_u64(), Some(2 * rows_per_day));
        assert!(r["run"]["peak_rss_mib"].as_f64().unwrap() > 1.0);
        let steps: Vec<&str> = r["run"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            steps,
            ["aggregate", "detect", "forecast + budgets", "report"]
        );
    }
    assert_eq!(local["run"]["published"], moto["run"]["published"]);
    assert_eq!(local["run"]["anomalies"], moto["run"]["anomalies"]);
    assert!(
        local["run"]["capacity"].is_null(),
        "no DynamoDB on the local store"
    );

    // The aggregate step re-puts the restated day's rows and writes the new day's, with one
    // manifest item for the new day (the restated day's lists the same scopes: not rewritten)
    // and each day's revision; every row and revision is under 1 KB, so one write unit each.
    let aggregate = &moto["run"]["steps"][0]["capacity"];
    let manifest = &moto["manifest"];
    assert_eq!(manifest["items"], 1);
    let manifest_bytes = manifest["largest_item_bytes"].as_u64().unwrap();
    assert_eq!(
        aggregate["items_written"].as_u64(),
        Some(2 * rows_per_day + 1 + 2)
    );
    assert_eq!(
        aggregate["write_units"].as_u64(),
        Some(2 * rows_per_day + manifest_bytes.div_ceil(1024) + 2)
    );
    // Detection reads every detected series: at least one read per account × service series.
    let detect = &moto["run"]["steps"][1]["capacity"];
    assert!(
        detect["read_requests"].as_u64().unwrap() >= 5 * 15,
        "{detect}"
    );
    let total = &moto["run"]["capacity"];
    let summed: f64 = moto["run"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["capacity"]["read_units"].as_f64().unwrap())
        .sum();
    assert_eq!(total["read_units"].as_f64(), Some(summed));
}
