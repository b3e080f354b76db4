//! Recommendations: the suite's own findings from CUR usage lines (this module's rule files),
//! then one ranked, de-duplicated list ([`list`]). Pure: the caller reads the lines (ingest's
//! `cur::read_usage`) and sends what comes out.
//!
//! Every rule looks at a trailing window ending on the last day of the data and states its
//! estimate as a formula with the numbers it used, next to the usage lines it rests on
//! ([`Evidence`]), so each finding can be checked line by line against the CUR. The formulas
//! and their sources are in docs/recommendations.md.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
pub use costwatch_core::recommend::{Action, Evidence, Finding, Kind, Source};
use costwatch_core::{Money, UsageLine};
use serde::{Deserialize, Serialize};

mod generation;
mod growth;
mod idle;
pub mod lifecycle;
pub mod list;
mod untagged;

pub use generation::{PREVIOUS_GENERATION, PriceRatio};

/// Days per month for monthly estimates: 365.25 / 12.
pub const DAYS_PER_MONTH: Money = Money::from_parts(304375, 0, 0, false, 4);

/// Window lengths the rules use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Trailing days a run rate is taken over (monthly = cost in them / days × 30.4375).
    pub run_rate_days: u32,
    /// Trailing days growth is measured over (first vs last `run_rate_days` of them).
    pub growth_days: u32,
    /// Trailing days the untagged share is measured over.
    pub untagged_days: u32,
}

impl Settings {
    /// The run-rate and untagged windows cut to the `covered` days the data has: a month's
    /// run rate from 3 days of data is their cost / 3 × 30.4375, not / 7 (a one-day CUR showed
    /// an idle address at a seventh of its rate).
    fn within(self, covered: u32) -> Self {
        Self {
            run_rate_days: self.run_rate_days.min(covered),
            untagged_days: self.untagged_days.min(covered),
            ..self
        }
    }
}

/// "1 day", "7 days".
pub(crate) fn days_text(n: u32) -> String {
    match n {
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    }
}

/// Days from `first` to `last`, both counted.
fn covered_days(first: NaiveDate, last: NaiveDate) -> u32 {
    u32::try_from((last - first).num_days() + 1).unwrap_or(u32::MAX)
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            run_rate_days: 7,
            growth_days: 28,
            untagged_days: 30,
        }
    }
}

/// Every rule of the suite over `lines`, each finding with its evidence; unranked, not
/// thresholded (that is [`list::build`]).
pub fn suite_findings(lines: &[UsageLine], settings: &Settings) -> Vec<Finding> {
    let (Some(first), Some(last)) = (
        lines.iter().map(|l| l.day).min(),
        lines.iter().map(|l| l.day).max(),
    ) else {
        return Vec::new();
    };
    let ctx = Ctx {
        lines,
        last,
        settings: settings.within(covered_days(first, last)),
    };
    let mut out = Vec::new();
    out.extend(idle::elastic_ips(&ctx));
    out.extend(idle::volumes_without_instance(&ctx));
    out.extend(idle::load_balancers(&ctx));
    out.extend(generation::previous_generation(&ctx));
    out.extend(generation::gp2_to_gp3(&ctx));
    // Growth compares the window's first days with its last: before the data began there is
    // nothing to compare, and everything would look like growth.
    if covered_days(first, last) >= settings.growth_days {
        out.extend(growth::nat_gateways(&ctx));
        out.extend(growth::s3_without_lifecycle(&ctx));
    }
    out.extend(untagged::untagged_spend(&ctx));
    out
}

/// What every rule gets: the lines and the last day of data.
pub(crate) struct Ctx<'a> {
    pub lines: &'a [UsageLine],
    pub last: NaiveDate,
    pub settings: Settings,
}

impl Ctx<'_> {
    /// First day of the trailing `days` ending on the last day.
    pub fn since(&self, days: u32) -> NaiveDate {
        self.last
            .checked_sub_days(Days::new(u64::from(days.max(1) - 1)))
            .unwrap_or(self.last)
    }

    /// Lines of the run-rate window.
    pub fn recent(&self) -> impl Iterator<Item = &UsageLine> {
        let from = self.since(self.settings.run_rate_days);
        self.lines.iter().filter(move |l| l.day >= from)
    }

    /// cost over the run-rate window / its days × days per month, to the cent.
    pub fn monthly(&self, window_cost: Money) -> Money {
        (window_cost / Money::from(self.settings.run_rate_days.max(1)) * DAYS_PER_MONTH).cents()
    }

    /// The run-rate formula as text, for `Finding::formula`.
    pub fn monthly_text(&self, window_cost: Money) -> String {
        format!(
            "${} over {} to {} / {} × 30.4375 = ${}/month",
            window_cost.round_dp(4),
            days_text(self.settings.run_rate_days),
            self.last,
            self.settings.run_rate_days,
            self.monthly(window_cost)
        )
    }
}

/// Sums lines into evidence rows, one per (resource, usage type, line item type).
pub(crate) fn evidence<'a>(lines: impl IntoIterator<Item = &'a UsageLine>) -> Vec<Evidence> {
    let mut rows: BTreeMap<(Option<String>, String, String), Evidence> = BTreeMap::new();
    for l in lines {
        let key = (
            l.resource_id.clone(),
            l.usage_type.clone(),
            l.line_item_type.clone(),
        );
        let e = rows.entry(key).or_insert_with(|| Evidence {
            usage_type: l.usage_type.clone(),
            resource_id: l.resource_id.clone(),
            line_item_type: l.line_item_type.clone(),
            first_day: l.day,
            last_day: l.day,
            usage_amount: Money::ZERO,
            cost: Money::ZERO,
            lines: 0,
        });
        e.first_day = e.first_day.min(l.day);
        e.last_day = e.last_day.max(l.day);
        e.usage_amount += l.usage_amount;
        e.cost += l.cost;
        e.lines += l.lines;
    }
    rows.into_values()
        .map(|mut e| {
            e.usage_amount = e.usage_amount.normalize();
            e.cost = e.cost.normalize();
            e
        })
        .collect()
}

/// The part of a usage type after its region prefix: `USE1-NatGateway-Bytes` →
/// `NatGateway-Bytes` (us-east-1 lines carry no prefix).
pub(crate) fn base_usage_type(usage_type: &str) -> &str {
    match usage_type.split_once('-') {
        // `EU` is eu-west-1's legacy prefix; the others are letters and a digit (`USE1`, `APS2`).
        Some((prefix, rest))
            if prefix == "EU"
                || ((3..=5).contains(&prefix.len())
                    && prefix
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                    && prefix.chars().any(|c| c.is_ascii_digit())) =>
        {
            rest
        }
        _ => usage_type,
    }
}

/// Money to the cent, halves away from zero (rust_decimal's `round_dp` rounds halves to even).
pub(crate) trait Cents {
    fn cents(self) -> Money;
}

impl Cents for Money {
    fn cents(self) -> Money {
        self.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    }
}

/// Region for console links and CLI commands.
pub(crate) fn region_or_default(region: &Option<String>) -> &str {
    region.as_deref().unwrap_or("us-east-1")
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_prefixes_come_off_usage_types() {
        assert_eq!(base_usage_type("USE1-NatGateway-Bytes"), "NatGateway-Bytes");
        assert_eq!(
            base_usage_type("EUW2-EBS:VolumeUsage.gp2"),
            "EBS:VolumeUsage.gp2"
        );
        assert_eq!(
            base_usage_type("EU-PaidEventsAnalyzed"),
            "PaidEventsAnalyzed"
        );
        assert_eq!(
            base_usage_type("QS-User-Standard-Month"),
            "QS-User-Standard-Month"
        );
        assert_eq!(
            base_usage_type("EBS:VolumeUsage.gp2"),
            "EBS:VolumeUsage.gp2"
        );
        assert_eq!(
            base_usage_type("TimedStorage-ByteHrs"),
            "TimedStorage-ByteHrs"
        );
        assert_eq!(
            base_usage_type("APS2-BoxUsage:t2.micro"),
            "BoxUsage:t2.micro"
        );
    }

    #[test]
    fn ids_are_stable_and_depend_on_source_kind_and_resource() {
        let f = testing::finding(Source::Suite, Kind::Gp2ToGp3, "vol-1", 10);
        assert_eq!(f.id(), f.clone().id());
        let mut other = f.clone();
        other.source = Source::CostOptimizationHub;
        assert_ne!(f.id(), other.id());
        other = f.clone();
        other.kind = Kind::VolumeWithoutInstance;
        assert_ne!(f.id(), other.id());
        other = f.clone();
        other.resource = "vol-2".into();
        assert_ne!(f.id(), other.id());
    }

    /// Constructed: an idle address billed $0.12 a day (24 idle hours at $0.005), in data that
    /// covers fewer days than the windows.
    #[test]
    fn run_rates_are_over_the_days_the_data_covers() {
        let eip = |from, to| {
            testing::daily(
                from,
                to,
                "AmazonEC2",
                "ElasticIP:IdleAddress",
                "",
                24,
                "0.12",
            )
        };
        // One day of data: $0.12 × 30.4375, not a seventh of it.
        let one_day = suite_findings(&eip(1, 1), &Settings::default());
        let idle = one_day
            .iter()
            .find(|f| f.kind == Kind::IdleElasticIp)
            .unwrap();
        assert_eq!(idle.monthly_savings, "3.65".parse::<Money>().unwrap());
        assert!(
            idle.formula
                .contains("24 idle address-hours billed in 24 hours (1 addresses")
                && idle
                    .formula
                    .contains("over 1 day to 2026-03-01 / 1 × 30.4375"),
            "{}",
            idle.formula
        );
        let untagged = one_day
            .iter()
            .find(|f| f.kind == Kind::UntaggedSpend)
            .unwrap();
        assert!(
            untagged.formula.contains("over 1 day to"),
            "{}",
            untagged.formula
        );
        // A fortnight: the 7-day window is whole, the same rate.
        let fortnight = suite_findings(&eip(1, 14), &Settings::default());
        let idle = fortnight
            .iter()
            .find(|f| f.kind == Kind::IdleElasticIp)
            .unwrap();
        assert_eq!(idle.monthly_savings, "3.65".parse::<Money>().unwrap());
    }

    /// Constructed: a NAT gateway whose processing is flat for the ten days the data covers.
    /// Growth compares a window's first week with its last; without the first there is none.
    #[test]
    fn growth_needs_its_whole_window_of_data() {
        let id = "arn:aws:ec2:us-east-1:111111111111:natgateway/nat-0abc";
        let nat = testing::daily(1, 10, "AmazonEC2", "NatGateway-Bytes", id, 100, "4.5");
        let found = suite_findings(&nat, &Settings::default());
        assert!(
            !found.iter().any(|f| f.kind == Kind::NatGatewayGrowth),
            "{found:#?}"
        );
    }
}
