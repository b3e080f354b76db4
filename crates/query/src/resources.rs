//! The resource query behind an anomaly's resource-level root cause: one scope's line items over
//! a window (the anomaly's day and the days before it), per day, account, product, region, usage
//! type, operation, resource and line item type, with cost, usage quantity and the owner tag —
//! the [`UsageLine`]s `costwatch_analytics::resource_drivers` splits into usage and rate effects.
//! Same dialect and engines as the daily query; it is what enriches our anomalies and those
//! imported from AWS Cost Anomaly Detection.

use std::collections::BTreeMap;
use std::str::FromStr;

use costwatch_core::{Money, Scope, UsageLine};

use crate::export::{ExportTable, Flavour, quote};
use crate::sql::{grouped, sum_or, window_filters};
use crate::{QueryError, Rows, Window};

/// The query's text and how to read its rows.
#[derive(Debug, Clone)]
pub struct ResourceQuery {
    pub sql: String,
    owner_keys: Vec<String>,
}

impl ResourceQuery {
    /// `None` for a scope the export cannot filter on (a metric): there is nothing to rank.
    pub fn new(
        table: &ExportTable,
        scope: &Scope,
        window: Window,
        owner_keys: &[String],
    ) -> Option<Self> {
        let focus = table.flavour == Flavour::Focus;
        // The column of a field in this table's layout: CUR's name, or FOCUS's.
        let pick = |cur: &str, focus_name: &str| table.text(if focus { focus_name } else { cur });
        let account = pick("line_item_usage_account_id", "subaccountid");
        let mut filters = window_filters(table, window);
        match scope {
            Scope::Org => {}
            Scope::Account(a) => filters.push(format!("{account} = {}", quote(a))),
            Scope::Service(s) => filters.push(format!("{} = {}", table.service(), quote(s))),
            Scope::AccountService {
                account: a,
                service,
            } => {
                filters.push(format!("{account} = {}", quote(a)));
                filters.push(format!("{} = {}", table.service(), quote(service)));
            }
            Scope::Tag { key, value } => {
                filters.push(format!("{} = {}", table.tag(key), quote(value)))
            }
            Scope::CostCategory { name, value } => {
                filters.push(format!("{} = {}", table.cost_category(name), quote(value)))
            }
            _ => return None,
        }

        // FOCUS has no product code: AWS's `x_ServiceCode`, else the service's name. Its charge
        // category stands for the line item type ("Usage" covers reserved and Savings Plan
        // usage, as the ranking wants).
        let product = if focus {
            format!(
                "COALESCE({}, {})",
                table.text("x_servicecode"),
                table.service()
            )
        } else {
            table.text("line_item_product_code")
        };
        let mut dims: Vec<(String, String)> = [
            (
                format!("CAST({} AS DATE)", table.start_column()),
                "usage_day",
            ),
            (
                format!(
                    "COALESCE({account}, {})",
                    pick("bill_payer_account_id", "billingaccountid")
                ),
                "account",
            ),
            (
                pick("line_item_usage_account_name", "subaccountname"),
                "account_name",
            ),
            (product, "product_code"),
            (table.region(), "region"),
            (pick("line_item_usage_type", "x_usagetype"), "usage_type"),
            (pick("line_item_operation", "x_operation"), "operation"),
            (pick("line_item_resource_id", "resourceid"), "resource_id"),
            (
                pick("line_item_line_item_type", "chargecategory"),
                "line_item_type",
            ),
        ]
        .into_iter()
        .map(|(e, a): (String, &str)| (e, a.to_owned()))
        .collect();
        for (i, key) in owner_keys.iter().enumerate() {
            dims.push((table.tag(key), format!("owner_{i}")));
        }
        let (cost, amount) = if focus {
            ("billedcost", "consumedquantity")
        } else {
            ("line_item_unblended_cost", "line_item_usage_amount")
        };
        let sums = [
            (sum_or(table, cost, "0"), "cost"),
            (sum_or(table, amount, "0"), "usage_amount"),
            ("COUNT(*)".to_owned(), "line_count"),
        ];
        let sql = grouped(&dims, &sums, &table.name, &filters);
        Some(Self {
            sql,
            owner_keys: owner_keys.to_vec(),
        })
    }

    /// The rows as usage lines; the owner tags found become the lines' tags.
    pub fn lines(&self, rows: &Rows) -> Result<Vec<UsageLine>, QueryError> {
        let [
            day,
            account,
            account_name,
            product,
            region,
            usage_type,
            operation,
            resource,
            kind,
        ] = rows.positions([
            "usage_day",
            "account",
            "account_name",
            "product_code",
            "region",
            "usage_type",
            "operation",
            "resource_id",
            "line_item_type",
        ])?;
        let [cost, amount, count] = rows.positions(["cost", "usage_amount", "line_count"])?;
        let owners: Vec<(String, usize)> = self
            .owner_keys
            .iter()
            .enumerate()
            .map(|(i, key)| Ok((key.clone(), rows.position(&format!("owner_{i}"))?)))
            .collect::<Result<_, QueryError>>()?;
        rows.rows
            .iter()
            .enumerate()
            .map(|(n, row)| {
                let cell = |i: usize| row.get(i).and_then(|c| c.as_deref());
                let bad = |column: &str, problem: String| {
                    QueryError::Shape(format!("row {}: {column}: {problem}", n + 1))
                };
                let required = |i: usize, column: &str| {
                    cell(i)
                        .map(str::to_owned)
                        .ok_or_else(|| bad(column, "required value is empty".into()))
                };
                let money = |i: usize, column: &str| {
                    cell(i).map_or(Ok(Money::ZERO), |v| {
                        Money::from_str(v)
                            .map_err(|_| bad(column, format!("invalid decimal `{v}`")))
                    })
                };
                let day_text = required(day, "usage_day")?;
                let tags: BTreeMap<String, String> = owners
                    .iter()
                    .filter_map(|(key, i)| Some((key.clone(), cell(*i)?.to_owned())))
                    .collect();
                Ok(UsageLine {
                    day: day_text
                        .parse()
                        .map_err(|_| bad("usage_day", format!("invalid date `{day_text}`")))?,
                    account: required(account, "account")?,
                    account_name: cell(account_name).map(str::to_owned),
                    product_code: required(product, "product_code")?,
                    region: cell(region).map(str::to_owned),
                    usage_type: cell(usage_type).unwrap_or_default().to_owned(),
                    operation: cell(operation).map(str::to_owned),
                    resource_id: cell(resource).map(str::to_owned),
                    line_item_type: required(kind, "line_item_type")?,
                    cost: money(cost, "cost")?.normalize(),
                    usage_amount: money(amount, "usage_amount")?.normalize(),
                    tags,
                    lines: cell(count)
                        .and_then(|c| c.parse().ok())
                        .ok_or_else(|| bad("line_count", "not a count".into()))?,
                })
            })
            .collect()
    }
}
