//! Scenario 2, the "$500/month saving": the organisation's resource-level usage (the CUR lines a
//! recommendation rests on) with one idle resource — a 4,200 GiB gp2 volume in eu-central-1,
//! where the account runs no instance, billed $16.4271 a day (≈ $500/month) — through the weekly
//! recommend run (`costwatch_pipeline::recommend`): it opens one recommendation; a week later
//! the volume is gone and the run resolves it; a week after that the realised saving is measured
//! and the weekly report says "saved so far".

use std::collections::BTreeMap;

use anyhow::{Result, ensure};
use chrono::{Days, NaiveDate};
use costwatch_core::notification::ReportPeriod;
use costwatch_core::{Notification, UsageLine};
use costwatch_pipeline::recommend::{self, RecommendConfig, RecommendRun};
use costwatch_pipeline::run::report_day;
use costwatch_pipeline::{PipelineConfig, standing};
use costwatch_store::{MemoryStore, RequestBudget};

use crate::{Dispatchers, at, end, organisation, ports};

/// The idle volume.
pub const VOLUME: &str = "vol-0a500d011a7e0000";
/// Its account (the synthetic organisation's data-platform account).
pub const ACCOUNT: &str = "444455556666";
/// What it is billed a day: 4,200 GiB × $0.119 / 30.4375.
pub const VOLUME_DAILY: &str = "16.4271";

fn line(
    day: NaiveDate,
    region: &str,
    usage_type: &str,
    resource: &str,
    cost: &str,
    amount: &str,
) -> UsageLine {
    UsageLine {
        day,
        account: ACCOUNT.into(),
        account_name: Some("data-platform".into()),
        product_code: "AmazonEC2".into(),
        region: Some(region.into()),
        usage_type: usage_type.into(),
        operation: Some("RunInstances".into()),
        resource_id: Some(resource.into()),
        line_item_type: "Usage".into(),
        cost: cost.parse().unwrap_or_default(),
        usage_amount: amount.parse().unwrap_or_default(),
        tags: BTreeMap::from([("team".into(), "data".into())]),
        lines: 24,
    }
}

/// The account's usage lines on `first..=last`: an m6i.xlarge and its 100 GiB gp3 volume in
/// us-east-1 every day, and the idle gp2 volume in eu-central-1 on the days up to
/// `volume_until`.
pub fn usage(first: NaiveDate, last: NaiveDate, volume_until: NaiveDate) -> Vec<UsageLine> {
    let mut out = Vec::new();
    for day in first.iter_days().take_while(|d| *d <= last) {
        out.push(line(
            day,
            "us-east-1",
            "BoxUsage:m6i.xlarge",
            "i-0abc123def4567890",
            "4.608",
            "24",
        ));
        let mut attached = line(
            day,
            "us-east-1",
            "EBS:VolumeUsage.gp3",
            "vol-0b100d011a7e0001",
            "0.2628",
            "3.2854",
        );
        attached.operation = Some("CreateVolume-Gp3".into());
        out.push(attached);
        if day <= volume_until {
            let mut idle = line(
                day,
                "eu-central-1",
                "EUC1-EBS:VolumeUsage.gp2",
                VOLUME,
                VOLUME_DAILY,
                // 4,200 GiB: 4200 / 30.4375 GB-months a day.
                "137.9877",
            );
            idle.operation = Some("CreateVolume-Gp2".into());
            out.push(idle);
        }
    }
    out
}

/// The three weekly runs and the weekly report after the third.
pub struct Saving {
    /// Week 1 (to [`end`]): the recommendation opens.
    pub opened: RecommendRun,
    /// Week 2: the volume was deleted on the first day of the week; the recommendation resolves.
    pub resolved: RecommendRun,
    /// Week 3: a full week without the volume; the realised saving is measured.
    pub measured: RecommendRun,
    /// The weekly report of week 3, with its "saved so far".
    pub report: Notification,
}

impl Saving {
    /// Every envelope delivered, in order.
    pub fn envelopes(&self) -> Vec<Notification> {
        let runs = [&self.opened, &self.resolved, &self.measured];
        let mut all: Vec<Notification> = runs.iter().flat_map(|r| r.published.clone()).collect();
        all.push(self.report.clone());
        all
    }
}

/// Week 1's run, delivered; returns it with the store the later weeks continue on.
pub async fn open(d: &mut Dispatchers<'_>) -> Result<(RecommendRun, MemoryStore, PipelineConfig)> {
    let (_, store, cfg) = organisation(14, |_| PipelineConfig::default()).await?;
    let first = end() - Days::new(27);
    let run = weekly(&store, &cfg.recommend, &usage(first, end(), end()), end()).await?;
    ensure!(
        run.published.len() == 1,
        "week 1 should open one recommendation, published {:?}",
        run.published
    );
    d.deliver(&run.published).await?;
    Ok((run, store, cfg))
}

/// Weeks 2 and 3 on the store of [`open`], delivered, and the weekly report of week 3.
pub async fn implement(
    d: &mut Dispatchers<'_>,
    opened: RecommendRun,
    store: &MemoryStore,
    cfg: &PipelineConfig,
) -> Result<Saving> {
    let first = end() - Days::new(27);
    let (week2, week3) = (end() + Days::new(7), end() + Days::new(14));
    let resolved = weekly(store, &cfg.recommend, &usage(first, week2, end()), week2).await?;
    d.deliver(&resolved.published).await?;
    let measured = weekly(store, &cfg.recommend, &usage(first, week3, end()), week3).await?;
    d.deliver(&measured.published).await?;
    let ports = ports(store);
    let run = standing(&store.rollups, cfg, week3).await?;
    let (report, _page) = report_day(&ports, cfg, &run, ReportPeriod::Weekly, at(week3)).await?;
    d.deliver(std::slice::from_ref(&report)).await?;
    Ok(Saving {
        opened,
        resolved,
        measured,
        report,
    })
}

/// The whole scenario: [`open`], then [`implement`].
pub async fn scenario_2(d: &mut Dispatchers<'_>) -> Result<Saving> {
    let (opened, store, cfg) = open(d).await?;
    implement(d, opened, &store, &cfg).await
}

/// One weekly run on `lines` (no other source: the organisation has none enabled).
async fn weekly(
    store: &MemoryStore,
    cfg: &RecommendConfig,
    lines: &[UsageLine],
    day: NaiveDate,
) -> Result<RecommendRun> {
    let budget = RequestBudget::new(0);
    Ok(recommend::run(&store.state, &store.bus, cfg, lines, &[], &budget, at(day)).await?)
}
