//! The producer: keeps the working state of a dataset, folds each cycle's changes into it
//! (incrementally by primary key, or by full repopulation), validates the result, and
//! publishes a new version — delta, reverse delta and (on a cadence) a snapshot — only when
//! something changed.
//!
//! Incremental cycles cost time in proportion to the changes: the write state journals the
//! ordinals a cycle touches, unchanged records keep their ordinals, and records of types
//! without a primary key (strings and lists of a record) are reference-counted and dropped
//! when nothing refers to them.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::consumer::load_version;
use super::timeline::{Timeline, VersionBlobs};
use super::validate::{
    key_values, CountChangeValidator, PrimaryKeyValidator, ValidationContext, ValidationFailure,
    Validator, Validators,
};
use crate::error::{DataError, Error, Result, SchemaError};
use crate::store::BlobStore;
use hollow_format::blob::SnapshotOptions;
use hollow_format::codec::{decode_field, encode_object};
use hollow_format::schema::{SchemaSet, TypeSchema};
use hollow_format::value::Value;
use hollow_state::dataset::{DatasetSchema, Record};
use hollow_state::delta::write_delta_pair;
use hollow_state::read::MemoryMode;
use hollow_state::typed::{Hollow, KeyTuple, Result as TypedResult, Sink};
use hollow_state::write::write_snapshot;
use hollow_state::write::{StateChanges, WriteState};
use rustc_hash::FxHashMap;

/// Producer settings.
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// Write a snapshot every this many versions (the first version always has one).
    pub snapshot_every: u64,
    /// Refuse a state whose record count of a keyed type changes by more than this
    /// fraction of the previous count (e.g. 0.5 = ±50 %; types under 10 records are not
    /// checked). `None`: no limit. The built-in [`CountChangeValidator`].
    pub max_count_change_ratio: Option<f64>,
    /// Refuse a state in which two records of a keyed type share a primary key (the
    /// built-in [`PrimaryKeyValidator`]; `None`: not checked).
    pub primary_keys: Option<PrimaryKeyValidator>,
    /// Further validators, run after the built-ins, in order.
    pub validators: Validators,
    /// Compress blobs with zstd at this level.
    pub zstd_level: Option<i32>,
    /// Retention applied after each publish: keep this many versions (0: keep all, unless
    /// `keep_days` is set: then only the age rule applies).
    pub keep_versions: usize,
    /// Retention by age in days (together with `keep_versions`, the larger set is kept).
    /// Announced, pinned and [protected](Timeline::protect) versions are always kept.
    pub keep_days: Option<f64>,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            snapshot_every: 10,
            max_count_change_ratio: Some(0.5),
            primary_keys: Some(PrimaryKeyValidator::incremental()),
            validators: Validators::none(),
            zstd_level: None,
            keep_versions: 0,
            keep_days: None,
        }
    }
}

/// What a cycle did.
#[derive(Debug, Clone)]
pub enum CycleOutcome {
    /// Nothing changed: no version published.
    Unchanged,
    /// A new version was published.
    Published {
        /// The new version.
        version: u64,
        /// Records added (all types; a modified record counts as removed and added).
        added: u64,
        /// Records removed.
        removed: u64,
        /// Bytes of the delta (0 for the first version).
        delta_bytes: u64,
        /// Bytes of the reverse delta.
        reverse_delta_bytes: u64,
        /// Bytes of the snapshot, when one was written.
        snapshot_bytes: Option<u64>,
        /// Time the cycle took.
        elapsed: Duration,
        /// Where the time went.
        phases: CyclePhases,
        /// Retention after the publish (`None`: no retention configured).
        retention: Option<RetentionOutcome>,
    },
    /// A validator refused the new state: nothing was published or announced and the
    /// producer's state is the last published one again.
    ValidationFailed {
        /// The validator's name ([`Validator::name`]).
        validator: String,
        /// Why.
        reason: ValidationFailure,
    },
}

/// What retention did after a publish. A failure never undoes the publish; it is reported
/// here and retried after the next publish.
#[derive(Debug, Clone)]
pub enum RetentionOutcome {
    /// The keys deleted.
    Done {
        /// Blob and metadata keys deleted.
        deleted: Vec<String>,
    },
    /// Retention failed (the store refused a listing or a delete).
    Failed {
        /// What went wrong.
        error: Arc<Error>,
    },
}

/// Time spent in each phase of a published cycle.
#[derive(Debug, Clone, Copy, Default)]
pub struct CyclePhases {
    /// Running the cycle's closure (upserts and deletes).
    pub populate: Duration,
    /// Computing the net changes and validating.
    pub prepare: Duration,
    /// Encoding the delta, reverse delta and snapshot blobs.
    pub encode: Duration,
    /// Writing blobs and the announcement to the store.
    pub store: Duration,
}

/// A producer of one dataset's timeline.
pub struct Producer {
    timeline: Timeline,
    config: ProducerConfig,
    state: WriteState,
    version: Option<u64>,
    /// The highest version number used in the store or by any publish attempt of this
    /// producer: the next version is numbered above it, so that a failed attempt's blobs
    /// (stored, or still in flight when a write timed out) never pass for another state's.
    used: Option<u64>,
    /// Numbers of recent publish attempts that failed: if one of them shows up as the
    /// announcement (a timed-out write that landed late), the next cycle announces the
    /// producer's version again.
    failed: BTreeSet<u64>,
    header: BTreeMap<String, String>,
    /// Per keyed type: primary-key encoding → ordinal.
    keys: Vec<Option<FxHashMap<Box<[u8]>, u32>>>,
    /// Per type: the indexes of its primary-key fields.
    pk_fields: Vec<Vec<usize>>,
    /// Reused buffers: record encoding, key encoding, field spans.
    enc_buf: Vec<u8>,
    key_buf: Vec<u8>,
    spans: Vec<std::ops::Range<usize>>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("version", &self.version)
            .field("timeline", &self.timeline)
            .finish()
    }
}

impl Producer {
    /// Opens the timeline in `store`, restoring the last announced state if there is one.
    pub fn open(
        store: Arc<dyn BlobStore>,
        schema: SchemaSet,
        config: ProducerConfig,
    ) -> Result<Producer> {
        let timeline = Timeline::new(store.clone());
        let (state, version, header) = match timeline.announced()? {
            Some(v) => {
                let rs = load_version(store, v, MemoryMode::Heap)?;
                if **rs.schema() != schema {
                    return Err(SchemaError::AnnouncedMismatch { version: v }.into());
                }
                let header = rs.header().clone();
                (rs.to_write_state()?, Some(v), header)
            }
            None => (WriteState::new(schema), None, BTreeMap::new()),
        };
        let used = timeline.highest_used()?.max(version);
        let mut p = Producer {
            timeline,
            config,
            state,
            version,
            used,
            failed: BTreeSet::new(),
            header,
            keys: Vec::new(),
            pk_fields: Vec::new(),
            enc_buf: Vec::new(),
            key_buf: Vec::new(),
            spans: Vec::new(),
        };
        p.index_keys()?;
        p.state.enable_refcounts();
        p.state.begin_journal();
        Ok(p)
    }

    fn index_keys(&mut self) -> Result<()> {
        let schema = self.state.schema.clone();
        self.keys.clear();
        self.pk_fields.clear();
        for (t, ts) in schema.types().iter().enumerate() {
            match ts {
                TypeSchema::Object(o) if o.primary_key.is_some() => {
                    let mut idx = Vec::new();
                    for path in o.primary_key.iter().flatten() {
                        idx.push(o.field_index(path).ok_or_else(|| {
                            SchemaError::NestedPrimaryKey {
                                type_name: o.name.clone(),
                                path: path.clone(),
                            }
                        })?);
                    }
                    let mut map = FxHashMap::default();
                    for ord in self.state.types[t].ordinals() {
                        let enc = self.state.encoded(t, ord).unwrap_or_default();
                        let mut k = Vec::new();
                        key_into(o, &idx, enc, &mut Vec::new(), &mut k);
                        match map.entry(k.into_boxed_slice()) {
                            Entry::Vacant(v) => {
                                v.insert(ord);
                            }
                            Entry::Occupied(e) => {
                                let other = *e.get();
                                return Err(Error::DuplicateKey {
                                    type_name: o.name.clone(),
                                    key: key_values(o, &idx, e.key()),
                                    ordinals: (other.min(ord), other.max(ord)),
                                });
                            }
                        }
                    }
                    self.keys.push(Some(map));
                    self.pk_fields.push(idx);
                }
                _ => {
                    self.keys.push(None);
                    self.pk_fields.push(Vec::new());
                }
            }
        }
        Ok(())
    }

    /// The last announced version.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// The header of the last announced state.
    pub fn header(&self) -> &BTreeMap<String, String> {
        &self.header
    }

    /// The timeline the producer publishes to.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Adds a validator, run after the configured ones.
    pub fn add_validator(&mut self, v: impl Validator + 'static) {
        self.config.validators.push(v);
    }

    /// The working state (as of the last cycle).
    pub fn state(&self) -> &WriteState {
        &self.state
    }

    /// Runs one cycle: `f` upserts and deletes; then, if anything changed and the validators
    /// agree, a new version is published. If `f` fails, the state is rolled back and the
    /// error returned.
    pub fn cycle(&mut self, f: impl FnOnce(&mut Cycle<'_>) -> Result<()>) -> Result<CycleOutcome> {
        self.run(false, f)
    }

    /// Runs a full-repopulation cycle: every record `f` adds is the whole next state;
    /// keyed records not added are removed.
    pub fn cycle_full(
        &mut self,
        f: impl FnOnce(&mut Cycle<'_>) -> Result<()>,
    ) -> Result<CycleOutcome> {
        self.run(true, f)
    }

    fn run(
        &mut self,
        full: bool,
        f: impl FnOnce(&mut Cycle<'_>) -> Result<()>,
    ) -> Result<CycleOutcome> {
        let started = Instant::now();
        self.repair_announcement();
        let mut cyc = Cycle {
            p: self,
            header: BTreeMap::new(),
            seen: full.then(Vec::new),
        };
        if let Err(e) = f(&mut cyc) {
            self.state.rollback();
            self.index_keys()?;
            return Err(e);
        }
        let Cycle {
            header: header_updates,
            seen,
            ..
        } = cyc;
        let mut phases = CyclePhases {
            populate: started.elapsed(),
            ..Default::default()
        };
        let t = Instant::now();
        if let Some(seen) = seen {
            self.remove_unseen(seen);
        }
        let (changes, removed) = self.state.take_changes_peek();
        if changes.is_empty() {
            self.state.clear_journal();
            return Ok(CycleOutcome::Unchanged);
        }
        if let Err((validator, failure)) = self.validate(&changes, &header_updates, full) {
            self.state.rollback();
            self.index_keys()?;
            return Ok(CycleOutcome::ValidationFailed {
                validator,
                reason: failure,
            });
        }
        let old_header = self.header.clone();
        for (k, v) in header_updates {
            self.state.set_header(k, v);
        }
        // never a number an earlier attempt may have used (see `used`)
        let next = self.version.max(self.used).map_or(1, |v| v + 1);
        self.used = Some(next);
        self.state.set_header("hollow.version", next.to_string());
        phases.prepare = t.elapsed();
        match self.publish(next, &changes, &removed, &old_header, &mut phases) {
            Ok((delta_bytes, reverse_delta_bytes, snapshot_bytes)) => {
                self.state.clear_journal();
                self.version = Some(next);
                self.header = self.state.header.clone();
                let (added, removed_n) = changes.counts();
                let retention = self.apply_retention();
                Ok(CycleOutcome::Published {
                    version: next,
                    added,
                    removed: removed_n,
                    delta_bytes,
                    reverse_delta_bytes,
                    snapshot_bytes,
                    elapsed: started.elapsed(),
                    phases,
                    retention,
                })
            }
            // The store may have stored the announcement and still reported an error (a
            // timeout after the write): then consumers can load this version, so it is
            // published and its number must not be reused for other content.
            Err(_) if matches!(self.timeline.announced(), Ok(Some(a)) if a == next) => {
                self.state.clear_journal();
                self.version = Some(next);
                self.header = self.state.header.clone();
                let (added, removed_n) = changes.counts();
                Ok(CycleOutcome::Published {
                    version: next,
                    added,
                    removed: removed_n,
                    delta_bytes: 0,
                    reverse_delta_bytes: 0,
                    snapshot_bytes: None,
                    elapsed: started.elapsed(),
                    phases,
                    retention: None,
                })
            }
            Err(e) => {
                self.failed.insert(next);
                while self.failed.len() > 64 {
                    self.failed.pop_first();
                }
                self.state.rollback();
                self.state.header = old_header;
                // keys must follow the rolled-back state
                self.index_keys()?;
                Err(e)
            }
        }
    }

    fn publish(
        &mut self,
        v: u64,
        changes: &StateChanges,
        removed: &hollow_state::write::RemovedRecords,
        old_header: &BTreeMap<String, String>,
        phases: &mut CyclePhases,
    ) -> Result<(u64, u64, Option<u64>)> {
        let t = Instant::now();
        let mut blobs = VersionBlobs::default();
        let (mut delta_bytes, mut reverse_bytes) = (0, 0);
        if let Some(prev) = self.version {
            let (d, r) = write_delta_pair(
                &self.state,
                changes,
                removed,
                old_header,
                prev,
                v,
                self.config.zstd_level,
            )?;
            delta_bytes = d.len() as u64;
            reverse_bytes = r.len() as u64;
            blobs.deltas = Some((d, r));
        }
        let mut snapshot_bytes = None;
        if self.version.is_none()
            || (self.config.snapshot_every > 0 && v.is_multiple_of(self.config.snapshot_every))
        {
            let (blob, _) = write_snapshot(
                &self.state,
                &SnapshotOptions {
                    zstd_level: self.config.zstd_level,
                    disable_fsst: false,
                },
            )?;
            snapshot_bytes = Some(blob.len() as u64);
            blobs.snapshot = Some(blob);
        }
        phases.encode = t.elapsed();
        let t = Instant::now();
        self.timeline.publish(v, self.version, &blobs)?;
        phases.store = t.elapsed();
        Ok((delta_bytes, reverse_bytes, snapshot_bytes))
    }

    /// If the announcement names an older version that a failed attempt of this producer
    /// used (its write timed out, then landed after a later version was announced),
    /// announces the producer's version again. Best effort: a failure is retried next
    /// cycle. Consumers refuse to follow the backwards announcement meanwhile.
    fn repair_announcement(&mut self) {
        let (Some(v), false) = (self.version, self.failed.is_empty()) else {
            return;
        };
        if let Ok(Some(a)) = self.timeline.announced() {
            if a < v && self.failed.contains(&a) && self.timeline.announce_forward(v).is_ok() {
                self.failed.remove(&a);
            }
        }
    }

    /// Retention after a publish (never undoes it: a failure is reported).
    fn apply_retention(&self) -> Option<RetentionOutcome> {
        if self.config.keep_versions == 0 && self.config.keep_days.is_none() {
            return None;
        }
        // keep_versions 0 with keep_days: the age rule alone decides (0 alone: keep all)
        let keep = match (self.config.keep_versions, self.config.keep_days) {
            (0, None) => usize::MAX,
            (0, Some(_)) => 1,
            (n, _) => n,
        };
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Some(
            match self.timeline.retain(keep, self.config.keep_days, now_ms) {
                Ok(deleted) => RetentionOutcome::Done { deleted },
                Err(e) => RetentionOutcome::Failed { error: Arc::new(e) },
            },
        )
    }

    /// Runs the built-in validators, then the configured ones: the first refusal.
    fn validate(
        &self,
        changes: &StateChanges,
        header_updates: &BTreeMap<String, String>,
        full: bool,
    ) -> std::result::Result<(), (String, super::validate::ValidationFailure)> {
        let ctx = ValidationContext {
            state: &self.state,
            changes,
            previous_version: self.version,
            previous_header: &self.header,
            header_updates,
            full,
            pk_fields: &self.pk_fields,
            keys: &self.keys,
        };
        let named = |v: &dyn Validator| v.validate(&ctx).map_err(|f| (v.name().to_string(), f));
        if let Some(ratio) = self.config.max_count_change_ratio {
            named(&CountChangeValidator::new(ratio))?;
        }
        if let Some(pk) = &self.config.primary_keys {
            named(pk)?;
        }
        self.config.validators.run(&ctx)
    }

    fn remove_unseen(&mut self, seen: Vec<HashSet<u32>>) {
        for (t, seen_t) in seen.into_iter().enumerate() {
            if self.keys[t].is_none() {
                continue;
            }
            let unseen: Vec<u32> = self.state.types[t]
                .ordinals()
                .filter(|o| !seen_t.contains(o))
                .collect();
            for o in unseen {
                self.remove_keyed(t, o);
            }
        }
    }

    fn remove_keyed(&mut self, t: usize, ordinal: u32) {
        if let (Some(enc), Some(TypeSchema::Object(o))) = (
            self.state.encoded(t, ordinal),
            self.state.schema.types().get(t),
        ) {
            let mut k = std::mem::take(&mut self.key_buf);
            key_into(o, &self.pk_fields[t], enc, &mut self.spans, &mut k);
            if let Some(m) = &mut self.keys[t] {
                m.remove(&k[..]);
            }
            self.key_buf = k;
        }
        self.state.remove_cascading_idx(t, ordinal);
    }
}

/// Writes the byte encoding of a record's primary key (the write encodings of its key
/// fields) into `out` (cleared first).
fn key_into(
    o: &hollow_format::schema::ObjectSchema,
    pk: &[usize],
    enc: &[u8],
    spans: &mut Vec<std::ops::Range<usize>>,
    out: &mut Vec<u8>,
) {
    let mut pos = 0;
    spans.clear();
    for f in &o.fields {
        let start = pos;
        let _ = decode_field(&f.kind, enc, &mut pos);
        spans.push(start..pos);
    }
    out.clear();
    for i in pk {
        out.extend_from_slice(&enc[spans[*i].clone()]);
    }
}

/// The changes of one cycle.
pub struct Cycle<'p> {
    p: &'p mut Producer,
    header: BTreeMap<String, String>,
    seen: Option<Vec<HashSet<u32>>>,
}

impl Cycle<'_> {
    /// Sets a header entry of the new state (kept only if a version is published).
    pub fn set_header(&mut self, key: &str, value: &str) {
        self.header.insert(key.to_string(), value.to_string());
    }

    /// Inserts or replaces the record of a keyed object type with the same primary key.
    /// Returns whether the state changed (false when an identical record is present).
    pub fn upsert(&mut self, type_name: &str, values: &[Value<'_>]) -> Result<bool> {
        let t = self.p.state.type_idx(type_name)?;
        self.upsert_idx(t, values)
    }

    fn upsert_idx(&mut self, t: usize, values: &[Value<'_>]) -> Result<bool> {
        let schema = self.p.state.schema.clone();
        let TypeSchema::Object(o) = &schema.types()[t] else {
            return Err(DataError::WrongTypeKind {
                type_name: schema.types()[t].name().into(),
                expected: "object",
                actual: schema.types()[t].kind_name(),
            }
            .into());
        };
        if self.p.keys[t].is_none() {
            return Err(SchemaError::NoPrimaryKey {
                type_name: o.name.clone(),
            }
            .into());
        }
        let mut enc = std::mem::take(&mut self.p.enc_buf);
        let mut key = std::mem::take(&mut self.p.key_buf);
        enc.clear();
        let r = encode_object(o, values, &mut enc)
            .map_err(Error::from)
            .and_then(|_| {
                key_into(o, &self.p.pk_fields[t], &enc, &mut self.p.spans, &mut key);
                self.upsert_encoded(t, &enc, &key, values)
            });
        self.p.enc_buf = enc;
        self.p.key_buf = key;
        r
    }

    fn upsert_encoded(
        &mut self,
        t: usize,
        enc: &[u8],
        key: &[u8],
        values: &[Value<'_>],
    ) -> Result<bool> {
        let existing = self.p.keys[t].as_ref().and_then(|m| m.get(key).copied());
        if let Some(e) = existing {
            if self.p.state.encoded(t, e) == Some(enc) {
                if let Some(seen) = &mut self.seen {
                    seen_mut(seen, t).insert(e);
                }
                return Ok(false);
            }
        }
        // Replace in place: the old record goes first so that the new one takes its ordinal
        // (modified records keep their ordinals); what the old one referred to is released
        // only after the new one holds its own references, so shared sub-records survive.
        let old = existing.and_then(|e| self.p.state.remove_keeping_refs(t, e));
        let (ord, _) = self.p.state.add_encoded_counted(t, enc, values)?;
        if let Some(old) = old {
            self.p.state.release_refs(t, old);
        }
        if let Some(m) = &mut self.p.keys[t] {
            match m.get_mut(key) {
                Some(slot) => *slot = ord,
                None => {
                    m.insert(key.into(), ord);
                }
            }
        }
        if let Some(seen) = &mut self.seen {
            seen_mut(seen, t).insert(ord);
        }
        Ok(true)
    }

    /// Deletes the record of a keyed object type with the given primary-key values (in key
    /// order). Returns whether a record was removed.
    pub fn delete(&mut self, type_name: &str, key: &[Value<'_>]) -> Result<bool> {
        let t = self.p.state.type_idx(type_name)?;
        let schema = self.p.state.schema.clone();
        let TypeSchema::Object(o) = &schema.types()[t] else {
            return Err(DataError::WrongTypeKind {
                type_name: type_name.into(),
                expected: "object",
                actual: schema.types()[t].kind_name(),
            }
            .into());
        };
        let pk = &self.p.pk_fields[t];
        if pk.len() != key.len() {
            return Err(SchemaError::KeyArity {
                type_name: type_name.into(),
                fields: o.primary_key.clone().unwrap_or_default(),
                got: key.len(),
            }
            .into());
        }
        let mut enc = Vec::new();
        for (i, v) in pk.iter().zip(key) {
            let one = hollow_format::schema::ObjectSchema {
                name: o.name.clone(),
                fields: vec![o.fields[*i].clone()],
                primary_key: None,
            };
            encode_object(&one, std::slice::from_ref(v), &mut enc)?;
        }
        let Some(ord) = self.p.keys[t]
            .as_ref()
            .and_then(|m| m.get(&enc[..]).copied())
        else {
            return Ok(false);
        };
        self.p.remove_keyed(t, ord);
        Ok(true)
    }

    /// Upserts a record of a dataset described by a schema file.
    pub fn upsert_record(&mut self, ds: &DatasetSchema, rec: &Record) -> Result<bool> {
        let root = self.p.state.type_idx(&ds.type_name)?;
        let values = ds.values_of(&mut self.p.state, rec)?;
        let changed = self.upsert_idx(root, &values);
        // sub-records added for an unchanged record were found by dedup (nothing inserted);
        // a failed upsert leaves unreferenced sub-records, which the journal rolls back.
        changed
    }

    /// Deletes a record of a dataset by its Kafka key (`42`, `42|FR|1631750400000`).
    pub fn delete_key(&mut self, ds: &DatasetSchema, key: &str) -> Result<bool> {
        let vals = crate::key::parse_dataset_key(ds, key)?;
        self.delete(&ds.type_name, &vals)
    }
}

/// Typed writes: records of derived types (`#[derive(Hollow)]`).
impl Cycle<'_> {
    /// Inserts or replaces the record of derived type `T` with the same primary key (the
    /// `#[hollow(primary_key)]` fields), adding what it refers to (deduplicated and
    /// reference-counted, as [`Cycle::upsert_record`] does): the cost is that of the record
    /// and its sub-records. Returns whether the state changed. (The untyped
    /// [`Cycle::upsert`] keeps its name and its `(type name, values)` arguments.)
    pub fn upsert_typed<T: Hollow>(&mut self, value: &T) -> Result<bool> {
        let t = self.p.state.type_idx(T::TYPE_NAME)?;
        value.write_with(self, |c: &mut Self, values| c.upsert_idx(t, values))
    }

    /// Inserts or replaces a record given as a serde-serializable struct (the types of
    /// [`hollow_state::serde`], whose object type is named like the struct), with the same
    /// primary key as the state's schema declares; what it refers to is added
    /// reference-counted, as for [`Cycle::upsert_typed`]. For users whose types already
    /// derive `Serialize`; `#[derive(Hollow)]` types skip serde and its copies. Returns
    /// whether the state changed. Delete such records with [`Cycle::delete`].
    pub fn upsert_serde<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<bool> {
        let (t, values) = self.p.state.serde_record(value)?;
        self.upsert_idx(t, &values)
    }

    /// Deletes the record of derived type `T` with primary key `key` (the key's Rust types:
    /// `42`, `"FR"`, `(42, "FR")`). Returns whether a record was removed.
    pub fn delete_typed<T: Hollow>(
        &mut self,
        key: <T::Key as KeyTuple>::Borrowed<'_>,
    ) -> Result<bool> {
        T::Key::with_values(&key, |k| self.delete(T::TYPE_NAME, k))
    }
}

/// A cycle takes the sub-records of typed writes into the producer's state, counting
/// references (what a record refers to lives as long as something refers to it).
impl Sink for Cycle<'_> {
    fn add_object(&mut self, type_name: &str, values: &[Value<'_>]) -> TypedResult<u32> {
        let t = self.p.state.type_idx(type_name)?;
        Ok(self.p.state.add_object_counted(t, values)?.0)
    }

    fn add_collection(&mut self, type_name: &str, items: Vec<u32>) -> TypedResult<u32> {
        let t = self.p.state.type_idx(type_name)?;
        Ok(self.p.state.add_collection_counted(t, items)?.0)
    }
}

fn seen_mut(seen: &mut Vec<HashSet<u32>>, t: usize) -> &mut HashSet<u32> {
    if seen.len() <= t {
        seen.resize_with(t + 1, HashSet::new);
    }
    &mut seen[t]
}
