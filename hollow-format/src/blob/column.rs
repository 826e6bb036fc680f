//! Encoding of columns (one bit-packed array per object field), string pools and
//! collection types, on the write side.

use bitvec::vec::BitVec;

use super::fsst::FsstTable;
use crate::bits::{pack, width_for};
use crate::wire::Sink;

/// A string or bytes pool: the distinct values of one field.
pub struct PoolData {
    pub count: u64,
    pub off_width: u8,
    pub offsets: Vec<u8>,
    pub data: Vec<u8>,
    pub fsst: Option<FsstTable>,
}

/// A field's column, ready to write.
pub struct ColumnData {
    pub width: u8,
    pub null_zero: bool,
    pub base: u64,
    pub packed: Vec<u8>,
    pub nulls: Option<Vec<u8>>,
    pub pool: Option<PoolData>,
}

/// Sizes of one column, for reports.
#[derive(Debug, Clone, Default)]
pub struct ColumnStats {
    /// Bits per record of the packed values.
    pub width: u8,
    /// Bytes of packed values (and null bitset).
    pub packed_bytes: u64,
    /// Bytes of the string/bytes pool (offsets and data), if any.
    pub pool_bytes: u64,
    /// Distinct values in the pool.
    pub pool_values: u64,
}

impl ColumnData {
    pub fn stats(&self) -> ColumnStats {
        ColumnStats {
            width: self.width,
            packed_bytes: (self.packed.len() + self.nulls.as_ref().map_or(0, |n| n.len())) as u64,
            pool_bytes: self
                .pool
                .as_ref()
                .map_or(0, |p| (p.offsets.len() + p.data.len()) as u64),
            pool_values: self.pool.as_ref().map_or(0, |p| p.count),
        }
    }

    pub fn write(&self, s: &mut Sink) {
        s.align8();
        s.u8(if self.nulls.is_some() { 1 } else { 0 });
        s.u8(self.width);
        s.u8(self.null_zero as u8);
        s.u8(self.pool.is_some() as u8);
        s.u32(0);
        s.u64(self.base);
        s.section(&self.packed);
        if let Some(n) = &self.nulls {
            s.section(n);
        }
        if let Some(p) = &self.pool {
            s.u64(p.count);
            s.u8(p.off_width);
            s.u8(p.fsst.is_some() as u8);
            s.bytes(&[0; 6]);
            s.section(&p.offsets);
            s.section(&p.data);
            if let Some(t) = &p.fsst {
                let mut syms = Vec::with_capacity(t.symbols.len() * 8);
                for v in &t.symbols {
                    syms.extend_from_slice(&v.to_le_bytes());
                }
                s.section(&syms);
                s.section(&t.lens);
            }
        }
    }
}

/// Bitset bytes (LSB first, padded to 8 bytes) of a `BitVec`.
pub fn bitset_bytes(bits: &BitVec<u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(bits.as_raw_slice().len() * 8);
    for w in bits.as_raw_slice() {
        out.extend_from_slice(&w.to_le_bytes());
    }
    // clear bits past the end (bitvec leaves them unspecified)
    let len = bits.len();
    let full = len / 8;
    if let Some(partial) = out.get_mut(full) {
        *partial &= ((1u16 << (len % 8)) - 1) as u8;
    }
    for byte in out.iter_mut().skip(full + 1) {
        *byte = 0;
    }
    out
}

/// Builds a column from per-ordinal values (`u64` images of the field's values) with a
/// null flag per ordinal. Unpopulated ordinals are passed as null and do not affect the
/// encoding (they are stored as 0).
pub fn build_column(
    vals: &[u64],
    nulls: &BitVec<u64>,
    populated: &BitVec<u64>,
    pool: Option<PoolData>,
) -> ColumnData {
    let mut min = u64::MAX;
    let mut max = 0u64;
    let mut has_null = false;
    let mut any = false;
    for o in populated.iter_ones() {
        if nulls[o] {
            has_null = true;
        } else {
            any = true;
            min = min.min(vals[o]);
            max = max.max(vals[o]);
        }
    }
    if !any {
        min = 0;
        max = 0;
    }
    let range = max - min;
    let len = vals.len() as u64;
    let (width, null_zero, bitset) = if !has_null {
        (width_for(range), false, None)
    } else if range < u64::MAX {
        (width_for(range + 1), true, None)
    } else {
        (64, false, Some(bitset_bytes(nulls)))
    };
    let packed = pack(
        (0..vals.len()).map(|o| {
            let populated_here = populated.get(o).map(|b| *b).unwrap_or(false);
            if !populated_here || nulls[o] {
                0
            } else if null_zero {
                vals[o] - min + 1
            } else {
                vals[o].wrapping_sub(min)
            }
        }),
        len,
        width,
    );
    ColumnData {
        width,
        null_zero,
        base: min,
        packed,
        nulls: bitset,
        pool,
    }
}

/// Builds a pool from distinct values in index order.
pub fn build_pool(values: &[&[u8]], compress: bool) -> PoolData {
    let (fsst, encoded): (Option<FsstTable>, Option<Vec<Vec<u8>>>) =
        if compress && !values.is_empty() {
            let (table, enc) = FsstTable::train(values);
            (
                Some(table),
                Some(values.iter().map(|v| enc.compress(v)).collect()),
            )
        } else {
            (None, None)
        };
    let mut data = Vec::new();
    let mut ends = Vec::with_capacity(values.len() + 1);
    ends.push(0u64);
    for (i, v) in values.iter().enumerate() {
        match &encoded {
            Some(e) => data.extend_from_slice(&e[i]),
            None => data.extend_from_slice(v),
        }
        ends.push(data.len() as u64);
    }
    let off_width = width_for(data.len() as u64);
    let offsets = pack(ends.iter().copied(), ends.len() as u64, off_width);
    data.extend_from_slice(&[0u8; 8]);
    while data.len() % 8 != 0 {
        data.push(0);
    }
    PoolData {
        count: values.len() as u64,
        off_width,
        offsets,
        data,
        fsst,
    }
}

/// A list, set or map type's data, ready to write.
pub struct CollectionData {
    pub ends_width: u8,
    pub ends: Vec<u8>,
    pub total: u64,
    pub elem_width: u8,
    pub elems: Vec<u8>,
    pub value_width: u8,
    pub values: Vec<u8>,
}

impl CollectionData {
    pub fn write(&self, s: &mut Sink) {
        s.align8();
        s.u8(self.ends_width);
        s.u8(self.elem_width);
        s.u8(self.value_width);
        s.bytes(&[0; 5]);
        s.u64(self.total);
        s.section(&self.ends);
        s.section(&self.elems);
        s.section(&self.values);
    }
}

/// The bucket of a hashed element ordinal in a table of `n` (a power of two) buckets.
#[inline]
pub fn bucket_of(ordinal: u32, n: u64) -> u64 {
    ((ordinal as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) & (n - 1)
}

/// The number of buckets for a hashed collection of `len` entries (load factor ≤ 0.7).
pub fn buckets_for(len: usize) -> u64 {
    if len == 0 {
        0
    } else {
        ((len as u64 * 10).div_ceil(7)).next_power_of_two()
    }
}

/// Collection shape for [`build_collection`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    List,
    Set,
    Map,
}

/// Builds a collection type from per-ordinal entries (`None` = unpopulated). For maps each
/// entry holds flattened key/value pairs.
pub fn build_collection(records: &[Option<Vec<u32>>], shape: Shape) -> CollectionData {
    let mut ends = Vec::with_capacity(records.len());
    let mut elems: Vec<u64> = Vec::new();
    let mut values: Vec<u64> = Vec::new();
    for r in records {
        if let Some(items) = r {
            match shape {
                Shape::List => elems.extend(items.iter().map(|e| *e as u64)),
                Shape::Set | Shape::Map => {
                    let step = if shape == Shape::Map { 2 } else { 1 };
                    let n = items.len() / step;
                    let nb = buckets_for(n);
                    let start = elems.len();
                    elems.resize(start + nb as usize, 0);
                    if shape == Shape::Map {
                        values.resize(start + nb as usize, 0);
                    }
                    for kv in items.chunks_exact(step) {
                        let mut b = bucket_of(kv[0], nb);
                        while elems[start + b as usize] != 0 {
                            b = (b + 1) & (nb - 1);
                        }
                        elems[start + b as usize] = kv[0] as u64 + 1;
                        if shape == Shape::Map {
                            values[start + b as usize] = kv[1] as u64;
                        }
                    }
                }
            }
        }
        ends.push(elems.len() as u64);
    }
    let total = elems.len() as u64;
    let ends_width = width_for(total);
    let elem_width = width_for(elems.iter().copied().max().unwrap_or(0));
    let value_width = width_for(values.iter().copied().max().unwrap_or(0));
    CollectionData {
        ends_width,
        ends: pack(ends.iter().copied(), ends.len() as u64, ends_width),
        total,
        elem_width,
        elems: pack(elems.iter().copied(), total, elem_width),
        value_width,
        values: pack(values.iter().copied(), values.len() as u64, value_width),
    }
}
