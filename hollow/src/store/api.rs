//! The store interface: [`BlobStore`], [`StoreError`] and the rules every key follows.

use std::path::PathBuf;
use std::time::Duration;

/// The longest key accepted, in bytes (S3's limit for a whole object key).
pub const MAX_KEY_LEN: usize = 1024;

/// File-name prefix that [`FolderStore`](super::FolderStore) reserves for its in-flight temporary files. Keys
/// may not have a segment that starts with it.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Errors returned by blob stores. Messages are written for operators: each names the
/// operation, the key and the store where it can.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The key does not exist in the store.
    #[error("blob not found: {key:?}")]
    NotFound {
        /// The key that was asked for.
        key: String,
    },
    /// The key (or list prefix) is not a valid relative `/`-separated name.
    #[error("invalid blob key {key:?}: {reason}")]
    InvalidKey {
        /// The rejected key.
        key: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A local file-system operation failed.
    #[error("I/O error during {op} of {key:?}: {source}")]
    Io {
        /// The operation that failed (`put`, `get`, `list`, ...).
        op: &'static str,
        /// The key (or directory) involved.
        key: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The store could not be reached: connection refused, timeout, DNS failure.
    #[error("blob store {store} is unreachable: {detail}")]
    Unreachable {
        /// The store, as [`BlobStore::describe`] shows it, with its endpoint if any.
        store: String,
        /// What went wrong, with the full chain of causes.
        detail: String,
    },
    /// The store accepted the request (or the connection) but did not answer within the
    /// time limits: a frozen or overloaded server.
    #[error("blob store {store} did not answer in time: {op} of {key:?} timed out after {after:?} ({detail})")]
    Timeout {
        /// The store, as [`BlobStore::describe`] shows it, with its endpoint if any.
        store: String,
        /// The operation that timed out (`put`, `get`, `list`, ...).
        op: &'static str,
        /// The full object key (including the store's prefix) or list prefix.
        key: String,
        /// The limit that ran out.
        after: Duration,
        /// The limits in force (attempts, attempt and connect timeouts), boxed to keep the
        /// error small.
        detail: Box<str>,
    },
    /// The S3 service answered with an error (access denied, missing bucket, ...), or its
    /// answer could not be used.
    #[error("S3 {op} of {key:?} failed: {detail}")]
    S3 {
        /// The operation that failed (`put`, `get`, `list`, ...).
        op: &'static str,
        /// The full object key (including the store's prefix) or list prefix.
        key: String,
        /// The error code, message and HTTP status when the service sent them.
        detail: String,
    },
    /// The store could not be set up from its URL or configuration.
    #[error("blob store configuration error: {detail}")]
    Config {
        /// What is wrong and how to fix it.
        detail: String,
    },
}

/// A synchronous key → bytes store holding a dataset's blobs.
///
/// Implementations are shared between threads (`Send + Sync`) and every method blocks until
/// the operation finishes. Keys are checked with [`validate_key`]; an invalid key gives
/// [`StoreError::InvalidKey`] from every method (and `None` from
/// [`local_path`](BlobStore::local_path)).
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores `data` under `key`, replacing any previous blob. Atomic for readers: a
    /// concurrent [`get`](BlobStore::get) sees either the old blob or the whole new one.
    fn put(&self, key: &str, data: &[u8]) -> Result<(), StoreError>;

    /// Reads the whole blob under `key`; [`StoreError::NotFound`] if there is none.
    fn get(&self, key: &str) -> Result<Vec<u8>, StoreError>;

    /// Reads the blob under `key`, or `None` if there is none.
    fn get_opt(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.get(key) {
            Ok(data) => Ok(Some(data)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether a blob exists under `key`.
    fn exists(&self, key: &str) -> Result<bool, StoreError>;

    /// All keys that start with `prefix` (a plain string prefix, which need not end at a
    /// `/`; `""` lists everything), sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;

    /// Removes the blob under `key`. Removing a missing key succeeds.
    fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// The local file holding `key`'s blob, for stores that keep blobs in files (so a
    /// consumer can memory-map them). The file need not exist. `None` for remote stores.
    fn local_path(&self, _key: &str) -> Option<PathBuf> {
        None
    }

    /// A short description of the store for logs and errors, such as `file:///data/blobs`
    /// or `s3://bucket/prefix`.
    fn describe(&self) -> String;
}

/// Checks that `key` is a valid blob key: not empty, at most [`MAX_KEY_LEN`] bytes,
/// relative (no leading `/`), with no empty, `.` or `..` segment, no backslash, no NUL or
/// other control character, and no segment starting with [`TEMP_PREFIX`].
pub fn validate_key(key: &str) -> Result<(), StoreError> {
    let invalid = |reason| {
        Err(StoreError::InvalidKey {
            key: key.to_owned(),
            reason,
        })
    };
    if key.is_empty() {
        return invalid("key is empty");
    }
    if key.starts_with('/') {
        return invalid("key must be relative (it starts with '/')");
    }
    if key.ends_with('/') {
        return invalid("key ends with '/'");
    }
    check_common(key)?;
    for segment in key.split('/') {
        if segment.is_empty() {
            return invalid("key has an empty segment ('//')");
        }
        check_segment(key, segment)?;
    }
    Ok(())
}

/// Checks a [`BlobStore::list`] prefix: like [`validate_key`] but it may be empty, may end
/// with `/`, and its last segment may be any partial name.
pub fn validate_prefix(prefix: &str) -> Result<(), StoreError> {
    if prefix.is_empty() {
        return Ok(());
    }
    if prefix.starts_with('/') {
        return Err(StoreError::InvalidKey {
            key: prefix.to_owned(),
            reason: "prefix must be relative (it starts with '/')",
        });
    }
    check_common(prefix)?;
    let body = prefix.strip_suffix('/').unwrap_or(prefix);
    for segment in body.split('/') {
        if segment.is_empty() {
            return Err(StoreError::InvalidKey {
                key: prefix.to_owned(),
                reason: "prefix has an empty segment ('//')",
            });
        }
        check_segment(prefix, segment)?;
    }
    Ok(())
}

/// The checks shared by keys and prefixes that look at single characters and length.
fn check_common(key: &str) -> Result<(), StoreError> {
    let invalid = |reason| {
        Err(StoreError::InvalidKey {
            key: key.to_owned(),
            reason,
        })
    };
    if key.len() > MAX_KEY_LEN {
        return invalid("key is longer than 1024 bytes");
    }
    if key.contains('\\') {
        return invalid("key contains a backslash (use '/' to separate segments)");
    }
    if key.contains('\0') {
        return invalid("key contains a NUL character");
    }
    if key.chars().any(char::is_control) {
        return invalid("key contains a control character");
    }
    Ok(())
}

/// The checks on one non-empty segment of a key or prefix.
fn check_segment(key: &str, segment: &str) -> Result<(), StoreError> {
    let reason = if segment == "." || segment == ".." {
        "key has a '.' or '..' segment"
    } else if segment.starts_with(TEMP_PREFIX) {
        "key has a segment starting with '.tmp-', which is reserved for temporary files"
    } else {
        return Ok(());
    };
    Err(StoreError::InvalidKey {
        key: key.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_keys() {
        for key in [
            "a",
            "snapshot/00000000000000000005",
            "a/b/c.d",
            "announced.version",
            ".hidden",
            "a/..b/c..",
            "sp ace/ünïcode",
        ] {
            assert!(validate_key(key).is_ok(), "{key:?} should be valid");
        }
    }

    #[test]
    fn invalid_keys() {
        let long = "a".repeat(MAX_KEY_LEN + 1);
        for key in [
            "",
            "/abs",
            "a//b",
            "a/",
            "..",
            "a/../b",
            "./a",
            "a\\b",
            "a\0b",
            "a\nb",
            ".tmp-1-2-3",
            "dir/.tmp-x",
            long.as_str(),
        ] {
            match validate_key(key) {
                Err(StoreError::InvalidKey { key: k, reason }) => {
                    assert_eq!(k, key);
                    assert!(!reason.is_empty());
                }
                other => panic!("{key:?} should be invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn prefixes() {
        for p in ["", "a", "a/", "snapshot/0000", "a/b/"] {
            assert!(validate_prefix(p).is_ok(), "{p:?} should be valid");
        }
        for p in ["/", "/a", "a//", "../", "a/../", "a\\", "a//b"] {
            assert!(validate_prefix(p).is_err(), "{p:?} should be invalid");
        }
    }
}
