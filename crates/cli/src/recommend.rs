//! `costwatch recommend --cur FILE… [--min-savings USD] [--min-pct P]`: the suite's own
//! recommendation rules over CUR files (Parquet or CSV), as one ranked, de-duplicated list with
//! each item's saving, formula, evidence rows and action — the same rules and list the
//! `recommend` Lambda will run (see docs/recommendations.md). No store, no AWS: files in, list
//! out (`--json` prints the list as JSON).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use costwatch_analytics::recommend::list::{self, Threshold, Thresholds};
use costwatch_analytics::recommend::{Settings, suite_findings};
use costwatch_core::Money;
use costwatch_core::money::display;

#[derive(Args)]
pub struct RecommendArgs {
    /// CUR files (Parquet or CSV, Athena or classic headers); several months are read together.
    #[arg(long, required = true, num_args = 1..)]
    cur: Vec<PathBuf>,
    /// Smallest monthly saving listed, in USD.
    #[arg(long, default_value = "10")]
    min_savings: Money,
    /// Smallest saving listed as a percent of the resource's current monthly cost.
    #[arg(long, default_value_t = 5.0)]
    min_pct: f64,
}

pub fn recommend(args: RecommendArgs, json: bool) -> Result<()> {
    if args.min_savings < Money::ZERO || args.min_pct < 0.0 {
        bail!("--min-savings and --min-pct must not be negative");
    }
    let mut lines = Vec::new();
    for path in &args.cur {
        let read = costwatch_ingest::cur::read_usage(path)
            .with_context(|| format!("reading {}", path.display()))?;
        lines.extend(read);
    }
    let findings = suite_findings(&lines, &Settings::default());
    let thresholds = Thresholds {
        default: Threshold {
            min_monthly_savings: args.min_savings,
            min_savings_pct: args.min_pct,
        },
        ..Thresholds::default()
    };
    let found = findings.len();
    let list = list::build(findings, &thresholds);
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    let plural = if list.items.len() == 1 { "" } else { "s" };
    println!(
        "{} recommendation{plural}, {} a month in total ({found} findings, {} under the threshold of {} and {}%).",
        list.items.len(),
        display(list.total_monthly_savings, "USD"),
        list.below_threshold,
        display(args.min_savings, "USD"),
        args.min_pct
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
