//! Acting on alerts from chat: Slack's interactivity and slash-command endpoints ([`slack`]).
//! Served beside the REST API but outside its bearer/IAM auth — Slack cannot sign AWS requests —
//! so every request here proves itself with the vendor's own signature instead, and a signature
//! is accepted once ([`replay`]).
//!
//! On AWS these routes are the `chat` function behind its own Function URL (auth NONE,
//! template.yaml); locally `costwatch serve` mounts them under the same listener.

pub mod glance;
pub mod replay;
pub mod slack;

use std::sync::Arc;

use axum::Router;
use axum::routing::post;

use crate::Api;

/// Where the chat endpoints find their secrets (names in the secret store: Secrets Manager on
/// AWS, `COSTWATCH_SECRET_<NAME>` or the data dir's secrets locally).
#[derive(Debug, Clone, Default)]
pub struct ChatSecrets {
    /// The Slack app's Signing Secret (Basic Information → App Credentials).
    pub slack_signing_secret: Option<String>,
}

pub struct Chat {
    pub api: Arc<Api>,
    pub secrets: ChatSecrets,
}

/// The chat routes: `/slack/interactions` (button clicks) and `/slack/commands` (`/cost`).
pub fn router(chat: Arc<Chat>) -> Router {
    Router::new()
        .route("/slack/interactions", post(slack::interactions))
        .route("/slack/commands", post(slack::commands))
        .with_state(chat)
}
