//! Behaviour of the baseline analytics on hand-built synthetic series.

mod budget;
mod common;
mod cur_fees;
mod detect;
mod forecast;
mod forecast_known;
mod forecast_monthly;
mod forecast_shift;
mod root_cause;
// Shared with the accuracy benchmark, which also reads the Winkler score the tests do not.
#[allow(dead_code)]
#[path = "../../benches/support/coverage.rs"]
mod sim_coverage;
