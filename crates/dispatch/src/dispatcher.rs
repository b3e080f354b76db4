//! One batch of envelopes through one integration: route, claim in the ledger, digest storms,
//! respect the rate limit, render, send, record. Each input message gets a [`Verdict`]; the SQS
//! handler turns those into partial batch failures, visibility delays and dead letters.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use costwatch_core::Notification;
use costwatch_store::StateStore;
use futures_util::FutureExt;
use tokio::time::Instant;

use crate::disabled::{self, Disabled};
use crate::error::ConfigError;
use crate::integration::{Message, RateLimit, RenderContext};
use crate::ledger::{Claim, Ledger, Memos, Progress, Ticket};
use crate::metrics;
use crate::outcome::Delivered;
use crate::rate::Limiter;
use crate::registry::Configured;
use crate::request::VendorRequest;
use crate::retry::RetryPolicy;
use crate::secret::SecretStores;
use crate::sender::{Sender, Sent};
use crate::sqs::MAX_VISIBILITY;
use crate::storm::{Admission, Held, StormLimit, Storms};

/// Rounds of remainders after a partial refusal (each names what it dropped), at most.
const REMAINDER_ROUNDS: usize = 3;

/// One queued message.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub message_id: String,
    pub body: String,
}

impl Incoming {
    /// `envelope` as a queue delivers it: its JSON, the envelope's id as the message id.
    pub fn of(envelope: &Notification) -> serde_json::Result<Self> {
        Ok(Self {
            message_id: envelope.id.clone(),
            body: serde_json::to_string(envelope)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Delivered (or deliberately not: unrouted, already sent) to every destination.
    Done,
    /// Try again after `after` (visibility timeout).
    Retry { after: Duration, reason: String },
    /// Can never succeed as it is: dead-letter with the reason.
    Dead { reason: String },
}

impl Verdict {
    /// Retry wins over dead (a destination that can still succeed must get its chance; the ledger
    /// keeps the ones that did from sending again), dead over done.
    fn merge(self, other: Verdict) -> Verdict {
        match (self, other) {
            (r @ Verdict::Retry { .. }, _) | (_, r @ Verdict::Retry { .. }) => r,
            (d @ Verdict::Dead { .. }, _) | (_, d @ Verdict::Dead { .. }) => d,
            _ => Verdict::Done,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// This many envelopes or more for one destination in a batch become one digest message.
    pub digest_from: usize,
    /// How long a ledger claim holds at most (the queue's visibility timeout); an invocation's
    /// claims hold only until its deadline (plus [`DEADLINE_GRACE`]).
    pub lease: chrono::Duration,
    /// Messages per destination per window, across invocations ([`crate::storm`]). Off by
    /// default (the CLI sends what it is asked to); the Lambda turns it on.
    pub storm: StormLimit,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            digest_from: 5,
            lease: chrono::Duration::seconds(360),
            storm: StormLimit::off(),
        }
    }
}

/// Added to an invocation's deadline for the life of its claims: the Lambda handler keeps 10 s
/// back from Lambda's own deadline, and containers' clocks may differ by a few seconds.
pub const DEADLINE_GRACE: Duration = Duration::from_secs(15);

/// One integration's dispatcher, built once per container with [`Dispatcher::builder`].
pub struct Dispatcher<'a> {
    integration: Box<dyn Configured>,
    state: &'a dyn StateStore,
    sender: Sender,
    limiter: Limiter,
    settings: Settings,
    secrets: Option<Rotation<'a>>,
    /// Where [`crate::Integration::objects`] are read from (an archive's report files).
    lake: Option<&'a dyn costwatch_store::LakeReader>,
}

/// Where referenced secrets are re-read from, and when.
struct Rotation<'a> {
    stores: SecretStores<'a>,
    ttl: Duration,
    read_at: Mutex<std::time::Instant>,
}

/// Builds a [`Dispatcher`]: every setting has the Lambda's default, tests and the CLI change
/// the few they need.
pub struct Builder<'a> {
    integration: Box<dyn Configured>,
    state: &'a dyn StateStore,
    timeout: Duration,
    endpoint: Option<url::Url>,
    policy: RetryPolicy,
    settings: Settings,
    rate_limit: Option<RateLimit>,
    secrets: Option<(SecretStores<'a>, Duration)>,
    lake: Option<&'a dyn costwatch_store::LakeReader>,
}

impl<'a> Builder<'a> {
    /// The lake bucket an archive integration reads the report files from.
    pub fn lake(mut self, lake: Option<&'a dyn costwatch_store::LakeReader>) -> Self {
        self.lake = lake;
        self
    }

    /// Bounds each HTTP request (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends every request to this scheme, host and port instead (`notify --endpoint`, tests).
    pub fn endpoint(mut self, endpoint: Option<url::Url>) -> Self {
        self.endpoint = endpoint;
        self
    }

    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// This many envelopes or more for one destination in a batch become one digest.
    pub fn digest_from(mut self, envelopes: usize) -> Self {
        self.settings.digest_from = envelopes;
        self
    }

    /// At most this many messages per destination per window; more are held for one digest.
    pub fn storm(mut self, limit: StormLimit) -> Self {
        self.settings.storm = limit;
        self
    }

    /// How long a ledger claim holds.
    pub fn lease(mut self, lease: chrono::Duration) -> Self {
        self.settings.lease = lease;
        self
    }

    /// Overrides the integration's rate limit.
    pub fn rate_limit(mut self, rate: RateLimit) -> Self {
        self.rate_limit = Some(rate);
        self
    }

    /// Referenced secrets are read from `stores` when built, again once older than `ttl`, and at
    /// once after a vendor refuses them (401/403/404), before the message is dead-lettered.
    /// Without stores only inline secrets work.
    pub fn secret_stores(mut self, stores: SecretStores<'a>, ttl: Duration) -> Self {
        self.secrets = Some((stores, ttl));
        self
    }

    /// Resolves the secrets and builds the HTTP client.
    pub async fn build(self) -> Result<Dispatcher<'a>, ConfigError> {
        let stores = self.secrets.map(|(s, _)| s).unwrap_or_default();
        self.integration.resolve_secrets(&stores, false).await?;
        let sender = Sender::allowing(
            self.timeout,
            self.endpoint,
            self.policy,
            self.integration.allow_hosts(),
        )
        .map_err(ConfigError::Invalid)?;
        let limiter = Limiter::new(self.rate_limit.unwrap_or(self.integration.rate_limit()));
        Ok(Dispatcher {
            integration: self.integration,
            state: self.state,
            sender,
            limiter,
            settings: self.settings,
            lake: self.lake,
            secrets: self.secrets.map(|(stores, ttl)| Rotation {
                stores,
                ttl,
                read_at: Mutex::new(std::time::Instant::now()),
            }),
        })
    }
}

impl<'a> Dispatcher<'a> {
    pub fn builder(integration: Box<dyn Configured>, state: &'a dyn StateStore) -> Builder<'a> {
        Builder {
            integration,
            state,
            timeout: Duration::from_secs(10),
            endpoint: None,
            policy: RetryPolicy::default(),
            settings: Settings::default(),
            rate_limit: None,
            secrets: None,
            lake: None,
        }
    }

    pub fn integration(&self) -> &dyn Configured {
        self.integration.as_ref()
    }

    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    /// The lake objects the integration needs for `message` (none for most): an object not there
    /// yet is retried (the report function archives before it publishes, so only a lagging
    /// replica or a deleted file gets here), a lake that is not configured is a dead letter.
    async fn read_objects(
        &self,
        message: Message<'_>,
    ) -> Result<BTreeMap<String, Vec<u8>>, Verdict> {
        let mut objects = BTreeMap::new();
        let keys = self.integration.objects(message);
        if keys.is_empty() {
            return Ok(objects);
        }
        let Some(lake) = self.lake else {
            return Err(Verdict::Dead {
                reason: format!(
                    "{} reads report files from the lake bucket, but none is configured (COSTWATCH_BUCKET)",
                    self.integration.name()
                ),
            });
        };
        for key in keys {
            match lake.get(&key).await {
                Ok(Some(body)) => {
                    objects.insert(key, body);
                }
                Ok(None) => {
                    return Err(Verdict::Retry {
                        after: Duration::from_secs(60),
                        reason: format!("{key} is not in the lake (yet)"),
                    });
                }
                Err(e) => {
                    return Err(Verdict::Retry {
                        after: Duration::from_secs(5),
                        reason: format!("reading {key}: {e}"),
                    });
                }
            }
        }
        Ok(objects)
    }

    /// Re-reads referenced secrets once they are older than the TTL. A failed read keeps the
    /// values there are (they may still work) and says so.
    async fn refresh_if_stale(&self) {
        let Some(rotation) = &self.secrets else {
            return;
        };
        let stale = {
            let read_at = rotation
                .read_at
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            read_at.elapsed() >= rotation.ttl
        };
        if !stale {
            return;
        }
        match self
            .integration
            .resolve_secrets(&rotation.stores, false)
            .await
        {
            Ok(changed) => {
                if changed {
                    tracing::info!(
                        integration = self.integration.name(),
                        "a secret changed; using the new value"
                    );
                }
                *rotation
                    .read_at
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = std::time::Instant::now();
            }
            Err(e) => {
                tracing::warn!(integration = self.integration.name(), error = %e, "cannot re-read secrets; keeping the current values");
            }
        }
    }

    /// After the vendor refused a credential: read the secrets past every cache. `Ok(true)` when
    /// a value changed (worth one more try), `Ok(false)` when nothing was re-read or changed.
    async fn reread_after_refusal(&self) -> Result<bool, ConfigError> {
        let Some(rotation) = &self.secrets else {
            return Ok(false);
        };
        let changed = self
            .integration
            .resolve_secrets(&rotation.stores, true)
            .await?;
        *rotation
            .read_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = std::time::Instant::now();
        Ok(changed)
    }

    pub async fn dispatch(
        &self,
        batch: &[Incoming],
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Vec<(String, Verdict)> {
        self.dispatch_receiving(batch, &BTreeSet::new(), now, deadline)
            .await
    }

    /// [`Dispatcher::dispatch`], where the messages at indexes `last` are at their last receive:
    /// a storm limit does not hold them (the queue would dead-letter them).
    pub async fn dispatch_receiving(
        &self,
        batch: &[Incoming],
        last: &BTreeSet<usize>,
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Vec<(String, Verdict)> {
        self.refresh_if_stale().await;
        let mut verdicts: BTreeMap<usize, Verdict> = BTreeMap::new();
        let mut envelopes: Vec<Option<Notification>> = Vec::new();
        // destination → indexes of envelopes routed there
        let mut routed: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let all = self.integration.destinations();
        for (i, message) in batch.iter().enumerate() {
            let envelope = match serde_json::from_str::<Notification>(&message.body) {
                Ok(n) => n,
                Err(e) => {
                    verdicts.insert(
                        i,
                        Verdict::Dead {
                            reason: format!("not a notification envelope: {e}"),
                        },
                    );
                    envelopes.push(None);
                    continue;
                }
            };
            let routing = self.integration.routing();
            if let Some(until) = routing.hold_until(&envelope, now) {
                let after = (until - now).to_std().unwrap_or_default();
                verdicts.insert(
                    i,
                    Verdict::Retry {
                        after,
                        reason: "quiet hours".into(),
                    },
                );
                envelopes.push(None);
                continue;
            }
            let destinations = routing.destinations(&envelope, &all);
            if destinations.is_empty() {
                tracing::warn!(integration = self.integration.name(), envelope = %envelope.id, "no routing rule matches and there is no fallback");
            }
            for d in destinations {
                routed.entry(d).or_default().push(i);
            }
            verdicts.insert(i, Verdict::Done);
            envelopes.push(Some(envelope));
        }

        for (destination, indexes) in routed {
            for (i, v) in self
                .to_destination(&destination, &indexes, &envelopes, last, now, deadline)
                .await
            {
                let merged = verdicts.remove(&i).unwrap_or(Verdict::Done).merge(v);
                verdicts.insert(i, merged);
            }
        }
        verdicts
            .into_iter()
            .map(|(i, v)| (batch[i].message_id.clone(), v))
            .collect()
    }

    async fn to_destination(
        &self,
        destination: &str,
        indexes: &[usize],
        envelopes: &[Option<Notification>],
        last: &BTreeSet<usize>,
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Vec<(usize, Verdict)> {
        let name = self.integration.name();
        if let Some(verdict) = self.if_disabled(destination).await {
            return indexes.iter().map(|&i| (i, verdict.clone())).collect();
        }
        let ledger = self.claiming_ledger(deadline);
        let mut out = Vec::new();
        let mut granted: Vec<(usize, Ticket)> = Vec::new();
        for &i in indexes {
            let Some(n) = &envelopes[i] else { continue };
            match ledger.claim(name, destination, &n.id, now).await {
                Ok(Claim::Granted(t)) => granted.push((i, t)),
                Ok(Claim::AlreadySent) => out.push((i, Verdict::Done)),
                Ok(Claim::NotBefore(at)) => out.push((
                    i,
                    Verdict::Retry {
                        after: (at - now).to_std().unwrap_or_default(),
                        reason: format!("{destination}: the vendor asked to wait until {at}"),
                    },
                )),
                // Back when the holder has sent (then skipped), given up (then ours) or been
                // stopped by Lambda: one more receive of this copy, not one per minute.
                Ok(Claim::InFlight(until)) => out.push((
                    i,
                    Verdict::Retry {
                        after: (until - now).to_std().unwrap_or_default() + Duration::from_secs(1),
                        reason: format!("{destination}: another attempt is delivering it"),
                    },
                )),
                Err(e) => out.push((
                    i,
                    Verdict::Retry {
                        after: Duration::from_secs(5),
                        reason: format!("ledger: {e}"),
                    },
                )),
            }
        }
        if granted.is_empty() {
            return out;
        }
        let storms = Storms::new(self.state, self.settings.storm);
        let forced = |group: &[(usize, Ticket)]| group.iter().any(|(i, _)| last.contains(i));
        // Envelopes held by a full window go out with the first message of a later one; they
        // join the pool after the batch's own, and their verdicts stay here.
        let mut pool: Vec<Option<Notification>> = envelopes.to_vec();
        let mut held: BTreeMap<usize, Held> = BTreeMap::new();
        match storms.admit(name, destination, now, forced(&granted)).await {
            Ok(Admission::Send) => {
                for (h, ticket) in self
                    .claim_held(&storms, &ledger, destination, envelopes, now)
                    .await
                {
                    pool.push(Some(h.envelope.clone()));
                    granted.push((pool.len() - 1, ticket));
                    held.insert(pool.len() - 1, h);
                }
            }
            Ok(Admission::Hold { until }) => {
                out.extend(
                    self.hold(&storms, destination, granted, envelopes, now, until)
                        .await,
                );
                return out;
            }
            Err(e) => {
                let verdict = Verdict::Retry {
                    after: Duration::from_secs(5),
                    reason: format!("{destination}: storm window: {e}"),
                };
                for (i, ticket) in granted {
                    out.push((i, self.release(&[(i, ticket)], verdict.clone()).await));
                }
                return out;
            }
        }
        // A storm becomes one message; otherwise one message per envelope.
        let groups: Vec<Vec<(usize, Ticket)>> = if granted.len() >= self.settings.digest_from {
            metrics::digested(name, granted.len() as u64);
            vec![granted]
        } else {
            granted.into_iter().map(|g| vec![g]).collect()
        };
        let mut groups = groups.into_iter();
        // The first message was admitted above; each later one asks for its own place.
        let mut admitted = true;
        while let Some(group) = groups.next() {
            if !admitted {
                match storms.admit(name, destination, now, forced(&group)).await {
                    Ok(Admission::Send) => {}
                    Ok(Admission::Hold { until }) => {
                        let rest: Vec<(usize, Ticket)> =
                            group.into_iter().chain(groups.flatten()).collect();
                        out.extend(
                            self.hold(&storms, destination, rest, &pool, now, until)
                                .await,
                        );
                        break;
                    }
                    Err(e) => {
                        let verdict = Verdict::Retry {
                            after: Duration::from_secs(5),
                            reason: format!("{destination}: storm window: {e}"),
                        };
                        out.extend(group.iter().map(|(i, _)| (*i, verdict.clone())));
                        self.release(&group, verdict).await;
                        continue;
                    }
                }
            }
            admitted = false;
            let verdicts = self
                .deliver_contained(destination, group, &pool, now, deadline)
                .await;
            out.extend(verdicts);
        }
        // A held envelope's verdict is its delivery's, not a message's of this batch.
        let mut own = Vec::with_capacity(out.len());
        for (i, verdict) in out {
            match held.get(&i) {
                Some(h) if verdict == Verdict::Done => storms.forget(name, destination, h).await,
                Some(_) => {}
                None => own.push((i, verdict)),
            }
        }
        own
    }

    /// Claims the envelopes a full window held for `destination`, except this batch's own (it
    /// claimed those already); one found sent is forgotten.
    async fn claim_held(
        &self,
        storms: &Storms<'_>,
        ledger: &Ledger<'_>,
        destination: &str,
        batch: &[Option<Notification>],
        now: DateTime<Utc>,
    ) -> Vec<(Held, Ticket)> {
        let name = self.integration.name();
        let held = match storms.held(name, destination).await {
            Ok(held) => held,
            Err(e) => {
                // Their own messages deliver them later instead.
                tracing::warn!(integration = name, error = %e, "cannot read the held envelopes");
                return Vec::new();
            }
        };
        let ours: BTreeSet<&str> = batch.iter().flatten().map(|n| n.id.as_str()).collect();
        let mut claimed = Vec::new();
        for h in held {
            if ours.contains(h.envelope.id.as_str()) {
                continue;
            }
            match ledger.claim(name, destination, &h.envelope.id, now).await {
                Ok(Claim::Granted(ticket)) => claimed.push((h, ticket)),
                Ok(Claim::AlreadySent) => storms.forget(name, destination, &h).await,
                // Another invocation has it, or its vendor wait is not over: its own message
                // comes back for it.
                Ok(_) | Err(_) => {}
            }
        }
        if !claimed.is_empty() {
            tracing::info!(
                integration = name,
                destination,
                held = claimed.len(),
                "held envelopes join this message"
            );
        }
        claimed
    }

    /// A full window: `group`'s envelopes are kept for the next digest and their messages wait
    /// until the window ends. A held envelope already claimed from an earlier hold is released.
    async fn hold(
        &self,
        storms: &Storms<'_>,
        destination: &str,
        group: Vec<(usize, Ticket)>,
        envelopes: &[Option<Notification>],
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<(usize, Verdict)> {
        let name = self.integration.name();
        metrics::held(name, group.len() as u64);
        let verdict = Verdict::Retry {
            // A second past the end, so the message lands in the next window.
            after: (until - now).to_std().unwrap_or_default() + Duration::from_secs(1),
            reason: format!(
                "{destination}: alert storm: the window's messages are sent; held for one digest after {until}"
            ),
        };
        let mut out = Vec::with_capacity(group.len());
        for (i, ticket) in group {
            if let Some(n) = envelopes.get(i).and_then(Option::as_ref)
                && let Err(e) = storms.hold(name, destination, n, now).await
            {
                tracing::warn!(integration = name, error = %e, "cannot hold an envelope; its message delivers it later");
            }
            out.push((i, self.release(&[(i, ticket)], verdict.clone()).await));
        }
        out
    }

    /// A group's delivery with a panic contained (a bug for some envelope, e.g. in an encoder):
    /// its claims are given up, a digest is delivered again member by member, and the member
    /// that panics alone is dead-lettered with the panic as its reason.
    async fn deliver_contained(
        &self,
        destination: &str,
        group: Vec<(usize, Ticket)>,
        envelopes: &[Option<Notification>],
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Vec<(usize, Verdict)> {
        let panicked = |reason| Verdict::Dead { reason };
        let reason = match self
            .deliver_caught(destination, &group, envelopes, now, deadline)
            .await
        {
            Ok(verdict) => return group.iter().map(|(i, _)| (*i, verdict.clone())).collect(),
            Err(reason) => reason,
        };
        let verdict = self.release(&group, panicked(reason.clone())).await;
        if let [(i, _)] = group.as_slice() {
            return vec![(*i, verdict)];
        }
        tracing::error!(destination, members = group.len(), reason = %reason,
            "a digest panicked: delivering its members one by one");
        let ledger = self.claiming_ledger(deadline);
        let mut out = Vec::new();
        for (i, _) in &group {
            let Some(n) = &envelopes[*i] else { continue };
            let verdict = match ledger
                .claim(self.integration.name(), destination, &n.id, now)
                .await
            {
                Ok(Claim::Granted(ticket)) => {
                    let one = [(*i, ticket)];
                    match self
                        .deliver_caught(destination, &one, envelopes, now, deadline)
                        .await
                    {
                        Ok(verdict) => verdict,
                        Err(reason) => self.release(&one, panicked(reason)).await,
                    }
                }
                Ok(Claim::AlreadySent) => Verdict::Done,
                other => Verdict::Retry {
                    after: Duration::from_secs(5),
                    reason: format!("{destination}: ledger after a panic: {other:?}"),
                },
            };
            out.push((*i, verdict));
        }
        out
    }

    /// The group's members in delivery order (most severe, then oldest, first), delivered; a
    /// panic comes back as its dead-letter reason.
    async fn deliver_caught(
        &self,
        destination: &str,
        group: &[(usize, Ticket)],
        envelopes: &[Option<Notification>],
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Result<Verdict, String> {
        let mut members: Vec<Notification> = group
            .iter()
            .filter_map(|(i, _)| envelopes[*i].clone())
            .collect();
        members.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.created_at.cmp(&b.created_at))
        });
        AssertUnwindSafe(self.deliver(destination, &members, group, now, deadline))
            .catch_unwind()
            .await
            .map_err(|panic| crate::panics::reason(panic.as_ref()))
    }

    /// The verdict for every message to a destination the vendor said is gone
    /// ([`crate::disabled`]), if it is.
    async fn if_disabled(&self, destination: &str) -> Option<Verdict> {
        let name = self.integration.name();
        match Disabled::new(self.state).get(name, destination).await {
            Ok(None) => None,
            Ok(Some(record)) => {
                let reason = disabled::explain(name, destination, &record);
                tracing::error!(integration = name, reason = %reason, "not sent: destination disabled");
                Some(Verdict::Dead { reason })
            }
            Err(e) => Some(Verdict::Retry {
                after: Duration::from_secs(5),
                reason: format!("disabled destinations: {e}"),
            }),
        }
    }

    /// Records `destination` as gone and says so: the reason names the vendor's answer and how to
    /// re-enable it.
    async fn disable(&self, destination: &str, answer: &str, now: DateTime<Utc>) -> String {
        let name = self.integration.name();
        let record = disabled::Record {
            since: now,
            reason: answer.to_owned(),
        };
        let reason = disabled::explain(name, destination, &record);
        match Disabled::new(self.state)
            .disable(name, destination, answer, now)
            .await
        {
            Ok(()) => tracing::error!(integration = name, reason = %reason, "destination disabled"),
            Err(e) => {
                tracing::error!(integration = name, error = %e, answer = %answer, "the destination is gone but cannot be recorded as disabled; later messages will try it again");
            }
        }
        reason
    }

    /// Sends one message (one envelope or a digest) and settles its ledger tickets.
    async fn deliver(
        &self,
        destination: &str,
        members: &[Notification],
        group: &[(usize, Ticket)],
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Verdict {
        let name = self.integration.name();
        let ledger = Ledger::new(self.state, self.settings.lease);
        let memos = Memos::new(self.state);
        let message = match members {
            [one] => Message::One(one),
            many => Message::Digest(many),
        };
        let mut context = RenderContext::default();
        if let Message::One(n) = message {
            match memos.get(name, destination, &n.subject_id).await {
                Ok(memo) => context.memo = memo,
                Err(e) => return self.state_unreadable(group, "memo", e).await,
            }
        }
        match self.read_objects(message).await {
            Ok(objects) => context.objects = objects,
            Err(verdict) => return self.release(group, verdict).await,
        }
        // Steps an earlier delivery of this message completed (a post whose chart upload then
        // had to wait): resumed after, never sent again.
        let progress = Progress::new(self.state);
        let tickets: Vec<&Ticket> = group.iter().map(|(_, t)| t).collect();
        let progress_key = Progress::key(name, destination, &tickets);
        let (mut done, progress_version) = match progress.get(&progress_key).await {
            Ok(found) => found,
            Err(e) => return self.state_unreadable(group, "progress", e).await,
        };
        // A refused credential is re-read once (it may have been rotated) and the message sent
        // again with the new value, before anything is dead-lettered.
        let mut reread = false;
        loop {
            let requests = match self.integration.render(destination, message, &context) {
                Ok(r) => r,
                Err(e) => {
                    metrics::failed(name);
                    return self
                        .release(
                            group,
                            Verdict::Dead {
                                reason: format!("{destination}: {e}"),
                            },
                        )
                        .await;
                }
            };
            if let Err(wait) = self.wait_for_rate(destination, deadline).await {
                return self
                    .release(
                        group,
                        Verdict::Retry {
                            after: wait.max(Duration::from_secs(1)),
                            reason: format!("{destination}: rate limit"),
                        },
                    )
                    .await;
            }
            let started = Instant::now();
            let resumed = std::mem::take(&mut done);
            match self
                .exchange_with_remainders(&requests, resumed, deadline)
                .await
            {
                Sent::Delivered { answers, retries } => {
                    metrics::sent(name, 1, started.elapsed());
                    metrics::retried(name, u64::from(retries));
                    if let Message::One(n) = message
                        && let Some(memo) =
                            self.integration.remember(destination, message, &answers)
                        && let Err(e) = memos
                            .keep_first(name, destination, &n.subject_id, memo)
                            .await
                    {
                        tracing::warn!(integration = name, error = %e, "cannot keep the message reference; later states post anew");
                    }
                    for (_, ticket) in group {
                        if let Err(e) = ledger.sent(ticket.clone(), now).await {
                            // Delivered, but not recorded: the claim expires with its lease and
                            // a redelivery after that would send again. Say so loudly.
                            tracing::error!(integration = name, error = %e, "delivered but the ledger write failed");
                        }
                    }
                    return Verdict::Done;
                }
                Sent::Requeue {
                    after,
                    reason,
                    retries,
                    done: completed,
                } => {
                    metrics::retried(name, u64::from(retries) + 1);
                    if !completed.is_empty() {
                        // Kept before the claim is released: the redelivery reads it.
                        if let Err(e) = progress
                            .put(&progress_key, &completed, progress_version)
                            .await
                        {
                            // Not kept: the redelivery sends those steps again. Say so.
                            tracing::error!(integration = name, error = %e, "the steps done could not be recorded; a retry repeats them");
                        }
                    }
                    // SQS holds a message back 12 hours at most: a longer wait is kept in the
                    // ledger, and a redelivery before its end waits again.
                    let not_before = (after > MAX_VISIBILITY)
                        .then(|| chrono::Duration::from_std(after).ok().map(|a| now + a))
                        .flatten();
                    return self
                        .release_until(group, Verdict::Retry { after, reason }, not_before)
                        .await;
                }
                Sent::Failed {
                    reason,
                    retries,
                    credential_refused,
                    completed,
                    gone,
                    ..
                } => {
                    metrics::retried(name, u64::from(retries));
                    if gone {
                        metrics::failed(name);
                        let reason = self.disable(destination, &reason, now).await;
                        return self.release(group, Verdict::Dead { reason }).await;
                    }
                    // Sent again only when nothing went through yet: a later step's refusal
                    // would repeat the steps that already did.
                    let reason = if credential_refused && !reread && completed == 0 {
                        match self.reread_after_refusal().await {
                            Ok(true) => {
                                tracing::info!(
                                    integration = name,
                                    "credential refused; the secret changed since it was read, sending again with the new value"
                                );
                                reread = true;
                                continue;
                            }
                            Ok(false) if self.secrets.is_some() => {
                                format!("{reason} (the secret was re-read: unchanged)")
                            }
                            Ok(false) => reason,
                            Err(e) => format!("{reason} (re-reading the secret failed: {e})"),
                        }
                    } else {
                        reason
                    };
                    metrics::failed(name);
                    tracing::error!(integration = name, reason = %reason, "delivery failed for good");
                    return self.release(group, Verdict::Dead { reason }).await;
                }
            }
        }
    }

    /// Sends `requests`, then what the vendor's answers leave to send ([`Integration::remainder`]:
    /// the events a partial refusal did not name), for at most [`REMAINDER_ROUNDS`] rounds. The
    /// answers are the first round's; a later round's failure is the exchange's.
    ///
    /// [`Integration::remainder`]: crate::Integration::remainder
    async fn exchange_with_remainders(
        &self,
        requests: &[VendorRequest],
        done: Vec<Delivered>,
        deadline: Instant,
    ) -> Sent {
        let integration = self.integration.as_ref();
        let first = self
            .sender
            .exchange_from(integration, requests, done, deadline)
            .await;
        let Sent::Delivered {
            answers,
            mut retries,
        } = first
        else {
            return first;
        };
        let mut sent: Vec<VendorRequest> = requests.to_vec();
        let mut got = answers.clone();
        for _ in 0..REMAINDER_ROUNDS {
            let remainders: Vec<VendorRequest> = sent
                .iter()
                .zip(&got)
                .filter_map(|(request, answer)| integration.remainder(request, answer))
                .collect();
            if remainders.is_empty() {
                return Sent::Delivered { answers, retries };
            }
            tracing::warn!(
                integration = integration.name(),
                requests = remainders.len(),
                "the vendor refused part of a request; sending the remainder"
            );
            match self
                .sender
                .exchange(integration, &remainders, deadline)
                .await
            {
                Sent::Delivered {
                    answers: more,
                    retries: r,
                } => {
                    retries += r;
                    sent = remainders;
                    got = more;
                }
                other => return other,
            }
        }
        Sent::Requeue {
            after: Duration::from_secs(60),
            reason: format!(
                "the vendor still refused part of the message after {REMAINDER_ROUNDS} remainder rounds"
            ),
            retries,
            // The remainders are computed from the whole message's answers: start over.
            done: Vec::new(),
        }
    }

    /// Waits for a rate-limit slot if one comes before the deadline; else how long until one.
    async fn wait_for_rate(&self, destination: &str, deadline: Instant) -> Result<(), Duration> {
        loop {
            match self.limiter.try_take(destination) {
                Ok(()) => return Ok(()),
                Err(wait) if wait < deadline.saturating_duration_since(Instant::now()) => {
                    tokio::time::sleep(wait).await;
                }
                Err(wait) => return Err(wait),
            }
        }
    }

    /// What the dispatcher keeps could not be read: try again shortly.
    async fn state_unreadable(
        &self,
        group: &[(usize, Ticket)],
        what: &str,
        e: impl std::fmt::Display,
    ) -> Verdict {
        let verdict = Verdict::Retry {
            after: Duration::from_secs(5),
            reason: format!("{what}: {e}"),
        };
        self.release(group, verdict).await
    }

    /// The ledger this invocation claims with: its claims live until the invocation's deadline
    /// (Lambda stops it there), never longer than the lease.
    fn claiming_ledger(&self, deadline: Instant) -> Ledger<'a> {
        let left = deadline.saturating_duration_since(Instant::now()) + DEADLINE_GRACE;
        let lease = chrono::Duration::from_std(left)
            .map_or(self.settings.lease, |left| left.min(self.settings.lease));
        Ledger::new(self.state, lease)
    }

    async fn release(&self, group: &[(usize, Ticket)], verdict: Verdict) -> Verdict {
        self.release_until(group, verdict, None).await
    }

    async fn release_until(
        &self,
        group: &[(usize, Ticket)],
        verdict: Verdict,
        not_before: Option<DateTime<Utc>>,
    ) -> Verdict {
        let ledger = Ledger::new(self.state, self.settings.lease);
        let reason = match &verdict {
            Verdict::Retry { reason, .. } | Verdict::Dead { reason } => reason.clone(),
            Verdict::Done => String::new(),
        };
        for (_, ticket) in group {
            if let Err(e) = ledger.release(ticket.clone(), &reason, not_before).await {
                // The claim then expires with its lease; only the retry waits longer.
                tracing::warn!(error = %e, "cannot release a ledger claim");
            }
        }
        verdict
    }
}
