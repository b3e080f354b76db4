//! Detection, forecasting and budget evaluation over daily cost series; pure (no I/O).
//!
//! This is the *baseline*: deliberately simple, robust models whose behaviour can be explained in
//! a sentence and whose assumptions are written next to them, so stronger models can later be
//! measured against it.
//!
//! * [`detect`]: robust weekly-seasonal baseline for usage plus a calendar model for recurring
//!   fees and tax; robust z-score (MAD) gated by dollar and percent impact.
//! * [`root_cause`]: ranks child series (service, account, …) by their dollar contribution.
//! * [`forecast`]: the same seasonal baseline projected forward, with empirical intervals from
//!   the model's own back-tested errors; month-end totals aggregate errors of whole k-day sums.
//! * [`budget`]: threshold crossings on actual month-to-date and forecast spend.
//!
//! Money stays [`costwatch_core::Money`] (decimal) at the API; models convert to f64 inside.

mod baseline;
pub mod budget;
pub mod detect;
pub mod forecast;
pub mod root_cause;
mod stats;
