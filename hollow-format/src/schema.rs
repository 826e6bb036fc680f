//! Schemas: the types of a dataset (objects with named fields, lists, sets and maps).
//!
//! A [`SchemaSet`] is declared in code with the builders here, or derived from Rust types
//! through serde (see the `serde` module of `hollow-state`). It is stored in every blob and compared when a delta
//! is applied.

use std::collections::HashMap;

use crate::error::{Corruption, Error, Result, SchemaError};
use crate::wire::{Cursor, Sink};

/// A primitive kind: what a field holds when it is not a reference. This is the one list of
/// the kinds and of what goes with each (its name, its wire tag, the type that wraps it into
/// a record); [`FieldKind`] has a variant for each of them, the serde layer of `hollow-state`
/// and its JSON datasets use it directly (dataset schema files spell it by [`Primitive::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Primitive {
    /// `true` / `false`.
    Bool,
    /// A 32-bit signed integer.
    I32,
    /// A 64-bit signed integer (`i64::MIN` is a value, distinct from null).
    I64,
    /// A 32-bit float (bit pattern preserved, NaN included).
    F32,
    /// A 64-bit float (bit pattern preserved, NaN included).
    F64,
    /// UTF-8 text.
    String,
    /// Raw bytes.
    Bytes,
}

impl Primitive {
    /// Every primitive kind, in the order of their wire tags.
    pub const ALL: [Primitive; 7] = [
        Primitive::Bool,
        Primitive::I32,
        Primitive::I64,
        Primitive::F32,
        Primitive::F64,
        Primitive::String,
        Primitive::Bytes,
    ];

    /// A short name of the kind (`"i64"`, `"string"`, ...): for messages, and the spelling
    /// of the kind in a dataset schema file. [`Value::kind_name`](crate::value::Value::kind_name)
    /// names values alike.
    pub fn name(self) -> &'static str {
        match self {
            Primitive::Bool => "bool",
            Primitive::I32 => "i32",
            Primitive::I64 => "i64",
            Primitive::F32 => "f32",
            Primitive::F64 => "f64",
            Primitive::String => "string",
            Primitive::Bytes => "bytes",
        }
    }

    /// The name of the object type whose one field, `value`, holds a value of this kind: how
    /// a primitive becomes a record, e.g. the elements of a list of integers are `Integer`
    /// records (Hollow's names: `Boolean`, `Integer`, `Long`, `Float`, `Double`, `String`,
    /// and `Bytes`).
    pub fn wrapper_type(self) -> &'static str {
        match self {
            Primitive::Bool => "Boolean",
            Primitive::I32 => "Integer",
            Primitive::I64 => "Long",
            Primitive::F32 => "Float",
            Primitive::F64 => "Double",
            Primitive::String => "String",
            Primitive::Bytes => "Bytes",
        }
    }

    /// The kind's tag in the schema section of a blob (1 to 7; a reference is 8).
    fn tag(self) -> u8 {
        match self {
            Primitive::Bool => 1,
            Primitive::I32 => 2,
            Primitive::I64 => 3,
            Primitive::F32 => 4,
            Primitive::F64 => 5,
            Primitive::String => 6,
            Primitive::Bytes => 7,
        }
    }

    /// The kind with a wire tag, if one has it.
    fn from_tag(tag: u8) -> Option<Primitive> {
        Primitive::ALL.into_iter().find(|p| p.tag() == tag)
    }
}

/// The wire tag of [`FieldKind::Reference`].
const REFERENCE_TAG: u8 = 8;

/// The name of the list type of `element` records, by Hollow's convention: `ListOfString`.
/// The one spelling used by JSON datasets, serde-derived and `#[derive(Hollow)]` schemas.
pub fn list_type_name(element: &str) -> String {
    format!("ListOf{element}")
}

/// The name of the set type of `element` records: `SetOfString`.
pub fn set_type_name(element: &str) -> String {
    format!("SetOf{element}")
}

/// The name of the map type from `key` to `value` records: `MapOfStringToLong`.
pub fn map_type_name(key: &str, value: &str) -> String {
    format!("MapOf{key}To{value}")
}

/// The kind of a field of an object type: a [`Primitive`] or a reference. Every field is
/// nullable.
///
/// The primitive kinds are listed once, in [`Primitive`]; `Primitive::I64.into()` makes a
/// field kind of one.
///
/// ```
/// use hollow_format::schema::{FieldKind, Primitive};
/// let k: FieldKind = Primitive::I64.into();
/// assert_eq!(k, FieldKind::Primitive(Primitive::I64));
/// assert_eq!(k.primitive(), Some(Primitive::I64));
/// assert_eq!(FieldKind::Reference("Movie".into()).primitive(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// A value stored in the record itself.
    Primitive(Primitive),
    /// A reference, by ordinal, to a record of the named type.
    Reference(String),
}

impl FieldKind {
    /// The primitive kind of the field; `None` for a reference.
    pub fn primitive(&self) -> Option<Primitive> {
        match self {
            FieldKind::Primitive(p) => Some(*p),
            FieldKind::Reference(_) => None,
        }
    }

    /// A short name of the kind, for messages: [`Primitive::name`], or `"reference"`.
    pub fn name(&self) -> &'static str {
        self.primitive().map_or("reference", Primitive::name)
    }

    fn tag(&self) -> u8 {
        self.primitive().map_or(REFERENCE_TAG, Primitive::tag)
    }
}

impl From<Primitive> for FieldKind {
    fn from(p: Primitive) -> Self {
        FieldKind::Primitive(p)
    }
}

/// How the values of a string or bytes field are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Plain bytes in the pool: reads borrow `&str` straight from the data.
    #[default]
    None,
    /// FSST (fast static symbol table) compression with random access per value: for long
    /// text. Reads decode into an owned string.
    Fsst,
}

/// A field of an object type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldDef {
    /// The field's name.
    pub name: String,
    /// Its kind.
    pub kind: FieldKind,
    /// Storage of string and bytes values.
    pub compression: Compression,
}

/// An object type: named fields and an optional primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectSchema {
    /// The type's name.
    pub name: String,
    /// Its fields, in order.
    pub fields: Vec<FieldDef>,
    /// Field paths of the primary key (`"id"`, or `"movie.id"` through references), if any.
    pub primary_key: Option<Vec<String>>,
}

impl ObjectSchema {
    /// A new object type with no fields.
    pub fn new(name: impl Into<String>) -> Self {
        ObjectSchema {
            name: name.into(),
            fields: Vec::new(),
            primary_key: None,
        }
    }

    /// Adds a field.
    pub fn field(mut self, name: impl Into<String>, kind: FieldKind) -> Self {
        self.fields.push(FieldDef {
            name: name.into(),
            kind,
            compression: Compression::None,
        });
        self
    }

    /// Adds a string field stored with FSST compression.
    pub fn compressed_string(mut self, name: impl Into<String>) -> Self {
        self.fields.push(FieldDef {
            name: name.into(),
            kind: FieldKind::Primitive(Primitive::String),
            compression: Compression::Fsst,
        });
        self
    }

    /// Sets the primary key.
    pub fn primary_key<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.primary_key = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// The index of the named field.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// The shape of a type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeSchema {
    /// An object with named fields.
    Object(ObjectSchema),
    /// An ordered list of references to records of `element`.
    List {
        /// The type's name.
        name: String,
        /// The element type.
        element: String,
    },
    /// A set of references to records of `element`, hashed for O(1) `contains`.
    Set {
        /// The type's name.
        name: String,
        /// The element type.
        element: String,
    },
    /// A map from records of `key` to records of `value`, hashed for O(1) `get`.
    Map {
        /// The type's name.
        name: String,
        /// The key type.
        key: String,
        /// The value type.
        value: String,
    },
}

impl TypeSchema {
    /// The type's name.
    pub fn name(&self) -> &str {
        match self {
            TypeSchema::Object(o) => &o.name,
            TypeSchema::List { name, .. }
            | TypeSchema::Set { name, .. }
            | TypeSchema::Map { name, .. } => name,
        }
    }

    /// The kind of type, for messages: `object`, `list`, `set` or `map`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            TypeSchema::Object(_) => "object",
            TypeSchema::List { .. } => "list",
            TypeSchema::Set { .. } => "set",
            TypeSchema::Map { .. } => "map",
        }
    }

    /// The names of the types this type refers to.
    pub fn referenced_types(&self) -> Vec<&str> {
        match self {
            TypeSchema::Object(o) => o
                .fields
                .iter()
                .filter_map(|f| match &f.kind {
                    FieldKind::Reference(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect(),
            TypeSchema::List { element, .. } | TypeSchema::Set { element, .. } => vec![element],
            TypeSchema::Map { key, value, .. } => vec![key, value],
        }
    }
}

/// A validated set of types that refer to each other by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaSet {
    types: Vec<TypeSchema>,
    by_name: HashMap<String, usize>,
}

impl SchemaSet {
    /// Validates and builds a schema set: names are unique, every referenced type exists,
    /// every primary-key path names a field.
    pub fn new(types: Vec<TypeSchema>) -> Result<Self> {
        let mut by_name = HashMap::new();
        for (i, t) in types.iter().enumerate() {
            if t.name().is_empty() {
                return Err(SchemaError::EmptyTypeName.into());
            }
            if by_name.insert(t.name().to_string(), i).is_some() {
                return Err(SchemaError::DuplicateType {
                    name: t.name().into(),
                }
                .into());
            }
        }
        let set = SchemaSet { types, by_name };
        for t in &set.types {
            for r in t.referenced_types() {
                if !set.by_name.contains_key(r) {
                    return Err(SchemaError::UnknownReference {
                        type_name: t.name().into(),
                        target: r.into(),
                    }
                    .into());
                }
            }
            if let TypeSchema::Object(o) = t {
                let mut seen = std::collections::HashSet::new();
                for f in &o.fields {
                    if !seen.insert(f.name.as_str()) {
                        return Err(SchemaError::DuplicateField {
                            type_name: o.name.clone(),
                            field: f.name.clone(),
                        }
                        .into());
                    }
                    if f.compression == Compression::Fsst
                        && !matches!(
                            f.kind,
                            FieldKind::Primitive(Primitive::String | Primitive::Bytes)
                        )
                    {
                        return Err(SchemaError::CompressedKind {
                            type_name: o.name.clone(),
                            field: f.name.clone(),
                            kind: f.kind.name(),
                        }
                        .into());
                    }
                }
                if let Some(pk) = &o.primary_key {
                    if pk.is_empty() {
                        return Err(SchemaError::EmptyPrimaryKey {
                            type_name: o.name.clone(),
                        }
                        .into());
                    }
                    for path in pk {
                        set.resolve_path(&o.name, path)?;
                    }
                }
            }
        }
        Ok(set)
    }

    /// Resolves a dotted field path from an object type: the field indexes along the path and
    /// the kind of the last field.
    pub fn resolve_path(&self, type_name: &str, path: &str) -> Result<(Vec<usize>, FieldKind)> {
        let mut current = type_name;
        let mut out = Vec::new();
        let parts: Vec<&str> = path.split('.').collect();
        for (k, part) in parts.iter().enumerate() {
            let obj = self.object(current)?;
            let idx = obj.field_index(part).ok_or_else(|| Error::NoSuchField {
                type_name: current.to_string(),
                field: part.to_string(),
            })?;
            out.push(idx);
            let kind = &obj.fields[idx].kind;
            if k + 1 == parts.len() {
                return Ok((out, kind.clone()));
            }
            match kind {
                FieldKind::Reference(t) => current = t,
                _ => {
                    return Err(SchemaError::NotAReference {
                        type_name: current.into(),
                        path: path.into(),
                        field: part.to_string(),
                    }
                    .into())
                }
            }
        }
        Err(SchemaError::EmptyPath {
            type_name: type_name.into(),
        }
        .into())
    }

    /// All types, in declaration order (which is their index).
    pub fn types(&self) -> &[TypeSchema] {
        &self.types
    }

    /// The index of a named type.
    pub fn type_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// A named type.
    pub fn get(&self, name: &str) -> Option<&TypeSchema> {
        self.type_index(name).map(|i| &self.types[i])
    }

    /// A named object type.
    pub fn object(&self, name: &str) -> Result<&ObjectSchema> {
        match self.get(name) {
            Some(TypeSchema::Object(o)) => Ok(o),
            Some(t) => Err(Error::WrongTypeKind {
                type_name: name.into(),
                expected: "object",
                actual: t.kind_name(),
            }),
            None => Err(Error::NoSuchType(name.into())),
        }
    }

    /// Serializes the schema set (see the format README).
    pub fn write(&self, s: &mut Sink) {
        s.u32(self.types.len() as u32);
        for t in &self.types {
            match t {
                TypeSchema::Object(o) => {
                    s.u8(1);
                    s.str(&o.name);
                    s.u32(o.fields.len() as u32);
                    for f in &o.fields {
                        s.str(&f.name);
                        s.u8(f.kind.tag());
                        s.u8(match f.compression {
                            Compression::None => 0,
                            Compression::Fsst => 1,
                        });
                        if let FieldKind::Reference(r) = &f.kind {
                            s.str(r);
                        }
                    }
                    match &o.primary_key {
                        None => s.u32(0),
                        Some(pk) => {
                            s.u32(pk.len() as u32);
                            for p in pk {
                                s.str(p);
                            }
                        }
                    }
                }
                TypeSchema::List { name, element } => {
                    s.u8(2);
                    s.str(name);
                    s.str(element);
                }
                TypeSchema::Set { name, element } => {
                    s.u8(3);
                    s.str(name);
                    s.str(element);
                }
                TypeSchema::Map { name, key, value } => {
                    s.u8(4);
                    s.str(name);
                    s.str(key);
                    s.str(value);
                }
            }
        }
    }

    /// Reads a schema set written by [`SchemaSet::write`].
    pub fn read(c: &mut Cursor<'_>) -> Result<Self> {
        let n = c.u32("schema type count")?;
        let mut types = Vec::new();
        for _ in 0..n {
            let t = match c.u8("type tag")? {
                1 => {
                    let name = c.string("type name")?;
                    let nf = c.u32("field count")?;
                    let mut fields = Vec::new();
                    for _ in 0..nf {
                        let fname = c.string("field name")?;
                        let tag = c.u8("field kind")?;
                        let compression = match c.u8("field compression")? {
                            0 => Compression::None,
                            1 => Compression::Fsst,
                            x => {
                                return Err(Corruption::UnknownCode {
                                    what: "field compression",
                                    code: x as u64,
                                }
                                .into())
                            }
                        };
                        let kind = match (Primitive::from_tag(tag), tag) {
                            (Some(p), _) => p.into(),
                            (None, REFERENCE_TAG) => {
                                FieldKind::Reference(c.string("referenced type")?)
                            }
                            (None, x) => {
                                return Err(Corruption::UnknownCode {
                                    what: "field kind",
                                    code: x as u64,
                                }
                                .into())
                            }
                        };
                        fields.push(FieldDef {
                            name: fname,
                            kind,
                            compression,
                        });
                    }
                    let npk = c.u32("primary key length")?;
                    let primary_key = if npk == 0 {
                        None
                    } else {
                        let mut pk = Vec::new();
                        for _ in 0..npk {
                            pk.push(c.string("primary key path")?);
                        }
                        Some(pk)
                    };
                    TypeSchema::Object(ObjectSchema {
                        name,
                        fields,
                        primary_key,
                    })
                }
                2 => TypeSchema::List {
                    name: c.string("type name")?,
                    element: c.string("element type")?,
                },
                3 => TypeSchema::Set {
                    name: c.string("type name")?,
                    element: c.string("element type")?,
                },
                4 => TypeSchema::Map {
                    name: c.string("type name")?,
                    key: c.string("key type")?,
                    value: c.string("value type")?,
                },
                x => {
                    return Err(Corruption::UnknownCode {
                        what: "type tag",
                        code: x as u64,
                    }
                    .into())
                }
            };
            types.push(t);
        }
        SchemaSet::new(types)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_and_field_kinds_correspond() {
        for (i, p) in Primitive::ALL.into_iter().enumerate() {
            let k = FieldKind::from(p);
            assert_eq!(k.primitive(), Some(p));
            assert_eq!(k.name(), p.name());
            assert_eq!(k.tag(), i as u8 + 1);
            assert_eq!(Primitive::from_tag(k.tag()), Some(p));
            // dataset schema files spell kinds by their names
            let name: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
                serde::de::IntoDeserializer::into_deserializer(p.name());
            assert_eq!(serde::Deserialize::deserialize(name), Ok(p));
        }
        let r = FieldKind::Reference("T".into());
        assert_eq!(
            (r.primitive(), r.name(), r.tag()),
            (None, "reference", REFERENCE_TAG)
        );
        assert_eq!(Primitive::from_tag(REFERENCE_TAG), None);
    }
}
