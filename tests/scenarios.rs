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
use costwatch_analytics::budget::{Budget, default_thresholds};
use costwatch_core::findings::{Recommendation, ThresholdBasis};
use costwatch_core::notification::{ReportPeriod, Severity};
use costwatch_core::{Money, Notification, NotificationBody, Scope, State, envelopes, synth};
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
use costwatch_pipeline::run::report_day;
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
async fn organisation(
    after: u64,
    config: impl Fn(&synth::SyntheticOrg) -> PipelineConfig,
) -> (synth::SyntheticOrg, MemoryStore, PipelineConfig) {
    let mut org = synth::generate(synth::DEFAULT_SEED, end(), 120);
    let cfg = config(&org);
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
        &cfg,
        &collected.days,
    )
    .await
    .unwrap();
    (org, store, cfg)
}

fn ports(store: &MemoryStore) -> Ports<'_> {
    Ports {
        lake: &store.lake,
        rollups: &store.rollups,
        state: &store.state,
        bus: &store.bus,
    }
}

/// The planted budgets as a user would configure them: scope and amount, and no thresholds
/// (the default ones: 50, 80, 100, 120 % of actual, 100 % of forecast).
fn default_budgets(org: &synth::SyntheticOrg) -> Vec<Budget> {
    org.planted
        .budgets
        .iter()
        .map(|(name, scope, amount)| Budget {
            name: name.clone(),
            scope: scope.clone(),
            amount: *amount,
            thresholds: default_thresholds(),
        })
        .collect()
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

    /// The Jira tracking issue the daily report comments on (OPS-1), filed before costwatch runs
    /// as any issue would be.
    async fn file_tracking_issue(&self) {
        let state = MemoryState::default();
        let mut cfg = jira_config();
        cfg["destinations"] = json!({"ops": {"project": "OPS"}});
        let d = dispatcher(
            entry::<Jira>().load(cfg).unwrap(),
            &state,
            &self.jira_server,
        )
        .await;
        let mut tracking = costwatch_core::samples::of_kind("test");
        tracking.id = "ntf_tracking".into();
        let queue = MemoryQueue::default();
        redeliver_until_drained(&d, &queue, vec![message(&tracking)], 3)
            .await
            .unwrap();
        assert_eq!(self.jira.issues()[0].key, "OPS-1");
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
    let (org, store, cfg) = organisation(3, |_| PipelineConfig::default()).await;
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

/// Scenario 2: a $500/month saving. Nothing in the pipeline produces recommendations yet (the
/// recommendations issue), so, as issue 12 allows, the envelope is built with the same builder
/// the pipeline will use (`envelopes::recommendation`) and driven through every dispatcher.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_2_a_monthly_saving_is_posted_ticketed_and_measured() {
    let vendors = Vendors::start().await;
    let ledgers = Ledgers::default();
    let mut dispatchers = Dispatchers::new(&vendors, &ledgers).await;
    let saving = Recommendation {
        category: "rightsizing".into(),
        title: "Downsize idle m6i.4xlarge instance to m6i.xlarge".into(),
        account: Some("222233334444".into()),
        service: Some("Amazon Elastic Compute Cloud - Compute".into()),
        resource_id: Some("i-0abc123def4567890".into()),
        current_monthly_cost: Money::from(667),
        monthly_savings: Money::from(500),
        action: "CPU peaked at 9% over 14 days; an m6i.xlarge covers it.".into(),
    };
    let n = envelopes::recommendation(&saving, at(end()));
    assert_eq!(n.kind(), "recommendation");
    let subject = n.subject_id.clone();
    dispatchers.deliver(std::slice::from_ref(&n)).await;

    // Slack: one message (one thread) with the saving.
    let (threads, replies) = slack_threads(&vendors.slack);
    assert_eq!((threads.len(), replies.len()), (1, 0), "{threads:#?}");
    let text = serde_json::to_string(&threads[0].blocks).unwrap();
    assert!(text.contains("$500.00") && text.contains(&n.id), "{text}");
    // Teams: one card with the saving.
    let cards = vendors.teams.posted();
    assert_eq!(cards.len(), 1);
    assert!(cards[0].to_string().contains("$500.00"), "{}", cards[0]);
    assert!(vendors.teams.failed_runs().is_empty());
    // Jira: one issue for the recommendation, labelled with its subject.
    assert_eq!(vendors.jira.issues().len(), 1);
    assert_eq!(jira_issues_of(&vendors.jira, &subject), 1);
    assert_eq!(vendors.jira.issues()[0].status, "To Do");
    // Datadog: the saving (and the current cost) as metrics; a recommendation is no event.
    let savings: Vec<f64> = vendors
        .datadog
        .series()
        .iter()
        .filter(|s| s["metric"] == "costwatch.recommendation.monthly_savings")
        .map(|s| s["points"][0]["value"].as_f64().unwrap())
        .collect();
    assert_eq!(savings, [500.0]);
    assert!(
        metric_names(&vendors.datadog).contains("costwatch.recommendation.current_monthly_cost")
    );
    assert!(vendors.datadog.events().is_empty());
    // PagerDuty (configured too): a change event on the timeline, never an incident.
    assert_eq!(vendors.pagerduty.incidents(), 0);
    assert_eq!(vendors.pagerduty.changes().len(), 1);

    let sent = vendors.requests();
    dispatchers.redeliver_everything(&vendors).await;
    assert_eq!(vendors.jira.issues().len(), 1);
    assert_eq!(vendors.requests(), sent);
}

/// Scenario 3: the data-platform account's monthly budget at 150 % on the organisation's last
/// day, with the default configuration (the planted budgets' scope and amount, the default
/// thresholds). A breach is graded by the highest threshold it crossed (`envelopes::budget`:
/// ≥ 120 % of actual is critical) and the default thresholds include 120 % of actual, so a budget
/// at 150 % pages PagerDuty `critical`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_3_a_budget_at_150_percent_pages_tickets_and_measures() {
    let (org, store, cfg) = organisation(0, |org| PipelineConfig {
        budgets: default_budgets(org),
        ..PipelineConfig::default()
    })
    .await;
    let vendors = Vendors::start().await;
    let ledgers = Ledgers::default();
    let mut dispatchers = Dispatchers::new(&vendors, &ledgers).await;

    let run = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    let budgets: Vec<Notification> = run
        .notifications
        .into_iter()
        .filter(|n| n.kind() == "budget")
        .collect();
    dispatchers.deliver(&budgets).await;
    // A re-run of the day publishes nothing.
    let again = run_day(&ports(&store), &cfg, end(), at(end()))
        .await
        .unwrap();
    assert!(again.notifications.iter().all(|n| n.kind() != "budget"));

    let data_platform = Scope::Account(org.planted.spike_account.clone());
    let breach = budgets
        .iter()
        .find(|n| {
            n.scope.key == data_platform.key()
                && matches!(&n.body, NotificationBody::Budget(b) if b.basis == ThresholdBasis::Actual)
        })
        .unwrap_or_else(|| panic!("no actual-spend breach: {budgets:#?}"));
    let NotificationBody::Budget(fig) = &breach.body else {
        unreachable!()
    };
    assert_eq!(
        fig.threshold_percent, 120,
        "the highest default threshold crossed"
    );
    assert!(
        (fig.percent_of_limit - 150.0).abs() < 0.5,
        "{}",
        fig.percent_of_limit
    );
    assert_eq!(breach.state, State::Open);

    // PagerDuty: one alert triggered on the breach's dedup_key, one incident, critical.
    assert_eq!(breach.severity, Severity::Critical);
    let alert = vendors
        .pagerduty
        .alert(&dedup_key(&breach.subject_id))
        .unwrap();
    assert_eq!(alert.log, ["trigger"]);
    assert_eq!(alert.status, Status::Triggered);
    assert_eq!(alert.payload["severity"], "critical");

    // Jira: one issue for the breach.
    assert_eq!(jira_issues_of(&vendors.jira, &breach.subject_id), 1);
    // Slack and Teams: the breach posted, with its 150 %.
    let (threads, _) = slack_threads(&vendors.slack);
    let post = threads
        .iter()
        .find(|m| {
            serde_json::to_string(&m.blocks)
                .unwrap()
                .contains(&breach.id)
        })
        .expect("the breach in Slack");
    assert!(serde_json::to_string(&post.blocks).unwrap().contains("150"));
    let cards = vendors.teams.posted();
    assert_eq!(
        cards
            .iter()
            .filter(|c| c.to_string().contains(&breach.id))
            .count(),
        1
    );
    // Datadog: budget against actual as metrics, and the breach as an event under its key.
    let names = metric_names(&vendors.datadog);
    for m in [
        "costwatch.budget.percent_used",
        "costwatch.budget.actual",
        "costwatch.budget.limit",
    ] {
        assert!(names.contains(m), "{m}: {names:?}");
    }
    let used: Vec<f64> = vendors
        .datadog
        .series()
        .iter()
        .filter(|s| {
            s["metric"] == "costwatch.budget.percent_used"
                && s["tags"]
                    .to_string()
                    .contains(&fig.budget.replace(' ', "_"))
        })
        .map(|s| s["points"][0]["value"].as_f64().unwrap())
        .collect();
    assert!(used.iter().any(|p| (p - 150.0).abs() < 0.5), "{used:?}");
    let events = datadog_events_of(&vendors.datadog, &breach.subject_id);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["alert_type"], "error");

    // The run's three budget subjects (data-platform over 120 % of actual, its forecast over 100 %,
    // the organisation past 50 %), each once: Slack, Teams and PagerDuty one request each, Jira a
    // search and a create each, Datadog series and event each.
    assert_eq!(budgets.len(), 3, "{budgets:#?}");
    assert_eq!(vendors.requests(), [3, 3, 3, 6, 6]);
    // Every budget subject of the run: one incident, one ticket, one thread.
    assert_eq!(vendors.teams.posted().len(), budgets.len());
    one_of_each_per_subject(&vendors, &budgets);
    dispatchers.redeliver_everything(&vendors).await;
    one_of_each_per_subject(&vendors, &budgets);
}

/// Scenario 4: the daily report of the organisation's last day (budgets configured as in
/// scenario 3) → Slack (with its chart in the thread), Teams, Datadog metrics, and a comment on
/// the Jira tracking issue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_4_the_daily_report_is_posted_measured_and_commented() {
    let (_, store, cfg) = organisation(0, |org| PipelineConfig {
        budgets: default_budgets(org),
        ..PipelineConfig::default()
    })
    .await;
    let vendors = Vendors::start().await;
    vendors.file_tracking_issue().await;
    let filed = vendors.requests();
    let ledgers = Ledgers::default();
    let mut dispatchers = Dispatchers::new(&vendors, &ledgers).await;

    let ports = ports(&store);
    let run = run_day(&ports, &cfg, end(), at(end())).await.unwrap();
    let (report, _page) = report_day(&ports, &cfg, &run, ReportPeriod::Daily, at(end()))
        .await
        .unwrap();
    let NotificationBody::Report(fig) = &report.body else {
        panic!("not a report")
    };
    assert_eq!((fig.start, fig.end), (end(), end()));
    dispatchers.deliver(std::slice::from_ref(&report)).await;

    // Slack: one thread, the report, with its chart uploaded into the thread.
    let (threads, replies) = slack_threads(&vendors.slack);
    assert_eq!(threads.len(), 1, "{threads:#?}");
    assert!(
        serde_json::to_string(&threads[0].blocks)
            .unwrap()
            .contains(&report.id)
    );
    assert_eq!(replies.len(), 1, "{replies:#?}");
    assert_eq!(replies[0].via, "file");
    assert_eq!(replies[0].thread_ts.as_ref(), Some(&threads[0].ts));
    assert!(
        String::from_utf8_lossy(vendors.slack.files().values().next().unwrap()).starts_with("<svg")
    );
    // Teams: one card.
    let cards = vendors.teams.posted();
    assert_eq!(cards.len(), 1);
    assert!(cards[0].to_string().contains(&report.id));
    assert!(vendors.teams.failed_runs().is_empty());
    // Datadog: the day's cost (timestamped with the cost day), month to date, open anomalies,
    // the top services and the budgets as metrics; a report is no event. (The month-end
    // forecast the report shows is not among them: Datadog gets it from forecast envelopes.)
    let names = metric_names(&vendors.datadog);
    for m in [
        "costwatch.cost.daily",
        "costwatch.cost.month_to_date",
        "costwatch.cost.service.daily",
        "costwatch.anomalies.open",
        "costwatch.budget.percent_used",
    ] {
        assert!(names.contains(m), "{m}: {names:?}");
    }
    let daily: Vec<Value> = vendors
        .datadog
        .series()
        .into_iter()
        .filter(|s| s["metric"] == "costwatch.cost.daily")
        .collect();
    assert_eq!(daily.len(), 1);
    let cost_day = Utc.from_utc_datetime(&end().and_hms_opt(0, 0, 0).unwrap());
    assert_eq!(daily[0]["points"][0]["timestamp"], cost_day.timestamp());
    let total = daily[0]["points"][0]["value"].as_f64().unwrap();
    assert!(
        (total - fig.total.to_string().parse::<f64>().unwrap()).abs() < 0.01,
        "{total} vs {}",
        fig.total
    );
    assert!(vendors.datadog.events().is_empty());
    // Jira: a comment on the tracking issue, no new issue.
    let issues = vendors.jira.issues();
    assert_eq!(issues.len(), 1, "only the tracking issue");
    assert_eq!(issues[0].key, "OPS-1");
    assert_eq!(issues[0].comments.len(), 1);
    assert!(issues[0].comments[0].to_string().contains(&report.id));
    // PagerDuty (configured too): a change event, never an incident.
    assert_eq!(vendors.pagerduty.incidents(), 0);
    assert_eq!(vendors.pagerduty.changes().len(), 1);
    // Slack: the post and the chart's three upload calls; Jira: the tracking issue's search and
    // create (filed before), then one comment; one request each for the others.
    assert_eq!(filed, [0, 0, 0, 2, 0]);
    assert_eq!(vendors.requests(), [4, 1, 1, 3, 1]);

    dispatchers.redeliver_everything(&vendors).await;
    assert_eq!(vendors.jira.issues()[0].comments.len(), 1);
    assert_eq!(vendors.teams.posted().len(), 1);
}
