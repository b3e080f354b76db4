//! `costwatch`: the whole pipeline on one machine, on the embedded local store.

mod anomaly;
mod bench;
#[cfg(feature = "invoke")]
mod coldstart;
mod config;
#[cfg(feature = "aws")]
mod credentials;
#[cfg(feature = "data-exports")]
mod cur_bench;
mod data_export;
mod demo;
#[cfg(feature = "aws")]
mod deploy_config;
#[cfg(feature = "aws")]
mod deployed;
#[cfg(feature = "aws")]
mod dlq;
#[cfg(feature = "aws")]
mod doctor;
mod forecast;
mod import;
mod init;
#[cfg(feature = "integrations")]
mod integrations;
#[cfg(feature = "invoke")]
mod invoke;
mod needs;
#[cfg(feature = "integrations")]
mod notify;
mod output;
mod recommend;
#[cfg(any(feature = "invoke", feature = "data-exports"))]
mod rss;
mod run;
#[cfg(feature = "invoke")]
mod scale;
mod serve;
#[cfg(feature = "aws")]
mod stack_metrics;
#[cfg(feature = "aws")]
mod watch_metrics;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
// A lean build (--no-default-features, `make demo`) keeps the commands it leaves out; they say
// which build they need (needs.rs).
#[cfg(feature = "aws")]
use deploy_config::ConfigArgs;
#[cfg(feature = "aws")]
use dlq::DlqArgs;
#[cfg(feature = "aws")]
use doctor::DoctorArgs;
#[cfg(feature = "invoke")]
use invoke::InvokeArgs;
#[cfg(not(feature = "invoke"))]
use needs::LeftOut as InvokeArgs;
#[cfg(not(feature = "integrations"))]
use needs::{LeftOut as NotifyArgs, LeftOut as RenderArgs};
#[cfg(not(feature = "aws"))]
use needs::{LeftOut as ConfigArgs, LeftOut as DlqArgs, LeftOut as DoctorArgs};
#[cfg(feature = "integrations")]
use notify::{NotifyArgs, RenderArgs};

#[derive(Parser)]
#[command(
    name = "costwatch",
    version,
    about = "Watch AWS spend: anomalies, forecasts, budgets, reports"
)]
struct Cli {
    /// Configuration file (TOML). Default: ./costwatch.toml when it exists.
    #[arg(long, global = true, env = "COSTWATCH_CONFIG")]
    config: Option<PathBuf>,
    /// Local data directory (lake, rollups, state).
    #[arg(long, global = true, env = "COSTWATCH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Print a machine-readable JSON summary on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a synthetic organisation and run the whole pipeline on it, offline.
    Demo(demo::DemoArgs),
    /// Import a cost file (CUR Parquet/CSV, FOCUS CSV or Cost Explorer JSON) into the local store.
    Import(import::ImportArgs),
    /// Run detection, forecasts, budgets and the report on the local store.
    Run(run::RunArgs),
    /// Forecast a daily series from a CSV file (`ds,y` or `timestamp,value`).
    Forecast(forecast::ForecastArgs),
    /// Savings found in CUR files (idle resources, previous generations, gp2 → gp3, growth,
    /// untagged spend): one ranked list with evidence, formula and action per item.
    Recommend(recommend::RecommendArgs),
    /// Feedback on anomalies and snoozes: `anomaly list | feedback ID expected|not-anomaly |
    /// snooze ID --until DATE`.
    Anomaly(anomaly::AnomalyArgs),
    /// Benchmarks: `bench nab --data DIR --out DIR` (the stream detector on real data), `bench
    /// coldstart --bin-dir DIR` (the Lambdas' cold starts).
    Bench(bench::BenchArgs),
    /// The REST API and the dashboard on the local store (loopback unless given a token):
    /// `serve [--listen ADDR] [--token-secret NAME] [--demo DIR]`.
    Serve(serve::ServeArgs),
    /// Print, without sending, the exact requests an envelope becomes for an integration
    /// (JSON array of {method, url, headers, body}; secrets redacted).
    Render(RenderArgs),
    /// Send an envelope through an integration (`--endpoint` redirects to a local server).
    Notify(NotifyArgs),
    /// Invoke one Lambda's built binary under a local Runtime API (the Docker-free `sam local
    /// invoke`), on moto or with `--aws` on your account: `invoke collect --event FILE`.
    Invoke(InvokeArgs),
    /// Write a commented costwatch.toml: every option with its default (never overwrites).
    Init(init::InitArgs),
    /// Check what a first deploy needs (config, AWS credentials and region, Cost Explorer, the
    /// deployed stack and its outputs, integration secrets) and say what to fix; `--send-test`
    /// also sends the test envelope.
    Doctor(DoctorArgs),
    /// The deployed stack's dead-letter queues: `dlq redrive [--queue URL | --integration NAME]
    /// [--dry-run] [--max N]` shows each message with its reason and sends it back to its source.
    Dlq(DlqArgs),
    /// The deployed stack's pipeline settings in its lake (PipelineConfigKey): `config push
    /// [--dry-run]` writes costwatch.toml's [pipeline], budgets included, where the functions
    /// read it within a minute, after showing what changes; `config show` prints what runs.
    Config(ConfigArgs),
}

/// The log filter unless `COSTWATCH_LOG` sets one. The AWS SDK's config loader warns, with a
/// debug dump of each error, for every source it probes and does not find (instance metadata on
/// a laptop, three times over): `doctor` printed three walls of text above its checklist, which
/// says what is missing in one line. Its errors still show.
const DEFAULT_LOG: &str = "warn,aws_config=error";

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COSTWATCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG)),
        )
        .with_writer(std::io::stderr)
        .init();
    // Needs no store or configuration: a file in, a file out.
    let command = match cli.command {
        Command::Forecast(args) => return exit(forecast::forecast(args, cli.json)),
        Command::Recommend(args) if !args.track() => {
            return exit(recommend::recommend(args, cli.json));
        }
        // Writes the config file, so it must not need one.
        Command::Init(args) => return exit(init::init(args, cli.json)),
        command => command,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        // Integrations read only their own tables of the config file.
        match command {
            #[cfg(feature = "integrations")]
            Command::Render(args) => return notify::render(args, cli.config.as_deref()).await,
            #[cfg(feature = "integrations")]
            Command::Notify(args) => {
                return notify::notify(args, cli.config.as_deref(), cli.json).await;
            }
            #[cfg(feature = "invoke")]
            Command::Invoke(args) => {
                return invoke::invoke(args, cli.config.as_deref(), cli.json).await;
            }
            #[cfg(not(feature = "invoke"))]
            Command::Invoke(_) => return Err(needs::needs("invoke", "invoke")),
            // Reports a config it cannot load as a failed check instead of stopping.
            #[cfg(feature = "aws")]
            Command::Doctor(args) => {
                return doctor::doctor(args, cli.config.as_deref(), cli.data_dir.clone(), cli.json)
                    .await;
            }
            #[cfg(feature = "aws")]
            Command::Dlq(args) => return dlq::dlq(args, cli.json).await,
            #[cfg(not(feature = "integrations"))]
            Command::Render(_) => return Err(needs::needs("integrations", "render")),
            #[cfg(not(feature = "integrations"))]
            Command::Notify(_) => return Err(needs::needs("integrations", "notify")),
            #[cfg(not(feature = "aws"))]
            Command::Doctor(_) => return Err(needs::needs("aws", "doctor")),
            #[cfg(not(feature = "aws"))]
            Command::Dlq(_) => return Err(needs::needs("aws", "dlq")),
            #[cfg(not(feature = "aws"))]
            Command::Config(_) => return Err(needs::needs("aws", "config")),
            _ => {}
        }
        let settings = config::Settings::load(cli.config.as_deref(), cli.data_dir.clone())?;
        match command {
            Command::Demo(args) => demo::demo(args, &settings, cli.json).await,
            Command::Invoke(_) => unreachable!("handled above"),
            Command::Import(args) => import::import(args, &settings, cli.json).await,
            Command::Run(args) => run::run(args, &settings, cli.json).await,
            Command::Recommend(args) => recommend::track(args, &settings, cli.json).await,
            Command::Forecast(_) | Command::Init(_) => {
                unreachable!("handled before the runtime starts")
            }
            Command::Anomaly(args) => anomaly::anomaly(args, &settings, cli.json).await,
            Command::Serve(args) => serve::serve(args, &settings, cli.config.as_deref()).await,
            Command::Bench(args) => bench::bench(args, &settings, cli.json).await,
            #[cfg(feature = "aws")]
            Command::Config(args) => {
                deploy_config::config(args, &settings, cli.config.as_deref(), cli.json).await
            }
            #[cfg(not(feature = "aws"))]
            Command::Config(_) => unreachable!("handled above"),
            Command::Render(_) | Command::Notify(_) | Command::Doctor(_) | Command::Dlq(_) => {
                unreachable!("handled above")
            }
        }
    });
    exit(result)
}

fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each once. Many errors (the ingest readers', the SDK's) already
/// write their cause into their own message, and anyhow's `{:#}` adds it again: a mistyped
/// path read "No such file or directory (os error 2): No such file or directory (os error 2)".
fn error_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
