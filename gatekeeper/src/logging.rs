//! Logging: the shared stderr logger of [`ops::logging`], its level from `GATEKEEPER_LOG` (or
//! `RUST_LOG`): `error`, `warn`, `info`, `debug` or `trace`.

use log::LevelFilter;

/// Installs the logger (once; later calls do nothing). `default` applies when neither
/// `GATEKEEPER_LOG` nor `RUST_LOG` is set.
pub fn init(default: LevelFilter) {
    ops::logging::init("GATEKEEPER_LOG", default);
}

/// Parses a duration: `60s`, `1.5s`, `500ms`, `2m`, `1h`, or plain seconds (`30`); see
/// [`ops::parse_duration`].
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    ops::parse_duration(text).ok()
}
