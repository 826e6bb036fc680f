//! The browsing subcommands: datasets, versions, schema and records by key.

use std::io::Write;

use hollow::lifecycle::Step;
use hollow::store::BlobStore;
use hollow::{FieldKind, ReadState, TypeSchema};
use serde_json::{json, Value as Json};

use crate::cli::Cli;
use crate::dataset::{dataset_names, parse_key, pick_type, root, timeline};
use crate::fail::{fail, io_fail, lib, Failure};
use crate::render::record_json;
use crate::ui::plain_table;

pub fn datasets(cli: &Cli, out: &mut impl Write) -> Result<u8, Failure> {
    let names = dataset_names(&*root(cli)?)?;
    if cli.json {
        writeln!(out, "{}", json!(names)).map_err(io_fail)?;
    } else {
        for n in names {
            writeln!(out, "{n}").map_err(io_fail)?;
        }
    }
    Ok(0)
}

pub fn blob_size(store: &dyn BlobStore, key: &str) -> Result<Option<u64>, Failure> {
    // The store API has no size query: read the blob (versions listings are small).
    store
        .get_opt(key)
        .map(|b| b.map(|b| b.len() as u64))
        .map_err(|e| Failure(4, format!("reading {key}: {e}")))
}

pub fn versions(cli: &Cli, dataset: &str, out: &mut impl Write) -> Result<u8, Failure> {
    let t = timeline(cli, dataset)?;
    let idx = t.index().map_err(lib("listing versions"))?;
    let announced = t.announced().map_err(lib("reading the announcement"))?;
    let pinned = t.pinned().map_err(lib("reading the pin"))?;
    let store = t.store().clone();
    let mut rows = Vec::new();
    for v in idx.versions() {
        let meta = t.meta(v).map_err(lib("reading metadata"))?;
        let snap = blob_size(&*store, &Step::Snapshot(v).key())?;
        let prev = meta.and_then(|m| m.1);
        let delta = match prev {
            Some(p) => blob_size(&*store, &Step::Delta(p, v).key())?,
            None => None,
        };
        let reverse = match prev {
            Some(p) => blob_size(&*store, &Step::Reverse(v, p).key())?,
            None => None,
        };
        let header = match snap {
            Some(_) => store
                .get(&Step::Snapshot(v).key())
                .ok()
                .and_then(|b| ReadState::from_vec(b).ok())
                .map(|s| s.header().clone())
                .unwrap_or_default(),
            None => Default::default(),
        };
        rows.push(json!({
            "version": v,
            "time_ms": meta.map(|m| m.0),
            "time": meta.map(|m| utc(m.0)),
            "previous": prev,
            "snapshot_bytes": snap,
            "delta_bytes": delta,
            "reverse_bytes": reverse,
            "header": header,
            "announced": announced == Some(v),
            "pinned": pinned == Some(v),
        }));
    }
    if cli.json {
        writeln!(out, "{}", Json::Array(rows)).map_err(io_fail)?;
        return Ok(0);
    }
    let cell = |j: &Json| match j {
        Json::Null => "-".to_owned(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut table = vec![vec![
        "VERSION".to_owned(),
        "PUBLISHED (UTC)".into(),
        "SNAPSHOT".into(),
        "DELTA".into(),
        "REVERSE".into(),
        "FLAGS".into(),
        "HEADER".into(),
    ]];
    for r in &rows {
        let mut flags = Vec::new();
        if r["announced"] == true {
            flags.push("announced");
        }
        if r["pinned"] == true {
            flags.push("pinned");
        }
        let header = r["header"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", cell(v)))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        table.push(vec![
            cell(&r["version"]),
            cell(&r["time"]),
            cell(&r["snapshot_bytes"]),
            cell(&r["delta_bytes"]),
            cell(&r["reverse_bytes"]),
            if flags.is_empty() {
                "-".to_owned()
            } else {
                flags.join(",")
            },
            header,
        ]);
    }
    plain_table(out, true, &table)?;
    Ok(0)
}

pub fn kind_text(k: &FieldKind) -> String {
    match k {
        FieldKind::Reference(t) => format!("-> {t}"),
        other => other.name().to_owned(),
    }
}

pub fn schema(cli: &Cli, v: u64, state: &ReadState, out: &mut impl Write) -> Result<u8, Failure> {
    let types: Vec<Json> = state
        .schema()
        .types()
        .iter()
        .map(|t| match t {
            TypeSchema::Object(o) => json!({
                "name": o.name, "kind": "object", "primary_key": o.primary_key,
                "fields": o.fields.iter().map(|f| json!({"name": f.name, "kind": kind_text(&f.kind)})).collect::<Vec<_>>(),
            }),
            other => json!({"name": other.name(), "kind": other.kind_name(), "elements": other.referenced_types()}),
        })
        .collect();
    if cli.json {
        writeln!(out, "{}", json!({"version": v, "types": types})).map_err(io_fail)?;
        return Ok(0);
    }
    for t in state.schema().types() {
        match t {
            TypeSchema::Object(o) => {
                let pk = o
                    .primary_key
                    .as_ref()
                    .map(|k| format!(" (primary key: {})", k.join(", ")))
                    .unwrap_or_default();
                writeln!(out, "object {}{pk}", o.name).map_err(io_fail)?;
                let rows: Vec<Vec<String>> = o
                    .fields
                    .iter()
                    .map(|f| vec![format!("  {}", f.name), kind_text(&f.kind)])
                    .collect();
                plain_table(out, false, &rows)?;
            }
            other => writeln!(
                out,
                "{} {} of {}",
                other.kind_name(),
                other.name(),
                other.referenced_types().join(", ")
            )
            .map_err(io_fail)?,
        }
    }
    Ok(0)
}

pub fn get(
    state: &ReadState,
    t: Option<&str>,
    keys: &[String],
    depth: u32,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let t = pick_type(state, t)?;
    let schema = state
        .schema()
        .object(&t)
        .map_err(lib("reading the schema"))?;
    let Some(pk) = schema.primary_key.clone() else {
        return fail(2, format!("type {t:?} has no primary key"));
    };
    let index = hollow::index::PrimaryKeyIndex::for_primary_key(state, &t)
        .map_err(lib("indexing the primary key"))?;
    for key in keys {
        let values = parse_key(state, &t, &pk, key)?;
        let Some(o) = index
            .try_get(state, &values)
            .map_err(lib("looking up the key"))?
        else {
            return fail(3, format!("no {t} with key {key:?}"));
        };
        let j = record_json(state, &t, o, depth)?;
        writeln!(out, "{j}").map_err(io_fail)?;
    }
    Ok(0)
}

/// Milliseconds since the epoch as an RFC 3339 UTC time to the second.
pub fn utc(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_seconds(t).to_string()
}
