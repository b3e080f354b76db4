//! Standard Webhooks signatures: the spec's published TEST_VECTOR, several signatures during a
//! rotation (a receiver holding either secret verifies), the flat form, one signed request per
//! envelope of a digest, and no signing secret in anything printed.

mod support;

use costwatch_core::shared::shared_path;
use costwatch_dispatch::{Message, RenderContext, entry};
use costwatch_dispatch_webhook::{Webhook, signature};
use costwatch_vendor_fakes::standard_webhooks::Receiver;
use serde_json::json;
use support::{OLD_SECRET, SECRET, TOKEN};

/// `name: value` lines of `specs/standard-webhooks/TEST_VECTOR.txt`.
fn vector(name: &str) -> String {
    let text = std::fs::read_to_string(shared_path("specs/standard-webhooks/TEST_VECTOR.txt"))
        .expect("the published test vector (COSTWATCH_SHARED)");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| {
            v.trim()
                .split("   ")
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|| panic!("{name} in TEST_VECTOR.txt"))
}

#[test]
fn the_published_test_vector_verifies() {
    let key = signature::key_of(&vector("secret")).unwrap();
    let timestamp: u64 = vector("webhook-timestamp").parse().unwrap();
    let signed = signature::sign(
        &key,
        &vector("webhook-id"),
        timestamp,
        vector("body").as_bytes(),
    );
    assert_eq!(signed, vector("webhook-signature"));
    // One byte of the body changed: another signature.
    let tampered = vector("body").replace("test_user", "test_usr");
    assert_ne!(
        signature::sign(&key, &vector("webhook-id"), timestamp, tampered.as_bytes()),
        signed
    );
}

fn config(secrets: serde_json::Value, payload: &str) -> serde_json::Value {
    json!({"destinations": {"ops": {
        "url": format!("https://hooks.example.com/costwatch/{TOKEN}"),
        "signing_secrets": secrets,
        "payload": payload,
    }}})
}

#[test]
fn during_a_rotation_every_secret_signs_and_either_receiver_verifies() {
    let sample = costwatch_core::samples::of_kind("anomaly");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Both forms of a rotation: two secrets listed, or one stored value holding both.
    for secrets in [
        json!([SECRET, OLD_SECRET]),
        json!([format!("{SECRET} {OLD_SECRET}")]),
    ] {
        let configured = entry::<Webhook>()
            .load(config(secrets, "envelope"))
            .unwrap();
        let requests = configured
            .render("ops", Message::One(&sample), &RenderContext::default())
            .unwrap();
        let received = support::received(&requests[0]);
        let header = received.header("webhook-signature").unwrap();
        assert_eq!(header.split(' ').count(), 2, "{header}");
        assert!(header.split(' ').all(|s| s.starts_with("v1,")), "{header}");
        for secret in [SECRET, OLD_SECRET] {
            Receiver::new(secret).verify(&received, now).unwrap();
        }
        // A receiver with some other secret refuses it.
        let other = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX";
        assert!(Receiver::new(other).verify(&received, now).is_err());
        // An old timestamp is a replay.
        assert!(Receiver::new(SECRET).verify(&received, now + 3600).is_err());
    }
}

#[test]
fn the_envelope_goes_as_is_or_flat_and_a_digest_is_one_request_per_envelope() {
    let schema = support::envelope_schema();
    let samples = costwatch_core::samples::envelopes();
    let as_is = entry::<Webhook>()
        .load(config(json!([SECRET]), "envelope"))
        .unwrap();
    let flat = entry::<Webhook>()
        .load(config(json!([SECRET]), "flat"))
        .unwrap();
    for n in &samples {
        let r = as_is
            .render("ops", Message::One(n), &RenderContext::default())
            .unwrap();
        let body = support::body_json(&r[0]);
        assert_eq!(body, serde_json::to_value(n).unwrap(), "as is");
        assert!(schema.is_valid(&body));
        let r = flat
            .render("ops", Message::One(n), &RenderContext::default())
            .unwrap();
        let body = support::body_json(&r[0]);
        let object = body.as_object().unwrap();
        assert!(
            object.values().all(|v| !v.is_object() && !v.is_array()),
            "{body}"
        );
        assert_eq!(body["id"], n.id.as_str());
        assert_eq!(body["scope__label"], n.scope.label.as_str());
        assert_eq!(
            support::received(&r[0]).header("webhook-id"),
            Some(n.id.as_str())
        );
    }
    let digest = as_is
        .render("ops", Message::Digest(&samples), &RenderContext::default())
        .unwrap();
    let ids: Vec<String> = digest
        .iter()
        .map(|r| {
            support::received(r)
                .header("webhook-id")
                .unwrap()
                .to_owned()
        })
        .collect();
    let expected: Vec<String> = samples.iter().map(|n| n.id.clone()).collect();
    assert_eq!(ids, expected);
}

#[test]
fn no_signing_secret_in_render_output_debug_or_config_errors() {
    let configured = entry::<Webhook>()
        .load(config(json!([SECRET, OLD_SECRET]), "envelope"))
        .unwrap();
    let sample = costwatch_core::samples::of_kind("budget");
    let requests = configured
        .render("ops", Message::One(&sample), &RenderContext::default())
        .unwrap();
    let key_part = |s: &str| s.trim_start_matches("whsec_").to_owned();
    for r in &requests {
        let shown = format!("{} {r:?}", r.printable());
        for s in [SECRET, OLD_SECRET] {
            assert!(!shown.contains(&key_part(s)), "{shown}");
        }
        assert!(!shown.contains(TOKEN), "{shown}");
    }
    // A malformed secret is refused at load without being quoted.
    let bad = "whsec_bm90LWxvbmctZW5vdWdo";
    let err = entry::<Webhook>()
        .load(config(json!([bad]), "envelope"))
        .err()
        .expect("a 16-byte secret is refused")
        .to_string();
    assert!(
        err.contains("24 to 64 bytes") && !err.contains(&key_part(bad)),
        "{err}"
    );
    let err = entry::<Webhook>()
        .load(config(json!(["s3cr3t-without-prefix"]), "envelope"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("whsec_") && !err.contains("s3cr3t"), "{err}");
}
