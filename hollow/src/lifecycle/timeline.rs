//! The timeline of a dataset in a blob store: blob naming, announcement, pinning, the index
//! of available blobs, path planning between versions, and retention.
//!
//! Keys (versions are zero-padded to 20 digits so that listings sort by version):
//!
//! | key | content |
//! |---|---|
//! | `snapshot/<v>` | snapshot blob of version v |
//! | `delta/<a>-<b>` | delta blob a → b |
//! | `reverse/<b>-<a>` | reverse delta blob b → a |
//! | `meta/<v>` | `<v> <unix ms> <previous version or ->` (one line) |
//! | `announced` | the latest announced version (decimal) |
//! | `pinned` | a version consumers use instead of `announced` (absent: none) |
//! | `protect/<v>/<holder>` | empty: `holder` still needs version v (retention keeps it) |
//!
//! Blobs are written before the announcement that names them, and every store write is
//! atomic, so a consumer never sees a version whose blobs are not all stored.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, ProtocolRule, Result};
use crate::store::{BlobStore, StoreError};

/// Key of the snapshot of version `v`.
pub(crate) fn snapshot_key(v: u64) -> String {
    format!("snapshot/{v:020}")
}
/// Key of the delta `from → to`.
pub(crate) fn delta_key(from: u64, to: u64) -> String {
    format!("delta/{from:020}-{to:020}")
}
/// Key of the reverse delta `from → to` (from is the newer version).
pub(crate) fn reverse_key(from: u64, to: u64) -> String {
    format!("reverse/{from:020}-{to:020}")
}
/// Key of the metadata line of version `v`.
pub(crate) fn meta_key(v: u64) -> String {
    format!("meta/{v:020}")
}
/// Key of the announcement.
pub const ANNOUNCED: &str = "announced";
/// Key of the pin.
pub const PINNED: &str = "pinned";
/// Prefix of the protection markers.
pub const PROTECT_PREFIX: &str = "protect/";

/// Key of the marker by which `holder` protects version `v`.
pub(crate) fn protect_key(v: u64, holder: &str) -> String {
    format!("{PROTECT_PREFIX}{v:020}/{holder}")
}

/// Whether `holder` is a valid holder name: 1 to 200 of `[A-Za-z0-9._-]`, starting with a
/// letter or digit.
fn check_holder(holder: &str) -> Result<()> {
    let ok = holder.len() <= 200
        && holder.starts_with(|c: char| c.is_ascii_alphanumeric())
        && holder
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(Error::InvalidHolder {
            holder: holder.into(),
        });
    }
    Ok(())
}

/// One step of a path between versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// Load the snapshot of a version.
    Snapshot(u64),
    /// Apply the delta `from → to`.
    Delta(u64, u64),
    /// Apply the reverse delta `from → to`.
    Reverse(u64, u64),
}

impl Step {
    /// The blob key of the step.
    pub fn key(&self) -> String {
        match *self {
            Step::Snapshot(v) => snapshot_key(v),
            Step::Delta(a, b) => delta_key(a, b),
            Step::Reverse(a, b) => reverse_key(a, b),
        }
    }
    /// The version the step arrives at.
    pub fn target(&self) -> u64 {
        match *self {
            Step::Snapshot(v) | Step::Delta(_, v) | Step::Reverse(_, v) => v,
        }
    }
}

/// What blobs a store holds.
#[derive(Debug, Clone, Default)]
pub struct TimelineIndex {
    /// Versions with a snapshot.
    pub snapshots: BTreeSet<u64>,
    /// Forward deltas, from → to.
    pub deltas: BTreeMap<u64, BTreeSet<u64>>,
    /// Reverse deltas, from → to.
    pub reverses: BTreeMap<u64, BTreeSet<u64>>,
}

/// Cost of loading a snapshot, in delta applications.
const SNAPSHOT_COST: u64 = 12;

impl TimelineIndex {
    /// Every version the index knows of.
    pub fn versions(&self) -> BTreeSet<u64> {
        let mut v: BTreeSet<u64> = self.snapshots.clone();
        for (a, bs) in self.deltas.iter().chain(self.reverses.iter()) {
            v.insert(*a);
            v.extend(bs.iter().copied());
        }
        v
    }

    /// The cheapest path to `target` from `current` (if any) or from a snapshot, avoiding
    /// `avoid`. `None` when `target` cannot be reached.
    pub fn plan(
        &self,
        current: Option<u64>,
        target: u64,
        avoid: &HashSet<Step>,
    ) -> Option<Vec<Step>> {
        if current == Some(target) {
            return Some(Vec::new());
        }
        // Dijkstra over versions from a virtual start that reaches `current` at cost 0 and
        // every snapshot at SNAPSHOT_COST.
        let mut done: HashMap<u64, Option<Step>> = HashMap::new();
        let mut heap = BinaryHeap::new();
        if let Some(c) = current {
            heap.push(Reverse((0u64, c, None::<Step>)));
        }
        for s in &self.snapshots {
            let step = Step::Snapshot(*s);
            if !avoid.contains(&step) {
                heap.push(Reverse((SNAPSHOT_COST, *s, Some(step))));
            }
        }
        while let Some(Reverse((d, v, via))) = heap.pop() {
            if done.contains_key(&v) {
                continue;
            }
            done.insert(v, via);
            if v == target {
                break;
            }
            let fwd = self
                .deltas
                .get(&v)
                .into_iter()
                .flatten()
                .map(|b| Step::Delta(v, *b));
            let rev = self
                .reverses
                .get(&v)
                .into_iter()
                .flatten()
                .map(|b| Step::Reverse(v, *b));
            for step in fwd.chain(rev) {
                if !avoid.contains(&step) && !done.contains_key(&step.target()) {
                    heap.push(Reverse((d + 1, step.target(), Some(step))));
                }
            }
        }
        let mut via = *done.get(&target)?;
        let mut path = Vec::new();
        while let Some(step) = via {
            path.push(step);
            match step {
                Step::Snapshot(_) => break,
                Step::Delta(a, _) | Step::Reverse(a, _) => via = *done.get(&a)?,
            }
        }
        path.reverse();
        Some(path)
    }
}

/// The blobs of one new version, as [`Timeline::publish`] stores them.
#[derive(Debug, Clone, Default)]
pub struct VersionBlobs {
    /// The snapshot of the version (required for a first version; optional after).
    pub snapshot: Option<Vec<u8>>,
    /// The delta from the previous version and the reverse delta back to it (required
    /// after a previous version).
    pub deltas: Option<(Vec<u8>, Vec<u8>)>,
}

/// Access to a dataset's timeline in a blob store.
#[derive(Clone, Debug)]
pub struct Timeline {
    store: Arc<dyn BlobStore>,
}

fn parse_version(text: &[u8], key: &str) -> Result<u64> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .ok_or_else(|| Error::NotAVersion {
            key: key.into(),
            text: String::from_utf8_lossy(&text[..text.len().min(40)]).into_owned(),
        })
}

impl Timeline {
    /// A timeline over a store.
    pub fn new(store: Arc<dyn BlobStore>) -> Self {
        Timeline { store }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn BlobStore> {
        &self.store
    }

    /// The announced version, if any.
    pub fn announced(&self) -> Result<Option<u64>> {
        match self.store.get_opt(ANNOUNCED).map_err(store_err)? {
            None => Ok(None),
            Some(b) => parse_version(&b, ANNOUNCED).map(Some),
        }
    }

    /// The pinned version, if any.
    pub fn pinned(&self) -> Result<Option<u64>> {
        match self.store.get_opt(PINNED).map_err(store_err)? {
            None => Ok(None),
            Some(b) => parse_version(&b, PINNED).map(Some),
        }
    }

    /// The version consumers should be at: the pin, else the announcement.
    pub fn target(&self) -> Result<Option<u64>> {
        Ok(self.pinned()?.or(self.announced()?))
    }

    /// Announces a version (its blobs must already be stored), whatever is announced now:
    /// the operator's tool. Producers use [`Timeline::announce_forward`].
    pub fn announce(&self, v: u64) -> Result<()> {
        self.store
            .put(ANNOUNCED, v.to_string().as_bytes())
            .map_err(store_err)
    }

    /// Announces `v` unless a newer version is already announced
    /// ([`Error::AnnouncementBackwards`]): what a producer does, so that a stale producer
    /// (or a retry racing a late write) never moves consumers back. Announcing the
    /// announced version again is allowed.
    pub fn announce_forward(&self, v: u64) -> Result<()> {
        match self.announced() {
            Ok(Some(a)) if a > v => return Err(Error::AnnouncementBackwards { from: a, to: v }),
            // the store could not answer: nothing is known, nothing is written
            Err(e @ Error::Store(_)) => return Err(e),
            // none, older, the same, or garbled (which a new announcement repairs)
            _ => {}
        }
        self.announce(v)
    }

    /// The highest version number that any blob, metadata line or the announcement in the
    /// store uses (`None`: an empty timeline). A producer numbers its next version above
    /// it, so that a version number is never given to two different states: a publish
    /// attempt that failed may still have stored some of its blobs (or store them later,
    /// when a write that timed out lands), and they must not be mistaken for another
    /// state's.
    pub fn highest_used(&self) -> Result<Option<u64>> {
        let high = self.index()?.versions().last().copied();
        let meta = self.published()?.last().copied();
        Ok(high.max(meta).max(self.announced()?))
    }

    /// The versions whose publish got as far as its metadata line (written after every
    /// blob of the version, just before the announcement). Version numbers have gaps: a
    /// publish attempt that failed leaves its number unused, and blobs it stored are not
    /// versions of the timeline.
    pub fn published(&self) -> Result<BTreeSet<u64>> {
        Ok(self
            .store
            .list("meta/")
            .map_err(store_err)?
            .iter()
            .filter_map(|k| k.strip_prefix("meta/").and_then(|s| s.parse::<u64>().ok()))
            .collect())
    }

    /// The number the next version gets after `current` (the version the writer is at, if
    /// any): above every number the store uses ([`Timeline::highest_used`]) and above
    /// `current`.
    pub fn next_version(&self, current: Option<u64>) -> Result<u64> {
        let used = self.highest_used()?.max(current);
        Ok(used.map_or(1, |u| u + 1))
    }

    /// Publishes version `v` (reached from `previous`, `None` for a first version): the
    /// publish protocol every writer of a timeline follows.
    ///
    /// 1. The blobs are stored, concurrently: the snapshot of `v` (required for a first
    ///    version) and, after a previous version, the delta `previous → v` and the reverse
    ///    delta `v → previous` (both required then).
    /// 2. Once every blob is stored, the metadata line `meta/<v>` (`<v> <unix ms>
    ///    <previous or ->`): from then on `v` is a published version ([`Timeline::published`]).
    /// 3. The announcement moves forward to `v` ([`Timeline::announce_forward`]).
    ///
    /// A failure at any step leaves the previous announcement in place; blobs already stored
    /// under `v` are not a version (no metadata line), and the next attempt must take a new
    /// number ([`Timeline::next_version`]) so that they are never mistaken for its blobs.
    pub fn publish(&self, v: u64, previous: Option<u64>, blobs: &VersionBlobs) -> Result<()> {
        let mut puts: Vec<(String, &[u8])> = Vec::with_capacity(3);
        match (previous, blobs) {
            (Some(p), _) if p >= v => {
                return Err(Error::Protocol {
                    version: v,
                    rule: ProtocolRule::NotNewer { previous: p },
                })
            }
            (None, VersionBlobs { snapshot: None, .. }) => {
                return Err(Error::Protocol {
                    version: v,
                    rule: ProtocolRule::FirstWithoutSnapshot,
                })
            }
            (Some(_), VersionBlobs { deltas: None, .. }) => {
                return Err(Error::Protocol {
                    version: v,
                    rule: ProtocolRule::MissingDeltas,
                })
            }
            (
                None,
                VersionBlobs {
                    deltas: Some(_), ..
                },
            ) => {
                return Err(Error::Protocol {
                    version: v,
                    rule: ProtocolRule::FirstWithDeltas,
                })
            }
            _ => {}
        }
        if let (Some(p), Some((delta, reverse))) = (previous, &blobs.deltas) {
            puts.push((delta_key(p, v), delta));
            puts.push((reverse_key(v, p), reverse));
        }
        if let Some(snapshot) = &blobs.snapshot {
            puts.push((snapshot_key(v), snapshot));
        }
        self.put_all(&puts)?;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let prev = previous.map_or_else(|| "-".to_string(), |p| p.to_string());
        self.store
            .put(&meta_key(v), format!("{v} {now_ms} {prev}\n").as_bytes())
            .map_err(store_err)?;
        self.announce_forward(v)
    }

    /// Adds a snapshot of the published version `v` (written later, in the background: it
    /// only gives consumers a shorter path; a published version's content never changes).
    /// Refused for a version that is not published.
    pub fn add_snapshot(&self, v: u64, snapshot: &[u8]) -> Result<()> {
        if self.meta(v)?.is_none() {
            return Err(Error::Protocol {
                version: v,
                rule: ProtocolRule::NotPublished,
            });
        }
        self.store
            .put(&snapshot_key(v), snapshot)
            .map_err(store_err)
    }

    /// Stores blobs concurrently (they are independent); the first failure is returned
    /// after every write has ended.
    fn put_all(&self, puts: &[(String, &[u8])]) -> Result<()> {
        let results: Vec<std::result::Result<(), StoreError>> = std::thread::scope(|s| {
            let handles: Vec<_> = puts
                .iter()
                .map(|(k, b)| s.spawn(|| self.store.put(k, b)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(StoreError::Config {
                            detail: "blob writer thread panicked".into(),
                        })
                    })
                })
                .collect()
        });
        results.into_iter().try_for_each(|r| r.map_err(store_err))
    }

    /// Pins consumers to a version until [`Timeline::unpin`].
    pub fn pin(&self, v: u64) -> Result<()> {
        let idx = self.index()?;
        if idx.plan(None, v, &HashSet::new()).is_none() {
            return Err(Error::Unreachable {
                version: v,
                failures: Vec::new(),
            });
        }
        self.store
            .put(PINNED, v.to_string().as_bytes())
            .map_err(store_err)
    }

    /// Removes the pin: consumers move to the announced version.
    pub fn unpin(&self) -> Result<()> {
        self.store.delete(PINNED).map_err(store_err)
    }

    /// Marks version `v` as needed by `holder` (e.g. a service whose retained outputs were
    /// computed from it): [`Timeline::retain`] keeps it reachable until every holder has
    /// [released](Timeline::release) it. Idempotent.
    pub fn protect(&self, v: u64, holder: &str) -> Result<()> {
        check_holder(holder)?;
        self.store
            .put(&protect_key(v, holder), b"")
            .map_err(store_err)
    }

    /// Removes `holder`'s protection of version `v` (nothing if there is none).
    pub fn release(&self, v: u64, holder: &str) -> Result<()> {
        check_holder(holder)?;
        self.store
            .delete(&protect_key(v, holder))
            .map_err(store_err)
    }

    /// The protected versions and who protects each.
    pub fn protected(&self) -> Result<BTreeMap<u64, BTreeSet<String>>> {
        let mut out: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
        for k in self.store.list(PROTECT_PREFIX).map_err(store_err)? {
            let Some((v, holder)) = k
                .strip_prefix(PROTECT_PREFIX)
                .and_then(|s| s.split_once('/'))
            else {
                continue;
            };
            if let Ok(v) = v.parse::<u64>() {
                out.entry(v).or_default().insert(holder.to_string());
            }
        }
        Ok(out)
    }

    /// Lists the stored blobs.
    pub fn index(&self) -> Result<TimelineIndex> {
        let mut idx = TimelineIndex::default();
        for k in self.store.list("snapshot/").map_err(store_err)? {
            if let Some(v) = k.strip_prefix("snapshot/").and_then(|s| s.parse().ok()) {
                idx.snapshots.insert(v);
            }
        }
        for (prefix, map) in [("delta/", &mut idx.deltas), ("reverse/", &mut idx.reverses)] {
            for k in self.store.list(prefix).map_err(store_err)? {
                if let Some((a, b)) = k.strip_prefix(prefix).and_then(|s| s.split_once('-')) {
                    if let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) {
                        map.entry(a).or_default().insert(b);
                    }
                }
            }
        }
        Ok(idx)
    }

    /// Metadata of a version: (unix ms when published, previous version).
    pub fn meta(&self, v: u64) -> Result<Option<(u64, Option<u64>)>> {
        let Some(b) = self.store.get_opt(&meta_key(v)).map_err(store_err)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&b).to_string();
        let mut parts = text.split_whitespace();
        let _v = parts.next();
        let ms = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let prev = parts.next().and_then(|p| p.parse().ok());
        Ok(Some((ms, prev)))
    }

    /// Applies retention: keeps every version published within the last `keep_days` days
    /// (if given) or among the last `keep_versions`, whichever keeps more, plus whatever is
    /// needed to reach the announced and pinned versions and every kept version, plus every
    /// [protected](Timeline::protect) version and the blobs of one path that loads it (its
    /// snapshot, or a snapshot and the deltas from there). Returns the keys deleted.
    pub fn retain(
        &self,
        keep_versions: usize,
        keep_days: Option<f64>,
        now_ms: u64,
    ) -> Result<Vec<String>> {
        let idx = self.index()?;
        let versions: Vec<u64> = idx.versions().into_iter().collect();
        if versions.is_empty() {
            return Ok(Vec::new());
        }
        let mut keep_from = versions[versions.len().saturating_sub(keep_versions.max(1))];
        if let Some(days) = keep_days {
            let cutoff = now_ms.saturating_sub((days * 86_400_000.0) as u64);
            for v in &versions {
                if let Some((ms, _)) = self.meta(*v)? {
                    if ms >= cutoff {
                        keep_from = keep_from.min(*v);
                        break;
                    }
                }
            }
        }
        for protected in [self.announced()?, self.pinned()?].into_iter().flatten() {
            keep_from = keep_from.min(protected);
        }
        // Everything from the newest snapshot at or below keep_from stays reachable.
        let base = idx
            .snapshots
            .range(..=keep_from)
            .next_back()
            .copied()
            .unwrap_or(keep_from);
        // Older protected versions keep the blobs of their cheapest path from a snapshot.
        let mut needed: HashSet<String> = HashSet::new();
        for p in self.protected()?.into_keys().filter(|p| *p < base) {
            if let Some(path) = idx.plan(None, p, &HashSet::new()) {
                for step in path {
                    needed.insert(step.key());
                    needed.insert(meta_key(step.target()));
                }
                needed.insert(meta_key(p));
            }
        }
        let mut deleted = Vec::new();
        let mut del = |k: String| -> Result<()> {
            if needed.contains(&k) {
                return Ok(());
            }
            self.store.delete(&k).map_err(store_err)?;
            deleted.push(k);
            Ok(())
        };
        for s in idx.snapshots.iter().filter(|s| **s < base) {
            del(snapshot_key(*s))?;
        }
        for (a, bs) in &idx.deltas {
            for b in bs {
                if *a < base {
                    del(delta_key(*a, *b))?;
                }
            }
        }
        for (a, bs) in &idx.reverses {
            for b in bs {
                if *b < base {
                    del(reverse_key(*a, *b))?;
                }
            }
        }
        for v in versions.iter().filter(|v| **v < base) {
            if self.store.exists(&meta_key(*v)).map_err(store_err)? {
                del(meta_key(*v))?;
            }
        }
        Ok(deleted)
    }
}

/// Converts a store error into a library error.
pub(crate) fn store_err(e: StoreError) -> Error {
    Error::Store(e)
}
