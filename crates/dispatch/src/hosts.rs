//! Where a dispatcher may send. Webhook URLs are credentials that an operator pastes, or that come
//! out of Secrets Manager/SSM; a typo, a stale proxy or a tampered secret must not send an alert
//! (and the token in its URL) to a host the vendor does not own. Each integration pins its
//! vendor's hosts ([`crate::Integration::ALLOWED_HOSTS`]); a config may add its own with
//! `allow_hosts` (GovCloud, a proxy, a test server). Checked when the config loads (inline URLs)
//! and again by the sender on every request, after secrets are resolved and placeholders filled.
//!
//! A pattern is a host name (`hooks.slack.com`) or `*.` and a domain (`*.logic.azure.com`:
//! any host under it, not the domain itself). Only `https` is sent, except to a loopback host a
//! config names in `allow_hosts` (a local test server).

use std::net::IpAddr;

/// Whether `host` matches `pattern` (both compared case-insensitively).
pub fn matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    match pattern.strip_prefix("*.") {
        Some(domain) => host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
        None => host == pattern,
    }
}

/// Why a config's `allow_hosts` entry is not a usable pattern.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    let valid = !name.is_empty()
        && !name.contains('*')
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        || name.parse::<IpAddr>().is_ok();
    if valid {
        Ok(())
    } else {
        Err(format!(
            "allow_hosts entry `{pattern}` must be a host name, an IP address or `*.domain`"
        ))
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Checks `url` against the vendor's `pinned` hosts and the config's `extra` ones. The error
/// names the host (never the path or query, which carry credentials) and what to do.
pub fn check_url(
    integration: &str,
    url: &str,
    pinned: &[&str],
    extra: &[String],
) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|_| "the URL does not parse".to_owned())?;
    let host = parsed
        .host()
        .ok_or_else(|| "the URL has no host".to_owned())?;
    let name = match &host {
        url::Host::Domain(d) => (*d).to_owned(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    let in_extra = extra.iter().any(|p| matches(p, &name));
    let allowed = in_extra || pinned.iter().any(|p| matches(p, &name));
    if !allowed {
        return Err(format!(
            "host `{name}` is not a {integration} host (allowed: {}); if it is your proxy or a GovCloud endpoint, add it to allow_hosts",
            pinned.join(", ")
        ));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if in_extra && is_loopback(&host) => Ok(()),
        other => Err(format!(
            "{other}:// to `{name}` refused: credentials travel only over https"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLACK: &[&str] = &["hooks.slack.com", "slack.com"];
    const TEAMS: &[&str] = &["*.logic.azure.com"];

    #[test]
    fn pinned_hosts_and_wildcards() {
        assert!(
            check_url(
                "slack",
                "https://hooks.slack.com/services/T/B/x",
                SLACK,
                &[]
            )
            .is_ok()
        );
        assert!(check_url("slack", "https://HOOKS.SLACK.COM/services/x", SLACK, &[]).is_ok());
        assert!(
            check_url(
                "teams",
                "https://prod-1.westus.logic.azure.com/x",
                TEAMS,
                &[]
            )
            .is_ok()
        );
        // The wildcard is a subdomain, never the domain itself or a look-alike suffix.
        assert!(check_url("teams", "https://logic.azure.com/x", TEAMS, &[]).is_err());
        assert!(check_url("teams", "https://evillogic.azure.com/x", TEAMS, &[]).is_err());
        assert!(
            check_url(
                "slack",
                "https://hooks.slack.com.evil.example/x",
                SLACK,
                &[]
            )
            .is_err()
        );
        let err = check_url(
            "slack",
            "https://evil.example/services/T/B/token-xyz",
            SLACK,
            &[],
        )
        .unwrap_err();
        assert!(
            err.contains("evil.example") && err.contains("allow_hosts"),
            "{err}"
        );
        assert!(!err.contains("token-xyz"), "{err}");
    }

    #[test]
    fn https_only_except_an_allowed_loopback_test_server() {
        let err = check_url("slack", "http://hooks.slack.com/services/x", SLACK, &[]).unwrap_err();
        assert!(err.contains("https"), "{err}");
        let local = vec!["127.0.0.1".to_owned()];
        assert!(check_url("slack", "http://127.0.0.1:9000/x", SLACK, &local).is_ok());
        assert!(check_url("slack", "http://127.0.0.1:9000/x", SLACK, &[]).is_err());
        let proxy = vec!["proxy.corp.example".to_owned()];
        assert!(check_url("slack", "https://proxy.corp.example/x", SLACK, &proxy).is_ok());
        assert!(check_url("slack", "http://proxy.corp.example/x", SLACK, &proxy).is_err());
    }

    #[test]
    fn allow_hosts_patterns_are_checked() {
        for good in ["proxy.example", "*.example.com", "127.0.0.1", "::1"] {
            assert!(check_pattern(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "*",
            "*.",
            "a..b",
            "https://x.example",
            "x.example/path",
            "*.*.example",
        ] {
            assert!(check_pattern(bad).is_err(), "{bad}");
        }
    }
}
