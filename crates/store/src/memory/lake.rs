use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::Result;
use crate::key::{validate_delete_prefix, validate_key, validate_prefix};
use crate::ports::{LakeReader, LakeWriter};

/// Objects by key in a sorted map, so listing a prefix is a range scan.
#[derive(Debug, Default)]
pub struct MemoryLake {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryLake {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl LakeWriter for MemoryLake {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<()> {
        validate_key(key)?;
        lock(&self.objects).insert(key.to_owned(), body);
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        validate_delete_prefix(prefix)?;
        lock(&self.objects).retain(|key, _| !key.starts_with(prefix));
        Ok(())
    }
}

#[async_trait]
impl LakeReader for MemoryLake {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        validate_key(key)?;
        Ok(lock(&self.objects).get(key).cloned())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        validate_prefix(prefix)?;
        Ok(lock(&self.objects)
            .range(prefix.to_owned()..)
            .map(|(key, _)| key)
            .take_while(|key| key.starts_with(prefix))
            .cloned()
            .collect())
    }
}
