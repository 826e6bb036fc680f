//! The record table of one type: an arena of encoded records (see
//! [`hollow_format::codec`]) with a dedup table, dense `u32` ordinals and a free list.

use bitvec::vec::BitVec;
use hollow_format::blob::RecordSource;
use hollow_format::{Corruption, Error, Result};
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::Hasher;

/// The hash of a byte string the dedup tables use.
pub fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(b);
    h.write_u64(b.len() as u64);
    h.finish()
}

const NONE: u32 = u32::MAX;

/// Records of one type: an arena of encoded records with a dedup table.
#[derive(Default, Clone)]
pub struct TypeRecords {
    arena: Vec<u8>,
    /// Per ordinal: (offset, length) of its encoding in `arena`.
    spans: Vec<(u64, u32)>,
    #[doc(hidden)]
    pub populated: BitVec<u64>,
    heads: FxHashMap<u64, u32>,
    next: Vec<u32>,
    free: Vec<u32>,
    count: u64,
    garbage: u64,
    /// When journaling: the encoding each touched ordinal had when the journal started
    /// (`None` = it was unpopulated).
    #[doc(hidden)]
    pub journal: Option<FxHashMap<u32, Option<Box<[u8]>>>>,
    /// When reference counting: how many records refer to each ordinal.
    #[doc(hidden)]
    pub refs: Option<Vec<u32>>,
}

impl TypeRecords {
    pub fn ordinal_bound(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn record(&self, ordinal: u32) -> Option<&[u8]> {
        let o = ordinal as usize;
        if o >= self.spans.len() || !self.populated[o] {
            return None;
        }
        let (off, len) = self.spans[o];
        Some(&self.arena[off as usize..off as usize + len as usize])
    }

    pub fn find(&self, enc: &[u8]) -> Option<u32> {
        let h = hash_bytes(enc);
        let mut cur = *self.heads.get(&h)?;
        while cur != NONE {
            if self.record(cur) == Some(enc) {
                return Some(cur);
            }
            cur = self.next[cur as usize];
        }
        None
    }

    /// Adds an encoded record (deduplicated); `at` forces a specific ordinal (used when
    /// restoring a state, where ordinals must be preserved).
    pub fn add(&mut self, enc: &[u8], at: Option<u32>, type_name: &str) -> Result<u32> {
        self.add_full(enc, at, type_name).map(|(o, _)| o)
    }

    /// Like [`TypeRecords::add`], also saying whether a record was inserted (`false` when an
    /// identical one was found).
    pub fn add_full(
        &mut self,
        enc: &[u8],
        at: Option<u32>,
        type_name: &str,
    ) -> Result<(u32, bool)> {
        if at.is_none() {
            if let Some(o) = self.find(enc) {
                return Ok((o, false));
            }
        }
        let ordinal = match at {
            Some(o) => {
                if (o as usize) < self.spans.len() && self.populated[o as usize] {
                    return Err(Corruption::AlreadyPopulated {
                        what: "a restored record",
                        type_name: type_name.into(),
                        ordinal: o as u64,
                    }
                    .into());
                }
                self.free.retain(|f| *f != o);
                while self.spans.len() <= o as usize {
                    let idx = self.spans.len() as u32;
                    self.spans.push((0, 0));
                    self.next.push(NONE);
                    self.populated.push(false);
                    if idx != o {
                        self.free.push(idx);
                    }
                }
                o
            }
            None => match self.free.pop() {
                Some(o) => o,
                None => {
                    if self.spans.len() >= u32::MAX as usize {
                        return Err(Error::OrdinalsExhausted(type_name.to_string()));
                    }
                    self.spans.push((0, 0));
                    self.next.push(NONE);
                    self.populated.push(false);
                    (self.spans.len() - 1) as u32
                }
            },
        };
        let off = self.arena.len() as u64;
        self.arena.extend_from_slice(enc);
        self.spans[ordinal as usize] = (off, enc.len() as u32);
        self.populated.set(ordinal as usize, true);
        let h = hash_bytes(enc);
        let head = self.heads.entry(h).or_insert(NONE);
        self.next[ordinal as usize] = *head;
        *head = ordinal;
        self.count += 1;
        if let Some(j) = &mut self.journal {
            j.entry(ordinal).or_insert(None);
        }
        if let Some(r) = &mut self.refs {
            if r.len() <= ordinal as usize {
                r.resize(ordinal as usize + 1, 0);
            }
        }
        Ok((ordinal, true))
    }

    /// Removes a record; returns whether it was populated.
    pub fn remove(&mut self, ordinal: u32) -> bool {
        let o = ordinal as usize;
        let Some(enc) = self.record(ordinal) else {
            return false;
        };
        let h = hash_bytes(enc);
        let len = enc.len() as u64;
        let first_touch = self
            .journal
            .as_ref()
            .is_some_and(|j| !j.contains_key(&ordinal));
        if first_touch {
            let old: Box<[u8]> = enc.into();
            if let Some(j) = &mut self.journal {
                j.insert(ordinal, Some(old));
            }
        }
        // unlink from the dedup chain
        if let Some(head) = self.heads.get_mut(&h) {
            if *head == ordinal {
                *head = self.next[o];
                if *head == NONE {
                    self.heads.remove(&h);
                }
            } else {
                let mut cur = *head;
                while cur != NONE {
                    let nx = self.next[cur as usize];
                    if nx == ordinal {
                        self.next[cur as usize] = self.next[o];
                        break;
                    }
                    cur = nx;
                }
            }
        }
        self.next[o] = NONE;
        self.populated.set(o, false);
        self.free.push(ordinal);
        self.count -= 1;
        self.garbage += len;
        if self.garbage > 1 << 20 && self.garbage * 2 > self.arena.len() as u64 {
            self.compact();
        }
        true
    }

    fn compact(&mut self) {
        let mut arena = Vec::with_capacity(self.arena.len() - self.garbage as usize);
        for o in self.populated.iter_ones() {
            let (off, len) = self.spans[o];
            let new_off = arena.len() as u64;
            arena.extend_from_slice(&self.arena[off as usize..off as usize + len as usize]);
            self.spans[o] = (new_off, len);
        }
        self.arena = arena;
        self.garbage = 0;
    }

    /// Populated ordinals in increasing order.
    pub fn ordinals(&self) -> impl Iterator<Item = u32> + '_ {
        self.populated.iter_ones().map(|o| o as u32)
    }

    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.spans.capacity() * 16
            + self.next.capacity() * 4
            + self.heads.capacity() * 16
            + self.populated.capacity() / 8
    }
}

impl RecordSource for TypeRecords {
    fn ordinal_bound(&self) -> usize {
        TypeRecords::ordinal_bound(self)
    }
    fn len(&self) -> u64 {
        TypeRecords::len(self)
    }
    fn populated(&self) -> &BitVec<u64> {
        &self.populated
    }
    fn record(&self, ordinal: u32) -> Option<&[u8]> {
        TypeRecords::record(self, ordinal)
    }
}
