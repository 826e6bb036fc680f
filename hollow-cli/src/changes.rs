//! `hollow diff` and `hollow history`: what changed between two versions, and when one
//! record changed (on `hollow::diff` and `hollow::history`).

use std::io::Write;

use hollow::lifecycle::{Consumer, ConsumerConfig};
use hollow::{FieldKind, ReadState, Value};
use serde_json::{json, Map, Value as Json};

use crate::cli::Cli;
use crate::dataset::{load, parse_key, pick_type};
use crate::fail::{fail, io_fail, lib, Failure};
use crate::render::{cell_text, record_json, value_text};
use crate::ui::{table, Cell, Paint, Tone};

/// The value at a dotted `path` of record `o` of `type_name` (null when a reference on the
/// way is null).
fn path_value<'a>(
    state: &'a ReadState,
    type_name: &str,
    mut o: u32,
    path: &str,
) -> Result<Value<'a>, Failure> {
    let err = lib("reading a key");
    let (indexes, _) = state.schema().resolve_path(type_name, path).map_err(&err)?;
    let mut t = type_name.to_owned();
    let last = indexes.len().saturating_sub(1);
    for (k, i) in indexes.into_iter().enumerate() {
        let view = state.object(&t).map_err(&err)?;
        let v = view.get(o, i).map_err(&err)?;
        if k == last {
            return Ok(v);
        }
        match (v, &view.schema().fields[i].kind) {
            (Value::Ref(r), FieldKind::Reference(next)) => {
                o = r;
                t = next.clone();
            }
            _ => return Ok(Value::Null),
        }
    }
    Ok(Value::Null)
}

/// A record's key for people: its key values joined by `|`.
fn key_text(
    state: &ReadState,
    type_name: &str,
    o: u32,
    fields: &[String],
) -> Result<String, Failure> {
    let parts = fields
        .iter()
        .map(|f| path_value(state, type_name, o, f).map(|v| value_text(&v)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join("|"))
}

#[allow(clippy::too_many_arguments)]
pub fn diff(
    cli: &Cli,
    dataset: &str,
    v1: u64,
    v2: u64,
    type_name: Option<&str>,
    key: &[String],
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let (_, _, a) = load(cli, dataset, Some(v1))?;
    let (_, _, b) = load(cli, dataset, Some(v2))?;
    let t = pick_type(&a, type_name)?;
    let key_fields: Vec<String> = if key.is_empty() {
        match a
            .schema()
            .object(&t)
            .map_err(lib("reading the schema"))?
            .primary_key
            .clone()
        {
            Some(pk) => pk,
            None => {
                return fail(
                    2,
                    format!("type {t:?} has no primary key: give --key FIELD"),
                )
            }
        }
    } else {
        key.to_vec()
    };
    let refs: Vec<&str> = key_fields.iter().map(String::as_str).collect();
    let d = hollow::diff::diff_by(&a, &b, &t, &refs).map_err(lib("diffing"))?;
    let mut added = Vec::new();
    for o in &d.added {
        added.push((
            key_text(&b, &t, *o, &key_fields)?,
            record_json(&b, &t, *o, 1)?,
        ));
    }
    let mut removed = Vec::new();
    for o in &d.removed {
        removed.push((
            key_text(&a, &t, *o, &key_fields)?,
            record_json(&a, &t, *o, 1)?,
        ));
    }
    let mut changed = Vec::new();
    for (oa, ob, fields) in &d.changed {
        let (ra, rb) = (record_json(&a, &t, *oa, 1)?, record_json(&b, &t, *ob, 1)?);
        let per_field: Vec<(String, Json, Json)> = fields
            .iter()
            .map(|f| (f.clone(), ra[f].clone(), rb[f].clone()))
            .collect();
        changed.push((key_text(&a, &t, *oa, &key_fields)?, per_field));
    }
    if cli.json {
        let j = json!({
            "dataset": dataset, "type": t, "from": v1, "to": v2, "key": key_fields,
            "added": added.iter().map(|(k, r)| json!({"key": k, "record": r})).collect::<Vec<_>>(),
            "removed": removed.iter().map(|(k, r)| json!({"key": k, "record": r})).collect::<Vec<_>>(),
            "changed": changed.iter().map(|(k, fs)| {
                let m: Map<String, Json> = fs.iter()
                    .map(|(f, x, y)| (f.clone(), json!({"before": x, "after": y})))
                    .collect();
                json!({"key": k, "fields": m})
            }).collect::<Vec<_>>(),
            "unchanged": d.unchanged,
        });
        writeln!(out, "{j}").map_err(io_fail)?;
        return Ok(0);
    }
    let mut rows: Vec<Vec<Cell>> = vec![["OP", "KEY", "FIELD", "BEFORE", "AFTER"]
        .into_iter()
        .map(Cell::from)
        .collect()];
    for (k, r) in &removed {
        rows.push(vec![
            Cell::toned("removed", Tone::Bad),
            k.clone().into(),
            "*".into(),
            r.to_string().into(),
            "-".into(),
        ]);
    }
    for (k, fs) in &changed {
        for (f, x, y) in fs {
            rows.push(vec![
                Cell::toned("changed", Tone::Changed),
                k.clone().into(),
                f.clone().into(),
                cell_text(x).into(),
                cell_text(y).into(),
            ]);
        }
    }
    for (k, r) in &added {
        rows.push(vec![
            Cell::toned("added", Tone::Good),
            k.clone().into(),
            "*".into(),
            "-".into(),
            r.to_string().into(),
        ]);
    }
    if rows.len() > 1 {
        table(out, Paint::detect(), true, rows)?;
    }
    writeln!(
        out,
        "{t} {v1} -> {v2}: {} added, {} removed, {} changed, {} unchanged",
        added.len(),
        removed.len(),
        changed.len(),
        d.unchanged
    )
    .map_err(io_fail)?;
    Ok(0)
}

/// The versions at which the record with primary key `key` changed. The change points come
/// from [`hollow::history::history`]; each entry's record is then rendered from its own
/// version's state (references followed `depth` levels) by one consumer walking forward
/// through those versions, so a change behind a reference shows what it points to.
pub fn history(
    cli: &Cli,
    dataset: &str,
    key: &str,
    type_name: Option<&str>,
    depth: u32,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let (tl, _, state) = load(cli, dataset, None)?;
    let t = pick_type(&state, type_name)?;
    let schema = state
        .schema()
        .object(&t)
        .map_err(lib("reading the schema"))?;
    let Some(pk) = schema.primary_key.clone() else {
        return fail(2, format!("type {t:?} has no primary key"));
    };
    let values = parse_key(&state, &t, &pk, key)?;
    drop(state);
    let entries = hollow::history::history(tl.store().clone(), &t, &values, 0, u64::MAX)
        .map_err(lib("reading the history"))?;
    if entries.iter().all(|e| e.values.is_none()) {
        return fail(3, format!("no {t} with key {key:?} in any version"));
    }
    let consumer = Consumer::new(tl.store().clone(), ConsumerConfig::default());
    let mut records = Vec::with_capacity(entries.len());
    for e in &entries {
        match e.ordinal {
            None => records.push(Json::Null),
            Some(o) => {
                consumer
                    .update_to(e.version)
                    .map_err(lib(&format!("loading version {}", e.version)))?;
                let loaded = consumer
                    .current()
                    .ok_or_else(|| Failure(5, "the consumer holds no state".to_owned()))?;
                records.push(record_json(&loaded.state, &t, o, depth)?);
            }
        }
    }
    let mut changes = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let before = i.checked_sub(1).map(|p| &records[p]);
        let change = match (before, &records[i]) {
            (None, Json::Null) => "absent",
            (None, _) => "present",
            (Some(Json::Null), Json::Null) => "absent",
            (Some(Json::Null), _) => "added",
            (Some(_), Json::Null) => "removed",
            (Some(_), _) if e.changed.is_empty() => "unchanged",
            (Some(_), _) => "changed",
        };
        changes.push(change);
    }
    if cli.json {
        let list: Vec<Json> = entries
            .iter()
            .zip(&changes)
            .zip(&records)
            .map(|((e, change), rec)| {
                json!({"version": e.version, "change": change, "changed": e.changed,
                       "ordinal": e.ordinal, "record": rec})
            })
            .collect();
        let j = json!({"dataset": dataset, "type": t, "key": key, "entries": list});
        writeln!(out, "{j}").map_err(io_fail)?;
        return Ok(0);
    }
    let mut rows: Vec<Vec<Cell>> = vec![["VERSION", "CHANGE", "FIELD", "BEFORE", "AFTER"]
        .into_iter()
        .map(Cell::from)
        .collect()];
    for (i, (e, change)) in entries.iter().zip(&changes).enumerate() {
        let tone = match *change {
            "added" | "present" => Tone::Good,
            "removed" => Tone::Bad,
            "unchanged" | "absent" => Tone::Dim,
            _ => Tone::Changed,
        };
        let version = e.version.to_string();
        let rec = &records[i];
        let before = i.checked_sub(1).map_or(&Json::Null, |p| &records[p]);
        match *change {
            "changed" => {
                for f in &e.changed {
                    rows.push(vec![
                        version.clone().into(),
                        Cell::toned(*change, tone),
                        f.clone().into(),
                        cell_text(&before[f]).into(),
                        cell_text(&rec[f]).into(),
                    ]);
                }
            }
            _ => {
                let (x, y) = match *change {
                    "removed" => (before.to_string(), "-".to_owned()),
                    "absent" | "unchanged" => ("-".to_owned(), "-".to_owned()),
                    _ => ("-".to_owned(), rec.to_string()),
                };
                rows.push(vec![
                    version.into(),
                    Cell::toned(*change, tone),
                    "*".into(),
                    x.into(),
                    y.into(),
                ]);
            }
        }
    }
    table(out, Paint::detect(), true, rows)?;
    Ok(0)
}
