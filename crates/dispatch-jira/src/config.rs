//! `[integrations.jira]`: the site, one credential (an API token with its account's email, sent
//! as HTTP basic auth, or an OAuth 2.0 bearer token), named destinations (a project and how its
//! issues are filed), routing, the transition that resolves an issue and the tracking issue the
//! daily report comments on. Checked without I/O; unknown fields are errors.

use std::collections::BTreeMap;

use costwatch_dispatch::{ConfigError, IntegrationConfig, RateLimit, Routing, Secret, hosts};
use serde::Deserialize;

use crate::Jira;
use costwatch_dispatch::Integration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    /// `https://<name>.atlassian.net`, or for OAuth 2.0 (3LO)
    /// `https://api.atlassian.com/ex/jira/<cloud id>`.
    pub site: String,
    /// The Atlassian account the API token belongs to (basic auth: `email:api_token`).
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub api_token: Option<Secret>,
    /// An OAuth 2.0 access token (`Authorization: Bearer`), instead of email + api_token.
    #[serde(default)]
    pub bearer_token: Option<Secret>,
    pub destinations: BTreeMap<String, Destination>,
    #[serde(default)]
    pub routing: Routing,
    /// The workflow transition that resolves an issue, looked up by name on each issue.
    #[serde(default = "default_transition")]
    pub resolve_transition: String,
    /// The transition that reopens a subject's issue when it opens again after a resolution
    /// (`Reopen`, `To Do`); without it a recurrence is a comment only.
    #[serde(default)]
    pub reopen_transition: Option<String>,
    /// The issue (`FIN-12`) the daily report is added to as a comment.
    #[serde(default)]
    pub tracking_issue: Option<String>,
    /// Overrides the documented rate (tests, a higher plan).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Hosts allowed besides `*.atlassian.net` (a proxy, Jira behind a custom domain, tests).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

/// Where and how the issues of one destination are filed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// The project key (`FINOPS`).
    pub project: String,
    /// The issue type's name in that project (`Task`, `Bug`, a custom `Cost anomaly`).
    #[serde(default = "default_issue_type")]
    pub issue_type: String,
    /// Added to every issue besides `costwatch` and the subject's own label.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Component names of the project.
    #[serde(default)]
    pub components: Vec<String>,
    /// A priority name (`High`); the project's default when absent.
    #[serde(default)]
    pub priority: Option<String>,
    /// The assignee's Atlassian accountId (Jira Cloud accepts no user names).
    #[serde(default)]
    pub assignee: Option<String>,
}

fn default_transition() -> String {
    "Done".into()
}

fn default_issue_type() -> String {
    "Task".into()
}

/// The credential as it goes on the wire.
pub enum Auth<'a> {
    Basic { email: &'a str, token: &'a Secret },
    Bearer(&'a Secret),
}

impl JiraConfig {
    /// The REST base, `<site>/rest/api/3`.
    pub fn api(&self) -> String {
        format!("{}/rest/api/3", self.site.trim_end_matches('/'))
    }

    pub fn auth(&self) -> Result<Auth<'_>, ConfigError> {
        match (&self.email, &self.api_token, &self.bearer_token) {
            (Some(email), Some(token), None) => Ok(Auth::Basic { email, token }),
            (None, None, Some(token)) => Ok(Auth::Bearer(token)),
            _ => Err(ConfigError::Invalid(
                "[jira] needs either `email` + `api_token` (an API token from https://id.atlassian.com/manage-profile/security/api-tokens) or `bearer_token` (OAuth 2.0), not both".into(),
            )),
        }
    }

    fn check_site(&self) -> Result<(), ConfigError> {
        let bad = |why: &str| ConfigError::Invalid(format!("[jira] site {why}"));
        let url = url::Url::parse(&self.site).map_err(|_| bad("is not a URL"))?;
        if url.scheme() != "https" {
            return Err(bad("must be https"));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(bad(
                "must be the site's address only (https://<name>.atlassian.net)",
            ));
        }
        let path = url.path().trim_end_matches('/');
        let oauth = url.host_str() == Some("api.atlassian.com");
        if oauth && !path.starts_with("/ex/jira/") {
            return Err(bad(
                "on api.atlassian.com must be https://api.atlassian.com/ex/jira/<cloud id>",
            ));
        }
        if !oauth && !path.is_empty() && self.allow_hosts.is_empty() {
            return Err(bad(
                "must be https://<name>.atlassian.net, without a path (the REST path is added)",
            ));
        }
        hosts::check_url(
            Jira::NAME,
            &self.site,
            Jira::ALLOWED_HOSTS,
            &self.allow_hosts,
        )
        .map_err(|why| bad(&why))
    }
}

/// Jira labels are single words: no whitespace, at most 255 characters.
pub fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() || label.chars().count() > 255 || label.chars().any(char::is_whitespace) {
        return Err(format!(
            "label `{label}` is not a Jira label (one word, no spaces, at most 255 characters)"
        ));
    }
    Ok(())
}

/// A Jira issue key: a project key (a letter, then letters, digits or `_`), `-`, a number.
pub fn is_issue_key(key: &str) -> bool {
    let Some((project, number)) = key.rsplit_once('-') else {
        return false;
    };
    is_project_key(project) && !number.is_empty() && number.chars().all(|c| c.is_ascii_digit())
}

/// What the REST paths take as `{issueIdOrKey}`: a key, or a numeric issue id.
pub fn is_issue_ref(reference: &str) -> bool {
    is_issue_key(reference)
        || (!reference.is_empty() && reference.chars().all(|c| c.is_ascii_digit()))
}

pub fn is_project_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

impl IntegrationConfig for JiraConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.check_site()?;
        match self.auth()? {
            Auth::Basic { email, token } => {
                if !email.contains('@') {
                    return Err(ConfigError::Invalid(
                        "[jira] email must be the Atlassian account's email address".into(),
                    ));
                }
                if token.is_blank() {
                    return Err(ConfigError::Invalid("[jira] api_token is empty".into()));
                }
            }
            Auth::Bearer(token) if token.is_blank() => {
                return Err(ConfigError::Invalid("[jira] bearer_token is empty".into()));
            }
            Auth::Bearer(_) => {}
        }
        if self.resolve_transition.trim().is_empty() {
            return Err(ConfigError::Invalid(
                "[jira] resolve_transition is empty (the transition's name, e.g. \"Done\")".into(),
            ));
        }
        if self
            .reopen_transition
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            return Err(ConfigError::Invalid(
                "[jira] reopen_transition is empty (leave it out to only comment on recurrence)"
                    .into(),
            ));
        }
        if let Some(key) = &self.tracking_issue
            && !is_issue_key(key)
        {
            return Err(ConfigError::Invalid(format!(
                "[jira] tracking_issue `{key}` is not an issue key (like FIN-12)"
            )));
        }
        for (name, d) in &self.destinations {
            let what = format!("[jira.destinations.{name}]");
            let invalid = |why: String| ConfigError::Invalid(format!("{what} {why}"));
            if !is_project_key(&d.project) {
                return Err(invalid(format!(
                    "project `{}` is not a project key (upper-case letters and digits, like FINOPS)",
                    d.project
                )));
            }
            if d.issue_type.trim().is_empty() {
                return Err(invalid("issue_type is empty".into()));
            }
            for label in &d.labels {
                check_label(label).map_err(invalid)?;
            }
            if d.components.iter().any(|c| c.trim().is_empty()) {
                return Err(invalid("has an empty component name".into()));
            }
            if d.assignee.as_deref().is_some_and(|a| a.contains('@')) {
                return Err(invalid(
                    "assignee must be an Atlassian accountId, not an email address".into(),
                ));
            }
        }
        if self.rate_per_second == Some(0) {
            return Err(ConfigError::Invalid(
                "[jira] rate_per_second must be at least 1".into(),
            ));
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
        self.api_token
            .iter_mut()
            .chain(self.bearer_token.iter_mut())
            .collect()
    }

    fn rate_limit_override(&self) -> Option<RateLimit> {
        self.rate_per_second.map(RateLimit::per_second)
    }

    fn allow_hosts(&self) -> &[String] {
        &self.allow_hosts
    }
}
