//! The four scenarios of issue 12, each one test through the whole pipeline: the synthetic
//! organisation (crates/core `synth`) collected and aggregated into the in-memory store, the
//! day's run (detect → forecast → budgets, or the report), the envelopes it published, every
//! dispatcher (Slack, Teams, PagerDuty, Jira, Datadog) through the SQS batch handler with its own
//! memory ledger, and the vendor fakes on loopback. Each asserts what every vendor received, one
//! incident, one ticket and one thread per subject, and that a redelivery of every message (same
//! message ids, same ledger) sends nothing again.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use costwatch_core::notification::Severity;
use costwatch_core::{Notification, NotificationBody, Scope, State, synth};
use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sqs::{MemoryQueue, redeliver_until_drained};
use costwatch_dispatch::{Configured, RateLimit, entry};
use costwatch_dispatch_datadog::Datadog;
use costwatch_dispatch_datadog::encoder::aggregation_key;
use costwatch_dispatch_jira::Jira;
use costwatch_dispatch_jira::encoder::subject_label;
use costwatch_dispatch_pagerduty::PagerDuty;
use costwatch_dispatch_pagerduty::encoder::dedup_key;
use costwatch_dispatch_slack::Slack;
use costwatch_dispatch_teams::Teams;
use costwatch_pipeline::{PipelineConfig, Ports, aggregate, collect, run_day};
use costwatch_store::MemoryStore;
use costwatch_store::memory::{MemoryCostSource, MemoryState};
use costwatch_vendor_fakes::datadog::{API_KEY, DatadogIntake};
use costwatch_vendor_fakes::jira::{API_TOKEN, EMAIL, JiraSite};
use costwatch_vendor_fakes::pagerduty::{PagerDutyEvents, ROUTING_KEY, Status};
use costwatch_vendor_fakes::server::FakeServer;
use costwatch_vendor_fakes::slack::{FakeSlack, SlackMessage};
use costwatch_vendor_fakes::teams::TeamsWorkflow;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The organisation and the pipeline.

/// The synthetic organisation's last day: the planted +200 % spike, and the data-platform
/// account at 150 % of its monthly budget.
fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
}

/// When the run for `day` happens: the next morning.
fn at(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(6, 0, 0).unwrap()) + chrono::Duration::days(1)
}

/// The synthetic organisation's 120 days to [`end`], then `after` more days of ordinary spend
/// (each a copy of the same weekday a week before: the spike is not repeated), collected and
/// aggregated into a memory store.
async fn organisation(after: u64, cfg: &PipelineConfig) -> (synth::SyntheticOrg, MemoryStore) {
    let mut org = synth::generate(synth::DEFAULT_SEED, end(), 120);
    let week = chrono::Duration::days(7);
    for j in 1..=after {
        let day = end() + Days::new(j);
        let copies: Vec<_> = org
            .records
            .iter()
            .filter(|r| r.day() == day - Days::new(7))
            .map(|r| {
                let mut r = r.clone();
                r.charge_period_start += week;
                r.charge_period_end += week;
                r
            })
            .collect();
        assert!(!copies.is_empty(), "{day}");
        org.records.extend(copies);
    }
    let last = end() + Days::new(after);
    let store = MemoryStore::default();
    cfg.validate().unwrap();
    let source = MemoryCostSource::new(org.records.clone());
    let collected = collect::collect(&source, &store.lake, org.start, last)
        .await
        .unwrap();
    aggregate::aggregate(
        &store.lake,
        &store.rollups,
        &store.state,
        cfg,
        &collected.days,
    )
    .await
    .unwrap();
    (org, store)
}

fn ports(store: &MemoryStore) -> Ports<'_> {
    Ports {
        lake: &store.lake,
        rollups: &store.rollups,
        state: &store.state,
        bus: &store.bus,
    }
}

// ---------------------------------------------------------------------------------------------
// The vendors and their dispatchers.

const SLACK_TOKEN: &str = "xoxb-1-2-scenariotokenXYZ";
const SLACK_CHANNEL: &str = "C0FINOPS";

/// The five vendor fakes, each on its own loopback port.
struct Vendors {
    slack: Arc<FakeSlack>,
    slack_server: FakeServer,
    teams: Arc<TeamsWorkflow>,
    teams_server: FakeServer,
    pagerduty: Arc<PagerDutyEvents>,
    pagerduty_server: FakeServer,
    jira: Arc<JiraSite>,
    jira_server: FakeServer,
    datadog: Arc<DatadogIntake>,
    datadog_server: FakeServer,
}

impl Vendors {
    async fn start() -> Vendors {
        let slack = Arc::new(FakeSlack::new().with_bot(SLACK_TOKEN, &[SLACK_CHANNEL]));
        let teams = Arc::new(TeamsWorkflow::new());
        let pagerduty = Arc::new(PagerDutyEvents::new());
        let jira = Arc::new(JiraSite::new());
        let datadog = Arc::new(DatadogIntake::new());
        Vendors {
            slack_server: FakeServer::start(slack.clone()).await,
            teams_server: FakeServer::start(teams.clone()).await,
            pagerduty_server: FakeServer::start(pagerduty.clone()).await,
            jira_server: FakeServer::start(jira.clone()).await,
            datadog_server: FakeServer::start(datadog.clone()).await,
            slack,
            teams,
            pagerduty,
            jira,
            datadog,
        }
    }

    /// How many requests each vendor has received so far (answered or not).
    fn requests(&self) -> [usize; 5] {
        [
            &self.slack_server,
            &self.teams_server,
            &self.pagerduty_server,
            &self.jira_server,
            &self.datadog_server,
        ]
        .map(|s| s.log().len())
    }
}

fn jira_config() -> Value {
    json!({
        "site": "https://acme.atlassian.net",
        "email": EMAIL,
        "api_token": API_TOKEN,
        "tracking_issue": "OPS-1",
        "destinations": {"finops": {"project": "FIN", "issue_type": "Task", "labels": ["cost"]}},
    })
}

/// The dispatcher a Lambda builds, sending to `server` (scheme, host and port replaced, as
/// `notify --endpoint` does), with quick retries, no rate wait and one message per envelope.
async fn dispatcher<'a>(
    integration: Box<dyn Configured>,
    state: &'a MemoryState,
    server: &FakeServer,
) -> Dispatcher<'a> {
    Dispatcher::builder(integration, state)
        .endpoint(Some(url::Url::parse(&server.url()).unwrap()))
        .timeout(Duration::from_secs(5))
        .retry(RetryPolicy {
            max_attempts: 4,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(10),
        })
        .rate_limit(RateLimit::per_second(1000))
        .digest_from(usize::MAX)
        .lease(chrono::Duration::zero())
        .build()
        .await
        .unwrap()
}

/// One SQS message per envelope: its id is the envelope's id, its body the envelope's JSON.
fn message(n: &Notification) -> (String, String) {
    (n.id.clone(), serde_json::to_string(n).unwrap())
}

/// Every configured dispatcher, each with its own ledger and queue, in front of [`Vendors`].
struct Dispatchers<'a> {
    all: Vec<(&'static str, Dispatcher<'a>, MemoryQueue)>,
    /// Every message delivered so far, for the redelivery.
    delivered: Vec<(String, String)>,
}

/// The ledgers live as long as the scenario.
#[derive(Default)]
struct Ledgers {
    slack: MemoryState,
    teams: MemoryState,
    pagerduty: MemoryState,
    jira: MemoryState,
    datadog: MemoryState,
}

impl<'a> Dispatchers<'a> {
    async fn new(v: &Vendors, ledgers: &'a Ledgers) -> Dispatchers<'a> {
        let slack = entry::<Slack>()
            .load(json!({
                "bot_token": SLACK_TOKEN,
                "destinations": {"finops": {"channel": SLACK_CHANNEL}},
            }))
            .unwrap();
        let teams = entry::<Teams>()
            .load(json!({"destinations": {"finops": {
                "webhook_url": TeamsWorkflow::webhook_url("https://prod-00.westus.logic.azure.com:443"),
            }}}))
            .unwrap();
        let pagerduty = entry::<PagerDuty>()
            .load(json!({"destinations": {"oncall": {"routing_key": ROUTING_KEY}}}))
            .unwrap();
        let jira = entry::<Jira>().load(jira_config()).unwrap();
        let datadog = entry::<Datadog>()
            .load(json!({"destinations": {"prod": {"api_key": API_KEY, "site": "US1"}}}))
            .unwrap();
        let all = vec![
            (
                "slack",
                dispatcher(slack, &ledgers.slack, &v.slack_server).await,
                MemoryQueue::default(),
            ),
            (
                "teams",
                dispatcher(teams, &ledgers.teams, &v.teams_server).await,
                MemoryQueue::default(),
            ),
            (
                "pagerduty",
                dispatcher(pagerduty, &ledgers.pagerduty, &v.pagerduty_server).await,
                MemoryQueue::default(),
            ),
            (
                "jira",
                dispatcher(jira, &ledgers.jira, &v.jira_server).await,
                MemoryQueue::default(),
            ),
            (
                "datadog",
                dispatcher(datadog, &ledgers.datadog, &v.datadog_server).await,
                MemoryQueue::default(),
            ),
        ];
        Dispatchers {
            all,
            delivered: Vec::new(),
        }
    }

    /// One run's envelopes as SQS batches (ten to a batch) to every dispatcher, each message
    /// given back redelivered until none is; nothing may be dead-lettered.
    async fn deliver(&mut self, envelopes: &[Notification]) {
        let messages: Vec<(String, String)> = envelopes.iter().map(message).collect();
        self.send(messages.clone()).await;
        self.delivered.extend(messages);
    }

    async fn send(&self, messages: Vec<(String, String)>) {
        for (name, d, queue) in &self.all {
            let rounds = redeliver_until_drained(d, queue, messages.clone(), 5).await;
            assert!(rounds.is_ok(), "{name}: still coming back: {rounds:?}");
            let dead = queue.dead.lock().unwrap();
            let reasons: Vec<&String> = dead.iter().map(|(_, r)| r).collect();
            assert!(reasons.is_empty(), "{name} dead-lettered: {reasons:?}");
        }
    }

    /// SQS delivers every message of the scenario again, with the same ids, to the same
    /// dispatchers (same ledgers): no vendor receives a single request more.
    async fn redeliver_everything(&self, v: &Vendors) {
        let before = v.requests();
        self.send(self.delivered.clone()).await;
        assert_eq!(
            v.requests(),
            before,
            "requests to [slack, teams, pagerduty, jira, datadog] after the redelivery"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// What the vendors received, per subject.

fn subjects(envelopes: &[Notification]) -> BTreeSet<String> {
    envelopes.iter().map(|n| n.subject_id.clone()).collect()
}

/// Slack: the top-level messages (threads) and the replies in each.
fn slack_threads(slack: &FakeSlack) -> (Vec<SlackMessage>, Vec<SlackMessage>) {
    slack
        .messages()
        .into_iter()
        .partition(|m| m.thread_ts.is_none())
}

/// Jira: the issues carrying `subject`'s label.
fn jira_issues_of(jira: &JiraSite, subject: &str) -> usize {
    let label = subject_label(subject);
    jira.issues()
        .iter()
        .filter(|i| i.labels().contains(&label))
        .count()
}

/// Datadog: the events grouped under `subject`'s aggregation key.
fn datadog_events_of(datadog: &DatadogIntake, subject: &str) -> Vec<Value> {
    let key = aggregation_key(&[subject]);
    datadog
        .events()
        .into_iter()
        .filter(|e| e["aggregation_key"] == key.as_str())
        .collect()
}

fn metric_names(datadog: &DatadogIntake) -> BTreeSet<String> {
    datadog
        .series()
        .iter()
        .map(|s| s["metric"].as_str().unwrap().to_owned())
        .collect()
}

/// For every alerting subject (anomaly or budget breach): one PagerDuty alert with one incident,
/// one Jira issue, one Slack thread, and its Datadog events under one aggregation key.
fn one_of_each_per_subject(v: &Vendors, envelopes: &[Notification]) {
    let subjects = subjects(envelopes);
    for s in &subjects {
        let alert = v
            .pagerduty
            .alert(&dedup_key(s))
            .unwrap_or_else(|| panic!("no PagerDuty alert for {s}"));
        assert_eq!(alert.incidents, 1, "{s}: {:?}", alert.log);
        assert_eq!(jira_issues_of(&v.jira, s), 1, "{s}");
        assert!(!datadog_events_of(&v.datadog, s).is_empty(), "{s}");
    }
    assert_eq!(v.pagerduty.incidents() as usize, subjects.len());
    let (threads, replies) = slack_threads(&v.slack);
    assert_eq!(threads.len(), subjects.len(), "one Slack thread a subject");
    for r in &replies {
        assert!(
            threads.iter().any(|t| Some(&t.ts) == r.thread_ts.as_ref()),
            "a reply outside every thread: {r:?}"
        );
    }
    let fin: Vec<_> = v
        .jira
        .issues()
        .into_iter()
        .filter(|i| i.key.starts_with("FIN-"))
        .collect();
    assert_eq!(fin.len(), subjects.len(), "one Jira issue a subject");
    assert!(
        v.teams.failed_runs().is_empty(),
        "{:?}",
        v.teams.failed_runs()
    );
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

/// Scenario 1: the planted +200 % spike (SageMaker training in data-platform, on the last day)
/// is detected and alerted everywhere; the following days spend as usual, the anomaly resolves,
/// and every vendor closes what it opened on the same key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_1_a_cost_spike_alerts_everywhere_and_resolves_everywhere() {
    let cfg = PipelineConfig::default();
    let (org, store) = organisation(3, &cfg).await;
    let ports = ports(&store);
    let vendors = Vendors::start().await;
    let ledgers = Ledgers::default();
    let mut dispatchers = Dispatchers::new(&vendors, &ledgers).await;

    // Each day's run, and what it published delivered to every dispatcher (the anomalies; no
    // budgets are configured).
    let mut published: Vec<Notification> = Vec::new();
    for day in end().iter_days().take(4) {
        let run = run_day(&ports, &cfg, day, at(day)).await.unwrap();
        let anomalies: Vec<Notification> = run
            .notifications
            .into_iter()
            .filter(|n| n.kind() == "anomaly")
            .collect();
        dispatchers.deliver(&anomalies).await;
        published.extend(anomalies);
    }

    let spike_scope = Scope::AccountService {
        account: org.planted.spike_account.clone(),
        service: org.planted.spike_service.clone(),
    };
    let spike: Vec<&Notification> = published
        .iter()
        .filter(|n| n.scope.key == spike_scope.key())
        .collect();
    let life: Vec<State> = spike.iter().map(|n| n.state).collect();
    assert_eq!(
        life,
        [State::Open, State::Resolved],
        "back to normal the next day"
    );
    assert_eq!(subjects(&published).len(), 1, "nothing else alerted");
    let open = spike[0];
    let subject = open.subject_id.as_str();
    assert!(spike.iter().all(|n| n.subject_id == subject));
    let NotificationBody::Anomaly(fig) = &open.body else {
        panic!("not an anomaly")
    };
    assert_eq!(fig.date, org.planted.spike_date);
    assert!(
        fig.impact_pct.is_some_and(|p| p > 150.0),
        "about +200 %: {:?}",
        fig.impact_pct
    );

    // PagerDuty: triggered, then resolved on the same dedup_key; one incident.
    let alert = vendors.pagerduty.alert(&dedup_key(subject)).unwrap();
    assert_eq!(alert.log, ["trigger", "resolve"]);
    // The spike's severity (high: over $1,000 or +100 %) mapped to PagerDuty's.
    assert_eq!(open.severity, Severity::High);
    assert_eq!(alert.payload["severity"], "error");
    assert_eq!(alert.status, Status::Resolved);
    assert_eq!(alert.incidents, 1);

    // Jira: one issue, moved through the "Done" transition, a comment per later state.
    let label = subject_label(subject);
    let issue = vendors
        .jira
        .issues()
        .into_iter()
        .find(|i| i.labels().contains(&label))
        .unwrap();
    assert_eq!(issue.status, "Done");
    assert_eq!(issue.comments.len(), spike.len() - 1);

    // Slack: one thread; the original message updated to the resolved state, the later states
    // replied in its thread.
    let (threads, replies) = slack_threads(&vendors.slack);
    // (an updated message carries the reference of its latest state)
    let mentions = |m: &SlackMessage, n: &Notification| {
        serde_json::to_string(&m.blocks).unwrap().contains(&n.id)
    };
    let original = threads
        .iter()
        .find(|m| spike.iter().any(|n| mentions(m, n)))
        .unwrap_or_else(|| panic!("no Slack thread for the spike: {threads:#?}"));
    assert!(mentions(original, spike[spike.len() - 1]), "{original:?}");
    assert!(original.updates >= 1, "{original:?}");
    let in_thread = replies
        .iter()
        .filter(|r| r.thread_ts.as_ref() == Some(&original.ts))
        .count();
    assert_eq!(in_thread, spike.len() - 1);

    // Teams: a card for each state of the anomaly.
    let cards = vendors.teams.posted();
    for n in &spike {
        assert_eq!(
            cards
                .iter()
                .filter(|c| c.to_string().contains(&n.id))
                .count(),
            1,
            "{:?}",
            n.state
        );
    }

    // Datadog: the impact as a metric, and an event per state under one aggregation key.
    assert!(metric_names(&vendors.datadog).contains("costwatch.anomaly.impact"));
    let events = datadog_events_of(&vendors.datadog, subject);
    assert_eq!(events.len(), spike.len(), "{events:#?}");

    // Every request each vendor received: Slack post, update and thread reply; two Teams cards;
    // PagerDuty trigger and resolve; Jira search, create, comment, transitions looked up, and
    // the transition; Datadog series and event for each state.
    assert_eq!(vendors.requests(), [3, 2, 2, 5, 4]);

    one_of_each_per_subject(&vendors, &published);
    dispatchers.redeliver_everything(&vendors).await;
    one_of_each_per_subject(&vendors, &published);
}
