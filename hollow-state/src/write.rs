//! The write state: records being assembled into the next data state.
//!
//! Records are encoded into a per-type arena and deduplicated: adding a record identical to
//! one already present returns the existing ordinal. Ordinals are dense `u32`s; removed
//! ordinals are reused by later additions, so unchanged records keep their ordinals across
//! states (which keeps deltas small). [`write_snapshot`] turns a write state into a snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;

use hollow_format::blob::{write_snapshot_of, RecordSource, SnapshotOptions, SnapshotStats};
use hollow_format::codec::{decode_field, decode_ordinals, encode_object, encode_ordinals};
use hollow_format::error::{Error, Result, SchemaError};
use hollow_format::schema::{FieldKind, SchemaSet, TypeSchema};
use hollow_format::value::Value;
use rustc_hash::FxHashMap;

use crate::records::TypeRecords;

/// Writes the snapshot blob of a write state.
pub fn write_snapshot(
    state: &WriteState,
    opts: &SnapshotOptions,
) -> Result<(Vec<u8>, SnapshotStats)> {
    let types: Vec<&dyn RecordSource> =
        state.types.iter().map(|t| t as &dyn RecordSource).collect();
    write_snapshot_of(&state.header, &state.schema, &types, opts)
}

/// The state being written: a schema set, records per type, and header metadata.
#[derive(Clone)]
pub struct WriteState {
    #[doc(hidden)]
    pub schema: Arc<SchemaSet>,
    #[doc(hidden)]
    pub types: Vec<TypeRecords>,
    #[doc(hidden)]
    pub header: BTreeMap<String, String>,
    scratch: Vec<u8>,
    /// Per type: whether its records refer to other records.
    has_refs: Vec<bool>,
}

impl WriteState {
    /// An empty state of the given schema set.
    pub fn new(schema: SchemaSet) -> Self {
        Self::with_schema(Arc::new(schema))
    }

    /// An empty state sharing a schema set.
    pub fn with_schema(schema: Arc<SchemaSet>) -> Self {
        let types = vec![TypeRecords::default(); schema.types().len()];
        let has_refs = schema
            .types()
            .iter()
            .map(|t| !t.referenced_types().is_empty())
            .collect();
        WriteState {
            schema,
            types,
            header: BTreeMap::new(),
            scratch: Vec::new(),
            has_refs,
        }
    }

    /// The schema set.
    pub fn schema(&self) -> &Arc<SchemaSet> {
        &self.schema
    }

    /// Sets a header metadata entry (stored in the blob; e.g. Kafka offsets, input versions).
    pub fn set_header(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.header.insert(key.into(), value.into());
    }

    /// The header metadata.
    pub fn header(&self) -> &BTreeMap<String, String> {
        &self.header
    }

    /// Mutable header metadata.
    pub fn header_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.header
    }

    #[doc(hidden)]
    pub fn type_idx(&self, name: &str) -> Result<usize> {
        self.schema
            .type_index(name)
            .ok_or_else(|| Error::NoSuchType(name.to_string()))
    }

    /// Adds an object record given its field values in schema order; returns its ordinal
    /// (the existing one if an identical record is present).
    pub fn add_object(&mut self, type_name: &str, values: &[Value<'_>]) -> Result<u32> {
        let t = self.type_idx(type_name)?;
        self.add_object_at(t, values, None)
    }

    #[doc(hidden)]
    pub fn add_object_at(
        &mut self,
        t: usize,
        values: &[Value<'_>],
        at: Option<u32>,
    ) -> Result<u32> {
        let TypeSchema::Object(o) = &self.schema.types()[t] else {
            let ts = &self.schema.types()[t];
            return Err(Error::WrongTypeKind {
                type_name: ts.name().into(),
                expected: "object",
                actual: ts.kind_name(),
            });
        };
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        let r = encode_object(o, values, &mut buf)
            .and_then(|_| self.check_refs(o, values))
            .and_then(|_| self.types[t].add(&buf, at, &o.name));
        self.scratch = buf;
        r
    }

    fn check_refs(
        &self,
        o: &hollow_format::schema::ObjectSchema,
        values: &[Value<'_>],
    ) -> Result<()> {
        for (f, v) in o.fields.iter().zip(values) {
            if let (FieldKind::Reference(t), Value::Ref(r)) = (&f.kind, v) {
                self.check_ref(t, *r)?;
            }
        }
        Ok(())
    }

    fn check_ref(&self, type_name: &str, ordinal: u32) -> Result<()> {
        let t = self.type_idx(type_name)?;
        if self.types[t].record(ordinal).is_none() {
            return Err(Error::NoSuchOrdinal {
                type_name: type_name.to_string(),
                ordinal: ordinal as u64,
            });
        }
        Ok(())
    }

    /// Adds a list record (element ordinals in order).
    pub fn add_list(&mut self, type_name: &str, elements: &[u32]) -> Result<u32> {
        let t = self.type_idx(type_name)?;
        self.add_collection(t, elements.to_vec(), None)
    }

    /// Adds a set record (element ordinals; order and repeats do not matter).
    pub fn add_set(&mut self, type_name: &str, elements: &[u32]) -> Result<u32> {
        let t = self.type_idx(type_name)?;
        self.add_collection(t, elements.to_vec(), None)
    }

    /// Adds a map record from (key ordinal, value ordinal) pairs; a repeated key keeps its
    /// last value.
    pub fn add_map(&mut self, type_name: &str, entries: &[(u32, u32)]) -> Result<u32> {
        let t = self.type_idx(type_name)?;
        let flat: Vec<u32> = entries.iter().flat_map(|(k, v)| [*k, *v]).collect();
        self.add_collection(t, flat, None)
    }

    /// Adds a collection record; for maps `items` holds key/value pairs flattened.
    #[doc(hidden)]
    pub fn add_collection(
        &mut self,
        t: usize,
        mut items: Vec<u32>,
        at: Option<u32>,
    ) -> Result<u32> {
        let ts = self.schema.types()[t].clone();
        match &ts {
            TypeSchema::Object(_) => {
                return Err(Error::WrongTypeKind {
                    type_name: ts.name().into(),
                    expected: "collection",
                    actual: "object",
                })
            }
            TypeSchema::List { element, .. } => {
                for e in &items {
                    self.check_ref(element, *e)?;
                }
            }
            TypeSchema::Set { element, .. } => {
                items.sort_unstable();
                items.dedup();
                for e in &items {
                    self.check_ref(element, *e)?;
                }
            }
            TypeSchema::Map { key, value, .. } => {
                if !items.len().is_multiple_of(2) {
                    return Err(SchemaError::OddMapEntries {
                        type_name: ts.name().into(),
                        count: items.len(),
                    }
                    .into());
                }
                let mut pairs: BTreeMap<u32, u32> = BTreeMap::new();
                for kv in items.chunks_exact(2) {
                    self.check_ref(key, kv[0])?;
                    self.check_ref(value, kv[1])?;
                    pairs.insert(kv[0], kv[1]);
                }
                items = pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
            }
        }
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        encode_ordinals(&items, &mut buf);
        let r = self.types[t].add(&buf, at, ts.name());
        self.scratch = buf;
        r
    }

    /// Removes a record by ordinal; returns whether it was present. Records that refer to it
    /// are not touched: callers remove those first (or re-add them pointing elsewhere).
    pub fn remove(&mut self, type_name: &str, ordinal: u32) -> Result<bool> {
        let t = self.type_idx(type_name)?;
        Ok(self.types[t].remove(ordinal))
    }

    /// The number of records of a type.
    pub fn len(&self, type_name: &str) -> Result<u64> {
        Ok(self.types[self.type_idx(type_name)?].len())
    }

    /// Whether the state holds no record at all.
    pub fn is_empty(&self) -> bool {
        self.types.iter().all(|t| t.len() == 0)
    }

    /// Decoded field values of an object record (strings and bytes as `Value::Bytes`).
    pub fn object_values(&self, type_name: &str, ordinal: u32) -> Result<Vec<Value<'_>>> {
        let t = self.type_idx(type_name)?;
        let o = self.schema.object(type_name)?;
        let enc = self.types[t]
            .record(ordinal)
            .ok_or_else(|| Error::NoSuchOrdinal {
                type_name: type_name.into(),
                ordinal: ordinal as u64,
            })?;
        let mut pos = 0;
        Ok(o.fields
            .iter()
            .map(|f| decode_field(&f.kind, enc, &mut pos))
            .collect())
    }

    /// Populated ordinals of a type, increasing.
    pub fn ordinals(&self, type_name: &str) -> Result<Vec<u32>> {
        Ok(self.types[self.type_idx(type_name)?].ordinals().collect())
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.types.iter().map(|t| t.heap_bytes()).sum()
    }
}

/// The net changes of one type between the start of a journal and now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeChanges {
    /// Ordinals whose record was removed (or replaced), increasing.
    pub removed: Vec<u32>,
    /// Ordinals whose record was added (or replaced), increasing.
    pub added: Vec<u32>,
}

/// Net changes of a whole state, per type index (schema order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// Per type, in schema order.
    pub types: Vec<TypeChanges>,
}

impl StateChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.types
            .iter()
            .all(|t| t.removed.is_empty() && t.added.is_empty())
    }
    /// Total added and removed records.
    pub fn counts(&self) -> (u64, u64) {
        self.types.iter().fold((0, 0), |(a, r), t| {
            (a + t.added.len() as u64, r + t.removed.len() as u64)
        })
    }
}

/// The encodings a journal saw removed: per type, ordinal → encoding at journal start.
#[doc(hidden)]
pub type RemovedRecords = Vec<FxHashMap<u32, Box<[u8]>>>;

/// Incremental maintenance: journaling of changes and reference counting.
impl WriteState {
    /// Starts recording changes (read them with `take_changes_peek`, clear with `clear_journal`). Idempotent.
    pub fn begin_journal(&mut self) {
        for t in &mut self.types {
            if t.journal.is_none() {
                t.journal = Some(FxHashMap::default());
            }
        }
    }

    /// Forgets the journal (the current state becomes the new starting point).
    #[doc(hidden)]
    pub fn clear_journal(&mut self) {
        for t in &mut self.types {
            if let Some(j) = &mut t.journal {
                j.clear();
            }
        }
    }

    /// Net changes since the journal started, with the removed records' encodings; the
    /// journal is kept (see [`WriteState::clear_journal`] and [`WriteState::rollback`]).
    #[doc(hidden)]
    pub fn take_changes_peek(&self) -> (StateChanges, RemovedRecords) {
        let mut changes = StateChanges::default();
        let mut removed_encs = Vec::new();
        for t in &self.types {
            let mut tc = TypeChanges::default();
            let mut old_map = FxHashMap::default();
            for (o, start) in t.journal.iter().flatten() {
                let o = *o;
                let now = t.record(o);
                match (start, now) {
                    (None, None) => {}
                    (Some(a), Some(b)) if &**a == b => {}
                    (Some(a), now) => {
                        tc.removed.push(o);
                        old_map.insert(o, a.clone());
                        if now.is_some() {
                            tc.added.push(o);
                        }
                    }
                    (None, Some(_)) => tc.added.push(o),
                }
            }
            tc.removed.sort_unstable();
            tc.added.sort_unstable();
            changes.types.push(tc);
            removed_encs.push(old_map);
        }
        (changes, removed_encs)
    }

    /// Undoes every change since the journal started (raw: no cascading, references
    /// counted again); keeps journaling.
    pub fn rollback(&mut self) {
        for t in 0..self.types.len() {
            let j = self.types[t]
                .journal
                .replace(FxHashMap::default())
                .unwrap_or_default();
            // remove what is there now, then restore what was there at the start
            let mut restore = Vec::new();
            for (o, start) in j {
                if let Some(enc) = self.types[t].record(o).map(|e| e.to_vec()) {
                    self.adjust_refs(t, &enc, -1);
                    self.types[t].remove(o);
                }
                if let Some(enc) = start {
                    restore.push((o, enc));
                }
            }
            for (o, enc) in restore {
                let name = self.schema.types()[t].name().to_string();
                if self.types[t].add(&enc, Some(o), &name).is_ok() {
                    self.adjust_refs(t, &enc, 1);
                }
            }
            self.types[t].journal = Some(FxHashMap::default());
        }
    }

    /// Starts counting references, so that records of types without a primary key are
    /// removed when nothing refers to them any more (see [`WriteState::remove_cascading`]).
    pub fn enable_refcounts(&mut self) {
        for t in &mut self.types {
            t.refs = Some(vec![0; t.ordinal_bound()]);
        }
        for t in 0..self.types.len() {
            let ords: Vec<u32> = self.types[t].ordinals().collect();
            for o in ords {
                let enc = self.types[t]
                    .record(o)
                    .map(|e| e.to_vec())
                    .unwrap_or_default();
                self.adjust_refs(t, &enc, 1);
            }
        }
    }

    /// The (type index, ordinal) pairs an encoded record of type `t` refers to.
    #[doc(hidden)]
    pub fn refs_of(&self, t: usize, enc: &[u8]) -> Vec<(usize, u32)> {
        let idx = |name: &str| self.schema.type_index(name).unwrap_or(usize::MAX);
        match &self.schema.types()[t] {
            TypeSchema::Object(o) => {
                let mut pos = 0;
                let mut out = Vec::new();
                for f in &o.fields {
                    if let Value::Ref(r) = decode_field(&f.kind, enc, &mut pos) {
                        if let FieldKind::Reference(target) = &f.kind {
                            out.push((idx(target), r));
                        }
                    }
                }
                out
            }
            TypeSchema::List { element, .. } | TypeSchema::Set { element, .. } => {
                let e = idx(element);
                decode_ordinals(enc).map(|o| (e, o)).collect()
            }
            TypeSchema::Map { key, value, .. } => {
                let (k, v) = (idx(key), idx(value));
                decode_ordinals(enc)
                    .enumerate()
                    .map(|(i, o)| (if i % 2 == 0 { k } else { v }, o))
                    .collect()
            }
        }
    }

    fn adjust_refs(&mut self, t: usize, enc: &[u8], delta: i32) {
        if self.types[t].refs.is_none() || !self.has_refs[t] {
            return;
        }
        for (u, o) in self.refs_of(t, enc) {
            if let Some(r) = self.types.get_mut(u).and_then(|ty| ty.refs.as_mut()) {
                if r.len() <= o as usize {
                    r.resize(o as usize + 1, 0);
                }
                r[o as usize] = (r[o as usize] as i64 + delta as i64).max(0) as u32;
            }
        }
    }

    fn is_root(&self, t: usize) -> bool {
        matches!(&self.schema.types()[t], TypeSchema::Object(o) if o.primary_key.is_some())
    }

    /// Adds an object record counting references (when enabled): returns (ordinal, inserted).
    #[doc(hidden)]
    pub fn add_object_counted(&mut self, t: usize, values: &[Value<'_>]) -> Result<(u32, bool)> {
        let TypeSchema::Object(o) = &self.schema.types()[t] else {
            let ts = &self.schema.types()[t];
            return Err(Error::WrongTypeKind {
                type_name: ts.name().into(),
                expected: "object",
                actual: ts.kind_name(),
            });
        };
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        let r = encode_object(o, values, &mut buf)
            .and_then(|_| self.check_refs(o, values))
            .and_then(|_| {
                let name = o.name.clone();
                self.types[t].add_full(&buf, None, &name)
            });
        if let Ok((_, true)) = r {
            self.adjust_refs(t, &buf, 1);
        }
        self.scratch = buf;
        r
    }

    /// Adds an already encoded object record (encoded from `values` by [`encode_object`])
    /// counting references: returns (ordinal, inserted).
    #[doc(hidden)]
    pub fn add_encoded_counted(
        &mut self,
        t: usize,
        enc: &[u8],
        values: &[Value<'_>],
    ) -> Result<(u32, bool)> {
        if self.has_refs[t] {
            if let TypeSchema::Object(o) = &self.schema.types()[t] {
                self.check_refs(o, values)?;
            }
        }
        let r = self.types[t].add_full(enc, None, self.schema.types()[t].name())?;
        if r.1 {
            self.adjust_refs(t, enc, 1);
        }
        Ok(r)
    }

    /// Adds a collection record counting references (when enabled).
    #[doc(hidden)]
    pub fn add_collection_counted(&mut self, t: usize, items: Vec<u32>) -> Result<(u32, bool)> {
        let before = self.types[t].len();
        let o = self.add_collection(t, items, None)?;
        let inserted = self.types[t].len() > before;
        if inserted {
            let enc = self.types[t]
                .record(o)
                .map(|e| e.to_vec())
                .unwrap_or_default();
            self.adjust_refs(t, &enc, 1);
        }
        Ok((o, inserted))
    }

    /// Removes a record and, with reference counting, every record of a type without a
    /// primary key that nothing refers to any more (recursively).
    pub fn remove_cascading(&mut self, type_name: &str, ordinal: u32) -> Result<bool> {
        let t = self.type_idx(type_name)?;
        Ok(self.remove_cascading_idx(t, ordinal))
    }

    #[doc(hidden)]
    pub fn remove_cascading_idx(&mut self, t: usize, ordinal: u32) -> bool {
        match self.remove_keeping_refs(t, ordinal) {
            None => false,
            Some(old) => {
                self.release_refs(t, old);
                true
            }
        }
    }

    /// Removes a record without touching what it refers to yet; returns `Some` (with its
    /// encoding when references are counted and it has any, to pass to
    /// [`WriteState::release_refs`]) when it was present. The freed ordinal is the next one
    /// an insertion takes, so a replacement added right after keeps the ordinal.
    #[doc(hidden)]
    pub fn remove_keeping_refs(&mut self, t: usize, ordinal: u32) -> Option<Option<Vec<u8>>> {
        let keep = self.types[t].refs.is_some() && self.has_refs[t];
        let enc = if keep {
            Some(self.types[t].record(ordinal)?.to_vec())
        } else {
            None
        };
        self.types[t].remove(ordinal).then_some(enc)
    }

    /// Drops the references of a removed record (from [`WriteState::remove_keeping_refs`]),
    /// removing records of types without a primary key that nothing refers to any more.
    #[doc(hidden)]
    pub fn release_refs(&mut self, t: usize, old: Option<Vec<u8>>) {
        let Some(enc) = old else { return };
        let mut stack = vec![(t, enc)];
        while let Some((ty, enc)) = stack.pop() {
            for (u, o) in self.refs_of(ty, &enc) {
                let Some(r) = self.types.get_mut(u).and_then(|x| x.refs.as_mut()) else {
                    continue;
                };
                let Some(c) = r.get_mut(o as usize) else {
                    continue;
                };
                *c = c.saturating_sub(1);
                if *c == 0 && !self.is_root(u) {
                    if let Some(e) = self.types[u].record(o).map(|e| e.to_vec()) {
                        self.types[u].remove(o);
                        stack.push((u, e));
                    }
                }
            }
        }
    }

    /// The encoded record at an ordinal (write-side encoding).
    #[doc(hidden)]
    pub fn encoded(&self, t: usize, ordinal: u32) -> Option<&[u8]> {
        self.types[t].record(ordinal)
    }

    /// Restores a record at a given ordinal (used when rebuilding a write state from a read
    /// state, where ordinals must be preserved).
    #[doc(hidden)]
    pub fn restore_at(&mut self, t: usize, enc: &[u8], ordinal: u32) -> Result<()> {
        let name = self.schema.types()[t].name().to_string();
        self.types[t].add(enc, Some(ordinal), &name).map(|_| ())
    }
}
