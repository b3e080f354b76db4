//! Discord's interactions endpoint (`/discord/interactions`): every request is verified before
//! it is read — Ed25519 over `timestamp + body` with the application's public key, the
//! timestamp within 5 minutes, each signature accepted once — then:
//!
//! - PING (type 1) answers PONG, the handshake Discord runs when the URL is saved;
//! - the `/cost` command (type 2) answers privately (flag EPHEMERAL) with
//!   [`glance`](super::glance), Acknowledge buttons on the open anomalies; a read slower than
//!   the 3 s answers "deferred" (type 5) and the answer edits that message through the
//!   interaction's webhook ([`followup`](super::followup));
//! - a button (type 3) on an anomaly embed (crates/dispatch-discord, `interactive = true`) goes
//!   through `costwatch_pipeline::actions` — announced to every integration once — and answers
//!   the clicker privately with what happened.
//!
//! A request Discord signed but we cannot use gets a 400; one that fails verification a 401,
//! which is what Discord's URL check expects for its deliberately bad signatures.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Days, Utc};
use costwatch_core::chat_actions::{ACKNOWLEDGE, EXPECTED, SNOOZE_DAY, custom_id};
use costwatch_core::escape::discord_markdown;
use costwatch_pipeline::actions::{Action, apply, what_happened};
use costwatch_pipeline::feedback::Verdict;
use ed25519_dalek::VerifyingKey;
use ed25519_dalek::ed25519::Signature;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Chat;
use super::followup::Followup;
use super::glance::{CostAnswer, Glance, cost_answer, forecast_text, money};
use super::replay::{self, OnceError, Rejected};
use crate::Problem;

/// Interaction types (Discord's `InteractionTypes`).
const PING: u8 = 1;
const APPLICATION_COMMAND: u8 = 2;
const MESSAGE_COMPONENT: u8 = 3;
/// Callback types (`InteractionCallbackTypes`).
const PONG: u8 = 1;
const CHANNEL_MESSAGE_WITH_SOURCE: u8 = 4;
const DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: u8 = 5;
/// Message flag: only the person who asked sees it.
const EPHEMERAL: u32 = 1 << 6;
/// `/cost`'s optional string option, as the command is registered (docs/integrations/discord.md).
const SCOPE_OPTION: &str = "scope";

/// Parses the application's public key (64 hex digits, the Developer Portal's "Public Key").
pub fn public_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(hex_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the Discord public key must be 64 hex digits")?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("the Discord public key: {e}"))
}

/// Checks Discord's Ed25519 signature of `timestamp + body` and the timestamp's freshness.
pub fn verify(
    key: &VerifyingKey,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Vec<u8>, Rejected> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp = header("x-signature-timestamp")
        .ok_or(Rejected::Malformed("X-Signature-Timestamp missing"))?;
    let signature: [u8; 64] = header("x-signature-ed25519")
        .and_then(|s| hex::decode(s).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or(Rejected::Malformed(
            "X-Signature-Ed25519 missing or not 128 hex digits",
        ))?;
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| Rejected::Malformed("X-Signature-Timestamp is not a number"))?;
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(body);
    key.verify_strict(&message, &Signature::from_bytes(&signature))
        .map_err(|_| Rejected::Forged)?;
    // After the signature: a stale but authentic request is told so; a forged one learns nothing.
    if !replay::fresh(seconds, now) {
        return Err(Rejected::Stale);
    }
    Ok(signature.to_vec())
}

#[derive(Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    data: Option<Data>,
    /// In a server: the member, whose `user` is the person.
    #[serde(default)]
    member: Option<Member>,
    /// In a DM: the person.
    #[serde(default)]
    user: Option<User>,
    /// With `token`: where a deferred answer goes (the interaction's webhook).
    #[serde(default)]
    application_id: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    custom_id: Option<String>,
    /// A command's options: `/cost`'s optional `scope` (what to answer about).
    #[serde(default)]
    options: Vec<CommandOption>,
}

#[derive(Deserialize)]
struct CommandOption {
    name: String,
    #[serde(default)]
    value: Option<Value>,
}

impl Data {
    /// `/cost`'s `scope` option as given; empty: the organisation.
    fn scope_text(&self) -> String {
        self.options
            .iter()
            .find(|o| o.name == SCOPE_OPTION)
            .and_then(|o| o.value.as_ref())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Deserialize)]
struct Member {
    user: User,
}

#[derive(Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    username: Option<String>,
}

pub async fn interactions(
    State(chat): State<Arc<Chat>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(hex_key) = &chat.secrets.discord_public_key else {
        return Problem::not_found("Discord is not set up on this endpoint").into_response();
    };
    let key = match public_key(hex_key) {
        Ok(key) => key,
        Err(e) => {
            tracing::error!(error = %e, "COSTWATCH_DISCORD_PUBLIC_KEY");
            return Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e).into_response();
        }
    };
    let now = chat.api.now();
    let refused = |r: Rejected| {
        tracing::warn!(reason = r.reason(), "refused a Discord request");
        (StatusCode::UNAUTHORIZED, r.reason()).into_response()
    };
    let signature = match verify(&key, &headers, &body, now) {
        Ok(s) => s,
        Err(r) => return refused(r),
    };
    match replay::once(chat.api.state.as_ref(), "discord", &signature, now).await {
        Ok(()) => {}
        Err(OnceError::Replayed) => return refused(Rejected::Replayed),
        Err(OnceError::Store(e)) => return Problem::from(e).into_response(),
    }
    let Ok(interaction) = serde_json::from_slice::<Interaction>(&body) else {
        return (StatusCode::BAD_REQUEST, "not an interaction").into_response();
    };
    match interaction.kind {
        PING => Json(json!({"type": PONG})).into_response(),
        APPLICATION_COMMAND => command(&chat, &interaction).await,
        MESSAGE_COMPONENT => button(&chat, &interaction, now).await,
        _ => (StatusCode::BAD_REQUEST, "interaction type not handled").into_response(),
    }
}

fn private(content: &str) -> Value {
    json!({"type": CHANNEL_MESSAGE_WITH_SOURCE, "data": {"content": content, "flags": EPHEMERAL,
        "allowed_mentions": {"parse": []}}})
}

async fn command(chat: &Chat, interaction: &Interaction) -> Response {
    let name = interaction.data.as_ref().and_then(|d| d.name.as_deref());
    if name != Some("cost") {
        return Json(private("costwatch answers `/cost`.")).into_response();
    }
    let query = interaction
        .data
        .as_ref()
        .map(Data::scope_text)
        .unwrap_or_default();
    let followup = interaction
        .application_id
        .clone()
        .zip(interaction.token.clone())
        .map(|(application_id, token)| Followup::Discord {
            application_id,
            token,
            query: query.clone(),
        });
    let answer = match cost_answer(chat, &query, followup).await {
        CostAnswer::Now(g) => answer(&g),
        // "costwatch is thinking…", privately, until the follow-up edits the message.
        CostAnswer::Later => json!({"type": DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            "data": {"flags": EPHEMERAL}}),
        CostAnswer::Sorry(instead) => private(instead),
    };
    Json(answer).into_response()
}

async fn button(chat: &Chat, interaction: &Interaction, now: DateTime<Utc>) -> Response {
    let custom = interaction
        .data
        .as_ref()
        .and_then(|d| d.custom_id.as_deref())
        .unwrap_or_default();
    let Some((action_id, subject)) = custom.split_once(':') else {
        return (StatusCode::BAD_REQUEST, "not a costwatch button").into_response();
    };
    let action = match action_id {
        ACKNOWLEDGE => Action::Acknowledge,
        SNOOZE_DAY => Action::Snooze(now.date_naive() + Days::new(1)),
        EXPECTED => Action::Feedback(Verdict::Expected),
        _ => return (StatusCode::BAD_REQUEST, "not a costwatch button").into_response(),
    };
    let user = interaction
        .member
        .as_ref()
        .map(|m| &m.user)
        .or(interaction.user.as_ref());
    let by = user.map(|u| {
        let name = u.username.as_deref().unwrap_or(&u.id);
        format!("@{} in Discord", name.chars().take(80).collect::<String>())
    });
    match apply(&chat.api.action_ports(), subject, &action, by.clone(), now).await {
        Ok(applied) => {
            let said = match applied.announced {
                Some(_) => what_happened(&action, by.as_deref()),
                None => "Already done; nothing changed.".to_owned(),
            };
            Json(private(&discord_markdown(&said))).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, subject, "a Discord button could not be applied");
            Json(private(&discord_markdown(&format!(
                "costwatch could not do that: {e}"
            ))))
            .into_response()
        }
    }
}

/// The `/cost` answer: one embed, Acknowledge buttons (up to five, one action row) on the open
/// anomalies.
pub fn answer(g: &Glance) -> Value {
    let Some(day) = g.day else {
        return private("costwatch has no cost data yet: the first collection runs soon.");
    };
    if let Some(sentence) = &g.unmatched {
        return private(&discord_markdown(sentence));
    }
    // An embed title holds at most 256 characters.
    let title: String = match &g.label {
        Some(label) => format!("Cloud spend: {}", discord_markdown(label)),
        None => "Cloud spend".to_owned(),
    }
    .chars()
    .take(256)
    .collect();
    let mut fields = vec![
        json!({"name": day.to_string(), "value": money(g.day_total, false), "inline": true}),
        json!({"name": "Month to date", "value": money(g.month_to_date, false), "inline": true}),
    ];
    if let Some(f) = g.forecast {
        fields
            .push(json!({"name": "Month-end forecast", "inline": true, "value": forecast_text(f)}));
    }
    if !g.movers.is_empty() {
        let lines: Vec<String> = g
            .movers
            .iter()
            .map(|(label, total, change)| {
                format!(
                    "{}: {} ({})",
                    discord_markdown(label),
                    money(*total, false),
                    money(*change, true)
                )
            })
            .collect();
        fields.push(json!({"name": "Top movers since the day before", "value": lines.join("\n")}));
    }
    let anomalies = match g.open_anomalies {
        0 => "None".to_owned(),
        _ => g
            .anomalies
            .iter()
            .map(|(_, label, impact)| {
                format!(
                    "{} ({} vs expected)",
                    discord_markdown(label),
                    money(*impact, true)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    };
    fields.push(
        json!({"name": format!("Open anomalies ({})", g.open_anomalies), "value": anomalies}),
    );
    let buttons: Vec<Value> = g
        .anomalies
        .iter()
        .take(5)
        .map(|(id, label, _)| {
            let short: String = label.chars().take(60).collect();
            json!({"type": 2, "style": 1, "custom_id": custom_id(ACKNOWLEDGE, id),
                "label": format!("Acknowledge {short}")})
        })
        .collect();
    let mut data = json!({
        "flags": EPHEMERAL,
        "allowed_mentions": {"parse": []},
        "embeds": [{"title": title, "fields": fields}],
    });
    if !buttons.is_empty() {
        data["components"] = json!([{"type": 1, "components": buttons}]);
    }
    json!({"type": CHANNEL_MESSAGE_WITH_SOURCE, "data": data})
}
