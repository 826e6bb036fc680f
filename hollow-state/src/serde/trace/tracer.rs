//! The tracing `Deserializer`: answers `T::deserialize` with sample values and records the
//! shape of every struct it is asked for.

use std::any::type_name;
use std::collections::HashMap;
use std::fmt;

use ::serde::de::value::BorrowedStrDeserializer;
use ::serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use ::serde::ser;
use hollow_format::schema::Primitive;

/// The deepest nesting of structs a trace follows.
const MAX_DEPTH: usize = 256;

/// The traced shape of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Shape {
    Unknown,
    Prim(Primitive),
    /// A `u8`: an `i32` field, but a list of these is a bytes field.
    U8,
    Struct(&'static str),
    /// A sequence; `pos` is its position (`Struct.field` plus `[]`/`{k}`/`{v}` steps).
    Seq {
        elem: Box<Shape>,
        pos: String,
    },
    Map {
        key: Box<Shape>,
        value: Box<Shape>,
    },
}

#[derive(Debug)]
pub(super) enum TraceError {
    Msg(String),
    /// Struct `name` was entered a third time on the current path. `handled` once the
    /// innermost container has been marked to be cut.
    Recursion {
        name: &'static str,
        handled: bool,
    },
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::Msg(m) => f.write_str(m),
            TraceError::Recursion { name, .. } => write!(f, "recursion through type {name}"),
        }
    }
}

impl std::error::Error for TraceError {}

impl de::Error for TraceError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TraceError::Msg(msg.to_string())
    }
}

impl ser::Error for TraceError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TraceError::Msg(msg.to_string())
    }
}

pub(super) struct StructEntry {
    pub(super) name: &'static str,
    pub(super) fields: Option<Vec<(&'static str, Shape)>>,
}

#[derive(Default)]
pub(super) struct Tracer {
    /// Containers (by visitor type) to answer empty when the struct named is already entered
    /// twice, with the shape they were seen to have. Kept across passes.
    cuts: HashMap<&'static str, (&'static str, Shape)>,
    /// The variant each enum answers with in this pass. Kept across passes.
    enum_choice: HashMap<&'static str, usize>,
    /// Enums met in this pass and their variant counts.
    enum_len: HashMap<&'static str, usize>,
    /// Structs in the order first entered.
    pub(super) structs: Vec<StructEntry>,
    by_name: HashMap<&'static str, usize>,
    /// Structs being traced, outermost first.
    stack: Vec<&'static str>,
    /// The current position.
    path: String,
}

impl Tracer {
    pub(super) fn pass<T: DeserializeOwned>(&mut self) -> Result<T, TraceError> {
        self.structs.clear();
        self.by_name.clear();
        self.stack.clear();
        self.path.clear();
        self.enum_len.clear();
        let mut root = Shape::Unknown;
        let v = T::deserialize(TraceDe {
            tr: self,
            out: &mut root,
        })?;
        match root {
            Shape::Struct(_) => Ok(v),
            _ => Err(TraceError::Msg(format!(
                "{} is not a struct: a schema's root types must be structs",
                type_name::<T>()
            ))),
        }
    }

    /// Moves every enum to its next variant; false once all have been traced.
    pub(super) fn advance_enums(&mut self) -> bool {
        let mut advanced = false;
        for (name, len) in &self.enum_len {
            let c = self.enum_choice.entry(name).or_insert(0);
            if *c + 1 < *len {
                *c += 1;
                advanced = true;
            }
        }
        advanced
    }

    fn entered(&self, name: &str) -> usize {
        self.stack.iter().filter(|n| **n == name).count()
    }

    /// The shape to answer with, if the container of visitor type `key` is cut here.
    fn cut(&self, key: &str) -> Option<Shape> {
        let (name, shape) = self.cuts.get(key)?;
        (self.entered(name) >= 2).then(|| shape.clone())
    }

    /// Marks container `key` as the one to cut when a recursion error passes through it.
    fn on_error<T>(
        &mut self,
        key: &'static str,
        r: Result<T, TraceError>,
        shape: impl FnOnce() -> Shape,
    ) -> Result<T, TraceError> {
        match r {
            Err(TraceError::Recursion {
                name,
                handled: false,
            }) => {
                self.cuts.insert(key, (name, shape()));
                Err(TraceError::Recursion {
                    name,
                    handled: true,
                })
            }
            r => r,
        }
    }

    fn unsupported(&self, what: &str) -> TraceError {
        let at = if self.path.is_empty() {
            "the root"
        } else {
            &self.path
        };
        TraceError::Msg(format!("{at}: {what} not supported"))
    }
}

struct TraceDe<'t> {
    tr: &'t mut Tracer,
    out: &'t mut Shape,
}

impl TraceDe<'_> {
    fn prim(self, p: Primitive) {
        *self.out = Shape::Prim(p);
    }
}

macro_rules! trace_prim {
    ($($method:ident => $prim:ident, $visit:ident($v:expr);)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
            self.prim(Primitive::$prim);
            visitor.$visit($v)
        }
    )*};
}

impl<'de> Deserializer<'de> for TraceDe<'_> {
    type Error = TraceError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, TraceError> {
        Err(self.tr.unsupported("self-describing types (deserialize_any: untagged or internally tagged enums, flatten, serde_json::Value, ...) are"))
    }

    trace_prim! {
        deserialize_bool => Bool, visit_bool(false);
        deserialize_i8 => I32, visit_i8(0);
        deserialize_i16 => I32, visit_i16(0);
        deserialize_i32 => I32, visit_i32(0);
        deserialize_i64 => I64, visit_i64(0);
        deserialize_u16 => I32, visit_u16(0);
        deserialize_u32 => I64, visit_u32(0);
        deserialize_u64 => I64, visit_u64(0);
        deserialize_f32 => F32, visit_f32(0.0);
        deserialize_f64 => F64, visit_f64(0.0);
        deserialize_char => String, visit_char('a');
        deserialize_str => String, visit_borrowed_str("");
        deserialize_string => String, visit_string(String::new());
        deserialize_identifier => String, visit_borrowed_str("");
        deserialize_bytes => Bytes, visit_borrowed_bytes(&[]);
        deserialize_byte_buf => Bytes, visit_byte_buf(Vec::new());
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        *self.out = Shape::U8;
        visitor.visit_u8(0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        let key = type_name::<V>();
        if let Some(shape) = self.tr.cut(key) {
            *self.out = shape;
            return visitor.visit_none();
        }
        let TraceDe { tr, out } = self;
        let r = visitor.visit_some(TraceDe {
            tr: &mut *tr,
            out: &mut *out,
        });
        tr.on_error(key, r, || out.clone())
    }

    fn deserialize_unit<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, TraceError> {
        Err(self.tr.unsupported("unit values are"))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _visitor: V,
    ) -> Result<V::Value, TraceError> {
        Err(self.tr.unsupported(&format!("unit struct {name} is")))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        let key = type_name::<V>();
        let TraceDe { tr, out } = self;
        let pos = tr.path.clone();
        if let Some(elem) = tr.cut(key) {
            *out = Shape::Seq {
                elem: Box::new(elem),
                pos,
            };
            return visitor.visit_seq(TwoElems {
                tr,
                elem: &mut Shape::Unknown,
                left: 0,
                pos: String::new(),
            });
        }
        let mut elem = Shape::Unknown;
        let r = visitor.visit_seq(TwoElems {
            tr: &mut *tr,
            elem: &mut elem,
            left: 2,
            pos: pos.clone(),
        });
        tr.path.clone_from(&pos);
        *out = Shape::Seq {
            elem: Box::new(elem.clone()),
            pos,
        };
        tr.on_error(key, r, || elem)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, TraceError> {
        Err(self.tr.unsupported("tuples are"))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, TraceError> {
        Err(self.tr.unsupported(&format!("tuple struct {name} is")))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        let key = type_name::<V>();
        let TraceDe { tr, out } = self;
        if let Some(shape) = tr.cut(key) {
            *out = shape;
            return visitor.visit_map(OneEntry {
                tr,
                key: &mut Shape::Unknown,
                value: &mut Shape::Unknown,
                left: 0,
                pos: String::new(),
            });
        }
        let (mut k, mut v) = (Shape::Unknown, Shape::Unknown);
        let pos = tr.path.clone();
        let r = visitor.visit_map(OneEntry {
            tr: &mut *tr,
            key: &mut k,
            value: &mut v,
            left: 1,
            pos: pos.clone(),
        });
        tr.path = pos;
        *out = Shape::Map {
            key: Box::new(k),
            value: Box::new(v),
        };
        tr.on_error(key, r, || out.clone())
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let TraceDe { tr, out } = self;
        *out = Shape::Struct(name);
        if tr.entered(name) >= 2 {
            return Err(TraceError::Recursion {
                name,
                handled: false,
            });
        }
        if tr.stack.len() >= MAX_DEPTH {
            return Err(tr.unsupported(&format!("nesting deeper than {MAX_DEPTH} structs is")));
        }
        if !tr.by_name.contains_key(name) {
            tr.by_name.insert(name, tr.structs.len());
            tr.structs.push(StructEntry { name, fields: None });
        }
        tr.stack.push(name);
        let saved = std::mem::take(&mut tr.path);
        let mut shapes: Vec<(&'static str, Shape)> =
            fields.iter().map(|f| (*f, Shape::Unknown)).collect();
        let r = visitor.visit_map(StructFields {
            tr: &mut *tr,
            name,
            shapes: &mut shapes,
            next: 0,
        });
        tr.path = saved;
        tr.stack.pop();
        let v = r?;
        let idx = tr.by_name.get(name).copied().unwrap_or(usize::MAX);
        match tr.structs.get_mut(idx) {
            Some(StructEntry {
                fields: f @ None, ..
            }) => *f = Some(shapes),
            Some(StructEntry {
                fields: Some(prev), ..
            }) if *prev == shapes => {}
            _ => {
                return Err(TraceError::Msg(format!(
                    "two different types are named {name}: hollow type names must be unique"
                )))
            }
        }
        Ok(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let TraceDe { tr, out } = self;
        *out = Shape::Prim(Primitive::String);
        let Some(last) = variants.len().checked_sub(1) else {
            return Err(tr.unsupported(&format!("enum {name} without variants is")));
        };
        tr.enum_len.insert(name, variants.len());
        let i = tr.enum_choice.get(name).copied().unwrap_or(0).min(last);
        visitor.visit_enum(UnitVariant {
            tr,
            name,
            variant: variants[i],
        })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_unit()
    }
}

/// A sequence of two elements (or none, when cut), traced into the same shape.
struct TwoElems<'t> {
    tr: &'t mut Tracer,
    elem: &'t mut Shape,
    left: usize,
    pos: String,
}

impl<'de> SeqAccess<'de> for TwoElems<'_> {
    type Error = TraceError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TraceError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        self.tr.path.clone_from(&self.pos);
        self.tr.path.push_str("[]");
        seed.deserialize(TraceDe {
            tr: &mut *self.tr,
            out: &mut *self.elem,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// A map of one entry (or none, when cut).
struct OneEntry<'t> {
    tr: &'t mut Tracer,
    key: &'t mut Shape,
    value: &'t mut Shape,
    left: usize,
    pos: String,
}

impl<'de> MapAccess<'de> for OneEntry<'_> {
    type Error = TraceError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TraceError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        self.tr.path.clone_from(&self.pos);
        self.tr.path.push_str("{k}");
        seed.deserialize(TraceDe {
            tr: &mut *self.tr,
            out: &mut *self.key,
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, TraceError> {
        self.tr.path.clone_from(&self.pos);
        self.tr.path.push_str("{v}");
        seed.deserialize(TraceDe {
            tr: &mut *self.tr,
            out: &mut *self.value,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// The fields of a struct being traced, as a map from field name to value.
struct StructFields<'t> {
    tr: &'t mut Tracer,
    name: &'static str,
    shapes: &'t mut Vec<(&'static str, Shape)>,
    next: usize,
}

impl<'de> MapAccess<'de> for StructFields<'_> {
    type Error = TraceError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TraceError> {
        let Some((field, _)) = self.shapes.get(self.next) else {
            return Ok(None);
        };
        seed.deserialize(BorrowedStrDeserializer::new(field))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, TraceError> {
        let i = self.next;
        self.next += 1;
        let Some((field, shape)) = self.shapes.get_mut(i) else {
            return Err(TraceError::Msg(format!(
                "{}: value without a field",
                self.name
            )));
        };
        self.tr.path.clear();
        self.tr.path.push_str(self.name);
        self.tr.path.push('.');
        self.tr.path.push_str(field);
        seed.deserialize(TraceDe {
            tr: &mut *self.tr,
            out: shape,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.shapes.len() - self.next.min(self.shapes.len()))
    }
}

/// The variant an enum answers with; only unit variants are accepted.
struct UnitVariant<'t> {
    tr: &'t mut Tracer,
    name: &'static str,
    variant: &'static str,
}

impl UnitVariant<'_> {
    fn data(&self) -> TraceError {
        self.tr.unsupported(&format!(
            "enum {} has variant {} carrying data: only enums of unit variants are",
            self.name, self.variant
        ))
    }
}

impl<'de, 't> EnumAccess<'de> for UnitVariant<'t> {
    type Error = TraceError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), TraceError> {
        let v = seed.deserialize(BorrowedStrDeserializer::new(self.variant))?;
        Ok((v, self))
    }
}

impl<'de> VariantAccess<'de> for UnitVariant<'_> {
    type Error = TraceError;

    fn unit_variant(self) -> Result<(), TraceError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        _seed: T,
    ) -> Result<T::Value, TraceError> {
        Err(self.data())
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, TraceError> {
        Err(self.data())
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, TraceError> {
        Err(self.data())
    }
}
