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
//! ## Example: a typed dataset, produced and followed
//!
//! Derive the data model, write producer cycles from the structs, and let a service's
//! consumer follow them in the background while readers go through zero-copy typed views
//! and a typed index. Everything a view returns borrows from the state: `&str` from the
//! string pool, iterators over lists and maps, views for references.
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::sync::Arc;
//! use std::time::{Duration, Instant};
//! use hollow::lifecycle::{Consumer, ConsumerConfig, Follower, Producer, ProducerConfig};
//! use hollow::store::FolderStore;
//! use hollow::typed::{schema_for, HashIndex, PrimaryKeyIndex};
//! use hollow::Hollow;
//!
//! #[derive(Hollow, Clone)]
//! struct Studio {
//!     name: String,
//!     country: String,
//! }
//!
//! #[derive(Hollow, Clone)]
//! struct Movie {
//!     #[hollow(primary_key)]
//!     id: i64,
//!     title: String,
//!     studio: Studio,                // a reference: each distinct studio is stored once
//!     ratings: BTreeMap<String, i32>, // a Hollow map
//!     sequel_of: Option<i64>,         // nullable
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = Arc::new(FolderStore::new(dir.path())?);
//! let mut producer = Producer::open(store.clone(), schema_for::<Movie>()?, ProducerConfig::default())?;
//!
//! // A service's consumer, refreshed in the background (every second, and at once on notify).
//! let consumer = Arc::new(Consumer::new(store.clone(), ConsumerConfig::default()));
//! let follower = Follower::start(consumer.clone(), Duration::from_secs(1))?;
//!
//! let a24 = Studio { name: "A24".into(), country: "US".into() };
//! let movie = |id: i64, title: &str, imdb: i32, sequel_of: Option<i64>| Movie {
//!     id, title: title.into(), studio: a24.clone(), ratings: BTreeMap::from([("imdb".into(), imdb)]), sequel_of,
//! };
//! // Version 1, a snapshot: two movies.
//! producer.cycle(|c| {
//!     c.upsert_typed(&movie(1, "Moonlight", 74, None))?;
//!     c.upsert_typed(&movie(2, "Lady Bird", 74, None))?;
//!     Ok(())
//! })?;
//! follower.notify();
//! // Version 2, a delta: one movie more, one rating changed.
//! producer.cycle(|c| {
//!     c.upsert_typed(&movie(3, "Moonlight II", 61, Some(1)))?;
//!     c.upsert_typed(&movie(2, "Lady Bird", 75, None))?;
//!     Ok(())
//! })?;
//! follower.notify();
//! // Version 3, a delta: a delete by primary key, given in its Rust type.
//! producer.cycle(|c| {
//!     c.delete_typed::<Movie>(1)?;
//!     Ok(())
//! })?;
//! follower.notify();
//!
//! // Readers take the current state whenever they like; a refresh never changes it under them.
//! let start = Instant::now();
//! while consumer.version() != Some(3) && start.elapsed() < Duration::from_secs(10) {
//!     std::thread::sleep(Duration::from_millis(5));
//! }
//! let now = follower.current().expect("a state is loaded");
//! assert_eq!(now.version, 3);
//!
//! let movies = now.state.typed::<Movie>()?; // checks the state's schema against the struct, once
//! let by_id = PrimaryKeyIndex::<Movie>::build(&now.state)?;
//! assert!(by_id.get(&movies, 1).is_none()); // deleted in version 3
//! let sequel = by_id.get(&movies, 3).expect("indexed");
//! assert_eq!(sequel.title(), "Moonlight II"); // a &str into the state
//! assert_eq!(sequel.sequel_of(), Some(1));
//! assert_eq!(sequel.studio().name(), "A24"); // a view of the referenced record
//! let ratings: Vec<(&str, i32)> = by_id.get(&movies, 2).unwrap().ratings().collect();
//! assert_eq!(ratings, [("imdb", 75)]);
//!
//! // A non-unique index through the reference: every movie of a studio.
//! let by_studio = HashIndex::<Movie, String>::build(&now.state, &["studio.name"])?;
//! let mut titles: Vec<&str> = by_studio.get(&movies, "A24").map(|m| m.title()).collect();
//! titles.sort();
//! assert_eq!(titles, ["Lady Bird", "Moonlight II"]);
//! assert_eq!(now.state.typed::<Studio>()?.len(), 1); // one studio record, shared
//! follower.stop();
//! # Ok(()) }
//! ```
//!
//! The stringly API below stays for tools that discover schemas at run time (the `hollow`
//! explorer CLI, the console): types and fields named by strings, records as [`Value`]s.
//!
//! ## Example: a schema known at run time; produce, memory-map, query, apply a delta
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
