//! The gatekeeper service: each cycle refreshes the seven inputs, keeps the engine's index
//! current, evaluates every pair at the cycle's `now`, and publishes the `liveness` output
//! incrementally.
//!
//! # A cycle
//!
//! 1. **Refresh.** One hollow [`Consumer`] per input (heap mode) over `<inputs>/<dataset>`
//!    moves to the dataset's announced version by deltas. A new state is checked
//!    ([`Index::validate_input`]) before it is used. If a store is unreachable, no stored path
//!    leads to the new version, or the new state is not a valid state of its dataset, the
//!    cycle goes on with that input's *last good* version and says so (log, report, metric).
//! 2. **Index.** [`Index::update_incremental`] rebuilds, in each part whose inputs changed,
//!    only the titles the consumers' net changes touch (the whole part when they are unknown).
//! 3. **Evaluate** at `now` (the cycle's start, or PROD's `now` when following) with the
//!    service's rules, on all cores.
//! 4. **Publish** with [`OutputPublisher`]: only the pairs that changed since the previous
//!    cycle; the header records `now`, the input versions, the rules version (and the PROD
//!    version followed). Nothing changed: nothing is published, the cycle still counts.
//!
//! # PREPROD
//!
//! With [`ServiceConfig::follow`] set to PROD's output URL, each cycle first reads PROD's
//! latest output version, travels every input to the versions its header records, evaluates
//! at its `now` with this service's rules, publishes (recording the PROD version followed) and
//! diffs its own output against PROD's ([`DiffSummary`]). A PROD version already followed is
//! not evaluated again.

use crate::compare::DiffSummary;
use crate::engine::{Evaluator, Index, InputChange, Rebuilt};
use crate::error::{Error, Result};
use crate::health;
use crate::inputs::{Dataset, InputStates};
use crate::metrics::Metrics;
use crate::output::{read_table, OutputHeader, OutputPublisher};
use crate::retention::{Protector, Refs};
use crate::rules::Rules;
use crate::table::LivenessTable;
use hollow::index::net_changes;
use hollow::lifecycle::{Consumer, ConsumerConfig, Loaded, Transition};
use hollow::write::StateChanges;
use hollow::MemoryMode;
use ops::http::MetricsServer;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use crate::report::{
    CycleReport, InputError, InputStatus, Phases, RetentionFailure, RetentionReport, Skip,
};

/// How a [`Service`] runs.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Where the inputs' timelines are (`<inputs>/<dataset>`). A follower without it uses the
    /// inputs URL PROD records.
    pub inputs: Option<String>,
    /// Where to publish the output.
    pub out: String,
    /// PROD's output URL, for a PREPROD service.
    pub follow: Option<String>,
    /// The rules.
    pub rules: Rules,
    /// Time between cycle starts.
    pub interval: Duration,
    /// Stop after this many cycles.
    pub cycles: Option<u64>,
    /// Serve metrics here.
    pub metrics_addr: Option<SocketAddr>,
    /// Evaluation threads.
    pub threads: usize,
    /// Write an output snapshot every this many versions (in the background; 0: never).
    pub snapshot_every: u64,
    /// Output retention: versions kept (0: all, unless `keep_days` is set). The input
    /// versions retained outputs use stay protected (see [`crate::retention`]).
    pub keep_versions: usize,
    /// Output retention: also keep versions published within this many days.
    pub keep_days: Option<f64>,
    /// How long a store's operations may fail before `/healthz` reports it down (`None`:
    /// one interval).
    pub health_grace: Option<Duration>,
}

impl ServiceConfig {
    /// A configuration with defaults: baseline rules, a 60 s interval, all cores, no metrics.
    pub fn new(inputs: Option<&str>, out: &str) -> ServiceConfig {
        ServiceConfig {
            inputs: inputs.map(str::to_string),
            out: out.to_string(),
            follow: None,
            rules: Rules::baseline(),
            interval: Duration::from_secs(60),
            cycles: None,
            metrics_addr: None,
            threads: crate::engine::default_threads(),
            snapshot_every: 10,
            keep_versions: 0,
            keep_days: None,
            health_grace: None,
        }
    }
}

/// One input's consumer and its last good state.
#[derive(Debug)]
struct Feed {
    dataset: Dataset,
    url: String,
    consumer: Consumer,
    good: Option<Loaded>,
    /// The transitions applied since the good version `log_from`, for incremental index
    /// updates; `log_ok` is false once they no longer lead from it to the good version.
    log: Vec<Transition>,
    log_from: Option<u64>,
    log_ok: bool,
}

impl Feed {
    fn open(dataset: Dataset, inputs: &str, health: &Arc<ops::health::Health>) -> Result<Feed> {
        let url = dataset.store_url(inputs);
        let store = hollow::store::open_store(&url).map_err(|source| Error::Store {
            url: url.clone(),
            source,
        })?;
        let store = health::observed(store, health, health::INPUTS, &Arc::new(AtomicU64::new(0)));
        Ok(Feed {
            dataset,
            consumer: Consumer::new(
                store,
                ConsumerConfig {
                    mode: MemoryMode::Heap,
                    cache_dir: None,
                },
            ),
            url,
            good: None,
            log: Vec::new(),
            log_from: None,
            log_ok: false,
        })
    }

    /// The transitions from good version `from` to the current good version, if they are
    /// known; then starts a new log at the current good version.
    fn take_log(&mut self, from: Option<u64>) -> Option<Vec<Transition>> {
        let good = self.good.as_ref().map(|l| l.version);
        let log = std::mem::take(&mut self.log);
        let chained = log.first().is_none_or(|t| t.from == from)
            && log
                .windows(2)
                .all(|w| w[0].to == w[1].from.unwrap_or(u64::MAX))
            && log.last().map_or(from, |t| Some(t.to)) == good;
        let ok = self.log_ok && from.is_some() && self.log_from == from && chained;
        self.log_from = good;
        self.log_ok = good.is_some();
        ok.then_some(log)
    }

    /// Moves to the announced version (or `target`), keeping the last good state on failure.
    fn refresh(&mut self, target: Option<u64>) -> InputStatus {
        let before = self.good.as_ref().map(|l| l.version);
        let span = tracing::info_span!(
            "refresh",
            dataset = self.dataset.name(),
            from = tracing::field::Empty,
            target = tracing::field::Empty,
            to = tracing::field::Empty,
            steps = tracing::field::Empty
        );
        if let Some(v) = before {
            span.record("from", v);
        }
        if let Some(v) = target {
            span.record("target", v);
        }
        let _entered = span.enter();
        let status = self.refresh_inner(target, before);
        span.record("steps", status.steps);
        if let Some(v) = status.version {
            span.record("to", v);
        }
        status
    }

    fn refresh_inner(&mut self, target: Option<u64>, before: Option<u64>) -> InputStatus {
        let before_current = self.consumer.version();
        let mut status = InputStatus {
            dataset: self.dataset,
            version: before,
            changed: false,
            on_last_good: false,
            error: None,
            steps: 0,
        };
        let result = match target {
            Some(v) => self.consumer.update_to(v),
            None => self.consumer.refresh(),
        };
        match result {
            Ok(report) => {
                status.steps = report.transitions.len();
                if !report.transitions.is_empty() {
                    if before_current.is_some() && before_current == before {
                        self.log.extend(report.transitions.iter().cloned());
                    } else {
                        self.log_ok = false;
                    }
                }
                if !report.recovered_errors.is_empty() {
                    log::warn!(
                        "input {}: reached its version around bad blobs: {}",
                        self.dataset,
                        report
                            .recovered_errors
                            .iter()
                            .map(|e| e.to_string())
                            .collect::<Vec<_>>()
                            .join("; ")
                    );
                }
                match self.consumer.current() {
                    None => {
                        status.error = Some(InputError::NoVersion {
                            url: self.url.clone(),
                        })
                    }
                    Some(cur) if Some(cur.version) == before => {}
                    Some(cur) => match Index::validate_input(self.dataset, &cur.state) {
                        Ok(()) => self.good = Some(cur),
                        Err(e) => {
                            // The consumer sits on the bad state now: later deltas start there.
                            self.log_ok = false;
                            status.on_last_good = self.good.is_some();
                            status.error = Some(InputError::Unusable {
                                dataset: self.dataset,
                                version: cur.version,
                                error: Arc::new(e),
                            });
                        }
                    },
                }
            }
            Err(e) => {
                status.on_last_good = self.good.is_some();
                status.error = Some(InputError::Refresh {
                    url: self.url.clone(),
                    error: Arc::new(e),
                });
            }
        }
        status.version = self.good.as_ref().map(|l| l.version);
        status.changed = status.version != before;
        if let Some(e) = &status.error {
            match status.version {
                Some(v) if status.on_last_good => log::warn!(
                    "input {}: {e}; going on with its last good version {v}",
                    self.dataset
                ),
                _ => log::warn!("input {}: {e}", self.dataset),
            }
        }
        status
    }
}

/// PROD's output, for a PREPROD service.
#[derive(Debug)]
struct Prod {
    url: String,
    consumer: Consumer,
    /// The PROD version last evaluated.
    followed: Option<u64>,
    /// PROD's table of `followed`, read for the diff.
    table: Option<(u64, LivenessTable)>,
}

/// An index with the input versions and states it was built from.
type BuiltIndex = (Index, [Option<u64>; 7], [Arc<hollow::ReadState>; 7]);

/// The gatekeeper service (see the module docs).
#[derive(Debug)]
pub struct Service {
    config: ServiceConfig,
    feeds: Option<(String, Vec<Feed>)>,
    evaluator: Evaluator,
    /// The index, and the input versions and states it was built from.
    index: Option<BuiltIndex>,
    publisher: OutputPublisher,
    prod: Option<Prod>,
    metrics: Arc<Metrics>,
    server: Option<MetricsServer>,
    cycles: u64,
    protector: Protector,
    /// The stores' health (what `/healthz` reports).
    health: Arc<ops::health::Health>,
    /// The output's store (observed) and the operations made on it, for idle probes.
    output_store: (Arc<dyn hollow::store::BlobStore>, Arc<AtomicU64>),
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Service {
    /// Opens the output timeline (restoring its last state), the inputs' consumers, PROD's
    /// output when following, and the metrics server when configured.
    pub fn new(config: ServiceConfig) -> Result<Service> {
        if config.inputs.is_none() && config.follow.is_none() {
            return Err(Error::NoVersion {
                url: config.out.clone(),
                detail: "the service needs an inputs URL (or a PROD output to follow)".into(),
            });
        }
        let health = Arc::new(ops::health::Health::new(
            config.health_grace.unwrap_or(config.interval),
        ));
        let out_ops = Arc::new(AtomicU64::new(0));
        let out_store = hollow::store::open_store(&config.out).map_err(|source| Error::Store {
            url: config.out.clone(),
            source,
        })?;
        let out_store = health::observed(out_store, &health, health::OUTPUT, &out_ops);
        health.register(health::OUTPUT);
        let publisher =
            OutputPublisher::open_in(out_store.clone(), &config.out, config.snapshot_every)?;
        health.register(health::INPUTS);
        let feeds = match &config.inputs {
            Some(url) => Some((
                url.clone(),
                Dataset::ALL
                    .iter()
                    .map(|&d| Feed::open(d, url, &health))
                    .collect::<Result<Vec<_>>>()?,
            )),
            None => None,
        };
        let prod = match &config.follow {
            Some(url) => {
                health.register(health::PROD);
                let store = hollow::store::open_store(url).map_err(|source| Error::Store {
                    url: url.clone(),
                    source,
                })?;
                let store =
                    health::observed(store, &health, health::PROD, &Arc::new(AtomicU64::new(0)));
                Some(Prod {
                    url: url.clone(),
                    consumer: Consumer::new(
                        store,
                        ConsumerConfig {
                            mode: MemoryMode::Heap,
                            cache_dir: None,
                        },
                    ),
                    followed: None,
                    table: None,
                })
            }
            None => None,
        };
        let metrics = Arc::new(Metrics::new().with_health(health.clone()));
        let server = match config.metrics_addr {
            Some(addr) => Some(metrics.serve(addr).map_err(|source| Error::Io {
                path: format!("metrics listener {addr}").into(),
                source,
            })?),
            None => None,
        };
        let protector = Protector::new(&config.out, out_store.clone());
        Ok(Service {
            evaluator: Evaluator::with_threads(config.threads),
            config,
            feeds,
            index: None,
            publisher,
            prod,
            metrics,
            server,
            cycles: 0,
            health,
            output_store: (out_store, out_ops),
            protector,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// The metrics (shared with the HTTP server).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The stores' health (what `/healthz` reports).
    pub fn health(&self) -> &Arc<ops::health::Health> {
        &self.health
    }

    /// Where metrics are served.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(MetricsServer::local_addr)
    }

    /// The output's announced version.
    pub fn output_version(&self) -> Option<u64> {
        self.publisher.version()
    }

    /// Waits until the output's producer is ready: after the first version of an empty
    /// output, it is restored from that version in the background. Returns the time waited.
    pub fn wait_output_ready(&mut self) -> Result<Duration> {
        self.publisher.wait_ready()
    }

    /// The table the output's latest version holds (when this service published it).
    pub fn published(&self) -> Option<&LivenessTable> {
        self.publisher.published()
    }

    /// Runs one cycle with `now` = the current time (PROD's `now` when following).
    pub fn run_cycle(&mut self) -> CycleReport {
        self.run_cycle_at(now_ms())
    }

    /// Runs one cycle evaluating at `now` (ignored when following: PROD's `now` is used). The
    /// report is logged and folded into the metrics.
    pub fn run_cycle_at(&mut self, now: i64) -> CycleReport {
        let started = Instant::now();
        self.cycles += 1;
        // closed (and logged, with its duration) when the cycle returns
        let span = tracing::info_span!(
            "cycle",
            n = self.cycles,
            now = tracing::field::Empty,
            pairs = tracing::field::Empty,
            published = tracing::field::Empty
        );
        let _entered = span.enter();
        let mut report = CycleReport {
            cycle: self.cycles,
            now,
            ..CycleReport::default()
        };
        let out_ops = self.output_store.1.load(Ordering::Relaxed);
        if let Err(e) = self.cycle(&mut report) {
            report.error = Some(Arc::new(e));
        }
        health::probe_if_idle(&*self.output_store.0, &self.output_store.1, out_ops);
        report.phases.total = started.elapsed();
        span.record("now", report.now);
        span.record("pairs", report.pairs);
        if let Some(v) = report.publish.as_ref().and_then(|p| p.published) {
            span.record("published", v);
        }
        self.metrics.record(&report);
        if report.error.is_some() || !report.inputs_on_last_good().is_empty() {
            log::warn!("{report}");
        } else {
            log::info!("{report}");
        }
        if let Some(d) = report.prod_diff.as_ref().filter(|d| !d.is_empty()) {
            log::info!("PREPROD vs PROD: {d}");
        }
        report
    }

    fn cycle(&mut self, report: &mut CycleReport) -> Result<()> {
        // PREPROD: what PROD evaluated last.
        let mut follow: Option<(u64, OutputHeader)> = None;
        if let Some(prod) = &mut self.prod {
            prod.consumer
                .refresh()
                .map_err(|e| Error::hollow(format!("refreshing PROD's output {}", prod.url), e))?;
            let Some(cur) = prod.consumer.current() else {
                report.skipped = Some(Skip::ProdEmpty {
                    url: prod.url.clone(),
                });
                return Ok(());
            };
            if prod.followed == Some(cur.version) {
                report.follows = Some(cur.version);
                report.skipped = Some(Skip::ProdUnchanged {
                    version: cur.version,
                });
                return Ok(());
            }
            let header = OutputHeader::parse(cur.version, cur.state.header())?;
            report.now = header.now;
            follow = Some((cur.version, header));
        }
        let targets = match &follow {
            Some((v, h)) => Some(h.input_versions(*v)?),
            None => None,
        };
        if self.feeds.is_none() {
            let url = follow
                .as_ref()
                .and_then(|(_, h)| h.inputs_url.clone())
                .ok_or_else(|| Error::NoVersion {
                    url: self.config.out.clone(),
                    detail: "no inputs URL (PROD records none)".into(),
                })?;
            let feeds = Dataset::ALL
                .iter()
                .map(|&d| Feed::open(d, &url, &self.health))
                .collect::<Result<Vec<_>>>()?;
            self.feeds = Some((url, feeds));
        }
        let Some((inputs_url, feeds)) = &mut self.feeds else {
            return Ok(());
        };

        // 1. Refresh.
        let t = Instant::now();
        report.inputs = feeds
            .iter_mut()
            .map(|f| f.refresh(targets.map(|t| t[f.dataset.index()])))
            .collect();
        if let Some((v, _)) = &follow {
            for (status, target) in report.inputs.iter_mut().zip(targets.unwrap_or_default()) {
                if status.version != Some(target) && !status.on_last_good {
                    status.on_last_good = status.version.is_some();
                    log::warn!(
                        "input {}: PROD v{v} evaluated version {target}, this cycle uses {:?}",
                        status.dataset,
                        status.version
                    );
                }
            }
        }
        let mut states = Vec::with_capacity(7);
        let mut versions = [None; 7];
        for f in feeds.iter() {
            let good = f.good.as_ref().ok_or(Error::NoInputVersion {
                dataset: f.dataset.name(),
                url: f.url.clone(),
            })?;
            versions[f.dataset.index()] = Some(good.version);
            states.push(good.state.clone());
        }
        let states: [Arc<hollow::ReadState>; 7] = states.try_into().map_err(|_| Error::Input {
            dataset: "all",
            detail: "fewer than 7 inputs".into(),
        })?;
        let inputs = InputStates { states, versions };
        let inputs_url = inputs_url.clone();
        report.phases.refresh = t.elapsed();
        ops::chaos::point("loaded");

        // 2. Index.
        let t = Instant::now();
        let previous = self.index.take();
        let built_from = previous.as_ref().map_or([None; 7], |p| p.1);
        let logs: Vec<Option<Vec<Transition>>> = feeds
            .iter_mut()
            .map(|f| f.take_log(built_from[f.dataset.index()]))
            .collect();
        let (index, rebuilt) = match previous {
            Some((index, built_from, _)) if built_from == versions => (index, Rebuilt::default()),
            Some((index, built_from, built_states)) => {
                // Net changes from the states the index was built from, where the consumers'
                // transitions lead from them to the current ones.
                let nets: Vec<Option<StateChanges>> = (0..7)
                    .map(|i| {
                        if built_from[i] == versions[i] {
                            None
                        } else {
                            logs[i].as_ref().and_then(|log| {
                                net_changes(&built_states[i], &inputs.states[i], log)
                            })
                        }
                    })
                    .collect();
                let changes: [Option<InputChange<'_>>; 7] = std::array::from_fn(|i| {
                    (built_from[i] != versions[i]).then(|| InputChange {
                        old: &built_states[i],
                        changes: nets[i].as_ref(),
                    })
                });
                index.update_incremental(&inputs, &changes)?
            }
            None => (Index::build(&inputs)?, Rebuilt::all()),
        };
        report.rebuilt = Some(rebuilt);
        report.phases.index = t.elapsed();

        // 3. Evaluate.
        ops::chaos::point("evaluate");
        let t = Instant::now();
        let evaluate_span = tracing::info_span!(
            "evaluate",
            now = report.now,
            rules = %self.config.rules.version,
            pairs = tracing::field::Empty
        );
        let evaluate_entered = evaluate_span.enter();
        let table = self
            .evaluator
            .evaluate(&index, report.now, &self.config.rules);
        evaluate_span.record("pairs", table.len());
        drop(evaluate_entered);
        self.index = Some((index, versions, inputs.states.clone()));
        report.pairs = table.len();
        report.live = table.live_count();
        report.phases.evaluate = t.elapsed();

        // 4. Publish.
        let t = Instant::now();
        let header = OutputHeader {
            now: report.now,
            rules: self.config.rules.version.clone(),
            inputs: versions,
            inputs_url: Some(inputs_url),
            follows: follow.as_ref().map(|(v, _)| *v),
            prod_url: self.prod.as_ref().map(|p| p.url.clone()),
        };
        let mut retention = RetentionReport::default();
        let used: [u64; 7] = std::array::from_fn(|i| versions[i].unwrap_or(0));
        let inputs_url = header.inputs_url.clone().unwrap_or_default();
        // protect before announcing: a published output never uses an unprotected input
        match self.protector.protect(&inputs_url, &used) {
            Ok(gone) => retention.unprotected = gone,
            Err(e) => retention
                .errors
                .push(RetentionFailure::Protect(Arc::new(e))),
        }
        let published = self.publisher.publish(table, &header)?;
        if let Some(v) = published.published {
            if let Err(e) = self.protector.record(
                v,
                &Refs {
                    inputs_url,
                    versions: used,
                },
            ) {
                retention.errors.push(RetentionFailure::Record {
                    version: v,
                    error: Arc::new(e),
                });
            }
            if self.config.keep_versions > 0 || self.config.keep_days.is_some() {
                self.apply_retention(&mut retention);
            }
        }
        report.publish = Some(published);
        if let Some(old) = self.publisher.take_replaced() {
            self.evaluator.recycle(old);
        }
        for (d, v) in &retention.unprotected {
            log::error!("input {d} v{v} was deleted before this gatekeeper could protect it: replay of the output it went into will fail");
        }
        for e in &retention.errors {
            log::error!("retention: {e}");
        }
        report.retention = Some(retention);
        report.phases.publish = t.elapsed();

        // 5. PREPROD: diff against PROD.
        if let (Some((v, _)), Some(prod)) = (&follow, &mut self.prod) {
            let t = Instant::now();
            report.follows = Some(*v);
            prod.followed = Some(*v);
            if prod.table.as_ref().is_none_or(|(tv, _)| tv != v) {
                let state = prod
                    .consumer
                    .current()
                    .filter(|c| c.version == *v)
                    .map(|c| c.state)
                    .ok_or_else(|| Error::NoVersion {
                        url: prod.url.clone(),
                        detail: format!("version {v} is gone"),
                    })?;
                prod.table = Some((*v, read_table(&state, self.evaluator.reasons_mut())?));
            }
            if let (Some((_, prod_table)), Some(own)) = (&prod.table, self.publisher.published()) {
                let diff = prod_table.diff(own);
                report.prod_diff = Some(DiffSummary::new(prod_table, own, &diff));
            }
            report.phases.prod_diff = t.elapsed();
        }
        Ok(())
    }

    /// The output's retention, then the release of the input versions no retained output
    /// uses. Failures are reported, never fatal: the publish stands.
    fn apply_retention(&mut self, report: &mut RetentionReport) {
        // keep_versions 0 with keep_days: the age rule alone decides (0 alone: keep all)
        let keep = match (self.config.keep_versions, self.config.keep_days) {
            (0, None) => usize::MAX,
            (0, Some(_)) => 1,
            (n, _) => n,
        };
        let now = u64::try_from(now_ms()).unwrap_or(0);
        match hollow::lifecycle::Timeline::new(self.output_store.0.clone()).retain(
            keep,
            self.config.keep_days,
            now,
        ) {
            Ok(deleted) => report.deleted = deleted.len(),
            Err(e) => report.errors.push(RetentionFailure::Retention(Arc::new(e))),
        }
        match self.protector.sync() {
            Ok(sync) => {
                report.released = sync.released.len();
                if !sync.unknown.is_empty() {
                    log::warn!(
                        "output versions {:?} have no refs/ record: no input version is released",
                        sync.unknown
                    );
                }
            }
            Err(e) => report.errors.push(RetentionFailure::Release(Arc::new(e))),
        }
    }

    /// Runs cycles every [`ServiceConfig::interval`] until `stop` is set or
    /// [`ServiceConfig::cycles`] have run.
    pub fn run(&mut self, stop: &AtomicBool) {
        let mut done = 0u64;
        while !stop.load(Ordering::Acquire) {
            let started = Instant::now();
            self.run_cycle();
            done += 1;
            if self.config.cycles.is_some_and(|m| done >= m) {
                break;
            }
            let next = started + self.config.interval;
            while !stop.load(Ordering::Acquire) {
                let now = Instant::now();
                if now >= next {
                    break;
                }
                std::thread::sleep((next - now).min(Duration::from_millis(50)));
            }
        }
    }
}
