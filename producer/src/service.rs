//! The producer service: each cycle, for each dataset, reads the messages added to the
//! dataset's topic since the last cycle and folds them into one hollow producer cycle.
//!
//! # Exactly-once across restarts
//!
//! Every published state stores, in its header under `kafka.offsets`, the next offset of
//! each partition of its topic: exactly the messages below those offsets are folded into
//! it. On start the service restores the last announced state and resumes from those
//! offsets, so after any crash (even `kill -9` between writing blobs and announcing) no
//! message is lost and none is folded twice into a published state, and versions follow each
//! other without gaps or duplicates (hollow's producer numbers versions from the restored
//! state).
//!
//! A cycle that changes nothing publishes nothing but still advances the offsets in memory.
//! If the process dies before the next publish, those messages are read again: harmless,
//! because they were no-ops against the very state that is restored (folding them again
//! gives the same state). Rejected messages are read again too, so they may be logged and
//! dead-lettered more than once (the dead-letter topic is at-least-once).
//!
//! A cycle that fails (a hollow error, a publish that fails) or whose new state a validator
//! refuses keeps the old offsets: the same messages are read again next cycle.
//!
//! # Validators and retention
//!
//! The record-count change and primary-key validators are on by default (see
//! [`StateOptions`](crate::state::StateOptions)); a refused state is logged, counted by
//! validator in `hollow_producer_validation_failures_total`, and announces nothing. Retention
//! (`keep-versions`, `keep-days`) runs after each publish; its failures are logged and counted
//! in `hollow_producer_retention_failures_total` and never undo the publish.
//!
//! # Dead letters never hold a cycle
//!
//! Rejected messages are queued to the dead-letter topic without waiting for their delivery
//! (librdkafka delivers them from its own thread). A full local queue (a broker that takes
//! nothing) drops the message and counts it. Each cycle only reads the delivery counters; the
//! outcomes appear in `hollow_producer_dead_letter_messages_total{outcome}`. [`Service::run`]
//! waits a bounded time for the last deliveries when it stops.
//!
//! # Outages
//!
//! The broker and the stores are watched ([`crate::health`]): every broker request and store
//! operation reports its outcome, `/healthz` answers 503 naming the dependency once its
//! operations have failed for longer than [`Config::health_grace`], and the metrics carry
//! `hollow_producer_dependency_*` gauges. While a dependency is down, cycles fail within the
//! store's and the Kafka client's time limits and announce nothing (a cycle whose blobs are
//! not all stored announces nothing; the next successful one publishes every message since,
//! from the offsets of the last announced state), and the service recovers by itself.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hollow::dataset::DatasetSchema;
use hollow::lifecycle::{CycleOutcome, RetentionOutcome};
use hollow::store::{BlobStore, StoreError};
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::health;
use crate::kafka::{self, EmbeddedBroker, KafkaConsumer, Sender, REQUEST_TIMEOUT};
use crate::message::{decode, RejectReason, Rejection};
use crate::metrics::Metrics;
use crate::offsets::{Offsets, HEADER_KEY};
use crate::state::DatasetState;
use ops::http::MetricsServer;

pub use crate::report::{CycleReport, DatasetOutcome, DatasetReport, DeadLetterReport};

/// Rejections logged per dataset and cycle before the rest are only counted.
const MAX_LOGGED_REJECTIONS: u64 = 20;

/// One dataset of the service.
#[derive(Debug)]
struct Slot {
    schema: DatasetSchema,
    topic: String,
    store_url: String,
    state: DatasetState,
    /// Next offsets to read: those of the last published state, advanced by unchanged cycles.
    offsets: Offsets,
    /// The dataset's store (observed), for health probes.
    store: Arc<dyn hollow::store::BlobStore>,
    /// Operations made on `store` so far.
    store_ops: Arc<AtomicU64>,
    /// The dependencies' health.
    health: Arc<ops::health::Health>,
}

/// The producer service. Build it with [`Service::new`], then call [`Service::run_cycle`]
/// (or [`Service::run`] for the timed loop).
pub struct Service {
    config: Config,
    bootstrap: String,
    consumer: KafkaConsumer,
    slots: Vec<Slot>,
    dead_letter: Option<(String, Sender)>,
    metrics: Arc<Metrics>,
    metrics_server: Option<MetricsServer>,
    health: Arc<ops::health::Health>,
    cycles: u64,
    // last: fields drop in order, and the clients above must go before the broker
    embedded: Option<Arc<EmbeddedBroker>>,
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("bootstrap", &self.bootstrap)
            .field("slots", &self.slots)
            .field("cycles", &self.cycles)
            .finish()
    }
}

impl Service {
    /// Builds the service: starts the embedded broker if no bootstrap servers are
    /// configured, creates missing topics, opens every dataset's store and restores its last
    /// announced state and offsets, and starts the metrics server if configured.
    pub fn new(config: Config) -> Result<Service> {
        let embedded = match config.bootstrap {
            Some(_) => None,
            None => Some(Arc::new(EmbeddedBroker::start()?)),
        };
        Self::build(config, embedded)
    }

    /// Like [`Service::new`] but on an embedded broker that outlives the service (tests and
    /// demos that restart the service, or share the broker with other code).
    pub fn with_broker(mut config: Config, broker: Arc<EmbeddedBroker>) -> Result<Service> {
        config.bootstrap = Some(broker.bootstrap_servers().to_owned());
        Self::build(config, Some(broker))
    }

    fn build(mut config: Config, embedded: Option<Arc<EmbeddedBroker>>) -> Result<Service> {
        let bootstrap = match (&embedded, &config.bootstrap) {
            (Some(b), _) => b.bootstrap_servers().to_owned(),
            (None, Some(b)) => b.clone(),
            (None, None) => return Err(Error::Config("no bootstrap servers".into())),
        };
        config.bootstrap = Some(bootstrap.clone());
        let schemas = config.load_schemas()?;
        let mut topics: Vec<String> = schemas.iter().map(|s| config.topic(&s.dataset)).collect();
        if let (Some(dlq), None) = (&config.dead_letter_topic, &config.dead_letter_bootstrap) {
            topics.push(dlq.clone());
        }
        if config.create_topics {
            kafka::ensure_topics(
                &bootstrap,
                &config.kafka,
                &topics,
                config.partitions,
                embedded.as_deref(),
            )?;
        }
        let consumer = kafka::create_consumer(&bootstrap, &config.group_id, &config.kafka)?;
        let health = Arc::new(ops::health::Health::new(
            config.health_grace.unwrap_or(config.cycle_interval),
        ));
        health.register(health::BROKER);
        health.register(health::STORE);
        let metrics = Arc::new(Metrics::new().with_health(health.clone()));
        let mut slots = Vec::with_capacity(schemas.len());
        for schema in schemas {
            let topic = config.topic(&schema.dataset);
            let store_url = config.store_url(&schema.dataset);
            let store = hollow::store::open_store(&store_url).map_err(|source| Error::Store {
                url: store_url.clone(),
                source,
            })?;
            let store: Arc<dyn BlobStore> = if ops::chaos::enabled() {
                Arc::new(ChaosStore(store))
            } else {
                store
            };
            let store_ops = Arc::new(AtomicU64::new(0));
            let store = health::observed(store, &health, &store_ops);
            let state = DatasetState::open(&schema, store.clone(), &config.state)
                .map_err(|e| Error::hollow(&schema.dataset, e))?;
            let stored = match state.header().get(HEADER_KEY) {
                None => Offsets::new(),
                Some(text) => Offsets::parse(text).map_err(|e| {
                    Error::Config(format!(
                        "dataset {}: version {:?} has corrupt stored offsets: {e}",
                        schema.dataset,
                        state.version()
                    ))
                })?,
            };
            let offsets = stored.for_topic(&topic);
            if offsets.len() != stored.len() {
                log::warn!("dataset {}: the stored state was read from other topics ({stored}); reading {topic} from its beginning", schema.dataset);
            }
            match state.version() {
                Some(v) => log::info!(
                    "dataset {}: restored v{v} from {store_url}, resuming {topic} at [{offsets}]",
                    schema.dataset
                ),
                None => log::info!(
                    "dataset {}: new timeline in {store_url}, reading {topic} from the beginning",
                    schema.dataset
                ),
            }
            metrics.register(&schema.dataset, state.version());
            slots.push(Slot {
                schema,
                topic,
                store_url,
                state,
                offsets,
                store,
                store_ops,
                health: health.clone(),
            });
        }
        let dead_letter = match &config.dead_letter_topic {
            Some(t) => Some((
                t.clone(),
                Sender::new(
                    config
                        .dead_letter_bootstrap
                        .as_deref()
                        .unwrap_or(&bootstrap),
                    &config.kafka,
                )?,
            )),
            None => None,
        };
        let metrics_server = match config.metrics_addr {
            Some(addr) => {
                let server = metrics.serve(addr).map_err(|source| Error::Io {
                    path: format!("metrics listener {addr}").into(),
                    source,
                })?;
                log::info!("metrics on http://{}/metrics", server.local_addr());
                Some(server)
            }
            None => None,
        };
        Ok(Service {
            config,
            embedded,
            bootstrap,
            consumer,
            slots,
            dead_letter,
            metrics,
            metrics_server,
            health,
            cycles: 0,
        })
    }

    /// The Kafka bootstrap servers the service reads from (the embedded broker's if any).
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// The embedded broker, if the service runs on one.
    pub fn embedded_broker(&self) -> Option<&Arc<EmbeddedBroker>> {
        self.embedded.as_ref()
    }

    /// The configuration (with `bootstrap` filled in).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The datasets, in order.
    pub fn datasets(&self) -> Vec<&str> {
        self.slots
            .iter()
            .map(|s| s.schema.dataset.as_str())
            .collect()
    }

    /// The schema of a dataset.
    pub fn schema(&self, dataset: &str) -> Option<&DatasetSchema> {
        self.slot(dataset).map(|s| &s.schema)
    }

    /// The topic of a dataset.
    pub fn topic(&self, dataset: &str) -> Option<&str> {
        self.slot(dataset).map(|s| s.topic.as_str())
    }

    /// The blob store URL of a dataset.
    pub fn store_url(&self, dataset: &str) -> Option<&str> {
        self.slot(dataset).map(|s| s.store_url.as_str())
    }

    /// The last announced version of a dataset.
    pub fn version(&self, dataset: &str) -> Option<u64> {
        self.slot(dataset).and_then(|s| s.state.version())
    }

    /// The next offsets the service will read for a dataset.
    pub fn offsets(&self, dataset: &str) -> Option<&Offsets> {
        self.slot(dataset).map(|s| &s.offsets)
    }

    /// The metrics (shared with the HTTP server).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The health of the broker and the stores (what `/healthz` reports).
    pub fn health(&self) -> &Arc<ops::health::Health> {
        &self.health
    }

    /// Where metrics are served, if they are.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_server.as_ref().map(MetricsServer::local_addr)
    }

    fn slot(&self, dataset: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.schema.dataset == dataset)
    }

    /// Runs one cycle over every dataset. The report is also logged and folded into the
    /// metrics. Returns [`Error::CycleFailed`] if any dataset's cycle failed (the others
    /// still ran; the failed ones read the same messages again next cycle).
    pub fn run_cycle(&mut self) -> Result<CycleReport> {
        let started = Instant::now();
        self.cycles += 1;
        // closed (and logged, with its duration) when the cycle returns
        let span = tracing::info_span!(
            "cycle",
            n = self.cycles,
            read = tracing::field::Empty,
            published = tracing::field::Empty
        );
        let _entered = span.enter();
        let mut datasets = Vec::with_capacity(self.slots.len());
        let topics: Vec<String> = self.slots.iter().map(|s| s.topic.clone()).collect();
        let mut dead_letter = self
            .dead_letter
            .as_ref()
            .map(|_| DeadLetterReport::default());
        for slot in &mut self.slots {
            let mut dlq = self.dead_letter.as_mut().map(|(t, s)| DeadLetter {
                topic: t.as_str(),
                sender: s,
                queued: 0,
                dropped: 0,
            });
            let store_ops = slot.store_ops.load(Ordering::Relaxed);
            let dataset_span = tracing::info_span!(
                "dataset",
                dataset = %slot.schema.dataset,
                from = tracing::field::Empty,
                read = tracing::field::Empty,
                published = tracing::field::Empty
            );
            if let Some(v) = slot.state.version() {
                dataset_span.record("from", v);
            }
            let dataset_entered = dataset_span.enter();
            let report = cycle_dataset(
                &self.consumer,
                slot,
                &topics,
                dlq.as_mut(),
                self.config.read_timeout,
            );
            dataset_span.record("read", report.read);
            if let Some(v) = report.published() {
                dataset_span.record("published", v);
            }
            drop(dataset_entered);
            health::probe_if_idle(&*slot.store, &slot.store_ops, store_ops);
            if let (Some(d), Some(total)) = (dlq, dead_letter.as_mut()) {
                total.queued += d.queued;
                total.dropped += d.dropped;
            }
            if matches!(report.outcome, DatasetOutcome::Failed { .. })
                && health::any_failing(&self.health)
            {
                // the health log lines say what is down; no error line per cycle
                log::debug!("  {report}");
            } else if report.read > 0 || !matches!(report.outcome, DatasetOutcome::Unchanged) {
                log::info!("  {report}");
            } else {
                log::debug!("  {report}");
            }
            datasets.push(report);
        }
        if let (Some((topic, sender)), Some(d)) = (self.dead_letter.as_mut(), dead_letter.as_mut())
        {
            // only the counters: waiting for deliveries would hold the cycle
            let delivered = sender.deliveries();
            (d.delivered, d.failed, d.in_flight) =
                (delivered.delivered, delivered.failed, sender.in_flight());
            if d.failed > 0 || d.dropped > 0 {
                log::error!("dead-letter topic {topic}: {} message(s) failed to be delivered, {} dropped (local queue full), {} in flight", d.failed, d.dropped, d.in_flight);
            }
        }
        let report = CycleReport {
            cycle: self.cycles,
            datasets,
            elapsed: started.elapsed(),
            dead_letter,
        };
        self.metrics.record(&report);
        span.record("read", report.read());
        if !report.published().is_empty() {
            let published: Vec<String> = report
                .published()
                .iter()
                .map(|(d, v)| format!("{d}=v{v}"))
                .collect();
            span.record("published", published.join(" ").as_str());
        }
        if report.read() > 0 || !report.published().is_empty() {
            log::info!("{report}");
        } else {
            log::debug!("{report}");
        }
        let failed: Vec<(String, Arc<Error>)> = report
            .datasets
            .iter()
            .filter_map(|d| match &d.outcome {
                DatasetOutcome::Failed { error } => Some((d.dataset.clone(), error.clone())),
                _ => None,
            })
            .collect();
        if failed.is_empty() {
            Ok(report)
        } else {
            Err(Error::CycleFailed { failures: failed })
        }
    }

    /// Runs cycles every `cycle_interval` until `stop` is set or `max_cycles` have run. A
    /// failed cycle is logged and the loop goes on.
    pub fn run(&mut self, stop: &AtomicBool, max_cycles: Option<u64>) -> Result<()> {
        let mut done = 0u64;
        while !stop.load(Ordering::Acquire) {
            let started = Instant::now();
            if let Err(e) = self.run_cycle() {
                if health::any_failing(&self.health) {
                    log::debug!("{e}");
                } else {
                    log::error!("{e}");
                }
            }
            done += 1;
            if max_cycles.is_some_and(|m| done >= m) {
                break;
            }
            let next = started + self.config.cycle_interval;
            while !stop.load(Ordering::Acquire) {
                let now = Instant::now();
                if now >= next {
                    break;
                }
                std::thread::sleep((next - now).min(Duration::from_millis(50)));
            }
        }
        self.flush_dead_letters(Duration::from_secs(10));
        Ok(())
    }

    /// Waits at most `timeout` for the queued dead letters to be delivered (dropping the
    /// service without this discards those still queued). Logs what failed.
    pub fn flush_dead_letters(&mut self, timeout: Duration) {
        if let Some((topic, sender)) = self.dead_letter.as_mut() {
            match sender.flush(timeout) {
                Ok(d) if d.failed > 0 => log::error!(
                    "{} message(s) could not be sent to the dead-letter topic {topic}",
                    d.failed
                ),
                Ok(_) => {}
                Err(e) => log::error!(
                    "dead-letter topic {topic}: {e} ({} message(s) still queued)",
                    sender.in_flight()
                ),
            }
        }
    }
}

/// Counters of one dataset cycle.
#[derive(Default)]
struct Counts {
    read: u64,
    applied: u64,
    noop: u64,
    rejected: BTreeMap<RejectReason, u64>,
    logged: u64,
}

/// The dead-letter topic during one dataset cycle.
struct DeadLetter<'a> {
    topic: &'a str,
    sender: &'a mut Sender,
    /// Messages queued.
    queued: u64,
    /// Messages dropped (local queue full).
    dropped: u64,
}

/// One partition being read: where we are and where to stop.
///
/// A partition is read until the consumer reaches its end (partition EOF, from the fetch
/// responses' high watermark), but never past `limit`: the end offset at the cycle start plus
/// [`CATCH_UP_LIMIT`], so that a cycle ends under any traffic. (The end offsets of
/// `fetch_watermarks` alone are not a safe stop: tansu 0.6 under-reports them.)
struct Reading {
    /// The next offset to fold.
    next: i64,
    /// Never fold this offset or later in this cycle.
    limit: i64,
    /// Messages folded this cycle.
    read: u64,
}

/// How many messages past the end offset of the cycle start a cycle may fold per partition.
const CATCH_UP_LIMIT: i64 = 100_000;

fn cycle_dataset(
    consumer: &KafkaConsumer,
    slot: &mut Slot,
    known_topics: &[String],
    mut dead_letter: Option<&mut DeadLetter<'_>>,
    read_timeout: Duration,
) -> DatasetReport {
    let started = Instant::now();
    let mut counts = Counts::default();
    let report = |counts: Counts, outcome: DatasetOutcome, slot: &Slot, lag: BTreeMap<i32, i64>| {
        DatasetReport {
            dataset: slot.schema.dataset.clone(),
            read: counts.read,
            applied: counts.applied,
            noop: counts.noop,
            rejected: counts.rejected,
            outcome,
            version: slot.state.version(),
            offsets: slot.offsets.clone(),
            lag,
            elapsed: started.elapsed(),
        }
    };
    let failed = |e: Error| DatasetOutcome::Failed { error: Arc::new(e) };

    // 1. where to start and stop, per partition
    let asked = Instant::now();
    let waiting = slot.health.in_flight(health::BROKER, "fetch metadata");
    let partitions = kafka::topic_partitions(consumer, &slot.topic);
    drop(waiting);
    health::broker(&slot.health, asked, &partitions);
    let partitions = match partitions {
        Ok(Some(p)) => p,
        Ok(None) => {
            return report(
                counts,
                failed(Error::Config(format!(
                    "topic {} does not exist",
                    slot.topic
                ))),
                slot,
                BTreeMap::new(),
            )
        }
        Err(e) => return report(counts, failed(e), slot, BTreeMap::new()),
    };
    let mut next = slot.offsets.clone();
    let mut reading: BTreeMap<i32, Reading> = BTreeMap::new();
    let mut highs: BTreeMap<i32, i64> = BTreeMap::new();
    for &p in &partitions {
        let asked = Instant::now();
        let waiting = slot.health.in_flight(health::BROKER, "fetch watermarks");
        let watermarks = consumer.fetch_watermarks(&slot.topic, p, REQUEST_TIMEOUT);
        drop(waiting);
        health::broker(&slot.health, asked, &watermarks);
        let (low, high) = match watermarks {
            Ok(w) => w,
            Err(e) => {
                return report(
                    counts,
                    failed(Error::kafka(
                        format!("fetch watermarks of {}/{p}", slot.topic),
                        e,
                    )),
                    slot,
                    BTreeMap::new(),
                )
            }
        };
        let start = match next.get(&slot.topic, p) {
            None => low,
            Some(s) if s < low => {
                log::warn!("{}/{p}: messages {s}..{low} were deleted by retention before they were read; continuing at {low}", slot.topic);
                low
            }
            Some(s) => s,
        };
        next.set(&slot.topic, p, start);
        highs.insert(p, high);
        reading.insert(
            p,
            Reading {
                next: start,
                limit: start.max(high).saturating_add(CATCH_UP_LIMIT),
                read: 0,
            },
        );
    }

    // 2. read and fold
    let outcome = if reading.is_empty() {
        slot.offsets = next;
        DatasetOutcome::Unchanged
    } else {
        let mut tpl = TopicPartitionList::new();
        for (p, r) in &reading {
            if let Err(e) = tpl.add_partition_offset(&slot.topic, *p, Offset::Offset(r.next)) {
                return report(
                    counts,
                    failed(Error::kafka("build assignment", e)),
                    slot,
                    BTreeMap::new(),
                );
            }
        }
        if let Err(e) = consumer.assign(&tpl) {
            return report(
                counts,
                failed(Error::kafka(format!("assign {}", slot.topic), e)),
                slot,
                BTreeMap::new(),
            );
        }
        let topic = slot.topic.clone();
        let schema = slot.schema.clone();
        let broker_health = slot.health.clone();
        let result = slot.state.cycle(|fold| {
            let mut last_message = Instant::now();
            let mut poll_errors = 0u64;
            while !reading.is_empty() {
                ops::chaos::point("consume");
                match consumer.poll(Duration::from_millis(100)) {
                    Some(Ok(msg)) => {
                        last_message = Instant::now();
                        let (p, off) = (msg.partition(), msg.offset());
                        if msg.topic() != topic {
                            if known_topics.iter().any(|t| t == msg.topic()) {
                                // a late message of another dataset's earlier assignment: that
                                // dataset reads it from its own offsets
                                log::debug!("{topic}: ignoring a message of {}", msg.topic());
                                continue;
                            }
                            // not a dataset at all: reject without moving any position
                            counts.read += 1;
                            let rej = Rejection { reason: RejectReason::UnknownTopic, detail: format!("topic {} is not a configured dataset", msg.topic()) };
                            reject(&mut counts, msg.topic(), p, off, &rej, msg.key(), msg.payload(), dead_letter.as_deref_mut());
                            continue;
                        }
                        let Some(r) = reading.get_mut(&p) else { continue };
                        if off < r.next {
                            if r.read > 0 {
                                continue;
                            }
                            // the broker moved us back: the topic was recreated or truncated
                            log::warn!("{topic}/{p}: the broker restarted this partition at offset {off} (expected {}); folding from there", r.next);
                        }
                        if off >= r.limit {
                            // enough for this cycle: the rest is for the next one
                            reading.remove(&p);
                            continue;
                        }
                        counts.read += 1;
                        r.read += 1;
                        match decode(&schema, msg.key(), msg.payload()) {
                            Ok(change) => {
                                ops::chaos::point("fold");
                                if fold.apply(&change)? {
                                    counts.applied += 1;
                                } else {
                                    counts.noop += 1;
                                }
                            }
                            Err(rej) => reject(&mut counts, &topic, p, off, &rej, msg.key(), msg.payload(), dead_letter.as_deref_mut()),
                        }
                        r.next = off + 1;
                        next.set(&topic, p, off + 1);
                        if r.next >= r.limit {
                            reading.remove(&p);
                        }
                    }
                    Some(Err(KafkaError::PartitionEOF(p))) => {
                        // librdkafka's mock cluster can report the end of a partition before
                        // the messages that were already there at the cycle start are all read:
                        // only an end at or past the start's high watermark ends the reading.
                        let done = match (reading.get(&p), highs.get(&p)) {
                            (Some(r), Some(h)) => r.next >= *h,
                            _ => true,
                        };
                        if done {
                            reading.remove(&p);
                        }
                    }
                    Some(Err(e)) => {
                        broker_health.failure(health::BROKER, Instant::now(), &e.to_string());
                        poll_errors += 1;
                        if poll_errors == 1 {
                            log::warn!("{topic}: {e} (further errors of this cycle at debug level)");
                        } else {
                            log::debug!("{topic}: {e}");
                        }
                    }
                    None => {
                        if last_message.elapsed() > read_timeout {
                            for (p, r) in &reading {
                                log::warn!("{topic}/{p}: no message and no end of partition for {read_timeout:?} at offset {}; continuing next cycle", r.next);
                            }
                            break;
                        }
                    }
                }
            }
            fold.set_header(HEADER_KEY, &next.to_string());
            Ok(())
        });
        if let Err(e) = consumer.unassign() {
            log::warn!("unassign {}: {e}", slot.topic);
        }
        match result {
            Ok(CycleOutcome::Unchanged) => {
                slot.offsets = next;
                DatasetOutcome::Unchanged
            }
            Ok(CycleOutcome::Published {
                version,
                added,
                removed,
                delta_bytes,
                reverse_delta_bytes,
                snapshot_bytes,
                phases,
                retention,
                ..
            }) => {
                ops::chaos::point("commit");
                slot.offsets = next;
                let publish = phases.prepare + phases.encode + phases.store;
                let (retention_deleted, retention_error) = match retention {
                    None => (0, None),
                    Some(RetentionOutcome::Done { deleted }) => (deleted.len() as u64, None),
                    Some(RetentionOutcome::Failed { error }) => {
                        log::error!("dataset {}: retention after v{version} failed (retried after the next publish): {error}", slot.schema.dataset);
                        (0, Some(error))
                    }
                };
                DatasetOutcome::Published {
                    version,
                    added,
                    removed,
                    delta_bytes,
                    reverse_delta_bytes,
                    snapshot_bytes,
                    publish,
                    retention_deleted,
                    retention_error,
                }
            }
            Ok(CycleOutcome::ValidationFailed { validator, reason }) => {
                log::error!("dataset {}: new state refused by {validator}, nothing published, the messages will be read again: {reason}", slot.schema.dataset);
                DatasetOutcome::ValidationFailed { validator, reason }
            }
            Err(e) => DatasetOutcome::Failed {
                error: Arc::new(Error::hollow(&slot.schema.dataset, e)),
            },
        }
    };

    // 3. lag: what is left of the backlog seen at the cycle start (0 when caught up)
    let lag = highs
        .iter()
        .map(|(p, high)| {
            (
                *p,
                (high - slot.offsets.get(&slot.topic, *p).unwrap_or(0)).max(0),
            )
        })
        .collect();
    report(counts, outcome, slot, lag)
}

/// Counts, logs and dead-letters one rejected message.
#[allow(clippy::too_many_arguments)]
fn reject(
    counts: &mut Counts,
    topic: &str,
    partition: i32,
    offset: i64,
    rej: &Rejection,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    dead_letter: Option<&mut DeadLetter<'_>>,
) {
    *counts.rejected.entry(rej.reason).or_default() += 1;
    counts.logged += 1;
    if counts.logged <= MAX_LOGGED_REJECTIONS {
        log::warn!("rejected {topic}/{partition}@{offset}: {rej}");
    } else if counts.logged == MAX_LOGGED_REJECTIONS + 1 {
        log::warn!("{topic}: more rejections this cycle; only counting them");
    }
    if let Some(dlq) = dead_letter {
        let (p, o) = (partition.to_string(), offset.to_string());
        let headers = [
            ("reason", rej.reason.label()),
            ("detail", rej.detail.as_str()),
            ("source.topic", topic),
            ("source.partition", p.as_str()),
            ("source.offset", o.as_str()),
        ];
        // never wait: a broker that takes nothing must not hold the cycle
        match dlq.sender.try_send(dlq.topic, key, value, &headers) {
            Ok(true) => dlq.queued += 1,
            Ok(false) => {
                dlq.dropped += 1;
                if dlq.dropped == 1 {
                    log::error!("dead-letter topic {}: the local queue is full; dropping dead letters (counted)", dlq.topic);
                }
            }
            Err(e) => {
                dlq.dropped += 1;
                log::error!("dead-letter topic {}: {e}", dlq.topic);
            }
        }
    }
}

/// A blob store that passes every call through, stopping at the fault-injection points
/// `upload` and `announce` first ([`ops::chaos`]; only used when a pause is configured).
#[derive(Debug)]
struct ChaosStore(Arc<dyn BlobStore>);

impl BlobStore for ChaosStore {
    fn put(&self, key: &str, data: &[u8]) -> std::result::Result<(), StoreError> {
        if let Some(phase) = ops::chaos::store_phase(key) {
            ops::chaos::point(phase);
        }
        self.0.put(key, data)
    }
    fn get(&self, key: &str) -> std::result::Result<Vec<u8>, StoreError> {
        self.0.get(key)
    }
    fn get_opt(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, StoreError> {
        self.0.get_opt(key)
    }
    fn exists(&self, key: &str) -> std::result::Result<bool, StoreError> {
        self.0.exists(key)
    }
    fn list(&self, prefix: &str) -> std::result::Result<Vec<String>, StoreError> {
        self.0.list(prefix)
    }
    fn delete(&self, key: &str) -> std::result::Result<(), StoreError> {
        self.0.delete(key)
    }
    fn local_path(&self, key: &str) -> Option<std::path::PathBuf> {
        self.0.local_path(key)
    }
    fn describe(&self) -> String {
        self.0.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Service>();
        assert_send::<CycleReport>();
        assert_send::<EmbeddedBroker>();
        fn assert_sync<T: Sync>() {}
        assert_sync::<EmbeddedBroker>();
    }
}
