//! Service metrics: cumulative counters and last-cycle gauges, and the health of the broker
//! and the stores (`hollow_producer_dependency_*`, [`ops::health`]), rendered as Prometheus
//! text and served over HTTP by a tiny `std::net` server ([`MetricsServer`]: `GET /metrics`,
//! `GET /healthz`, 503 when a dependency is down).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use ops::health::Health;

use crate::service::{CycleReport, DatasetOutcome};

/// Cumulative counters and gauges of one dataset.
#[derive(Debug, Clone, Default)]
struct DatasetMetrics {
    read: u64,
    applied: u64,
    noop: u64,
    rejected: BTreeMap<&'static str, u64>,
    records_added: u64,
    records_removed: u64,
    published: u64,
    unchanged: u64,
    validation_failed: u64,
    /// Refusals by validator.
    validation_failures: BTreeMap<String, u64>,
    retention_deleted: u64,
    retention_failures: u64,
    failed: u64,
    version: Option<u64>,
    cycle_seconds: f64,
    lag: BTreeMap<i32, i64>,
    delta_bytes: u64,
    snapshot_bytes: u64,
}

#[derive(Debug, Default)]
struct State {
    cycles: u64,
    last_cycle_seconds: f64,
    last_cycle_unix_seconds: f64,
    datasets: BTreeMap<String, DatasetMetrics>,
    /// Dead-letter messages by outcome (`None`: no dead-letter topic).
    dead_letter: Option<crate::service::DeadLetterReport>,
}

/// The metrics of a service, updated after every cycle and shared with the HTTP server.
#[derive(Debug, Default)]
pub struct Metrics {
    state: Mutex<State>,
    /// The dependencies' health: rendered as `hollow_producer_dependency_*` and answering
    /// `/healthz`.
    health: Option<Arc<Health>>,
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same metrics with the dependency health of `health` (its gauges and `/healthz`).
    pub fn with_health(mut self, health: Arc<Health>) -> Self {
        self.health = Some(health);
        self
    }

    /// Whether every dependency is up, and the `/healthz` body (`ok` without health).
    pub fn health_check(&self) -> (bool, String) {
        self.health
            .as_ref()
            .map_or_else(|| (true, "ok\n".to_owned()), |h| h.check())
    }

    /// Declares a dataset so that its series exist before its first cycle.
    pub fn register(&self, dataset: &str, version: Option<u64>) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.datasets.entry(dataset.to_owned()).or_default().version = version;
    }

    /// Folds one cycle's report into the counters and gauges.
    pub fn record(&self, report: &CycleReport) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.cycles += 1;
        s.last_cycle_seconds = report.elapsed.as_secs_f64();
        s.last_cycle_unix_seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        for d in &report.datasets {
            let m = s.datasets.entry(d.dataset.clone()).or_default();
            m.read += d.read;
            m.applied += d.applied;
            m.noop += d.noop;
            for (reason, n) in &d.rejected {
                *m.rejected.entry(reason.label()).or_default() += n;
            }
            m.cycle_seconds = d.elapsed.as_secs_f64();
            m.lag = d.lag.clone();
            m.version = d.version;
            match &d.outcome {
                DatasetOutcome::Published {
                    added,
                    removed,
                    delta_bytes,
                    snapshot_bytes,
                    retention_deleted,
                    retention_error,
                    ..
                } => {
                    m.published += 1;
                    m.retention_deleted += retention_deleted;
                    m.retention_failures += u64::from(retention_error.is_some());
                    m.records_added += added;
                    m.records_removed += removed;
                    m.delta_bytes += delta_bytes;
                    m.snapshot_bytes += snapshot_bytes.unwrap_or(0);
                }
                DatasetOutcome::Unchanged => m.unchanged += 1,
                DatasetOutcome::ValidationFailed { validator, .. } => {
                    m.validation_failed += 1;
                    *m.validation_failures.entry(validator.clone()).or_default() += 1;
                }
                DatasetOutcome::Failed { .. } => m.failed += 1,
            }
        }
        if let Some(d) = &report.dead_letter {
            let t = s.dead_letter.get_or_insert_with(Default::default);
            t.queued += d.queued;
            t.dropped += d.dropped;
            t.delivered += d.delivered;
            t.failed += d.failed;
            t.in_flight = d.in_flight;
        }
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        let mut family =
            |name: &str,
             kind: &str,
             help: &str,
             samples: &mut dyn Iterator<Item = (String, String)>| {
                let _ = writeln!(out, "# HELP {name} {help}");
                let _ = writeln!(out, "# TYPE {name} {kind}");
                for (labels, value) in samples {
                    let _ = writeln!(out, "{name}{labels} {value}");
                }
            };
        family(
            "hollow_producer_cycles_total",
            "counter",
            "Cycles run.",
            &mut std::iter::once((String::new(), s.cycles.to_string())),
        );
        family(
            "hollow_producer_cycle_duration_seconds",
            "gauge",
            "Duration of the last cycle.",
            &mut std::iter::once((String::new(), fmt_f64(s.last_cycle_seconds))),
        );
        family(
            "hollow_producer_last_cycle_timestamp_seconds",
            "gauge",
            "Unix time at which the last cycle ended.",
            &mut std::iter::once((String::new(), fmt_f64(s.last_cycle_unix_seconds))),
        );
        let ds = &s.datasets;
        let per = |f: fn(&DatasetMetrics) -> String| {
            ds.iter()
                .map(move |(name, m)| (labels(&[("dataset", name)]), f(m)))
        };
        family(
            "hollow_producer_messages_read_total",
            "counter",
            "Messages read from the dataset's topic.",
            &mut per(|m| m.read.to_string()),
        );
        family(
            "hollow_producer_messages_applied_total",
            "counter",
            "Messages that changed the state.",
            &mut per(|m| m.applied.to_string()),
        );
        family(
            "hollow_producer_messages_noop_total",
            "counter",
            "Valid messages that changed nothing (identical content, delete of a missing key).",
            &mut per(|m| m.noop.to_string()),
        );
        family(
            "hollow_producer_messages_rejected_total",
            "counter",
            "Messages rejected, by reason.",
            &mut ds.iter().flat_map(|(name, m)| {
                m.rejected
                    .iter()
                    .map(move |(r, n)| (labels(&[("dataset", name), ("reason", r)]), n.to_string()))
            }),
        );
        family(
            "hollow_producer_records_added_total",
            "counter",
            "Records added by published versions (a modification adds one).",
            &mut per(|m| m.records_added.to_string()),
        );
        family(
            "hollow_producer_records_removed_total",
            "counter",
            "Records removed by published versions (a modification removes one).",
            &mut per(|m| m.records_removed.to_string()),
        );
        family(
            "hollow_producer_dataset_cycles_total",
            "counter",
            "Dataset cycles by outcome.",
            &mut ds.iter().flat_map(|(name, m)| {
                [
                    ("published", m.published),
                    ("unchanged", m.unchanged),
                    ("validation_failed", m.validation_failed),
                    ("failed", m.failed),
                ]
                .into_iter()
                .map(move |(o, n)| (labels(&[("dataset", name), ("outcome", o)]), n.to_string()))
            }),
        );
        family(
            "hollow_producer_validation_failures_total",
            "counter",
            "States refused by a validator (nothing published), by validator.",
            &mut ds.iter().flat_map(|(name, m)| {
                let builtin = ["record_count_change", "primary_key_unique"]
                    .into_iter()
                    .filter(|v| !m.validation_failures.contains_key(*v))
                    .map(|v| (v, 0));
                m.validation_failures
                    .iter()
                    .map(|(v, n)| (v.as_str(), *n))
                    .chain(builtin)
                    .map(move |(v, n)| {
                        (
                            labels(&[("dataset", name), ("validator", v)]),
                            n.to_string(),
                        )
                    })
            }),
        );
        family(
            "hollow_producer_retention_deleted_total",
            "counter",
            "Blob and metadata keys deleted by retention.",
            &mut per(|m| m.retention_deleted.to_string()),
        );
        family(
            "hollow_producer_retention_failures_total",
            "counter",
            "Retention runs that failed after a publish (the publish stands; retried after the next).",
            &mut per(|m| m.retention_failures.to_string()),
        );
        if let Some(d) = &s.dead_letter {
            family(
                "hollow_producer_dead_letter_messages_total",
                "counter",
                "Dead-letter messages: queued, dropped (local queue full), delivered, failed (delivery results arrive after the cycle that queued them).",
                &mut [("queued", d.queued), ("dropped", d.dropped), ("delivered", d.delivered), ("failed", d.failed)]
                    .into_iter()
                    .map(|(o, n)| (labels(&[("outcome", o)]), n.to_string())),
            );
            family(
                "hollow_producer_dead_letter_in_flight",
                "gauge",
                "Dead-letter messages queued and not yet delivered or failed.",
                &mut std::iter::once((String::new(), d.in_flight.to_string())),
            );
        }
        family(
            "hollow_producer_version",
            "gauge",
            "Last announced version of the dataset (-1: none yet).",
            &mut per(|m| m.version.map_or("-1".into(), |v| v.to_string())),
        );
        family(
            "hollow_producer_dataset_cycle_duration_seconds",
            "gauge",
            "Duration of the dataset's part of the last cycle.",
            &mut per(|m| fmt_f64(m.cycle_seconds)),
        );
        family(
            "hollow_producer_delta_bytes_total",
            "counter",
            "Bytes of published deltas.",
            &mut per(|m| m.delta_bytes.to_string()),
        );
        family(
            "hollow_producer_snapshot_bytes_total",
            "counter",
            "Bytes of published snapshots.",
            &mut per(|m| m.snapshot_bytes.to_string()),
        );
        family(
            "hollow_producer_consumer_lag",
            "gauge",
            "Messages of the backlog seen at the last cycle start not folded by it (end offset minus next offset), per partition.",
            &mut ds.iter().flat_map(|(name, m)| m.lag.iter().map(move |(p, lag)| (labels(&[("dataset", name), ("partition", &p.to_string())]), lag.to_string()))),
        );
        if let Some(h) = &self.health {
            out.push_str(&h.render_prometheus("hollow_producer"));
        }
        out
    }
}

/// `{a="x",b="y"}` with Prometheus escaping of the values.
fn labels(pairs: &[(&str, &str)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(k);
        s.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => s.push_str("\\\\"),
                '"' => s.push_str("\\\""),
                '\n' => s.push_str("\\n"),
                c => s.push(c),
            }
        }
        s.push('"');
    }
    s.push('}');
    s
}

fn fmt_f64(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "NaN".into()
    }
}

/// A background HTTP server answering `GET /metrics` (Prometheus text) and `GET /healthz`
/// ([`ops::http::MetricsHttp`]). Stops when dropped.
#[derive(Debug)]
pub struct MetricsServer(ops::http::MetricsHttp);

impl MetricsServer {
    /// Binds `addr` (port 0: any free port) and serves `metrics` from a background thread.
    pub fn start(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<MetricsServer> {
        let check = metrics.clone();
        ops::http::MetricsHttp::start_with_health(
            addr,
            "metrics-http",
            Arc::new(move || metrics.render()),
            Arc::new(move || check.health_check()),
        )
        .map(MetricsServer)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.0.local_addr()
    }
}

/// Fetches `http://addr/metrics` (for tests and tools): the body of the answer.
pub use ops::http::scrape;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::RejectReason;
    use crate::offsets::Offsets;
    use crate::service::DatasetReport;
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;
    use std::time::Duration;

    fn report(dataset: &str, outcome: DatasetOutcome) -> DatasetReport {
        DatasetReport {
            dataset: dataset.into(),
            read: 10,
            applied: 6,
            noop: 2,
            rejected: BTreeMap::from([(RejectReason::NotJson, 1), (RejectReason::KeyMismatch, 1)]),
            outcome,
            version: Some(3),
            offsets: Offsets::new(),
            lag: BTreeMap::from([(0, 4), (1, 0)]),
            elapsed: Duration::from_millis(12),
        }
    }

    #[test]
    fn renders_counters_and_gauges() {
        let m = Metrics::new();
        m.register("videos", None);
        let published = DatasetOutcome::Published {
            version: 3,
            added: 5,
            removed: 2,
            delta_bytes: 100,
            reverse_delta_bytes: 90,
            snapshot_bytes: Some(1000),
            publish: Duration::from_millis(3),
            retention_deleted: 4,
            retention_error: None,
        };
        let retention_failed = DatasetOutcome::Published {
            version: 4,
            added: 0,
            removed: 0,
            delta_bytes: 0,
            reverse_delta_bytes: 0,
            snapshot_bytes: None,
            publish: Duration::ZERO,
            retention_deleted: 0,
            retention_error: Some("store down".into()),
        };
        let refused = DatasetOutcome::ValidationFailed {
            validator: "record_count_change".into(),
            reason: "too many".into(),
        };
        let dlq = crate::service::DeadLetterReport {
            queued: 3,
            dropped: 1,
            delivered: 2,
            failed: 0,
            in_flight: 1,
        };
        m.record(&CycleReport {
            cycle: 1,
            datasets: vec![report("titles", published)],
            elapsed: Duration::from_millis(20),
            dead_letter: Some(dlq),
        });
        m.record(&CycleReport {
            cycle: 2,
            datasets: vec![report("titles", refused)],
            elapsed: Duration::from_millis(5),
            dead_letter: Some(dlq),
        });
        m.record(&CycleReport {
            cycle: 3,
            datasets: vec![report("titles", retention_failed)],
            elapsed: Duration::from_millis(5),
            dead_letter: None,
        });
        m.record(&CycleReport {
            cycle: 4,
            datasets: vec![report("titles", DatasetOutcome::Unchanged)],
            elapsed: Duration::from_millis(5),
            dead_letter: None,
        });
        let text = m.render();
        for line in [
            "# TYPE hollow_producer_cycles_total counter",
            "hollow_producer_cycles_total 4",
            "hollow_producer_cycle_duration_seconds 0.005",
            "hollow_producer_messages_read_total{dataset=\"titles\"} 40",
            "hollow_producer_messages_read_total{dataset=\"videos\"} 0",
            "hollow_producer_messages_applied_total{dataset=\"titles\"} 24",
            "hollow_producer_messages_noop_total{dataset=\"titles\"} 8",
            "hollow_producer_messages_rejected_total{dataset=\"titles\",reason=\"not_json\"} 4",
            "hollow_producer_messages_rejected_total{dataset=\"titles\",reason=\"key_mismatch\"} 4",
            "hollow_producer_records_added_total{dataset=\"titles\"} 5",
            "hollow_producer_records_removed_total{dataset=\"titles\"} 2",
            "hollow_producer_dataset_cycles_total{dataset=\"titles\",outcome=\"published\"} 2",
            "hollow_producer_dataset_cycles_total{dataset=\"titles\",outcome=\"validation_failed\"} 1",
            "hollow_producer_validation_failures_total{dataset=\"titles\",validator=\"record_count_change\"} 1",
            "hollow_producer_validation_failures_total{dataset=\"titles\",validator=\"primary_key_unique\"} 0",
            "hollow_producer_validation_failures_total{dataset=\"videos\",validator=\"record_count_change\"} 0",
            "hollow_producer_retention_deleted_total{dataset=\"titles\"} 4",
            "hollow_producer_retention_failures_total{dataset=\"titles\"} 1",
            "hollow_producer_dead_letter_messages_total{outcome=\"queued\"} 6",
            "hollow_producer_dead_letter_messages_total{outcome=\"dropped\"} 2",
            "hollow_producer_dead_letter_messages_total{outcome=\"delivered\"} 4",
            "hollow_producer_dead_letter_in_flight 1",
            "hollow_producer_dataset_cycles_total{dataset=\"titles\",outcome=\"unchanged\"} 1",
            "hollow_producer_version{dataset=\"titles\"} 3",
            "hollow_producer_version{dataset=\"videos\"} -1",
            "hollow_producer_snapshot_bytes_total{dataset=\"titles\"} 1000",
            "hollow_producer_consumer_lag{dataset=\"titles\",partition=\"0\"} 4",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        // every sample line is `name{labels} value` or `name value`
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = l.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{l}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(
            labels(&[("a", "x\"y\\z\nw"), ("b", "ü")]),
            "{a=\"x\\\"y\\\\z\\nw\",b=\"ü\"}"
        );
    }

    #[test]
    fn http_server_answers() {
        let m = Arc::new(Metrics::new());
        m.register("titles", Some(7));
        let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), m).unwrap();
        let body = scrape(server.local_addr()).unwrap();
        assert!(
            body.contains("hollow_producer_version{dataset=\"titles\"} 7"),
            "{body}"
        );
        let get = |req: &str| {
            let mut s = TcpStream::connect(server.local_addr()).unwrap();
            s.write_all(req.as_bytes()).unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        assert!(get("GET /healthz HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200"));
        assert!(get("GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(get("POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
        assert!(get("garbage\r\n\r\n").starts_with("HTTP/1.1 405"));
        drop(server);
    }

    #[test]
    fn healthz_reports_a_dependency_down() {
        // with health: 503 naming the dependency that is down, and its gauges
        let health = Arc::new(Health::new(Duration::ZERO));
        health.register("broker");
        health.failure("store", std::time::Instant::now(), "put: no answer");
        let m = Arc::new(Metrics::new().with_health(health.clone()));
        let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), m).unwrap();
        let (status, body) = ops::http::get_status(server.local_addr(), "/healthz").unwrap();
        assert_eq!(status, 503, "{body}");
        assert!(
            body.contains("broker: ok")
                && body.contains("store: DOWN since")
                && body.contains("put: no answer"),
            "{body}"
        );
        let text = scrape(server.local_addr()).unwrap();
        assert!(
            text.contains("hollow_producer_dependency_up{dependency=\"store\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("hollow_producer_dependency_up{dependency=\"broker\"} 1"),
            "{text}"
        );
        health.success("store");
        assert_eq!(
            ops::http::get_status(server.local_addr(), "/healthz")
                .unwrap()
                .0,
            200
        );
    }
}
