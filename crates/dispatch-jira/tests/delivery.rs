//! The Jira dispatcher through the real `Dispatcher` (ledger, memo, retries) against a local
//! Jira site that answers as Atlassian documents (crates/vendor-fakes `jira`): one issue per
//! subject whatever is redelivered or lost, a comment per later state, the resolution by the
//! transition's name, the daily report on the tracking issue; every description and comment the
//! site stored validates against the ADF schema.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use costwatch_core::samples::of_kind as sample;
use costwatch_core::{Notification, State};
use costwatch_dispatch::dispatcher::{Dispatcher, Verdict};
use costwatch_dispatch::entry;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch_jira::Jira;
use costwatch_dispatch_kit::delivery::verdicts;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::jira::{API_TOKEN, EMAIL, JiraSite};
use costwatch_vendor_fakes::server::FakeServer;
use serde_json::{Value, json};

fn config() -> Value {
    json!({
        "site": "https://acme.atlassian.net",
        "email": EMAIL,
        "api_token": API_TOKEN,
        "tracking_issue": "OPS-1",
        "rate_per_second": 1000,
        "destinations": {"finops": {"project": "FIN", "issue_type": "Task", "labels": ["cost"]}},
    })
}

struct Site {
    jira: Arc<JiraSite>,
    server: FakeServer,
    state: MemoryState,
}

impl Site {
    async fn start() -> Site {
        let jira = Arc::new(JiraSite::new());
        let server = FakeServer::start(jira.clone()).await;
        Site {
            jira,
            server,
            state: MemoryState::default(),
        }
    }

    async fn dispatcher(&self, config: Value, attempts: usize) -> Dispatcher<'_> {
        let policy = RetryPolicy {
            max_attempts: attempts,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        };
        Dispatcher::builder(entry::<Jira>().load(config).unwrap(), &self.state)
            .endpoint(Some(url::Url::parse(&self.server.url()).unwrap()))
            .timeout(Duration::from_secs(5))
            .retry(policy)
            .digest_from(usize::MAX)
            .lease(chrono::Duration::zero())
            .build()
            .await
            .unwrap()
    }

    fn requests(&self) -> Vec<String> {
        self.server
            .log()
            .iter()
            .map(|(r, status)| {
                let path = r.path.trim_start_matches("/rest/api/3/");
                format!(
                    "{} {path} {}",
                    r.method,
                    status.map_or("dropped".into(), |s| s.to_string())
                )
            })
            .collect()
    }
}

async fn send(dispatcher: &Dispatcher<'_>, n: &Notification) -> Verdict {
    verdicts(dispatcher, std::slice::from_ref(n))
        .await
        .remove(0)
}

/// The next state of `n`'s subject.
fn next(n: &Notification, state: State) -> Notification {
    let mut later = n.clone();
    later.revision += 1;
    later.state = state;
    later.id = format!("{}_r{}", n.id, later.revision);
    later
}

fn adf_schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let dir = std::env::var("COSTWATCH_SHARED").unwrap_or_else(|_| "../../../shared".into());
        let text = std::fs::read_to_string(format!("{dir}/specs/jira/adf-schema-v1-full.json"))
            .expect("the ADF schema in $COSTWATCH_SHARED/specs/jira");
        jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
    })
}

/// Every description and comment the site stored is a valid ADF document.
fn assert_valid_adf(jira: &JiraSite) {
    for issue in jira.issues() {
        let docs = std::iter::once(&issue.fields["description"]).chain(&issue.comments);
        for doc in docs {
            let errors: Vec<String> = adf_schema()
                .iter_errors(doc)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", issue.key);
        }
    }
}

#[tokio::test]
async fn a_subject_is_one_issue_through_its_states_and_redeliveries() {
    let site = Site::start().await;
    let dispatcher = site.dispatcher(config(), 3).await;
    let open = sample("anomaly");

    assert_eq!(send(&dispatcher, &open).await, Verdict::Done);
    assert_eq!(site.requests(), ["POST search/jql 200", "POST issue 201"]);
    // Redelivered: the ledger knows it was sent; nothing reaches Jira.
    assert_eq!(send(&dispatcher, &open).await, Verdict::Done);
    assert_eq!(site.server.log().len(), 2);

    let issues = site.jira.issues();
    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    assert_eq!(issue.key, "FIN-1");
    assert_eq!(issue.fields["issuetype"]["name"], "Task");
    let label = costwatch_dispatch_jira::subject_label(&open.subject_id);
    assert_eq!(issue.labels(), ["costwatch", label.as_str(), "cost"]);
    assert!(issue.fields["description"].to_string().contains(&open.id));

    // Ongoing: one comment on the remembered issue, no search.
    let ongoing = next(&open, State::Ongoing);
    assert_eq!(send(&dispatcher, &ongoing).await, Verdict::Done);
    assert_eq!(send(&dispatcher, &ongoing).await, Verdict::Done);
    assert_eq!(site.requests()[2..], ["POST issue/FIN-1/comment 201"]);

    // Resolved: a comment, then the transition named "Done" looked up on the issue.
    let resolved = next(&ongoing, State::Resolved);
    assert_eq!(send(&dispatcher, &resolved).await, Verdict::Done);
    assert_eq!(
        site.requests()[3..],
        [
            "POST issue/FIN-1/comment 201",
            "GET issue/FIN-1/transitions 200",
            "POST issue/FIN-1/transitions 204",
        ]
    );
    let issue = &site.jira.issues()[0];
    assert_eq!(issue.status, "Done");
    assert_eq!(issue.comments.len(), 2);
    assert!(issue.comments[1].to_string().contains("Resolved"));

    // Another subject is another issue.
    let mut other = sample("budget");
    other.id = "ntf_other".into();
    assert_eq!(send(&dispatcher, &other).await, Verdict::Done);
    assert_eq!(site.jira.issues().len(), 2);
    assert_eq!(site.jira.issues()[1].key, "FIN-2");
    assert_valid_adf(&site.jira);
}

#[tokio::test]
async fn a_lost_create_answer_is_found_by_the_next_attempts_search() {
    let site = Site::start().await;
    // One attempt per request: the lost answer sends the message back to the queue, and the
    // redelivery renders the exchange again, search first.
    let dispatcher = site.dispatcher(config(), 1).await;
    site.jira.lose_create_answers(1);
    let open = sample("anomaly");

    let verdict = send(&dispatcher, &open).await;
    assert!(matches!(verdict, Verdict::Retry { .. }), "{verdict:?}");
    assert_eq!(
        site.jira.issues().len(),
        1,
        "Jira created it; the answer was lost"
    );

    assert_eq!(send(&dispatcher, &open).await, Verdict::Done);
    assert_eq!(
        site.requests(),
        [
            "POST search/jql 200",
            "POST issue dropped",
            "POST search/jql 200",
            // Found: the create goes to the issue's own URL, where Jira has no POST.
            "POST issue/FIN-1 405",
        ]
    );
    assert_eq!(site.jira.issues().len(), 1);

    // The found issue was remembered: the next state comments on it without searching.
    assert_eq!(
        send(&dispatcher, &next(&open, State::Ongoing)).await,
        Verdict::Done
    );
    assert_eq!(site.requests()[4..], ["POST issue/FIN-1/comment 201"]);
}

/// The residual window, pinned: the shared sender retries a request in place after a transport
/// error, so with in-place retries a create whose answer was lost is sent again at once, before
/// any search, and Jira (which has no idempotency key) files it twice. Closing it needs the
/// framework to requeue non-idempotent steps instead (see docs/integrations/jira.md).
#[tokio::test]
async fn a_lost_create_answer_goes_back_to_the_queue_and_the_search_finds_the_issue() {
    let site = Site::start().await;
    let dispatcher = site.dispatcher(config(), 3).await;
    site.jira.lose_create_answers(1);
    // The create's outcome is unknown: not sent again in place, but from the queue…
    assert!(matches!(
        send(&dispatcher, &sample("anomaly")).await,
        Verdict::Retry { .. }
    ));
    // …where the redelivery searches first and finds what the lost create made.
    assert_eq!(send(&dispatcher, &sample("anomaly")).await, Verdict::Done);
    assert_eq!(
        site.requests(),
        [
            "POST search/jql 200",
            "POST issue dropped",
            "POST search/jql 200",
            "POST issue/FIN-1 405"
        ]
    );
    assert_eq!(site.jira.issues().len(), 1);
}

#[tokio::test]
async fn a_later_state_without_a_memo_finds_the_issue_and_comments() {
    let site = Site::start().await;
    let open = sample("anomaly");
    {
        let first = site.dispatcher(config(), 3).await;
        assert_eq!(send(&first, &open).await, Verdict::Done);
    }
    // Another destination name for the same project has no memo of its own.
    let mut two = config();
    two["destinations"]["second"] = json!({"project": "FIN"});
    let dispatcher = site.dispatcher(two, 3).await;
    let ongoing = next(&open, State::Ongoing);
    assert_eq!(send(&dispatcher, &ongoing).await, Verdict::Done);
    let issues = site.jira.issues();
    assert_eq!(issues.len(), 1, "{:?}", site.requests());
    // `second` found FIN-1 by its label and commented; `finops` had it remembered.
    assert_eq!(issues[0].comments.len(), 2, "{:?}", site.requests());
}

#[tokio::test]
async fn an_issue_closed_by_hand_is_resolved_with_a_comment_only() {
    let site = Site::start().await;
    let dispatcher = site.dispatcher(config(), 3).await;
    let open = sample("anomaly");
    send(&dispatcher, &open).await;
    let resolved = next(&open, State::Resolved);
    send(&dispatcher, &resolved).await;
    assert_eq!(site.jira.issues()[0].status, "Done");
    // Resolved again (a redelivered copy with a new id): no "Done" from Done; not an error.
    let mut again = next(&resolved, State::Resolved);
    again.id = "ntf_again".into();
    assert_eq!(send(&dispatcher, &again).await, Verdict::Done);
    assert_eq!(
        site.requests().last().unwrap(),
        "POST issue/FIN-1 405",
        "the transition step went to the issue's own URL"
    );
}

#[tokio::test]
async fn a_missing_transition_name_and_throttling() {
    let site = Site::start().await;
    let mut cfg = config();
    cfg["resolve_transition"] = json!("done");
    let dispatcher = site.dispatcher(cfg, 3).await;
    site.jira.throttle(1, 0);
    let open = sample("anomaly");
    assert_eq!(send(&dispatcher, &open).await, Verdict::Done);
    assert_eq!(
        site.requests()[..2],
        ["POST search/jql 429", "POST search/jql 200"]
    );
    send(&dispatcher, &next(&open, State::Resolved)).await;
    // "done" matches "Done" when no transition has the exact name.
    assert_eq!(site.jira.issues()[0].status, "Done");
}

#[tokio::test]
async fn the_daily_report_is_a_comment_on_the_tracking_issue() {
    let site = Site::start().await;
    let dispatcher = site.dispatcher(config(), 3).await;
    // The tracking issue exists before costwatch runs: file it as any issue would be.
    let mut tracking = sample("test");
    tracking.id = "ntf_tracking".into();
    let mut ops = config();
    ops["destinations"] = json!({"ops": {"project": "OPS"}});
    let setup = site.dispatcher(ops, 3).await;
    assert_eq!(send(&setup, &tracking).await, Verdict::Done);
    assert_eq!(site.jira.issues()[0].key, "OPS-1");

    let report = sample("report");
    assert_eq!(send(&dispatcher, &report).await, Verdict::Done);
    assert_eq!(
        site.requests().last().unwrap(),
        "POST issue/OPS-1/comment 201"
    );
    assert_eq!(site.jira.issues().len(), 1);
    assert!(
        site.jira.issues()[0].comments[0]
            .to_string()
            .contains(&report.id)
    );
    assert_valid_adf(&site.jira);
}

#[tokio::test]
async fn refused_credentials_and_requests_are_dead_lettered_with_what_to_fix() {
    let site = Site::start().await;
    let mut wrong = config();
    wrong["api_token"] = json!("ATATT-not-the-token");
    let dispatcher = site.dispatcher(wrong, 3).await;
    let Verdict::Dead { reason } = send(&dispatcher, &sample("anomaly")).await else {
        panic!()
    };
    assert!(
        reason.contains("api_token") && reason.contains("401"),
        "{reason}"
    );
    assert!(!reason.contains("ATATT"), "{reason}");

    let mut unknown = config();
    unknown["destinations"]["finops"]["issue_type"] = json!("Epic saga");
    let dispatcher = site.dispatcher(unknown, 3).await;
    let Verdict::Dead { reason } = send(&dispatcher, &sample("anomaly")).await else {
        panic!()
    };
    assert!(
        reason.contains("issuetype: Specify a valid issue type"),
        "{reason}"
    );
    assert_eq!(site.server.log().len(), 3, "401 and 400 are not retried");
}

/// `n` envelopes of `n` different subjects.
fn subjects(kind: &str, n: usize, state: State) -> Vec<Notification> {
    let base = sample(kind);
    (0..n)
        .map(|i| {
            let mut e = base.clone();
            e.subject_id = format!("{}_{i:03}", base.subject_id);
            e.id = format!("ntf_{state:?}_{i:03}");
            e.state = state;
            e.revision = u32::from(state != State::Open);
            e
        })
        .collect()
}

#[tokio::test]
async fn a_storm_digest_files_one_issue_per_subject_and_comments_on_them_later() {
    let site = Site::start().await;
    let policy = RetryPolicy {
        max_attempts: 3,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    };
    let dispatcher = Dispatcher::builder(entry::<Jira>().load(config()).unwrap(), &site.state)
        .endpoint(Some(url::Url::parse(&site.server.url()).unwrap()))
        .retry(policy)
        .digest_from(3)
        .build()
        .await
        .unwrap();
    let open = subjects("anomaly", 4, State::Open);
    let sent = verdicts(&dispatcher, &open).await;
    assert!(sent.iter().all(|v| *v == Verdict::Done), "{sent:?}");
    let issues = site.jira.issues();
    assert_eq!(issues.len(), 4, "{:?}", site.requests());
    for (issue, n) in issues.iter().zip(&open) {
        let label = costwatch_dispatch_jira::subject_label(&n.subject_id);
        assert!(issue.labels().contains(&label), "{}", issue.key);
        assert!(issue.fields["description"].to_string().contains(&n.id));
    }
    // The storm resolves as a digest too: no memo for digests, so each subject is found by its
    // label, commented on and transitioned; nothing new is filed.
    let resolved = subjects("anomaly", 4, State::Resolved);
    let sent = verdicts(&dispatcher, &resolved).await;
    assert!(sent.iter().all(|v| *v == Verdict::Done), "{sent:?}");
    let issues = site.jira.issues();
    assert_eq!(issues.len(), 4, "{:?}", site.requests());
    assert!(
        issues
            .iter()
            .all(|i| i.status == "Done" && i.comments.len() == 1)
    );
    assert_valid_adf(&site.jira);
}

#[tokio::test]
async fn a_recurrence_reopens_the_issue_when_a_reopen_transition_is_set() {
    let site = Site::start().await;
    let mut cfg = config();
    cfg["reopen_transition"] = json!("To Do");
    let dispatcher = site.dispatcher(cfg, 3).await;
    let open = sample("anomaly");
    send(&dispatcher, &open).await;
    let resolved = next(&open, State::Resolved);
    send(&dispatcher, &resolved).await;
    assert_eq!(site.jira.issues()[0].status, "Done");
    let again = next(&resolved, State::Open);
    assert_eq!(send(&dispatcher, &again).await, Verdict::Done);
    let issues = site.jira.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].status, "To Do");
    assert!(issues[0].comments[1].to_string().contains("Open again"));
}
