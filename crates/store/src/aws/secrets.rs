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

/// Secret `name` is the Secrets Manager secret `<prefix><name>`, read as its SecretString.
pub struct SecretsManagerSecrets {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
    cache: Cache,
}

impl SecretsManagerSecrets {
    pub fn new(config: &SdkConfig, prefix: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_secretsmanager::Client::new(config),
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
        let out = match self
            .client
            .get_secret_value()
            .secret_id(format!("{}{name}", self.prefix))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Err(StoreError::SecretNotFound(name.to_owned()));
            }
            Err(e) => return Err(aws_error("secretsmanager:GetSecretValue", e)),
        };
        let value = out
            .secret_string
            .ok_or_else(|| corrupt(format!("secret `{name}`"), "binary secret, expected text"))?;
        let value = SecretString::from(value);
        self.cache.insert(name, value.clone());
        Ok(value)
    }
}

impl fmt::Debug for SecretsManagerSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsManagerSecrets")
            .field("prefix", &self.prefix)
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SecretStore for SecretsManagerSecrets {
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

pub struct SsmSecrets {
    client: aws_sdk_ssm::Client,
    prefix: String,
    cache: Cache,
}

impl SsmSecrets {
    pub fn new(config: &SdkConfig, prefix: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_ssm::Client::new(config),
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
        let out = match self
            .client
            .get_parameter()
            .name(format!("{}{name}", self.prefix))
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
        let value = out
            .parameter
            .and_then(|p| p.value)
            .ok_or_else(|| corrupt(format!("secret `{name}`"), "parameter without a value"))?;
        let value = SecretString::from(value);
        self.cache.insert(name, value.clone());
        Ok(value)
    }
}

impl fmt::Debug for SsmSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsmSecrets")
            .field("prefix", &self.prefix)
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SecretStore for SsmSecrets {
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
