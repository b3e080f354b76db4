//! recommend: the weekly EventBridge schedule → the CUR's per-resource usage lines (the Data
//! Export under `CurPrefix`, queried through the stack's Athena table) for the suite's rules;
//! Cost Optimization Hub and Cost Explorer's recommendations when turned on; one list; each
//! item's lifecycle and realised saving (`costwatch_pipeline::recommend`), its envelopes on the
//! notifications topic.
//!
//! The CUR goes through Athena rather than through the function: a large organisation's month
//! is gigabytes of Parquet, which no Lambda reads through its memory and /tmp, while Athena
//! scans only the columns and months the query names (a few cents a week). It also keeps the
//! Parquet reader out of the binary (issue 17: ≤ 8 MB).

use chrono::{Days, NaiveDate};
use costwatch_core::{Money, Scope, UsageLine};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::recommend::{External, run};
use costwatch_pipeline::resource_causes::{ExportLines, ResourceLines};
use costwatch_store::{NotificationBus, RequestBudget, StateStore};
use serde::Serialize;

use crate::athena::{AthenaNames, athena_names, bill_queries};
use crate::env::Env;
use crate::error::Result;
use crate::events::scheduled_time;
use crate::handlers::collect::TAG_KEYS;
use crate::handlers::detect::owner_tag_keys;

/// `true` turns on Cost Optimization Hub `ListRecommendations` (free).
pub const OPTIMIZATION_HUB: &str = "COSTWATCH_RECOMMEND_OPTIMIZATION_HUB";
/// `true` turns on Cost Explorer's rightsizing, Savings Plans and reservation recommendations
/// ($0.01 a page).
pub const COST_EXPLORER: &str = "COSTWATCH_RECOMMEND_COST_EXPLORER";
/// Cost Explorer requests a run never passes.
pub const MAX_REQUESTS: &str = "COSTWATCH_RECOMMEND_MAX_REQUESTS";
/// Default cap: one rightsizing and one Savings Plans page, the four reservation services, and
/// room for a few more pages ($0.20 a week at most).
pub const DEFAULT_MAX_REQUESTS: u32 = 20;
/// Days of usage queried before the run's date: the rules' longest window (30) and the realised
/// window after it, with room.
pub const KEEP_DAYS: u64 = 62;

#[derive(Debug, Clone, PartialEq)]
pub struct RecommendSettings {
    /// The CUR's table (template: CurPrefix set); `None`: no suite rules.
    pub cur: Option<AthenaNames>,
    pub optimization_hub: bool,
    pub cost_explorer: bool,
    pub max_requests: u32,
}

/// The tag keys the usage lines carry: the owner keys (`COSTWATCH_OWNER_TAG_KEYS`, for routing
/// an item to its team) and the cost-allocation tags the roll-ups use (`COSTWATCH_CE_TAG_KEYS`).
/// The untagged-spend rule counts a line as untagged when it has none of them.
pub fn rule_tag_keys(env: &Env) -> Vec<String> {
    let mut keys = owner_tag_keys(env);
    for key in env.list(TAG_KEYS) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

pub fn settings(env: &Env) -> Result<RecommendSettings> {
    let on = |name: &str| env.optional(name) == Some("true");
    Ok(RecommendSettings {
        cur: athena_names(env)?,
        optimization_hub: on(OPTIMIZATION_HUB),
        cost_explorer: on(COST_EXPLORER),
        max_requests: env.number(MAX_REQUESTS, DEFAULT_MAX_REQUESTS)?,
    })
}

#[derive(Debug, Serialize)]
pub struct RecommendSummary {
    pub as_of: NaiveDate,
    /// Athena queries for the CUR's usage lines (0 without a CUR).
    pub cur_queries: u64,
    pub usage_lines: usize,
    pub listed: usize,
    pub total_monthly_savings: Money,
    pub published: Vec<String>,
    pub unheard: std::collections::BTreeMap<String, String>,
    /// Cost Explorer requests ($0.01 each), in the request ledger.
    pub requests: u32,
    pub saved_so_far: Money,
}

/// The run's clock is the scheduled event's `time`, so a replayed event runs as it was meant to.
/// `cur` is the CUR's usage lines through the query engine (Athena in the Lambda); a query that
/// fails leaves the suite's items as they were (the CUR is "unheard", logged) and the other
/// sources still run.
pub async fn handle(
    state: &dyn StateStore,
    bus: &dyn NotificationBus,
    cfg: &PipelineConfig,
    settings: &RecommendSettings,
    cur: Option<&ExportLines>,
    external: &[External<'_>],
    event: serde_json::Value,
) -> Result<RecommendSummary> {
    let now = scheduled_time(event)?;
    let to = now.date_naive() - Days::new(1);
    let mut failed = None;
    let lines: Vec<UsageLine> = match cur {
        Some(cur) => match cur.lines(&Scope::Org, to - Days::new(KEEP_DAYS), to).await {
            Ok(lines) => lines,
            Err(error) => {
                tracing::warn!(%error, "the CUR query failed; the suite's items stay as they were");
                failed = Some(format!("CUR query failed: {error}"));
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let budget = RequestBudget::new(settings.max_requests);
    let mut out = run(state, bus, &cfg.recommend, &lines, external, &budget, now).await?;
    if let Some(why) = failed {
        out.unheard.insert("cur".to_owned(), why);
    }
    let purpose = "the recommendation rules' usage lines";
    let cur_queries = bill_queries(cur, state, purpose, &[], now).await?;
    Ok(RecommendSummary {
        as_of: out.as_of,
        cur_queries,
        usage_lines: lines.len(),
        listed: out.list.items.len(),
        total_monthly_savings: out.list.total_monthly_savings,
        published: out.published.into_iter().map(|n| n.id).collect(),
        unheard: out.unheard,
        requests: out.requests,
        saved_so_far: out.saved_so_far,
    })
}
