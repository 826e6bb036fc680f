//! serde integration: derive schemas from Rust types, add Rust values to a write state,
//! and read records back as Rust values.
//!
//! # The mapping
//!
//! | Rust (through serde)                         | hollow ([`FieldKind`](hollow_format::FieldKind) / type)                   |
//! |----------------------------------------------|-------------------------------------------------|
//! | `struct Movie { .. }`                        | object type `Movie`, one field per struct field |
//! | `bool`                                       | `Bool`                                          |
//! | `i8`, `i16`, `i32`, `u8`, `u16`              | `I32`                                           |
//! | `i64`, `u32`, `u64` (≤ `i64::MAX` only)      | `I64`                                           |
//! | `f32` / `f64`                                | `F32` / `F64` (bit patterns kept, NaN included) |
//! | `String`, `&str`, `char`, unit-only enums    | `String` (an enum stores its variant name)      |
//! | `Vec<u8>`, `serde_bytes`                     | `Bytes`                                         |
//! | `Option<X>`                                  | the field of `X` (every field is nullable)      |
//! | nested struct                                | `Reference` to its object type                  |
//! | `Vec<X>` (any sequence)                      | `Reference` to list type `ListOf{X}`            |
//! | `HashSet<X>`, `BTreeSet<X>`                  | `Reference` to set type `SetOf{X}`              |
//! | `HashMap<K, V>`, `BTreeMap<K, V>`            | `Reference` to map type `MapOf{K}To{V}`         |
//! | newtype structs, `Box<X>`                    | transparent                                     |
//!
//! Collections hold references to records; primitive elements are wrapped, Hollow style, in
//! one-field object types named `String`, `Long` (i64), `Integer` (i32), `Boolean`, `Float`,
//! `Double` and `Bytes`, whose field is `value`.
//!
//! - [`schema_for`] and [`SchemaBuilder`] derive a [`SchemaSet`](hollow_format::SchemaSet) from types
//!   (see [`trace`] for how, and what is not supported).
//! - [`WriteState::add`](crate::WriteState::add) and
//!   [`WriteState::add_as`](crate::WriteState::add_as) add a value and everything it
//!   contains, deduplicated, and return the root record's ordinal.
//! - [`ReadState::get`](crate::ReadState::get), [`ReadState::iter`](crate::ReadState::iter)
//!   and [`ReadState::reader`](crate::ReadState::reader) read records back as owned Rust
//!   values, following references.
//!
//! ```
//! use std::collections::BTreeSet;
//! use hollow_format::blob::SnapshotOptions;
//! use hollow_state::write::write_snapshot;
//! use hollow_state::{ReadState, WriteState};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Movie {
//!     id: i64,
//!     title: String,
//!     tags: BTreeSet<String>,
//! }
//!
//! let schema = hollow_state::serde::SchemaBuilder::new().add::<Movie>()?.primary_key("Movie", ["id"]).build()?;
//! assert!(schema.get("SetOfString").is_some());
//!
//! let mut state = WriteState::new(schema);
//! let movie = Movie { id: 1, title: "Alien".into(), tags: ["space".to_string()].into() };
//! let ordinal = state.add(&movie)?;
//!
//! let (blob, _) = write_snapshot(&state, &SnapshotOptions::default())?;
//! let read = ReadState::from_vec(blob)?;
//! assert_eq!(read.get::<Movie>("Movie", ordinal)?, movie);
//! # Ok::<(), hollow_format::Error>(())
//! ```

mod de;
mod info;
mod ser;
pub mod trace;

pub use de::{RecordIter, RecordReader};
pub use trace::{schema_for, SchemaBuilder};
