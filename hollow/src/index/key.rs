//! Key definitions: the field paths of an object type that make up a key, read from a state
//! as comparable, hashable images without copying them.
//!
//! A key image of a field is a 64-bit word (integers, bools, float bit patterns, references)
//! or borrowed bytes (strings and bytes); integers are widened to `i64` and `f32` values
//! given for `f64` fields widened the way the write state widens them, so a query written
//! with `Value::I32(5)` finds an `i64` field holding 5.

use std::mem::discriminant;
use std::sync::Arc;

use crate::error::{Corruption, DataError, Error, Result, SchemaError};
use hollow_format::blob::parse::TypeBody;
use hollow_format::schema::{FieldKind, Primitive, SchemaSet, TypeSchema};
use hollow_format::value::Value;
use hollow_state::read::{ColumnView, ReadState};

/// One step of a field path: field `f` of object type `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hop {
    pub(crate) t: usize,
    pub(crate) f: usize,
}

/// The resolved field paths of a key over an object type.
#[derive(Debug, Clone)]
pub(crate) struct KeyDef {
    /// The schema the key was resolved against (states sharing it skip the schema check).
    schema: Arc<SchemaSet>,
    pub(crate) type_name: String,
    pub(crate) type_idx: usize,
    pub(crate) fields: Vec<String>,
    /// The hops of every path, concatenated.
    hops: Vec<Hop>,
    /// Where each path ends in `hops`.
    ends: Vec<usize>,
    /// The kind of the last field of each path.
    kinds: Vec<FieldKind>,
    /// Per hop: the name of its type and the kind of its field (checked against states).
    expected: Vec<(String, FieldKind)>,
    /// One field whose image is a word: equal hashes mean equal keys (but for null's).
    exact: bool,
    /// The hash of a key of nulls.
    null: u64,
}

/// The comparable image of one key field value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Img<'a> {
    Null,
    Word(u64),
    Bytes(&'a [u8]),
}

const NULL_WORD: u64 = 0x6e75_6c6c_2d6b_6579;
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// The murmur3 64-bit finalizer: a bijection that spreads every input bit over the output.
#[inline(always)]
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Folds one field image into a key hash.
#[inline(always)]
pub(crate) fn hash_add(h: u64, img: Img<'_>) -> u64 {
    let v = match img {
        Img::Null => NULL_WORD,
        Img::Word(w) => w,
        Img::Bytes(b) => hollow_state::records::hash_bytes(b),
    };
    fmix(h.wrapping_mul(SEED) ^ v)
}

/// The starting value of a key hash.
pub(crate) const HASH_START: u64 = SEED;

/// The image of `v` as a value of a field of `kind`; `None` when no value of the field can
/// equal it (a string given for an integer field, an `i64` out of an `i32` field's range).
#[inline]
pub(crate) fn normalize<'v>(kind: &FieldKind, v: &'v Value<'_>) -> Option<Img<'v>> {
    Some(match (kind, v) {
        (_, Value::Null) => Img::Null,
        (FieldKind::Primitive(Primitive::I64), Value::I64(x)) => Img::Word(*x as u64),
        (FieldKind::Primitive(Primitive::I64 | Primitive::I32), Value::I32(x)) => {
            Img::Word(*x as i64 as u64)
        }
        (FieldKind::Primitive(Primitive::I32), Value::I64(x)) => {
            Img::Word(i32::try_from(*x).ok()? as i64 as u64)
        }
        (FieldKind::Primitive(Primitive::Bool), Value::Bool(b)) => Img::Word(*b as u64),
        (FieldKind::Primitive(Primitive::F32), Value::F32(x)) => Img::Word(x.to_bits() as u64),
        (FieldKind::Primitive(Primitive::F32), Value::F64(x)) => {
            let narrow = *x as f32;
            if (narrow as f64).to_bits() != x.to_bits() {
                return None;
            }
            Img::Word(narrow.to_bits() as u64)
        }
        (FieldKind::Primitive(Primitive::F64), Value::F64(x)) => Img::Word(x.to_bits()),
        (FieldKind::Primitive(Primitive::F64), Value::F32(x)) => Img::Word((*x as f64).to_bits()),
        (FieldKind::Primitive(Primitive::String | Primitive::Bytes), Value::Str(s)) => {
            Img::Bytes(s.as_bytes())
        }
        (FieldKind::Primitive(Primitive::String | Primitive::Bytes), Value::Bytes(b)) => {
            Img::Bytes(b)
        }
        (FieldKind::Reference(_), Value::Ref(r)) => Img::Word(*r as u64),
        _ => return None,
    })
}

impl KeyDef {
    /// Resolves `fields` (direct field names or dotted paths through references) of the
    /// object type `type_name`.
    pub(crate) fn new(schema: &Arc<SchemaSet>, type_name: &str, fields: &[&str]) -> Result<Self> {
        let type_idx = schema
            .type_index(type_name)
            .ok_or_else(|| DataError::NoSuchType(type_name.into()))?;
        schema.object(type_name)?;
        if fields.is_empty() {
            return Err(SchemaError::EmptyKey {
                type_name: type_name.into(),
            }
            .into());
        }
        let mut def = KeyDef {
            schema: schema.clone(),
            type_name: type_name.into(),
            type_idx,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            hops: Vec::new(),
            ends: Vec::new(),
            kinds: Vec::new(),
            expected: Vec::new(),
            exact: false,
            null: 0,
        };
        for path in fields {
            let (idxs, kind) = schema.resolve_path(type_name, path)?;
            let mut t = type_idx;
            for f in idxs {
                let o = match &schema.types()[t] {
                    TypeSchema::Object(o) => o,
                    other => {
                        return Err(DataError::WrongTypeKind {
                            type_name: other.name().into(),
                            expected: "object",
                            actual: other.kind_name(),
                        }
                        .into())
                    }
                };
                let fkind = o.fields[f].kind.clone();
                def.hops.push(Hop { t, f });
                def.expected.push((o.name.clone(), fkind.clone()));
                if let FieldKind::Reference(target) = &fkind {
                    t = schema
                        .type_index(target)
                        .ok_or_else(|| DataError::NoSuchType(target.clone()))?;
                }
            }
            def.ends.push(def.hops.len());
            def.kinds.push(kind);
        }
        def.exact = def.arity() == 1
            && !matches!(
                def.kinds[0],
                FieldKind::Primitive(Primitive::String | Primitive::Bytes)
            );
        def.null = (0..def.arity()).fold(HASH_START, |h, _| hash_add(h, Img::Null));
        Ok(def)
    }

    /// The key declared as the primary key of `type_name`.
    pub(crate) fn primary(schema: &Arc<SchemaSet>, type_name: &str) -> Result<Self> {
        let o = schema.object(type_name)?;
        let pk = o
            .primary_key
            .as_ref()
            .ok_or_else(|| SchemaError::NoPrimaryKey {
                type_name: type_name.into(),
            })?;
        let fields: Vec<&str> = pk.iter().map(String::as_str).collect();
        Self::new(schema, type_name, &fields)
    }

    /// The error of a reader without the column of hop `i` (readers hold one per hop).
    #[cold]
    fn column_missing(&self, i: usize) -> Error {
        let (type_name, field) = match (self.hops.get(i), self.expected.get(i)) {
            (Some(h), Some((name, _))) => match &self.schema.types()[h.t] {
                TypeSchema::Object(o) => (name.clone(), o.fields[h.f].name.clone()),
                _ => (name.clone(), String::new()),
            },
            _ => (self.type_name.clone(), String::new()),
        };
        Corruption::ColumnMismatch { type_name, field }.into()
    }

    /// The number of fields.
    pub(crate) fn arity(&self) -> usize {
        self.ends.len()
    }

    fn path(&self, p: usize) -> std::ops::Range<usize> {
        let start = if p == 0 { 0 } else { self.ends[p - 1] };
        start..self.ends[p]
    }

    /// The types other than the root that a path crosses into (through references).
    pub(crate) fn hop_types(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.arity()).flat_map(move |p| self.hops[self.path(p)].iter().skip(1).map(|h| h.t))
    }

    /// Whether some path goes through a reference.
    pub(crate) fn has_hops(&self) -> bool {
        self.hop_types().next().is_some()
    }

    /// Whether two keys with hash `h` are equal without comparing them: true for keys of
    /// one field whose image is a word (the hash is a bijection of it), but for the hash of
    /// null (which a word can share).
    #[inline(always)]
    pub(crate) fn trusts(&self, h: u64) -> bool {
        self.exact && h != self.null
    }

    /// The populated ordinals of the root type of `state` (after checking its schema).
    pub(crate) fn root_pop<'a>(&self, state: &'a ReadState) -> Result<Pop<'a>> {
        self.check(state)?;
        let ts = state
            .types
            .get(self.type_idx)
            .ok_or_else(|| DataError::NoSuchType(self.type_name.clone()))?;
        Ok(Pop {
            bits: &ts.populated,
            bound: ts.bound,
        })
    }

    /// This key, remembering `state`'s schema (after checking it) so that later states
    /// sharing it skip the check.
    pub(crate) fn for_state(&self, state: &ReadState) -> Result<KeyDef> {
        self.check(state)?;
        Ok(KeyDef {
            schema: state.schema.clone(),
            ..self.clone()
        })
    }

    /// Whether `state` shares the schema this key remembers.
    pub(crate) fn same_schema(&self, state: &ReadState) -> bool {
        Arc::ptr_eq(&self.schema, &state.schema)
    }

    /// Checks that a state holds the type and fields this key was resolved against.
    fn check(&self, state: &ReadState) -> Result<()> {
        if Arc::ptr_eq(&self.schema, &state.schema) {
            return Ok(());
        }
        let types = state.schema.types();
        for (h, (name, kind)) in self.hops.iter().zip(&self.expected) {
            let ok = matches!(types.get(h.t), Some(TypeSchema::Object(o)) if o.name == *name && o.fields.get(h.f).is_some_and(|fd| fd.kind == *kind));
            if !ok {
                return Err(SchemaError::KeyMismatch {
                    type_name: self.type_name.clone(),
                    fields: self.fields.clone(),
                }
                .into());
            }
        }
        if !matches!(types.get(self.type_idx), Some(ts) if ts.name() == self.type_name) {
            return Err(DataError::NoSuchType(self.type_name.clone()).into());
        }
        Ok(())
    }

    /// Binds the key to a state for reading.
    pub(crate) fn reader<'a>(&'a self, state: &'a ReadState) -> Result<KeyReader<'a>> {
        self.check(state)?;
        let ts = state
            .types
            .get(self.type_idx)
            .ok_or_else(|| DataError::NoSuchType(self.type_name.clone()))?;
        let root = Pop {
            bits: &ts.populated,
            bound: ts.bound,
        };
        let mut cols = Cols {
            head: [None; HEAD],
            tail: Vec::new(),
        };
        for (h, (type_name, kind)) in self.hops.iter().zip(&self.expected) {
            let name = match &state.schema.types()[h.t] {
                TypeSchema::Object(o) => o.fields[h.f].name.as_str(),
                _ => "",
            };
            let Some((ts, TypeBody::Object(cs))) = state.types.get(h.t).map(|ts| (ts, &ts.body))
            else {
                return Err(Corruption::BodyMismatch {
                    type_name: type_name.clone(),
                    expected: "object",
                }
                .into());
            };
            let c = cs
                .get(h.f)
                .filter(|c| discriminant(&c.kind) == discriminant(kind))
                .ok_or_else(|| Corruption::ColumnMismatch {
                    type_name: type_name.clone(),
                    field: name.into(),
                })?;
            let hc = HopCol {
                col: ColumnView::new(c, ts.bound, name)?,
                pop: Pop {
                    bits: &ts.populated,
                    bound: ts.bound,
                },
            };
            match cols.head.iter_mut().find(|x| x.is_none()) {
                Some(free) if cols.tail.is_empty() => *free = Some(hc),
                _ => cols.tail.push(hc),
            }
        }
        Ok(KeyReader {
            def: self,
            root,
            cols,
        })
    }

    /// Checks a query's arity and kinds (for the error-reporting lookups).
    pub(crate) fn check_query(&self, key: &[Value<'_>]) -> Result<()> {
        if key.len() != self.arity() {
            return Err(SchemaError::KeyArity {
                type_name: self.type_name.clone(),
                fields: self.fields.clone(),
                got: key.len(),
            }
            .into());
        }
        for (p, v) in key.iter().enumerate() {
            if normalize(&self.kinds[p], v).is_none() {
                return Err(DataError::WrongFieldKind {
                    type_name: self.type_name.clone(),
                    field: self.fields[p].clone(),
                    expected: self.kinds[p].name(),
                    actual: v.kind_name(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// The hash of a query, `None` when it cannot match any record (wrong arity or kinds).
    #[inline]
    pub(crate) fn query_hash(&self, key: &[Value<'_>]) -> Option<u64> {
        if key.len() != self.arity() {
            return None;
        }
        let mut h = HASH_START;
        for (p, v) in key.iter().enumerate() {
            h = hash_add(h, normalize(&self.kinds[p], v)?);
        }
        Some(h)
    }
}

/// A populated-ordinals bitset.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pop<'a> {
    bits: &'a [u8],
    bound: u64,
}

impl<'a> Pop<'a> {
    pub(crate) fn new(bits: &'a [u8], bound: u64) -> Self {
        Pop { bits, bound }
    }

    #[inline(always)]
    pub(crate) fn has(&self, o: u32) -> bool {
        (o as u64) < self.bound
            && self
                .bits
                .get(o as usize / 8)
                .is_some_and(|b| b >> (o % 8) & 1 == 1)
    }
}

#[derive(Clone, Copy, Debug)]
struct HopCol<'a> {
    col: ColumnView<'a>,
    /// Populated ordinals of the hop's type.
    pop: Pop<'a>,
}

const HEAD: usize = 3;

/// The column of every hop, the first few inline (binding a key allocates nothing).
#[derive(Clone, Debug)]
struct Cols<'a> {
    head: [Option<HopCol<'a>>; HEAD],
    tail: Vec<HopCol<'a>>,
}

impl<'a> Cols<'a> {
    #[inline(always)]
    fn get(&self, i: usize) -> Option<&HopCol<'a>> {
        if i < HEAD {
            self.head[i].as_ref()
        } else {
            self.tail.get(i - HEAD)
        }
    }
}

/// A key bound to a state: reads the key of any record.
#[derive(Clone, Debug)]
pub(crate) struct KeyReader<'a> {
    def: &'a KeyDef,
    root: Pop<'a>,
    cols: Cols<'a>,
}

impl<'a> KeyReader<'a> {
    /// Whether `o` holds a record of the root type.
    #[inline(always)]
    pub(crate) fn populated(&self, o: u32) -> bool {
        self.root.has(o)
    }

    /// The value of path `p` of record `o` (which the caller knows is populated). A null
    /// reference along the path gives null.
    #[inline]
    pub(crate) fn value(&self, p: usize, o: u32) -> Result<Value<'a>> {
        let range = self.def.path(p);
        let last = range.end - 1;
        let mut o = o;
        for i in range.clone() {
            let Some(hc) = self.cols.get(i) else {
                return Err(self.def.column_missing(i));
            };
            if i > range.start && !hc.pop.has(o) {
                return Err(Corruption::NotPopulated {
                    what: "a key path",
                    type_name: self.def.expected[i].0.clone(),
                    ordinal: o as u64,
                }
                .into());
            }
            if i == last {
                return Ok(hc.col.get(o)?);
            }
            match hc.col.raw(o) {
                None => return Ok(Value::Null),
                Some(r) => o = r as u32,
            }
        }
        Ok(Value::Null)
    }

    /// The key hash of record `o`.
    #[inline]
    pub(crate) fn hash(&self, o: u32) -> Result<u64> {
        let mut h = HASH_START;
        for p in 0..self.def.arity() {
            let v = self.value(p, o)?;
            h = hash_add(h, normalize(&self.def.kinds[p], &v).unwrap_or(Img::Null));
        }
        Ok(h)
    }

    /// Whether record `o` is populated and has the key `key` (already checked to have the
    /// right arity).
    #[inline]
    pub(crate) fn matches(&self, o: u32, key: &[Value<'_>]) -> Result<bool> {
        if !self.root.has(o) {
            return Ok(false);
        }
        for (p, q) in key.iter().enumerate() {
            let v = self.value(p, o)?;
            let kind = &self.def.kinds[p];
            if normalize(kind, &v) != normalize(kind, q) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether records `a` and `b` have equal keys.
    pub(crate) fn same_key(&self, a: u32, b: u32) -> Result<bool> {
        for p in 0..self.def.arity() {
            let (va, vb) = (self.value(p, a)?, self.value(p, b)?);
            let kind = &self.def.kinds[p];
            if normalize(kind, &va) != normalize(kind, &vb) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether record `o` of this reader's state and record `other_o` of `other`'s (a key
    /// of the same fields) have equal keys.
    pub(crate) fn same_key_as(&self, o: u32, other: &KeyReader<'_>, other_o: u32) -> Result<bool> {
        for p in 0..self.def.arity() {
            let (va, vb) = (self.value(p, o)?, other.value(p, other_o)?);
            let kind = &self.def.kinds[p];
            if normalize(kind, &va) != normalize(kind, &vb) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The key values of record `o`.
    pub(crate) fn key_values(&self, o: u32) -> Result<Vec<Value<'a>>> {
        if !self.root.has(o) {
            return Err(DataError::NoSuchOrdinal {
                type_name: self.def.type_name.clone(),
                ordinal: o as u64,
            }
            .into());
        }
        (0..self.def.arity()).map(|p| self.value(p, o)).collect()
    }

    /// The key values of record `o` into `out` (cleared first).
    pub(crate) fn key_values_into(&self, o: u32, out: &mut Vec<Value<'a>>) -> Result<()> {
        out.clear();
        for p in 0..self.def.arity() {
            out.push(self.value(p, o)?);
        }
        Ok(())
    }

    /// The ordinal along path `p`'s hop `k` (k ≥ 1) starting from root record `o`: `None`
    /// when a reference before it is null.
    fn hop_ordinal(&self, p: usize, k: usize, o: u32) -> Option<u32> {
        let range = self.def.path(p);
        let mut o = o;
        for i in range.start..range.start + k {
            o = self.cols.get(i)?.col.raw(o)? as u32;
        }
        Some(o)
    }

    /// Root records outside `root_changed` whose key may differ between this (old) state
    /// and the next because a record a path crosses changed (`changed[t]`: sorted changed
    /// ordinals of type `t`). Increasing.
    pub(crate) fn affected_roots(&self, changed: &[Vec<u32>], root_removed: &[u32]) -> Vec<u32> {
        let mut hits = Vec::new();
        let ords = hollow_state::read::Ordinals::new(self.root.bits, self.root.bound);
        'rec: for o in ords {
            if root_removed.binary_search(&o).is_ok() {
                continue;
            }
            for p in 0..self.def.arity() {
                let range = self.def.path(p);
                for k in 1..range.len() {
                    let t = self.def.hops[range.start + k].t;
                    let Some(c) = changed.get(t).filter(|c| !c.is_empty()) else {
                        continue;
                    };
                    match self.hop_ordinal(p, k, o) {
                        None => break,
                        Some(x) if c.binary_search(&x).is_ok() => {
                            hits.push(o);
                            continue 'rec;
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        hits
    }
}
