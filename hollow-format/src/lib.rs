//! # hollow-format
//!
//! The bottom layer of [hollow](https://docs.rs/hollow): everything about bytes and nothing
//! about states, stores or timelines. Users depend on `hollow`, which re-exports what they need
//! from here; this crate is what `hollow-state` builds on.
//!
//! | module | what it is for |
//! |---|---|
//! | [`bits`] | bit-packed fixed-width arrays (one unaligned 8-byte load per value) |
//! | [`bytes`] | [`Bytes`]: shared heap or memory-mapped bytes; the crate's only `unsafe` |
//! | [`wire`] | little-endian cursor and sink for the blob sections |
//! | [`schema`], [`value`] | types (object, list, set, map), field kinds, values |
//! | [`codec`] | the record codec: one record as bytes, as the write side dedups it |
//! | [`blob`] | the blob format (`src/blob/README.md`): envelope, snapshot writer, parser |
//! | [`error`] | [`Error`]: what bad data can cause, typed |
//!
//! Inside the crate: `bytes` and `wire` use `error`; `bits` uses `bytes`; `schema` uses `wire`;
//! `codec` uses `schema` and `value`; `blob` uses all of them; `value` uses nothing.
// `unsafe` is denied everywhere but in `bytes` (memory-mapping), the one audited module.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod bits;
pub mod blob;
#[allow(unsafe_code)]
pub mod bytes;
pub mod codec;
pub mod error;
pub mod schema;
pub mod value;
#[doc(hidden)]
pub mod wire;

pub use bytes::Bytes;
pub use error::{BlobKind, Corruption, Error, Result, SchemaError};
pub use schema::{
    Compression, FieldDef, FieldKind, ObjectSchema, Primitive, SchemaSet, TypeSchema,
};
pub use value::Value;
