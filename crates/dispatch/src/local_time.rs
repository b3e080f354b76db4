//! A team's local time, for quiet hours: an IANA zone or a fixed offset east of UTC. Named zones
//! come from jiff's copy of the tz database, compiled in (a Lambda image need not have
//! /usr/share/zoneinfo) as its compact TZif data: about 250 KB of a dispatcher, where
//! chrono-tz's generated tables took 1.7 MB (half of it relocations the loader patches at every
//! cold start).

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Utc};
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde::{Deserialize, Deserializer};

/// An IANA zone (`Europe/Berlin`), found when the config is read.
#[derive(Debug, Clone)]
pub struct NamedZone(TimeZone);

impl<'de> Deserialize<'de> for NamedZone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        TimeZone::get(&name)
            .map(NamedZone)
            .map_err(|_| serde::de::Error::custom(format!("{name:?} is not an IANA time zone")))
    }
}

/// Where local time is read.
pub enum Zone<'a> {
    Named(&'a NamedZone),
    Fixed(FixedOffset),
}

impl Zone<'_> {
    /// The wall-clock time at `now`.
    pub fn local(&self, now: DateTime<Utc>) -> NaiveDateTime {
        let east = match self {
            Zone::Fixed(offset) => offset.local_minus_utc(),
            Zone::Named(NamedZone(tz)) => match timestamp(now) {
                Some(t) => tz.to_offset(t).seconds(),
                None => 0,
            },
        };
        now.naive_utc() + Duration::seconds(i64::from(east))
    }

    /// The instants a wall-clock time names, earliest first: none when the clock skips it
    /// (spring forward), two when it happens twice (fall back).
    pub fn instants(&self, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
        let at = |east: i32| (local - Duration::seconds(i64::from(east))).and_utc();
        match self {
            Zone::Fixed(offset) => vec![at(offset.local_minus_utc())],
            Zone::Named(NamedZone(tz)) => {
                let Some(civil) = civil(local) else {
                    return Vec::new();
                };
                match tz.to_ambiguous_timestamp(civil).offset() {
                    AmbiguousOffset::Unambiguous { offset } => vec![at(offset.seconds())],
                    AmbiguousOffset::Gap { .. } => Vec::new(),
                    AmbiguousOffset::Fold { before, after } => {
                        let mut both = vec![at(before.seconds()), at(after.seconds())];
                        both.sort();
                        both
                    }
                }
            }
        }
    }
}

fn timestamp(t: DateTime<Utc>) -> Option<jiff::Timestamp> {
    jiff::Timestamp::new(t.timestamp(), 0).ok()
}

fn civil(t: NaiveDateTime) -> Option<jiff::civil::DateTime> {
    use chrono::{Datelike, Timelike};
    let narrow = |v: u32| i8::try_from(v).ok();
    jiff::civil::DateTime::new(
        i16::try_from(t.year()).ok()?,
        narrow(t.month())?,
        narrow(t.day())?,
        narrow(t.hour())?,
        narrow(t.minute())?,
        narrow(t.second())?,
        0,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> NamedZone {
        serde_json::from_value(serde_json::json!("Europe/Berlin")).unwrap()
    }

    fn local(s: &str) -> NaiveDateTime {
        s.parse().unwrap()
    }

    #[test]
    fn a_named_zone_follows_summer_time() {
        let zone = berlin();
        let zone = Zone::Named(&zone);
        let winter: DateTime<Utc> = "2026-01-10T12:00:00Z".parse().unwrap();
        let summer: DateTime<Utc> = "2026-07-10T12:00:00Z".parse().unwrap();
        assert_eq!(zone.local(winter), local("2026-01-10T13:00:00"));
        assert_eq!(zone.local(summer), local("2026-07-10T14:00:00"));
    }

    #[test]
    fn skipped_and_repeated_wall_times_name_no_instant_and_two() {
        let zone = berlin();
        let zone = Zone::Named(&zone);
        // 29 March 2026: 02:00 jumps to 03:00; 25 October 2026: 03:00 falls back to 02:00.
        assert!(zone.instants(local("2026-03-29T02:30:00")).is_empty());
        assert_eq!(
            zone.instants(local("2026-10-25T02:30:00")),
            [
                "2026-10-25T00:30:00Z".parse::<DateTime<Utc>>().unwrap(),
                "2026-10-25T01:30:00Z".parse().unwrap()
            ]
        );
    }

    #[test]
    fn unknown_zones_are_refused_by_name() {
        let e = serde_json::from_value::<NamedZone>(serde_json::json!("Mars/Olympus_Mons"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Mars/Olympus_Mons"), "{e}");
    }
}
