//! The blob format: snapshots and deltas as bytes.
//!
//! The format is specified in `README.md` beside this file. [`envelope`] holds the preamble
//! every blob kind shares (magic, version, kind, flags, checksum); [`snapshot`] writes a
//! snapshot from the records of each type ([`RecordSource`]); [`parse`] turns a snapshot body
//! into per-type descriptors over the bytes (the read side, `hollow-state`, builds its views
//! and applies deltas on them). Column and pool encodings are in [`column`] and [`fsst`].

#[doc(hidden)]
pub mod column;
pub mod envelope;
#[doc(hidden)]
pub mod fsst;
#[doc(hidden)]
pub mod parse;
pub mod snapshot;

pub use column::ColumnStats;
pub use envelope::{
    read_preamble, verify_checksum, Preamble, FLAG_ZSTD, FORMAT_VERSION, MAGIC, PREAMBLE_LEN,
};
pub use snapshot::{write_snapshot_of, RecordSource, SnapshotOptions, SnapshotStats, TypeStats};
