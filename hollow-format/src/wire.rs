//! Little-endian primitives for writing and bounds-checked reading of blob sections.

use crate::error::{Corruption, Error, Result};

/// An append-only little-endian byte sink.
#[derive(Default)]
pub struct Sink {
    pub buf: Vec<u8>,
}

impl Sink {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.bytes(s.as_bytes());
    }
    /// Pads with zeros to a multiple of 8 bytes.
    pub fn align8(&mut self) {
        while !self.buf.len().is_multiple_of(8) {
            self.buf.push(0);
        }
    }
    /// Writes a length-prefixed (u64) section padded to 8 bytes; the section starts 8-aligned.
    pub fn section(&mut self, data: &[u8]) {
        self.align8();
        self.u64(data.len() as u64);
        self.bytes(data);
        self.align8();
    }
}

/// A bounds-checked little-endian reader over a byte slice. Offsets in errors are absolute
/// (relative to the start of the slice the cursor was created over plus `base`).
#[derive(Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8], base: u64) -> Self {
        Cursor { data, pos: 0, base }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8]> {
        let available = (self.data.len() - self.pos) as u64;
        if n > available {
            return Err(Error::Truncated {
                what,
                offset: self.base + self.pos as u64,
                needed: n,
                available,
            });
        }
        let n = n as usize;
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4, what)?.try_into().expect("4 bytes"),
        ))
    }
    pub fn u64(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8, what)?.try_into().expect("8 bytes"),
        ))
    }
    pub fn string(&mut self, what: &'static str) -> Result<String> {
        let n = self.u32(what)?;
        let b = self.take(n as u64, what)?;
        String::from_utf8(b.to_vec()).map_err(|_| Corruption::InvalidUtf8 { what }.into())
    }
    pub fn align8(&mut self) -> Result<()> {
        let pad = (8 - (self.pos % 8)) % 8;
        self.take(pad as u64, "alignment padding")?;
        Ok(())
    }
    /// Reads a section written by [`Sink::section`], returning its byte range in the slice.
    pub fn section(&mut self, what: &'static str) -> Result<std::ops::Range<usize>> {
        self.align8()?;
        let n = self.u64(what)?;
        let start = self.pos;
        self.take(n, what)?;
        let end = self.pos;
        self.align8()?;
        Ok(start..end)
    }
}
