//! The four user scenarios of issue 12, end to end: the synthetic organisation (crates/core
//! `synth`) collected and aggregated into the in-memory store, the day's run (detect → forecast →
//! budgets, or the report), the envelopes it published, every dispatcher (Slack, Teams,
//! PagerDuty, Jira, Datadog) through the SQS batch handler with its own memory ledger, and the
//! vendor fakes on loopback.
//!
//! The building blocks ([`Vendors`], [`Dispatchers`], the `scenario_*` runners) serve the
//! end-to-end tests (tests/scenarios.rs), which assert on the fakes' state; [`run_all`] runs the
//! four scenarios one after the other, redelivers everything, and says per scenario what each
//! vendor received (`costwatch demo --integrations fakes`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use costwatch_analytics::budget::{Budget, default_thresholds};
use costwatch_core::notification::ReportPeriod;
use costwatch_core::{Notification, synth};
use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sqs::{MemoryQueue, redeliver_until_drained};
use costwatch_dispatch::{Configured, RateLimit, entry};
use costwatch_dispatch_datadog::Datadog;
use costwatch_dispatch_datadog::encoder::aggregation_key;
use costwatch_dispatch_jira::Jira;
use costwatch_dispatch_jira::encoder::subject_label;
use costwatch_dispatch_pagerduty::PagerDuty;
use costwatch_dispatch_slack::Slack;
use costwatch_dispatch_teams::Teams;
use costwatch_pipeline::run::report_day;
use costwatch_pipeline::{PipelineConfig, Ports, aggregate, collect, run_day};
use costwatch_store::MemoryStore;
use costwatch_store::memory::{MemoryCostSource, MemoryState};
use costwatch_vendor_fakes::datadog::{API_KEY, DatadogIntake};
use costwatch_vendor_fakes::jira::{API_TOKEN, EMAIL, JiraSite};
use costwatch_vendor_fakes::pagerduty::{PagerDutyEvents, ROUTING_KEY};
use costwatch_vendor_fakes::server::{FakeServer, Received};
use costwatch_vendor_fakes::slack::{FakeSlack, SlackMessage};
use costwatch_vendor_fakes::teams::TeamsWorkflow;
use serde::Serialize;
use serde_json::{Value, json};

pub mod saving;
pub use saving::scenario_2;

// ---------------------------------------------------------------------------------------------
// The organisation and the pipeline.

/// The synthetic organisation's last day: the planted +200 % spike, and the data-platform
/// account at 150 % of its monthly budget.
pub fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default()
}

/// When the run for `day` happens: the next morning.
pub fn at(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(6, 0, 0).unwrap_or_default()) + chrono::Duration::days(1)
}

/// The synthetic organisation's 120 days to [`end`], then `after` more days of ordinary spend
/// (each a copy of the same weekday a week before: the spike is not repeated), collected and
/// aggregated into a memory store.
pub async fn organisation(
    after: u64,
    config: impl Fn(&synth::SyntheticOrg) -> PipelineConfig,
) -> Result<(synth::SyntheticOrg, MemoryStore, PipelineConfig)> {
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
        ensure!(!copies.is_empty(), "no spend to copy onto {day}");
        org.records.extend(copies);
    }
    let last = end() + Days::new(after);
    let store = MemoryStore::default();
    cfg.validate()?;
    let source = MemoryCostSource::new(org.records.clone());
    let collected = collect::collect(&source, &store.lake, org.start, last).await?;
    aggregate::aggregate(
        &store.lake,
        &store.rollups,
        &store.state,
        &cfg,
        &collected.days,
    )
    .await?;
    Ok((org, store, cfg))
}

pub fn ports(store: &MemoryStore) -> Ports<'_> {
    Ports {
        lake: &store.lake,
        rollups: &store.rollups,
        state: &store.state,
        bus: &store.bus,
    }
}

/// The planted budgets as a user would configure them: scope and amount, and no thresholds
/// (the default ones: 50, 80, 100, 120 % of actual, 100 % of forecast).
pub fn default_budgets(org: &synth::SyntheticOrg) -> Vec<Budget> {
    org.planted
        .budgets
        .iter()
        .map(|(name, scope, amount)| Budget {
            name: name.clone(),
            scope: scope.clone(),
            period: Default::default(),
            start_month: None,
            amount: *amount,
            auto_adjust_months: None,
            planned_amounts: Default::default(),
            thresholds: default_thresholds(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The vendors and their dispatchers.

pub const SLACK_TOKEN: &str = "xoxb-1-2-scenariotokenXYZ";
pub const SLACK_CHANNEL: &str = "C0FINOPS";

/// The vendors in the order of [`Vendors::requests`].
pub const VENDORS: [&str; 5] = ["slack", "teams", "pagerduty", "jira", "datadog"];

/// The five vendor fakes, each on its own loopback port.
pub struct Vendors {
    pub slack: Arc<FakeSlack>,
    pub slack_server: FakeServer,
    pub teams: Arc<TeamsWorkflow>,
    pub teams_server: FakeServer,
    pub pagerduty: Arc<PagerDutyEvents>,
    pub pagerduty_server: FakeServer,
    pub jira: Arc<JiraSite>,
    pub jira_server: FakeServer,
    pub datadog: Arc<DatadogIntake>,
    pub datadog_server: FakeServer,
}

impl Vendors {
    /// Starts the five fakes; call inside a tokio runtime.
    pub async fn start() -> Vendors {
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

    fn servers(&self) -> [&FakeServer; 5] {
        [
            &self.slack_server,
            &self.teams_server,
            &self.pagerduty_server,
            &self.jira_server,
            &self.datadog_server,
        ]
    }

    /// How many requests each vendor has received so far (answered or not), in [`VENDORS`]
    /// order.
    pub fn requests(&self) -> [usize; 5] {
        self.servers().map(|s| s.log().len())
    }

    /// The Jira tracking issue the daily report comments on (OPS-1), filed before costwatch runs
    /// as any issue would be.
    pub async fn file_tracking_issue(&self) -> Result<()> {
        let state = MemoryState::default();
        let mut cfg = jira_config();
        cfg["destinations"] = json!({"ops": {"project": "OPS"}});
        let d = dispatcher(entry::<Jira>().load(cfg)?, &state, &self.jira_server).await?;
        let mut tracking = costwatch_core::samples::of_kind("test");
        tracking.id = "ntf_tracking".into();
        let queue = MemoryQueue::default();
        redeliver_until_drained(&d, &queue, vec![message(&tracking)?], 3)
            .await
            .map_err(|e| anyhow::anyhow!("filing the tracking issue: {e:?}"))?;
        let key = self.jira.issues().first().map(|i| i.key.clone());
        ensure!(
            key.as_deref() == Some("OPS-1"),
            "the tracking issue is {key:?}, not OPS-1"
        );
        Ok(())
    }

    /// What each vendor received, request by request, in [`VENDORS`] order.
    pub fn received(&self) -> Vec<VendorReport> {
        let describe: [fn(&Vendors, &Received) -> String; 5] = [
            |_, r| slack_request(r),
            |_, r| teams_request(r),
            |_, r| pagerduty_request(r),
            jira_request,
            |_, r| datadog_request(r),
        ];
        VENDORS
            .iter()
            .zip(self.servers())
            .zip(describe)
            .map(|((vendor, server), describe)| {
                let log = server.log();
                VendorReport {
                    vendor: (*vendor).to_owned(),
                    requests: log.len(),
                    received: log
                        .iter()
                        .map(|(r, status)| match status {
                            Some(s) if (200..300).contains(s) => describe(self, r),
                            Some(s) => format!("{} (answered {s})", describe(self, r)),
                            None => format!("{} (no answer)", describe(self, r)),
                        })
                        .collect(),
                }
            })
            .collect()
    }
}

pub fn jira_config() -> Value {
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
pub async fn dispatcher<'a>(
    integration: Box<dyn Configured>,
    state: &'a MemoryState,
    server: &FakeServer,
) -> Result<Dispatcher<'a>> {
    Ok(Dispatcher::builder(integration, state)
        .endpoint(Some(url::Url::parse(&server.url())?))
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
        .await?)
}

/// One SQS message per envelope: its id is the envelope's id, its body the envelope's JSON.
pub fn message(n: &Notification) -> Result<(String, String)> {
    Ok((n.id.clone(), serde_json::to_string(n)?))
}

/// Every configured dispatcher, each with its own ledger and queue, in front of [`Vendors`].
pub struct Dispatchers<'a> {
    all: Vec<(&'static str, Dispatcher<'a>, MemoryQueue)>,
    /// Every message delivered so far, for the redelivery.
    delivered: Vec<(String, String)>,
}

/// The ledgers live as long as the scenario.
#[derive(Default)]
pub struct Ledgers {
    slack: MemoryState,
    teams: MemoryState,
    pagerduty: MemoryState,
    jira: MemoryState,
    datadog: MemoryState,
}

impl<'a> Dispatchers<'a> {
    pub async fn new(v: &Vendors, ledgers: &'a Ledgers) -> Result<Dispatchers<'a>> {
        let slack = entry::<Slack>().load(json!({
            "bot_token": SLACK_TOKEN,
            "destinations": {"finops": {"channel": SLACK_CHANNEL}},
        }))?;
        let teams = entry::<Teams>().load(json!({"destinations": {"finops": {
            "webhook_url": TeamsWorkflow::webhook_url("https://prod-00.westus.logic.azure.com:443"),
        }}}))?;
        let pagerduty = entry::<PagerDuty>()
            .load(json!({"destinations": {"oncall": {"routing_key": ROUTING_KEY}}}))?;
        let jira = entry::<Jira>().load(jira_config())?;
        let datadog = entry::<Datadog>()
            .load(json!({"destinations": {"prod": {"api_key": API_KEY, "site": "US1"}}}))?;
        let all = vec![
            (
                "slack",
                dispatcher(slack, &ledgers.slack, &v.slack_server).await?,
                MemoryQueue::default(),
            ),
            (
                "teams",
                dispatcher(teams, &ledgers.teams, &v.teams_server).await?,
                MemoryQueue::default(),
            ),
            (
                "pagerduty",
                dispatcher(pagerduty, &ledgers.pagerduty, &v.pagerduty_server).await?,
                MemoryQueue::default(),
            ),
            (
                "jira",
                dispatcher(jira, &ledgers.jira, &v.jira_server).await?,
                MemoryQueue::default(),
            ),
            (
                "datadog",
                dispatcher(datadog, &ledgers.datadog, &v.datadog_server).await?,
                MemoryQueue::default(),
            ),
        ];
        Ok(Dispatchers {
            all,
            delivered: Vec::new(),
        })
    }

    /// One run's envelopes as SQS batches (ten to a batch) to every dispatcher, each message
    /// given back redelivered until none is; nothing may be dead-lettered.
    pub async fn deliver(&mut self, envelopes: &[Notification]) -> Result<()> {
        let messages = envelopes.iter().map(message).collect::<Result<Vec<_>>>()?;
        self.send(messages.clone()).await?;
        self.delivered.extend(messages);
        Ok(())
    }

    async fn send(&self, messages: Vec<(String, String)>) -> Result<()> {
        for (name, d, queue) in &self.all {
            let rounds = redeliver_until_drained(d, queue, messages.clone(), 5).await;
            ensure!(rounds.is_ok(), "{name}: still coming back: {rounds:?}");
            let dead = queue
                .dead
                .lock()
                .map_err(|_| anyhow::anyhow!("{name}: dead-letter queue poisoned"))?;
            let reasons: Vec<&String> = dead.iter().map(|(_, r)| r).collect();
            ensure!(reasons.is_empty(), "{name} dead-lettered: {reasons:?}");
        }
        Ok(())
    }

    /// SQS delivers every message of the scenario again, with the same ids, to the same
    /// dispatchers (same ledgers): no vendor may receive a single request more (an error if one
    /// does).
    pub async fn redeliver_everything(&self, v: &Vendors) -> Result<()> {
        let before = v.requests();
        self.send(self.delivered.clone()).await?;
        let after = v.requests();
        ensure!(
            after == before,
            "requests to {VENDORS:?} after the redelivery: {after:?}, before: {before:?}"
        );
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The scenarios: each runs the pipeline (or builds its envelope) and delivers what it published
// to every dispatcher; the caller redelivers and inspects the vendors.

/// Scenario 1: the planted +200 % spike (SageMaker training in data-platform, on the last day)
/// and the three following days of ordinary spend, one run a day, no budgets configured. Every
/// anomaly envelope the runs published is delivered; returns the organisation and them.
pub async fn scenario_1(
    d: &mut Dispatchers<'_>,
) -> Result<(synth::SyntheticOrg, Vec<Notification>)> {
    let (org, store, cfg) = organisation(3, |_| PipelineConfig::default()).await?;
    let ports = ports(&store);
    let mut published: Vec<Notification> = Vec::new();
    for day in end().iter_days().take(4) {
        let run = run_day(&ports, &cfg, day, at(day)).await?;
        let anomalies: Vec<Notification> = run
            .notifications
            .into_iter()
            .filter(|n| n.kind() == "anomaly")
            .collect();
        d.deliver(&anomalies).await?;
        published.extend(anomalies);
    }
    Ok((org, published))
}

/// Scenario 3: the organisation's last day with the default budget configuration (the planted
/// budgets' scope and amount, the default thresholds): the data-platform account at 150 % of
/// its monthly budget. Returns the organisation, the budget envelopes of the run (delivered)
/// and what a re-run of the same day published (not delivered).
pub async fn scenario_3(
    d: &mut Dispatchers<'_>,
) -> Result<(synth::SyntheticOrg, Vec<Notification>, Vec<Notification>)> {
    let (org, store, cfg) = organisation(0, |org| PipelineConfig {
        budgets: default_budgets(org),
        ..PipelineConfig::default()
    })
    .await?;
    let run = run_day(&ports(&store), &cfg, end(), at(end())).await?;
    let budgets: Vec<Notification> = run
        .notifications
        .into_iter()
        .filter(|n| n.kind() == "budget")
        .collect();
    d.deliver(&budgets).await?;
    let again = run_day(&ports(&store), &cfg, end(), at(end())).await?;
    Ok((org, budgets, again.notifications))
}

/// Scenario 4: the daily report of the organisation's last day (budgets configured as in
/// scenario 3); returns the report envelope, delivered. File the Jira tracking issue first
/// ([`Vendors::file_tracking_issue`]): the report is commented on it.
pub async fn scenario_4(d: &mut Dispatchers<'_>) -> Result<Notification> {
    let (_, store, cfg) = organisation(0, |org| PipelineConfig {
        budgets: default_budgets(org),
        ..PipelineConfig::default()
    })
    .await?;
    let ports = ports(&store);
    let run = run_day(&ports, &cfg, end(), at(end())).await?;
    let (report, _page) = report_day(&ports, &cfg, &run, ReportPeriod::Daily, at(end())).await?;
    d.deliver(std::slice::from_ref(&report)).await?;
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// All four, and what each vendor received.

/// One scenario as `costwatch demo --integrations fakes` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub scenario: u8,
    pub title: String,
    /// The envelopes delivered to every dispatcher, as `kind state severity: subject`.
    pub envelopes: Vec<String>,
    /// Per subject of an envelope that opens a ticket (anomaly, budget, recommendation): the
    /// keys of the Jira issues labelled with it.
    pub jira_issues_per_subject: BTreeMap<String, Vec<String>>,
    /// Every message delivered a second time (same ids, same ledgers): requests it caused.
    pub requests_after_redelivery: usize,
    /// What each vendor received, in [`VENDORS`] order.
    pub vendors: Vec<VendorReport>,
}

/// What one vendor fake received during a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct VendorReport {
    pub vendor: String,
    pub requests: usize,
    /// One line a request, in arrival order.
    pub received: Vec<String>,
}

/// The four scenarios, each on fresh vendor fakes and dispatchers: run, delivered, everything
/// redelivered, and what each vendor received.
pub async fn run_all() -> Result<Vec<ScenarioReport>> {
    let mut reports = Vec::new();
    for scenario in 1..=4u8 {
        let vendors = Vendors::start().await;
        // Scenario 2's weekly report and scenario 4's daily one comment on it.
        let tracking = scenario == 2 || scenario == 4;
        if tracking {
            vendors.file_tracking_issue().await?;
        }
        let filed = vendors.requests();
        let ledgers = Ledgers::default();
        let mut d = Dispatchers::new(&vendors, &ledgers).await?;
        let (title, envelopes) = match scenario {
            1 => (
                "the planted +200 % cost spike alerted everywhere, then resolved everywhere",
                scenario_1(&mut d).await?.1,
            ),
            2 => (
                "a $500/month saving posted, ticketed, resolved when implemented and measured",
                scenario_2(&mut d).await?.envelopes(),
            ),
            3 => (
                "a budget at 150 % pages, tickets and measures",
                scenario_3(&mut d).await?.1,
            ),
            _ => (
                "the daily report posted, measured and commented on the tracking issue",
                vec![scenario_4(&mut d).await?],
            ),
        };
        let sent = vendors.requests();
        d.redeliver_everything(&vendors)
            .await
            .with_context(|| format!("scenario {scenario}"))?;
        let again: usize = vendors.requests().iter().sum::<usize>() - sent.iter().sum::<usize>();
        let mut received = vendors.received();
        if tracking {
            // The tracking issue's own requests came before costwatch ran.
            for (report, before) in received.iter_mut().zip(filed) {
                report.received.drain(..before);
                report.requests -= before;
            }
        }
        let jira_issues_per_subject = subjects(
            &envelopes
                .iter()
                .filter(|n| matches!(n.kind(), "anomaly" | "budget" | "recommendation"))
                .cloned()
                .collect::<Vec<_>>(),
        )
        .into_iter()
        .map(|s| {
            let label = subject_label(&s);
            let keys = vendors
                .jira
                .issues()
                .into_iter()
                .filter(|i| i.labels().contains(&label))
                .map(|i| i.key)
                .collect();
            (s, keys)
        })
        .collect();
        reports.push(ScenarioReport {
            scenario,
            title: title.to_owned(),
            envelopes: envelopes
                .iter()
                .map(|n| {
                    format!(
                        "{} {:?} {:?}: {}",
                        n.kind(),
                        n.state,
                        n.severity,
                        n.subject_id
                    )
                    .to_lowercase()
                })
                .collect(),
            jira_issues_per_subject,
            requests_after_redelivery: again,
            vendors: received,
        });
    }
    Ok(reports)
}

/// The reports as text: per scenario, per vendor, one line a request.
pub fn render(reports: &[ScenarioReport]) -> String {
    let mut out = String::new();
    for r in reports {
        out.push_str(&format!(
            "scenario {}: {} ({} envelope{}; redelivered: {} more request{})\n",
            r.scenario,
            r.title,
            r.envelopes.len(),
            if r.envelopes.len() == 1 { "" } else { "s" },
            r.requests_after_redelivery,
            if r.requests_after_redelivery == 1 {
                ""
            } else {
                "s"
            },
        ));
        for v in &r.vendors {
            out.push_str(&format!(
                "  {}: {} request{}\n",
                v.vendor,
                v.requests,
                if v.requests == 1 { "" } else { "s" },
            ));
            for line in &v.received {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

fn path_of(r: &Received) -> &str {
    r.path.split('?').next().unwrap_or_default()
}

fn slack_request(r: &Received) -> String {
    let path = path_of(r);
    if path.starts_with("/upload/") {
        return format!("chart uploaded ({} bytes)", r.body.len());
    }
    let body = r.json().unwrap_or_else(|| {
        Value::Object(
            url::form_urlencoded::parse(&r.body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect(),
        )
    });
    let channel = body["channel"]
        .as_str()
        .or(body["channel_id"].as_str())
        .unwrap_or("?");
    match path.strip_prefix("/api/").unwrap_or(path) {
        "chat.postMessage" if body["thread_ts"].is_string() => {
            format!("thread reply in #{channel}")
        }
        "chat.postMessage" => format!("posted in #{channel}"),
        "chat.update" => format!("message updated in #{channel}"),
        "files.getUploadURLExternal" => format!(
            "upload URL asked for {}",
            body["filename"].as_str().unwrap_or("a file")
        ),
        "files.completeUploadExternal" => format!("chart shared in the thread in #{channel}"),
        other => format!("{} {other}", r.method),
    }
}

/// The first text of an Adaptive Card, depth first (a `TextBlock`, or a `RichTextBlock`'s runs):
/// its title.
fn first_text(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some("TextBlock") if o.get("text").is_some_and(Value::is_string) => {
                o.get("text").and_then(Value::as_str).map(str::to_owned)
            }
            Some("RichTextBlock") => Some(
                o.get("inlines")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|run| run["text"].as_str())
                    .collect(),
            ),
            _ => o.values().find_map(first_text),
        },
        Value::Array(a) => a.iter().find_map(first_text),
        _ => None,
    }
}

fn teams_request(r: &Received) -> String {
    let body = r.json().unwrap_or_default();
    format!(
        "card '{}'",
        first_text(&body).unwrap_or_else(|| "?".to_owned())
    )
}

fn pagerduty_request(r: &Received) -> String {
    let body = r.json().unwrap_or_default();
    if path_of(r) == "/v2/change/enqueue" {
        return format!(
            "change event '{}'",
            body["payload"]["summary"].as_str().unwrap_or("?")
        );
    }
    let action = body["event_action"].as_str().unwrap_or("?");
    let key = body["dedup_key"].as_str().unwrap_or("?");
    match body["payload"]["severity"].as_str() {
        Some(severity) if action == "trigger" => {
            format!("{action} {severity} dedup_key={key}")
        }
        _ => format!("{action} dedup_key={key}"),
    }
}

fn jira_request(v: &Vendors, r: &Received) -> String {
    let path = path_of(r);
    let rest = path
        .split_once("/rest/api/3/")
        .map_or(path, |(_, rest)| rest);
    let body = r.json().unwrap_or_default();
    let parts: Vec<&str> = rest.split('/').collect();
    match (r.method.as_str(), parts.as_slice()) {
        ("POST", ["search", "jql"]) => "searched for the subject's issue".to_owned(),
        ("POST", ["issue"]) => {
            let summary = body["fields"]["summary"].as_str().unwrap_or("?");
            let project = body["fields"]["project"]["key"].as_str().unwrap_or("?");
            let key = v
                .jira
                .issues()
                .into_iter()
                .find(|i| i.fields["summary"] == summary && i.fields["project"]["key"] == project)
                .map_or_else(|| project.to_owned(), |i| i.key);
            format!("created {key} '{summary}'")
        }
        ("POST", ["issue", key, "comment"]) => format!("comment on {key}"),
        ("GET", ["issue", key, "transitions"]) => format!("transitions of {key} looked up"),
        ("POST", ["issue", key, "transitions"]) => {
            let status = v
                .jira
                .issues()
                .into_iter()
                .find(|i| i.key == *key)
                .map(|i| i.status)
                .unwrap_or_default();
            format!("transition {key} → {status}")
        }
        (method, _) => format!("{method} {rest}"),
    }
}

fn datadog_request(r: &Received) -> String {
    let body = r.json().unwrap_or_default();
    if path_of(r).ends_with("/events") {
        return format!(
            "event '{}' alert_type={}",
            body["title"].as_str().unwrap_or("?"),
            body["alert_type"].as_str().unwrap_or("?")
        );
    }
    let series = body["series"].as_array().cloned().unwrap_or_default();
    let names: BTreeSet<&str> = series.iter().filter_map(|s| s["metric"].as_str()).collect();
    let points: usize = series
        .iter()
        .map(|s| s["points"].as_array().map_or(0, Vec::len))
        .sum();
    format!(
        "series {} ({points} point{})",
        names.into_iter().collect::<Vec<_>>().join(", "),
        if points == 1 { "" } else { "s" }
    )
}

// ---------------------------------------------------------------------------------------------
// What the vendors received, per subject.

pub fn subjects(envelopes: &[Notification]) -> BTreeSet<String> {
    envelopes.iter().map(|n| n.subject_id.clone()).collect()
}

/// Slack: the top-level messages (threads) and the replies in each.
pub fn slack_threads(slack: &FakeSlack) -> (Vec<SlackMessage>, Vec<SlackMessage>) {
    slack
        .messages()
        .into_iter()
        .partition(|m| m.thread_ts.is_none())
}

/// Jira: the issues carrying `subject`'s label.
pub fn jira_issues_of(jira: &JiraSite, subject: &str) -> usize {
    let label = subject_label(subject);
    jira.issues()
        .iter()
        .filter(|i| i.labels().contains(&label))
        .count()
}

/// Datadog: the events grouped under `subject`'s aggregation key.
pub fn datadog_events_of(datadog: &DatadogIntake, subject: &str) -> Vec<Value> {
    let key = aggregation_key(&[subject]);
    datadog
        .events()
        .into_iter()
        .filter(|e| e["aggregation_key"] == key.as_str())
        .collect()
}

pub fn metric_names(datadog: &DatadogIntake) -> BTreeSet<String> {
    datadog
        .series()
        .iter()
        .filter_map(|s| s["metric"].as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn all_four_run_on_one_thread_and_redelivery_sends_nothing() {
        let reports = run_all().await.unwrap();
        assert_eq!(
            reports.iter().map(|r| r.scenario).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        for r in &reports {
            assert_eq!(r.requests_after_redelivery, 0, "{r:#?}");
            assert_eq!(r.vendors.len(), VENDORS.len());
            for v in &r.vendors {
                assert_eq!(v.received.len(), v.requests, "{v:#?}");
                assert!(v.received.iter().all(|l| !l.contains('?')), "{v:#?}");
            }
        }
        let text = render(&reports);
        assert!(text.contains("trigger critical dedup_key="), "{text}");
        assert!(text.contains("transition FIN-1 → Done"), "{text}");
        assert!(text.contains("comment on OPS-1"), "{text}");
    }
}
