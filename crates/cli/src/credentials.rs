//! Whether the SDK's default chain yields credentials, asked once before anything is sent:
//! `doctor` reports it as a check, and `run --aws` and `dlq redrive` stop at once with the same
//! words instead of retrying each request (a missing credential is not an outage: `run --aws`'s
//! retries took 11 s and ended in a page of debug output).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use costwatch_store::aws::sdk::aws_config::SdkConfig;

/// How long the chain may take (an SSO or web-identity exchange makes a request).
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// What to do when there are none.
pub const FIX: &str = "set AWS_PROFILE (after `aws configure` or `aws sso login`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY";

/// `Ok` when the chain yields credentials within [`TIMEOUT`]; else why not, in one line.
pub async fn resolve(sdk: &SdkConfig) -> Result<(), String> {
    let Some(provider) = sdk.credentials_provider() else {
        return Err("no credentials provider".to_owned());
    };
    match tokio::time::timeout(TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "none found in the default chain (environment, profile, web identity, container, instance metadata): {}",
            causes(&e)
        )),
        Err(_) => Err(format!("no answer within {TIMEOUT:?}")),
    }
}

/// The error and its causes, the first line of each (the rest of the chain's own message lists
/// every provider it tried): the outer one alone is generic ("an error occurred while loading
/// credentials"), the cause says what to fix (an IAM Identity Center profile's login not in
/// `~/.aws/sso/cache`, a `credential_process` that failed).
fn causes(error: &dyn std::error::Error) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let line = e.to_string().lines().next().unwrap_or_default().to_owned();
        if !line.is_empty() && lines.last() != Some(&line) {
            lines.push(line);
        }
        next = e.source();
    }
    lines.join(": ")
}

/// [`resolve`] as a command's first step: the error names what the credentials are for
/// (`purpose`: Cost Explorer) and whose they must be (`whose`: the account to read).
pub async fn require(sdk: &SdkConfig, purpose: &str, whose: &str) -> anyhow::Result<()> {
    resolve(sdk).await.map_err(|why| {
        anyhow::anyhow!(
            "no AWS credentials for {purpose}: {why}; {FIX} for {whose}, or pass --profile (`costwatch doctor` checks the whole setup)"
        )
    })
}

/// `config` with its credentials fetched once while they stay fresh. [`resolve`] asks the chain
/// before the first request and the clients ask again through their own cache, each client of
/// a step too: without this a `credential_process` (aws-vault, a password manager that asks to
/// be unlocked) ran, and a role or IAM Identity Center exchange was made, once for each.
pub fn fetched_once(config: SdkConfig) -> SdkConfig {
    let Some(chain) = config.credentials_provider() else {
        return config;
    };
    let remembered = Remembered {
        chain,
        fetched: tokio::sync::Mutex::default(),
    };
    config
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(remembered))
        .build()
}

/// Credentials closer than this to their expiry are fetched again.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

#[derive(Debug)]
struct Remembered {
    chain: SharedCredentialsProvider,
    fetched: tokio::sync::Mutex<Option<Credentials>>,
}

impl ProvideCredentials for Remembered {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            // Held while fetching: steps asking at once wait for one fetch.
            let mut fetched = self.fetched.lock().await;
            let fresh = |c: &&Credentials| {
                c.expiry()
                    .is_none_or(|at| at > SystemTime::now() + REFRESH_BEFORE)
            };
            if let Some(credentials) = fetched.as_ref().filter(fresh) {
                return Ok(credentials.clone());
            }
            let credentials = self.chain.provide_credentials().await?;
            *fetched = Some(credentials.clone());
            Ok(credentials)
        })
    }
}
