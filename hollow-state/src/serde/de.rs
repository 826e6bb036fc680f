//! Reading records of a [`ReadState`] back as Rust values through serde.
//!
//! A `Deserializer` over a record: an object record is a map from field names to values
//! (null fields are left out, so `Option` fields read `None` and `#[serde(default)]` applies),
//! a reference is followed to the record it names, a list or set is a sequence of its
//! elements' records, a map a map of its entries' records, and a one-field (wrapper) record
//! asked for a primitive yields its field. Strings borrowed from the data are handed to
//! visitors as borrowed, so owned outputs copy each string once.
//!
//! The views of each type are opened once per [`ReadState::get`] call, or once for a whole
//! [`ReadState::iter`].

use std::borrow::Cow;
use std::marker::PhantomData;

use ::serde::de::value::{BorrowedStrDeserializer, CowStrDeserializer, SeqDeserializer};
use ::serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use bitvec::prelude::*;
use bitvec::slice::IterOnes;

use super::info::{TypeInfo, Want};
use crate::read::{ListView, MapView, ObjectView, ReadState, SetView};
use hollow_format::error::{Error, Result};
use hollow_format::schema::{SchemaSet, TypeSchema};
use hollow_format::value::Value;

/// The deepest chain of references one read follows (a guard against reference cycles in
/// corrupt data).
const MAX_DEPTH: u32 = 128;

impl ReadState {
    /// Reads record `ordinal` of type `type_name` as a `T`, following references.
    ///
    /// An unpopulated ordinal (here or in any record it refers to) is
    /// [`Error::NoSuchOrdinal`]; a record that does not fit `T` is [`Error::Serde`].
    pub fn get<T: DeserializeOwned>(&self, type_name: &str, ordinal: u32) -> Result<T> {
        let t = self.type_index(type_name)?;
        let mut ctx = DeCtx::new(self);
        T::deserialize(RecordDe {
            ctx: &mut ctx,
            t,
            ord: ordinal,
        })
    }

    /// A reader that keeps the views it opens, for many [`RecordReader::get`] calls
    /// (`get` on the state opens the views of every type it touches, each call).
    pub fn reader(&self) -> RecordReader<'_> {
        RecordReader {
            ctx: DeCtx::new(self),
        }
    }

    /// Reads every record of type `type_name` as a `T`, in ordinal order, with its ordinal.
    /// An unknown type yields one error.
    pub fn iter<T: DeserializeOwned>(&self, type_name: &str) -> RecordIter<'_, T> {
        let (t, ords, err) = match self
            .type_index(type_name)
            .and_then(|t| Ok((t, self.populated(type_name)?)))
        {
            Ok((t, bits)) => (t, Some(bits.iter_ones()), None),
            Err(e) => (0, None, Some(e)),
        };
        RecordIter {
            ctx: DeCtx::new(self),
            t,
            ords,
            err,
            _t: PhantomData,
        }
    }
}

/// Reads records as Rust values like [`ReadState::get`], keeping the views it opens from call
/// to call (see [`ReadState::reader`]).
pub struct RecordReader<'s> {
    ctx: DeCtx<'s>,
}

impl RecordReader<'_> {
    /// Reads record `ordinal` of type `type_name` as a `T`, following references.
    pub fn get<T: DeserializeOwned>(&mut self, type_name: &str, ordinal: u32) -> Result<T> {
        let t = self.ctx.state.type_index(type_name)?;
        self.ctx.depth = 0;
        T::deserialize(RecordDe {
            ctx: &mut self.ctx,
            t,
            ord: ordinal,
        })
    }
}

/// The iterator of [`ReadState::iter`]: `(ordinal, value)` for every record of a type.
pub struct RecordIter<'s, T> {
    ctx: DeCtx<'s>,
    t: usize,
    ords: Option<IterOnes<'s, u8, Lsb0>>,
    err: Option<Error>,
    _t: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Iterator for RecordIter<'_, T> {
    type Item = Result<(u32, T)>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.err.take() {
            return Some(Err(e));
        }
        let ord = self.ords.as_mut()?.next()? as u32;
        self.ctx.depth = 0;
        Some(
            T::deserialize(RecordDe {
                ctx: &mut self.ctx,
                t: self.t,
                ord,
            })
            .map(|v| (ord, v)),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.ords {
            Some(o) => (0, o.size_hint().1),
            None => (
                usize::from(self.err.is_some()),
                Some(usize::from(self.err.is_some())),
            ),
        }
    }
}

/// The views of one type, opened on first use.
enum Entry<'s> {
    Object {
        view: ObjectView<'s>,
        info: TypeInfo,
    },
    List(ListView<'s>, usize),
    Set(SetView<'s>, usize),
    Map(MapView<'s>, usize, usize),
}

/// What a record is, copied out of its entry.
#[derive(Clone, Copy)]
enum Kind<'s> {
    Object {
        n: usize,
        wrapper: bool,
        value_wrapper: bool,
        populated: bool,
    },
    List(ListView<'s>, usize),
    Set(SetView<'s>, usize),
    Map(MapView<'s>, usize, usize),
}

struct DeCtx<'s> {
    state: &'s ReadState,
    schema: &'s SchemaSet,
    entries: Vec<Option<Entry<'s>>>,
    depth: u32,
}

impl<'s> DeCtx<'s> {
    fn new(state: &'s ReadState) -> Self {
        let schema: &'s SchemaSet = state.schema();
        DeCtx {
            state,
            schema,
            entries: (0..schema.types().len()).map(|_| None).collect(),
            depth: 0,
        }
    }

    fn entry(&mut self, t: usize) -> Result<&Entry<'s>> {
        let slot = self
            .entries
            .get_mut(t)
            .ok_or_else(|| Error::Serde(format!("no type with index {t}")))?;
        if slot.is_none() {
            let info = TypeInfo::of(self.schema, t)?;
            *slot = Some(match info {
                TypeInfo::Object { .. } => Entry::Object {
                    view: ObjectView::new(self.state, t)?,
                    info,
                },
                TypeInfo::List { elem } => Entry::List(ListView::new(self.state, t)?, elem),
                TypeInfo::Set { elem } => Entry::Set(SetView::new(self.state, t)?, elem),
                TypeInfo::Map { key, value } => {
                    Entry::Map(MapView::new(self.state, t)?, key, value)
                }
            });
        }
        slot.as_ref()
            .ok_or_else(|| Error::Serde(format!("type {t} not opened")))
    }

    fn kind(&mut self, t: usize, ord: u32) -> Result<Kind<'s>> {
        Ok(match self.entry(t)? {
            Entry::Object {
                view,
                info:
                    TypeInfo::Object {
                        fields,
                        wrapper,
                        value_wrapper,
                    },
            } => Kind::Object {
                n: fields.len(),
                wrapper: wrapper.is_some(),
                value_wrapper: *value_wrapper,
                populated: view.is_populated(ord),
            },
            Entry::Object { .. } => return Err(Error::Serde(format!("type {t} is not an object"))),
            Entry::List(v, e) => Kind::List(*v, *e),
            Entry::Set(v, e) => Kind::Set(*v, *e),
            Entry::Map(v, k, val) => Kind::Map(*v, *k, *val),
        })
    }

    /// Field `i` of object record `ord` of type `t`, and what it holds.
    fn field(&mut self, t: usize, ord: u32, i: usize) -> Result<(Value<'s>, Want)> {
        match self.entry(t)? {
            Entry::Object {
                view,
                info: TypeInfo::Object { fields, .. },
            } => {
                let want = *fields
                    .get(i)
                    .ok_or_else(|| Error::Serde(format!("no field {i}")))?;
                Ok((view.get(ord, i)?, want))
            }
            _ => Err(Error::Serde(format!("type {t} is not an object"))),
        }
    }

    fn field_name(&self, t: usize, i: usize) -> &'s str {
        let schema: &'s SchemaSet = self.schema;
        match schema.types().get(t) {
            Some(TypeSchema::Object(o)) => o.fields.get(i).map_or("", |f| f.name.as_str()),
            _ => "",
        }
    }
}

/// What the visitor asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hint {
    Any,
    Prim,
    Option,
    Unit,
    Newtype,
    Seq,
    Map,
    Struct,
    Ignore,
}

/// A record of type `t`.
struct RecordDe<'c, 's> {
    ctx: &'c mut DeCtx<'s>,
    t: usize,
    ord: u32,
}

impl<'s> RecordDe<'_, 's> {
    fn visit<V: Visitor<'s>>(self, hint: Hint, visitor: V) -> Result<V::Value> {
        match hint {
            Hint::Option => return visitor.visit_some(self),
            Hint::Newtype => return visitor.visit_newtype_struct(self),
            Hint::Unit | Hint::Ignore => return visitor.visit_unit(),
            _ => {}
        }
        let RecordDe { ctx, t, ord } = self;
        if ctx.depth >= MAX_DEPTH {
            return Err(Error::Serde(format!(
                "references nested deeper than {MAX_DEPTH} (a cycle?) at type {:?}",
                ctx.schema.types().get(t).map_or("?", |ts| ts.name())
            )));
        }
        ctx.depth += 1;
        let r = match ctx.kind(t, ord)? {
            Kind::Object {
                populated: false, ..
            } => {
                let name = ctx.schema.types().get(t).map_or("?", |ts| ts.name());
                Err(Error::NoSuchOrdinal {
                    type_name: name.to_string(),
                    ordinal: ord as u64,
                })
            }
            Kind::Object {
                wrapper: true,
                value_wrapper,
                ..
            } if !matches!(hint, Hint::Struct | Hint::Map)
                && (hint != Hint::Any || value_wrapper) =>
            {
                let (value, want) = ctx.field(t, ord, 0)?;
                ValueDe {
                    ctx: &mut *ctx,
                    value,
                    want,
                }
                .visit(hint, visitor)
            }
            Kind::Object { n, .. } => visitor.visit_map(Fields {
                ctx: &mut *ctx,
                t,
                ord,
                next: 0,
                n,
                pending: None,
            }),
            Kind::List(view, elem) => visitor.visit_seq(Elements {
                ctx: &mut *ctx,
                elem,
                iter: view.elements(ord)?,
            }),
            Kind::Set(view, elem) => visitor.visit_seq(Elements {
                ctx: &mut *ctx,
                elem,
                iter: view.elements(ord)?,
            }),
            Kind::Map(view, key, value) => visitor.visit_map(Entries {
                ctx: &mut *ctx,
                key,
                value,
                iter: view.entries(ord)?,
                pending: None,
            }),
        };
        ctx.depth -= 1;
        r
    }
}

/// A field value; references are followed to the record.
struct ValueDe<'c, 's> {
    ctx: &'c mut DeCtx<'s>,
    value: Value<'s>,
    want: Want,
}

impl<'s> ValueDe<'_, 's> {
    fn visit<V: Visitor<'s>>(self, hint: Hint, visitor: V) -> Result<V::Value> {
        if hint == Hint::Ignore {
            return visitor.visit_unit();
        }
        match (self.value, hint) {
            (Value::Ref(ord), _) => match self.want {
                Want::Record(t) => RecordDe {
                    ctx: self.ctx,
                    t,
                    ord,
                }
                .visit(hint, visitor),
                _ => Err(Error::Serde(
                    "a reference in a field that holds no references".into(),
                )),
            },
            (Value::Null, _) => visitor.visit_none(),
            (value, Hint::Option) => visitor.visit_some(ValueDe {
                ctx: self.ctx,
                value,
                want: self.want,
            }),
            (value, Hint::Newtype) => visitor.visit_newtype_struct(ValueDe {
                ctx: self.ctx,
                value,
                want: self.want,
            }),
            (Value::Bytes(b), Hint::Seq) => {
                SeqDeserializer::new(b.iter().copied()).deserialize_any(visitor)
            }
            (Value::Bool(b), _) => visitor.visit_bool(b),
            (Value::I32(x), _) => visitor.visit_i32(x),
            (Value::I64(x), _) => visitor.visit_i64(x),
            (Value::F32(x), _) => visitor.visit_f32(x),
            (Value::F64(x), _) => visitor.visit_f64(x),
            (Value::Str(Cow::Borrowed(s)), _) => visitor.visit_borrowed_str(s),
            (Value::Str(Cow::Owned(s)), _) => visitor.visit_string(s),
            (Value::Bytes(Cow::Borrowed(b)), _) => visitor.visit_borrowed_bytes(b),
            (Value::Bytes(Cow::Owned(b)), _) => visitor.visit_byte_buf(b),
        }
    }

    fn visit_enum<V: Visitor<'s>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            Value::Ref(ord) => match self.want {
                Want::Record(t) => RecordDe {
                    ctx: self.ctx,
                    t,
                    ord,
                }
                .visit_enum(name, variants, visitor),
                _ => Err(Error::Serde(
                    "a reference in a field that holds no references".into(),
                )),
            },
            Value::Str(s) => {
                CowStrDeserializer::<Error>::new(s).deserialize_enum(name, variants, visitor)
            }
            other => Err(Error::Serde(format!(
                "enum {name} must be stored as a string, found {other:?}"
            ))),
        }
    }
}

impl<'s> RecordDe<'_, 's> {
    fn visit_enum<V: Visitor<'s>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let RecordDe { ctx, t, ord } = self;
        match ctx.kind(t, ord)? {
            Kind::Object {
                wrapper: true,
                populated: true,
                ..
            } => {
                let (value, want) = ctx.field(t, ord, 0)?;
                ValueDe { ctx, value, want }.visit_enum(name, variants, visitor)
            }
            _ => RecordDe { ctx, t, ord }.visit(Hint::Any, visitor),
        }
    }
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*) => $hint:ident;)*) => {$(
        fn $method<V: Visitor<'s>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value> {
            $(let _ = $arg;)*
            self.visit(Hint::$hint, visitor)
        }
    )*};
}

macro_rules! deserializer {
    ($ty:ident) => {
        impl<'s> Deserializer<'s> for $ty<'_, 's> {
            type Error = Error;

            forward! {
                deserialize_any() => Any;
                deserialize_bool() => Prim;
                deserialize_i8() => Prim;
                deserialize_i16() => Prim;
                deserialize_i32() => Prim;
                deserialize_i64() => Prim;
                deserialize_i128() => Prim;
                deserialize_u8() => Prim;
                deserialize_u16() => Prim;
                deserialize_u32() => Prim;
                deserialize_u64() => Prim;
                deserialize_u128() => Prim;
                deserialize_f32() => Prim;
                deserialize_f64() => Prim;
                deserialize_char() => Prim;
                deserialize_str() => Prim;
                deserialize_string() => Prim;
                deserialize_bytes() => Prim;
                deserialize_byte_buf() => Prim;
                deserialize_identifier() => Prim;
                deserialize_option() => Option;
                deserialize_unit() => Unit;
                deserialize_unit_struct(name: &'static str) => Unit;
                deserialize_newtype_struct(name: &'static str) => Newtype;
                deserialize_seq() => Seq;
                deserialize_tuple(len: usize) => Seq;
                deserialize_tuple_struct(name: &'static str, len: usize) => Seq;
                deserialize_map() => Map;
                deserialize_struct(name: &'static str, fields: &'static [&'static str]) => Struct;
                deserialize_ignored_any() => Ignore;
            }

            fn deserialize_enum<V: Visitor<'s>>(
                self,
                name: &'static str,
                variants: &'static [&'static str],
                visitor: V,
            ) -> Result<V::Value> {
                self.visit_enum(name, variants, visitor)
            }

            fn is_human_readable(&self) -> bool {
                true
            }
        }
    };
}

deserializer!(RecordDe);
deserializer!(ValueDe);

/// The non-null fields of an object record, as a map from field name to value.
struct Fields<'c, 's> {
    ctx: &'c mut DeCtx<'s>,
    t: usize,
    ord: u32,
    next: usize,
    n: usize,
    pending: Option<(Value<'s>, Want)>,
}

impl<'s> MapAccess<'s> for Fields<'_, 's> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'s>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        while self.next < self.n {
            let i = self.next;
            self.next += 1;
            let (value, want) = self.ctx.field(self.t, self.ord, i)?;
            if value.is_null() {
                continue;
            }
            self.pending = Some((value, want));
            return seed
                .deserialize(BorrowedStrDeserializer::new(self.ctx.field_name(self.t, i)))
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'s>>(&mut self, seed: V) -> Result<V::Value> {
        let (value, want) = self
            .pending
            .take()
            .ok_or_else(|| Error::Serde("value asked before its key".into()))?;
        let name = self.ctx.field_name(self.t, self.next - 1);
        seed.deserialize(ValueDe {
            ctx: &mut *self.ctx,
            value,
            want,
        })
        .map_err(|e| {
            super::info::at(
                e,
                self.ctx
                    .schema
                    .types()
                    .get(self.t)
                    .map_or("?", |t| t.name()),
                name,
            )
        })
    }
}

/// The element records of a list or set.
struct Elements<'c, 's, I> {
    ctx: &'c mut DeCtx<'s>,
    elem: usize,
    iter: I,
}

impl<'s, I: Iterator<Item = u32>> SeqAccess<'s> for Elements<'_, 's, I> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'s>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.iter.next() {
            Some(ord) => seed
                .deserialize(RecordDe {
                    ctx: &mut *self.ctx,
                    t: self.elem,
                    ord,
                })
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        match self.iter.size_hint() {
            (lo, Some(hi)) if lo == hi => Some(lo),
            _ => None,
        }
    }
}

/// The entries of a map record.
struct Entries<'c, 's, I> {
    ctx: &'c mut DeCtx<'s>,
    key: usize,
    value: usize,
    iter: I,
    pending: Option<u32>,
}

impl<'s, I: Iterator<Item = (u32, u32)>> MapAccess<'s> for Entries<'_, 's, I> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'s>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.iter.next() {
            Some((k, v)) => {
                self.pending = Some(v);
                seed.deserialize(RecordDe {
                    ctx: &mut *self.ctx,
                    t: self.key,
                    ord: k,
                })
                .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'s>>(&mut self, seed: V) -> Result<V::Value> {
        let ord = self
            .pending
            .take()
            .ok_or_else(|| Error::Serde("value asked before its key".into()))?;
        seed.deserialize(RecordDe {
            ctx: &mut *self.ctx,
            t: self.value,
            ord,
        })
    }
}
