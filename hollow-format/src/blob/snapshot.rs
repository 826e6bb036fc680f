//! Writing a snapshot blob from the record tables of a state ([`RecordSource`]).

use bitvec::vec::BitVec;

use super::column::{
    bitset_bytes, build_collection, build_column, build_pool, CollectionData, ColumnData,
    ColumnStats, Shape,
};
use crate::codec::{decode_field, decode_ordinals};
use crate::error::{BlobKind, Result};
use crate::schema::{Compression, FieldKind, Primitive, TypeSchema};
use crate::schema::{ObjectSchema, SchemaSet};
use crate::value::Value;
use crate::wire::Sink;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// What the snapshot writer reads: the records of one type, encoded by [`crate::codec`],
/// by ordinal (the write state's record tables implement it).
pub trait RecordSource {
    /// One past the highest ordinal ever assigned.
    fn ordinal_bound(&self) -> usize;
    /// The number of populated ordinals.
    fn len(&self) -> u64;
    /// Whether the type holds no record.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Which ordinals are populated (`ordinal_bound` bits).
    fn populated(&self) -> &BitVec<u64>;
    /// The encoding of a populated ordinal's record.
    fn record(&self, ordinal: u32) -> Option<&[u8]>;
}

/// Options of the snapshot writer.
#[derive(Debug, Clone, Default)]
pub struct SnapshotOptions {
    /// Compress the whole body with zstd at this level (heap-mode loads only; mapped opens
    /// of a compressed blob decompress to memory).
    pub zstd_level: Option<i32>,
    /// Ignore FSST compression requested by the schema (store every string plain).
    pub disable_fsst: bool,
}

/// Sizes of what a snapshot holds, per type and column.
#[derive(Debug, Clone, Default)]
pub struct SnapshotStats {
    /// Per type: (name, records, data bytes, columns).
    pub types: Vec<TypeStats>,
    /// Bytes of the blob as written.
    pub blob_bytes: u64,
    /// Bytes of the body before blob compression.
    pub raw_body_bytes: u64,
}

/// Sizes of one type: (name, records, data bytes, per-column (name, stats)).
pub type TypeStats = (String, u64, u64, Vec<(String, ColumnStats)>);

/// Per-field pool under construction: value → index, and values in index order.
type PoolBuilder<'e> = Option<(FxHashMap<&'e [u8], u32>, Vec<&'e [u8]>)>;

/// The `u64` image of a value stored in a column (see the format README).
#[inline]
pub fn image(v: &Value<'_>) -> u64 {
    const FLIP: u64 = 1 << 63;
    match v {
        Value::Bool(b) => *b as u64,
        Value::I32(x) => (*x as i64 as u64) ^ FLIP,
        Value::I64(x) => (*x as u64) ^ FLIP,
        Value::F32(x) => x.to_bits() as u64,
        Value::F64(x) => x.to_bits(),
        Value::Ref(r) => *r as u64,
        Value::Null | Value::Str(_) | Value::Bytes(_) => 0,
    }
}

/// Encodes the columns of an object type from its record table.
pub fn encode_object_type(
    recs: &dyn RecordSource,
    o: &ObjectSchema,
    disable_fsst: bool,
) -> Vec<ColumnData> {
    let records = recs
        .populated()
        .iter_ones()
        .filter_map(|ord| Some((ord, recs.record(ord as u32)?)));
    encode_columns(
        o,
        recs.ordinal_bound(),
        records,
        recs.populated(),
        !disable_fsst,
    )
}

/// Encodes the columns of an object type from encoded records at given positions (`bound`
/// positions, `populated` marking those present).
/// Encodes the columns of an object type from encoded records at given positions.
pub fn encode_columns<'e>(
    o: &ObjectSchema,
    bound: usize,
    records: impl Iterator<Item = (usize, &'e [u8])>,
    populated: &BitVec<u64>,
    allow_fsst: bool,
) -> Vec<ColumnData> {
    let nf = o.fields.len();
    let mut vals: Vec<Vec<u64>> = vec![vec![0u64; bound]; nf];
    let mut nulls: Vec<BitVec<u64>> = vec![BitVec::repeat(true, bound); nf];
    let mut pools: Vec<PoolBuilder<'e>> = o
        .fields
        .iter()
        .map(|f| {
            matches!(
                f.kind,
                FieldKind::Primitive(Primitive::String | Primitive::Bytes)
            )
            .then(Default::default)
        })
        .collect();
    for (ord, enc) in records {
        let mut pos = 0;
        for (fi, f) in o.fields.iter().enumerate() {
            let v = decode_field(&f.kind, enc, &mut pos);
            if v.is_null() {
                continue;
            }
            nulls[fi].set(ord, false);
            vals[fi][ord] = match (&v, &mut pools[fi]) {
                (Value::Bytes(std::borrow::Cow::Borrowed(b)), Some((map, list))) => {
                    let next = list.len() as u32;
                    *map.entry(b).or_insert_with(|| {
                        list.push(b);
                        next
                    }) as u64
                }
                _ => image(&v),
            };
        }
    }
    o.fields
        .iter()
        .enumerate()
        .map(|(fi, f)| {
            let pool = pools[fi].take().map(|(_, list)| {
                build_pool(&list, f.compression == Compression::Fsst && allow_fsst)
            });
            build_column(&vals[fi], &nulls[fi], populated, pool)
        })
        .collect()
}

/// Writes a snapshot blob: the header, the schema set and, per type in schema order, its
/// records (`types[t]` holds the records of `schema.types()[t]`).
pub fn write_snapshot_of(
    header: &BTreeMap<String, String>,
    schema: &SchemaSet,
    types: &[&dyn RecordSource],
    opts: &SnapshotOptions,
) -> Result<(Vec<u8>, SnapshotStats)> {
    if types.len() != schema.types().len() {
        return Err(crate::error::SchemaError::RecordTables {
            expected: schema.types().len(),
            got: types.len(),
        }
        .into());
    }
    let mut s = Sink::default();
    let mut stats = SnapshotStats::default();
    write_meta(header, schema, &mut s);
    s.u32(schema.types().len() as u32);
    for (t, ts) in schema.types().iter().enumerate() {
        let recs = types[t];
        let start = s.buf.len();
        write_type_head(recs, ts, &mut s);
        let mut cols = Vec::new();
        match ts {
            TypeSchema::Object(o) => {
                for (f, c) in o
                    .fields
                    .iter()
                    .zip(encode_object_type(recs, o, opts.disable_fsst))
                {
                    c.write(&mut s);
                    cols.push((f.name.clone(), c.stats()));
                }
            }
            _ => encode_collection_type(recs, ts).write(&mut s),
        }
        stats.types.push((
            ts.name().to_string(),
            recs.len(),
            (s.buf.len() - start) as u64,
            cols,
        ));
    }
    stats.raw_body_bytes = s.buf.len() as u64;
    let blob = super::envelope::seal(BlobKind::Snapshot, &s.buf, opts.zstd_level);
    stats.blob_bytes = blob.len() as u64;
    Ok((blob, stats))
}

/// Writes the meta section (the header) and the schema section.
pub fn write_meta(header: &BTreeMap<String, String>, schema_set: &SchemaSet, s: &mut Sink) {
    let mut meta = Sink::default();
    meta.u32(header.len() as u32);
    for (k, v) in header {
        meta.str(k);
        meta.str(v);
    }
    s.section(&meta.buf);
    let mut schema = Sink::default();
    schema_set.write(&mut schema);
    s.section(&schema.buf);
}

/// The tag byte of a type's kind in the blob.
pub fn type_tag(ts: &TypeSchema) -> u8 {
    match ts {
        TypeSchema::Object(_) => 1,
        TypeSchema::List { .. } => 2,
        TypeSchema::Set { .. } => 3,
        TypeSchema::Map { .. } => 4,
    }
}

/// Writes the head of a type: tag, ordinal bound, count, populated bitset.
pub fn write_type_head(recs: &dyn RecordSource, ts: &TypeSchema, s: &mut Sink) {
    s.align8();
    s.u8(type_tag(ts));
    s.bytes(&[0; 7]);
    s.u64(recs.ordinal_bound() as u64);
    s.u64(recs.len());
    s.section(&bitset_bytes(recs.populated()));
}

/// Encodes a list, set or map type from its record table.
pub fn encode_collection_type(recs: &dyn RecordSource, ts: &TypeSchema) -> CollectionData {
    let shape = match ts {
        TypeSchema::List { .. } => Shape::List,
        TypeSchema::Set { .. } => Shape::Set,
        _ => Shape::Map,
    };
    let records: Vec<Option<Vec<u32>>> = (0..recs.ordinal_bound() as u32)
        .map(|o| recs.record(o).map(|enc| decode_ordinals(enc).collect()))
        .collect();
    build_collection(&records, shape)
}
