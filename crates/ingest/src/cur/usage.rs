//! CUR line items as per-resource usage lines ([`UsageLine`]): what the recommendation rules
//! read (usage amounts, usage types, operations, line item types), rolled up per day so a month
//! of hourly lines stays small. Same Parquet/CSV plumbing as the cost roll-up.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use costwatch_core::{Money, UsageLine};

use super::{Layout, RowAccess, SourceColumn, TAG_PREFIX, keyed};
use crate::error::{IngestError, Location};
use crate::{Format, detect};

const USAGE_START: usize = 0;
const USAGE_ACCOUNT: usize = 1;
const USAGE_ACCOUNT_NAME: usize = 2;
const PRODUCT_CODE: usize = 3;
const REGION: usize = 4;
const USAGE_TYPE: usize = 5;
const OPERATION: usize = 6;
const RESOURCE_ID: usize = 7;
const LINE_ITEM_TYPE: usize = 8;
const UNBLENDED: usize = 9;
const USAGE_AMOUNT: usize = 10;
const PAYER: usize = 11;

/// (Athena column name, required).
const FIELDS: [(&str, bool); 12] = [
    ("line_item_usage_start_date", true),
    ("line_item_usage_account_id", false),
    ("line_item_usage_account_name", false),
    ("line_item_product_code", true),
    ("product_region", false),
    ("line_item_usage_type", false),
    ("line_item_operation", false),
    ("line_item_resource_id", false),
    ("line_item_line_item_type", true),
    ("line_item_unblended_cost", true),
    ("line_item_usage_amount", true),
    ("bill_payer_account_id", true),
];

/// Everything of a usage line except its amounts.
type Key = (
    chrono::NaiveDate,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    BTreeMap<String, String>,
);

#[derive(Debug, Default)]
pub(crate) struct UsageAcc {
    groups: HashMap<Key, (Money, Money, u64)>,
}

impl UsageAcc {
    /// The lines, sorted by day then the other dimensions so output is deterministic.
    fn into_lines(self) -> Vec<UsageLine> {
        let mut groups: Vec<_> = self.groups.into_iter().collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        groups
            .into_iter()
            .map(|(k, (cost, amount, lines))| UsageLine {
                day: k.0,
                account: k.1,
                account_name: k.2,
                product_code: k.3,
                region: k.4,
                usage_type: k.5,
                operation: k.6,
                resource_id: k.7,
                line_item_type: k.8,
                tags: k.9,
                cost: cost.normalize(),
                usage_amount: amount.normalize(),
                lines,
            })
            .collect()
    }
}

#[derive(Debug)]
pub(crate) struct UsageLayout {
    fields: [Option<usize>; FIELDS.len()],
    tags: Vec<(String, usize)>,
}

impl Layout for UsageLayout {
    type Acc = UsageAcc;

    fn wanted(name: &str) -> bool {
        FIELDS.iter().any(|(f, _)| *f == name) || name.starts_with(TAG_PREFIX)
    }

    fn resolve(file: &str, columns: &[SourceColumn]) -> Result<Self, IngestError> {
        let mut fields = [None; FIELDS.len()];
        for (slot, (name, required)) in fields.iter_mut().zip(FIELDS) {
            *slot = columns.iter().position(|c| c.name == name);
            if required && slot.is_none() {
                return Err(IngestError::missing(file, name));
            }
        }
        Ok(Self {
            fields,
            tags: keyed(columns, TAG_PREFIX),
        })
    }

    fn add_line(
        &self,
        row: &impl RowAccess,
        acc: &mut UsageAcc,
        file: &str,
        row_number: u64,
    ) -> Result<(), IngestError> {
        let err = |column: &str, problem: String| {
            IngestError::value(file, Location::Row(row_number), column, problem)
        };
        let text = |f: usize| -> Result<Option<String>, IngestError> {
            match self.fields[f] {
                None => Ok(None),
                Some(c) => row
                    .text(c)
                    .map(|v| v.map(|v| v.into_owned()))
                    .map_err(|p| err(FIELDS[f].0, p)),
            }
        };
        let decimal = |f: usize| -> Result<Money, IngestError> {
            match self.fields[f] {
                None => Ok(Money::ZERO),
                Some(c) => row
                    .decimal(c)
                    .map(Option::unwrap_or_default)
                    .map_err(|p| err(FIELDS[f].0, p)),
            }
        };
        let required = |f: usize| -> Result<String, IngestError> {
            text(f)?.ok_or_else(|| err(FIELDS[f].0, "required value is empty".into()))
        };
        let start = self.fields[USAGE_START]
            .map(|c| row.timestamp(c))
            .transpose()
            .map_err(|p| err(FIELDS[USAGE_START].0, p))?
            .flatten()
            .ok_or_else(|| err(FIELDS[USAGE_START].0, "required value is empty".into()))?;
        let mut tags = BTreeMap::new();
        for (key, c) in &self.tags {
            if let Some(v) = row.text(*c).map_err(|p| err(key, p))? {
                tags.insert(key.clone(), v.into_owned());
            }
        }
        // Payer-level lines (tax, support) may leave the usage account empty: the payer's.
        let account = match text(USAGE_ACCOUNT)? {
            Some(a) => a,
            None => required(PAYER)?,
        };
        let key: Key = (
            start.date_naive(),
            account,
            text(USAGE_ACCOUNT_NAME)?,
            required(PRODUCT_CODE)?,
            text(REGION)?,
            text(USAGE_TYPE)?.unwrap_or_default(),
            text(OPERATION)?,
            text(RESOURCE_ID)?,
            required(LINE_ITEM_TYPE)?,
            tags,
        );
        let cost = decimal(UNBLENDED)?;
        let amount = decimal(USAGE_AMOUNT)?;
        let slot = acc.groups.entry(key).or_default();
        let overflow = |what: &str| err(FIELDS[UNBLENDED].0, format!("sum of {what} overflows"));
        slot.0 = slot.0.checked_add(cost).ok_or_else(|| overflow("cost"))?;
        slot.1 = slot
            .1
            .checked_add(amount)
            .ok_or_else(|| overflow("usage amount"))?;
        slot.2 += 1;
        Ok(())
    }
}

/// A CUR Parquet file's line items as daily per-resource usage lines.
pub fn read_usage_parquet(path: &Path) -> Result<Vec<UsageLine>, IngestError> {
    super::parquet::read_into::<UsageLayout>(path).map(UsageAcc::into_lines)
}

/// A CUR text file's (classic or Athena headers) line items as daily per-resource usage lines.
pub fn read_usage_csv(path: &Path) -> Result<Vec<UsageLine>, IngestError> {
    super::csv::read_into::<UsageLayout>(path).map(UsageAcc::into_lines)
}

/// Detects the format; only CUR carries usage amounts per resource, so other formats are refused
/// with the reason.
pub fn read_usage(path: &Path) -> Result<Vec<UsageLine>, IngestError> {
    match detect(path)? {
        Format::CurParquet => read_usage_parquet(path),
        Format::CurCsv => read_usage_csv(path),
        other => Err(IngestError::UnknownFormat {
            file: crate::text::file_label(path),
            reason: format!(
                "{other:?} has no per-resource usage amounts; recommendations need a CUR \
                 (Parquet or CSV)"
            ),
        }),
    }
}
