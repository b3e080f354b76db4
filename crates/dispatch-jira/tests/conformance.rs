//! The shared conformance suite (costwatch-dispatch-kit) on Jira, once with an API token (basic
//! auth on the site) and once with an OAuth 2.0 bearer token (through api.atlassian.com): every
//! request checked by what Jira's REST v3 operation takes — the search's JQL, the create's
//! fields, a transition's id — with every description and comment validated against
//! Atlassian's ADF schema (`specs/jira/adf-schema-v1-full.json`). The Jira OpenAPI document
//! named in `specs/SOURCES.md` is not in `specs/jira/`, so the operations' bodies are checked
//! field by field here.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::Utc;
use costwatch_dispatch::dispatcher::{Dispatcher, Settings};
use costwatch_dispatch::sqs::{MemoryQueue, event_of, handle_batch};
use costwatch_dispatch::{Body, Method, RateLimit, VendorRequest, entry};
use costwatch_dispatch_jira::{Jira, subject_label};
use costwatch_dispatch_kit::envelopes::{numbered, queued};
use costwatch_dispatch_kit::vendors::{Crash, CrashPoint};
use costwatch_dispatch_kit::{Conformance, delivery, render, run, schema};
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::faults::exactly_once;
use costwatch_vendor_fakes::jira::{API_TOKEN, BEARER_TOKEN, EMAIL, JiraSite, OAUTH_PREFIX};
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::{Value, json};
use tokio::time::Instant;

/// base64(`EMAIL:API_TOKEN`): what the basic-auth header carries (the token itself never
/// travels in the clear).
const BASIC: &str =
    "Y29zdHdhdGNoLWJvdEBleGFtcGxlLmNvbTpBVEFUVDN4RmZHRjAtZmFrZS1qaXJhLWFwaS10b2tlbg==";

fn destinations() -> Value {
    json!({"finops": {"project": "FIN", "issue_type": "Task", "labels": ["cost"]}})
}

fn basic() -> Conformance {
    Conformance {
        entry: entry::<Jira>(),
        config: json!({
            "site": "https://acme.atlassian.net",
            "email": EMAIL,
            "api_token": API_TOKEN,
            "tracking_issue": "OPS-1",
            "destinations": destinations(),
        }),
        destination: "finops",
        secrets: &[BASIC],
        max_body_bytes: MAX_BODY_BYTES,
        validate,
        fake: || Arc::new(JiraSite::new()),
    }
}

fn oauth() -> Conformance {
    Conformance {
        config: json!({
            "site": format!("https://api.atlassian.com{OAUTH_PREFIX}"),
            "bearer_token": BEARER_TOKEN,
            "tracking_issue": "OPS-1",
            "destinations": destinations(),
        }),
        secrets: &[BEARER_TOKEN],
        ..basic()
    }
}

/// Jira documents no request size, only its fields' (32,767 characters of description or
/// comment): four bytes a character at most, with the rest of the create's fields.
const MAX_BODY_BYTES: usize = 4 * 32_767 + 8 * 1024;

fn adf() -> &'static jsonschema::Validator {
    static ADF: OnceLock<jsonschema::Validator> = OnceLock::new();
    ADF.get_or_init(|| schema::validator(&schema::load("specs/jira/adf-schema-v1-full.json")))
}

fn document(doc: &Value) -> Result<(), String> {
    if doc.to_string().chars().count() > 32_767 {
        return Err("over Jira's 32,767 characters".into());
    }
    schema::check(adf(), doc)
}

/// The operation each step is, and what Jira's REST v3 requires of its body.
fn validate(request: &VendorRequest) -> Result<(), String> {
    let url = request.url.expose();
    if !url.contains("/rest/api/3/") {
        return Err(format!("not a REST v3 URL: {url}"));
    }
    let body = request.body.json();
    match (request.method, request.step.as_str(), body) {
        (Method::Post, "search", Some(b)) if url.ends_with("/search/jql") => {
            let jql = b["jql"].as_str().ok_or("search/jql needs `jql`")?;
            if !jql.contains("labels = \"costwatch-") {
                return Err(format!("the search is not by the subject's label: {jql}"));
            }
            if !b["fields"]
                .as_array()
                .is_some_and(|f| f.iter().all(Value::is_string))
            {
                return Err("`fields` must be a list of field names".into());
            }
            Ok(())
        }
        (Method::Post, "create", Some(b)) => {
            let f = &b["fields"];
            for (field, ok) in [
                ("project.key", f["project"]["key"].is_string()),
                ("issuetype.name", f["issuetype"]["name"].is_string()),
                ("labels", f["labels"].is_array()),
            ] {
                if !ok {
                    return Err(format!("create needs fields.{field}"));
                }
            }
            let summary = f["summary"].as_str().unwrap_or_default();
            if summary.is_empty() || summary.chars().count() > 255 || summary.contains('\n') {
                return Err(format!(
                    "summary must be one line of 1–255 characters: {summary:?}"
                ));
            }
            if f["labels"].as_array().into_iter().flatten().any(|l| {
                l.as_str()
                    .is_none_or(|l| l.chars().any(char::is_whitespace))
            }) {
                return Err("a label holds whitespace".into());
            }
            document(&f["description"])
        }
        (Method::Post, "comment", Some(b)) if url.ends_with("/comment") => document(&b["body"]),
        (Method::Get, step, None) if step.starts_with("transitions to ") => {
            matches!(request.body, Body::Empty)
                .then_some(())
                .ok_or_else(|| "a GET has no body".into())
        }
        (Method::Post, "transition", Some(b)) if b["transition"]["id"].is_string() => Ok(()),
        (method, step, _) => Err(format!(
            "{} {url} ({step}) is not a Jira operation costwatch uses, or its body is missing",
            method.as_str()
        )),
    }
}

/// The kit's checks that hold for any exchange, once per credential kind. Its two crash checks
/// (`conformance_tests!` would add them) count one request per envelope (the crash at request 4
/// is envelope 4); a Jira envelope without a memo is two (search, create), so
/// [`a_crash_mid_batch_files_each_subject_once`] is their Jira form.
macro_rules! kit_checks {
    ($($mode:ident => $suite:path),+) => {$(
        mod $mode {
            use super::*;

            #[test]
            fn every_sample_and_hostile_copy_renders_valid_within_the_size_limit() {
                render::renders_valid_within_limits(&$suite());
            }

            #[test]
            fn render_output_prints_no_secret() {
                render::prints_no_secret(&$suite());
            }

            #[test]
            fn validate_rejects_an_empty_message() {
                render::validate_rejects_an_empty_message(&$suite());
            }

            #[test]
            fn refusals_and_an_unreachable_vendor_dead_letter_without_secrets() {
                run(delivery::refusals_keep_secrets(&$suite()));
            }

            #[test]
            fn fault_drill_accepts_every_envelope_exactly_once() {
                run(delivery::fault_drill(&$suite()));
            }

            #[test]
            fn alert_storm_reaches_the_destination_as_a_bounded_number_of_digests() {
                run(costwatch_dispatch_kit::drill::storm_drill(&$suite()));
            }
        }
    )+};
}

kit_checks!(basic => basic, oauth => oauth);

/// The kit's crash drill for a two-request exchange: an invocation handling five new subjects
/// dies at request 4 (the second subject's create), before Jira saw it or after Jira filed the
/// issue. After the lease the redelivery takes the pending claims over: each subject ends with
/// exactly one issue either way — after the vendor too, because the retry searches first and
/// finds the issue whose answer was lost (a webhook vendor repeats that one message).
#[test]
fn a_crash_mid_batch_files_each_subject_once() {
    for point in [CrashPoint::BeforeVendor, CrashPoint::AfterVendor] {
        run(crash(point));
    }
}

async fn crash(point: CrashPoint) {
    let site = Arc::new(JiraSite::new());
    let crash = Arc::new(Crash::new(site.clone(), 4, point));
    let server = FakeServer::start(crash.clone()).await;
    let state = MemoryState::default();
    let lease = Settings::default().lease;
    let d = Dispatcher::builder(basic().configured(), &state)
        .timeout(Duration::from_secs(30))
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .digest_from(usize::MAX)
        .rate_limit(RateLimit::per_second(1_000_000))
        .build()
        .await
        .unwrap();
    let envelopes = numbered("ntf-crash", 5);
    let messages: Vec<(String, String, u32)> = queued(&envelopes)
        .into_iter()
        .map(|(id, body)| (id, body, 1))
        .collect();
    let queue = MemoryQueue::default();
    let t0 = Utc::now();
    let deadline = || Instant::now() + Duration::from_secs(60);
    let first = event_of(&messages);
    tokio::select! {
        _ = handle_batch(&d, &queue, &first, 5, t0, deadline()) => {
            panic!("the batch was handled to the end: request 4 never came")
        }
        () = crash.crashed.notified() => {}
    }
    let filed = if point == CrashPoint::AfterVendor {
        2
    } else {
        1
    };
    assert_eq!(
        site.issues().len(),
        filed,
        "{point:?}: filed when the invocation died"
    );

    // After the lease (SQS's visibility timeout) the crashed claims are taken over.
    let again: Vec<(String, String, u32)> = messages
        .iter()
        .map(|(id, body, _)| (id.clone(), body.clone(), 2))
        .collect();
    let later = t0 + lease + chrono::Duration::seconds(1);
    let response = handle_batch(&d, &queue, &event_of(&again), 5, later, deadline()).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    assert!(queue.dead.lock().unwrap().is_empty());
    let labels = site.issues().into_iter().map(|i| {
        i.labels()
            .into_iter()
            .find(|l| l.starts_with("costwatch-"))
            .unwrap()
    });
    let expected = envelopes.iter().map(|n| subject_label(&n.subject_id));
    exactly_once(labels, expected).unwrap_or_else(|wrong| panic!("{point:?}: {wrong}"));
}
