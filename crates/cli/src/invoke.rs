//! `costwatch invoke FUNCTION --event FILE`: the Docker-free `sam local invoke`. Runs the built
//! binary of one Lambda (the one `sam build` would package, built for this machine) under the
//! local Runtime API emulator (`costwatch_local::runtime_api`, the one the tests use) — its
//! real runtime loop, its real SDK — and prints its answer on stdout and what it logged on
//! stderr; exits non-zero when the invocation fails (what Lambda would retry).
//!
//! Against moto by default: a running one (`--moto URL`) or one started for the invocation
//! (`$COSTWATCH_MOTO`, else `moto_server` on PATH), with the stack's resources created as
//! template.yaml names them (bucket, table, topics, dead-letter queues; a dispatcher's queue and
//! its credentials in Secrets Manager) and the function's environment set to them. With `--aws`,
//! against the account of the environment's credentials: the function gets this process's
//! `AWS_*` and `COSTWATCH_*` variables (the resource names a deployed function gets from the
//! template, e.g. `COSTWATCH_BUCKET`), as Lambda would give them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use costwatch_dispatch::Entry;
use costwatch_local::moto::MotoServer;
use costwatch_local::runtime_api::{Outcome, RuntimeApi};
use costwatch_store::aws::sdk::aws_config::SdkConfig;
use costwatch_store::aws::sdk::{
    aws_sdk_dynamodb, aws_sdk_s3, aws_sdk_secretsmanager, aws_sdk_sns,
};
use serde_json::{Value, json};

use crate::integrations;

/// The pipeline functions; every other name is an integration's dispatcher.
pub(crate) const PIPELINE: &[&str] = &["collect", "aggregate", "detect", "forecast", "report"];
/// Resource names on moto, as template.yaml's defaults name them.
pub(crate) const BUCKET: &str = "costwatch-lake";
pub(crate) const TABLE: &str = "costwatch-state";
pub(crate) const REGION: &str = "us-east-1";

#[derive(Args)]
pub struct InvokeArgs {
    /// The function: collect, aggregate, detect, forecast, report, or an integration's
    /// dispatcher (slack, jira, … or dispatch-slack, …).
    function: String,
    /// The event, e.g. events/collect/scheduled.json. Default: the first sample in
    /// events/<function>/.
    #[arg(long, short)]
    event: Option<PathBuf>,
    /// Against the AWS account of the environment's credentials instead of moto; the
    /// function's resources come from the `COSTWATCH_*` variables (or `--env`).
    #[arg(long)]
    aws: bool,
    /// The function's binary. Default: beside this `costwatch` (cargo builds a workspace's
    /// binaries into one directory; `make invoke` builds both).
    #[arg(long)]
    binary: Option<PathBuf>,
    /// A running moto server to use (e.g. http://127.0.0.1:5000), instead of starting one.
    #[arg(long, conflicts_with = "aws")]
    moto: Option<String>,
    /// Dispatchers: every vendor request to this loopback server (a fake) instead of the vendor.
    #[arg(long)]
    vendor_endpoint: Option<String>,
    /// More environment for the function, KEY=VALUE (repeatable); wins over the rest.
    #[arg(long = "env", value_parser = key_value)]
    env: Vec<(String, String)>,
    /// Seconds to wait for the answer (Lambda's longest timeout by default).
    #[arg(long, default_value_t = 900)]
    timeout: u64,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

/// What to run: the binary's name and, for a dispatcher, its integration.
pub(crate) struct Function {
    pub(crate) binary: String,
    integration: Option<Box<dyn Entry>>,
    /// Its folder of sample events.
    events: String,
}

pub(crate) fn function(name: &str) -> Result<Function> {
    if PIPELINE.contains(&name) {
        return Ok(Function {
            binary: name.to_owned(),
            integration: None,
            events: format!("events/{name}"),
        });
    }
    let name = name.strip_prefix("dispatch-").unwrap_or(name);
    let all = integrations::all();
    let known: Vec<&str> = all.iter().map(|e| e.name()).collect();
    let known = known.join(", ");
    let entry = all.into_iter().find(|e| e.name() == name).ok_or_else(|| {
        anyhow!(
            "unknown function `{name}` (pipeline: {}; dispatchers: {known})",
            PIPELINE.join(", ")
        )
    })?;
    Ok(Function {
        binary: format!("dispatch-{name}"),
        integration: Some(entry),
        events: format!("events/dispatch-{name}"),
    })
}

pub async fn invoke(args: InvokeArgs, config: Option<&Path>, json_out: bool) -> Result<()> {
    let function = function(&args.function)?;
    let binary = match &args.binary {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .context("cannot find this executable")?
            .with_file_name(&function.binary),
    };
    if !binary.is_file() {
        bail!(
            "no {} binary at {} (build it: `cargo build --release -p costwatch-{}`, or run \
             `make invoke`, which does; or name it with --binary)",
            function.binary,
            binary.display(),
            function.binary
        );
    }
    let event_path = match &args.event {
        Some(path) => path.clone(),
        None => first_sample(&function.events)?,
    };
    let event = std::fs::read_to_string(&event_path)
        .with_context(|| format!("cannot read {}", event_path.display()))?;
    serde_json::from_str::<Value>(&event)
        .with_context(|| format!("{} is not JSON", event_path.display()))?;

    // The function would find no credentials either, and its first AWS call would fail only
    // after the SDK's retries, in a page of its log: say so at once, in one line.
    if args.aws {
        let sdk = crate::deployed::sdk_config(None).await;
        if let Err(why) = crate::credentials::resolve(&sdk).await {
            bail!(
                "no AWS credentials for the function to run with on your account: {why}; {} \
                 (`costwatch doctor` checks the whole setup)",
                crate::credentials::FIX
            );
        }
    }

    // Kept alive until the function has answered.
    let mut moto_server = None;
    let mut env = if args.aws {
        from_process()
    } else {
        let url = match &args.moto {
            Some(url) => url.clone(),
            None => {
                let server = MotoServer::start(&moto_program()).map_err(|e| anyhow!(e))?;
                let url = server.url();
                moto_server = Some(server);
                url
            }
        };
        on_moto(&url, &function, config).await?
    };
    if let Some(endpoint) = &args.vendor_endpoint {
        env.insert("COSTWATCH_HTTP_ENDPOINT".into(), endpoint.clone());
    }
    env.extend(args.env.iter().cloned());
    let env: Vec<(String, String)> = env.into_iter().collect();

    let api = RuntimeApi::start();
    let process = api.spawn(
        &binary.to_string_lossy(),
        &format!("costwatch-{}", args.function),
        &env,
    );
    let id = api.invoke(event);
    let within = Duration::from_secs(args.timeout);
    let outcome = tokio::task::spawn_blocking(move || api.outcome(&id, within))
        .await
        .context("waiting for the function")?;
    let logs = process.stop();
    drop(moto_server);
    eprint!("{logs}");
    match outcome {
        Ok(Outcome::Response(body)) => {
            let answer: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
            if json_out {
                println!("{answer}");
            } else {
                println!("{}", serde_json::to_string_pretty(&answer)?);
            }
            explain(&answer);
            Ok(())
        }
        Ok(Outcome::Error(body)) => {
            if json_out {
                println!("{body}");
            }
            bail!("the invocation failed (Lambda would retry it): {body}")
        }
        Err(e) => bail!("{e}"),
    }
}

/// A response that is not plain success, said in words on stderr.
fn explain(answer: &Value) {
    if let Some(reason) = answer.get("rejected").and_then(Value::as_str) {
        eprintln!("note: rejected and sent to the dead-letter queue: {reason}");
    }
    if let Some(failures) = answer.get("batchItemFailures").and_then(Value::as_array)
        && !failures.is_empty()
    {
        eprintln!(
            "note: {} message(s) given back to the queue for a retry",
            failures.len()
        );
    }
}

/// The first sample event (by name) in `folder`.
fn first_sample(folder: &str) -> Result<PathBuf> {
    let mut samples: Vec<PathBuf> = std::fs::read_dir(folder)
        .with_context(|| format!("no --event and no {folder}/ here (run from the repository)"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    samples.sort();
    samples
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no sample event in {folder}/; pass --event"))
}

pub(crate) fn moto_program() -> String {
    std::env::var("COSTWATCH_MOTO")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "moto_server".to_owned())
}

/// `--aws`: what Lambda would give the function, from this process — credentials, region,
/// profile (and HOME for ~/.aws) and the stack's resource names.
fn from_process() -> BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("COSTWATCH_") || k == "HOME")
        .chain([("RUST_LOG".to_owned(), "info".to_owned())])
        .collect()
}

/// The stack's resources on moto at `url` (created if missing) and the function's environment
/// for them.
pub(crate) async fn on_moto(
    url: &str,
    function: &Function,
    config: Option<&Path>,
) -> Result<BTreeMap<String, String>> {
    let sdk = costwatch_store::aws::emulator_config(url, REGION).await;
    let mut env: BTreeMap<String, String> = [
        ("AWS_ENDPOINT_URL", url),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("RUST_LOG", "info"),
        ("COSTWATCH_BUCKET", BUCKET),
        ("COSTWATCH_TABLE", TABLE),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    create_bucket(&sdk).await?;
    create_table(&sdk).await?;
    let sns = aws_sdk_sns::Client::new(&sdk);
    for (var, name) in [
        ("COSTWATCH_PIPELINE_TOPIC_ARN", "costwatch-pipeline"),
        (
            "COSTWATCH_NOTIFICATIONS_TOPIC_ARN",
            "costwatch-notifications",
        ),
    ] {
        // CreateTopic is idempotent: a running moto keeps its topics.
        let arn = sns
            .create_topic()
            .name(name)
            .send()
            .await
            .with_context(|| format!("sns:CreateTopic {name}"))?
            .topic_arn
            .unwrap_or_default();
        env.insert(var.to_owned(), arn);
    }
    let queue_name = match &function.integration {
        Some(entry) => format!("costwatch-{}", entry.name()),
        None => "costwatch-pipeline".to_owned(),
    };
    let dead_letters = create_queue(url, &format!("{queue_name}-dlq")).await?;
    env.insert("COSTWATCH_DEAD_LETTER_QUEUE_URL".into(), dead_letters);
    if let Some(entry) = &function.integration {
        env.insert(
            "COSTWATCH_QUEUE_URL".into(),
            create_queue(url, &queue_name).await?,
        );
        let table = dispatch_config(&sdk, entry.as_ref(), config).await?;
        env.insert("COSTWATCH_DISPATCH_CONFIG".into(), table.to_string());
    }
    Ok(env)
}

pub(crate) async fn create_bucket(sdk: &SdkConfig) -> Result<()> {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    );
    let exists = s3.head_bucket().bucket(BUCKET).send().await.is_ok();
    if !exists {
        s3.create_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .context("s3:CreateBucket")?;
    }
    Ok(())
}

/// The StateTable of template.yaml, unless the server has it already.
pub(crate) async fn create_table(sdk: &SdkConfig) -> Result<()> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    if dynamo
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    costwatch_store::aws::create_state_table(&dynamo, TABLE)?
        .send()
        .await
        .context("dynamodb:CreateTable")?;
    Ok(())
}

async fn create_queue(url: &str, name: &str) -> Result<String> {
    let (url, name) = (url.to_owned(), name.to_owned());
    tokio::task::spawn_blocking(move || costwatch_local::moto::create_queue(&url, &name))
        .await?
        .map_err(|e| anyhow!(e))
}

/// The integration's table of the config file (as `notify` reads it), every inline credential
/// moved into moto's Secrets Manager and referenced, as a deployed dispatcher requires.
async fn dispatch_config(
    sdk: &SdkConfig,
    entry: &dyn Entry,
    config: Option<&Path>,
) -> Result<Value> {
    let name = entry.name();
    let (mut table, origin) = crate::notify::integration_table(name, config)?;
    entry
        .load(table.clone())
        .with_context(|| format!("[integrations.{name}] in {origin}"))?;
    let mut moved = Vec::new();
    for path in string_paths(&table, "") {
        let reference = format!("costwatch/{name}{path}");
        let mut candidate = table.clone();
        let leaf = candidate
            .pointer_mut(&path)
            .ok_or_else(|| anyhow!("{path} vanished"))?;
        let value = std::mem::replace(leaf, json!({ "secrets_manager": reference }));
        // Only a credential field takes a reference (and counts as one).
        if references(entry, &candidate) > references(entry, &table) {
            table = candidate;
            moved.push((reference, value));
        }
    }
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    for (reference, value) in moved {
        let value = value.as_str().unwrap_or_default().to_owned();
        let created = secrets
            .create_secret()
            .name(&reference)
            .secret_string(&value)
            .send()
            .await;
        if created.is_err() {
            // A running moto may have it from an earlier invocation.
            secrets
                .put_secret_value()
                .secret_id(&reference)
                .secret_string(&value)
                .send()
                .await
                .with_context(|| format!("secretsmanager: store {reference}"))?;
        }
    }
    entry
        .load(table.clone())
        .and_then(|c| c.require_references())
        .with_context(|| format!("[integrations.{name}] in {origin}"))?;
    Ok(table)
}

/// How many credentials of `table` are references (0 when it does not load).
fn references(entry: &dyn Entry, table: &Value) -> usize {
    let Ok(configured) = entry.load(table.clone()) else {
        return 0;
    };
    let mut count = 0;
    configured.with_secrets(&mut |s| count += usize::from(s.reference_name().is_some()));
    count
}

/// JSON pointers of every string in `value`.
fn string_paths(value: &Value, at: &str) -> Vec<String> {
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match value {
        Value::String(_) => vec![at.to_owned()],
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| string_paths(v, &format!("{at}/{}", escape(k))))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, v)| string_paths(v, &format!("{at}/{i}")))
            .collect(),
        _ => Vec::new(),
    }
}
