//! The chat function's two kinds of invocation on Lambda (`chat::lambda`): a slow `/cost` hands
//! its follow-up to an asynchronous invocation of the function itself — the real SDK's `Invoke`
//! (`InvocationType=Event`) against a loopback endpoint standing in for Lambda — and that event,
//! run through `handle`, posts the answer to Slack's `response_url`; a Function URL request (the
//! HTTP API 2.0 payload Lambda delivers) still reaches the chat router and comes back as the
//! Function URL's response.

#[allow(dead_code)] // each test binary uses part of the support
mod support;

use std::sync::Arc;

use costwatch_api::chat::ChatSecrets;
use costwatch_api::chat::followup::{Defer, Followup, Sender};
use costwatch_api::chat::lambda::{FOLLOWUP_KEY, SelfInvoke, handle};
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::memory::MemorySecrets;
use costwatch_vendor_fakes::server::{FakeServer, Received, Reply, Vendor};
use hmac::{Hmac, KeyInit, Mac};
use lambda_http::{Context, LambdaEvent};
use serde_json::{Value, json};
use sha2::Sha256;

const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const RESPONSE_URL: &str = "https://hooks.slack.com/commands/T0001/1/x";

/// Lambda's answer to an asynchronous invoke: 202, no body.
struct AcceptsInvokes(u16);

impl Vendor for AcceptsInvokes {
    fn handle(&self, _request: &Received, _base: &str) -> Reply {
        Reply::text(self.0, "")
    }
}

async fn sdk_config(url: &str) -> SdkConfig {
    costwatch_store::aws::emulator_config(url, "us-east-1").await
}

fn slack() -> Followup {
    Followup::Slack {
        response_url: RESPONSE_URL.into(),
        query: "web-prod".into(),
    }
}

#[tokio::test]
async fn a_deferred_cost_is_one_asynchronous_invoke_of_the_function_itself() {
    let lambda = FakeServer::start(Arc::new(AcceptsInvokes(202))).await;
    let defer = SelfInvoke::new(&sdk_config(&lambda.url()).await, "costwatch-chat");
    defer.defer(slack()).await.unwrap();
    let sent = lambda.log();
    assert_eq!(sent.len(), 1);
    let invoke = &sent[0].0;
    assert_eq!(invoke.method, "POST");
    assert_eq!(
        invoke.path,
        "/2015-03-31/functions/costwatch-chat/invocations"
    );
    assert_eq!(invoke.header("x-amz-invocation-type"), Some("Event"));
    assert_eq!(
        invoke.json().unwrap(),
        json!({FOLLOWUP_KEY: {"chat": "slack", "response_url": RESPONSE_URL, "query": "web-prod"}}),
        "what was asked rides along to the second run"
    );

    // A synchronous answer (200) means Lambda ran it while we waited: not what was asked.
    let wrong = FakeServer::start(Arc::new(AcceptsInvokes(200))).await;
    let defer = SelfInvoke::new(&sdk_config(&wrong.url()).await, "costwatch-chat");
    let err = defer.defer(slack()).await.unwrap_err();
    assert!(err.contains("not 202"), "{err}");
}

fn function_url_event(body: &str, timestamp: i64) -> Value {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SIGNING_SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    let signature = format!("v0={}", hex::encode(mac.finalize().into_bytes()));
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/slack/commands",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": timestamp.to_string(),
            "x-slack-signature": signature,
            "host": "abcdefghij.lambda-url.us-east-1.on.aws"
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghij",
            "domainName": "abcdefghij.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abcdefghij",
            "http": {"method": "POST", "path": "/slack/commands", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.9", "userAgent": "Slackbot 1.0"},
            "requestId": "c1d2e3f4-0000-4000-8000-000000000001",
            "routeKey": "$default",
            "stage": "$default",
            "time": "20/Nov/2026:06:00:00 +0000",
            "timeEpoch": timestamp * 1000
        },
        "body": body,
        "isBase64Encoded": false
    })
}

#[tokio::test]
async fn the_function_answers_its_own_followup_and_still_serves_function_url_requests() {
    let seeded = support::seeded().await;
    let followups = support::Followups::start().await;
    let secrets = || MemorySecrets::new().with("slack-signing-secret", SIGNING_SECRET.to_owned());
    let chat_secrets = ChatSecrets {
        slack_signing_secret: Some("slack-signing-secret".into()),
        discord_public_key: None,
    };
    let (chat, now) = seeded.chat(secrets(), chat_secrets);
    let api = seeded.api_with(
        costwatch_api::Auth::Trusted,
        secrets(),
        seeded.integrations(None),
    );
    let sender = Sender::new(Some(&followups.server.url())).unwrap();

    // The follow-up event: the answer is posted to the response_url, the invocation succeeds.
    let event = LambdaEvent::new(
        json!({FOLLOWUP_KEY: {"chat": "slack", "response_url": RESPONSE_URL, "query": "web-prod"}}),
        Context::default(),
    );
    let out = handle(chat.clone(), &sender, &api, event).await.unwrap();
    assert_eq!(out, Value::Null);
    let answer = followups.next().await;
    assert_eq!(answer.path, "/commands/T0001/1/x");
    let body = answer.json().unwrap();
    assert_eq!(body["replace_original"], true);
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("Cloud spend for Account web-prod"),
        "the answer is about what was asked: {text}"
    );

    // A Function URL request: through the router, back as the Function URL response.
    let command = "command=%2Fcost&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0001%2F1%2Fx";
    let event = LambdaEvent::new(function_url_event(command, now), Context::default());
    let out = handle(chat, &sender, &api, event).await.unwrap();
    assert_eq!(out["statusCode"], 200, "{out:#}");
    let answer: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    assert_eq!(answer["response_type"], "ephemeral");
    assert!(
        answer["text"].as_str().unwrap().starts_with("Cloud spend"),
        "{answer}"
    );
}
