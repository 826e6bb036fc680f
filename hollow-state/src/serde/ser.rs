//! Adding Rust values to a [`WriteState`] through serde.
//!
//! A `Serializer` walks the value with the schema at hand: a struct becomes a record of its
//! object type (fields matched by name), every nested struct, collection and primitive
//! collection element becomes a record of the type the schema says (a reference field's
//! type, a collection's element type), added bottom-up and deduplicated by the write state.
//!
//! Field values of a struct are collected as small `Copy` slots, with string and bytes
//! content copied into per-depth buffers that are reused from record to record (kept in a
//! thread-local), so adding a record allocates nothing per field once warm.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;

use ::serde::ser::{self, Impossible, Serialize};

use super::info::{at, TypeInfo, Want};
use crate::write::WriteState;
use hollow_format::error::{Error, Result};
use hollow_format::schema::{Primitive, SchemaSet, TypeSchema};
use hollow_format::value::Value;

impl WriteState {
    /// Adds a struct value as a record of the object type named like the struct (serde's
    /// name, so `#[serde(rename)]` applies), with everything it refers to; returns the
    /// record's ordinal (the existing one if an identical record is present).
    ///
    /// Struct fields are matched to schema fields by name: a field the schema lacks is an
    /// error, a schema field the value does not serialize is null. On error, records of
    /// nested values added before the error stay in the state (unreferenced).
    pub fn add<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<u32> {
        with_ctx(self, Mode::Add, |ctx| {
            value
                .serialize(Ser {
                    ctx,
                    target: Target::Root,
                    frame: 0,
                })?
                .ordinal()
        })
    }

    /// Adds a value as a record of the named type: a struct as an object, a primitive as a
    /// one-field (wrapper) object, a sequence as a list or set, a map as a map.
    pub fn add_as<T: Serialize + ?Sized>(&mut self, type_name: &str, value: &T) -> Result<u32> {
        let t = self.type_idx(type_name)?;
        with_ctx(self, Mode::Add, |ctx| {
            value
                .serialize(Ser {
                    ctx,
                    target: Target::Record(t),
                    frame: 0,
                })?
                .ordinal()
        })
    }
}

impl WriteState {
    /// Serializes a struct value as a record of the object type named like the struct, as
    /// [`WriteState::add`] does, but does not add that record: the records it refers to are
    /// added counting references ([`WriteState::add_object_counted`]) and the record's field
    /// values are returned with its type's index, for the caller to insert (an incremental
    /// producer's upsert, which replaces the record with the same primary key).
    #[doc(hidden)]
    pub fn serde_record<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(usize, Vec<Value<'static>>)> {
        with_ctx(self, Mode::Capture, |ctx| {
            value.serialize(Ser {
                ctx: &mut *ctx,
                target: Target::Root,
                frame: 0,
            })?;
            match (ctx.root, ctx.captured.take()) {
                (Some((_, t)), Some(values)) => Ok((t, values)),
                _ => Err(Error::Serde(
                    "expected a struct (a record of an object type)".into(),
                )),
            }
        })
    }
}

/// What serialization does with the root record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Adds it and everything it refers to (deduplicated).
    Add,
    /// Adds what it refers to counting references, and keeps its values in `captured`.
    Capture,
}

/// Adds an object record, counting references in [`Mode::Capture`].
fn add_object(ws: &mut WriteState, mode: Mode, t: usize, values: &[Value<'_>]) -> Result<u32> {
    match mode {
        Mode::Add => ws.add_object_at(t, values, None),
        Mode::Capture => Ok(ws.add_object_counted(t, values)?.0),
    }
}

/// Adds a collection record, counting references in [`Mode::Capture`].
fn add_collection(ws: &mut WriteState, mode: Mode, t: usize, items: Vec<u32>) -> Result<u32> {
    match mode {
        Mode::Add => ws.add_collection(t, items, None),
        Mode::Capture => Ok(ws.add_collection_counted(t, items)?.0),
    }
}

/// The schema set resolved for serialization (cached per thread, per schema set).
struct Resolved {
    schema: Arc<SchemaSet>,
    types: Vec<TypeInfo>,
}

/// Buffers reused across `add` calls on one thread.
#[derive(Default)]
struct Scratch {
    resolved: Option<Arc<Resolved>>,
    frames: Vec<Frame>,
    values: Vec<Value<'static>>,
    /// The last root struct name added and its type (skips a name lookup per `add`).
    root: Option<(&'static str, usize)>,
}

thread_local! {
    static SCRATCH: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

/// The fields of one struct being serialized.
#[derive(Default)]
struct Frame {
    slots: Vec<Slot>,
    text: String,
    bytes: Vec<u8>,
}

/// A field value waiting for its record to be complete. Strings and bytes are ranges of the
/// frame's buffers.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Null,
    Bool(bool),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Str(usize, usize),
    Bytes(usize, usize),
    Ref(u32),
}

impl Slot {
    fn ordinal(self) -> Result<u32> {
        match self {
            Slot::Ref(o) => Ok(o),
            other => Err(Error::Serde(format!("expected a record, got {other:?}"))),
        }
    }
}

struct Ctx<'w> {
    ws: &'w mut WriteState,
    res: Arc<Resolved>,
    frames: Vec<Frame>,
    depth: usize,
    values: Vec<Value<'static>>,
    root: Option<(&'static str, usize)>,
    mode: Mode,
    /// The root record's values, in [`Mode::Capture`].
    captured: Option<Vec<Value<'static>>>,
}

fn with_ctx<R>(
    ws: &mut WriteState,
    mode: Mode,
    f: impl FnOnce(&mut Ctx<'_>) -> Result<R>,
) -> Result<R> {
    let mut scratch = SCRATCH.with(|s| s.take()).unwrap_or_default();
    let res = match &scratch.resolved {
        Some(r) if Arc::ptr_eq(&r.schema, &ws.schema) => r.clone(),
        _ => {
            let schema = ws.schema.clone();
            let types = (0..schema.types().len())
                .map(|t| TypeInfo::of(&schema, t))
                .collect::<Result<Vec<_>>>()?;
            let r = Arc::new(Resolved { schema, types });
            scratch.resolved = Some(r.clone());
            scratch.root = None;
            r
        }
    };
    let mut ctx = Ctx {
        ws,
        res,
        frames: std::mem::take(&mut scratch.frames),
        depth: 0,
        values: std::mem::take(&mut scratch.values),
        root: scratch.root,
        mode,
        captured: None,
    };
    let r = f(&mut ctx);
    scratch.frames = ctx.frames;
    scratch.values = ctx.values;
    scratch.root = ctx.root;
    SCRATCH.with(|s| s.set(Some(scratch)));
    r
}

fn frame_mut(frames: &mut [Frame], d: usize) -> Result<&mut Frame> {
    frames
        .get_mut(d)
        .ok_or_else(|| Error::Serde("field value outside a struct".into()))
}

/// Reuses a vector's allocation for values of another lifetime.
fn recycle<'b>(mut v: Vec<Value<'_>>) -> Vec<Value<'b>> {
    v.clear();
    v.into_iter().map(|_| Value::Null).collect()
}

impl Ctx<'_> {
    fn type_name(&self, t: usize) -> &str {
        self.res.schema.types().get(t).map_or("?", |ts| ts.name())
    }

    /// Stores a field value of the struct at depth `frame`.
    fn stash(&mut self, frame: usize, v: Value<'_>) -> Result<Slot> {
        Ok(match v {
            Value::Null => Slot::Null,
            Value::Bool(b) => Slot::Bool(b),
            Value::I32(x) => Slot::I32(x),
            Value::I64(x) => Slot::I64(x),
            Value::F32(x) => Slot::F32(x),
            Value::F64(x) => Slot::F64(x),
            Value::Ref(r) => Slot::Ref(r),
            Value::Str(s) => {
                let f = frame_mut(&mut self.frames, frame)?;
                let start = f.text.len();
                f.text.push_str(&s);
                Slot::Str(start, f.text.len())
            }
            Value::Bytes(b) => {
                let f = frame_mut(&mut self.frames, frame)?;
                let start = f.bytes.len();
                f.bytes.extend_from_slice(&b);
                Slot::Bytes(start, f.bytes.len())
            }
        })
    }

    /// Adds a primitive as a record of one-field type `t`.
    fn wrap(&mut self, t: usize, v: Value<'_>) -> Result<Slot> {
        let want = match self.res.types.get(t) {
            Some(TypeInfo::Object {
                wrapper: Some(p), ..
            }) => *p,
            _ => {
                return Err(Error::Serde(format!(
                "cannot store {} as a record of type {:?} (not a one-field object of a primitive)",
                v.kind_name(),
                self.type_name(t)
            )))
            }
        };
        let v = coerce(v, want).map_err(|v| {
            Error::Serde(format!(
                "cannot store {v} in the field of type {:?}",
                self.type_name(t)
            ))
        })?;
        Ok(Slot::Ref(add_object(
            self.ws,
            self.mode,
            t,
            std::slice::from_ref(&v),
        )?))
    }
}

/// Converts a value to the kind a field holds, where no information is lost; the value's
/// description otherwise.
fn coerce(v: Value<'_>, want: Primitive) -> Result<Value<'_>, String> {
    use Primitive as P;
    Ok(match (want, v) {
        (P::Bool, v @ Value::Bool(_))
        | (P::I64, v @ Value::I64(_))
        | (P::I32, v @ Value::I32(_)) => v,
        (P::F32, v @ Value::F32(_))
        | (P::F64, v @ Value::F64(_))
        | (P::String, v @ Value::Str(_))
        | (P::Bytes, v @ Value::Bytes(_)) => v,
        (P::I64, Value::I32(x)) => Value::I64(x as i64),
        (P::I32, Value::I64(x)) => match i32::try_from(x) {
            Ok(x) => Value::I32(x),
            Err(_) => return Err(format!("{x} (out of the i32 range)")),
        },
        (P::F64, Value::F32(x)) => Value::F64(x as f64),
        (P::F32, Value::F64(x)) if (x as f32) as f64 == x => Value::F32(x as f32),
        (_, v) => {
            return Err(format!(
                "{} where {} is expected",
                v.kind_name(),
                want.name()
            ))
        }
    })
}

/// What the value being serialized must become.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// A record of the object type named by the struct.
    Root,
    /// A record of this type.
    Record(usize),
    /// A field of the struct at the serializer's frame.
    Field(Want),
}

struct Ser<'c, 'w> {
    ctx: &'c mut Ctx<'w>,
    target: Target,
    frame: usize,
}

impl Ser<'_, '_> {
    fn prim(self, v: Value<'_>) -> Result<Slot> {
        match self.target {
            Target::Field(Want::Record(t)) | Target::Record(t) => self.ctx.wrap(t, v),
            Target::Field(Want::Prim(p)) => {
                let v = coerce(v, p).map_err(|m| Error::Serde(format!("got {m}")))?;
                self.ctx.stash(self.frame, v)
            }
            Target::Root => Err(Error::Serde(format!(
                "add needs a struct, got {}; use add_as for other values",
                v.kind_name()
            ))),
        }
    }

    fn null(self, what: &str) -> Result<Slot> {
        match self.target {
            Target::Field(_) => Ok(Slot::Null),
            _ => Err(Error::Serde(format!(
                "{what} cannot be a record (e.g. a None element of a collection)"
            ))),
        }
    }

    /// The type a compound value must become a record of.
    fn record_type(&self, what: &str) -> Result<usize> {
        match self.target {
            Target::Field(Want::Record(t)) | Target::Record(t) => Ok(t),
            Target::Field(Want::Prim(p)) => Err(Error::Serde(format!(
                "got {what} where {} is expected",
                p.name()
            ))),
            Target::Root => Err(Error::Serde(format!(
                "add needs a struct, got {what}; use add_as for other values"
            ))),
        }
    }

    fn data_variant(name: &str, variant: &str) -> Error {
        Error::Serde(format!("enum {name}: variant {variant} carries data; only enums of unit variants are supported"))
    }
}

impl<'c, 'w> ser::Serializer for Ser<'c, 'w> {
    type Ok = Slot;
    type Error = Error;
    type SerializeSeq = SeqSer<'c, 'w>;
    type SerializeTuple = SeqSer<'c, 'w>;
    type SerializeTupleStruct = SeqSer<'c, 'w>;
    type SerializeTupleVariant = Impossible<Slot, Error>;
    type SerializeMap = MapSer<'c, 'w>;
    type SerializeStruct = StructSer<'c, 'w>;
    type SerializeStructVariant = Impossible<Slot, Error>;

    fn serialize_bool(self, v: bool) -> Result<Slot> {
        self.prim(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Slot> {
        self.prim(Value::I32(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Slot> {
        self.prim(Value::I32(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Slot> {
        self.prim(Value::I32(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Slot> {
        self.prim(Value::I64(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Slot> {
        self.prim(Value::I32(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Slot> {
        self.prim(Value::I32(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Slot> {
        self.prim(Value::I64(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Slot> {
        let v = i64::try_from(v).map_err(|_| {
            Error::Serde(format!(
                "u64 value {v} is above i64::MAX, the largest value an I64 field holds"
            ))
        })?;
        self.prim(Value::I64(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Slot> {
        self.prim(Value::F32(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Slot> {
        self.prim(Value::F64(v))
    }
    fn serialize_char(self, v: char) -> Result<Slot> {
        let mut buf = [0u8; 4];
        self.prim(Value::str(v.encode_utf8(&mut buf)))
    }
    fn serialize_str(self, v: &str) -> Result<Slot> {
        self.prim(Value::str(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Slot> {
        self.prim(Value::Bytes(Cow::Borrowed(v)))
    }
    fn serialize_none(self) -> Result<Slot> {
        self.null("None")
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Slot> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Slot> {
        self.null("()")
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Slot> {
        self.null(name)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Slot> {
        self.prim(Value::str(variant))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Slot> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _value: &T,
    ) -> Result<Slot> {
        Err(Self::data_variant(name, variant))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer<'c, 'w>> {
        let kind = match self.target {
            Target::Field(Want::Prim(Primitive::Bytes)) => {
                let f = self
                    .ctx
                    .frames
                    .get(self.frame)
                    .ok_or_else(|| Error::Serde("field value outside a struct".into()))?;
                SeqKind::Bytes {
                    start: f.bytes.len(),
                }
            }
            _ => {
                let t = self.record_type("a sequence")?;
                match self.ctx.res.types.get(t) {
                    Some(TypeInfo::List { elem } | TypeInfo::Set { elem }) => SeqKind::Coll {
                        t,
                        elem: *elem,
                        items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
                    },
                    Some(TypeInfo::Object {
                        wrapper: Some(Primitive::Bytes),
                        ..
                    }) => SeqKind::Wrap { t, buf: Vec::new() },
                    _ => {
                        return Err(Error::Serde(format!(
                            "got a sequence for type {:?}, which is not a list or set",
                            self.ctx.type_name(t)
                        )))
                    }
                }
            }
        };
        Ok(SeqSer {
            ctx: self.ctx,
            frame: self.frame,
            kind,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer<'c, 'w>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqSer<'c, 'w>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Self::data_variant(name, variant))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<MapSer<'c, 'w>> {
        let t = self.record_type("a map")?;
        match self.ctx.res.types.get(t) {
            Some(TypeInfo::Map { key, value }) => {
                let (key, value) = (*key, *value);
                Ok(MapSer {
                    ctx: self.ctx,
                    t,
                    key,
                    value,
                    items: Vec::with_capacity(2 * len.unwrap_or(0).min(4096)),
                })
            }
            _ => Err(Error::Serde(format!(
                "got a map for type {:?}, which is not a map type",
                self.ctx.type_name(t)
            ))),
        }
    }

    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<StructSer<'c, 'w>> {
        let t = match self.target {
            Target::Root => match self.ctx.root {
                Some((n, t)) if n == name => t,
                _ => {
                    let t = self.ctx.ws.type_idx(name)?;
                    self.ctx.root = Some((name, t));
                    t
                }
            },
            _ => self.record_type(&format!("struct {name}"))?,
        };
        let n = match self.ctx.res.types.get(t) {
            Some(TypeInfo::Object { fields, .. }) => fields.len(),
            _ => {
                return Err(Error::Serde(format!(
                    "got struct {name} for type {:?}, which is not an object type",
                    self.ctx.type_name(t)
                )))
            }
        };
        let ctx = self.ctx;
        let d = ctx.depth;
        if ctx.frames.len() <= d {
            ctx.frames.push(Frame::default());
        }
        let f = &mut ctx.frames[d];
        f.slots.clear();
        f.slots.resize(n, Slot::Null);
        f.text.clear();
        f.bytes.clear();
        ctx.depth += 1;
        Ok(StructSer {
            ctx,
            t,
            d,
            cursor: 0,
        })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Self::data_variant(name, variant))
    }
}

enum SeqKind {
    /// Elements become records of `elem`; the sequence a list or set record of `t`.
    Coll {
        t: usize,
        elem: usize,
        items: Vec<u32>,
    },
    /// `u8` elements of a bytes field, appended to the frame's bytes from `start`.
    Bytes { start: usize },
    /// `u8` elements of a bytes record of wrapper type `t`.
    Wrap { t: usize, buf: Vec<u8> },
}

struct SeqSer<'c, 'w> {
    ctx: &'c mut Ctx<'w>,
    frame: usize,
    kind: SeqKind,
}

impl SeqSer<'_, '_> {
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let target = match &self.kind {
            SeqKind::Coll { elem, .. } => Target::Record(*elem),
            SeqKind::Bytes { .. } | SeqKind::Wrap { .. } => {
                Target::Field(Want::Prim(Primitive::I32))
            }
        };
        // bytes elements come back as i32 slots (nothing is stashed for them)
        let slot = value.serialize(Ser {
            ctx: &mut *self.ctx,
            target,
            frame: usize::MAX,
        })?;
        match (&mut self.kind, slot) {
            (SeqKind::Coll { items, .. }, Slot::Ref(o)) => items.push(o),
            (SeqKind::Bytes { .. }, Slot::I32(b)) => {
                let b = u8::try_from(b)
                    .map_err(|_| Error::Serde(format!("byte value {b} out of range")))?;
                if let Some(f) = self.ctx.frames.get_mut(self.frame) {
                    f.bytes.push(b);
                }
            }
            (SeqKind::Wrap { buf, .. }, Slot::I32(b)) => buf.push(
                u8::try_from(b)
                    .map_err(|_| Error::Serde(format!("byte value {b} out of range")))?,
            ),
            (_, other) => {
                return Err(Error::Serde(format!(
                    "unexpected sequence element {other:?}"
                )))
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Slot> {
        match self.kind {
            SeqKind::Coll { t, items, .. } => Ok(Slot::Ref(add_collection(
                self.ctx.ws,
                self.ctx.mode,
                t,
                items,
            )?)),
            SeqKind::Bytes { start } => {
                let end = self
                    .ctx
                    .frames
                    .get(self.frame)
                    .map_or(start, |f| f.bytes.len());
                Ok(Slot::Bytes(start, end))
            }
            SeqKind::Wrap { t, buf } => Ok(Slot::Ref(add_object(
                self.ctx.ws,
                self.ctx.mode,
                t,
                &[Value::Bytes(Cow::Owned(buf))],
            )?)),
        }
    }
}

impl ser::SerializeSeq for SeqSer<'_, '_> {
    type Ok = Slot;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<Slot> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqSer<'_, '_> {
    type Ok = Slot;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<Slot> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqSer<'_, '_> {
    type Ok = Slot;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<Slot> {
        self.finish()
    }
}

struct MapSer<'c, 'w> {
    ctx: &'c mut Ctx<'w>,
    t: usize,
    key: usize,
    value: usize,
    /// Key and value ordinals, flattened.
    items: Vec<u32>,
}

impl MapSer<'_, '_> {
    fn record<T: ?Sized + Serialize>(&mut self, t: usize, value: &T) -> Result<()> {
        let o = value
            .serialize(Ser {
                ctx: &mut *self.ctx,
                target: Target::Record(t),
                frame: usize::MAX,
            })?
            .ordinal()?;
        self.items.push(o);
        Ok(())
    }
}

impl ser::SerializeMap for MapSer<'_, '_> {
    type Ok = Slot;
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        self.record(self.key, key)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.record(self.value, value)
    }
    fn end(self) -> Result<Slot> {
        Ok(Slot::Ref(add_collection(
            self.ctx.ws,
            self.ctx.mode,
            self.t,
            self.items,
        )?))
    }
}

struct StructSer<'c, 'w> {
    ctx: &'c mut Ctx<'w>,
    t: usize,
    /// The frame (depth) of this struct.
    d: usize,
    /// The schema field after the last one set: serde gives fields in declaration order,
    /// usually the schema's, so this is where the next one is looked for first.
    cursor: usize,
}

impl ser::SerializeStruct for StructSer<'_, '_> {
    type Ok = Slot;
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        let res = &self.ctx.res;
        let (Some(TypeInfo::Object { fields: wants, .. }), Some(TypeSchema::Object(o))) =
            (res.types.get(self.t), res.schema.types().get(self.t))
        else {
            return Err(Error::Serde("struct frame without an object type".into()));
        };
        let idx = match o.fields.get(self.cursor) {
            Some(f) if f.name == key => self.cursor,
            _ => o
                .field_index(key)
                .ok_or_else(|| Error::Serde(format!("type {:?} has no field {key:?}", o.name)))?,
        };
        let want = wants[idx];
        let slot = value
            .serialize(Ser {
                ctx: &mut *self.ctx,
                target: Target::Field(want),
                frame: self.d,
            })
            .map_err(|e| at(e, self.ctx.type_name(self.t), key))?;
        if let Some(s) = self
            .ctx
            .frames
            .get_mut(self.d)
            .and_then(|f| f.slots.get_mut(idx))
        {
            *s = slot;
        }
        self.cursor = idx + 1;
        Ok(())
    }

    fn end(self) -> Result<Slot> {
        let ctx = self.ctx;
        let mut values = recycle(std::mem::take(&mut ctx.values));
        let f = ctx
            .frames
            .get(self.d)
            .ok_or_else(|| Error::Serde("struct frame missing".into()))?;
        for s in &f.slots {
            values.push(match *s {
                Slot::Null => Value::Null,
                Slot::Bool(b) => Value::Bool(b),
                Slot::I32(x) => Value::I32(x),
                Slot::I64(x) => Value::I64(x),
                Slot::F32(x) => Value::F32(x),
                Slot::F64(x) => Value::F64(x),
                Slot::Ref(r) => Value::Ref(r),
                Slot::Str(a, b) => Value::Str(Cow::Borrowed(
                    f.text
                        .get(a..b)
                        .ok_or_else(|| Error::Serde("string slot out of range".into()))?,
                )),
                Slot::Bytes(a, b) => Value::Bytes(Cow::Borrowed(
                    f.bytes
                        .get(a..b)
                        .ok_or_else(|| Error::Serde("bytes slot out of range".into()))?,
                )),
            });
        }
        let r = if ctx.mode == Mode::Capture && self.d == 0 {
            ctx.captured = Some(values.iter().map(|v| v.clone().into_owned()).collect());
            Ok(u32::MAX)
        } else {
            add_object(ctx.ws, ctx.mode, self.t, &values)
        };
        ctx.values = recycle(values);
        ctx.depth = self.d;
        Ok(Slot::Ref(r?))
    }
}
