//! Ports (one trait per capability) and their in-memory and local-filesystem adapters.
//! Handlers take the narrowest port they need; AWS adapters arrive with the AWS issue.

pub mod error;
pub mod ports;

pub use error::StoreError;
pub use ports::*;
