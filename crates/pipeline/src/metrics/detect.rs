//! The stream detector on the stored metric series. Each series is scored online over its
//! stored history plus the new points (a point's score depends only on the points before it);
//! only new points can raise an anomaly. The strongest anomalous point of a UTC day becomes that
//! day's [`Anomaly`], and the days go through the cost anomalies' lifecycle step: open, one
//! update a day while it lasts, resolved after `resolve_after_days` quiet days, each transition
//! one envelope. Consecutive anomalous days that one run judges are one step (see [`steps`]), so
//! a spike that straddles midnight is one envelope, not an open and an update at once.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use costwatch_analytics::stream::{StreamConfig, score_timed_stream};
use costwatch_core::findings::{Anomaly, Direction};
use costwatch_core::{Money, Notification, Scope};
use costwatch_store::{MetricPoint, MetricQuery};

use super::{MetricsPorts, MetricsSettings};
use crate::PipelineConfig;
use crate::detect::{Judging, step};
use crate::error::Result;

/// Judges the points in `from..until` of every watched series; returns the envelopes published.
pub async fn detect(
    ports: &MetricsPorts<'_>,
    cfg: &PipelineConfig,
    settings: &MetricsSettings,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Notification>> {
    let stream = StreamConfig::default();
    let history = from - Duration::hours(i64::from(settings.history_hours));
    let mut published = Vec::new();
    for query in &settings.watch {
        let points = ports.store.metric_series(query, history, until).await?;
        let found = anomalies(query, &points, from, settings.threshold, &stream);
        let scope = Scope::Metric(query.metric.clone());
        for (day, anomaly) in steps(found, from.date_naive(), until.date_naive()) {
            let names = BTreeMap::new();
            let judging = Judging::today(day);
            let sent = step(&ports.lifecycle, cfg, &names, &scope, anomaly, judging, now).await?;
            published.extend(sent);
        }
    }
    Ok(published)
}

/// The lifecycle steps for the days `first..=last` that one run judges, oldest first: a whole
/// day without an anomalous point counts towards resolving (`last`, today, is not over, so it
/// only steps with an anomaly), and a stretch of consecutive anomalous days is one step on its
/// last day. That step carries the stretch's strongest point, starting on the stretch's first
/// day: what separate runs would have opened and then updated, one run reports once.
fn steps(
    mut found: BTreeMap<NaiveDate, Anomaly>,
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<(NaiveDate, Option<Anomaly>)> {
    let mut steps = Vec::new();
    let mut stretch: Option<(NaiveDate, Anomaly)> = None;
    for day in first.iter_days().take_while(|d| *d <= last) {
        match (found.remove(&day), stretch.take()) {
            (Some(anomaly), None) => stretch = Some((day, anomaly)),
            (Some(anomaly), Some((_, held))) => {
                let start_date = held.start_date;
                let stronger = if anomaly.score > held.score {
                    anomaly
                } else {
                    held
                };
                stretch = Some((
                    day,
                    Anomaly {
                        start_date,
                        ..stronger
                    },
                ));
            }
            (None, held) => {
                steps.extend(held.map(|(on, anomaly)| (on, Some(anomaly))));
                if day < last {
                    steps.push((day, None));
                }
            }
        }
    }
    steps.extend(stretch.map(|(on, anomaly)| (on, Some(anomaly))));
    steps
}

/// The strongest point at or above `threshold` per UTC day among the points from `from` on.
fn anomalies(
    query: &MetricQuery,
    points: &[MetricPoint],
    from: DateTime<Utc>,
    threshold: f64,
    stream: &StreamConfig,
) -> BTreeMap<NaiveDate, Anomaly> {
    let timed: Vec<(Option<i64>, Option<f64>)> = points
        .iter()
        .map(|p| (Some(p.time.timestamp()), Some(p.value)))
        .collect();
    let scores = score_timed_stream(&timed, stream);
    let mut best: BTreeMap<NaiveDate, (usize, f64)> = BTreeMap::new();
    for (i, (point, score)) in points.iter().zip(scores).enumerate() {
        if point.time < from || score < threshold {
            continue;
        }
        let day = point.time.date_naive();
        if best.get(&day).is_none_or(|(_, s)| score > *s) {
            best.insert(day, (i, score));
        }
    }
    best.into_iter()
        .map(|(day, (i, score))| (day, anomaly(query, points, i, score, stream.baseline)))
        .collect()
}

/// Point `i` as an anomaly: expected is the median of the `baseline` points before it (the
/// detector's level), the usual range the lowest and highest value of the history before the
/// spike began ([`onset`]): its first points are not the usual range of its strongest.
fn anomaly(
    query: &MetricQuery,
    points: &[MetricPoint],
    i: usize,
    score: f64,
    baseline: usize,
) -> Anomaly {
    let before: Vec<f64> = points[..i].iter().map(|p| p.value).collect();
    let actual = points[i].value;
    let expected = median(&before[before.len().saturating_sub(baseline)..]).unwrap_or(actual);
    let usual = &before[..onset(&before, actual >= expected, baseline)];
    let lower = usual.iter().copied().fold(f64::INFINITY, f64::min);
    let upper = usual.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let day = points[i].time.date_naive();
    let impact = actual - expected;
    Anomaly {
        scope: Scope::Metric(query.metric.clone()),
        start_date: day,
        date: day,
        direction: if impact >= 0.0 {
            Direction::Rise
        } else {
            Direction::Fall
        },
        actual: value(actual),
        expected: value(expected),
        lower: value(if lower.is_finite() { lower } else { expected }),
        upper: value(if upper.is_finite() { upper } else { expected }),
        impact: value(impact),
        impact_pct: (expected != 0.0).then(|| impact / expected.abs() * 100.0),
        score,
        root_causes: Vec::new(),
        resources: Vec::new(),
    }
}

/// Where the spike's own earlier points begin at the end of `before`: the earliest start,
/// within the last `baseline` points, of a run whose every point went past everything before
/// the run (upwards for a rise, `rise`; downwards for a fall). A steady series leaves nothing
/// out; a spike of three equal points leaves out the two before the one reported.
fn onset(before: &[f64], rise: bool, baseline: usize) -> usize {
    let past = |v: f64, than: f64| if rise { v > than } else { v < than };
    let further = |a: f64, b: f64| if rise { a.max(b) } else { a.min(b) };
    let nearer = |a: f64, b: f64| if rise { a.min(b) } else { a.max(b) };
    // The extreme of the points before each start, the way the anomaly goes.
    let mut extreme = Vec::with_capacity(before.len() + 1);
    let mut so_far: Option<f64> = None;
    for v in before {
        extreme.push(so_far);
        so_far = Some(so_far.map_or(*v, |e| further(e, *v)));
    }
    extreme.push(so_far);
    let mut start = before.len();
    let mut run_nearest: Option<f64> = None;
    for s in (before.len().saturating_sub(baseline)..before.len()).rev() {
        let nearest = run_nearest.map_or(before[s], |n| nearer(n, before[s]));
        run_nearest = Some(nearest);
        if extreme[s].is_some_and(|e| past(nearest, e)) {
            start = s;
        }
    }
    start
}

/// A metric value in the figures' decimal type: six places, so small values (seconds of
/// latency) keep their precision.
fn value(v: f64) -> Money {
    Money::from_f64_retain(v).unwrap_or_default().round_dp(6)
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_core::metric::MetricId;

    fn series(values: &[f64]) -> Vec<MetricPoint> {
        let start = DateTime::from_timestamp(1_772_323_200, 0).expect("time"); // 2026-03-01
        values
            .iter()
            .enumerate()
            .map(|(i, v)| MetricPoint {
                time: start + Duration::minutes(5 * i as i64),
                value: *v,
            })
            .collect()
    }

    fn query() -> MetricQuery {
        MetricQuery {
            metric: MetricId::new("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-1")]),
            stat: "Average".into(),
            period_secs: 300,
        }
    }

    /// A repeating daily-ish shape: no value is ever new after the first cycle.
    fn steady(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| 20.0 + 5.0 * ((i % 12) as f64 - 6.0).abs())
            .collect()
    }

    #[test]
    fn a_spike_is_one_anomaly_a_steady_series_none() {
        let mut values = steady(240);
        values.extend([95.0, 97.0, 96.0]);
        values.extend(steady(12));
        let points = series(&values);
        let from = points[0].time;
        let found = anomalies(&query(), &points, from, 0.561, &StreamConfig::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let a = found.values().next().expect("one");
        assert_eq!(a.direction, Direction::Rise);
        assert!(a.actual >= value(95.0), "{a:?}");
        assert!(a.expected < value(60.0), "{a:?}");
        let quiet = anomalies(
            &query(),
            &series(&steady(255)),
            from,
            0.561,
            &StreamConfig::default(),
        );
        assert!(quiet.is_empty(), "{quiet:?}");
    }

    /// The usual range is the history's, without the points the detector flagged: a spike's
    /// strongest point is not told that its first points are usual ("97 against a usual range
    /// of 20–97").
    #[test]
    fn the_usual_range_leaves_out_the_spike_itself() {
        let mut values = steady(270);
        values.extend([97.0; 3]);
        values.extend(steady(15));
        let points = series(&values);
        let from = points[0].time;
        let found = anomalies(&query(), &points, from, 0.561, &StreamConfig::default());
        let a = found.values().next().expect("the spike");
        assert_eq!(a.actual, value(97.0), "{a:?}");
        assert_eq!((a.lower, a.upper), (value(20.0), value(50.0)), "{a:?}");
    }

    #[test]
    fn the_spikes_onset_is_where_its_run_past_everything_before_began() {
        let steady = steady(36);
        assert_eq!(
            onset(&steady, true, 12),
            36,
            "a steady series leaves nothing out"
        );
        let mut spike = steady.clone();
        spike.extend([97.0, 96.0]);
        assert_eq!(onset(&spike, true, 12), 36);
        assert_eq!(onset(&spike, false, 12), 38, "a fall is not a rise's spike");
        let mut drop = steady.clone();
        drop.extend([1.0, 2.0]);
        assert_eq!(onset(&drop, false, 12), 36);
        // A climb that sets a new high every point leaves out at most `baseline` points.
        let climb: Vec<f64> = (0..100).map(f64::from).collect();
        assert_eq!(onset(&climb, true, 12), 88);
        assert_eq!(onset(&[], true, 12), 0);
    }

    #[test]
    fn only_points_from_the_window_raise_anomalies() {
        let mut values = steady(240);
        values.extend([95.0, 97.0, 96.0]);
        values.extend(steady(12));
        let points = series(&values);
        let after_spike = points[250].time;
        let found = anomalies(
            &query(),
            &points,
            after_spike,
            0.561,
            &StreamConfig::default(),
        );
        assert!(found.is_empty(), "{found:?}");
    }

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, n).expect("a day")
    }

    #[test]
    fn a_spike_across_midnight_is_one_step_from_its_first_day() {
        // Points 286..289 are high (testkit's spike); point 288 is 2026-03-02 00:00.
        let mut values = steady(286);
        values.extend([97.0; 3]);
        values.extend(steady(30));
        let points = series(&values);
        let found = anomalies(
            &query(),
            &points,
            points[0].time,
            0.561,
            &StreamConfig::default(),
        );
        let days: Vec<NaiveDate> = found.keys().copied().collect();
        assert_eq!(days, [day(1), day(2)], "{found:?}");
        let strongest = found.values().map(|a| a.score).fold(0.0, f64::max);
        let steps = steps(found, day(1), day(2));
        assert_eq!(steps.len(), 1, "{steps:?}");
        let (on, anomaly) = &steps[0];
        let anomaly = anomaly.as_ref().expect("the anomaly");
        assert_eq!((*on, anomaly.start_date), (day(2), day(1)), "{anomaly:?}");
        assert_eq!(anomaly.score, strongest, "{anomaly:?}");
    }

    #[test]
    fn a_quiet_day_between_anomalies_steps_and_today_steps_only_with_one() {
        let points = series(&steady(288 * 4));
        let at = |i: usize, score: f64| anomaly(&query(), &points, i, score, 12);
        let shape = |steps: Vec<(NaiveDate, Option<Anomaly>)>| -> Vec<(NaiveDate, bool)> {
            steps.into_iter().map(|(d, a)| (d, a.is_some())).collect()
        };
        let apart = BTreeMap::from([(day(1), at(10, 0.9)), (day(3), at(586, 0.8))]);
        assert_eq!(
            shape(steps(apart, day(1), day(4))),
            [(day(1), true), (day(2), false), (day(3), true)]
        );
        let today = BTreeMap::from([(day(4), at(874, 0.7))]);
        assert_eq!(
            shape(steps(today, day(3), day(4))),
            [(day(3), false), (day(4), true)]
        );
        assert_eq!(
            shape(steps(BTreeMap::new(), day(3), day(4))),
            [(day(3), false)]
        );
    }
}
