//! The typed Rust API: the runtime side of `#[derive(Hollow)]` (the derive lives in
//! `hollow-derive` and is re-exported by `hollow`).
//!
//! A derived struct is an object type; each field's Rust type says what the field holds:
//!
//! | Rust field type                          | hollow field                                        | view method returns            |
//! |------------------------------------------|-----------------------------------------------------|--------------------------------|
//! | `bool`, `i32`, `i64`, `f32`, `f64`       | `Bool`, `I32`, `I64`, `F32`, `F64`                   | the value                      |
//! | `String`, `&'static str`                 | `String` (`#[hollow(compressed)]`: FSST)            | `&'a str` (compressed: `Cow`)  |
//! | `Vec<u8>`                                | `Bytes`                                             | `&'a [u8]`                     |
//! | a derived unit-only enum                 | `String` (the variant's name)                       | the variant                    |
//! | a derived struct                         | `Reference` to its type                             | its view                       |
//! | `Vec<X>`                                 | `Reference` to list `ListOf{X}`                     | [`ListIter`]                   |
//! | `HashSet<X>`, `BTreeSet<X>`              | `Reference` to set `SetOf{X}`                       | [`SetIter`]                    |
//! | `HashMap<K, V>`, `BTreeMap<K, V>`        | `Reference` to map `MapOf{K}To{V}`                  | [`MapIter`]                    |
//! | `Option<X>`                              | the field of `X`; `None` is null                    | `Option` of the above          |
//! | `Box<X>`                                 | the field of `X` (for recursive types)              | as for `X`                     |
//!
//! Collection elements are records: structs as themselves, primitives wrapped, Hollow style,
//! in one-field object types named `Boolean`, `Integer`, `Long`, `Float`, `Double`,
//! `String` and `Bytes` (field `value`), as the serde derivation and JSON datasets do, so a
//! derived schema and a JSON dataset schema of the same shape are equal (the types are
//! declared root first, then what each field needs in field order, as
//! [`DatasetSchema::schema_set`](crate::dataset::DatasetSchema::schema_set) does).
//!
//! Reading: [`ReadState::typed`] checks once that the state's schema matches the Rust type
//! (every field of the struct present in the state with the same kind and compression, and
//! no null in a field that is not an `Option`), resolves every column handle, and returns a
//! [`Table`] whose views read fields with no `Value`, no allocation and no error path.
//! Fields of the state the struct does not declare are ignored.
//!
//! Writing: [`WriteState::add_typed`] adds a value and everything it refers to; any
//! [`Sink`] (the producer's cycles are one) takes the same records.
//!
//! Limits: typed views of recursive types (a type that refers to itself, directly or not)
//! are refused ([`TypedError::Recursive`]); their schemas and writers work. On a corrupt,
//! unverified state a view reads values outside the data as empty (strings, bytes,
//! collections); like the column handles, a view of an unpopulated ordinal reads whatever
//! the columns hold there. Views borrow their table for the table's own lifetime
//! parameter, so a function generic over `T: Hollow` takes the table by reference
//! (`&'a Table<'a, T>`) rather than creating and dropping one itself (the borrow checker
//! cannot see that the table's destructor leaves the state alone).

mod check;
mod collections;
mod fields;
mod model;

use crate::read::ReadState;
use crate::write::WriteState;
use hollow_format::schema::{FieldDef, SchemaSet};

pub use check::{Mismatch, TypedError};
pub use collections::{CollectionColumn, CollectionReader, ListIter, MapIter, MapReader, SetIter};
pub use fields::{CompressedField, EnumColumn, EnumNames, RefColumn};
pub use model::{
    Build, Element, Field, Hollow, KeyPart, KeyTuple, Registry, Result, Sink, Table, TableIter,
};

impl WriteState {
    /// Adds a value of a derived type as a record, with everything it refers to; returns
    /// its ordinal (the existing one if an identical record is present).
    pub fn add_typed<T: Hollow>(&mut self, value: &T) -> Result<u32> {
        value.write_with(self, |ws, values| {
            Ok(WriteState::add_object(ws, T::TYPE_NAME, values)?)
        })
    }
}

/// Builds one [`SchemaSet`] from several derived root types (their types shared by name).
///
/// ```
/// # use hollow_state::typed::SchemaBuilder;
/// # fn f<Movie: hollow_state::typed::Hollow, Person: hollow_state::typed::Hollow>() -> hollow_state::typed::Result<()> {
/// let schema = SchemaBuilder::new().add::<Movie>().add::<Person>().build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct SchemaBuilder {
    reg: Registry,
}

impl SchemaBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares root type `T` and everything it refers to.
    pub fn add<T: Hollow>(mut self) -> Self {
        self.reg.object::<T>();
        self
    }

    /// Validates the types into a schema set.
    pub fn build(self) -> Result<SchemaSet> {
        Ok(SchemaSet::new(self.reg.into_types()?)?)
    }
}

/// The schema set of derived type `T` and everything it refers to.
pub fn schema_for<T: Hollow>() -> Result<SchemaSet> {
    SchemaBuilder::new().add::<T>().build()
}

impl ReadState {
    /// The records of derived type `T`, read through zero-copy views. Checks once that the
    /// state's schema matches `T` (and everything it refers to): the first difference is a
    /// [`TypedError::Mismatch`] naming the type and field.
    pub fn typed<T: Hollow>(&self) -> Result<Table<'_, T>> {
        let mut reg = Registry::default();
        reg.object::<T>();
        check::check(&reg.into_types()?, self.schema())?;
        Build::new(self).table::<T>()
    }
}

/// What the derive's generated code uses; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use super::fields::{enum_field, object_field};
    pub use crate::read::{ObjectView, StrColumn};
    pub use hollow_format::schema::{Compression, FieldDef, FieldKind, ObjectSchema, Primitive};
    pub use hollow_format::value::Value;
    pub use std::borrow::Cow;

    /// A field definition.
    pub fn field_def(name: &str, kind: FieldKind, compressed: bool) -> FieldDef {
        FieldDef {
            name: name.to_string(),
            kind,
            compression: if compressed {
                Compression::Fsst
            } else {
                Compression::None
            },
        }
    }
}

/// Declares the schema of field `F` as a [`FieldDef`] (used by derived `object_schema`).
pub fn declare_field<F: Field>(reg: &mut Registry, name: &str, compressed: bool) -> FieldDef {
    __private::field_def(name, F::declare(reg), compressed)
}
