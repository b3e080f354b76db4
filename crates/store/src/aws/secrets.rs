//! Secrets from Secrets Manager or SSM Parameter Store, read once per container: a warm Lambda
//! reuses them instead of paying a call (and its latency) per invocation. Values are held as
//! `SecretString` and never appear in Debug output, errors or logs.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use aws_config::SdkConfig;
use secrecy::SecretString;

use super::error::{aws_error, corrupt};
use crate::error::{Result, StoreError};
use crate::ports::SecretStore;

/// Name → value, filled on first read of each name.
#[derive(Default)]
struct Cache(Mutex<HashMap<String, SecretString>>);

impl Cache {
    fn get(&self, name: &str) -> Option<SecretString> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(name).cloned()
    }

    fn insert(&self, name: &str, value: SecretString) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert(name.to_owned(), value);
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
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
        if let Some(value) = self.cache.get(name) {
            return Ok(value);
        }
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

/// Secret `name` is the SSM parameter `<prefix><name>` (a SecureString, decrypted on read).
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
        if let Some(value) = self.cache.get(name) {
            return Ok(value);
        }
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
