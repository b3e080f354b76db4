use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::error::{Result, StoreError};
use crate::fsutil::{blocking, read_optional};
use crate::ports::SecretStore;

type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Secrets from the environment (`COSTWATCH_SECRET_<NAME>`) first, then from the file
/// `<data dir>/secrets/<name>`. Holds no secret values itself; values it returns are
/// `SecretString`, which never prints.
#[derive(Clone)]
pub struct LocalSecrets {
    dir: PathBuf,
    env: EnvLookup,
}

impl LocalSecrets {
    /// Reads the process environment.
    pub fn open(data_dir: impl AsRef<Path>) -> Self {
        Self::with_env(data_dir, |var| std::env::var(var).ok())
    }

    /// Reads variables through `env` instead of the process environment: tests (setting
    /// process variables is unsafe with threads) and embedding.
    pub fn with_env(
        data_dir: impl AsRef<Path>,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            dir: data_dir.as_ref().join("secrets"),
            env: Arc::new(env),
        }
    }

    /// `db-password` → `COSTWATCH_SECRET_DB_PASSWORD`.
    pub fn env_var(name: &str) -> String {
        let suffix: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        format!("COSTWATCH_SECRET_{suffix}")
    }
}

impl fmt::Debug for LocalSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSecrets")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SecretStore for LocalSecrets {
    async fn get(&self, name: &str) -> Result<SecretString> {
        // The name becomes a file name: nothing that could leave the secrets directory.
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\', '\0']) {
            return Err(StoreError::InvalidKey(
                name.to_owned(),
                "secret name is not a safe file name",
            ));
        }
        // An empty variable counts as unset, so `COSTWATCH_SECRET_X=` cannot mask the file.
        if let Some(value) = (self.env)(&Self::env_var(name)).filter(|v| !v.is_empty()) {
            return Ok(SecretString::from(value));
        }
        let path = self.dir.join(name);
        let bytes = blocking(move || read_optional(&path)).await?;
        let Some(bytes) = bytes else {
            return Err(StoreError::SecretNotFound(name.to_owned()));
        };
        // Not echoing the bytes in the error: they are the secret.
        let text = String::from_utf8(bytes).map_err(|_| StoreError::Corrupt {
            path: self.dir.join(name).display().to_string(),
            reason: "secret file is not UTF-8".to_owned(),
        })?;
        let value = text.strip_suffix('\n').unwrap_or(&text);
        let value = value.strip_suffix('\r').unwrap_or(value);
        Ok(SecretString::from(value))
    }
}
