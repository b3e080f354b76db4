//! The table a query reads, and how each field the roll-up needs is spelled in it. Three layouts
//! of the same line items exist: CUR 2.0 (Data Exports) keeps product attributes, tags and cost
//! categories in maps; the legacy CUR with Athena column names (the shape of the real CUR in
//! `../shared/data/cost/cur`) flattens them into `product_*`, `resource_tags_user_*` and
//! `cost_category_*` columns; FOCUS 1.2 with AWS columns (Data Exports' other table) names them
//! the FinOps Foundation's way (`BilledCost`, `ChargePeriodStart`, `Tags`, `x_UsageType`).
//! Column names are lowercase here, as Athena's Glue tables have them (and the embedded engine's
//! view makes them).

use std::collections::BTreeSet;

/// Which column layout the table has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// AWS Data Exports "CUR 2.0": `product`, `resource_tags` and `cost_category` are maps.
    Cur2,
    /// The legacy CUR in Athena naming: one column per product attribute, tag and cost category.
    LegacyAthena,
    /// FOCUS 1.2 with AWS columns: `tags` and `x_costcategories` are maps, keyed as the user
    /// wrote the key.
    Focus,
}

/// A table of line items as a query sees it.
#[derive(Debug, Clone)]
pub struct ExportTable {
    /// The name in the query's FROM (`database.table` for Athena).
    pub name: String,
    pub flavour: Flavour,
    /// The table's columns; optional fields whose column is absent read as null, as the
    /// project's reader treats a missing column.
    pub columns: BTreeSet<String>,
    /// The partition column holding the billing period (`YYYY-MM`), when the table has one:
    /// the query names the months it needs there, so Athena reads only those.
    pub billing_period: Option<String>,
    /// Tags to keep, by the key the records carry. CUR 2.0: the user's keys as in the Cost
    /// Explorer settings (`team`, `Cost Center`), looked up in `resource_tags` under the name
    /// the export gives them (`user_team`, `user_cost_center`); legacy: every
    /// `resource_tags_user_*` column, found from the columns.
    pub tag_keys: Vec<String>,
    /// Cost categories to keep, likewise (`cost_category` map / `cost_category_*` columns).
    pub cost_categories: Vec<String>,
}

pub(crate) const TAG_PREFIX: &str = "resource_tags_user_";
pub(crate) const COST_CATEGORY_PREFIX: &str = "cost_category_";

impl ExportTable {
    /// A CUR 2.0 table as the template declares it (every column the queries read is present).
    pub fn cur2(
        name: impl Into<String>,
        tag_keys: Vec<String>,
        cost_categories: Vec<String>,
    ) -> Self {
        Self::declared(name, Flavour::Cur2, CUR2_COLUMNS, tag_keys, cost_categories)
    }

    /// A FOCUS 1.2 table as the template declares it.
    pub fn focus(
        name: impl Into<String>,
        tag_keys: Vec<String>,
        cost_categories: Vec<String>,
    ) -> Self {
        Self::declared(
            name,
            Flavour::Focus,
            FOCUS_COLUMNS,
            tag_keys,
            cost_categories,
        )
    }

    fn declared(
        name: impl Into<String>,
        flavour: Flavour,
        columns: &[&str],
        tag_keys: Vec<String>,
        cost_categories: Vec<String>,
    ) -> Self {
        Self {
            name: name.into(),
            flavour,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            billing_period: Some("billing_period".into()),
            tag_keys,
            cost_categories,
        }
    }

    /// A legacy (Athena-named) table with the given columns; its tags and cost categories are
    /// the `resource_tags_user_*` and `cost_category_*` columns among them.
    pub fn legacy(name: impl Into<String>, columns: impl IntoIterator<Item = String>) -> Self {
        let columns: BTreeSet<String> = columns
            .into_iter()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let keyed = |prefix: &str| {
            columns
                .iter()
                .filter_map(|c| c.strip_prefix(prefix))
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Self {
            name: name.into(),
            flavour: Flavour::LegacyAthena,
            tag_keys: keyed(TAG_PREFIX),
            cost_categories: keyed(COST_CATEGORY_PREFIX),
            billing_period: columns
                .contains("billing_period")
                .then(|| "billing_period".into()),
            columns,
        }
    }

    pub fn has(&self, column: &str) -> bool {
        self.columns.contains(column)
    }

    /// The column as text with blanks as null (CUR writes empty strings where a value does not
    /// apply), or a typed null when the table lacks it.
    pub(crate) fn text(&self, column: &str) -> String {
        if self.has(column) {
            format!("NULLIF(TRIM({column}), '')")
        } else {
            "CAST(NULL AS VARCHAR)".into()
        }
    }

    /// A value out of a map column, null when the key is absent. `element_at` is Trino's
    /// null-safe lookup (the `[]` subscript fails on a missing key); the embedded engine
    /// registers a function of the same name and meaning.
    fn map_text(&self, map: &str, key: &str) -> String {
        if self.has(map) {
            format!("NULLIF(TRIM(element_at({map}, {})), '')", quote(key))
        } else {
            "CAST(NULL AS VARCHAR)".into()
        }
    }

    /// The product name: the `product_name` attribute, else the product code (as the reader);
    /// FOCUS's `ServiceName`.
    pub(crate) fn service(&self) -> String {
        let name = match self.flavour {
            Flavour::Cur2 => self.map_text("product", "product_name"),
            Flavour::LegacyAthena => self.text("product_product_name"),
            Flavour::Focus => return self.text("servicename"),
        };
        format!("COALESCE({name}, {})", self.text("line_item_product_code"))
    }

    pub(crate) fn region(&self) -> String {
        match self.flavour {
            Flavour::Cur2 => self.text("product_region_code"),
            Flavour::LegacyAthena => self.text("product_region"),
            Flavour::Focus => self.text("regionid"),
        }
    }

    pub(crate) fn tag(&self, key: &str) -> String {
        match self.flavour {
            Flavour::Cur2 => self.map_text("resource_tags", &export_name("user_", key)),
            Flavour::LegacyAthena => self.text(&format!("{TAG_PREFIX}{key}")),
            Flavour::Focus => self.map_text("tags", key),
        }
    }

    pub(crate) fn cost_category(&self, key: &str) -> String {
        match self.flavour {
            Flavour::Cur2 => self.map_text("cost_category", &export_name("", key)),
            Flavour::LegacyAthena => self.text(&format!("{COST_CATEGORY_PREFIX}{key}")),
            Flavour::Focus => self.map_text("x_costcategories", key),
        }
    }

    /// The column holding each line's start, which decides its day.
    pub(crate) fn start_column(&self) -> &'static str {
        match self.flavour {
            Flavour::Focus => "chargeperiodstart",
            Flavour::Cur2 | Flavour::LegacyAthena => "line_item_usage_start_date",
        }
    }
}

/// The name a key gets in the export: lower case, `_` for separators and before capitals
/// (the Athena naming the legacy columns use too), behind `prefix`: `Cost Center` → `cost_center`.
fn export_name(prefix: &str, key: &str) -> String {
    format!("{prefix}{}", costwatch_ingest::cur::athena_name(key))
}

/// A SQL string literal.
pub(crate) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The FOCUS 1.2 columns (with AWS's `x_` columns) the queries read, lowercase as Athena names
/// them.
pub const FOCUS_COLUMNS: &[&str] = &[
    "billedcost",
    "effectivecost",
    "listcost",
    "billingaccountid",
    "billingaccountname",
    "billingcurrency",
    "chargecategory",
    "chargefrequency",
    "chargeperiodstart",
    "consumedquantity",
    "consumedunit",
    "regionid",
    "resourceid",
    "servicecategory",
    "servicename",
    "subaccountid",
    "subaccountname",
    "tags",
    "x_costcategories",
    "x_operation",
    "x_servicecode",
    "x_usagetype",
    "billing_period",
];

/// The CUR 2.0 columns the queries read; template.yaml's Glue table declares exactly these.
pub const CUR2_COLUMNS: &[&str] = &[
    "bill_payer_account_id",
    "bill_payer_account_name",
    "line_item_usage_account_id",
    "line_item_usage_account_name",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_line_item_type",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_operation",
    "line_item_resource_id",
    "line_item_usage_amount",
    "line_item_unblended_cost",
    "line_item_unblended_rate",
    "line_item_net_unblended_cost",
    "line_item_currency_code",
    "pricing_public_on_demand_cost",
    "pricing_unit",
    "product",
    "product_region_code",
    "product_servicecode",
    "reservation_effective_cost",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
    "savings_plan_savings_plan_effective_cost",
    "resource_tags",
    "cost_category",
    "billing_period",
];
