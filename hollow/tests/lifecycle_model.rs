//! Model-based lifecycle test: random upserts and deletes through many producer cycles
//! (with a producer restart in the middle); after every version, every reverse step and
//! random jumps, heap and mapped consumers equal a plain `BTreeMap` model, and every
//! reference points at a populated record.

mod common;

use std::collections::BTreeMap;

use common::items::{op, record, Model, Op, SCHEMA};
use hollow::dataset::{DatasetReader, DatasetSchema, FieldValue};
use hollow::lifecycle::CycleOutcome;
use hollow::ReadState;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn contents(ds: &DatasetSchema, state: &ReadState) -> Model {
    // states reached by deltas hold strings in overflow pools: the column scan must see them too
    common::assert_scan_equals_get(state);
    let r = DatasetReader::new(ds, state).unwrap();
    let mut out = BTreeMap::new();
    for o in r.root().ordinals() {
        let rec = r
            .record(o)
            .expect("every reference points at a populated record");
        let FieldValue::Int(id) = rec[0] else {
            panic!("id")
        };
        assert!(out.insert(id, rec).is_none(), "duplicate key {id}");
    }
    out
}

fn run(cycles: Vec<Vec<Op>>, jumps: Vec<usize>) {
    let ds = DatasetSchema::from_json(SCHEMA).unwrap();
    let rig = common::Rig::new();
    let mut producer = rig.producer(ds.schema_set().unwrap(), 4);
    let mut model: Model = BTreeMap::new();
    let mut versions: BTreeMap<u64, Model> = BTreeMap::new();
    let n = cycles.len();
    for (i, ops) in cycles.into_iter().enumerate() {
        if i == n / 2 {
            // a restarted producer continues the same timeline
            drop(producer);
            producer = rig.producer(ds.schema_set().unwrap(), 4);
        }
        let before = model.clone();
        let outcome = producer
            .cycle(|c| {
                for op in &ops {
                    match op {
                        Op::Upsert(id, ..) => {
                            c.upsert_record(&ds, &record(op))?;
                            model.insert(*id, record(op));
                        }
                        Op::Delete(id) => {
                            c.delete_key(&ds, &id.to_string())?;
                            model.remove(id);
                        }
                    }
                }
                c.set_header("cycle", &i.to_string());
                Ok(())
            })
            .unwrap();
        match outcome {
            CycleOutcome::Unchanged => assert_eq!(
                model, before,
                "cycle {i}: unchanged outcome but the model changed"
            ),
            CycleOutcome::Published { version, .. } => {
                assert_ne!(
                    model, before,
                    "cycle {i}: published a version although nothing changed"
                );
                versions.insert(version, model.clone());
                for c in rig.consumers() {
                    c.refresh().unwrap();
                    let cur = c.current().unwrap();
                    assert_eq!(cur.version, version);
                    assert_eq!(
                        contents(&ds, &cur.state),
                        model,
                        "cycle {i} version {version}"
                    );
                    assert_eq!(cur.state.header().get("cycle"), Some(&i.to_string()));
                }
            }
            CycleOutcome::ValidationFailed { validator, reason } => panic!("{validator}: {reason}"),
        }
    }
    // every reverse step back to the first, and a fresh consumer at each version
    rig.check_history(&versions, |state| contents(&ds, state));
    // random jumps, from wherever each consumer is
    let vs: Vec<u64> = versions.keys().copied().collect();
    for c in rig.consumers() {
        for j in &jumps {
            if vs.is_empty() {
                break;
            }
            let v = vs[j % vs.len()];
            c.update_to(v).unwrap();
            assert_eq!(
                contents(&ds, &c.current().unwrap().state),
                versions[&v],
                "jump to {v}"
            );
        }
    }
}

#[test]
fn lifecycle_matches_model() {
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    runner
        .run(
            &(
                proptest::collection::vec(proptest::collection::vec(op(40, 3, 30), 0..8), 1..16),
                proptest::collection::vec(any::<usize>(), 0..8),
            ),
            |(cycles, jumps)| {
                run(cycles, jumps);
                Ok(())
            },
        )
        .unwrap();
}
