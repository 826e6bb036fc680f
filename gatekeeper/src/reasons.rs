//! Interned reason sets: every distinct `reasons` list of a liveness record gets a `u32` id.
//!
//! A catalog of 2.1M (title, country) pairs has only a few thousand distinct reason lists, so
//! the engine's compact [`Row`](crate::Row) holds a reason-set id instead of a `Vec<String>`,
//! and the strings are materialized on demand (export, publish, diff). A table only grows:
//! ids stay valid for as long as the table lives, so rows evaluated in different cycles
//! against the same table compare by id. Tables are shared copy-on-write
//! (`Arc<ReasonTable>` with [`Arc::make_mut`](std::sync::Arc::make_mut)), so tables of different cycles may be different
//! copies, one a prefix of the other. [`ReasonTable::common_prefix`] says up to which id two
//! tables agree (each table keeps a chained digest of its sets); ids beyond it are compared by
//! content.
//!
//! Id 0 is always the empty set.

use rustc_hash::FxHashMap;

/// The reason strings and reason sets seen so far (see the module docs).
#[derive(Debug, Clone)]
pub struct ReasonTable {
    /// Per set: a digest of every set up to and including it.
    digests: Vec<u64>,
    strings: Vec<Box<str>>,
    string_ids: FxHashMap<Box<str>, u32>,
    /// Per set: string ids, in the order given when interned (byte order for the engine's).
    sets: Vec<Box<[u32]>>,
    set_ids: FxHashMap<Box<[u32]>, u32>,
    /// Per set: the JSON array text (`["A","B"]`), for exports.
    json: Vec<Box<str>>,
    /// Scratch for interning.
    scratch: Vec<u32>,
}

impl Default for ReasonTable {
    fn default() -> Self {
        ReasonTable::new()
    }
}

impl ReasonTable {
    /// A table holding only the empty set (id 0).
    pub fn new() -> ReasonTable {
        let mut table = ReasonTable {
            digests: Vec::new(),
            strings: Vec::new(),
            string_ids: FxHashMap::default(),
            sets: Vec::new(),
            set_ids: FxHashMap::default(),
            json: Vec::new(),
            scratch: Vec::new(),
        };
        table.intern(std::iter::empty::<&str>());
        table
    }

    /// How many ids, from 0, denote the same sets in `self` and `other` (one is a copy of the
    /// other, possibly grown since; else only the empty set 0 is certain to agree).
    pub fn common_prefix(&self, other: &ReasonTable) -> u32 {
        let n = self.digests.len().min(other.digests.len());
        if n > 0 && self.digests[n - 1] == other.digests[n - 1] {
            n as u32
        } else {
            1
        }
    }

    /// The id of the set of `reasons` (in the given order), adding it if new.
    pub fn intern<'s>(&mut self, reasons: impl IntoIterator<Item = &'s str>) -> u32 {
        let mut ids = std::mem::take(&mut self.scratch);
        ids.clear();
        for r in reasons {
            let id = match self.string_ids.get(r) {
                Some(&id) => id,
                None => {
                    let id = self.strings.len() as u32;
                    self.strings.push(r.into());
                    self.string_ids.insert(r.into(), id);
                    id
                }
            };
            ids.push(id);
        }
        let set = match self.set_ids.get(&ids[..]) {
            Some(&set) => set,
            None => {
                let set = self.sets.len() as u32;
                let mut json = String::from("[");
                for (i, &s) in ids.iter().enumerate() {
                    if i > 0 {
                        json.push(',');
                    }
                    push_json_str(&mut json, &self.strings[s as usize]);
                }
                json.push(']');
                self.json.push(json.into());
                // Chain the digest: FNV-1a over the set's strings, then a SplitMix64 finalizer.
                let mut h = self
                    .digests
                    .last()
                    .copied()
                    .unwrap_or(0xcbf2_9ce4_8422_2325);
                for &s in &ids {
                    for b in self.strings[s as usize].bytes().chain([0xff]) {
                        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                    }
                }
                h ^= h >> 30;
                h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
                h ^= h >> 27;
                h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
                h ^= h >> 31;
                self.digests.push(h ^ ids.len() as u64);
                self.sets.push(ids.as_slice().into());
                self.set_ids.insert(ids.as_slice().into(), set);
                set
            }
        };
        self.scratch = ids;
        set
    }

    /// The reasons of set `id` (empty for an unknown id).
    pub fn get(&self, id: u32) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.sets
            .get(id as usize)
            .map_or(&[][..], |s| &s[..])
            .iter()
            .map(|&s| &*self.strings[s as usize])
    }

    /// The reasons of set `id` as owned strings.
    pub fn to_vec(&self, id: u32) -> Vec<String> {
        self.get(id).map(str::to_string).collect()
    }

    /// The reasons of set `id` as a JSON array (`["A","B"]`; `[]` for an unknown id).
    pub fn json(&self, id: u32) -> &str {
        self.json.get(id as usize).map_or("[]", |j| j)
    }

    /// Whether set `id` contains the reason `code`.
    pub fn contains(&self, id: u32, code: &str) -> bool {
        self.get(id).any(|r| r == code)
    }

    /// The number of distinct sets.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// Never true: the empty set is always there.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

/// Appends `s` as a JSON string, byte for byte as `serde_json` writes it.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        // Serializing a &str cannot fail.
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_interned_by_content_and_order() {
        let mut t = ReasonTable::new();
        assert_eq!(t.intern(std::iter::empty()), 0);
        let a = t.intern(["NO_RIGHTS", "NO_VIDEOS"]);
        assert_eq!(t.intern(["NO_RIGHTS", "NO_VIDEOS"]), a);
        let b = t.intern(["NO_VIDEOS", "NO_RIGHTS"]);
        assert_ne!(a, b);
        assert_eq!(t.get(a).collect::<Vec<_>>(), ["NO_RIGHTS", "NO_VIDEOS"]);
        assert_eq!(t.json(a), r#"["NO_RIGHTS","NO_VIDEOS"]"#);
        assert_eq!(t.json(0), "[]");
        let odd = t.intern(["Q\"\n"]);
        assert_eq!(t.json(odd), serde_json::to_string(&["Q\"\n"]).unwrap());
        assert!(t.contains(a, "NO_VIDEOS") && !t.contains(a, "MISSING_VIDEO"));
        let mut c = t.clone();
        assert_eq!(c.common_prefix(&t), t.len() as u32);
        c.intern(["GROWN"]);
        assert_eq!(c.common_prefix(&t), t.len() as u32);
        let mut other = ReasonTable::new();
        other.intern(["NO_VIDEOS", "NO_RIGHTS"]);
        assert_eq!(other.common_prefix(&t), 1);
    }
}
