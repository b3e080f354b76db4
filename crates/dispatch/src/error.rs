//! Errors of the contract and the framework.

use thiserror::Error;

/// A config that cannot work; found without I/O (or while resolving secrets at cold start).
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error("unknown integration `{0}`")]
    UnknownIntegration(String),
    #[error("{0} was not resolved before rendering")]
    UnresolvedSecret(String),
    #[error("config: {0}")]
    Parse(String),
}

/// Rendering an envelope failed: a bug or a config problem, never worth retrying.
#[derive(Debug, Error)]
pub enum RenderError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("destination `{0}` is not configured")]
    UnknownDestination(String),
    #[error("cannot render: {0}")]
    Unsupported(String),
}

#[derive(Debug, Error)]
pub enum DispatchError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Store(#[from] costwatch_store::StoreError),
    #[error("malformed message: {0}")]
    Malformed(String),
}
