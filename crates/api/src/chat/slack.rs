//! Slack's two request types, each verified before it is read (request signing v0: HMAC-SHA256
//! of `v0:<timestamp>:<raw body>` with the app's Signing Secret, compared in constant time, the
//! timestamp within 5 minutes, each signature accepted once):
//!
//! - **interactivity** (`/slack/interactions`): the Acknowledge / Snooze 24 h / Expected
//!   buttons on anomaly messages (crates/dispatch-slack `blocks::add_actions`). The click goes
//!   through `costwatch_pipeline::actions`, which announces the new state on the bus; the Slack
//!   dispatcher then updates the message (bot destinations) or posts the new state (webhooks),
//!   like every other integration. Slack only needs a 200 within 3 s.
//! - **slash command** (`/slack/commands`): `/cost` answers privately (ephemeral) with
//!   [`glance`](super::glance): the latest day, month to date, the forecast, top movers and the
//!   open anomalies, each with its Acknowledge button.
//!
//! Slack's 3-second limit: the answer is computed under [`ANSWER_WITHIN`](super::glance::ANSWER_WITHIN);
//! a store too slow for that gets "reading the figures" at once and the answer through the
//! command's `response_url` ([`followup`](super::followup)).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Days, Utc};
use costwatch_core::chat_actions::{
    ACKNOWLEDGE as ACTION_ACKNOWLEDGE, EXPECTED as ACTION_EXPECTED, SNOOZE_DAY as ACTION_SNOOZE_DAY,
};
use costwatch_pipeline::actions::{Action, apply};
use costwatch_pipeline::feedback::Verdict;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

use super::Chat;
use super::followup::Followup;
use super::glance::{CostAnswer, Glance, cost_answer, forecast_text, money};
use super::replay::{self, OnceError, Rejected};
use crate::Problem;

/// Checks Slack's v0 signature of `body` against `secret`, and the timestamp's freshness.
pub fn verify(
    secret: &[u8],
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Vec<u8>, Rejected> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp = header("x-slack-request-timestamp")
        .ok_or(Rejected::Malformed("X-Slack-Request-Timestamp missing"))?;
    let signature = header("x-slack-signature")
        .and_then(|s| s.strip_prefix("v0="))
        .and_then(|hex_sig| hex::decode(hex_sig).ok())
        .ok_or(Rejected::Malformed(
            "X-Slack-Signature missing or not v0=<hex>",
        ))?;
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| Rejected::Malformed("X-Slack-Request-Timestamp is not a number"))?;
    if !replay::fresh(seconds, now) {
        return Err(Rejected::Stale);
    }
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&signature).map_err(|_| Rejected::Forged)?;
    Ok(signature)
}

/// Verifies and records the request; the rejection as a response otherwise.
async fn authentic(chat: &Chat, headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
    let Some(name) = &chat.secrets.slack_signing_secret else {
        return Err(Problem::not_found("Slack is not set up on this endpoint").into_response());
    };
    let secret = chat
        .api
        .secrets
        .get(name)
        .await
        .map_err(|e| Problem::from(e).into_response())?;
    let now = chat.api.now();
    let refused = |r: Rejected| {
        tracing::warn!(reason = r.reason(), "refused a Slack request");
        (StatusCode::UNAUTHORIZED, r.reason()).into_response()
    };
    let signature =
        verify(secret.expose_secret().as_bytes(), headers, body, now).map_err(refused)?;
    match replay::once(chat.api.state.as_ref(), "slack", &signature, now).await {
        Ok(()) => Ok(()),
        Err(OnceError::Replayed) => Err(refused(Rejected::Replayed)),
        Err(OnceError::Store(e)) => Err(Problem::from(e).into_response()),
    }
}

#[derive(Deserialize)]
struct Form {
    payload: String,
}

#[derive(Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    user: Option<User>,
    #[serde(default)]
    actions: Vec<ButtonAction>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Deserialize)]
struct ButtonAction {
    action_id: String,
    #[serde(default)]
    value: Option<String>,
}

/// Who clicked, as envelopes show it: `@name in Slack` (the id when Slack sends no name).
fn who(user: Option<&User>) -> Option<String> {
    let user = user?;
    let name = user.username.as_deref().unwrap_or(&user.id);
    Some(format!(
        "@{} in Slack",
        name.chars().take(80).collect::<String>()
    ))
}

pub async fn interactions(
    State(chat): State<Arc<Chat>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = authentic(&chat, &headers, &body).await {
        return refused;
    }
    let Ok(form) = serde_urlencoded::from_bytes::<Form>(&body) else {
        return (StatusCode::BAD_REQUEST, "expected a form with `payload`").into_response();
    };
    let Ok(interaction) = serde_json::from_str::<Interaction>(&form.payload) else {
        return (StatusCode::BAD_REQUEST, "`payload` is not an interaction").into_response();
    };
    if interaction.kind != "block_actions" {
        return StatusCode::OK.into_response(); // nothing else is ours to handle
    }
    let now = chat.api.now();
    for button in &interaction.actions {
        let Some(action) = action_of(&button.action_id, now) else {
            continue;
        };
        let Some(subject) = button.value.as_deref() else {
            continue;
        };
        let by = who(interaction.user.as_ref());
        if let Err(e) = apply(&chat.api.action_ports(), subject, &action, by, now).await {
            tracing::warn!(error = %e, subject, "a Slack button could not be applied");
            return Problem::from(e).into_response();
        }
    }
    StatusCode::OK.into_response()
}

/// A button's action; Snooze 24 h keeps the scope quiet through tomorrow.
fn action_of(action_id: &str, now: DateTime<Utc>) -> Option<Action> {
    match action_id {
        ACTION_ACKNOWLEDGE => Some(Action::Acknowledge),
        ACTION_SNOOZE_DAY => Some(Action::Snooze(now.date_naive() + Days::new(1))),
        ACTION_EXPECTED => Some(Action::Feedback(Verdict::Expected)),
        _ => None,
    }
}

#[derive(Deserialize)]
struct Command {
    command: String,
    /// What follows `/cost`: what to answer about (empty: the organisation).
    #[serde(default)]
    text: String,
    /// Where a deferred answer goes.
    #[serde(default)]
    response_url: Option<String>,
}

pub async fn commands(State(chat): State<Arc<Chat>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = authentic(&chat, &headers, &body).await {
        return refused;
    }
    let Ok(command) = serde_urlencoded::from_bytes::<Command>(&body) else {
        return (StatusCode::BAD_REQUEST, "expected a slash command form").into_response();
    };
    if command.command.trim_start_matches('/') != "cost" {
        return Json(ephemeral_text(&format!(
            "costwatch answers `/cost`, not `{}`.",
            escape(&command.command)
        )))
        .into_response();
    }
    let followup = command.response_url.map(|response_url| Followup::Slack {
        response_url,
        query: command.text.clone(),
    });
    match cost_answer(&chat, &command.text, followup).await {
        CostAnswer::Now(g) => Json(answer(&g)).into_response(),
        CostAnswer::Later => Json(ephemeral_text(
            "Reading the figures; the answer follows in a moment.",
        ))
        .into_response(),
        CostAnswer::Sorry(instead) => Json(ephemeral_text(instead)).into_response(),
    }
}

fn ephemeral_text(text: &str) -> Value {
    json!({"response_type": "ephemeral", "text": text})
}

fn escape(text: &str) -> String {
    costwatch_core::escape::slack_mrkdwn(text)
}

/// The `/cost` answer as Block Kit, visible only to the asker.
pub fn answer(g: &Glance) -> Value {
    let Some(day) = g.day else {
        return ephemeral_text("costwatch has no cost data yet: the first collection runs soon.");
    };
    if let Some(sentence) = &g.unmatched {
        return ephemeral_text(&escape(sentence));
    }
    // A header is plain text of at most 150 characters (Block Kit).
    let title: String = match &g.label {
        Some(label) => format!("Cloud spend: {label}"),
        None => "Cloud spend".to_owned(),
    }
    .chars()
    .take(150)
    .collect();
    let mut lines = vec![
        format!("*{day}*: {}", money(g.day_total, false)),
        format!("*Month to date*: {}", money(g.month_to_date, false)),
    ];
    if let Some(f) = g.forecast {
        lines.push(format!("*Month-end forecast*: {}", forecast_text(f)));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": title, "emoji": false}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}}),
    ];
    if !g.movers.is_empty() {
        let movers: Vec<String> = g
            .movers
            .iter()
            .map(|(label, total, change)| {
                format!(
                    "• {}: {} ({})",
                    escape(label),
                    money(*total, false),
                    money(*change, true)
                )
            })
            .collect();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("*Top movers since the day before*\n{}", movers.join("\n"))}}));
    }
    let heading = match g.open_anomalies {
        0 => "*No open anomalies*".to_owned(),
        1 => "*1 open anomaly*".to_owned(),
        n => format!("*{n} open anomalies*"),
    };
    blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": heading}}));
    for (id, label, impact) in &g.anomalies {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("{} ({} vs expected)", escape(label), money(*impact, true))},
            "accessory": {"type": "button", "action_id": ACTION_ACKNOWLEDGE, "value": id,
                "text": {"type": "plain_text", "text": "Acknowledge", "emoji": false}}
        }));
    }
    let about = match &g.label {
        Some(label) => format!(" for {}", escape(label)),
        None => String::new(),
    };
    let text = format!(
        "Cloud spend{about} {day}: {}, month to date {}",
        money(g.day_total, false),
        money(g.month_to_date, false)
    );
    json!({"response_type": "ephemeral", "text": text, "blocks": blocks})
}
