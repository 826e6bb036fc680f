//! Shared, cheaply sliceable bytes that are either owned (heap mode) or memory-mapped.
//!
//! Read states never copy blob data: every column is a [`Bytes`] slice of the loaded blob.
//! This is the only module of the crate with `unsafe` code, three audited uses: memory-mapping
//! a file ([`Bytes::map_file`]), a `&str` over a pool proven UTF-8 once (`str_from_validated`),
//! and bit-unpacking a run of values after one bounds check for the whole run (`unpack_run`,
//! the column-scan hot path; `cargo bench -p benches --bench bitpacked_read` measures it).

use std::fmt;
use std::ops::{Deref, Range};
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};

enum Owner {
    Heap(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl Owner {
    fn as_slice(&self) -> &[u8] {
        match self {
            Owner::Heap(v) => v,
            Owner::Mapped(m) => m,
        }
    }
}

/// Immutable bytes shared by reference count: a `Vec<u8>` or a read-only memory map.
///
/// Cloning and slicing are O(1) and never copy.
#[derive(Clone)]
pub struct Bytes {
    owner: Arc<Owner>,
    start: usize,
    len: usize,
}

impl Bytes {
    /// Wraps owned bytes.
    pub fn from_vec(v: Vec<u8>) -> Self {
        let len = v.len();
        Bytes {
            owner: Arc::new(Owner::Heap(v)),
            start: 0,
            len,
        }
    }

    /// Memory-maps a file read-only.
    ///
    /// The file must not be modified or truncated while it is mapped; hollow's blob stores
    /// only ever replace files by atomic rename, which keeps existing maps valid.
    pub fn map_file(path: &Path) -> Result<Self> {
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: the map is read-only and private to this process. Hollow never writes to
        // or truncates a published blob file in place (stores write a temporary file and
        // rename it), so the mapped bytes do not change under the reader. All reads through
        // the map are bounds-checked slices.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        let len = map.len();
        Ok(Bytes {
            owner: Arc::new(Owner::Mapped(map)),
            start: 0,
            len,
        })
    }

    /// Whether these bytes are memory-mapped (as opposed to owned on the heap).
    pub fn is_mapped(&self) -> bool {
        matches!(*self.owner, Owner::Mapped(_))
    }

    /// Bytes held on the heap by the allocation behind this slice (0 when mapped).
    pub fn heap_bytes(&self) -> usize {
        match &*self.owner {
            Owner::Heap(v) => v.capacity(),
            Owner::Mapped(_) => 0,
        }
    }

    /// An identifier of the allocation or map behind these bytes (equal for slices of it).
    pub fn owner_id(&self) -> usize {
        Arc::as_ptr(&self.owner) as *const u8 as usize
    }

    /// A sub-slice sharing the same owner. Returns `None` when out of range.
    pub fn slice(&self, range: Range<usize>) -> Option<Bytes> {
        if range.start > range.end || range.end > self.len {
            return None;
        }
        Some(Bytes {
            owner: self.owner.clone(),
            start: self.start + range.start,
            len: range.end - range.start,
        })
    }

    /// The bytes as a plain slice.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        &self.owner.as_slice()[self.start..self.start + self.len]
    }
}

impl Deref for Bytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Bytes({} bytes, {})",
            self.len,
            if self.is_mapped() { "mapped" } else { "heap" }
        )
    }
}

impl Default for Bytes {
    fn default() -> Self {
        Bytes::from_vec(Vec::new())
    }
}

/// Converts bytes already proven to be UTF-8 into a `&str` without re-validating.
///
/// `validated` must be a sub-slice, on character boundaries, of a buffer that
/// [`validate_utf8_pool`] accepted; callers keep that proof in a cached flag per pool.
#[inline(always)]
pub fn str_from_validated(validated: &[u8]) -> &str {
    debug_assert!(std::str::from_utf8(validated).is_ok());
    // SAFETY: the pool these bytes come from passed `validate_utf8_pool` (the whole buffer
    // is UTF-8 and every value offset is a character boundary), so any slice between two
    // offsets is UTF-8. The flag proving it is set only by that function.
    unsafe { std::str::from_utf8_unchecked(validated) }
}

/// The checked twin of [`str_from_validated`].
#[inline]
pub fn str_checked(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

/// Whether `data` is UTF-8 and each offset from `offsets` is a character boundary of it.
pub fn validate_utf8_pool(data: &[u8], offsets: impl Iterator<Item = u64>) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    for o in offsets {
        match usize::try_from(o) {
            Ok(o) if text.is_char_boundary(o) => {}
            _ => return false,
        }
    }
    true
}

/// Unpacks `out.len()` consecutive values of `width` bits (1 to 56) starting at bit
/// `start_bit` of the little-endian bit stream `data` (see [`crate::bits`]): one 8-byte load
/// per value, with the bounds of all of them checked once up front.
///
/// Returns `false` (and leaves `out` as it was) when a load would go past the end of `data`.
#[inline]
pub fn unpack_run(data: &[u8], start_bit: u64, width: u32, out: &mut [u64]) -> bool {
    if !(1..=56).contains(&width) || out.is_empty() {
        return false;
    }
    // the last value starts at this bit; its 8-byte load must end inside `data`
    let last_bit = (out.len() as u64 - 1)
        .checked_mul(width as u64)
        .and_then(|b| b.checked_add(start_bit));
    let Some(last_bit) = last_bit else {
        return false;
    };
    match usize::try_from(last_bit >> 3)
        .ok()
        .and_then(|b| b.checked_add(8))
    {
        Some(end) if end <= data.len() => {}
        _ => return false,
    }
    let mask = (1u64 << width) - 1;
    let w = width as u64;
    let base = data.as_ptr();
    let mut bit = start_bit;
    for slot in out.iter_mut() {
        // SAFETY: `bit` is at most `last_bit`, and `(last_bit >> 3) + 8 <= data.len()` was
        // checked above, so the 8 bytes at `bit >> 3` are inside `data`; `read_unaligned`
        // has no alignment requirement.
        let word =
            unsafe { std::ptr::read_unaligned(base.add((bit >> 3) as usize) as *const [u8; 8]) };
        *slot = (u64::from_le_bytes(word) >> (bit & 7)) & mask;
        bit += w;
    }
    true
}
