//! [`ReadState`]: a loaded data state over heap or memory-mapped blob bytes, and how it is
//! opened ([`MemoryMode`], [`OpenOptions`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bitvec::prelude::*;

use hollow_format::blob::parse::{parse_snapshot, TypeBody, TypeState};
use hollow_format::bytes::Bytes;
use hollow_format::error::{BlobKind, Error, Result};
use hollow_format::schema::SchemaSet;

/// Where a read state's data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryMode {
    /// The blob is read into owned memory (and its checksum verified).
    Heap,
    /// The blob file is memory-mapped and read in place (header checked, checksum on demand
    /// with [`ReadState::verify`]).
    Mapped,
}

/// Options for opening a read state.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// Heap or mapped.
    pub mode: MemoryMode,
    /// Verify the checksum of every byte on open (always done for heap mode and for
    /// compressed blobs; off by default for mapped mode so that opening is O(1)).
    pub verify_checksum: bool,
}

impl OpenOptions {
    /// Heap mode with checksum verification.
    pub fn heap() -> Self {
        OpenOptions {
            mode: MemoryMode::Heap,
            verify_checksum: true,
        }
    }
    /// Mapped mode without full checksum verification.
    pub fn mapped() -> Self {
        OpenOptions {
            mode: MemoryMode::Mapped,
            verify_checksum: false,
        }
    }
}

/// A loaded data state.
#[derive(Clone)]
pub struct ReadState {
    #[doc(hidden)]
    pub schema: Arc<SchemaSet>,
    #[doc(hidden)]
    pub header: BTreeMap<String, String>,
    #[doc(hidden)]
    pub types: Vec<TypeState>,
    #[doc(hidden)]
    pub blob: Bytes,
    /// The whole blob as loaded, when its body is a slice of it (uncompressed blobs).
    #[doc(hidden)]
    pub source: Option<Bytes>,
    #[doc(hidden)]
    pub mode: MemoryMode,
}

impl std::fmt::Debug for ReadState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadState")
            .field("types", &self.schema.types().len())
            .field("mode", &self.mode)
            .field("header", &self.header)
            .finish()
    }
}

impl ReadState {
    /// Opens a snapshot blob held in memory (heap mode; the checksum is verified).
    pub fn from_bytes(bytes: Bytes) -> Result<Self> {
        Self::from_blob(bytes, MemoryMode::Heap, true)
    }

    /// Opens a snapshot blob held in memory without verifying its checksum (for blobs whose
    /// integrity was checked elsewhere; parsing still validates every section's bounds).
    pub fn from_bytes_unverified(bytes: Bytes) -> Result<Self> {
        Self::from_blob(bytes, MemoryMode::Heap, false)
    }

    /// Opens a snapshot from a `Vec` (heap mode).
    pub fn from_vec(bytes: Vec<u8>) -> Result<Self> {
        Self::from_bytes(Bytes::from_vec(bytes))
    }

    /// Opens a snapshot file in the given mode.
    pub fn open(path: &Path, opts: OpenOptions) -> Result<Self> {
        let bytes = match opts.mode {
            MemoryMode::Heap => {
                Bytes::from_vec(std::fs::read(path).map_err(|source| Error::Io {
                    path: path.display().to_string(),
                    source,
                })?)
            }
            MemoryMode::Mapped => Bytes::map_file(path)?,
        };
        let verify = opts.verify_checksum || opts.mode == MemoryMode::Heap;
        Self::from_blob(bytes, opts.mode, verify)
    }

    #[doc(hidden)]
    pub fn from_blob(bytes: Bytes, mode: MemoryMode, verify: bool) -> Result<Self> {
        let (pre, body) =
            hollow_format::blob::envelope::open_body(&bytes, BlobKind::Snapshot, verify)?;
        let parsed = parse_snapshot(&body)?;
        let source = (pre.flags & hollow_format::blob::FLAG_ZSTD == 0).then_some(bytes);
        Ok(ReadState {
            schema: Arc::new(parsed.schema),
            header: parsed.header,
            types: parsed.types,
            blob: body,
            source,
            mode,
        })
    }

    /// Verifies the checksum of the whole blob (useful in mapped mode, where open does not).
    pub fn verify(&self) -> Result<()> {
        match &self.source {
            Some(src) => hollow_format::blob::verify_checksum(src).map(|_| ()),
            // compressed blobs are always verified before decompression
            None => Ok(()),
        }
    }

    /// The memory mode.
    pub fn mode(&self) -> MemoryMode {
        self.mode
    }

    /// The schema set.
    pub fn schema(&self) -> &Arc<SchemaSet> {
        &self.schema
    }

    /// Header metadata (Kafka offsets, input versions, ...).
    pub fn header(&self) -> &BTreeMap<String, String> {
        &self.header
    }

    /// Heap bytes held by this state's data (0 for mapped data), descriptors excluded.
    pub fn heap_bytes(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        let mut total = 0;
        let mut add = |b: &Bytes| {
            let key = b.owner_id();
            if seen.insert(key) {
                total += b.heap_bytes();
            }
        };
        add(&self.blob);
        for t in &self.types {
            add(&t.populated);
            match &t.body {
                TypeBody::Object(cols) => {
                    for c in cols {
                        add(&c.data);
                        if let Some(n) = &c.nulls {
                            add(n);
                        }
                        if let Some(p) = &c.pool {
                            add(&p.offsets);
                            add(&p.data);
                        }
                    }
                }
                TypeBody::Collection(cs) => {
                    add(&cs.ends);
                    add(&cs.elems);
                    add(&cs.values);
                }
            }
        }
        total
    }

    #[doc(hidden)]
    pub fn type_index(&self, name: &str) -> Result<usize> {
        self.schema
            .type_index(name)
            .ok_or_else(|| Error::NoSuchType(name.to_string()))
    }

    /// The number of records of a type.
    pub fn record_count(&self, type_name: &str) -> Result<u64> {
        Ok(self.types[self.type_index(type_name)?].count)
    }

    /// One past the highest ordinal of a type.
    pub fn ordinal_bound(&self, type_name: &str) -> Result<u64> {
        Ok(self.types[self.type_index(type_name)?].bound)
    }

    /// The populated ordinals of a type as a bitset.
    pub fn populated(&self, type_name: &str) -> Result<&BitSlice<u8, Lsb0>> {
        let t = &self.types[self.type_index(type_name)?];
        Ok(&t.populated.as_slice().view_bits::<Lsb0>()[..t.bound as usize])
    }
}
