//! The consumer: loads a version of a dataset from a blob store (nearest snapshot plus
//! deltas), follows new versions by delta, travels back by reverse deltas, and swaps the new
//! state in atomically while readers keep the state they hold.
//!
//! A missing or corrupt blob is a typed error; the consumer then plans another path (for
//! example through a snapshot) and, when nothing works, keeps serving its last good state.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::timeline::{store_err, Step, Timeline, TimelineIndex};
use crate::error::{BlobFailure, DataError, Error, Result};
use crate::store::BlobStore;
use hollow_format::blob::SnapshotOptions;
use hollow_format::bytes::Bytes;
use hollow_state::delta::apply_delta;
use hollow_state::read::{MemoryMode, ReadState};
use hollow_state::write::StateChanges;

/// How a consumer holds its states.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Heap or memory-mapped.
    pub mode: MemoryMode,
    /// Where mapped consumers keep snapshot files (downloaded, or materialized after
    /// deltas). Default: a folder under the system temp dir.
    pub cache_dir: Option<PathBuf>,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            mode: MemoryMode::Heap,
            cache_dir: None,
        }
    }
}

/// A loaded version.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The version.
    pub version: u64,
    /// Its state.
    pub state: Arc<ReadState>,
}

/// One applied step of an update, with the ordinals it changed (for index maintenance).
#[derive(Debug, Clone)]
pub struct Transition {
    /// The version before (None when the step loaded a snapshot).
    pub from: Option<u64>,
    /// The version after.
    pub to: u64,
    /// Ordinals removed and added per type (empty when a snapshot was loaded).
    pub changes: StateChanges,
    /// Whether the step loaded a snapshot (indexes must rebuild).
    pub snapshot: bool,
}

/// What an update did.
#[derive(Debug, Clone, Default)]
pub struct UpdateReport {
    /// Steps applied, in order.
    pub transitions: Vec<Transition>,
    /// Errors met on the way (blobs skipped) even if the update then succeeded.
    pub recovered_errors: Vec<BlobFailure>,
    /// Time spent.
    pub elapsed: Duration,
}

/// What a consumer tells about its updates, for services that log, count, warm caches or
/// rebuild their own indexes. Every method has an empty default; listeners are called on
/// the thread that updates (the [follower](super::follow::Follower)'s, for background
/// refreshes), after the state is swapped in, so a slow listener delays the next update but
/// never a reader.
pub trait RefreshListener: Send + Sync {
    /// An update from `current` (None: nothing loaded yet) to `target` begins.
    fn on_refresh_started(&self, current: Option<u64>, target: u64) {
        let _ = (current, target);
    }
    /// The update succeeded: `loaded` is the new current state, swapped in.
    fn on_refresh_updated(&self, loaded: &Loaded, report: &UpdateReport) {
        let _ = (loaded, report);
    }
    /// The update failed; the current state (if any) is kept and keeps serving. `target` is
    /// None when the failure came before a target was known (reading the announcement).
    fn on_refresh_failed(&self, target: Option<u64>, error: &Error) {
        let _ = (target, error);
    }
}

/// A consumer of one dataset's timeline.
///
/// Share it as `Arc<Consumer>`: [`Consumer::current`] hands readers a cheap clone of the
/// current [`Loaded`] (an `Arc` of the state) that stays valid however far the consumer moves
/// on; an update builds the next state aside and swaps it in under a write lock held only
/// for the pointer swap. Updates are serialized: a background [follower](super::follow)
/// and a manual [`Consumer::update_to`] never interleave.
pub struct Consumer {
    timeline: Timeline,
    config: ConsumerConfig,
    current: RwLock<Option<Loaded>>,
    listeners: RwLock<Vec<Arc<dyn RefreshListener>>>,
    updating: Mutex<()>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("timeline", &self.timeline)
            .field("config", &self.config)
            .field("version", &self.version())
            .field("listeners", &self.listeners().len())
            .finish()
    }
}

impl Consumer {
    /// A consumer over a store (nothing is loaded until [`Consumer::refresh`] or
    /// [`Consumer::update_to`]).
    pub fn new(store: Arc<dyn BlobStore>, config: ConsumerConfig) -> Self {
        Consumer {
            timeline: Timeline::new(store),
            config,
            current: RwLock::new(None),
            listeners: RwLock::new(Vec::new()),
            updating: Mutex::new(()),
        }
    }

    /// Adds a listener, called on every later update (see [`RefreshListener`]).
    pub fn add_listener(&self, listener: Arc<dyn RefreshListener>) {
        match self.listeners.write() {
            Ok(mut g) => g.push(listener),
            Err(p) => p.into_inner().push(listener),
        }
    }

    fn listeners(&self) -> Vec<Arc<dyn RefreshListener>> {
        match self.listeners.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The timeline.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// The current version and state (readers keep this `Arc` as long as they like).
    pub fn current(&self) -> Option<Loaded> {
        self.current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The current version.
    pub fn version(&self) -> Option<u64> {
        self.current().map(|l| l.version)
    }

    /// Moves to the pinned version if any, else the announced one. Returns the report
    /// (empty when already there).
    ///
    /// An announcement older than the current version is refused with
    /// [`Error::AnnouncementBackwards`] and the current state is kept: producers only
    /// announce forward, so an older announcement is a write that landed late, a second
    /// producer or a hand edit. To send consumers back, [pin](Timeline::pin) the version.
    pub fn refresh(&self) -> Result<UpdateReport> {
        let target = self.refresh_target().inspect_err(|e| {
            for l in self.listeners() {
                l.on_refresh_failed(None, e);
            }
        })?;
        match target {
            Some(t) => self.update_to(t),
            None => Ok(UpdateReport::default()),
        }
    }

    /// Where [`Consumer::refresh`] goes: the pinned version, else the announced one (None:
    /// nothing announced).
    fn refresh_target(&self) -> Result<Option<u64>> {
        if let Some(p) = self.timeline.pinned()? {
            return Ok(Some(p));
        }
        match (self.timeline.announced()?, self.version()) {
            (Some(a), Some(c)) if a < c => Err(Error::AnnouncementBackwards { from: c, to: a }),
            (a, _) => Ok(a),
        }
    }

    /// Moves to any stored version, forward or back. On failure the current state is kept.
    /// Listeners hear of it unless the consumer is already there.
    pub fn update_to(&self, target: u64) -> Result<UpdateReport> {
        let _one_at_a_time = self.updating.lock().unwrap_or_else(|p| p.into_inner());
        let started = Instant::now();
        let current = self.current();
        if current.as_ref().is_some_and(|c| c.version == target) {
            return Ok(UpdateReport::default());
        }
        let listeners = self.listeners();
        for l in &listeners {
            l.on_refresh_started(current.as_ref().map(|c| c.version), target);
        }
        let (loaded, mut report) = match self.reach(current, target) {
            Ok(r) => r,
            Err(e) => {
                for l in &listeners {
                    l.on_refresh_failed(Some(target), &e);
                }
                return Err(e);
            }
        };
        match self.current.write() {
            Ok(mut g) => *g = Some(loaded.clone()),
            Err(p) => *p.into_inner() = Some(loaded.clone()),
        }
        report.elapsed = started.elapsed();
        for l in &listeners {
            l.on_refresh_updated(&loaded, &report);
        }
        Ok(report)
    }

    /// Computes the state of `target` starting from `from` (nothing is swapped in).
    pub fn reach(&self, from: Option<Loaded>, target: u64) -> Result<(Loaded, UpdateReport)> {
        let mut report = UpdateReport::default();
        if let Some(c) = &from {
            if c.version == target {
                return Ok((c.clone(), report));
            }
        }
        let idx = self.timeline.index()?;
        let mut avoid: HashSet<Step> = HashSet::new();
        for _attempt in 0..8 {
            let Some(path) = idx.plan(from.as_ref().map(|l| l.version), target, &avoid) else {
                return Err(Error::Unreachable {
                    version: target,
                    failures: report.recovered_errors,
                });
            };
            match self.follow(from.clone(), &path, &mut report) {
                Ok(Some(l)) => return Ok((self.finish(l)?, report)),
                Ok(None) => break,
                Err((step, e)) => {
                    report.recovered_errors.push(BlobFailure {
                        key: step.key(),
                        error: Arc::new(e),
                    });
                    report.transitions.clear();
                    avoid.insert(step);
                }
            }
        }
        Err(Error::Unreachable {
            version: target,
            failures: report.recovered_errors,
        })
    }

    /// Follows a planned path from `from`: the state reached (`None`: an empty path from no
    /// state), or the step that failed and why.
    fn follow(
        &self,
        from: Option<Loaded>,
        path: &[Step],
        report: &mut UpdateReport,
    ) -> std::result::Result<Option<Loaded>, (Step, Error)> {
        let mut cur = from;
        for step in path {
            let next = match *step {
                Step::Snapshot(v) => {
                    let state = self
                        .load_snapshot(v)
                        .and_then(|s| check_version(s, &step.key(), v))
                        .map_err(|e| (*step, e))?;
                    report.transitions.push(Transition {
                        from: None,
                        to: v,
                        changes: StateChanges::default(),
                        snapshot: true,
                    });
                    Loaded {
                        version: v,
                        state: Arc::new(state),
                    }
                }
                Step::Delta(a, b) | Step::Reverse(a, b) => {
                    let Some(c) = cur.as_ref().filter(|c| c.version == a) else {
                        return Err((
                            *step,
                            Error::BrokenPath {
                                key: step.key(),
                                from: a,
                                at: cur.as_ref().map(|c| c.version),
                            },
                        ));
                    };
                    let bytes = self
                        .timeline
                        .store()
                        .get(&step.key())
                        .map_err(|e| (*step, store_err(e)))?;
                    let applied = apply_delta(&c.state, &Bytes::from_vec(bytes))
                        .map_err(|e| (*step, e.into()))?;
                    if applied.from != a || applied.to != b {
                        return Err((
                            *step,
                            Error::DeltaVersions {
                                key: step.key(),
                                expected: (a, b),
                                found: (applied.from, applied.to),
                            },
                        ));
                    }
                    report.transitions.push(Transition {
                        from: Some(a),
                        to: b,
                        changes: applied.changes,
                        snapshot: false,
                    });
                    Loaded {
                        version: b,
                        state: Arc::new(applied.state),
                    }
                }
            };
            cur = Some(next);
        }
        Ok(cur)
    }

    fn cache_dir(&self) -> Result<PathBuf> {
        let dir = self.config.cache_dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("hollow-cache-{}", std::process::id()))
        });
        std::fs::create_dir_all(&dir).map_err(|source| DataError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(dir)
    }

    fn load_snapshot(&self, v: u64) -> Result<ReadState> {
        let key = super::timeline::snapshot_key(v);
        let store = self.timeline.store();
        match self.config.mode {
            MemoryMode::Heap => Ok(ReadState::from_vec(store.get(&key).map_err(store_err)?)?),
            MemoryMode::Mapped => {
                let path = match store.local_path(&key) {
                    Some(p) if p.exists() => p,
                    _ => {
                        let p = self.cache_dir()?.join(format!("snapshot-{v:020}"));
                        let bytes = store.get(&key).map_err(store_err)?;
                        write_atomically(&p, &bytes)?;
                        p
                    }
                };
                // a blob from the store is checked like a heap load: a corrupt snapshot must
                // be an error the consumer can plan around, not data served
                let st = ReadState::open(
                    &path,
                    hollow_state::read::OpenOptions {
                        mode: MemoryMode::Mapped,
                        verify_checksum: true,
                    },
                )?;
                Ok(st)
            }
        }
    }

    /// Mapped consumers that reached a state by deltas materialize it into a snapshot file
    /// in the cache and map that, so they are never frozen on one snapshot.
    fn finish(&self, l: Loaded) -> Result<Loaded> {
        if self.config.mode != MemoryMode::Mapped || l.state.source.is_some() {
            return Ok(l);
        }
        let p = self
            .cache_dir()?
            .join(format!("materialized-{:020}", l.version));
        let blob = l.state.write_snapshot(&SnapshotOptions::default())?;
        write_atomically(&p, &blob)?;
        let st = ReadState::open(&p, hollow_state::read::OpenOptions::mapped())?;
        Ok(Loaded {
            version: l.version,
            state: Arc::new(st),
        })
    }

    /// The blobs index of the store (for tools).
    pub fn index(&self) -> Result<TimelineIndex> {
        self.timeline.index()
    }
}

/// A snapshot stored under another version's key (a blob swapped for another version's) has
/// a valid checksum: the version the producer wrote into its header gives it away.
fn check_version(state: ReadState, key: &str, v: u64) -> Result<ReadState> {
    match state.header().get("hollow.version") {
        Some(h) if *h != v.to_string() => Err(Error::SnapshotVersion {
            key: key.into(),
            expected: v,
            found: h.clone(),
        }),
        _ => Ok(state),
    }
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let io = |source| DataError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::write(&tmp, bytes).map_err(io)?;
    Ok(std::fs::rename(&tmp, path).map_err(io)?)
}

/// Loads a version once (no consumer kept): the state of `version` in `store`.
pub fn load_version(
    store: Arc<dyn BlobStore>,
    version: u64,
    mode: MemoryMode,
) -> Result<ReadState> {
    let c = Consumer::new(
        store,
        ConsumerConfig {
            mode,
            cache_dir: None,
        },
    );
    let (l, _) = c.reach(None, version)?;
    Ok(Arc::try_unwrap(l.state).unwrap_or_else(|a| (*a).clone()))
}
