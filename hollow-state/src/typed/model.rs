//! The traits of the typed API and what they work with: the registry that collects a
//! schema from derived types, the construction of typed tables, tables and their views.

use std::borrow::Cow;
use std::collections::HashMap;
use std::marker::PhantomData;

use super::check::{Mismatch, TypedError};
use crate::read::{ObjectView, Ordinals, ReadState};
use crate::write::WriteState;
use hollow_format::schema::{Compression, FieldKind, ObjectSchema, TypeSchema};
use hollow_format::value::Value;

/// The result type of the typed API.
pub type Result<T, E = TypedError> = std::result::Result<T, E>;

/// An object type described by a Rust struct: implemented by `#[derive(Hollow)]`.
pub trait Hollow: Sized + 'static {
    /// The object type's name (the struct's, or its `#[hollow(rename)]`).
    const TYPE_NAME: &'static str;
    /// The primary-key fields (`#[hollow(primary_key)]`), in declaration order.
    const PRIMARY_KEY: &'static [&'static str];
    /// The Rust type of the primary key: the key field's type, a tuple of them for a
    /// composite key, `()` without a key.
    type Key: KeyTuple;
    /// The resolved column handles of the type's fields.
    type Columns<'a>;
    /// The borrowed view of one record.
    type View<'a>: Copy;

    /// The object type's schema; declares the types its fields refer to in `reg`.
    fn object_schema(reg: &mut Registry) -> ObjectSchema;
    /// Resolves the column handles of the fields (checking kinds and nullability).
    fn columns<'a>(cx: &mut Build<'a>, object: &ObjectView<'a>) -> Result<Self::Columns<'a>>;
    /// The view of record `ordinal` of `table`.
    fn view<'a>(table: &'a Table<'a, Self>, ordinal: u32) -> Self::View<'a>;
    /// Adds the records the fields refer to into `sink`, then calls `f` with the field
    /// values of the record in schema order.
    fn write_with<S: Sink + ?Sized, R, E: From<TypedError>>(
        &self,
        sink: &mut S,
        f: impl FnOnce(&mut S, &[Value<'_>]) -> Result<R, E>,
    ) -> Result<R, E>;
}

/// A Rust type that can be the type of a field of a derived struct.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a field of a #[derive(Hollow)] type",
    label = "unsupported field type",
    note = "a field is bool, i32, i64, f32, f64, String, &'static str, Vec<u8>, a type that derives Hollow (struct or unit-only enum), Vec<X>, HashSet<X>, BTreeSet<X>, HashMap<K, V>, BTreeMap<K, V>, or Option of one of these",
    note = "if `{Self}` is a struct or enum of yours, add #[derive(Hollow)] to it; for other integers use i32 or i64"
)]
pub trait Field {
    /// The field's kind; declares the types it refers to in `reg`.
    fn declare(reg: &mut Registry) -> FieldKind;
    /// The field value of `self`, adding the records it refers to into `sink`.
    fn to_value<'v, S: Sink + ?Sized>(&'v self, sink: &mut S) -> Result<Value<'v>>;
    /// The column handle a view reads the field with.
    type Column<'a>;
    /// What a view's method returns for the field.
    type Out<'a>;
    /// Resolves the handle of field `field` of `object`; unless `nullable`, refuses a column
    /// that holds a null.
    fn column<'a>(
        cx: &mut Build<'a>,
        object: &ObjectView<'a>,
        field: &str,
        nullable: bool,
    ) -> Result<Self::Column<'a>>;
    /// The field's value at `ordinal` (not null: checked when the column was resolved).
    fn get<'a>(column: &'a Self::Column<'a>, ordinal: u32) -> Self::Out<'a>;
    /// The field's value at `ordinal`, `None` when null.
    fn get_opt<'a>(column: &'a Self::Column<'a>, ordinal: u32) -> Option<Self::Out<'a>>;
}

/// A Rust type whose values can be elements (keys, values) of collections: each is a record
/// of [`Element::element_name`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an element of a collection of a #[derive(Hollow)] type",
    label = "unsupported element type",
    note = "elements are bool, i32, i64, f32, f64, String, &'static str, Vec<u8>, types that derive Hollow, or collections of these (no Option)",
    note = "if `{Self}` is a struct or enum of yours, add #[derive(Hollow)] to it"
)]
pub trait Element {
    /// The name of the type whose records hold the elements.
    fn element_name() -> Cow<'static, str>;
    /// Declares that type (and what it refers to) in `reg`; returns its name.
    fn declare_element(reg: &mut Registry) -> String;
    /// Adds `self` as a record into `sink`; returns its ordinal.
    fn add_element<S: Sink + ?Sized>(&self, sink: &mut S) -> Result<u32>;
    /// What reads elements by ordinal.
    type Reader<'a>;
    /// What an element reads as.
    type Item<'a>;
    /// Resolves the reader of the element type.
    fn reader<'a>(cx: &mut Build<'a>) -> Result<Self::Reader<'a>>;
    /// The element with record ordinal `ordinal`.
    fn item<'a>(reader: &'a Self::Reader<'a>, ordinal: u32) -> Self::Item<'a>;
}

/// A field type that can be part of a key (primary keys, typed index keys).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a key field",
    label = "not a key type",
    note = "a primary-key or index key field is bool, i32, i64, String, &str or a derived unit-only enum: remove #[hollow(primary_key)] from this field, or key the type by scalar fields"
)]
pub trait KeyPart {
    /// How a lookup gives this part (`&'k str` for strings).
    type Borrowed<'k>;
    /// The part as a value.
    fn value<'k>(part: &Self::Borrowed<'k>) -> Value<'k>;
}

/// The Rust type of a whole key: one [`KeyPart`], a tuple of them, or `()` for no key.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a key",
    label = "not a key type",
    note = "a key is one key field type (bool, i32, i64, String, &str or a derived unit-only enum) or a tuple of them: remove #[hollow(primary_key)] from fields of other types"
)]
pub trait KeyTuple {
    /// How a lookup gives the key (`(i64, &'k str)` for `(i64, String)`).
    type Borrowed<'k>;
    /// The number of parts.
    const LEN: usize;
    /// Calls `f` with the key's values, in order.
    fn with_values<R>(key: &Self::Borrowed<'_>, f: impl FnOnce(&[Value<'_>]) -> R) -> R;
}

impl KeyTuple for () {
    type Borrowed<'k> = ();
    const LEN: usize = 0;
    fn with_values<R>(_: &(), f: impl FnOnce(&[Value<'_>]) -> R) -> R {
        f(&[])
    }
}

macro_rules! key_tuple {
    ($n:expr; $($p:ident $i:tt),+) => {
        impl<$($p: KeyPart),+> KeyTuple for ($($p,)+) {
            type Borrowed<'k> = ($($p::Borrowed<'k>,)+);
            const LEN: usize = $n;
            #[inline]
            fn with_values<R>(key: &Self::Borrowed<'_>, f: impl FnOnce(&[Value<'_>]) -> R) -> R {
                f(&[$($p::value(&key.$i)),+])
            }
        }
    };
}
key_tuple!(1; A 0);
key_tuple!(2; A 0, B 1);
key_tuple!(3; A 0, B 1, C 2);
key_tuple!(4; A 0, B 1, C 2, D 3);

/// Where typed writes put records: a [`WriteState`], or a producer's cycle.
pub trait Sink {
    /// Adds an object record (field values in schema order); returns its ordinal.
    fn add_object(&mut self, type_name: &str, values: &[Value<'_>]) -> Result<u32>;
    /// Adds a collection record (element ordinals; for maps key/value pairs flattened).
    fn add_collection(&mut self, type_name: &str, items: Vec<u32>) -> Result<u32>;
}

impl Sink for WriteState {
    fn add_object(&mut self, type_name: &str, values: &[Value<'_>]) -> Result<u32> {
        Ok(WriteState::add_object(self, type_name, values)?)
    }

    fn add_collection(&mut self, type_name: &str, items: Vec<u32>) -> Result<u32> {
        let t = self.type_idx(type_name)?;
        Ok(WriteState::add_collection(self, t, items, None)?)
    }
}

/// Collects the types of a schema while derived types declare themselves: a type is
/// placed when first met, before the types it refers to.
#[derive(Debug, Default)]
pub struct Registry {
    types: Vec<Option<TypeSchema>>,
    by_name: HashMap<String, (usize, &'static str)>,
    error: Option<TypedError>,
}

impl Registry {
    /// Declares object type `T` (once); returns its name.
    pub fn object<T: Hollow>(&mut self) -> &'static str {
        let rust = std::any::type_name::<T>();
        if let Some(slot) = self.reserve(T::TYPE_NAME, rust) {
            let o = T::object_schema(self);
            self.types[slot] = Some(TypeSchema::Object(o));
        }
        T::TYPE_NAME
    }

    /// Declares a one-field wrapper type of a primitive (`Long` with field `value`).
    pub fn wrapper(&mut self, name: &'static str, kind: FieldKind) -> String {
        if let Some(slot) = self.reserve(name, name) {
            self.types[slot] = Some(TypeSchema::Object(
                ObjectSchema::new(name).field("value", kind),
            ));
        }
        name.to_string()
    }

    /// Declares a list or set type named `name` of `E` (`set` for a set).
    pub fn collection<E: Element>(&mut self, name: String, set: bool) -> String {
        if let Some(slot) = self.reserve(&name, "") {
            let element = E::declare_element(self);
            self.types[slot] = Some(if set {
                TypeSchema::Set {
                    name: name.clone(),
                    element,
                }
            } else {
                TypeSchema::List {
                    name: name.clone(),
                    element,
                }
            });
        }
        name
    }

    /// Declares a map type named `name` from `K` to `V`.
    pub fn map<K: Element, V: Element>(&mut self, name: String) -> String {
        if let Some(slot) = self.reserve(&name, "") {
            let key = K::declare_element(self);
            let value = V::declare_element(self);
            self.types[slot] = Some(TypeSchema::Map {
                name: name.clone(),
                key,
                value,
            });
        }
        name
    }

    /// A slot for a new type, or `None` when the name is declared (by the same Rust type:
    /// otherwise the clash is remembered as the registry's error).
    fn reserve(&mut self, name: &str, rust: &'static str) -> Option<usize> {
        match self.by_name.get(name) {
            Some(&(_, first)) => {
                if first != rust && self.error.is_none() {
                    self.error = Some(TypedError::NameClash {
                        type_name: name.to_string(),
                        first,
                        second: rust,
                    });
                }
                None
            }
            None => {
                self.by_name
                    .insert(name.to_string(), (self.types.len(), rust));
                self.types.push(None);
                Some(self.types.len() - 1)
            }
        }
    }

    /// The declared types, in order.
    pub fn into_types(self) -> Result<Vec<TypeSchema>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Ok(self.types.into_iter().flatten().collect())
    }
}

/// The state of a typed table's construction: the read state and the types being built.
#[derive(Debug)]
pub struct Build<'a> {
    state: &'a ReadState,
    path: Vec<&'static str>,
}

impl<'a> Build<'a> {
    /// Starts building typed tables of `state`.
    pub(crate) fn new(state: &'a ReadState) -> Self {
        Build {
            state,
            path: Vec::new(),
        }
    }

    /// The read state.
    pub fn state(&self) -> &'a ReadState {
        self.state
    }

    /// Builds the table of `T` (refusing a type that refers back to itself).
    pub fn table<T: Hollow>(&mut self) -> Result<Table<'a, T>> {
        if self.path.contains(&T::TYPE_NAME) {
            let mut path = self.path.join(" → ");
            path.push_str(" → ");
            path.push_str(T::TYPE_NAME);
            return Err(TypedError::Recursive { path });
        }
        self.path.push(T::TYPE_NAME);
        let object = self.state.object(T::TYPE_NAME)?;
        let columns = T::columns(self, &object);
        self.path.pop();
        Ok(Table {
            state: self.state,
            columns: columns?,
            object,
            _t: PhantomData,
        })
    }

    /// The column view of field `field` of `object`, refusing a compressed column unless
    /// `compressed`, and one that holds a null unless `nullable`.
    pub fn column(
        &self,
        object: &ObjectView<'a>,
        field: &str,
        nullable: bool,
        compressed: bool,
    ) -> Result<crate::read::ColumnView<'a>> {
        let c = object.column(field)?;
        let type_name = &object.schema().name;
        if c.is_compressed() && !compressed {
            return Err(Mismatch::Compression {
                type_name: type_name.clone(),
                field: field.to_string(),
                state: Compression::Fsst,
                rust: Compression::None,
            }
            .into());
        }
        if !nullable && c.may_hold_null() {
            if let Some(ordinal) = object.ordinals().find(|&o| c.raw(o).is_none()) {
                return Err(Mismatch::Nullable {
                    type_name: type_name.clone(),
                    field: field.to_string(),
                    ordinal,
                }
                .into());
            }
        }
        Ok(c)
    }
}

/// The records of a derived type `T` in a read state, read through views.
pub struct Table<'a, T: Hollow> {
    state: &'a ReadState,
    object: ObjectView<'a>,
    columns: T::Columns<'a>,
    _t: PhantomData<fn() -> T>,
}

impl<T: Hollow> std::fmt::Debug for Table<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("type", &T::TYPE_NAME)
            .field("records", &self.object.len())
            .finish()
    }
}

impl<'a, T: Hollow> Table<'a, T> {
    /// The view of record `ordinal`, `None` when the ordinal holds no record.
    #[inline]
    pub fn get(&'a self, ordinal: u32) -> Option<T::View<'a>> {
        self.object
            .is_populated(ordinal)
            .then(|| T::view(self, ordinal))
    }

    /// The view of record `ordinal` without checking that it holds a record (an unpopulated
    /// ordinal reads whatever the columns hold there).
    #[inline(always)]
    pub fn view(&'a self, ordinal: u32) -> T::View<'a> {
        T::view(self, ordinal)
    }

    /// The views of every record, by increasing ordinal.
    pub fn iter(&'a self) -> TableIter<'a, T> {
        TableIter {
            table: self,
            ordinals: self.object.ordinals(),
        }
    }

    /// The number of records.
    pub fn len(&self) -> u64 {
        self.object.len()
    }

    /// Whether the type holds no record.
    pub fn is_empty(&self) -> bool {
        self.object.is_empty()
    }

    /// The populated ordinals, increasing.
    pub fn ordinals(&self) -> Ordinals<'a> {
        self.object.ordinals()
    }

    /// The read state.
    pub fn state(&self) -> &'a ReadState {
        self.state
    }

    /// The untyped view of the type.
    pub fn object(&self) -> &ObjectView<'a> {
        &self.object
    }

    /// The column handles of the fields (what the views read): a `LongColumn` for an
    /// `i64`, a `StrColumn` for a `String`, [`EnumColumn`](super::EnumColumn) for an enum, ..
    #[inline(always)]
    pub fn columns(&'a self) -> &'a T::Columns<'a> {
        &self.columns
    }

    /// The untyped view of the type and the column handles, for a caller that keeps the
    /// handles beyond the table (they borrow the state, not the table).
    pub fn into_parts(self) -> (ObjectView<'a>, T::Columns<'a>) {
        (self.object, self.columns)
    }
}

/// The views of every record of a [`Table`].
pub struct TableIter<'a, T: Hollow> {
    table: &'a Table<'a, T>,
    ordinals: Ordinals<'a>,
}

impl<'a, T: Hollow> Iterator for TableIter<'a, T> {
    type Item = T::View<'a>;

    #[inline]
    fn next(&mut self) -> Option<T::View<'a>> {
        self.ordinals.next().map(|o| T::view(self.table, o))
    }
}
