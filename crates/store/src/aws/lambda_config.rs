//! The SDK configuration of a Lambda function: region, credentials and endpoints from the
//! environment the Lambda service sets, and nothing else. The standard chain
//! ([`super::config_loader`]) also knows profile files, IMDS, ECS, web identity and STS, none of
//! which a Lambda ever reaches; not calling it lets the linker drop them from every function
//! binary (issue 17: binaries ≤ 8 MB). The CLI and the tests keep the standard chain.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::{Region, SdkConfig};
use aws_types::sdk_config::SharedCredentialsProvider;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

use super::{behavior_version, sdk_http_client, timeouts};

/// `AWS_REGION` (the Lambda service sets it; `AWS_DEFAULT_REGION` as the standard chain's
/// fallback), the role's session credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
/// `AWS_SESSION_TOKEN`, and `AWS_ENDPOINT_URL` (plus `AWS_ENDPOINT_URL_<SERVICE>`) when an
/// emulator stands in for AWS.
pub fn lambda_config() -> SdkConfig {
    lambda_config_from(std::env::vars())
}

fn lambda_config_from(vars: impl IntoIterator<Item = (String, String)>) -> SdkConfig {
    // Set and not blank, as the standard chain treats an empty variable.
    let vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(name, value)| name.starts_with("AWS_") && !value.trim().is_empty())
        .collect();
    let set = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let region = set("AWS_REGION").or_else(|| set("AWS_DEFAULT_REGION"));
    let endpoint = set("AWS_ENDPOINT_URL");
    // Only the per-service endpoints: the credentials are in the same environment, and the
    // config (with this inside) is Debug — a logged config must not carry the secret key.
    let service_endpoints = vars
        .iter()
        .filter(|(name, _)| name.starts_with("AWS_ENDPOINT_URL_"))
        .cloned()
        .collect();
    let mut config = SdkConfig::builder()
        .behavior_version(behavior_version())
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .http_client(sdk_http_client())
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard())
        .service_config(ServiceEnv(service_endpoints));
    config.set_region(region.map(Region::new));
    config.set_endpoint_url(endpoint);
    config.build()
}

/// The `AWS_ENDPOINT_URL_<SERVICE_ID>` variables: a test points one service at a fake with
/// `AWS_ENDPOINT_URL_COST_EXPLORER` while the others keep `AWS_ENDPOINT_URL`.
#[derive(Debug)]
struct ServiceEnv(Vec<(String, String)>);

impl LoadServiceConfig for ServiceEnv {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        // The SDKs' naming: the service id upper-cased, spaces as underscores.
        let service = key.service_id().to_ascii_uppercase().replace(' ', "_");
        let name = format!("{}_{service}", key.env());
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn from(vars: &[(&str, &str)]) -> SdkConfig {
        lambda_config_from(owned(vars))
    }

    #[test]
    fn region_and_endpoint_come_from_the_lambda_environment() {
        let config = from(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-east-2"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]);
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5000"));
        assert!(config.credentials_provider().is_some());
        assert!(
            config.http_client().is_some(),
            "no default client is linked"
        );
        assert_eq!(config.timeout_config(), Some(&timeouts()));
        let fallback = from(&[("AWS_DEFAULT_REGION", "us-east-2"), ("AWS_REGION", " ")]);
        assert_eq!(fallback.region().map(|r| r.as_ref()), Some("us-east-2"));
        assert_eq!(fallback.endpoint_url(), None);
    }

    #[test]
    fn the_config_never_holds_the_secret_key_where_debug_prints_it() {
        let config = from(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
            ("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEXAMPLETOKEN"),
            ("AWS_ENDPOINT_URL_COST_EXPLORER", "http://127.0.0.1:9"),
        ]);
        let printed = format!("{config:?}");
        assert!(
            printed.contains("AWS_ENDPOINT_URL_COST_EXPLORER"),
            "{printed}"
        );
        for secret in ["wJalrXUtnFEMI", "IQoJb3JpZ2lu"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }

    #[test]
    fn a_service_endpoint_overrides_the_shared_one_for_that_service_only() {
        let env = ServiceEnv(owned(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_COST_EXPLORER", "http://127.0.0.1:9"),
        ]));
        let key = |service| {
            ServiceConfigKey::builder()
                .service_id(service)
                .profile("endpoint_url")
                .env("AWS_ENDPOINT_URL")
                .build()
                .unwrap()
        };
        assert_eq!(
            env.load_config(key("Cost Explorer")).as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(env.load_config(key("DynamoDB")), None);
    }
}
