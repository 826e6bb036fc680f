//! The gatekeeper's dependencies, watched for `/healthz` and the metrics ([`ops::health`]):
//! the inputs' stores ([`INPUTS`]), the output's store ([`OUTPUT`]) and, for PREPROD, PROD's
//! output ([`PROD`]). Every store operation reports its outcome through [`ObservedStore`];
//! a cycle that made no operation on the output store probes it with one `exists` of its
//! announcement key, so an outage shows even when nothing changes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hollow::store::{BlobStore, Observation, ObservedStore};
use ops::health::Health;

/// The inputs' stores.
pub const INPUTS: &str = "inputs";
/// The output's store.
pub const OUTPUT: &str = "output";
/// PROD's output store (PREPROD only).
pub const PROD: &str = "prod";

/// `store` wrapped so that every operation reports to `health` as `dep` and counts in `ops`.
pub(crate) fn observed(
    store: Arc<dyn BlobStore>,
    health: &Arc<Health>,
    dep: &'static str,
    ops: &Arc<AtomicU64>,
) -> Arc<dyn BlobStore> {
    let (health, ops) = (health.clone(), ops.clone());
    Arc::new(ObservedStore::new(
        store,
        Arc::new(move |o: &Observation<'_>| {
            ops.fetch_add(1, Ordering::Relaxed);
            match o.result {
                Ok(()) => health.success(dep),
                Err(e) => health.failure(dep, o.started, &format!("{} {}", o.op, e)),
            }
        }),
    ))
}

/// Probes `store` (one `exists` of the announcement key) if no operation was counted in
/// `ops` since `before`; the observer records the outcome.
pub(crate) fn probe_if_idle(store: &dyn BlobStore, ops: &AtomicU64, before: u64) {
    if ops.load(Ordering::Relaxed) == before {
        let _ = store.exists(hollow::lifecycle::timeline::ANNOUNCED);
    }
}
