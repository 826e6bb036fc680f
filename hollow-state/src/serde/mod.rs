//! serde integration: derive schemas from Rust types, add Rust values to a write state,
//! and read records back as Rust values.
//!
//! # The mapping
//!
//! | Rust (through serde)                         | hollow ([`FieldKind`] / type)                   |
//! |----------------------------------------------|-------------------------------------------------|
//! | `struct Movie { .. }`                        | object type `Movie`, one field per struct field |
//! | `bool`                                       | `Bool`                                          |
//! | `i8`, `i16`, `i32`, `u8`, `u16`              | `I32`                                           |
//! | `i64`, `u32`, `u64` (≤ `i64::MAX` only)      | `I64`                                           |
//! | `f32` / `f64`                                | `F32` / `F64` (bit patterns kept, NaN included) |
//! | `String`, `&str`, `char`, unit-only enums    | `String` (an enum stores its variant name)      |
//! | `Vec<u8>`, `serde_bytes`                     | `Bytes`                                         |
//! | `Option<X>`                                  | the field of `X` (every field is nullable)      |
//! | nested struct                                | `Reference` to its object type                  |
//! | `Vec<X>` (any sequence)                      | `Reference` to list type `ListOf{X}`            |
//! | `HashSet<X>`, `BTreeSet<X>`                  | `Reference` to set type `SetOf{X}`              |
//! | `HashMap<K, V>`, `BTreeMap<K, V>`            | `Reference` to map type `MapOf{K}To{V}`         |
//! | newtype structs, `Box<X>`                    | transparent                                     |
//!
//! Collections hold references to records; primitive elements are wrapped, Hollow style, in
//! one-field object types named `String`, `Long` (i64), `Integer` (i32), `Boolean`, `Float`,
//! `Double` and `Bytes`, whose field is `value`.
//!
//! - [`schema_for`] and [`SchemaBuilder`] derive a [`SchemaSet`] from types
//!   (see [`trace`] for how, and what is not supported).
//! - [`WriteState::add`](crate::WriteState::add) and
//!   [`WriteState::add_as`](crate::WriteState::add_as) add a value and everything it
//!   contains, deduplicated, and return the root record's ordinal.
//! - [`ReadState::get`](crate::ReadState::get), [`ReadState::iter`](crate::ReadState::iter)
//!   and [`ReadState::reader`](crate::ReadState::reader) read records back as owned Rust
//!   values, following references.
//!
//! ```
//! use std::collections::BTreeSet;
//! use hollow::blob::{write_snapshot, SnapshotOptions};
//! use hollow::{ReadState, WriteState};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Movie {
//!     id: i64,
//!     title: String,
//!     tags: BTreeSet<String>,
//! }
//!
//! let schema = hollow::serde::SchemaBuilder::new().add::<Movie>()?.primary_key("Movie", ["id"]).build()?;
//! assert!(schema.get("SetOfString").is_some());
//!
//! let mut state = WriteState::new(schema);
//! let movie = Movie { id: 1, title: "Alien".into(), tags: ["space".to_string()].into() };
//! let ordinal = state.add(&movie)?;
//!
//! let (blob, _) = write_snapshot(&state, &SnapshotOptions::default())?;
//! let read = ReadState::from_vec(blob)?;
//! assert_eq!(read.get::<Movie>("Movie", ordinal)?, movie);
//! # Ok::<(), hollow::Error>(())
//! ```

mod de;
mod ser;
pub mod trace;

pub use de::{RecordIter, RecordReader};
pub use trace::{schema_for, SchemaBuilder};

use hollow_format::error::{Error, Result};
use hollow_format::schema::{FieldKind, SchemaSet, TypeSchema};

/// What a field (or a wrapper's single field) holds: a primitive kind, or a reference to
/// records of a type (by index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Bool,
    I32,
    I64,
    F32,
    F64,
    Str,
    Bytes,
    Record(usize),
}

/// A type of a schema set, resolved for serde: field kinds with referenced types as indexes.
#[derive(Debug, Clone)]
pub(crate) enum TypeInfo {
    Object {
        /// What each field holds, in schema order.
        fields: Box<[Want]>,
        /// `Some` when the type has exactly one field, of a primitive kind: primitive values
        /// are wrapped into (and unwrapped from) records of this type.
        wrapper: Option<Want>,
        /// Whether that one field is named `value` (the Hollow wrapper convention):
        /// self-describing reads (`deserialize_any`) unwrap only these.
        value_wrapper: bool,
    },
    List {
        elem: usize,
    },
    Set {
        elem: usize,
    },
    Map {
        key: usize,
        value: usize,
    },
}

impl TypeInfo {
    /// Resolves type `t` of `schema`.
    pub(crate) fn of(schema: &SchemaSet, t: usize) -> Result<Self> {
        let idx = |name: &str| {
            schema
                .type_index(name)
                .ok_or_else(|| Error::NoSuchType(name.to_string()))
        };
        let ts = schema
            .types()
            .get(t)
            .ok_or_else(|| Error::Serde(format!("no type with index {t}")))?;
        Ok(match ts {
            TypeSchema::Object(o) => {
                let fields = o
                    .fields
                    .iter()
                    .map(|f| {
                        Ok(match &f.kind {
                            FieldKind::Bool => Want::Bool,
                            FieldKind::I32 => Want::I32,
                            FieldKind::I64 => Want::I64,
                            FieldKind::F32 => Want::F32,
                            FieldKind::F64 => Want::F64,
                            FieldKind::String => Want::Str,
                            FieldKind::Bytes => Want::Bytes,
                            FieldKind::Reference(r) => Want::Record(idx(r)?),
                        })
                    })
                    .collect::<Result<Box<[Want]>>>()?;
                let wrapper = match *fields {
                    [w] if !matches!(w, Want::Record(_)) => Some(w),
                    _ => None,
                };
                let value_wrapper = wrapper.is_some() && o.fields[0].name == "value";
                TypeInfo::Object {
                    fields,
                    wrapper,
                    value_wrapper,
                }
            }
            TypeSchema::List { element, .. } => TypeInfo::List {
                elem: idx(element)?,
            },
            TypeSchema::Set { element, .. } => TypeInfo::Set {
                elem: idx(element)?,
            },
            TypeSchema::Map { key, value, .. } => TypeInfo::Map {
                key: idx(key)?,
                value: idx(value)?,
            },
        })
    }
}

/// Prefixes the message of a serde error with where it happened (`Movie.title`).
pub(crate) fn at(e: Error, type_name: &str, field: &str) -> Error {
    match e {
        Error::Serde(m) => Error::Serde(format!("{type_name}.{field}: {m}")),
        other => other,
    }
}
