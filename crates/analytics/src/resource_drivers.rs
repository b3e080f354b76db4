//! Resource-level root cause: which resources moved a day's spend against their recent baseline,
//! and for each whether it moved because more was used (usage) or because each unit cost more
//! (rate) — the question AWS's own anomaly alerts leave open. It reads CUR usage lines, which carry
//! both the quantity and the cost of every resource and usage type.
//!
//! A line's key is (account, product, usage type, resource id): one usage type has one unit
//! (hours, GB-months…), so cost ÷ quantity is a unit price. The baseline is the mean day of the
//! window the caller names, a day without lines counting as nothing used. With baseline quantity
//! q0 and cost c0 (unit price p0 = c0 / q0) and the day's q1, c1 (p1), the change c1 − c0 splits
//! exactly into
//!
//! * usage effect = (q1 − q0) × (p0 + p1) / 2
//! * rate effect  = (p1 − p0) × (q0 + q1) / 2
//!
//! the symmetric split: neither effect is priced at only the old or only the new level, and the
//! two always add up to the change. A resource new on the day (q0 = 0) or gone (q1 = 0) is all
//! usage; a charge without a quantity on either side (q0 = q1 = 0: tax, some fees) is all rate.
//! A reservation that expires keeps the hours and turns their cost from covered ($0 unblended)
//! to on-demand: rate. Lines that are charges rather than usage — reservation and Savings Plan
//! fees, one-time fees, tax, credits — have no usage × price to split (an RI fee's "usage" is
//! the hours it reserves, billed on the 1st): their whole change is put in the rate effect and
//! they are labelled [`Driver::Charge`].

use std::collections::BTreeMap;

use chrono::NaiveDate;
use costwatch_core::money::{from_f64, to_f64};
use costwatch_core::{Money, UsageLine};
use serde::{Deserialize, Serialize};

/// What moved a resource's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    /// At least two thirds of the movement (|usage| / (|usage| + |rate|)) is quantity.
    Usage,
    /// At least two thirds is unit price.
    Rate,
    /// Neither dominates.
    Mixed,
    /// A fee, tax or credit, not usage (see the module doc).
    Charge,
}

/// `line_item_line_item_type`s that are quantity × unit price.
const USAGE_LINE_TYPES: [&str; 3] = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"];

/// One resource (or, for lines without a resource id, one usage type of an account) and how its
/// day compares with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDriver {
    pub account: String,
    /// `line_item_product_code`.
    pub product_code: String,
    pub usage_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The first of the caller's owner tag keys the resource carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Mean daily cost over the baseline window.
    pub baseline_cost: Money,
    pub cost: Money,
    /// Mean daily quantity over the baseline window, in the usage type's unit.
    pub baseline_usage: f64,
    pub usage: f64,
    /// cost − baseline_cost = usage_effect + rate_effect.
    pub contribution: Money,
    /// Rounded to cents; `rate_effect` takes the rest, so the two add up exactly.
    pub usage_effect: Money,
    pub rate_effect: Money,
    pub driver: Driver,
}

/// The day and the baseline it is compared with.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub day: NaiveDate,
    /// First and last baseline day, inclusive; the caller picks days the data covers.
    pub baseline_from: NaiveDate,
    pub baseline_to: NaiveDate,
}

impl Window {
    /// The `days` days before `day`.
    pub fn before(day: NaiveDate, days: u32) -> Self {
        Self {
            day,
            baseline_from: day - chrono::Days::new(u64::from(days.max(1))),
            baseline_to: day - chrono::Days::new(1),
        }
    }

    fn baseline_days(&self) -> i64 {
        (self.baseline_to - self.baseline_from).num_days() + 1
    }
}

type Key = (String, String, String, Option<String>);

#[derive(Default)]
struct Sums {
    baseline_cost: Money,
    baseline_usage: Money,
    cost: Money,
    usage: Money,
    tags: BTreeMap<String, String>,
    /// Some line of the key is a fee, tax or credit.
    charge: bool,
}

/// Every key's comparison, unfiltered and unsorted: what [`rank`] ranks, and what a caller sums
/// to check that the contributions account for the whole change.
pub fn compare(lines: &[UsageLine], window: Window, owner_keys: &[&str]) -> Vec<ResourceDriver> {
    let n = window.baseline_days();
    if n <= 0 {
        return Vec::new();
    }
    let mut sums: BTreeMap<Key, Sums> = BTreeMap::new();
    for line in lines {
        let on_day = line.day == window.day;
        let in_baseline = line.day >= window.baseline_from && line.day <= window.baseline_to;
        if !on_day && !in_baseline {
            continue;
        }
        let key = (
            line.account.clone(),
            line.product_code.clone(),
            line.usage_type.clone(),
            line.resource_id.clone(),
        );
        let s = sums.entry(key).or_default();
        if on_day {
            s.cost += line.cost;
            s.usage += line.usage_amount;
        } else {
            s.baseline_cost += line.cost;
            s.baseline_usage += line.usage_amount;
        }
        s.charge |= !USAGE_LINE_TYPES.contains(&line.line_item_type.as_str());
        for (k, v) in &line.tags {
            s.tags.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let n = Money::from(n);
    sums.into_iter()
        .map(|((account, product_code, usage_type, resource_id), s)| {
            let baseline_cost = s.baseline_cost / n;
            let baseline_usage = s.baseline_usage / n;
            let contribution = s.cost - baseline_cost;
            let (q0, q1) = (to_f64(baseline_usage), to_f64(s.usage));
            let usage_effect = if s.charge {
                Money::ZERO
            } else {
                from_f64(usage_effect(q0, to_f64(baseline_cost), q1, to_f64(s.cost)))
            };
            let rate_effect = contribution - usage_effect;
            let owner = owner_keys.iter().find_map(|k| s.tags.get(*k).cloned());
            ResourceDriver {
                account,
                product_code,
                usage_type,
                resource_id,
                owner,
                baseline_cost,
                cost: s.cost,
                baseline_usage: q0,
                usage: q1,
                contribution,
                usage_effect,
                rate_effect,
                driver: if s.charge {
                    Driver::Charge
                } else {
                    driver(to_f64(usage_effect), to_f64(rate_effect))
                },
            }
        })
        .collect()
}

/// The resources that moved the day's spend the way the anomaly did (`rising`), largest
/// contribution first, at most `limit`; ties broken by key so the order is stable.
pub fn rank(
    lines: &[UsageLine],
    window: Window,
    rising: bool,
    owner_keys: &[&str],
    limit: usize,
) -> Vec<ResourceDriver> {
    let mut drivers: Vec<ResourceDriver> = compare(lines, window, owner_keys)
        .into_iter()
        .filter(|d| {
            if rising {
                d.contribution > Money::ZERO
            } else {
                d.contribution < Money::ZERO
            }
        })
        .collect();
    drivers.sort_by(|a, b| {
        b.contribution
            .abs()
            .cmp(&a.contribution.abs())
            .then_with(|| {
                (&a.account, &a.product_code, &a.usage_type, &a.resource_id).cmp(&(
                    &b.account,
                    &b.product_code,
                    &b.usage_type,
                    &b.resource_id,
                ))
            })
    });
    drivers.truncate(limit);
    drivers
}

/// (q1 − q0) × (p0 + p1) / 2, with the edge cases of the module doc.
fn usage_effect(q0: f64, c0: f64, q1: f64, c1: f64) -> f64 {
    let change = c1 - c0;
    match (q0 > 0.0, q1 > 0.0) {
        // Nothing measured on either side: only the price can have moved.
        (false, false) => 0.0,
        // Appeared or disappeared: all of it is usage.
        (false, true) | (true, false) => change,
        (true, true) => {
            let (p0, p1) = (c0 / q0, c1 / q1);
            (q1 - q0) * (p0 + p1) / 2.0
        }
    }
}

fn driver(usage: f64, rate: f64) -> Driver {
    let total = usage.abs() + rate.abs();
    if total == 0.0 {
        Driver::Mixed
    } else if usage.abs() >= total * 2.0 / 3.0 {
        Driver::Usage
    } else if rate.abs() >= total * 2.0 / 3.0 {
        Driver::Rate
    } else {
        Driver::Mixed
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn line(d: u32, resource: &str, usage_type: &str, usage: Money, cost: Money) -> UsageLine {
        UsageLine {
            day: day(d),
            account: "111111111111".into(),
            account_name: None,
            product_code: "AmazonEC2".into(),
            region: Some("us-east-1".into()),
            usage_type: usage_type.into(),
            operation: None,
            resource_id: (!resource.is_empty()).then(|| resource.to_owned()),
            line_item_type: "Usage".into(),
            cost,
            usage_amount: usage,
            tags: BTreeMap::from([("owner".to_owned(), format!("team-{resource}"))]),
            lines: 1,
        }
    }

    /// Seven baseline days of `usage` at `price`, then the day.
    fn history(
        resource: &str,
        usage: Money,
        price: Money,
        day_usage: Money,
        day_price: Money,
    ) -> Vec<UsageLine> {
        let mut lines: Vec<UsageLine> = (1..=7)
            .map(|d| line(d, resource, "BoxUsage:m5.large", usage, usage * price))
            .collect();
        lines.push(line(
            8,
            resource,
            "BoxUsage:m5.large",
            day_usage,
            day_usage * day_price,
        ));
        lines
    }

    fn only(lines: &[UsageLine]) -> ResourceDriver {
        let ranked = rank(lines, Window::before(day(8), 7), true, &["owner"], 5);
        assert_eq!(ranked.len(), 1, "{ranked:?}");
        ranked.into_iter().next().unwrap()
    }

    #[test]
    fn twice_the_hours_at_the_same_price_is_usage() {
        let d = only(&history(
            "i-1",
            dec!(24),
            dec!(0.096),
            dec!(48),
            dec!(0.096),
        ));
        assert_eq!(d.contribution, dec!(2.304));
        assert_eq!(d.usage_effect, dec!(2.30));
        assert_eq!(d.usage_effect + d.rate_effect, d.contribution);
        assert_eq!(d.driver, Driver::Usage);
        assert_eq!(d.owner.as_deref(), Some("team-i-1"));
    }

    #[test]
    fn an_expired_reservation_is_rate() {
        // Covered hours cost $0 unblended; the same 24 hours on demand cost $0.096 each.
        let d = only(&history("i-2", dec!(24), dec!(0), dec!(24), dec!(0.096)));
        assert_eq!(d.contribution, dec!(2.304));
        assert_eq!(d.usage_effect, Money::ZERO);
        assert_eq!(d.rate_effect, dec!(2.304));
        assert_eq!(d.driver, Driver::Rate);
    }

    #[test]
    fn more_hours_at_a_lower_price_splits_both_ways() {
        // 24 h at $0.10 → 48 h at $0.08: +$1.44, usage +$2.16, rate −$0.72.
        let d = only(&history("i-3", dec!(24), dec!(0.10), dec!(48), dec!(0.08)));
        assert_eq!(d.contribution, dec!(1.44));
        assert_eq!(d.usage_effect, dec!(2.16));
        assert_eq!(d.rate_effect, dec!(-0.72));
        assert_eq!(d.driver, Driver::Usage);
    }

    #[test]
    fn a_new_resource_is_all_usage_and_a_price_without_quantity_all_rate() {
        let new = only(&[line(8, "i-new", "BoxUsage:m5.large", dec!(10), dec!(0.96))]);
        assert_eq!((new.usage_effect, new.driver), (dec!(0.96), Driver::Usage));
        assert_eq!(new.baseline_cost, Money::ZERO);

        // Data transfer without a measured quantity on either side: only the price can have moved.
        let mut flat: Vec<UsageLine> = (1..=7)
            .map(|d| line(d, "", "DataTransfer-Out-Bytes", Money::ZERO, dec!(1.00)))
            .collect();
        flat.push(line(
            8,
            "",
            "DataTransfer-Out-Bytes",
            Money::ZERO,
            dec!(3.00),
        ));
        let t = only(&flat);
        assert_eq!((t.rate_effect, t.driver), (dec!(2.00), Driver::Rate));
        assert_eq!(t.resource_id, None);
    }

    #[test]
    fn a_reservation_fee_on_the_first_is_a_charge_not_usage() {
        let mut fee = line(1, "", "HeavyUsage:m5.large", dec!(720), dec!(54));
        fee.line_item_type = "RIFee".into();
        let d = rank(&[fee], Window::before(day(1), 7), true, &[], 5).remove(0);
        assert_eq!(d.driver, Driver::Charge);
        assert_eq!((d.usage_effect, d.rate_effect), (Money::ZERO, dec!(54)));
    }

    #[test]
    fn only_the_anomalys_direction_largest_first() {
        let mut lines = history("i-up", dec!(24), dec!(0.1), dec!(48), dec!(0.1));
        lines.extend(history("i-big", dec!(24), dec!(0.1), dec!(96), dec!(0.1)));
        lines.extend(history("i-down", dec!(24), dec!(0.1), dec!(12), dec!(0.1)));
        let w = Window::before(day(8), 7);
        let up: Vec<_> = rank(&lines, w, true, &[], 5)
            .into_iter()
            .map(|d| d.resource_id.unwrap())
            .collect();
        assert_eq!(up, ["i-big", "i-up"]);
        let down = rank(&lines, w, false, &[], 5);
        assert_eq!(down.len(), 1);
        assert_eq!(down[0].contribution, dec!(-1.2));
        assert_eq!(rank(&lines, w, true, &[], 1).len(), 1);
    }

    proptest::proptest! {
        #[test]
        fn the_effects_always_add_up_to_the_change(
            q0 in 0u32..10_000, p0 in 0u32..100_000, q1 in 0u32..10_000, p1 in 0u32..100_000,
        ) {
            let (q0, q1) = (Money::from(q0), Money::from(q1));
            let (p0, p1) = (Money::new(i64::from(p0), 4), Money::new(i64::from(p1), 4));
            for d in compare(&history("i", q0, p0, q1, p1), Window::before(day(8), 7), &[]) {
                proptest::prop_assert_eq!(d.usage_effect + d.rate_effect, d.contribution);
                proptest::prop_assert_eq!(d.contribution, q1 * p1 - q0 * p0);
            }
        }
    }
}
