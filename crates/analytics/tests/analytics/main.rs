//! Behaviour of the baseline analytics on hand-built synthetic series.

mod budget;
mod common;
mod cur_fees;
mod detect;
mod drivers;
mod forecast;
mod forecast_known;
mod forecast_monthly;
mod forecast_shift;
mod root_cause;
// Shared with the accuracy benchmark, which also reads the Winkler score the tests do not.
#[allow(dead_code)]
#[path = "../../benches/support/coverage.rs"]
mod sim_coverage;
// The forecast benchmark's real series, which the monthly-charge tests read too.
#[path = "../../benches/support/series.rs"]
mod bench_series;
