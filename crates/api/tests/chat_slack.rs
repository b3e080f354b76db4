//! Slack's endpoints over the seeded store: only requests signed with the app's Signing Secret,
//! fresh and seen once, get through; a button click moves the anomaly once and is announced to
//! every integration; `/cost` answers with the store's figures.

#[allow(dead_code)] // each test binary uses part of the support
mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Datelike;
use costwatch_api::chat::ChatSecrets;
use costwatch_core::{Scope, State};
use costwatch_store::RollupStore;
use costwatch_store::memory::MemorySecrets;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use support::{Seeded, call, seeded, seeded_to};

const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

struct Slack {
    seeded: Seeded,
    router: Router,
    /// The API's clock: the morning after the seeded data's last day.
    now: i64,
}

async fn slack() -> Slack {
    slack_over(seeded().await)
}

fn slack_over(seeded: Seeded) -> Slack {
    let secrets = MemorySecrets::new().with("slack-signing-secret", SIGNING_SECRET.to_owned());
    let (router, now) = seeded.chat(
        secrets,
        ChatSecrets {
            slack_signing_secret: Some("slack-signing-secret".into()),
            discord_public_key: None,
        },
    );
    Slack {
        router,
        seeded,
        now,
    }
}

fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn request(path: &str, body: &str, timestamp: i64, signature: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", timestamp.to_string())
        .header("x-slack-signature", signature)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn signed(path: &str, body: &str, timestamp: i64) -> Request<Body> {
    request(
        path,
        body,
        timestamp,
        &sign(SIGNING_SECRET, timestamp, body),
    )
}

fn cost_command() -> String {
    "token=unused&team_id=T0001&channel_id=C0001&user_id=U0001&user_name=ana&command=%2Fcost&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0001%2F1%2Fx&trigger_id=1.2.3".to_owned()
}

fn click(action_id: &str, subject: &str) -> String {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": "U0001", "username": "ana", "team_id": "T0001"},
        "team": {"id": "T0001", "domain": "example"},
        "channel": {"id": "C0001", "name": "costs"},
        "response_url": "https://hooks.slack.com/actions/T0001/1/x",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "costwatch_actions",
                     "value": subject, "action_ts": "1700000000.000100"}]
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

#[tokio::test]
async fn only_fresh_authentic_unseen_requests_get_through() {
    let s = slack().await;
    let body = cost_command();
    let valid = call(&s.router, signed("/slack/commands", &body, s.now)).await;
    assert_eq!(valid.status, StatusCode::OK);
    assert_eq!(valid.json()["response_type"], "ephemeral");

    let replayed = call(&s.router, signed("/slack/commands", &body, s.now)).await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "the same request twice"
    );
    assert!(String::from_utf8_lossy(&replayed.body).contains("already received"));

    let stale = s.now - 301;
    let old = call(&s.router, signed("/slack/commands", &body, stale)).await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "older than five minutes"
    );
    assert!(String::from_utf8_lossy(&old.body).contains("5-minute"));
    let edge = call(&s.router, signed("/slack/commands", &body, s.now - 299)).await;
    assert_eq!(edge.status, StatusCode::OK, "inside the window");

    let wrong_key = sign("not-the-signing-secret", s.now + 1, &body);
    let forged = request("/slack/commands", &body, s.now + 1, &wrong_key);
    assert_eq!(
        call(&s.router, forged).await.status,
        StatusCode::UNAUTHORIZED
    );
    let good = sign(SIGNING_SECRET, s.now + 2, &body);
    let tampered = request("/slack/commands", &format!("{body}&x=1"), s.now + 2, &good);
    assert_eq!(
        call(&s.router, tampered).await.status,
        StatusCode::UNAUTHORIZED
    );
    let unsigned = Request::post("/slack/commands")
        .body(Body::from(body.clone()))
        .unwrap();
    assert_eq!(
        call(&s.router, unsigned).await.status,
        StatusCode::UNAUTHORIZED
    );
}

fn announced(s: &Slack, subject: &str) -> Vec<(State, String)> {
    s.seeded
        .bus
        .published()
        .iter()
        .filter(|n| n.subject_id == subject)
        .map(|n| (n.state, n.summary.clone()))
        .collect()
}

#[tokio::test]
async fn a_button_click_moves_the_anomaly_once_and_every_integration_hears_it() {
    let s = slack().await;
    let subject = s.seeded.spike_subject();
    let before = announced(&s, &subject).len();
    let ack = click("costwatch_acknowledge", &subject);
    assert_eq!(
        call(&s.router, signed("/slack/interactions", &ack, s.now))
            .await
            .status,
        StatusCode::OK
    );
    let after = announced(&s, &subject);
    assert_eq!(after.len(), before + 1, "{after:?}");
    let (state, summary) = after.last().unwrap();
    assert_eq!(*state, State::Acknowledged);
    assert!(
        summary.starts_with("Acknowledged by @ana in Slack."),
        "{summary}"
    );
    // A second click (a new, validly signed request) changes nothing.
    assert_eq!(
        call(&s.router, signed("/slack/interactions", &ack, s.now + 1))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(announced(&s, &subject).len(), before + 1);
    // Expected resolves it, once.
    let expected = click("costwatch_expected", &subject);
    let answer = call(
        &s.router,
        signed("/slack/interactions", &expected, s.now + 2),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let last = announced(&s, &subject);
    assert_eq!(last.len(), before + 2);
    assert_eq!(last.last().unwrap().0, State::Resolved);
    // A click on an id that is not an anomaly says so rather than pretending.
    let unknown = click("costwatch_acknowledge", "an_0000000000000000000");
    let missing = call(
        &s.router,
        signed("/slack/interactions", &unknown, s.now + 3),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn cost_answers_with_the_stores_figures_and_the_open_anomalies() {
    let s = slack().await;
    let subject = s.seeded.spike_subject();
    let answer = call(&s.router, signed("/slack/commands", &cost_command(), s.now)).await;
    let body: Value = answer.json();
    let text = body.to_string();
    // Month to date, summed here from the rollups the pipeline wrote.
    let last = s.seeded.end;
    let first = last.with_day(1).unwrap();
    let org = s
        .seeded
        .rollups
        .series(&Scope::Org, first, last)
        .await
        .unwrap();
    let mtd: costwatch_core::Money = first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter_map(|d| org.get(d))
        .map(|c| c.total())
        .sum();
    let shown = costwatch_core::money::display(mtd, "USD");
    assert!(
        text.contains(&format!("*Month to date*: {shown}")),
        "{shown} in {text}"
    );
    assert!(
        text.contains("*Month-end forecast*: $") && text.contains(" (80%: $"),
        "the forecast with its interval, as the envelopes write it: {text}"
    );
    assert!(text.contains("Top movers"), "{text}");
    assert!(
        text.contains(&s.seeded.spike_service),
        "the spike is a top mover: {text}"
    );
    let buttons: Vec<&Value> = body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b.get("accessory"))
        .collect();
    assert!(
        buttons.iter().any(|b| b["value"] == subject.as_str()),
        "the open spike has its Acknowledge button: {text}"
    );
    // Slack's limits on a message: at most 50 blocks.
    assert!(body["blocks"].as_array().unwrap().len() <= 50);
}

/// `/cost` with the command's text set to `text`.
fn cost_about(text: &str) -> String {
    let text = serde_urlencoded::to_string([("text", text)]).unwrap();
    cost_command().replace("text=", &text)
}

/// The month to date of `scope` in the seeded store, as the messages write it.
async fn month_to_date(s: &Slack, scope: &Scope) -> String {
    let last = s.seeded.end;
    let first = last.with_day(1).unwrap();
    let series = s.seeded.rollups.series(scope, first, last).await.unwrap();
    costwatch_core::money::display(series.month_to_date(last), "USD")
}

#[tokio::test]
async fn cost_answers_about_an_account_a_service_or_a_tag_and_says_what_else_matches() {
    let s = slack().await;
    let ask = |text: &str| {
        let body = cost_about(text);
        let router = s.router.clone();
        let now = s.now;
        async move {
            call(&router, signed("/slack/commands", &body, now))
                .await
                .json()
        }
    };
    let header = |body: &Value| {
        body["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let subject = s.seeded.spike_subject();

    // An account by name: its figures, its services as movers, the spike inside it.
    let data = ask("Data-Platform").await;
    assert_eq!(
        header(&data),
        "Cloud spend: Account data-platform",
        "{data:#}"
    );
    let shown = month_to_date(&s, &Scope::Account("444455556666".into())).await;
    let text = data.to_string();
    assert!(
        text.contains(&format!("*Month to date*: {shown}")),
        "{shown} in {text}"
    );
    assert!(
        text.contains(&s.seeded.spike_service),
        "its service moved: {text}"
    );
    assert!(text.contains(&subject), "the spike is open in it: {text}");
    // Another account: the spike is not its anomaly.
    let web = ask("222233334444").await;
    assert_eq!(header(&web), "Cloud spend: Account web-prod");
    assert!(!web.to_string().contains(&subject), "{web:#}");

    // A service by part of its name: its movers are the accounts it is charged in.
    let sagemaker = ask("sagemaker").await;
    assert_eq!(header(&sagemaker), "Cloud spend: Amazon SageMaker");
    assert!(
        sagemaker.to_string().contains("Account data-platform"),
        "{sagemaker:#}"
    );

    // The spend without a team tag: the purchases on the 1st.
    let untagged = ask("team=").await;
    assert_eq!(header(&untagged), "Cloud spend: tag team (untagged)");
    let shown = month_to_date(&s, &"tag=team|value=".parse().unwrap()).await;
    assert!(
        untagged
            .to_string()
            .contains(&format!("*Month to date*: {shown}")),
        "{untagged:#}"
    );

    // Several matches, none, or an unknown key: a sentence, escaped, instead of $0.00.
    let several = ask("web").await;
    assert_eq!(
        several["text"], "\"web\" matches 2: web-prod, web-staging. Which one?",
        "{several:#}"
    );
    let none = ask("<!channel> glue").await;
    let none = none["text"].as_str().unwrap();
    assert!(
        none.contains("&lt;!channel&gt; glue") && !none.contains("<!channel>"),
        "{none}"
    );
    let key = ask("owner=ana").await;
    assert!(
        key["text"]
            .as_str()
            .unwrap()
            .contains("they carry team and Environment"),
        "{key:#}"
    );
}

/// A `history_days` shorter than the month so far (28, on the 30th): the month to date is still
/// the whole month's, and the forecast is still given.
#[tokio::test]
async fn a_short_history_still_gives_the_whole_month_to_date() {
    let mut seeded = seeded_to("2026-10-30".parse().unwrap()).await;
    seeded.config.history_days = 28;
    let s = slack_over(seeded);
    let body = call(&s.router, signed("/slack/commands", &cost_command(), s.now))
        .await
        .json();
    let text = body.to_string();
    let shown = month_to_date(&s, &Scope::Org).await;
    assert!(
        text.contains(&format!("*Month to date*: {shown}")),
        "{shown} in {text}"
    );
    assert!(text.contains("*Month-end forecast*: $"), "{text}");
}

#[tokio::test]
async fn without_a_signing_secret_slack_is_not_served() {
    let seeded = seeded().await;
    let (router, now) = seeded.chat(MemorySecrets::new(), ChatSecrets::default());
    let answer = call(&router, signed("/slack/commands", &cost_command(), now)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_budget_alert_is_acknowledged_from_its_button_and_takes_nothing_else() {
    let s = slack().await;
    let budget = s
        .seeded
        .bus
        .published()
        .into_iter()
        .find(|n| n.kind() == "budget" && n.state == State::Open)
        .expect("the seeded organisation crosses a planted budget");
    let subject = budget.subject_id.clone();
    let ack = click("costwatch_acknowledge", &subject);
    let answer = call(&s.router, signed("/slack/interactions", &ack, s.now)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let after = announced(&s, &subject);
    assert_eq!(after.last().unwrap().0, State::Acknowledged, "{after:?}");
    assert!(
        after
            .last()
            .unwrap()
            .1
            .starts_with("Acknowledged by @ana in Slack.")
    );
    let snooze = click("costwatch_snooze_24h", &subject);
    let refused = call(&s.router, signed("/slack/interactions", &snooze, s.now + 1)).await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "a budget alert is not snoozed"
    );
    assert_eq!(announced(&s, &subject).len(), after.len());
}

/// A `/cost` slower than the 3 s (here: every one, `answer_within` zero) is acknowledged at once
/// and the same answer follows on the command's `response_url`, replacing the acknowledgement.
#[tokio::test]
async fn a_slow_cost_is_acknowledged_at_once_and_answered_on_the_response_url() {
    let s = slack().await;
    let inline = call(&s.router, signed("/slack/commands", &cost_command(), s.now))
        .await
        .json();
    let followups = support::Followups::start().await;
    let secrets = MemorySecrets::new().with("slack-signing-secret", SIGNING_SECRET.to_owned());
    let (deferring, now) = s.seeded.chat_deferring(
        secrets,
        ChatSecrets {
            slack_signing_secret: Some("slack-signing-secret".into()),
            discord_public_key: None,
        },
        Some(&followups.server.url()),
    );
    // A second signature (the first was seen, and the seen ones are kept in the shared store).
    let ack = call(
        &deferring,
        signed("/slack/commands", &cost_command(), now + 1),
    )
    .await;
    assert_eq!(ack.status, StatusCode::OK);
    let ack = ack.json();
    assert_eq!(ack["response_type"], "ephemeral");
    assert!(ack["text"].as_str().unwrap().contains("follows"), "{ack}");
    assert!(ack.get("blocks").is_none(), "no figures yet: {ack}");

    let answer = followups.next().await;
    assert_eq!(answer.method, "POST");
    assert_eq!(
        answer.path, "/commands/T0001/1/x",
        "the command's response_url"
    );
    let body = answer.json().unwrap();
    assert_eq!(body["replace_original"], true);
    assert_eq!(body["response_type"], "ephemeral");
    assert_eq!(
        body["blocks"], inline["blocks"],
        "the figures /cost answers inline"
    );
}

#[tokio::test]
async fn cost_on_a_months_last_day_gives_the_month_to_date_and_no_forecast() {
    let s = slack_over(seeded_to("2026-11-30".parse().unwrap()).await);
    let answer = call(&s.router, signed("/slack/commands", &cost_command(), s.now)).await;
    let text = answer.json().to_string();
    assert!(text.contains("*2026-11-30*: $"), "{text}");
    assert!(text.contains("*Month to date*: $"), "{text}");
    assert!(
        !text.contains("Month-end forecast"),
        "nothing is left of November to forecast: {text}"
    );
}
