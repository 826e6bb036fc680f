//! Blob stores: where producers publish snapshot, delta and announcement blobs and where
//! consumers fetch them.
//!
//! A [`BlobStore`] is a flat, synchronous key → bytes map. Keys are `/`-separated relative
//! names such as `snapshot/00000000000000000005`; every key is checked by [`validate_key`]
//! before it reaches a backend, so a key can never escape a folder or address another
//! prefix.
//!
//! Two backends exist:
//!
//! * [`FolderStore`] — a local directory. Each key is a file; writes go to a temporary file
//!   that is flushed and renamed into place, so readers never see a partial blob.
//!   [`BlobStore::local_path`] exposes the file so consumers can memory-map it.
//! * `S3Store` (feature `s3`, on by default) — an S3 bucket and key prefix through
//!   `aws-sdk-s3`, for AWS or any S3-compatible server.
//!
//! [`ObservedStore`] wraps any store and reports the outcome of each operation (for health
//! checks).
//!
//! [`open_store`] picks a backend from a URL: `file:///dir`, a plain path, or
//! `s3://bucket/prefix`.
//!
//! ```
//! use hollow::store::{open_store, StoreError};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = open_store(dir.path().to_str().unwrap()).unwrap();
//! store.put("snapshot/00000000000000000001", b"blob bytes").unwrap();
//! assert_eq!(store.get("snapshot/00000000000000000001").unwrap(), b"blob bytes");
//! assert_eq!(store.list("snapshot/").unwrap(), vec!["snapshot/00000000000000000001"]);
//! assert!(matches!(store.get("snapshot/2"), Err(StoreError::NotFound { .. })));
//! ```

mod api;
mod folder;
mod observed;
mod open;
#[cfg(feature = "s3")]
mod s3;

pub use api::{validate_key, validate_prefix, BlobStore, StoreError, MAX_KEY_LEN, TEMP_PREFIX};
pub use folder::FolderStore;
pub use observed::{Observation, ObservedStore, Observer};
pub use open::open_store;
#[cfg(feature = "s3")]
pub use s3::{
    S3Config, S3Credentials, S3Store, ATTEMPT_TIMEOUT_ENV, MAX_ATTEMPTS_ENV, OPERATION_TIMEOUT_ENV,
    S3_ENDPOINT_ENV,
};
