//! Service metrics on `prometheus-client`: cumulative counters and last-cycle gauges by
//! dataset, and the health of the broker and the stores (`hollow_producer_dependency_*`,
//! [`ops::health::HealthMetrics`]), in one registry per service, encoded as Prometheus text
//! and served with `/healthz` by the shared [`ops::http::MetricsServer`] ([`Metrics::serve`]).
//!
//! Every metric is named `hollow_producer_*`; README.md lists them. Counters are registered
//! without their `_total` suffix, which the encoder adds.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};

use ops::health::{Health, HealthMetrics};
use ops::http::MetricsServer;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::report::{CycleReport, DatasetOutcome};

/// A gauge of seconds (or any `f64`).
type GaugeF64 = Gauge<f64, AtomicU64>;

/// The validators every dataset reports, at 0 until one refuses a state.
const BUILTIN_VALIDATORS: [&str; 2] = ["record_count_change", "primary_key_unique"];

/// The outcomes of a dataset's part of a cycle (`hollow_producer_dataset_cycles_total`).
const OUTCOMES: [&str; 4] = ["published", "unchanged", "validation_failed", "failed"];

/// Labels of the per-dataset series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DatasetLabels {
    dataset: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    dataset: String,
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    dataset: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ValidatorLabels {
    dataset: String,
    validator: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PartitionLabels {
    dataset: String,
    partition: i32,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeadLetterLabels {
    outcome: &'static str,
}

/// No labels: the one series of a family that has it only once it has a value.
type NoLabels = [(&'static str, &'static str); 0];

fn ds(dataset: &str) -> DatasetLabels {
    DatasetLabels {
        dataset: dataset.to_owned(),
    }
}

/// The metrics of a service, updated after every cycle and shared with the HTTP server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    cycles: Counter,
    cycle_seconds: GaugeF64,
    last_cycle_timestamp: GaugeF64,
    read: Family<DatasetLabels, Counter>,
    applied: Family<DatasetLabels, Counter>,
    noop: Family<DatasetLabels, Counter>,
    rejected: Family<ReasonLabels, Counter>,
    records_added: Family<DatasetLabels, Counter>,
    records_removed: Family<DatasetLabels, Counter>,
    dataset_cycles: Family<OutcomeLabels, Counter>,
    validation_failures: Family<ValidatorLabels, Counter>,
    retention_deleted: Family<DatasetLabels, Counter>,
    retention_failures: Family<DatasetLabels, Counter>,
    dead_letter: Family<DeadLetterLabels, Counter>,
    dead_letter_in_flight: Family<NoLabels, Gauge>,
    version: Family<DatasetLabels, Gauge>,
    dataset_cycle_seconds: Family<DatasetLabels, GaugeF64>,
    delta_bytes: Family<DatasetLabels, Counter>,
    snapshot_bytes: Family<DatasetLabels, Counter>,
    lag: Family<PartitionLabels, Gauge>,
    /// The partitions of each dataset's lag series (replaced every cycle).
    lag_partitions: Mutex<BTreeMap<String, Vec<i32>>>,
    /// The dependencies' health: `hollow_producer_dependency_*` and `/healthz`.
    health: Option<Arc<Health>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        let mut m = Metrics {
            registry: Registry::default(),
            cycles: Counter::default(),
            cycle_seconds: GaugeF64::default(),
            last_cycle_timestamp: GaugeF64::default(),
            read: Family::default(),
            applied: Family::default(),
            noop: Family::default(),
            rejected: Family::default(),
            records_added: Family::default(),
            records_removed: Family::default(),
            dataset_cycles: Family::default(),
            validation_failures: Family::default(),
            retention_deleted: Family::default(),
            retention_failures: Family::default(),
            dead_letter: Family::default(),
            dead_letter_in_flight: Family::default(),
            version: Family::default(),
            dataset_cycle_seconds: Family::default(),
            delta_bytes: Family::default(),
            snapshot_bytes: Family::default(),
            lag: Family::default(),
            lag_partitions: Mutex::new(BTreeMap::new()),
            health: None,
        };
        let r = &mut m.registry;
        r.register("hollow_producer_cycles", "Cycles run", m.cycles.clone());
        r.register(
            "hollow_producer_cycle_duration_seconds",
            "Duration of the last cycle",
            m.cycle_seconds.clone(),
        );
        r.register(
            "hollow_producer_last_cycle_timestamp_seconds",
            "Unix time at which the last cycle ended",
            m.last_cycle_timestamp.clone(),
        );
        r.register(
            "hollow_producer_messages_read",
            "Messages read from the dataset's topic",
            m.read.clone(),
        );
        r.register(
            "hollow_producer_messages_applied",
            "Messages that changed the state",
            m.applied.clone(),
        );
        r.register(
            "hollow_producer_messages_noop",
            "Valid messages that changed nothing (identical content, delete of a missing key)",
            m.noop.clone(),
        );
        r.register(
            "hollow_producer_messages_rejected",
            "Messages rejected, by reason",
            m.rejected.clone(),
        );
        r.register(
            "hollow_producer_records_added",
            "Records added by published versions (a modification adds one)",
            m.records_added.clone(),
        );
        r.register(
            "hollow_producer_records_removed",
            "Records removed by published versions (a modification removes one)",
            m.records_removed.clone(),
        );
        r.register(
            "hollow_producer_dataset_cycles",
            "Dataset cycles by outcome",
            m.dataset_cycles.clone(),
        );
        r.register(
            "hollow_producer_validation_failures",
            "States refused by a validator (nothing published), by validator",
            m.validation_failures.clone(),
        );
        r.register(
            "hollow_producer_retention_deleted",
            "Blob and metadata keys deleted by retention",
            m.retention_deleted.clone(),
        );
        r.register(
            "hollow_producer_retention_failures",
            "Retention runs that failed after a publish (the publish stands; retried after the next)",
            m.retention_failures.clone(),
        );
        r.register(
            "hollow_producer_dead_letter_messages",
            "Dead-letter messages: queued, dropped (local queue full), delivered, failed (delivery results arrive after the cycle that queued them)",
            m.dead_letter.clone(),
        );
        r.register(
            "hollow_producer_dead_letter_in_flight",
            "Dead-letter messages queued and not yet delivered or failed",
            m.dead_letter_in_flight.clone(),
        );
        r.register(
            "hollow_producer_version",
            "Last announced version of the dataset (-1: none yet)",
            m.version.clone(),
        );
        r.register(
            "hollow_producer_dataset_cycle_duration_seconds",
            "Duration of the dataset's part of the last cycle",
            m.dataset_cycle_seconds.clone(),
        );
        r.register(
            "hollow_producer_delta_bytes",
            "Bytes of published deltas",
            m.delta_bytes.clone(),
        );
        r.register(
            "hollow_producer_snapshot_bytes",
            "Bytes of published snapshots",
            m.snapshot_bytes.clone(),
        );
        r.register(
            "hollow_producer_consumer_lag",
            "Messages of the backlog seen at the last cycle start not folded by it (end offset minus next offset), per partition",
            m.lag.clone(),
        );
        m
    }

    /// The same metrics with the dependency health of `health` (its gauges and `/healthz`).
    pub fn with_health(mut self, health: Arc<Health>) -> Self {
        self.registry
            .register_collector(Box::new(HealthMetrics::new(
                health.clone(),
                "hollow_producer",
            )));
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
        let l = ds(dataset);
        for family in [
            &self.read,
            &self.applied,
            &self.noop,
            &self.records_added,
            &self.records_removed,
            &self.retention_deleted,
            &self.retention_failures,
            &self.delta_bytes,
            &self.snapshot_bytes,
        ] {
            let _ = family.get_or_create(&l);
        }
        for outcome in OUTCOMES {
            let _ = self.dataset_cycles.get_or_create(&OutcomeLabels {
                dataset: dataset.to_owned(),
                outcome,
            });
        }
        for validator in BUILTIN_VALIDATORS {
            let _ = self.validation_failures.get_or_create(&ValidatorLabels {
                dataset: dataset.to_owned(),
                validator: validator.to_owned(),
            });
        }
        let _ = self.dataset_cycle_seconds.get_or_create(&l);
        self.version.get_or_create(&l).set(version_gauge(version));
    }

    /// Folds one cycle's report into the counters and gauges.
    pub fn record(&self, report: &CycleReport) {
        self.cycles.inc();
        self.cycle_seconds.set(report.elapsed.as_secs_f64());
        self.last_cycle_timestamp.set(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        );
        for d in &report.datasets {
            self.register(&d.dataset, d.version);
            let l = ds(&d.dataset);
            self.read.get_or_create(&l).inc_by(d.read);
            self.applied.get_or_create(&l).inc_by(d.applied);
            self.noop.get_or_create(&l).inc_by(d.noop);
            for (reason, n) in &d.rejected {
                self.rejected
                    .get_or_create(&ReasonLabels {
                        dataset: d.dataset.clone(),
                        reason: reason.label(),
                    })
                    .inc_by(*n);
            }
            self.dataset_cycle_seconds
                .get_or_create(&l)
                .set(d.elapsed.as_secs_f64());
            self.record_lag(&d.dataset, &d.lag);
            let outcome = |outcome: &'static str| OutcomeLabels {
                dataset: d.dataset.clone(),
                outcome,
            };
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
                    self.dataset_cycles
                        .get_or_create(&outcome("published"))
                        .inc();
                    self.retention_deleted
                        .get_or_create(&l)
                        .inc_by(*retention_deleted);
                    self.retention_failures
                        .get_or_create(&l)
                        .inc_by(u64::from(retention_error.is_some()));
                    self.records_added.get_or_create(&l).inc_by(*added);
                    self.records_removed.get_or_create(&l).inc_by(*removed);
                    self.delta_bytes.get_or_create(&l).inc_by(*delta_bytes);
                    self.snapshot_bytes
                        .get_or_create(&l)
                        .inc_by(snapshot_bytes.unwrap_or(0));
                }
                DatasetOutcome::Unchanged => {
                    self.dataset_cycles
                        .get_or_create(&outcome("unchanged"))
                        .inc();
                }
                DatasetOutcome::ValidationFailed { validator, .. } => {
                    self.dataset_cycles
                        .get_or_create(&outcome("validation_failed"))
                        .inc();
                    self.validation_failures
                        .get_or_create(&ValidatorLabels {
                            dataset: d.dataset.clone(),
                            validator: validator.clone(),
                        })
                        .inc();
                }
                DatasetOutcome::Failed { .. } => {
                    self.dataset_cycles.get_or_create(&outcome("failed")).inc();
                }
            }
        }
        if let Some(d) = &report.dead_letter {
            for (outcome, n) in [
                ("queued", d.queued),
                ("dropped", d.dropped),
                ("delivered", d.delivered),
                ("failed", d.failed),
            ] {
                self.dead_letter
                    .get_or_create(&DeadLetterLabels { outcome })
                    .inc_by(n);
            }
            self.dead_letter_in_flight
                .get_or_create(&[])
                .set(i64::try_from(d.in_flight).unwrap_or(i64::MAX));
        }
    }

    /// Replaces the lag series of `dataset` by `lag` (partition → messages).
    fn record_lag(&self, dataset: &str, lag: &BTreeMap<i32, i64>) {
        let mut shown = self
            .lag_partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let labels = |partition: i32| PartitionLabels {
            dataset: dataset.to_owned(),
            partition,
        };
        let previous = shown.insert(dataset.to_owned(), lag.keys().copied().collect());
        for gone in previous
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !lag.contains_key(p))
        {
            self.lag.remove(&labels(gone));
        }
        for (partition, n) in lag {
            self.lag.get_or_create(&labels(*partition)).set(*n);
        }
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        ops::metrics::encode(&self.registry)
    }

    /// Serves these metrics at `GET /metrics` and the health at `GET /healthz` on `addr`
    /// (port 0: any free port), from a background thread; stops when dropped.
    pub fn serve(self: &Arc<Self>, addr: SocketAddr) -> std::io::Result<MetricsServer> {
        let (render, check) = (self.clone(), self.clone());
        MetricsServer::start(
            addr,
            "metrics-http",
            Arc::new(move || render.render()),
            Arc::new(move || check.health_check()),
        )
    }
}

/// A version as the `hollow_producer_version` gauge shows it (-1: none).
fn version_gauge(version: Option<u64>) -> i64 {
    version.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX))
}

/// Fetches `http://addr/metrics` (for tests and tools): the body of the answer.
pub use ops::http::scrape;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::RejectReason;
    use crate::offsets::Offsets;
    use crate::report::{DatasetReport, DeadLetterReport};
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
            retention_error: Some(Arc::new(hollow::Error::Store(
                hollow::store::StoreError::Config {
                    detail: "store down".into(),
                },
            ))),
        };
        let refused = DatasetOutcome::ValidationFailed {
            validator: "record_count_change".into(),
            reason: hollow::lifecycle::ValidationFailure::new("too many"),
        };
        let dlq = DeadLetterReport {
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
    fn http_server_answers() {
        let m = Arc::new(Metrics::new());
        m.register("titles", Some(7));
        let server = m.serve("127.0.0.1:0".parse().unwrap()).unwrap();
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
        assert!(
            get("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n").starts_with("HTTP/1.1 200")
        );
        assert!(get("GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(
            get("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .starts_with("HTTP/1.1 405")
        );
        assert!(get("garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
        drop(server);
    }

    #[test]
    fn healthz_reports_a_dependency_down() {
        // with health: 503 naming the dependency that is down, and its gauges
        let health = Arc::new(Health::new(Duration::ZERO));
        health.register("broker");
        health.failure("store", std::time::Instant::now(), "put: no answer");
        let m = Arc::new(Metrics::new().with_health(health.clone()));
        let server = m.serve("127.0.0.1:0".parse().unwrap()).unwrap();
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
