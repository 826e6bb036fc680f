//! Bit-packed arrays of fixed-width unsigned integers (0 to 64 bits a value).
//!
//! Layout: value `i` occupies bits `i*w .. (i+1)*w` of a little-endian bit stream (bit `k` is
//! bit `k % 8` of byte `k / 8`). The packed bytes are followed by zero padding so that every
//! value can be read with one unaligned 8-byte little-endian load (values up to 56 bits wide)
//! or that load plus one more byte (57 to 64 bits): see [`packed_len`].

use crate::error::{Corruption, Error, Result};

/// Bytes of zero padding after the packed values.
pub const PADDING: usize = 16;

/// The number of bits needed to represent `max` (0 for 0).
#[inline]
pub fn width_for(max: u64) -> u8 {
    (64 - max.leading_zeros()) as u8
}

/// The number of bytes a packed array of `len` values of `width` bits occupies, padding
/// included, rounded up to a multiple of 8.
pub fn packed_len(len: u64, width: u8) -> Option<usize> {
    let bits = len.checked_mul(width as u64)?;
    let bytes = bits.div_ceil(8).checked_add(PADDING as u64)?;
    let bytes = bytes.checked_add(7)? & !7;
    usize::try_from(bytes).ok()
}

/// Packs `values` at `width` bits each. Values must fit in `width` bits.
pub fn pack(values: impl IntoIterator<Item = u64>, len: u64, width: u8) -> Vec<u8> {
    let total = packed_len(len, width).expect("packed array size overflows usize");
    let mut out = vec![0u8; total];
    if width == 0 {
        return out;
    }
    let mut bit: u64 = 0;
    for v in values {
        debug_assert!(
            width == 64 || v >> width == 0,
            "value {v} wider than {width} bits"
        );
        write_bits(&mut out, bit, width, v);
        bit += width as u64;
    }
    out
}

/// Writes `v` (`width` bits) at bit offset `bit` of `buf` (which must have room, padding included).
#[inline]
pub fn write_bits(buf: &mut [u8], bit: u64, width: u8, v: u64) {
    let b = (bit >> 3) as usize;
    let shift = (bit & 7) as u32;
    let mut word = u64::from_le_bytes(buf[b..b + 8].try_into().expect("8 bytes"));
    let w = width as u32;
    let mask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
    word &= !(mask << shift);
    word |= (v & mask) << shift;
    buf[b..b + 8].copy_from_slice(&word.to_le_bytes());
    if shift + w > 64 {
        let rest = shift + w - 64;
        let hi = (v & mask) >> (w - rest);
        buf[b + 8] = (buf[b + 8] & !((1u8 << rest) - 1)) | hi as u8;
    }
}

/// A read-only view of a packed array over borrowed bytes.
///
/// Construction checks that the bytes hold `len` values of `width` bits plus padding, so
/// [`Packed::get`] of an index below `len` never reads out of bounds.
#[derive(Clone, Copy, Debug)]
pub struct Packed<'a> {
    data: &'a [u8],
    width: u32,
    mask: u64,
    len: u64,
}

impl<'a> Packed<'a> {
    /// A view of `len` values of `width` bits over `data`.
    pub fn new(data: &'a [u8], width: u8, len: u64) -> Result<Self> {
        if width > 64 {
            return Err(Corruption::OutOfRange {
                what: "bit width",
                value: width as u64,
                min: 0,
                max: 64,
            }
            .into());
        }
        let need = packed_len(len, width).ok_or(Corruption::SizeOverflow {
            what: "packed array",
            count: len,
        })?;
        if data.len() < need {
            return Err(Error::Truncated {
                what: "bit-packed array",
                offset: 0,
                needed: need as u64,
                available: data.len() as u64,
            });
        }
        let mask = if width == 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        Ok(Packed {
            data,
            width: width as u32,
            mask,
            len,
        })
    }

    /// An empty array (every read returns `None`).
    pub const EMPTY: Packed<'static> = Packed {
        data: &[],
        width: 0,
        mask: 0,
        len: 0,
    };

    /// The number of values.
    #[inline]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the array holds no value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The width of each value in bits.
    #[inline]
    pub fn width(&self) -> u8 {
        self.width as u8
    }

    /// The value at `i`, or `None` when `i >= len`.
    #[inline]
    pub fn get(&self, i: u64) -> Option<u64> {
        if i < self.len {
            Some(self.get_in_bounds(i))
        } else {
            None
        }
    }

    /// The value at `i`, which the caller has checked is below [`Packed::len`].
    ///
    /// With `i < len` every byte read is inside the slice checked by [`Packed::new`].
    #[inline(always)]
    pub fn get_in_bounds(&self, i: u64) -> u64 {
        debug_assert!(i < self.len);
        let bit = i * self.width as u64;
        let b = (bit >> 3) as usize;
        let shift = (bit & 7) as u32;
        let word = u64::from_le_bytes(
            self.data[b..b + 8]
                .try_into()
                .expect("checked at construction"),
        );
        if self.width <= 56 {
            (word >> shift) & self.mask
        } else {
            self.get_wide(word, b, shift)
        }
    }

    /// The values at `i` and `i + 1`, which the caller has checked are below
    /// [`Packed::len`]: one load for widths up to 28 bits (string pool offsets: a value's start
    /// and end).
    #[inline(always)]
    pub fn get_pair_in_bounds(&self, i: u64) -> (u64, u64) {
        debug_assert!(i + 1 < self.len);
        if self.width <= 28 {
            let bit = i * self.width as u64;
            let b = (bit >> 3) as usize;
            let word = u64::from_le_bytes(
                self.data[b..b + 8]
                    .try_into()
                    .expect("checked at construction"),
            ) >> (bit & 7);
            (word & self.mask, (word >> self.width) & self.mask)
        } else {
            (self.get_in_bounds(i), self.get_in_bounds(i + 1))
        }
    }

    #[inline(never)]
    fn get_wide(&self, word: u64, b: usize, shift: u32) -> u64 {
        let lo = word >> shift;
        let v = if shift == 0 {
            lo
        } else {
            lo | ((self.data[b + 8] as u64) << (64 - shift))
        };
        v & self.mask
    }

    /// Decodes `out.len()` values starting at `start` into `out` (batch decoding, one
    /// sequential pass with no multiplication per value). Returns how many were decoded (fewer
    /// at the end of the array).
    #[inline]
    pub fn decode_into(&self, start: u64, out: &mut [u64]) -> usize {
        let n = (self.len.saturating_sub(start)).min(out.len() as u64) as usize;
        let out = &mut out[..n];
        if self.width == 0 {
            out.fill(0);
        } else if self.width > 56
            || !crate::bytes::unpack_run(self.data, start * self.width as u64, self.width, out)
        {
            // wide values (or an empty run): one checked read each
            for (k, slot) in out.iter_mut().enumerate() {
                *slot = self.get_in_bounds(start + k as u64);
            }
        }
        n
    }

    /// Iterates over all values.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len).map(move |i| self.get_in_bounds(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(values: &[u64], width: u8) {
        let bytes = pack(values.iter().copied(), values.len() as u64, width);
        let p = Packed::new(&bytes, width, values.len() as u64).unwrap();
        for (i, v) in values.iter().enumerate() {
            assert_eq!(p.get(i as u64), Some(*v), "i={i} width={width}");
        }
        assert_eq!(p.get(values.len() as u64), None);
        for i in 1..values.len() {
            assert_eq!(
                p.get_pair_in_bounds(i as u64 - 1),
                (values[i - 1], values[i]),
                "pair at {i} width={width}"
            );
        }
        let mut out = vec![0; values.len()];
        assert_eq!(p.decode_into(0, &mut out), values.len());
        assert_eq!(out, values);
    }

    #[test]
    fn edge_widths() {
        for w in [0u8, 1, 7, 8, 9, 31, 32, 33, 55, 56, 57, 63, 64] {
            let max = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
            let vals: Vec<u64> = (0..200u64)
                .map(|i| {
                    if i % 3 == 0 {
                        max
                    } else {
                        i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & max
                    }
                })
                .collect();
            roundtrip(&vals, w);
            roundtrip(&[], w);
            roundtrip(&[max], w);
        }
    }

    #[test]
    fn unpack_run_matches_packed_and_checks_bounds() {
        for width in [1u8, 3, 7, 8, 21, 28, 33, 55, 56] {
            let mask = (1u64 << width) - 1;
            let vals: Vec<u64> = (0..300u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & mask)
                .collect();
            let bytes = pack(vals.iter().copied(), vals.len() as u64, width);
            for start in [0usize, 1, 63, 236] {
                let mut out = vec![0u64; 64];
                assert!(crate::bytes::unpack_run(
                    &bytes,
                    start as u64 * width as u64,
                    width as u32,
                    &mut out
                ));
                assert_eq!(out, vals[start..start + 64], "width {width} start {start}");
            }
            // a run that would read past the end is refused, whatever the width
            let mut out = vec![7u64; 64];
            let past = (bytes.len() as u64 * 8).saturating_sub(width as u64 * 10);
            assert!(!crate::bytes::unpack_run(
                &bytes,
                past,
                width as u32,
                &mut out
            ));
            assert!(out.iter().all(|&v| v == 7));
            assert!(!crate::bytes::unpack_run(
                &bytes,
                u64::MAX - 5,
                width as u32,
                &mut out
            ));
        }
        assert!(!crate::bytes::unpack_run(&[0u8; 64], 0, 0, &mut [0u64; 4]));
        assert!(!crate::bytes::unpack_run(&[0u8; 64], 0, 57, &mut [0u64; 4]));
    }

    #[test]
    fn truncated_is_an_error() {
        let bytes = pack([1u64, 2, 3], 3, 2);
        assert!(Packed::new(&bytes[..bytes.len() - 8], 2, 3).is_err());
        assert!(Packed::new(&bytes, 65, 3).is_err());
        assert!(Packed::new(&bytes, 64, u64::MAX).is_err());
    }

    proptest! {
        #[test]
        fn prop_roundtrip(width in prop_oneof![Just(0u8), Just(1u8), Just(56u8), Just(63u8), Just(64u8), 0u8..=64], raw in proptest::collection::vec(any::<u64>(), 0..300)) {
            let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
            let vals: Vec<u64> = raw.iter().map(|v| v & mask).collect();
            roundtrip(&vals, width);
        }
    }
}
