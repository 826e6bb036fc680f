//! The service's metrics on `prometheus-client`, in one registry per service: cycles run,
//! failed and skipped, versions published, retention; and, for the last cycle that evaluated,
//! pairs evaluated and live, changes published, phase times, input versions and which inputs
//! are on their last good version, and for PREPROD the pairs that differ from PROD. With a
//! [`ops::health::Health`], the stores' `gatekeeper_dependency_*` series and `/healthz`.
//! Served by the shared [`ops::http::MetricsServer`] ([`Metrics::serve`]).
//!
//! Every metric is named `gatekeeper_*`; README.md lists them. The last-cycle series appear
//! with the first cycle that evaluates.

use crate::inputs::Dataset;
use crate::report::CycleReport;
use ops::health::{Health, HealthMetrics};
use ops::http::MetricsServer;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// No labels: the one series of a family that has it only once it has a value.
type NoLabels = [(&'static str, &'static str); 0];
/// A gauge that exists once set.
type Lazy<M = Gauge> = Family<NoLabels, M>;
/// A gauge of seconds.
type GaugeF64 = Gauge<f64, AtomicU64>;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    op: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DatasetLabels {
    dataset: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// The service's metrics (shared with the HTTP server).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    cycles: Counter,
    failed: Counter,
    skipped: Counter,
    published: Counter,
    retention_failures: Counter,
    retention_deleted: Counter,
    inputs_released: Counter,
    now_ms: Lazy,
    pairs: Lazy,
    live: Lazy,
    changes: Family<OpLabels, Gauge>,
    output_version: Lazy,
    phase_seconds: Family<PhaseLabels, GaugeF64>,
    input_version: Family<DatasetLabels, Gauge>,
    input_on_last_good: Family<DatasetLabels, Gauge>,
    inputs_on_last_good: Lazy,
    follows: Lazy,
    prod_diff: Family<KindLabels, Gauge>,
    health: Option<Arc<Health>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// A count as a gauge value.
fn int<T: TryInto<i64>>(v: T) -> i64 {
    v.try_into().unwrap_or(i64::MAX)
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::default(),
            cycles: Counter::default(),
            failed: Counter::default(),
            skipped: Counter::default(),
            published: Counter::default(),
            retention_failures: Counter::default(),
            retention_deleted: Counter::default(),
            inputs_released: Counter::default(),
            now_ms: Lazy::default(),
            pairs: Lazy::default(),
            live: Lazy::default(),
            changes: Family::default(),
            output_version: Lazy::default(),
            phase_seconds: Family::default(),
            input_version: Family::default(),
            input_on_last_good: Family::default(),
            inputs_on_last_good: Lazy::default(),
            follows: Lazy::default(),
            prod_diff: Family::default(),
            health: None,
        };
        let r = &mut m.registry;
        r.register("gatekeeper_cycles", "Cycles run", m.cycles.clone());
        r.register(
            "gatekeeper_cycles_failed",
            "Cycles that failed (nothing published)",
            m.failed.clone(),
        );
        r.register(
            "gatekeeper_cycles_skipped",
            "Cycles with nothing to evaluate (PREPROD: PROD unchanged)",
            m.skipped.clone(),
        );
        r.register(
            "gatekeeper_versions_published",
            "Cycles that published a new output version",
            m.published.clone(),
        );
        r.register(
            "gatekeeper_retention_failures",
            "Retention or input-protection steps that failed (the publish stands)",
            m.retention_failures.clone(),
        );
        r.register(
            "gatekeeper_retention_deleted",
            "Output keys deleted by retention",
            m.retention_deleted.clone(),
        );
        r.register(
            "gatekeeper_inputs_released",
            "Input versions released because no retained output uses them",
            m.inputs_released.clone(),
        );
        r.register(
            "gatekeeper_last_cycle_now_ms",
            "The evaluation time of the last cycle (ms since the epoch)",
            m.now_ms.clone(),
        );
        r.register(
            "gatekeeper_pairs_evaluated",
            "Title x country pairs evaluated by the last evaluating cycle",
            m.pairs.clone(),
        );
        r.register(
            "gatekeeper_pairs_live",
            "Live pairs after the last evaluating cycle",
            m.live.clone(),
        );
        r.register(
            "gatekeeper_changes_last_cycle",
            "Pairs upserted or deleted by the last cycle's publish",
            m.changes.clone(),
        );
        r.register(
            "gatekeeper_output_version",
            "The announced output version",
            m.output_version.clone(),
        );
        r.register(
            "gatekeeper_cycle_seconds",
            "Time of the last cycle, by phase",
            m.phase_seconds.clone(),
        );
        r.register(
            "gatekeeper_input_version",
            "The version of each input the last cycle evaluated",
            m.input_version.clone(),
        );
        r.register(
            "gatekeeper_input_on_last_good",
            "1 when an input could not move to its newest version and the cycle used its last good one",
            m.input_on_last_good.clone(),
        );
        r.register(
            "gatekeeper_inputs_on_last_good",
            "Inputs on their last good version in the last cycle",
            m.inputs_on_last_good.clone(),
        );
        r.register(
            "gatekeeper_follows_prod_version",
            "The PROD output version the last cycle followed",
            m.follows.clone(),
        );
        r.register(
            "gatekeeper_prod_diff_pairs",
            "Pairs of this output that differ from PROD's, by kind",
            m.prod_diff.clone(),
        );
        m
    }

    /// The same metrics with the stores' health (`gatekeeper_dependency_*`, and `/healthz`
    /// answered by it: 503 when a store is down).
    pub fn with_health(mut self, health: Arc<Health>) -> Metrics {
        self.registry
            .register_collector(Box::new(HealthMetrics::new(health.clone(), "gatekeeper")));
        self.health = Some(health);
        self
    }

    /// Whether every store is up, and the `/healthz` body (`ok` without health).
    pub fn health_check(&self) -> (bool, String) {
        self.health
            .as_ref()
            .map_or_else(|| (true, "ok\n".to_owned()), |h| h.check())
    }

    /// Folds in one cycle's report.
    pub fn record(&self, report: &CycleReport) {
        self.cycles.inc();
        if report.error.is_some() {
            self.failed.inc();
        }
        if report.skipped.is_some() {
            self.skipped.inc();
        }
        if report
            .publish
            .as_ref()
            .is_some_and(|p| p.published.is_some())
        {
            self.published.inc();
        }
        if let Some(r) = &report.retention {
            self.retention_failures
                .inc_by((r.errors.len() + r.unprotected.len()) as u64);
            self.retention_deleted.inc_by(r.deleted as u64);
            self.inputs_released.inc_by(r.released as u64);
        }
        // The gauges describe the last cycle that evaluated (a skipped or failed one keeps them).
        if report.error.is_none() && report.skipped.is_none() {
            self.set_last(report);
        }
    }

    /// Sets the last-cycle gauges from `r`.
    fn set_last(&self, r: &CycleReport) {
        let set = |g: &Lazy, v: Option<i64>| match v {
            Some(v) => {
                g.get_or_create(&[]).set(v);
            }
            None => g.clear(),
        };
        set(&self.now_ms, Some(r.now));
        set(&self.pairs, Some(int(r.pairs)));
        set(&self.live, Some(int(r.live)));
        let (upserts, deletes) = r
            .publish
            .as_ref()
            .map_or((0, 0), |p| (p.upserts, p.deletes));
        for (op, n) in [("upsert", upserts), ("delete", deletes)] {
            self.changes.get_or_create(&OpLabels { op }).set(int(n));
        }
        set(
            &self.output_version,
            r.publish.as_ref().and_then(|p| p.version).map(int),
        );
        let p = &r.phases;
        for (phase, d) in [
            ("refresh", p.refresh),
            ("index", p.index),
            ("evaluate", p.evaluate),
            ("publish", p.publish),
            ("prod_diff", p.prod_diff),
            ("total", p.total),
        ] {
            self.phase_seconds
                .get_or_create(&PhaseLabels { phase })
                .set(d.as_secs_f64());
        }
        self.input_version.clear();
        for i in &r.inputs {
            if let Some(v) = i.version {
                self.input_version
                    .get_or_create(&DatasetLabels {
                        dataset: i.dataset.to_string(),
                    })
                    .set(int(v));
            }
        }
        for d in Dataset::ALL {
            let on = r.inputs.iter().any(|i| i.dataset == d && i.on_last_good);
            self.input_on_last_good
                .get_or_create(&DatasetLabels {
                    dataset: d.to_string(),
                })
                .set(i64::from(on));
        }
        set(
            &self.inputs_on_last_good,
            Some(int(r.inputs.iter().filter(|i| i.on_last_good).count())),
        );
        set(&self.follows, r.follows.map(int));
        match &r.prod_diff {
            Some(d) => {
                for (kind, n) in [
                    ("changed", d.changed),
                    ("live_to_not_live", d.live_to_not_live),
                    ("not_live_to_live", d.not_live_to_live),
                    ("added", d.added),
                    ("removed", d.removed),
                ] {
                    self.prod_diff
                        .get_or_create(&KindLabels { kind })
                        .set(int(n));
                }
            }
            None => self.prod_diff.clear(),
        }
    }

    /// Cycles recorded so far.
    pub fn cycles(&self) -> u64 {
        self.cycles.get()
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        ops::metrics::encode(&self.registry)
    }

    /// Serves these metrics at `GET /metrics` and the health at `GET /healthz` on `addr`
    /// (port 0: any free port), from a background thread; stops when dropped.
    pub fn serve(self: &Arc<Self>, addr: SocketAddr) -> std::io::Result<MetricsServer> {
        let (render, check) = (self.clone(), self.clone());
        MetricsServer::start(
            addr,
            "gatekeeper-metrics",
            Arc::new(move || render.render()),
            Arc::new(move || check.health_check()),
        )
    }
}

/// Fetches `http://addr/metrics` (tests and the demo).
pub use ops::http::scrape;
