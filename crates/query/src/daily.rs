//! The daily roll-up query: one row per UTC day and dimension set (payer, account, service,
//! region, line item type, currency, usage type, tags, cost categories), with the billed,
//! amortised (effective) and list cost summed as exact decimals. Its rows become the same
//! [`CostRecord`]s the project's CUR reader produces from the files (without resource ids, which
//! the roll-ups do not keep), which the tests check to the cent on the real CUR.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use costwatch_core::{CostRecord, Money};
use costwatch_ingest::cur::line_item_charge;
use costwatch_ingest::focus::focus_charge;

use crate::export::{ExportTable, Flavour};
use crate::sql::{AMOUNT, grouped, sum_or, window_filters};
use crate::{QueryError, Rows};

/// Days `[from, to)` to query, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Window {
    /// The days AWS may still revise on `today`: the whole previous month and this month up to
    /// yesterday. Every run queries them again. Today is left out while it fills in: the last
    /// day collected is the day detection judges, and a partial day would look like a drop.
    pub fn restated(today: NaiveDate) -> Self {
        let yesterday = today.pred_opt().unwrap_or(today);
        let month = yesterday.with_day(1).unwrap_or(yesterday);
        Self {
            from: month - Months::new(1),
            to: today,
        }
    }

    /// The billing periods (`YYYY-MM`) the window touches.
    pub fn billing_periods(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Some(last) = self.to.pred_opt().filter(|d| *d >= self.from) else {
            return out;
        };
        let mut month = self.from.with_day(1).unwrap_or(self.from);
        while month <= last {
            out.push(month.format("%Y-%m").to_string());
            month = month + Months::new(1);
        }
        out
    }
}

/// The query's text and how to read its rows.
#[derive(Debug, Clone)]
pub struct DailyQuery {
    pub sql: String,
    columns: Vec<String>,
    tag_keys: Vec<String>,
    cost_categories: Vec<String>,
}

impl DailyQuery {
    pub fn new(table: &ExportTable, window: Window) -> Self {
        let focus = table.flavour == Flavour::Focus;
        let pick = |cur: &str, focus_name: &str| table.text(if focus { focus_name } else { cur });
        let mut dims: Vec<(String, String)> = vec![
            (
                format!("CAST({} AS DATE)", table.start_column()),
                "usage_day".into(),
            ),
            (
                pick("bill_payer_account_id", "billingaccountid"),
                "payer".into(),
            ),
            (
                pick("bill_payer_account_name", "billingaccountname"),
                "payer_name".into(),
            ),
            (
                pick("line_item_usage_account_id", "subaccountid"),
                "account".into(),
            ),
            (
                pick("line_item_usage_account_name", "subaccountname"),
                "account_name".into(),
            ),
            (table.service(), "service".into()),
            (table.region(), "region".into()),
            (
                pick("line_item_currency_code", "billingcurrency"),
                "currency".into(),
            ),
            (
                pick("line_item_usage_type", "x_usagetype"),
                "usage_type".into(),
            ),
        ];
        // CUR's line item type maps to a charge category and frequency after the query (the
        // readers' mapping); FOCUS has them, and a service category, as columns.
        if focus {
            for (column, alias) in [
                ("chargecategory", "charge_category"),
                ("chargefrequency", "charge_frequency"),
                ("servicecategory", "service_category"),
            ] {
                dims.push((table.text(column), alias.into()));
            }
        } else {
            dims.push((
                table.text("line_item_line_item_type"),
                "line_item_type".into(),
            ));
        }
        for (i, key) in table.tag_keys.iter().enumerate() {
            dims.push((table.tag(key), format!("tag_{i}")));
        }
        for (i, key) in table.cost_categories.iter().enumerate() {
            dims.push((table.cost_category(key), format!("cost_category_{i}")));
        }

        let sums = if focus {
            [
                (sum_or(table, "billedcost", "NULL"), "billed"),
                (sum_or(table, "effectivecost", "NULL"), "effective"),
                (sum_or(table, "listcost", "NULL"), "list"),
            ]
        } else {
            [
                (sum_or(table, "line_item_unblended_cost", "NULL"), "billed"),
                (
                    format!("SUM(CAST({} AS {AMOUNT}))", effective_cost(table)),
                    "effective",
                ),
                (
                    sum_or(table, "pricing_public_on_demand_cost", "NULL"),
                    "list",
                ),
            ]
        };
        let columns = dims
            .iter()
            .map(|(_, a)| a.clone())
            .chain(sums.iter().map(|(_, a)| (*a).to_owned()))
            .collect();
        let sql = grouped(&dims, &sums, &table.name, &window_filters(table, window));
        Self {
            sql,
            columns,
            tag_keys: table.tag_keys.clone(),
            cost_categories: table.cost_categories.clone(),
        }
    }

    /// The answer's column names, in order (what an engine's rows carry).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The rows as daily cost records, line item types that map to one charge category summed
    /// together, sorted as the readers sort.
    pub fn records(&self, rows: &Rows) -> Result<Vec<CostRecord>, QueryError> {
        let [
            day,
            payer,
            payer_name,
            account,
            account_name,
            service,
            region,
        ] = rows.positions([
            "usage_day",
            "payer",
            "payer_name",
            "account",
            "account_name",
            "service",
            "region",
        ])?;
        let charge = match rows.position("line_item_type") {
            Ok(line_type) => Charge::LineItemType(line_type),
            Err(_) => {
                let [category, frequency] =
                    rows.positions(["charge_category", "charge_frequency"])?;
                Charge::Focus {
                    category,
                    frequency,
                }
            }
        };
        let service_category = rows.position("service_category").ok();
        let [currency, usage_type, billed, effective, list] =
            rows.positions(["currency", "usage_type", "billed", "effective", "list"])?;
        let tags = self.keyed(rows, "tag", &self.tag_keys)?;
        let cost_categories = self.keyed(rows, "cost_category", &self.cost_categories)?;

        let mut records = Vec::with_capacity(rows.rows.len());
        for (n, row) in rows.rows.iter().enumerate() {
            let cell = |i: usize| row.get(i).and_then(|c| c.as_deref());
            let bad = |column: &str, problem: String| {
                QueryError::Shape(format!("row {}: {column}: {problem}", n + 1))
            };
            let required = |i: usize, column: &str| {
                cell(i).ok_or_else(|| bad(column, "required value is empty".into()))
            };
            let money = |i: usize, column: &str| {
                cell(i)
                    .map(|v| {
                        Money::from_str(v)
                            .map_err(|_| bad(column, format!("invalid decimal `{v}`")))
                    })
                    .transpose()
            };
            let text = |i: usize| cell(i).map(str::to_owned);

            let day_text = required(day, "usage_day")?;
            let start_day = NaiveDate::parse_from_str(day_text, "%Y-%m-%d")
                .map_err(|_| bad("usage_day", format!("invalid date `{day_text}`")))?;
            let end_day = start_day
                .checked_add_days(Days::new(1))
                .ok_or_else(|| bad("usage_day", "date out of range".into()))?;
            let midnight =
                |d: NaiveDate| Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN));
            let payer_id = required(payer, "payer")?.to_owned();
            let (category, frequency) = match charge {
                Charge::LineItemType(i) => line_item_charge(required(i, "line_item_type")?)
                    .map_err(|p| bad("line_item_type", p))?,
                Charge::Focus {
                    category,
                    frequency,
                } => focus_charge(required(category, "charge_category")?, cell(frequency))
                    .map_err(|p| bad("charge_category", p))?,
            };
            let pick = |columns: &[(String, usize)]| -> BTreeMap<String, String> {
                columns
                    .iter()
                    .filter_map(|(key, i)| Some((key.clone(), text(*i)?)))
                    .collect()
            };
            records.push(CostRecord {
                charge_period_start: midnight(start_day),
                charge_period_end: midnight(end_day),
                sub_account_id: text(account).unwrap_or_else(|| payer_id.clone()),
                billing_account_id: payer_id,
                billing_account_name: text(payer_name),
                sub_account_name: text(account_name),
                service_name: required(service, "service")?.to_owned(),
                service_category: service_category.and_then(text),
                region_id: text(region),
                charge_category: category,
                charge_frequency: frequency,
                billed_cost: money(billed, "billed")?
                    .ok_or_else(|| bad("billed", "required value is empty".into()))?,
                effective_cost: money(effective, "effective")?
                    .ok_or_else(|| bad("effective", "required value is empty".into()))?,
                list_cost: money(list, "list")?,
                billing_currency: required(currency, "currency")?.to_owned(),
                tags: pick(&tags),
                resource_id: None,
                x_usage_type: text(usage_type),
                x_cost_categories: pick(&cost_categories),
            });
        }
        costwatch_ingest::roll_up(records).map_err(QueryError::Shape)
    }

    fn keyed(
        &self,
        rows: &Rows,
        prefix: &str,
        keys: &[String],
    ) -> Result<Vec<(String, usize)>, QueryError> {
        keys.iter()
            .enumerate()
            .map(|(i, key)| Ok((key.clone(), rows.position(&format!("{prefix}_{i}"))?)))
            .collect()
    }
}

/// Where a row's charge category and frequency come from.
#[derive(Clone, Copy)]
enum Charge {
    /// CUR's `line_item_line_item_type`, mapped as the readers map it.
    LineItemType(usize),
    /// FOCUS's `ChargeCategory` and `ChargeFrequency` columns.
    Focus { category: usize, frequency: usize },
}

/// AWS's amortised cost per line, as the CUR reader computes it
/// (`costwatch_ingest::cur`, `effective_cost`): reserved and Savings Plan usage at its effective
/// rate, a reservation's unused part on its fee line, Savings Plan fees and negations at zero,
/// everything else as billed. A column the table lacks falls back as the reader does.
fn effective_cost(table: &ExportTable) -> String {
    let billed = "line_item_unblended_cost";
    let or_billed = |column: &str| {
        if table.has(column) {
            format!("COALESCE({column}, {billed})")
        } else {
            billed.to_owned()
        }
    };
    let or_zero = |column: &str| {
        if table.has(column) {
            format!("COALESCE({column}, 0)")
        } else {
            "0".to_owned()
        }
    };
    let kind = "TRIM(line_item_line_item_type)";
    let mut arms = vec![
        format!(
            "WHEN {kind} = 'DiscountedUsage' THEN {}",
            or_billed("reservation_effective_cost")
        ),
        format!(
            "WHEN {kind} = 'SavingsPlanCoveredUsage' THEN {}",
            or_billed("savings_plan_savings_plan_effective_cost")
        ),
    ];
    let upfront = "reservation_unused_amortized_upfront_fee_for_billing_period";
    let recurring = "reservation_unused_recurring_fee";
    if table.has(upfront) || table.has(recurring) {
        arms.push(format!(
            "WHEN {kind} = 'RIFee' THEN {} + {}",
            or_zero(upfront),
            or_zero(recurring)
        ));
    }
    arms.push(format!(
        "WHEN {kind} IN ('SavingsPlanNegation', 'SavingsPlanUpfrontFee', 'SavingsPlanRecurringFee') THEN 0"
    ));
    format!("CASE {} ELSE {billed} END", arms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::from_str(s).unwrap()
    }

    #[test]
    fn restated_window_is_last_month_and_this_month_so_far() {
        let w = Window::restated(day("2026-01-15"));
        assert_eq!((w.from, w.to), (day("2025-12-01"), day("2026-01-15")));
        assert_eq!(w.billing_periods(), ["2025-12", "2026-01"]);
        // On the 1st, yesterday closed a month: that month and the one before it.
        let first = Window::restated(day("2026-04-01"));
        assert_eq!(
            (first.from, first.to),
            (day("2026-02-01"), day("2026-04-01"))
        );
        assert_eq!(first.billing_periods(), ["2026-02", "2026-03"]);
        let empty = Window {
            from: day("2026-03-02"),
            to: day("2026-03-02"),
        };
        assert!(empty.billing_periods().is_empty());
    }

    #[test]
    fn cur2_query_prunes_partitions_and_reads_maps_null_safely() {
        let table = ExportTable::cur2("costwatch.cur", vec!["team".into()], vec![]);
        let q = DailyQuery::new(&table, Window::restated(day("2026-01-15")));
        assert!(
            q.sql.contains("billing_period IN ('2025-12', '2026-01')"),
            "{}",
            q.sql
        );
        assert!(
            q.sql.contains("element_at(resource_tags, 'user_team')"),
            "{}",
            q.sql
        );
        assert!(
            q.sql.contains("element_at(product, 'product_name')"),
            "{}",
            q.sql
        );
        assert!(
            !q.sql.contains("resource_id"),
            "roll-ups keep no resource ids"
        );
    }

    #[test]
    fn tag_keys_are_looked_up_under_the_exports_names_and_cannot_break_the_literal() {
        let keys = vec!["Cost Center".into(), "o'brien".into()];
        let table = ExportTable::cur2("t", keys, vec!["Business Unit".into()]);
        let q = DailyQuery::new(&table, Window::restated(day("2026-01-15")));
        assert!(
            q.sql
                .contains("element_at(resource_tags, 'user_cost_center')"),
            "{}",
            q.sql
        );
        assert!(
            q.sql.contains("element_at(resource_tags, 'user_o_brien')"),
            "{}",
            q.sql
        );
        assert!(
            q.sql.contains("element_at(cost_category, 'business_unit')"),
            "{}",
            q.sql
        );
    }

    #[test]
    fn focus_query_reads_focus_columns_and_maps() {
        let table = ExportTable::focus("costwatch.focus", vec!["team".into()], vec!["Unit".into()]);
        let q = DailyQuery::new(&table, Window::restated(day("2026-01-15")));
        for part in [
            "CAST(chargeperiodstart AS DATE) AS usage_day",
            "chargeperiodstart >= TIMESTAMP '2025-12-01 00:00:00'",
            "billing_period IN ('2025-12', '2026-01')",
            "element_at(tags, 'team')",
            "element_at(x_costcategories, 'Unit')",
            "SUM(CAST(effectivecost AS DECIMAL(38, 10))) AS effective",
            "AS charge_category",
        ] {
            assert!(q.sql.contains(part), "{part} not in {}", q.sql);
        }
        assert!(!q.sql.contains("line_item"), "{}", q.sql);
    }

    #[test]
    fn rows_become_records_and_line_types_of_one_category_merge() {
        let table = ExportTable::legacy(
            "cur",
            ["line_item_unblended_cost", "resource_tags_user_team"].map(String::from),
        );
        let q = DailyQuery::new(&table, Window::restated(day("2018-11-15")));
        let columns = q.columns();
        let row = |line_type: &str, billed: &str, account: Option<&str>| {
            [
                Some("2018-11-02"),
                Some("111111111111"),
                None,
                account,
                None,
                Some("Amazon EC2"),
                Some("us-east-1"),
                Some("USD"),
                Some("BoxUsage"),
                Some(line_type),
                Some("web"),
                Some(billed),
                Some(billed),
                None,
            ]
            .map(|c| c.map(str::to_owned))
            .to_vec()
        };
        let rows = Rows {
            columns: columns.to_vec(),
            rows: vec![
                row("Discount", "-1.5000000000", Some("222222222222")),
                row("EdpDiscount", "-0.2500000000", Some("222222222222")),
                row("Usage", "10.0000000000", None),
            ],
        };
        let records = q.records(&rows).unwrap();
        assert_eq!(records.len(), 2, "{records:#?}");
        let adjustment = records
            .iter()
            .find(|r| r.billed_cost < Money::ZERO)
            .unwrap();
        assert_eq!(adjustment.billed_cost, Money::from_str("-1.75").unwrap());
        let usage = records
            .iter()
            .find(|r| r.billed_cost > Money::ZERO)
            .unwrap();
        assert_eq!(
            usage.sub_account_id, "111111111111",
            "no usage account: the payer's"
        );
        assert_eq!(usage.tags.get("team").map(String::as_str), Some("web"));
        assert_eq!(usage.list_cost, None);

        let mut broken = rows.clone();
        let line_type = columns.iter().position(|c| c == "line_item_type").unwrap();
        broken.rows[0][line_type] = Some("Bogus".into());
        let err = q.records(&broken).unwrap_err().to_string();
        assert!(
            err.contains("row 1: line_item_type: unknown line item type `Bogus`"),
            "{err}"
        );
    }
}
