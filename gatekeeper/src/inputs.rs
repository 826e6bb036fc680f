//! The seven input datasets as hollow states: their schemas (`schemas/*.json` at the workspace
//! root, embedded), [`InputStates`] (one `ReadState` per dataset, with its version when it came
//! from a timeline), and the two ways to get them without a blob store:
//!
//! - [`InputStates::from_jsonl_dir`]: a directory of `<dataset>.jsonl` files, each parsed on all
//!   cores into the typed records of [`crate::model`] (the validation of GATEKEEPER.md §2, as
//!   [`crate::jsonl`] does; "a later record with the same primary key replaces an earlier
//!   one"), added to a hollow `WriteState` of the dataset's schema as borrowed `Value`s (no
//!   `String` per record), then written as a snapshot and opened as a `ReadState` — the
//!   offline `evaluate` path, so that it runs the very engine the service runs. (Parsing with
//!   `DatasetSchema::parse_json`, which builds a `serde_json::Value` per record, is about three
//!   times slower.) These states are never stored, so their strings are not FSST-compressed;
//! - [`InputStates::from_catalog`]: an in-memory [`Catalog`] (tests).
//!
//! [`publish_jsonl_dir`] publishes such a directory into seven timelines
//! (`<url>/<dataset>`) with a hollow `Producer` per dataset: a Kafka-free way to feed the
//! service, used by tests, benches and `gatekeeper publish-inputs`.

use crate::error::{Error, Result};
use crate::jsonl::Catalog;
use crate::model::{
    Asset, AssetKind, AssetStatus, Country, Localization, Rating, Right, Title, TitleKind, Video,
    VideoKind,
};
use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::dataset::{DatasetSchema, Record};
use hollow::lifecycle::{CycleOutcome, Producer, ProducerConfig};
use hollow::{ReadState, Value, WriteState};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes of JSON Lines parsed per chunk (one chunk per thread at a time).
const CHUNK_BYTES: usize = 4 << 20;

/// One of the seven upstream datasets of GATEKEEPER.md §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dataset {
    /// `countries`.
    Countries,
    /// `titles`.
    Titles,
    /// `videos`.
    Videos,
    /// `rights`.
    Rights,
    /// `assets`.
    Assets,
    /// `localizations`.
    Localizations,
    /// `ratings`.
    Ratings,
}

impl Dataset {
    /// The seven datasets, in a fixed order (the index of [`Dataset::index`]).
    pub const ALL: [Dataset; 7] = [
        Dataset::Countries,
        Dataset::Titles,
        Dataset::Videos,
        Dataset::Rights,
        Dataset::Assets,
        Dataset::Localizations,
        Dataset::Ratings,
    ];

    /// The dataset's name: its topic, its JSON Lines file stem, its folder under an inputs URL.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Countries => "countries",
            Dataset::Titles => "titles",
            Dataset::Videos => "videos",
            Dataset::Rights => "rights",
            Dataset::Assets => "assets",
            Dataset::Localizations => "localizations",
            Dataset::Ratings => "ratings",
        }
    }

    /// The position in [`Dataset::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The dataset named `name`.
    pub fn from_name(name: &str) -> Option<Dataset> {
        Dataset::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The schema file text (`schemas/<name>.json`, embedded).
    pub fn schema_json(self) -> &'static str {
        match self {
            Dataset::Countries => include_str!("../../schemas/countries.json"),
            Dataset::Titles => include_str!("../../schemas/titles.json"),
            Dataset::Videos => include_str!("../../schemas/videos.json"),
            Dataset::Rights => include_str!("../../schemas/rights.json"),
            Dataset::Assets => include_str!("../../schemas/assets.json"),
            Dataset::Localizations => include_str!("../../schemas/localizations.json"),
            Dataset::Ratings => include_str!("../../schemas/ratings.json"),
        }
    }

    /// The parsed schema.
    pub fn schema(self) -> Result<DatasetSchema> {
        DatasetSchema::from_json(self.schema_json())
            .map_err(|e| Error::hollow(format!("schema of {}", self.name()), e))
    }

    /// The store URL of this dataset's timeline under an inputs URL: `<inputs>/<name>`.
    pub fn store_url(self, inputs: &str) -> String {
        format!("{}/{}", inputs.trim_end_matches('/'), self.name())
    }
}

impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One state per input dataset, in [`Dataset::ALL`] order, with the version each came from
/// (`None` for states built in memory).
#[derive(Debug, Clone)]
pub struct InputStates {
    /// The states.
    pub states: [Arc<ReadState>; 7],
    /// Their versions.
    pub versions: [Option<u64>; 7],
}

impl InputStates {
    /// The state of one dataset.
    pub fn get(&self, d: Dataset) -> &ReadState {
        &self.states[d.index()]
    }

    /// Loads the seven `<dataset>.jsonl` files of `dir` into hollow states (see the module
    /// docs). Two groups of datasets of about equal size load at once, each file parsed on half
    /// the cores.
    pub fn from_jsonl_dir(dir: &Path) -> Result<InputStates> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per_file = (cores / 2).max(1);
        let group_a = || -> Result<Vec<(Dataset, ReadState)>> {
            Ok(vec![
                (
                    Dataset::Assets,
                    jsonl_state::<Asset>(Dataset::Assets, dir, per_file)?,
                ),
                (
                    Dataset::Videos,
                    jsonl_state::<Video>(Dataset::Videos, dir, per_file)?,
                ),
                (
                    Dataset::Localizations,
                    jsonl_state::<Localization>(Dataset::Localizations, dir, per_file)?,
                ),
                (
                    Dataset::Countries,
                    jsonl_state::<Country>(Dataset::Countries, dir, per_file)?,
                ),
            ])
        };
        let group_b = || -> Result<Vec<(Dataset, ReadState)>> {
            Ok(vec![
                (
                    Dataset::Rights,
                    jsonl_state::<Right>(Dataset::Rights, dir, per_file)?,
                ),
                (
                    Dataset::Ratings,
                    jsonl_state::<Rating>(Dataset::Ratings, dir, per_file)?,
                ),
                (
                    Dataset::Titles,
                    jsonl_state::<Title>(Dataset::Titles, dir, per_file)?,
                ),
            ])
        };
        let (ra, rb) = crate::par::join(cores >= 2, group_a, group_b);
        let mut states = ra?;
        states.extend(rb?);
        states.sort_by_key(|(d, _)| *d);
        InputStates::from_vec(states.into_iter().map(|(_, s)| s).collect())
    }

    /// Builds the states of an in-memory catalog (whose primary keys must be unique; see
    /// [`Catalog::dedup`]).
    pub fn from_catalog(catalog: &Catalog) -> Result<InputStates> {
        InputStates::from_vec(vec![
            state_of(Dataset::Countries, &catalog.countries)?,
            state_of(Dataset::Titles, &catalog.titles)?,
            state_of(Dataset::Videos, &catalog.videos)?,
            state_of(Dataset::Rights, &catalog.rights)?,
            state_of(Dataset::Assets, &catalog.assets)?,
            state_of(Dataset::Localizations, &catalog.localizations)?,
            state_of(Dataset::Ratings, &catalog.ratings)?,
        ])
    }

    /// Seven states in [`Dataset::ALL`] order, without versions.
    fn from_vec(states: Vec<ReadState>) -> Result<InputStates> {
        let n = states.len();
        let states: [ReadState; 7] = states.try_into().map_err(|_| Error::Input {
            dataset: "all",
            detail: format!("{n} states instead of 7"),
        })?;
        Ok(InputStates {
            states: states.map(Arc::new),
            versions: [None; 7],
        })
    }

    /// The number of records over the seven root types.
    pub fn record_count(&self) -> u64 {
        Dataset::ALL
            .iter()
            .filter_map(|&d| {
                Some(
                    self.get(d)
                        .record_count(&d.schema().ok()?.type_name)
                        .unwrap_or(0),
                )
            })
            .sum()
    }
}

/// Loads `<dir>/<dataset>.jsonl` (parsed on `threads` threads) into a read state.
fn jsonl_state<T: ToHollow + crate::model::Record + DeserializeOwned + Send>(
    d: Dataset,
    dir: &Path,
    threads: usize,
) -> Result<ReadState> {
    let records = crate::jsonl::load_dataset_with::<T>(dir, threads)?;
    state_of(d, &records)
}

/// Loads `<dir>/<dataset>.jsonl` (parsed on `threads` threads) into a write state.
fn jsonl_write_state<T: ToHollow + crate::model::Record + DeserializeOwned + Send>(
    d: Dataset,
    dir: &Path,
    threads: usize,
) -> Result<(WriteState, u64)> {
    let records = crate::jsonl::load_dataset_with::<T>(dir, threads)?;
    Ok((write_state_of(d, &records)?, records.len() as u64))
}

/// A write state of dataset `d` holding `records` (unique keys).
fn write_state_of<T: ToHollow>(d: Dataset, records: &[T]) -> Result<WriteState> {
    let ds = d.schema()?;
    let err = |e| Error::hollow(format!("building the state of {d}"), e);
    let mut ws = WriteState::new(ds.schema_set().map_err(err)?);
    let mut lists = Vec::new();
    for r in records {
        r.add(&mut ws, &mut lists).map_err(err)?;
    }
    Ok(ws)
}

/// Adds `records` (unique keys) to a write state of dataset `d` and opens its snapshot.
fn state_of<T: ToHollow>(d: Dataset, records: &[T]) -> Result<ReadState> {
    let ws = write_state_of(d, records)?;
    // Never stored: skip FSST, which costs more to build than it saves here.
    let (blob, _) = write_snapshot(
        &ws,
        &SnapshotOptions {
            zstd_level: None,
            disable_fsst: true,
        },
    )
    .map_err(|e| Error::hollow(format!("snapshot of {d}"), e))?;
    ReadState::from_vec(blob).map_err(|e| Error::hollow(format!("opening the snapshot of {d}"), e))
}

/// A record of [`crate::model`] added to a hollow write state of its dataset's schema
/// (`schemas/<dataset>.json`: fields in the schema's order, lists of strings as
/// `ListOfString` of `String` records).
trait ToHollow {
    /// Adds the record; `lists` is scratch for list element ordinals.
    fn add(
        &self,
        ws: &mut WriteState,
        lists: &mut Vec<u32>,
    ) -> std::result::Result<u32, hollow::DataError>;
}

/// Adds a list of strings; returns the list's ordinal.
fn add_strings(
    ws: &mut WriteState,
    items: &[String],
    ords: &mut Vec<u32>,
) -> std::result::Result<u32, hollow::DataError> {
    ords.clear();
    for it in items {
        ords.push(ws.add_object("String", &[Value::str(it)])?);
    }
    ws.add_list("ListOfString", ords)
}

fn opt_str(s: &Option<String>) -> Value<'_> {
    s.as_deref().map_or(Value::Null, Value::str)
}

impl ToHollow for Country {
    fn add(
        &self,
        ws: &mut WriteState,
        lists: &mut Vec<u32>,
    ) -> std::result::Result<u32, hollow::DataError> {
        let required = add_strings(ws, &self.required_languages, lists)?;
        ws.add_object(
            "Country",
            &[
                Value::str(&self.code),
                Value::str(&self.name),
                Value::str(&self.primary_language),
                Value::Ref(required),
                Value::Bool(self.requires_captions),
                Value::Bool(self.rating_required),
            ],
        )
    }
}

impl ToHollow for Title {
    fn add(
        &self,
        ws: &mut WriteState,
        lists: &mut Vec<u32>,
    ) -> std::result::Result<u32, hollow::DataError> {
        let genres = add_strings(ws, &self.genres, lists)?;
        let cast = add_strings(ws, &self.cast, lists)?;
        let directors = add_strings(ws, &self.directors, lists)?;
        let kind = match self.kind {
            TitleKind::Movie => "MOVIE",
            TitleKind::Show => "SHOW",
        };
        ws.add_object(
            "Title",
            &[
                Value::I64(self.id),
                Value::str(kind),
                Value::str(&self.name),
                Value::str(&self.original_language),
                self.release_year.map_or(Value::Null, Value::I32),
                Value::Ref(genres),
                Value::Ref(cast),
                Value::Ref(directors),
            ],
        )
    }
}

impl ToHollow for Video {
    fn add(
        &self,
        ws: &mut WriteState,
        _: &mut Vec<u32>,
    ) -> std::result::Result<u32, hollow::DataError> {
        let kind = match self.kind {
            VideoKind::Movie => "MOVIE",
            VideoKind::Episode => "EPISODE",
        };
        let int = |v: Option<i32>| v.map_or(Value::Null, Value::I32);
        ws.add_object(
            "Video",
            &[
                Value::I64(self.id),
                Value::I64(self.title_id),
                Value::str(kind),
                int(self.season),
                int(self.episode),
                int(self.runtime_minutes),
            ],
        )
    }
}

impl ToHollow for Right {
    fn add(
        &self,
        ws: &mut WriteState,
        _: &mut Vec<u32>,
    ) -> std::result::Result<u32, hollow::DataError> {
        ws.add_object(
            "Right",
            &[
                Value::I64(self.title_id),
                Value::str(&self.country),
                Value::I64(self.window_start),
                self.window_end.map_or(Value::Null, Value::I64),
            ],
        )
    }
}

impl ToHollow for Asset {
    fn add(
        &self,
        ws: &mut WriteState,
        _: &mut Vec<u32>,
    ) -> std::result::Result<u32, hollow::DataError> {
        let kind = match self.kind {
            AssetKind::Video => "VIDEO",
            AssetKind::Audio => "AUDIO",
            AssetKind::Subtitle => "SUBTITLE",
            AssetKind::ClosedCaptions => "CLOSED_CAPTIONS",
        };
        let status = match self.status {
            AssetStatus::Ready => "READY",
            AssetStatus::InProgress => "IN_PROGRESS",
            AssetStatus::Failed => "FAILED",
        };
        ws.add_object(
            "Asset",
            &[
                Value::I64(self.id),
                Value::I64(self.video_id),
                Value::str(kind),
                opt_str(&self.language),
                Value::str(status),
            ],
        )
    }
}

impl ToHollow for Localization {
    fn add(
        &self,
        ws: &mut WriteState,
        _: &mut Vec<u32>,
    ) -> std::result::Result<u32, hollow::DataError> {
        ws.add_object(
            "Localization",
            &[
                Value::I64(self.title_id),
                Value::str(&self.language),
                opt_str(&self.name),
                opt_str(&self.synopsis),
            ],
        )
    }
}

impl ToHollow for Rating {
    fn add(
        &self,
        ws: &mut WriteState,
        _: &mut Vec<u32>,
    ) -> std::result::Result<u32, hollow::DataError> {
        ws.add_object(
            "Rating",
            &[
                Value::I64(self.title_id),
                Value::str(&self.country),
                Value::str(&self.board),
                Value::str(&self.rating),
            ],
        )
    }
}

/// Parses JSON Lines `bytes` of dataset `ds` in chunks, `threads` chunks at a time, and hands
/// every record to `f` in file order. Blank lines are skipped; the first bad line is an
/// [`Error::Malformed`] naming `path` and the line.
pub fn for_each_record(
    ds: &DatasetSchema,
    bytes: &[u8],
    path: &Path,
    threads: usize,
    mut f: impl FnMut(&Record) -> Result<()>,
) -> Result<()> {
    // Chunk boundaries at line ends.
    let mut chunks: Vec<(usize, &[u8])> = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let mut end = (start + CHUNK_BYTES).min(bytes.len());
        while end < bytes.len() && bytes[end - 1] != b'\n' {
            end += 1;
        }
        chunks.push((start, &bytes[start..end]));
        start = end;
    }
    let parse = |(offset, chunk): (usize, &[u8])| -> Result<Vec<Record>> {
        let mut out = Vec::new();
        let mut pos = 0;
        for line in chunk.split(|&b| b == b'\n') {
            let at = offset + pos;
            pos += line.len() + 1;
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            match ds.parse_json(line) {
                Ok(r) => out.push(r),
                Err(source) => {
                    let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
                    return Err(Error::Malformed {
                        file: path.to_path_buf(),
                        line,
                        source,
                    });
                }
            }
        }
        Ok(out)
    };
    for round in chunks.chunks(threads.max(1)) {
        let parsed: Vec<Result<Vec<Record>>> = if round.len() == 1 {
            vec![parse(round[0])]
        } else {
            crate::par::map(round.iter().copied(), parse)
        };
        for records in parsed {
            for r in &records? {
                f(r)?;
            }
        }
    }
    Ok(())
}

/// What [`publish_jsonl_dir`] did to one dataset.
#[derive(Debug, Clone)]
pub struct PublishedInput {
    /// The dataset.
    pub dataset: Dataset,
    /// Its store URL.
    pub url: String,
    /// The announced version after the cycle.
    pub version: Option<u64>,
    /// Whether this cycle published a new version.
    pub published: bool,
    /// Records in the file.
    pub records: u64,
}

/// Publishes the seven `<dataset>.jsonl` files of `dir` into the timelines `<url>/<dataset>`.
///
/// An empty timeline gets the file as its first version, written directly as a snapshot (see
/// `first`); a timeline with versions gets one hollow `Producer` cycle upserting the file's
/// records (with `full`, records missing from the file are deleted: the file is the whole
/// dataset). A dataset whose state does not change publishes nothing.
pub fn publish_jsonl_dir(dir: &Path, url: &str, full: bool) -> Result<Vec<PublishedInput>> {
    let mut out = Vec::new();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    for d in Dataset::ALL {
        let store_url = d.store_url(url);
        let store = hollow::store::open_store(&store_url).map_err(|source| Error::Store {
            url: store_url.clone(),
            source,
        })?;
        let announced = hollow::lifecycle::Timeline::new(store.clone())
            .announced()
            .map_err(|e| Error::hollow(format!("reading the announcement of {store_url}"), e))?;
        if announced.is_none() {
            let (mut ws, records) = match d {
                Dataset::Countries => jsonl_write_state::<Country>(d, dir, threads)?,
                Dataset::Titles => jsonl_write_state::<Title>(d, dir, threads)?,
                Dataset::Videos => jsonl_write_state::<Video>(d, dir, threads)?,
                Dataset::Rights => jsonl_write_state::<Right>(d, dir, threads)?,
                Dataset::Assets => jsonl_write_state::<Asset>(d, dir, threads)?,
                Dataset::Localizations => jsonl_write_state::<Localization>(d, dir, threads)?,
                Dataset::Ratings => jsonl_write_state::<Rating>(d, dir, threads)?,
            };
            let first = crate::first::write_first_version(&store, &mut ws, None).map_err(|e| {
                Error::hollow(format!("publishing the first version of {store_url}"), e)
            })?;
            out.push(PublishedInput {
                dataset: d,
                url: store_url,
                version: Some(first.version),
                published: true,
                records,
            });
            continue;
        }
        let ds = d.schema()?;
        let mut producer = open_producer(d, &ds, store, &store_url)?;
        let path: PathBuf = dir.join(format!("{}.jsonl", d.name()));
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let mut records = 0u64;
        // a failed load leaves the cycle through hollow as a callback error, unwrapped below
        let body = |c: &mut hollow::lifecycle::Cycle<'_>| -> hollow::Result<()> {
            for_each_record(&ds, &bytes, &path, threads, |rec| {
                records += 1;
                c.upsert_record(&ds, rec)
                    .map(|_| ())
                    .map_err(|e| Error::hollow(format!("upserting into {d}"), e))
            })
            .map_err(|e| hollow::Error::Callback(Box::new(e)))
        };
        let outcome = match if full {
            producer.cycle_full(body)
        } else {
            producer.cycle(body)
        } {
            Err(hollow::Error::Callback(e)) => match e.downcast::<Error>() {
                Ok(e) => return Err(*e),
                Err(e) => Err(hollow::Error::Callback(e)),
            },
            outcome => outcome,
        };
        let published = check_outcome(d, &store_url, outcome)?;
        out.push(PublishedInput {
            dataset: d,
            url: store_url,
            version: producer.version(),
            published: published.is_some(),
            records,
        });
    }
    Ok(out)
}

fn open_producer(
    d: Dataset,
    ds: &DatasetSchema,
    store: Arc<dyn hollow::store::BlobStore>,
    url: &str,
) -> Result<Producer> {
    let schema = ds
        .schema_set()
        .map_err(|e| Error::hollow(format!("schema of {d}"), e))?;
    let config = ProducerConfig {
        max_count_change_ratio: None,
        ..ProducerConfig::default()
    };
    Producer::open(store, schema, config)
        .map_err(|e| Error::hollow(format!("opening the producer of {url}"), e))
}

/// The version a producer cycle published, if any; an error if it failed or was refused.
fn check_outcome(
    d: Dataset,
    url: &str,
    outcome: hollow::Result<CycleOutcome>,
) -> Result<Option<u64>> {
    match outcome.map_err(|e| Error::hollow(format!("publishing {url}"), e))? {
        CycleOutcome::Published { version, .. } => Ok(Some(version)),
        CycleOutcome::Unchanged => Ok(None),
        CycleOutcome::ValidationFailed { validator, reason } => Err(Error::Input {
            dataset: d.name(),
            detail: format!("the new state was refused by {validator}: {reason}"),
        }),
    }
}

/// Changes input timelines through hollow producers (one per dataset, opened on first use):
/// how tests, benches and the demo change the inputs without Kafka.
#[derive(Debug)]
pub struct InputWriter {
    url: String,
    producers: std::collections::BTreeMap<Dataset, (DatasetSchema, Producer)>,
}

impl InputWriter {
    /// A writer of the timelines under `url` (`<url>/<dataset>`).
    pub fn new(url: &str) -> InputWriter {
        InputWriter {
            url: url.to_string(),
            producers: std::collections::BTreeMap::new(),
        }
    }

    /// Opens the producer of `d` now (restoring its last state), so that later cycles do not
    /// pay for it.
    pub fn open(&mut self, d: Dataset) -> Result<()> {
        if !self.producers.contains_key(&d) {
            let ds = d.schema()?;
            let url = d.store_url(&self.url);
            let store = hollow::store::open_store(&url).map_err(|source| Error::Store {
                url: url.clone(),
                source,
            })?;
            let p = open_producer(d, &ds, store, &url)?;
            self.producers.insert(d, (ds, p));
        }
        Ok(())
    }

    /// One producer cycle of `d`: upserts `records` (JSON objects of the dataset, e.g.
    /// `serde_json::to_value` of a [`crate::model`] record) and deletes the records with the
    /// Kafka keys `deletes` (`42`, `42|FR|1631750400000`). Returns the version published, if
    /// anything changed.
    pub fn cycle(
        &mut self,
        d: Dataset,
        records: &[serde_json::Value],
        deletes: &[&str],
    ) -> Result<Option<u64>> {
        self.open(d)?;
        let url = d.store_url(&self.url);
        let Some((ds, producer)) = self.producers.get_mut(&d) else {
            return Ok(None);
        };
        let parsed = records
            .iter()
            .map(|r| {
                ds.parse_value(r).map_err(|e| Error::Input {
                    dataset: d.name(),
                    detail: e.to_string(),
                })
            })
            .collect::<Result<Vec<Record>>>()?;
        let outcome = producer.cycle(|c| {
            for r in &parsed {
                c.upsert_record(ds, r)?;
            }
            for k in deletes {
                c.delete_key(ds, k)?;
            }
            Ok(())
        });
        check_outcome(d, &url, outcome)
    }

    /// The last announced version of `d` (opening its producer).
    pub fn version(&mut self, d: Dataset) -> Result<Option<u64>> {
        self.open(d)?;
        Ok(self.producers.get(&d).and_then(|(_, p)| p.version()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hollow::dataset::DatasetReader;

    fn records_of(d: Dataset, state: &ReadState) -> Vec<String> {
        let ds = d.schema().unwrap();
        let reader = DatasetReader::new(&ds, state).unwrap();
        let mut out: Vec<String> = reader
            .root()
            .ordinals()
            .map(|o| ds.to_json(&reader.record(o).unwrap()))
            .collect();
        out.sort();
        out
    }

    fn expected<T: serde::Serialize>(d: Dataset, records: &[T]) -> Vec<String> {
        let ds = d.schema().unwrap();
        let mut out: Vec<String> = records
            .iter()
            .map(|r| ds.to_json(&ds.parse_value(&serde_json::to_value(r).unwrap()).unwrap()))
            .collect();
        out.sort();
        out
    }

    /// The typed adders write what `DatasetSchema::parse_value` + `add` would: same fields,
    /// same order, same lists.
    #[test]
    fn typed_adders_match_the_dataset_schemas() {
        let dir = tempfile::tempdir().unwrap();
        let options = crate::generate::GenOptions {
            limit: Some(5),
            ..Default::default()
        };
        crate::generate::generate_with(dir.path(), &options).unwrap();
        let catalog = crate::jsonl::load_catalog(dir.path()).unwrap();
        let states = InputStates::from_jsonl_dir(dir.path()).unwrap();
        assert_eq!(
            records_of(Dataset::Countries, states.get(Dataset::Countries)),
            expected(Dataset::Countries, &catalog.countries)
        );
        assert_eq!(
            records_of(Dataset::Titles, states.get(Dataset::Titles)),
            expected(Dataset::Titles, &catalog.titles)
        );
        assert_eq!(
            records_of(Dataset::Videos, states.get(Dataset::Videos)),
            expected(Dataset::Videos, &catalog.videos)
        );
        assert_eq!(
            records_of(Dataset::Rights, states.get(Dataset::Rights)),
            expected(Dataset::Rights, &catalog.rights)
        );
        assert_eq!(
            records_of(Dataset::Assets, states.get(Dataset::Assets)),
            expected(Dataset::Assets, &catalog.assets)
        );
        assert_eq!(
            records_of(Dataset::Localizations, states.get(Dataset::Localizations)),
            expected(Dataset::Localizations, &catalog.localizations)
        );
        assert_eq!(
            records_of(Dataset::Ratings, states.get(Dataset::Ratings)),
            expected(Dataset::Ratings, &catalog.ratings)
        );
        assert_eq!(states.record_count(), catalog.len() as u64);
    }

    #[test]
    fn dataset_names_round_trip() {
        for d in Dataset::ALL {
            assert_eq!(Dataset::from_name(d.name()), Some(d));
            assert_eq!(Dataset::ALL[d.index()], d);
            assert_eq!(d.schema().unwrap().dataset, d.name());
        }
        assert_eq!(Dataset::Assets.store_url("s3://b/p/"), "s3://b/p/assets");
    }
}
