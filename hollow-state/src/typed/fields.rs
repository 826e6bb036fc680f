//! Field and element types of the typed API: scalars, strings, bytes, `Option`, references
//! to derived structs and derived unit-only enums.

use std::borrow::Cow;
use std::marker::PhantomData;

use super::check::Mismatch;
use super::model::{
    Build, Element, Field, Hollow, KeyPart, KeyTuple, Registry, Result, Sink, Table,
};
use crate::read::{self, BoolColumn, BytesColumn, DoubleColumn, LongColumn, ObjectView, StrColumn};
use hollow_format::schema::{FieldKind, Primitive};
use hollow_format::value::Value;

/// The handle of the `value` field of a wrapper type (`Long`, `String`, ...), checked to
/// hold no null.
fn wrapper_object<'a>(cx: &mut Build<'a>, name: &str) -> Result<ObjectView<'a>> {
    let object = cx.state().object(name)?;
    cx.column(&object, "value", false, false)?;
    Ok(object)
}

/// Field and element implementations of a primitive: its kind, its wrapper type, the
/// column handle that reads it (`$handle` on an `ObjectView`) and what a view returns, how a
/// handle reads a value, the value read for a null (which the checks rule out), and how the
/// Rust value becomes a `Value`.
macro_rules! primitive {
    ($t:ty, $kind:ident, $wrapper:literal, $col:ty, $handle:ident, $out:ty,
     |$c:ident, $o:ident| $read:expr, $default:expr, |$v:ident| $value:expr) => {
        impl Field for $t {
            fn declare(_: &mut Registry) -> FieldKind {
                FieldKind::Primitive(Primitive::$kind)
            }
            #[inline]
            fn to_value<'v, S: Sink + ?Sized>(&'v self, _: &mut S) -> Result<Value<'v>> {
                let $v = self;
                Ok($value)
            }
            type Column<'a> = $col;
            type Out<'a> = $out;
            fn column<'a>(
                cx: &mut Build<'a>,
                object: &ObjectView<'a>,
                field: &str,
                nullable: bool,
            ) -> Result<$col> {
                cx.column(object, field, nullable, false)?;
                Ok(object.$handle(field)?)
            }
            #[inline(always)]
            fn get<'a>($c: &'a $col, $o: u32) -> $out {
                match $read {
                    Some(x) => x,
                    None => $default,
                }
            }
            #[inline(always)]
            fn get_opt<'a>($c: &'a $col, $o: u32) -> Option<$out> {
                $read
            }
        }

        impl Element for $t {
            fn element_name() -> Cow<'static, str> {
                Cow::Borrowed($wrapper)
            }
            fn declare_element(reg: &mut Registry) -> String {
                reg.wrapper($wrapper, FieldKind::Primitive(Primitive::$kind))
            }
            fn add_element<S: Sink + ?Sized>(&self, sink: &mut S) -> Result<u32> {
                let v = Field::to_value(self, sink)?;
                sink.add_object($wrapper, std::slice::from_ref(&v))
            }
            type Reader<'a> = $col;
            type Item<'a> = $out;
            fn reader<'a>(cx: &mut Build<'a>) -> Result<$col> {
                Ok(wrapper_object(cx, $wrapper)?.$handle("value")?)
            }
            #[inline(always)]
            fn item<'a>(reader: &'a $col, ordinal: u32) -> $out {
                <$t as Field>::get(reader, ordinal)
            }
        }
    };
}

primitive!(
    bool,
    Bool,
    "Boolean",
    BoolColumn<'a>,
    boolean,
    bool,
    |c, o| c.get(o),
    false,
    |v| Value::Bool(*v)
);
primitive!(
    i32,
    I32,
    "Integer",
    LongColumn<'a>,
    long,
    i32,
    |c, o| c.get(o).map(|x| x as i32),
    0,
    |v| Value::I32(*v)
);
primitive!(
    i64,
    I64,
    "Long",
    LongColumn<'a>,
    long,
    i64,
    |c, o| c.get(o),
    0,
    |v| Value::I64(*v)
);
primitive!(
    f32,
    F32,
    "Float",
    DoubleColumn<'a>,
    double,
    f32,
    |c, o| c.get(o).map(|x| x as f32),
    0.0,
    |v| Value::F32(*v)
);
primitive!(
    f64,
    F64,
    "Double",
    DoubleColumn<'a>,
    double,
    f64,
    |c, o| c.get(o),
    0.0,
    |v| Value::F64(*v)
);
primitive!(
    String,
    String,
    "String",
    StrColumn<'a>,
    string,
    &'a str,
    |c, o| c.get_lenient(o),
    "",
    |v| Value::Str(Cow::Borrowed(v.as_str()))
);
primitive!(
    &'static str,
    String,
    "String",
    StrColumn<'a>,
    string,
    &'a str,
    |c, o| c.get_lenient(o),
    "",
    |v| Value::Str(Cow::Borrowed(v))
);
primitive!(
    Vec<u8>,
    Bytes,
    "Bytes",
    BytesColumn<'a>,
    bytes,
    &'a [u8],
    |c, o| c.get_lenient(o),
    &[],
    |v| Value::Bytes(Cow::Borrowed(v.as_slice()))
);

impl<T: Field> Field for Option<T> {
    fn declare(reg: &mut Registry) -> FieldKind {
        T::declare(reg)
    }
    #[inline]
    fn to_value<'v, S: Sink + ?Sized>(&'v self, sink: &mut S) -> Result<Value<'v>> {
        match self {
            None => Ok(Value::Null),
            Some(v) => v.to_value(sink),
        }
    }
    type Column<'a> = T::Column<'a>;
    type Out<'a> = Option<T::Out<'a>>;
    fn column<'a>(
        cx: &mut Build<'a>,
        object: &ObjectView<'a>,
        field: &str,
        _nullable: bool,
    ) -> Result<T::Column<'a>> {
        T::column(cx, object, field, true)
    }
    #[inline(always)]
    fn get<'a>(column: &'a T::Column<'a>, ordinal: u32) -> Option<T::Out<'a>> {
        T::get_opt(column, ordinal)
    }
    #[inline(always)]
    fn get_opt<'a>(column: &'a T::Column<'a>, ordinal: u32) -> Option<Option<T::Out<'a>>> {
        Some(T::get_opt(column, ordinal))
    }
}

/// `Box<T>` is `T` (what recursive types need).
impl<T: Field> Field for Box<T> {
    fn declare(reg: &mut Registry) -> FieldKind {
        T::declare(reg)
    }
    #[inline]
    fn to_value<'v, S: Sink + ?Sized>(&'v self, sink: &mut S) -> Result<Value<'v>> {
        T::to_value(self, sink)
    }
    type Column<'a> = T::Column<'a>;
    type Out<'a> = T::Out<'a>;
    fn column<'a>(
        cx: &mut Build<'a>,
        object: &ObjectView<'a>,
        field: &str,
        nullable: bool,
    ) -> Result<T::Column<'a>> {
        T::column(cx, object, field, nullable)
    }
    #[inline(always)]
    fn get<'a>(column: &'a T::Column<'a>, ordinal: u32) -> T::Out<'a> {
        T::get(column, ordinal)
    }
    #[inline(always)]
    fn get_opt<'a>(column: &'a T::Column<'a>, ordinal: u32) -> Option<T::Out<'a>> {
        T::get_opt(column, ordinal)
    }
}

/// A string field stored FSST-compressed (`#[hollow(compressed)]`): views decode values
/// into a `Cow` (borrowed when the state was written without compression).
#[diagnostic::on_unimplemented(
    message = "#[hollow(compressed)] does not apply to `{Self}`",
    label = "not a string field",
    note = "only String and Option<String> fields can be stored compressed: remove #[hollow(compressed)]"
)]
pub trait CompressedField {
    /// Whether the field is an `Option`.
    const NULLABLE: bool;
    /// What a view's method returns.
    type Out<'a>;
    /// The view's value from the column's (`None` for null, and for a value a corrupt
    /// state cannot decode).
    fn wrap(value: Option<Cow<'_, str>>) -> Self::Out<'_>;

    /// Resolves the field's handle.
    fn column<'a>(
        cx: &mut Build<'a>,
        object: &ObjectView<'a>,
        field: &str,
    ) -> Result<StrColumn<'a>> {
        cx.column(object, field, Self::NULLABLE, true)?;
        Ok(object.string(field)?)
    }

    /// The value at `ordinal`.
    #[inline]
    fn get<'a>(column: &'a StrColumn<'a>, ordinal: u32) -> Self::Out<'a> {
        Self::wrap(column.get(ordinal).ok().flatten())
    }
}

impl CompressedField for String {
    const NULLABLE: bool = false;
    type Out<'a> = Cow<'a, str>;
    fn wrap(value: Option<Cow<'_, str>>) -> Cow<'_, str> {
        value.unwrap_or_default()
    }
}

impl CompressedField for Option<String> {
    const NULLABLE: bool = true;
    type Out<'a> = Option<Cow<'a, str>>;
    fn wrap(value: Option<Cow<'_, str>>) -> Option<Cow<'_, str>> {
        value
    }
}

/// The handle of a reference field to derived type `T`: the references and `T`'s table.
pub struct RefColumn<'a, T: Hollow> {
    refs: read::RefColumn<'a>,
    table: Box<Table<'a, T>>,
}

/// What the derive's `Field` and `Element` implementations of a struct call.
#[doc(hidden)]
pub mod object_field {
    use super::*;

    pub fn declare<T: Hollow>(reg: &mut Registry) -> FieldKind {
        FieldKind::Reference(reg.object::<T>().to_string())
    }

    #[inline]
    pub fn add<T: Hollow, S: Sink + ?Sized>(value: &T, sink: &mut S) -> Result<u32> {
        value.write_with(sink, |s, values| s.add_object(T::TYPE_NAME, values))
    }

    pub fn column<'a, T: Hollow>(
        cx: &mut Build<'a>,
        object: &ObjectView<'a>,
        field: &str,
        nullable: bool,
    ) -> Result<RefColumn<'a, T>> {
        cx.column(object, field, nullable, false)?;
        Ok(RefColumn {
            refs: object.reference(field)?,
            table: Box::new(cx.table::<T>()?),
        })
    }

    #[inline(always)]
    pub fn get_opt<'a, T: Hollow>(
        column: &'a RefColumn<'a, T>,
        ordinal: u32,
    ) -> Option<T::View<'a>> {
        column.refs.get(ordinal).map(|r| T::view(&column.table, r))
    }

    #[inline(always)]
    pub fn get<'a, T: Hollow>(column: &'a RefColumn<'a, T>, ordinal: u32) -> T::View<'a> {
        T::view(&column.table, column.refs.get(ordinal).unwrap_or(0))
    }

    pub fn reader<'a, T: Hollow>(cx: &mut Build<'a>) -> Result<Box<Table<'a, T>>> {
        Ok(Box::new(cx.table::<T>()?))
    }
}

/// A unit-only enum stored as a string field holding the variant's name: implemented by
/// `#[derive(Hollow)]` on such an enum.
pub trait EnumNames: Sized {
    /// The Rust enum's name, for messages.
    const RUST_NAME: &'static str;
    /// The stored name of each variant, in declaration order.
    const VARIANTS: &'static [&'static str];
    /// The variant of index `i` (the first for an index out of range).
    fn from_index(i: usize) -> Self;
    /// The index of `self`.
    fn index(&self) -> usize;
}

/// The handle of an enum field: the string column and, per distinct value of its pool, the
/// variant it names.
pub struct EnumColumn<'a, E> {
    ids: StrColumn<'a>,
    variants: Vec<u16>,
    _e: PhantomData<fn() -> E>,
}

impl<'a, E> EnumColumn<'a, E> {
    /// The string column the enum is stored in (its values are the variants' names).
    pub fn strings(&self) -> StrColumn<'a> {
        self.ids
    }
}

/// What the derive's `Field`, `Element` and `KeyPart` implementations of an enum call.
#[doc(hidden)]
pub mod enum_field {
    use super::*;

    #[inline]
    pub fn value<E: EnumNames>(e: &E) -> Value<'static> {
        Value::Str(Cow::Borrowed(
            E::VARIANTS.get(e.index()).copied().unwrap_or(""),
        ))
    }

    pub fn column<'a, E: EnumNames>(
        cx: &mut Build<'a>,
        object: &ObjectView<'a>,
        field: &str,
        nullable: bool,
    ) -> Result<EnumColumn<'a, E>> {
        cx.column(object, field, nullable, false)?;
        let ids = object.string(field)?;
        let mut unknown = Vec::new();
        let mut variants = Vec::with_capacity(ids.distinct_values() as usize);
        for id in 0..ids.distinct_values() {
            let v = ids.value_by_id(id)?;
            match E::VARIANTS.iter().position(|n| *n == v) {
                Some(i) => variants.push(i as u16),
                None => {
                    unknown.push(id);
                    variants.push(0);
                }
            }
        }
        // a pool value no record uses is harmless; one in use is a mismatch
        if !unknown.is_empty() {
            if let Some(o) = object
                .ordinals()
                .find(|&o| ids.value_id(o).is_some_and(|id| unknown.contains(&id)))
            {
                let id = ids.value_id(o).unwrap_or_default();
                return Err(Mismatch::EnumValue {
                    type_name: object.schema().name.clone(),
                    field: field.to_string(),
                    value: ids.value_by_id(id)?.into_owned(),
                    rust_enum: E::RUST_NAME,
                }
                .into());
            }
        }
        Ok(EnumColumn {
            ids,
            variants,
            _e: PhantomData,
        })
    }

    #[inline(always)]
    pub fn get_opt<E: EnumNames>(column: &EnumColumn<'_, E>, ordinal: u32) -> Option<E> {
        let id = column.ids.value_id(ordinal)?;
        Some(E::from_index(
            column.variants.get(id as usize).copied().unwrap_or(0) as usize,
        ))
    }

    #[inline(always)]
    pub fn get<E: EnumNames>(column: &EnumColumn<'_, E>, ordinal: u32) -> E {
        match get_opt(column, ordinal) {
            Some(e) => e,
            None => E::from_index(0),
        }
    }

    pub fn reader<'a, E: EnumNames>(cx: &mut Build<'a>) -> Result<EnumColumn<'a, E>> {
        let object = wrapper_object(cx, "String")?;
        column(cx, &object, "value", false)
    }

    pub fn add<E: EnumNames, S: Sink + ?Sized>(e: &E, sink: &mut S) -> Result<u32> {
        sink.add_object("String", &[value(e)])
    }
}

macro_rules! key_part {
    ($t:ty, $b:ty, |$v:ident| $value:expr) => {
        impl KeyPart for $t {
            type Borrowed<'k> = $b;
            #[inline]
            fn value<'k>($v: &Self::Borrowed<'k>) -> Value<'k> {
                $value
            }
        }

        impl KeyTuple for $t {
            type Borrowed<'k> = $b;
            const LEN: usize = 1;
            #[inline]
            fn with_values<R>(key: &Self::Borrowed<'_>, f: impl FnOnce(&[Value<'_>]) -> R) -> R {
                f(&[<$t as KeyPart>::value(key)])
            }
        }
    };
}
key_part!(bool, bool, |v| Value::Bool(*v));
key_part!(i32, i32, |v| Value::I32(*v));
key_part!(i64, i64, |v| Value::I64(*v));
key_part!(String, &'k str, |v| Value::Str(Cow::Borrowed(v)));
key_part!(&str, &'k str, |v| Value::Str(Cow::Borrowed(v)));
