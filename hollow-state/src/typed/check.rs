//! The errors of the typed API, and the check that a state's schema matches derived types.

use hollow_format::error::Error as DataError;
use hollow_format::schema::{Compression, FieldKind, SchemaSet, TypeSchema};

/// The error type of the typed API.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum TypedError {
    /// A blob, a schema, a value or a state is wrong.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The state does not hold what the Rust type describes.
    #[error("the state does not match the Rust type: {0}")]
    Mismatch(#[from] Mismatch),
    /// Two Rust types declare the same hollow type name.
    #[error("two Rust types, {first} and {second}, are both named {type_name:?}: rename one with #[hollow(rename = \"...\")]")]
    NameClash {
        /// The hollow type name.
        type_name: String,
        /// The Rust type declared first.
        first: &'static str,
        /// The other one.
        second: &'static str,
    },
    /// A typed key names another number of fields than its Rust type has parts.
    #[error("a key of {type_name} by {fields:?} needs {} parts, its Rust type has {parts}", fields.len())]
    KeyArity {
        /// The indexed type.
        type_name: &'static str,
        /// The key fields.
        fields: Vec<String>,
        /// The parts of the key's Rust type.
        parts: usize,
    },
    /// A typed view of a type that refers to itself was asked for.
    #[error("typed views of recursive types are not supported: {path}")]
    Recursive {
        /// The chain of types, `A → B → A`.
        path: String,
    },
}

/// How a state's schema differs from a derived type: the first difference found, root type
/// first, fields in declaration order.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// A type of the Rust model is missing from the state.
    #[error("type {type_name:?} is missing from the state")]
    MissingType {
        /// The type.
        type_name: String,
    },
    /// A type is of another kind (object, list, set, map).
    #[error("type {type_name:?} is a {state} in the state but a {rust} in Rust")]
    TypeKind {
        /// The type.
        type_name: String,
        /// Its kind in the state.
        state: &'static str,
        /// Its kind in Rust.
        rust: &'static str,
    },
    /// A field of the struct is missing from the state's type.
    #[error("field {type_name}.{field} is missing from the state")]
    MissingField {
        /// The type.
        type_name: String,
        /// The field.
        field: String,
    },
    /// A field is of another kind.
    #[error("field {type_name}.{field} is {state} in the state but {rust} in Rust")]
    FieldKind {
        /// The type.
        type_name: String,
        /// The field.
        field: String,
        /// Its kind in the state (`reference to ListOfString`).
        state: String,
        /// Its kind in Rust.
        rust: String,
    },
    /// A string or bytes field is stored with another compression.
    #[error("field {type_name}.{field} is stored {state:?} in the state but {rust:?} in Rust (#[hollow(compressed)] says FSST)")]
    Compression {
        /// The type.
        type_name: String,
        /// The field.
        field: String,
        /// Its compression in the state.
        state: Compression,
        /// In Rust.
        rust: Compression,
    },
    /// A field that is not an `Option` in Rust holds a null.
    #[error(
        "field {type_name}.{field} holds null (at ordinal {ordinal}) but is not an Option in Rust"
    )]
    Nullable {
        /// The type.
        type_name: String,
        /// The field.
        field: String,
        /// The first ordinal holding null.
        ordinal: u32,
    },
    /// A collection type has other element types.
    #[error("collection {type_name:?} holds {state} in the state but {rust} in Rust")]
    Elements {
        /// The collection type.
        type_name: String,
        /// Its element types in the state.
        state: String,
        /// In Rust.
        rust: String,
    },
    /// A string field holds a value that is no variant of its Rust enum.
    #[error("field {type_name}.{field} holds {value:?}, which is no variant of {rust_enum}")]
    EnumValue {
        /// The type.
        type_name: String,
        /// The field.
        field: String,
        /// The value.
        value: String,
        /// The Rust enum.
        rust_enum: &'static str,
    },
}

fn describe(kind: &FieldKind) -> String {
    match kind {
        FieldKind::Reference(t) => format!("reference to {t}"),
        k => k.name().to_string(),
    }
}

fn elements(ts: &TypeSchema) -> String {
    match ts {
        TypeSchema::Object(_) => String::new(),
        TypeSchema::List { element, .. } | TypeSchema::Set { element, .. } => element.clone(),
        TypeSchema::Map { key, value, .. } => format!("{key} → {value}"),
    }
}

/// Checks that `state` holds every type of `derived` with the same shape (extra fields and
/// types of the state are fine).
pub(super) fn check(derived: &[TypeSchema], state: &SchemaSet) -> Result<(), Mismatch> {
    for d in derived {
        let Some(s) = state.get(d.name()) else {
            return Err(Mismatch::MissingType {
                type_name: d.name().to_string(),
            });
        };
        match (d, s) {
            (TypeSchema::Object(d), TypeSchema::Object(s)) => {
                for f in &d.fields {
                    let Some(sf) = s.fields.iter().find(|x| x.name == f.name) else {
                        return Err(Mismatch::MissingField {
                            type_name: d.name.clone(),
                            field: f.name.clone(),
                        });
                    };
                    if sf.kind != f.kind {
                        return Err(Mismatch::FieldKind {
                            type_name: d.name.clone(),
                            field: f.name.clone(),
                            state: describe(&sf.kind),
                            rust: describe(&f.kind),
                        });
                    }
                    if sf.compression != f.compression {
                        return Err(Mismatch::Compression {
                            type_name: d.name.clone(),
                            field: f.name.clone(),
                            state: sf.compression,
                            rust: f.compression,
                        });
                    }
                }
            }
            (d, s) if d.kind_name() != s.kind_name() => {
                return Err(Mismatch::TypeKind {
                    type_name: d.name().to_string(),
                    state: s.kind_name(),
                    rust: d.kind_name(),
                })
            }
            (d, s) if d != s => {
                return Err(Mismatch::Elements {
                    type_name: d.name().to_string(),
                    state: elements(s),
                    rust: elements(d),
                })
            }
            _ => {}
        }
    }
    Ok(())
}
