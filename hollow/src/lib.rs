//! # hollow
//!
//! A Hollow-style dataset engine: a whole dataset held in RAM (or memory-mapped) at high
//! density, published as versioned snapshots.
//!
//! (The manual is being written; see the README and ARCHITECTURE.md at the project root.)
// `unsafe` is denied everywhere but in `bytes` (memory-mapping), the one audited module.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod bits;
pub mod blob;
#[allow(unsafe_code)]
mod bytes;
pub mod dataset;
pub mod error;
pub mod lifecycle;
pub mod read;
pub mod schema;
pub mod serde;
pub mod store;
pub mod value;
mod wire;
pub mod write;

pub use bytes::Bytes;
pub use error::{BlobKind, Error, Result};
pub use read::{MemoryMode, ObjectView, OpenOptions, ReadState};
pub use schema::{Compression, FieldDef, FieldKind, ObjectSchema, SchemaSet, TypeSchema};
pub use value::Value;
pub use lifecycle::{Consumer, ConsumerConfig, CycleOutcome, Producer, ProducerConfig};
pub use write::{StateChanges, TypeChanges, WriteState};
