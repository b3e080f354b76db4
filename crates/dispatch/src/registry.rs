//! Integrations behind one object-safe interface, so the CLI and the dispatcher handle any of
//! them the same way. The CLI's registry is a list of [`entry::<I>()`](entry) lines — adding an
//! integration adds one line there and nothing else.

use std::marker::PhantomData;
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use serde_json::Value;

use crate::error::{ConfigError, RenderError};
use crate::hosts;
use crate::integration::{Integration, IntegrationConfig, Message, RateLimit, RenderContext};
use crate::outcome::{Delivered, Outcome, VendorResponse};
use crate::request::VendorRequest;
use crate::routing::Routing;
use crate::secret::{Secret, SecretStores};

/// An integration before it has a config: a name and a way to load one.
pub trait Entry: Send + Sync {
    fn name(&self) -> &'static str;
    /// Parses (unknown fields are errors) and validates `table`, the integration's config
    /// table as JSON; no I/O.
    fn load(&self, table: Value) -> Result<Box<dyn Configured>, ConfigError>;
}

pub fn entry<I: Integration>() -> Box<dyn Entry> {
    Box::new(EntryOf::<I>(PhantomData))
}

struct EntryOf<I>(PhantomData<fn() -> I>);

impl<I: Integration> Entry for EntryOf<I> {
    fn name(&self) -> &'static str {
        I::NAME
    }

    fn load(&self, table: Value) -> Result<Box<dyn Configured>, ConfigError> {
        let config = load_config::<I>(table)?;
        Ok(Box::new(ConfiguredOf::<I> {
            destinations: config.destinations(),
            routing: config.routing().clone(),
            allow_hosts: config.allow_hosts().to_vec(),
            config: RwLock::new(config),
        }))
    }
}

/// Parses and validates one integration's config, routing included.
pub fn load_config<I: Integration>(table: Value) -> Result<I::Config, ConfigError> {
    let mut config: I::Config = serde_json::from_value(table)
        .map_err(|e| ConfigError::Parse(format!("[{}]: {e}", I::NAME)))?;
    config.validate()?;
    for pattern in config.allow_hosts() {
        hosts::check_pattern(pattern)
            .map_err(|why| ConfigError::Invalid(format!("[{}] {why}", I::NAME)))?;
    }
    let allow_hosts = config.allow_hosts().to_vec();
    for secret in config.secrets_mut() {
        check_secret_url::<I>(secret, &allow_hosts)?;
    }
    let destinations = config.destinations();
    if destinations.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "[{}] has no destinations",
            I::NAME
        )));
    }
    config.routing().validate(&destinations)?;
    Ok(config)
}

/// A loaded integration: its config and its pure functions, type-erased. The config sits behind
/// a lock so that its secrets can be re-read while the dispatcher runs (a rotated webhook URL is
/// picked up without a cold start); everything else about it is fixed at load.
pub trait Configured: Send + Sync {
    fn name(&self) -> &'static str;
    fn destinations(&self) -> Vec<String>;
    fn routing(&self) -> &Routing;
    fn rate_limit(&self) -> RateLimit;
    /// [`Integration::MAX_RECEIVES`].
    fn max_receives(&self) -> u32;
    /// The config's `allow_hosts`: hosts that may also resolve to internal addresses.
    fn allow_hosts(&self) -> &[String];
    /// Whether a request may go to `url` (the vendor's hosts, the config's `allow_hosts`, https).
    fn check_url(&self, url: &str) -> Result<(), String>;
    /// The lake objects `render` needs for `message` ([`Integration::objects`]).
    fn objects(&self, message: Message<'_>) -> Vec<String>;
    /// [`Integration::READS_LAKE`].
    fn reads_lake(&self) -> bool;
    /// Runs `f` over every credential of the config, under the write lock (no I/O inside).
    fn with_secrets(&self, f: &mut dyn FnMut(&mut Secret));
    /// Whether a secret's value may be used (a URL must point at an allowed host).
    fn check_secret(&self, secret: &Secret) -> Result<(), ConfigError>;
    fn render(
        &self,
        destination: &str,
        message: Message<'_>,
        context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError>;
    fn classify(&self, request: &VendorRequest, response: &VendorResponse) -> Outcome;
    /// See [`Integration::remainder`].
    fn remainder(&self, request: &VendorRequest, answer: &Delivered) -> Option<VendorRequest>;
    fn remember(
        &self,
        destination: &str,
        message: Message<'_>,
        delivered: &[Delivered],
    ) -> Option<Value>;
}

impl dyn Configured {
    /// On AWS a credential lives in Secrets Manager or SSM: an inline one in the function's
    /// environment would sit in plain text in the Lambda console, CloudFormation and every
    /// `GetFunctionConfiguration`. Refused at cold start, naming how many and what to do.
    pub fn require_references(&self) -> Result<(), ConfigError> {
        let mut inline = 0;
        self.with_secrets(&mut |s| inline += usize::from(s.reference_name().is_none()));
        if inline == 0 {
            return Ok(());
        }
        Err(ConfigError::Invalid(format!(
            "[{}] holds {inline} inline credential(s); on AWS store each in Secrets Manager or SSM and reference it (`{{\"secrets_manager\": \"…\"}}` or `{{\"ssm\": \"…\"}}`)",
            self.name()
        )))
    }

    /// Reads every referenced secret through `stores` (`fresh`: bypassing their caches) and
    /// stores the values in the config; inline secrets stay as they are. Returns whether any
    /// value changed. Nothing is written unless every read succeeded.
    pub async fn resolve_secrets(
        &self,
        stores: &SecretStores<'_>,
        fresh: bool,
    ) -> Result<bool, ConfigError> {
        let mut references: Vec<Option<Secret>> = Vec::new();
        self.with_secrets(&mut |s| {
            references.push(s.reference_name().cloned().map(Secret::reference));
        });
        let mut read = Vec::with_capacity(references.len());
        for reference in references {
            read.push(match reference {
                Some(mut secret) => {
                    secret.resolve_with(stores, fresh).await?;
                    self.check_secret(&secret)?;
                    Some(secret)
                }
                None => None,
            });
        }
        let mut changed = false;
        let mut read = read.into_iter();
        self.with_secrets(&mut |s| {
            if let Some(Some(new)) = read.next() {
                changed |= s.take_value_of(new);
            }
        });
        Ok(changed)
    }
}

/// A secret whose value is a URL (a webhook) must point at the vendor or an allowed host:
/// checked for inline values at load and for referenced ones each time they are read.
fn check_secret_url<I: Integration>(
    secret: &Secret,
    allow_hosts: &[String],
) -> Result<(), ConfigError> {
    let Ok(value) = secret.expose() else {
        return Ok(());
    };
    if !url::Url::parse(value).is_ok_and(|u| u.has_host()) {
        return Ok(());
    }
    hosts::check_url(I::NAME, value, I::ALLOWED_HOSTS, allow_hosts)
        .map_err(|why| ConfigError::Invalid(format!("[{}] {}: {why}", I::NAME, secret.describe())))
}

struct ConfiguredOf<I: Integration> {
    config: RwLock<I::Config>,
    destinations: Vec<String>,
    routing: Routing,
    allow_hosts: Vec<String>,
}

impl<I: Integration> ConfiguredOf<I> {
    fn config(&self) -> RwLockReadGuard<'_, I::Config> {
        self.config.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<I: Integration> Configured for ConfiguredOf<I> {
    fn name(&self) -> &'static str {
        I::NAME
    }

    fn destinations(&self) -> Vec<String> {
        self.destinations.clone()
    }

    fn routing(&self) -> &Routing {
        &self.routing
    }

    fn rate_limit(&self) -> RateLimit {
        self.config().rate_limit_override().unwrap_or(I::RATE_LIMIT)
    }

    fn max_receives(&self) -> u32 {
        I::MAX_RECEIVES
    }

    fn check_url(&self, url: &str) -> Result<(), String> {
        hosts::check_url(I::NAME, url, I::ALLOWED_HOSTS, &self.allow_hosts)
    }

    fn check_secret(&self, secret: &Secret) -> Result<(), ConfigError> {
        check_secret_url::<I>(secret, &self.allow_hosts)
    }

    fn allow_hosts(&self) -> &[String] {
        &self.allow_hosts
    }

    fn objects(&self, message: Message<'_>) -> Vec<String> {
        I::objects(message)
    }

    fn reads_lake(&self) -> bool {
        I::READS_LAKE
    }

    fn with_secrets(&self, f: &mut dyn FnMut(&mut Secret)) {
        let mut config = self.config.write().unwrap_or_else(PoisonError::into_inner);
        for secret in config.secrets_mut() {
            f(secret);
        }
    }

    fn render(
        &self,
        destination: &str,
        message: Message<'_>,
        context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        if !self.destinations.iter().any(|d| d == destination) {
            return Err(RenderError::UnknownDestination(destination.to_owned()));
        }
        I::render(&self.config(), destination, message, context)
    }

    fn classify(&self, request: &VendorRequest, response: &VendorResponse) -> Outcome {
        I::classify(request, response)
    }

    fn remainder(&self, request: &VendorRequest, answer: &Delivered) -> Option<VendorRequest> {
        I::remainder(request, answer)
    }

    fn remember(
        &self,
        destination: &str,
        message: Message<'_>,
        delivered: &[Delivered],
    ) -> Option<Value> {
        I::remember(&self.config(), destination, message, delivered)
    }
}
