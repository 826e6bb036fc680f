//! Deltas: the records removed and added between two adjacent states of a timeline.
//!
//! The producer writes a delta (previous → next) and a reverse delta (next → previous) from
//! the journal of its write state; consumers apply either to a [`ReadState`], which copies
//! only the columns that change and patches them in place (a column is re-encoded only when
//! a new value does not fit its bit width). See `README.md` for the layout.

use std::collections::BTreeMap;
use std::sync::Arc;

use bitvec::vec::BitVec;

use crate::read::{ColumnView, ReadState};
use crate::write::{RemovedRecords, StateChanges, TypeChanges, WriteState};
use hollow_format::bits::{packed_len, width_for, Packed};
use hollow_format::blob::column::{build_collection, build_column, CollectionData, Shape};
use hollow_format::blob::parse::{
    parse_collection, parse_column, parse_meta, parse_schema, sub, CollectionState, ColumnState,
    ExtraPool, TypeBody, TypeState,
};
use hollow_format::blob::snapshot::{encode_columns, type_tag, write_meta};
use hollow_format::bytes::Bytes;
use hollow_format::codec::decode_ordinals;
use hollow_format::error::{BlobKind, Corruption, Error, Result, SchemaError};
use hollow_format::schema::{FieldKind, Primitive, SchemaSet, TypeSchema};
use hollow_format::wire::{Cursor, Sink};
use rustc_hash::FxHashMap;

/// Pools with at most this many values deduplicate values appended by deltas.
const DEDUP_POOL_LIMIT: u64 = 4096;

struct TypeDelta<'e> {
    target_count: u64,
    removed: &'e [u32],
    added: &'e [u32],
    encs: Vec<&'e [u8]>,
}

fn write_ordinals(s: &mut Sink, ords: &[u32]) {
    let width = width_for(ords.iter().copied().max().unwrap_or(0) as u64);
    s.align8();
    s.u64(ords.len() as u64);
    s.u8(width);
    s.bytes(&[0; 7]);
    s.section(&hollow_format::bits::pack(
        ords.iter().map(|o| *o as u64),
        ords.len() as u64,
        width,
    ));
}

fn read_ordinals(c: &mut Cursor<'_>, body: &Bytes) -> Result<Vec<u32>> {
    c.align8()?;
    let n = c.u64("ordinal count")?;
    let width = c.u8("ordinal width")?;
    c.take(7, "padding")?;
    if width > 32 {
        return Err(Corruption::OutOfRange {
            what: "ordinal width",
            value: width as u64,
            min: 0,
            max: 32,
        }
        .into());
    }
    let data = sub(body, c.section("ordinals")?)?;
    let p = Packed::new(&data, width, n)?;
    let mut out = Vec::with_capacity(n.min(1 << 24) as usize);
    let mut prev: Option<u32> = None;
    for v in p.iter() {
        let o = v as u32;
        if let Some(previous) = prev.filter(|p| *p >= o) {
            return Err(Corruption::OrdinalOrder { previous, next: o }.into());
        }
        prev = Some(o);
        out.push(o);
    }
    Ok(out)
}

fn write_body(
    schema: &SchemaSet,
    header: &BTreeMap<String, String>,
    from: u64,
    to: u64,
    types: &[TypeDelta<'_>],
) -> Vec<u8> {
    let mut s = Sink::default();
    write_meta(header, schema, &mut s);
    s.u64(from);
    s.u64(to);
    s.u32(types.len() as u32);
    for (ts, td) in schema.types().iter().zip(types) {
        s.align8();
        s.u8(type_tag(ts));
        s.bytes(&[0; 7]);
        s.u64(td.target_count);
        write_ordinals(&mut s, td.removed);
        write_ordinals(&mut s, td.added);
        let n = td.encs.len();
        match ts {
            TypeSchema::Object(o) => {
                let all = BitVec::repeat(true, n);
                for col in encode_columns(o, n, td.encs.iter().copied().enumerate(), &all, false) {
                    col.write(&mut s);
                }
            }
            _ => {
                let shape = shape_of(ts);
                let recs: Vec<Option<Vec<u32>>> = td
                    .encs
                    .iter()
                    .map(|e| Some(decode_ordinals(e).collect()))
                    .collect();
                build_collection(&recs, shape).write(&mut s);
            }
        }
    }
    s.buf
}

fn shape_of(ts: &TypeSchema) -> Shape {
    match ts {
        TypeSchema::List { .. } => Shape::List,
        TypeSchema::Set { .. } => Shape::Set,
        _ => Shape::Map,
    }
}

/// Writes the delta (previous → current) and reverse delta (current → previous) of a
/// journaled write state. `old_header` is the header of the previous state.
pub fn write_delta_pair(
    ws: &WriteState,
    changes: &StateChanges,
    removed: &RemovedRecords,
    old_header: &BTreeMap<String, String>,
    from: u64,
    to: u64,
    zstd_level: Option<i32>,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut fwd = Vec::new();
    let mut rev = Vec::new();
    for (t, tc) in changes.types.iter().enumerate() {
        let now = ws.types[t].len();
        let encs: Vec<&[u8]> = tc
            .added
            .iter()
            .map(|o| {
                ws.encoded(t, *o).ok_or_else(|| {
                    Corruption::NotPopulated {
                        what: "the journal's additions",
                        type_name: ws.schema.types()[t].name().into(),
                        ordinal: *o as u64,
                    }
                    .into()
                })
            })
            .collect::<Result<_>>()?;
        fwd.push(TypeDelta {
            target_count: now,
            removed: &tc.removed,
            added: &tc.added,
            encs,
        });
        let old_encs: Vec<&[u8]> = tc
            .removed
            .iter()
            .map(|o| {
                removed[t].get(o).map(|b| &**b).ok_or_else(|| {
                    Corruption::NotPopulated {
                        what: "the journal's removed records",
                        type_name: ws.schema.types()[t].name().into(),
                        ordinal: *o as u64,
                    }
                    .into()
                })
            })
            .collect::<Result<_>>()?;
        let prev_count = now + tc.removed.len() as u64 - tc.added.len() as u64;
        rev.push(TypeDelta {
            target_count: prev_count,
            removed: &tc.added,
            added: &tc.removed,
            encs: old_encs,
        });
    }
    let f = hollow_format::blob::envelope::seal(
        BlobKind::Delta,
        &write_body(&ws.schema, &ws.header, from, to, &fwd),
        zstd_level,
    );
    let r = hollow_format::blob::envelope::seal(
        BlobKind::ReverseDelta,
        &write_body(&ws.schema, old_header, to, from, &rev),
        zstd_level,
    );
    Ok((f, r))
}

/// What applying a delta produced.
pub struct Applied {
    /// The new state.
    pub state: ReadState,
    /// Ordinals removed and added, per type.
    pub changes: StateChanges,
    /// The version the delta starts from.
    pub from: u64,
    /// The version it leads to.
    pub to: u64,
}

/// Reads the (from, to) versions of a delta blob without applying it.
pub fn delta_versions(bytes: &Bytes) -> Result<(u64, u64)> {
    let pre = hollow_format::blob::read_preamble(bytes)?;
    let (_, body) = hollow_format::blob::envelope::open_body(bytes, pre.kind, true)?;
    let mut c = Cursor::new(&body, 0);
    parse_meta(&mut c, &body)?;
    parse_schema(&mut c, &body)?;
    Ok((c.u64("from version")?, c.u64("to version")?))
}

/// Applies a delta or reverse delta blob to a state. The state is not modified; the result
/// shares every column the delta does not touch.
pub fn apply_delta(state: &ReadState, bytes: &Bytes) -> Result<Applied> {
    let pre = hollow_format::blob::read_preamble(bytes)?;
    if pre.kind == BlobKind::Snapshot {
        return Err(Error::WrongBlobKind {
            expected: BlobKind::Delta,
            got: BlobKind::Snapshot,
        });
    }
    let (_, body) = hollow_format::blob::envelope::open_body(bytes, pre.kind, true)?;
    let mut c = Cursor::new(&body, 0);
    let header = parse_meta(&mut c, &body)?;
    let schema = parse_schema(&mut c, &body)?;
    if schema != **state.schema() {
        return Err(SchemaError::DeltaMismatch.into());
    }
    let from = c.u64("from version")?;
    let to = c.u64("to version")?;
    let n = c.u32("type count")? as usize;
    if n != schema.types().len() {
        return Err(Corruption::CountMismatch {
            what: "delta type count",
            expected: schema.types().len() as u64,
            got: n as u64,
        }
        .into());
    }
    let mut types = Vec::with_capacity(n);
    let mut changes = StateChanges::default();
    for (t, ts) in schema.types().iter().enumerate() {
        c.align8()?;
        let tag = c.u8("type kind")?;
        if tag != type_tag(ts) {
            return Err(Corruption::KindTag {
                type_name: ts.name().into(),
                expected: type_tag(ts),
                got: tag,
            }
            .into());
        }
        c.take(7, "padding")?;
        let target_count = c.u64("target count")?;
        let removed = read_ordinals(&mut c, &body)?;
        let added = read_ordinals(&mut c, &body)?;
        let n_added = added.len() as u64;
        let old = &state.types[t];
        let new_type = if removed.is_empty() && added.is_empty() {
            // still consume the (empty) data sections
            match ts {
                TypeSchema::Object(o) => {
                    for f in &o.fields {
                        parse_column(&mut c, &body, &f.kind, 0)?;
                    }
                }
                _ => {
                    parse_collection(&mut c, &body, 0, matches!(ts, TypeSchema::Map { .. }))?;
                }
            }
            if target_count != old.count {
                return Err(Corruption::DeltaCount {
                    type_name: ts.name().into(),
                    declared: target_count,
                    actual: old.count,
                }
                .into());
            }
            old.clone()
        } else {
            let (populated, bound, count) = patch_populated(old, &removed, &added, ts.name())?;
            if count != target_count {
                return Err(Corruption::DeltaCount {
                    type_name: ts.name().into(),
                    declared: target_count,
                    actual: count,
                }
                .into());
            }
            let body_state = match (ts, &old.body) {
                (TypeSchema::Object(o), TypeBody::Object(cols)) => {
                    let mut new_cols = Vec::with_capacity(cols.len());
                    for (f, col) in o.fields.iter().zip(cols) {
                        let dcol = parse_column(&mut c, &body, &f.kind, n_added)?;
                        new_cols.push(patch_column(
                            col, old, &dcol, &added, &removed, bound, &populated, &f.name,
                        )?);
                    }
                    TypeBody::Object(new_cols)
                }
                (_, TypeBody::Collection(cs)) => {
                    let is_map = matches!(ts, TypeSchema::Map { .. });
                    let dcoll = parse_collection(&mut c, &body, n_added, is_map)?;
                    TypeBody::Collection(patch_collection(
                        cs, old.bound, &dcoll, &added, bound, &populated, ts,
                    )?)
                }
                (ts, _) => {
                    return Err(Corruption::BodyMismatch {
                        type_name: ts.name().into(),
                        expected: if matches!(ts, TypeSchema::Object(_)) {
                            "object"
                        } else {
                            "collection"
                        },
                    }
                    .into())
                }
            };
            TypeState {
                bound,
                count,
                populated: Bytes::from_vec(populated),
                body: body_state,
            }
        };
        changes.types.push(TypeChanges { removed, added });
        types.push(new_type);
    }
    if c.pos() != body.len() {
        return Err(Corruption::TrailingBytes {
            what: "delta body",
            count: (body.len() - c.pos()) as u64,
        }
        .into());
    }
    let new_state = ReadState {
        schema: state.schema.clone(),
        header,
        types,
        blob: state.blob.clone(),
        source: None,
        mode: state.mode,
    };
    Ok(Applied {
        state: new_state,
        changes,
        from,
        to,
    })
}

/// The populated bitset after a delta, as bytes (length a multiple of 8), with the new
/// bound and count. Copies the old bitset once and patches the changed bits.
fn patch_populated(
    old: &TypeState,
    removed: &[u32],
    added: &[u32],
    name: &str,
) -> Result<(Vec<u8>, u64, u64)> {
    let max_added = added.last().map_or(0, |a| *a as u64 + 1);
    let bound = old.bound.max(max_added);
    let len = (bound.div_ceil(64) * 8) as usize;
    let have = (old.bound.div_ceil(8) as usize).min(old.populated.len());
    let mut bits = vec![0u8; len];
    bits[..have].copy_from_slice(&old.populated[..have]);
    // bits at or past the old bound are not populated
    if !old.bound.is_multiple_of(8) {
        if let Some(b) = bits.get_mut((old.bound / 8) as usize) {
            *b &= ((1u16 << (old.bound % 8)) - 1) as u8;
        }
    }
    let get = |bits: &[u8], o: u32| bits[o as usize / 8] & (1 << (o % 8)) != 0;
    let mut count = old.count;
    for r in removed {
        if (*r as u64) >= bound || !get(&bits, *r) {
            return Err(Corruption::NotPopulated {
                what: "a delta's removals",
                type_name: name.into(),
                ordinal: *r as u64,
            }
            .into());
        }
        bits[*r as usize / 8] &= !(1 << (r % 8));
        count -= 1;
    }
    for a in added {
        if get(&bits, *a) {
            return Err(Corruption::AlreadyPopulated {
                what: "a delta's additions",
                type_name: name.into(),
                ordinal: *a as u64,
            }
            .into());
        }
        bits[*a as usize / 8] |= 1 << (a % 8);
        count += 1;
    }
    Ok((bits, bound, count))
}

/// The image (`None` = null) of each added record, with string/bytes values appended to (a
/// copy of) the state's pool.
fn added_images(
    col: &ColumnState,
    dcol: &ColumnState,
    n_added: u64,
    name: &str,
) -> Result<(
    Vec<Option<u64>>,
    Option<hollow_format::blob::parse::PoolState>,
)> {
    let dview = ColumnView::new(dcol, n_added, name)?;
    let mut images: Vec<Option<u64>> = (0..n_added as u32).map(|i| dview.raw(i)).collect();
    let Some(pool) = &col.pool else {
        return Ok((images, None));
    };
    let dpool = dcol.pool.as_ref().ok_or_else(|| Corruption::PoolMismatch {
        kind: dcol.kind.name(),
        has_pool: false,
    })?;
    let doffsets = Packed::new(&dpool.offsets, dpool.off_width, dpool.count + 1)?;
    let mut extra: ExtraPool = pool.extra.as_deref().cloned().unwrap_or_default();
    let base = pool.count;
    let small = base + extra.ends.len() as u64 <= DEDUP_POOL_LIMIT;
    if small && extra.lookup.is_none() {
        let mut m = FxHashMap::default();
        let offs = Packed::new(&pool.offsets, pool.off_width, pool.count + 1)?;
        if pool.fsst.is_none() {
            for k in 0..base {
                if let (Some(s), Some(e)) = (offs.get(k), offs.get(k + 1)) {
                    if let Some(b) = pool.data.get(s as usize..e as usize) {
                        m.entry(b.into()).or_insert(k);
                    }
                }
            }
        }
        for k in 0..extra.ends.len() as u64 {
            if let Some(b) = extra.get(k) {
                m.entry(b.into()).or_insert(base + k);
            }
        }
        extra.lookup = Some(m);
    }
    if !small {
        extra.lookup = None;
    }
    let is_string = col.kind == FieldKind::Primitive(Primitive::String);
    let mut mapped: FxHashMap<u64, u64> = FxHashMap::default();
    for img in images.iter_mut().flatten() {
        let didx = *img;
        if let Some(m) = mapped.get(&didx) {
            *img = *m;
            continue;
        }
        let (s, e) = match (doffsets.get(didx), doffsets.get(didx + 1)) {
            (Some(s), Some(e)) => (s as usize, e as usize),
            _ => {
                return Err(Corruption::IndexOutOfRange {
                    what: "delta pool index",
                    index: didx,
                    len: dpool.count,
                }
                .into())
            }
        };
        let v = dpool.data.get(s..e).ok_or_else(|| Corruption::PoolSpan {
            index: didx,
            start: s as u64,
            end: e as u64,
            len: dpool.data.len() as u64,
        })?;
        if is_string && std::str::from_utf8(v).is_err() {
            return Err(Error::Utf8(name.to_string()));
        }
        let idx = match extra.lookup.as_ref().and_then(|m| m.get(v)) {
            Some(i) => *i,
            None => {
                extra.data.extend_from_slice(v);
                extra.ends.push(extra.data.len() as u64);
                let i = base + extra.ends.len() as u64 - 1;
                if let Some(m) = &mut extra.lookup {
                    m.insert(v.into(), i);
                }
                i
            }
        };
        mapped.insert(didx, idx);
        *img = idx;
    }
    let mut new_pool = pool.clone();
    new_pool.extra = Some(Arc::new(extra));
    Ok((images, Some(new_pool)))
}

#[allow(clippy::too_many_arguments)]
fn patch_column(
    col: &ColumnState,
    old: &TypeState,
    dcol: &ColumnState,
    added: &[u32],
    removed: &[u32],
    bound: u64,
    populated: &[u8],
    name: &str,
) -> Result<ColumnState> {
    let (images, pool) = added_images(col, dcol, added.len() as u64, name)?;
    let fits = |img: &Option<u64>| match img {
        None => col.null_zero || col.nulls.is_some(),
        Some(u) => {
            let Some(d) = u.checked_sub(col.base) else {
                return false;
            };
            let stored = if col.null_zero {
                d.checked_add(1)
            } else {
                Some(d)
            };
            stored.is_some_and(|s| col.width == 64 || s >> col.width == 0)
        }
    };
    let mut out = col.clone();
    if let Some(p) = pool {
        out.pool = Some(p);
    }
    if images.iter().all(fits) {
        let need = packed_len(bound, col.width).ok_or(Corruption::SizeOverflow {
            what: "column",
            count: bound,
        })?;
        let mut data = col.data.to_vec();
        if data.len() < need {
            data.resize(need, 0);
        }
        let mut nulls = col.nulls.as_ref().map(|n| {
            let mut v = n.to_vec();
            v.resize((bound.div_ceil(64) * 8) as usize, 0);
            v
        });
        for (o, img) in added.iter().zip(&images) {
            let stored = match img {
                None => 0,
                Some(u) => (u - col.base) + col.null_zero as u64,
            };
            if col.width > 0 {
                hollow_format::bits::write_bits(
                    &mut data,
                    *o as u64 * col.width as u64,
                    col.width,
                    stored,
                );
            }
            if let Some(n) = &mut nulls {
                let (byte, bit) = (*o as usize / 8, *o as usize % 8);
                if img.is_none() {
                    n[byte] |= 1 << bit;
                } else {
                    n[byte] &= !(1 << bit);
                }
            }
        }
        out.data = Bytes::from_vec(data);
        out.nulls = nulls.map(Bytes::from_vec);
        return Ok(out);
    }
    // Re-encode the whole column at a new width.
    let old_view = ColumnView::new(col, old.bound, name)?;
    let mut vals = vec![0u64; bound as usize];
    let mut nulls: BitVec<u64> = BitVec::repeat(true, bound as usize);
    let mut is_removed: BitVec<u64> = BitVec::repeat(false, bound as usize);
    for r in removed {
        is_removed.set(*r as usize, true);
    }
    for o in crate::read::Ordinals::new(&old.populated, old.bound) {
        if is_removed[o as usize] {
            continue;
        }
        if let Some(u) = old_view.raw(o) {
            vals[o as usize] = u;
            nulls.set(o as usize, false);
        }
    }
    for (o, img) in added.iter().zip(&images) {
        match img {
            Some(u) => {
                vals[*o as usize] = *u;
                nulls.set(*o as usize, false);
            }
            None => nulls.set(*o as usize, true),
        }
    }
    let mut pop: BitVec<u64> = BitVec::repeat(false, bound as usize);
    for o in crate::read::Ordinals::new(populated, bound) {
        pop.set(o as usize, true);
    }
    let built = build_column(&vals, &nulls, &pop, None);
    out.width = built.width;
    out.null_zero = built.null_zero;
    out.base = built.base;
    out.data = Bytes::from_vec(built.packed);
    out.nulls = built.nulls.map(Bytes::from_vec);
    Ok(out)
}

/// The entries of each populated record of a collection (flattened pairs for maps).
fn collection_records(
    cs: &CollectionState,
    bound: u64,
    ts: &TypeSchema,
    only: impl Iterator<Item = u32>,
) -> Result<Vec<(u32, Vec<u32>)>> {
    let shape = shape_of(ts);
    let ends = Packed::new(&cs.ends, cs.ends_width, bound)?;
    let elems = Packed::new(&cs.elems, cs.elem_width, cs.total)?;
    let values = Packed::new(
        &cs.values,
        cs.value_width,
        if shape == Shape::Map { cs.total } else { 0 },
    )?;
    let mut out = Vec::new();
    for o in only {
        let end = ends
            .get(o as u64)
            .ok_or_else(|| Corruption::IndexOutOfRange {
                what: "collection record",
                index: o as u64,
                len: ends.len(),
            })?;
        let start = if o == 0 {
            0
        } else {
            ends.get(o as u64 - 1).unwrap_or(0)
        };
        if start > end || end > cs.total {
            return Err(Corruption::RecordSpan {
                type_name: ts.name().into(),
                ordinal: o as u64,
                start,
                end,
                len: cs.total,
            }
            .into());
        }
        let mut items = Vec::new();
        for i in start..end {
            let e = elems.get_in_bounds(i);
            match shape {
                Shape::List => items.push(e as u32),
                Shape::Set => {
                    if e > 0 {
                        items.push((e - 1) as u32)
                    }
                }
                Shape::Map => {
                    if e > 0 {
                        items.push((e - 1) as u32);
                        items.push(values.get(i).unwrap_or(0) as u32);
                    }
                }
            }
        }
        out.push((o, items));
    }
    Ok(out)
}

fn patch_collection(
    cs: &CollectionState,
    old_bound: u64,
    dcoll: &CollectionState,
    added: &[u32],
    bound: u64,
    populated: &[u8],
    ts: &TypeSchema,
) -> Result<CollectionState> {
    let shape = shape_of(ts);
    let new_recs = collection_records(dcoll, added.len() as u64, ts, 0..added.len() as u32)?;
    let mut records: Vec<Option<Vec<u32>>> = vec![None; bound as usize];
    let mut is_added: BitVec<u64> = BitVec::repeat(false, bound as usize);
    for (a, (_, items)) in added.iter().zip(new_recs) {
        records[*a as usize] = Some(items);
        is_added.set(*a as usize, true);
    }
    let keep = crate::read::Ordinals::new(populated, bound)
        .filter(|o| !is_added[*o as usize] && (*o as u64) < old_bound);
    for (o, items) in collection_records(cs, old_bound, ts, keep)? {
        records[o as usize] = Some(items);
    }
    let CollectionData {
        ends_width,
        ends,
        total,
        elem_width,
        elems,
        value_width,
        values,
    } = build_collection(&records, shape);
    Ok(CollectionState {
        ends_width,
        ends: Bytes::from_vec(ends),
        total,
        elem_width,
        elems: Bytes::from_vec(elems),
        value_width,
        values: Bytes::from_vec(values),
    })
}
