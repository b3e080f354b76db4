//! `costwatch render` prints the exact requests an envelope becomes, secrets redacted, without
//! sending; `costwatch notify` sends them through the same dispatcher the Lambdas run (routing,
//! rate limits, retries with Retry-After, the vendor's own classifier). Configs are the
//! `[integrations.<name>]` tables of the config file (`--config`, else ./costwatch.toml, else
//! the placeholders of examples/contract.toml, built in).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use costwatch_core::Notification;
use costwatch_dispatch::dispatcher::{Dispatcher, Incoming, Verdict};
use costwatch_dispatch::{Configured, Message, RenderContext, SecretStores};
use costwatch_store::memory::MemoryState;
use serde_json::Value;

use crate::integrations;

use crate::init::CONTRACT;

#[derive(Args)]
pub struct RenderArgs {
    /// slack (see `examples/contract.toml` for every integration).
    #[arg(long)]
    integration: String,
    /// A notification envelope (JSON), e.g. events/notifications/anomaly.json.
    #[arg(long)]
    input: PathBuf,
}

#[derive(Args)]
pub struct NotifyArgs {
    #[arg(long)]
    integration: String,
    #[arg(long)]
    input: PathBuf,
    /// Send to this scheme://host:port instead, keeping each request's path (a local fake).
    #[arg(long)]
    endpoint: Option<url::Url>,
    /// Seconds each request may take.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

/// The config file's text and where it came from (`--config`, ./costwatch.toml, else the
/// built-in contract); `invoke` reads a dispatcher's table from it too.
pub(crate) fn config_text(path: Option<&Path>) -> Result<(String, String)> {
    if let Some(p) = path {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        return Ok((text, p.display().to_string()));
    }
    let default = Path::new("costwatch.toml");
    if default.is_file() {
        let text = std::fs::read_to_string(default).context("cannot read costwatch.toml")?;
        return Ok((text, "costwatch.toml".into()));
    }
    Ok((
        CONTRACT.to_owned(),
        "examples/contract.toml (built in)".into(),
    ))
}

/// The `[integrations.<name>]` table of the config (as [`config_text`] finds it) as JSON, and
/// where it came from.
pub(crate) fn integration_table(name: &str, config: Option<&Path>) -> Result<(Value, String)> {
    let (text, origin) = config_text(config)?;
    let file: toml::Value =
        crate::config::parse_toml(&text).with_context(|| format!("invalid config {origin}"))?;
    let table = file
        .get("integrations")
        .and_then(|t| t.get(name))
        .ok_or_else(|| {
            anyhow!(
                "{origin} has no [integrations.{name}] table: copy it from examples/contract.toml \
                 (placeholder credentials, as `costwatch init` writes it commented out), or \
                 pass --config with a file that has it"
            )
        })?;
    Ok((serde_json::to_value(table)?, origin))
}

/// The named integration, its config validated and its inline secrets ready.
async fn load(name: &str, config: Option<&Path>) -> Result<Box<dyn Configured>> {
    let all = integrations::all();
    let entry = all.iter().find(|e| e.name() == name).ok_or_else(|| {
        let names: Vec<_> = all.iter().map(|e| e.name()).collect();
        anyhow!("unknown integration `{name}` (known: {})", names.join(", "))
    })?;
    let (json, origin) = integration_table(name, config)?;
    let configured = entry.load(json).with_context(|| format!("in {origin}"))?;
    // The CLI has no AWS stores: referenced secrets are an error naming them.
    configured
        .resolve_secrets(&SecretStores::default(), false)
        .await
        .with_context(|| format!("in {origin}: the CLI reads inline credentials only"))?;
    Ok(configured)
}

fn envelopes(path: &Path) -> Result<Vec<Notification>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let list = match value {
        Value::Array(items) => items,
        one => vec![one],
    };
    list.into_iter()
        .map(|v| {
            serde_json::from_value(v)
                .with_context(|| format!("{} is not a notification envelope", path.display()))
        })
        .collect()
}

/// An archive integration copies files of the lake, which the CLI does not have: `render`
/// shows each file as a placeholder of its key (`notify` sends nothing for such a message: the
/// dispatcher dead-letters it for want of a lake).
fn archive_placeholders(integration: &dyn Configured, n: &Notification) -> RenderContext {
    let objects = integration
        .objects(Message::One(n))
        .into_iter()
        .map(|key| {
            let text = format!("(the lake's {key}, read by the dispatcher at send time)");
            (key, text.into_bytes())
        })
        .collect();
    RenderContext {
        objects,
        ..RenderContext::default()
    }
}

pub async fn render(args: RenderArgs, config: Option<&Path>) -> Result<()> {
    let integration = load(&args.integration, config).await?;
    let mut out = Vec::new();
    for n in envelopes(&args.input)? {
        for destination in integration
            .routing()
            .destinations(&n, &integration.destinations())
        {
            let requests = integration.render(
                &destination,
                Message::One(&n),
                &archive_placeholders(&*integration, &n),
            )?;
            out.extend(requests.iter().map(|r| r.printable()));
        }
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

pub async fn notify(args: NotifyArgs, config: Option<&Path>, json: bool) -> Result<()> {
    let integration = load(&args.integration, config).await?;
    let batch: Vec<Incoming> = envelopes(&args.input)?
        .iter()
        .map(Incoming::of)
        .collect::<serde_json::Result<_>>()?;
    let state = MemoryState::default();
    let dispatcher = Dispatcher::builder(integration, &state)
        .timeout(Duration::from_secs(args.timeout))
        .endpoint(args.endpoint.clone())
        // A test-send is one message per envelope, never a digest.
        .digest_from(usize::MAX)
        .build()
        .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let verdicts = dispatcher
        .dispatch(&batch, chrono::Utc::now(), deadline)
        .await;
    let mut failed = Vec::new();
    for (id, verdict) in &verdicts {
        match verdict {
            Verdict::Done => {
                if !json {
                    println!("{id}: sent to {}", args.integration);
                }
            }
            Verdict::Retry { reason, .. } | Verdict::Dead { reason } => {
                failed.push(format!("{id}: {reason}"))
            }
        }
    }
    if json {
        let summary: Vec<Value> = verdicts
            .iter()
            .map(|(id, v)| serde_json::json!({"envelope": id, "result": format!("{v:?}")}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    if !failed.is_empty() {
        bail!("not delivered:\n{}", failed.join("\n"));
    }
    Ok(())
}
