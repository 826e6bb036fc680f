//! Validators and retention of the lifecycle producer: a refused state is never published
//! or announced (consumers keep the previous version), the next good cycle publishes the next
//! version with the right content; the built-in count-change and primary-key checks; user
//! validators; retention that keeps announced, pinned and protected versions loadable and
//! reports its failures.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use hollow::dataset::{DatasetReader, DatasetSchema, FieldValue, Record};
use hollow::lifecycle::Step;
use hollow::lifecycle::{
    Consumer, ConsumerConfig, CountChangeValidator, CycleOutcome, Producer, ProducerConfig,
    RetentionOutcome, Timeline, ValidationContext, ValidationFailure, Validator,
};
use hollow::store::{BlobStore, FolderStore, StoreError};
use hollow::{Error, ReadState};
use proptest::prelude::*;

const SCHEMA: &str = r#"{"dataset": "items", "type": "Item", "primary_key": ["id"], "fields": [
  {"name": "id", "kind": "i64"},
  {"name": "name", "kind": "string"}
]}"#;

type Model = BTreeMap<i64, String>;

fn ds() -> DatasetSchema {
    DatasetSchema::from_json(SCHEMA).unwrap()
}

fn rec(id: i64, name: &str) -> Record {
    vec![FieldValue::Int(id), FieldValue::Str(name.into())]
}

fn contents(state: &ReadState) -> Model {
    let ds = ds();
    let r = DatasetReader::new(&ds, state).unwrap();
    r.root()
        .ordinals()
        .map(|o| {
            let rec = r.record(o).unwrap();
            let (FieldValue::Int(id), FieldValue::Str(name)) = (&rec[0], &rec[1]) else {
                panic!("{rec:?}")
            };
            (*id, name.clone())
        })
        .collect()
}

fn folder() -> (tempfile::TempDir, Arc<dyn BlobStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn BlobStore> = Arc::new(FolderStore::new(dir.path()).unwrap());
    (dir, store)
}

fn open(store: &Arc<dyn BlobStore>, config: ProducerConfig) -> Producer {
    Producer::open(store.clone(), ds().schema_set().unwrap(), config).unwrap()
}

/// One cycle: upserts then deletes; the model is updated only if a version is published.
fn cycle(p: &mut Producer, model: &mut Model, ups: &[(i64, String)], dels: &[i64]) -> CycleOutcome {
    let ds = ds();
    let mut next = model.clone();
    let out = p
        .cycle(|c| {
            for (id, name) in ups {
                c.upsert_record(&ds, &rec(*id, name))?;
                next.insert(*id, name.clone());
            }
            for id in dels {
                c.delete_key(&ds, &id.to_string())?;
                next.remove(id);
            }
            c.set_header("test.cycle", &format!("{}", ups.len() + dels.len()));
            Ok(())
        })
        .unwrap();
    if matches!(out, CycleOutcome::Published { .. }) {
        *model = next;
    }
    out
}

fn ups(ids: impl IntoIterator<Item = i64>, tag: &str) -> Vec<(i64, String)> {
    ids.into_iter().map(|i| (i, format!("{tag}{i}"))).collect()
}

fn announced_contents(store: &Arc<dyn BlobStore>) -> (Option<u64>, Model) {
    let c = Consumer::new(store.clone(), ConsumerConfig::default());
    c.refresh().unwrap();
    (
        c.version(),
        c.current().map(|l| contents(&l.state)).unwrap_or_default(),
    )
}

#[test]
fn a_refused_count_change_publishes_nothing_and_the_next_good_cycle_follows() {
    let (_d, store) = folder();
    let mut p = open(
        &store,
        ProducerConfig {
            max_count_change_ratio: Some(0.5),
            ..Default::default()
        },
    );
    let mut model = Model::new();
    assert!(matches!(
        cycle(&mut p, &mut model, &ups(0..20, "a"), &[]),
        CycleOutcome::Published { version: 1, .. }
    ));
    let follower = Consumer::new(store.clone(), ConsumerConfig::default());
    follower.refresh().unwrap();
    let keys_before = store.list("").unwrap();

    // deleting 15 of 20 records: refused, named, and nothing written
    let dels: Vec<i64> = (0..15).collect();
    match cycle(&mut p, &mut model, &[], &dels) {
        CycleOutcome::ValidationFailed { validator, reason } => {
            assert_eq!(validator, CountChangeValidator::NAME);
            assert!(
                matches!(
                    &reason,
                    ValidationFailure::CountChange {
                        previous: 20,
                        new: 5,
                        ..
                    }
                ),
                "{reason:?}"
            );
            assert!(reason.to_string().contains("from 20 to 5"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        store.list("").unwrap(),
        keys_before,
        "a refused state writes nothing"
    );
    assert_eq!(p.version(), Some(1));
    assert_eq!(
        p.header().get("test.cycle").map(String::as_str),
        Some("20"),
        "the refused cycle's header is not kept"
    );
    follower.refresh().unwrap();
    assert_eq!(follower.version(), Some(1));
    assert_eq!(announced_contents(&store), (Some(1), model.clone()));

    // the next good cycle is version 2, computed from version 1 (not from the refused state)
    assert!(matches!(
        cycle(&mut p, &mut model, &ups(20..25, "b"), &[0, 1]),
        CycleOutcome::Published { version: 2, .. }
    ));
    assert_eq!(model.len(), 23);
    follower.refresh().unwrap();
    assert_eq!(follower.version(), Some(2));
    assert_eq!(
        contents(&follower.current().unwrap().state),
        model,
        "the follower applied the delta 1 -> 2"
    );
    assert_eq!(announced_contents(&store), (Some(2), model.clone()));
    // and a restarted producer agrees
    drop(p);
    let p = open(&store, ProducerConfig::default());
    assert_eq!(p.version(), Some(2));
}

#[test]
fn small_types_do_not_trip_the_count_check() {
    let (_d, store) = folder();
    let mut p = open(&store, ProducerConfig::default());
    let mut model = Model::new();
    assert!(matches!(
        cycle(&mut p, &mut model, &ups(0..9, "a"), &[]),
        CycleOutcome::Published { .. }
    ));
    // 9 → 0 records: under the minimum size, allowed
    let dels: Vec<i64> = (0..9).collect();
    assert!(matches!(
        cycle(&mut p, &mut model, &[], &dels),
        CycleOutcome::Published { version: 2, .. }
    ));
    // 0 → 100: no previous count to compare with
    assert!(matches!(
        cycle(&mut p, &mut model, &ups(0..100, "b"), &[]),
        CycleOutcome::Published { version: 3, .. }
    ));
    // 100 → 151 refused, 100 → 150 allowed (exactly 50 %)
    assert!(matches!(
        cycle(&mut p, &mut model, &ups(100..151, "c"), &[]),
        CycleOutcome::ValidationFailed { .. }
    ));
    assert!(matches!(
        cycle(&mut p, &mut model, &ups(100..150, "c"), &[]),
        CycleOutcome::Published { version: 4, .. }
    ));
    // a stricter validator with its own guard
    let mut p2 = open(
        &store,
        ProducerConfig {
            max_count_change_ratio: None,
            ..Default::default()
        },
    );
    p2.add_validator(CountChangeValidator {
        max_ratio: 0.01,
        min_previous: 1000,
        all_types: false,
        growth: true,
    });
    assert!(matches!(
        cycle(&mut p2, &mut model, &ups(150..200, "d"), &[]),
        CycleOutcome::Published { version: 5, .. }
    ));
    // drops only: 200 → 400 passes, 400 → 100 does not
    let mut p3 = open(
        &store,
        ProducerConfig {
            max_count_change_ratio: None,
            ..Default::default()
        },
    );
    p3.add_validator(CountChangeValidator {
        growth: false,
        ..CountChangeValidator::new(0.5)
    });
    assert!(matches!(
        cycle(&mut p3, &mut model, &ups(200..400, "e"), &[]),
        CycleOutcome::Published { version: 6, .. }
    ));
    let dels: Vec<i64> = (0..300).collect();
    assert!(matches!(
        cycle(&mut p3, &mut model, &[], &dels),
        CycleOutcome::ValidationFailed { .. }
    ));
}

/// What a validator saw: previous version, next version, previous count, new count.
type Seen = (Option<u64>, u64, u64, u64);

/// Refuses states whose header says `refuse`, and records what it saw.
struct HeaderGate {
    seen: std::sync::Mutex<Vec<Seen>>,
}

impl Validator for HeaderGate {
    fn name(&self) -> &str {
        "header_gate"
    }
    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationFailure> {
        let c = ctx.counts("Item").unwrap();
        self.seen.lock().unwrap().push((
            ctx.previous_version(),
            ctx.next_version(),
            c.previous,
            c.new,
        ));
        assert_eq!(ctx.new_state().len("Item").unwrap(), c.new);
        match ctx.header_updates().get("gate") {
            Some(v) if v == "refuse" => Err(ValidationFailure::new("told to refuse")),
            _ => Ok(()),
        }
    }
}

#[test]
fn user_validators_see_the_counts_and_header_and_can_refuse() {
    let (_d, store) = folder();
    let gate = Arc::new(HeaderGate {
        seen: Default::default(),
    });
    struct Shared(Arc<HeaderGate>);
    impl Validator for Shared {
        fn name(&self) -> &str {
            self.0.name()
        }
        fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationFailure> {
            self.0.validate(ctx)
        }
    }
    let mut p = open(&store, ProducerConfig::default());
    p.add_validator(Shared(gate.clone()));
    let ds = ds();
    let run = |p: &mut Producer, id: i64, gate: &str| {
        p.cycle(|c| {
            c.upsert_record(&ds, &rec(id, "x"))?;
            c.set_header("gate", gate);
            Ok(())
        })
        .unwrap()
    };
    assert!(matches!(
        run(&mut p, 1, "ok"),
        CycleOutcome::Published { version: 1, .. }
    ));
    match run(&mut p, 2, "refuse") {
        CycleOutcome::ValidationFailed { validator, reason } => assert_eq!(
            (validator.as_str(), reason),
            ("header_gate", ValidationFailure::new("told to refuse"))
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(announced_contents(&store).0, Some(1));
    assert!(matches!(
        run(&mut p, 3, "ok"),
        CycleOutcome::Published { version: 2, .. }
    ));
    assert_eq!(
        announced_contents(&store)
            .1
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![1, 3],
        "the refused record 2 never appears"
    );
    assert_eq!(
        *gate.seen.lock().unwrap(),
        vec![(None, 1, 0, 1), (Some(1), 2, 1, 2), (Some(1), 2, 1, 2)]
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    /// Random cycles under the count check and a random user refusal: every announced state
    /// equals the model of the accepted cycles only, versions are consecutive, and a consumer
    /// following along never holds a refused state.
    #[test]
    fn consumers_only_ever_see_accepted_states(steps in proptest::collection::vec((proptest::collection::vec((0i64..40, 0u8..3), 0..30), proptest::collection::vec(0i64..40, 0..30), any::<bool>()), 1..12)) {
        struct Flag(Arc<AtomicBool>);
        impl Validator for Flag {
            fn name(&self) -> &str { "flag" }
            fn validate(&self, _: &ValidationContext<'_>) -> Result<(), ValidationFailure> {
                if self.0.load(Ordering::SeqCst) { Err(ValidationFailure::new("flagged")) } else { Ok(()) }
            }
        }
        let (_d, store) = folder();
        let flag = Arc::new(AtomicBool::new(false));
        let mut p = open(&store, ProducerConfig { snapshot_every: 3, max_count_change_ratio: Some(0.3), ..Default::default() });
        p.add_validator(Flag(flag.clone()));
        let follower = Consumer::new(store.clone(), ConsumerConfig::default());
        let mut model = Model::new();
        let mut expect_version = 0u64;
        for (up, dels, refuse) in steps {
            flag.store(refuse, Ordering::SeqCst);
            let up: Vec<(i64, String)> = up.into_iter().map(|(i, n)| (i, format!("n{n}"))).collect();
            let before = model.clone();
            match cycle(&mut p, &mut model, &up, &dels) {
                CycleOutcome::Published { version, .. } => {
                    prop_assert!(!refuse);
                    expect_version += 1;
                    prop_assert_eq!(version, expect_version);
                }
                CycleOutcome::ValidationFailed { validator, .. } => {
                    prop_assert!(refuse || validator == CountChangeValidator::NAME);
                    prop_assert_eq!(&model, &before);
                }
                CycleOutcome::Unchanged => prop_assert_eq!(&model, &before),
            }
            follower.refresh().unwrap();
            let seen = follower.current().map(|l| contents(&l.state)).unwrap_or_default();
            prop_assert_eq!(&seen, &model);
            prop_assert_eq!(follower.version().unwrap_or(0), expect_version);
            prop_assert_eq!(p.version().unwrap_or(0), expect_version);
        }
    }
}

/// A timeline of `n` versions, each adding one record; snapshots every `every`.
fn timeline(store: &Arc<dyn BlobStore>, n: i64, every: u64) -> BTreeMap<u64, Model> {
    let mut p = open(
        store,
        ProducerConfig {
            snapshot_every: every,
            max_count_change_ratio: None,
            ..Default::default()
        },
    );
    let mut model = Model::new();
    let mut versions = BTreeMap::new();
    for i in 0..n {
        let CycleOutcome::Published { version, .. } =
            cycle(&mut p, &mut model, &ups([i, 1000], &format!("v{i}-")), &[])
        else {
            panic!()
        };
        versions.insert(version, model.clone());
    }
    versions
}

fn loads(store: &Arc<dyn BlobStore>, v: u64) -> Option<Model> {
    let c = Consumer::new(store.clone(), ConsumerConfig::default());
    c.update_to(v).ok()?;
    c.current().map(|l| contents(&l.state))
}

#[test]
fn retention_keeps_protected_versions_loadable_until_released() {
    let (_d, store) = folder();
    let versions = timeline(&store, 20, 5);
    let tl = Timeline::new(store.clone());
    tl.protect(3, "gatekeeper-a").unwrap();
    tl.protect(8, "gatekeeper-a").unwrap();
    tl.protect(8, "gatekeeper-b").unwrap();
    assert!(tl.protect(9, "bad holder").is_err());
    assert_eq!(tl.protected().unwrap().get(&8).map(|h| h.len()), Some(2));
    let deleted = tl.retain(2, None, u64::MAX).unwrap();
    assert!(!deleted.is_empty());
    for v in [3, 8, 19, 20] {
        assert_eq!(
            loads(&store, v).as_ref(),
            Some(&versions[&v]),
            "version {v}"
        );
    }
    // unprotected old versions are gone (6 needed 5 → 6, which nothing protects)
    assert_eq!(loads(&store, 6), None);
    // 8 is reached from the snapshot of 10 by reverse deltas: the snapshot of 5 goes
    assert!(deleted.contains(&Step::Snapshot(5).key()), "{deleted:?}");

    // release: 3 goes, 8 stays while b holds it
    tl.release(3, "gatekeeper-a").unwrap();
    tl.release(8, "gatekeeper-a").unwrap();
    tl.retain(2, None, u64::MAX).unwrap();
    assert_eq!(loads(&store, 3), None);
    assert_eq!(loads(&store, 8).as_ref(), Some(&versions[&8]));
    tl.release(8, "gatekeeper-b").unwrap();
    tl.retain(2, None, u64::MAX).unwrap();
    assert_eq!(loads(&store, 8), None);
    assert_eq!(loads(&store, 20).as_ref(), Some(&versions[&20]));
    assert!(tl.protected().unwrap().is_empty());
}

#[test]
fn retention_never_deletes_the_announced_or_pinned_version() {
    let (_d, store) = folder();
    let versions = timeline(&store, 12, 4);
    let tl = Timeline::new(store.clone());
    tl.pin(2).unwrap();
    // the announcement moved back (an operator rolled back by hand)
    store
        .put(hollow::lifecycle::timeline::ANNOUNCED, b"6")
        .unwrap();
    tl.retain(1, Some(0.0), u64::MAX).unwrap();
    for v in [2, 6, 12] {
        assert_eq!(
            loads(&store, v).as_ref(),
            Some(&versions[&v]),
            "version {v}"
        );
    }
    tl.unpin().unwrap();
    tl.retain(1, None, u64::MAX).unwrap();
    assert_eq!(loads(&store, 6).as_ref(), Some(&versions[&6]));
    assert_eq!(loads(&store, 2), None);
}

/// A folder store whose deletes fail while `fail` is set.
#[derive(Debug)]
struct NoDelete {
    inner: FolderStore,
    fail: AtomicBool,
}

impl BlobStore for NoDelete {
    fn put(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        self.inner.put(key, data)
    }
    fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        self.inner.get(key)
    }
    fn get_opt(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get_opt(key)
    }
    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.inner.exists(key)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix)
    }
    fn delete(&self, key: &str) -> Result<(), StoreError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Config {
                detail: format!("delete of {key} refused by the test"),
            });
        }
        self.inner.delete(key)
    }
    fn describe(&self) -> String {
        format!("no-delete {}", self.inner.describe())
    }
}

#[test]
fn retention_failures_are_reported_and_never_undo_a_publish() {
    let dir = tempfile::tempdir().unwrap();
    let raw = Arc::new(NoDelete {
        inner: FolderStore::new(dir.path()).unwrap(),
        fail: AtomicBool::new(true),
    });
    let store: Arc<dyn BlobStore> = raw.clone();
    let mut p = open(
        &store,
        ProducerConfig {
            snapshot_every: 2,
            keep_versions: 2,
            max_count_change_ratio: None,
            ..Default::default()
        },
    );
    let mut model = Model::new();
    let mut failures = 0;
    for i in 0..6 {
        match cycle(&mut p, &mut model, &ups([i], "x"), &[]) {
            CycleOutcome::Published {
                retention: Some(RetentionOutcome::Failed { error }),
                ..
            } => {
                assert!(
                    matches!(&*error, Error::Store(StoreError::Config { .. })),
                    "{error:?}"
                );
                assert!(error.to_string().contains("refused by the test"), "{error}");
                failures += 1;
            }
            CycleOutcome::Published {
                retention: Some(RetentionOutcome::Done { deleted }),
                ..
            } => assert!(deleted.is_empty(), "{deleted:?}"),
            other => panic!("{other:?}"),
        }
    }
    assert!(failures >= 3, "{failures}");
    assert_eq!(announced_contents(&store), (Some(6), model.clone()));
    raw.fail.store(false, Ordering::SeqCst);
    match cycle(&mut p, &mut model, &ups([99], "x"), &[]) {
        CycleOutcome::Published {
            version: 7,
            retention: Some(RetentionOutcome::Done { deleted }),
            ..
        } => assert!(!deleted.is_empty()),
        other => panic!("{other:?}"),
    }
    // no retention configured: nothing reported
    let mut p = open(
        &store,
        ProducerConfig {
            max_count_change_ratio: None,
            ..Default::default()
        },
    );
    assert!(matches!(
        cycle(&mut p, &mut model, &ups([100], "x"), &[]),
        CycleOutcome::Published {
            retention: None,
            ..
        }
    ));
}

#[test]
fn retention_by_days_alone_applies_the_age_rule() {
    let (_d, store) = folder();
    // keep_versions 0 (no count rule) with keep_days: only the age rule decides
    let mut p = open(
        &store,
        ProducerConfig {
            snapshot_every: 2,
            keep_versions: 0,
            keep_days: Some(0.0),
            max_count_change_ratio: None,
            ..Default::default()
        },
    );
    let mut model = Model::new();
    let mut deleted_total = 0;
    for i in 0..6 {
        std::thread::sleep(std::time::Duration::from_millis(3));
        match cycle(&mut p, &mut model, &ups([i], "x"), &[]) {
            CycleOutcome::Published {
                retention: Some(RetentionOutcome::Done { deleted }),
                ..
            } => deleted_total += deleted.len(),
            other => panic!("{other:?}"),
        }
    }
    assert!(deleted_total > 0, "nothing older than 0 days was deleted");
    assert_eq!(loads(&store, 1), None);
    assert_eq!(announced_contents(&store), (Some(6), model.clone()));
    // a day's worth: everything stays
    let (_d2, store2) = folder();
    let mut p = open(
        &store2,
        ProducerConfig {
            snapshot_every: 2,
            keep_days: Some(1.0),
            max_count_change_ratio: None,
            ..Default::default()
        },
    );
    let mut model = Model::new();
    for i in 0..6 {
        assert!(
            matches!(cycle(&mut p, &mut model, &ups([i], "x"), &[]), CycleOutcome::Published { retention: Some(RetentionOutcome::Done { ref deleted }), .. } if deleted.is_empty())
        );
    }
    assert!(loads(&store2, 1).is_some());
}
