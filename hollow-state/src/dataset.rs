//! Datasets described as data: a JSON schema file per dataset (one root object type with
//! scalar and list-of-scalar fields, a primary key, enum constraints), JSON record parsing
//! with typed rejections, and conversion to and from write and read states.
//!
//! This is how the services stay generic: the producer folds JSON messages of any dataset
//! whose schema file it is given. Schema file format:
//!
//! ```json
//! {"dataset": "assets", "type": "Asset", "primary_key": ["id"],
//!  "fields": [{"name": "id", "kind": "i64"},
//!             {"name": "kind", "kind": "string", "enum": ["VIDEO", "AUDIO"]},
//!             {"name": "language", "kind": "string", "nullable": true},
//!             {"name": "tags", "kind": "string", "list": true},
//!             {"name": "synopsis", "kind": "string", "nullable": true, "compression": "fsst"}]}
//! ```
//!
//! `kind` is a [`Primitive`] other than `bytes`: `bool`, `i32`, `i64`, `f32`, `f64`, `string`.
//! A `list` field is a list of such values (stored as a reference to a `ListOf<Elem>` list of
//! one-field `<Elem>` records, deduplicated). Fields are required unless `nullable`.
//! [`DatasetSchema::values_of`] is how a record becomes hollow values.

use std::fmt::Write as _;

use serde::Deserialize;

use crate::read::{ListView, ObjectView, ReadState};
use crate::write::WriteState;
use hollow_format::error::{Error, Result, SchemaError};
use hollow_format::schema::{
    list_type_name, FieldKind, ObjectSchema, Primitive, SchemaSet, TypeSchema,
};
use hollow_format::value::Value;

/// A field of a dataset schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetField {
    /// Field name (the JSON key).
    pub name: String,
    /// Scalar kind (of the elements, for lists): any primitive but bytes.
    pub kind: Primitive,
    /// Whether null (or absence) is allowed.
    #[serde(default)]
    pub nullable: bool,
    /// A list of scalars.
    #[serde(default)]
    pub list: bool,
    /// Allowed string values.
    #[serde(default, rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    /// `"fsst"` to store long text compressed.
    #[serde(default)]
    pub compression: Option<String>,
}

impl DatasetField {
    /// For a list field, the names of its element type and list type (`String` and
    /// `ListOfString` for a list of strings); `None` for a scalar field.
    pub fn list_types(&self) -> Option<(&'static str, String)> {
        self.list.then(|| {
            let elem = self.kind.wrapper_type();
            (elem, list_type_name(elem))
        })
    }
}

/// A dataset: one root object type with a primary key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSchema {
    /// Dataset (and Kafka topic) name, e.g. `assets`.
    pub dataset: String,
    /// Root object type name, e.g. `Asset`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Primary key field names.
    pub primary_key: Vec<String>,
    /// Fields in order.
    pub fields: Vec<DatasetField>,
    #[serde(skip)]
    pk_idx: Vec<usize>,
}

/// A parsed record: one value per field, in schema order.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// null
    Null,
    /// bool
    Bool(bool),
    /// integer (i32 or i64 fields)
    Int(i64),
    /// float (f32 or f64 fields)
    Float(f64),
    /// string
    Str(String),
    /// list of scalars
    List(Vec<FieldValue>),
}

/// A record of a dataset: values in schema field order.
pub type Record = Vec<FieldValue>;

/// Why a JSON record was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    /// Not valid JSON.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// Valid JSON but not an object.
    #[error("not a JSON object")]
    NotObject,
    /// A required field is missing or null.
    #[error("missing field {0:?}")]
    MissingField(String),
    /// A field has the wrong JSON type.
    #[error("field {field:?}: expected {expected}, got {got}")]
    WrongType {
        /// Field.
        field: String,
        /// Expected kind.
        expected: &'static str,
        /// What was found.
        got: String,
    },
    /// A number does not fit the field's type.
    #[error("field {field:?}: {value} out of range for {kind}")]
    OutOfRange {
        /// Field.
        field: String,
        /// Value as text.
        value: String,
        /// Field kind.
        kind: &'static str,
    },
    /// A string outside the field's enum.
    #[error("field {field:?}: unknown value {value:?}")]
    UnknownEnum {
        /// Field.
        field: String,
        /// The value.
        value: String,
    },
}

impl DatasetSchema {
    /// Parses and validates a schema file.
    pub fn from_json(text: &str) -> Result<Self> {
        let mut s: DatasetSchema =
            serde_json::from_str(text).map_err(|e| SchemaError::DatasetJson(Box::new(e)))?;
        s.pk_idx = Vec::new();
        for k in &s.primary_key {
            let i = s.fields.iter().position(|f| &f.name == k).ok_or_else(|| {
                SchemaError::UndeclaredKeyField {
                    dataset: s.dataset.clone(),
                    field: k.clone(),
                }
            })?;
            if s.fields[i].list {
                return Err(SchemaError::ListKeyField {
                    dataset: s.dataset.clone(),
                    field: k.clone(),
                }
                .into());
            }
            s.pk_idx.push(i);
        }
        if s.primary_key.is_empty() {
            return Err(SchemaError::DatasetWithoutKey {
                dataset: s.dataset.clone(),
            }
            .into());
        }
        for f in &s.fields {
            if f.kind == Primitive::Bytes {
                return Err(Error::WrongFieldKind {
                    type_name: s.type_name.clone(),
                    field: f.name.clone(),
                    expected: "a dataset kind (bool, i32, i64, f32, f64 or string)",
                    actual: f.kind.name(),
                });
            }
            match f.compression.as_deref() {
                None | Some("none") => {}
                Some("fsst") if f.kind == Primitive::String && !f.list => {}
                Some(c) => {
                    return Err(SchemaError::UnsupportedCompression {
                        dataset: s.dataset.clone(),
                        field: f.name.clone(),
                        compression: c.into(),
                    }
                    .into())
                }
            }
        }
        s.schema_set()?;
        Ok(s)
    }

    /// Reads a schema file.
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// Indexes of the primary-key fields.
    pub fn key_fields(&self) -> &[usize] {
        &self.pk_idx
    }

    /// The hollow schema set of the dataset.
    pub fn schema_set(&self) -> Result<SchemaSet> {
        let mut obj = ObjectSchema::new(&self.type_name).primary_key(self.primary_key.clone());
        let mut extra: Vec<TypeSchema> = Vec::new();
        for f in &self.fields {
            if let Some((elem, list)) = f.list_types() {
                if !extra.iter().any(|t| t.name() == list) {
                    extra.push(TypeSchema::List {
                        name: list.clone(),
                        element: elem.to_string(),
                    });
                }
                if !extra.iter().any(|t| t.name() == elem) {
                    extra.push(TypeSchema::Object(
                        ObjectSchema::new(elem).field("value", f.kind.into()),
                    ));
                }
                obj = obj.field(&f.name, FieldKind::Reference(list));
            } else if f.compression.as_deref() == Some("fsst") {
                obj = obj.compressed_string(&f.name);
            } else {
                obj = obj.field(&f.name, f.kind.into());
            }
        }
        let mut types = vec![TypeSchema::Object(obj)];
        types.extend(extra);
        SchemaSet::new(types)
    }

    /// Parses one JSON record, validating it against the schema. Unknown keys are ignored.
    pub fn parse_json(&self, json: &[u8]) -> Result<Record, RecordError> {
        let v: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| RecordError::NotJson(e.to_string()))?;
        self.parse_value(&v)
    }

    /// Validates an already parsed JSON value.
    pub fn parse_value(&self, v: &serde_json::Value) -> Result<Record, RecordError> {
        let obj = v.as_object().ok_or(RecordError::NotObject)?;
        let mut out = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            let fv = match obj.get(&f.name) {
                None | Some(serde_json::Value::Null) => {
                    if f.nullable {
                        FieldValue::Null
                    } else {
                        return Err(RecordError::MissingField(f.name.clone()));
                    }
                }
                Some(serde_json::Value::Array(items)) if f.list => FieldValue::List(
                    items
                        .iter()
                        .map(|x| scalar(f, x))
                        .collect::<Result<_, _>>()?,
                ),
                Some(x) if f.list => {
                    return Err(RecordError::WrongType {
                        field: f.name.clone(),
                        expected: "array",
                        got: json_kind(x).into(),
                    })
                }
                Some(x) => scalar(f, x)?,
            };
            out.push(fv);
        }
        Ok(out)
    }

    /// Adds a record to a write state of this dataset; returns the root ordinal.
    pub fn add(&self, ws: &mut WriteState, rec: &Record) -> Result<u32> {
        let values = self.values_of(ws, rec)?;
        ws.add_object(&self.type_name, &values)
    }

    /// The values of a record's root object, in field order: how a record becomes hollow
    /// values. The items of a list field are added to `ws` first (as `<Elem>` records in a
    /// `ListOf<Elem>` list, counting references when `ws` counts them) and the field refers
    /// to the list.
    pub fn values_of<'r>(&self, ws: &mut WriteState, rec: &'r Record) -> Result<Vec<Value<'r>>> {
        let mut values = Vec::with_capacity(self.fields.len());
        for (f, v) in self.fields.iter().zip(rec) {
            values.push(match (v, f.list_types()) {
                (FieldValue::List(items), Some((elem, list))) => {
                    let (elem, list) = (ws.type_idx(elem)?, ws.type_idx(&list)?);
                    let mut ords = Vec::with_capacity(items.len());
                    for it in items {
                        ords.push(ws.add_object_counted(elem, &[it.to_value(f.kind)])?.0);
                    }
                    Value::Ref(ws.add_collection_counted(list, ords)?.0)
                }
                (other, _) => other.to_value(f.kind),
            });
        }
        Ok(values)
    }

    /// Renders a record as one JSON object line, fields in schema order.
    pub fn to_json(&self, rec: &Record) -> String {
        let mut s = String::from("{");
        for (i, (f, v)) in self.fields.iter().zip(rec).enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&serde_json::to_string(&f.name).unwrap_or_default());
            s.push(':');
            push_json(&mut s, v);
        }
        s.push('}');
        s
    }
}

fn push_json(s: &mut String, v: &FieldValue) {
    match v {
        FieldValue::Null => s.push_str("null"),
        FieldValue::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        FieldValue::Int(i) => {
            let _ = write!(s, "{i}");
        }
        FieldValue::Float(x) => s.push_str(
            &serde_json::Number::from_f64(*x).map_or("null".to_string(), |n| n.to_string()),
        ),
        FieldValue::Str(t) => s.push_str(&serde_json::to_string(t).unwrap_or_default()),
        FieldValue::List(items) => {
            s.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                push_json(s, it);
            }
            s.push(']');
        }
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn scalar(f: &DatasetField, v: &serde_json::Value) -> Result<FieldValue, RecordError> {
    let wrong = || RecordError::WrongType {
        field: f.name.clone(),
        expected: f.kind.name(),
        got: json_kind(v).into(),
    };
    Ok(match f.kind {
        Primitive::Bool => FieldValue::Bool(v.as_bool().ok_or_else(wrong)?),
        Primitive::I32 | Primitive::I64 => {
            let n = v.as_number().ok_or_else(wrong)?;
            let i = n.as_i64().ok_or_else(|| {
                if n.is_u64() {
                    RecordError::OutOfRange {
                        field: f.name.clone(),
                        value: n.to_string(),
                        kind: f.kind.name(),
                    }
                } else {
                    wrong()
                }
            })?;
            if f.kind == Primitive::I32 && i32::try_from(i).is_err() {
                return Err(RecordError::OutOfRange {
                    field: f.name.clone(),
                    value: i.to_string(),
                    kind: "i32",
                });
            }
            FieldValue::Int(i)
        }
        Primitive::F32 | Primitive::F64 => FieldValue::Float(v.as_f64().ok_or_else(wrong)?),
        // (bytes fields are refused by `DatasetSchema::from_json`)
        Primitive::String | Primitive::Bytes => {
            let s = v.as_str().ok_or_else(wrong)?;
            if let Some(allowed) = &f.enum_values {
                if !allowed.iter().any(|a| a == s) {
                    return Err(RecordError::UnknownEnum {
                        field: f.name.clone(),
                        value: s.into(),
                    });
                }
            }
            FieldValue::Str(s.to_string())
        }
    })
}

impl FieldValue {
    /// The hollow value of a scalar of a field of `kind` (a list is null here: see
    /// [`DatasetSchema::values_of`]).
    pub fn to_value(&self, kind: Primitive) -> Value<'_> {
        match (kind, self) {
            (_, FieldValue::Null | FieldValue::List(_)) => Value::Null,
            (_, FieldValue::Bool(b)) => Value::Bool(*b),
            (Primitive::I32, FieldValue::Int(i)) => Value::I32(*i as i32),
            (_, FieldValue::Int(i)) => Value::I64(*i),
            (Primitive::F32, FieldValue::Float(x)) => Value::F32(*x as f32),
            (_, FieldValue::Float(x)) => Value::F64(*x),
            (_, FieldValue::Str(s)) => Value::str(s),
        }
    }

    /// The dataset value of a hollow value (references as their ordinals).
    fn from_value(v: Value<'_>) -> FieldValue {
        match v {
            Value::Null => FieldValue::Null,
            Value::Bool(b) => FieldValue::Bool(b),
            Value::I32(i) => FieldValue::Int(i as i64),
            Value::I64(i) => FieldValue::Int(i),
            Value::F32(x) => FieldValue::Float(x as f64),
            Value::F64(x) => FieldValue::Float(x),
            Value::Str(s) => FieldValue::Str(s.into_owned()),
            Value::Bytes(b) => FieldValue::Str(String::from_utf8_lossy(&b).into_owned()),
            Value::Ref(r) => FieldValue::Int(r as i64),
        }
    }
}

/// Reads records of a dataset back from a read state.
pub struct DatasetReader<'a> {
    schema: &'a DatasetSchema,
    root: ObjectView<'a>,
    lists: Vec<Option<(ListView<'a>, ObjectView<'a>)>>,
}

impl<'a> DatasetReader<'a> {
    /// A reader over `state`, which must hold this dataset.
    pub fn new(schema: &'a DatasetSchema, state: &'a ReadState) -> Result<Self> {
        let root = state.object(&schema.type_name)?;
        let mut lists = Vec::new();
        for f in &schema.fields {
            lists.push(match f.list_types() {
                Some((elem, list)) => Some((state.list(&list)?, state.object(elem)?)),
                None => None,
            });
        }
        Ok(DatasetReader {
            schema,
            root,
            lists,
        })
    }

    /// The root object view.
    pub fn root(&self) -> &ObjectView<'a> {
        &self.root
    }

    /// The record at `ordinal`.
    pub fn record(&self, ordinal: u32) -> Result<Record> {
        let mut out = Vec::with_capacity(self.schema.fields.len());
        for i in 0..self.schema.fields.len() {
            let v = self.root.get(ordinal, i)?;
            out.push(match (&self.lists[i], v) {
                (_, Value::Null) => FieldValue::Null,
                (Some((list, elem)), Value::Ref(r)) => {
                    let mut items = Vec::new();
                    for e in list.elements(r)? {
                        items.push(FieldValue::from_value(elem.get(e, 0)?));
                    }
                    FieldValue::List(items)
                }
                (_, v) => FieldValue::from_value(v),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::ReadState;
    use crate::write::write_snapshot;

    const SCHEMA: &str = r#"{"dataset": "t", "type": "T", "primary_key": ["id"],
        "fields": [{"name": "id", "kind": "i32"}, {"name": "score", "kind": "f32"},
                   {"name": "tags", "kind": "string", "list": true}]}"#;

    #[test]
    fn records_become_values_and_read_back() {
        let ds = DatasetSchema::from_json(SCHEMA).unwrap();
        let rec = ds
            .parse_json(br#"{"id": 7, "score": 0.5, "tags": ["a", "b", "a"]}"#)
            .unwrap();
        let mut ws = WriteState::new(ds.schema_set().unwrap());
        let values = ds.values_of(&mut ws, &rec).unwrap();
        assert_eq!(values[..2], [Value::I32(7), Value::F32(0.5)]);
        assert!(matches!(values[2], Value::Ref(_)));
        assert_eq!(ws.len("String").unwrap(), 2);
        assert_eq!(ds.add(&mut ws, &rec).unwrap(), 0);
        let state =
            ReadState::from_vec(write_snapshot(&ws, &Default::default()).unwrap().0).unwrap();
        assert_eq!(
            DatasetReader::new(&ds, &state).unwrap().record(0).unwrap(),
            rec
        );
    }

    #[test]
    fn a_bytes_field_is_refused() {
        let json = SCHEMA.replace(r#""kind": "f32""#, r#""kind": "bytes""#);
        assert!(matches!(
            DatasetSchema::from_json(&json),
            Err(Error::WrongFieldKind { actual: "bytes", ref field, .. }) if field == "score"
        ));
    }
}
