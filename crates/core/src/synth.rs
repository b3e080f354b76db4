//! A realistic synthetic organisation from a fixed seed, for `costwatch demo`, tests and
//! benchmarks: six accounts, sixteen services, weekly seasonality, a slow trend, recurring fees
//! on the 1st of each month (untagged, like every purchase), a level shift, one planted +200 %
//! spike and a budget that the spike's account has crossed at 150 %.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate, TimeZone, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::money::{Money, from_f64};
use crate::record::{ChargeCategory, ChargeFrequency, CostRecord};
use crate::scope::Scope;

pub const PAYER: &str = "111111111111";

/// (id, name, environment, team)
const ACCOUNTS: [(&str, &str, &str, &str); 6] = [
    (PAYER, "payer-mgmt", "shared", "platform"),
    ("222233334444", "web-prod", "prod", "web"),
    ("333344445555", "web-staging", "staging", "web"),
    ("444455556666", "data-platform", "prod", "data"),
    ("555566667777", "ml-research", "dev", "ml"),
    ("666677778888", "shared-services", "prod", "platform"),
];

/// (account index, service, usage type, base $/day, weekend factor)
const USAGE: [(usize, &str, &str, f64, f64); 24] = [
    (0, "AWS CloudTrail", "USE1-PaidEventsRecorded", 6.0, 1.0),
    (0, "Amazon Route 53", "HostedZone", 4.0, 1.0),
    (0, "AWS Config", "USE1-ConfigurationItemRecorded", 9.0, 0.95),
    (
        1,
        "Amazon Elastic Compute Cloud - Compute",
        "USE1-BoxUsage:m6i.xlarge",
        610.0,
        0.8,
    ),
    (
        1,
        "Elastic Load Balancing",
        "USE1-LoadBalancerUsage",
        58.0,
        0.85,
    ),
    (
        1,
        "Amazon Relational Database Service",
        "USE1-InstanceUsage:db.r6g.large",
        240.0,
        1.0,
    ),
    (
        1,
        "Amazon CloudFront",
        "US-DataTransfer-Out-Bytes",
        95.0,
        0.7,
    ),
    (
        1,
        "Amazon Simple Storage Service",
        "USE1-TimedStorage-ByteHrs",
        72.0,
        1.0,
    ),
    (
        1,
        "Amazon DynamoDB",
        "USE1-ReadCapacityUnit-Hrs",
        44.0,
        0.75,
    ),
    (
        2,
        "Amazon Elastic Compute Cloud - Compute",
        "USE1-BoxUsage:t3.large",
        120.0,
        0.45,
    ),
    (
        2,
        "Amazon Relational Database Service",
        "USE1-InstanceUsage:db.t4g.medium",
        38.0,
        1.0,
    ),
    (
        2,
        "Amazon Simple Storage Service",
        "USE1-TimedStorage-ByteHrs",
        11.0,
        1.0,
    ),
    (
        3,
        "Amazon Simple Storage Service",
        "USE1-TimedStorage-ByteHrs",
        185.0,
        1.0,
    ),
    (3, "Amazon Redshift", "USE1-Node:ra3.xlplus", 310.0, 1.0),
    (3, "AWS Glue", "USE1-ETL-DPU-Hour", 88.0, 0.6),
    (
        3,
        "Amazon SageMaker",
        "USE1-Notebook:ml.t3.medium",
        36.0,
        0.5,
    ),
    (
        3,
        "Amazon SageMaker",
        "USE1-Training:ml.p3.8xlarge",
        150.0,
        0.6,
    ),
    (3, "Amazon Athena", "USE1-DataScannedInTB", 27.0, 0.5),
    (
        4,
        "Amazon SageMaker",
        "USE1-Training:ml.g5.xlarge",
        96.0,
        0.3,
    ),
    (
        4,
        "Amazon Elastic Compute Cloud - Compute",
        "USE1-SpotUsage:g5.2xlarge",
        64.0,
        0.3,
    ),
    (
        4,
        "Amazon Simple Storage Service",
        "USE1-TimedStorage-ByteHrs",
        21.0,
        1.0,
    ),
    (
        5,
        "AmazonCloudWatch",
        "USE1-CW:MetricMonitorUsage",
        66.0,
        1.0,
    ),
    (5, "AWS Lambda", "USE1-Lambda-GB-Second", 31.0, 0.8),
    (
        5,
        "Amazon DynamoDB",
        "USE1-WriteCapacityUnit-Hrs",
        27.0,
        0.8,
    ),
];

/// (account index, service, usage type, $ on the 1st, frequency)
const FEES: [(usize, &str, &str, f64, ChargeFrequency); 3] = [
    (
        0,
        "AWS Support (Business)",
        "Dollar",
        1450.0,
        ChargeFrequency::Recurring,
    ),
    (
        1,
        "Amazon Elastic Compute Cloud - Compute",
        "HeavyUsage:m6i.xlarge",
        2190.0,
        ChargeFrequency::Recurring,
    ),
    (
        3,
        "Amazon Redshift",
        "USE1-HeavyUsage:ra3.xlplus",
        1320.0,
        ChargeFrequency::Recurring,
    ),
];

/// What the generator planted, so tests and the demo can check it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Planted {
    pub spike_date: NaiveDate,
    pub spike_account: String,
    pub spike_service: String,
    pub spike_usage_type: String,
    /// The spiking line's cost on the spike day over what it would have been (3.0 = +200 %).
    pub spike_factor: f64,
    pub level_shift_date: NaiveDate,
    pub level_shift_account: String,
    pub level_shift_service: String,
    /// Monthly budgets (scope, amount): the spike's account at 150 % of its budget by the last
    /// day, and the organisation with comfortable headroom.
    pub budgets: Vec<(String, Scope, Money)>,
}

#[derive(Debug, Clone)]
pub struct SyntheticOrg {
    pub records: Vec<CostRecord>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub planted: Planted,
}

pub const DEFAULT_SEED: u64 = 20_261_122;

/// `days` days ending on `end` (inclusive), fully determined by `seed`.
pub fn generate(seed: u64, end: NaiveDate, days: u32) -> SyntheticOrg {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = end - Days::new(u64::from(days.saturating_sub(1)));
    let spike_date = end;
    let level_shift_date = end - Days::new(45);
    let (spike_acct, spike_svc, spike_ut) = (3, "Amazon SageMaker", "USE1-Training:ml.p3.8xlarge");
    let (shift_acct, shift_svc) = (1, "Amazon Relational Database Service");
    let spike_factor = 3.0;

    let mut records = Vec::new();
    for (day_index, day) in start.iter_days().take(days as usize).enumerate() {
        let weekend = day.weekday().num_days_from_monday() >= 5;
        let trend = 1.0 + 0.0012 * day_index as f64;
        for &(acct, service, usage_type, base, weekend_factor) in &USAGE {
            let mut amount = base * trend * if weekend { weekend_factor } else { 1.0 };
            amount *= 1.0 + 0.05 * standard_normal(&mut rng);
            if acct == shift_acct && service == shift_svc && day >= level_shift_date {
                amount *= 1.45;
            }
            if acct == spike_acct && usage_type == spike_ut && day == spike_date {
                amount *= spike_factor;
            }
            records.push(record(
                day,
                acct,
                service,
                usage_type,
                amount,
                ChargeCategory::Usage,
                ChargeFrequency::UsageBased,
            ));
        }
        if day.day() == 1 {
            for &(acct, service, usage_type, amount, frequency) in &FEES {
                records.push(record(
                    day,
                    acct,
                    service,
                    usage_type,
                    amount,
                    ChargeCategory::Purchase,
                    frequency,
                ));
            }
        }
    }

    let spike_account = ACCOUNTS[spike_acct].0.to_owned();
    let spike_scope = Scope::Account(spike_account.clone());
    let month_start = end.with_day(1).unwrap_or(end);
    let spike_mtd: Money = records
        .iter()
        .filter(|r| r.sub_account_id == spike_account && r.day() >= month_start)
        .map(|r| r.billed_cost)
        .sum();
    let org_days_in_month = f64::from(days_in_month(end));
    let org_mtd: Money = records
        .iter()
        .filter(|r| r.day() >= month_start)
        .map(|r| r.billed_cost)
        .sum();
    let org_run_rate = crate::money::to_f64(org_mtd) / f64::from(end.day()) * org_days_in_month;
    let budgets = vec![
        (
            "data-platform monthly".to_owned(),
            spike_scope,
            (spike_mtd / Money::new(15, 1)).round_dp(2),
        ),
        (
            "organisation monthly".to_owned(),
            Scope::Org,
            from_f64((org_run_rate * 1.25 / 1000.0).round() * 1000.0),
        ),
    ];

    SyntheticOrg {
        records,
        start,
        end,
        planted: Planted {
            spike_date,
            spike_account,
            spike_service: spike_svc.to_owned(),
            spike_usage_type: spike_ut.to_owned(),
            spike_factor,
            level_shift_date,
            level_shift_account: ACCOUNTS[shift_acct].0.to_owned(),
            level_shift_service: shift_svc.to_owned(),
            budgets,
        },
    }
}

fn record(
    day: NaiveDate,
    acct: usize,
    service: &str,
    usage_type: &str,
    amount: f64,
    category: ChargeCategory,
    frequency: ChargeFrequency,
) -> CostRecord {
    let (id, name, environment, team) = ACCOUNTS[acct];
    let start = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default());
    let cost = Money::from_f64_retain(amount)
        .unwrap_or_default()
        .round_dp(4);
    CostRecord {
        charge_period_start: start,
        charge_period_end: start + chrono::Duration::days(1),
        billing_account_id: PAYER.to_owned(),
        billing_account_name: Some("Example Corp".to_owned()),
        sub_account_id: id.to_owned(),
        sub_account_name: Some(name.to_owned()),
        service_name: service.to_owned(),
        service_category: None,
        region_id: Some("us-east-1".to_owned()),
        charge_category: category,
        charge_frequency: Some(frequency),
        billed_cost: cost,
        effective_cost: cost,
        list_cost: Some(cost),
        billing_currency: "USD".to_owned(),
        // Purchases (the support plan, reservations) are no resource's, so they carry no
        // resource tag, as in a real bill: the organisation's untagged spend.
        tags: match category {
            ChargeCategory::Usage => BTreeMap::from([("team".to_owned(), team.to_owned())]),
            _ => BTreeMap::new(),
        },
        resource_id: None,
        x_usage_type: Some(usage_type.to_owned()),
        x_cost_categories: BTreeMap::from([("Environment".to_owned(), environment.to_owned())]),
    }
}

fn days_in_month(date: NaiveDate) -> u32 {
    let first = date.with_day(1).unwrap_or(date);
    let next = first + chrono::Months::new(1);
    (next - first).num_days() as u32
}

/// Box–Muller; enough for plausible noise, and stable across platforms for a given seed.
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn org() -> SyntheticOrg {
        generate(
            DEFAULT_SEED,
            NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
            120,
        )
    }

    #[test]
    fn shape_matches_what_the_demo_promises() {
        let o = org();
        let accounts: BTreeSet<_> = o.records.iter().map(|r| &r.sub_account_id).collect();
        let services: BTreeSet<_> = o.records.iter().map(|r| &r.service_name).collect();
        let days: BTreeSet<_> = o.records.iter().map(|r| r.day()).collect();
        assert!(accounts.len() >= 5, "{} accounts", accounts.len());
        assert!(services.len() >= 12, "{} services", services.len());
        assert_eq!(days.len(), 120);
        let fee_days: BTreeSet<_> = o
            .records
            .iter()
            .filter(|r| r.charge_category == ChargeCategory::Purchase)
            .map(|r| r.day().day())
            .collect();
        assert_eq!(fee_days, BTreeSet::from([1]));
    }

    #[test]
    fn spike_is_plus_two_hundred_percent_and_budget_is_at_150() {
        let o = org();
        let p = &o.planted;
        let line = |d: NaiveDate| -> f64 {
            o.records
                .iter()
                .filter(|r| {
                    r.day() == d
                        && r.x_usage_type.as_deref() == Some(p.spike_usage_type.as_str())
                        && r.sub_account_id == p.spike_account
                })
                .map(|r| crate::money::to_f64(r.billed_cost))
                .sum()
        };
        let week_before = line(p.spike_date - Days::new(7));
        let ratio = line(p.spike_date) / week_before;
        assert!((2.4..3.7).contains(&ratio), "spike ratio {ratio}");
        let (_, scope, amount) = &p.budgets[0];
        let mtd: Money = o
            .records
            .iter()
            .filter(|r| Some(r.sub_account_id.as_str()) == scope.account() && r.day().month() == 11)
            .map(|r| r.billed_cost)
            .sum();
        let pct = crate::money::to_f64(mtd / *amount) * 100.0;
        assert!((149.99..150.01).contains(&pct), "{pct}");
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let end = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        assert_eq!(generate(7, end, 30).records, generate(7, end, 30).records);
        assert_ne!(generate(7, end, 30).records, generate(8, end, 30).records);
    }
}
