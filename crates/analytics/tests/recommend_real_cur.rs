//! The suite's recommendation rules on the real CUR (data/cost/cur, Oct–Nov 2018, two workshop
//! accounts). Every figure asserted here was read off the Parquet rows independently (DuckDB
//! over the same files, see docs/recommendations.md) — the run-rate window is the 7 days
//! 2018-11-24..30, the growth window 2018-11-03..30, the untagged window 2018-11-01..30.
//!
//! What the real data has: idle Elastic IPs, t2 instances (previous generation), gp2 volumes,
//! growing S3 buckets without lifecycle (at $0: this CUR prices their storage at zero) and
//! untagged spend. What it does not have, so those rules are tested on constructed input in
//! src/recommend/: a volume billed while no instance ran in its region, a load balancer, a NAT
//! gateway.

use std::sync::OnceLock;

use chrono::NaiveDate;
use costwatch_analytics::recommend::list::{self, Threshold, Thresholds};
use costwatch_analytics::recommend::{Finding, Kind, Settings, suite_findings};
use costwatch_core::Money;

#[path = "support/real_cur.rs"]
mod real_cur;
use real_cur::lines;

fn findings() -> &'static [Finding] {
    static FINDINGS: OnceLock<Vec<Finding>> = OnceLock::new();
    FINDINGS.get_or_init(|| suite_findings(lines(), &Settings::default()))
}

fn of(kind: Kind) -> Vec<&'static Finding> {
    findings().iter().filter(|f| f.kind == kind).collect()
}

fn usd(s: &str) -> Money {
    s.parse().unwrap()
}

fn nov(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2018, 11, d).unwrap()
}

#[test]
fn idle_elastic_ips_in_011254002932() {
    // CUR: 168 hourly lines ElasticIP:IdleAddress, account 011254002932, us-east-1, no resource
    // id, 2 address-hours and $0.01 each, 2018-11-24 00:00 .. 11-30 23:00.
    let eips = of(Kind::IdleElasticIp);
    assert_eq!(eips.len(), 1, "{eips:#?}");
    let f = eips[0];
    assert_eq!(f.account, "011254002932");
    assert_eq!(f.resource, "011254002932/us-east-1/ElasticIP:IdleAddress");
    assert_eq!(f.evidence.len(), 1);
    let e = &f.evidence[0];
    assert_eq!(
        (e.usage_type.as_str(), e.resource_id.as_deref()),
        ("ElasticIP:IdleAddress", None)
    );
    assert_eq!((e.first_day, e.last_day, e.lines), (nov(24), nov(30), 168));
    assert_eq!((e.usage_amount, e.cost), (usd("336"), usd("1.68")));
    // 1.68 / 7 × 30.4375 = 7.305
    assert_eq!(f.monthly_savings, usd("7.31"));
    assert!(
        f.formula.contains("(2 addresses on average)"),
        "{}",
        f.formula
    );
}

#[test]
fn t2_instances_on_demand_are_previous_generation() {
    let found = of(Kind::PreviousGeneration);
    let ids: Vec<&str> = found.iter().map(|f| f.resource.as_str()).collect();
    // Every instance with on-demand BoxUsage of a listed family on 2018-11-30 (all t2); the
    // m4.xlarge of October was gone by then, reservation-covered t2 hours are not counted.
    assert_eq!(
        ids,
        [
            "i-011dcab7fe91424d6",
            "i-02d3229d6696ee169",
            "i-0342529a9832468d5",
            "i-0512991d4fa76e853",
            "i-052265fee612fa28a",
            "i-08607d9bc435cb38f",
            "i-0f6011f7fc36d46ee"
        ]
    );
    let f = found
        .iter()
        .find(|f| f.resource == "i-08607d9bc435cb38f")
        .unwrap();
    // 168 lines BoxUsage:t2.large, 168 hours, $15.5904 (on-demand $0.0928/h).
    let e = &f.evidence[0];
    assert_eq!(
        (e.usage_type.as_str(), e.line_item_type.as_str()),
        ("BoxUsage:t2.large", "Usage")
    );
    assert_eq!(
        (e.usage_amount, e.cost, e.lines),
        (usd("168"), usd("15.5904"), 168)
    );
    // 15.5904 / 7 × 30.4375 = 67.79; × (1 − 0.8966) = 7.01
    assert_eq!(
        (f.current_monthly_cost, f.monthly_savings),
        (usd("67.79"), usd("7.01"))
    );
    assert!(f.title.ends_with("t2.large → t3.large"));
    // EUW2-BoxUsage:t2.micro, 168 hours at $0 (free tier): a finding without a saving.
    let free = found
        .iter()
        .find(|f| f.resource == "i-0342529a9832468d5")
        .unwrap();
    assert_eq!(free.monthly_savings, Money::ZERO);
}

#[test]
fn gp2_volumes_billed_on_the_last_day_move_to_gp3() {
    let found = of(Kind::Gp2ToGp3);
    // 25 gp2 volumes billed on 2018-11-30; the eu-west-2 one at $0 saves nothing and is left out.
    assert_eq!(found.len(), 24);
    let f = found
        .iter()
        .find(|f| f.resource == "vol-09409784ef6121644")
        .unwrap();
    // 168 lines EBS:VolumeUsage.gp2, 7.0000000056 GB-months, $0.7000000056 in the week.
    assert_eq!(f.evidence[0].lines, 168);
    assert_eq!(f.evidence[0].cost.round_dp(4), usd("0.7000"));
    assert!(f.title.contains("about 30 GiB"), "{}", f.title);
    // 0.70 / 7 × 30.4375 = 3.04; × 20% = 0.61
    assert_eq!(
        (f.current_monthly_cost, f.monthly_savings),
        (usd("3.04"), usd("0.61"))
    );
}

#[test]
fn growing_buckets_without_lifecycle_at_zero_cost() {
    let found = of(Kind::S3WithoutLifecycle);
    let ids: Vec<&str> = found.iter().map(|f| f.resource.as_str()).collect();
    assert_eq!(
        ids,
        [
            "aws-athena-query-results-836060457634-us-east-1",
            "aws-athena-query-results-us-east-1-836060457634",
            "cloudtrail-awslogs-011254002932-m0er4rrl-isengard-do-not-delete",
            "cloudtrail-awslogs-836060457634-t7dhuihl-isengard-do-not-delete",
            "config-bucket-836060457634"
        ]
    );
    let trail = found[2];
    // TimedStorage-ByteHrs GB-months: 0.0219637574 in 11-03..09, 0.0297517466 in 11-24..30.
    let earlier: Money = trail
        .evidence
        .iter()
        .filter(|e| e.last_day < nov(10))
        .map(|e| e.usage_amount)
        .sum();
    let recent: Money = trail
        .evidence
        .iter()
        .filter(|e| e.first_day >= nov(24))
        .map(|e| e.usage_amount)
        .sum();
    assert_eq!(
        (earlier.round_dp(10), recent.round_dp(10)),
        (usd("0.0219637574"), usd("0.0297517466"))
    );
    // This CUR bills that storage at $0, so every such finding saves nothing.
    assert!(found.iter().all(|f| f.monthly_savings.is_zero()));
}

#[test]
fn untagged_share_per_account() {
    let found = of(Kind::UntaggedSpend);
    let shares: Vec<(&str, Option<f64>)> = found
        .iter()
        .map(|f| (f.account.as_str(), f.share_pct))
        .collect();
    // Lines with cost > 0, no Tax/Credit, 2018-11-01..30: 011254002932 $28.4528 of $60.4857
    // untagged; 836060457634 $2,514.2286 of $3,444.8412.
    assert_eq!(
        shares,
        [("011254002932", Some(47.0)), ("836060457634", Some(73.0))]
    );
}

#[test]
fn rules_with_no_case_in_the_real_cur_find_nothing() {
    for kind in [
        Kind::VolumeWithoutInstance,
        Kind::IdleLoadBalancer,
        Kind::NatGatewayGrowth,
    ] {
        assert!(of(kind).is_empty(), "{kind}: {:#?}", of(kind));
    }
}

#[test]
fn one_list_at_the_default_and_at_a_one_dollar_threshold() {
    // Every saving in these two small accounts is under the default $10/month.
    let default = list::build(findings().to_vec(), &Thresholds::default());
    assert!(default.items.is_empty(), "{:#?}", default.items);
    assert_eq!(default.untagged.len(), 2);
    let low = Thresholds {
        default: Threshold {
            min_monthly_savings: Money::ONE,
            min_savings_pct: 5.0,
        },
        ..Thresholds::default()
    };
    let list = list::build(findings().to_vec(), &low);
    let ranked: Vec<(&str, Money)> = list
        .items
        .iter()
        .map(|i| (i.finding.resource.as_str(), i.finding.monthly_savings))
        .collect();
    assert_eq!(
        ranked,
        [
            ("011254002932/us-east-1/ElasticIP:IdleAddress", usd("7.31")),
            (ranked[1].0, usd("7.01")),
            (ranked[2].0, usd("7.01")),
        ]
    );
    assert_eq!(list.total_monthly_savings, usd("21.33"));
    // Ids are stable across runs.
    let again = list::build(findings().to_vec(), &low);
    assert_eq!(
        list.items.iter().map(|i| &i.id).collect::<Vec<_>>(),
        again.items.iter().map(|i| &i.id).collect::<Vec<_>>()
    );
}
