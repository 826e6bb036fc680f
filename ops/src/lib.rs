//! # ops
//!
//! Service plumbing shared by the `producer` and `gatekeeper` binaries:
//!
//! * [`logging`]: `tracing` + `tracing-subscriber` to stderr, as text or JSON
//!   ([`logging::LogFormat`], the `--log-format` flag), filtered by an `EnvFilter` from the
//!   service's variable or `RUST_LOG`, with the `log` facade bridged in;
//! * [`metrics`]: Prometheus metrics on `prometheus-client` (a registry per service, encoded in
//!   the text format 0.0.4);
//! * [`http`]: [`http::MetricsServer`], the axum server answering `GET /metrics` and
//!   `GET /healthz` from its own thread, and [`http::scrape`] to read it back;
//! * [`health`]: the health of a service's dependencies (broker, stores) from the outcome of
//!   its operations, for `/healthz` (503 when one is down), metrics
//!   ([`health::HealthMetrics`]) and logs;
//! * [`chaos`]: fault-injection points (`HOLLOW_CHAOS_PAUSE`) for the kill -9 chaos harness;
//! * [`parse_duration`]: `60s`, `1.5s`, `500ms`, `2m`, `1h` or plain seconds.

pub mod chaos;
pub mod health;
pub mod http;
pub mod logging;
pub mod metrics;

use std::time::Duration;

/// Parses a duration: `60s`, `1.5s`, `500ms`, `2m`, `1h`, or plain seconds (`30`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let bad = || format!("{text:?} is not a duration (e.g. 30s, 1.5s, 500ms, 2m, 1h)");
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "ms" => n / 1e3,
        "s" | "" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if (0.0..1e12).contains(&secs) {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        for bad in ["x", "5 parsecs", "", "-1s", "1e400", "s", "1.2.3s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
