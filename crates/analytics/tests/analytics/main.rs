//! Behaviour of the baseline analytics on hand-built synthetic series.

mod budget;
mod common;
mod detect;
mod forecast;
mod root_cause;
