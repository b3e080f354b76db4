//! The one way the suite builds a client for outbound HTTPS to vendors (feature `http`): reqwest
//! on rustls with the ring provider. reqwest is built with `rustls-no-provider` and takes the
//! process default, so this installs ring first. The AWS SDK talks through a client from here
//! too ([`crate::aws::sdk_http_client`]), so a binary links one HTTP stack and one crypto
//! library (issue 17: binaries ≤ 8 MB).

/// A reqwest builder whose TLS runs on ring. Call this instead of `reqwest::Client::builder()`:
/// without a provider installed, reqwest panics when the client is built.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}

/// Installs ring as rustls' process default. Idempotent: when a provider is already installed
/// it is kept (it is ring too — no other provider is linked).
pub fn install_crypto_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_builds_on_ring_and_a_second_install_is_harmless() {
        http_client_builder().build().expect("a client");
        install_crypto_provider();
        let provider = rustls::crypto::CryptoProvider::get_default().expect("installed");
        let ring = rustls::crypto::ring::default_provider();
        let names = |p: &rustls::crypto::CryptoProvider| {
            p.cipher_suites
                .iter()
                .map(|s| format!("{:?}", s.suite()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(provider), names(&ring));
    }
}
