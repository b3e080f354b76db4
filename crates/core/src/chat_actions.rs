//! The buttons on chat messages and what they ask for: one contract between the dispatchers
//! that draw them (crates/dispatch-slack) and the endpoint that acts on them (crates/api
//! `chat`). A button's value is the anomaly's subject id.

/// Acknowledge: someone has it in hand.
pub const ACKNOWLEDGE: &str = "costwatch_acknowledge";
/// Snooze 24 h: quiet through tomorrow.
pub const SNOOZE_DAY: &str = "costwatch_snooze_24h";
/// Expected: a planned change; resolves it and quiets its pattern.
pub const EXPECTED: &str = "costwatch_expected";
