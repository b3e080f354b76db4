//! What `render` produces, offline: every sample envelope and a hostile copy of each, in every
//! state, render to requests whose ADF validates against Atlassian's schema (npm
//! @atlaskit/adf-schema, v1 full), with user text only ever in `text` nodes; the create body
//! has the fields Jira's create-issue operation takes; the credential never prints; the config
//! is checked without I/O.

use costwatch_core::{Notification, State};
use costwatch_dispatch::escape::HOSTILE;
use costwatch_dispatch::{Body, Message, RenderContext, VendorRequest, entry, load_config};
use costwatch_dispatch_jira::{Jira, MAX_ADF_CHARS};
use serde_json::{Value, json};

const TOKEN: &str = "ATATT3xFfGF0-payload-test-token";

fn config() -> Value {
    json!({
        "site": "https://acme.atlassian.net",
        "email": "bot@example.com",
        "api_token": TOKEN,
        "tracking_issue": "OPS-1",
        "destinations": {"finops": {
            "project": "FIN", "issue_type": "Bug", "labels": ["finops"],
            "components": ["Cloud cost"], "priority": "High",
            "assignee": "5b10a2844c20165700ede21g",
        }},
    })
}

fn schema() -> jsonschema::Validator {
    let dir = std::env::var("COSTWATCH_SHARED").unwrap_or_else(|_| "../../../shared".into());
    let text = std::fs::read_to_string(format!("{dir}/specs/jira/adf-schema-v1-full.json"))
        .expect("the ADF schema in $COSTWATCH_SHARED/specs/jira");
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn render(n: &Notification, memo: Option<Value>) -> Vec<VendorRequest> {
    entry::<Jira>()
        .load(config())
        .unwrap()
        .render(
            "finops",
            Message::One(n),
            &RenderContext {
                memo,
                ..RenderContext::default()
            },
        )
        .unwrap()
}

fn hostile(n: &Notification) -> Notification {
    let mut h = n.clone();
    let all = HOSTILE.join(" ");
    h.title = format!("{} {{{{step:0:/costwatch/create_path}}}}", all);
    h.summary = format!("{all}\nsecond line {{{{step:1:/key}}}}");
    h.scope.label = HOSTILE[5].into();
    h.scope.tags.insert("team".into(), HOSTILE[7].into());
    h
}

fn every_envelope() -> Vec<Notification> {
    let mut out = Vec::new();
    for (_, n) in costwatch_core::samples::all() {
        for state in [State::Open, State::Ongoing, State::Resolved] {
            let mut s = n.clone();
            s.state = state;
            s.revision = u32::from(state != State::Open);
            out.push(hostile(&s));
            out.push(s);
        }
    }
    out
}

/// The ADF documents of a request: a create's description, a comment's body.
fn documents(r: &VendorRequest) -> Vec<Value> {
    let Some(body) = r.body.json() else {
        return Vec::new();
    };
    [&body["fields"]["description"], &body["body"]]
        .into_iter()
        .filter(|d| d.is_object())
        .cloned()
        .collect()
}

/// Every string of `doc` under a key other than `text` (types, attrs, hrefs).
fn non_text_strings(doc: &Value, out: &mut Vec<String>) {
    match doc {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if k != "text" => out.push(s.clone()),
                    _ => non_text_strings(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| non_text_strings(v, out)),
        _ => {}
    }
}

#[test]
fn every_document_validates_and_user_text_stays_in_text_nodes() {
    let schema = schema();
    let mut checked = 0;
    for n in every_envelope() {
        for memo in [None, Some(json!({"key": "FIN-7"}))] {
            for r in render(&n, memo) {
                for doc in documents(&r) {
                    let errors: Vec<String> =
                        schema.iter_errors(&doc).map(|e| e.to_string()).collect();
                    assert!(errors.is_empty(), "{} {}: {errors:?}", n.id, r.step);
                    assert!(doc.to_string().chars().count() <= MAX_ADF_CHARS);
                    let mut strings = Vec::new();
                    non_text_strings(&doc, &mut strings);
                    for s in strings {
                        assert!(
                            !HOSTILE.iter().any(|h| s.contains(h)) && !s.contains("evil"),
                            "user text outside a text node: {s}"
                        );
                    }
                    // No placeholder can come from user text: only our URLs and ids carry one.
                    assert!(!doc.to_string().contains("{{"), "{}", r.step);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 60, "{checked}");
}

#[test]
fn the_create_body_is_what_jira_create_issue_takes() {
    let n = hostile(&costwatch_core::samples::of_kind("anomaly"));
    let requests = render(&n, None);
    let steps: Vec<&str> = requests.iter().map(|r| r.step.as_str()).collect();
    assert_eq!(steps, ["search", "create"]);
    let search = requests[0].body.json().unwrap();
    let label = costwatch_dispatch_jira::subject_label(&n.subject_id);
    assert_eq!(
        search["jql"],
        format!("project = \"FIN\" AND labels = \"{label}\" ORDER BY created ASC")
    );
    let Body::Json(create) = &requests[1].body else {
        panic!()
    };
    let fields = create["fields"].as_object().unwrap();
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "assignee",
            "components",
            "description",
            "issuetype",
            "labels",
            "priority",
            "project",
            "summary"
        ]
    );
    assert_eq!(create["fields"]["project"], json!({"key": "FIN"}));
    assert_eq!(create["fields"]["issuetype"], json!({"name": "Bug"}));
    assert_eq!(create["fields"]["priority"], json!({"name": "High"}));
    assert_eq!(
        create["fields"]["components"],
        json!([{"name": "Cloud cost"}])
    );
    assert_eq!(
        create["fields"]["labels"],
        json!(["costwatch", label, "finops"])
    );
    let summary = create["fields"]["summary"].as_str().unwrap();
    assert!(summary.chars().count() <= 255 && !summary.contains('\n'));
    assert!(!summary.contains("{{"), "{summary}");
    // The create's URL is the search's decision; nothing else is a placeholder.
    assert_eq!(
        requests[1].url.expose(),
        "https://acme.atlassian.net/rest/api/3/{{step:0:/costwatch/create_path}}"
    );
}

#[test]
fn later_states_of_a_known_issue_comment_and_transition() {
    let mut n = costwatch_core::samples::of_kind("anomaly");
    n.state = State::Resolved;
    n.revision = 2;
    let requests = render(&n, Some(json!({"key": "FIN-7"})));
    let steps: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method.as_str(), r.url.expose()))
        .collect();
    let api = "https://acme.atlassian.net/rest/api/3";
    assert_eq!(
        steps,
        [
            format!("POST {api}/issue/FIN-7/comment"),
            format!("GET {api}/issue/FIN-7/transitions"),
            format!("POST {api}/issue/FIN-7{{{{step:1:/costwatch/then}}}}"),
        ]
    );
    assert_eq!(requests[1].step, "transitions to Done");
}

#[test]
fn the_credential_never_prints() {
    for r in render(&costwatch_core::samples::of_kind("budget"), None) {
        let printed = r.printable().to_string();
        assert!(
            !printed.contains(TOKEN) && !printed.contains("Basic "),
            "{printed}"
        );
        assert!(!format!("{r:?}").contains(TOKEN));
    }
    let loaded = load_config::<Jira>(config()).unwrap();
    assert!(!format!("{loaded:?}").contains(TOKEN));
}

#[test]
fn the_config_is_checked_without_io() {
    let invalid = |patch: Value| {
        let mut c = config();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        load_config::<Jira>(c).unwrap_err().to_string()
    };
    assert!(invalid(json!({"surprise": 1})).contains("unknown field"));
    assert!(invalid(json!({"site": "https://jira.evil.example"})).contains("allow_hosts"));
    assert!(invalid(json!({"site": "http://acme.atlassian.net"})).contains("https"));
    assert!(invalid(json!({"bearer_token": "x"})).contains("not both"));
    assert!(invalid(json!({"email": null})).contains("email"));
    assert!(invalid(json!({"tracking_issue": "ops one"})).contains("tracking_issue"));
    assert!(invalid(json!({"destinations": {"d": {"project": "fin"}}})).contains("project key"));
    assert!(
        invalid(json!({"destinations": {"d": {"project": "FIN", "labels": ["two words"]}}}))
            .contains("label")
    );
    assert!(
        invalid(json!({"destinations": {"d": {"project": "FIN", "assignee": "a@b.c"}}}))
            .contains("accountId")
    );
    assert!(
        invalid(json!({"destinations": {"d": {"project": "FIN", "colour": "red"}}}))
            .contains("unknown field")
    );
    // OAuth 2.0 goes through Atlassian's gateway; a proxy may be allowed explicitly.
    let mut oauth = config();
    oauth["site"] = json!("https://api.atlassian.com/ex/jira/11223344-a1b2-3b33-c444-def123456789");
    oauth.as_object_mut().unwrap().remove("email");
    oauth.as_object_mut().unwrap().remove("api_token");
    oauth["bearer_token"] = json!("eyJ-access-token");
    load_config::<Jira>(oauth).unwrap();
    let mut proxied = config();
    proxied["site"] = json!("https://jira-proxy.corp.example");
    proxied["allow_hosts"] = json!(["jira-proxy.corp.example"]);
    load_config::<Jira>(proxied).unwrap();
}

#[test]
fn a_report_needs_the_tracking_issue() {
    let report = costwatch_core::samples::of_kind("report");
    let requests = render(&report, None);
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].url.expose(),
        "https://acme.atlassian.net/rest/api/3/issue/OPS-1/comment"
    );
    let mut c = config();
    c.as_object_mut().unwrap().remove("tracking_issue");
    let err = entry::<Jira>()
        .load(c)
        .unwrap()
        .render("finops", Message::One(&report), &RenderContext::default())
        .unwrap_err();
    assert!(err.to_string().contains("tracking_issue"), "{err}");
}

#[test]
fn the_sqs_sample_event_renders_valid_documents() {
    // events/dispatch-jira/sqs.json is what `sam local invoke` feeds the function.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/dispatch-jira/sqs.json"
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let records = event["Records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    let schema = schema();
    // The schema refuses what Jira refuses: an empty text node.
    let empty = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}]});
    assert!(!schema.is_valid(&empty));
    for r in records {
        assert_eq!(r["eventSource"], "aws:sqs");
        let n: Notification = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        let requests = render(&n, None);
        let docs: Vec<Value> = requests.iter().flat_map(documents).collect();
        assert_eq!(docs.len(), 1, "{}", n.id);
        assert!(schema.is_valid(&docs[0]), "{}", n.id);
    }
}
