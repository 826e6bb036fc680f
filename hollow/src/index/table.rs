//! The hash table behind the indexes: open addressing with linear probing over 12-byte
//! slots holding a key's 64-bit hash and a 32-bit payload (an ordinal or a group). Keys are
//! not stored: a slot with the query's hash is a candidate that the caller verifies against
//! the state — or, for keys whose hash is injective (one integer field), accepts as is, so a
//! lookup touches the table once. Removal shifts later entries back (no tombstones), so
//! lookups never slow down with churn; growing and removing never read the state.
//!
//! The home slot is the hash's top bits, so entries sorted by hash are stored in slot order:
//! bulk builds and batched updates sort first and then touch the table sequentially
//! instead of missing the cache on every entry.

use crate::error::{DataError, Result};

/// The largest table (the home slot comes from the top 32 bits of the hash).
const MAX_SLOTS: usize = 1 << 32;

/// A slot: the hash's high and low halves, and the payload + 1 (0 = empty).
type Slot = [u32; 3];
const EMPTY: Slot = [0; 3];

#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    slots: Vec<Slot>,
    mask: usize,
    /// 32 - log2(slots): the home slot is `(hash >> 32) >> shift`.
    shift: u32,
    len: usize,
}

#[inline(always)]
fn pack(hash: u64, payload: u32) -> Slot {
    [(hash >> 32) as u32, hash as u32, payload + 1]
}

#[inline(always)]
fn hash_of(s: &Slot) -> u64 {
    ((s[0] as u64) << 32) | s[1] as u64
}

/// Sorts `(hash, payload)` pairs by hash, then payload: one counting pass on the top 12
/// bits of the hash, then a sort of each (cache-sized) bucket.
pub(crate) fn sort_by_hash(v: &mut Vec<(u64, u32)>) {
    const BITS: u32 = 12;
    if v.len() < 1 << 14 {
        v.sort_unstable();
        return;
    }
    let mut starts = vec![0usize; (1 << BITS) + 1];
    for (h, _) in v.iter() {
        starts[(h >> (64 - BITS)) as usize + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut out = vec![(0u64, 0u32); v.len()];
    let mut next = starts.clone();
    for &p in v.iter() {
        let b = (p.0 >> (64 - BITS)) as usize;
        out[next[b]] = p;
        next[b] += 1;
    }
    for w in starts.windows(2) {
        out[w[0]..w[1]].sort_unstable();
    }
    *v = out;
}

impl Table {
    /// A table for about `n` entries (load at most 0.8 before growing).
    pub(crate) fn with_capacity(n: usize) -> Self {
        let slots = (n + n / 4 + 1).next_power_of_two().clamp(16, MAX_SLOTS);
        Table {
            slots: vec![EMPTY; slots],
            mask: slots - 1,
            shift: 32 - slots.trailing_zeros(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }

    #[inline(always)]
    fn home(&self, hash: u64) -> usize {
        ((hash >> 32) >> self.shift) as usize
    }

    /// The first payload filed under `hash` for which `verify` says yes.
    #[inline]
    pub(crate) fn find(
        &self,
        hash: u64,
        mut verify: impl FnMut(u32) -> Result<bool>,
    ) -> Result<Option<u32>> {
        if self.slots.is_empty() {
            return Ok(None);
        }
        let (hi, lo) = ((hash >> 32) as u32, hash as u32);
        let mut i = self.home(hash);
        loop {
            let s = self.slots[i];
            if s[2] == 0 {
                return Ok(None);
            }
            if s[0] == hi && s[1] == lo && verify(s[2] - 1)? {
                return Ok(Some(s[2] - 1));
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Inserts an entry (the caller has checked it is not a duplicate).
    pub(crate) fn insert(&mut self, hash: u64, payload: u32) -> Result<()> {
        if payload == u32::MAX {
            return Err(DataError::OrdinalsExhausted("index".into()).into());
        }
        if self.slots.is_empty() || (self.len + 1) * 5 > self.slots.len() * 4 {
            self.grow()?;
        }
        let mut i = self.home(hash);
        while self.slots[i][2] != 0 {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = pack(hash, payload);
        self.len += 1;
        Ok(())
    }

    /// Removes the entry `(hash, payload)`; false when absent.
    pub(crate) fn remove(&mut self, hash: u64, payload: u32) -> bool {
        if self.slots.is_empty() || payload == u32::MAX {
            return false;
        }
        let want = pack(hash, payload);
        let mut i = self.home(hash);
        loop {
            let s = self.slots[i];
            if s[2] == 0 {
                return false;
            }
            if s == want {
                break;
            }
            i = (i + 1) & self.mask;
        }
        // backward-shift deletion: move later entries of the run into the hole when their
        // home slot does not lie cyclically in (hole, their slot]
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & self.mask;
            let s = self.slots[j];
            if s[2] == 0 {
                break;
            }
            let home = self.home(hash_of(&s));
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = EMPTY;
        self.len -= 1;
        true
    }

    fn grow(&mut self) -> Result<()> {
        let n = (self.slots.len() * 2).max(16);
        if n > MAX_SLOTS {
            if self.len + 1 < self.slots.len() {
                // full beyond the target load, but still room: keep probing longer runs
                return Ok(());
            }
            return Err(DataError::OrdinalsExhausted("index".into()).into());
        }
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; n]);
        self.mask = n - 1;
        self.shift = 32 - n.trailing_zeros();
        for s in old.into_iter().filter(|s| s[2] != 0) {
            let mut i = self.home(hash_of(&s));
            while self.slots[i][2] != 0 {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = s;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn sort_by_hash_sorts() {
        let mut x: u64 = 7;
        let mut v: Vec<(u64, u32)> = (0..50_000u32)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (if i % 5 == 0 { x & 0xffff } else { x }, i)
            })
            .collect();
        let mut want = v.clone();
        want.sort_unstable();
        sort_by_hash(&mut v);
        assert_eq!(v, want);
    }

    #[test]
    fn insert_find_remove_against_a_map() {
        let mut t = Table::with_capacity(4);
        let mut model: HashMap<u32, u64> = HashMap::new();
        let mut x: u64 = 1;
        for step in 0..20_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // few distinct tags, so runs collide and wrap around the table's end
            let payload = (x >> 40) as u32 % 3000;
            // few distinct hashes, crowded at the end of the table so that runs wrap around
            let tg = if payload.is_multiple_of(7) {
                u64::MAX - (payload % 3) as u64
            } else {
                ((payload.wrapping_mul(2654435761) % 64) as u64 | 0xfff0_0000) << 32 | 5
            };
            if step % 3 == 0 {
                let had = model.remove(&payload).is_some();
                assert_eq!(t.remove(tg, payload), had);
            } else if let std::collections::hash_map::Entry::Vacant(e) = model.entry(payload) {
                e.insert(tg);
                t.insert(tg, payload).unwrap();
            }
            assert_eq!(t.len(), model.len());
        }
        for (p, tg) in &model {
            assert_eq!(t.find(*tg, |q| Ok(q == *p)).unwrap(), Some(*p));
        }
        assert_eq!(t.find(12345, |_| Ok(true)).unwrap(), None);
    }
}
