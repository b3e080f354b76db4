//! `[integrations.azure-blob]`: named destinations, each a container of a storage account with
//! its credential (the account key for Shared Key, or a SAS token), and routing. Checked without
//! I/O: unknown fields are errors, exactly one credential, names within Azure's naming rules.

use std::collections::BTreeMap;

use costwatch_dispatch::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureBlobConfig {
    pub destinations: BTreeMap<String, Destination>,
    #[serde(default)]
    pub routing: Routing,
    /// Overrides the rate (tests).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Hosts allowed besides `*.blob.core.windows.net` (Azurite on loopback, a sovereign cloud).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// The storage account's name (3–24 lower-case letters and digits).
    pub account: String,
    /// The Blob service URL; default `https://<account>.blob.core.windows.net`. Azurite:
    /// `http://127.0.0.1:10000/devstoreaccount1` (with `127.0.0.1` in `allow_hosts`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The container; created when missing (private: no public access).
    pub container: String,
    /// Put before every blob name (`costwatch/`); the rest mirrors the lake's key
    /// (`reports/daily/dt=2026-11-30/report.html`).
    #[serde(default)]
    pub prefix: String,
    /// `Hot`, `Cool`, `Cold` or `Archive`; default: the account's default tier.
    #[serde(default)]
    pub access_tier: Option<AccessTier>,
    /// An encryption scope of the account for the blobs (customer-managed keys); default: the
    /// account's encryption (Azure encrypts every blob at rest).
    #[serde(default)]
    pub encryption_scope: Option<String>,
    /// The account key (base64), for Shared Key signing.
    #[serde(default)]
    pub account_key: Option<Secret>,
    /// A SAS token (`sv=…&sig=…`, with or without `?`) allowing create and write on the
    /// container (and container create, if it may be missing).
    #[serde(default)]
    pub sas_token: Option<Secret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AccessTier {
    Hot,
    Cool,
    Cold,
    Archive,
}

impl AccessTier {
    pub fn header(self) -> &'static str {
        match self {
            Self::Hot => "Hot",
            Self::Cool => "Cool",
            Self::Cold => "Cold",
            Self::Archive => "Archive",
        }
    }
}

impl Destination {
    /// The Blob service URL without a trailing `/`.
    pub fn endpoint(&self) -> String {
        match &self.endpoint {
            Some(e) => e.trim_end_matches('/').to_owned(),
            None => format!("https://{}.blob.core.windows.net", self.account),
        }
    }

    fn validate(&self, name: &str) -> Result<(), String> {
        let account_ok = (3..=24).contains(&self.account.len())
            && self
                .account
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !account_ok {
            return Err(format!(
                "{name}: account must be 3–24 lower-case letters and digits"
            ));
        }
        check_container(&self.container).map_err(|e| format!("{name}: container {e}"))?;
        if let Some(e) = &self.endpoint {
            url::Url::parse(e).map_err(|e| format!("{name}: endpoint is not a URL: {e}"))?;
        }
        if self.prefix.starts_with('/') || self.prefix.contains("//") {
            return Err(format!(
                "{name}: prefix must not start with `/` or hold `//`"
            ));
        }
        match (&self.account_key, &self.sas_token) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err(format!(
                "{name}: set exactly one of account_key (Shared Key) and sas_token"
            )),
        }
    }
}

/// Azure's container naming rules: 3–63 characters, lower-case letters, digits and single
/// hyphens, starting and ending with a letter or digit.
fn check_container(name: &str) -> Result<(), String> {
    let ok = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` must be 3–63 lower-case letters, digits and single hyphens"
        ))
    }
}

impl IntegrationConfig for AzureBlobConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.destinations.is_empty() {
            return Err(ConfigError::Invalid(
                "azure-blob: no destinations configured".into(),
            ));
        }
        for (name, d) in &self.destinations {
            d.validate(name).map_err(ConfigError::Invalid)?;
        }
        Ok(())
    }

    fn destinations(&self) -> Vec<String> {
        self.destinations.keys().cloned().collect()
    }

    fn routing(&self) -> &Routing {
        &self.routing
    }

    fn secrets_mut(&mut self) -> Vec<&mut Secret> {
        self.destinations
            .values_mut()
            .flat_map(|d| [d.account_key.as_mut(), d.sas_token.as_mut()])
            .flatten()
            .collect()
    }

    fn rate_limit_override(&self) -> Option<RateLimit> {
        self.rate_per_second.map(RateLimit::per_second)
    }

    fn allow_hosts(&self) -> &[String] {
        &self.allow_hosts
    }
}

#[cfg(test)]
mod tests {
    use super::check_container;

    #[test]
    fn container_names_follow_azure() {
        assert!(check_container("costwatch-reports").is_ok());
        for bad in ["ab", "Reports", "-x-y", "a--b", "x_y"] {
            assert!(check_container(bad).is_err(), "{bad}");
        }
    }
}
