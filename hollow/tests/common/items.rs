//! The `items` dataset of the lifecycle model tests: its schema, random upserts and deletes
//! by key, and the plain model (key → record) they are checked against.

use std::collections::BTreeMap;

use hollow::dataset::{FieldValue, Record};
use proptest::prelude::*;

/// Every kind a dataset field can have: a key, a string, a nullable int, a list, an FSST
/// string and a nullable i64 that takes its extreme values.
pub const SCHEMA: &str = r#"{"dataset": "items", "type": "Item", "primary_key": ["id"], "fields": [
  {"name": "id", "kind": "i64"},
  {"name": "name", "kind": "string"},
  {"name": "score", "kind": "i32", "nullable": true},
  {"name": "tags", "kind": "string", "list": true},
  {"name": "note", "kind": "string", "nullable": true, "compression": "fsst"},
  {"name": "big", "kind": "i64", "nullable": true}
]}"#;

/// One change: an upsert of every field, or a delete by key.
#[derive(Debug, Clone)]
pub enum Op {
    Upsert(
        i64,
        String,
        Option<i64>,
        Vec<String>,
        Option<String>,
        Option<i64>,
    ),
    Delete(i64),
}

/// Random changes over keys `0..keys`, scores in `-spread..spread`, notes of up to
/// `note_len` characters.
pub fn op(keys: i64, spread: i64, note_len: usize) -> impl Strategy<Value = Op> {
    let id = 0i64..keys;
    let note = proptest::string::string_regex(&format!("[a-b ]{{0,{note_len}}}")).expect("regex");
    prop_oneof![
        4 => (id.clone(), "[a-c]{0,2}", proptest::option::of(-spread..spread), proptest::collection::vec("[x-z]{1}", 0..3), proptest::option::of(note),
              proptest::option::of(prop_oneof![Just(i64::MIN), Just(i64::MAX), (1 - spread)..(spread - 1)]))
            .prop_map(|(i, n, s, t, no, b)| Op::Upsert(i, n, s, t, no, b)),
        1 => id.prop_map(Op::Delete),
    ]
}

/// The record an upsert writes.
pub fn record(op: &Op) -> Record {
    match op {
        Op::Upsert(id, name, score, tags, note, big) => vec![
            FieldValue::Int(*id),
            FieldValue::Str(name.clone()),
            score.map_or(FieldValue::Null, FieldValue::Int),
            FieldValue::List(tags.iter().map(|t| FieldValue::Str(t.clone())).collect()),
            note.clone().map_or(FieldValue::Null, FieldValue::Str),
            big.map_or(FieldValue::Null, FieldValue::Int),
        ],
        Op::Delete(_) => unreachable!("a delete writes no record"),
    }
}

/// The plain model: key → record.
pub type Model = BTreeMap<i64, Record>;
