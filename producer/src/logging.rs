//! Logging: the shared stderr logger of [`ops::logging`], its level from `PRODUCER_LOG` (or
//! `RUST_LOG`): `error`, `warn`, `info`, `debug` or `trace`.

use log::LevelFilter;

/// Installs the logger (once; later calls do nothing). `default` is used when neither
/// `PRODUCER_LOG` nor `RUST_LOG` is set.
pub fn init(default: LevelFilter) {
    ops::logging::init("PRODUCER_LOG", default);
}
