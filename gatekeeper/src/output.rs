//! The `liveness` output dataset (`gatekeeper/schemas/liveness.json`): its header, the
//! incremental publisher, and reading a published state back into a [`LivenessTable`].
//!
//! # Header
//!
//! Every published state records, under `gatekeeper.*` keys, what it was computed from
//! ([`OutputHeader`]): `now`, the rules version, the version of each of the seven inputs, the
//! inputs URL, and for a PREPROD gatekeeper the PROD output version it follows (and PROD's URL).
//!
//! # Incremental publishing
//!
//! [`OutputPublisher`] keeps the table it last published. Each cycle it diffs the new table
//! against it and folds only the differing pairs into one hollow `Producer` cycle: upserts of
//! new and changed pairs, deletes of pairs that no longer exist. If nothing changed, hollow
//! publishes nothing. Records are written through one reused
//! `Record` buffer, so the publisher allocates nothing per pair.
//!
//! The first version of an empty timeline (every pair new) is written directly from a plain
//! hollow `WriteState` as a snapshot, meta line and announcement — what the producer writes,
//! about three times faster than folding 2.1M upserts — and the producer is then restored from
//! it on a background thread, ready for the next cycle. After a restart, the restored state is
//! read back into a table so that the first publish is incremental too.
//!
//! Cycles publish deltas only: the snapshot of every N-th version (a second of encoding for
//! 2.1M records) is written by a background thread that follows the output by delta.

use crate::error::{Error, Result};
use crate::inputs::Dataset;
use crate::reasons::ReasonTable;
use crate::table::{Grid, LivenessTable, Row};
use hollow::blob::SnapshotOptions;
use hollow::dataset::{DatasetSchema, FieldValue, Record};
use hollow::lifecycle::{
    Consumer, ConsumerConfig, Cycle, CycleOutcome, Producer, ProducerConfig, Timeline,
};
use hollow::store::BlobStore;
use hollow::{Hollow, MemoryMode, ReadState, Value, WriteState};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The `liveness` schema file (embedded).
pub const SCHEMA_JSON: &str = include_str!("../schemas/liveness.json");

/// Header key of `now` (ms since the epoch).
pub const NOW_KEY: &str = "gatekeeper.now";
/// Header key of the rules version.
pub const RULES_KEY: &str = "gatekeeper.rules";
/// Header key prefix of the input versions (`gatekeeper.input.<dataset>`).
pub const INPUT_KEY_PREFIX: &str = "gatekeeper.input.";
/// Header key of the inputs URL.
pub const INPUTS_URL_KEY: &str = "gatekeeper.inputs";
/// Header key of the PROD output version a PREPROD state follows.
pub const FOLLOWS_KEY: &str = "gatekeeper.follows";
/// Header key of the PROD output URL a PREPROD gatekeeper follows.
pub const PROD_URL_KEY: &str = "gatekeeper.prod";

/// A stored `liveness` record as a derived type: the schema of `schemas/liveness.json`
/// (a test checks they are equal), read back through typed views. The counts are `i32`s as
/// stored; [`crate::model::Liveness`] is the JSON Lines form, with `u32` counts.
#[derive(Debug, Clone, PartialEq, Eq, Hollow)]
#[hollow(rename = "Liveness")]
pub struct LivenessRecord {
    /// The title's id.
    #[hollow(primary_key)]
    pub title_id: i64,
    /// The country's code.
    #[hollow(primary_key)]
    pub country: String,
    /// Whether the title is live in the country.
    pub live: bool,
    /// The reason codes, sorted.
    pub reasons: Vec<String>,
    /// Playable videos (at most `i32::MAX`).
    pub playable_videos: i32,
    /// Videos of the title (at most `i32::MAX`).
    pub total_videos: i32,
    /// The next window start after `now`, if any.
    pub next_window_start: Option<i64>,
}

/// The parsed `liveness` schema.
pub fn schema() -> Result<DatasetSchema> {
    DatasetSchema::from_json(SCHEMA_JSON).map_err(|e| Error::hollow("the liveness schema", e))
}

/// What an output state was computed from (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputHeader {
    /// The evaluation time, ms since the epoch.
    pub now: i64,
    /// The rules version.
    pub rules: String,
    /// The version of each input, in [`Dataset::ALL`] order.
    pub inputs: [Option<u64>; 7],
    /// Where the inputs' timelines are (`<inputs>/<dataset>`).
    pub inputs_url: Option<String>,
    /// The PROD output version this (PREPROD) state follows.
    pub follows: Option<u64>,
    /// The PROD output URL this (PREPROD) gatekeeper follows.
    pub prod_url: Option<String>,
}

impl OutputHeader {
    /// The header entries to record.
    pub fn entries(&self) -> Vec<(String, String)> {
        let mut out = vec![
            (NOW_KEY.to_string(), self.now.to_string()),
            (RULES_KEY.to_string(), self.rules.clone()),
        ];
        for d in Dataset::ALL {
            let v = self.inputs[d.index()].map_or_else(|| "-".to_string(), |v| v.to_string());
            out.push((format!("{INPUT_KEY_PREFIX}{}", d.name()), v));
        }
        out.push((
            INPUTS_URL_KEY.to_string(),
            self.inputs_url.clone().unwrap_or_default(),
        ));
        out.push((
            FOLLOWS_KEY.to_string(),
            self.follows.map_or_else(String::new, |v| v.to_string()),
        ));
        out.push((
            PROD_URL_KEY.to_string(),
            self.prod_url.clone().unwrap_or_default(),
        ));
        out
    }

    /// Reads the header of output version `version`.
    pub fn parse(version: u64, header: &BTreeMap<String, String>) -> Result<OutputHeader> {
        let bad = |detail: String| Error::Header { version, detail };
        let get = |k: &str| header.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let now = get(NOW_KEY)
            .ok_or_else(|| bad(format!("no {NOW_KEY}")))?
            .parse()
            .map_err(|_| bad(format!("{NOW_KEY} is not an integer")))?;
        let rules = get(RULES_KEY)
            .ok_or_else(|| bad(format!("no {RULES_KEY}")))?
            .to_string();
        let mut inputs = [None; 7];
        for d in Dataset::ALL {
            let key = format!("{INPUT_KEY_PREFIX}{}", d.name());
            inputs[d.index()] = match get(&key) {
                None | Some("-") => None,
                Some(v) => Some(
                    v.parse()
                        .map_err(|_| bad(format!("{key} is not a version")))?,
                ),
            };
        }
        let follows = get(FOLLOWS_KEY)
            .map(|v| {
                v.parse()
                    .map_err(|_| bad(format!("{FOLLOWS_KEY} is not a version")))
            })
            .transpose()?;
        Ok(OutputHeader {
            now,
            rules,
            inputs,
            inputs_url: get(INPUTS_URL_KEY).map(str::to_string),
            follows,
            prod_url: get(PROD_URL_KEY).map(str::to_string),
        })
    }

    /// Every input version; an error naming the first missing one.
    pub fn input_versions(&self, version: u64) -> Result<[u64; 7]> {
        let mut out = [0; 7];
        for d in Dataset::ALL {
            out[d.index()] = self.inputs[d.index()].ok_or_else(|| Error::Header {
                version,
                detail: format!("no version of input {d}"),
            })?;
        }
        Ok(out)
    }
}

/// What one publish did.
#[derive(Debug, Clone, Default)]
pub struct PublishReport {
    /// The version published by this call, if any (`None`: nothing changed).
    pub published: Option<u64>,
    /// The announced version after the call.
    pub version: Option<u64>,
    /// Pairs upserted (new or changed; every pair on a first cycle).
    pub upserts: u64,
    /// Pairs deleted.
    pub deletes: u64,
    /// Whether every pair was upserted (first cycle).
    pub all: bool,
    /// Diffing against the previous table.
    pub diff: Duration,
    /// Folding the upserts and deletes into the producer's state.
    pub populate: Duration,
    /// Computing the changes, encoding the blobs.
    pub encode: Duration,
    /// Writing the blobs and the announcement.
    pub store: Duration,
    /// The whole call.
    pub total: Duration,
}

/// How a publish folds the table.
enum Plan {
    /// Upsert the changed pairs, delete the removed ones.
    Changes(crate::table::TableDiff),
    /// The first version of an empty timeline: written directly as a snapshot.
    First,
    /// Upsert every pair; delete the pairs not upserted (a restored state that could not be
    /// read back).
    Full,
}

/// The output's hollow producer: ready, or being restored from the first version in the
/// background.
enum Slot {
    Ready(Box<Producer>),
    Opening(std::thread::JoinHandle<hollow::Result<Producer>>),
    Closed,
}

/// A snapshot being written: its version, and the thread (which gives the consumer back).
type SnapshotJob = (
    u64,
    std::thread::JoinHandle<(Consumer, hollow::Result<Duration>)>,
);

/// Writes snapshots of published output versions on a background thread, off the cycle's
/// critical path: a consumer follows the output by delta and writes the state of every
/// `every`-th version as `snapshot/<v>` (blobs of an announced version never change; a
/// snapshot added later only gives consumers a shorter path).
struct Snapshotter {
    every: u64,
    store: Arc<dyn BlobStore>,
    zstd_level: Option<i32>,
    consumer: Option<Consumer>,
    running: Option<SnapshotJob>,
}

impl Snapshotter {
    /// After version `v` was published: starts writing its snapshot if it is due and the
    /// previous one is done.
    fn published(&mut self, v: u64) {
        if self.every == 0 || !v.is_multiple_of(self.every) {
            return;
        }
        if self.running.as_ref().is_some_and(|(_, h)| !h.is_finished()) {
            log::warn!(
                "output snapshot of v{} still being written; v{v} gets none",
                self.running.as_ref().map_or(0, |r| r.0)
            );
            return;
        }
        self.join();
        let Some(consumer) = self.consumer.take() else {
            return;
        };
        let (store, zstd_level) = (self.store.clone(), self.zstd_level);
        let handle = std::thread::spawn(move || {
            let t = Instant::now();
            let r = consumer.update_to(v).and_then(|_| {
                let state = consumer
                    .current()
                    .ok_or(hollow::Error::Unreachable {
                        version: v,
                        failures: Vec::new(),
                    })?
                    .state;
                let blob = state.write_snapshot(&SnapshotOptions {
                    zstd_level,
                    disable_fsst: false,
                })?;
                Timeline::new(store).add_snapshot(v, &blob)?;
                Ok(t.elapsed())
            });
            (consumer, r)
        });
        self.running = Some((v, handle));
    }

    /// Waits for the running snapshot, if any, and logs how it went.
    fn join(&mut self) {
        if let Some((v, handle)) = self.running.take() {
            match handle.join() {
                Ok((consumer, r)) => {
                    match r {
                        Ok(took) => log::info!(
                            "output snapshot of v{v} written in the background in {:.2} s",
                            took.as_secs_f64()
                        ),
                        Err(e) => log::warn!("output snapshot of v{v} failed: {e}"),
                    }
                    self.consumer = Some(consumer);
                }
                Err(_) => {
                    log::warn!("the output snapshot thread of v{v} panicked");
                    self.consumer = Some(Consumer::new(
                        self.store.clone(),
                        ConsumerConfig {
                            mode: MemoryMode::Heap,
                            cache_dir: None,
                        },
                    ));
                }
            }
        }
    }
}

impl Drop for Snapshotter {
    fn drop(&mut self) {
        self.join();
    }
}

/// Publishes liveness tables incrementally to one output timeline (see the module docs).
pub struct OutputPublisher {
    url: String,
    store: Arc<dyn BlobStore>,
    schema: DatasetSchema,
    config: ProducerConfig,
    producer: Slot,
    version: Option<u64>,
    published: Option<LivenessTable>,
    /// The table `published` held before the last publish.
    replaced: Option<LivenessTable>,
    rec: Record,
    snapshots: Snapshotter,
}

impl std::fmt::Debug for OutputPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputPublisher")
            .field("url", &self.url)
            .field("version", &self.version)
            .finish()
    }
}

impl OutputPublisher {
    /// Opens the output timeline at `url`. A restored last state is read back into a table, so
    /// that the first publish is incremental too. Cycles publish deltas; the snapshot of every
    /// `snapshot_every`-th version is written in the background (0: never; the first version
    /// always has one).
    pub fn open(url: &str, snapshot_every: u64) -> Result<OutputPublisher> {
        let store = hollow::store::open_store(url).map_err(|source| Error::Store {
            url: url.to_string(),
            source,
        })?;
        Self::open_in(store, url, snapshot_every)
    }

    /// Like [`OutputPublisher::open`] on an already opened `store` (`url` names it in
    /// messages).
    pub fn open_in(
        store: Arc<dyn hollow::store::BlobStore>,
        url: &str,
        snapshot_every: u64,
    ) -> Result<OutputPublisher> {
        let store: Arc<dyn BlobStore> = if ops::chaos::enabled() {
            Arc::new(ChaosStore(store))
        } else {
            store
        };
        let schema = schema()?;
        let set = schema
            .schema_set()
            .map_err(|e| Error::hollow("the liveness schema", e))?;
        // The output follows the inputs wherever they go: no count validator. Snapshots are
        // the snapshotter's (a 2.1M-record snapshot takes a second to encode).
        let config = ProducerConfig {
            snapshot_every: 0,
            max_count_change_ratio: None,
            ..ProducerConfig::default()
        };
        let consumer = Consumer::new(
            store.clone(),
            ConsumerConfig {
                mode: MemoryMode::Heap,
                cache_dir: None,
            },
        );
        let snapshots = Snapshotter {
            every: snapshot_every,
            store: store.clone(),
            zstd_level: config.zstd_level,
            consumer: Some(consumer),
            running: None,
        };
        let producer = Producer::open(store.clone(), set, config.clone())
            .map_err(|e| Error::hollow(format!("opening the output producer of {url}"), e))?;
        let version = producer.version();
        let published = match version {
            None => None,
            Some(v) => match hollow::lifecycle::load_version(store.clone(), v, MemoryMode::Heap)
                .map_err(|e| Error::hollow(format!("loading version {v} of {url}"), e))
                .and_then(|state| read_table(&state, &mut Arc::new(ReasonTable::new())))
            {
                Ok(table) => Some(table),
                Err(e) => {
                    log::warn!("output {url}: cannot read back version {v} ({e}); the first publish upserts every pair");
                    None
                }
            },
        };
        Ok(OutputPublisher {
            url: url.to_string(),
            store,
            schema,
            config,
            producer: Slot::Ready(Box::new(producer)),
            version,
            published,
            replaced: None,
            rec: Vec::new(),
            snapshots,
        })
    }

    /// The output URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The last announced version.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// The table the timeline's latest state holds.
    pub fn published(&self) -> Option<&LivenessTable> {
        self.published.as_ref()
    }

    /// Takes the table the last publish replaced (to recycle its memory).
    pub fn take_replaced(&mut self) -> Option<LivenessTable> {
        self.replaced.take()
    }

    /// Waits until the producer is ready (after a first version, it is restored from it in the
    /// background); returns how long that took.
    pub fn wait_ready(&mut self) -> Result<Duration> {
        let t = Instant::now();
        self.producer()?;
        Ok(t.elapsed())
    }

    fn producer(&mut self) -> Result<&mut Producer> {
        if matches!(self.producer, Slot::Opening(_)) {
            if let Slot::Opening(handle) = std::mem::replace(&mut self.producer, Slot::Closed) {
                match handle.join() {
                    Ok(Ok(p)) => self.producer = Slot::Ready(Box::new(p)),
                    Ok(Err(e)) => log::warn!("output {}: restoring the producer in the background failed ({e}); retrying", self.url),
                    Err(_) => log::warn!("output {}: the producer restore thread panicked; retrying", self.url),
                }
            }
        }
        if matches!(self.producer, Slot::Closed) {
            let set = self
                .schema
                .schema_set()
                .map_err(|e| Error::hollow("the liveness schema", e))?;
            let p = Producer::open(self.store.clone(), set, self.config.clone()).map_err(|e| {
                Error::hollow(format!("opening the output producer of {}", self.url), e)
            })?;
            self.version = p.version();
            self.producer = Slot::Ready(Box::new(p));
        }
        match &mut self.producer {
            Slot::Ready(p) => Ok(p),
            _ => Err(Error::NoVersion {
                url: self.url.clone(),
                detail: "the output producer is not open".into(),
            }),
        }
    }

    /// Publishes `table` with `header` (see the module docs). On an error nothing is published
    /// and the previous table stays the reference for the next call.
    pub fn publish(
        &mut self,
        table: LivenessTable,
        header: &OutputHeader,
    ) -> Result<PublishReport> {
        let started = Instant::now();
        let empty = self.producer()?.version().is_none();
        let plan = match &self.published {
            Some(prev) => Plan::Changes(prev.diff(&table)),
            None if empty => Plan::First,
            None => Plan::Full,
        };
        let mut report = PublishReport {
            diff: started.elapsed(),
            all: !matches!(plan, Plan::Changes(_)),
            ..PublishReport::default()
        };
        if matches!(plan, Plan::First) {
            self.publish_first(&table, header, &mut report)?;
            self.replaced = self.published.replace(table);
            report.total = started.elapsed();
            return Ok(report);
        }
        let url = self.url.clone();
        self.producer()?;
        let OutputPublisher {
            schema,
            published,
            rec,
            producer: Slot::Ready(producer),
            ..
        } = self
        else {
            return Err(Error::NoVersion {
                url,
                detail: "the output producer is not open".into(),
            });
        };
        let prev = published.as_ref();
        let (mut upserts, mut deletes) = (0u64, 0u64);
        let full = matches!(plan, Plan::Full);
        let body = |c: &mut Cycle<'_>| -> hollow::Result<()> {
            for (k, v) in header.entries() {
                c.set_header(&k, &v);
            }
            match &plan {
                Plan::Changes(diff) => {
                    for &(old, new) in &diff.changed {
                        match (old, new, prev) {
                            (_, Some(j), _) => {
                                fill(rec, &table, &table.rows()[j as usize]);
                                c.upsert_record(schema, rec)?;
                                upserts += 1;
                            }
                            (Some(i), None, Some(prev)) => {
                                let r = &prev.rows()[i as usize];
                                c.delete(
                                    "Liveness",
                                    &[Value::I64(prev.title_id(r)), Value::str(prev.country(r))],
                                )?;
                                deletes += 1;
                            }
                            _ => {}
                        }
                    }
                }
                Plan::First | Plan::Full => {
                    for r in table.rows() {
                        fill(rec, &table, r);
                        c.upsert_record(schema, rec)?;
                    }
                    upserts = table.len() as u64;
                }
            }
            Ok(())
        };
        let outcome = if full {
            producer.cycle_full(body)
        } else {
            producer.cycle(body)
        };
        let outcome = outcome.map_err(|e| Error::hollow(format!("publishing to {url}"), e))?;
        let version = producer.version();
        report.upserts = upserts;
        report.deletes = deletes;
        match outcome {
            CycleOutcome::Unchanged => {}
            CycleOutcome::Published {
                version, phases, ..
            } => {
                self.snapshots.published(version);
                report.published = Some(version);
                report.populate = phases.populate;
                report.encode = phases.prepare + phases.encode;
                report.store = phases.store;
            }
            CycleOutcome::ValidationFailed { validator, reason } => {
                return Err(Error::hollow(
                    format!("publishing to {url}"),
                    hollow::Error::Validation { validator, reason },
                ))
            }
        }
        self.version = version;
        self.replaced = self.published.replace(table);
        report.version = self.version;
        report.total = started.elapsed();
        Ok(report)
    }

    /// The first version of an empty timeline, written the way the producer writes a first
    /// version (a snapshot, its meta line, the announcement) but from a plain write state
    /// (no journal, no reference counts, no key index: about three times faster than folding
    /// 2.1M upserts). The producer is then restored from it in the background; the next
    /// publish waits for it ([`OutputPublisher::wait_ready`]).
    fn publish_first(
        &mut self,
        table: &LivenessTable,
        header: &OutputHeader,
        report: &mut PublishReport,
    ) -> Result<()> {
        let e = |x| Error::hollow(format!("writing the first version of {}", self.url), x);
        let t = Instant::now();
        let mut ws = WriteState::new(self.schema.schema_set().map_err(e)?);
        let mut list_of: Vec<Option<u32>> = vec![None; table.reasons().len()];
        let mut ords = Vec::new();
        for row in table.rows() {
            let list = match list_of.get(row.reasons as usize).copied().flatten() {
                Some(l) => l,
                None => {
                    ords.clear();
                    for r in table.reason_list(row) {
                        ords.push(ws.add_object("String", &[Value::str(r)]).map_err(e)?);
                    }
                    let l = ws.add_list("ListOfString", &ords).map_err(e)?;
                    if let Some(slot) = list_of.get_mut(row.reasons as usize) {
                        *slot = Some(l);
                    }
                    l
                }
            };
            let count = |n: u32| Value::I32(n.min(i32::MAX as u32) as i32);
            ws.add_object(
                "Liveness",
                &[
                    Value::I64(table.title_id(row)),
                    Value::str(table.country(row)),
                    Value::Bool(row.live),
                    Value::Ref(list),
                    count(row.playable_videos),
                    count(row.total_videos),
                    row.next_window_start().map_or(Value::Null, Value::I64),
                ],
            )
            .map_err(e)?;
        }
        for (k, v) in header.entries() {
            ws.set_header(k, v);
        }
        report.populate = t.elapsed();
        let times = crate::first::write_first_version(&self.store, &mut ws, self.config.zstd_level)
            .map_err(|x| Error::hollow(format!("writing the first version of {}", self.url), x))?;
        report.encode = times.encode;
        report.store = times.store;
        report.published = Some(times.version);
        report.version = Some(times.version);
        report.upserts = table.len() as u64;
        self.version = Some(times.version);
        let (store, config, set) = (
            self.store.clone(),
            self.config.clone(),
            self.schema.schema_set().map_err(e)?,
        );
        self.producer = Slot::Opening(std::thread::spawn(move || {
            Producer::open(store, set, config)
        }));
        Ok(())
    }
}

/// A blob store that passes every call through, stopping at the fault-injection points
/// `upload` and `announce` first ([`ops::chaos`]; only used when a pause is configured).
#[derive(Debug)]
struct ChaosStore(Arc<dyn BlobStore>);

impl BlobStore for ChaosStore {
    fn put(&self, key: &str, data: &[u8]) -> std::result::Result<(), hollow::store::StoreError> {
        if let Some(phase) = ops::chaos::store_phase(key) {
            ops::chaos::point(phase);
        }
        self.0.put(key, data)
    }
    fn get(&self, key: &str) -> std::result::Result<Vec<u8>, hollow::store::StoreError> {
        self.0.get(key)
    }
    fn get_opt(
        &self,
        key: &str,
    ) -> std::result::Result<Option<Vec<u8>>, hollow::store::StoreError> {
        self.0.get_opt(key)
    }
    fn exists(&self, key: &str) -> std::result::Result<bool, hollow::store::StoreError> {
        self.0.exists(key)
    }
    fn list(&self, prefix: &str) -> std::result::Result<Vec<String>, hollow::store::StoreError> {
        self.0.list(prefix)
    }
    fn delete(&self, key: &str) -> std::result::Result<(), hollow::store::StoreError> {
        self.0.delete(key)
    }
    fn local_path(&self, key: &str) -> Option<std::path::PathBuf> {
        self.0.local_path(key)
    }
    fn describe(&self) -> String {
        self.0.describe()
    }
}

/// Writes a row into the reused record buffer (fields in schema order).
fn fill(rec: &mut Record, table: &LivenessTable, row: &Row) {
    if rec.len() != 7 {
        *rec = vec![
            FieldValue::Null,
            FieldValue::Str(String::new()),
            FieldValue::Null,
            FieldValue::List(Vec::new()),
            FieldValue::Null,
            FieldValue::Null,
            FieldValue::Null,
        ];
    }
    rec[0] = FieldValue::Int(table.title_id(row));
    set_str(&mut rec[1], table.country(row));
    rec[2] = FieldValue::Bool(row.live);
    if !matches!(rec[3], FieldValue::List(_)) {
        rec[3] = FieldValue::List(Vec::new());
    }
    if let FieldValue::List(items) = &mut rec[3] {
        let reasons = table.reason_list(row);
        items.truncate(reasons.len());
        for (i, r) in reasons.enumerate() {
            match items.get_mut(i) {
                Some(slot) => set_str(slot, r),
                None => items.push(FieldValue::Str(r.to_string())),
            }
        }
    }
    rec[4] = FieldValue::Int(i64::from(row.playable_videos.min(i32::MAX as u32)));
    rec[5] = FieldValue::Int(i64::from(row.total_videos.min(i32::MAX as u32)));
    rec[6] = row
        .next_window_start()
        .map_or(FieldValue::Null, FieldValue::Int);
}

fn set_str(slot: &mut FieldValue, s: &str) {
    match slot {
        FieldValue::Str(x) => {
            x.clear();
            x.push_str(s);
        }
        other => *other = FieldValue::Str(s.to_string()),
    }
}

/// Reads a published `liveness` state into a table whose reason ids are interned into
/// `reasons` (pass an evaluator's table, [`Evaluator::reasons_mut`](crate::Evaluator::reasons_mut),
/// so that they compare by id with its evaluations).
pub fn read_table(state: &ReadState, reasons: &mut Arc<ReasonTable>) -> Result<LivenessTable> {
    let e = |x| Error::hollow("reading a liveness state", x);
    let records = state
        .typed::<LivenessRecord>()
        .map_err(|x| Error::hollow("reading a liveness state", x))?;
    let obj = records.object();
    let c = records.columns();
    let (title, country, live, list) = (c.title_id, c.country, c.live, c.reasons.refs());
    let (playable, total, next) = (c.playable_videos, c.total_videos, c.next_window_start);

    // Country codes through their pool: each distinct value once.
    let mut recs: Vec<(i64, u64, u32)> = Vec::with_capacity(obj.len() as usize);
    for o in obj.ordinals() {
        if let (Some(t), Some(c)) = (title.get(o), country.value_id(o)) {
            recs.push((t, c, o));
        }
    }
    let mut value_ids: Vec<u64> = recs.iter().map(|r| r.1).collect();
    value_ids.sort_unstable();
    value_ids.dedup();
    let mut codes: Vec<(String, u64)> = value_ids
        .iter()
        .map(|&v| Ok((country.value_by_id(v).map_err(e)?.into_owned(), v)))
        .collect::<Result<_>>()?;
    codes.sort();
    codes.dedup_by(|a, b| a.0 == b.0);
    if codes.len() > u16::MAX as usize + 1 {
        return Err(Error::Input {
            dataset: "liveness",
            detail: format!("{} countries", codes.len()),
        });
    }
    let code_index: FxHashMap<&str, u16> = codes
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (c.as_str(), i as u16))
        .collect();
    let mut country_of: FxHashMap<u64, u16> = FxHashMap::default();
    for &v in &value_ids {
        let code = country.value_by_id(v).map_err(e)?;
        if let Some(&i) = code_index.get(&*code) {
            country_of.insert(v, i);
        }
    }
    let mut keyed: Vec<(i64, u16, u32)> = recs
        .iter()
        .filter_map(|&(t, v, o)| country_of.get(&v).map(|&c| (t, c, o)))
        .collect();
    keyed.sort_unstable();
    keyed.dedup_by(|a, b| (a.0, a.1) == (b.0, b.1));
    let mut title_ids: Vec<i64> = keyed.iter().map(|k| k.0).collect();
    title_ids.dedup();

    let table = Arc::make_mut(reasons);
    let mut set_of: FxHashMap<u32, u32> = FxHashMap::default();
    let mut strings: Vec<&str> = Vec::new();
    let mut rows = Vec::with_capacity(keyed.len());
    let mut ti = 0usize;
    for &(t, c, o) in &keyed {
        while title_ids[ti] != t {
            ti += 1;
        }
        let set = match list.get(o) {
            None => 0,
            Some(l) => match set_of.get(&l) {
                Some(&s) => s,
                None => {
                    strings.clear();
                    strings.extend(records.view(o).reasons());
                    let s = table.intern(strings.iter().copied());
                    set_of.insert(l, s);
                    s
                }
            },
        };
        let count = |v: Option<i64>| v.map_or(0, |n| u32::try_from(n).unwrap_or(0));
        rows.push(Row::new(
            ti as u32,
            c,
            live.get(o).unwrap_or(false),
            set,
            count(playable.get(o)),
            count(total.get(o)),
            next.get(o),
        ));
    }
    let grid = Grid::new(title_ids, codes.into_iter().map(|(c, _)| c).collect());
    Ok(LivenessTable::new(Arc::new(grid), reasons.clone(), rows))
}

/// Loads version `version` (or the announced one) of the output timeline at `url`: the
/// version and its state.
pub fn load_version(url: &str, version: Option<u64>) -> Result<(u64, Arc<ReadState>)> {
    let store = hollow::store::open_store(url).map_err(|source| Error::Store {
        url: url.to_string(),
        source,
    })?;
    let consumer = Consumer::new(
        store,
        ConsumerConfig {
            mode: MemoryMode::Heap,
            cache_dir: None,
        },
    );
    let v = match version {
        Some(v) => v,
        None => consumer
            .timeline()
            .announced()
            .map_err(|e| Error::hollow(format!("reading the announcement of {url}"), e))?
            .ok_or_else(|| Error::NoVersion {
                url: url.to_string(),
                detail: "no version announced".into(),
            })?,
    };
    let (loaded, _) = consumer
        .reach(None, v)
        .map_err(|e| Error::hollow(format!("loading version {v} of {url}"), e))?;
    Ok((v, loaded.state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = OutputHeader {
            now: -5,
            rules: "strict-1".into(),
            inputs: [
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                Some(5),
                Some(6),
                Some(7),
            ],
            inputs_url: Some("s3://b/in".into()),
            follows: Some(9),
            prod_url: Some("file:///p".into()),
        };
        let map: BTreeMap<String, String> = h.entries().into_iter().collect();
        assert_eq!(OutputHeader::parse(3, &map).unwrap(), h);
        assert_eq!(h.input_versions(3).unwrap(), [1, 2, 3, 4, 5, 6, 7]);
        let plain = OutputHeader {
            follows: None,
            prod_url: None,
            inputs: [None; 7],
            ..h
        };
        let map: BTreeMap<String, String> = plain.entries().into_iter().collect();
        let back = OutputHeader::parse(3, &map).unwrap();
        assert_eq!(back, plain);
        assert!(matches!(
            back.input_versions(3),
            Err(Error::Header { version: 3, .. })
        ));
        assert!(matches!(
            OutputHeader::parse(4, &BTreeMap::new()),
            Err(Error::Header { version: 4, .. })
        ));
    }
}
