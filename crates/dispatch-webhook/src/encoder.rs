//! Envelope → one signed POST per envelope. The body is the envelope's JSON as is (or its flat
//! form), sent as the exact bytes that were signed; a digest of an alert storm becomes one
//! request per envelope in the same exchange, each with its own `webhook-id`, because a receiver
//! deduplicates and verifies per event, not per batch.

use std::time::{SystemTime, UNIX_EPOCH};

use costwatch_core::Notification;
use costwatch_dispatch::{
    Body, ConfigError, Message, Method, RenderError, Repeat, Text, VendorRequest,
};
use serde_json::Value;

use crate::config::{Destination, Payload};
use crate::{flat, signature};

pub const CONTENT_TYPE: &str = "application/json";

/// The requests for `message` to `destination`, signed at `timestamp` (Unix seconds).
pub fn requests(
    destination: &Destination,
    message: Message<'_>,
    timestamp: u64,
) -> Result<Vec<VendorRequest>, RenderError> {
    let url = destination.url.expose()?;
    let mut keys = Vec::new();
    for secret in &destination.signing_secrets {
        let found = signature::keys_in(secret.expose()?).map_err(|why| {
            RenderError::Config(ConfigError::Invalid(format!(
                "{}: {why}",
                secret.describe()
            )))
        })?;
        keys.extend(found);
    }
    message
        .envelopes()
        .iter()
        .map(|n| {
            let data = body(n, destination.payload)?;
            let signature = signature::header(&keys, &n.id, timestamp, &data);
            Ok(VendorRequest {
                step: "webhook".into(),
                method: Method::Post,
                url: Text::secret(url),
                headers: vec![
                    ("webhook-id".into(), Text::from(n.id.as_str())),
                    (
                        "webhook-timestamp".into(),
                        Text::from(timestamp.to_string()),
                    ),
                    ("webhook-signature".into(), Text::from(signature)),
                ],
                body: Body::Bytes {
                    content_type: CONTENT_TYPE.into(),
                    data,
                },
                // The receiver deduplicates on webhook-id: a repeat does no harm.
                repeat: Repeat::InPlace,
            })
        })
        .collect()
}

/// The bytes of the body: the envelope as is, or flat.
pub fn body(n: &Notification, payload: Payload) -> Result<Vec<u8>, RenderError> {
    let envelope = serde_json::to_value(n)
        .map_err(|e| RenderError::Unsupported(format!("envelope JSON: {e}")))?;
    let value = match payload {
        Payload::Envelope => envelope,
        Payload::Flat => Value::Object(flat::flatten(&envelope, &|s| s.to_owned())),
    };
    serde_json::to_vec(&value).map_err(|e| RenderError::Unsupported(format!("body JSON: {e}")))
}

/// Now, in Unix seconds: the attempt's `webhook-timestamp` (the dispatcher renders every
/// attempt anew, so a retry from the queue is signed afresh).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
