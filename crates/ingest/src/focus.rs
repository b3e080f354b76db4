//! FOCUS 1.0 / 1.2 CSV (gzipped or not), e.g. an AWS Data Exports FOCUS table or the FinOps
//! sample. Lines are rolled up to daily records like CUR, so hourly exports stay small.

use std::collections::BTreeMap;
use std::path::Path;

use ::csv::StringRecord;
use costwatch_core::{ChargeCategory, ChargeFrequency, CostRecord};

use crate::error::{IngestError, Location};
use crate::mapping::{
    Amounts, Daily, Dims, day_bounds, non_null, parse_category, parse_decimal, parse_frequency,
    parse_timestamp,
};
use crate::text;

// Positions in `COLUMNS`.
const CHARGE_PERIOD_START: usize = 0;
const BILLED_COST: usize = 1;
const EFFECTIVE_COST: usize = 2;
const BILLING_ACCOUNT_ID: usize = 3;
const BILLING_CURRENCY: usize = 4;
const CHARGE_CATEGORY: usize = 5;
const SERVICE_NAME: usize = 6;
const LIST_COST: usize = 7;
const BILLING_ACCOUNT_NAME: usize = 8;
const SUB_ACCOUNT_ID: usize = 9;
const SUB_ACCOUNT_NAME: usize = 10;
const SERVICE_CATEGORY: usize = 11;
const REGION_ID: usize = 12;
const CHARGE_FREQUENCY: usize = 13;
const RESOURCE_ID: usize = 14;
const TAGS: usize = 15;
const USAGE_TYPE: usize = 16;
const COST_CATEGORIES: usize = 17;

/// (column, required). The required ones are FOCUS-mandatory and non-null; the rest are
/// conditional or AWS extensions (`x_UsageType`, `x_CostCategories`) and may be absent.
const COLUMNS: [(&str, bool); 18] = [
    ("ChargePeriodStart", true),
    ("BilledCost", true),
    ("EffectiveCost", true),
    ("BillingAccountId", true),
    ("BillingCurrency", true),
    ("ChargeCategory", true),
    ("ServiceName", true),
    ("ListCost", false),
    ("BillingAccountName", false),
    ("SubAccountId", false),
    ("SubAccountName", false),
    ("ServiceCategory", false),
    ("RegionId", false),
    ("ChargeFrequency", false),
    ("ResourceId", false),
    ("Tags", false),
    ("x_UsageType", false),
    ("x_CostCategories", false),
];

/// The charge category and frequency of FOCUS `ChargeCategory` and `ChargeFrequency` values,
/// as this reader maps them; for rows a query grouped by those columns.
pub fn focus_charge(
    category: &str,
    frequency: Option<&str>,
) -> Result<(ChargeCategory, Option<ChargeFrequency>), String> {
    Ok((
        parse_category(category)?,
        frequency.map(parse_frequency).transpose()?,
    ))
}

/// A `Tags` or `x_CostCategories` value as the reader keeps it: a JSON object's keys and
/// values, null and empty values left out (a key without a value is untagged, as Cost
/// Explorer's `team$` is), other JSON values as their text.
pub fn json_object(raw: &str) -> Result<BTreeMap<String, String>, String> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(raw).map_err(|e| format!("invalid JSON object: {e}"))?;
    Ok(object
        .into_iter()
        .filter_map(|(k, v)| {
            let v = match v {
                serde_json::Value::Null => return None,
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (!v.is_empty()).then_some((k, v))
        })
        .collect())
}

/// Whether a header line is FOCUS: the two columns no other format has.
pub(crate) fn is_focus_header(names: &[&str]) -> bool {
    let has = |c: &str| names.iter().any(|n| n.eq_ignore_ascii_case(c));
    has("ChargePeriodStart") && has("BilledCost")
}

/// Reads a FOCUS CSV; the first bad row fails the whole file.
pub fn read(path: &Path) -> Result<Vec<CostRecord>, IngestError> {
    let label = text::file_label(path);
    let mut reader = text::csv_reader(path)?;
    let headers = text::headers(&mut reader, &label)?;
    let mut cols = [None; COLUMNS.len()];
    for (slot, (name, required)) in cols.iter_mut().zip(COLUMNS) {
        *slot = headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        if required && slot.is_none() {
            return Err(IngestError::missing(&label, name));
        }
    }
    let mut daily = Daily::default();
    let mut record = StringRecord::new();
    let mut row_number = 0u64;
    while reader
        .read_record(&mut record)
        .map_err(|source| IngestError::Csv {
            file: label.clone(),
            source,
        })?
    {
        row_number += 1;
        let line = Line {
            record: &record,
            cols: &cols,
            file: &label,
            row: row_number,
        };
        let (dims, amounts) = line.map()?;
        daily
            .add(dims, amounts)
            .map_err(|p| line.err(BILLED_COST, p))?;
    }
    Ok(daily.into_records())
}

struct Line<'a> {
    record: &'a StringRecord,
    cols: &'a [Option<usize>; COLUMNS.len()],
    file: &'a str,
    row: u64,
}

impl Line<'_> {
    fn err(&self, f: usize, problem: String) -> IngestError {
        IngestError::value(self.file, Location::Row(self.row), COLUMNS[f].0, problem)
    }

    fn get(&self, f: usize) -> Option<&str> {
        self.cols[f]
            .and_then(|c| self.record.get(c))
            .and_then(non_null)
    }

    fn owned(&self, f: usize) -> Option<String> {
        self.get(f).map(str::to_owned)
    }

    fn required(&self, f: usize) -> Result<&str, IngestError> {
        self.get(f)
            .ok_or_else(|| self.err(f, "required value is empty".into()))
    }

    fn decimal(&self, f: usize) -> Result<Option<costwatch_core::Money>, IngestError> {
        self.get(f)
            .map(parse_decimal)
            .transpose()
            .map_err(|p| self.err(f, p))
    }

    /// `Tags` and `x_CostCategories` are JSON objects. A null or empty value is a key without
    /// a value, which costwatch treats as untagged (as Cost Explorer's `team$` does).
    fn json_map(&self, f: usize) -> Result<BTreeMap<String, String>, IngestError> {
        let Some(raw) = self.get(f) else {
            return Ok(BTreeMap::new());
        };
        json_object(raw).map_err(|p| self.err(f, p))
    }

    fn map(&self) -> Result<(Dims, Amounts), IngestError> {
        let start = parse_timestamp(self.required(CHARGE_PERIOD_START)?)
            .map_err(|p| self.err(CHARGE_PERIOD_START, p))?;
        let billed = self.decimal(BILLED_COST)?;
        let billed =
            billed.ok_or_else(|| self.err(BILLED_COST, "required value is empty".into()))?;
        let effective = self
            .decimal(EFFECTIVE_COST)?
            .ok_or_else(|| self.err(EFFECTIVE_COST, "required value is empty".into()))?;
        let category = parse_category(self.required(CHARGE_CATEGORY)?)
            .map_err(|p| self.err(CHARGE_CATEGORY, p))?;
        let frequency = self
            .get(CHARGE_FREQUENCY)
            .map(parse_frequency)
            .transpose()
            .map_err(|p| self.err(CHARGE_FREQUENCY, p))?;
        let billing_account_id = self.required(BILLING_ACCOUNT_ID)?.to_owned();
        let (day_start, day_end) = day_bounds(start);
        let dims = Dims {
            start: day_start,
            end: day_end,
            // SubAccountId is conditional: charges at billing-account level have none.
            sub_account_id: self
                .owned(SUB_ACCOUNT_ID)
                .unwrap_or_else(|| billing_account_id.clone()),
            billing_account_id,
            billing_account_name: self.owned(BILLING_ACCOUNT_NAME),
            sub_account_name: self.owned(SUB_ACCOUNT_NAME),
            service_name: self.required(SERVICE_NAME)?.to_owned(),
            service_category: self.owned(SERVICE_CATEGORY),
            region_id: self.owned(REGION_ID),
            charge_category: category,
            charge_frequency: frequency,
            billing_currency: self.required(BILLING_CURRENCY)?.to_owned(),
            tags: self.json_map(TAGS)?,
            resource_id: self.owned(RESOURCE_ID),
            x_usage_type: self.owned(USAGE_TYPE),
            x_cost_categories: self.json_map(COST_CATEGORIES)?,
        };
        let amounts = Amounts {
            billed,
            effective,
            list: self.decimal(LIST_COST)?,
        };
        Ok((dims, amounts))
    }
}
