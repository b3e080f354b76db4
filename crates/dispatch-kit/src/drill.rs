//! The drills at scale, on the simulated queue ([`crate::sim`]): the fault drill (everything that
//! goes wrong at once, each envelope accepted exactly once and the dead-letter queue holding
//! exactly the refused ones) and the alert storm (thousands of anomalies in a minute reach the
//! destination as a bounded number of messages). `make test` runs them small;
//! `make bench-reliability` runs them with 10,000 envelopes (`COSTWATCH_DRILL_ENVELOPES`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use costwatch_core::Notification;
use costwatch_dispatch::ledger::{DeliveryState, Ledger};
use costwatch_dispatch::storm::StormLimit;
use costwatch_store::StateStore;
use costwatch_store::memory::MemoryState;
use costwatch_vendor_fakes::faults::{FaultCounts, Faults};
use costwatch_vendor_fakes::logs::LogCapture;
use costwatch_vendor_fakes::server::{FakeServer, Received};

use crate::delivery::{
    Setup, assert_no_secret, assert_secrets_were_sent, delivered_of, dispatcher, expected_of,
    state_text,
};
use crate::envelopes::{ids_in, lake_of, numbered, numbered_for, queued};
use crate::sim::{Chaos, Drained, Mapping, SimQueue};
use crate::vendors::{Recorder, Reject};
use crate::{Conformance, Sends};

/// Envelopes in each drill: `COSTWATCH_DRILL_ENVELOPES`, else [`DRILL_ENVELOPES`].
pub const DRILL_ENVELOPES_VAR: &str = "COSTWATCH_DRILL_ENVELOPES";
/// The drills' size in `make test`; `make bench-reliability` sets 10,000.
pub const DRILL_ENVELOPES: usize = 300;
/// Share of the fault drill's requests that fail before the vendor sees them (split evenly over
/// 429 with `Retry-After`, 500, dropped connection, hang).
pub const DRILL_FAULT_RATE: f64 = 0.3;
pub const DRILL_SEED: u64 = 20_261_211;
/// Attempts per request in one invocation during the drill: with 30 % failing, about 3 % of the
/// messages use them all up and go back to the queue.
pub const DRILL_ATTEMPTS: usize = 3;
/// One envelope in this many is refused for good by the vendor (HTTP 400).
pub const DRILL_REJECT_EVERY: usize = 50;
/// One received message in this many SQS delivers a second time (prime to the refusals', so the
/// copies do not all fall on refused envelopes).
pub const DRILL_DUPLICATE_EVERY: usize = 37;
/// One invocation in this many dies mid-batch.
pub const DRILL_CRASH_EVERY: usize = 8;
/// The Lambda's storm limit (templates/dispatcher.yaml's defaults).
pub const STORM_MESSAGES: u32 = 5;
pub const STORM_WINDOW_SECONDS: i64 = 60;

/// Where a drill also writes its figures, one line each (`make bench-reliability` collects them):
/// a directory; unset, only standard error gets them.
pub const DRILL_OUT_VAR: &str = "COSTWATCH_DRILL_OUT";

/// Prints `line` and, with [`DRILL_OUT_VAR`], appends it to `drills.txt` there.
fn report(line: &str) {
    eprintln!("{line}");
    if let Some(dir) = std::env::var_os(DRILL_OUT_VAR) {
        use std::io::Write;
        let path = std::path::Path::new(&dir).join("drills.txt");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            panic!(
                "cannot write the drill's figures to {}: {e}",
                path.display()
            );
        }
    }
}

/// The drills' size (see [`DRILL_ENVELOPES_VAR`]).
pub fn drill_envelopes() -> usize {
    std::env::var(DRILL_ENVELOPES_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DRILL_ENVELOPES)
}

/// What a fault drill did.
#[derive(Debug, Clone)]
pub struct DrillFigures {
    pub envelopes: usize,
    /// Requests the vendor fake received (faults included).
    pub requests: usize,
    pub rounds: usize,
    pub invocations: usize,
    pub faults: FaultCounts,
    /// Invocations that died mid-batch, and second deliveries by SQS.
    pub crashes: usize,
    pub sqs_duplicates: usize,
    /// Envelopes refused for good, and the dead letters (the distinct envelopes among them are
    /// exactly the refused ones).
    pub rejected: usize,
    pub dead_letters: usize,
    /// Envelopes the vendor accepted twice: only ever one whose invocation died between the
    /// vendor's acceptance and the ledger's record (docs/failure-modes.md).
    pub delivered_twice: usize,
    pub wall: Duration,
}

/// The id of a dead letter's envelope.
fn dead_id(body: &str) -> String {
    serde_json::from_str::<Notification>(body)
        .map(|n| n.id)
        .unwrap_or_else(|e| panic!("a dead letter is not an envelope ({e}): {body}"))
}

/// Check (3), the fault drill: [`drill_envelopes`] envelopes through the dispatcher and the SQS
/// handler, ten to a batch, ten invocations at once ([`SimQueue`]), while at the same time
/// [`Faults`] answers 30 % of requests 429 (`Retry-After: 0`), 500, drops the connection or hangs
/// (the dispatcher's timeout ends it); the vendor refuses one envelope in
/// [`DRILL_REJECT_EVERY`] for good (400); SQS delivers one message in
/// [`DRILL_DUPLICATE_EVERY`] twice; and one invocation in [`DRILL_CRASH_EVERY`] dies mid-batch
/// (its messages come back after the visibility timeout, its claims' lease over). Leases and
/// waits run on the simulated clock.
///
/// Then: every envelope not refused was accepted exactly once, except that one an invocation
/// died holding may have been accepted twice if it died between the vendor's acceptance and the
/// ledger's record (the window no ledger closes; counted in the figures); the dead-letter queue
/// holds exactly the refused envelopes, each with a reason naming the refusal and no secret;
/// every fault kind happened, the retries were logged, no secret was.
pub async fn fault_drill(suite: &Conformance) -> DrillFigures {
    fault_drill_of(Sends::Envelopes, suite).await
}

/// [`fault_drill`] with what `sends` sends.
pub async fn fault_drill_of(sends: Sends, suite: &Conformance) -> DrillFigures {
    let started = std::time::Instant::now();
    let (logs, _guard) = LogCapture::start();
    let count = drill_envelopes();
    let envelopes = numbered_for(sends, "ntf-drill", count);
    let rejected: BTreeSet<String> = envelopes
        .iter()
        .enumerate()
        .filter(|(i, _)| (i + 1).is_multiple_of(DRILL_REJECT_EVERY))
        .map(|(_, n)| n.id.clone())
        .collect();
    let vendor = Arc::new(Recorder::new(Arc::new(Reject {
        inner: (suite.fake)(),
        prefix: "ntf-drill",
        ids: rejected.clone(),
    })));
    let faults = Arc::new(Faults::new(vendor.clone(), DRILL_FAULT_RATE, DRILL_SEED));
    let server = FakeServer::start(faults.clone()).await;
    let state = MemoryState::default();
    // Short timeouts keep hung requests cheap; three attempts per invocation send a few percent
    // of the messages back to the queue. The lease is the Lambda's: the simulated clock runs it.
    // Not shorter than 400 ms: on a loaded machine a request the fake accepted can take 150 ms,
    // and a timeout after acceptance is the duplicate window of a lost answer (a 10,000
    // envelope run with 150 ms delivered one envelope three times).
    let setup = Setup {
        timeout: Duration::from_millis(400),
        attempts: DRILL_ATTEMPTS,
        ..Setup::default()
    };
    let configured = suite.configured();
    let lake = lake_of(configured.as_ref(), &envelopes).await;
    let d = dispatcher(suite, &state, &lake, &server.url(), setup).await;
    let mapping = Mapping {
        batch_size: 10,
        concurrency: 10,
        max_receives: Mapping::deployed_receives(configured.as_ref()),
        ..Mapping::default()
    };
    let chaos = Chaos {
        duplicate_every: DRILL_DUPLICATE_EVERY,
        crash_every: DRILL_CRASH_EVERY,
        seed: DRILL_SEED,
    };
    let mut queue = SimQueue::new(mapping, chaos);
    let t0 = Utc::now();
    for (id, body) in queued(&envelopes) {
        queue.send_at(t0, &id, &body);
    }
    let drained = queue
        .drain(&d, 20 * count + 1_000)
        .await
        .unwrap_or_else(|left| panic!("{} messages still on the queue", left.len()));

    let dead_ids: BTreeSet<String> = drained.dead.iter().map(|(b, _)| dead_id(b)).collect();
    let strays: Vec<&(String, String)> = drained
        .dead
        .iter()
        .filter(|(b, _)| !rejected.contains(&dead_id(b)))
        .collect();
    assert!(
        strays.is_empty(),
        "only refused envelopes are dead-lettered; also: {:?}",
        strays.iter().map(|(_, r)| r).collect::<Vec<_>>()
    );
    assert_eq!(
        dead_ids, rejected,
        "every refused envelope is in the dead-letter queue"
    );
    for (_, reason) in &drained.dead {
        assert!(
            reason.contains("400"),
            "the reason names the refusal: {reason}"
        );
        assert_no_secret(suite, "a dead-letter reason", reason);
    }
    let counts = faults.counts();
    assert!(
        counts.each_over(10),
        "every kind of fault happened: {counts:?}"
    );
    assert!(drained.crashes > 0 && drained.duplicates > 0, "{drained:?}");

    // What the vendor accepted, answered or not.
    let expected: Vec<String> = expected_of(sends, configured.as_ref(), &envelopes)
        .into_iter()
        .filter(|key| !rejected.iter().any(|id| key.starts_with(id.as_str())))
        .collect();
    let delivered = delivered_of(sends, &vendor.accepted(), "ntf-drill");
    let twice = check_delivered(&drained, delivered, &expected);
    let received: Vec<Received> = server.log().into_iter().map(|(r, _)| r).collect();
    assert_secrets_were_sent(suite, &received);
    let logs = logs.text();
    assert!(logs.contains("retrying"), "the retries were logged");
    assert_no_secret(suite, "the logs", &logs);
    assert_no_secret(suite, "the ledger", &state_text(&state).await);
    let figures = DrillFigures {
        envelopes: envelopes.len(),
        requests: received.len(),
        rounds: drained.rounds,
        invocations: drained.invocations,
        faults: counts,
        crashes: drained.crashes,
        sqs_duplicates: drained.duplicates,
        rejected: rejected.len(),
        dead_letters: drained.dead.len(),
        delivered_twice: twice,
        wall: started.elapsed(),
    };
    let f = &figures;
    report(&format!(
        "fault drill {}/{}: {} envelopes, {} requests ({} throttled, {} 5xx, {} dropped, {} hung), {} invocations in {} rounds, {} crashed, {} SQS second deliveries; lost 0, delivered twice {} (crash window), {} refused -> {} dead letters ({} distinct), wall {:.1} s",
        configured.name(),
        suite.destination,
        f.envelopes,
        f.requests,
        f.faults.throttled,
        f.faults.server_errors,
        f.faults.dropped,
        f.faults.hung,
        f.invocations,
        f.rounds,
        f.crashes,
        f.sqs_duplicates,
        f.delivered_twice,
        f.rejected,
        f.dead_letters,
        dead_ids.len(),
        f.wall.as_secs_f64()
    ));
    figures
}

/// Every expected key delivered; none unexpected; any key delivered twice belongs to an
/// envelope an invocation died holding. The number delivered twice.
fn check_delivered(drained: &Drained, delivered: Vec<String>, expected: &[String]) -> usize {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for key in delivered {
        *seen.entry(key).or_default() += 1;
    }
    let lost: Vec<&String> = expected.iter().filter(|k| !seen.contains_key(*k)).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    let wanted: BTreeSet<&String> = expected.iter().collect();
    let strangers: Vec<&String> = seen.keys().filter(|k| !wanted.contains(k)).collect();
    assert!(
        strangers.is_empty(),
        "delivered but not expected: {strangers:?}"
    );
    let twice: Vec<(&String, &usize)> = seen.iter().filter(|(_, n)| **n > 1).collect();
    for (key, n) in &twice {
        assert!(
            **n == 2
                && drained
                    .crashed_ids
                    .iter()
                    .any(|id| key.starts_with(id.as_str())),
            "{key} delivered {n} times, and not in the crash window"
        );
    }
    twice.len()
}

/// What an alert storm did at one destination.
#[derive(Debug, Clone)]
pub struct StormFigures {
    pub anomalies: usize,
    /// Messages the dispatcher sent the destination (each a digest, or one envelope), and the
    /// most in any one window.
    pub messages: u64,
    pub most_in_a_window: u64,
    pub windows: usize,
    /// Requests the vendor accepted for them (a digest may be several: one event each for
    /// PagerDuty, batches for the analytics vendors).
    pub requests: usize,
    /// Simulated time from the first anomaly to an empty queue.
    pub drain_time: chrono::Duration,
    pub wall: Duration,
}

/// Check (4), the alert storm: [`drill_envelopes`] anomalies, each its own subject, sent over one
/// minute, through the Lambda's settings (batches of 100, five invocations at once, a digest
/// from 5 envelopes, at most [`STORM_MESSAGES`] messages per destination per minute). Every
/// anomaly is delivered (its ledger entry is sent), none twice (no id in two accepted requests),
/// nothing is dead-lettered, and no window had more than its messages.
pub async fn storm_drill(suite: &Conformance) -> StormFigures {
    let started = std::time::Instant::now();
    let count = drill_envelopes();
    let anomalies = numbered("ntf-storm", count);
    let vendor = Arc::new(Recorder::new((suite.fake)()));
    let server = FakeServer::start(vendor.clone()).await;
    let state = MemoryState::default();
    let limit = StormLimit {
        messages: STORM_MESSAGES,
        window: chrono::Duration::seconds(STORM_WINDOW_SECONDS),
    };
    let setup = Setup {
        digest_from: 5,
        storm: limit,
        ..Setup::default()
    };
    let configured = suite.configured();
    let lake = lake_of(configured.as_ref(), &anomalies).await;
    let d = dispatcher(suite, &state, &lake, &server.url(), setup).await;
    let mapping = Mapping {
        max_receives: Mapping::deployed_receives(configured.as_ref()),
        ..Mapping::default()
    };
    let mut queue = SimQueue::new(mapping, Chaos::default());
    // A day ahead of the wall clock: the state's expiry (judged on the wall clock) never cuts a
    // simulated window short.
    let t0 = Utc::now() + chrono::Duration::days(1);
    let spread = chrono::Duration::seconds(60);
    for (i, (id, body)) in queued(&anomalies).into_iter().enumerate() {
        let at =
            t0 + spread * i32::try_from(i).unwrap_or(i32::MAX) / i32::try_from(count).unwrap_or(1);
        queue.send_at(at, &id, &body);
    }
    let drained = queue
        .drain(&d, 100_000)
        .await
        .unwrap_or_else(|left| panic!("{} messages still on the queue", left.len()));
    assert!(
        drained.dead.is_empty(),
        "nothing is dead-lettered: {:?}",
        drained.dead.iter().map(|(_, r)| r).collect::<Vec<_>>()
    );
    let name = configured.name();
    let ledger = Ledger::new(&state, chrono::Duration::seconds(360));
    for n in &anomalies {
        let entry = ledger
            .entry(name, suite.destination, &n.id)
            .await
            .expect("ledger");
        assert_eq!(
            entry.map(|e| e.state),
            Some(DeliveryState::Sent),
            "{} was delivered",
            n.id
        );
    }
    let accepted = vendor.accepted();
    let mut named: BTreeMap<String, usize> = BTreeMap::new();
    for r in &accepted {
        for id in ids_in(&r.text(), "ntf-storm") {
            *named.entry(id).or_default() += 1;
        }
    }
    let twice: Vec<&String> = named
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .collect();
    assert!(
        twice.is_empty(),
        "named by two accepted requests: {twice:?}"
    );
    let windows: Vec<u64> = state
        .list(&format!("dispatch-storm/{name}/{}/", suite.destination))
        .await
        .expect("storm counters")
        .into_iter()
        .map(|(_, item)| item.value["messages"].as_u64().unwrap_or(0))
        .collect();
    let most = windows.iter().copied().max().unwrap_or(0);
    assert!(
        most <= u64::from(STORM_MESSAGES),
        "a window had {most} messages: {windows:?}"
    );
    let figures = StormFigures {
        anomalies: count,
        messages: windows.iter().sum(),
        most_in_a_window: most,
        windows: windows.len(),
        requests: accepted.len(),
        drain_time: drained.drain_time,
        wall: started.elapsed(),
    };
    let f = &figures;
    report(&format!(
        "alert storm {name}/{}: {} anomalies in 1 min -> {} messages over {} windows (at most {} a minute), {} vendor requests, drained in {} s simulated, wall {:.1} s",
        suite.destination,
        f.anomalies,
        f.messages,
        f.windows,
        f.most_in_a_window,
        f.requests,
        f.drain_time.num_seconds(),
        f.wall.as_secs_f64()
    ));
    figures
}
