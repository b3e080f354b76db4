//! recommend: the weekly EventBridge schedule → the CUR files a Data Export delivers into the
//! lake (`COSTWATCH_CUR_PREFIX`), read as per-resource usage lines for the suite's rules; Cost
//! Optimization Hub and Cost Explorer's recommendations when turned on; one list; each item's
//! lifecycle and realised saving (`costwatch_pipeline::recommend`), its envelopes on the
//! notifications topic.

use std::io::Write;

use chrono::{Days, NaiveDate};
use costwatch_core::{Money, UsageLine};
use costwatch_pipeline::PipelineConfig;
use costwatch_pipeline::recommend::{External, run};
use costwatch_store::{LakeReader, NotificationBus, RequestBudget, StateStore};
use serde::Serialize;

use crate::env::Env;
use crate::error::{HandlerError, Result};
use crate::events::scheduled_time;

/// Key prefix in the lake bucket where the Data Export (CUR 2.0, Parquet or CSV) is delivered;
/// unset: no CUR, so no suite rules (template parameter `CurPrefix`).
pub const CUR_PREFIX: &str = "COSTWATCH_CUR_PREFIX";
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
/// Days of usage kept before the last one: the rules' longest window (30) and the realised
/// window after it, with room.
const KEEP_DAYS: u64 = 62;

#[derive(Debug, Clone, PartialEq)]
pub struct RecommendSettings {
    pub cur_prefix: Option<String>,
    pub optimization_hub: bool,
    pub cost_explorer: bool,
    pub max_requests: u32,
}

pub fn settings(env: &Env) -> Result<RecommendSettings> {
    let on = |name: &str| env.optional(name) == Some("true");
    Ok(RecommendSettings {
        cur_prefix: env
            .optional(CUR_PREFIX)
            .map(|p| p.trim_matches('/'))
            .filter(|p| !p.is_empty())
            .map(|p| format!("{p}/")),
        optimization_hub: on(OPTIMIZATION_HUB),
        cost_explorer: on(COST_EXPLORER),
        max_requests: env.number(MAX_REQUESTS, DEFAULT_MAX_REQUESTS)?,
    })
}

#[derive(Debug, Serialize)]
pub struct RecommendSummary {
    pub as_of: NaiveDate,
    pub cur_files: usize,
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
pub async fn handle(
    lake: &dyn LakeReader,
    state: &dyn StateStore,
    bus: &dyn NotificationBus,
    cfg: &PipelineConfig,
    settings: &RecommendSettings,
    external: &[External<'_>],
    event: serde_json::Value,
) -> Result<RecommendSummary> {
    let now = scheduled_time(event)?;
    let (cur_files, lines) = match &settings.cur_prefix {
        Some(prefix) => usage_under(lake, prefix).await?,
        None => (0, Vec::new()),
    };
    let budget = RequestBudget::new(settings.max_requests);
    let out = run(state, bus, &cfg.recommend, &lines, external, &budget, now).await?;
    Ok(RecommendSummary {
        as_of: out.as_of,
        cur_files,
        usage_lines: lines.len(),
        listed: out.list.items.len(),
        total_monthly_savings: out.list.total_monthly_savings,
        published: out.published.into_iter().map(|n| n.id).collect(),
        unheard: out.unheard,
        requests: out.requests,
        saved_so_far: out.saved_so_far,
    })
}

/// The CUR files under `prefix` (Parquet, CSV, gzipped CSV; the export's manifests skipped) as
/// usage lines, the last [`KEEP_DAYS`] days of them. Each file goes through /tmp, where the
/// Parquet reader can seek. A Data Export must overwrite its files (not add a version per
/// delivery), or a month would be counted once per version.
pub async fn usage_under(lake: &dyn LakeReader, prefix: &str) -> Result<(usize, Vec<UsageLine>)> {
    let mut lines = Vec::new();
    let mut files = 0;
    for key in lake.list(prefix).await? {
        let Some(suffix) = [".parquet", ".csv.gz", ".csv"]
            .into_iter()
            .find(|s| key.ends_with(s))
        else {
            continue;
        };
        let Some(bytes) = lake.get(&key).await? else {
            continue;
        };
        let malformed = |e: &dyn std::fmt::Display| HandlerError::Malformed(format!("{key}: {e}"));
        let mut file = tempfile::Builder::new()
            .suffix(suffix)
            .tempfile()
            .map_err(|e| HandlerError::Config(format!("no room in /tmp for {key}: {e}")))?;
        file.write_all(&bytes)
            .map_err(|e| HandlerError::Config(format!("writing {key} to /tmp: {e}")))?;
        let read = costwatch_ingest::cur::read_usage(file.path()).map_err(|e| malformed(&e))?;
        lines.extend(read);
        files += 1;
    }
    if let Some(last) = lines.iter().map(|l| l.day).max() {
        let from = last - Days::new(KEEP_DAYS);
        lines.retain(|l| l.day >= from);
    }
    Ok((files, lines))
}
