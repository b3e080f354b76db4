//! The real daily series of the forecast benchmark (`../shared/data/forecast/`): shared by the
//! accuracy benchmark and the tests that read the same files.

use costwatch_core::shared::shared_path;
use costwatch_ingest::daily::{DailyValues, Duplicates, read_daily};

/// File stems: Prophet's two page-view examples and NAB's daily taxi passengers.
pub const NAMES: [&str; 3] = [
    "example_wp_log_peyton_manning",
    "example_wp_log_R",
    "nab_nyc_taxi_daily",
];

/// The series `name`, read as `costwatch forecast` reads it.
pub fn read(name: &str) -> DailyValues {
    let path = shared_path(&format!("data/forecast/{name}.csv"));
    read_daily(&path, Duplicates::Sum).unwrap_or_else(|e| panic!("{e}"))
}
