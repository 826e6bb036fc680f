//! The producer's dependencies, watched for `/healthz` and the metrics ([`ops::health`]):
//! the Kafka broker (from the metadata, watermark and poll results of every cycle) and the
//! blob stores (every store operation, through [`ObservedStore`]; a dataset whose cycle made
//! no store operation probes its store with one `exists` of the announcement key, so an
//! outage shows even when no message arrives).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hollow::store::{BlobStore, Observation, ObservedStore};
use ops::health::Health;

/// The name of the Kafka broker dependency.
pub const BROKER: &str = "broker";

/// The name of the blob store dependency (every dataset's store).
pub const STORE: &str = "store";

/// `store` wrapped so that every operation reports to `health` as [`STORE`] and counts in
/// `ops`.
pub(crate) fn observed(
    store: Arc<dyn BlobStore>,
    health: &Arc<Health>,
    ops: &Arc<AtomicU64>,
) -> Arc<dyn BlobStore> {
    let (health, ops) = (health.clone(), ops.clone());
    Arc::new(ObservedStore::new(
        store,
        Arc::new(move |o: &Observation<'_>| {
            ops.fetch_add(1, Ordering::Relaxed);
            match o.result {
                Ok(()) => health.success(STORE),
                Err(e) => health.failure(STORE, o.started, &format!("{} {}", o.op, e)),
            }
        }),
    ))
}

/// Reports the outcome of a broker request started at `started`.
pub(crate) fn broker<T, E: std::fmt::Display>(
    health: &Health,
    started: Instant,
    result: &Result<T, E>,
) {
    match result {
        Ok(_) => health.success(BROKER),
        Err(e) => health.failure(BROKER, started, &e.to_string()),
    }
}

/// Probes `store` (one `exists` of the announcement key) if no operation was counted in
/// `ops` since `before`; the observer records the outcome.
pub(crate) fn probe_if_idle(store: &dyn BlobStore, ops: &AtomicU64, before: u64) {
    if ops.load(Ordering::Relaxed) == before {
        let _ = store.exists(hollow::lifecycle::timeline::ANNOUNCED);
    }
}

/// Whether some dependency's last operations failed (so a failed cycle is already reported
/// by the health log lines, and need not be logged as an error every cycle).
pub(crate) fn any_failing(health: &Health) -> bool {
    health.statuses().values().any(|s| {
        matches!(
            s,
            ops::health::DepStatus::Failing { .. } | ops::health::DepStatus::Down { .. }
        )
    })
}
