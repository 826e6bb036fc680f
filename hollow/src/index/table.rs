//! The hash table behind the indexes: open addressing with linear probing over one `u64`
//! per slot, `tag << 32 | (payload + 1)` (0 = empty), where the tag is the high half of the
//! key hash and the home slot is `tag & mask`. Keys are not stored: a slot whose tag equals
//! the query's is a candidate that the caller verifies against the state. Removal shifts
//! later entries back (no tombstones), so lookups never slow down with churn, and since the
//! home slot follows from the tag, neither growing nor removing reads the state.

use crate::error::{Error, Result};

const EMPTY: u64 = 0;
/// The largest table: the home slot comes from the 32-bit tag.
const MAX_SLOTS: usize = 1 << 32;

#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    slots: Vec<u64>,
    mask: usize,
    len: usize,
}

#[inline(always)]
fn pack(tag: u32, payload: u32) -> u64 {
    ((tag as u64) << 32) | (payload as u64 + 1)
}

#[inline(always)]
fn tag_of(slot: u64) -> u32 {
    (slot >> 32) as u32
}

#[inline(always)]
fn payload_of(slot: u64) -> u32 {
    (slot as u32).wrapping_sub(1)
}

/// The tag of a key hash.
#[inline(always)]
pub(crate) fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32
}

impl Table {
    /// A table for about `n` entries (load at most 0.8 before growing).
    pub(crate) fn with_capacity(n: usize) -> Self {
        let slots = (n + n / 4 + 1).next_power_of_two().clamp(16, MAX_SLOTS);
        Table { slots: vec![EMPTY; slots], mask: slots - 1, len: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8
    }

    #[inline(always)]
    fn home(&self, tag: u32) -> usize {
        tag as usize & self.mask
    }

    /// The first payload with tag `tag` for which `verify` says yes.
    #[inline]
    pub(crate) fn find(&self, tag: u32, mut verify: impl FnMut(u32) -> Result<bool>) -> Result<Option<u32>> {
        if self.slots.is_empty() {
            return Ok(None);
        }
        let mut i = self.home(tag);
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return Ok(None);
            }
            if tag_of(s) == tag && verify(payload_of(s))? {
                return Ok(Some(payload_of(s)));
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Inserts an entry (the caller has checked it is not a duplicate).
    pub(crate) fn insert(&mut self, tag: u32, payload: u32) -> Result<()> {
        if payload == u32::MAX {
            return Err(Error::OrdinalsExhausted("index".into()));
        }
        if self.slots.is_empty() || (self.len + 1) * 5 > self.slots.len() * 4 {
            self.grow()?;
        }
        let mut i = self.home(tag);
        while self.slots[i] != EMPTY {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = pack(tag, payload);
        self.len += 1;
        Ok(())
    }

    /// Removes the entry `(tag, payload)`; false when absent.
    pub(crate) fn remove(&mut self, tag: u32, payload: u32) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let want = pack(tag, payload);
        let mut i = self.home(tag);
        loop {
            let s = self.slots[i];
            if s == EMPTY {
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
            if s == EMPTY {
                break;
            }
            let home = self.home(tag_of(s));
            let stays = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
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
            return Err(Error::OrdinalsExhausted("index".into()));
        }
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; n]);
        self.mask = n - 1;
        for s in old.into_iter().filter(|s| *s != EMPTY) {
            let mut i = self.home(tag_of(s));
            while self.slots[i] != EMPTY {
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
    fn insert_find_remove_against_a_map() {
        let mut t = Table::with_capacity(4);
        let mut model: HashMap<u32, u32> = HashMap::new();
        let mut x: u64 = 1;
        for step in 0..20_000u32 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // few distinct tags, so runs collide and wrap around the table's end
            let payload = (x >> 40) as u32 % 3000;
            let tg = if payload % 7 == 0 { u32::MAX - (payload % 3) } else { payload.wrapping_mul(2654435761) % 64 };
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
