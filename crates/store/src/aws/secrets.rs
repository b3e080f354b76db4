//! Secrets from Secrets Manager or SSM Parameter Store, cached for a few minutes
//! ([`DEFAULT_TTL`]): a warm Lambda reuses them instead of paying a call (and its latency) per
//! invocation, and still picks up a rotated value within the TTL — or at once through
//! [`SecretStore::get_fresh`] after the vendor refused the old one. Values are held as
//! `SecretString` and never appear in Debug output, errors or logs.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_config::SdkConfig;
use secrecy::SecretString;

use super::error::{aws_error, corrupt};
use crate::error::{Result, StoreError};
use crate::ports::SecretStore;

/// Name → value, filled on first read of each name.
/// How long a read value is reused before the next `get` asks the service again.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

struct Cache {
    entries: Mutex<HashMap<String, (SecretString, Instant)>>,
    ttl: Duration,
}

impl Default for Cache {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
            ttl: DEFAULT_TTL,
        }
    }
}

impl Cache {
    /// The cached value while it is younger than the TTL.
    fn get(&self, name: &str) -> Option<SecretString> {
        let map = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(name)
            .filter(|(_, read_at)| read_at.elapsed() < self.ttl)
            .map(|(value, _)| value.clone())
    }

    fn insert(&self, name: &str, value: SecretString) {
        let mut map = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert(name.to_owned(), (value, Instant::now()));
    }

    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// One service's way of reading a secret by its full name; everything around it (prefix, cache,
/// TTL, `get_fresh`) is [`Cached`]'s.
#[async_trait]
pub trait Reader: Send + Sync + Sized {
    /// For `Debug`.
    const NAME: &'static str;
    fn new(config: &SdkConfig) -> Self;
    /// The value of `full_name`; `name` (without the prefix) for errors.
    async fn read(&self, full_name: &str, name: &str) -> Result<String>;
}

/// A secret store over one service: secret `name` is `<prefix><name>` there.
pub struct Cached<R> {
    reader: R,
    prefix: String,
    cache: Cache,
}

/// Secret `name` is the Secrets Manager secret `<prefix><name>`, read as its SecretString.
pub type SecretsManagerSecrets = Cached<SecretsManagerReader>;
/// Secret `name` is the SSM parameter `<prefix><name>`, decrypted (SecureString).
pub type SsmSecrets = Cached<SsmReader>;

impl<R: Reader> Cached<R> {
    pub fn new(config: &SdkConfig, prefix: impl Into<String>) -> Self {
        Self {
            reader: R::new(config),
            prefix: prefix.into(),
            cache: Cache::default(),
        }
    }

    /// Reuses a read value for `ttl` instead of [`DEFAULT_TTL`].
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.cache.ttl = ttl;
        self
    }

    async fn fetch(&self, name: &str) -> Result<SecretString> {
        let full = format!("{}{name}", self.prefix);
        let value = SecretString::from(self.reader.read(&full, name).await?);
        self.cache.insert(name, value.clone());
        Ok(value)
    }
}

impl<R: Reader> fmt::Debug for Cached<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(R::NAME)
            .field("prefix", &self.prefix)
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<R: Reader> SecretStore for Cached<R> {
    async fn get(&self, name: &str) -> Result<SecretString> {
        match self.cache.get(name) {
            Some(value) => Ok(value),
            None => self.fetch(name).await,
        }
    }

    async fn get_fresh(&self, name: &str) -> Result<SecretString> {
        self.fetch(name).await
    }
}

pub struct SecretsManagerReader(aws_sdk_secretsmanager::Client);

#[async_trait]
impl Reader for SecretsManagerReader {
    const NAME: &'static str = "SecretsManagerSecrets";

    fn new(config: &SdkConfig) -> Self {
        Self(aws_sdk_secretsmanager::Client::new(config))
    }

    async fn read(&self, full_name: &str, name: &str) -> Result<String> {
        let out = match self.0.get_secret_value().secret_id(full_name).send().await {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Err(StoreError::SecretNotFound(name.to_owned()));
            }
            Err(e) => return Err(aws_error("secretsmanager:GetSecretValue", e)),
        };
        out.secret_string
            .ok_or_else(|| corrupt(format!("secret `{name}`"), "binary secret, expected text"))
    }
}

pub struct SsmReader(aws_sdk_ssm::Client);

#[async_trait]
impl Reader for SsmReader {
    const NAME: &'static str = "SsmSecrets";

    fn new(config: &SdkConfig) -> Self {
        Self(aws_sdk_ssm::Client::new(config))
    }

    async fn read(&self, full_name: &str, name: &str) -> Result<String> {
        let out = match self
            .0
            .get_parameter()
            .name(full_name)
            .with_decryption(true)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_parameter_not_found()) =>
            {
                return Err(StoreError::SecretNotFound(name.to_owned()));
            }
            Err(e) => return Err(aws_error("ssm:GetParameter", e)),
        };
        out.parameter
            .and_then(|p| p.value)
            .ok_or_else(|| corrupt(format!("secret `{name}`"), "parameter without a value"))
    }
}
