//! The envelopes the suite renders and sends: every sample kind with its variants, hostile copies
//! of them, and numbered copies for the drills.

use std::collections::BTreeMap;

use costwatch_core::notification::{Link, ReportPeriod};
use costwatch_core::{Notification, NotificationBody, State};
use costwatch_dispatch::dispatcher::Incoming;
use costwatch_dispatch::{Configured, Message};
use costwatch_store::LakeWriter;
use costwatch_store::memory::MemoryLake;

use crate::Sends;

/// Every sample envelope (`costwatch_core::samples::all()`), a weekly report, the anomaly's later
/// states, and the anomaly with a details link, labelled.
pub fn variants() -> Vec<(String, Notification)> {
    let mut all: Vec<(String, Notification)> = costwatch_core::samples::all()
        .into_iter()
        .map(|(stem, n)| (stem.to_owned(), n))
        .collect();
    let sample = |stem: &str| costwatch_core::samples::of_kind(stem);
    let mut weekly = sample("report");
    if let NotificationBody::Report(f) = &mut weekly.body {
        f.period = ReportPeriod::Weekly;
    }
    all.push(("weekly report".into(), weekly));
    for (revision, state) in [
        (1, State::Ongoing),
        (2, State::Acknowledged),
        (3, State::Resolved),
    ] {
        let mut a = sample("anomaly");
        a.state = state;
        a.revision = revision;
        // Still a schema-valid id (`ntf_` and 20 hex digits, which webhook receivers get as
        // is): the last digit becomes the revision.
        a.id = format!("{}{revision}", &a.id[..a.id.len() - 1]);
        all.push((format!("anomaly {state:?}"), a));
    }
    let mut linked = sample("anomaly");
    linked.links.push(Link {
        label: "Open in costwatch".into(),
        url: "https://costs.example.com/anomalies/1".into(),
    });
    all.push(("anomaly with a link".into(), linked));
    all
}

/// `n` with every user-controllable string set to `hostile`: title, summary, the scope's label,
/// account name, service, tags and cost categories (keys and values), link labels, root-cause
/// values, budget names, recommendation texts, report mover and budget labels, the test message.
pub fn hostile_copy(n: &Notification, hostile: &str) -> Notification {
    let h = || hostile.to_owned();
    let mut n = n.clone();
    n.title = h();
    n.summary = h();
    n.scope.label = h();
    n.scope.account_name = Some(h());
    n.scope.service = Some(h());
    n.scope.tags.insert("team".into(), h());
    n.scope.tags.insert(h(), h());
    n.scope.cost_categories.insert(h(), h());
    for link in &mut n.links {
        link.label = h();
    }
    n.links.push(Link {
        label: h(),
        url: "https://costs.example.com/hostile".into(),
    });
    match &mut n.body {
        NotificationBody::Anomaly(f) => {
            for cause in &mut f.root_causes {
                cause.value = h();
            }
        }
        NotificationBody::Budget(f) => f.budget = h(),
        NotificationBody::Forecast(_) => {}
        NotificationBody::Recommendation(f) => {
            f.category = h();
            f.action = h();
            f.resource_id = Some(h());
        }
        NotificationBody::Report(f) => {
            for m in f.top_movers.iter_mut().chain(&mut f.top_services) {
                m.label = h();
                m.scope = h();
            }
            for b in &mut f.budgets {
                b.budget = h();
            }
        }
        NotificationBody::Test(f) => f.message = h(),
    }
    n
}

/// `count` copies of the sample anomaly, each its own subject, with ids `{prefix}-00001`, … (no
/// underscores: Slack's escaping puts a zero-width space before `_`; five digits, so a 10,000
/// envelope drill numbers them all alike).
pub fn numbered(prefix: &str, count: usize) -> Vec<Notification> {
    let base = costwatch_core::samples::of_kind("anomaly");
    (1..=count)
        .map(|i| {
            let mut n = base.clone();
            n.id = format!("{prefix}-{i:05}");
            n.subject_id = format!("{prefix}-subject-{i:05}");
            n
        })
        .collect()
}

/// `count` copies of the sample daily report, ids `{prefix}-00001`, …, each of its own day (the
/// first ends the day before the sample's, the next the day before that): an archive names its
/// objects by period and day, so each copy names objects of its own.
pub fn numbered_reports(prefix: &str, count: usize) -> Vec<Notification> {
    let base = costwatch_core::samples::of_kind("report");
    (1..=count)
        .map(|i| {
            let mut n = base.clone();
            n.id = format!("{prefix}-{i:05}");
            n.subject_id = format!("{prefix}-subject-{i:05}");
            if let NotificationBody::Report(f) = &mut n.body {
                let back = chrono::Duration::days(i64::try_from(i).unwrap_or(i64::MAX));
                f.start -= back;
                f.end -= back;
            }
            n
        })
        .collect()
}

/// The numbered envelopes a drill sends: anomalies, or for an archive reports.
pub fn numbered_for(sends: Sends, prefix: &str, count: usize) -> Vec<Notification> {
    match sends {
        Sends::Envelopes => numbered(prefix, count),
        Sends::Archive => numbered_reports(prefix, count),
    }
}

/// What the suite's lake holds under `key` for envelope `id`: both, so a written object says
/// whose it was and which.
pub fn object_text(id: &str, key: &str) -> String {
    format!("{id} {key}")
}

/// The lake objects `configured` names for each of `envelopes`, by key, with their
/// [`object_text`] (none for an integration that reads no lake).
pub fn objects_of(
    configured: &dyn Configured,
    envelopes: &[Notification],
) -> BTreeMap<String, Vec<u8>> {
    envelopes
        .iter()
        .flat_map(|n| {
            configured
                .objects(Message::One(n))
                .into_iter()
                .map(|key| (key.clone(), object_text(&n.id, &key).into_bytes()))
        })
        .collect()
}

/// A lake holding [`objects_of`] `envelopes`, for the dispatcher to read.
pub async fn lake_of(configured: &dyn Configured, envelopes: &[Notification]) -> MemoryLake {
    let lake = MemoryLake::new();
    for (key, body) in objects_of(configured, envelopes) {
        lake.put(&key, body).await.expect("a lake key");
    }
    lake
}

/// Each envelope as a queue delivers it ([`Incoming::of`]): one batch.
pub fn batch(envelopes: &[Notification]) -> Vec<Incoming> {
    envelopes
        .iter()
        .map(|n| Incoming::of(n).expect("an envelope serializes"))
        .collect()
}

/// `(message id, body)` for a queue.
pub fn queued(envelopes: &[Notification]) -> Vec<(String, String)> {
    batch(envelopes)
        .into_iter()
        .map(|m| (m.message_id, m.body))
        .collect()
}

/// The distinct `{prefix}-NNNNN` ids in `text`, in order of appearance.
pub fn ids_in(text: &str, prefix: &str) -> Vec<String> {
    let needle = format!("{prefix}-");
    let mut found: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let tail = &rest[at + needle.len()..];
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        if digits.len() == 5 {
            let id = format!("{needle}{digits}");
            if !found.contains(&id) {
                found.push(id);
            }
        }
        rest = tail;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_once_per_text_and_only_with_five_digits() {
        let text = "a ntf-drill-00001 b ntf-drill-00001 ntf-drill-12 ntf-drill-00002x";
        assert_eq!(
            ids_in(text, "ntf-drill"),
            ["ntf-drill-00001", "ntf-drill-00002"]
        );
    }

    #[test]
    fn numbered_reports_are_each_a_day_of_their_own() {
        let reports = numbered_reports("ntf-x", 3);
        let days: std::collections::BTreeSet<_> = reports
            .iter()
            .map(|n| match &n.body {
                NotificationBody::Report(f) => (f.start, f.end),
                _ => panic!("not a report"),
            })
            .collect();
        assert_eq!(days.len(), 3);
        assert_eq!(reports[2].id, "ntf-x-00003");
    }

    #[test]
    fn a_hostile_copy_changes_every_text_it_names() {
        for (_, n) in variants() {
            let h = hostile_copy(&n, "@everyone");
            assert_eq!(h.title, "@everyone");
            assert_eq!(h.scope.account_name.as_deref(), Some("@everyone"));
            assert!(h.links.iter().all(|l| l.label == "@everyone"));
            assert_eq!(h.id, n.id);
        }
    }
}
