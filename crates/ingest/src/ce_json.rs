//! Cost Explorer `GetCostAndUsage` responses, as the AWS wire JSON (what `aws ce
//! get-cost-and-usage` prints). A file holds one response or a JSON array of pages.

use std::collections::{BTreeMap, HashMap};

use costwatch_core::{ChargeCategory, ChargeFrequency, CostRecord, Money};
use serde::Deserialize;

use crate::error::{IngestError, Location};
use crate::mapping::{Amounts, Daily, Dims, parse_decimal, parse_timestamp};

/// The service name used when the response is not grouped by SERVICE.
pub const ALL_SERVICES: &str = "(all services)";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    #[serde(default)]
    results_by_time: Vec<ResultByTime>,
    #[serde(default)]
    group_definitions: Vec<GroupDefinition>,
    #[serde(default)]
    dimension_value_attributes: Vec<DimensionValueAttribute>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResultByTime {
    time_period: TimePeriod,
    #[serde(default)]
    total: BTreeMap<String, Metric>,
    #[serde(default)]
    groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TimePeriod {
    start: String,
    end: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Group {
    keys: Vec<String>,
    #[serde(default)]
    metrics: BTreeMap<String, Metric>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Metric {
    amount: String,
    unit: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupDefinition {
    #[serde(rename = "Type")]
    kind: String,
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DimensionValueAttribute {
    value: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

/// Parses one response or an array of pages into one record per day and group. `source` names
/// the file in errors; `billing_account_id` fills BillingAccountId (and SubAccountId when the
/// response is not grouped by LINKED_ACCOUNT), since the response itself does not carry it.
pub fn parse(
    bytes: &[u8],
    source: &str,
    billing_account_id: &str,
) -> Result<Vec<CostRecord>, IngestError> {
    let json_err = |e| IngestError::Json {
        file: source.to_owned(),
        source: e,
    };
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let (pages, paged) = if first == Some(&b'[') {
        let pages: Vec<Response> = serde_json::from_slice(bytes).map_err(json_err)?;
        (pages, true)
    } else {
        (
            vec![serde_json::from_slice(bytes).map_err(json_err)?],
            false,
        )
    };
    // Account names can arrive on any page; they describe values, not a page.
    let names: HashMap<&str, &str> = pages
        .iter()
        .flat_map(|p| &p.dimension_value_attributes)
        .filter_map(|a| Some((a.value.as_str(), a.attributes.get("description")?.as_str())))
        .collect();

    let mut daily = Daily::default();
    for (p, page) in pages.iter().enumerate() {
        let prefix = if paged {
            format!("[{p}].")
        } else {
            String::new()
        };
        for (t, result) in page.results_by_time.iter().enumerate() {
            let at = |suffix: &str| Location::Path(format!("{prefix}ResultsByTime[{t}]{suffix}"));
            let err = |suffix: &str, column: &str, problem: String| {
                IngestError::value(source, at(suffix), column, problem)
            };
            let start = parse_timestamp(&result.time_period.start)
                .map_err(|e| err("", "TimePeriod.Start", e))?;
            let end = parse_timestamp(&result.time_period.end)
                .map_err(|e| err("", "TimePeriod.End", e))?;
            let base = ungrouped(start, end, billing_account_id);
            if page.group_definitions.is_empty() {
                // Ungrouped: the day's Total is the only figure.
                let (dims, amounts) =
                    metrics(base, &result.total, "Total.").map_err(|(c, e)| err("", &c, e))?;
                daily.add(dims, amounts).map_err(|e| err("", "Total", e))?;
                continue;
            }
            for (g, group) in result.groups.iter().enumerate() {
                let suffix = format!(".Groups[{g}]");
                if group.keys.len() != page.group_definitions.len() {
                    let problem = format!(
                        "{} keys for {} group definitions",
                        group.keys.len(),
                        page.group_definitions.len()
                    );
                    return Err(err(&suffix, "Keys", problem));
                }
                let mut dims = base.clone();
                for (def, key) in page.group_definitions.iter().zip(&group.keys) {
                    apply_key(&mut dims, def, key, &names)
                        .map_err(|e| err(&suffix, &def.key, e))?;
                }
                let (dims, amounts) = metrics(dims, &group.metrics, "Metrics.")
                    .map_err(|(c, e)| err(&suffix, &c, e))?;
                daily
                    .add(dims, amounts)
                    .map_err(|e| err(&suffix, "Metrics", e))?;
            }
        }
    }
    Ok(daily.into_records())
}

/// Sets the dimension a group key stands for. Dimensions without a record column
/// (AZ, INSTANCE_TYPE, …) are dropped, so their groups merge into one record.
fn apply_key(
    dims: &mut Dims,
    def: &GroupDefinition,
    key: &str,
    names: &HashMap<&str, &str>,
) -> Result<(), String> {
    match (def.kind.as_str(), def.key.as_str()) {
        ("DIMENSION", dimension) => apply_dimension(dims, dimension, key, names)?,
        ("TAG", tag) => {
            if let Some(v) = labelled_value(tag, key) {
                dims.tags.insert(tag.to_owned(), v);
            }
        }
        ("COST_CATEGORY", name) => {
            if let Some(v) = labelled_value(name, key) {
                dims.x_cost_categories.insert(name.to_owned(), v);
            }
        }
        (other, _) => return Err(format!("unknown group definition type `{other}`")),
    }
    Ok(())
}

/// A Cost Explorer record of `start`–`end` before any group key is applied: all services, the
/// payer `billing_account_id` as its own member account, usage, no currency yet.
pub(crate) fn ungrouped(
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
    billing_account_id: &str,
) -> Dims {
    Dims {
        start,
        end,
        billing_account_id: billing_account_id.to_owned(),
        billing_account_name: None,
        sub_account_id: billing_account_id.to_owned(),
        sub_account_name: None,
        service_name: ALL_SERVICES.to_owned(),
        service_category: None,
        region_id: None,
        charge_category: ChargeCategory::Usage,
        charge_frequency: None,
        billing_currency: String::new(),
        tags: BTreeMap::new(),
        resource_id: None,
        x_usage_type: None,
        x_cost_categories: BTreeMap::new(),
    }
}

/// Sets what one value of a Cost Explorer dimension (`SERVICE`, `LINKED_ACCOUNT` …) says of a
/// record: from a response's group keys, and from the console's CSV download
/// ([`crate::ce_csv`]). Dimensions without a record column (AZ, INSTANCE_TYPE, …) set nothing.
pub(crate) fn apply_dimension(
    dims: &mut Dims,
    dimension: &str,
    key: &str,
    names: &HashMap<&str, &str>,
) -> Result<(), String> {
    match dimension {
        "LINKED_ACCOUNT" => {
            dims.sub_account_id = key.to_owned();
            dims.sub_account_name = names.get(key).map(|n| (*n).to_owned());
        }
        "LINKED_ACCOUNT_NAME" => dims.sub_account_name = Some(key.to_owned()),
        "SERVICE" => {
            dims.service_name = key.to_owned();
            // Cost Explorer books tax under a pseudo-service named "Tax".
            if key == "Tax" {
                dims.charge_category = ChargeCategory::Tax;
                dims.charge_frequency = None;
            }
        }
        "REGION" => {
            dims.region_id = (key != "NoRegion" && !key.is_empty()).then(|| key.to_owned());
        }
        "USAGE_TYPE" => dims.x_usage_type = Some(key.to_owned()),
        "RESOURCE_ID" => dims.resource_id = Some(key.to_owned()),
        "RECORD_TYPE" => {
            let (category, frequency) = record_type(key)?;
            dims.charge_category = category;
            dims.charge_frequency = frequency;
        }
        _ => {}
    }
    Ok(())
}

/// Tag and cost-category group keys are `name$value`; `name$` means untagged.
fn labelled_value(name: &str, key: &str) -> Option<String> {
    let value = key
        .strip_prefix(name)
        .and_then(|r| r.strip_prefix('$'))
        .or_else(|| key.split_once('$').map(|(_, v)| v))
        .unwrap_or(key);
    (!value.is_empty()).then(|| value.to_owned())
}

/// Cost Explorer RECORD_TYPE values (display names and CUR-style names both occur).
fn record_type(value: &str) -> Result<(ChargeCategory, Option<ChargeFrequency>), String> {
    use ChargeCategory as C;
    use ChargeFrequency as F;
    let squashed: String = value
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    Ok(match squashed.as_str() {
        "usage" | "discountedusage" | "savingsplancoveredusage" => (C::Usage, Some(F::UsageBased)),
        "tax" => (C::Tax, None),
        "credit" | "refund" => (C::Credit, None),
        "recurringreservationfee" | "rifee" | "savingsplanrecurringfee" | "supportfee" => {
            (C::Purchase, Some(F::Recurring))
        }
        "upfrontreservationfee" | "savingsplanupfrontfee" | "fee" | "otheroutofcyclecharges" => {
            (C::Purchase, Some(F::OneTime))
        }
        "savingsplannegation"
        | "discount"
        | "bundleddiscount"
        | "enterprisediscountprogramdiscount"
        | "edpdiscount"
        | "privateratecarddiscount"
        | "privateratediscount"
        | "solutionproviderprogramdiscount"
        | "sppdiscount"
        | "distributordiscount"
        | "rivolumediscount" => (C::Adjustment, Some(F::UsageBased)),
        _ => return Err(format!("unknown RECORD_TYPE `{value}`")),
    })
}

/// BilledCost from UnblendedCost, EffectiveCost from AmortizedCost where requested. Errors are
/// (column, problem) so the caller can add the JSON path.
fn metrics(
    mut dims: Dims,
    metrics: &BTreeMap<String, Metric>,
    prefix: &str,
) -> Result<(Dims, Amounts), (String, String)> {
    let amount = |name: &str| -> Result<Option<(Money, &str)>, (String, String)> {
        metrics
            .get(name)
            .map(|m| {
                parse_decimal(&m.amount)
                    .map(|a| (a, m.unit.as_str()))
                    .map_err(|e| (format!("{prefix}{name}.Amount"), e))
            })
            .transpose()
    };
    let (billed, unit) = amount("UnblendedCost")?.ok_or_else(|| {
        (
            format!("{prefix}UnblendedCost"),
            "metric missing (request UnblendedCost)".to_owned(),
        )
    })?;
    let effective = amount("AmortizedCost")?.map_or(billed, |(a, _)| a);
    dims.billing_currency = unit.to_owned();
    Ok((
        dims,
        Amounts {
            billed,
            effective,
            list: None,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_keys_strip_their_name_and_untagged_is_none() {
        assert_eq!(labelled_value("team", "team$web"), Some("web".into()));
        assert_eq!(labelled_value("team", "team$"), None);
        assert_eq!(labelled_value("Env", "Env$a$b"), Some("a$b".into()));
    }

    #[test]
    fn record_types_in_display_and_cur_spelling() {
        assert_eq!(
            record_type("Recurring reservation fee"),
            Ok((ChargeCategory::Purchase, Some(ChargeFrequency::Recurring)))
        );
        assert_eq!(
            record_type("SavingsPlanUpfrontFee"),
            Ok((ChargeCategory::Purchase, Some(ChargeFrequency::OneTime)))
        );
        assert_eq!(record_type("Refund"), Ok((ChargeCategory::Credit, None)));
        assert!(record_type("Mystery").is_err());
    }
}
