//! The behaviour every [`BlobStore`] must share, run against each backend by
//! `store_folder.rs` and `store_s3.rs`.

use hollow::store::{BlobStore, StoreError};

/// Asserts `result` is `Err(StoreError::NotFound)` for `key`.
fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, key: &str) {
    match result {
        Err(StoreError::NotFound { key: k }) => assert_eq!(k, key),
        other => panic!("expected NotFound for {key:?}, got {other:?}"),
    }
}

/// Asserts `result` is `Err(StoreError::InvalidKey)`.
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::InvalidKey { .. })),
        "{what}: expected InvalidKey, got {result:?}"
    );
}

/// Runs the shared behaviour checks on `store`, which must start empty. Leaves it empty.
pub fn conformance(store: &dyn BlobStore) {
    assert!(!store.describe().is_empty());
    assert_eq!(store.list("").unwrap(), Vec::<String>::new());

    // Round trip, overwrite, empty and binary blobs.
    store.put("a", b"hello").unwrap();
    assert_eq!(store.get("a").unwrap(), b"hello");
    assert_eq!(store.get_opt("a").unwrap().as_deref(), Some(&b"hello"[..]));
    assert!(store.exists("a").unwrap());
    store.put("a", b"replaced").unwrap();
    assert_eq!(store.get("a").unwrap(), b"replaced");
    store.put("empty", b"").unwrap();
    assert_eq!(store.get("empty").unwrap(), b"");
    assert!(store.exists("empty").unwrap());
    let binary: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
    store.put("binary", &binary).unwrap();
    assert_eq!(store.get("binary").unwrap(), binary);

    // Missing keys.
    assert_not_found(store.get("missing"), "missing");
    assert_not_found(store.get("no/such/key"), "no/such/key");
    assert_eq!(store.get_opt("missing").unwrap(), None);
    assert!(!store.exists("missing").unwrap());

    // Nested keys and listing: sorted, by plain string prefix.
    let nested = [
        "snapshot/00000000000000000010",
        "snapshot/00000000000000000002",
        "delta/00000000000000000002-00000000000000000010",
        "reverse/00000000000000000010-00000000000000000002",
        "deep/a/b/c",
    ];
    for key in nested {
        store.put(key, key.as_bytes()).unwrap();
    }
    for key in nested {
        assert_eq!(store.get(key).unwrap(), key.as_bytes());
    }
    assert_eq!(
        store.list("").unwrap(),
        [
            "a",
            "binary",
            "deep/a/b/c",
            "delta/00000000000000000002-00000000000000000010",
            "empty",
            "reverse/00000000000000000010-00000000000000000002",
            "snapshot/00000000000000000002",
            "snapshot/00000000000000000010",
        ]
    );
    assert_eq!(
        store.list("snapshot/").unwrap(),
        [
            "snapshot/00000000000000000002",
            "snapshot/00000000000000000010"
        ]
    );
    assert_eq!(
        store.list("snapshot/0000000000000000001").unwrap(),
        ["snapshot/00000000000000000010"]
    );
    assert_eq!(store.list("de").unwrap().len(), 2);
    assert_eq!(store.list("deep/a/").unwrap(), ["deep/a/b/c"]);
    assert!(store.list("nothing/").unwrap().is_empty());
    assert!(store.list("a/").unwrap().is_empty());
    // A key's parent "directory" is not a blob.
    assert!(!store.exists("snapshot").unwrap());
    assert_not_found(store.get("snapshot"), "snapshot");

    // Invalid keys are rejected by every operation.
    for key in ["", "/abs", "../up", "a/../b", "a//b", "a/", "a\\b", "a\0b"] {
        assert_invalid(store.put(key, b"x"), &format!("put {key:?}"));
        assert_invalid(store.get(key), &format!("get {key:?}"));
        assert_invalid(store.get_opt(key), &format!("get_opt {key:?}"));
        assert_invalid(store.exists(key), &format!("exists {key:?}"));
        assert_invalid(store.delete(key), &format!("delete {key:?}"));
        assert!(store.local_path(key).is_none(), "local_path {key:?}");
    }
    assert_invalid(store.list("../"), "list \"../\"");
    assert_invalid(store.list("/"), "list \"/\"");

    // Delete: present, then missing, both fine.
    store.delete("a").unwrap();
    assert_not_found(store.get("a"), "a");
    assert!(!store.exists("a").unwrap());
    store.delete("a").unwrap();
    store.delete("never/existed").unwrap();

    for key in store.list("").unwrap() {
        store.delete(&key).unwrap();
    }
    assert_eq!(store.list("").unwrap(), Vec::<String>::new());
}
