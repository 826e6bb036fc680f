//! [`ObservedStore`]: a [`BlobStore`] wrapper that reports the outcome of every operation to
//! an observer, so a service can tell whether its store is reachable from the operations it
//! makes anyway (health checks, metrics) without asking the store anything extra.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::api::{BlobStore, StoreError};

/// What an [`ObservedStore`] tells its observer after an operation.
#[derive(Debug)]
pub struct Observation<'a> {
    /// The operation: `put`, `get`, `exists`, `list` or `delete`.
    pub op: &'static str,
    /// When the operation started.
    pub started: Instant,
    /// `Ok` if the store answered (a missing key is an answer), else the error.
    pub result: Result<(), &'a StoreError>,
}

/// Called after every operation that reached the store.
pub type Observer = Arc<dyn Fn(&Observation<'_>) + Send + Sync>;

/// A [`BlobStore`] that forwards every call to `inner` and reports its outcome to an
/// observer. Calls refused before reaching the store (an invalid key) are not reported.
pub struct ObservedStore {
    inner: Arc<dyn BlobStore>,
    observer: Observer,
}

impl std::fmt::Debug for ObservedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservedStore")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl ObservedStore {
    /// Wraps `inner`, reporting to `observer`.
    pub fn new(inner: Arc<dyn BlobStore>, observer: Observer) -> ObservedStore {
        ObservedStore { inner, observer }
    }

    /// Runs `f`, reporting its outcome.
    fn observe<T>(
        &self,
        op: &'static str,
        f: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = f();
        let outcome = match &result {
            Ok(_) | Err(StoreError::NotFound { .. }) => Some(Ok(())),
            Err(StoreError::InvalidKey { .. }) => None,
            Err(e) => Some(Err(e)),
        };
        if let Some(result) = outcome {
            (self.observer)(&Observation {
                op,
                started,
                result,
            });
        }
        result
    }
}

impl BlobStore for ObservedStore {
    fn put(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        self.observe("put", || self.inner.put(key, data))
    }

    fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        self.observe("get", || self.inner.get(key))
    }

    fn get_opt(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.observe("get", || self.inner.get_opt(key))
    }

    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.observe("exists", || self.inner.exists(key))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.observe("list", || self.inner.list(prefix))
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.observe("delete", || self.inner.delete(key))
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.inner.local_path(key)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::folder::FolderStore;
    use std::sync::Mutex;

    #[test]
    fn reports_answers_and_failures() {
        let dir = tempfile::tempdir().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let inner: Arc<dyn BlobStore> = Arc::new(FolderStore::new(dir.path()).unwrap());
        let store = ObservedStore::new(
            inner,
            Arc::new(move |o: &Observation<'_>| log.lock().unwrap().push((o.op, o.result.is_ok()))),
        );
        store.put("a", b"x").unwrap();
        assert!(store.get_opt("missing").unwrap().is_none());
        assert!(store.get("../bad").is_err());
        assert_eq!(store.list("").unwrap(), ["a"]);
        std::fs::remove_dir_all(dir.path()).unwrap();
        std::fs::write(dir.path(), b"not a directory").unwrap();
        assert!(store.put("b", b"y").is_err());
        assert_eq!(
            *seen.lock().unwrap(),
            [("put", true), ("get", true), ("list", true), ("put", false)]
        );
        assert!(
            store.describe().starts_with("file://"),
            "{}",
            store.describe()
        );
    }
}
