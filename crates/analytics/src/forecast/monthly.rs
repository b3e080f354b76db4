//! Charges that come back on the same day of every month, found in a plain daily series.
//!
//! A Cost Explorer or CUR export summed by day (`date,unblended_cost`, what `costwatch
//! forecast` reads) carries RI and Savings Plans fees, Support and tax as lumps on the 1st of
//! each month. The pipeline knows them by their charge type and forecasts them by the calendar
//! ([`crate::baseline::calendar_expected`]); a plain series has only totals, so here they are
//! recognised by their shape: a day of the month that stands out from the same weekday around
//! it, in the same direction, month after month. That day's difference from its weekday becomes
//! the series' calendar part; everything else stays the flow the models fit. Left in the flow,
//! a fee on the 1st is a one-day outlier the robust smoothing clips: the next 1st was forecast
//! at the usual daily level with an interval to match, a month's total short by the whole fee.

use chrono::{Datelike, NaiveDate};

use crate::stats::{MAD_TO_SIGMA, mad, median};

/// A day's usual level is the median of the same weekday up to this many weeks either side:
/// the weekly shape stays out of a lump (a fee on a Saturday is not also a Saturday's dip).
const WEEKS_AROUND: usize = 2;
/// The most recent occurrences of a day of the month that are read.
const MONTHS_READ: usize = 6;
/// Occurrences needed; all but one of those read must stand out (a fee booked a day late once).
const MIN_OCCURRENCES: usize = 3;
/// How far a lump stands out from its weekday: robust standard deviations of every day's
/// difference from its own weekday around it. A Gaussian day does so about once in 1.7
/// million, so a day of the month that does it three times running is not chance.
const STANDS_OUT: f64 = 5.0;

/// A series split into its flow and its monthly lumps (`calendar`, 0 on other days).
pub(crate) struct MonthlySplit {
    pub flow: Vec<Option<f64>>,
    pub calendar: Vec<Option<f64>>,
    /// Days of the month that carry a lump, ascending.
    pub days: Vec<u32>,
}

/// `values[i]` is day `start + i`. `None` when no day of the month recurs as a lump.
pub(crate) fn split(start: NaiveDate, values: &[Option<f64>]) -> Option<MonthlySplit> {
    let excess = excess_over_weekday(values);
    let all: Vec<f64> = excess.iter().flatten().copied().collect();
    let typical = values.iter().flatten().map(|v| v.abs()).collect::<Vec<_>>();
    // A flat series has no spread at all: then any clear lump stands out.
    let floor = 1e-6 * median(&typical)?.max(f64::MIN_POSITIVE);
    let scale = (MAD_TO_SIGMA * mad(&all)?).max(floor);
    let day_of: Vec<u32> = start
        .iter_days()
        .take(values.len())
        .map(|d| d.day())
        .collect();
    let days: Vec<u32> = (1..=31)
        .filter(|&d| {
            let recent: Vec<f64> = (0..values.len())
                .rev()
                .filter(|&i| day_of[i] == d)
                .filter_map(|i| excess[i])
                .take(MONTHS_READ)
                .collect();
            let Some(direction) = median(&recent).map(f64::signum) else {
                return false;
            };
            let standing = recent
                .iter()
                .filter(|e| *e * direction > STANDS_OUT * scale)
                .count();
            recent.len() >= MIN_OCCURRENCES && standing + 1 >= recent.len().max(MIN_OCCURRENCES + 1)
        })
        .collect();
    if days.is_empty() {
        return None;
    }
    let calendar: Vec<Option<f64>> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.map(|_| {
                excess[i]
                    .filter(|_| days.contains(&day_of[i]))
                    .unwrap_or(0.0)
            })
        })
        .collect();
    let flow = values
        .iter()
        .zip(&calendar)
        .map(|(v, c)| Some((*v)? - (*c)?))
        .collect();
    Some(MonthlySplit {
        flow,
        calendar,
        days,
    })
}

/// Each day's value less the median of the same weekday `WEEKS_AROUND` weeks either side;
/// `None` for a missing day or one with fewer than two such days observed.
fn excess_over_weekday(values: &[Option<f64>]) -> Vec<Option<f64>> {
    // Run for every series forecast: a fixed array, sorted in place, not a sample per day.
    let mut around = [0.0; 2 * WEEKS_AROUND];
    (0..values.len())
        .map(|i| {
            let v = values[i]?;
            let mut n = 0;
            for j in (1..=WEEKS_AROUND).flat_map(|k| [i.checked_sub(7 * k), Some(i + 7 * k)]) {
                if let Some(x) = j.and_then(|j| values.get(j).copied().flatten()) {
                    around[n] = x;
                    n += 1;
                }
            }
            let around = &mut around[..n];
            around.sort_by(f64::total_cmp);
            let middle = match n {
                0 | 1 => return None,
                n if n % 2 == 1 => around[n / 2],
                n => (around[n / 2 - 1] + around[n / 2]) / 2.0,
            };
            Some(v - middle)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;

    fn start() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default()
    }

    /// 100 a day with a deterministic wobble, weekends a fifth lower, and `fee(day of month)`.
    fn series(days: usize, fee: impl Fn(u32) -> f64) -> Vec<Option<f64>> {
        (0..days)
            .map(|i| {
                let date = start() + Days::new(i as u64);
                let weekend = date.weekday().num_days_from_monday() >= 5;
                let base = if weekend { 80.0 } else { 100.0 };
                Some(base + 3.0 * ((i * 7) % 5) as f64 + fee(date.day()))
            })
            .collect()
    }

    #[test]
    fn a_fee_on_the_first_is_the_calendar_part_and_leaves_the_flow_smooth() {
        let values = series(120, |d| if d == 1 { 3000.0 } else { 0.0 });
        let split = split(start(), &values).expect("the fee is found");
        assert_eq!(split.days, [1]);
        // 1 Feb 2025 is index 31: the fee, less the weekday's level, is the calendar part.
        let lump = split.calendar[31].unwrap_or_default();
        assert!((2_900.0..3_100.0).contains(&lump), "{lump}");
        assert!(
            split.flow[31].is_some_and(|f| f < 200.0),
            "{:?}",
            split.flow[31]
        );
        assert_eq!(split.calendar[32], Some(0.0));
    }

    #[test]
    fn a_monthly_credit_is_found_too() {
        let values = series(120, |d| if d == 15 { -250.0 } else { 0.0 });
        assert_eq!(split(start(), &values).map(|s| s.days), Some(vec![15]));
    }

    #[test]
    fn nothing_is_found_without_three_months_or_with_two_recent_misses() {
        // Two occurrences only.
        let short = series(45, |d| if d == 1 { 3000.0 } else { 0.0 });
        assert!(split(start(), &short).is_none());
        // A fee that stopped two months ago is not expected again.
        let stopped: Vec<Option<f64>> = series(200, |_| 0.0)
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let date = start() + Days::new(i as u64);
                let fee = date.day() == 1 && date.month() <= 4;
                v.map(|v| v + if fee { 3000.0 } else { 0.0 })
            })
            .collect();
        assert!(split(start(), &stopped).is_none());
    }

    #[test]
    fn weekly_shapes_spikes_and_noise_are_not_monthly_charges() {
        // Weekends, a wobble and one-off spikes on different days of the month.
        let mut values = series(400, |_| 0.0);
        for i in [40, 95, 130, 222, 301] {
            values[i] = values[i].map(|v| v * 8.0);
        }
        assert!(split(start(), &values).is_none());
        // Pseudo-random noise (a fixed linear congruential sequence) on a flat level.
        let mut state = 7_u64;
        let noisy: Vec<Option<f64>> = (0..730)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                Some(50.0 + 20.0 * ((state >> 33) as f64 / f64::from(u32::MAX) - 0.5))
            })
            .collect();
        assert!(split(start(), &noisy).is_none());
    }
}
