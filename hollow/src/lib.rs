//! # hollow
//!
//! A Hollow-style dataset engine: a whole dataset held in RAM (or memory-mapped) at high
//! density, published by a producer as a timeline of versioned states — snapshots, deltas and
//! reverse deltas in a blob store — and followed by consumers that load a version, move
//! forward and back, pin, index records by key and diff two states.
//!
//! ## Types at a glance
//!
//! | layer | types |
//! |---|---|
//! | data model | [`SchemaSet`], [`TypeSchema`] (object, list, set, map), [`FieldKind`] (a [`Primitive`] or a reference), [`Value`]; [`dataset::DatasetSchema`] for JSON-described datasets; [`serde`] to derive schemas from Rust types |
//! | writing | [`WriteState`]: records deduplicated into dense `u32` ordinals; [`blob::write_snapshot`] |
//! | format | [`blob`] (specified in `hollow-format/src/blob/README.md`), [`bits`] (bit-packed arrays) |
//! | reading | [`ReadState`] in [`MemoryMode::Heap`] or [`MemoryMode::Mapped`]; [`ObjectView`], [`read::ListView`], [`read::SetView`], [`read::MapView`]; typed column handles for hot loops |
//! | typed Rust API | `#[derive(Hollow)]` on structs and enums: [`typed::schema_for`], [`WriteState::add_typed`], [`ReadState::typed`] → [`typed::Table`] of zero-copy views, [`typed::PrimaryKeyIndex`], [`typed::HashIndex`], [`lifecycle::Cycle::upsert_typed`] |
//! | lifecycle | [`Producer`] (incremental or full cycles, validators, restore), [`Consumer`] (refresh, time travel, pin, fallbacks, [`lifecycle::RefreshListener`]s), [`lifecycle::Follower`] (background refresh), [`lifecycle::Timeline`] |
//! | stores | [`store::BlobStore`]: [`store::FolderStore`] and (feature `s3`) `store::S3Store` |
//!
//! ## Example: produce, memory-map, query, apply a delta
//!
//! ```
//! use std::sync::Arc;
//! use hollow::dataset::DatasetSchema;
//! use hollow::lifecycle::{Consumer, ConsumerConfig, Producer, ProducerConfig};
//! use hollow::store::FolderStore;
//! use hollow::MemoryMode;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let schema = DatasetSchema::from_json(r#"{"dataset": "videos", "type": "Video", "primary_key": ["id"],
//!     "fields": [{"name": "id", "kind": "i64"}, {"name": "title", "kind": "string"},
//!                {"name": "season", "kind": "i32", "nullable": true}]}"#)?;
//! let dir = std::env::temp_dir().join(format!("hollow-doc-{}", std::process::id()));
//! let store = Arc::new(FolderStore::new(&dir)?);
//!
//! // Version 1: a snapshot.
//! let mut producer = Producer::open(store.clone(), schema.schema_set()?, ProducerConfig::default())?;
//! producer.cycle(|c| {
//!     c.upsert_record(&schema, &schema.parse_json(br#"{"id": 1, "title": "Dick Johnson Is Dead", "season": null}"#)?)?;
//!     c.upsert_record(&schema, &schema.parse_json(br#"{"id": 2, "title": "Blood & Water", "season": 2}"#)?)?;
//!     Ok(())
//! })?;
//!
//! // A consumer memory-maps it and reads fields in place.
//! let consumer = Consumer::new(store.clone(), ConsumerConfig { mode: MemoryMode::Mapped, cache_dir: Some(dir.join("cache")) });
//! consumer.refresh()?;
//! let state = consumer.current().unwrap().state;
//! let videos = state.object("Video")?;
//! let (id, title) = (videos.long("id")?, videos.string("title")?);
//! let names: Vec<String> = videos.ordinals().map(|o| format!("{}:{}", id.get(o).unwrap(), title.get(o).unwrap().unwrap())).collect();
//! assert_eq!(names, ["1:Dick Johnson Is Dead", "2:Blood & Water"]);
//!
//! // Version 2: a delta (and a reverse delta) — the consumer follows it.
//! producer.cycle(|c| { c.delete_key(&schema, "1")?; Ok(()) })?;
//! consumer.refresh()?;
//! assert_eq!(consumer.current().unwrap().state.object("Video")?.len(), 1);
//! consumer.update_to(1)?; // and travels back
//! assert_eq!(consumer.current().unwrap().state.object("Video")?.len(), 2);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```
//!
//! ## Reading: four ways, fastest last
//!
//! * Through serde: [`ReadState::get`] / [`ReadState::iter`] deserialize owned Rust values
//!   (~2.5 M records/s on the shared catalog).
//! * By record: [`ObjectView::get`] / [`read::ColumnView::get`] return a [`Value`] for one
//!   ordinal and field (random access; a whole scan this way runs at ~20 M records/s here).
//! * By typed column: [`ObjectView::long`], [`ObjectView::string`], ... return handles whose
//!   `get(ordinal)` decodes one field with no `Value` in between (the gatekeeper's hot loop).
//! * Through typed views: `#[derive(Hollow)]` on a struct and [`ReadState::typed`] give a
//!   view per record with one method per field (`&str` into the data, iterators for
//!   collections, views for references), reading through column handles resolved once:
//!   a full scan of the shared catalog runs at ~55 M records/s here (see [`typed`]).
//! * By column scan: [`ObjectView::for_each_value`] calls a closure with `(ordinal, Value)`
//!   for every record, decoding 64 records per pass with the dispatch on the field's kind
//!   hoisted out of the loop. A full scan of every field of the shared catalog runs at
//!   ~40 M records/s on one core here (`cargo bench -p benches --bench core_format`), faster
//!   than the same scan over plain Rust structs in `Vec`s.
//!
//! ## Memory
//!
//! Fixed-width fields are bit-packed at the width of the range of values present (a column
//! of 1.6M asset ids in 0..2^21 takes 21 bits a record); strings and bytes are deduplicated
//! per field into a pool (optionally FSST-compressed); references, lists, sets and maps are
//! ordinals. On the shared 5.0M-record catalog the seven datasets take ~97 MB in heap mode
//! (19 B/record) and ~19 MB as zstd blobs. A heap-mode state holds its blob once; a mapped
//! state holds nothing on the heap but descriptors. A state reached by deltas shares every
//! column the deltas did not touch with its predecessor.
//!
//! ## Limits
//!
//! * Ordinals are `u32`: up to 2^32 − 1 records per type.
//! * Sets and maps are hashed by element ordinal: `contains`/`get` take the element's
//!   ordinal (find it with an index on the element type).
//! * Deltas patch object columns in place; list/set/map types touched by a delta are
//!   rebuilt (they are small in practice). Strings added by deltas go to a per-column
//!   overflow pool until the next snapshot load.
//! * Mapped consumers that follow deltas materialize each reached state into a snapshot file
//!   in their cache folder (O(state) per refresh) so that they stay memory-mapped.
//! * A read of an unpopulated ordinal through the typed column handles returns whatever the
//!   column holds there (check `is_populated` or iterate `ordinals()`); the generic
//!   [`ObjectView::get`] returns an error.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod blob;
pub mod diff;
pub mod error;
pub mod history;
pub mod index;
pub mod key;
pub mod lifecycle;
pub mod store;
pub mod typed;

pub use hollow_format::{bits, schema, value, Bytes};
pub use hollow_state::{dataset, read, serde, write};

pub use error::{BlobKind, DataError, Error, Result};
pub use lifecycle::{Consumer, ConsumerConfig, CycleOutcome, Producer, ProducerConfig};
pub use read::{MemoryMode, ObjectView, OpenOptions, ReadState};
pub use schema::{
    Compression, FieldDef, FieldKind, ObjectSchema, Primitive, SchemaSet, TypeSchema,
};
pub use typed::Hollow;
pub use value::Value;
pub use write::{StateChanges, TypeChanges, WriteState};
