//! A lean build (`make demo` builds with `--no-default-features`: no AWS SDK, no HTTP client)
//! keeps every command on the command line; one it left out says which build it needs instead
//! of being an unknown command.

use clap::Args;

/// The error a command gives in a build without `feature`.
#[cfg_attr(all(feature = "aws", feature = "integrations"), allow(dead_code))]
pub fn needs(feature: &str, command: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "`costwatch {command}` is not in this build: it was built without the `{feature}` \
         feature (`make demo` builds a lean CLI with --no-default-features). Use the full \
         build: `cargo run -p costwatch-cli -- {command} …`, or install it with \
         `cargo install --path crates/cli`"
    )
}

/// The arguments of a command the build left out, taken as they come, so the command says
/// which build it needs whatever was passed.
#[derive(Args)]
#[cfg_attr(all(feature = "aws", feature = "integrations"), allow(dead_code))]
pub struct LeftOut {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    args: Vec<String>,
}
