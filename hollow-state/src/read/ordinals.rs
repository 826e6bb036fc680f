//! Iterating the populated ordinals of a type, a 64-bit word of its bitset at a time.

/// An iterator over the populated ordinals of a type, increasing, one 64-bit word at a time.
#[derive(Clone, Debug)]
pub struct Ordinals<'a> {
    bits: &'a [u8],
    bound: u64,
    next_word: usize,
    base: u64,
    cur: u64,
}

impl<'a> Ordinals<'a> {
    /// Iterates the set bits below `bound` of a little-endian bitset (bit `o` is bit
    /// `o % 8` of byte `o / 8`). Bytes missing at the end count as zero.
    pub fn new(bits: &'a [u8], bound: u64) -> Self {
        Ordinals {
            bits,
            bound,
            next_word: 0,
            base: 0,
            cur: 0,
        }
    }

    #[inline]
    fn load(&self, w: usize) -> u64 {
        load_word(self.bits, w, self.bound)
    }
}

/// Word `w` (ordinals `64*w ..`) of a little-endian bitset, bits at or past `bound` cleared and
/// bytes missing at the end read as zero.
#[inline]
#[doc(hidden)]
pub fn load_word(bits: &[u8], w: usize, bound: u64) -> u64 {
    let start = (w * 8).min(bits.len());
    let end = (start + 8).min(bits.len());
    let mut v = match bits.get(start..start + 8) {
        Some(b) => u64::from_le_bytes(b.try_into().expect("8 bytes")),
        None => {
            let mut buf = [0u8; 8];
            buf[..end - start].copy_from_slice(&bits[start..end]);
            u64::from_le_bytes(buf)
        }
    };
    let first = w as u64 * 64;
    if first + 64 > bound {
        let keep = bound.saturating_sub(first);
        v &= if keep == 0 {
            0
        } else {
            u64::MAX >> (64 - keep)
        };
    }
    v
}

impl Iterator for Ordinals<'_> {
    type Item = u32;
    #[inline]
    fn next(&mut self) -> Option<u32> {
        while self.cur == 0 {
            if (self.next_word as u64) * 64 >= self.bound {
                return None;
            }
            self.cur = self.load(self.next_word);
            self.base = self.next_word as u64 * 64;
            self.next_word += 1;
        }
        let tz = self.cur.trailing_zeros() as u64;
        self.cur &= self.cur - 1;
        Some((self.base + tz) as u32)
    }
}
