//! Days Cost Explorer revised after detection judged them. A day is first reported before it
//! settles (usage, credits and discounts keep arriving for a few days) and collection restates
//! the last days on every run, but detection judges the day it runs for. A one-day spike that
//! only shows once its day is revised, with the days after it back in their band, was never an
//! anomaly on any day detection judged.
//!
//! Every run therefore looks again at the `recheck_days` − 1 days before the day it judges (the
//! days collection restates, [`RECHECKED_DAYS`] by default), through the scores of the pass
//! that judges that day (no second pass). A scope with nothing
//! found today and no open anomaly, whose latest re-checked day now scores out of its band, is
//! judged again on exactly the window that day had when it was first judged; if it is still an
//! anomaly, and no earlier anomaly of the scope covered its days, it opens as that day's anomaly.
//! Nested scopes fold as today's do, with that day's excesses. An open anomaly whose last day is
//! among them takes the revised figures (`detect::step`), and says so when they raise its
//! severity; when that day settled into its band, the anomaly ends on its latest day still out
//! of it, or, when none of its days is out of its band any more, is taken back at once
//! ([`DaysAgain`]). Days taken back that a later revision puts out of their band again open
//! anew, under a new id (`AnomalyState::taken_back`).
//!
//! Only days detection has judged before are looked at again: the first run (and every run for a
//! day before it) records the first day judged under [`JUDGED_SINCE`], so a new installation
//! does not alert on the days before it started watching.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use costwatch_analytics::detect::{DayScore, DetectorConfig, detect_latest};
use costwatch_core::findings::{Anomaly, Direction};
use costwatch_core::money::to_f64;
use costwatch_core::{DailySeries, Scope};
use costwatch_store::{StateStore, Versioned};

#[cfg(doc)]
use crate::budgets::RECHECKED_DAYS;
use crate::detect::AnomalyState;
use crate::error::Result;
use crate::fold::{Explainer, fold_nested};
use crate::watched;

/// State key of the first day detection judged ([`crate::watched`]).
pub const JUDGED_SINCE: &str = "detect/judged-since";

/// What one run gathers about the days before the one it judges.
pub(crate) struct Revisions {
    as_of: NaiveDate,
    /// The record of the first day judged before this run (`None` on the first run).
    judged_since: Option<Versioned>,
    /// The first day looked at again (`None` when none is).
    from: Option<NaiveDate>,
    history_days: u32,
    /// Per re-checked day, the scopes out of their band or open that day: what folds that day's
    /// broader anomalies.
    explainers: BTreeMap<NaiveDate, Vec<Explainer>>,
    found: Vec<(Scope, Anomaly)>,
}

impl Revisions {
    /// Reads when detection began; the days it will look at again are those since then, at
    /// most `recheck_days` − 1 before `as_of`.
    pub async fn read(
        state: &dyn StateStore,
        as_of: NaiveDate,
        history_days: u32,
        recheck_days: u32,
    ) -> Result<Self> {
        let judged_since = state.get(JUDGED_SINCE).await?;
        let back = as_of.checked_sub_days(Days::new(u64::from(recheck_days.saturating_sub(1))));
        let from = watched::first_judged(judged_since.as_ref())
            .zip(back)
            .map(|(first, back)| first.max(back))
            .filter(|from| *from < as_of);
        Ok(Self {
            as_of,
            judged_since,
            from,
            history_days,
            explainers: BTreeMap::new(),
            found: Vec::new(),
        })
    }

    /// Whether `day` is one this run looks at again.
    pub fn rechecks(&self, day: NaiveDate) -> bool {
        self.from
            .is_some_and(|from| (from..self.as_of).contains(&day))
    }

    /// The earliest day this run judges or looks at again.
    pub fn first_day(&self) -> NaiveDate {
        self.from.unwrap_or(self.as_of)
    }

    /// Takes one scope's scores from the first re-checked day on (`recent`, from the pass that
    /// judged today on `window`), with `full` read from [`Self::first_day`]'s window: records
    /// what that scope explains on each re-checked day and, when a re-checked day turns out to
    /// be an anomaly nobody heard of, that anomaly.
    pub fn observe(
        &mut self,
        full: &DailySeries,
        recent: &[DayScore],
        today: Option<&Anomaly>,
        lifecycle: Option<&AnomalyState>,
        detector: &DetectorConfig,
    ) {
        let open = lifecycle.is_some_and(AnomalyState::is_active);
        let rechecked: Vec<&DayScore> = recent.iter().filter(|s| self.rechecks(s.date)).collect();
        for score in rechecked.iter().filter(|s| s.anomalous || open) {
            self.explainers
                .entry(score.date)
                .or_default()
                .push(Explainer {
                    scope: full.scope.clone(),
                    excess: to_f64(score.actual - score.expected),
                });
        }
        if today.is_some() || open {
            return; // today's step carries the scope
        }
        let Some(day) = rechecked.iter().rev().find(|s| s.anomalous).map(|s| s.date) else {
            return;
        };
        // Judged again on the window it had when first judged, so a day whose costs did not
        // change keeps its verdict.
        let as_first_judged = full.since(window_start(day, self.history_days)).until(day);
        let Some(anomaly) = detect_latest(&as_first_judged, detector) else {
            return;
        };
        // An anomaly of the scope reaching into this run already told of these days, unless a
        // revision took them back.
        if lifecycle.is_some_and(|l| l.anomaly.date >= anomaly.start_date && !l.taken_back) {
            return;
        }
        self.found.push((full.scope.clone(), anomaly));
    }

    /// The anomalies found on re-checked days, oldest day first, each day's nested scopes folded
    /// into the deepest that explains them.
    pub fn take_found(&mut self) -> Vec<(Scope, Anomaly)> {
        let mut by_day: BTreeMap<NaiveDate, Vec<(Scope, Option<Anomaly>)>> = BTreeMap::new();
        for (scope, anomaly) in std::mem::take(&mut self.found) {
            by_day
                .entry(anomaly.date)
                .or_default()
                .push((scope, Some(anomaly)));
        }
        let mut out = Vec::new();
        for (day, mut found) in by_day {
            let explainers = self.explainers.get(&day).map_or(&[][..], Vec::as_slice);
            fold_nested(&mut found, explainers);
            out.extend(found.into_iter().filter_map(|(s, a)| Some((s, a?))));
        }
        out
    }

    /// Records the first day judged, when this run judged an earlier day than any before.
    pub async fn remember(&self, state: &dyn StateStore) -> Result<()> {
        let judged_since = self.judged_since.as_ref();
        watched::remember(state, JUDGED_SINCE, judged_since, self.as_of).await
    }
}

/// Records `first` as the first day detection judged, unless an earlier one is: its later runs
/// look again at the days from it on (a store seeded with history that was watched, as the
/// scale benchmark's).
pub async fn judged_since(state: &dyn StateStore, first: NaiveDate) -> Result<()> {
    let stored = state.get(JUDGED_SINCE).await?;
    watched::remember(state, JUDGED_SINCE, stored.as_ref(), first).await
}

/// The first day of the window `day` is judged on: `history_days` days to it. (Before the
/// data's first day the window starts there: callers clamp, and [`DailySeries::since`] does.)
pub fn window_start(day: NaiveDate, history_days: u32) -> NaiveDate {
    day - Days::new(u64::from(history_days.saturating_sub(1)))
}

/// An open anomaly whose last day is among those looked at again, its days scored again, from
/// its last day back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DaysAgain {
    /// Its last day.
    pub last: DayScore,
    /// The latest of its earlier days still out of its band, in the anomaly's direction: one
    /// looked at again, or one before those, which stands as it was judged (its costs were not
    /// restated) and ends a longer run whose later days all settled.
    pub latest_out: Option<DayScore>,
    /// Whether all its days were looked at again (it began on or after the first of them).
    pub whole: bool,
}

impl DaysAgain {
    /// `scores`: this run's scores of the anomaly's days (from its first day, or from
    /// `first_rechecked` when that is earlier). `None` when its last day has no score (no data
    /// for it now).
    pub fn of(anomaly: &Anomaly, scores: &[DayScore], first_rechecked: NaiveDate) -> Option<Self> {
        let rising = anomaly.direction == Direction::Rise;
        let days: Vec<&DayScore> = scores
            .iter()
            .filter(|s| (anomaly.start_date..=anomaly.date).contains(&s.date))
            .collect();
        let (last, earlier) = days.split_last()?;
        (last.date == anomaly.date).then(|| Self {
            last: **last,
            latest_out: earlier
                .iter()
                .rev()
                .find(|s| s.anomalous && (s.actual >= s.expected) == rising)
                .map(|s| **s),
            whole: anomaly.start_date >= first_rechecked,
        })
    }

    /// Whether the revision takes the anomaly back: none of its days is out of its band now,
    /// all of them were looked at again, and the spend it was raised on lies outside the band
    /// its last day sits in now, so it was the figure that changed, not the band.
    pub fn takes_back(&self, anomaly: &Anomaly) -> bool {
        let in_band = |x| (self.last.lower..=self.last.upper).contains(&x);
        self.whole && !self.last.anomalous && self.latest_out.is_none() && !in_band(anomaly.actual)
    }
}

/// In-band days an anomaly found on a re-checked day has already had: the days since its date,
/// kept below `resolve_after_days`, so it is announced before it resolves.
pub(crate) fn in_band_since(anomaly: &Anomaly, as_of: NaiveDate, resolve_after_days: u32) -> u32 {
    let days = u32::try_from((as_of - anomaly.date).num_days()).unwrap_or(0);
    days.min(resolve_after_days.saturating_sub(1))
}
