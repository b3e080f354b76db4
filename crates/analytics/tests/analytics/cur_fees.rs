//! The real CUR sample (two workshop accounts, October–November 2018, read by the project's own
//! Parquet reader): the recurring fees booked on 1 November are expected from 1 October's, so no
//! scope reports them as an anomaly — while the same money booked as usage would be one.

use chrono::NaiveDate;
use costwatch_analytics::detect::{DetectorConfig, score_series};
use costwatch_core::record::CostMetric;
use costwatch_core::scope::ScopeKind;
use costwatch_core::series::rollup;
use costwatch_core::shared::shared_path;
use costwatch_core::{DailySeries, Money};

fn cur_series() -> Vec<DailySeries> {
    let mut records = Vec::new();
    for month in ["Oct2018", "Nov2018"] {
        let path = shared_path(&format!(
            "data/cost/cur/{month}-WorkshopCUR-00001.snappy.parquet"
        ));
        records.extend(costwatch_ingest::read_path(&path).expect("CUR sample reads"));
    }
    let (start, end) = (
        NaiveDate::from_ymd_opt(2018, 10, 1).unwrap(),
        NaiveDate::from_ymd_opt(2018, 11, 30).unwrap(),
    );
    let kinds = [
        ScopeKind::Org,
        ScopeKind::Account,
        ScopeKind::Service,
        ScopeKind::AccountService,
    ];
    rollup(&records, CostMetric::Billed, &kinds)
        .into_iter()
        .map(|(scope, points)| DailySeries::from_points(scope, start, end, &points))
        .collect()
}

#[test]
fn first_of_month_fees_in_the_real_cur_are_not_usage_anomalies() {
    let nov1 = NaiveDate::from_ymd_opt(2018, 11, 1).unwrap();
    let cfg = DetectorConfig::default();
    let all = cur_series();
    let with_fees: Vec<&DailySeries> = all
        .iter()
        .filter(|s| s.get(nov1).is_some_and(|d| d.recurring > Money::from(25)))
        .collect();
    assert!(
        !with_fees.is_empty(),
        "the sample books recurring fees on 1 November"
    );
    for s in &with_fees {
        let day = score_series(s, &cfg).into_iter().find(|d| d.date == nov1);
        let day = day.unwrap_or_else(|| panic!("{}: 1 November not scored", s.scope));
        assert!(!day.anomalous, "{}: {day:?}", s.scope);
    }
    // Control: the same money as usage is a spike on at least one of those scopes.
    let flagged_as_usage = with_fees.iter().any(|s| {
        let mut as_usage = (*s).clone();
        for d in as_usage.days.iter_mut().flatten() {
            d.usage += d.recurring + d.tax;
            d.recurring = Money::ZERO;
            d.tax = Money::ZERO;
        }
        score_series(&as_usage, &cfg)
            .iter()
            .any(|d| d.date == nov1 && d.anomalous)
    });
    assert!(flagged_as_usage, "the control would have alerted");
}
