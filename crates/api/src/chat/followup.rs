//! `/cost` answered after the 3 seconds: Slack and Discord drop a slash command not acknowledged
//! within 3 s. When the figures are not read within [`Chat::answer_within`](super::Chat) (a cold
//! DynamoDB read, a slow store), the command is acknowledged at once and the answer follows
//! through the chat's own follow-up address — Slack's `response_url` (POST, valid 30 minutes),
//! Discord's interaction webhook (`PATCH /webhooks/{application id}/{token}/messages/@original`,
//! valid 15 minutes).
//!
//! Who does the later work is a port, [`Defer`]: in `costwatch serve` a task on the runtime
//! ([`InProcess`]); on Lambda, whose container freezes once the response is sent, an
//! asynchronous invocation of the chat function itself (crates/api main.rs), whose second run
//! calls [`Sender::deliver`].

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Where a deferred `/cost` answer goes. Both come from a request whose signature was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "chat", rename_all = "snake_case")]
pub enum Followup {
    Slack {
        response_url: String,
        /// What `/cost` was asked about (its text; empty: the organisation).
        #[serde(default)]
        query: String,
    },
    Discord {
        application_id: String,
        token: String,
        #[serde(default)]
        query: String,
    },
}

impl Followup {
    /// What `/cost` was asked about.
    pub fn query(&self) -> &str {
        match self {
            Followup::Slack { query, .. } | Followup::Discord { query, .. } => query,
        }
    }
}

/// Hands a follow-up to whatever runs after the response is sent.
#[async_trait]
pub trait Defer: Send + Sync {
    async fn defer(&self, followup: Followup) -> Result<(), String>;
}

/// The later answer's own time limit: well inside both vendors' follow-up validity.
pub const FOLLOWUP_WITHIN: Duration = Duration::from_secs(20);

#[cfg(feature = "followup")]
pub use sender::{InProcess, Sender};

/// Sending: only with the `followup` feature (reqwest).
#[cfg(feature = "followup")]
mod sender {
    use std::sync::Arc;
    use std::time::Duration;

    use async_trait::async_trait;
    use serde_json::{Value, json};

    use super::{Defer, FOLLOWUP_WITHIN, Followup};
    use crate::Api;
    use crate::chat::glance::glance;

    /// Sends follow-ups: to the vendors' own hosts only, or — tests and local runs — to one loopback
    /// endpoint that stands in for both (`COSTWATCH_HTTP_ENDPOINT`, as the dispatchers take it).
    #[derive(Clone)]
    pub struct Sender {
        http: reqwest::Client,
        endpoint: Option<String>,
    }

    impl Sender {
        /// `endpoint`: a loopback base URL every follow-up goes to instead (anything else refused).
        pub fn new(endpoint: Option<&str>) -> Result<Self, String> {
            let endpoint = match endpoint {
                Some(e) if is_loopback(e) => Some(e.trim_end_matches('/').to_owned()),
                Some(e) => return Err(format!("follow-up endpoint {e} is not a loopback address")),
                None => None,
            };
            let http = costwatch_store::outbound::http_client_builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| e.to_string())?;
            Ok(Self { http, endpoint })
        }

        /// The method and URL a follow-up is sent to; a Slack address off `hooks.slack.com` or a
        /// Discord id or token with characters a URL path would reinterpret is refused.
        pub fn target(&self, f: &Followup) -> Result<(reqwest::Method, String), String> {
            let (method, url) = match f {
                Followup::Slack { response_url, .. } => {
                    let path = response_url
                        .strip_prefix("https://hooks.slack.com/")
                        .filter(|p| !p.contains(['?', '#', '@']) && !p.contains(".."))
                        .ok_or("a Slack response_url must be https://hooks.slack.com/…")?;
                    (
                        reqwest::Method::POST,
                        format!("https://hooks.slack.com/{path}"),
                    )
                }
                Followup::Discord {
                    application_id,
                    token,
                    ..
                } => {
                    let id_ok = !application_id.is_empty()
                        && application_id.chars().all(|c| c.is_ascii_digit());
                    let token_ok = !token.is_empty()
                        && token
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
                    if !(id_ok && token_ok) {
                        return Err(
                            "a Discord application id or interaction token is malformed".into()
                        );
                    }
                    (
                        reqwest::Method::PATCH,
                        format!(
                            "https://discord.com/api/v10/webhooks/{application_id}/{token}/messages/@original"
                        ),
                    )
                }
            };
            let url = match &self.endpoint {
                Some(base) => {
                    let path = url.splitn(4, '/').nth(3).unwrap_or_default();
                    format!("{base}/{path}")
                }
                None => url,
            };
            Ok((method, url))
        }

        /// Reads the figures (within [`FOLLOWUP_WITHIN`]) and sends the answer, or, when they cannot
        /// be read, a sentence saying so: the asker is never left with "reading the figures…".
        pub async fn deliver(&self, api: &Api, f: &Followup) -> Result<(), String> {
            let (method, url) = self.target(f)?;
            let figures = match tokio::time::timeout(FOLLOWUP_WITHIN, glance(api, f.query())).await
            {
                Ok(Ok(g)) => Ok(g),
                Ok(Err(problem)) => {
                    tracing::warn!(problem = ?problem, "deferred /cost failed");
                    Err("costwatch could not read the figures just now; try again in a minute.")
                }
                Err(_) => {
                    Err("costwatch could not read the figures in time; try again in a minute.")
                }
            };
            let body = match (f, figures) {
                (Followup::Slack { .. }, Ok(g)) => {
                    let mut answer = crate::chat::slack::answer(&g);
                    answer["replace_original"] = Value::Bool(true);
                    answer
                }
                (Followup::Slack { .. }, Err(text)) => {
                    json!({"response_type": "ephemeral", "replace_original": true, "text": text})
                }
                (Followup::Discord { .. }, Ok(g)) => {
                    crate::chat::discord::answer(&g)["data"].take()
                }
                (Followup::Discord { .. }, Err(text)) => {
                    json!({"content": text, "allowed_mentions": {"parse": []}})
                }
            };
            let response = self
                .http
                .request(method, &url)
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("sending the /cost answer: {}", e.without_url()))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("the /cost answer was refused: HTTP {status}"));
            }
            Ok(())
        }
    }

    fn is_loopback(url: &str) -> bool {
        let Some(rest) = url.strip_prefix("http://") else {
            return false;
        };
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        host == "127.0.0.1" || host == "localhost" || rest.starts_with("[::1]")
    }

    /// Runs follow-ups as tasks on this process's runtime (`costwatch serve`, tests): the server
    /// keeps running after the response, so the task finishes.
    pub struct InProcess {
        pub api: Arc<Api>,
        pub sender: Sender,
    }

    #[async_trait]
    impl Defer for InProcess {
        async fn defer(&self, followup: Followup) -> Result<(), String> {
            let (api, sender) = (self.api.clone(), self.sender.clone());
            tokio::spawn(async move {
                if let Err(e) = sender.deliver(&api, &followup).await {
                    tracing::warn!(error = %e, "a deferred /cost answer was not delivered");
                }
            });
            Ok(())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn follow_ups_go_to_the_vendors_hosts_only() {
            let s = Sender::new(None).unwrap();
            let slack = |u: &str| Followup::Slack {
                response_url: u.into(),
                query: String::new(),
            };
            let (m, url) = s
                .target(&slack("https://hooks.slack.com/commands/T1/2/abc"))
                .unwrap();
            assert_eq!(
                (m, url.as_str()),
                (
                    reqwest::Method::POST,
                    "https://hooks.slack.com/commands/T1/2/abc"
                )
            );
            for bad in [
                "https://evil.example/commands/T1/2/abc",
                "https://hooks.slack.com.evil.example/x",
                "http://hooks.slack.com/commands/T1",
                "https://hooks.slack.com/../admin",
                "https://hooks.slack.com/x@evil.example",
            ] {
                assert!(s.target(&slack(bad)).is_err(), "{bad}");
            }
            let discord = |id: &str, token: &str| Followup::Discord {
                application_id: id.into(),
                token: token.into(),
                query: String::new(),
            };
            let (m, url) = s.target(&discord("123", "aW50ZXJh-c3Rpb24.x_y")).unwrap();
            assert_eq!(m, reqwest::Method::PATCH);
            assert_eq!(
                url,
                "https://discord.com/api/v10/webhooks/123/aW50ZXJh-c3Rpb24.x_y/messages/@original"
            );
            assert!(s.target(&discord("12a", "t")).is_err());
            assert!(s.target(&discord("123", "t/../x")).is_err());
        }

        #[test]
        fn a_stand_in_endpoint_must_be_loopback_and_keeps_the_path() {
            assert!(Sender::new(Some("https://example.com")).is_err());
            assert!(Sender::new(Some("http://10.0.0.1:80")).is_err());
            let s = Sender::new(Some("http://127.0.0.1:9/")).unwrap();
            let (_, url) = s
                .target(&Followup::Slack {
                    response_url: "https://hooks.slack.com/commands/T1/2/abc".into(),
                    query: String::new(),
                })
                .unwrap();
            assert_eq!(url, "http://127.0.0.1:9/commands/T1/2/abc");
        }
    }
}
