//! The chain test's checks of the report archive: a bus that looks in the lake for the report's
//! files at the moment the report envelope is published, and the archived JSON and CSV read back.

use std::sync::Mutex;

use async_trait::async_trait;
use costwatch_core::archive::report_keys;
use costwatch_core::{Notification, NotificationBody};
use costwatch_store::{LakeReader, NotificationBus};
use serde_json::Value;

/// Publishes through `inner`; for a report envelope it first records which of its archived
/// files (HTML, JSON, CSV) the lake already holds, and keeps its figures.
pub struct ArchiveFirst<'a> {
    pub inner: &'a dyn NotificationBus,
    pub lake: &'a dyn LakeReader,
    pub found: Mutex<Vec<bool>>,
}

#[async_trait]
impl NotificationBus for ArchiveFirst<'_> {
    async fn publish(&self, notification: &Notification) -> costwatch_store::error::Result<()> {
        if let NotificationBody::Report(figures) = &notification.body {
            let mut found = Vec::new();
            for (_, key) in report_keys(figures) {
                found.push(self.lake.get(&key).await?.is_some());
            }
            *self.found.lock().unwrap() = found;
        }
        self.inner.publish(notification).await
    }
}

/// The JSON's tables and the CSV's rows describe the same report: one CSV row per budget, mover,
/// service, anomaly and allocation line of the JSON, amounts as plain decimals.
pub async fn check_archived_data(lake: &dyn LakeReader, keys: &[String]) {
    let read = |key: &str| {
        let key = key.to_owned();
        async move { String::from_utf8(lake.get(&key).await.unwrap().unwrap()).unwrap() }
    };
    let json: Value = serde_json::from_str(&read(&keys[1]).await).unwrap();
    assert!(json.get("chart_svg").is_none(), "charts stay in the HTML");
    let figures = &json["figures"];
    assert!(figures["total"].as_str().unwrap().parse::<f64>().is_ok());
    let csv = read(&keys[2]).await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "table",
            "label",
            "scope",
            "state",
            "since",
            "currency",
            "amount",
            "previous",
            "change",
            "limit",
            "forecast",
            "percent_used",
            "share_pct"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let count = |table: &str| rows.iter().filter(|r| &r[0] == table).count();
    let len = |v: &Value| v.as_array().unwrap().len();
    assert_eq!(count("budget"), len(&figures["budgets"]));
    assert_eq!(count("top_mover"), len(&figures["top_movers"]));
    assert_eq!(count("top_service"), len(&figures["top_services"]));
    assert_eq!(count("anomaly"), len(&json["anomalies"]));
    // Per tag key: its listed values, the rest's line when some are folded, the untagged line.
    let allocation_lines: usize = json["allocation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| len(&k["values"]) + usize::from(!k["rest"].is_null()) + 1)
        .sum();
    assert_eq!(count("allocation"), allocation_lines);
    assert!(count("anomaly") > 0, "the planted spike is an open anomaly");
    let first_service = rows.iter().find(|r| &r[0] == "top_service").unwrap();
    assert_eq!(
        &first_service[6],
        figures["top_services"][0]["amount"].as_str().unwrap()
    );
}
