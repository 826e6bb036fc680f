//! Logging and tracing for the services, through `tracing` and `tracing-subscriber`.
//!
//! [`init`] installs one subscriber per process that writes to stderr, as text (the default:
//! `2026-11-22T10:00:00.123456Z  INFO cycle{n=3}: producer::service: message`) or as one JSON
//! object per line ([`LogFormat`]). ANSI colours are used only when stderr is a terminal and
//! `NO_COLOR` is unset. Span close events are written too (`FmtSpan::CLOSE`), so a span such as
//! the producer's `cycle` ends with a line carrying its fields and `time.busy`/`time.idle`.
//!
//! The filter is an [`EnvFilter`] (`info`, `debug`, `producer=debug,hollow=info`, ...) from the
//! service's own variable (`PRODUCER_LOG`, `GATEKEEPER_LOG`), else `RUST_LOG`, else the
//! service's default level. A bare level more verbose than `warn` (`info`, `debug`) keeps the
//! chatty dependencies of [`QUIET_TARGETS`] at `warn`; `trace` shows everything. An invalid
//! filter is an error ([`LogError`]), not a panic.
//!
//! The libraries log through the `log` facade (hollow, rdkafka): its records are bridged into
//! `tracing` (`tracing-log`), so they are filtered and formatted the same way.

use std::io::IsTerminal as _;

use tracing_subscriber::filter::{EnvFilter, ParseError};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

pub use tracing_subscriber::filter::LevelFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per event (fields, span, target, level, timestamp).
    Json,
}

impl LogFormat {
    /// Parses `text` or `json` (any case), for a format read from a variable.
    pub fn parse(text: &str) -> Option<LogFormat> {
        <LogFormat as clap::ValueEnum>::from_str(text.trim(), true).ok()
    }
}

/// Targets kept at `warn` when the filter is a bare level more verbose than `warn`.
pub const QUIET_TARGETS: &[&str] = &[
    "librdkafka",
    "rdkafka",
    "aws_smithy_runtime",
    "aws_sdk_s3",
    "aws_config",
    "hyper_util",
    "h2",
];

/// A logging setup that cannot be installed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The filter in a variable does not parse.
    #[error("{var}={value:?} is not a log filter (such as info, debug or producer=debug,hollow=info): {source}")]
    Filter {
        /// The variable the filter came from.
        var: String,
        /// Its value.
        value: String,
        /// What the parser said.
        #[source]
        source: ParseError,
    },
}

/// The `log` crate's level filter as `tracing`'s.
pub fn level_from_log(level: log::LevelFilter) -> LevelFilter {
    match level {
        log::LevelFilter::Off => LevelFilter::OFF,
        log::LevelFilter::Error => LevelFilter::ERROR,
        log::LevelFilter::Warn => LevelFilter::WARN,
        log::LevelFilter::Info => LevelFilter::INFO,
        log::LevelFilter::Debug => LevelFilter::DEBUG,
        log::LevelFilter::Trace => LevelFilter::TRACE,
    }
}

/// The filter directives for `text`: `text` itself, plus `target=warn` for every one of
/// [`QUIET_TARGETS`] when `text` is a bare level more verbose than `warn` and less than `trace`.
pub fn directives(text: &str) -> String {
    let text = text.trim();
    match text.parse::<LevelFilter>() {
        Ok(level) if level > LevelFilter::WARN && level < LevelFilter::TRACE => {
            let mut out = text.to_owned();
            for target in QUIET_TARGETS {
                out.push(',');
                out.push_str(target);
                out.push_str("=warn");
            }
            out
        }
        _ => text.to_owned(),
    }
}

/// The filter from `env_var`, else `RUST_LOG` (an empty variable counts as unset), else
/// `default`; see [`directives`].
pub fn filter(env_var: &str, default: LevelFilter) -> Result<EnvFilter, LogError> {
    let (var, value) = [env_var, "RUST_LOG"]
        .into_iter()
        .find_map(|var| {
            std::env::var(var)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (var.to_owned(), v))
        })
        .unwrap_or_else(|| ("the default".to_owned(), default.to_string()));
    EnvFilter::builder()
        .parse(directives(&value))
        .map_err(|source| LogError::Filter { var, value, source })
}

/// Whether to colour the output: stderr is a terminal and `NO_COLOR` is unset (or empty).
fn ansi() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Installs the stderr subscriber (once per process; later calls keep the first and return
/// `Ok`), with the filter of [`filter`] and the `log` bridge.
pub fn init(env_var: &str, default: LevelFilter, format: LogFormat) -> Result<(), LogError> {
    let filter = filter(env_var, default)?;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(ansi());
    let layer = match format {
        LogFormat::Text => layer.boxed(),
        LogFormat::Json => layer.json().boxed(),
    };
    // An error here means a subscriber (or a `log` logger) is already installed: keep it.
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
    Ok(())
}

/// The format named by the variable `env_var` (`text` or `json`), text when unset or unknown.
pub fn format_from_env(env_var: &str) -> LogFormat {
    std::env::var(env_var)
        .ok()
        .and_then(|v| LogFormat::parse(&v))
        .unwrap_or_default()
}

/// [`init`] for tests and tools that have no command line: the format from `format_var`;
/// an invalid filter is reported on stderr and the `default` level used instead.
pub fn init_or_default(env_var: &str, format_var: &str, default: LevelFilter) {
    let format = format_from_env(format_var);
    if let Err(e) = init(env_var, default, format) {
        eprintln!("{e}; logging at {default}");
        let _ = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(ansi())
                    .with_filter(default),
            )
            .try_init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_levels_keep_the_chatty_targets_at_warn() {
        assert_eq!(
            directives("debug"),
            format!(
                "debug,{}",
                QUIET_TARGETS
                    .iter()
                    .map(|t| format!("{t}=warn"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        );
        assert!(directives("info").contains(",rdkafka=warn"));
        assert!(directives(" INFO ").starts_with("INFO,librdkafka=warn"));
        for kept in [
            "trace",
            "warn",
            "error",
            "off",
            "producer=debug",
            "info,hollow=debug",
        ] {
            assert_eq!(directives(kept), kept);
        }
        for ok in [
            "debug",
            "producer=debug,hollow=info",
            "warn,producer::service=trace",
        ] {
            assert!(EnvFilter::builder().parse(directives(ok)).is_ok(), "{ok}");
        }
    }

    #[test]
    fn an_invalid_filter_is_an_error_naming_the_variable() {
        // a variable only this test sets
        let var = "OPS_LOGGING_TEST_FILTER";
        std::env::set_var(var, "producer=loud");
        let err = filter(var, LevelFilter::INFO).unwrap_err();
        std::env::remove_var(var);
        let text = err.to_string();
        assert!(
            text.contains("OPS_LOGGING_TEST_FILTER=\"producer=loud\""),
            "{text}"
        );
    }

    #[test]
    fn formats_parse() {
        assert_eq!(LogFormat::parse("json"), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse(" Text"), Some(LogFormat::Text));
        assert_eq!(LogFormat::parse("xml"), None);
        assert_eq!(level_from_log(log::LevelFilter::Warn), LevelFilter::WARN);
    }
}
