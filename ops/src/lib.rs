//! # ops
//!
//! Service plumbing shared by the `producer` and `gatekeeper` binaries, with no dependency
//! beyond the `log` facade:
//!
//! * [`logging`]: a stderr logger, one line per event, its level from an environment variable;
//! * [`parse_duration`]: `60s`, `1.5s`, `500ms`, `2m`, `1h` or plain seconds;
//! * [`http`]: a background HTTP server answering `GET /metrics` (Prometheus text) and
//!   `GET /healthz`, and [`http::scrape`] to read it back;
//! * [`health`]: the health of a service's dependencies (broker, stores) from the outcome of
//!   its operations, for `/healthz` (503 when one is down), metrics and logs.
//! * [`chaos`]: fault-injection points (`HOLLOW_CHAOS_PAUSE`) for the kill -9 chaos harness.

pub mod chaos;
pub mod health;
pub mod http;
pub mod logging;

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
