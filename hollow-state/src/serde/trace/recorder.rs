//! The recording `Serializer`: serializes the traced sample and notes the length of every
//! sequence by position, which tells sets (that deduplicated the two identical elements the
//! tracer gave them) from lists.

use std::collections::HashMap;

use ::serde::ser::{self, Serialize};

use super::tracer::TraceError;

/// Serializes the traced sample and records, per sequence position, which lengths occurred
/// (bit 0: 0 elements, bit 1: 1, bit 2: 2, bit 3: more).
#[derive(Default)]
pub(super) struct Recorder {
    path: String,
    pub(super) lens: HashMap<String, u8>,
}

/// Serializer methods that record nothing.
macro_rules! ignore {
    ($($method:ident($ty:ty))*) => {$(
        fn $method(self, _: $ty) -> Result<(), TraceError> {
            Ok(())
        }
    )*};
}

impl<'r> ser::Serializer for &'r mut Recorder {
    type Ok = ();
    type Error = TraceError;
    type SerializeSeq = RecSeq<'r>;
    type SerializeTuple = RecSeq<'r>;
    type SerializeTupleStruct = RecSeq<'r>;
    type SerializeTupleVariant = RecSeq<'r>;
    type SerializeMap = RecMap<'r>;
    type SerializeStruct = RecStruct<'r>;
    type SerializeStructVariant = RecStruct<'r>;

    ignore! {
        serialize_bool(bool) serialize_i8(i8) serialize_i16(i16) serialize_i32(i32) serialize_i64(i64)
        serialize_u8(u8) serialize_u16(u16) serialize_u32(u32) serialize_u64(u64) serialize_f32(f32)
        serialize_f64(f64) serialize_char(char) serialize_str(&str) serialize_bytes(&[u8])
        serialize_unit_struct(&'static str)
    }
    fn serialize_none(self) -> Result<(), TraceError> {
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), TraceError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), TraceError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), TraceError> {
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), TraceError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), TraceError> {
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<RecSeq<'r>, TraceError> {
        let base = self.path.clone();
        Ok(RecSeq {
            rec: self,
            base,
            n: 0,
            record: true,
        })
    }
    fn serialize_tuple(self, _: usize) -> Result<RecSeq<'r>, TraceError> {
        let base = self.path.clone();
        Ok(RecSeq {
            rec: self,
            base,
            n: 0,
            record: false,
        })
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<RecSeq<'r>, TraceError> {
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<RecSeq<'r>, TraceError> {
        self.serialize_tuple(len)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<RecMap<'r>, TraceError> {
        let base = self.path.clone();
        Ok(RecMap { rec: self, base })
    }
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<RecStruct<'r>, TraceError> {
        Ok(RecStruct { rec: self, name })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<RecStruct<'r>, TraceError> {
        Ok(RecStruct { rec: self, name })
    }
}

pub(super) struct RecSeq<'r> {
    rec: &'r mut Recorder,
    base: String,
    n: usize,
    record: bool,
}

impl RecSeq<'_> {
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TraceError> {
        self.rec.path.clone_from(&self.base);
        self.rec.path.push_str("[]");
        value.serialize(&mut *self.rec)?;
        self.rec.path.clone_from(&self.base);
        self.n += 1;
        Ok(())
    }

    fn finish(self) -> Result<(), TraceError> {
        if self.record {
            *self.rec.lens.entry(self.base).or_default() |= 1 << self.n.min(3);
        }
        Ok(())
    }
}

impl ser::SerializeSeq for RecSeq<'_> {
    type Ok = ();
    type Error = TraceError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TraceError> {
        self.element(value)
    }
    fn end(self) -> Result<(), TraceError> {
        self.finish()
    }
}

impl ser::SerializeTuple for RecSeq<'_> {
    type Ok = ();
    type Error = TraceError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TraceError> {
        self.element(value)
    }
    fn end(self) -> Result<(), TraceError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for RecSeq<'_> {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TraceError> {
        self.element(value)
    }
    fn end(self) -> Result<(), TraceError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for RecSeq<'_> {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TraceError> {
        self.element(value)
    }
    fn end(self) -> Result<(), TraceError> {
        self.finish()
    }
}

pub(super) struct RecMap<'r> {
    rec: &'r mut Recorder,
    base: String,
}

impl ser::SerializeMap for RecMap<'_> {
    type Ok = ();
    type Error = TraceError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), TraceError> {
        self.rec.path.clone_from(&self.base);
        self.rec.path.push_str("{k}");
        key.serialize(&mut *self.rec)?;
        self.rec.path.clone_from(&self.base);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TraceError> {
        self.rec.path.clone_from(&self.base);
        self.rec.path.push_str("{v}");
        value.serialize(&mut *self.rec)?;
        self.rec.path.clone_from(&self.base);
        Ok(())
    }
    fn end(self) -> Result<(), TraceError> {
        Ok(())
    }
}

pub(super) struct RecStruct<'r> {
    rec: &'r mut Recorder,
    name: &'static str,
}

impl RecStruct<'_> {
    fn field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TraceError> {
        let saved = std::mem::replace(&mut self.rec.path, format!("{}.{key}", self.name));
        let r = value.serialize(&mut *self.rec);
        self.rec.path = saved;
        r
    }
}

impl ser::SerializeStruct for RecStruct<'_> {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TraceError> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), TraceError> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for RecStruct<'_> {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TraceError> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), TraceError> {
        Ok(())
    }
}
