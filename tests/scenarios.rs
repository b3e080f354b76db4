//! The four scenarios of issue 12, each one test through the whole pipeline, on the harness of
//! crates/scenarios: the synthetic organisation (crates/core `synth`) collected and aggregated
//! into the in-memory store, the day's run (detect → forecast → budgets, or the report), the
//! envelopes it published, every dispatcher (Slack, Teams, PagerDuty, Jira, Datadog) through the
//! SQS batch handler with its own memory ledger, and the vendor fakes on loopback. Each asserts
//! what every vendor received, one incident, one ticket and one thread per subject, and that a
//! redelivery of every message (same message ids, same ledger) sends nothing again.

use chrono::{TimeZone, Utc};
use costwatch_core::findings::ThresholdBasis;
use costwatch_core::notification::Severity;
use costwatch_core::{Money, Notification, NotificationBody, Scope, State};
use costwatch_dispatch_jira::encoder::subject_label;
use costwatch_dispatch_pagerduty::encoder::dedup_key;
use costwatch_scenarios::{
    Dispatchers, Ledgers, Vendors, datadog_events_of, end, jira_issues_of, metric_names, saving,
    slack_threads, subjects,
};
use costwatch_vendor_fakes::pagerduty::Status;
use costwatch_vendor_fakes::slack::SlackMessage;
use serde_json::Value;

/// SQS delivers every message of the scenario again, with the same ids, to the same dispatchers
/// (same ledgers): no vendor receives a single request more.
async fn redeliver_everything(d: &Dispatchers<'_>, v: &Vendors) {
    let before = v.requests();
    d.redeliver_everything(v).await.unwrap();
    assert_eq!(
        v.requests(),
        before,
        "requests to [slack, teams, pagerduty, jira, datadog] after the redelivery"
    );
}

// ---------------------------------------------------------------------------------------------
// What the vendors received, per subject.

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
    let vendors = Vendors::start().await;
    let ledgers = Ledgers::default();
    let mut dispatchers = Dispatchers::new(&vendors, &ledgers).await.unwrap();

    // Each day's run (the spike's day and three ordinary ones), and what it published delivered
    // to every dispatcher (the anomalies; no budgets are configured).
    let (org, published) = costwatch_scenarios::scenario_1(&mut dispatchers)
        .await
        .unwrap();
    assert!(published.iter().all(|n| n.kind() == "anomaly"));

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
    redeliver_everything(&dispatchers, &vendors).await;
    one_of_each_per_subject(&vendors, &published);
}

/// Scenario 2: a $500/month saving. Nothing in the pipeline produces recommendations yet (the
/// recommendations issue), so, as issue 12 allows, the envelope is built with the same builder
/// the pipeline will use (`envelopes::recommendation`) and driven through every dispatcher.
/// Scenario 2: the seeded organisation's idle 4,200 GiB gp2 volume (crates/scenarios/src/
/// saving.rs) through the weekly recommend run: one $500/month recommendation posted to Slack,
/// ticketed in Jira, carded in Teams, measured in Datadog and noted on PagerDuty's timeline;
/// deleting the volume resolves it everywhere (the Jira issue moves to Done) and a full week
/// later the weekly report says what was saved (posted, and commented on the Jira tracking
/// issue).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_2_a_monthly_saving_is_posted_ticketed_and_measured() {
    let vendors = Vendors::start().await;
    vendors.file_tracking_issue().await.unwrap();
    let ledgers = Ledgers::default();
    let mut dispatchers = Dispatchers::new(&vendors, &ledgers).await.unwrap();
    let (opened, store, cfg) = saving::open(&mut dispatchers).await.unwrap();
    let n = opened.published[0].clone();
    assert_eq!((n.kind(), n.state), ("recommendation", State::Open));
    let NotificationBody::Recommendation(fig) = &n.body else {
        panic!("not a recommendation")
    };
    // 7 × $16.4271 / 7 × 30.4375 = $499.9999 → $500.00, from the volume's own usage lines.
    assert_eq!(fig.monthly_savings, Money::from(500));
    assert_eq!(fig.resource_id.as_deref(), Some(saving::VOLUME));
    assert_eq!(opened.list.items.len(), 1, "{:#?}", opened.list.items);
    assert_eq!(
        opened.list.items[0].also_found.len(),
        1,
        "gp2 → gp3 on the same volume is noted, not added"
    );
    assert_eq!(opened.list.total_monthly_savings, Money::from(500));
    let subject = n.subject_id.clone();

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
    // Jira: one issue for the recommendation, labelled with its subject (beside OPS-1).
    assert_eq!(vendors.jira.issues().len(), 2);
    assert_eq!(jira_issues_of(&vendors.jira, &subject), 1);
    let ticket = |v: &Vendors| {
        v.jira
            .issues()
            .into_iter()
            .find(|i| i.labels().contains(&subject_label(&subject)))
            .unwrap()
    };
    assert_eq!(ticket(&vendors).status, "To Do");
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

    // The volume is deleted: the next week's run resolves the recommendation, and a week later
    // the realised saving is measured and reported.
    let done = saving::implement(&mut dispatchers, opened, &store, &cfg)
        .await
        .unwrap();
    let resolved: Vec<(State, u32)> = done
        .resolved
        .published
        .iter()
        .map(|r| (r.state, r.revision))
        .collect();
    assert_eq!(resolved, [(State::Resolved, 1)]);
    assert_eq!(done.resolved.published[0].subject_id, subject);
    assert!(
        done.measured.published.is_empty(),
        "measuring sends nothing"
    );
    assert_eq!(done.measured.saved_so_far, Money::from(500));
    // Jira: the same issue, moved to Done; still one.
    assert_eq!(jira_issues_of(&vendors.jira, &subject), 1);
    assert_eq!(ticket(&vendors).status, "Done");
    // Slack: the original message updated to the resolved state.
    let (threads, _) = slack_threads(&vendors.slack);
    let recommendation_thread = serde_json::to_string(&threads[0].blocks).unwrap();
    assert!(
        recommendation_thread.contains(&done.resolved.published[0].id),
        "{recommendation_thread}"
    );
    // The weekly report: "saved so far" in its figures and in what Slack shows.
    let NotificationBody::Report(report) = &done.report.body else {
        panic!("not a report")
    };
    assert_eq!(report.saved_so_far, Some(Money::from(500)));
    assert!(
        done.report.summary.contains("Saved so far: $500.00/month"),
        "{}",
        done.report.summary
    );
    let posted = format!("{:?}", vendors.slack.messages());
    assert!(posted.contains("Saved so far"), "{posted}");
    let tracking = vendors.jira.issues().into_iter().find(|i| i.key == "OPS-1");
    let comments = tracking.unwrap().comments;
    assert_eq!(comments.len(), 1);
    let comment = comments[0].to_string();
    assert!(
        comment.contains("Saved so far") && comment.contains("$500.00"),
        "{comment}"
    );

    let sent = vendors.requests();
    redeliver_everything(&dispatchers, &vendors).await;
    assert_eq!(jira_issues_of(&vendors.jira, &subject), 1);
    assert_eq!(vendors.requests(), sent);
}

/// Scenario 3: the data-platform account's monthly budget at 150 % on the organisation's last
/// day, with the default configuration (the planted budgets' scope and amount, the default
/// thresholds). A breach is graded by the highest threshold it crossed (`envelopes::budget`:
/// ≥ 120 % of actual is critical) and the default thresholds include 120 % of actual, so a budget
/// at 150 % pages PagerDuty `critical`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_3_a_budget_at_150_percent_pages_tickets_and_measures() {
    let vendors = Vendors::start().await;
    let ledgers = Ledgers::default();
    let mut dispatchers = Dispatchers::new(&vendors, &ledgers).await.unwrap();

    // The day's budget envelopes delivered; a re-run of the day publishes nothing.
    let (org, budgets, again) = costwatch_scenarios::scenario_3(&mut dispatchers)
        .await
        .unwrap();
    assert!(budgets.iter().all(|n| n.kind() == "budget"));
    assert!(again.iter().all(|n| n.kind() != "budget"));

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
    redeliver_everything(&dispatchers, &vendors).await;
    one_of_each_per_subject(&vendors, &budgets);
}

/// Scenario 4: the daily report of the organisation's last day (budgets configured as in
/// scenario 3) → Slack (with its chart in the thread), Teams, Datadog metrics, and a comment on
/// the Jira tracking issue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_4_the_daily_report_is_posted_measured_and_commented() {
    let vendors = Vendors::start().await;
    vendors.file_tracking_issue().await.unwrap();
    let filed = vendors.requests();
    let ledgers = Ledgers::default();
    let mut dispatchers = Dispatchers::new(&vendors, &ledgers).await.unwrap();

    let report = costwatch_scenarios::scenario_4(&mut dispatchers)
        .await
        .unwrap();
    assert_eq!(report.kind(), "report");
    let NotificationBody::Report(fig) = &report.body else {
        panic!("not a report")
    };
    assert_eq!((fig.start, fig.end), (end(), end()));

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

    redeliver_everything(&dispatchers, &vendors).await;
    assert_eq!(vendors.jira.issues()[0].comments.len(), 1);
    assert_eq!(vendors.teams.posted().len(), 1);
}

/// Scenario 1 with a person in the middle: the spike is acknowledged from Slack (the chat
/// endpoint's call, `pipeline::actions`) before it resolves. The one `acknowledged` envelope
/// reaches every vendor: PagerDuty acknowledges the incident, Jira comments, Slack updates the
/// message and says so in its thread, Teams and Datadog get the state; then the resolve closes
/// everything as before, and a redelivery sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_1_acknowledged_from_chat_reaches_every_vendor_once() {
    use costwatch_pipeline::actions::{Action, ActionPorts, apply};
    let vendors = Vendors::start().await;
    let ledgers = Ledgers::default();
    let mut dispatchers = Dispatchers::new(&vendors, &ledgers).await.unwrap();
    let (_, store, cfg) = costwatch_scenarios::organisation(3, |_| Default::default())
        .await
        .unwrap();
    let ports = costwatch_scenarios::ports(&store);
    let day = end();
    let run = costwatch_pipeline::run_day(&ports, &cfg, day, costwatch_scenarios::at(day))
        .await
        .unwrap();
    let opened: Vec<Notification> = run
        .notifications
        .into_iter()
        .filter(|n| n.kind() == "anomaly")
        .collect();
    assert_eq!(opened.len(), 1, "the planted spike");
    dispatchers.deliver(&opened).await.unwrap();
    let subject = opened[0].subject_id.clone();

    let action_ports = ActionPorts {
        state: &store.state,
        bus: &store.bus,
        aws: None,
    };
    let by = Some("@ana in Slack".to_owned());
    let clicked = costwatch_scenarios::at(day) + chrono::Duration::hours(1);
    let acked = apply(&action_ports, &subject, &Action::Acknowledge, by, clicked)
        .await
        .unwrap()
        .announced
        .expect("announced");
    assert_eq!(acked.state, State::Acknowledged);
    dispatchers
        .deliver(std::slice::from_ref(&acked))
        .await
        .unwrap();

    // The three ordinary days after it, one run each, as in scenario 1.
    let mut resolved: Vec<Notification> = Vec::new();
    for next in day.iter_days().skip(1).take(3) {
        let run = costwatch_pipeline::run_day(&ports, &cfg, next, costwatch_scenarios::at(next))
            .await
            .unwrap();
        resolved.extend(
            run.notifications
                .into_iter()
                .filter(|n| n.kind() == "anomaly"),
        );
    }
    assert_eq!(
        resolved.iter().map(|n| n.state).collect::<Vec<_>>(),
        [State::Resolved]
    );
    dispatchers.deliver(&resolved).await.unwrap();
    let life: Vec<Notification> = opened
        .into_iter()
        .chain([acked.clone()])
        .chain(resolved)
        .collect();

    let alert = vendors.pagerduty.alert(&dedup_key(&subject)).unwrap();
    assert_eq!(alert.log, ["trigger", "acknowledge", "resolve"]);
    assert_eq!(alert.incidents, 1);
    let issue = vendors
        .jira
        .issues()
        .into_iter()
        .find(|i| i.labels().contains(&subject_label(&subject)))
        .unwrap();
    assert_eq!(
        issue.comments.len(),
        2,
        "the acknowledgement and the resolve"
    );
    assert!(
        serde_json::to_string(&issue.comments[0])
            .unwrap()
            .contains("ana in Slack. Spend on"),
        "{:?}",
        issue.comments[0]
    );
    assert_eq!(issue.status, "Done");
    let (threads, replies) = slack_threads(&vendors.slack);
    assert_eq!(threads.len(), 1);
    assert!(threads[0].updates >= 2, "{:?}", threads[0]);
    assert_eq!(replies.len(), 2, "what changed, in the thread");
    let teams = vendors.teams.posted();
    assert!(teams.iter().any(|c| c.to_string().contains(&acked.id)));
    assert_eq!(datadog_events_of(&vendors.datadog, &subject).len(), 3);

    one_of_each_per_subject(&vendors, &life);
    redeliver_everything(&dispatchers, &vendors).await;
}
