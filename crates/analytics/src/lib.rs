//! Detection, forecasting and budget evaluation over daily cost series; pure (no I/O).
//!
//! This is the *baseline*: deliberately simple, robust models whose behaviour can be explained in
//! a sentence and whose assumptions are written next to them, so stronger models can later be
//! measured against it.
//!
//! * [`stream`]: the online core every detector shares (level, season, drift, robust spread)
//!   and the detector for sub-daily metric streams (NAB-scored, see the README).
//! * [`detect`]: daily cost anomalies on that core with a weekly season, plus a calendar model
//!   for recurring fees and tax; gated by $ and/or % impact and a sensitivity, per scope.
//! * [`root_cause`]: ranks child series (service, account, …) by their dollar contribution.
//! * [`drivers`]: what moved a scope's month so far against the same days of last month, for
//!   forecast and budget alerts.
//! * [`resource_drivers`]: the resources behind a day's change, from CUR usage lines, each split
//!   into a usage effect and a rate effect (more used, or each unit dearer).
//! * [`forecast`]: a model chosen per series by rolling-origin back-test (naive, seasonal naive,
//!   robust weekly, ETS, damped ETS, Theta with half or all of the drift; on logs; with a
//!   yearly cycle), fees and tax apart, intervals from the chosen model's back-tested errors;
//!   month-end totals from errors of whole k-day sums.
//! * [`recommend`]: the suite's own optimisation findings from CUR usage lines (idle resources,
//!   previous generations, gp2 → gp3, NAT and S3 growth, untagged spend), each with evidence and
//!   a formula, and the one de-duplicated, thresholded, ranked list of every source's findings.
//! * [`budget`]: threshold crossings on actual month-to-date and forecast spend, breach date and
//!   the daily spend that keeps within budget.
//!
//! Money stays [`costwatch_core::Money`] (decimal) at the API; models convert to f64 inside.

mod baseline;
pub mod budget;
pub mod detect;
pub mod drivers;
pub mod forecast;
pub mod recommend;
pub mod resource_drivers;
pub mod root_cause;
mod stats;
pub mod stream;
