//! `costwatch serve`: the REST API and the dashboard of crates/api on the local store, the same
//! router the api Lambda runs. Loopback by default; any other address needs a token, so the
//! data never leaves the machine unguarded.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use costwatch_analytics::budget::planted_budgets;
use costwatch_api::chat::glance::ANSWER_WITHIN;
use costwatch_api::chat::{self, Chat, ChatSecrets};
use costwatch_api::deliveries::{Integrations, KNOWN, NoQueues, OneStore};
use costwatch_api::{Api, Auth, router};
use costwatch_core::synth;
use costwatch_store::local::{LocalBus, LocalLake, LocalRollups, LocalSecrets, LocalState};
use costwatch_store::{RollupStore, SecretStore, StateStore, SystemClock};

use crate::config::{Settings, parse_toml};

/// The port `costwatch serve` and `make demo-serve` use unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0: any free port). Loopback by default; another
    /// address needs --token-secret.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Require `Authorization: Bearer <token>` on the data, the token being this secret
    /// (`COSTWATCH_SECRET_<NAME>` or `<data dir>/secrets/<name>`).
    #[arg(long, value_name = "NAME")]
    token_secret: Option<String>,
    /// Also serve Slack's endpoints (`/slack/interactions`, `/slack/commands`), checking every
    /// request against the Slack app's Signing Secret held in this secret (as --token-secret).
    #[arg(long, value_name = "NAME")]
    slack_signing_secret: Option<String>,
    /// Also serve Discord's interactions endpoint (`/discord/interactions`), checking every
    /// request against this application public key (64 hex digits, the Developer Portal's).
    #[arg(long, value_name = "HEX")]
    discord_public_key: Option<String>,
    /// Serve what `costwatch demo --out DIR` wrote (DIR/data), with the demo's planted budgets
    /// (default seed) unless the configuration names budgets.
    #[arg(long, value_name = "DIR")]
    demo: Option<PathBuf>,
}

/// Refuses an address other than loopback without a token: checked before anything is bound.
pub fn auth_for(listen: &SocketAddr, token_secret: Option<&str>) -> Result<Auth> {
    match token_secret {
        Some(name) => Ok(Auth::Bearer {
            secret: name.to_owned(),
        }),
        None if listen.ip().is_loopback() => Ok(Auth::Trusted),
        None => bail!(
            "refusing to serve on {listen} without a token: anyone who can reach it would read \
             your costs. Pass --token-secret NAME (the token in COSTWATCH_SECRET_<NAME> or \
             <data dir>/secrets/<name>), or listen on 127.0.0.1"
        ),
    }
}

fn require_data(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        bail!(
            "no costwatch data in {}: run `costwatch demo` or `costwatch run` first",
            dir.display()
        );
    }
    Ok(())
}

/// The integrations with an `[integrations.<name>]` table in the config file (`--config`, else
/// ./costwatch.toml when present, as [`Settings::load`] chooses): those `costwatch notify`
/// can send to. No file: none.
fn configured_integrations(config: Option<&Path>) -> Result<BTreeSet<String>> {
    let default = Path::new("costwatch.toml");
    let path = match config {
        Some(p) => p,
        None if default.is_file() => default,
        None => return Ok(BTreeSet::new()),
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: toml::Table = parse_toml(&text)?;
    let tables = file.get("integrations").and_then(toml::Value::as_table);
    Ok(KNOWN
        .iter()
        .filter(|name| tables.is_some_and(|t| t.contains_key(**name)))
        .map(|name| (*name).to_owned())
        .collect())
}

pub async fn serve(args: ServeArgs, settings: &Settings, config_file: Option<&Path>) -> Result<()> {
    let auth = auth_for(&args.listen, args.token_secret.as_deref())?;
    let (data_dir, notifications_dir) = match &args.demo {
        Some(out) => (out.join("data"), out.join("notifications")),
        None => (
            settings.data_dir.clone(),
            settings.data_dir.join("notifications"),
        ),
    };
    require_data(&data_dir)?;
    let rollups = Arc::new(LocalRollups::open(&data_dir));
    let secrets = Arc::new(LocalSecrets::open(&data_dir));
    if let Auth::Bearer { secret } = &auth {
        secrets
            .get(secret)
            .await
            .with_context(|| format!("reading the token secret `{secret}`"))?;
    }
    let mut config = settings.pipeline.clone();
    if args.demo.is_some() && config.budgets.is_empty() {
        // The demo does not store its budgets; they follow from its organisation's days.
        if let Some((first, last)) = rollups.day_range().await? {
            let days = u32::try_from((last - first).num_days() + 1).unwrap_or(u32::MAX);
            config.budgets = planted_budgets(&synth::generate(synth::DEFAULT_SEED, last, days));
        }
    }
    let state: Arc<dyn StateStore> = Arc::new(LocalState::open(&data_dir));
    // One machine: the dispatchers' ledgers would sit in the same local store, and no queues run.
    let integrations = Integrations {
        configured: Some(configured_integrations(config_file)?),
        states: Arc::new(OneStore(state.clone())),
        dead_letters: Arc::new(NoQueues),
    };
    let api = Api {
        rollups,
        state,
        lake: Arc::new(LocalLake::open(&data_dir)),
        secrets,
        // One machine, one file: the configuration is fixed while the server runs.
        config_source: Arc::new(Arc::new(config)),
        auth,
        clock: Arc::new(SystemClock),
        integrations,
        // Announcements land where `costwatch run` / `demo` put theirs, beside the data.
        bus: Arc::new(LocalBus::new(&notifications_dir)),
        aws_feedback: None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let bound = listener.local_addr()?;
    // The first line says where, so a script (and tests/cli_serve.rs) can read the port.
    println!(
        "costwatch serve: open http://{bound}/ (data: {}; Ctrl-C stops)",
        data_dir.display()
    );
    let api = Arc::new(api);
    let chat = Chat {
        api: api.clone(),
        secrets: ChatSecrets {
            slack_signing_secret: args.slack_signing_secret.clone(),
            discord_public_key: args.discord_public_key.clone(),
        },
        answer_within: ANSWER_WITHIN,
        defer: answer_later(&api)?,
    };
    // The chat routes prove themselves with Slack's signature, not the API token.
    let app = router(api).merge(chat::router(Arc::new(chat)));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")
}

/// A slow /cost is answered after the response by a task on this server's runtime; tests point
/// the answers at a loopback fake with `COSTWATCH_HTTP_ENDPOINT`, as for the dispatchers.
#[cfg(feature = "integrations")]
fn answer_later(api: &Arc<Api>) -> Result<Option<Arc<dyn chat::followup::Defer>>> {
    use costwatch_api::chat::followup::{InProcess, Sender};
    let endpoint = std::env::var("COSTWATCH_HTTP_ENDPOINT").ok();
    let sender = Sender::new(endpoint.as_deref()).map_err(anyhow::Error::msg)?;
    Ok(Some(Arc::new(InProcess {
        api: api.clone(),
        sender,
    })))
}

/// The lean build has no HTTP client: a slow /cost is answered "try again".
#[cfg(not(feature = "integrations"))]
fn answer_later(_: &Arc<Api>) -> Result<Option<Arc<dyn chat::followup::Defer>>> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_goes_without_a_token() {
        let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let v6: SocketAddr = "[::1]:0".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8787".parse().unwrap();
        assert_eq!(auth_for(&loopback, None).unwrap(), Auth::Trusted);
        assert_eq!(auth_for(&v6, None).unwrap(), Auth::Trusted);
        let refused = auth_for(&any, None).unwrap_err().to_string();
        assert!(refused.contains("--token-secret"), "{refused}");
        assert!(matches!(
            auth_for(&any, Some("api-token")).unwrap(),
            Auth::Bearer { .. }
        ));
    }

    #[test]
    fn configured_integrations_are_the_config_files_tables() {
        let dir = std::env::temp_dir().join(format!("costwatch-serve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("costwatch.toml");
        std::fs::write(
            &file,
            "[integrations.slack]\nwebhook = 1\n[integrations.azure-blob]\n[pipeline]\n",
        )
        .unwrap();
        let found = configured_integrations(Some(&file)).unwrap();
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            ["azure-blob", "slack"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The API's list of integrations is the CLI registry's, name for name and in order.
    #[cfg(feature = "integrations")]
    #[test]
    fn the_apis_integrations_are_the_registrys() {
        let registry: Vec<&str> = crate::integrations::all()
            .iter()
            .map(|e| e.name())
            .collect();
        assert_eq!(registry, KNOWN);
    }
}
