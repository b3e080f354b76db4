//! What the archive renders, offline: the container first, then one write-once PUT per file (the
//! report's three, then its day's curated records) with the documented headers; credentials never in the printable form; configs checked up front.

use std::collections::BTreeMap;

use costwatch_core::archive::{CURATED_CONTENT_TYPE, curated_keys, report_keys};
use costwatch_core::{Notification, NotificationBody};
use costwatch_dispatch::{Configured, Integration, Message, RenderContext, entry};
use costwatch_dispatch_azure_blob::AzureBlob;
use serde_json::{Value, json};

const SAS: &str = "sv=2024-11-04&ss=b&srt=co&sp=cw&se=2027-01-01T00:00:00Z&sig=s3cr3tSig%3D";
const KEY: &str = "c2VjcmV0LWFjY291bnQta2V5LWJ5dGVzLWZvci10ZXN0cw==";

fn load(credential: Value) -> Box<dyn Configured> {
    let mut destination = json!({
        "account": "acmearchive",
        "container": "costwatch-reports",
        "prefix": "costwatch/",
        "access_tier": "Cool",
    });
    destination
        .as_object_mut()
        .unwrap()
        .extend(credential.as_object().unwrap().clone());
    entry::<AzureBlob>()
        .load(json!({"destinations": {"archive": destination}}))
        .unwrap()
}

fn report() -> Notification {
    costwatch_core::samples::of_kind("report")
}

fn with_files(n: &Notification) -> RenderContext {
    let objects: BTreeMap<String, Vec<u8>> = AzureBlob::objects(Message::One(n))
        .into_iter()
        .map(|key| (key.clone(), key.into_bytes()))
        .collect();
    RenderContext {
        objects,
        ..RenderContext::default()
    }
}

fn printable(integration: &dyn Configured, n: &Notification) -> Vec<Value> {
    integration
        .render("archive", Message::One(n), &with_files(n))
        .unwrap()
        .iter()
        .map(|r| r.printable())
        .collect()
}

#[test]
fn a_report_is_a_container_and_four_write_once_blobs() {
    let n = report();
    let requests = printable(load(json!({"sas_token": SAS})).as_ref(), &n);
    assert_eq!(requests.len(), 5, "{requests:#?}");
    assert_eq!(requests[0]["method"], "PUT");
    assert_eq!(
        requests[0]["url"],
        "https://acmearchive.blob.core.windows.net/[REDACTED]"
    );
    let NotificationBody::Report(figures) = &n.body else {
        unreachable!()
    };
    let content_types = report_keys(figures)
        .into_iter()
        .map(|(file, _)| file.content_type())
        .chain(
            curated_keys(figures)
                .into_iter()
                .map(|_| CURATED_CONTENT_TYPE),
        );
    for (r, content_type) in requests[1..].iter().zip(content_types) {
        assert_eq!(r["method"], "PUT");
        assert_eq!(r["headers"]["if-none-match"], "*");
        assert_eq!(r["headers"]["x-ms-blob-type"], "BlockBlob");
        assert_eq!(r["headers"]["x-ms-access-tier"], "Cool");
        assert_eq!(r["headers"]["content-type"], content_type);
    }
    let text = serde_json::to_string(&requests).unwrap();
    assert!(!text.contains("s3cr3tSig"), "{text}");
}

#[test]
fn blob_names_mirror_the_lake_keys_under_the_prefix() {
    let n = report();
    let integration = load(json!({"sas_token": SAS}));
    let requests = integration
        .render("archive", Message::One(&n), &with_files(&n))
        .unwrap();
    let keys = AzureBlob::objects(Message::One(&n));
    assert_eq!(
        keys.last().map(String::as_str),
        Some("curated/daily/dt=2026-11-20/records.jsonl")
    );
    assert_eq!(requests.len(), 1 + keys.len());
    for (r, key) in requests[1..].iter().zip(keys) {
        let url = r.url.expose();
        assert!(
            url.starts_with(&format!(
                "https://acmearchive.blob.core.windows.net/costwatch-reports/costwatch/{key}?"
            )),
            "{key}"
        );
        assert!(url.ends_with(SAS), "the SAS token is the query");
    }
}

#[test]
fn shared_key_requests_carry_a_signature_that_is_never_printed() {
    let n = report();
    let integration = load(json!({"account_key": KEY}));
    let requests = integration
        .render("archive", Message::One(&n), &with_files(&n))
        .unwrap();
    for r in &requests {
        let auth = r
            .headers
            .iter()
            .find(|(name, _)| name == "authorization")
            .map(|(_, v)| v.expose().to_owned())
            .expect("an Authorization header");
        assert!(auth.starts_with("SharedKey acmearchive:"), "{auth}");
        let printed = r.printable().to_string();
        assert!(printed.contains("[REDACTED]"));
        assert!(!printed.contains(&auth[22..]), "the signature was printed");
        assert!(!printed.contains(KEY));
        assert!(r.headers.iter().any(|(name, _)| name == "x-ms-date"));
    }
}

#[test]
fn other_kinds_render_nothing_and_need_no_files() {
    let integration = load(json!({"sas_token": SAS}));
    for (_, n) in costwatch_core::samples::all() {
        let kind = n.kind();
        let wanted = integration.objects(Message::One(&n));
        let requests = integration
            .render("archive", Message::One(&n), &RenderContext::default())
            .map(|r| r.len());
        if kind == "report" {
            assert_eq!(wanted.len(), 4, "three files and a day's curated records");
            assert!(
                requests.is_err(),
                "a report without its files must not render"
            );
        } else {
            assert!(wanted.is_empty(), "{kind}");
            assert_eq!(requests.unwrap(), 0, "{kind}");
        }
    }
}

#[test]
fn configs_need_exactly_one_credential_and_azure_names() {
    let base = json!({"account": "acmearchive", "container": "costwatch-reports"});
    let try_load = |extra: Value| {
        let mut d = base.clone();
        d.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        entry::<AzureBlob>().load(json!({"destinations": {"archive": d}}))
    };
    assert!(try_load(json!({"sas_token": SAS})).is_ok());
    assert!(try_load(json!({})).is_err(), "no credential");
    assert!(
        try_load(json!({"sas_token": SAS, "account_key": KEY})).is_err(),
        "two credentials"
    );
    assert!(try_load(json!({"sas_token": SAS, "container": "Bad_Name"})).is_err());
    assert!(try_load(json!({"sas_token": SAS, "account": "UPPER"})).is_err());
    assert!(
        try_load(json!({"sas_token": SAS, "tier": "Hot"})).is_err(),
        "unknown field"
    );
}
