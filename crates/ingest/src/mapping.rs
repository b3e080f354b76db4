//! What every reader shares: parsing of cell values (decimals, timestamps, nulls) and the daily
//! roll-up that turns hourly line items into one record per day and dimension set.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, TimeZone, Utc};
use costwatch_core::money::within_bounds;
use costwatch_core::{ChargeCategory, ChargeFrequency, CostRecord, Money};

/// Exports spell "no value" in several ways: empty (CSV), `\N` (Hive/Athena text), `NULL` (FOCUS
/// samples and SQL dumps). All of them mean absent, never the literal text.
pub(crate) fn is_null(s: &str) -> bool {
    let s = s.trim();
    s.is_empty() || s == "\\N" || s.eq_ignore_ascii_case("null")
}

/// The trimmed value, or `None` when it is one of the null spellings.
pub(crate) fn non_null(s: &str) -> Option<&str> {
    (!is_null(s)).then(|| s.trim())
}

/// Plain or scientific notation (`1.2E-7` appears in CUR CSVs). Errors carry the offending text.
/// Amounts beyond ±10^15 are refused here, where the row is known, rather than overflowing a
/// sum later (`costwatch_core::money::within_bounds`).
pub(crate) fn parse_decimal(s: &str) -> Result<Money, String> {
    Money::from_str(s.trim())
        .map_err(|_| format!("invalid decimal `{s}`"))
        .and_then(within_bounds)
}

/// A double from Parquet to an exact decimal: Rust prints the shortest text that round-trips, so
/// `0.1` becomes 0.1 rather than the binary expansion 0.1000000000000000055….
pub(crate) fn decimal_from_f64(v: f64) -> Result<Money, String> {
    if !v.is_finite() {
        return Err(format!("invalid decimal `{v}`"));
    }
    Money::from_str(&v.to_string())
        .map_err(|_| format!("decimal out of range `{v}`"))
        .and_then(within_bounds)
}

/// Accepts what exports actually write: RFC 3339 (`2024-09-18T22:00:00Z`), the space-separated
/// SQL form (`2024-09-18 22:00:00`, taken as UTC), a `T` form without offset, minutes-only CUR
/// interval ends (`2019-11-26T01:00Z`) and bare dates.
pub(crate) fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Ok(dt.with_timezone(&Utc));
        }
    }
    let naive = t
        .strip_suffix(" UTC")
        .or_else(|| t.strip_suffix('Z'))
        .unwrap_or(t);
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Ok(Utc.from_utc_datetime(&dt));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(naive, "%Y-%m-%d") {
        return Ok(midnight(d));
    }
    Err(format!("invalid timestamp `{s}`"))
}

pub(crate) fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN))
}

/// The UTC day holding `ts`, as a half-open `[start, end)` charge period.
pub(crate) fn day_bounds(ts: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = ts.date_naive();
    let next = day.checked_add_days(Days::new(1)).unwrap_or(day);
    (midnight(day), midnight(next))
}

/// FOCUS values are PascalCase, but real exports are not always exact ("Usage-based" appears in
/// the FOCUS sample), so case is ignored.
pub(crate) fn parse_category(s: &str) -> Result<ChargeCategory, String> {
    use ChargeCategory::*;
    [Usage, Purchase, Tax, Credit, Adjustment]
        .into_iter()
        .find(|c| c.to_string().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| format!("unknown ChargeCategory `{s}`"))
}

pub(crate) fn parse_frequency(s: &str) -> Result<ChargeFrequency, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "one-time" => Ok(ChargeFrequency::OneTime),
        "recurring" => Ok(ChargeFrequency::Recurring),
        "usage-based" => Ok(ChargeFrequency::UsageBased),
        _ => Err(format!("unknown ChargeFrequency `{s}`")),
    }
}

/// Everything of a record except its amounts: lines equal in all of these are one daily record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Dims {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub billing_account_id: String,
    pub billing_account_name: Option<String>,
    pub sub_account_id: String,
    pub sub_account_name: Option<String>,
    pub service_name: String,
    pub service_category: Option<String>,
    pub region_id: Option<String>,
    pub charge_category: ChargeCategory,
    pub charge_frequency: Option<ChargeFrequency>,
    pub billing_currency: String,
    pub tags: BTreeMap<String, String>,
    pub resource_id: Option<String>,
    pub x_usage_type: Option<String>,
    pub x_cost_categories: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Amounts {
    pub billed: Money,
    pub effective: Money,
    /// `None` only when no line of the group had a list cost.
    pub list: Option<Money>,
}

/// Sums amounts per dimension set. Memory grows with daily cardinality, not with line count,
/// which is what keeps a month of hourly CUR small.
#[derive(Debug, Default)]
pub(crate) struct Daily {
    groups: HashMap<Dims, Amounts>,
}

impl Daily {
    /// Adds one line; the error names the amount that overflowed.
    pub fn add(&mut self, dims: Dims, a: Amounts) -> Result<(), String> {
        let slot = self.groups.entry(dims).or_default();
        let overflow = |what: &str| format!("sum of {what} overflows a decimal");
        slot.billed = slot
            .billed
            .checked_add(a.billed)
            .ok_or_else(|| overflow("billed cost"))?;
        slot.effective = slot
            .effective
            .checked_add(a.effective)
            .ok_or_else(|| overflow("effective cost"))?;
        slot.list = match (slot.list, a.list) {
            (Some(x), Some(y)) => Some(x.checked_add(y).ok_or_else(|| overflow("list cost"))?),
            (x, y) => x.or(y),
        };
        Ok(())
    }

    /// Adds a record that is itself a sum (a query's row, or a reader's record with some
    /// dimension dropped), so rows that agree on every dimension become one.
    pub fn add_record(&mut self, r: CostRecord) -> Result<(), String> {
        let dims = Dims {
            start: r.charge_period_start,
            end: r.charge_period_end,
            billing_account_id: r.billing_account_id,
            billing_account_name: r.billing_account_name,
            sub_account_id: r.sub_account_id,
            sub_account_name: r.sub_account_name,
            service_name: r.service_name,
            service_category: r.service_category,
            region_id: r.region_id,
            charge_category: r.charge_category,
            charge_frequency: r.charge_frequency,
            billing_currency: r.billing_currency,
            tags: r.tags,
            resource_id: r.resource_id,
            x_usage_type: r.x_usage_type,
            x_cost_categories: r.x_cost_categories,
        };
        let amounts = Amounts {
            billed: r.billed_cost,
            effective: r.effective_cost,
            list: r.list_cost,
        };
        self.add(dims, amounts)
    }

    /// The records, sorted by day then dimensions so output is deterministic.
    pub fn into_records(self) -> Vec<CostRecord> {
        let mut groups: Vec<_> = self.groups.into_iter().collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        groups
            .into_iter()
            .map(|(d, a)| CostRecord {
                charge_period_start: d.start,
                charge_period_end: d.end,
                billing_account_id: d.billing_account_id,
                billing_account_name: d.billing_account_name,
                sub_account_id: d.sub_account_id,
                sub_account_name: d.sub_account_name,
                service_name: d.service_name,
                service_category: d.service_category,
                region_id: d.region_id,
                charge_category: d.charge_category,
                charge_frequency: d.charge_frequency,
                billed_cost: a.billed.normalize(),
                effective_cost: a.effective.normalize(),
                list_cost: a.list.map(|l| l.normalize()),
                billing_currency: d.billing_currency,
                tags: d.tags,
                resource_id: d.resource_id,
                x_usage_type: d.x_usage_type,
                x_cost_categories: d.x_cost_categories,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn timestamps_in_every_export_spelling() {
        let want = Utc.with_ymd_and_hms(2024, 9, 18, 22, 0, 0).unwrap();
        for s in [
            "2024-09-18 22:00:00",
            "2024-09-18T22:00:00Z",
            "2024-09-18T22:00:00.000Z",
            "2024-09-18T23:00:00+01:00",
            "2024-09-18 22:00:00+00:00",
            "2024-09-18T22:00Z",
            "2024-09-18 22:00:00 UTC",
        ] {
            assert_eq!(parse_timestamp(s), Ok(want), "{s}");
        }
        assert_eq!(
            parse_timestamp("2024-09-18")
                .unwrap()
                .date_naive()
                .to_string(),
            "2024-09-18"
        );
        assert_eq!(
            parse_timestamp("18/09/2024"),
            Err("invalid timestamp `18/09/2024`".into())
        );
    }

    #[test]
    fn decimals_plain_scientific_and_from_doubles() {
        assert_eq!(parse_decimal("0.00000080000"), Ok(dec!(0.0000008)));
        assert_eq!(parse_decimal("1.2E-7"), Ok(dec!(0.00000012)));
        assert_eq!(parse_decimal("abc"), Err("invalid decimal `abc`".into()));
        assert_eq!(decimal_from_f64(0.1), Ok(dec!(0.1)));
        assert_eq!(decimal_from_f64(22.3369863), Ok(dec!(22.3369863)));
        assert!(decimal_from_f64(f64::NAN).is_err());
    }

    #[test]
    fn categories_and_frequencies_ignore_case() {
        assert_eq!(parse_category("usage"), Ok(ChargeCategory::Usage));
        assert_eq!(
            parse_frequency("Usage-based"),
            Ok(ChargeFrequency::UsageBased)
        );
        assert!(parse_category("Refund").is_err());
    }

    proptest! {
        // Shortest round-trip text means the decimal converts back to the very same double.
        #[test]
        fn double_to_decimal_round_trips(v in -1.0e9f64..1.0e9) {
            let d = decimal_from_f64(v).unwrap();
            prop_assert_eq!(d.to_string().parse::<f64>().unwrap(), v);
        }
    }
}
