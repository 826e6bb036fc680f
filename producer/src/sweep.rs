//! Sweeps: re-sending every record of a source folder of `<dataset>.jsonl` files to the
//! dataset topics, keyed by primary key (GATEKEEPER.md §2). A sweep heals missed updates and
//! is otherwise a no-op: after a sweep and a cycle, every record of the source is in the
//! state with the source's content, and a sweep of unchanged data publishes nothing.
//!
//! With `prune`, the sweep also sends a tombstone for every record of a dataset's last
//! published state whose key is not in the source file, so that the state then *equals* the
//! source. It compares with the published state only: a record sent to the topic but not
//! yet folded into a published state is not pruned.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hollow::dataset::DatasetSchema;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::kafka::Sender;
use crate::state::load_published;

/// One valid line of a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    /// The record's key ([`hollow::key::of_record`]).
    pub key: String,
    /// The line as it is in the file (trimmed).
    pub json: String,
}

/// A source file read: its valid records in file order and its rejected lines.
#[derive(Debug, Clone, Default)]
pub struct SourceFile {
    /// Valid records, in file order (a key may repeat; the last one wins).
    pub records: Vec<SourceRecord>,
    /// `(line number, why)` of lines that are not valid records.
    pub invalid: Vec<(usize, String)>,
}

impl SourceFile {
    /// The distinct keys.
    pub fn keys(&self) -> BTreeSet<&str> {
        self.records.iter().map(|r| r.key.as_str()).collect()
    }
}

/// Reads a JSON Lines file of a dataset (blank lines are skipped).
pub fn read_source(path: &Path, schema: &DatasetSchema) -> Result<SourceFile> {
    let text = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut out = SourceFile::default();
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        match schema.parse_json(line) {
            Ok(rec) => match std::str::from_utf8(line) {
                Ok(json) => out.records.push(SourceRecord {
                    key: hollow::key::of_record(schema, &rec),
                    json: json.to_owned(),
                }),
                Err(e) => out.invalid.push((i + 1, format!("not UTF-8: {e}"))),
            },
            Err(e) => out.invalid.push((i + 1, e.to_string())),
        }
    }
    Ok(out)
}

/// What a sweep sent for one dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepCounts {
    /// Records sent.
    pub sent: u64,
    /// Tombstones sent (with `prune`).
    pub tombstones: u64,
    /// Invalid lines skipped.
    pub invalid: u64,
}

/// What a sweep did, per dataset (datasets without a source file are absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Counts per dataset.
    pub datasets: BTreeMap<String, SweepCounts>,
}

impl SweepReport {
    /// Records sent over all datasets.
    pub fn sent(&self) -> u64 {
        self.datasets.values().map(|c| c.sent).sum()
    }
    /// Tombstones sent over all datasets.
    pub fn tombstones(&self) -> u64 {
        self.datasets.values().map(|c| c.tombstones).sum()
    }
}

/// The source file of a dataset in `dir`.
pub fn source_path(dir: &Path, dataset: &str) -> PathBuf {
    dir.join(format!("{dataset}.jsonl"))
}

/// Sends every record of `<source>/<dataset>.jsonl` of each configured dataset to its topic
/// (and, with `prune`, tombstones for published records missing from the file), then waits
/// until all are delivered.
pub fn sweep(config: &Config, source: &Path, prune: bool) -> Result<SweepReport> {
    let bootstrap = config.bootstrap.as_deref().ok_or_else(|| {
        Error::Config("a sweep needs --bootstrap (the broker of the producer service)".into())
    })?;
    let mut sender = Sender::new(bootstrap, &config.kafka)?;
    sweep_with(&mut sender, config, &config.load_schemas()?, source, prune)
}

/// [`sweep`] with a given sender and schemas.
pub fn sweep_with(
    sender: &mut Sender,
    config: &Config,
    schemas: &[DatasetSchema],
    source: &Path,
    prune: bool,
) -> Result<SweepReport> {
    if !source.is_dir() {
        return Err(Error::Config(format!(
            "sweep source {} is not a folder",
            source.display()
        )));
    }
    let mut report = SweepReport::default();
    for schema in schemas {
        let path = source_path(source, &schema.dataset);
        if !path.exists() {
            log::info!(
                "sweep: no {} — skipping dataset {}",
                path.display(),
                schema.dataset
            );
            continue;
        }
        let file = read_source(&path, schema)?;
        let topic = config.topic(&schema.dataset);
        let mut counts = SweepCounts {
            invalid: file.invalid.len() as u64,
            ..SweepCounts::default()
        };
        for (line, why) in file.invalid.iter().take(10) {
            log::warn!("sweep: {}:{line}: skipped: {why}", path.display());
        }
        for r in &file.records {
            sender.send(&topic, Some(r.key.as_bytes()), Some(r.json.as_bytes()), &[])?;
            counts.sent += 1;
        }
        if prune {
            let url = config.store_url(&schema.dataset);
            let store = hollow::store::open_store(&url).map_err(|source| Error::Store {
                url: url.clone(),
                source,
            })?;
            if let Some(published) =
                load_published(store, schema).map_err(|e| Error::hollow(&schema.dataset, e))?
            {
                let keep = file.keys();
                for key in published
                    .records
                    .keys()
                    .filter(|k| !keep.contains(k.as_str()))
                {
                    sender.send(&topic, Some(key.as_bytes()), None, &[])?;
                    counts.tombstones += 1;
                }
            }
        }
        log::info!(
            "sweep: {}: sent {} record(s), {} tombstone(s), skipped {} invalid line(s)",
            schema.dataset,
            counts.sent,
            counts.tombstones,
            counts.invalid
        );
        report.datasets.insert(schema.dataset.clone(), counts);
    }
    let d = sender.flush(Duration::from_secs(120))?;
    if d.failed > 0 {
        return Err(Error::Delivery {
            what: "sweep".into(),
            failed: d.failed,
        });
    }
    Ok(report)
}
