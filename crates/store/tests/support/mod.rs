//! Shared by the test targets. Each target uses only part of it, so unused items are expected.
#![allow(dead_code)]

pub mod contracts;
