//! The PagerDuty dispatcher against a local Events API v2 that behaves as PagerDuty documents it
//! (crates/vendor-fakes `pagerduty`), through the real Dispatcher and SQS batch handler with a
//! memory ledger: a subject's alert lives from trigger to resolve on one dedup_key (with an
//! acknowledge or a change event between, as configured) and one incident, also after every
//! message is delivered again; 429 and 5xx are retried; a 400 is dead-lettered with PagerDuty's
//! own error text and without the routing key; the EU region's origin is used; and
//! events/dispatch-pagerduty/sqs.json drives the handler as `sam local invoke` would.

mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Utc;
use costwatch_core::Notification;
use costwatch_core::notification::State;
use costwatch_core::samples::of_kind as sample;
use costwatch_dispatch::dispatcher::Dispatcher;
use costwatch_dispatch::retry::RetryPolicy;
use costwatch_dispatch::sqs::{MemoryQueue, event_of, handle_batch};
use costwatch_dispatch::{RateLimit, entry};
use costwatch_dispatch_pagerduty::PagerDuty;
use costwatch_dispatch_pagerduty::encoder::dedup_key;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::pagerduty::{PagerDutyEvents, ROUTING_KEY, Status};
use costwatch_vendor_fakes::server::{FakeServer, Received, Reply, Vendor};
use serde_json::{Value, json};
use tokio::time::Instant;

const MAX_RECEIVES: u32 = 5;

struct Setup {
    events: Arc<PagerDutyEvents>,
    server: FakeServer,
    state: MemoryState,
    queue: MemoryQueue,
}

impl Setup {
    async fn start(events: PagerDutyEvents) -> Setup {
        let events = Arc::new(events);
        Self::in_front(events.clone(), events).await
    }

    /// `vendor` answers; `events` is what the assertions read.
    async fn in_front(events: Arc<PagerDutyEvents>, vendor: Arc<dyn Vendor>) -> Setup {
        let server = FakeServer::start(vendor).await;
        Setup {
            events,
            server,
            state: MemoryState::new(),
            queue: MemoryQueue::default(),
        }
    }

    /// The dispatcher the Lambda builds, sending to the fake (scheme, host and port replaced,
    /// as `notify --endpoint` does), with quick retries and no rate wait.
    async fn dispatcher(&self, config: Value) -> Dispatcher<'_> {
        Dispatcher::builder(entry::<PagerDuty>().load(config).unwrap(), &self.state)
            .endpoint(Some(url::Url::parse(&self.server.url()).unwrap()))
            .retry(RetryPolicy {
                max_attempts: 4,
                min_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(50),
            })
            .rate_limit(RateLimit::per_second(1000))
            .build()
            .await
            .unwrap()
    }

    /// One SQS batch of `envelopes` through the handler; the ids given back to the queue.
    async fn deliver(&self, d: &Dispatcher<'_>, envelopes: &[Notification]) -> Vec<String> {
        let messages: Vec<(String, String, u32)> = envelopes
            .iter()
            .map(|n| (n.id.clone(), serde_json::to_string(n).unwrap(), 1))
            .collect();
        self.handle(d, &event_of(&messages)).await
    }

    /// One batch per envelope, as the pipeline's runs publish a subject's states days apart;
    /// each delivered (nothing given back to the queue).
    async fn deliver_each(&self, d: &Dispatcher<'_>, envelopes: &[Notification]) {
        for n in envelopes {
            let back = self.deliver(d, std::slice::from_ref(n)).await;
            assert_eq!(back, Vec::<String>::new(), "{:?} came back", n.state);
        }
    }

    async fn handle(&self, d: &Dispatcher<'_>, event: &SqsEvent) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        handle_batch(d, &self.queue, event, MAX_RECEIVES, Utc::now(), deadline)
            .await
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    }

    fn dead(&self) -> Vec<String> {
        let dead = self.queue.dead.lock().unwrap();
        dead.iter().map(|(_, reason)| reason.clone()).collect()
    }
}

/// The anomaly sample at each state of its life, as the pipeline publishes them.
fn lifecycle() -> Vec<Notification> {
    [State::Open, State::Ongoing, State::Resolved]
        .into_iter()
        .enumerate()
        .map(|(revision, state)| {
            let mut n = sample("anomaly");
            n.state = state;
            n.revision = revision as u32;
            n.id = format!("{}-r{revision}", n.id);
            n
        })
        .collect()
}

fn with_ongoing(mode: &str) -> Value {
    let mut config = support::config();
    config["ongoing"] = json!(mode);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_acknowledge_resolve_on_one_dedup_key_and_one_incident() {
    let setup = Setup::start(PagerDutyEvents::new()).await;
    let d = setup.dispatcher(with_ongoing("acknowledge")).await;
    let life = lifecycle();
    setup.deliver_each(&d, &life).await;
    let key = dedup_key(&life[0].subject_id);
    let alert = setup
        .events
        .alert(&key)
        .expect("an alert under the subject's key");
    assert_eq!(alert.log, ["trigger", "acknowledge", "resolve"]);
    assert_eq!(alert.status, Status::Resolved);
    assert_eq!(alert.incidents, 1);
    assert_eq!(alert.payload["severity"], "error");
    // SQS delivers every message again: the ledger sends nothing twice.
    assert_eq!(setup.deliver(&d, &life).await, Vec::<String>::new());
    assert_eq!(setup.events.alert(&key).unwrap().log.len(), 3);
    assert_eq!(setup.events.incidents(), 1);
    assert!(setup.dead().is_empty());
    // What PagerDuty answered, for each request: 202 with the key.
    for (_, status) in setup.server.log() {
        assert_eq!(status, Some(202));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_ongoing_is_a_change_event_and_the_incident_is_left_alone() {
    let setup = Setup::start(PagerDutyEvents::new()).await;
    let d = setup.dispatcher(support::config()).await;
    let life = lifecycle();
    setup.deliver_each(&d, &life).await;
    let key = dedup_key(&life[0].subject_id);
    assert_eq!(
        setup.events.alert(&key).unwrap().log,
        ["trigger", "resolve"]
    );
    let changes = setup.events.changes();
    assert_eq!(changes.len(), 1);
    assert!(
        changes[0]["payload"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("Ongoing: ")
    );
    assert_eq!(
        changes[0]["payload"]["custom_details"]["costwatch"]["dedup_key"],
        key.as_str()
    );
    // Out of order (SQS promises no order): a late ongoing after the resolve re-opens nothing.
    let setup = Setup::start(PagerDutyEvents::new()).await;
    let d = setup.dispatcher(support::config()).await;
    let late = [life[0].clone(), life[2].clone(), life[1].clone()];
    setup.deliver_each(&d, &late).await;
    let alert = setup.events.alert(&key).unwrap();
    assert_eq!((alert.status, alert.incidents), (Status::Resolved, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_server_errors_are_retried() {
    let setup = Setup::start(PagerDutyEvents::new()).await;
    setup.events.throttle(2);
    let d = setup.dispatcher(support::config()).await;
    assert_eq!(
        setup.deliver(&d, &[sample("budget")]).await,
        Vec::<String>::new()
    );
    let statuses: Vec<Option<u16>> = setup.server.log().into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, [Some(429), Some(429), Some(202)]);
    assert_eq!(setup.events.incidents(), 1);

    // A PagerDuty that answers 500 until the attempts run out: back to the queue, not dead.
    struct Down;
    impl Vendor for Down {
        fn handle(&self, _: &Received, _: &str) -> Reply {
            Reply::json(
                500,
                json!({"status": "error", "message": "Internal Server Error"}),
            )
        }
    }
    let setup = Setup::in_front(Arc::new(PagerDutyEvents::new()), Arc::new(Down)).await;
    let d = setup.dispatcher(support::config()).await;
    assert_eq!(setup.deliver(&d, &[sample("anomaly")]).await.len(), 1);
    assert_eq!(
        setup.server.log().len(),
        4,
        "every attempt of the invocation"
    );
    assert!(setup.dead().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_event_is_dead_lettered_with_pagerdutys_words_and_no_key() {
    // A well-formed key no integration has: PagerDuty's "Invalid routing key".
    let unknown = "0123456789abcdef0123456789abcdef";
    let setup = Setup::start(PagerDutyEvents::new()).await;
    let d = setup
        .dispatcher(json!({"destinations": {"oncall": {"routing_key": unknown}}}))
        .await;
    assert_eq!(
        setup.deliver(&d, &[sample("anomaly")]).await,
        Vec::<String>::new()
    );
    let dead = setup.dead();
    let [reason] = dead.as_slice() else {
        panic!("{dead:?}")
    };
    assert_eq!(
        reason,
        "trigger: PagerDuty refused the event (HTTP 400): invalid event: Event object is invalid (Invalid routing key); check the destination's routing_key: the Integration Key of an Events API v2 integration on the service"
    );
    assert!(!reason.contains(unknown));
    assert_eq!(setup.server.log().len(), 1, "a 400 is not retried");
    assert!(setup.events.alerts().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_destination_is_its_service_and_the_eu_region_its_origin() {
    let other = "fakeroutingkey000000000000000002";
    let setup = Setup::start(PagerDutyEvents::new().with_key(other)).await;
    let config = json!({
        "destinations": {
            "ml-oncall": {"routing_key": ROUTING_KEY, "events_url": "https://events.eu.pagerduty.com"},
            "finops": {"routing_key": other},
        },
        "routing": {"rules": [
            {"services": ["Amazon SageMaker"], "destinations": ["ml-oncall"]},
            {"kinds": ["budget", "report"], "destinations": ["finops"]},
        ]},
    });
    let rendered = entry::<PagerDuty>()
        .load(config.clone())
        .unwrap()
        .render(
            "ml-oncall",
            costwatch_dispatch::Message::One(&sample("anomaly")),
            &Default::default(),
        )
        .unwrap();
    assert_eq!(
        rendered[0].url.expose(),
        "https://events.eu.pagerduty.com/v2/enqueue"
    );
    let d = setup.dispatcher(config).await;
    let batch = [sample("anomaly"), sample("budget"), sample("report")];
    assert_eq!(setup.deliver(&d, &batch).await, Vec::<String>::new());
    let by_key = |key: &str| {
        setup
            .events
            .accepted()
            .into_iter()
            .filter(|e| e["routing_key"] == key)
            .map(|e| e["dedup_key"].as_str().unwrap_or("change").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(by_key(ROUTING_KEY), [dedup_key(&batch[0].subject_id)]);
    let mut finops = by_key(other);
    finops.sort();
    assert_eq!(
        finops,
        ["change".to_owned(), dedup_key(&batch[1].subject_id)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_sqs_event_drives_the_handler() {
    // events/dispatch-pagerduty/sqs.json is what `sam local invoke` feeds the function.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/dispatch-pagerduty/sqs.json"
    );
    let event: SqsEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let envelopes: Vec<Notification> = event
        .records
        .iter()
        .map(|r| {
            assert_eq!(r.event_source.as_deref(), Some("aws:sqs"));
            serde_json::from_str(r.body.as_deref().unwrap()).unwrap()
        })
        .collect();
    let kinds: Vec<&str> = envelopes.iter().map(Notification::kind).collect();
    assert_eq!(kinds, ["anomaly", "budget", "report"]);
    let setup = Setup::start(PagerDutyEvents::new()).await;
    let d = setup.dispatcher(support::config()).await;
    assert_eq!(setup.handle(&d, &event).await, Vec::<String>::new());
    assert!(setup.dead().is_empty());
    for n in &envelopes[..2] {
        let alert = setup.events.alert(&dedup_key(&n.subject_id)).unwrap();
        assert_eq!(alert.status, Status::Triggered, "{}", n.kind());
    }
    assert_eq!(setup.events.changes().len(), 1);
    assert!(
        setup.events.changes()[0]["payload"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("Daily cost report")
    );
}
