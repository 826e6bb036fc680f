//! The bodies of the fuzz targets (`fuzz_targets/*.rs` are one-line wrappers), also replayed
//! by the normal test suite (`hollow/tests/fuzz_regressions.rs` includes this file by path and
//! runs the seed corpora and every past crash through them). Errors are fine, panics are not.
//!
//! * [`snapshot`]: a snapshot blob from arbitrary bytes, then every record and field is read;
//! * [`delta`]: arbitrary delta bytes applied to a small fixed valid state;
//! * [`message`]: the producer's Kafka message decoder for the seven `schemas/*.json`;
//! * [`schema`]: dataset schema parsing, then record parsing against the parsed schema.
//!
//! Blob inputs start with a mode byte: bit 0 rewrites the blob's CRC so that the fuzzer gets
//! past the checksum to the body parsers, bit 1 (snapshots) also runs the verifying load.

use std::sync::OnceLock;

use hollow::blob::{apply_delta, verify_checksum};
use hollow::dataset::{DatasetReader, DatasetSchema};
use hollow::{Bytes, DataError, ReadState, TypeSchema, WriteState};

/// The producer's message decoder, included by path so that rdkafka's C library is not built
/// under the fuzzer.
#[allow(dead_code, clippy::all)]
#[path = "../../producer/src/message.rs"]
pub mod message;

/// Version 1 of the corruption campaign's store (`benches --bench corruption -- --keep-store`):
/// the state the delta target applies deltas to (its deltas seed `corpus/delta/`).
static BASE: &[u8] = include_bytes!("../base/items-v1.snapshot");

const SCHEMAS: [&str; 7] = [
    include_str!("../../schemas/assets.json"),
    include_str!("../../schemas/countries.json"),
    include_str!("../../schemas/localizations.json"),
    include_str!("../../schemas/ratings.json"),
    include_str!("../../schemas/rights.json"),
    include_str!("../../schemas/titles.json"),
    include_str!("../../schemas/videos.json"),
];

fn base() -> &'static ReadState {
    static STATE: OnceLock<ReadState> = OnceLock::new();
    STATE.get_or_init(|| {
        ReadState::from_vec(BASE.to_vec()).expect("the checked-in base snapshot reads")
    })
}

fn schemas() -> &'static [DatasetSchema] {
    static S: OnceLock<Vec<DatasetSchema>> = OnceLock::new();
    S.get_or_init(|| {
        SCHEMAS
            .iter()
            .map(|s| DatasetSchema::from_json(s).expect("a checked-in schema parses"))
            .collect()
    })
}

/// Target `snapshot`.
pub fn snapshot(data: &[u8]) {
    let Some((mode, blob)) = blob_input(data) else {
        return;
    };
    if mode & 2 == 2 {
        if let Ok(s) = ReadState::from_vec(blob.clone()) {
            exercise(&s);
        }
    }
    if let Ok(s) = ReadState::from_bytes_unverified(Bytes::from_vec(blob)) {
        exercise(&s);
    }
}

/// Target `delta`: must fail with an error or give a state that reads without panic.
pub fn delta(data: &[u8]) {
    let Some((_mode, blob)) = blob_input(data) else {
        return;
    };
    if let Ok(applied) = apply_delta(base(), &Bytes::from_vec(blob.clone())) {
        exercise(&applied.state);
        // the same delta again on top of the result, as a consumer that follows a second
        // delta does (ordinals removed twice, added over existing ones)
        if let Ok(again) = apply_delta(&applied.state, &Bytes::from_vec(blob)) {
            exercise(&again.state);
        }
    }
}

/// Target `message`. Input: byte 0 picks the schema (mod 7), byte 1 the shape (bit 0: key
/// present, bit 1: value present), byte 2 the key length; then the key, then the value.
pub fn message(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let ds = &schemas()[data[0] as usize % SCHEMAS.len()];
    let shape = data[1];
    let rest = &data[3..];
    let klen = (data[2] as usize).min(rest.len());
    let (key, value) = rest.split_at(klen);
    let key = (shape & 1 == 1).then_some(key);
    let value = (shape & 2 == 2).then_some(value);
    match message::decode(ds, key, value) {
        Ok(message::Change::Upsert { record, .. }) => {
            // what the service does next with an accepted record
            let _ = ds.to_json(&record);
            let mut ws = WriteState::new(ds.schema_set().expect("schema set"));
            ds.add(&mut ws, &record)
                .expect("an accepted record is added");
        }
        Ok(message::Change::Delete { .. }) | Err(_) => {}
    }
}

/// Target `schema`. Input: schema JSON, a 0 byte, record JSON. A record the schema accepts
/// must be added, written to a snapshot and read back.
pub fn schema(data: &[u8]) {
    let (schema, record) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(schema) else {
        return;
    };
    let Ok(ds) = DatasetSchema::from_json(text) else {
        return;
    };
    let set = ds.schema_set().expect("a parsed schema has a schema set");
    let Ok(rec) = ds.parse_json(record) else {
        return;
    };
    let _ = hollow::key::of_record(&ds, &rec);
    let _ = ds.to_json(&rec);
    let mut ws = WriteState::new(set);
    ds.add(&mut ws, &rec).expect("a parsed record is added");
    let (blob, _) = hollow::blob::write_snapshot(&ws, &hollow::blob::SnapshotOptions::default())
        .expect("a state is written");
    let state = ReadState::from_vec(blob).expect("a snapshot just written reads back");
    let r = DatasetReader::new(&ds, &state).expect("a dataset reader over its own state");
    for o in r.root().ordinals() {
        r.record(o).expect("a record just written reads back");
    }
}

/// Splits a fuzz input into (mode byte, blob). Mode bit 0: rewrite the blob's CRC so the
/// checksum check passes and the body parsers see the mutated bytes.
pub fn blob_input(data: &[u8]) -> Option<(u8, Vec<u8>)> {
    let (&mode, rest) = data.split_first()?;
    let mut blob = rest.to_vec();
    if mode & 1 == 1 {
        fix_checksum(&mut blob);
    }
    Some((mode, blob))
}

/// Rewrites bytes 20..24 (the CRC of a blob) with the checksum of the rest, if the preamble parses.
pub fn fix_checksum(blob: &mut [u8]) {
    if let Err(DataError::ChecksumMismatch { computed, .. }) = verify_checksum(blob) {
        blob[20..24].copy_from_slice(&computed.to_le_bytes());
    }
}

/// Reads every record and every field of every type, and converts the state back to a write
/// state and a snapshot, as producers and mapped consumers do.
pub fn exercise(state: &ReadState) {
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
                    for o in v.ordinals().chain([u32::MAX]) {
                        if let Ok(it) = v.elements(o) {
                            it.count();
                        }
                        let _ = v.contains(o, 1);
                    }
                }
            }
            TypeSchema::Map { .. } => {
                if let Ok(v) = state.map(name) {
                    for o in v.ordinals().chain([u32::MAX]) {
                        if let Ok(it) = v.entries(o) {
                            it.count();
                        }
                        let _ = v.get(o, 2);
                    }
                }
            }
        }
    }
    let _ = state.verify();
    if let Ok(ws) = state.to_write_state() {
        let _ = hollow::blob::write_snapshot(&ws, &hollow::blob::SnapshotOptions::default());
    }
    let _ = state.write_snapshot(&hollow::blob::SnapshotOptions::default());
}
