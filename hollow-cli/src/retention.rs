//! `hollow retention`: deletes old versions with hollow's own retention
//! ([`Timeline::retain`], which never deletes what the pinned, announced or protected
//! versions need), or with `--dry-run` shows what it would delete: the same function runs
//! over a store that records deletes instead of doing them.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use hollow::lifecycle::Timeline;
use hollow::store::{BlobStore, StoreError};
use serde_json::json;

use crate::cli::Cli;
use crate::dataset::timeline;
use crate::fail::{fail, io_fail, lib, Failure};

/// A store that reads through to another and only pretends to delete.
#[derive(Debug)]
struct DryRun {
    inner: Arc<dyn BlobStore>,
    deleted: Mutex<BTreeSet<String>>,
}

impl DryRun {
    fn gone(&self, key: &str) -> bool {
        self.deleted.lock().is_ok_and(|d| d.contains(key))
    }
}

impl BlobStore for DryRun {
    fn put(&self, key: &str, _data: &[u8]) -> Result<(), StoreError> {
        Err(StoreError::Config {
            detail: format!("a dry run writes nothing (asked to write {key:?})"),
        })
    }
    fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        if self.gone(key) {
            return Err(StoreError::NotFound { key: key.into() });
        }
        self.inner.get(key)
    }
    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        Ok(!self.gone(key) && self.inner.exists(key)?)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = self.inner.list(prefix)?;
        keys.retain(|k| !self.gone(k));
        Ok(keys)
    }
    fn delete(&self, key: &str) -> Result<(), StoreError> {
        if let Ok(mut d) = self.deleted.lock() {
            d.insert(key.to_owned());
        }
        Ok(())
    }
    fn local_path(&self, _key: &str) -> Option<PathBuf> {
        None
    }
    fn describe(&self) -> String {
        format!("dry run over {}", self.inner.describe())
    }
}

pub fn retention(
    cli: &Cli,
    dataset: &str,
    keep: Option<usize>,
    keep_days: Option<f64>,
    dry_run: bool,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    if keep == Some(0) {
        return fail(2, "--keep must be at least 1");
    }
    if keep_days.is_some_and(|d| !d.is_finite() || d < 0.0) {
        return fail(2, "--keep-days must be a number of days, 0 or more");
    }
    let real = timeline(cli, dataset)?;
    let before = real.index().map_err(lib("listing versions"))?.versions();
    let t = if dry_run {
        Timeline::new(Arc::new(DryRun {
            inner: real.store().clone(),
            deleted: Mutex::new(BTreeSet::new()),
        }))
    } else {
        real
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let deleted = t
        .retain(keep.unwrap_or(1), keep_days, now_ms)
        .map_err(lib("applying retention"))?;
    let after = t.index().map_err(lib("listing versions"))?.versions();
    let removed: Vec<u64> = before.difference(&after).copied().collect();
    let announced = t.announced().map_err(lib("reading the announcement"))?;
    let pinned = t.pinned().map_err(lib("reading the pin"))?;
    if cli.json {
        let j = json!({
            "dataset": dataset, "dry_run": dry_run, "deleted": deleted,
            "removed_versions": removed, "kept_versions": after,
            "announced": announced, "pinned": pinned,
        });
        writeln!(out, "{j}").map_err(io_fail)?;
        return Ok(0);
    }
    let verb = if dry_run { "would delete" } else { "deleted" };
    let list = |vs: &[u64]| {
        if vs.is_empty() {
            "none".to_owned()
        } else {
            vs.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
        }
    };
    let kept: Vec<u64> = after.iter().copied().collect();
    writeln!(
        out,
        "{dataset}: {verb} {} blob(s); versions removed: {}; kept: {} (announced {}, pinned {})",
        deleted.len(),
        list(&removed),
        list(&kept),
        announced.map_or_else(|| "-".to_owned(), |v| v.to_string()),
        pinned.map_or_else(|| "-".to_owned(), |v| v.to_string()),
    )
    .map_err(io_fail)?;
    for k in &deleted {
        writeln!(out, "  {k}").map_err(io_fail)?;
    }
    Ok(0)
}
