//! Resource-level root cause on the real CUR (data/cost/cur, Oct–Nov 2018, two workshop accounts):
//! on the November days whose spend rose most over their previous seven days (found here from the
//! day totals, not by the code under test) — the 1st, when reservation fees are billed, and the
//! largest rise of any other day — the per-resource contributions must account for the whole
//! change to the cent, each resource's figures must be its own lines' sums, and the usage/rate
//! split must add up for every resource.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use costwatch_analytics::resource_drivers::{Window, compare, rank};
use costwatch_core::{Money, UsageLine};

#[path = "support/real_cur.rs"]
mod real_cur;
use real_cur::lines;

fn totals() -> BTreeMap<NaiveDate, Money> {
    let mut totals = BTreeMap::new();
    for l in lines() {
        *totals.entry(l.day).or_insert(Money::ZERO) += l.cost;
    }
    totals
}

/// The November days with the largest rise over the mean of their previous 7 days, and that
/// rise: the largest of all (`after_1st` false) or of the days after the 1st.
fn biggest_rise(after_1st: bool) -> (NaiveDate, Money) {
    let totals = totals();
    let from = NaiveDate::from_ymd_opt(2018, 11, if after_1st { 2 } else { 1 }).unwrap();
    totals
        .keys()
        .filter(|d| **d >= from)
        .map(|d| {
            let w = Window::before(*d, 7);
            let baseline: Money = totals
                .range(w.baseline_from..=w.baseline_to)
                .map(|(_, c)| *c)
                .sum::<Money>()
                / Money::from(7);
            (*d, totals[d] - baseline)
        })
        .max_by_key(|(_, rise)| *rise)
        .unwrap()
}

#[test]
fn the_resources_account_for_the_whole_change() {
    for after_1st in [false, true] {
        whole_change(after_1st);
    }
}

fn whole_change(after_1st: bool) {
    let (day, rise) = biggest_rise(after_1st);
    assert!(rise > Money::ZERO, "{day}: {rise}");
    let all = compare(lines(), Window::before(day, 7), &["user_owner"]);
    let explained: Money = all.iter().map(|d| d.contribution).sum();
    assert_eq!(explained.round_dp(2), rise.round_dp(2), "{day}");
    for d in &all {
        assert_eq!(d.usage_effect + d.rate_effect, d.contribution, "{d:?}");
    }
}

#[test]
fn each_resource_is_its_own_lines() {
    for after_1st in [false, true] {
        own_lines(after_1st);
    }
}

fn own_lines(after_1st: bool) {
    let (day, _) = biggest_rise(after_1st);
    let w = Window::before(day, 7);
    let top = rank(lines(), w, true, &[], 5);
    assert!(!top.is_empty());
    for pair in top.windows(2) {
        assert!(pair[0].contribution >= pair[1].contribution);
    }
    for d in &top {
        let mine = |l: &&UsageLine| {
            l.account == d.account
                && l.product_code == d.product_code
                && l.usage_type == d.usage_type
                && l.resource_id == d.resource_id
        };
        let on_day: Money = lines()
            .iter()
            .filter(mine)
            .filter(|l| l.day == day)
            .map(|l| l.cost)
            .sum();
        let before: Money = lines()
            .iter()
            .filter(mine)
            .filter(|l| l.day >= w.baseline_from && l.day <= w.baseline_to)
            .map(|l| l.cost)
            .sum();
        assert_eq!(d.cost, on_day, "{d:?}");
        assert_eq!(d.baseline_cost, before / Money::from(7), "{d:?}");
        assert!(d.contribution > Money::ZERO);
        eprintln!(
            "{day} {} {} {:?} +{} (usage {}, rate {}) {:?}",
            d.product_code,
            d.usage_type,
            d.resource_id,
            d.contribution.round_dp(2),
            d.usage_effect,
            d.rate_effect.round_dp(2),
            d.driver
        );
    }
}
