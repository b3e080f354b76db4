//! `costwatch anomaly …`: what people say about an anomaly, through the same function the REST
//! API, the dashboard and the chat buttons call (`costwatch_pipeline::actions::apply`): recorded
//! once in the data directory's state and announced once as an envelope beside the data
//! (`<data_dir>/notifications`, where `costwatch serve` puts its own), so every integration hears
//! of it, not only the next detection run.

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand, ValueEnum};
use costwatch_core::envelopes::DEFAULT_CURRENCY as CURRENCY;
use costwatch_core::money::display_signed;
use costwatch_pipeline::actions::{Action, ActionPorts, apply, what_happened};
use costwatch_pipeline::detect::{AnomalyState, active};
use costwatch_pipeline::feedback::Verdict;
use costwatch_store::LocalStore;
use costwatch_store::local::LocalBus;
use serde_json::json;

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
    /// Acknowledge an anomaly (or a budget alert, `bu_…`): someone is on it.
    Ack { subject_id: String },
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
    match args.command {
        AnomalyCommand::List => {
            let open = active(&store.state).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&open)?);
            }
            if !json {
                print_list(&open, &settings.data_dir);
            }
        }
        AnomalyCommand::Ack { subject_id } => {
            act(
                &store,
                &settings.data_dir,
                &subject_id,
                Action::Acknowledge,
                json,
            )
            .await?;
        }
        AnomalyCommand::Feedback {
            subject_id,
            verdict,
        } => {
            let verdict = match verdict {
                VerdictArg::Expected => Verdict::Expected,
                VerdictArg::NotAnomaly => Verdict::NotAnomaly,
            };
            let action = Action::Feedback(verdict);
            act(&store, &settings.data_dir, &subject_id, action, json).await?;
        }
        AnomalyCommand::Snooze { subject_id, until } => {
            let action = Action::Snooze(until);
            act(&store, &settings.data_dir, &subject_id, action, json).await?;
        }
    }
    Ok(())
}

/// One action, recorded and announced; says what changed.
async fn act(
    store: &LocalStore,
    data_dir: &std::path::Path,
    subject_id: &str,
    action: Action,
    json: bool,
) -> Result<()> {
    let notifications = data_dir.join("notifications");
    let bus = LocalBus::new(&notifications);
    let ports = ActionPorts {
        state: &store.state,
        bus: &bus,
        aws: None,
    };
    let by = Some("the costwatch CLI".to_owned());
    let applied = apply(&ports, subject_id, &action, by, Utc::now()).await?;
    if json {
        let out = json!({
            "subject_id": subject_id,
            "recorded": what_happened(&action, None),
            "announced": applied.announced,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let recorded = what_happened(&action, None);
    match applied.announced {
        Some(n) => println!(
            "{subject_id}: {recorded} Announced as {} ({}) in {}.",
            n.id,
            n.state.as_str(),
            notifications.display()
        ),
        None => println!(
            "{subject_id}: {recorded} Nothing to announce (already in that state, or never announced)."
        ),
    }
    Ok(())
}

/// One line per anomaly, as its alert words it (`+$370.85`), or a line saying there are none:
/// an empty answer read as a command that did nothing.
fn print_list(open: &[AnomalyState], data_dir: &std::path::Path) {
    if open.is_empty() {
        println!(
            "no open, ongoing or acknowledged anomalies in {}",
            data_dir.display()
        );
    }
    for a in open {
        println!(
            "{}  {}  {}  since {}  impact {}",
            a.subject_id,
            a.state.as_str(),
            a.anomaly.scope.label(),
            a.anomaly.start_date,
            display_signed(a.anomaly.impact, CURRENCY)
        );
    }
}
