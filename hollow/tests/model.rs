//! Model-based test: random record sets through write → snapshot → read (heap and mapped)
//! equal a plain `BTreeMap` model, and every reference points at a populated record.

mod common;

use std::collections::BTreeMap;

use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::{OpenOptions, ReadState, WriteState};
use proptest::prelude::*;

fn check(things: &[common::Thing], opts: &SnapshotOptions) {
    let mut ws = WriteState::new(common::schema());
    ws.set_header("producer.offsets", "assets:0=42");
    let mut model: BTreeMap<u32, common::Thing> = BTreeMap::new();
    for t in things {
        let o = common::add(&mut ws, t);
        // deduplication: an identical record gets the same ordinal
        if let Some(prev) = model.get(&o) {
            assert_eq!(prev, t, "two different records share ordinal {o}");
        }
        model.insert(o, t.clone());
    }
    // identical records deduplicate
    let distinct: std::collections::HashSet<String> =
        things.iter().map(|t| format!("{t:?}")).collect();
    assert_eq!(model.len(), distinct.len());
    let (blob, _) = write_snapshot(&ws, opts).unwrap();
    let heap = ReadState::from_vec(blob.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap");
    std::fs::write(&path, &blob).unwrap();
    let mapped = ReadState::open(&path, OpenOptions::mapped()).unwrap();
    mapped.verify().unwrap();
    for state in [&heap, &mapped] {
        assert_eq!(
            state.header().get("producer.offsets").map(String::as_str),
            Some("assets:0=42")
        );
        let view = state.object("Thing").unwrap();
        assert_eq!(view.len(), model.len() as u64);
        let ords: Vec<u32> = view.ordinals().collect();
        assert_eq!(ords, model.keys().copied().collect::<Vec<_>>());
        for (o, t) in &model {
            assert_eq!(&common::read(state, *o), t, "ordinal {o}");
        }
        common::assert_scan_equals_get(state);
    }
    assert_eq!(common::dump(&heap), common::dump(&mapped));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn roundtrip_plain(things in proptest::collection::vec(common::thing(), 0..40)) {
        check(&things, &SnapshotOptions::default());
    }

    #[test]
    fn roundtrip_zstd_no_fsst(things in proptest::collection::vec(common::thing(), 0..40)) {
        check(&things, &SnapshotOptions { zstd_level: Some(1), disable_fsst: true });
    }

    #[test]
    fn duplicates_share_ordinals(things in proptest::collection::vec(common::thing(), 1..10)) {
        let mut doubled = things.clone();
        doubled.extend(things.iter().cloned());
        check(&doubled, &SnapshotOptions::default());
    }
}

#[test]
fn empty_state() {
    check(&[], &SnapshotOptions::default());
}

#[test]
fn removed_ordinals_are_holes_and_reused() {
    let mut ws = WriteState::new(common::schema());
    let a = ws.add_object("Person", &[hollow::Value::str("a")]).unwrap();
    let b = ws.add_object("Person", &[hollow::Value::str("b")]).unwrap();
    assert!(ws.remove("Person", a).unwrap());
    let (blob, _) = write_snapshot(&ws, &SnapshotOptions::default()).unwrap();
    let r = ReadState::from_vec(blob).unwrap();
    let v = r.object("Person").unwrap();
    assert!(!v.is_populated(a));
    assert!(v.is_populated(b));
    assert!(v.get(a, 0).is_err());
    assert_eq!(
        ws.add_object("Person", &[hollow::Value::str("c")]).unwrap(),
        a,
        "freed ordinal reused"
    );
}

#[test]
fn i64_min_is_not_null() {
    let t = common::Thing {
        b: None,
        i: Some(i32::MIN),
        l: Some(i64::MIN),
        f: None,
        d: None,
        s: None,
        z: None,
        by: None,
        person: None,
        tags: None,
        tagset: None,
        tagmap: None,
    };
    let mut u = t.clone();
    u.l = Some(i64::MAX);
    let mut n = t.clone();
    n.l = None;
    check(&[t, u, n], &SnapshotOptions::default());
}
