//! Per-cycle metrics of the service as Prometheus text, served over HTTP by a tiny `std::net`
//! server thread ([`MetricsServer`]): cycles run and failed, pairs evaluated, live pairs,
//! changes published, phase times, input versions and which inputs are on their last good
//! version, and for PREPROD the pairs that differ from PROD.

use crate::inputs::Dataset;
use crate::service::CycleReport;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The service's metrics (shared with the HTTP server).
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    cycles: u64,
    failed: u64,
    skipped: u64,
    published: u64,
    retention_failures: u64,
    retention_deleted: u64,
    inputs_released: u64,
    last: Option<CycleReport>,
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Folds in one cycle's report.
    pub fn record(&self, report: &CycleReport) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.cycles += 1;
        if report.error.is_some() {
            m.failed += 1;
        }
        if report.skipped.is_some() {
            m.skipped += 1;
        }
        if report
            .publish
            .as_ref()
            .is_some_and(|p| p.published.is_some())
        {
            m.published += 1;
        }
        if let Some(r) = &report.retention {
            m.retention_failures += (r.errors.len() + r.unprotected.len()) as u64;
            m.retention_deleted += r.deleted as u64;
            m.inputs_released += r.released as u64;
        }
        // The gauges describe the last cycle that evaluated (a skipped or failed one keeps them).
        if report.error.is_none() && report.skipped.is_none() {
            m.last = Some(report.clone());
        }
    }

    /// Cycles recorded so far.
    pub fn cycles(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).cycles
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in samples {
                let _ = writeln!(s, "{name}{labels} {v}");
            }
        };
        let one = |v: f64| vec![(String::new(), v)];
        metric(
            "gatekeeper_cycles_total",
            "counter",
            "Cycles run.",
            &one(m.cycles as f64),
        );
        metric(
            "gatekeeper_cycles_failed_total",
            "counter",
            "Cycles that failed (nothing published).",
            &one(m.failed as f64),
        );
        metric(
            "gatekeeper_cycles_skipped_total",
            "counter",
            "Cycles with nothing to evaluate (PREPROD: PROD unchanged).",
            &one(m.skipped as f64),
        );
        metric(
            "gatekeeper_versions_published_total",
            "counter",
            "Cycles that published a new output version.",
            &one(m.published as f64),
        );
        metric(
            "gatekeeper_retention_failures_total",
            "counter",
            "Retention or input-protection steps that failed (the publish stands).",
            &one(m.retention_failures as f64),
        );
        metric(
            "gatekeeper_retention_deleted_total",
            "counter",
            "Output keys deleted by retention.",
            &one(m.retention_deleted as f64),
        );
        metric(
            "gatekeeper_inputs_released_total",
            "counter",
            "Input versions released because no retained output uses them.",
            &one(m.inputs_released as f64),
        );
        let Some(r) = &m.last else { return s };
        metric(
            "gatekeeper_last_cycle_now_ms",
            "gauge",
            "The evaluation time of the last cycle (ms since the epoch).",
            &one(r.now as f64),
        );
        metric(
            "gatekeeper_pairs_evaluated",
            "gauge",
            "Title x country pairs evaluated by the last evaluating cycle.",
            &one(r.pairs as f64),
        );
        metric(
            "gatekeeper_pairs_live",
            "gauge",
            "Live pairs after the last evaluating cycle.",
            &one(r.live as f64),
        );
        let (upserts, deletes) = r
            .publish
            .as_ref()
            .map_or((0, 0), |p| (p.upserts, p.deletes));
        metric(
            "gatekeeper_changes_last_cycle",
            "gauge",
            "Pairs upserted or deleted by the last cycle's publish.",
            &[
                ("{op=\"upsert\"}".into(), upserts as f64),
                ("{op=\"delete\"}".into(), deletes as f64),
            ],
        );
        if let Some(v) = r.publish.as_ref().and_then(|p| p.version) {
            metric(
                "gatekeeper_output_version",
                "gauge",
                "The announced output version.",
                &one(v as f64),
            );
        }
        let p = &r.phases;
        let phases = [
            ("refresh", p.refresh),
            ("index", p.index),
            ("evaluate", p.evaluate),
            ("publish", p.publish),
            ("prod_diff", p.prod_diff),
            ("total", p.total),
        ];
        metric(
            "gatekeeper_cycle_seconds",
            "gauge",
            "Time of the last cycle, by phase.",
            &phases
                .iter()
                .map(|(n, d)| (format!("{{phase=\"{n}\"}}"), d.as_secs_f64()))
                .collect::<Vec<_>>(),
        );
        let versions: Vec<(String, f64)> = r
            .inputs
            .iter()
            .filter_map(|i| {
                i.version
                    .map(|v| (format!("{{dataset=\"{}\"}}", i.dataset), v as f64))
            })
            .collect();
        metric(
            "gatekeeper_input_version",
            "gauge",
            "The version of each input the last cycle evaluated.",
            &versions,
        );
        let last_good: Vec<(String, f64)> = Dataset::ALL
            .iter()
            .map(|d| {
                (
                    format!("{{dataset=\"{d}\"}}",),
                    r.inputs.iter().any(|i| i.dataset == *d && i.on_last_good) as u8 as f64,
                )
            })
            .collect();
        metric("gatekeeper_input_on_last_good", "gauge", "1 when an input could not move to its newest version and the cycle used its last good one.", &last_good);
        metric(
            "gatekeeper_inputs_on_last_good",
            "gauge",
            "Inputs on their last good version in the last cycle.",
            &one(r.inputs.iter().filter(|i| i.on_last_good).count() as f64),
        );
        if let Some(v) = r.follows {
            metric(
                "gatekeeper_follows_prod_version",
                "gauge",
                "The PROD output version the last cycle followed.",
                &one(v as f64),
            );
        }
        if let Some(d) = &r.prod_diff {
            metric(
                "gatekeeper_prod_diff_pairs",
                "gauge",
                "Pairs of this output that differ from PROD's, by kind.",
                &[
                    ("{kind=\"changed\"}".into(), d.changed as f64),
                    (
                        "{kind=\"live_to_not_live\"}".into(),
                        d.live_to_not_live as f64,
                    ),
                    (
                        "{kind=\"not_live_to_live\"}".into(),
                        d.not_live_to_live as f64,
                    ),
                    ("{kind=\"added\"}".into(), d.added as f64),
                    ("{kind=\"removed\"}".into(), d.removed as f64),
                ],
            );
        }
        s
    }
}

/// A background HTTP server answering `GET /metrics` with the metrics text and `GET /healthz`
/// ([`ops::http::MetricsHttp`]); stops when dropped.
#[derive(Debug)]
pub struct MetricsServer(ops::http::MetricsHttp);

impl MetricsServer {
    /// Binds `addr` (port 0: any free port) and serves `metrics` from a background thread.
    pub fn start(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<MetricsServer> {
        Self::start_with_health(addr, metrics, None)
    }

    /// Like [`MetricsServer::start`], with the dependency gauges of `health`
    /// (`gatekeeper_dependency_*`) and `/healthz` answered by it (503 when a store is down).
    pub fn start_with_health(
        addr: SocketAddr,
        metrics: Arc<Metrics>,
        health: Option<Arc<ops::health::Health>>,
    ) -> std::io::Result<MetricsServer> {
        let h = health.clone();
        let render = move || {
            let mut text = metrics.render();
            if let Some(h) = &h {
                text.push_str(&h.render_prometheus("gatekeeper"));
            }
            text
        };
        let check = move || {
            health
                .as_ref()
                .map_or_else(|| (true, "ok\n".to_owned()), |h| h.check())
        };
        ops::http::MetricsHttp::start_with_health(
            addr,
            "gatekeeper-metrics",
            Arc::new(render),
            Arc::new(check),
        )
        .map(MetricsServer)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.0.local_addr()
    }
}

/// Fetches `http://addr/metrics` (tests and the demo).
pub use ops::http::scrape;
