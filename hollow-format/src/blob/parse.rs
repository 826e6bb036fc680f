//! Parsing a blob body into the descriptors of a read state. Parsing reads only the small
//! descriptors (O(types + fields)); data sections stay where they are, as [`Bytes`] slices.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::fsst::FsstTable;
use crate::bits::Packed;
use crate::bytes::Bytes;
use crate::error::{Corruption, Error, Result};
use crate::schema::{FieldKind, Primitive, SchemaSet, TypeSchema};
use crate::wire::Cursor;

/// A string or bytes pool of a column.
#[derive(Clone, Debug)]
pub struct PoolState {
    pub count: u64,
    pub off_width: u8,
    pub offsets: Bytes,
    pub data: Bytes,
    pub fsst: Option<Arc<FsstTable>>,
    /// Whether the whole pool was found to be UTF-8 on character boundaries (computed on
    /// first use, once per loaded state).
    pub utf8: Arc<std::sync::OnceLock<bool>>,
    /// Values appended by deltas since the snapshot (indexes `count..`).
    pub extra: Option<Arc<ExtraPool>>,
    /// Decoded (start, end) of each value, for small pools (built on first use).
    pub spans: Arc<std::sync::OnceLock<Vec<(u32, u32)>>>,
}

/// Pool values appended by deltas: value `k` (pool index `base + k`) is
/// `data[ends[k-1]..ends[k]]`. String values are validated UTF-8 when appended.
#[derive(Clone, Debug, Default)]
pub struct ExtraPool {
    pub data: Vec<u8>,
    pub ends: Vec<u64>,
    /// Lookup of small pools' values (base and extra) → index, to deduplicate appends.
    pub lookup: Option<rustc_hash::FxHashMap<Box<[u8]>, u64>>,
}

impl ExtraPool {
    pub fn get(&self, k: u64) -> Option<&[u8]> {
        let k = usize::try_from(k).ok()?;
        let end = *self.ends.get(k)? as usize;
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        self.data.get(start..end)
    }
}

/// A column of an object type.
#[derive(Clone, Debug)]
pub struct ColumnState {
    pub kind: FieldKind,
    pub width: u8,
    pub null_zero: bool,
    pub base: u64,
    pub data: Bytes,
    pub nulls: Option<Bytes>,
    pub pool: Option<PoolState>,
}

/// A list, set or map type's data.
#[derive(Clone, Debug)]
pub struct CollectionState {
    pub ends_width: u8,
    pub ends: Bytes,
    pub total: u64,
    pub elem_width: u8,
    pub elems: Bytes,
    pub value_width: u8,
    pub values: Bytes,
}

/// Per-type state.
#[derive(Clone, Debug)]
pub enum TypeBody {
    Object(Vec<ColumnState>),
    Collection(CollectionState),
}

/// One type of a read state.
#[derive(Clone, Debug)]
pub struct TypeState {
    pub bound: u64,
    pub count: u64,
    pub populated: Bytes,
    pub body: TypeBody,
}

/// Everything a snapshot body holds.
pub struct Parsed {
    pub header: BTreeMap<String, String>,
    pub schema: SchemaSet,
    pub types: Vec<TypeState>,
}

pub fn sub(body: &Bytes, r: std::ops::Range<usize>) -> Result<Bytes> {
    body.slice(r.clone()).ok_or_else(|| Error::Truncated {
        what: "section",
        offset: r.start as u64,
        needed: r.len() as u64,
        available: body.len().saturating_sub(r.start) as u64,
    })
}

pub fn parse_meta(c: &mut Cursor<'_>, body: &Bytes) -> Result<BTreeMap<String, String>> {
    let r = c.section("header metadata")?;
    let start = r.start as u64;
    let bytes = sub(body, r)?;
    let mut mc = Cursor::new(&bytes, start);
    let n = mc.u32("header entry count")?;
    let mut header = BTreeMap::new();
    for _ in 0..n {
        let k = mc.string("header key")?;
        let v = mc.string("header value")?;
        header.insert(k, v);
    }
    Ok(header)
}

pub fn parse_schema(c: &mut Cursor<'_>, body: &Bytes) -> Result<SchemaSet> {
    let r = c.section("schema")?;
    let start = r.start as u64;
    let bytes = sub(body, r)?;
    SchemaSet::read(&mut Cursor::new(&bytes, start))
}

pub fn parse_snapshot(body: &Bytes) -> Result<Parsed> {
    let mut c = Cursor::new(body, 0);
    let header = parse_meta(&mut c, body)?;
    let schema = parse_schema(&mut c, body)?;
    let n = c.u32("type count")? as usize;
    if n != schema.types().len() {
        return Err(Corruption::CountMismatch {
            what: "snapshot type count",
            expected: schema.types().len() as u64,
            got: n as u64,
        }
        .into());
    }
    let mut types = Vec::with_capacity(n);
    for ts in schema.types() {
        types.push(parse_type(&mut c, body, ts)?);
    }
    if c.pos() != body.len() {
        return Err(Corruption::TrailingBytes {
            what: "snapshot body",
            count: (body.len() - c.pos()) as u64,
        }
        .into());
    }
    Ok(Parsed {
        header,
        schema,
        types,
    })
}

pub fn parse_type_head(
    c: &mut Cursor<'_>,
    body: &Bytes,
    ts: &TypeSchema,
) -> Result<(u64, u64, Bytes)> {
    c.align8()?;
    let tag = c.u8("type kind")?;
    c.take(7, "padding")?;
    let expected = match ts {
        TypeSchema::Object(_) => 1,
        TypeSchema::List { .. } => 2,
        TypeSchema::Set { .. } => 3,
        TypeSchema::Map { .. } => 4,
    };
    if tag != expected {
        return Err(Corruption::KindTag {
            type_name: ts.name().into(),
            expected,
            got: tag,
        }
        .into());
    }
    let bound = c.u64("ordinal bound")?;
    let count = c.u64("record count")?;
    if bound > u32::MAX as u64 + 1 || count > bound {
        return Err(Corruption::CountOverBound {
            type_name: ts.name().into(),
            count,
            bound,
        }
        .into());
    }
    let populated = sub(body, c.section("populated bitset")?)?;
    if (populated.len() as u64) < bound.div_ceil(8) {
        return Err(Error::Truncated {
            what: "populated bitset",
            offset: 0,
            needed: bound.div_ceil(8),
            available: populated.len() as u64,
        });
    }
    Ok((bound, count, populated))
}

fn parse_type(c: &mut Cursor<'_>, body: &Bytes, ts: &TypeSchema) -> Result<TypeState> {
    let (bound, count, populated) = parse_type_head(c, body, ts)?;
    let body_state = match ts {
        TypeSchema::Object(o) => {
            let mut cols = Vec::with_capacity(o.fields.len());
            for f in &o.fields {
                cols.push(parse_column(c, body, &f.kind, bound)?);
            }
            TypeBody::Object(cols)
        }
        _ => TypeBody::Collection(parse_collection(
            c,
            body,
            bound,
            matches!(ts, TypeSchema::Map { .. }),
        )?),
    };
    Ok(TypeState {
        bound,
        count,
        populated,
        body: body_state,
    })
}

pub fn parse_column(
    c: &mut Cursor<'_>,
    body: &Bytes,
    kind: &FieldKind,
    bound: u64,
) -> Result<ColumnState> {
    c.align8()?;
    let encoding = c.u8("column encoding")?;
    let width = c.u8("column width")?;
    let null_zero = c.u8("column null mode")? != 0;
    let has_pool = c.u8("column pool flag")? != 0;
    c.take(4, "padding")?;
    let base = c.u64("column base")?;
    let data = sub(body, c.section("column data")?)?;
    Packed::new(&data, width, bound)?;
    let nulls = match encoding {
        0 => None,
        1 => {
            let n = sub(body, c.section("null bitset")?)?;
            if (n.len() as u64) < bound.div_ceil(8) {
                return Err(Error::Truncated {
                    what: "null bitset",
                    offset: 0,
                    needed: bound.div_ceil(8),
                    available: n.len() as u64,
                });
            }
            Some(n)
        }
        x => {
            return Err(Corruption::UnknownCode {
                what: "column encoding",
                code: x as u64,
            }
            .into())
        }
    };
    let wants_pool = matches!(
        kind,
        FieldKind::Primitive(Primitive::String | Primitive::Bytes)
    );
    if has_pool != wants_pool {
        return Err(Corruption::PoolMismatch {
            kind: kind.name(),
            has_pool,
        }
        .into());
    }
    let pool = if has_pool {
        let count = c.u64("pool count")?;
        let off_width = c.u8("pool offset width")?;
        let has_fsst = c.u8("pool compression")? != 0;
        c.take(6, "padding")?;
        // zero-width offsets are all 0, so every value is empty; pools hold distinct values,
        // so there is at most one. Without this check a few bytes could claim 2^64 values
        // and every pass over the pool (UTF-8 validation, delta dedup) would never end.
        if off_width == 0 && count > 1 {
            return Err(Corruption::ZeroWidthPool { count }.into());
        }
        let offsets = sub(body, c.section("pool offsets")?)?;
        Packed::new(
            &offsets,
            off_width,
            count.checked_add(1).ok_or(Corruption::SizeOverflow {
                what: "pool offsets",
                count,
            })?,
        )?;
        let data = sub(body, c.section("pool data")?)?;
        let fsst = if has_fsst {
            let syms = sub(body, c.section("FSST symbols")?)?;
            let lens = sub(body, c.section("FSST lengths")?)?;
            if syms.len() % 8 != 0 {
                return Err(Corruption::Misaligned {
                    what: "FSST symbols",
                    len: syms.len() as u64,
                    multiple: 8,
                }
                .into());
            }
            let symbols = syms
                .chunks_exact(8)
                .map(|ch| u64::from_le_bytes(ch.try_into().expect("8")))
                .collect();
            Some(Arc::new(FsstTable::validate(symbols, lens.to_vec())?))
        } else {
            None
        };
        Some(PoolState {
            count,
            off_width,
            offsets,
            data,
            fsst,
            utf8: Default::default(),
            extra: None,
            spans: Default::default(),
        })
    } else {
        None
    };
    Ok(ColumnState {
        kind: kind.clone(),
        width,
        null_zero,
        base,
        data,
        nulls,
        pool,
    })
}

pub fn parse_collection(
    c: &mut Cursor<'_>,
    body: &Bytes,
    bound: u64,
    is_map: bool,
) -> Result<CollectionState> {
    c.align8()?;
    let ends_width = c.u8("ends width")?;
    let elem_width = c.u8("element width")?;
    let value_width = c.u8("value width")?;
    c.take(5, "padding")?;
    let total = c.u64("element total")?;
    let ends = sub(body, c.section("collection ends")?)?;
    Packed::new(&ends, ends_width, bound)?;
    let elems = sub(body, c.section("collection elements")?)?;
    Packed::new(&elems, elem_width, total)?;
    let values = sub(body, c.section("map values")?)?;
    // maps carry one value per bucket; lists and sets an empty array
    Packed::new(&values, value_width, if is_map { total } else { 0 })?;
    Ok(CollectionState {
        ends_width,
        ends,
        total,
        elem_width,
        elems,
        value_width,
        values,
    })
}
