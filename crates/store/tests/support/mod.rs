//! Shared by the test targets. Each target uses only part of it, so unused items are expected.
#![allow(dead_code)]

pub mod contracts;
#[cfg(feature = "aws")]
pub mod http_sink;
#[cfg(feature = "aws")]
pub mod moto;
