//! The synthetic organisation at scale, built from the demo's (crates/core `synth`) rather than
//! a generator of its own: each of `accounts` accounts gets the demo organisation's whole spend
//! folded into it (its sixteen services, weekly seasonality, trend, monthly fees and level
//! shift), scaled by a factor of the account's own (0.2–2.0) with ±4 % noise of its own, so no
//! two series are the same. The planted spike stays in the first account only: a daily run then
//! has one anomaly to find among ~16,000 series, as a real organisation would, instead of the
//! same spike in every account.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use costwatch_analytics::budget::{Budget, default_thresholds};
use costwatch_core::money::to_f64;
use costwatch_core::synth::{self, Planted};
use costwatch_core::{CostRecord, Money, Scope};

pub struct ScaledOrg {
    accounts: u64,
    by_day: BTreeMap<NaiveDate, Vec<CostRecord>>,
    pub planted: Planted,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A 64-bit mix of the inputs (splitmix64's finaliser): noise that needs no generator state,
/// so any day of any account can be produced alone, in any order.
fn mix(a: u64, b: u64, c: u64) -> u64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(c.wrapping_mul(0x94D0_49BB_1331_11EB));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in [0, 1).
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// To the 1/100 of a cent the demo's records carry.
fn scale(m: Money, by: f64) -> Money {
    Money::from_f64_retain(to_f64(m) * by)
        .unwrap_or_default()
        .round_dp(4)
}

impl ScaledOrg {
    pub fn new(accounts: u64, days: u32, end: NaiveDate) -> Self {
        let base = synth::generate(synth::DEFAULT_SEED, end, days);
        let mut by_day: BTreeMap<NaiveDate, Vec<CostRecord>> = BTreeMap::new();
        for record in base.records {
            by_day.entry(record.day()).or_default().push(record);
        }
        Self {
            accounts,
            by_day,
            planted: base.planted,
            start: base.start,
            end: base.end,
        }
    }

    pub fn account_id(a: u64) -> String {
        format!("{:012}", 200_000_000_000 + a)
    }

    fn factor(a: u64) -> f64 {
        0.2 + 1.8 * unit(mix(a, 0, 0))
    }

    /// Every account's records of `day`.
    pub fn day(&self, day: NaiveDate) -> Vec<CostRecord> {
        let Some(base) = self.by_day.get(&day) else {
            return Vec::new();
        };
        let ordinal = (day - self.start).num_days() as u64;
        let p = &self.planted;
        let mut out = Vec::with_capacity(base.len() * self.accounts as usize);
        for a in 0..self.accounts {
            let factor = Self::factor(a);
            for (line, record) in base.iter().enumerate() {
                let mut by =
                    factor * (1.0 + 0.04 * (2.0 * unit(mix(a, line as u64 + 1, ordinal)) - 1.0));
                let spike = record.sub_account_id == p.spike_account
                    && record.x_usage_type.as_deref() == Some(p.spike_usage_type.as_str())
                    && day == p.spike_date;
                if spike && a != 0 {
                    by /= p.spike_factor;
                }
                let mut r = record.clone();
                r.sub_account_id = Self::account_id(a);
                r.sub_account_name = Some(format!("acct-{a:04}"));
                r.billed_cost = scale(r.billed_cost, by);
                r.effective_cost = scale(r.effective_cost, by);
                r.list_cost = r.list_cost.map(|c| scale(c, by));
                out.push(r);
            }
        }
        out
    }

    /// The demo's organisation budget (1.25 × its run rate) grown to the whole organisation, and
    /// a budget on every tenth account at the same headroom, every twentieth at 0.7 of it (so
    /// some cross their thresholds and the run has budget alerts to send).
    pub fn budgets(&self) -> Vec<Budget> {
        let base = self
            .planted
            .budgets
            .iter()
            .find(|(_, scope, _)| *scope == Scope::Org)
            .map_or(Money::ZERO, |(_, _, amount)| *amount);
        let budget = |name: String, scope: Scope, by: f64| Budget {
            name,
            scope,
            period: Default::default(),
            start_month: None,
            amount: scale(base, by).round_dp(2),
            auto_adjust_months: None,
            planned_amounts: Default::default(),
            thresholds: default_thresholds(),
        };
        let total: f64 = (0..self.accounts).map(Self::factor).sum();
        let mut budgets = vec![budget("organisation monthly".into(), Scope::Org, total)];
        for a in (0..self.accounts).step_by(10) {
            let headroom = if a % 20 == 0 { 0.7 } else { 1.0 };
            let scope = Scope::Account(Self::account_id(a));
            budgets.push(budget(
                format!("acct-{a:04} monthly"),
                scope,
                Self::factor(a) * headroom,
            ));
        }
        budgets
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_account_has_every_service_and_only_the_first_the_spike() {
        let end = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let org = ScaledOrg::new(3, 30, end);
        let day = org.day(end);
        let services = |records: &[CostRecord], a: u64| -> BTreeSet<String> {
            records
                .iter()
                .filter(|r| r.sub_account_id == ScaledOrg::account_id(a))
                .map(|r| r.service_name.clone())
                .collect()
        };
        // The demo's 16 services; Support is billed on the 1st only.
        let first = org.day(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert_eq!(services(&first, 0).len(), 16);
        assert_eq!(services(&day, 0).len(), 15);
        for a in 1..3 {
            assert_eq!(services(&first, a), services(&first, 0), "account {a}");
            assert_eq!(services(&day, a), services(&day, 0), "account {a}");
        }
        let spike = |a: u64| -> f64 {
            day.iter()
                .filter(|r| r.sub_account_id == ScaledOrg::account_id(a))
                .filter(|r| {
                    r.x_usage_type.as_deref() == Some(org.planted.spike_usage_type.as_str())
                })
                .map(|r| to_f64(r.billed_cost) / ScaledOrg::factor(a))
                .sum()
        };
        // Per unit of scale the first account's spiking line is ~3× the others'.
        assert!(
            spike(0) > 2.5 * spike(1) && spike(0) > 2.5 * spike(2),
            "{} {} {}",
            spike(0),
            spike(1),
            spike(2)
        );
        assert_eq!(org.day(end), day, "deterministic");
        assert_eq!(org.budgets().len(), 2, "the organisation and account 0");
    }
}
