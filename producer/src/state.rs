//! The adapter between the service and hollow's producer lifecycle
//! (`hollow::lifecycle::{Producer, Cycle}`): every call into hollow's versioned states goes
//! through here, so a change of that API touches this one file.
//!
//! * [`DatasetState`] — one dataset's timeline in its blob store: restore on open, fold one
//!   cycle of [`Change`]s, publish when something changed.
//! * [`load_published`] / [`load_version`] — read a published state back as records keyed by
//!   their Kafka key (for tests, tools and the sweep's pruning).

use std::collections::BTreeMap;
use std::sync::Arc;

use hollow::dataset::{DatasetReader, DatasetSchema, Record};
use hollow::lifecycle::{
    load_version as hollow_load_version, CountChangeValidator, Cycle, CycleOutcome,
    PrimaryKeyValidator, Producer, ProducerConfig, Timeline, Validators,
};
use hollow::store::BlobStore;
use hollow::MemoryMode;

use crate::message::Change;

/// Publishing settings of every dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct StateOptions {
    /// Write a snapshot every this many versions (the first version always has one).
    pub snapshot_every: u64,
    /// Refuse a state whose record count changes by more than this fraction (`None`: off).
    pub max_count_change_ratio: Option<f64>,
    /// The count check skips datasets with fewer records than this in the last version.
    pub count_check_min: u64,
    /// The count check refuses growth too (default: only drops). A refused growth is read
    /// again next cycle with whatever arrived since, so an initial load or a catch-up that
    /// grows a dataset by more than the ratio would be refused until the check is changed.
    pub count_check_growth: bool,
    /// Refuse a state in which two records share a key (`None`: not checked).
    pub primary_keys: Option<PrimaryKeyValidator>,
    /// zstd level of the blobs (`None`: uncompressed).
    pub zstd_level: Option<i32>,
    /// Versions kept in the store (0: all, unless `keep_days` is set).
    pub keep_versions: usize,
    /// Versions published within this many days are kept (`None`: no age rule).
    pub keep_days: Option<f64>,
}

impl Default for StateOptions {
    /// The validators are on: the count may drop by at most 50 % per version once a dataset
    /// has 1,000 records, and primary keys are checked.
    fn default() -> Self {
        StateOptions {
            snapshot_every: 10,
            max_count_change_ratio: Some(0.5),
            count_check_min: 1000,
            count_check_growth: false,
            primary_keys: Some(PrimaryKeyValidator::incremental()),
            zstd_level: None,
            keep_versions: 0,
            keep_days: None,
        }
    }
}

/// One dataset's versioned state in its blob store.
pub struct DatasetState {
    schema: DatasetSchema,
    producer: Producer,
}

impl std::fmt::Debug for DatasetState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetState")
            .field("dataset", &self.schema.dataset)
            .field("version", &self.producer.version())
            .finish()
    }
}

impl DatasetState {
    /// Opens the dataset's timeline in `store`, restoring the last announced state if any.
    pub fn open(
        schema: &DatasetSchema,
        store: Arc<dyn BlobStore>,
        opts: &StateOptions,
    ) -> hollow::Result<DatasetState> {
        let mut validators = Validators::none();
        if let Some(ratio) = opts.max_count_change_ratio {
            validators.push(CountChangeValidator {
                max_ratio: ratio,
                min_previous: opts.count_check_min,
                all_types: false,
                growth: opts.count_check_growth,
            });
        }
        let config = ProducerConfig {
            snapshot_every: opts.snapshot_every.max(1),
            max_count_change_ratio: None,
            primary_keys: opts.primary_keys,
            validators,
            zstd_level: opts.zstd_level,
            keep_versions: opts.keep_versions,
            keep_days: opts.keep_days,
        };
        let producer = Producer::open(store, schema.schema_set()?, config)?;
        Ok(DatasetState {
            schema: schema.clone(),
            producer,
        })
    }

    /// The last announced version.
    pub fn version(&self) -> Option<u64> {
        self.producer.version()
    }

    /// The header of the last announced state.
    pub fn header(&self) -> &BTreeMap<String, String> {
        self.producer.header()
    }

    /// Runs one cycle: `f` applies changes through a [`Fold`]; a new version is published
    /// if the state changed (and the validators agree). If `f` fails nothing is published.
    pub fn cycle(
        &mut self,
        f: impl FnOnce(&mut Fold<'_, '_>) -> hollow::Result<()>,
    ) -> hollow::Result<CycleOutcome> {
        let schema = &self.schema;
        self.producer.cycle(|cycle| f(&mut Fold { cycle, schema }))
    }
}

/// The changes of one cycle of one dataset.
pub struct Fold<'a, 'p> {
    cycle: &'a mut Cycle<'p>,
    schema: &'a DatasetSchema,
}

impl Fold<'_, '_> {
    /// Applies one change; returns whether the state changed (false: identical content, or
    /// a delete of a key that is not there).
    pub fn apply(&mut self, change: &Change) -> hollow::Result<bool> {
        match change {
            Change::Upsert { record, .. } => self.cycle.upsert_record(self.schema, record),
            Change::Delete { parts, .. } => self.cycle.delete(&self.schema.type_name, parts),
        }
    }

    /// Sets a header entry of the new state (kept only if a version is published).
    pub fn set_header(&mut self, key: &str, value: &str) {
        self.cycle.set_header(key, value);
    }
}

/// A published state read back: its version, header and records by Kafka key.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The version.
    pub version: u64,
    /// The state's header.
    pub header: BTreeMap<String, String>,
    /// Every record, by its key ([`hollow::key::of_record`]).
    pub records: BTreeMap<String, Record>,
}

/// The announced version of a dataset's store, if any.
pub fn announced_version(store: Arc<dyn BlobStore>) -> hollow::Result<Option<u64>> {
    Timeline::new(store).announced()
}

/// Loads the announced state of a dataset's store (`None`: nothing announced yet).
pub fn load_published(
    store: Arc<dyn BlobStore>,
    schema: &DatasetSchema,
) -> hollow::Result<Option<Published>> {
    match announced_version(store.clone())? {
        None => Ok(None),
        Some(v) => load_version(store, schema, v).map(Some),
    }
}

/// Loads one version of a dataset's store (from its nearest snapshot and deltas).
pub fn load_version(
    store: Arc<dyn BlobStore>,
    schema: &DatasetSchema,
    version: u64,
) -> hollow::Result<Published> {
    let state = hollow_load_version(store, version, MemoryMode::Heap)?;
    let reader = DatasetReader::new(schema, &state)?;
    let mut records = BTreeMap::new();
    for ordinal in reader.root().ordinals() {
        let rec = reader.record(ordinal)?;
        records.insert(hollow::key::of_record(schema, &rec), rec);
    }
    Ok(Published {
        version,
        header: state.header().clone(),
        records,
    })
}
