//! Values and records rendered for people (text cells) and scripts (JSON), references
//! followed to a chosen depth.

use hollow::{FieldKind, ReadState, TypeSchema, Value};
use serde_json::{json, Map, Value as Json};

use crate::fail::{fail, lib, Failure};

/// A value for people: strings bare, null as `-`, references as `#ordinal`.
pub(crate) fn value_text(v: &Value<'_>) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::Str(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Ref(r) => format!("#{r}"),
        other => value_json(other).to_string(),
    }
}

/// A compact one-line rendering of a JSON value for a table cell.
pub(crate) fn cell_text(j: &Json) -> String {
    match j {
        Json::Null => "-".to_owned(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn value_json(v: &Value<'_>) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::I32(i) => json!(i),
        Value::I64(i) => json!(i),
        Value::F32(f) => json!(f),
        Value::F64(f) => json!(f),
        Value::Str(s) => json!(s),
        Value::Bytes(b) => json!(String::from_utf8_lossy(b)),
        Value::Ref(r) => json!(r),
    }
}

/// A record as JSON, references followed `depth` levels (a reference to a list, set or map
/// and the collection's own step to its elements count as one level together). A record
/// reached through a reference whose type has a single non-reference field (`String` of a
/// `ListOfString`) is shown as that field's value; at depth 0 references are ordinals.
pub(crate) fn record_json(
    state: &ReadState,
    type_name: &str,
    o: u32,
    depth: u32,
) -> Result<Json, Failure> {
    node_json(state, type_name, o, depth, true)
}

pub(crate) fn node_json(
    state: &ReadState,
    type_name: &str,
    o: u32,
    depth: u32,
    top: bool,
) -> Result<Json, Failure> {
    let Some(t) = state.schema().get(type_name) else {
        return fail(3, format!("no type {type_name:?}"));
    };
    let err = lib("reading a record");
    let follow = |target: &str, r: u32| -> Result<Json, Failure> {
        if depth == 0 {
            return Ok(json!(r));
        }
        match state.schema().get(target) {
            // a collection's elements are one level below the record that points to it
            Some(TypeSchema::Object(_)) => node_json(state, target, r, depth - 1, false),
            Some(_) => node_json(state, target, r, depth, false),
            None => fail(3, format!("no type {target:?}")),
        }
    };
    match t {
        TypeSchema::Object(schema) => {
            let view = state.object(type_name).map_err(&err)?;
            let scalar_only = !top
                && schema.fields.len() == 1
                && !matches!(schema.fields[0].kind, FieldKind::Reference(_));
            let mut m = Map::new();
            for (i, f) in schema.fields.iter().enumerate() {
                let v = view.get(o, i).map_err(&err)?;
                let j = match (&f.kind, &v) {
                    (FieldKind::Reference(target), Value::Ref(r)) => follow(target, *r)?,
                    _ => value_json(&v),
                };
                if scalar_only {
                    return Ok(j);
                }
                m.insert(f.name.clone(), j);
            }
            Ok(Json::Object(m))
        }
        TypeSchema::List { element, .. } | TypeSchema::Set { element, .. } => {
            let elements: Vec<u32> = if t.kind_name() == "list" {
                let l = state.list(type_name).map_err(&err)?;
                l.elements(o).map_err(&err)?.collect()
            } else {
                let s = state.set(type_name).map_err(&err)?;
                s.elements(o).map_err(&err)?.collect()
            };
            let mut items = Vec::with_capacity(elements.len());
            for e in elements {
                items.push(follow_element(state, element, e, depth)?);
            }
            Ok(Json::Array(items))
        }
        TypeSchema::Map { key, value, .. } => {
            let m = state.map(type_name).map_err(&err)?;
            let mut entries = Vec::new();
            for (k, v) in m.entries(o).map_err(&err)? {
                entries.push(json!({
                    "key": follow_element(state, key, k, depth)?,
                    "value": follow_element(state, value, v, depth)?,
                }));
            }
            Ok(Json::Array(entries))
        }
    }
}

/// An element of a collection reached at `depth` (the collection's own level).
pub(crate) fn follow_element(
    state: &ReadState,
    element: &str,
    e: u32,
    depth: u32,
) -> Result<Json, Failure> {
    if depth == 0 {
        Ok(json!(e))
    } else {
        node_json(state, element, e, depth - 1, false)
    }
}
