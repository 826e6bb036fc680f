//! Fault injection: missing and corrupt blobs, bad announcements, pins, retention, and
//! stores that fail in the middle of a producer cycle — locally (a folder store wrapped in a
//! store that fails on demand) and against a real S3 server (moto behind a TCP proxy that
//! the test stops and restarts, so the server keeps its objects).
//!
//! In every case errors are typed, a consumer keeps serving its last good state, a producer
//! rolls back what it did not publish, and a version number is never given to two states
//! (a failed attempt's number is not reused, so its writes that land late harm nothing).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::dataset::{DatasetReader, DatasetSchema, FieldValue, Record};
use hollow::lifecycle::timeline::ANNOUNCED;
use hollow::lifecycle::Step;
use hollow::lifecycle::{
    Consumer, ConsumerConfig, CycleOutcome, Producer, ProducerConfig, Timeline,
};
use hollow::store::{BlobStore, FolderStore, StoreError};
use hollow::{DataError, Error, MemoryMode, ReadState, WriteState};

const SCHEMA: &str = r#"{"dataset": "items", "type": "Item", "primary_key": ["id"], "fields": [
  {"name": "id", "kind": "i64"},
  {"name": "name", "kind": "string"},
  {"name": "tags", "kind": "string", "list": true}
]}"#;

type Model = BTreeMap<i64, Record>;

fn ds() -> DatasetSchema {
    DatasetSchema::from_json(SCHEMA).unwrap()
}

fn rec(id: i64, name: &str) -> Record {
    vec![
        FieldValue::Int(id),
        FieldValue::Str(name.into()),
        FieldValue::List(vec![FieldValue::Str(format!("t{}", id % 3))]),
    ]
}

fn contents(state: &ReadState) -> Model {
    let ds = ds();
    let r = DatasetReader::new(&ds, state).unwrap();
    r.root()
        .ordinals()
        .map(|o| {
            let rec = r.record(o).unwrap();
            let FieldValue::Int(id) = rec[0] else {
                panic!("id")
            };
            (id, rec)
        })
        .collect()
}

fn write_state_contents(ws: &WriteState) -> Model {
    contents(
        &ReadState::from_vec(write_snapshot(ws, &SnapshotOptions::default()).unwrap().0).unwrap(),
    )
}

/// Runs one cycle upserting `ups` (id, name) and deleting `dels`, applying them to `model`.
fn cycle(
    p: &mut Producer,
    model: &mut Model,
    ups: &[(i64, &str)],
    dels: &[i64],
) -> hollow::Result<CycleOutcome> {
    let ds = ds();
    let mut next = model.clone();
    let out = p.cycle(|c| {
        for (id, name) in ups {
            c.upsert_record(&ds, &rec(*id, name))?;
            next.insert(*id, rec(*id, name));
        }
        for id in dels {
            c.delete_key(&ds, &id.to_string())?;
            next.remove(id);
        }
        Ok(())
    });
    if matches!(out, Ok(CycleOutcome::Published { .. })) {
        *model = next;
    }
    out
}

fn published(out: hollow::Result<CycleOutcome>) -> u64 {
    match out {
        Ok(CycleOutcome::Published { version, .. }) => version,
        other => panic!("expected a published version, got {other:?}"),
    }
}

/// A timeline of `n` versions (snapshots every 3: versions 1, 3, 6, ...): the store, the
/// producer, and the model of each version.
fn timeline(
    store: Arc<dyn BlobStore>,
    n: u64,
    config: ProducerConfig,
) -> (Producer, BTreeMap<u64, Model>) {
    let mut p = Producer::open(store, ds().schema_set().unwrap(), config).unwrap();
    let mut model = Model::new();
    let mut versions = BTreeMap::new();
    for i in 0..n as i64 {
        let v = published(cycle(
            &mut p,
            &mut model,
            &[
                (i, "a"),
                (i + 100, &format!("n{i}")),
                (0, &format!("zero{i}")),
            ],
            &[i - 2],
        ));
        versions.insert(v, model.clone());
    }
    (p, versions)
}

fn config() -> ProducerConfig {
    ProducerConfig {
        snapshot_every: 3,
        max_count_change_ratio: None,
        ..Default::default()
    }
}

/// A folder store that fails on demand.
#[derive(Debug)]
struct FaultyStore {
    inner: FolderStore,
    /// Puts left before one fails (negative: never).
    fail_put_in: AtomicI64,
    /// Keys whose put is written and then reported as failed (a timeout after the write).
    write_then_fail: Mutex<HashSet<String>>,
    /// Keys that `get` does not find although `list` shows them.
    hidden: Mutex<HashSet<String>>,
    /// Keys put successfully, in order.
    puts: Mutex<Vec<String>>,
    /// Keys whose puts are held back and reported as failed (a write that timed out but
    /// is still in flight); [`FaultyStore::land_held`] writes them later.
    hold: Mutex<HashSet<String>>,
    /// Held puts, in order.
    held: Mutex<Vec<(String, Vec<u8>)>>,
}

impl FaultyStore {
    fn new(dir: &std::path::Path) -> Arc<FaultyStore> {
        Arc::new(FaultyStore {
            inner: FolderStore::new(dir).unwrap(),
            fail_put_in: AtomicI64::new(-1),
            write_then_fail: Mutex::new(HashSet::new()),
            hidden: Mutex::new(HashSet::new()),
            puts: Mutex::new(Vec::new()),
            hold: Mutex::new(HashSet::new()),
            held: Mutex::new(Vec::new()),
        })
    }

    /// Writes the held puts now (the late landing of writes that timed out).
    fn land_held(&self) -> Vec<String> {
        let held = std::mem::take(&mut *self.held.lock().unwrap());
        let keys = held.iter().map(|(k, _)| k.clone()).collect();
        for (k, b) in held {
            self.inner.put(&k, &b).unwrap();
        }
        keys
    }

    fn injected(key: &str) -> StoreError {
        StoreError::Io {
            op: "put",
            key: key.into(),
            source: std::io::Error::other("injected failure"),
        }
    }
}

impl BlobStore for FaultyStore {
    fn put(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        if self.fail_put_in.fetch_sub(1, Ordering::SeqCst) == 0 {
            return Err(Self::injected(key));
        }
        let held = {
            let hold = self.hold.lock().unwrap();
            hold.contains(key) || hold.iter().any(|p| p.ends_with('/') && key.starts_with(p))
        };
        if held {
            self.held
                .lock()
                .unwrap()
                .push((key.to_string(), data.to_vec()));
            return Err(StoreError::Io {
                op: "put",
                key: key.into(),
                source: std::io::Error::new(std::io::ErrorKind::TimedOut, "injected time-out"),
            });
        }
        self.inner.put(key, data)?;
        if self.write_then_fail.lock().unwrap().remove(key) {
            return Err(Self::injected(key));
        }
        self.puts.lock().unwrap().push(key.to_string());
        Ok(())
    }
    fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        if self.hidden.lock().unwrap().contains(key) {
            return Err(StoreError::NotFound { key: key.into() });
        }
        self.inner.get(key)
    }
    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.inner.exists(key)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix)
    }
    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key)
    }
    fn local_path(&self, key: &str) -> Option<std::path::PathBuf> {
        self.inner.local_path(key)
    }
    fn describe(&self) -> String {
        format!("faulty {}", self.inner.describe())
    }
}

fn flip_byte(store: &dyn BlobStore, key: &str) {
    let mut b = store.get(key).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0x5a;
    store.put(key, &b).unwrap();
}

fn same_state(
    a: &Option<hollow::lifecycle::Loaded>,
    b: &Option<hollow::lifecycle::Loaded>,
) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.version == b.version && Arc::ptr_eq(&a.state, &b.state),
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn missing_deltas_fall_back_to_snapshots_or_are_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(dir.path());
    let (_p, versions) = timeline(store.clone(), 6, config());
    let c = Consumer::new(store.clone(), ConsumerConfig::default());
    c.update_to(1).unwrap();

    // listed but missing (an eventually consistent listing): the planned delta fails, the
    // consumer plans again through snapshot 3
    store.hidden.lock().unwrap().insert(Step::Delta(1, 2).key());
    let report = c.update_to(4).unwrap();
    assert_eq!(c.version(), Some(4));
    assert_eq!(contents(&c.current().unwrap().state), versions[&4]);
    assert!(
        report
            .recovered_errors
            .iter()
            .any(|e| e.key == Step::Delta(1, 2).key()
                && matches!(&*e.error, Error::Store(StoreError::NotFound { .. }))),
        "{:?}",
        report.recovered_errors
    );
    assert!(
        report
            .transitions
            .first()
            .is_some_and(|t| t.snapshot && t.to == 3),
        "{:?}",
        report.transitions
    );

    // deleted: planned around
    let c2 = Consumer::new(store.clone(), ConsumerConfig::default());
    c2.update_to(1).unwrap();
    store.delete(&Step::Delta(1, 2).key()).unwrap();
    c2.update_to(2).unwrap();
    assert_eq!(
        contents(&c2.current().unwrap().state),
        versions[&2],
        "snapshot 3 and the reverse delta 3 → 2"
    );

    // no path at all: a typed error, and the last good state is kept
    store.delete(&Step::Snapshot(3).key()).unwrap();
    store.delete(&Step::Snapshot(6).key()).unwrap();
    let c3 = Consumer::new(store.clone(), ConsumerConfig::default());
    c3.update_to(1).unwrap();
    let before = c3.current();
    match c3.update_to(2) {
        Err(e @ Error::Unreachable { version: 2, .. }) => {
            println!("unreachable as expected: {e}")
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(same_state(&before, &c3.current()));
    assert!(matches!(
        c3.update_to(6),
        Err(Error::Unreachable { version: 6, .. })
    ));
    assert!(same_state(&before, &c3.current()));
    // consumers that got there before keep following
    c.update_to(6).unwrap();
    assert_eq!(contents(&c.current().unwrap().state), versions[&6]);
}

/// Whether a blob failed its checksum.
fn is_checksum(e: &Error) -> bool {
    matches!(e, Error::Data(DataError::ChecksumMismatch { .. }))
}

#[test]
fn corrupt_blobs_are_typed_errors_and_the_last_good_state_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(dir.path());
    let (_p, versions) = timeline(store.clone(), 5, config());
    let heap = Consumer::new(store.clone(), ConsumerConfig::default());
    heap.update_to(1).unwrap();

    // a corrupt delta: the checksum catches it, and the consumer goes through snapshot 3
    flip_byte(store.as_ref(), &Step::Delta(1, 2).key());
    let report = heap.update_to(2).unwrap();
    assert_eq!(contents(&heap.current().unwrap().state), versions[&2]);
    assert!(
        report
            .recovered_errors
            .iter()
            .any(|e| e.key == Step::Delta(1, 2).key() && is_checksum(&e.error)),
        "{:?}",
        report.recovered_errors
    );

    // a corrupt reverse delta and snapshot as well: no path left
    flip_byte(store.as_ref(), &Step::Reverse(3, 2).key());
    let fresh = Consumer::new(store.clone(), ConsumerConfig::default());
    fresh.update_to(1).unwrap();
    let before = fresh.current();
    match fresh.update_to(2) {
        Err(Error::Unreachable {
            version: 2,
            failures,
        }) => {
            assert!(
                failures.iter().any(|f| is_checksum(&f.error)),
                "{failures:?}"
            )
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(same_state(&before, &fresh.current()));
    assert_eq!(contents(&fresh.current().unwrap().state), versions[&1]);

    // a corrupt snapshot, for heap and mapped consumers
    flip_byte(store.as_ref(), &Step::Snapshot(3).key());
    for mode in [MemoryMode::Heap, MemoryMode::Mapped] {
        let c = Consumer::new(
            store.clone(),
            ConsumerConfig {
                mode,
                cache_dir: Some(dir.path().join(format!("cache-{mode:?}"))),
            },
        );
        match c.update_to(3) {
            // snapshot 1 and the deltas 2 → 3 ... are fine, but 1 → 2 is corrupt: no path
            Err(Error::Unreachable {
                version: 3,
                failures,
            }) => {
                assert!(
                    failures.iter().any(|f| is_checksum(&f.error)),
                    "{mode:?}: {failures:?}"
                )
            }
            Ok(_) => panic!(
                "{mode:?}: reached version 3 through a corrupt blob: {:?}",
                contents(&c.current().unwrap().state)
            ),
            Err(e) => panic!("{mode:?}: expected Unreachable, got {e}"),
        }
        assert!(c.current().is_none());
        c.update_to(1).unwrap();
        assert_eq!(
            contents(&c.current().unwrap().state),
            versions[&1],
            "{mode:?}"
        );
        // nor to reach 5
        assert!(
            matches!(c.update_to(5), Err(Error::Unreachable { version: 5, .. })),
            "{mode:?}"
        );
        assert_eq!(c.version(), Some(1), "{mode:?}");
    }
}

#[test]
fn an_announcement_of_a_missing_version_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(dir.path());
    let (p, versions) = timeline(store.clone(), 4, config());
    let c = Consumer::new(store.clone(), ConsumerConfig::default());
    c.refresh().unwrap();
    let before = c.current();
    p.timeline().announce(99).unwrap();
    assert!(matches!(
        c.refresh(),
        Err(Error::Unreachable { version: 99, .. })
    ));
    assert!(same_state(&before, &c.current()));
    store.put(ANNOUNCED, b"not a version").unwrap();
    assert!(
        matches!(
            c.refresh(),
            Err(Error::NotAVersion { key, text }) if key == ANNOUNCED && text == "not a version"
        ),
        "{:?}",
        c.refresh()
    );
    assert!(same_state(&before, &c.current()));
    p.timeline().announce(4).unwrap();
    c.refresh().unwrap();
    assert_eq!(contents(&c.current().unwrap().state), versions[&4]);
    // a producer refuses to start from an announcement it cannot load
    p.timeline().announce(99).unwrap();
    assert!(matches!(
        Producer::open(store.clone(), ds().schema_set().unwrap(), config()),
        Err(Error::Unreachable { version: 99, .. })
    ));
}

#[test]
fn consumers_follow_the_pin_then_the_announcement() {
    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(dir.path());
    let (mut p, mut versions) = timeline(store.clone(), 5, config());
    let c = Consumer::new(store.clone(), ConsumerConfig::default());
    c.refresh().unwrap();
    assert_eq!(c.version(), Some(5));
    let tl = Timeline::new(store.clone());
    tl.pin(3).unwrap();
    c.refresh().unwrap();
    assert_eq!(c.version(), Some(3));
    assert_eq!(contents(&c.current().unwrap().state), versions[&3]);
    // new versions do not move pinned consumers
    let mut model = versions[&5].clone();
    let v6 = published(cycle(&mut p, &mut model, &[(50, "new")], &[]));
    versions.insert(v6, model.clone());
    c.refresh().unwrap();
    assert_eq!(c.version(), Some(3));
    let fresh = Consumer::new(store.clone(), ConsumerConfig::default());
    fresh.refresh().unwrap();
    assert_eq!(fresh.version(), Some(3));
    // a pin to a version that cannot be reached is refused and the pin is kept
    assert!(tl.pin(77).is_err());
    assert_eq!(tl.pinned().unwrap(), Some(3));
    tl.unpin().unwrap();
    for consumer in [&c, &fresh] {
        consumer.refresh().unwrap();
        assert_eq!(consumer.version(), Some(v6));
        assert_eq!(contents(&consumer.current().unwrap().state), versions[&v6]);
    }
}

#[test]
fn retention_keeps_announced_pinned_and_kept_versions_reachable() {
    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(dir.path());
    let cfg = ProducerConfig {
        snapshot_every: 4,
        ..config()
    };
    let (_p, versions) = timeline(store.clone(), 12, cfg);
    let tl = Timeline::new(store.clone());
    tl.pin(5).unwrap();
    let deleted = tl.retain(3, None, u64::MAX).unwrap();
    assert!(deleted.contains(&Step::Snapshot(1).key()), "{deleted:?}");
    for v in 4..=12u64 {
        let fresh = Consumer::new(store.clone(), ConsumerConfig::default());
        fresh.update_to(v).unwrap();
        assert_eq!(
            contents(&fresh.current().unwrap().state),
            versions[&v],
            "version {v} after retention"
        );
    }
    assert!(matches!(
        Consumer::new(store.clone(), ConsumerConfig::default()).update_to(2),
        Err(Error::Unreachable { .. })
    ));
    tl.unpin().unwrap();
    tl.retain(3, None, u64::MAX).unwrap();
    for v in 8..=12u64 {
        let fresh = Consumer::new(store.clone(), ConsumerConfig::default());
        fresh.update_to(v).unwrap();
        assert_eq!(
            contents(&fresh.current().unwrap().state),
            versions[&v],
            "version {v} after the second retention"
        );
    }
    assert!(Consumer::new(store.clone(), ConsumerConfig::default())
        .update_to(6)
        .is_err());

    // retention run by the producer after every publish: the last versions and the
    // announced one stay reachable, and a lagging consumer catches up through a snapshot
    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(dir.path());
    let cfg = ProducerConfig {
        snapshot_every: 3,
        keep_versions: 2,
        ..config()
    };
    let mut p = Producer::open(store.clone(), ds().schema_set().unwrap(), cfg).unwrap();
    let lagging = Consumer::new(store.clone(), ConsumerConfig::default());
    let mut model = Model::new();
    let mut versions = BTreeMap::new();
    for i in 0..10i64 {
        let v = published(cycle(&mut p, &mut model, &[(i, "x")], &[]));
        versions.insert(v, model.clone());
        if v == 1 {
            lagging.refresh().unwrap();
        }
        for back in 0..2 {
            let Some(want) = versions.get(&(v - back)) else {
                continue;
            };
            let fresh = Consumer::new(store.clone(), ConsumerConfig::default());
            fresh.update_to(v - back).unwrap();
            assert_eq!(
                &contents(&fresh.current().unwrap().state),
                want,
                "version {} at {v}",
                v - back
            );
        }
    }
    lagging.refresh().unwrap();
    assert_eq!(contents(&lagging.current().unwrap().state), model);
}

#[test]
fn a_store_failing_mid_cycle_rolls_the_producer_back() {
    // the very first version: nothing is announced, and the next cycle publishes version 3
    // (each failed attempt may have stored some blobs under its number: 1 and 2 are burned)
    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(dir.path());
    let mut p = Producer::open(store.clone(), ds().schema_set().unwrap(), config()).unwrap();
    let mut model = Model::new();
    for k in 0..2 {
        store.fail_put_in.store(k, Ordering::SeqCst);
        assert!(matches!(
            cycle(&mut p, &mut model, &[(1, "first")], &[]),
            Err(Error::Store(_))
        ));
        assert_eq!(
            (p.version(), p.timeline().announced().unwrap()),
            (None, None)
        );
        assert!(write_state_contents(p.state()).is_empty());
    }
    store.fail_put_in.store(-1, Ordering::SeqCst);
    assert_eq!(
        published(cycle(&mut p, &mut model, &[(2, "second")], &[])),
        3
    );
    let c = Consumer::new(store.clone(), ConsumerConfig::default());
    c.refresh().unwrap();
    assert_eq!(contents(&c.current().unwrap().state), model);
    assert_eq!(model.keys().copied().collect::<Vec<_>>(), [2]);

    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(dir.path());
    let (mut p, mut versions) = timeline(store.clone(), 2, config());
    let c = Consumer::new(store.clone(), ConsumerConfig::default());
    c.refresh().unwrap();
    let mut model = versions[&2].clone();
    let mut fails = 0;
    let mut attempted: Vec<u64> = Vec::new();
    for round in 0..12i64 {
        let last = p.version().unwrap();
        // fail the k-th put of this cycle (blobs, then meta, then the announcement)
        let k = round % 6;
        store.fail_put_in.store(k, Ordering::SeqCst);
        let attempt = cycle(
            &mut p,
            &mut model,
            &[(1000 + round, "doomed"), (0, "changed by a failed cycle")],
            &[1],
        );
        store.fail_put_in.store(-1, Ordering::SeqCst);
        match attempt {
            Err(Error::Store(StoreError::Io { .. })) => {
                fails += 1;
                attempted.push(last + 1);
                assert_eq!(
                    p.version(),
                    Some(last),
                    "round {round}: the version did not move"
                );
                assert_eq!(
                    p.timeline().announced().unwrap(),
                    Some(last),
                    "round {round}: nothing announced"
                );
                assert_eq!(
                    write_state_contents(p.state()),
                    model,
                    "round {round}: the producer's state is rolled back"
                );
                let before = c.current();
                assert!(c.refresh().unwrap().transitions.is_empty());
                assert!(same_state(&before, &c.current()));
            }
            Ok(CycleOutcome::Published { version, .. }) => {
                assert!(
                    k >= 4,
                    "round {round}: only cycles with fewer than {k} puts succeed"
                );
                assert_eq!(version, last + 1);
                versions.insert(version, model.clone());
            }
            other => panic!("round {round}: {other:?}"),
        }
        // the next cycle publishes the next version, with only its own changes
        let v = published(cycle(
            &mut p,
            &mut model,
            &[(2000 + round, "ok"), (round % 5, "ok")],
            &[],
        ));
        assert_eq!(v, p.version().unwrap());
        let above = versions
            .keys()
            .last()
            .unwrap()
            .max(attempted.last().unwrap_or(&0));
        assert_eq!(
            v,
            above + 1,
            "numbered above every published version and failed attempt"
        );
        versions.insert(v, model.clone());
        c.refresh().unwrap();
        assert_eq!(c.version(), Some(v));
        assert_eq!(
            contents(&c.current().unwrap().state),
            model,
            "round {round}: the consumer follows by delta"
        );
    }
    assert!(fails >= 8, "{fails} failed cycles");
    // every version was published once: one metadata blob each (failed attempts may have
    // left theirs, under their own numbers), every one reachable with the content it was
    // announced with
    let metas = hollow::lifecycle::Timeline::new(store.clone())
        .published()
        .unwrap();
    let n = *versions.keys().last().unwrap();
    for v in versions.keys() {
        assert!(metas.contains(v), "meta of {v}");
    }
    for m in &metas {
        assert!(
            versions.keys().chain(&attempted).any(|v| v == m),
            "meta of {m} belongs to no attempt"
        );
    }
    for (v, want) in &versions {
        let fresh = Consumer::new(store.clone(), ConsumerConfig::default());
        fresh.update_to(*v).unwrap();
        assert_eq!(
            &contents(&fresh.current().unwrap().state),
            want,
            "version {v}"
        );
    }
    // a restarted producer continues the same timeline
    let mut p2 = Producer::open(store.clone(), ds().schema_set().unwrap(), config()).unwrap();
    assert_eq!(p2.version(), Some(n));
    assert_eq!(
        published(cycle(&mut p2, &mut model, &[(7, "after restart")], &[])),
        n + 1
    );
}

#[test]
fn an_announcement_stored_but_reported_failed_is_not_published_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(dir.path());
    let (mut p, mut versions) = timeline(store.clone(), 2, config());
    let c = Consumer::new(store.clone(), ConsumerConfig::default());
    c.refresh().unwrap();
    let mut model = versions[&2].clone();
    // the announcement is written, but the store reports a failure (a timeout after the
    // write): consumers can see version 3, so the producer must not publish another 3
    store
        .write_then_fail
        .lock()
        .unwrap()
        .insert(ANNOUNCED.into());
    let mut attempted = model.clone();
    attempted.insert(500, rec(500, "seen by consumers"));
    let outcome = cycle(&mut p, &mut model, &[(500, "seen by consumers")], &[]);
    c.refresh().unwrap();
    assert_eq!(c.version(), Some(3));
    assert_eq!(contents(&c.current().unwrap().state), attempted);
    match outcome {
        Ok(CycleOutcome::Published { version: 3, .. }) => assert_eq!(model, attempted),
        other => panic!("the announcement landed, so version 3 is published; got {other:?}"),
    }
    versions.insert(3, model.clone());
    let v = published(cycle(&mut p, &mut model, &[(501, "next")], &[]));
    assert_eq!(v, 4);
    c.refresh().unwrap();
    assert_eq!(contents(&c.current().unwrap().state), model);
}

/// Publishes a version while writes to `hold` (a key, or a prefix ending in `/`) time out
/// and stay in flight, then publishes the next version, then lands the held writes.
/// Returns the producer, the model of every published version and the consumer that
/// followed.
fn publish_with_late_writes(
    hold: &[&str],
) -> (
    tempfile::TempDir,
    Arc<FaultyStore>,
    Producer,
    BTreeMap<u64, Model>,
    Consumer,
    Vec<String>,
) {
    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(dir.path());
    let (mut p, mut versions) = timeline(store.clone(), 2, config());
    let c = Consumer::new(store.clone(), ConsumerConfig::default());
    c.refresh().unwrap();
    let mut model = versions[&2].clone();
    *store.hold.lock().unwrap() = hold.iter().map(|k| k.to_string()).collect();
    let doomed = cycle(&mut p, &mut model, &[(1, "doomed"), (700, "doomed")], &[2]);
    assert!(
        matches!(doomed, Err(Error::Store(_))),
        "the held write fails the cycle: {doomed:?}"
    );
    store.hold.lock().unwrap().clear();
    assert_eq!(p.version(), Some(2));
    // the retry holds other content (the real service folds more messages meanwhile)
    let v = published(cycle(
        &mut p,
        &mut model,
        &[(1, "retried"), (800, "new")],
        &[],
    ));
    assert_eq!(v, 4, "version 3 was used by the failed attempt");
    versions.insert(v, model.clone());
    c.refresh().unwrap();
    assert_eq!(contents(&c.current().unwrap().state), model);
    let landed = store.land_held();
    (dir, store, p, versions, c, landed)
}

#[test]
fn blobs_of_a_failed_attempt_that_land_late_never_pass_for_a_published_version() {
    // every blob of the attempt times out and lands after the retry was published: under
    // the same number they would replace the retry's delta 2 → 3 with the attempt's
    let (_dir, store, mut p, mut versions, c, landed) =
        publish_with_late_writes(&["delta/", "reverse/", "snapshot/"]);
    let mut landed = landed;
    landed.sort();
    assert_eq!(
        landed,
        [
            Step::Delta(2, 3).key(),
            Step::Reverse(3, 2).key(),
            Step::Snapshot(3).key()
        ],
        "the attempt's blobs (concurrent puts, in any order)"
    );
    let mut model = versions[&4].clone();
    let v = published(cycle(&mut p, &mut model, &[(900, "after")], &[]));
    versions.insert(v, model.clone());
    c.refresh().unwrap();
    assert_eq!(contents(&c.current().unwrap().state), model);
    for (v, want) in &versions {
        for mode in [MemoryMode::Heap, MemoryMode::Mapped] {
            let fresh = Consumer::new(
                store.clone(),
                ConsumerConfig {
                    mode,
                    ..ConsumerConfig::default()
                },
            );
            fresh.update_to(*v).unwrap();
            assert_eq!(
                &contents(&fresh.current().unwrap().state),
                want,
                "version {v}"
            );
            // and from every other published version, by whatever path the planner takes
            for from in versions.keys() {
                fresh.update_to(*from).unwrap();
                fresh.update_to(*v).unwrap();
                assert_eq!(
                    &contents(&fresh.current().unwrap().state),
                    want,
                    "{from} → {v}"
                );
            }
        }
    }
}

#[test]
fn an_announcement_that_lands_late_does_not_move_consumers_back() {
    // the attempt stores its blobs and meta, but the announcement times out, and lands
    // after the retry (version 4) was announced: the announcement now says 3
    let (_dir, store, mut p, versions, c, landed) = publish_with_late_writes(&[ANNOUNCED]);
    assert_eq!(landed, [ANNOUNCED.to_string()]);
    assert_eq!(p.timeline().announced().unwrap(), Some(3));
    // a consumer at 4 refuses to go back, and keeps serving 4
    let before = c.current();
    assert!(
        matches!(
            c.refresh(),
            Err(Error::AnnouncementBackwards { from: 4, to: 3 })
        ),
        "{:?}",
        c.refresh()
    );
    assert!(same_state(&before, &c.current()));
    // a producer does not announce backwards either
    assert!(matches!(
        p.timeline().announce_forward(2),
        Err(Error::AnnouncementBackwards { from: 3, to: 2 })
    ));
    // the producer's next cycle, even with nothing to publish, repairs the announcement
    let mut model = versions[&4].clone();
    assert!(matches!(
        cycle(&mut p, &mut model, &[], &[]),
        Ok(CycleOutcome::Unchanged)
    ));
    assert_eq!(p.timeline().announced().unwrap(), Some(4));
    c.refresh().unwrap();
    assert!(same_state(&before, &c.current()));
    // a pin still sends consumers back on purpose
    p.timeline().pin(2).unwrap();
    c.refresh().unwrap();
    assert_eq!(contents(&c.current().unwrap().state), versions[&2]);
    p.timeline().unpin().unwrap();
    c.refresh().unwrap();
    assert_eq!(c.version(), Some(4));
    // a restarted producer numbers above the attempt too
    let mut p2 = Producer::open(store.clone(), ds().schema_set().unwrap(), config()).unwrap();
    assert_eq!(p2.version(), Some(4));
    assert_eq!(published(cycle(&mut p2, &mut model, &[(5, "x")], &[])), 5);
}

#[test]
fn a_restarted_producer_numbers_above_blobs_a_crashed_attempt_left() {
    let dir = tempfile::tempdir().unwrap();
    let store = FaultyStore::new(dir.path());
    let (p, versions) = timeline(store.clone(), 2, config());
    drop(p);
    // a crashed attempt at 3 stored a reverse delta and nothing else
    store
        .inner
        .put(&Step::Reverse(3, 2).key(), b"partial")
        .unwrap();
    let mut p = Producer::open(store.clone(), ds().schema_set().unwrap(), config()).unwrap();
    let mut model = versions[&2].clone();
    assert_eq!(published(cycle(&mut p, &mut model, &[(9, "n")], &[])), 4);
    let c = Consumer::new(store.clone(), ConsumerConfig::default());
    c.refresh().unwrap();
    assert_eq!(contents(&c.current().unwrap().state), model);
}

#[cfg(feature = "s3")]
mod s3 {
    //! The producer and consumers against a real S3 server (moto), through a TCP proxy the
    //! test stops and restarts: the server keeps its objects while the store cannot reach
    //! it. Skipped (with a message) when no server is available; set
    //! `HOLLOW_TEST_S3_ENDPOINT` or put `moto_server` on `PATH`.

    use super::*;
    use hollow::store::{S3Config, S3Credentials, S3Store};
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    struct Server {
        endpoint: String,
        child: Option<Child>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            if let Some(child) = &mut self.child {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn answers(port: u16) -> bool {
        let Ok(mut s) =
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
        else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(format!("GET / HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes())
            .is_err()
        {
            return false;
        }
        let mut head = [0u8; 5];
        s.read_exact(&mut head).is_ok() && &head == b"HTTP/"
    }

    fn server() -> Option<Server> {
        if let Some(endpoint) = std::env::var("HOLLOW_TEST_S3_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
        {
            return Some(Server {
                endpoint,
                child: None,
            });
        }
        if !Command::new("moto_server")
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            println!("skipped: no S3 server (set HOLLOW_TEST_S3_ENDPOINT or install moto[server])");
            return None;
        }
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut server = Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        };
        let started = Instant::now();
        while !answers(port) {
            if let Some(Ok(Some(status))) = server.child.as_mut().map(Child::try_wait) {
                println!("skipped: moto_server exited with {status}");
                return None;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not answer within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }

    /// A TCP proxy from a local port to the server, which the test stops (closing every
    /// connection, refusing new ones) and restarts on the same port.
    struct Proxy {
        port: u16,
        upstream: String,
        running: Arc<AtomicBool>,
        conns: Arc<Mutex<Vec<TcpStream>>>,
        acceptor: Option<std::thread::JoinHandle<()>>,
    }

    impl Proxy {
        fn new(upstream: &str) -> Proxy {
            let upstream = upstream.trim_start_matches("http://").to_string();
            let mut p = Proxy {
                port: free_port(),
                upstream,
                running: Arc::new(AtomicBool::new(false)),
                conns: Arc::new(Mutex::new(Vec::new())),
                acceptor: None,
            };
            p.start();
            p
        }

        fn endpoint(&self) -> String {
            format!("http://127.0.0.1:{}", self.port)
        }

        fn start(&mut self) {
            let listener = TcpListener::bind(("127.0.0.1", self.port)).unwrap();
            listener.set_nonblocking(true).unwrap();
            self.running.store(true, Ordering::SeqCst);
            let (running, conns, upstream) = (
                self.running.clone(),
                self.conns.clone(),
                self.upstream.clone(),
            );
            self.acceptor = Some(std::thread::spawn(move || {
                while running.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let _ = client.set_nonblocking(false);
                            let Ok(server) = TcpStream::connect(&upstream) else {
                                continue;
                            };
                            let mut list = conns.lock().unwrap();
                            for s in [&client, &server] {
                                if let Ok(c) = s.try_clone() {
                                    list.push(c);
                                }
                            }
                            for (mut from, mut to) in [
                                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                                (server, client),
                            ] {
                                std::thread::spawn(move || {
                                    let _ = std::io::copy(&mut from, &mut to);
                                    let _ = to.shutdown(Shutdown::Both);
                                    let _ = from.shutdown(Shutdown::Both);
                                });
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            }));
        }

        /// Stops accepting and closes every open connection.
        fn stop(&mut self) {
            self.running.store(false, Ordering::SeqCst);
            if let Some(a) = self.acceptor.take() {
                let _ = a.join();
            }
            for c in self.conns.lock().unwrap().drain(..) {
                let _ = c.shutdown(Shutdown::Both);
            }
        }
    }

    impl Drop for Proxy {
        fn drop(&mut self) {
            self.stop();
        }
    }

    fn s3_config(endpoint: &str, bucket: &str) -> S3Config {
        let mut config = S3Config::new(bucket, "timeline");
        config.endpoint = Some(endpoint.to_owned());
        config.region =
            Some(std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned()));
        config.force_path_style = true;
        let env = |name, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        config.credentials = Some(S3Credentials {
            access_key_id: env("AWS_ACCESS_KEY_ID", "test"),
            secret_access_key: env("AWS_SECRET_ACCESS_KEY", "test"),
            session_token: None,
        });
        config.connect_timeout = Duration::from_secs(1);
        config.timeout = Duration::from_secs(10);
        config
    }

    #[test]
    fn s3_server_lost_mid_cycle_then_back() {
        let Some(server) = server() else { return };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let bucket = format!(
            "hollow-faults-{}-{}",
            std::process::id(),
            nanos % 1_000_000_000
        );
        let direct = S3Store::new(s3_config(&server.endpoint, &bucket)).unwrap();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(direct.client().create_bucket().bucket(&bucket).send())
            .expect("create bucket");
        let mut proxy = Proxy::new(&server.endpoint);
        let store: Arc<dyn BlobStore> =
            Arc::new(S3Store::new(s3_config(&proxy.endpoint(), &bucket)).unwrap());

        let mut p = Producer::open(store.clone(), ds().schema_set().unwrap(), config()).unwrap();
        let c = Consumer::new(store.clone(), ConsumerConfig::default());
        let mut model = Model::new();
        let mut versions = BTreeMap::new();
        for i in 0..3i64 {
            let v = published(cycle(
                &mut p,
                &mut model,
                &[(i, "s3"), (10 + i, "more")],
                &[],
            ));
            versions.insert(v, model.clone());
            c.refresh().unwrap();
            assert_eq!(contents(&c.current().unwrap().state), model);
        }

        // the server becomes unreachable after the cycle's changes are made, before they
        // are stored
        let ds = ds();
        let started = Instant::now();
        let attempt = p.cycle(|cy| {
            cy.upsert_record(&ds, &rec(99, "lost"))?;
            proxy.stop();
            Ok(())
        });
        println!("failed cycle took {:?}: {attempt:?}", started.elapsed());
        match attempt {
            Err(Error::Store(StoreError::Unreachable { store, detail })) => {
                println!("store {store} unreachable: {detail}")
            }
            Err(Error::Store(e)) => println!("store error: {e}"),
            other => panic!("expected a store error, got {other:?}"),
        }
        assert_eq!(p.version(), Some(3));
        assert_eq!(write_state_contents(p.state()), model, "rolled back");
        let before = c.current();
        assert!(
            matches!(c.refresh(), Err(Error::Store(_))),
            "the consumer reports the store error"
        );
        assert!(same_state(&before, &c.current()), "and keeps its state");
        assert!(matches!(
            Producer::open(store.clone(), ds.schema_set().unwrap(), config()),
            Err(Error::Store(_))
        ));
        // nothing was announced: the server itself still says 3
        assert_eq!(
            Timeline::new(Arc::new(
                S3Store::new(s3_config(&server.endpoint, &bucket)).unwrap()
            ))
            .announced()
            .unwrap(),
            Some(3)
        );

        // the server is back: the next cycle publishes version 5 (4 was the failed
        // attempt's) with only its own changes
        proxy.start();
        c.refresh().unwrap();
        assert_eq!(c.version(), Some(3));
        let v = published(cycle(&mut p, &mut model, &[(4, "back")], &[]));
        assert_eq!(v, 5);
        versions.insert(v, model.clone());
        c.refresh().unwrap();
        assert_eq!(contents(&c.current().unwrap().state), model);
        assert!(!model.contains_key(&99));
        for (v, want) in &versions {
            let fresh = Consumer::new(store.clone(), ConsumerConfig::default());
            fresh.update_to(*v).unwrap();
            assert_eq!(
                &contents(&fresh.current().unwrap().state),
                want,
                "version {v}"
            );
        }
        // a store pointing at a dead port: typed errors, fast
        let dead: Arc<dyn BlobStore> = Arc::new(
            S3Store::new(s3_config(
                &format!("http://127.0.0.1:{}", free_port()),
                &bucket,
            ))
            .unwrap(),
        );
        let started = Instant::now();
        assert!(matches!(
            Producer::open(dead.clone(), ds.schema_set().unwrap(), config()),
            Err(Error::Store(StoreError::Unreachable { .. }))
        ));
        assert!(matches!(
            Consumer::new(dead, ConsumerConfig::default()).refresh(),
            Err(Error::Store(StoreError::Unreachable { .. }))
        ));
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }
}
