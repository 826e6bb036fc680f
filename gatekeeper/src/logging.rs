//! Logging: the shared `tracing` setup of [`ops::logging`], filtered by `GATEKEEPER_LOG` (or
//! `RUST_LOG`; an `EnvFilter` such as `debug` or `gatekeeper=debug,hollow=info`), written to
//! stderr as text or JSON (`--log-format`, `GATEKEEPER_LOG_FORMAT`).

use ops::logging::{LogError, LogFormat};

/// The variable of the log filter.
pub const LOG_VAR: &str = "GATEKEEPER_LOG";
/// The variable of the log format (`text` or `json`), read when no `--log-format` is given.
pub const LOG_FORMAT_VAR: &str = "GATEKEEPER_LOG_FORMAT";

/// Installs the subscriber (once; later calls do nothing) in `format`; `default` applies when
/// neither `GATEKEEPER_LOG` nor `RUST_LOG` is set. An invalid filter is an error.
pub fn try_init(default: log::LevelFilter, format: LogFormat) -> Result<(), LogError> {
    ops::logging::init(LOG_VAR, ops::logging::level_from_log(default), format)
}

/// Installs the subscriber for tests and tools: the format from `GATEKEEPER_LOG_FORMAT`, an
/// invalid filter reported on stderr and `default` used instead.
pub fn init(default: log::LevelFilter) {
    ops::logging::init_or_default(
        LOG_VAR,
        LOG_FORMAT_VAR,
        ops::logging::level_from_log(default),
    );
}

/// Parses a duration: `60s`, `1.5s`, `500ms`, `2m`, `1h`, or plain seconds (`30`); see
/// [`ops::parse_duration`].
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    ops::parse_duration(text).ok()
}
