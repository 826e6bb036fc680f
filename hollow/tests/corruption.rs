//! Mutation test: random byte flips and truncations of real snapshots never panic; they
//! either fail with a typed error or read (possibly wrong) values without going out of bounds.

mod common;

use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::error::{Corruption, SchemaError};
use hollow::{Bytes, DataError, ReadState, TypeSchema, WriteState};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

fn snapshot(zstd: bool) -> Vec<u8> {
    let mut runner = TestRunner::deterministic();
    let things = proptest::collection::vec(common::thing(), 30)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let mut ws = WriteState::new(common::schema());
    for t in &things {
        common::add(&mut ws, t);
    }
    write_snapshot(
        &ws,
        &SnapshotOptions {
            zstd_level: zstd.then_some(1),
            disable_fsst: false,
        },
    )
    .unwrap()
    .0
}

/// Reads everything a reader could read; errors are fine, panics are not.
fn exercise(state: &ReadState) {
    for ts in state.schema().types() {
        let name = ts.name();
        match ts {
            TypeSchema::Object(_) => {
                if let Ok(v) = state.object(name) {
                    for f in 0..v.columns().len() + 1 {
                        let _ = v.for_each_value(f, |_, v| drop(v));
                    }
                    for o in v.ordinals().chain([0, 1, u32::MAX]) {
                        for f in 0..v.columns().len() + 1 {
                            let _ = v.get(o, f);
                        }
                    }
                }
            }
            TypeSchema::List { .. } => {
                if let Ok(v) = state.list(name) {
                    for o in v.ordinals().chain([u32::MAX]) {
                        if let Ok(it) = v.elements(o) {
                            it.count();
                        }
                        let _ = v.get(o, 3);
                    }
                }
            }
            TypeSchema::Set { .. } => {
                if let Ok(v) = state.set(name) {
                    for o in v.ordinals() {
                        if let Ok(it) = v.elements(o) {
                            it.count();
                        }
                        let _ = v.contains(o, 1);
                    }
                }
            }
            TypeSchema::Map { .. } => {
                if let Ok(v) = state.map(name) {
                    for o in v.ordinals() {
                        if let Ok(it) = v.entries(o) {
                            it.count();
                        }
                        let _ = v.get(o, 2);
                    }
                }
            }
        }
    }
    let _ = common::dump_safe(state);
}

#[test]
fn byte_flips_never_panic() {
    for zstd in [false, true] {
        let blob = snapshot(zstd);
        let mut runner = TestRunner::new(Config {
            cases: 600,
            ..Config::default()
        });
        runner
            .run(
                &(
                    proptest::collection::vec((0..blob.len(), any::<u8>()), 1..6),
                    any::<bool>(),
                ),
                |(flips, verify)| {
                    let mut b = blob.clone();
                    for (i, x) in flips {
                        b[i] ^= x | 1;
                    }
                    let r = if verify {
                        ReadState::from_vec(b)
                    } else {
                        ReadState::from_bytes_unverified(Bytes::from_vec(b))
                    };
                    if let Ok(s) = r {
                        exercise(&s);
                    }
                    Ok(())
                },
            )
            .unwrap();
    }
}

#[test]
fn flips_are_caught_by_the_checksum() {
    let blob = snapshot(false);
    for i in (0..blob.len()).step_by(7) {
        let mut b = blob.clone();
        b[i] ^= 0x40;
        let e = ReadState::from_vec(b).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::ChecksumMismatch { .. }
                    | DataError::BadMagic { .. }
                    | DataError::Version { .. }
                    | DataError::Corrupt(_)
                    | DataError::Truncated { .. }
            ),
            "{e:?}"
        );
    }
}

#[test]
fn truncations_are_typed_errors() {
    for zstd in [false, true] {
        let blob = snapshot(zstd);
        for len in (0..blob.len()).step_by(3) {
            let b = blob[..len].to_vec();
            let e = ReadState::from_bytes_unverified(Bytes::from_vec(b)).unwrap_err();
            assert!(
                matches!(
                    e,
                    DataError::Truncated { .. }
                        | DataError::BadMagic { .. }
                        | DataError::Corrupt(_)
                ),
                "len {len}: {e:?}"
            );
        }
    }
}

#[test]
fn a_body_with_bytes_after_its_types_is_typed_corruption() {
    let mut b = snapshot(false);
    b.extend_from_slice(&[0; 8]);
    // the preamble's stored and raw lengths cover the extra bytes (the checksum is not read)
    for at in [24, 32] {
        let n = u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) + 8;
        b[at..at + 8].copy_from_slice(&n.to_le_bytes());
    }
    let e = ReadState::from_bytes_unverified(Bytes::from_vec(b)).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::Corrupt(Corruption::TrailingBytes {
                what: "snapshot body",
                count: 8
            })
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "corrupt blob: 8 unread bytes after the snapshot body"
    );
}

#[test]
fn dataset_schema_files_name_the_dataset_and_field() {
    let e = hollow::dataset::DatasetSchema::from_json(
        r#"{"dataset": "titles", "type": "Title", "primary_key": ["id"], "fields": [{"name": "name", "kind": "string"}]}"#,
    )
    .unwrap_err();
    assert!(
        matches!(&e, DataError::Schema(SchemaError::UndeclaredKeyField { dataset, field })
            if dataset == "titles" && field == "id"),
        "{e:?}"
    );
    let e = hollow::dataset::DatasetSchema::from_json("{").unwrap_err();
    assert!(
        matches!(&e, DataError::Schema(SchemaError::DatasetJson(source))
            if source.downcast_ref::<serde_json::Error>().is_some()),
        "{e:?}"
    );
}

#[test]
fn foreign_and_wrong_version_blobs() {
    assert!(matches!(
        ReadState::from_vec(b"PK\x03\x04 not a hollow blob at all, a zip".to_vec()),
        Err(DataError::BadMagic { .. })
    ));
    assert!(matches!(
        ReadState::from_vec(Vec::new()),
        Err(DataError::BadMagic { .. })
    ));
    let mut b = snapshot(false);
    b[8] = 99;
    assert!(matches!(
        ReadState::from_bytes_unverified(Bytes::from_vec(b)),
        Err(DataError::Version {
            expected: 1,
            got: 99
        })
    ));
    let mut b = snapshot(false);
    b[12] = 1; // a delta where a snapshot is expected
    assert!(matches!(
        ReadState::from_bytes_unverified(Bytes::from_vec(b)),
        Err(DataError::WrongBlobKind { .. })
    ));
}

mod corruption_campaign;

/// The corruption campaign in short (the long form is `cargo bench -p benches --bench
/// corruption -- --mutations 10000`): seeded damage of a real store's blobs and announcement,
/// read by heap and mapped consumers: no panic, no wrong state, and damage is really refused.
#[test]
fn corruption_campaign_short() {
    let mutations = std::env::var("HOLLOW_CORRUPTION_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let tally = corruption_campaign::run(7, mutations, |_, _| {});
    println!("{}", tally.table());
    assert_eq!(tally.mutations, mutations);
    assert!(
        tally.failures.is_empty(),
        "failures:\n{}",
        tally.failures.join("\n")
    );
    assert_eq!((tally.panics, tally.wrong), (0, 0));
    let totals = tally.totals();
    let count = |prefix: &str| {
        totals
            .iter()
            .filter(|(o, _)| o.starts_with(prefix))
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    // the campaign is not vacuous: most runs met the damage and refused or routed around it
    assert!(
        count("refused") + count("recovered") > mutations,
        "{totals:?}"
    );
    // a garbled announcement is refused as what it is (it was a corrupt-blob string once)
    assert!(
        count("recovered") > 0
            && count("refused: Unreachable") > 0
            && count("refused: NotAVersion") > 0
            && count("recovered: Corrupt") > 0,
        "{totals:?}"
    );
}

/// Found by the campaign: a snapshot stored under another version's key has a valid checksum
/// and was served as that version. The consumer now checks the version in its header, refuses
/// it and reaches the version by another path (or keeps its state).
#[test]
fn a_snapshot_swapped_for_another_versions_is_refused() {
    use hollow::lifecycle::Step;
    use hollow::store::BlobStore;
    let f = corruption_campaign::Fixture::build(3, 8);
    let store: std::sync::Arc<dyn BlobStore> =
        std::sync::Arc::new(hollow::store::FolderStore::new(f.store_dir()).unwrap());
    let snapshots: Vec<u64> = store
        .list("snapshot/")
        .unwrap()
        .iter()
        .filter_map(|k| k.rsplit('/').next()?.parse().ok())
        .collect();
    let (a, b) = (snapshots[0], snapshots[1]);
    store
        .put(
            &Step::Snapshot(b).key(),
            &store.get(&Step::Snapshot(a).key()).unwrap(),
        )
        .unwrap();
    for mode in [hollow::MemoryMode::Heap, hollow::MemoryMode::Mapped] {
        let cache = f.dir.path().join(format!("cache-{mode:?}"));
        let c = hollow::Consumer::new(
            store.clone(),
            hollow::ConsumerConfig {
                mode,
                cache_dir: Some(cache),
            },
        );
        let report = c.update_to(b).unwrap();
        assert!(
            report.recovered_errors.iter().any(|e| matches!(
                &*e.error,
                hollow::Error::SnapshotVersion { key, expected, found }
                    if *key == Step::Snapshot(b).key()
                        && *expected == b
                        && *found == a.to_string()
            ) && e
                .to_string()
                .contains(&format!("holds version {a}, not {b}"))),
            "{:?}",
            report.recovered_errors
        );
        assert_eq!(
            corruption_campaign::contents(&f.ds, &c.current().unwrap().state).unwrap(),
            f.versions[&b]
        );
    }
    let st = hollow::lifecycle::load_version(store.clone(), b, hollow::MemoryMode::Heap).unwrap();
    assert_eq!(
        corruption_campaign::contents(&f.ds, &st).unwrap(),
        f.versions[&b]
    );
}
