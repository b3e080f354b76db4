//! The offline checks: everything an integration renders — every sample kind and variant, a
//! hostile copy of each for every value of [`HOSTILE`], and digests of them — is within the
//! vendor's size limit, passes the vendor's own check, shows no mention or bidi control, and
//! prints no credential.

use costwatch_core::Notification;
use costwatch_dispatch::escape::HOSTILE;
use costwatch_dispatch::{Body, Configured, Message, PartData, RenderContext, VendorRequest};
use serde_json::{Value, json};

use crate::envelopes::{hostile_copy, objects_of, variants};
use crate::{Conformance, Sends};

/// What a message was (for failure messages) and what rendering it gave.
type Rendered = (String, Result<Vec<VendorRequest>, String>);

/// Renders every case through the loaded integration, as the dispatcher does.
pub fn render_all(suite: &Conformance) -> Vec<Rendered> {
    render_all_of(Sends::Envelopes, suite)
}

/// The context the dispatcher gives `message`: the lake objects it names (see
/// [`objects_of`]).
fn context_of(configured: &dyn Configured, message: Message<'_>) -> RenderContext {
    RenderContext {
        objects: objects_of(configured, message.envelopes()),
        ..RenderContext::default()
    }
}

/// The variants `sends` renders requests for: all, or for an archive those naming lake objects.
fn sending_variants(sends: Sends, configured: &dyn Configured) -> Vec<(String, Notification)> {
    variants()
        .into_iter()
        .filter(|(_, n)| {
            sends == Sends::Envelopes || !configured.objects(Message::One(n)).is_empty()
        })
        .collect()
}

/// Every case `sends` renders requests for, rendered through the loaded integration.
pub fn render_all_of(sends: Sends, suite: &Conformance) -> Vec<Rendered> {
    let configured = suite.configured();
    let render = |message: Message<'_>| {
        configured
            .render(
                suite.destination,
                message,
                &context_of(configured.as_ref(), message),
            )
            .map_err(|e| e.to_string())
    };
    let plain = sending_variants(sends, configured.as_ref());
    let mut out: Vec<Rendered> = Vec::new();
    for (label, n) in &plain {
        out.push((label.clone(), render(Message::One(n))));
    }
    let envelopes: Vec<Notification> = plain.iter().map(|(_, n)| n.clone()).collect();
    out.push((
        format!("digest of {}", envelopes.len()),
        render(Message::Digest(&envelopes)),
    ));
    for hostile in HOSTILE {
        let copies: Vec<Notification> =
            envelopes.iter().map(|n| hostile_copy(n, hostile)).collect();
        for ((label, _), n) in plain.iter().zip(&copies) {
            out.push((format!("{label} with {hostile:?}"), render(Message::One(n))));
        }
        out.push((
            format!("digest with {hostile:?}"),
            render(Message::Digest(&copies)),
        ));
    }
    out
}

/// Every integration declares `READS_LAKE` exactly when its `objects` names some lake object;
/// an archive's other check: every variant that names no lake object renders no request.
fn silent_failures(sends: Sends, suite: &Conformance) -> Vec<String> {
    let configured = suite.configured();
    let named = variants()
        .iter()
        .any(|(_, n)| !configured.objects(Message::One(n)).is_empty());
    // Its Lambda builds an S3 client only for an integration that declares it reads the lake.
    let mut failures = Vec::new();
    if named != configured.reads_lake() {
        failures.push(format!(
            "objects() names lake objects: {named}, but READS_LAKE is {}",
            configured.reads_lake()
        ));
    }
    if sends == Sends::Envelopes {
        return failures;
    }
    let silent = variants()
        .into_iter()
        .filter(|(_, n)| configured.objects(Message::One(n)).is_empty())
        .filter_map(|(label, n)| {
            match configured.render(
                suite.destination,
                Message::One(&n),
                &RenderContext::default(),
            ) {
                Ok(r) if r.is_empty() => None,
                Ok(r) => Some(format!(
                    "{label}: names no lake object but rendered {} requests",
                    r.len()
                )),
                Err(e) => Some(format!(
                    "{label}: names no lake object but failed to render: {e}"
                )),
            }
        });
    failures.extend(silent);
    failures
}

/// The sample a single-message check renders: the anomaly, or for an archive the report.
fn sample_of(sends: Sends) -> Notification {
    costwatch_core::samples::of_kind(match sends {
        Sends::Envelopes => "anomaly",
        Sends::Archive => "report",
    })
}

/// Check (1): every rendering succeeds, every request is within `max_body_bytes` and passes
/// `validate`, and no JSON text in it holds an unbroken `@everyone`/`@here` or a bidi override
/// or bell (control characters a hostile value brought). Returns how many requests were checked.
pub fn renders_valid_within_limits(suite: &Conformance) -> usize {
    renders_valid_within_limits_of(Sends::Envelopes, suite)
}

/// [`renders_valid_within_limits`] for what `sends` renders; an archive must also render no
/// request for the envelopes that name no lake object.
pub fn renders_valid_within_limits_of(sends: Sends, suite: &Conformance) -> usize {
    let mut failures = silent_failures(sends, suite);
    let mut checked = 0;
    let mut largest = 0;
    for (label, rendered) in render_all_of(sends, suite) {
        let requests = match rendered {
            Ok(r) if r.is_empty() => {
                failures.push(format!("{label}: rendered no request"));
                continue;
            }
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{label}: render failed: {e}"));
                continue;
            }
        };
        for (i, request) in requests.iter().enumerate() {
            let at = format!("{label}, request {i} ({})", request.step);
            let size = request.body.encode().len();
            largest = largest.max(size);
            if size > suite.max_body_bytes {
                failures.push(format!(
                    "{at}: {size} bytes, over the limit of {}",
                    suite.max_body_bytes
                ));
            }
            if let Err(why) = (suite.validate)(request) {
                failures.push(format!("{at}: the vendor's check refuses it: {why}"));
            }
            for text in json_texts(&request.body) {
                if let Some(bad) = ["@everyone", "@here", "\u{202E}", "\u{7}"]
                    .iter()
                    .find(|b| text.contains(**b))
                {
                    failures.push(format!("{at}: {bad:?} survived in {text:?}"));
                }
            }
            checked += 1;
        }
    }
    finish("render", &failures, checked);
    eprintln!(
        "largest body: {largest} bytes of {} allowed",
        suite.max_body_bytes
    );
    checked
}

/// Check (2), offline: each secret is part of what the requests carry (so looking for it
/// means something), and none appears in a request's printable form (`costwatch render`) or
/// its `Debug`.
pub fn prints_no_secret(suite: &Conformance) -> usize {
    prints_no_secret_of(Sends::Envelopes, suite)
}

/// [`prints_no_secret`] for what `sends` renders.
pub fn prints_no_secret_of(sends: Sends, suite: &Conformance) -> usize {
    assert!(
        !suite.secrets.is_empty(),
        "name the credential substrings that must never be printed"
    );
    let configured = suite.configured();
    let sample = sample_of(sends);
    let message = Message::One(&sample);
    let requests = configured
        .render(
            suite.destination,
            message,
            &context_of(configured.as_ref(), message),
        )
        .expect("the sample renders");
    for secret in suite.secrets {
        let carried = requests.iter().any(|r| {
            r.url.expose().contains(secret)
                || r.headers.iter().any(|(_, v)| v.expose().contains(secret))
                || String::from_utf8_lossy(&r.body.encode()).contains(secret)
        });
        assert!(
            carried,
            "secret {secret:?} is not in the URL, headers or body the requests carry: checking its absence would prove nothing"
        );
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for (label, rendered) in render_all_of(sends, suite) {
        let Ok(requests) = rendered else { continue };
        for request in &requests {
            let printed = request.printable().to_string();
            let debug = format!("{request:?}");
            for secret in suite.secrets {
                if printed.contains(secret) {
                    failures.push(format!("{label}: {secret:?} printed in {printed}"));
                }
                if debug.contains(secret) {
                    failures.push(format!("{label}: {secret:?} in the request's Debug"));
                }
            }
            checked += 1;
        }
    }
    finish("secrets in render output", &failures, checked);
    checked
}

/// The suite's check of itself: `validate` must refuse a message whose JSON is `{}` (in the
/// body, or in a multipart's `payload_json`), or every other check of it proves nothing.
pub fn validate_rejects_an_empty_message(suite: &Conformance) {
    validate_rejects_an_empty_message_of(Sends::Envelopes, suite);
}

/// [`validate_rejects_an_empty_message`]; for an archive, whose requests carry files rather than
/// messages, the emptied request is its first with a body, without headers or body.
pub fn validate_rejects_an_empty_message_of(sends: Sends, suite: &Conformance) {
    let configured = suite.configured();
    let sample = sample_of(sends);
    let message = Message::One(&sample);
    let requests = configured
        .render(
            suite.destination,
            message,
            &context_of(configured.as_ref(), message),
        )
        .expect("the sample renders");
    let mut request = match sends {
        Sends::Envelopes => requests[0].clone(),
        Sends::Archive => requests
            .iter()
            .find(|r| !matches!(r.body, Body::Empty))
            .expect("an archive request with a body")
            .clone(),
    };
    (suite.validate)(&request).expect("validate accepts the rendered sample");
    if sends == Sends::Archive {
        request.headers.clear();
        request.body = Body::Empty;
    }
    match &mut request.body {
        Body::Empty if sends == Sends::Archive => {}
        Body::Json(v) | Body::SecretJson { json: v, .. } => *v = json!({}),
        // Signed webhook bodies are JSON sent as the exact bytes that were signed.
        Body::Bytes { content_type, data } if content_type.starts_with("application/json") => {
            *data = b"{}".to_vec();
        }
        Body::Multipart(parts) => {
            for part in parts.iter_mut().filter(|p| p.name == "payload_json") {
                part.data = PartData::Json(json!({}));
            }
        }
        other => panic!("the first request of a message should carry JSON, not {other:?}"),
    }
    assert!(
        (suite.validate)(&request).is_err(),
        "validate accepted an empty message: it checks nothing"
    );
}

/// Every string in the JSON a request carries (the body with its secrets redacted, or a
/// multipart's JSON parts); files and forms are not messages a vendor parses for mentions.
fn json_texts(body: &Body) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k.clone());
                walk(v, out);
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(v) = body.json() {
        walk(v, &mut out);
    }
    if let Body::Multipart(parts) = body {
        for part in parts {
            if let PartData::Json(v) = &part.data {
                walk(v, &mut out);
            }
        }
    }
    out
}

fn finish(what: &str, failures: &[String], checked: usize) {
    assert!(checked > 0, "{what}: no request was checked");
    assert!(
        failures.is_empty(),
        "{what}: {} of the checks failed over {checked} requests; the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("{what}: {checked} requests checked");
}
