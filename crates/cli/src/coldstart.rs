//! `costwatch bench coldstart --bin-dir DIR [--runs N]`: each Lambda binary's cold start under
//! the local Runtime API, beside a hello-world `lambda_runtime` binary (`hello-lambda`, the same
//! release profile), in one run. Per binary: its size, the time from exec to its first
//! `GET /runtime/invocation/next` (its init done: configuration, SDK clients, secrets read) and
//! its peak resident memory by then (`VmHWM` of /proc/<pid>/status, Linux only), each as the
//! median of N starts and as a ratio to hello-world's. A function builds its clients beside the
//! runtime loop (`costwatch_lambda::ready`), so `/next` comes before they are built; the time to
//! the answer to a first event (`{"Records":[]}`, queued before the start: an empty SQS batch
//! for a dispatcher; a pipeline function dead-letters it as malformed) is measured too — what a
//! cold start's first event waits for the clients (and a dispatcher's secret) — and the peak
//! RSS is read after that answer, so it includes them. The functions get the environment
//! `costwatch invoke` gives them, on one moto started for the run, so a dispatcher reads its
//! secret from Secrets Manager as it does on AWS.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use costwatch_local::moto::MotoServer;
use costwatch_local::runtime_api::RuntimeApi;
use serde_json::json;

use crate::integrations;
use crate::invoke::{PIPELINE, function, moto_program, on_moto};

/// The baseline binary (crates/hello-lambda).
const HELLO: &str = "hello-lambda";
/// A start that has not reached `/next` by then has failed, not been slow.
const INIT_LIMIT: Duration = Duration::from_secs(30);

#[derive(Args)]
pub struct ColdstartArgs {
    /// Where the release binaries are (`$CARGO_TARGET_DIR/release`).
    #[arg(long)]
    bin_dir: PathBuf,
    /// Cold starts per binary; the figures are medians.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Only these functions (collect, slack, …); default every pipeline function and dispatcher.
    #[arg(long = "only")]
    only: Vec<String>,
}

/// One binary's figures.
struct Figures {
    name: String,
    size_bytes: u64,
    init: Duration,
    init_p90: Duration,
    /// Exec to the answer to the first event.
    first_answer: Duration,
    peak_rss_kib: u64,
}

/// The first event: no message in it, so its answer times what the start built.
const FIRST_EVENT: &str = r#"{"Records":[]}"#;

pub async fn coldstart(args: ColdstartArgs, json_out: bool) -> Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let mut names: Vec<String> = PIPELINE.iter().map(|s| (*s).to_owned()).collect();
    names.extend(integrations::all().iter().map(|e| e.name().to_owned()));
    if !args.only.is_empty() {
        names.retain(|n| args.only.contains(n));
    }
    let moto = MotoServer::start(&moto_program()).map_err(|e| anyhow!(e))?;
    let mut plans = vec![(HELLO.to_owned(), args.bin_dir.join(HELLO), Vec::new())];
    for name in &names {
        let f = function(name)?;
        let env = on_moto(&moto.url(), &f, None).await?;
        let env: Vec<(String, String)> = env
            .into_iter()
            .map(|(k, v)| {
                if k == "RUST_LOG" {
                    (k, "warn".to_owned())
                } else {
                    (k, v)
                }
            })
            .collect();
        plans.push((name.clone(), args.bin_dir.join(&f.binary), env));
    }
    for (_, binary, _) in &plans {
        if !binary.is_file() {
            bail!(
                "no binary at {} (build the Lambdas and hello-lambda with the release profile: `make bench-coldstart`)",
                binary.display()
            );
        }
    }
    let runs = args.runs;
    let figures = tokio::task::spawn_blocking(move || {
        // Round by round, each binary once a round, so a busy spell of the machine (moto
        // starting, another build) falls on every binary alike, not on one.
        let mut samples: Vec<Samples> = plans.iter().map(|_| Samples::default()).collect();
        for _ in 0..runs {
            for ((name, binary, env), samples) in plans.iter().zip(&mut samples) {
                samples.push(start_once(name, binary, env)?);
            }
        }
        plans
            .iter()
            .zip(samples)
            .map(|((name, binary, _), samples)| samples.figures(name, binary))
            .collect::<Result<Vec<Figures>>>()
    })
    .await
    .context("measuring")??;
    drop(moto);
    print(&figures, runs, json_out);
    Ok(())
}

/// One cold start's figures.
struct Sample {
    init: Duration,
    first_answer: Duration,
    peak_rss_kib: Option<u64>,
}

/// One cold start of `binary` under a fresh Runtime API with [`FIRST_EVENT`] queued.
fn start_once(name: &str, binary: &Path, env: &[(String, String)]) -> Result<Sample> {
    let api = RuntimeApi::start();
    let queued = api.invoke(FIRST_EVENT);
    let started = Instant::now();
    let process = api.spawn(&binary.to_string_lossy(), &format!("costwatch-{name}"), env);
    let reached = api.first_next(INIT_LIMIT);
    let answered = api.outcome(&queued, INIT_LIMIT);
    let answered_at = Instant::now();
    let peak_rss_kib = process
        .pid()
        .and_then(|pid| crate::rss::peak_rss_kib(&pid.to_string()));
    let logs = process.stop();
    let at = reached.map_err(|e| anyhow!("{name}: {e}\n{logs}"))?;
    // An answer either way: a pipeline function may refuse the empty event.
    answered.map_err(|e| anyhow!("{name}: {e}\n{logs}"))?;
    Ok(Sample {
        init: at.duration_since(started),
        first_answer: answered_at.duration_since(started),
        peak_rss_kib,
    })
}

#[derive(Default)]
struct Samples(Vec<Sample>);

impl Samples {
    fn push(&mut self, sample: Sample) {
        self.0.push(sample);
    }

    /// Medians (and the init's 90th percentile) of the samples.
    fn figures(self, name: &str, binary: &Path) -> Result<Figures> {
        let mut inits: Vec<Duration> = self.0.iter().map(|s| s.init).collect();
        let mut answers: Vec<Duration> = self.0.iter().map(|s| s.first_answer).collect();
        let mut peaks: Vec<u64> = self.0.iter().filter_map(|s| s.peak_rss_kib).collect();
        inits.sort();
        answers.sort();
        peaks.sort_unstable();
        Ok(Figures {
            name: name.to_owned(),
            size_bytes: std::fs::metadata(binary)?.len(),
            init: inits[inits.len() / 2],
            init_p90: inits[(inits.len() * 9 / 10).min(inits.len() - 1)],
            first_answer: answers[answers.len() / 2],
            peak_rss_kib: peaks.get(peaks.len() / 2).copied().unwrap_or(0),
        })
    }
}

fn print(figures: &[Figures], runs: usize, json_out: bool) {
    let Some(hello) = figures.first() else {
        return;
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    if json_out {
        let rows: Vec<_> = figures
            .iter()
            .map(|f| {
                json!({
                    "function": f.name,
                    "binary_bytes": f.size_bytes,
                    "init_ms_median": ms(f.init),
                    "init_ms_p90": ms(f.init_p90),
                    "first_answer_ms_median": ms(f.first_answer),
                    "peak_rss_kib": f.peak_rss_kib,
                    "init_ratio": ratio(ms(f.init), ms(hello.init)),
                    "rss_ratio": ratio(f.peak_rss_kib as f64, hello.peak_rss_kib as f64),
                })
            })
            .collect();
        println!("{}", json!({"runs": runs, "functions": rows}));
        return;
    }
    println!(
        "| function | binary MiB | init ms (median, p90) | × hello | first event answered, ms | peak RSS MiB | × hello |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for f in figures {
        println!(
            "| {} | {:.1} | {:.1}, {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            f.name,
            mib(f.size_bytes),
            ms(f.init),
            ms(f.init_p90),
            ratio(ms(f.init), ms(hello.init)),
            ms(f.first_answer),
            f.peak_rss_kib as f64 / 1024.0,
            ratio(f.peak_rss_kib as f64, hello.peak_rss_kib as f64),
        );
    }
    println!("\n{runs} cold starts each; medians; hello = {HELLO} (crates/hello-lambda).");
}
