//! Recommendations: the optimisation list with its dollar savings, as the recommendation
//! lifecycle (`costwatch_analytics::recommend::lifecycle`) keeps it between runs — one
//! `Tracked` per item under `recommendation/<id>` in the state store — filtered, sorted by
//! monthly saving and paged.
//! The weekly `recommend` run (`costwatch_pipeline::recommend`) writes them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use chrono::NaiveDate;
use costwatch_analytics::recommend::lifecycle::Tracked;
use costwatch_analytics::recommend::list::AlsoFound;
use costwatch_core::Money;
use costwatch_core::notification::State as Lifecycle;
use costwatch_core::recommend::{Action, Evidence, Kind, Source};
use serde::{Deserialize, Serialize};

use super::params::PageQuery;
use crate::{Api, Problem};

pub use costwatch_analytics::recommend::lifecycle::STATE_PREFIX;

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum StateFilter {
    /// Not resolved (the default): what is still worth doing.
    Active,
    Open,
    Ongoing,
    Resolved,
    All,
}

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<StateFilter>,
    /// Smallest monthly saving, in USD (a decimal string: `25` or `25.50`).
    min_savings: Option<String>,
    kind: Option<Kind>,
    source: Option<Source>,
    account: Option<String>,
    service: Option<String>,
}

/// One recommendation: the finding's figures, where it stands, and what to do.
#[derive(Serialize)]
pub struct Item {
    id: String,
    state: Lifecycle,
    revision: u32,
    opened: NaiveDate,
    resolved: Option<NaiveDate>,
    source: Source,
    kind: Kind,
    account: String,
    account_name: Option<String>,
    region: Option<String>,
    service: String,
    resource: String,
    title: String,
    current_monthly_cost: Money,
    monthly_savings: Money,
    /// What the list's total counts of it (a commitment purchase is scaled down by the usage
    /// savings it overlaps).
    counted_savings: Money,
    savings_pct: Option<f64>,
    formula: String,
    action: Action,
    evidence: Vec<Evidence>,
    also_found: Vec<AlsoFound>,
}

#[derive(Serialize)]
pub struct ItemPage {
    items: Vec<Item>,
    next_cursor: Option<String>,
    /// Σ counted savings of every item the filters match (all pages).
    total_monthly_savings: Money,
    /// How many items the filters match (all pages).
    total_items: usize,
}

fn item(t: Tracked) -> Item {
    let savings_pct = t.item.finding.savings_pct();
    let f = t.item.finding;
    Item {
        id: t.item.id,
        state: t.state,
        revision: t.revision,
        opened: t.opened,
        resolved: t.resolved,
        source: f.source,
        kind: f.kind,
        account: f.account,
        account_name: f.account_name,
        region: f.region,
        service: f.service,
        resource: f.resource,
        title: f.title,
        current_monthly_cost: f.current_monthly_cost,
        monthly_savings: f.monthly_savings,
        counted_savings: t.item.counted_savings,
        savings_pct,
        formula: f.formula,
        action: f.action,
        evidence: f.evidence,
        also_found: t.item.also_found,
    }
}

fn min_savings(given: Option<&str>) -> Result<Option<Money>, Problem> {
    let Some(text) = given else {
        return Ok(None);
    };
    let amount: Money = text
        .trim()
        .parse()
        .map_err(|_| Problem::bad_request("min_savings is not a decimal amount"))?;
    if amount.is_sign_negative() {
        return Err(Problem::bad_request("min_savings must not be negative"));
    }
    Ok(Some(amount))
}

pub async fn list(
    State(api): State<Arc<Api>>,
    Query(q): Query<ListQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<ItemPage>, Problem> {
    let filter = q.state.unwrap_or(StateFilter::Active);
    let floor = min_savings(q.min_savings.as_deref())?;
    let mut found: Vec<Tracked> = api
        .state
        .list(STATE_PREFIX)
        .await?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_value::<Tracked>(v.value).ok())
        .filter(|t| match filter {
            StateFilter::Active => t.state != Lifecycle::Resolved,
            StateFilter::Open => t.state == Lifecycle::Open,
            StateFilter::Ongoing => t.state == Lifecycle::Ongoing,
            StateFilter::Resolved => t.state == Lifecycle::Resolved,
            StateFilter::All => true,
        })
        .filter(|t| floor.is_none_or(|m| t.item.finding.monthly_savings >= m))
        .filter(|t| q.kind.is_none_or(|k| t.item.finding.kind == k))
        .filter(|t| q.source.is_none_or(|s| t.item.finding.source == s))
        .filter(|t| {
            q.account
                .as_ref()
                .is_none_or(|a| &t.item.finding.account == a)
        })
        .filter(|t| {
            q.service
                .as_ref()
                .is_none_or(|s| &t.item.finding.service == s)
        })
        .collect();
    // The biggest saving first; the id keeps the order total, so pages do not overlap.
    found.sort_by(|a, b| {
        b.item
            .finding
            .monthly_savings
            .cmp(&a.item.finding.monthly_savings)
            .then_with(|| a.item.id.cmp(&b.item.id))
    });
    let total_monthly_savings = found.iter().map(|t| t.item.counted_savings).sum();
    let total_items = found.len();
    let page = page.page(found)?;
    Ok(Json(ItemPage {
        items: page.items.into_iter().map(item).collect(),
        next_cursor: page.next_cursor,
        total_monthly_savings,
        total_items,
    }))
}
