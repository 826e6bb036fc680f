//! `hollow stats`: what a version holds and what it costs, per type and per field.
//!
//! Per object type: records, holes (ordinals below the bound that hold no record, left by
//! deletes until a snapshot compacts them) and bytes; per field: bits per record, the bytes
//! of its packed column, null count and, for strings and bytes, the distinct values, the
//! bytes of the pool they take (each distinct value once, decoded) and the dedup ratio
//! (bytes the records refer to / pool bytes). Collections: records, holes and elements.
//! Computed from the read state in one pass per field.

use std::collections::HashMap;
use std::io::Write;

use hollow::lifecycle::Step;
use hollow::lifecycle::Timeline;
use hollow::{FieldKind, Primitive, ReadState, TypeSchema, Value};
use serde_json::{json, Value as Json};

use crate::browse::{blob_size, kind_text};
use crate::cli::Cli;
use crate::fail::{io_fail, lib, Failure};
use crate::ui::{table, Cell, Paint};

struct FieldStats {
    name: String,
    kind: String,
    bits: u8,
    packed_bytes: u64,
    nulls: u64,
    /// For strings and bytes: (distinct values, pool bytes, referenced bytes).
    pool: Option<(u64, u64, u64)>,
}

struct TypeStats {
    name: String,
    kind: &'static str,
    records: u64,
    holes: u64,
    bytes: Option<u64>,
    elements: Option<u64>,
    fields: Vec<FieldStats>,
}

fn object_stats(state: &ReadState, name: &str) -> Result<TypeStats, Failure> {
    let err = lib("reading the type");
    let view = state.object(name).map_err(&err)?;
    let bound = view.ordinal_bound();
    let mut fields = Vec::new();
    let mut bytes = bound.div_ceil(8);
    for (c, f) in view.columns().iter().zip(&view.schema().fields) {
        let bits = c.width();
        let packed_bytes = (bits as u64 * bound).div_ceil(8);
        let mut nulls = 0;
        let pooled = matches!(
            f.kind,
            FieldKind::Primitive(Primitive::String | Primitive::Bytes)
        );
        let mut lens: HashMap<u64, u64> = HashMap::new();
        let mut referenced = 0u64;
        for o in view.ordinals() {
            let Some(id) = c.raw(o) else {
                nulls += 1;
                continue;
            };
            if pooled {
                let len = match lens.get(&id) {
                    Some(l) => *l,
                    None => {
                        let l = match c.get(o).map_err(&err)? {
                            Value::Str(s) => s.len() as u64,
                            Value::Bytes(b) => b.len() as u64,
                            _ => 0,
                        };
                        lens.insert(id, l);
                        l
                    }
                };
                referenced += len;
            }
        }
        let pool = pooled.then(|| (lens.len() as u64, lens.values().sum::<u64>(), referenced));
        bytes += packed_bytes + pool.map_or(0, |p| p.1);
        fields.push(FieldStats {
            name: f.name.clone(),
            kind: kind_text(&f.kind),
            bits,
            packed_bytes,
            nulls,
            pool,
        });
    }
    Ok(TypeStats {
        name: name.to_owned(),
        kind: "object",
        records: view.len(),
        holes: bound - view.len(),
        bytes: Some(bytes),
        elements: None,
        fields,
    })
}

fn collection_stats(state: &ReadState, t: &TypeSchema) -> Result<TypeStats, Failure> {
    let err = lib("reading the type");
    let name = t.name();
    let mut elements = 0u64;
    match t {
        TypeSchema::List { .. } => {
            let l = state.list(name).map_err(&err)?;
            for o in l.ordinals() {
                elements += l.size(o).map_err(&err)?;
            }
        }
        TypeSchema::Set { .. } => {
            let s = state.set(name).map_err(&err)?;
            for o in s.ordinals() {
                elements += s.elements(o).map_err(&err)?.count() as u64;
            }
        }
        _ => {
            let m = state.map(name).map_err(&err)?;
            for o in m.ordinals() {
                elements += m.entries(o).map_err(&err)?.count() as u64;
            }
        }
    }
    let records = state.record_count(name).map_err(&err)?;
    let bound = state.ordinal_bound(name).map_err(&err)?;
    Ok(TypeStats {
        name: name.to_owned(),
        kind: t.kind_name(),
        records,
        holes: bound.saturating_sub(records),
        bytes: None,
        elements: Some(elements),
        fields: Vec::new(),
    })
}

fn ratio(pool: u64, referenced: u64) -> Option<f64> {
    (pool > 0).then(|| referenced as f64 / pool as f64)
}

pub fn stats(
    cli: &Cli,
    t: &Timeline,
    v: u64,
    state: &ReadState,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let mut types = Vec::new();
    for ts in state.schema().types() {
        types.push(match ts {
            TypeSchema::Object(o) => object_stats(state, &o.name)?,
            other => collection_stats(state, other)?,
        });
    }
    let snapshot = blob_size(&**t.store(), &Step::Snapshot(v).key())?;
    if cli.json {
        let types: Vec<Json> = types
            .iter()
            .map(|t| {
                let fields: Vec<Json> = t
                    .fields
                    .iter()
                    .map(|f| {
                        let mut j = json!({
                            "name": f.name, "kind": f.kind, "bits_per_record": f.bits,
                            "packed_bytes": f.packed_bytes, "nulls": f.nulls,
                        });
                        if let Some((distinct, pool, referenced)) = f.pool {
                            j["distinct_values"] = json!(distinct);
                            j["pool_bytes"] = json!(pool);
                            j["referenced_bytes"] = json!(referenced);
                            j["dedup_ratio"] = json!(ratio(pool, referenced));
                        }
                        j
                    })
                    .collect();
                json!({
                    "name": t.name, "kind": t.kind, "records": t.records, "holes": t.holes,
                    "bytes": t.bytes, "elements": t.elements, "fields": fields,
                })
            })
            .collect();
        let j = json!({
            "version": v, "snapshot_bytes": snapshot, "heap_bytes": state.heap_bytes(),
            "types": types,
        });
        writeln!(out, "{j}").map_err(io_fail)?;
        return Ok(0);
    }
    let dash = || "-".to_owned();
    let snapshot = match snapshot {
        Some(s) => format!("a {s}-byte snapshot"),
        None => "no snapshot of its own (reached by deltas)".to_owned(),
    };
    writeln!(
        out,
        "version {v}: {} bytes in memory; {snapshot}",
        state.heap_bytes()
    )
    .map_err(io_fail)?;
    let head = [
        "TYPE", "FIELD", "KIND", "RECORDS", "HOLES", "BITS", "BYTES", "NULLS", "DISTINCT", "POOL",
        "DEDUP",
    ];
    let mut rows: Vec<Vec<Cell>> = vec![head.iter().map(|h| Cell::from(*h)).collect()];
    for t in &types {
        rows.push(vec![
            t.name.clone().into(),
            "*".into(),
            t.kind.into(),
            t.records.to_string().into(),
            t.holes.to_string().into(),
            "-".into(),
            t.bytes.map_or_else(dash, |b| b.to_string()).into(),
            "-".into(),
            t.elements
                .map_or_else(dash, |e| format!("{e} elements"))
                .into(),
        ]);
        for f in &t.fields {
            let (distinct, pool, dedup) = match f.pool {
                Some((d, p, r)) => (
                    d.to_string(),
                    p.to_string(),
                    ratio(p, r).map_or_else(dash, |x| format!("{x:.1}x")),
                ),
                None => (dash(), dash(), dash()),
            };
            rows.push(vec![
                "".into(),
                f.name.clone().into(),
                f.kind.clone().into(),
                "".into(),
                "".into(),
                f.bits.to_string().into(),
                f.packed_bytes.to_string().into(),
                f.nulls.to_string().into(),
                distinct.into(),
                pool.into(),
                dedup.into(),
            ]);
        }
    }
    table(out, Paint::detect(), true, rows)?;
    Ok(0)
}
