//! Routing rules: which destinations of an integration get an envelope. Rules match on kind,
//! minimum severity, account, service, tags and cost categories; every matching rule adds its
//! destinations. No match goes to the fallback owner; with no rules at all every destination
//! gets everything. Quiet hours hold back envelopes below a severity until the window ends.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, Utc};
use costwatch_core::Notification;
use costwatch_core::notification::Severity;
use serde::Deserialize;

use crate::error::ConfigError;
use crate::local_time::{NamedZone, Zone};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Where an envelope no rule matches goes (the owner of last resort).
    #[serde(default)]
    pub fallback: Option<String>,
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
}

/// Every condition given must hold; a list matches when it contains the envelope's value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Account ids or names.
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub cost_categories: BTreeMap<String, String>,
    pub destinations: Vec<String>,
}

/// `start`–`end` of the team's local time (may wrap midnight); envelopes below `min_severity`
/// wait until `end`. Reports are scheduled on purpose and always pass. Local time is the IANA
/// `time_zone` (`Europe/Berlin`: summer time followed), or a fixed `utc_offset_minutes` east of
/// UTC; UTC when neither is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
    #[serde(default)]
    pub time_zone: Option<NamedZone>,
    #[serde(default)]
    pub utc_offset_minutes: Option<i32>,
    #[serde(default = "critical")]
    pub min_severity: Severity,
}

fn critical() -> Severity {
    Severity::Critical
}

impl Routing {
    pub fn validate(&self, destinations: &[String]) -> Result<(), ConfigError> {
        let known = |name: &String, what: &str| {
            if destinations.contains(name) {
                Ok(())
            } else {
                Err(ConfigError::Invalid(format!(
                    "{what} names destination `{name}`, which is not configured (configured: {})",
                    destinations.join(", ")
                )))
            }
        };
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.destinations.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "routing rule {i} has no destinations"
                )));
            }
            for d in &rule.destinations {
                known(d, &format!("routing rule {i}"))?;
            }
            for kind in &rule.kinds {
                if !KINDS.contains(&kind.as_str()) {
                    return Err(ConfigError::Invalid(format!(
                        "routing rule {i}: unknown kind `{kind}` (one of {})",
                        KINDS.join(", ")
                    )));
                }
            }
        }
        if let Some(f) = &self.fallback {
            known(f, "routing fallback")?;
        }
        self.quiet_hours
            .as_ref()
            .map_or(Ok(()), QuietHours::validate)
    }

    /// The destinations for `n`, sorted and without repeats; empty when nothing matches and
    /// there is no fallback.
    pub fn destinations(&self, n: &Notification, all: &[String]) -> Vec<String> {
        if self.rules.is_empty() {
            let mut every = all.to_vec();
            every.sort();
            return every;
        }
        let mut out = BTreeSet::new();
        for rule in self.rules.iter().filter(|r| r.matches(n)) {
            out.extend(rule.destinations.iter().cloned());
        }
        if out.is_empty()
            && let Some(f) = &self.fallback
        {
            out.insert(f.clone());
        }
        out.into_iter().collect()
    }

    /// When `n` may be sent: `None` now, or the end of the quiet window it falls in.
    pub fn hold_until(&self, n: &Notification, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let q = self.quiet_hours.as_ref()?;
        if n.severity >= q.min_severity || n.kind() == "report" || n.kind() == "test" {
            return None;
        }
        q.window_end(now)
    }
}

const KINDS: [&str; 6] = [
    "anomaly",
    "budget",
    "forecast",
    "recommendation",
    "report",
    "test",
];

impl Rule {
    fn matches(&self, n: &Notification) -> bool {
        let scope = &n.scope;
        let in_list = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|x| x == v))
        };
        let in_map = |wanted: &BTreeMap<String, String>, have: &BTreeMap<String, String>| {
            wanted.iter().all(|(k, v)| have.get(k) == Some(v))
        };
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == n.kind()))
            && self.min_severity.is_none_or(|s| n.severity >= s)
            && (in_list(&self.accounts, scope.account_id.as_deref())
                || in_list(&self.accounts, scope.account_name.as_deref()))
            && in_list(&self.services, scope.service.as_deref())
            && in_map(&self.tags, &scope.tags)
            && in_map(&self.cost_categories, &scope.cost_categories)
    }
}

impl QuietHours {
    pub fn validate(&self) -> Result<(), ConfigError> {
        match (&self.time_zone, self.utc_offset_minutes) {
            (Some(_), Some(_)) => Err(ConfigError::Invalid(
                "quiet_hours: give time_zone or utc_offset_minutes, not both".into(),
            )),
            // `unsigned_abs`: `i32::MIN.abs()` overflows (a panic in a debug build; in a
            // release build it wrapped, passed, and the offset was then taken as UTC).
            (None, Some(m)) if m.unsigned_abs() > 14 * 60 => Err(ConfigError::Invalid(format!(
                "quiet_hours.utc_offset_minutes {m} is beyond ±14 h"
            ))),
            _ => Ok(()),
        }
    }

    /// The end of the window `now` is in, if it is in one.
    pub fn window_end(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let zone = match &self.time_zone {
            Some(named) => Zone::Named(named),
            None => Zone::Fixed(FixedOffset::east_opt(
                self.utc_offset_minutes.unwrap_or(0) * 60,
            )?),
        };
        let local = zone.local(now);
        let t = local.time();
        let inside = if self.start <= self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        };
        if !inside {
            return None;
        }
        let mut end = local.date().and_time(self.end);
        if end <= local {
            end += Duration::days(1);
        }
        // A clock change can make the end ambiguous (it happens twice: the first one still
        // ahead ends the night) or skip it (it never happens: the night ends when the clock
        // jumps past it).
        let ahead = |local| zone.instants(local).into_iter().find(|t| *t > now);
        ahead(end).or_else(|| {
            (1..=4)
                .map(|q| end + Duration::minutes(15 * q))
                .find_map(ahead)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_core::samples;

    fn dests() -> Vec<String> {
        ["finops", "ml-team", "owner"].map(String::from).to_vec()
    }

    fn routing(toml_like: serde_json::Value) -> Routing {
        let r: Routing = serde_json::from_value(toml_like).unwrap();
        r.validate(&dests()).unwrap();
        r
    }

    #[test]
    fn rules_route_by_service_severity_and_tag_with_a_fallback() {
        let r = routing(serde_json::json!({
            "rules": [
                {"services": ["Amazon SageMaker"], "min_severity": "high", "destinations": ["ml-team"]},
                {"kinds": ["budget"], "destinations": ["finops"]},
                {"tags": {"team": "payments"}, "destinations": ["finops"]}
            ],
            "fallback": "owner"
        }));
        let anomaly = samples::of_kind("anomaly");
        assert_eq!(r.destinations(&anomaly, &dests()), ["ml-team"]);
        let mut low = anomaly.clone();
        low.severity = Severity::Low;
        assert_eq!(r.destinations(&low, &dests()), ["owner"]);
        let budget = samples::of_kind("budget");
        assert_eq!(r.destinations(&budget, &dests()), ["finops"]);
        let mut tagged = low.clone();
        tagged.scope.tags.insert("team".into(), "payments".into());
        assert_eq!(r.destinations(&tagged, &dests()), ["finops"]);
    }

    #[test]
    fn no_rules_means_every_destination() {
        let r = routing(serde_json::json!({}));
        assert_eq!(r.destinations(&samples::of_kind("test"), &dests()), dests());
    }

    #[test]
    fn unknown_destinations_kinds_and_fields_are_config_errors() {
        let bad: Routing =
            serde_json::from_value(serde_json::json!({"fallback": "nobody"})).unwrap();
        assert!(
            bad.validate(&dests())
                .unwrap_err()
                .to_string()
                .contains("nobody")
        );
        let bad: Routing = serde_json::from_value(
            serde_json::json!({"rules": [{"kinds": ["anomly"], "destinations": ["finops"]}]}),
        )
        .unwrap();
        assert!(
            bad.validate(&dests())
                .unwrap_err()
                .to_string()
                .contains("anomly")
        );
        assert!(serde_json::from_value::<Routing>(serde_json::json!({"rulez": []})).is_err());
    }

    #[test]
    fn quiet_hours_follow_a_named_time_zone_through_summer_time_and_clock_changes() {
        let q = |start: &str, end: &str, tz: &str| -> QuietHours {
            serde_json::from_value(serde_json::json!({"start": start, "end": end, "time_zone": tz}))
                .unwrap()
        };
        let at = |s: &str| -> DateTime<Utc> { s.parse().unwrap() };
        let berlin = q("22:00:00", "07:00:00", "Europe/Berlin");
        // Winter, UTC+1: 00:30 local, the night ends 07:00 CET = 06:00 UTC.
        assert_eq!(
            berlin.window_end(at("2026-11-21T23:30:00Z")),
            Some(at("2026-11-22T06:00:00Z"))
        );
        // Summer, UTC+2: 23:30 local, ends 07:00 CEST = 05:00 UTC (a fixed +60 would say 06:00).
        assert_eq!(
            berlin.window_end(at("2026-07-01T21:30:00Z")),
            Some(at("2026-07-02T05:00:00Z"))
        );
        assert_eq!(berlin.window_end(at("2026-07-01T12:00:00Z")), None);
        // New York springs from 02:00 to 03:00 on 8 March 2026: an end of 02:30 never
        // happens, the night ends when the clock jumps past it, 03:00 EDT = 07:00 UTC.
        let new_york = q("22:00:00", "02:30:00", "America/New_York");
        assert_eq!(
            new_york.window_end(at("2026-03-08T06:00:00Z")),
            Some(at("2026-03-08T07:00:00Z"))
        );
        // Berlin falls back from 03:00 to 02:00 on 25 October 2026: 02:30 happens twice, the
        // first (CEST, 00:30 UTC) ends the night; past it, at 02:15 CET (01:15 UTC), the second
        // (CET, 01:30 UTC) does, not one already gone.
        let short = q("23:00:00", "02:30:00", "Europe/Berlin");
        assert_eq!(
            short.window_end(at("2026-10-24T22:00:00Z")),
            Some(at("2026-10-25T00:30:00Z"))
        );
        assert_eq!(
            short.window_end(at("2026-10-25T01:15:00Z")),
            Some(at("2026-10-25T01:30:00Z"))
        );
    }

    #[test]
    fn a_zone_is_named_once_and_must_exist() {
        let both: QuietHours = serde_json::from_value(serde_json::json!({
            "start": "22:00:00", "end": "07:00:00", "time_zone": "Europe/Berlin", "utc_offset_minutes": 60
        }))
        .unwrap();
        assert!(
            both.validate()
                .unwrap_err()
                .to_string()
                .contains("not both")
        );
        let unknown = serde_json::from_value::<QuietHours>(serde_json::json!({
            "start": "22:00:00", "end": "07:00:00", "time_zone": "Mars/Olympus_Mons"
        }));
        assert!(unknown.is_err());
    }

    #[test]
    fn quiet_hours_hold_minor_alerts_until_the_window_ends() {
        let r = routing(serde_json::json!({
            "quiet_hours": {"start": "22:00:00", "end": "07:00:00", "utc_offset_minutes": 60, "min_severity": "critical"}
        }));
        let anomaly = samples::of_kind("anomaly");
        // 23:30 UTC is 00:30 at +01:00: inside, held until 07:00 local = 06:00 UTC.
        let night: DateTime<Utc> = "2026-11-21T23:30:00Z".parse().unwrap();
        assert_eq!(
            r.hold_until(&anomaly, night),
            Some("2026-11-22T06:00:00Z".parse().unwrap())
        );
        let day: DateTime<Utc> = "2026-11-21T12:00:00Z".parse().unwrap();
        assert_eq!(r.hold_until(&anomaly, day), None);
        let mut critical = anomaly.clone();
        critical.severity = Severity::Critical;
        assert_eq!(r.hold_until(&critical, night), None);
        assert_eq!(r.hold_until(&samples::of_kind("report"), night), None);
    }
}
