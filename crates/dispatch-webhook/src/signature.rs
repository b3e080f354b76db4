//! Standard Webhooks signatures (`/work/shared/specs/standard-webhooks`, "Signature scheme"):
//! HMAC-SHA256 with the key the `whsec_` secret's base64 holds, over `{id}.{timestamp}.{body}`,
//! sent as `v1,<base64>`. During a secret rotation every secret signs and the signatures go
//! space-separated in one `webhook-signature` header; a receiver accepts the message when any of
//! them verifies.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const PREFIX: &str = "whsec_";
/// The spec's bounds for a symmetric secret, in bytes.
pub const MIN_KEY_BYTES: usize = 24;
pub const MAX_KEY_BYTES: usize = 64;

/// The HMAC key of a `whsec_` secret; the error never quotes the secret.
pub fn key_of(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret
        .trim()
        .strip_prefix(PREFIX)
        .ok_or_else(|| format!("a signing secret must start with `{PREFIX}`"))?;
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| format!("the part after `{PREFIX}` of a signing secret is not base64"))?;
    if !(MIN_KEY_BYTES..=MAX_KEY_BYTES).contains(&key.len()) {
        return Err(format!(
            "a signing secret must hold {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes (it holds {})",
            key.len()
        ));
    }
    Ok(key)
}

/// The secrets in `value`: one `whsec_…`, or several separated by spaces while one is being
/// rotated (the new one first); each must be a valid secret.
pub fn keys_in(value: &str) -> Result<Vec<Vec<u8>>, String> {
    let keys: Vec<Vec<u8>> = value
        .split_whitespace()
        .map(key_of)
        .collect::<Result<_, _>>()?;
    if keys.is_empty() {
        return Err("the signing secret is empty".into());
    }
    Ok(keys)
}

/// One `v1,<base64>` signature of `{id}.{timestamp}.{body}` with `key`.
pub fn sign(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per key, space-separated.
pub fn header(keys: &[Vec<u8>], id: &str, timestamp: u64, body: &[u8]) -> String {
    keys.iter()
        .map(|k| sign(k, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_checked_without_being_quoted() {
        for bad in [
            "C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "whsec_not base64!",
            "whsec_c2hvcnQ=",
            "",
        ] {
            let err = keys_in(bad).unwrap_err();
            assert!(bad.is_empty() || !err.contains(bad), "{err}");
        }
        let two = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert_eq!(keys_in(two).unwrap().len(), 2);
    }
}
