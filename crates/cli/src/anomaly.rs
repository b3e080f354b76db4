//! `costwatch anomaly …`: what people say about an anomaly, written to the state store with the
//! same functions a REST API will call (`costwatch_pipeline::feedback`). The next detection run
//! acts on it.

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand, ValueEnum};
use costwatch_pipeline::detect::active;
use costwatch_pipeline::feedback::{Verdict, give_feedback, snooze};
use costwatch_store::LocalStore;

use crate::config::Settings;

#[derive(Args)]
pub struct AnomalyArgs {
    #[command(subcommand)]
    command: AnomalyCommand,
}

#[derive(Subcommand)]
enum AnomalyCommand {
    /// List open and ongoing anomalies with their ids.
    List,
    /// Say an anomaly was expected or is not an anomaly: it closes at the next run, and the same
    /// pattern (same scope and direction, up to twice the impact) stays quiet for 180 days.
    Feedback {
        /// The anomaly's id (`subject_id` in its notifications, `an_…`).
        subject_id: String,
        verdict: VerdictArg,
    },
    /// Keep an anomaly's scope quiet through a day (inclusive); it alerts again afterwards.
    Snooze {
        subject_id: String,
        #[arg(long)]
        until: NaiveDate,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum VerdictArg {
    Expected,
    NotAnomaly,
}

pub async fn anomaly(args: AnomalyArgs, settings: &Settings, json: bool) -> Result<()> {
    let store = LocalStore::open(&settings.data_dir)
        .with_context(|| format!("opening {}", settings.data_dir.display()))?;
    let now = Utc::now();
    match args.command {
        AnomalyCommand::List => {
            let open = active(&store.state).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&open)?);
            }
            for a in open.iter().filter(|_| !json) {
                println!(
                    "{}  {:?}  {}  since {}  impact {}",
                    a.subject_id,
                    a.state,
                    a.anomaly.scope.label(),
                    a.anomaly.start_date,
                    a.anomaly.impact
                );
            }
        }
        AnomalyCommand::Feedback {
            subject_id,
            verdict,
        } => {
            let verdict = match verdict {
                VerdictArg::Expected => Verdict::Expected,
                VerdictArg::NotAnomaly => Verdict::NotAnomaly,
            };
            let f = give_feedback(&store.state, &subject_id, verdict, now).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&f)?);
            } else {
                println!(
                    "{subject_id}: recorded {verdict:?} on {}; it closes at the next run",
                    f.scope.label()
                );
            }
        }
        AnomalyCommand::Snooze { subject_id, until } => {
            let s = snooze(&store.state, &subject_id, until, now.date_naive()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!("{subject_id}: {} snoozed through {until}", s.scope.label());
            }
        }
    }
    Ok(())
}
