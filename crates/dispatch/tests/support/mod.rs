//! A minimal webhook integration for the framework's own tests (the real ones depend on this
//! crate, so its tests cannot use them): `hooks.example.com` is its pinned host, the whole URL
//! is the credential, and it posts the envelope's id as JSON.

// Each test binary uses part of this module.
#![allow(dead_code)]
use std::sync::{Arc, Mutex, PoisonError};

use costwatch_dispatch::{
    Integration, Message, RateLimit, RenderContext, RenderError, Secret, Text, VendorRequest,
    WebhookConfig, WebhookDestination,
};
use costwatch_vendor_fakes::server::{Received, Reply, Vendor};
use serde::Deserialize;
use serde_json::json;

pub struct Hook;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    pub webhook_url: Secret,
}

impl WebhookDestination for Destination {
    const TABLE: &'static str = "hook";

    fn webhook_url(&self) -> &Secret {
        &self.webhook_url
    }

    fn webhook_url_mut(&mut self) -> &mut Secret {
        &mut self.webhook_url
    }

    fn check_url(_url: &str) -> Result<(), String> {
        Ok(())
    }
}

impl Integration for Hook {
    type Config = WebhookConfig<Destination>;
    const NAME: &'static str = "hook";
    const RATE_LIMIT: RateLimit = RateLimit::per_second(1000);
    const ALLOWED_HOSTS: &'static [&'static str] = &["hooks.example.com"];

    fn render(
        config: &Self::Config,
        destination: &str,
        message: Message<'_>,
        _context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = &config.destinations[destination];
        let ids: Vec<&str> = message.envelopes().iter().map(|n| n.id.as_str()).collect();
        Ok(vec![VendorRequest::post_json(
            "webhook",
            Text::secret(d.webhook_url.expose()?),
            json!({"ids": ids}),
        )])
    }
}

/// A webhook endpoint that accepts posts to `/hook/<token>` for its current token only (404
/// otherwise, as a deleted or regenerated webhook answers), or gives one fixed reply.
#[derive(Default)]
pub struct Endpoint {
    token: Mutex<String>,
    fixed: Mutex<Option<Reply>>,
}

impl Endpoint {
    pub fn accepting(token: &str) -> Arc<Self> {
        let e = Self::default();
        *e.token.lock().unwrap() = token.to_owned();
        Arc::new(e)
    }

    pub fn replying(reply: Reply) -> Arc<Self> {
        let e = Self::default();
        *e.fixed.lock().unwrap() = Some(reply);
        Arc::new(e)
    }

    /// Answers `reply` to everything from now on, or (`None`) goes back to checking the token.
    pub fn answer(&self, reply: Option<Reply>) {
        *self.fixed.lock().unwrap_or_else(PoisonError::into_inner) = reply;
    }

    /// The webhook was regenerated: only `token` works from now on.
    pub fn rotate(&self, token: &str) {
        *self.token.lock().unwrap_or_else(PoisonError::into_inner) = token.to_owned();
    }
}

impl Vendor for Endpoint {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        if let Some(reply) = self
            .fixed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return reply;
        }
        let token = self
            .token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if request.path == format!("/hook/{token}") {
            Reply::json(200, json!({"ok": true}))
        } else {
            Reply::json(404, json!({"message": "Unknown Webhook"}))
        }
    }
}

pub fn url(token: &str) -> String {
    format!("https://hooks.example.com/hook/{token}")
}
