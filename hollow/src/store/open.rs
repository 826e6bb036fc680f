//! Opening a store from a URL ([`open_store`]).

use std::sync::Arc;

use super::api::{BlobStore, StoreError};
use super::folder::FolderStore;
#[cfg(feature = "s3")]
use super::s3::S3Store;

/// Opens the blob store named by `url`:
///
/// * `file:///abs/dir` or `file://rel/dir` — a [`FolderStore`] in that directory (created
///   if missing; no percent-decoding);
/// * `s3://bucket` or `s3://bucket/prefix` — an `S3Store` configured from the standard AWS
///   environment (see `S3Config::from_url`); needs the `s3` feature;
/// * anything without a `scheme://` — a plain path to a [`FolderStore`].
///
/// Other schemes give [`StoreError::Config`].
pub fn open_store(url: &str) -> Result<Arc<dyn BlobStore>, StoreError> {
    if url.is_empty() {
        return Err(StoreError::Config {
            detail: "empty blob store URL (expected file:///dir, a path, or s3://bucket/prefix)"
                .to_owned(),
        });
    }
    if let Some(path) = url.strip_prefix("file://") {
        if path.is_empty() {
            return Err(StoreError::Config {
                detail: format!("blob store URL {url:?} has no directory"),
            });
        }
        return Ok(Arc::new(FolderStore::new(path)?));
    }
    if url.starts_with("s3://") {
        return open_s3(url);
    }
    if let Some((scheme, _)) = url.split_once("://") {
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(StoreError::Config {
                detail: format!(
                    "unsupported blob store scheme {scheme:?} in {url:?} \
                     (expected file://, s3:// or a plain path)"
                ),
            });
        }
    }
    Ok(Arc::new(FolderStore::new(url)?))
}

/// Opens an `s3://` URL.
#[cfg(feature = "s3")]
fn open_s3(url: &str) -> Result<Arc<dyn BlobStore>, StoreError> {
    Ok(Arc::new(S3Store::from_url(url)?))
}

/// Opens an `s3://` URL without S3 support compiled in.
#[cfg(not(feature = "s3"))]
fn open_s3(url: &str) -> Result<Arc<dyn BlobStore>, StoreError> {
    Err(StoreError::Config {
        detail: format!(
            "cannot open {url:?}: hollow was built without the \"s3\" feature \
             (enable it to use S3 blob stores)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_store_urls() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        let store = open_store(plain.to_str().unwrap()).unwrap();
        assert!(store.describe().starts_with("file://"));
        assert!(plain.is_dir());

        let url = format!("file://{}", dir.path().join("url").display());
        let store = open_store(&url).unwrap();
        store.put("k", b"v").unwrap();
        assert_eq!(std::fs::read(dir.path().join("url/k")).unwrap(), b"v");

        for bad in ["", "file://", "ftp://host/x"] {
            assert!(
                matches!(open_store(bad), Err(StoreError::Config { .. })),
                "{bad:?} should be a config error"
            );
        }
    }

    #[cfg(not(feature = "s3"))]
    #[test]
    fn s3_without_feature() {
        let err = open_store("s3://bucket/prefix").unwrap_err();
        assert!(err.to_string().contains("\"s3\" feature"), "{err}");
    }
}
