//! What the serializer and the deserializer know of a type: the shape of its fields
//! ([`Want`], [`TypeInfo`]) and how errors name the field they are about ([`at`]).

use hollow_format::error::{Error, Result};
use hollow_format::schema::{FieldKind, Primitive, SchemaSet, TypeSchema};

/// What a field (or a wrapper's single field) holds: a primitive kind, or a reference to
/// records of a type (by index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Prim(Primitive),
    Record(usize),
}

impl Want {
    /// What a field of `kind` holds; `idx` is the index of a referenced type.
    fn of(kind: &FieldKind, idx: impl Fn(&str) -> Result<usize>) -> Result<Want> {
        match kind {
            FieldKind::Reference(r) => idx(r).map(Want::Record),
            k => Ok(Want::Prim(
                k.primitive()
                    .expect("a field kind other than a reference is a primitive"),
            )),
        }
    }
}

/// A type of a schema set, resolved for serde: field kinds with referenced types as indexes.
#[derive(Debug, Clone)]
pub(crate) enum TypeInfo {
    Object {
        /// What each field holds, in schema order.
        fields: Box<[Want]>,
        /// `Some` when the type has exactly one field, of a primitive kind: primitive values
        /// are wrapped into (and unwrapped from) records of this type.
        wrapper: Option<Primitive>,
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
                    .map(|f| Want::of(&f.kind, idx))
                    .collect::<Result<Box<[Want]>>>()?;
                let wrapper = match *fields {
                    [Want::Prim(p)] => Some(p),
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
