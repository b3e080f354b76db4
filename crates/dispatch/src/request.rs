//! What `render` produces: vendor requests as data, so a payload can be printed, checked against
//! a schema or sent, and only the sender does I/O.
//!
//! A request of a multi-step exchange (Slack's file upload: get an upload URL, send the bytes,
//! complete) may refer to an earlier step's JSON response with a [`from_step`] placeholder in its
//! URL or in any JSON string; the sender substitutes it before sending.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Value, json};

pub const REDACTED: &str = "[REDACTED]";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// A URL or header value that may carry a credential (a webhook URL is one).
#[derive(Debug, Clone)]
pub enum Text {
    Plain(String),
    Secret(SecretString),
}

impl Text {
    pub fn secret(value: &str) -> Self {
        Self::Secret(SecretString::from(value.to_owned()))
    }

    /// The real value, for the sender only.
    pub fn expose(&self) -> &str {
        match self {
            Self::Plain(s) => s,
            Self::Secret(s) => s.expose_secret(),
        }
    }

    fn printable_header(&self) -> String {
        match self {
            Self::Plain(s) => s.clone(),
            Self::Secret(_) => REDACTED.to_owned(),
        }
    }

    /// A secret URL prints as its origin and a redacted path: where it goes, not how to post there.
    fn printable_url(&self) -> String {
        match self {
            Self::Plain(s) => s.clone(),
            Self::Secret(s) => match url::Url::parse(s.expose_secret()) {
                Ok(u) => format!("{}/{REDACTED}", u.origin().ascii_serialization()),
                Err(_) => REDACTED.to_owned(),
            },
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self::Plain(s.to_owned())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self::Plain(s)
    }
}

#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Value),
    /// JSON that carries a credential in a field (PagerDuty's Events API takes its routing key in
    /// the body). `json` holds [`REDACTED`] at each JSON pointer of `secrets`, so printing,
    /// `Debug` and checks of the JSON never see a value; only [`Body::encode`] (the bytes on the
    /// wire) writes them in. Built with [`Body::json_with_secret`].
    SecretJson {
        json: Value,
        secrets: Vec<(String, SecretString)>,
    },
    /// `application/x-www-form-urlencoded`
    Form(Vec<(String, String)>),
    Bytes {
        content_type: String,
        data: Vec<u8>,
    },
    /// `multipart/form-data` (Discord attachments): encoded by [`Body::encode`].
    Multipart(Vec<Part>),
}

#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: String,
    pub data: PartData,
}

#[derive(Debug, Clone)]
pub enum PartData {
    Json(Value),
    Bytes(Vec<u8>),
}

impl PartData {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Self::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            Self::Bytes(b) => b.clone(),
        }
    }
}

/// One HTTP request to a vendor.
#[derive(Debug, Clone)]
pub struct VendorRequest {
    /// What this step is, for logs and the ledger (`chat.postMessage`, `webhook`, `upload`).
    pub step: String,
    pub method: Method,
    pub url: Text,
    /// Extra headers; `content-type` comes from the body.
    pub headers: Vec<(String, Text)>,
    pub body: Body,
    /// How a failure whose outcome is unknown (timeout, dropped connection, 5xx) is retried.
    pub repeat: Repeat,
}

/// How a failed request is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Repeat {
    /// At once, with backoff, inside the invocation: for requests the vendor deduplicates or
    /// that do no harm twice (a webhook post keyed by our ledger, an update). When the
    /// invocation's attempts run out, the queue's redelivery resumes after the steps done.
    #[default]
    InPlace,
    /// Only through the queue: the whole exchange starts again from its first step. For a request
    /// the vendor cannot deduplicate whose earlier steps find what it made (Jira: the search by
    /// label before the create), so a create whose answer was lost is found, not made twice.
    ViaQueue,
}

impl VendorRequest {
    pub fn post_json(step: &str, url: Text, body: Value) -> Self {
        Self {
            step: step.to_owned(),
            method: Method::Post,
            url,
            headers: Vec::new(),
            body: Body::Json(body),
            repeat: Repeat::InPlace,
        }
    }

    /// Retried only through the queue (see [`Repeat::ViaQueue`]).
    pub fn repeat_via_queue(mut self) -> Self {
        self.repeat = Repeat::ViaQueue;
        self
    }

    pub fn header(mut self, name: &str, value: Text) -> Self {
        self.headers.push((name.to_owned(), value));
        self
    }

    /// `{"method","url","headers","body"}` with every secret redacted: what `costwatch render`
    /// prints. `body` is the JSON itself for JSON requests.
    pub fn printable(&self) -> Value {
        let mut headers = serde_json::Map::new();
        if let Some(ct) = self.body.content_type() {
            headers.insert("content-type".into(), Value::String(ct));
        }
        for (name, value) in &self.headers {
            headers.insert(
                name.to_ascii_lowercase(),
                Value::String(value.printable_header()),
            );
        }
        json!({
            "method": self.method.as_str(),
            "url": self.url.printable_url(),
            "headers": headers,
            "body": self.body.printable(),
        })
    }

    /// Sends to `base`'s scheme, host and port instead, keeping path and query (`notify
    /// --endpoint`, tests against a fake). A secret URL stays secret.
    pub fn redirect(&mut self, base: &url::Url) -> Result<(), url::ParseError> {
        let mut target = url::Url::parse(self.url.expose())?;
        // Placeholder URLs (`{{step:…}}`) are redirected after substitution by the sender.
        let _ = target.set_scheme(base.scheme());
        let _ = target.set_host(base.host_str());
        let _ = target.set_port(base.port_or_known_default());
        let redirected = target.to_string();
        self.url = match self.url {
            Text::Plain(_) => Text::Plain(redirected),
            Text::Secret(_) => Text::Secret(SecretString::from(redirected)),
        };
        Ok(())
    }
}

impl Body {
    /// `json` with `value` as a secret at `pointer` (`/routing_key`): the member is set to
    /// [`REDACTED`] (added when its parent object lacks it) and `value` kept aside for the wire.
    pub fn json_with_secret(mut json: Value, pointer: &str, value: &str) -> Self {
        set_pointer(&mut json, pointer, Value::String(REDACTED.to_owned()));
        Self::SecretJson {
            json,
            secrets: vec![(pointer.to_owned(), SecretString::from(value.to_owned()))],
        }
    }

    /// The JSON of a JSON body as it may be printed and checked (secrets redacted).
    pub fn json(&self) -> Option<&Value> {
        match self {
            Self::Json(v) | Self::SecretJson { json: v, .. } => Some(v),
            _ => None,
        }
    }

    pub fn content_type(&self) -> Option<String> {
        match self {
            Self::Empty => None,
            Self::Json(_) | Self::SecretJson { .. } => {
                Some("application/json; charset=utf-8".into())
            }
            Self::Form(_) => Some("application/x-www-form-urlencoded".into()),
            Self::Bytes { content_type, .. } => Some(content_type.clone()),
            Self::Multipart(parts) => {
                Some(format!("multipart/form-data; boundary={}", boundary(parts)))
            }
        }
    }

    /// The bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Empty => Vec::new(),
            Self::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            Self::SecretJson { json, secrets } => {
                let mut wire = json.clone();
                for (pointer, value) in secrets {
                    set_pointer(
                        &mut wire,
                        pointer,
                        Value::String(value.expose_secret().into()),
                    );
                }
                serde_json::to_vec(&wire).unwrap_or_default()
            }
            Self::Form(pairs) => url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
                .into_bytes(),
            Self::Bytes { data, .. } => data.clone(),
            Self::Multipart(parts) => encode_multipart(parts),
        }
    }

    fn printable(&self) -> Value {
        match self {
            Self::Empty => Value::Null,
            Self::Json(v) | Self::SecretJson { json: v, .. } => v.clone(),
            Self::Form(_) | Self::Bytes { .. } => bytes_printable(&self.encode()),
            Self::Multipart(parts) => Value::Array(
                parts
                    .iter()
                    .map(|p| {
                        json!({
                            "name": p.name,
                            "filename": p.filename,
                            "content_type": p.content_type,
                            "body": match &p.data {
                                PartData::Json(v) => v.clone(),
                                PartData::Bytes(b) => bytes_printable(b),
                            },
                        })
                    })
                    .collect(),
            ),
        }
    }
}

/// Sets the member at JSON `pointer`, adding it to its parent object if missing.
fn set_pointer(json: &mut Value, pointer: &str, value: Value) {
    if let Some(slot) = json.pointer_mut(pointer) {
        *slot = value;
        return;
    }
    if let Some((parent, key)) = pointer.rsplit_once('/')
        && let Some(map) = json.pointer_mut(parent).and_then(Value::as_object_mut)
    {
        map.insert(key.replace("~1", "/").replace("~0", "~"), value);
    }
}

fn bytes_printable(data: &[u8]) -> Value {
    match std::str::from_utf8(data) {
        Ok(text) => Value::String(text.to_owned()),
        Err(_) => json!({ "bytes": data.len() }),
    }
}

/// Deterministic, so `render` is reproducible; derived from the content, so it cannot occur in it.
fn boundary(parts: &[Part]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for p in parts {
        hash.update(p.name.as_bytes());
        hash.update(p.data.bytes());
    }
    format!("costwatch-{}", &hex::encode(hash.finalize())[..32])
}

fn encode_multipart(parts: &[Part]) -> Vec<u8> {
    let boundary = boundary(parts);
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
        if let Some(file) = &p.filename {
            disposition.push_str(&format!("; filename=\"{}\"", file.replace('"', "")));
        }
        out.extend_from_slice(disposition.as_bytes());
        out.extend_from_slice(format!("\r\nContent-Type: {}\r\n\r\n", p.content_type).as_bytes());
        out.extend_from_slice(&p.data.bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// A placeholder for the string at JSON `pointer` in the response to step `step` (0-based) of the
/// same exchange, e.g. `from_step(0, "/upload_url")`.
pub fn from_step(step: usize, pointer: &str) -> String {
    format!("{{{{step:{step}:{pointer}}}}}")
}

/// Replaces every placeholder in `text` from `responses`; `Err` names a missing one.
pub fn substitute(text: &str, responses: &[Option<Value>]) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{step:") {
        out.push_str(&rest[..start]);
        let tail = &rest[start + 7..];
        let end = tail
            .find("}}")
            .ok_or_else(|| format!("unclosed placeholder in {text}"))?;
        let (step, pointer) = tail[..end]
            .split_once(':')
            .ok_or_else(|| format!("bad placeholder in {text}"))?;
        let value = step
            .parse::<usize>()
            .ok()
            .and_then(|i| responses.get(i))
            .and_then(Option::as_ref)
            .and_then(|v| v.pointer(pointer))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("step {step} returned no {pointer}"))?;
        out.push_str(value);
        rest = &tail[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// [`substitute`] over every string of a JSON value.
pub fn substitute_json(value: &Value, responses: &[Option<Value>]) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) if s.contains("{{step:") => Value::String(substitute(s, responses)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute_json(v, responses))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute_json(v, responses)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printing_redacts_secret_urls_and_headers() {
        let req = VendorRequest::post_json(
            "webhook",
            Text::secret("https://hooks.slack.com/services/T1/B2/s3cr3t"),
            json!({"text": "hi"}),
        )
        .header("Authorization", Text::secret("Bearer xoxb-s3cr3t"));
        let printed = req.printable();
        let text = printed.to_string();
        assert!(!text.contains("s3cr3t"), "{text}");
        assert_eq!(printed["url"], "https://hooks.slack.com/[REDACTED]");
        assert_eq!(printed["headers"]["authorization"], REDACTED);
        assert_eq!(printed["body"], json!({"text": "hi"}));
        assert_eq!(printed["method"], "POST");
    }

    #[test]
    fn a_secret_in_a_json_body_reaches_only_the_wire() {
        let body = Body::json_with_secret(
            json!({"event_action": "trigger", "payload": {"summary": "x"}}),
            "/routing_key",
            "R0s3cr3tkey",
        );
        let req = VendorRequest {
            body,
            ..VendorRequest::post_json(
                "enqueue",
                "https://events.pagerduty.com/v2/enqueue".into(),
                json!({}),
            )
        };
        let printed = req.printable().to_string();
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(!format!("{req:?}").contains("s3cr3t"));
        assert_eq!(req.printable()["body"]["routing_key"], REDACTED);
        assert_eq!(req.body.json().unwrap()["routing_key"], REDACTED);
        let wire: Value = serde_json::from_slice(&req.body.encode()).unwrap();
        assert_eq!(wire["routing_key"], "R0s3cr3tkey");
        assert_eq!(wire["payload"]["summary"], "x");
        assert_eq!(
            req.body.content_type().unwrap(),
            "application/json; charset=utf-8"
        );
    }

    #[test]
    fn redirect_keeps_the_path_and_the_secrecy() {
        let mut req = VendorRequest::post_json(
            "webhook",
            Text::secret("https://hooks.slack.com/services/T1/B2/s3cr3t?x=1"),
            json!({}),
        );
        req.redirect(&url::Url::parse("http://127.0.0.1:4567").unwrap())
            .unwrap();
        assert_eq!(
            req.url.expose(),
            "http://127.0.0.1:4567/services/T1/B2/s3cr3t?x=1"
        );
        assert!(matches!(req.url, Text::Secret(_)));
    }

    #[test]
    fn placeholders_come_from_earlier_responses() {
        let responses = vec![Some(
            json!({"upload_url": "https://files.slack.com/up/1", "file_id": "F1"}),
        )];
        assert_eq!(
            substitute(&from_step(0, "/upload_url"), &responses).unwrap(),
            "https://files.slack.com/up/1"
        );
        let body = json!({"files": [{"id": from_step(0, "/file_id")}]});
        assert_eq!(
            substitute_json(&body, &responses).unwrap(),
            json!({"files": [{"id": "F1"}]})
        );
        assert!(substitute(&from_step(1, "/x"), &responses).is_err());
    }

    #[test]
    fn multipart_bodies_have_a_boundary_absent_from_the_parts() {
        let body = Body::Multipart(vec![
            Part {
                name: "payload_json".into(),
                filename: None,
                content_type: "application/json".into(),
                data: PartData::Json(json!({"content": "x"})),
            },
            Part {
                name: "files[0]".into(),
                filename: Some("chart.svg".into()),
                content_type: "image/svg+xml".into(),
                data: PartData::Bytes(b"<svg/>".to_vec()),
            },
        ]);
        let ct = body.content_type().unwrap();
        let boundary = ct.split("boundary=").nth(1).unwrap();
        let wire = String::from_utf8(body.encode()).unwrap();
        assert_eq!(wire.matches(boundary).count(), 3);
        assert!(wire.contains("filename=\"chart.svg\""));
        assert!(wire.ends_with(&format!("--{boundary}--\r\n")));
    }
}
