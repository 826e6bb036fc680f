//! # hollow-state
//!
//! The middle layer of [hollow](https://docs.rs/hollow): data states in memory, on top of the
//! byte formats of `hollow-format`. Users depend on `hollow`, which re-exports what they need.
//!
//! | module | what it is for |
//! |---|---|
//! | [`records`] | the record table of one type: encoded records, dedup, dense `u32` ordinals |
//! | [`write`](mod@write) | [`WriteState`]: a schema set's record tables, header, journal of changes, reference counts; [`write::write_snapshot`] |
//! | [`read`] | [`ReadState`] (heap or mapped) and its views, typed column handles, column scans, conversion back to a write state |
//! | [`delta`] | deltas written from a write state's journal and applied to a read state |
//! | [`serde`] | schemas derived from Rust types; `add(&T)` and `get::<T>()` |
//! | [`dataset`] | datasets described as JSON schema files; JSON record validation |
//! | [`typed`] | the runtime of `#[derive(Hollow)]`: schemas, writers and zero-copy views of Rust types |
//!
//! Dependencies inside the crate point down this table's reverse: `records` ← `write` ←
//! `read` ← `delta`; `serde`, `dataset` and `typed` use `write` and `read`.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod dataset;
pub mod delta;
pub mod read;
#[doc(hidden)]
pub mod records;
pub mod serde;
pub mod typed;
pub mod write;

pub use read::{MemoryMode, ObjectView, OpenOptions, ReadState};
pub use write::{StateChanges, TypeChanges, WriteState};
