//! Writing the first version of an empty timeline directly: a snapshot of a plain hollow
//! `WriteState`, published through [`Timeline::publish`] like a hollow `Producer`'s first
//! version, without the producer's journal, reference counts and key index
//! (which make folding millions of records one by one about three times slower). A producer
//! opened on the timeline afterwards restores that version like any other.

use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::lifecycle::{Timeline, VersionBlobs};
use hollow::store::BlobStore;
use hollow::WriteState;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Times of [`write_first_version`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FirstTimes {
    /// Encoding the snapshot.
    pub encode: Duration,
    /// Storing the blobs and the announcement.
    pub store: Duration,
    /// The version written: 1, or above every number an earlier failed attempt used
    /// ([`Timeline::highest_used`]), so that a late write of that attempt can never be
    /// mistaken for this version's blobs.
    pub version: u64,
}

/// Publishes `ws` as the first version of the empty timeline in `store` (version 1 unless
/// an earlier attempt left blobs behind).
pub(crate) fn write_first_version(
    store: &Arc<dyn BlobStore>,
    ws: &mut WriteState,
    zstd_level: Option<i32>,
) -> hollow::Result<FirstTimes> {
    let timeline = Timeline::new(store.clone());
    let v = timeline.next_version(None)?;
    ws.set_header("hollow.version", v.to_string());
    let t = Instant::now();
    let (blob, _) = write_snapshot(
        ws,
        &SnapshotOptions {
            zstd_level,
            disable_fsst: false,
        },
    )?;
    let encode = t.elapsed();
    let t = Instant::now();
    let blobs = VersionBlobs {
        snapshot: Some(blob),
        deltas: None,
    };
    timeline.publish(v, None, &blobs)?;
    Ok(FirstTimes {
        encode,
        store: t.elapsed(),
        version: v,
    })
}
