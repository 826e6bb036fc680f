//! `hollow query`: the records of a type whose fields equal given values.
//!
//! When the conditions name exactly the fields of the type's primary key, the lookup goes
//! through a [`PrimaryKeyIndex`]; otherwise the type is scanned (a column scan of the first
//! condition's field when it is a direct field, then the other conditions on the matches).
//! Which method was used is said on stderr, or in the `method` member of the JSON output.

use std::io::Write;

use hollow::index::PrimaryKeyIndex;
use hollow::{FieldKind, ObjectView, ReadState, Value};
use serde_json::json;

use crate::cli::Cli;
use crate::dataset::{parse_key_value, pick_type};
use crate::fail::{fail, io_fail, lib, Failure};
use crate::render::{cell_text, record_json};
use crate::ui::{table, Cell, Paint};

/// One `FIELD=VALUE` condition, resolved against the schema.
struct Condition<'a> {
    path: String,
    /// The views and field indexes along the path (references followed).
    steps: Vec<(ObjectView<'a>, usize)>,
    value: Value<'static>,
}

fn parse_condition<'a>(
    state: &'a ReadState,
    type_name: &str,
    text: &str,
) -> Result<Condition<'a>, Failure> {
    let Some((path, value)) = text.split_once('=') else {
        return fail(2, format!("--where {text:?} is not FIELD=VALUE"));
    };
    let path = path.trim();
    let err = lib("reading the schema");
    let (indexes, kind) = state.schema().resolve_path(type_name, path).map_err(|e| {
        let mut f = err(e);
        f.1 = format!("--where {text:?}: {}", f.1);
        f
    })?;
    let mut steps = Vec::new();
    let mut t = type_name.to_owned();
    for i in indexes {
        let view = state.object(&t).map_err(&err)?;
        if let Some(FieldKind::Reference(next)) = view.schema().fields.get(i).map(|f| &f.kind) {
            t = next.clone();
        }
        steps.push((view, i));
    }
    let value = if value == "null" {
        Value::Null
    } else {
        parse_key_value(&kind, value)?
    };
    Ok(Condition {
        path: path.to_owned(),
        steps,
        value,
    })
}

impl<'a> Condition<'a> {
    /// The value at the end of the path for record `o` of the root type (null when a
    /// reference along the way is null).
    fn value_of(&self, mut o: u32) -> Result<Value<'a>, Failure> {
        let err = lib("reading a record");
        let last = self.steps.len() - 1;
        for (k, (view, field)) in self.steps.iter().enumerate() {
            let v = view.get(o, *field).map_err(&err)?;
            if k == last {
                return Ok(v);
            }
            match v {
                Value::Ref(r) => o = r,
                _ => return Ok(Value::Null),
            }
        }
        Ok(Value::Null)
    }

    fn holds(&self, o: u32) -> Result<bool, Failure> {
        Ok(self.value_of(o)? == self.value)
    }
}

pub fn query(
    cli: &Cli,
    state: &ReadState,
    type_name: Option<&str>,
    conditions: &[String],
    limit: Option<usize>,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let t = pick_type(state, type_name)?;
    let conds = conditions
        .iter()
        .map(|c| parse_condition(state, &t, c))
        .collect::<Result<Vec<_>, _>>()?;
    let view = state.object(&t).map_err(lib("reading the type"))?;
    let pk = view.schema().primary_key.clone().unwrap_or_default();
    let mut names: Vec<&str> = conds.iter().map(|c| c.path.as_str()).collect();
    names.sort_unstable();
    let mut pk_sorted: Vec<&str> = pk.iter().map(String::as_str).collect();
    pk_sorted.sort_unstable();
    let by_index = !pk.is_empty() && names == pk_sorted && conds.iter().all(|c| !c.value.is_null());
    let mut matches: Vec<u32> = Vec::new();
    let method;
    if by_index {
        method = "primary-key index";
        let index =
            PrimaryKeyIndex::for_primary_key(state, &t).map_err(lib("indexing the primary key"))?;
        let key: Vec<Value<'static>> = pk
            .iter()
            .map(|f| {
                conds
                    .iter()
                    .find(|c| &c.path == f)
                    .map(|c| c.value.clone())
                    .unwrap_or(Value::Null)
            })
            .collect();
        if let Some(o) = index
            .try_get(state, &key)
            .map_err(lib("looking up the key"))?
        {
            matches.push(o);
        }
    } else {
        method = "scan";
        let first = &conds[0];
        let candidates: Vec<u32> = if first.steps.len() == 1 {
            let mut c = Vec::new();
            view.for_each_value(first.steps[0].1, |o, v| {
                if v == first.value {
                    c.push(o);
                }
            })
            .map_err(lib("scanning the type"))?;
            c
        } else {
            let mut c = Vec::new();
            for o in view.ordinals() {
                if first.holds(o)? {
                    c.push(o);
                }
            }
            c
        };
        for o in candidates {
            let mut ok = true;
            for c in &conds[1..] {
                if !c.holds(o)? {
                    ok = false;
                    break;
                }
            }
            if ok {
                matches.push(o);
            }
        }
    }
    let total = matches.len();
    if let Some(n) = limit {
        matches.truncate(n);
    }
    if cli.json {
        let records = matches
            .iter()
            .map(|o| record_json(state, &t, *o, 1))
            .collect::<Result<Vec<_>, _>>()?;
        let j = json!({
            "type": t, "where": conditions, "method": method, "scanned": if by_index { 0 } else { view.len() },
            "matches": total, "records": records,
        });
        writeln!(out, "{j}").map_err(io_fail)?;
        return Ok(0);
    }
    eprintln!(
        "hollow: {total} {t} record(s) by {}",
        if by_index {
            method.to_owned()
        } else {
            format!(
                "a scan of {} records (no index on these fields)",
                view.len()
            )
        }
    );
    if matches.is_empty() {
        return Ok(0);
    }
    let fields = &view.schema().fields;
    let mut rows: Vec<Vec<Cell>> =
        vec![fields.iter().map(|f| Cell::from(f.name.as_str())).collect()];
    for o in &matches {
        let rec = record_json(state, &t, *o, 1)?;
        rows.push(
            fields
                .iter()
                .map(|f| Cell::from(cell_text(&rec[&f.name])))
                .collect(),
        );
    }
    table(out, Paint::detect(), true, rows)?;
    if matches.len() < total {
        eprintln!("hollow: showing the first {} (--limit)", matches.len());
    }
    Ok(0)
}
