//! The pipeline as a library: collect → aggregate → detect → forecast → budgets → report, and the
//! weekly recommend run, each a function over the store ports that produces envelopes. The
//! Lambdas and the CLI call these.

pub mod actions;
pub mod aggregate;
pub mod allocation;
pub mod archive;
pub mod budget_watched;
pub mod budgets;
pub mod chart;
pub mod collect;
pub mod config;
pub mod config_source;
pub mod data_exports;
pub mod detect;
pub mod drivers;
pub mod error;
pub mod feedback;
pub mod fold;
pub mod forecast;
pub mod html;
pub mod hybrid;
pub mod incremental;
pub mod lake;
pub mod meta;
pub mod metrics;
pub mod recommend;
pub mod report;
pub mod resource_causes;
pub mod revised;
pub mod run;
mod watched;

pub use config::PipelineConfig;
pub use error::PipelineError;
pub use run::{Ports, RunSummary, detect_day, forecast_day, run_day, standing};
