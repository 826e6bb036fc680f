//! The record codec: how the write side encodes one record as bytes before it is
//! deduplicated and, at snapshot time, split into columns.
//!
//! * An object record: per field a tag byte (0 = null, 1 = present), then the value in
//!   little-endian (`bool` 1 byte, `i32`/`f32`/reference 4, `i64`/`f64` 8, strings and bytes a
//!   `u32` length then the bytes).
//! * A list, set or map record: a `u32` count, then the `u32` element ordinals (maps: key and
//!   value ordinals in pairs).
//!
//! Identical records encode to identical bytes, which is what deduplication compares.

use crate::error::{Error, Result, SchemaError};
use crate::schema::{FieldKind, ObjectSchema, Primitive};
use crate::value::Value;

/// Encodes an object record from field values (the write-side record encoding: per field a
/// tag byte, 0 = null, then the value in little-endian).
pub fn encode_object(schema: &ObjectSchema, values: &[Value<'_>], out: &mut Vec<u8>) -> Result<()> {
    if values.len() != schema.fields.len() {
        return Err(SchemaError::ValueCount {
            type_name: schema.name.clone(),
            expected: schema.fields.len(),
            got: values.len(),
        }
        .into());
    }
    for (f, v) in schema.fields.iter().zip(values) {
        let mismatch = || Error::WrongFieldKind {
            type_name: schema.name.clone(),
            field: f.name.clone(),
            expected: f.kind.name(),
            actual: v.kind_name(),
        };
        if v.is_null() {
            out.push(0);
            continue;
        }
        out.push(1);
        match (&f.kind, v) {
            (FieldKind::Primitive(Primitive::Bool), Value::Bool(b)) => out.push(*b as u8),
            (FieldKind::Primitive(Primitive::I32), Value::I32(x)) => {
                out.extend_from_slice(&x.to_le_bytes())
            }
            (FieldKind::Primitive(Primitive::I64), Value::I64(x)) => {
                out.extend_from_slice(&x.to_le_bytes())
            }
            (FieldKind::Primitive(Primitive::I64), Value::I32(x)) => {
                out.extend_from_slice(&(*x as i64).to_le_bytes())
            }
            (FieldKind::Primitive(Primitive::F32), Value::F32(x)) => {
                out.extend_from_slice(&x.to_bits().to_le_bytes())
            }
            (FieldKind::Primitive(Primitive::F64), Value::F64(x)) => {
                out.extend_from_slice(&x.to_bits().to_le_bytes())
            }
            (FieldKind::Primitive(Primitive::F64), Value::F32(x)) => {
                out.extend_from_slice(&(*x as f64).to_bits().to_le_bytes())
            }
            (FieldKind::Primitive(Primitive::String), Value::Str(s)) => {
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            (FieldKind::Primitive(Primitive::Bytes), Value::Bytes(b)) => {
                out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                out.extend_from_slice(b);
            }
            (FieldKind::Reference(_), Value::Ref(r)) => out.extend_from_slice(&r.to_le_bytes()),
            _ => return Err(mismatch()),
        }
    }
    Ok(())
}

/// Decodes one field of an encoded object record, advancing `pos`. Strings are returned as
/// raw bytes (`Value::Bytes`) for string and bytes fields alike.
#[inline]
pub fn decode_field<'a>(kind: &FieldKind, enc: &'a [u8], pos: &mut usize) -> Value<'a> {
    let tag = enc[*pos];
    *pos += 1;
    if tag == 0 {
        return Value::Null;
    }
    let rd4 = |p: usize| u32::from_le_bytes(enc[p..p + 4].try_into().expect("4"));
    let rd8 = |p: usize| u64::from_le_bytes(enc[p..p + 8].try_into().expect("8"));
    let p = *pos;
    match kind {
        FieldKind::Primitive(Primitive::Bool) => {
            *pos += 1;
            Value::Bool(enc[p] != 0)
        }
        FieldKind::Primitive(Primitive::I32) => {
            *pos += 4;
            Value::I32(rd4(p) as i32)
        }
        FieldKind::Primitive(Primitive::I64) => {
            *pos += 8;
            Value::I64(rd8(p) as i64)
        }
        FieldKind::Primitive(Primitive::F32) => {
            *pos += 4;
            Value::F32(f32::from_bits(rd4(p)))
        }
        FieldKind::Primitive(Primitive::F64) => {
            *pos += 8;
            Value::F64(f64::from_bits(rd8(p)))
        }
        FieldKind::Primitive(Primitive::String | Primitive::Bytes) => {
            let n = rd4(p) as usize;
            *pos += 4 + n;
            Value::Bytes(std::borrow::Cow::Borrowed(&enc[p + 4..p + 4 + n]))
        }
        FieldKind::Reference(_) => {
            *pos += 4;
            Value::Ref(rd4(p))
        }
    }
}

/// Encodes a collection record: `u32` count then the `u32` ordinals (for maps, key/value pairs).
pub fn encode_ordinals(items: &[u32], out: &mut Vec<u8>) {
    out.extend_from_slice(&(items.len() as u32).to_le_bytes());
    for i in items {
        out.extend_from_slice(&i.to_le_bytes());
    }
}

/// Decodes a collection record written by [`encode_ordinals`].
pub fn decode_ordinals(enc: &[u8]) -> impl Iterator<Item = u32> + '_ {
    enc[4..]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4")))
}
