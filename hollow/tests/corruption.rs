//! Mutation test: random byte flips and truncations of real snapshots never panic; they
//! either fail with a typed error or read (possibly wrong) values without going out of bounds.

mod common;

use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::{Bytes, Error, ReadState, TypeSchema, WriteState};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

fn snapshot(zstd: bool) -> Vec<u8> {
    let mut runner = TestRunner::deterministic();
    let things = proptest::collection::vec(common::thing(), 30).new_tree(&mut runner).unwrap().current();
    let mut ws = WriteState::new(common::schema());
    for t in &things {
        common::add(&mut ws, t);
    }
    write_snapshot(&ws, &SnapshotOptions { zstd_level: zstd.then_some(1), disable_fsst: false }).unwrap().0
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
        let mut runner = TestRunner::new(Config { cases: 600, ..Config::default() });
        runner
            .run(&(proptest::collection::vec((0..blob.len(), any::<u8>()), 1..6), any::<bool>()), |(flips, verify)| {
                let mut b = blob.clone();
                for (i, x) in flips {
                    b[i] ^= x | 1;
                }
                let r = if verify { ReadState::from_vec(b) } else { ReadState::from_bytes_unverified(Bytes::from_vec(b)) };
                if let Ok(s) = r {
                    exercise(&s);
                }
                Ok(())
            })
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
        assert!(matches!(e, Error::ChecksumMismatch { .. } | Error::BadMagic { .. } | Error::Version { .. } | Error::Corrupt(_) | Error::Truncated { .. }), "{e:?}");
    }
}

#[test]
fn truncations_are_typed_errors() {
    for zstd in [false, true] {
        let blob = snapshot(zstd);
        for len in (0..blob.len()).step_by(3) {
            let b = blob[..len].to_vec();
            let e = ReadState::from_bytes_unverified(Bytes::from_vec(b)).unwrap_err();
            assert!(matches!(e, Error::Truncated { .. } | Error::BadMagic { .. } | Error::Corrupt(_)), "len {len}: {e:?}");
        }
    }
}

#[test]
fn foreign_and_wrong_version_blobs() {
    assert!(matches!(ReadState::from_vec(b"PK\x03\x04 not a hollow blob at all, a zip".to_vec()), Err(Error::BadMagic { .. })));
    assert!(matches!(ReadState::from_vec(Vec::new()), Err(Error::BadMagic { .. })));
    let mut b = snapshot(false);
    b[8] = 99;
    assert!(matches!(ReadState::from_bytes_unverified(Bytes::from_vec(b)), Err(Error::Version { expected: 1, got: 99 })));
    let mut b = snapshot(false);
    b[12] = 1; // a delta where a snapshot is expected
    assert!(matches!(ReadState::from_bytes_unverified(Bytes::from_vec(b)), Err(Error::WrongBlobKind { .. })));
}
