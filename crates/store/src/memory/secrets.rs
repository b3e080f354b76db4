use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use secrecy::SecretString;

use super::lock;
use crate::error::{Result, StoreError};
use crate::ports::SecretStore;

/// Secrets by name. `Debug` is derived safely: `SecretString` prints as redacted.
#[derive(Debug, Default)]
pub struct MemorySecrets {
    secrets: Mutex<BTreeMap<String, SecretString>>,
}

impl MemorySecrets {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&self, name: impl Into<String>, value: SecretString) {
        lock(&self.secrets).insert(name.into(), value);
    }

    /// Builder form of [`Self::insert`].
    pub fn with(self, name: impl Into<String>, value: impl Into<SecretString>) -> Self {
        self.insert(name, value.into());
        self
    }
}

#[async_trait]
impl SecretStore for MemorySecrets {
    async fn get(&self, name: &str) -> Result<SecretString> {
        lock(&self.secrets)
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::SecretNotFound(name.to_owned()))
    }
}
