use costwatch_analytics::detect::{DetectorConfig, detect_latest};
use costwatch_analytics::root_cause::rank;
use costwatch_core::{DailyCost, DailySeries};
use rust_decimal_macros::dec;

use crate::common::{date, seasonal};

fn sum(a: &DailySeries, b: &DailySeries, c: &DailySeries) -> DailySeries {
    let days = (0..a.len())
        .map(|i| {
            let mut total = DailyCost::default();
            for s in [a, b, c] {
                total.merge(&s.days[i]?);
            }
            Some(total)
        })
        .collect();
    DailySeries {
        scope: a.scope.clone(),
        start: a.start,
        days,
    }
}

#[test]
fn the_child_that_caused_the_spike_ranks_first_with_nearly_all_the_share() {
    let start = date(2026, 1, 1);
    let (mut ec2, ec2_base) = seasonal(start, 90, 800.0, 0.03, 11);
    let (s3, _) = seasonal(start, 90, 200.0, 0.03, 12);
    let (mut lambda, _) = seasonal(start, 90, 100.0, 0.03, 13);
    let last = 89;
    if let Some(d) = ec2.days[last].as_mut() {
        d.usage += rust_decimal::Decimal::from_f64_retain(ec2_base[last] * 2.0)
            .unwrap_or_default()
            .round_dp(2);
    }
    if let Some(d) = lambda.days[last].as_mut() {
        d.usage -= dec!(60); // moved the other way: does not explain a rise
    }
    let org = sum(&ec2, &s3, &lambda);
    let cfg = DetectorConfig::default();
    let anomaly = detect_latest(&org, &cfg).expect("org spike");

    let children = vec![
        ("service".to_owned(), "AWS Lambda".to_owned(), lambda),
        ("service".to_owned(), "Amazon S3".to_owned(), s3),
        ("service".to_owned(), "Amazon EC2".to_owned(), ec2),
    ];
    let causes = rank(&children, anomaly.date, anomaly.impact, &cfg, 5);
    let top = causes.first().expect("a cause");
    assert_eq!(
        (top.dimension.as_str(), top.value.as_str()),
        ("service", "Amazon EC2")
    );
    assert!(top.share > 0.9 && top.share <= 1.0, "share {}", top.share);
    assert!(causes.iter().all(|c| c.value != "AWS Lambda"), "{causes:?}");
    assert!(
        causes
            .windows(2)
            .all(|w| w[0].contribution >= w[1].contribution)
    );
    assert_eq!(
        rank(&children, anomaly.date, anomaly.impact, &cfg, 1).len(),
        1
    );
}

#[test]
fn a_brand_new_child_contributes_all_its_spend() {
    let start = date(2026, 1, 1);
    let (old, _) = seasonal(start, 60, 500.0, 0.02, 14);
    let mut new_days = vec![None; 59];
    new_days.push(Some(DailyCost {
        usage: dec!(700),
        ..Default::default()
    }));
    let new = DailySeries {
        scope: old.scope.clone(),
        start,
        days: new_days,
    };
    let children = vec![
        ("usage_type".to_owned(), "BoxUsage".to_owned(), old),
        ("usage_type".to_owned(), "NatGateway-Bytes".to_owned(), new),
    ];
    let causes = rank(
        &children,
        date(2026, 3, 1),
        dec!(700),
        &DetectorConfig::default(),
        5,
    );
    assert_eq!(causes[0].value, "NatGateway-Bytes");
    assert_eq!(causes[0].contribution, dec!(700));
    assert!((causes[0].share - 1.0).abs() < 1e-9);
}
