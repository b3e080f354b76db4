//! The buttons on chat messages and what they ask for: one contract between the dispatchers
//! that draw them (crates/dispatch-slack) and the endpoint that acts on them (crates/api
//! `chat`). A button's value is the anomaly's subject id.

/// Acknowledge: someone has it in hand.
pub const ACKNOWLEDGE: &str = "costwatch_acknowledge";
/// Snooze 24 h: quiet through tomorrow.
pub const SNOOZE_DAY: &str = "costwatch_snooze_24h";
/// Expected: a planned change; resolves it and quiets its pattern.
pub const EXPECTED: &str = "costwatch_expected";

/// A Discord button's `custom_id`, `<action>:<subject id>` (Discord allows 100 characters; ours
/// are under 40). Slack carries the two apart (`action_id`, `value`).
pub fn custom_id(action: &str, subject_id: &str) -> String {
    format!("{action}:{subject_id}")
}
