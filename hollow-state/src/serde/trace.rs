//! Deriving a [`SchemaSet`] from Rust types through serde.
//!
//! serde gives no static description of a type, so the schema is observed: a tracing
//! `Deserializer` drives `T::deserialize` and records, for every struct it is asked for, its
//! name and the shape of each field (the technique of `serde-reflection`). It answers every
//! request with a plain sample value (zero, the empty string, the first enum variant, ...), so
//! the trace also yields a sample `T`.
//!
//! `Deserialize` cannot tell a `Vec` from a `HashSet` or `BTreeSet`: both ask for a sequence.
//! So every traced sequence yields *two identical* elements, and the sample is then serialized
//! with a recording `Serializer` that notes each sequence's length at the same position (the
//! same struct field): one element means the container deduplicated, so it is a set; two mean
//! a list. Maps yield one entry.
//!
//! Recursive types terminate: a struct may be entered at most twice on the current path; the
//! innermost `Option`, sequence or map through which it would be entered a third time is
//! remembered, and the trace is run again with that container answering `None` or empty at
//! that depth. Each unit-only enum is traced once per variant (one full trace per variant, all
//! enums advancing together), so a variant carrying data is found wherever it is declared.
//!
//! Not supported (an [`Error::Serde`] naming the field): enums with data, tuples, unit values,
//! `#[serde(flatten)]`, untagged or internally tagged enums and other self-describing types
//! (`deserialize_any`, e.g. `serde_json::Value`), `i128`/`u128`. `u64` maps to `I64`: values
//! above `i64::MAX` are rejected when added. `Option` is transparent, so an `Option` inside a
//! collection (`Vec<Option<X>>`) traces as `Vec<X>` and a `None` element is rejected when added.
//! `Vec<u8>` as a set (`HashSet<u8>`) is a `SetOfInteger`; as a list it is a `Bytes` field.

mod recorder;
mod tracer;

use std::any::type_name;
use std::collections::HashMap;

use ::serde::de::DeserializeOwned;

use recorder::Recorder;
use tracer::{Shape, StructEntry, TraceError, Tracer};

use hollow_format::error::{Error, Result, SchemaError};
use hollow_format::schema::{
    list_type_name, map_type_name, set_type_name, Compression, FieldDef, FieldKind, ObjectSchema,
    Primitive, SchemaSet, TypeSchema,
};

/// The most traces one type may take (each recursion cut and each enum variant takes one).
const MAX_PASSES: usize = 10_000;

/// Derives the schema of one root struct type and everything it contains.
///
/// Shorthand for `SchemaBuilder::new().add::<T>()?.build()`.
pub fn schema_for<T: ::serde::Serialize + DeserializeOwned>() -> Result<SchemaSet> {
    SchemaBuilder::new().add::<T>()?.build()
}

/// Builds one [`SchemaSet`] from several root types, with primary keys and compressed fields.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// #[derive(Serialize, Deserialize)]
/// struct Movie { id: i64, title: String, synopsis: Option<String> }
/// #[derive(Serialize, Deserialize)]
/// struct Person { id: i64, name: String }
///
/// let schema = hollow_state::serde::SchemaBuilder::new()
///     .add::<Movie>()?
///     .add::<Person>()?
///     .primary_key("Movie", ["id"])
///     .compress("Movie", "synopsis")
///     .build()?;
/// assert_eq!(schema.object("Movie")?.primary_key, Some(vec!["id".to_string()]));
/// # Ok::<(), hollow_format::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SchemaBuilder {
    types: Vec<TypeSchema>,
    primary_keys: Vec<(String, Vec<String>)>,
    compressed: Vec<(String, String)>,
}

impl SchemaBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the types of root struct `T` (and of everything it contains). Types already
    /// added are shared; two different types of the same name are an error.
    pub fn add<T: ::serde::Serialize + DeserializeOwned>(mut self) -> Result<Self> {
        for ts in trace::<T>()? {
            self = self.add_type(ts)?;
        }
        Ok(self)
    }

    /// Adds a hand-declared type (shared if an identical type of the name exists).
    pub fn add_type(mut self, ts: TypeSchema) -> Result<Self> {
        match self.types.iter().find(|t| t.name() == ts.name()) {
            Some(existing) if *existing == ts => {}
            Some(_) => {
                return Err(SchemaError::DuplicateType {
                    name: ts.name().into(),
                }
                .into())
            }
            None => self.types.push(ts),
        }
        Ok(self)
    }

    /// Sets the primary key of an object type (field paths, `"id"` or `"movie.id"`).
    pub fn primary_key<S: Into<String>>(
        mut self,
        type_name: &str,
        fields: impl IntoIterator<Item = S>,
    ) -> Self {
        self.primary_keys.push((
            type_name.to_string(),
            fields.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Stores a string or bytes field with FSST compression.
    pub fn compress(mut self, type_name: &str, field: &str) -> Self {
        self.compressed
            .push((type_name.to_string(), field.to_string()));
        self
    }

    /// The types added so far, in order (root types first, then what they contain).
    pub fn types(&self) -> &[TypeSchema] {
        &self.types
    }

    /// Applies primary keys and compression, and validates the schema set.
    pub fn build(mut self) -> Result<SchemaSet> {
        for (type_name, pk) in std::mem::take(&mut self.primary_keys) {
            self.object_mut(&type_name)?.primary_key = Some(pk);
        }
        for (type_name, field) in std::mem::take(&mut self.compressed) {
            let o = self.object_mut(&type_name)?;
            let f = o
                .fields
                .iter_mut()
                .find(|f| f.name == field)
                .ok_or_else(|| Error::NoSuchField {
                    type_name: type_name.clone(),
                    field: field.clone(),
                })?;
            f.compression = Compression::Fsst;
        }
        SchemaSet::new(self.types)
    }

    fn object_mut(&mut self, name: &str) -> Result<&mut ObjectSchema> {
        match self.types.iter_mut().find(|t| t.name() == name) {
            Some(TypeSchema::Object(o)) => Ok(o),
            Some(t) => Err(Error::WrongTypeKind {
                type_name: name.to_string(),
                expected: "object",
                actual: t.kind_name(),
            }),
            None => Err(Error::NoSuchType(name.to_string())),
        }
    }
}

/// Traces root struct `T`: its types, root first.
fn trace<T: ::serde::Serialize + DeserializeOwned>() -> Result<Vec<TypeSchema>> {
    let mut tr = Tracer::default();
    let mut first: Option<(T, Vec<StructEntry>)> = None;
    let mut passes = 0;
    loop {
        passes += 1;
        if passes > MAX_PASSES {
            return Err(Error::Serde(format!(
                "tracing {} did not settle after {MAX_PASSES} passes",
                type_name::<T>()
            )));
        }
        match tr.pass::<T>() {
            Ok(sample) => {
                if first.is_none() {
                    first = Some((sample, std::mem::take(&mut tr.structs)));
                }
                if !tr.advance_enums() {
                    break;
                }
            }
            Err(TraceError::Recursion { handled: true, .. }) => {}
            Err(TraceError::Recursion {
                name,
                handled: false,
            }) => {
                return Err(Error::Serde(format!(
                "type {name} contains itself without an Option, a collection or a map in between"
            )))
            }
            Err(TraceError::Msg(m)) => return Err(Error::Serde(m)),
        }
    }
    let Some((sample, structs)) = first else {
        return Err(Error::Serde(format!(
            "tracing {} produced no sample",
            type_name::<T>()
        )));
    };
    let mut rec = Recorder::default();
    sample.serialize(&mut rec).map_err(|e| {
        Error::Serde(format!(
            "serializing the traced sample of {}: {e}",
            type_name::<T>()
        ))
    })?;
    Resolver {
        lens: &rec.lens,
        objects: Vec::new(),
        extra: Vec::new(),
        names: HashMap::new(),
    }
    .run(&structs)
}

/// Turns traced shapes into types: structs first (in the order first met), then the
/// collection and wrapper types they need.
struct Resolver<'a> {
    lens: &'a HashMap<String, u8>,
    objects: Vec<TypeSchema>,
    extra: Vec<TypeSchema>,
    names: HashMap<String, TypeSchema>,
}

impl Resolver<'_> {
    fn run(mut self, structs: &[StructEntry]) -> Result<Vec<TypeSchema>> {
        for s in structs {
            let Some(fields) = &s.fields else {
                return Err(Error::Serde(format!(
                    "type {} was not traced to the end",
                    s.name
                )));
            };
            let mut o = ObjectSchema::new(s.name);
            for (name, shape) in fields {
                let kind = self.field_kind(shape, &format!("{}.{name}", s.name))?;
                o.fields.push(FieldDef {
                    name: name.to_string(),
                    kind,
                    compression: Compression::None,
                });
            }
            let ts = TypeSchema::Object(o);
            if self.register(&ts)? {
                self.objects.push(ts);
            }
        }
        self.objects.append(&mut self.extra);
        Ok(self.objects)
    }

    /// Records a type; false if an identical one is already recorded.
    fn register(&mut self, ts: &TypeSchema) -> Result<bool> {
        match self.names.get(ts.name()) {
            Some(prev) if prev == ts => Ok(false),
            Some(_) => Err(Error::Serde(format!(
                "two different types are named {:?}",
                ts.name()
            ))),
            None => {
                self.names.insert(ts.name().to_string(), ts.clone());
                Ok(true)
            }
        }
    }

    fn add_extra(&mut self, ts: TypeSchema) -> Result<String> {
        let name = ts.name().to_string();
        if self.register(&ts)? {
            self.extra.push(ts);
        }
        Ok(name)
    }

    fn is_set(&self, pos: &str) -> Result<bool> {
        let seen = self.lens.get(pos).copied().unwrap_or(0);
        match (seen & 0b10 != 0, seen & 0b100 != 0) {
            (true, true) => Err(Error::Serde(format!("{pos}: the sequence deduplicated some identical elements but not others; cannot tell a list from a set"))),
            (set, _) => Ok(set),
        }
    }

    fn field_kind(&mut self, shape: &Shape, at: &str) -> Result<FieldKind> {
        Ok(match shape {
            Shape::Unknown => {
                return Err(Error::Serde(format!("{at}: could not determine the type")))
            }
            Shape::Prim(p) => (*p).into(),
            Shape::U8 => FieldKind::Primitive(Primitive::I32),
            Shape::Struct(n) => FieldKind::Reference(n.to_string()),
            Shape::Seq { elem, pos } if **elem == Shape::U8 && !self.is_set(pos)? => {
                FieldKind::Primitive(Primitive::Bytes)
            }
            Shape::Seq { .. } | Shape::Map { .. } => {
                FieldKind::Reference(self.collection(shape, at)?)
            }
        })
    }

    /// The type of records a collection holds for `shape`.
    fn elem_type(&mut self, shape: &Shape, at: &str) -> Result<String> {
        match shape {
            Shape::Unknown => Err(Error::Serde(format!(
                "{at}: could not determine the element type"
            ))),
            Shape::Prim(p) => {
                let o = ObjectSchema::new(p.wrapper_type()).field("value", (*p).into());
                self.add_extra(TypeSchema::Object(o))
            }
            Shape::U8 => self.elem_type(&Shape::Prim(Primitive::I32), at),
            Shape::Struct(n) => Ok(n.to_string()),
            Shape::Seq { .. } | Shape::Map { .. } => self.collection(shape, at),
        }
    }

    fn collection(&mut self, shape: &Shape, at: &str) -> Result<String> {
        match shape {
            Shape::Seq { elem, pos } => {
                let set = self.is_set(pos)?;
                if !set && **elem == Shape::U8 {
                    return self.elem_type(&Shape::Prim(Primitive::Bytes), at);
                }
                let element = self.elem_type(elem, at)?;
                let ts = if set {
                    TypeSchema::Set {
                        name: set_type_name(&element),
                        element,
                    }
                } else {
                    TypeSchema::List {
                        name: list_type_name(&element),
                        element,
                    }
                };
                self.add_extra(ts)
            }
            Shape::Map { key, value } => {
                let key = self.elem_type(key, at)?;
                let value = self.elem_type(value, at)?;
                self.add_extra(TypeSchema::Map {
                    name: map_type_name(&key, &value),
                    key,
                    value,
                })
            }
            _ => self.elem_type(shape, at),
        }
    }
}
