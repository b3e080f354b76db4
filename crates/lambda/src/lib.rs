//! What every costwatch Lambda shares, so that each Lambda crate is a thin `main.rs`: settings
//! from the environment ([`env`]), the AWS adapters built once per container ([`deps`]), the
//! events that chain the pipeline over SNS ([`events`]), rejection of malformed events to a
//! dead-letter queue ([`dead_letter`], [`serve`]), dependencies built on the first event
//! ([`ready`]), CloudWatch metrics as EMF log lines ([`emf`])
//! and the handlers themselves ([`handlers`]), which take ports and so also run in tests.

pub mod athena;
pub mod dead_letter;
pub mod deps;
pub mod emf;
pub mod env;
pub mod error;
pub mod events;
pub mod handlers;
pub mod logging;
pub mod ready;
pub mod serve;

pub use error::HandlerError;
pub use serve::serve;
