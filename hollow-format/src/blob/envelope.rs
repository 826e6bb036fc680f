//! The envelope every blob shares: a 48-byte preamble (magic, format version, kind, flags,
//! CRC-32 checksum, stored and raw body lengths) around a body that may be zstd-compressed.
//! Specified in `README.md` beside this file.

use crate::error::{BlobKind, Corruption, Error, Result};

/// The magic bytes every hollow blob starts with.
pub const MAGIC: &[u8; 8] = b"HOLLOWRS";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The size of the fixed preamble before the body.
pub const PREAMBLE_LEN: usize = 48;
/// Preamble flag: the body is zstd-compressed.
pub const FLAG_ZSTD: u32 = 1;

/// The code of a blob kind in the preamble.
pub fn kind_code(k: BlobKind) -> u32 {
    match k {
        BlobKind::Snapshot => 0,
        BlobKind::Delta => 1,
        BlobKind::ReverseDelta => 2,
    }
}

fn kind_from_code(c: u32) -> Result<BlobKind> {
    Ok(match c {
        0 => BlobKind::Snapshot,
        1 => BlobKind::Delta,
        2 => BlobKind::ReverseDelta,
        x => {
            return Err(Corruption::UnknownCode {
                what: "blob kind",
                code: x as u64,
            }
            .into())
        }
    })
}

/// The decoded fixed preamble of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preamble {
    /// Snapshot, delta or reverse delta.
    pub kind: BlobKind,
    /// Flags ([`FLAG_ZSTD`]).
    pub flags: u32,
    /// The stored checksum (CRC-32 of the preamble without this field, then the stored body).
    pub checksum: u32,
    /// Bytes of body as stored.
    pub stored_len: u64,
    /// Bytes of body once decompressed.
    pub raw_len: u64,
}

fn checksum(pre: &[u8], body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&pre[..20]);
    h.update(&pre[24..PREAMBLE_LEN]);
    h.update(body);
    h.finalize()
}

/// Wraps a raw body into a blob: preamble, optional zstd compression, checksum.
pub fn seal(kind: BlobKind, raw_body: &[u8], zstd_level: Option<i32>) -> Vec<u8> {
    let (flags, stored): (u32, std::borrow::Cow<'_, [u8]>) = match zstd_level {
        Some(level) => (
            FLAG_ZSTD,
            zstd::bulk::compress(raw_body, level)
                .expect("zstd compression of an in-memory buffer")
                .into(),
        ),
        None => (0, raw_body.into()),
    };
    let mut out = Vec::with_capacity(PREAMBLE_LEN + stored.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&kind_code(kind).to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(stored.len() as u64).to_le_bytes());
    out.extend_from_slice(&(raw_body.len() as u64).to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    let c = checksum(&out, &stored);
    out[20..24].copy_from_slice(&c.to_le_bytes());
    out.extend_from_slice(&stored);
    out
}

/// Reads and checks the preamble (magic, version, kind, lengths). Does not verify the checksum.
pub fn read_preamble(bytes: &[u8]) -> Result<Preamble> {
    if bytes.len() < 8 || &bytes[..8] != MAGIC {
        return Err(Error::BadMagic {
            got: bytes[..bytes.len().min(8)].to_vec(),
        });
    }
    if bytes.len() < PREAMBLE_LEN {
        return Err(Error::Truncated {
            what: "blob preamble",
            offset: 0,
            needed: PREAMBLE_LEN as u64,
            available: bytes.len() as u64,
        });
    }
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4"));
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().expect("8"));
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(Error::Version {
            expected: FORMAT_VERSION,
            got: version,
        });
    }
    let kind = kind_from_code(u32_at(12))?;
    let flags = u32_at(16);
    if flags & !FLAG_ZSTD != 0 {
        return Err(Corruption::UnknownFlags { flags }.into());
    }
    let pre = Preamble {
        kind,
        flags,
        checksum: u32_at(20),
        stored_len: u64_at(24),
        raw_len: u64_at(32),
    };
    let available = (bytes.len() - PREAMBLE_LEN) as u64;
    if pre.stored_len != available {
        if pre.stored_len > available {
            return Err(Error::Truncated {
                what: "blob body",
                offset: PREAMBLE_LEN as u64,
                needed: pre.stored_len,
                available,
            });
        }
        return Err(Corruption::TrailingBytes {
            what: "declared blob body",
            count: available - pre.stored_len,
        }
        .into());
    }
    if flags & FLAG_ZSTD == 0 && pre.raw_len != pre.stored_len {
        return Err(Corruption::CountMismatch {
            what: "raw length of an uncompressed body",
            expected: pre.stored_len,
            got: pre.raw_len,
        }
        .into());
    }
    Ok(pre)
}

/// Verifies a blob's checksum.
pub fn verify_checksum(bytes: &[u8]) -> Result<Preamble> {
    let pre = read_preamble(bytes)?;
    let computed = checksum(&bytes[..PREAMBLE_LEN], &bytes[PREAMBLE_LEN..]);
    if computed != pre.checksum {
        return Err(Error::ChecksumMismatch {
            stored: pre.checksum,
            computed,
        });
    }
    Ok(pre)
}

/// Checks the preamble (and the checksum when `verify`) and returns the raw body: a slice of
/// `bytes` when uncompressed, a decompressed copy otherwise (compressed bodies are always
/// verified first).
pub fn open_body(
    bytes: &crate::bytes::Bytes,
    expected: BlobKind,
    verify: bool,
) -> Result<(Preamble, crate::bytes::Bytes)> {
    let pre = read_preamble(bytes)?;
    if pre.kind != expected {
        return Err(Error::WrongBlobKind {
            expected,
            got: pre.kind,
        });
    }
    if verify || pre.flags & FLAG_ZSTD != 0 {
        verify_checksum(bytes)?;
    }
    if pre.flags & FLAG_ZSTD != 0 {
        let cap = usize::try_from(pre.raw_len).map_err(|_| Corruption::SizeOverflow {
            what: "raw body length",
            count: pre.raw_len,
        })?;
        // decompression allocates raw_len up front: a claim no zstd frame of this size can
        // keep (one 128 KiB block takes at least 4 bytes, a ratio below 2^15) is refused
        // rather than letting a small blob ask for terabytes
        let stored = (bytes.len() - PREAMBLE_LEN) as u64;
        if pre.raw_len > (1u64 << 40) || pre.raw_len > stored.saturating_mul(1 << 16).max(1 << 16) {
            return Err(Corruption::ImplausibleLength {
                raw: pre.raw_len,
                stored,
            }
            .into());
        }
        let raw = zstd::bulk::decompress(&bytes[PREAMBLE_LEN..], cap).map_err(Corruption::Zstd)?;
        if raw.len() as u64 != pre.raw_len {
            return Err(Corruption::CountMismatch {
                what: "decompressed body length",
                expected: pre.raw_len,
                got: raw.len() as u64,
            }
            .into());
        }
        Ok((pre, crate::bytes::Bytes::from_vec(raw)))
    } else {
        let body = bytes
            .slice(PREAMBLE_LEN..bytes.len())
            .ok_or_else(|| Error::Truncated {
                what: "blob body",
                offset: PREAMBLE_LEN as u64,
                needed: pre.stored_len,
                available: (bytes.len() - PREAMBLE_LEN) as u64,
            })?;
        Ok((pre, body))
    }
}
