//! Integrations behind one object-safe interface, so the CLI and the dispatcher handle any of
//! them the same way. The CLI's registry is a list of [`entry::<I>()`](entry) lines — adding an
//! integration adds one line there and nothing else.

use std::marker::PhantomData;

use serde_json::Value;

use crate::error::{ConfigError, RenderError};
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
        Ok(Box::new(ConfiguredOf::<I> {
            config: load_config::<I>(table)?,
        }))
    }
}

/// Parses and validates one integration's config, routing included.
pub fn load_config<I: Integration>(table: Value) -> Result<I::Config, ConfigError> {
    let config: I::Config = serde_json::from_value(table)
        .map_err(|e| ConfigError::Parse(format!("[{}]: {e}", I::NAME)))?;
    config.validate()?;
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

/// A loaded integration: its config and its pure functions, type-erased.
pub trait Configured: Send + Sync {
    fn name(&self) -> &'static str;
    fn destinations(&self) -> Vec<String>;
    fn routing(&self) -> &Routing;
    fn rate_limit(&self) -> RateLimit;
    fn secrets_mut(&mut self) -> Vec<&mut Secret>;
    fn render(
        &self,
        destination: &str,
        message: Message<'_>,
        context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError>;
    fn classify(&self, request: &VendorRequest, response: &VendorResponse) -> Outcome;
    fn remember(
        &self,
        destination: &str,
        message: Message<'_>,
        delivered: &[Delivered],
    ) -> Option<Value>;
}

impl dyn Configured {
    /// Resolves every referenced secret once (cold start).
    pub async fn resolve_secrets(&mut self, stores: &SecretStores<'_>) -> Result<(), ConfigError> {
        for secret in self.secrets_mut() {
            secret.resolve(stores).await?;
        }
        Ok(())
    }
}

struct ConfiguredOf<I: Integration> {
    config: I::Config,
}

impl<I: Integration> Configured for ConfiguredOf<I> {
    fn name(&self) -> &'static str {
        I::NAME
    }

    fn destinations(&self) -> Vec<String> {
        self.config.destinations()
    }

    fn routing(&self) -> &Routing {
        self.config.routing()
    }

    fn rate_limit(&self) -> RateLimit {
        self.config.rate_limit_override().unwrap_or(I::RATE_LIMIT)
    }

    fn secrets_mut(&mut self) -> Vec<&mut Secret> {
        self.config.secrets_mut()
    }

    fn render(
        &self,
        destination: &str,
        message: Message<'_>,
        context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        if !self.config.destinations().iter().any(|d| d == destination) {
            return Err(RenderError::UnknownDestination(destination.to_owned()));
        }
        I::render(&self.config, destination, message, context)
    }

    fn classify(&self, request: &VendorRequest, response: &VendorResponse) -> Outcome {
        I::classify(request, response)
    }

    fn remember(
        &self,
        destination: &str,
        message: Message<'_>,
        delivered: &[Delivered],
    ) -> Option<Value> {
        I::remember(&self.config, destination, message, delivered)
    }
}
