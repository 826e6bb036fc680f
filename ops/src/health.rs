//! The health of a service's dependencies (a Kafka broker, blob stores), judged from the
//! outcome of the operations the service makes anyway: every operation reports
//! [`Health::success`] or [`Health::failure`]. A dependency whose operations have failed
//! without a success for longer than the grace period is *down*: `/healthz` then answers 503
//! with a body naming it, since when, and its last error ([`Health::check`]), and the
//! Prometheus gauges say so ([`HealthMetrics`]).
//!
//! Logs say what is down without flooding: one warning at the first failure, one error when
//! the grace period runs out, a reminder every [`Health::with_reminder`] interval while the
//! outage lasts, and one line when the dependency is back.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One dependency's record.
#[derive(Debug, Default, Clone)]
struct Dep {
    /// When the current run of failures started (the start of the first failed operation).
    failing_since: Option<(Instant, SystemTime)>,
    /// Whether the "down" error was logged for the current outage.
    logged_down: bool,
    /// When the last reminder (or the down error) was logged.
    reminded: Option<Instant>,
    /// The error of the last failed operation.
    last_error: Option<String>,
    /// Failed operations in the current outage.
    outage_failures: u64,
    /// Failed operations since start.
    failures: u64,
    /// Outages (runs of failures longer than the grace period) since start.
    outages: u64,
    /// When the last operation succeeded.
    last_success: Option<SystemTime>,
    /// Operations under way (by ticket), with their start: one that has waited longer than
    /// the grace period makes the dependency down before the client's own timeout ends it.
    in_flight: BTreeMap<u64, (Instant, SystemTime, &'static str)>,
}

/// A dependency's state, as [`Health::check`] reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum DepStatus {
    /// No operation was made yet.
    Unknown,
    /// The last operation succeeded.
    Ok,
    /// The last operations failed, for less than the grace period.
    Failing {
        /// Since when (Unix seconds).
        since_unix: f64,
        /// For how long.
        for_: Duration,
        /// Failed operations so far.
        failures: u64,
        /// The last error.
        error: String,
    },
    /// The operations have failed for longer than the grace period.
    Down {
        /// Since when (Unix seconds).
        since_unix: f64,
        /// For how long.
        for_: Duration,
        /// Failed operations so far.
        failures: u64,
        /// The last error.
        error: String,
    },
}

/// The health of every dependency of a service, shared (in an `Arc`) by the service loop
/// and the HTTP server.
#[derive(Debug)]
pub struct Health {
    tickets: std::sync::atomic::AtomicU64,
    grace: Duration,
    reminder: Duration,
    deps: Mutex<BTreeMap<String, Dep>>,
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Health {
    /// Health with no dependency yet; a dependency is reported down once its operations
    /// have failed for longer than `grace`. Reminders every 60 s.
    pub fn new(grace: Duration) -> Health {
        Health {
            tickets: std::sync::atomic::AtomicU64::new(0),
            grace,
            reminder: Duration::from_secs(60),
            deps: Mutex::new(BTreeMap::new()),
        }
    }

    /// Sets the interval of the "still down" log reminders.
    pub fn with_reminder(mut self, reminder: Duration) -> Health {
        self.reminder = reminder;
        self
    }

    /// The grace period.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Dep>> {
        self.deps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Declares a dependency, so that it is reported before its first operation.
    pub fn register(&self, dep: &str) {
        self.lock().entry(dep.to_owned()).or_default();
    }

    /// Marks an operation `what` on `dep` as under way until the returned guard is dropped
    /// (report its outcome with [`Health::success`] or [`Health::failure`] as usual). While it
    /// waits for longer than the grace period, the dependency is reported down, so a frozen
    /// dependency shows within the grace period even when the client's timeout is longer.
    pub fn in_flight(&self, dep: &str, what: &'static str) -> InFlight<'_> {
        let ticket = self
            .tickets
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.lock()
            .entry(dep.to_owned())
            .or_default()
            .in_flight
            .insert(ticket, (Instant::now(), SystemTime::now(), what));
        InFlight {
            health: self,
            dep: dep.to_owned(),
            ticket,
        }
    }

    /// Records that an operation on `dep` succeeded: ends any outage.
    pub fn success(&self, dep: &str) {
        let mut deps = self.lock();
        let d = deps.entry(dep.to_owned()).or_default();
        if let Some((since, _)) = d.failing_since.take() {
            let lasted = since.elapsed();
            if d.logged_down {
                log::info!(
                    "dependency {dep} is back after {:.1} s of outage ({} failed operations)",
                    lasted.as_secs_f64(),
                    d.outage_failures
                );
            } else {
                log::info!(
                    "dependency {dep} answers again after {:.1} s ({} failed operations)",
                    lasted.as_secs_f64(),
                    d.outage_failures
                );
            }
        }
        d.logged_down = false;
        d.reminded = None;
        d.outage_failures = 0;
        d.last_success = Some(SystemTime::now());
    }

    /// Records that an operation on `dep`, started at `started`, failed with `error`.
    pub fn failure(&self, dep: &str, started: Instant, error: &str) {
        let mut deps = self.lock();
        let d = deps.entry(dep.to_owned()).or_default();
        d.failures += 1;
        d.outage_failures += 1;
        d.last_error = Some(error.to_owned());
        match d.failing_since {
            None => {
                let wall = SystemTime::now()
                    .checked_sub(started.elapsed())
                    .unwrap_or_else(SystemTime::now);
                d.failing_since = Some((started, wall));
                log::warn!("dependency {dep} is failing: {error} (reported down after {:.1} s without a success)", self.grace.as_secs_f64());
            }
            Some(_) => Self::log_progress(dep, d, self.grace, self.reminder),
        }
    }

    /// Logs the "down" error once the grace period ran out, and then a reminder every
    /// `reminder`.
    fn log_progress(dep: &str, d: &mut Dep, grace: Duration, reminder: Duration) {
        let Some((since, _)) = d.failing_since else {
            return;
        };
        let lasted = since.elapsed();
        let error = d.last_error.as_deref().unwrap_or("");
        if !d.logged_down && lasted >= grace {
            d.logged_down = true;
            d.outages += 1;
            d.reminded = Some(Instant::now());
            log::error!(
                "dependency {dep} is DOWN for {:.1} s ({} failed operations): {error}",
                lasted.as_secs_f64(),
                d.outage_failures
            );
        } else if d.logged_down && d.reminded.is_none_or(|r| r.elapsed() >= reminder) {
            d.reminded = Some(Instant::now());
            log::error!(
                "dependency {dep} still DOWN after {:.1} s ({} failed operations): {error}",
                lasted.as_secs_f64(),
                d.outage_failures
            );
        } else {
            log::debug!("dependency {dep}: {error}");
        }
    }

    fn status_of(&self, d: &Dep) -> DepStatus {
        if d.failing_since.is_none() {
            if let Some((since, wall, what)) =
                d.in_flight.values().min_by_key(|(since, _, _)| *since)
            {
                let for_ = since.elapsed();
                if for_ >= self.grace {
                    return DepStatus::Down {
                        since_unix: unix(*wall),
                        for_,
                        failures: 0,
                        error: format!(
                            "{what}: no answer for {:.1} s (still waiting)",
                            for_.as_secs_f64()
                        ),
                    };
                }
            }
        }
        match d.failing_since {
            Some((since, wall)) => {
                let for_ = since.elapsed();
                let (since_unix, failures, error) = (
                    unix(wall),
                    d.outage_failures,
                    d.last_error.clone().unwrap_or_default(),
                );
                if for_ >= self.grace {
                    DepStatus::Down {
                        since_unix,
                        for_,
                        failures,
                        error,
                    }
                } else {
                    DepStatus::Failing {
                        since_unix,
                        for_,
                        failures,
                        error,
                    }
                }
            }
            None if d.last_success.is_some() => DepStatus::Ok,
            None => DepStatus::Unknown,
        }
    }

    /// Every dependency's status.
    pub fn statuses(&self) -> BTreeMap<String, DepStatus> {
        let mut deps = self.lock();
        let (grace, reminder) = (self.grace, self.reminder);
        deps.iter_mut()
            .map(|(name, d)| {
                // an outage that outlived the grace period while no operation ran is logged too
                if d.failing_since.is_some_and(|(s, _)| s.elapsed() >= grace) && !d.logged_down {
                    Self::log_progress(name, d, grace, reminder);
                }
                (name.clone(), self.status_of(d))
            })
            .collect()
    }

    /// Whether every dependency is up (none down), and the `/healthz` body: one line per
    /// dependency, such as `store: ok` or `store: DOWN since 2026-... (12.5 s, 3 failed
    /// operations): <last error>`.
    pub fn check(&self) -> (bool, String) {
        let mut healthy = true;
        let mut body = String::new();
        for (name, status) in self.statuses() {
            let _ = match status {
                DepStatus::Unknown => writeln!(body, "{name}: ok (not used yet)"),
                DepStatus::Ok => writeln!(body, "{name}: ok"),
                DepStatus::Failing {
                    since_unix,
                    for_,
                    failures,
                    error,
                } => {
                    writeln!(body, "{name}: ok, but failing since {} ({:.1} s, {failures} failed operations): {}", rfc3339(since_unix), for_.as_secs_f64(), one_line(&error))
                }
                DepStatus::Down {
                    since_unix,
                    for_,
                    failures,
                    error,
                } => {
                    healthy = false;
                    writeln!(
                        body,
                        "{name}: DOWN since {} ({:.1} s, {failures} failed operations): {}",
                        rfc3339(since_unix),
                        for_.as_secs_f64(),
                        one_line(&error)
                    )
                }
            };
        }
        if body.is_empty() {
            body.push_str("ok\n");
        }
        (healthy, body)
    }
}

/// The dependency gauges and counters of a [`Health`], for a `prometheus-client` registry
/// (`Registry::register_collector`), read at every scrape. Each name starts with the prefix
/// (such as `hollow_producer`), one sample per dependency (label `dependency`):
/// `<prefix>_dependency_up` (1: the last operation succeeded or none was made; 0: failing),
/// `<prefix>_dependency_down` (1: down for longer than the grace period, as `/healthz`
/// reports), `<prefix>_dependency_failing_seconds`,
/// `<prefix>_dependency_last_success_timestamp_seconds` (0: never),
/// `<prefix>_dependency_failures_total` and `<prefix>_dependency_outages_total`.
#[derive(Debug, Clone)]
pub struct HealthMetrics {
    health: Arc<Health>,
    prefix: String,
}

impl HealthMetrics {
    /// The metrics of `health`, named `<prefix>_dependency_*`.
    pub fn new(health: Arc<Health>, prefix: impl Into<String>) -> HealthMetrics {
        HealthMetrics {
            health,
            prefix: prefix.into(),
        }
    }
}

/// One sample's value.
enum Sample {
    Int(i64),
    Float(f64),
    Count(u64),
}

impl Collector for HealthMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> std::fmt::Result {
        let statuses = self.health.statuses();
        let deps = self.health.lock().clone();
        let rows: Vec<(&String, &Dep, DepStatus)> = deps
            .iter()
            .map(|(name, d)| {
                let status = statuses.get(name).cloned().unwrap_or(DepStatus::Unknown);
                (name, d, status)
            })
            .collect();
        let mut family = |name: &str,
                          help: &str,
                          kind: MetricType,
                          value: &dyn Fn(&Dep, &DepStatus) -> Sample|
         -> std::fmt::Result {
            let name = format!("{}_{name}", self.prefix);
            let mut metric = encoder.encode_descriptor(&name, help, None, kind)?;
            for (dep, d, status) in &rows {
                let labels = [("dependency", dep.as_str())];
                let sample = metric.encode_family(&labels)?;
                match value(d, status) {
                    Sample::Int(v) => ConstGauge::new(v).encode(sample)?,
                    Sample::Float(v) => ConstGauge::new(v).encode(sample)?,
                    Sample::Count(v) => ConstCounter::new(v).encode(sample)?,
                }
            }
            Ok(())
        };
        family(
            "dependency_up",
            "1 if the last operation on the dependency succeeded (or none was made yet), 0 if it failed.",
            MetricType::Gauge,
            &|_, s| Sample::Int(i64::from(matches!(s, DepStatus::Ok | DepStatus::Unknown))),
        )?;
        family(
            "dependency_down",
            "1 if the dependency's operations have failed for longer than the grace period (/healthz answers 503).",
            MetricType::Gauge,
            &|_, s| Sample::Int(i64::from(matches!(s, DepStatus::Down { .. }))),
        )?;
        family(
            "dependency_failing_seconds",
            "How long the dependency's operations have been failing (0: not failing).",
            MetricType::Gauge,
            &|_, s| match s {
                DepStatus::Failing { for_, .. } | DepStatus::Down { for_, .. } => {
                    Sample::Float(for_.as_secs_f64())
                }
                _ => Sample::Int(0),
            },
        )?;
        family(
            "dependency_last_success_timestamp_seconds",
            "Unix time of the last successful operation on the dependency (0: never).",
            MetricType::Gauge,
            &|d, _| {
                d.last_success
                    .map_or(Sample::Int(0), |t| Sample::Float(unix(t)))
            },
        )?;
        // counters: the encoder adds `_total`
        family(
            "dependency_failures",
            "Failed operations on the dependency.",
            MetricType::Counter,
            &|d, _| Sample::Count(d.failures),
        )?;
        family(
            "dependency_outages",
            "Outages of the dependency (failures lasting longer than the grace period).",
            MetricType::Counter,
            &|d, _| Sample::Count(d.outages),
        )
    }
}

/// An operation under way ([`Health::in_flight`]); dropping it ends it.
#[derive(Debug)]
pub struct InFlight<'a> {
    health: &'a Health,
    dep: String,
    ticket: u64,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(d) = self.health.lock().get_mut(&self.dep) {
            d.in_flight.remove(&self.ticket);
        }
    }
}

/// The first line of `text`, at most 500 characters.
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    line.chars().take(500).collect()
}

/// `2026-12-03T12:00:00.123Z` for Unix seconds (UTC, proleptic Gregorian).
pub fn rfc3339(unix_seconds: f64) -> String {
    let millis = (unix_seconds * 1e3).max(0.0) as i64;
    let (days, ms) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    // civil_from_days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metrics of `h` as a scrape shows them.
    fn render(h: &Arc<Health>, prefix: &str) -> String {
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register_collector(Box::new(HealthMetrics::new(h.clone(), prefix)));
        crate::metrics::encode(&registry)
    }

    #[test]
    fn outage_is_reported_after_the_grace_period_and_ends_with_a_success() {
        let h = Arc::new(Health::new(Duration::from_millis(100)));
        h.register("broker");
        h.register("store");
        let (ok, body) = h.check();
        assert!(ok, "{body}");
        assert_eq!(
            body,
            "broker: ok (not used yet)\nstore: ok (not used yet)\n"
        );
        h.success("broker");
        h.failure("store", Instant::now(), "connection refused\nmore");
        let (ok, body) = h.check();
        assert!(ok, "within the grace period: {body}");
        assert!(body.contains("store: ok, but failing since"), "{body}");
        assert!(render(&h, "p").contains("p_dependency_up{dependency=\"store\"} 0"));
        std::thread::sleep(Duration::from_millis(120));
        let (ok, body) = h.check();
        assert!(!ok);
        assert!(
            body.starts_with("broker: ok\nstore: DOWN since 20"),
            "{body}"
        );
        assert!(
            body.contains("1 failed operations): connection refused\n"),
            "{body}"
        );
        let text = render(&h, "p");
        for line in [
            "p_dependency_down{dependency=\"store\"} 1",
            "p_dependency_down{dependency=\"broker\"} 0",
            "p_dependency_failures_total{dependency=\"store\"} 1",
            "p_dependency_outages_total{dependency=\"store\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        h.failure("store", Instant::now(), "timeout");
        assert!(h.check().1.contains("2 failed operations): timeout"));
        h.success("store");
        let (ok, body) = h.check();
        assert!(ok, "{body}");
        assert_eq!(body, "broker: ok\nstore: ok\n");
        let text = render(&h, "p");
        assert!(
            text.contains("p_dependency_up{dependency=\"store\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("p_dependency_failures_total{dependency=\"store\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("p_dependency_outages_total{dependency=\"store\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn outage_starts_when_the_failed_operation_started() {
        let h = Health::new(Duration::from_secs(1));
        h.failure(
            "store",
            Instant::now() - Duration::from_secs(2),
            "no answer in 2 s",
        );
        assert!(
            !h.check().0,
            "an operation that hung for longer than the grace period is already an outage"
        );
    }

    #[test]
    fn an_operation_waiting_longer_than_the_grace_period_is_an_outage() {
        let h = Arc::new(Health::new(Duration::from_millis(50)));
        h.success("broker");
        let waiting = h.in_flight("broker", "fetch metadata");
        assert!(h.check().0);
        std::thread::sleep(Duration::from_millis(70));
        let (ok, body) = h.check();
        assert!(!ok);
        assert!(
            body.contains("broker: DOWN since") && body.contains("fetch metadata: no answer for"),
            "{body}"
        );
        assert!(render(&h, "p").contains("p_dependency_down{dependency=\"broker\"} 1"));
        drop(waiting);
        assert!(h.check().0, "the operation ended");
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_796_299_200.5), "2026-12-03T12:00:00.500Z");
        assert_eq!(rfc3339(951_782_400.0), "2000-02-29T00:00:00.000Z");
    }
}
