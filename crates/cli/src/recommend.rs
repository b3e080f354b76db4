//! `costwatch recommend --cur FILE… [--min-savings USD] [--min-pct P] [--track]`: the suite's
//! own recommendation rules over CUR files (Parquet or CSV), as one ranked, de-duplicated list
//! with each item's saving, formula, evidence rows and action — the same rules and list the
//! `recommend` Lambda runs (see docs/recommendations.md). Without `--track`: no store, no AWS,
//! files in, list out (`--json` prints the list as JSON). With `--track`: the weekly run itself
//! (`costwatch_pipeline::recommend`) on the data directory — each item's lifecycle and realised
//! saving kept there (what `costwatch serve` shows), its envelopes written to `--out`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use costwatch_analytics::recommend::list::{self, Threshold, Thresholds};
use costwatch_analytics::recommend::{Settings as RuleSettings, suite_findings};
use costwatch_core::money::display;
use costwatch_core::{Money, UsageLine};
use costwatch_store::local::LocalBus;
use costwatch_store::{LocalStore, RequestBudget};

use crate::config::Settings;

#[derive(Args)]
pub struct RecommendArgs {
    /// CUR files (Parquet or CSV, Athena or classic headers); several months are read together.
    #[arg(long, required = true, num_args = 1..)]
    cur: Vec<PathBuf>,
    /// Smallest monthly saving listed, in USD [default: 10, or the config's
    /// `recommend.thresholds.default` with `--track`].
    #[arg(long)]
    min_savings: Option<Money>,
    /// Smallest saving listed as a percent of the resource's current monthly cost [default: 5,
    /// or the config's with `--track`].
    #[arg(long)]
    min_pct: Option<f64>,
    /// Run the weekly lifecycle on the data directory: open, update and resolve each item once,
    /// measure realised savings, write the envelopes under `--out`/notifications.
    #[arg(long)]
    track: bool,
    /// Where `--track` writes its envelopes.
    #[arg(long, default_value = "out", requires = "track")]
    out: PathBuf,
}

impl RecommendArgs {
    pub fn track(&self) -> bool {
        self.track
    }

    /// The default threshold from the flags, the rest (per account, per service) from `base`.
    fn thresholds(&self, base: Thresholds) -> Result<Thresholds> {
        let default = Threshold {
            min_monthly_savings: self.min_savings.unwrap_or(base.default.min_monthly_savings),
            min_savings_pct: self.min_pct.unwrap_or(base.default.min_savings_pct),
        };
        if default.min_monthly_savings < Money::ZERO || default.min_savings_pct < 0.0 {
            bail!("--min-savings and --min-pct must not be negative");
        }
        Ok(Thresholds { default, ..base })
    }

    fn usage_lines(&self) -> Result<Vec<UsageLine>> {
        let mut lines = Vec::new();
        for path in &self.cur {
            let read = costwatch_ingest::cur::read_usage(path)
                .with_context(|| format!("reading {}", path.display()))?;
            lines.extend(read);
        }
        Ok(lines)
    }
}

/// `--track`: one weekly run on the data directory's state.
pub async fn track(args: RecommendArgs, settings: &Settings, json: bool) -> Result<()> {
    let lines = args.usage_lines()?;
    let mut cfg = settings.pipeline.recommend.clone();
    cfg.thresholds = args.thresholds(cfg.thresholds)?;
    let store = LocalStore::open(&settings.data_dir)
        .with_context(|| format!("opening data directory {}", settings.data_dir.display()))?;
    let notifications = args.out.join("notifications");
    let bus = LocalBus::new(&notifications);
    let budget = RequestBudget::new(0);
    let run = costwatch_pipeline::recommend::run(
        &store.state,
        &bus,
        &cfg,
        &lines,
        &[],
        &budget,
        chrono::Utc::now(),
    )
    .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&run)?);
        return Ok(());
    }
    println!(
        "{} recommendation{} listed on {} ({} a month); {} envelope{} in {}; saved so far {} a month.",
        run.list.items.len(),
        plural(run.list.items.len()),
        run.as_of,
        display(run.list.total_monthly_savings, "USD"),
        run.published.len(),
        plural(run.published.len()),
        notifications.display(),
        display(run.saved_so_far, "USD"),
    );
    for n in &run.published {
        println!("  {} {}: {}", n.state.as_str(), n.subject_id, n.title);
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub fn recommend(args: RecommendArgs, json: bool) -> Result<()> {
    let thresholds = args.thresholds(Thresholds::default())?;
    let lines = args.usage_lines()?;
    let findings = suite_findings(&lines, &RuleSettings::default());
    let found = findings.len();
    let list = list::build(findings, &thresholds);
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    println!(
        "{} recommendation{}, {} a month in total ({found} findings, {} under the threshold of {} and {}%).",
        list.items.len(),
        plural(list.items.len()),
        display(list.total_monthly_savings, "USD"),
        list.below_threshold,
        display(thresholds.default.min_monthly_savings, "USD"),
        thresholds.default.min_savings_pct
    );
    for item in &list.items {
        let f = &item.finding;
        println!(
            "\n{}  {}  saves {}/month\n  {}\n  formula: {}\n  do: {}\n      {}\n      {}",
            item.id,
            f.account,
            display(f.monthly_savings, "USD"),
            f.title,
            f.formula,
            f.action.summary,
            f.action.cli,
            f.action.console_url
        );
        for e in &f.evidence {
            println!(
                "  evidence: {} {} {} {}..{}: {} units, {} ({} CUR rows)",
                e.resource_id.as_deref().unwrap_or("-"),
                e.usage_type,
                e.line_item_type,
                e.first_day,
                e.last_day,
                e.usage_amount,
                display(e.cost, "USD"),
                e.lines
            );
        }
    }
    for f in &list.untagged {
        println!("\n{}\n  formula: {}", f.title, f.formula);
    }
    Ok(())
}
