//! [`FolderStore`]: a blob store in a local directory, one file per key.
//!
//! A key `a/b/c` is the file `DIR/a/b/c`. A put writes a temporary file named
//! `.tmp-<pid>-<counter>-<nanos>` next to the target, flushes it to disk, renames it over
//! the target (atomic on POSIX file systems) and flushes the directory, so a reader sees
//! the old blob or the whole new one, never a partial one. Listing skips temporary files.
//!
//! Limits: a key cannot also be a directory prefix of another key (`a` and `a/b` cannot both
//! exist, unlike on S3); deleting a key leaves its (possibly empty) parent directories.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::api::{validate_key, validate_prefix, BlobStore, StoreError, TEMP_PREFIX};

/// Distinguishes temporary files written by this process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A [`BlobStore`] in a local directory, one file per key: key `a/b/c` is `DIR/a/b/c`.
///
/// A put writes a temporary file (`.tmp-<pid>-<counter>-<nanos>`) next to the target,
/// flushes it, renames it over the target and flushes the directory, so readers see the
/// old blob or the whole new one. Listing skips temporary files left by crashed writers.
/// [`local_path`](BlobStore::local_path) gives the file, for memory-mapping.
///
/// Unlike S3, a key cannot also be a directory prefix of another key (`a` and `a/b` cannot
/// both exist). Deleting a key leaves its parent directories.
#[derive(Debug, Clone)]
pub struct FolderStore {
    /// The root directory, absolute when it could be canonicalized.
    root: PathBuf,
}

impl FolderStore {
    /// Opens the store in `dir`, creating the directory (and its parents) if missing.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        let io = |source| StoreError::Io {
            op: "open store",
            key: dir.display().to_string(),
            source,
        };
        fs::create_dir_all(dir).map_err(io)?;
        let root = fs::canonicalize(dir).map_err(io)?;
        if !root.is_dir() {
            return Err(io(std::io::Error::new(
                ErrorKind::NotADirectory,
                "not a directory",
            )));
        }
        Ok(Self { root })
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file for a key that has already been validated.
    fn path_of(&self, key: &str) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(key.split('/'));
        path
    }

    /// Writes `data` to a fresh temporary file in `dir` and flushes it; returns its path.
    fn write_temp(dir: &Path, data: &[u8]) -> std::io::Result<PathBuf> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "{TEMP_PREFIX}{}-{}-{nanos}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let tmp = dir.join(name);
        let result = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .and_then(|mut file| {
                file.write_all(data)?;
                file.sync_all()
            });
        match result {
            Ok(()) => Ok(tmp),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    /// Recursively collects the keys under `dir` (whose key prefix is `rel`) that start
    /// with `prefix`.
    fn walk(dir: &Path, rel: &str, prefix: &str, out: &mut Vec<String>) -> std::io::Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => {
                return Ok(())
            }
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue; // not UTF-8: cannot be a key
            };
            if name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let key = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                // Descend only where keys below could still match the prefix.
                if key.starts_with(prefix) || prefix.starts_with(&format!("{key}/")) {
                    Self::walk(&entry.path(), &key, prefix, out)?;
                }
            } else if key.starts_with(prefix) && validate_key(&key).is_ok() {
                out.push(key);
            }
        }
        Ok(())
    }
}

/// Flushes a directory entry change (a rename) to disk. Best effort: not every platform
/// can open a directory for syncing.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

impl BlobStore for FolderStore {
    fn put(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        validate_key(key)?;
        let path = self.path_of(key);
        let io = |source| StoreError::Io {
            op: "put",
            key: key.to_owned(),
            source,
        };
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(io)?;
        let tmp = Self::write_temp(dir, data).map_err(io)?;
        if let Err(e) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(io(e));
        }
        sync_dir(dir);
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        validate_key(key)?;
        match fs::read(self.path_of(key)) {
            Ok(data) => Ok(data),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::IsADirectory) => {
                Err(StoreError::NotFound {
                    key: key.to_owned(),
                })
            }
            Err(e) if e.kind() == ErrorKind::NotADirectory => Err(StoreError::NotFound {
                key: key.to_owned(),
            }),
            Err(source) => Err(StoreError::Io {
                op: "get",
                key: key.to_owned(),
                source,
            }),
        }
    }

    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        validate_key(key)?;
        match fs::metadata(self.path_of(key)) {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                Ok(false)
            }
            Err(source) => Err(StoreError::Io {
                op: "exists",
                key: key.to_owned(),
                source,
            }),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        validate_prefix(prefix)?;
        // Start at the deepest directory the prefix names in full.
        let (start_rel, start_dir) = match prefix.rfind('/') {
            Some(i) => (&prefix[..i], self.path_of(&prefix[..i])),
            None => ("", self.root.clone()),
        };
        let mut keys = Vec::new();
        Self::walk(&start_dir, start_rel, prefix, &mut keys).map_err(|source| StoreError::Io {
            op: "list",
            key: prefix.to_owned(),
            source,
        })?;
        keys.sort_unstable();
        Ok(keys)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        validate_key(key)?;
        let path = self.path_of(key);
        match fs::remove_file(&path) {
            Ok(()) => {
                if let Some(dir) = path.parent() {
                    sync_dir(dir);
                }
                Ok(())
            }
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => Ok(()),
            // A directory is not a blob: there is nothing to delete under this key.
            Err(_) if path.is_dir() => Ok(()),
            Err(source) => Err(StoreError::Io {
                op: "delete",
                key: key.to_owned(),
                source,
            }),
        }
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        validate_key(key).ok()?;
        Some(self.path_of(key))
    }

    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, FolderStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = FolderStore::new(dir.path().join("blobs")).unwrap();
        (dir, store)
    }

    /// Every file under `dir`, recursively, as paths relative to it.
    fn all_files(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(dir).unwrap();
                    out.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn round_trip() {
        let (_dir, s) = store();
        s.put("a", b"hello").unwrap();
        assert_eq!(s.get("a").unwrap(), b"hello");
        assert!(s.exists("a").unwrap());
        s.put("a", b"replaced").unwrap();
        assert_eq!(s.get("a").unwrap(), b"replaced");
        s.put("empty", b"").unwrap();
        assert_eq!(s.get("empty").unwrap(), b"");
        let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        s.put("big", &big).unwrap();
        assert_eq!(s.get("big").unwrap(), big);
        assert_eq!(s.get_opt("nope").unwrap(), None);
        assert!(matches!(s.get("nope"), Err(StoreError::NotFound { key }) if key == "nope"));
        assert!(!s.exists("nope").unwrap());
    }

    #[test]
    fn nested_keys_and_list() {
        let (_dir, s) = store();
        for key in [
            "snapshot/00000000000000000010",
            "snapshot/00000000000000000002",
            "delta/00000000000000000002-00000000000000000010",
            "announced",
            "deep/a/b/c/d",
        ] {
            s.put(key, key.as_bytes()).unwrap();
        }
        assert_eq!(
            s.list("").unwrap(),
            [
                "announced",
                "deep/a/b/c/d",
                "delta/00000000000000000002-00000000000000000010",
                "snapshot/00000000000000000002",
                "snapshot/00000000000000000010",
            ]
        );
        assert_eq!(
            s.list("snapshot/").unwrap(),
            [
                "snapshot/00000000000000000002",
                "snapshot/00000000000000000010"
            ]
        );
        assert_eq!(
            s.list("snapshot/0000000000000000001").unwrap(),
            ["snapshot/00000000000000000010"]
        );
        assert_eq!(s.list("d").unwrap().len(), 2);
        assert_eq!(s.list("deep/a/").unwrap(), ["deep/a/b/c/d"]);
        assert!(s.list("missing/").unwrap().is_empty());
        assert!(s.list("announced/").unwrap().is_empty());
        // A directory is not a blob.
        assert!(!s.exists("snapshot").unwrap());
        assert!(matches!(
            s.get("snapshot"),
            Err(StoreError::NotFound { .. })
        ));
        s.delete("snapshot").unwrap();
        assert_eq!(s.list("snapshot/").unwrap().len(), 2);
        // A path through a file is not a blob either.
        assert!(!s.exists("announced/x").unwrap());
        assert!(matches!(
            s.get("announced/x"),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn atomic_put_leaves_no_temp_files() {
        let (_dir, s) = store();
        for i in 0..20 {
            s.put(&format!("x/{i}"), &[i as u8; 100]).unwrap();
            s.put("x/0", &[i as u8; 50]).unwrap();
        }
        let files = all_files(s.root());
        assert_eq!(files.len(), 20, "{files:?}");
        assert!(files.iter().all(|f| !f.contains(TEMP_PREFIX)));

        // A crashed writer's temp file is ignored by list and does not shadow anything.
        fs::write(s.root().join("x").join(".tmp-999-0-0"), b"partial").unwrap();
        fs::write(s.root().join(".tmp-999-1-0"), b"partial").unwrap();
        assert_eq!(s.list("").unwrap().len(), 20);
        assert_eq!(s.list("x/").unwrap().len(), 20);
        assert_eq!(s.list("x/.tmp").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn concurrent_readers_never_see_partial_blobs() {
        let (_dir, s) = store();
        let a = vec![b'a'; 256 * 1024];
        let b = vec![b'b'; 512 * 1024];
        s.put("k", &a).unwrap();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for i in 0..50 {
                    s.put("k", if i % 2 == 0 { &b } else { &a }).unwrap();
                }
            });
            for _ in 0..200 {
                let got = s.get("k").unwrap();
                assert!(got == a || got == b, "partial read of {} bytes", got.len());
            }
        });
    }

    fn is_invalid_key<T>(r: Result<T, StoreError>) -> bool {
        matches!(r, Err(StoreError::InvalidKey { .. }))
    }

    #[test]
    fn invalid_keys_rejected_everywhere() {
        let (dir, s) = store();
        for key in [
            "",
            "/etc/passwd",
            "../escape",
            "a/../../b",
            "a//b",
            "a\\b",
            "a\0",
        ] {
            assert!(is_invalid_key(s.put(key, b"x")), "put {key:?}");
            assert!(is_invalid_key(s.get(key)), "get {key:?}");
            assert!(is_invalid_key(s.get_opt(key)), "get_opt {key:?}");
            assert!(is_invalid_key(s.exists(key)), "exists {key:?}");
            assert!(is_invalid_key(s.delete(key)), "delete {key:?}");
            assert!(s.local_path(key).is_none(), "local_path {key:?}");
        }
        assert!(matches!(s.list("../"), Err(StoreError::InvalidKey { .. })));
        assert!(!dir.path().join("escape").exists());
        assert!(s.list("").unwrap().is_empty());
    }

    #[test]
    fn delete() {
        let (_dir, s) = store();
        s.delete("never/existed").unwrap();
        s.put("a/b", b"1").unwrap();
        s.delete("a/b").unwrap();
        s.delete("a/b").unwrap();
        assert!(!s.exists("a/b").unwrap());
        assert!(s.list("").unwrap().is_empty());
    }

    #[test]
    fn local_path_and_describe() {
        let (_dir, s) = store();
        s.put("snapshot/1", b"mapped").unwrap();
        let path = s.local_path("snapshot/1").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"mapped");
        assert!(path.starts_with(s.root()));
        assert_eq!(
            s.local_path("not/yet"),
            Some(s.root().join("not").join("yet"))
        );
        assert_eq!(s.describe(), format!("file://{}", s.root().display()));
    }

    #[test]
    fn new_on_a_file_fails() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"").unwrap();
        assert!(matches!(
            FolderStore::new(&file),
            Err(StoreError::Io {
                op: "open store",
                ..
            })
        ));
    }
}
