//! A seeded API: the synthetic organisation `costwatch demo` uses (its planted SageMaker spike
//! is on the last day), collected, aggregated and run for the last few days on the in-memory
//! store, served in process through the router.

pub mod contract;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use costwatch_analytics::budget::planted_budgets;
use costwatch_api::chat::followup::{Defer, InProcess, Sender};
use costwatch_api::chat::glance::ANSWER_WITHIN;
use costwatch_api::chat::{Chat, ChatSecrets};
use costwatch_api::deliveries::{Integrations, NoQueues, OneStore, QueueDepth};
use costwatch_api::{Api, Auth, router};
use costwatch_core::archive::report_key;
use costwatch_core::notification::ReportPeriod;
use costwatch_core::synth;
use costwatch_pipeline::archive::archive_files;
use costwatch_pipeline::run::build_report;
use costwatch_pipeline::{PipelineConfig, Ports, aggregate, collect, run_day, standing};
use costwatch_store::LakeWriter;
use costwatch_store::ManualClock;
use costwatch_store::memory::{
    MemoryBus, MemoryCostSource, MemoryLake, MemoryRollups, MemorySecrets, MemoryState,
};
use costwatch_vendor_fakes::server::{FakeServer, Received, Reply, Vendor};
use tower::ServiceExt;

pub const END: &str = "2026-11-20";

pub struct Seeded {
    pub rollups: Arc<MemoryRollups>,
    pub state: Arc<MemoryState>,
    pub lake: Arc<MemoryLake>,
    pub bus: Arc<MemoryBus>,
    pub config: PipelineConfig,
    pub end: NaiveDate,
    pub spike_service: String,
}

pub fn morning_after(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(day + Days::new(1)).and_hms_opt(6, 0, 0).unwrap())
}

pub async fn seeded() -> Seeded {
    seeded_to(END.parse().unwrap()).await
}

/// [`seeded`] with its data ending on `end` instead of [`END`].
pub async fn seeded_to(end: NaiveDate) -> Seeded {
    let org = synth::generate(synth::DEFAULT_SEED, end, 90);
    let config = PipelineConfig {
        budgets: planted_budgets(&org),
        ..PipelineConfig::default()
    };
    let seeded = Seeded {
        rollups: Arc::default(),
        // Expiry judged on the API's clock: on the system clock, items written with fixed
        // November 2026 dates and 180-day TTLs (feedback) would expire in May 2027.
        state: Arc::new(MemoryState::with_clock(Arc::new(ManualClock::new(
            morning_after(end),
        )))),
        lake: Arc::default(),
        bus: Arc::default(),
        config,
        end,
        spike_service: org.planted.spike_service.clone(),
    };
    let source = MemoryCostSource::new(org.records.clone());
    let collected = collect::collect(&source, seeded.lake.as_ref(), org.start, org.end)
        .await
        .unwrap();
    aggregate::aggregate(
        seeded.lake.as_ref(),
        seeded.rollups.as_ref(),
        seeded.state.as_ref(),
        &seeded.config,
        &collected.days,
    )
    .await
    .unwrap();
    for day in (end - Days::new(2)).iter_days().take_while(|d| *d <= end) {
        seeded.run(day).await;
    }
    seeded.archive_report().await;
    seeded
}

impl Seeded {
    /// Collects, aggregates and runs the day after the last one (the synthetic organisation grown
    /// by a day: its spike moves to that day too, so an anomaly there stays open unless told).
    pub async fn next_day(&self) -> NaiveDate {
        let day = self.end + Days::new(1);
        let org = synth::generate(synth::DEFAULT_SEED, day, 91);
        let source = MemoryCostSource::new(org.records.clone());
        let collected = collect::collect(&source, self.lake.as_ref(), day, day)
            .await
            .unwrap();
        aggregate::aggregate(
            self.lake.as_ref(),
            self.rollups.as_ref(),
            self.state.as_ref(),
            &self.config,
            &collected.days,
        )
        .await
        .unwrap();
        self.run(day).await;
        day
    }

    /// The last day's daily report archived in the lake as the report Lambda writes it.
    async fn archive_report(&self) {
        let ports = Ports {
            lake: self.lake.as_ref(),
            rollups: self.rollups.as_ref(),
            state: self.state.as_ref(),
            bus: self.bus.as_ref(),
        };
        let now = morning_after(self.end);
        let run = standing(self.rollups.as_ref(), &self.config, self.end)
            .await
            .unwrap();
        let (_, page) = build_report(&ports, &self.config, &run, ReportPeriod::Daily, now)
            .await
            .unwrap();
        for (file, body) in archive_files(&page).unwrap() {
            let key = report_key(ReportPeriod::Daily, self.end, file);
            self.lake.put(&key, body).await.unwrap();
        }
    }

    /// One day's pipeline run, as the schedule would run it the morning after.
    pub async fn run(&self, day: NaiveDate) {
        let ports = Ports {
            lake: self.lake.as_ref(),
            rollups: self.rollups.as_ref(),
            state: self.state.as_ref(),
            bus: self.bus.as_ref(),
        };
        run_day(&ports, &self.config, day, morning_after(day))
            .await
            .unwrap();
    }

    /// The API over this store, on the morning after the last day, with `auth`.
    pub fn router(&self, auth: Auth, secrets: MemorySecrets) -> Router {
        self.router_with(auth, secrets, self.integrations(None))
    }

    /// Slack configured, its ledger in this state store, dead letters from `queues` (none: no
    /// queues, as on one machine).
    pub fn integrations(&self, queues: Option<Arc<dyn QueueDepth>>) -> Integrations {
        Integrations {
            configured: Some(["slack".to_owned()].into()),
            states: Arc::new(OneStore(self.state.clone())),
            dead_letters: queues.unwrap_or_else(|| Arc::new(NoQueues)),
        }
    }

    pub fn router_with(
        &self,
        auth: Auth,
        secrets: MemorySecrets,
        integrations: Integrations,
    ) -> Router {
        router(self.api_with(auth, secrets, integrations))
    }

    /// The handlers' state over this store, on the morning after the last day.
    pub fn api_with(
        &self,
        auth: Auth,
        secrets: MemorySecrets,
        integrations: Integrations,
    ) -> Arc<Api> {
        Arc::new(Api {
            rollups: self.rollups.clone(),
            state: self.state.clone(),
            lake: self.lake.clone(),
            secrets: Arc::new(secrets),
            config_source: Arc::new(Arc::new(self.config.clone())),
            auth,
            clock: Arc::new(ManualClock::new(morning_after(self.end))),
            integrations,
            bus: self.bus.clone(),
            aws_feedback: None,
        })
    }

    /// The chat endpoints over this store, and the API clock's now (Unix seconds) for signing.
    pub fn chat(&self, secrets: MemorySecrets, chat: ChatSecrets) -> (Router, i64) {
        self.chat_deferring(secrets, chat, None)
    }

    /// [`Self::chat`] whose `/cost` never answers inline (`answer_within` zero): it defers at once and the answer goes,
    /// from a task, to `endpoint` (a loopback fake standing in for Slack's and Discord's hosts).
    /// `None`: answers inline as deployed.
    pub fn chat_deferring(
        &self,
        secrets: MemorySecrets,
        chat: ChatSecrets,
        endpoint: Option<&str>,
    ) -> (Router, i64) {
        let api = self.api_with(Auth::Trusted, secrets, self.integrations(None));
        let now = api.clock.now().timestamp();
        let (answer_within, defer) = match endpoint {
            Some(endpoint) => {
                let sender = Sender::new(Some(endpoint)).expect("a loopback endpoint");
                let defer: Arc<dyn Defer> = Arc::new(InProcess {
                    api: api.clone(),
                    sender,
                });
                (Duration::ZERO, Some(defer))
            }
            None => (ANSWER_WITHIN, None),
        };
        let chat = Chat {
            api,
            secrets: chat,
            answer_within,
            defer,
        };
        (costwatch_api::chat::router(Arc::new(chat)), now)
    }

    /// The seeded spike's anomaly id, as the pipeline announced it.
    pub fn spike_subject(&self) -> String {
        self.bus
            .published()
            .iter()
            .find(|n| n.kind() == "anomaly" && n.scope.label.contains(&self.spike_service))
            .map(|n| n.subject_id.clone())
            .expect("the seeded spike was announced")
    }

    pub fn open(&self) -> Router {
        self.router(Auth::Trusted, MemorySecrets::new())
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub etag: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

pub async fn call(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let etag = headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        content_type,
        etag,
        headers,
        body,
    }
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

pub fn post(uri: &str, body: serde_json::Value) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A loopback stand-in for Slack's `response_url` host and Discord's webhook API: answers 200,
/// and hands every request to the test as it arrives.
pub struct Followups {
    pub server: FakeServer,
    arrived: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Received>>,
}

struct ForwardEach(tokio::sync::mpsc::UnboundedSender<Received>);

impl Vendor for ForwardEach {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        let _ = self.0.send(request.clone());
        Reply::text(200, "ok")
    }
}

impl Followups {
    pub async fn start() -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        Self {
            server: FakeServer::start(Arc::new(ForwardEach(tx))).await,
            arrived: tokio::sync::Mutex::new(rx),
        }
    }

    /// The next request; a follow-up that never comes fails the test after 20 s.
    pub async fn next(&self) -> Received {
        let mut rx = self.arrived.lock().await;
        tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("no follow-up arrived within 20 s")
            .expect("the fake stopped")
    }
}
