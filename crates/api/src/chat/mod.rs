//! Acting on alerts from chat: Slack's interactivity and slash-command endpoints ([`slack`]) and
//! Discord's interactions endpoint ([`discord`]). Served beside the REST API but outside its
//! bearer/IAM auth — neither vendor can sign AWS requests —
//! so every request here proves itself with the vendor's own signature instead, and a signature
//! is accepted once ([`replay`]).
//!
//! On AWS these routes are the `chat` function behind its own Function URL (auth NONE,
//! template.yaml); locally `costwatch serve` mounts them under the same listener.

pub mod discord;
pub mod followup;
pub mod glance;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod replay;
pub mod scope_query;
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
    /// The Discord application's public key (64 hex digits; public, so configuration rather
    /// than a secret).
    pub discord_public_key: Option<String>,
}

pub struct Chat {
    pub api: Arc<Api>,
    pub secrets: ChatSecrets,
    /// How long `/cost` reads before it defers (default [`glance::ANSWER_WITHIN`]; zero: always).
    pub answer_within: std::time::Duration,
    /// Who answers `/cost` after the response ([`followup`]); `None`: a slow read is answered
    /// with "try again".
    pub defer: Option<Arc<dyn followup::Defer>>,
}

/// The chat routes: `/slack/interactions` (button clicks), `/slack/commands` (`/cost`) and
/// `/discord/interactions` (PING, `/cost`, buttons).
pub fn router(chat: Arc<Chat>) -> Router {
    Router::new()
        .route("/slack/interactions", post(slack::interactions))
        .route("/slack/commands", post(slack::commands))
        .route("/discord/interactions", post(discord::interactions))
        .with_state(chat)
}
