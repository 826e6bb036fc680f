//! Writing the first version of an empty timeline directly: a snapshot of a plain hollow
//! `WriteState`, its meta line and the announcement — exactly the blobs a hollow `Producer`
//! writes for a first version, without the producer's journal, reference counts and key index
//! (which make folding millions of records one by one about three times slower). A producer
//! opened on the timeline afterwards restores that version like any other.

use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::lifecycle::timeline::{meta_key, snapshot_key};
use hollow::lifecycle::Timeline;
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
    let v = timeline.highest_used()?.map_or(1, |h| h + 1);
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
    store
        .put(&snapshot_key(v), &blob)
        .map_err(hollow::Error::Store)?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    store
        .put(&meta_key(v), format!("{v} {now_ms} -\n").as_bytes())
        .map_err(hollow::Error::Store)?;
    timeline.announce_forward(v)?;
    Ok(FirstTimes {
        encode,
        store: t.elapsed(),
        version: v,
    })
}
