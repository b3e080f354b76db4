//! The sender's DNS resolver: the system's lookup, then only the addresses a request may use
//! ([`hosts::public_addresses`]). reqwest resolves through it for every new connection and
//! connects only to what it returns, so the address checked is the address connected to: a name
//! that resolves to an internal address, or rebinds to one after a first public answer, is
//! refused at that connection. IP-literal URLs skip DNS; [`hosts::check_url`] checks those.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::hosts;

/// Resolves with the system resolver and drops internal addresses, except for hosts matching
/// one of `allowed` (the config's `allow_hosts` and the sender's endpoint override).
#[derive(Debug, Clone)]
pub struct PublicOnly {
    allowed: Vec<String>,
}

impl PublicOnly {
    pub fn new(allowed: Vec<String>) -> Self {
        Self { allowed }
    }
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.allowed.iter().any(|p| hosts::matches(p, &host));
        Box::pin(async move {
            // Port 0: the connector sets the URL's port on every address.
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable = hosts::public_addresses(&host, resolved, allowed)?;
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}
