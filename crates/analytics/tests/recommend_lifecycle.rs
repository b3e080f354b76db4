//! The "$500/month saving" on the real CUR: data/cost/cur (Oct–Nov 2018) with one added
//! resource — a 4,200 GiB gp2 volume in eu-central-1, where neither account runs an instance,
//! billed $16.4271 a day (≈ $500/month) for all of November. Later weeks are the real last
//! week repeated (the organisation keeps running), first with the volume, then without it.
//!
//! One recommendation opens (the volume, $500.00/month; its gp2 → gp3 finding on the same
//! volume is noted, not added), stays quiet while nothing changes, deleting the volume resolves
//! it, and a full week later the realised saving is $500.00. (An estimate that moves is in
//! src/recommend/lifecycle.rs's tests.)

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use costwatch_analytics::recommend::lifecycle::{self, DEFAULT_UPDATE_SHARE, Tracked};
use costwatch_analytics::recommend::list::{self, List, Thresholds};
use costwatch_analytics::recommend::{Kind, Settings, suite_findings};
use costwatch_core::notification::State;
use costwatch_core::shared::shared_path;
use costwatch_core::{Money, UsageLine};
use costwatch_ingest::cur::read_usage;

const VOLUME: &str = "vol-0a500d011a7e0000";

fn nov(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2018, 11, d).unwrap()
}

fn real() -> Vec<UsageLine> {
    [
        "Oct2018-WorkshopCUR-00001.snappy.parquet",
        "Nov2018-WorkshopCUR-00001.snappy.parquet",
    ]
    .iter()
    .flat_map(|f| read_usage(&shared_path(&format!("data/cost/cur/{f}"))).unwrap())
    .collect()
}

fn volume_day(day: NaiveDate, cost: &str) -> UsageLine {
    UsageLine {
        day,
        account: "836060457634".into(),
        account_name: None,
        product_code: "AmazonEC2".into(),
        region: Some("eu-central-1".into()),
        usage_type: "EUC1-EBS:VolumeUsage.gp2".into(),
        operation: Some("CreateVolume-Gp2".into()),
        resource_id: Some(VOLUME.into()),
        line_item_type: "Usage".into(),
        cost: cost.parse().unwrap(),
        // 4,200 GiB: 4200 / 30.4375 GB-months a day.
        usage_amount: "137.9877".parse().unwrap(),
        tags: BTreeMap::from([("team".into(), "analytics".into())]),
        lines: 24,
    }
}

/// The real last week (Nov 24–30) repeated `weeks` weeks later.
fn week_later(real: &[UsageLine], weeks: u64) -> Vec<UsageLine> {
    real.iter()
        .filter(|l| l.day >= nov(24))
        .map(|l| UsageLine {
            day: l.day.checked_add_days(Days::new(7 * weeks)).unwrap(),
            ..l.clone()
        })
        .collect()
}

fn run(lines: &[UsageLine]) -> List {
    list::build(
        suite_findings(lines, &Settings::default()),
        &Thresholds::default(),
    )
}

#[test]
fn five_hundred_a_month_opens_resolves_and_is_realised() {
    let real = real();
    let mut lines = real.clone();
    lines.extend((1..=30).map(|d| volume_day(nov(d), "16.4271")));

    // Week 1 (to Nov 30): one recommendation, the volume.
    let first = run(&lines);
    assert_eq!(first.items.len(), 1, "{:#?}", first.items);
    let item = &first.items[0];
    assert_eq!(
        (item.finding.kind, item.finding.resource.as_str()),
        (Kind::VolumeWithoutInstance, VOLUME)
    );
    // 7 × 16.4271 / 7 × 30.4375 = 499.9999 → $500.00
    assert_eq!(item.finding.monthly_savings, Money::from(500));
    assert_eq!(item.also_found.len(), 1);
    assert_eq!(item.also_found[0].kind, Kind::Gp2ToGp3);
    assert_eq!(first.total_monthly_savings, Money::from(500));
    let step1 = lifecycle::step(&BTreeMap::new(), &first, DEFAULT_UPDATE_SHARE, nov(30));
    assert_eq!(step1.transitions.len(), 1);
    assert_eq!(
        (step1.transitions[0].state, step1.transitions[0].revision),
        (State::Open, 0)
    );
    let envelope = step1.transitions[0]
        .item
        .envelope(State::Open, 0, chrono::Utc::now());
    assert_eq!(
        envelope.scope.tags.get("team").map(String::as_str),
        Some("analytics")
    );

    // The same list again: nothing to send.
    let again = lifecycle::step(&step1.tracked, &first, DEFAULT_UPDATE_SHARE, nov(30));
    assert!(again.transitions.is_empty());

    // Week 2: the volume still there at the same cost: tracked, nothing sent.
    let dec = |d: u32| NaiveDate::from_ymd_opt(2018, 12, d).unwrap();
    let mut week2 = lines.clone();
    week2.extend(week_later(&real, 1));
    week2.extend((1..=7).map(|d| volume_day(dec(d), "16.4271")));
    let second = run(&week2);
    assert_eq!(second.items[0].id, item.id);
    let step2 = lifecycle::step(&step1.tracked, &second, DEFAULT_UPDATE_SHARE, dec(7));
    assert!(step2.transitions.is_empty());

    // Week 3: the volume is deleted (no line after Dec 7): resolved.
    let mut week3 = week2.clone();
    week3.extend(week_later(&real, 2));
    let third = run(&week3);
    assert!(third.items.is_empty(), "{:#?}", third.items);
    let step3 = lifecycle::step(&step2.tracked, &third, DEFAULT_UPDATE_SHARE, dec(14));
    assert_eq!(step3.transitions.len(), 1);
    assert_eq!(
        (step3.transitions[0].state, step3.transitions[0].revision),
        (State::Resolved, 1)
    );
    let tracked: &Tracked = step3.tracked.values().next().unwrap();
    // No full week after the resolution yet.
    assert_eq!(lifecycle::realised(tracked, &week3, 7, dec(14)), None);

    // Week 4: a full week without the volume: the $500 baseline is saved.
    let mut week4 = week3.clone();
    week4.extend(week_later(&real, 3));
    assert_eq!(
        lifecycle::realised(tracked, &week4, 7, dec(21)),
        Some(Money::from(500))
    );
    let mut measured = step3.tracked.clone();
    assert_eq!(lifecycle::measure(&mut measured, &week4, 7, dec(21)), 1);
    assert_eq!(lifecycle::saved_so_far(measured.values()), Money::from(500));
}
