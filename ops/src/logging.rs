//! A minimal stderr logger for the `log` facade: one line per event,
//! `2026-11-22T10:00:00.123Z INFO  producer::service: message`.
//!
//! The level comes from the service's own variable (`PRODUCER_LOG`, `GATEKEEPER_LOG`) or
//! `RUST_LOG`: `error`, `warn`, `info`, `debug` or `trace`. librdkafka's own lines (targets
//! `librdkafka`, `rdkafka::*`) are kept at `warn` and above unless the level is `trace`.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

struct StderrLogger {
    level: LevelFilter,
}

impl Log for StderrLogger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        let noisy = m.target().starts_with("librdkafka") || m.target().starts_with("rdkafka");
        let max = if noisy && self.level < LevelFilter::Trace {
            LevelFilter::Warn
        } else {
            self.level
        };
        m.level() <= max
    }

    fn log(&self, r: &Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let level = match r.level() {
            Level::Error => "ERROR",
            Level::Warn => "WARN ",
            Level::Info => "INFO ",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        };
        let line = format!("{} {level} {}: {}\n", timestamp(), r.target(), r.args());
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

/// Installs the logger (once per process; later calls do nothing). The level is read from
/// `env_var`, then `RUST_LOG`; `default` applies when neither is set or parses.
pub fn init(env_var: &str, default: LevelFilter) {
    let level = std::env::var(env_var)
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default);
    let logger: &'static StderrLogger = Box::leak(Box::new(StderrLogger { level }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn timestamp() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_utc(d.as_secs() as i64, d.subsec_millis())
}

/// `secs` since the Unix epoch (and `millis`) as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn format_utc(secs: i64, millis: u32) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // civil-from-days (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(format_utc(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_utc(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(format_utc(1_795_350_896, 123), "2026-11-22T12:34:56.123Z");
        assert_eq!(format_utc(-1, 0), "1969-12-31T23:59:59.000Z");
    }
}
