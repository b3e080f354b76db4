//! Where a dispatcher may send. Webhook URLs are credentials that an operator pastes, or that come
//! out of Secrets Manager/SSM; a typo, a stale proxy or a tampered secret must not send an alert
//! (and the token in its URL) to a host the vendor does not own. Each integration pins its
//! vendor's hosts ([`crate::Integration::ALLOWED_HOSTS`]); a config may add its own with
//! `allow_hosts` (GovCloud, a proxy, a test server). Checked when the config loads (inline URLs)
//! and again by the sender on every request, after secrets are resolved and placeholders filled.
//!
//! A pattern is a host name (`hooks.slack.com`) or `*.` and a domain (`*.logic.azure.com`:
//! any host under it, not the domain itself). [`ANY_PUBLIC_HOST`] (`*`), only in an
//! integration's pinned hosts, is any host: for integrations whose destinations are the user's
//! own servers (custom webhooks). Only `https` is sent, except to a loopback host a config names
//! in `allow_hosts` (a local test server).
//!
//! Internal addresses ([`is_internal`]: loopback, private, link-local — cloud metadata lives
//! there — unique-local, and their IPv4-mapped forms) are refused unless the config names the
//! host in `allow_hosts`: an IP-literal URL here, a host name after every DNS resolution by the
//! sender's resolver ([`crate::sender`]), so a name that resolves to `127.0.0.1` or rebinds to
//! `169.254.169.254` between two connections reaches neither.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The pinned-host pattern that admits any host (still https-only and never internal).
pub const ANY_PUBLIC_HOST: &str = "*";

/// Whether `host` matches `pattern` (both compared case-insensitively).
pub fn matches(pattern: &str, host: &str) -> bool {
    if pattern == ANY_PUBLIC_HOST {
        return true;
    }
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

/// Loopback, private (RFC 1918), shared (RFC 6598: 100.64/10, where some clouds put metadata),
/// link-local (169.254/16: AWS, GCP and Azure metadata), unspecified and broadcast IPv4; IPv6
/// loopback, unspecified, unique-local (fc00::/7, AWS metadata `fd00:ec2::254`), link-local and
/// site-local; and any IPv4 address inside IPv6 (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`)
/// by the IPv4 rules.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => internal_v4(v4),
            None => internal_v6(v6),
        },
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0])
        .then(|| Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8))
}

/// Why a request may not go to `ip` (named `host` in the URL), unless `allowed`.
pub fn check_address(host: &str, ip: IpAddr, allowed: bool) -> Result<(), String> {
    if allowed || !is_internal(ip) {
        return Ok(());
    }
    Err(format!(
        "`{host}` is the internal address {ip} (loopback, private, link-local or metadata): refused; if it is your own server, add `{host}` to allow_hosts"
    ))
}

/// The addresses `host` resolved to that a request may use: all of them when the host is
/// `allowed`, else the public ones; `Err` when none is left.
pub fn public_addresses(
    host: &str,
    resolved: Vec<std::net::SocketAddr>,
    allowed: bool,
) -> Result<Vec<std::net::SocketAddr>, String> {
    if allowed {
        return Ok(resolved);
    }
    let (public, internal): (Vec<_>, Vec<_>) =
        resolved.into_iter().partition(|a| !is_internal(a.ip()));
    if public.is_empty() {
        let shown: Vec<String> = internal.iter().map(|a| a.ip().to_string()).collect();
        return Err(format!(
            "`{host}` resolves only to internal addresses ({}: loopback, private, link-local or metadata): refused; if it is your own server, add `{host}` to allow_hosts",
            if shown.is_empty() {
                "none".to_owned()
            } else {
                shown.join(", ")
            }
        ));
    }
    Ok(public)
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
    let literal = match &host {
        url::Host::Domain(_) => None,
        url::Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
    };
    if let Some(ip) = literal {
        check_address(&name, ip, in_extra)?;
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
    fn internal_addresses_in_every_form_are_refused_unless_allowed() {
        let any = &[ANY_PUBLIC_HOST];
        for url in [
            "https://127.0.0.1/x",
            "https://127.8.9.10/x",
            "https://10.1.2.3/x",
            "https://172.16.0.1/x",
            "https://172.31.255.255/x",
            "https://192.168.1.1/x",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.100.100.200/x",
            "https://0.0.0.0/x",
            "https://[::1]/x",
            "https://[fd00:ec2::254]/x",
            "https://[fe80::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[::ffff:a9fe:a9fe]/x",
            "https://[64:ff9b::a00:1]/x",
            "https://2130706433/x",
            "https://0x7f.1/x",
        ] {
            let err = check_url("webhook", url, any, &[]).unwrap_err();
            assert!(err.contains("internal address"), "{url}: {err}");
        }
        for url in [
            "https://93.184.215.14/x",
            "https://172.32.0.1/x",
            "https://[2606:4700::1111]/x",
            "https://example.com/x",
        ] {
            assert!(check_url("webhook", url, any, &[]).is_ok(), "{url}");
        }
        let allowed = vec!["10.1.2.3".to_owned()];
        assert!(check_url("webhook", "https://10.1.2.3/x", any, &allowed).is_ok());
        // `*` is no config pattern: a config cannot open every host.
        assert!(check_pattern(ANY_PUBLIC_HOST).is_err());
    }

    #[test]
    fn resolved_addresses_keep_only_public_ones() {
        let addr = |s: &str| std::net::SocketAddr::new(s.parse().unwrap(), 0);
        let mixed = vec![
            addr("127.0.0.1"),
            addr("93.184.215.14"),
            addr("::ffff:10.0.0.1"),
        ];
        assert_eq!(
            public_addresses("rebind.example", mixed.clone(), false).unwrap(),
            vec![addr("93.184.215.14")]
        );
        assert_eq!(public_addresses("x", mixed.clone(), true).unwrap(), mixed);
        let err =
            public_addresses("localhost", vec![addr("127.0.0.1"), addr("::1")], false).unwrap_err();
        assert!(
            err.contains("127.0.0.1, ::1") && err.contains("allow_hosts"),
            "{err}"
        );
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
