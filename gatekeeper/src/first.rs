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
}

/// Publishes `ws` as version 1 of the empty timeline in `store`.
pub(crate) fn write_first_version(
    store: &Arc<dyn BlobStore>,
    ws: &mut WriteState,
    zstd_level: Option<i32>,
) -> hollow::Result<FirstTimes> {
    ws.set_header("hollow.version", "1");
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
        .put(&snapshot_key(1), &blob)
        .map_err(hollow::Error::Store)?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    store
        .put(&meta_key(1), format!("1 {now_ms} -\n").as_bytes())
        .map_err(hollow::Error::Store)?;
    Timeline::new(store.clone()).announce(1)?;
    Ok(FirstTimes {
        encode,
        store: t.elapsed(),
    })
}
