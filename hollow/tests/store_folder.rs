//! The shared blob-store conformance checks against [`FolderStore`].

mod store_common;

use hollow::store::{open_store, BlobStore, FolderStore};

#[test]
fn folder_store_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path().join("store")).unwrap();
    store_common::conformance(&store);
}

#[test]
fn folder_store_from_url_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&format!("file://{}", dir.path().display())).unwrap();
    store_common::conformance(store.as_ref());
}

#[test]
fn folder_store_local_path_is_the_blob() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path()).unwrap();
    store
        .put("snapshot/00000000000000000001", b"bytes")
        .unwrap();
    let path = store.local_path("snapshot/00000000000000000001").unwrap();
    assert_eq!(std::fs::read(path).unwrap(), b"bytes");
}
