//! Vendor-faithful fakes for the dispatcher tests: real HTTP/1.1 servers on a free loopback port
//! ([`server::FakeServer`]) whose behaviour follows each vendor's documentation — status codes,
//! size limits, `429` with `Retry-After` — plus [`faults::Faults`], which makes any of them fail at
//! random (429, 500, hung requests, dropped connections) for fault-injection tests.
//!
//! One module per vendor ([`slack`]; Teams and Discord beside it), each a [`server::Vendor`].
//! A dev-dependency only; never linked into a Lambda.

pub mod amplitude;
// Azure Blob Storage's Blob service (Put Blob, Create Container), for what Azurite cannot fake.
pub mod azure_blob;
pub mod datadog;
pub mod discord;
pub mod faults;
pub mod ga4;
pub mod jira;
pub mod logs;
pub mod mixpanel;
pub mod pagerduty;
pub mod server;
pub mod slack;
pub mod standard_webhooks;
pub mod teams;
pub mod zapier;

// IFTTT's Webhooks service (formerly Maker).
pub mod ifttt;
