//! Every function's log subscriber: Lambda's advanced logging controls honoured as
//! `lambda_runtime::tracing::init_default_subscriber` honours them (`AWS_LAMBDA_LOG_LEVEL`, else
//! `RUST_LOG`, else INFO; JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON`), but filtered by
//! `Targets` instead of `EnvFilter`: EnvFilter's span-field matching compiles regexes and linked
//! about 0.2 MB of regex engine into each binary (issue 17: binaries ≤ 8 MB). `RUST_LOG` keeps
//! its `target=level,…` form; only EnvFilter's `[span{field=value}]` filters are not understood.

use std::str::FromStr;

use lambda_runtime::tracing::subscriber::filter::{LevelFilter, Targets};
use lambda_runtime::tracing::subscriber::layer::SubscriberExt;
use lambda_runtime::tracing::subscriber::util::SubscriberInitExt;
use lambda_runtime::tracing::subscriber::{fmt, registry};

/// Installs the subscriber; call once, first thing in `main`.
pub fn init() {
    let var = |name: &str| std::env::var(name).ok();
    let filter = filter(var("AWS_LAMBDA_LOG_LEVEL"), var("RUST_LOG"));
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let lines = fmt::layer().with_target(false).without_time();
    let subscriber = registry().with(filter);
    // Already set (a test harness, a second call): keep the first.
    let _already_set = if json {
        subscriber.with(lines.json()).try_init()
    } else {
        subscriber.with(lines).try_init()
    };
}

/// Lambda's level wins (the console's "application log level"), as in the runtime's own
/// subscriber; an unreadable value falls back to INFO rather than silencing the function.
fn filter(lambda_level: Option<String>, rust_log: Option<String>) -> Targets {
    let info = Targets::new().with_default(LevelFilter::INFO);
    match (lambda_level, rust_log) {
        (Some(level), _) => LevelFilter::from_str(level.trim())
            .map(|l| Targets::new().with_default(l))
            .unwrap_or(info),
        (None, Some(directives)) => Targets::from_str(directives.trim()).unwrap_or(info),
        (None, None) => info,
    }
}

#[cfg(test)]
mod tests {
    use lambda_runtime::tracing::Level;

    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn lambda_level_then_rust_log_then_info() {
        let f = filter(some("ERROR"), some("debug"));
        assert!(f.would_enable("costwatch_dispatch", &Level::ERROR));
        assert!(!f.would_enable("costwatch_dispatch", &Level::WARN));

        let f = filter(None, some("warn,costwatch_dispatch=debug"));
        assert!(f.would_enable("costwatch_dispatch::sender", &Level::DEBUG));
        assert!(!f.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(f.would_enable("aws_smithy_runtime", &Level::WARN));

        let f = filter(None, None);
        assert!(f.would_enable("anything", &Level::INFO));
        assert!(!f.would_enable("anything", &Level::DEBUG));

        let f = filter(some("loud"), None);
        assert!(f.would_enable("anything", &Level::INFO), "bad level → INFO");
    }
}
