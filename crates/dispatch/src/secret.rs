//! Credentials in integration configs. A config names a secret where it lives (Secrets Manager or
//! SSM Parameter Store) or, for local use and `examples/contract.toml`, holds it inline. Either way
//! the value is a [`SecretString`]: `Debug` prints `[REDACTED]`, and nothing in this crate formats
//! it into a log line, an error or the CLI's `render` output.
//!
//! Configs are validated without I/O; [`Secret::resolve`] fetches referenced values once, at cold
//! start, through the stores (which cache for the container's life), so `render` stays pure.

use std::fmt;

use costwatch_store::SecretStore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::ConfigError;

/// Where a credential comes from, as written in the config.
#[derive(Clone, Deserialize)]
#[serde(untagged)]
enum Source {
    /// `webhook_url = "https://hooks.slack.com/services/…"`
    Inline(String),
    /// `webhook_url = { secrets_manager = "costwatch/slack/finops" }` or `{ ssm = "/costwatch/…" }`
    Reference(Reference),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    SecretsManager(String),
    Ssm(String),
}

/// A credential: inline, or a reference resolved once before the first render.
#[derive(Clone, Deserialize)]
#[serde(from = "Source")]
pub struct Secret {
    reference: Option<Reference>,
    value: Option<SecretString>,
}

impl From<Source> for Secret {
    fn from(source: Source) -> Self {
        match source {
            Source::Inline(value) => Self {
                reference: None,
                value: Some(SecretString::from(value)),
            },
            Source::Reference(reference) => Self {
                reference: Some(reference),
                value: None,
            },
        }
    }
}

impl Secret {
    pub fn inline(value: impl Into<String>) -> Self {
        Self {
            reference: None,
            value: Some(SecretString::from(value.into())),
        }
    }

    pub fn reference(reference: Reference) -> Self {
        Self {
            reference: Some(reference),
            value: None,
        }
    }

    pub fn reference_name(&self) -> Option<&Reference> {
        self.reference.as_ref()
    }

    /// The value; an error naming the reference (never the value) when it was not resolved.
    pub fn expose(&self) -> Result<&str, ConfigError> {
        self.value
            .as_ref()
            .map(|v| v.expose_secret())
            .ok_or_else(|| ConfigError::UnresolvedSecret(self.describe()))
    }

    pub fn value(&self) -> Option<&SecretString> {
        self.value.as_ref()
    }

    /// Whether the value is present and not blank (checked by config validation on inline ones).
    pub fn is_blank(&self) -> bool {
        self.value
            .as_ref()
            .is_some_and(|v| v.expose_secret().trim().is_empty())
    }

    /// Fetches a referenced value (no-op for inline or already resolved secrets).
    pub async fn resolve(&mut self, stores: &SecretStores<'_>) -> Result<(), ConfigError> {
        if self.value.is_some() {
            return Ok(());
        }
        self.resolve_with(stores, false).await
    }

    /// Reads a referenced value again (`fresh`: past the stores' caches); an error for inline
    /// secrets, which have nowhere to be read from.
    pub async fn resolve_with(
        &mut self,
        stores: &SecretStores<'_>,
        fresh: bool,
    ) -> Result<(), ConfigError> {
        let Some(reference) = &self.reference else {
            return Err(ConfigError::UnresolvedSecret(self.describe()));
        };
        let (store, name) = match reference {
            Reference::SecretsManager(name) => (stores.secrets_manager, name),
            Reference::Ssm(name) => (stores.ssm, name),
        };
        let store = store.ok_or_else(|| {
            ConfigError::Invalid(format!(
                "{} is referenced but no such store is configured here",
                self.describe()
            ))
        })?;
        let read = if fresh {
            store.get_fresh(name).await
        } else {
            store.get(name).await
        };
        let value = read.map_err(|e| ConfigError::Invalid(format!("{}: {e}", self.describe())))?;
        self.value = Some(value);
        Ok(())
    }

    /// Takes `other`'s value if it has one; whether that changed this secret's value.
    pub fn take_value_of(&mut self, other: Secret) -> bool {
        let Some(new) = other.value else {
            return false;
        };
        let changed = self
            .value
            .as_ref()
            .is_none_or(|old| old.expose_secret() != new.expose_secret());
        self.value = Some(new);
        changed
    }

    /// How the secret is named in errors (its reference, never its value).
    pub fn describe(&self) -> String {
        match &self.reference {
            Some(Reference::SecretsManager(name)) => format!("secret `secrets_manager:{name}`"),
            Some(Reference::Ssm(name)) => format!("secret `ssm:{name}`"),
            None => "inline secret".to_owned(),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reference {
            Some(_) => write!(f, "Secret({})", self.describe()),
            None => f.write_str("Secret([REDACTED])"),
        }
    }
}

/// The stores a dispatcher may read secrets from; `None` where the process has none (the CLI
/// without AWS reads only inline secrets).
#[derive(Clone, Copy, Default)]
pub struct SecretStores<'a> {
    pub secrets_manager: Option<&'a dyn SecretStore>,
    pub ssm: Option<&'a dyn SecretStore>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_store::memory::MemorySecrets;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Cfg {
        a: Secret,
        b: Secret,
    }

    #[tokio::test]
    async fn inline_and_referenced_secrets_resolve_and_never_print() {
        let mut cfg: Cfg = serde_json::from_value(serde_json::json!({
            "a": "https://hooks.example/T1/B2/very-secret",
            "b": {"secrets_manager": "costwatch/slack"}
        }))
        .unwrap();
        let printed = format!("{cfg:?}");
        assert!(!printed.contains("very-secret"), "{printed}");
        assert!(
            printed.contains("secrets_manager:costwatch/slack"),
            "{printed}"
        );
        assert!(cfg.b.expose().is_err());

        let sm = MemorySecrets::new().with("costwatch/slack", "xoxb-also-secret");
        let stores = SecretStores {
            secrets_manager: Some(&sm),
            ssm: None,
        };
        cfg.a.resolve(&stores).await.unwrap();
        cfg.b.resolve(&stores).await.unwrap();
        assert_eq!(cfg.b.expose().unwrap(), "xoxb-also-secret");
        assert!(!format!("{cfg:?}").contains("xoxb"));

        let mut ssm_only: Secret =
            serde_json::from_value(serde_json::json!({"ssm": "/costwatch/x"})).unwrap();
        let err = ssm_only.resolve(&stores).await.unwrap_err().to_string();
        assert!(err.contains("ssm:/costwatch/x"), "{err}");
    }

    #[test]
    fn unknown_reference_kinds_are_rejected() {
        let parsed: Result<Secret, _> = serde_json::from_value(serde_json::json!({"vault": "x"}));
        assert!(parsed.is_err());
    }
}
