//! Sends an exchange (the requests one message renders to) with the shared retry policy: each
//! request is classified by the integration, retried on its own with backoff while time allows,
//! and later requests get earlier answers substituted into their placeholders. Logs name the
//! step and status only: URLs and headers may hold credentials and are never logged.
//!
//! Hardened because a webhook URL is a credential: every URL is checked against the
//! integration's hosts before it is sent ([`crate::hosts`]); redirects are never followed (a
//! followed redirect would hand the URL to another host in `Referer`, turn a POST into a bodiless
//! GET that "succeeds", or re-post the body anywhere): a 3xx is a configuration error; answers are
//! read up to [`MAX_RESPONSE_BYTES`].

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::Value;
use tokio::time::Instant;

use crate::outcome::{Delivered, Outcome, VendorResponse};
use crate::registry::Configured;
use crate::request::{Body, Repeat, Text, VendorRequest, substitute, substitute_json};
use crate::retry::{Next, RetryPolicy};

pub struct Sender {
    client: reqwest::Client,
    endpoint: Option<url::Url>,
    policy: RetryPolicy,
}

/// How an exchange ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    Delivered {
        answers: Vec<Delivered>,
        /// Retries it took, over all requests.
        retries: u32,
    },
    Requeue {
        after: Duration,
        reason: String,
        retries: u32,
        /// Answers of the requests that went through before this one had to wait: a later
        /// delivery resumes after them ([`Sender::exchange_from`]).
        done: Vec<Delivered>,
    },
    Failed {
        reason: String,
        retries: u32,
        /// The vendor's HTTP status when it refused.
        status: Option<u16>,
        /// The vendor refused the credential (or answered 404 for a URL that is one): a
        /// rotated secret may explain it.
        credential_refused: bool,
        /// Requests of the exchange that had gone through before this one failed.
        completed: usize,
        /// The vendor said the destination is gone for good ([`Outcome::Gone`]).
        gone: bool,
    },
}

/// The most of a vendor's answer that is read; the rest is dropped unread (classifiers need the
/// status, headers and a small JSON body).
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// The shortest wait before a [`Repeat::ViaQueue`] exchange starts again from the queue.
pub const VIA_QUEUE_WAIT: Duration = Duration::from_secs(60);

impl Sender {
    /// `timeout` bounds each request; `endpoint` replaces scheme, host and port of every URL
    /// (`notify --endpoint`, tests).
    pub fn new(
        timeout: Duration,
        endpoint: Option<url::Url>,
        policy: RetryPolicy,
    ) -> Result<Self, String> {
        Self::allowing(timeout, endpoint, policy, &[])
    }

    /// As [`Sender::new`], and host names matching `allow_hosts` (the config's) may resolve to
    /// internal addresses; every other name may not ([`crate::dns`]). The endpoint override's
    /// host is allowed too: the operator chose it.
    pub fn allowing(
        timeout: Duration,
        endpoint: Option<url::Url>,
        policy: RetryPolicy,
        allow_hosts: &[String],
    ) -> Result<Self, String> {
        let mut allowed = allow_hosts.to_vec();
        allowed.extend(
            endpoint
                .as_ref()
                .and_then(|e| e.host_str().map(str::to_owned)),
        );
        let client = costwatch_store::outbound::http_client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .dns_resolver(crate::dns::PublicOnly::new(allowed))
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("costwatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {}", e.without_url()))?;
        Ok(Self {
            client,
            endpoint,
            policy,
        })
    }

    pub async fn exchange(
        &self,
        integration: &dyn Configured,
        requests: &[VendorRequest],
        deadline: Instant,
    ) -> Sent {
        self.exchange_from(integration, requests, Vec::new(), deadline)
            .await
    }

    /// [`Self::exchange`] resuming after the steps in `done` (their answers, in order, from an
    /// earlier delivery that had to wait): those are not sent again, and later steps read their
    /// placeholders from them as if they had just been answered.
    pub async fn exchange_from(
        &self,
        integration: &dyn Configured,
        requests: &[VendorRequest],
        done: Vec<Delivered>,
        deadline: Instant,
    ) -> Sent {
        let skip = done.len().min(requests.len());
        let mut bodies: Vec<Option<Value>> = done.iter().map(|d| d.body.clone()).collect();
        let mut answers: Vec<Delivered> = done;
        answers.truncate(skip);
        bodies.truncate(skip);
        let mut retries = 0;
        for request in &requests[skip..] {
            let prepared = match self.prepare(integration, request, &bodies) {
                Ok(r) => r,
                Err(reason) => {
                    return Sent::Failed {
                        reason,
                        retries,
                        status: None,
                        credential_refused: false,
                        completed: answers.len(),
                        gone: false,
                    };
                }
            };
            let mut schedule = self.policy.schedule();
            let delivered = loop {
                let (after, reason) = match self.send_once(&prepared).await {
                    Ok(response) if (300..400).contains(&response.status) => {
                        return Sent::Failed {
                            reason: format!("{}: {}", prepared.step, redirect_reason(&response)),
                            retries,
                            status: Some(response.status),
                            credential_refused: false,
                            completed: answers.len(),
                            gone: false,
                        };
                    }
                    Ok(response) => match integration.classify(&prepared, &response) {
                        Outcome::Delivered(d) => break d,
                        Outcome::Fail(reason) => {
                            return Sent::Failed {
                                reason: format!("{}: {}", prepared.step, scrub(&reason, &prepared)),
                                retries,
                                status: Some(response.status),
                                // A webhook URL is the credential: 404 is a deleted webhook.
                                credential_refused: matches!(response.status, 401 | 403 | 404),
                                completed: answers.len(),
                                gone: false,
                            };
                        }
                        Outcome::CredentialRefused(reason) => {
                            return Sent::Failed {
                                reason: format!("{}: {}", prepared.step, scrub(&reason, &prepared)),
                                retries,
                                status: Some(response.status),
                                credential_refused: true,
                                completed: answers.len(),
                                gone: false,
                            };
                        }
                        Outcome::Gone(reason) => {
                            return Sent::Failed {
                                reason: format!("{}: {}", prepared.step, scrub(&reason, &prepared)),
                                retries,
                                status: Some(response.status),
                                credential_refused: false,
                                completed: answers.len(),
                                gone: true,
                            };
                        }
                        Outcome::Retry { after, reason } => (after, reason),
                    },
                    Err(transport) => (None, transport),
                };
                let reason = format!("{}: {}", prepared.step, scrub(&reason, &prepared));
                if prepared.repeat == Repeat::ViaQueue {
                    return Sent::Requeue {
                        // A minute at least: the redelivery's first steps must see what a lost
                        // request made (Jira's search index lags its writes by seconds).
                        after: after.unwrap_or_default().max(VIA_QUEUE_WAIT),
                        reason,
                        retries,
                        // Its contract: the exchange starts again from its first step (Jira's
                        // search finds what a lost create made).
                        done: Vec::new(),
                    };
                }
                let remaining = deadline.saturating_duration_since(Instant::now());
                match schedule.next(after, remaining) {
                    Next::Wait(wait) => {
                        retries += 1;
                        tracing::info!(integration = integration.name(), step = %prepared.step, reason = %reason, ?wait, "retrying");
                        tokio::time::sleep(wait).await;
                    }
                    Next::Requeue(after) => {
                        return Sent::Requeue {
                            after,
                            reason,
                            retries,
                            done: answers,
                        };
                    }
                }
            };
            bodies.push(delivered.body.clone());
            answers.push(delivered);
        }
        Sent::Delivered { answers, retries }
    }

    /// Placeholders filled from earlier answers, the host checked, then the endpoint override
    /// (which replaces scheme, host and port: the CLI's `--endpoint` and tests).
    fn prepare(
        &self,
        integration: &dyn Configured,
        request: &VendorRequest,
        bodies: &[Option<Value>],
    ) -> Result<VendorRequest, String> {
        let mut out = request.clone();
        if request.url.expose().contains("{{step:") {
            let url = substitute(request.url.expose(), bodies)?;
            out.url = match request.url {
                Text::Plain(_) => Text::Plain(url),
                Text::Secret(_) => Text::secret(&url),
            };
        }
        out.body = match &request.body {
            Body::Json(v) => Body::Json(substitute_json(v, bodies)?),
            Body::Form(pairs) => Body::Form(
                pairs
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), substitute(v, bodies)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        };
        // A URL already on the override's host (an upload URL a local fake handed out) goes
        // where the override sends everything anyway; every other URL must be the vendor's.
        if !self.is_endpoint(out.url.expose()) {
            integration
                .check_url(out.url.expose())
                .map_err(|why| format!("{}: {why}", request.step))?;
        }
        if let Some(base) = &self.endpoint {
            out.redirect(base)
                .map_err(|e| format!("{}: URL does not parse: {e}", request.step))?;
        }
        Ok(out)
    }

    fn is_endpoint(&self, url: &str) -> bool {
        let Some(base) = &self.endpoint else {
            return false;
        };
        url::Url::parse(url).is_ok_and(|u| {
            u.host_str() == base.host_str()
                && u.port_or_known_default() == base.port_or_known_default()
        })
    }

    async fn send_once(&self, request: &VendorRequest) -> Result<VendorResponse, String> {
        let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
            .map_err(|e| e.to_string())?;
        let mut builder = self.client.request(method, request.url.expose());
        if let Some(ct) = request.body.content_type() {
            builder = builder.header("content-type", ct);
        }
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.expose());
        }
        let response = builder
            .body(request.body.encode())
            .send()
            .await
            .map_err(|e| transport_reason(&e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = read_bounded(response).await?;
        Ok(VendorResponse {
            status,
            headers,
            body,
        })
    }
}

/// The body up to [`MAX_RESPONSE_BYTES`]; a larger answer is cut there (its JSON then does not
/// parse, and the classifier falls back to the status).
async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_reason(&e))? {
        let room = MAX_RESPONSE_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_RESPONSE_BYTES {
            break;
        }
    }
    Ok(body)
}

/// A vendor's answer is quoted in reasons (logs, dead letters); should it echo what it was sent
/// (an error page repeating the URL), the credential is cut out of it: the secret URL, its path
/// and query and their longer pieces, and every secret header value and its token.
fn scrub(reason: &str, request: &VendorRequest) -> String {
    let mut secrets: Vec<String> = Vec::new();
    if let Text::Secret(_) = &request.url {
        let url = request.url.expose();
        secrets.push(url.to_owned());
        if let Ok(parsed) = url::Url::parse(url) {
            secrets.push(parsed.path().to_owned());
            secrets.extend(parsed.query().map(str::to_owned));
            secrets.extend(
                parsed
                    .path_segments()
                    .into_iter()
                    .flatten()
                    .map(str::to_owned),
            );
            secrets.extend(parsed.query_pairs().map(|(_, v)| v.into_owned()));
        }
    }
    if let Body::SecretJson { secrets: body, .. } = &request.body {
        secrets.extend(body.iter().map(|(_, v)| v.expose_secret().to_owned()));
    }
    for (_, value) in &request.headers {
        if let Text::Secret(_) = value {
            let value = value.expose();
            secrets.push(value.to_owned());
            secrets.extend(value.split_whitespace().map(str::to_owned));
        }
    }
    // Longest first, so a whole URL goes before its pieces; short pieces (`api`, `v1`) are no
    // credential and would only make the reason unreadable.
    secrets.retain(|s| s.len() >= 8);
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = reason.to_owned();
    for secret in secrets {
        out = out.replace(&secret, "[REDACTED]");
    }
    out
}

/// A redirect is never followed: say where it pointed (the host only: a path may carry a token)
/// and what to do.
fn redirect_reason(response: &VendorResponse) -> String {
    let target = response
        .header("location")
        .and_then(|l| url::Url::parse(l).ok())
        .and_then(|u| u.host_str().map(str::to_owned))
        .map(|h| format!(" to `{h}`"))
        .unwrap_or_default();
    format!(
        "HTTP {} redirect{target} not followed: the configured URL is outdated or wrong; set the final URL in the config (redirects could leak the credential in the URL or drop the message body)",
        response.status
    )
}

/// reqwest puts the URL (a webhook URL is a credential) in its errors: strip it.
fn transport_reason(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "transport error"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    // The innermost cause says what happened (connection reset, closed before a response).
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}
