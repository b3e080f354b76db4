//! AWS Cost and Usage Report line items, from Parquet or CSV. Both readers expose a row through
//! [`RowAccess`] and share this one mapping from CUR columns (Athena naming) to cost records, so
//! the two formats cannot drift apart.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use costwatch_core::{ChargeCategory, ChargeFrequency, Money};

use crate::error::{IngestError, Location};
use crate::mapping::{Amounts, Daily, Dims, day_bounds};

pub mod csv;
pub mod parquet;
pub mod usage;

pub use self::csv::read_csv;
pub use self::parquet::read_parquet;
pub use self::usage::{read_usage, read_usage_csv, read_usage_parquet};

/// What a reader feeds line items into: which columns it needs, how it finds them, and what it
/// keeps of each line. The cost roll-up ([`CurLayout`]) and the per-resource usage roll-up
/// ([`usage::UsageLayout`]) share the Parquet and CSV plumbing through this.
pub(crate) trait Layout: Sized {
    /// What the lines are accumulated into.
    type Acc: Default;
    /// Whether the layout reads this (Athena-named) column; lets Parquet project only these.
    fn wanted(name: &str) -> bool;
    fn resolve(file: &str, columns: &[SourceColumn]) -> Result<Self, IngestError>;
    fn add_line(
        &self,
        row: &impl RowAccess,
        acc: &mut Self::Acc,
        file: &str,
        row_number: u64,
    ) -> Result<(), IngestError>;
}

/// One line item as either reader sees it. `col` is a position in the reader's column list;
/// `None` means null (or empty, which CUR uses for null in text exports). Errors are the problem
/// text only; the caller adds file, row and column.
pub(crate) trait RowAccess {
    fn text(&self, col: usize) -> Result<Option<Cow<'_, str>>, String>;
    fn decimal(&self, col: usize) -> Result<Option<Money>, String>;
    fn timestamp(&self, col: usize) -> Result<Option<DateTime<Utc>>, String>;
}

// Positions in `FIELDS`.
const USAGE_START: usize = 0;
const PAYER: usize = 1;
const PAYER_NAME: usize = 2;
const USAGE_ACCOUNT: usize = 3;
const USAGE_ACCOUNT_NAME: usize = 4;
const PRODUCT_NAME: usize = 5;
const PRODUCT_CODE: usize = 6;
const REGION: usize = 7;
const LINE_ITEM_TYPE: usize = 8;
const UNBLENDED: usize = 9;
const RI_EFFECTIVE: usize = 10;
const SP_EFFECTIVE: usize = 11;
const RI_UNUSED_UPFRONT: usize = 12;
const RI_UNUSED_RECURRING: usize = 13;
const PUBLIC_ON_DEMAND: usize = 14;
const CURRENCY: usize = 15;
const RESOURCE_ID: usize = 16;
const USAGE_TYPE: usize = 17;

/// (Athena column name, required). Optional columns are absent from older or trimmed exports.
const FIELDS: [(&str, bool); 18] = [
    ("line_item_usage_start_date", true),
    ("bill_payer_account_id", true),
    ("bill_payer_account_name", false),
    ("line_item_usage_account_id", true),
    ("line_item_usage_account_name", false),
    ("product_product_name", false),
    ("line_item_product_code", true),
    ("product_region", false),
    ("line_item_line_item_type", true),
    ("line_item_unblended_cost", true),
    ("reservation_effective_cost", false),
    ("savings_plan_savings_plan_effective_cost", false),
    (
        "reservation_unused_amortized_upfront_fee_for_billing_period",
        false,
    ),
    ("reservation_unused_recurring_fee", false),
    ("pricing_public_on_demand_cost", false),
    ("line_item_currency_code", true),
    ("line_item_resource_id", false),
    ("line_item_usage_type", false),
];

const TAG_PREFIX: &str = "resource_tags_user_";
const COST_CATEGORY_PREFIX: &str = "cost_category_";

/// Classic CUR headers (`lineItem/UnblendedCost`, `resourceTags/user:team`) to Athena names
/// (`line_item_unblended_cost`, `resource_tags_user_team`): Athena puts `_` before every capital
/// (hence `reservation_reservation_a_r_n`) and turns separators into `_`.
pub fn athena_name(header: &str) -> String {
    let mut out = String::with_capacity(header.len() + 8);
    for ch in header.trim().chars() {
        if ch.is_ascii_uppercase() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else if ch.is_alphanumeric() {
            out.extend(ch.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// A source column as the mapping sees it: its Athena name and, for classic `resourceTags/user:X`
/// headers, the tag key exactly as the user wrote it (Athena naming would lowercase it).
#[derive(Debug, Clone)]
pub(crate) struct SourceColumn {
    pub name: String,
    pub tag_key: Option<String>,
}

impl SourceColumn {
    pub fn from_header(header: &str) -> Self {
        let tag_key = header
            .trim()
            .strip_prefix("resourceTags/user:")
            .map(str::to_owned);
        Self {
            name: athena_name(header),
            tag_key,
        }
    }
}

/// (key, position) of every column named `prefix` + key: user tags, cost categories.
pub(crate) fn keyed(columns: &[SourceColumn], prefix: &str) -> Vec<(String, usize)> {
    columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let rest = c.name.strip_prefix(prefix)?;
            let key = c.tag_key.clone().unwrap_or_else(|| rest.to_owned());
            (!key.is_empty()).then_some((key, i))
        })
        .collect()
}

/// Which source positions hold which CUR fields.
#[derive(Debug)]
pub(crate) struct CurLayout {
    fields: [Option<usize>; FIELDS.len()],
    tags: Vec<(String, usize)>,
    cost_categories: Vec<(String, usize)>,
}

impl Layout for CurLayout {
    type Acc = Daily;

    fn wanted(name: &str) -> bool {
        FIELDS.iter().any(|(f, _)| *f == name)
            || name.starts_with(TAG_PREFIX)
            || name.starts_with(COST_CATEGORY_PREFIX)
    }

    fn resolve(file: &str, columns: &[SourceColumn]) -> Result<Self, IngestError> {
        let position = |name: &str| columns.iter().position(|c| c.name == name);
        let mut fields = [None; FIELDS.len()];
        for (slot, (name, required)) in fields.iter_mut().zip(FIELDS) {
            *slot = position(name);
            if required && slot.is_none() {
                return Err(IngestError::missing(file, name));
            }
        }
        Ok(Self {
            fields,
            tags: keyed(columns, TAG_PREFIX),
            cost_categories: keyed(columns, COST_CATEGORY_PREFIX),
        })
    }

    /// Maps one line item and adds it to the daily roll-up. Every failure names the column.
    fn add_line(
        &self,
        row: &impl RowAccess,
        daily: &mut Daily,
        file: &str,
        row_number: u64,
    ) -> Result<(), IngestError> {
        let err = |column: &str, problem: String| {
            IngestError::value(file, Location::Row(row_number), column, problem)
        };
        // Reads field `f`, attaching its column name to any error.
        let text = |f: usize| -> Result<Option<String>, IngestError> {
            match self.fields[f] {
                None => Ok(None),
                Some(c) => row
                    .text(c)
                    .map(|v| v.map(Cow::into_owned))
                    .map_err(|p| err(FIELDS[f].0, p)),
            }
        };
        let decimal = |f: usize| -> Result<Option<Money>, IngestError> {
            match self.fields[f] {
                None => Ok(None),
                Some(c) => row.decimal(c).map_err(|p| err(FIELDS[f].0, p)),
            }
        };
        let required = |f: usize, v: Option<String>| {
            v.ok_or_else(|| err(FIELDS[f].0, "required value is empty".into()))
        };

        let start = match self.fields[USAGE_START] {
            Some(c) => row
                .timestamp(c)
                .map_err(|p| err(FIELDS[USAGE_START].0, p))?,
            None => None,
        }
        .ok_or_else(|| err(FIELDS[USAGE_START].0, "required value is empty".into()))?;
        let line_type = required(LINE_ITEM_TYPE, text(LINE_ITEM_TYPE)?)?;
        let kind = LineItemKind::parse(&line_type).map_err(|p| err(FIELDS[LINE_ITEM_TYPE].0, p))?;
        let billed = decimal(UNBLENDED)?
            .ok_or_else(|| err(FIELDS[UNBLENDED].0, "required value is empty".into()))?;
        let effective = self.effective_cost(kind, billed, &decimal, &err)?;

        let payer = required(PAYER, text(PAYER)?)?;
        // Some payer-level lines (tax, support) leave the usage account empty: they belong to the payer.
        let sub_account_id = text(USAGE_ACCOUNT)?.unwrap_or_else(|| payer.clone());
        let service_name = match text(PRODUCT_NAME)? {
            Some(name) => name,
            None => required(PRODUCT_CODE, text(PRODUCT_CODE)?)?,
        };
        let (category, frequency) = kind.charge();
        let (day_start, day_end) = day_bounds(start);
        let mut tags = BTreeMap::new();
        for (key, c) in &self.tags {
            if let Some(v) = row.text(*c).map_err(|p| err(key, p))? {
                tags.insert(key.clone(), v.into_owned());
            }
        }
        let mut cost_categories = BTreeMap::new();
        for (key, c) in &self.cost_categories {
            if let Some(v) = row.text(*c).map_err(|p| err(key, p))? {
                cost_categories.insert(key.clone(), v.into_owned());
            }
        }
        let dims = Dims {
            start: day_start,
            end: day_end,
            billing_account_id: payer,
            billing_account_name: text(PAYER_NAME)?,
            sub_account_id,
            sub_account_name: text(USAGE_ACCOUNT_NAME)?,
            service_name,
            service_category: None,
            region_id: text(REGION)?,
            charge_category: category,
            charge_frequency: frequency,
            billing_currency: required(CURRENCY, text(CURRENCY)?)?,
            tags,
            resource_id: text(RESOURCE_ID)?,
            x_usage_type: text(USAGE_TYPE)?,
            x_cost_categories: cost_categories,
        };
        let amounts = Amounts {
            billed,
            effective,
            list: decimal(PUBLIC_ON_DEMAND)?,
        };
        daily
            .add(dims, amounts)
            .map_err(|p| err(FIELDS[UNBLENDED].0, p))
    }
}

impl CurLayout {
    /// AWS's amortised cost: reserved and Savings Plan usage at its effective rate, the unused
    /// part of a reservation on its fee line, and commitment fees themselves at zero (they are
    /// already spread over the usage they cover). Falls back to unblended where the columns are
    /// absent, so an export without reservation columns still yields billed = effective.
    fn effective_cost(
        &self,
        kind: LineItemKind,
        billed: Money,
        decimal: &impl Fn(usize) -> Result<Option<Money>, IngestError>,
        err: &impl Fn(&str, String) -> IngestError,
    ) -> Result<Money, IngestError> {
        let present = |f: usize| self.fields[f].is_some();
        Ok(match kind {
            LineItemKind::DiscountedUsage if present(RI_EFFECTIVE) => {
                decimal(RI_EFFECTIVE)?.unwrap_or(billed)
            }
            LineItemKind::SavingsPlanCoveredUsage if present(SP_EFFECTIVE) => {
                decimal(SP_EFFECTIVE)?.unwrap_or(billed)
            }
            LineItemKind::RiFee if present(RI_UNUSED_UPFRONT) || present(RI_UNUSED_RECURRING) => {
                let upfront = decimal(RI_UNUSED_UPFRONT)?.unwrap_or_default();
                let recurring = decimal(RI_UNUSED_RECURRING)?.unwrap_or_default();
                upfront.checked_add(recurring).ok_or_else(|| {
                    err(
                        FIELDS[RI_UNUSED_RECURRING].0,
                        "sum overflows a decimal".into(),
                    )
                })?
            }
            LineItemKind::SavingsPlanNegation
            | LineItemKind::SavingsPlanUpfrontFee
            | LineItemKind::SavingsPlanRecurringFee => Money::ZERO,
            _ => billed,
        })
    }
}

/// The FOCUS charge category and frequency of a `line_item_line_item_type` value, as the readers
/// map it; for rows a query grouped by that column.
pub fn line_item_charge(
    line_item_type: &str,
) -> Result<(ChargeCategory, Option<ChargeFrequency>), String> {
    LineItemKind::parse(line_item_type).map(LineItemKind::charge)
}

/// `line_item_line_item_type` values that need distinct treatment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineItemKind {
    Usage,
    DiscountedUsage,
    SavingsPlanCoveredUsage,
    Fee,
    RiFee,
    SavingsPlanRecurringFee,
    SavingsPlanUpfrontFee,
    Tax,
    Credit,
    Discount,
    SavingsPlanNegation,
}

impl LineItemKind {
    fn parse(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "Usage" => Self::Usage,
            "DiscountedUsage" => Self::DiscountedUsage,
            "SavingsPlanCoveredUsage" => Self::SavingsPlanCoveredUsage,
            "Fee" => Self::Fee,
            "RIFee" => Self::RiFee,
            "SavingsPlanRecurringFee" => Self::SavingsPlanRecurringFee,
            "SavingsPlanUpfrontFee" => Self::SavingsPlanUpfrontFee,
            "Tax" => Self::Tax,
            "Credit" | "Refund" => Self::Credit,
            "Discount"
            | "BundledDiscount"
            | "EdpDiscount"
            | "PrivateRateDiscount"
            | "RiVolumeDiscount"
            | "SppDiscount"
            | "DistributorDiscount" => Self::Discount,
            "SavingsPlanNegation" => Self::SavingsPlanNegation,
            other => return Err(format!("unknown line item type `{other}`")),
        })
    }

    /// FOCUS category and frequency. Tax and credits get no frequency: CUR does not say whether
    /// they recur, and the category alone decides how analytics treat them.
    fn charge(self) -> (ChargeCategory, Option<ChargeFrequency>) {
        use ChargeCategory as C;
        use ChargeFrequency as F;
        match self {
            Self::Usage | Self::DiscountedUsage | Self::SavingsPlanCoveredUsage => {
                (C::Usage, Some(F::UsageBased))
            }
            Self::Fee | Self::SavingsPlanUpfrontFee => (C::Purchase, Some(F::OneTime)),
            Self::RiFee | Self::SavingsPlanRecurringFee => (C::Purchase, Some(F::Recurring)),
            Self::Tax => (C::Tax, None),
            Self::Credit => (C::Credit, None),
            Self::Discount | Self::SavingsPlanNegation => (C::Adjustment, Some(F::UsageBased)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_headers_become_athena_names() {
        for (classic, athena) in [
            ("lineItem/UnblendedCost", "line_item_unblended_cost"),
            ("lineItem/UsageStartDate", "line_item_usage_start_date"),
            ("bill/PayerAccountId", "bill_payer_account_id"),
            (
                "reservation/ReservationARN",
                "reservation_reservation_a_r_n",
            ),
            (
                "pricing/publicOnDemandCost",
                "pricing_public_on_demand_cost",
            ),
            (
                "resourceTags/user:Cost Center",
                "resource_tags_user_cost_center",
            ),
            ("resourceTags/aws:createdBy", "resource_tags_aws_created_by"),
            ("product/usagetype", "product_usagetype"),
            ("line_item_unblended_cost", "line_item_unblended_cost"),
        ] {
            assert_eq!(athena_name(classic), athena, "{classic}");
        }
        let tag = SourceColumn::from_header("resourceTags/user:CostCenter");
        assert_eq!(tag.tag_key.as_deref(), Some("CostCenter"));
    }

    #[test]
    fn line_item_types_map_to_focus_charges() {
        use ChargeCategory as C;
        use ChargeFrequency as F;
        let charge = |s: &str| LineItemKind::parse(s).map(LineItemKind::charge);
        assert_eq!(charge("Usage"), Ok((C::Usage, Some(F::UsageBased))));
        assert_eq!(
            charge("DiscountedUsage"),
            Ok((C::Usage, Some(F::UsageBased)))
        );
        assert_eq!(
            charge("SavingsPlanCoveredUsage"),
            Ok((C::Usage, Some(F::UsageBased)))
        );
        assert_eq!(charge("Fee"), Ok((C::Purchase, Some(F::OneTime))));
        assert_eq!(charge("RIFee"), Ok((C::Purchase, Some(F::Recurring))));
        assert_eq!(
            charge("SavingsPlanRecurringFee"),
            Ok((C::Purchase, Some(F::Recurring)))
        );
        assert_eq!(
            charge("SavingsPlanUpfrontFee"),
            Ok((C::Purchase, Some(F::OneTime)))
        );
        assert_eq!(charge("Tax"), Ok((C::Tax, None)));
        assert_eq!(charge("Credit"), Ok((C::Credit, None)));
        assert_eq!(charge("Refund"), Ok((C::Credit, None)));
        for adj in [
            "Discount",
            "BundledDiscount",
            "EdpDiscount",
            "SavingsPlanNegation",
        ] {
            assert_eq!(charge(adj).map(|c| c.0), Ok(C::Adjustment), "{adj}");
        }
        assert_eq!(
            charge("Bogus"),
            Err("unknown line item type `Bogus`".into())
        );
    }
}
