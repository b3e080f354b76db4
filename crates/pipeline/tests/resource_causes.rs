//! Resource-level root cause in the anomaly lifecycle, on the real CUR's usage lines
//! (data/cost/cur, November 2018): an anomaly imported from AWS Cost Anomaly Detection for the
//! organisation on 15 November — AWS names no resources — goes out with the resources that moved
//! that day, each split into usage and unit price; a source that fails leaves the alert without
//! them rather than holding it back.

use async_trait::async_trait;
use chrono::{NaiveDate, TimeZone, Utc};
use costwatch_core::findings::{Anomaly, Direction};
use costwatch_core::shared::shared_path;
use costwatch_core::{Money, NotificationBody, Scope, UsageLine};
use costwatch_ingest::cur::read_usage;
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::detect::{DetectPorts, detect_merged};
use costwatch_pipeline::resource_causes::ResourceLines;
use costwatch_query::QueryError;
use costwatch_store::{ImportedAnomaly, MemoryStore};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The project's CUR reader's lines, filtered as the export query filters them.
struct ReaderLines {
    lines: Vec<UsageLine>,
    fail: bool,
}

#[async_trait]
impl ResourceLines for ReaderLines {
    async fn lines(
        &self,
        scope: &Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<UsageLine>, QueryError> {
        if self.fail {
            return Err(QueryError::Unavailable("Athena is down".into()));
        }
        assert_eq!(scope, &Scope::Org);
        Ok(self
            .lines
            .iter()
            .filter(|l| l.day >= from && l.day <= to)
            .cloned()
            .collect())
    }

    fn owner_keys(&self) -> &[String] {
        &[]
    }
}

fn imported() -> ImportedAnomaly {
    ImportedAnomaly {
        source_id: "aws-anomaly-1".into(),
        anomaly: Anomaly {
            scope: Scope::Org,
            start_date: day("2018-11-15"),
            date: day("2018-11-15"),
            direction: Direction::Rise,
            actual: Money::from(60),
            expected: Money::from(40),
            lower: Money::ZERO,
            upper: Money::from(40),
            impact: Money::from(20),
            impact_pct: Some(50.0),
            score: 0.9,
            root_causes: Vec::new(),
            resources: Vec::new(),
        },
    }
}

async fn published(source: &ReaderLines) -> costwatch_core::notification::AnomalyFigures {
    let store = MemoryStore::default();
    let ports = DetectPorts {
        lake: &store.lake,
        rollups: &store.rollups,
        state: &store.state,
        bus: &store.bus,
        resources: Some(source),
    };
    let now = Utc.with_ymd_and_hms(2018, 11, 16, 7, 0, 0).unwrap();
    let out = detect_merged(
        &ports,
        &PipelineConfig::default(),
        &Default::default(),
        day("2018-11-15"),
        now,
        &[imported()],
    )
    .await
    .unwrap();
    assert_eq!(out.len(), 1, "{out:#?}");
    match &out[0].body {
        NotificationBody::Anomaly(f) => f.clone(),
        other => panic!("not an anomaly: {other:?}"),
    }
}

#[tokio::test]
async fn an_imported_anomaly_goes_out_with_the_resources_that_moved_its_day() {
    let lines = read_usage(&shared_path(
        "data/cost/cur/Nov2018-WorkshopCUR-00001.snappy.parquet",
    ))
    .unwrap();
    let figures = published(&ReaderLines { lines, fail: false }).await;
    let top = figures.resources.first().expect("resources ranked");
    assert_eq!(top.product_code, "AWSGlue", "{:#?}", figures.resources);
    assert_eq!(top.driver, "usage");
    assert_eq!(top.contribution.round_dp(2), Money::new(1973, 2));
    assert!(figures.resources.len() <= 5);
    for r in &figures.resources {
        assert_eq!(r.usage_effect + r.rate_effect, r.contribution, "{r:?}");
        assert!(
            r.contribution > Money::ZERO,
            "a rise names what rose: {r:?}"
        );
    }
    assert!(
        figures.resources.iter().any(|r| r.driver == "rate"),
        "the c5.large whose reservation ended is a rate change: {:#?}",
        figures.resources
    );
}

#[tokio::test]
async fn a_failing_source_leaves_the_alert_without_resources() {
    let figures = published(&ReaderLines {
        lines: Vec::new(),
        fail: true,
    })
    .await;
    assert!(figures.resources.is_empty());
    assert_eq!(figures.impact, Money::from(20));
}
