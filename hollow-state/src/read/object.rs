//! Views of object types: generic access by field, and typed column handles for hot loops.

use std::borrow::Cow;

use bitvec::prelude::*;

use super::ordinals::{load_word, Ordinals};
use super::state::ReadState;
use hollow_format::bits::Packed;
use hollow_format::blob::fsst::FsstTable;
use hollow_format::blob::parse::{ColumnState, ExtraPool, PoolState, TypeBody};
use hollow_format::error::{Corruption, Error, Result};
use hollow_format::schema::{FieldKind, ObjectSchema, Primitive};
use hollow_format::value::Value;

const FLIP: u64 = 1 << 63;

/// Pools with at most this many values get a decoded table of value spans.
const SPAN_TABLE_LIMIT: u64 = 1 << 16;

/// A borrowed view of one column: decodes the value of a field for an ordinal.
#[derive(Clone, Copy, Debug)]
pub struct ColumnView<'a> {
    packed: Packed<'a>,
    null_zero: bool,
    base: u64,
    nulls: Option<&'a [u8]>,
    pool: Option<PoolView<'a>>,
    kind: &'a FieldKind,
    /// The kind's primitive; `None` for a reference.
    prim: Option<Primitive>,
    name: &'a str,
    /// For plain string columns whose pool is validated UTF-8: the pool, for an inlined read.
    fast_str: Option<PoolView<'a>>,
}

#[derive(Clone, Copy, Debug)]
struct PoolView<'a> {
    /// (start, end) of each base value, decoded once per state for small pools.
    spans: Option<&'a [(u32, u32)]>,
    offsets: Packed<'a>,
    data: &'a [u8],
    extra: Option<&'a ExtraPool>,
    fsst: Option<&'a FsstTable>,
    /// The whole pool is UTF-8 with every offset on a character boundary.
    utf8_ok: bool,
}

impl<'a> PoolView<'a> {
    fn new(p: &'a PoolState, is_string: bool) -> Result<Self> {
        let offsets = Packed::new(&p.offsets, p.off_width, p.count + 1)?;
        let utf8_ok = is_string
            && p.fsst.is_none()
            && *p
                .utf8
                .get_or_init(|| hollow_format::bytes::validate_utf8_pool(&p.data, offsets.iter()));
        let spans = (p.count <= SPAN_TABLE_LIMIT && p.data.len() <= u32::MAX as usize).then(|| {
            p.spans
                .get_or_init(|| {
                    (0..p.count)
                        .map(|k| {
                            (
                                offsets.get(k).unwrap_or(0) as u32,
                                offsets.get(k + 1).unwrap_or(0) as u32,
                            )
                        })
                        .collect()
                })
                .as_slice()
        });
        Ok(PoolView {
            spans,
            offsets,
            data: &p.data,
            extra: p.extra.as_deref(),
            fsst: p.fsst.as_deref(),
            utf8_ok,
        })
    }

    /// A value of the base pool (not appended by a delta), or `None` (out of range or a
    /// corrupt span: callers take the checked path, which reports it).
    #[inline(always)]
    fn base_value(&self, idx: u64) -> Option<&'a [u8]> {
        let (s, e) = match self.spans {
            Some(spans) => {
                let &(s, e) = spans.get(idx as usize)?;
                (s as usize, e as usize)
            }
            None => {
                if idx + 1 >= self.offsets.len() {
                    return None;
                }
                let (s, e) = self.offsets.get_pair_in_bounds(idx);
                (s as usize, e as usize)
            }
        };
        self.data.get(s..e)
    }

    /// Whether `idx` is a value appended by a delta (plain, validated).
    #[inline(always)]
    fn is_extra(&self, idx: u64) -> bool {
        idx + 1 >= self.offsets.len()
    }

    #[inline(never)]
    fn extra_raw(&self, idx: u64) -> Result<&'a [u8]> {
        let base = self.offsets.len().saturating_sub(1);
        match self.extra {
            Some(x) if idx >= base => x.get(idx - base).ok_or_else(|| self.bad_index(idx)),
            _ => Err(self.bad_index(idx)),
        }
    }

    #[inline(always)]
    fn raw(&self, idx: u64) -> Result<&'a [u8]> {
        if let Some(spans) = self.spans {
            if let Some(&(s, e)) = spans.get(idx as usize) {
                return self
                    .data
                    .get(s as usize..e as usize)
                    .ok_or_else(|| self.bad_span(idx, s as usize, e as usize));
            }
        }
        if self.is_extra(idx) {
            return self.extra_raw(idx);
        }
        let (s, e) = self.offsets.get_pair_in_bounds(idx);
        let (s, e) = (s as usize, e as usize);
        match self.data.get(s..e) {
            Some(b) => Ok(b),
            None => Err(self.bad_span(idx, s, e)),
        }
    }

    #[cold]
    fn bad_index(&self, idx: u64) -> Error {
        Corruption::IndexOutOfRange {
            what: "pool index",
            index: idx,
            len: self.offsets.len().saturating_sub(1)
                + self.extra.map_or(0, |x| x.ends.len() as u64),
        }
        .into()
    }

    #[cold]
    fn bad_span(&self, idx: u64, s: usize, e: usize) -> Error {
        Corruption::PoolSpan {
            index: idx,
            start: s as u64,
            end: e as u64,
            len: self.data.len() as u64,
        }
        .into()
    }

    /// A plain (uncompressed) string value.
    #[inline(always)]
    fn plain_str(&self, idx: u64, field: &str) -> Result<&'a str> {
        let b = self.raw(idx)?;
        if self.utf8_ok || self.is_extra(idx) {
            Ok(hollow_format::bytes::str_from_validated(b))
        } else {
            hollow_format::bytes::str_checked(b).ok_or_else(|| Error::Utf8(field.to_string()))
        }
    }

    #[inline(always)]
    fn string(&self, idx: u64, field: &str) -> Result<Cow<'a, str>> {
        match self.fsst {
            Some(t) if !self.is_extra(idx) => self.decode_string(t, idx, field).map(Cow::Owned),
            _ => self.plain_str(idx, field).map(Cow::Borrowed),
        }
    }

    #[inline(never)]
    fn decode_string(&self, t: &FsstTable, idx: u64, field: &str) -> Result<String> {
        let mut out = Vec::new();
        t.decode(self.raw(idx)?, &mut out)?;
        String::from_utf8(out).map_err(|_| Error::Utf8(field.to_string()))
    }

    #[inline]
    fn bytes(&self, idx: u64) -> Result<Cow<'a, [u8]>> {
        let raw = self.raw(idx)?;
        match self.fsst {
            Some(_) if self.is_extra(idx) => Ok(Cow::Borrowed(raw)),
            None => Ok(Cow::Borrowed(raw)),
            Some(t) => {
                let mut out = Vec::new();
                t.decode(raw, &mut out)?;
                Ok(Cow::Owned(out))
            }
        }
    }
}

impl<'a> ColumnView<'a> {
    #[doc(hidden)]
    pub fn new(c: &'a ColumnState, bound: u64, name: &'a str) -> Result<Self> {
        Ok(ColumnView {
            packed: Packed::new(&c.data, c.width, bound)?,
            null_zero: c.null_zero,
            base: c.base,
            nulls: c.nulls.as_deref(),
            pool: c
                .pool
                .as_ref()
                .map(|p| PoolView::new(p, c.kind == FieldKind::Primitive(Primitive::String)))
                .transpose()?,
            kind: &c.kind,
            prim: c.kind.primitive(),
            name,
            fast_str: None,
        }
        .with_fast_str())
    }

    fn with_fast_str(mut self) -> Self {
        if self.prim == Some(Primitive::String) {
            self.fast_str = self.pool.filter(|p| p.fsst.is_none() && p.utf8_ok);
        }
        self
    }

    /// The field's kind.
    pub fn kind(&self) -> &'a FieldKind {
        self.kind
    }

    /// The field's name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// Bits per value.
    pub fn width(&self) -> u8 {
        self.packed.width()
    }

    /// Whether the column's encoding admits nulls (false: no populated record holds null).
    pub fn may_hold_null(&self) -> bool {
        self.null_zero || self.nulls.is_some()
    }

    /// Whether the field's string values are FSST-compressed.
    pub fn is_compressed(&self) -> bool {
        self.pool.is_some_and(|p| p.fsst.is_some())
    }

    /// The `u64` image of the value at `ordinal`; `None` for null or an ordinal past the bound.
    #[inline(always)]
    pub fn raw(&self, ordinal: u32) -> Option<u64> {
        let o = ordinal as u64;
        if o >= self.packed.len() {
            return None;
        }
        let r = self.packed.get_in_bounds(o);
        if self.null_zero {
            if r == 0 {
                None
            } else {
                Some((r - 1).wrapping_add(self.base))
            }
        } else if let Some(n) = self.nulls {
            self.raw_bitset(n, ordinal, r)
        } else {
            Some(r.wrapping_add(self.base))
        }
    }

    #[inline(never)]
    fn raw_bitset(&self, n: &[u8], ordinal: u32, r: u64) -> Option<u64> {
        let o = ordinal as usize;
        if n.get(o / 8).is_none_or(|b| b & (1 << (o % 8)) != 0) {
            None
        } else {
            Some(r.wrapping_add(self.base))
        }
    }

    /// The value at `ordinal` as a generic [`Value`] (strings borrowed from the data).
    #[inline(always)]
    pub fn get(&self, ordinal: u32) -> Result<Value<'a>> {
        let Some(r) = self.raw(ordinal) else {
            return Ok(Value::Null);
        };
        match self.prim {
            Some(Primitive::I64) => Ok(Value::I64((r ^ FLIP) as i64)),
            Some(Primitive::I32) => Ok(Value::I32((r ^ FLIP) as i64 as i32)),
            Some(Primitive::String) => {
                if let Some(p) = &self.fast_str {
                    if let Some(b) = p.base_value(r) {
                        return Ok(Value::Str(Cow::Borrowed(
                            hollow_format::bytes::str_from_validated(b),
                        )));
                    }
                }
                self.value_of_image(r)
            }
            _ => self.value_of_image(r),
        }
    }

    /// Calls `f(ordinal, value)` for every ordinal set in `populated`, increasing, decoding 64
    /// ordinals per pass; `m` turns images into values (specialized per kind).
    #[inline(always)]
    fn scan<M: MapImage<'a>, F: FnMut(u32, Value<'a>)>(
        &self,
        populated: &[u8],
        m: &M,
        f: &mut F,
    ) -> Result<()> {
        let len = self.packed.len();
        let mut imgs = [0u64; BATCH];
        for w in 0..len.div_ceil(64) as usize {
            let mut bits = load_word(populated, w, len);
            if bits == 0 {
                continue;
            }
            let base = w as u64 * 64;
            let n = self.packed.decode_into(base, &mut imgs);
            let nulls = self.block_nulls(w, base, &mut imgs[..n]);
            bits &= if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            if bits == u64::MAX && nulls == 0 {
                // (the two calls of `f` keep the fast value out of a merged temporary)
                for (k, &r) in imgs.iter().enumerate() {
                    match m.value(r) {
                        Some(v) => f((base + k as u64) as u32, v),
                        None => f((base + k as u64) as u32, m.slow(r)?),
                    }
                }
            } else {
                while bits != 0 {
                    let k = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let o = (base + k as u64) as u32;
                    if nulls & (1 << k) != 0 {
                        f(o, Value::Null);
                    } else {
                        match m.value(imgs[k]) {
                            Some(v) => f(o, v),
                            None => f(o, m.slow(imgs[k])?),
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Turns the packed images of block `w` into `raw` form (see [`ColumnView::raw`]) in
    /// place and returns the block's null bits.
    #[inline(always)]
    fn block_nulls(&self, w: usize, base: u64, imgs: &mut [u64]) -> u64 {
        if self.null_zero {
            let mut z = 0u64;
            for (k, r) in imgs.iter_mut().enumerate() {
                z |= ((*r == 0) as u64) << k;
                *r = r.wrapping_sub(1).wrapping_add(self.base);
            }
            z
        } else {
            for r in imgs.iter_mut() {
                *r = r.wrapping_add(self.base);
            }
            match self.nulls {
                // bits past the end of the null bitset count as null (as in `raw`)
                Some(nb) => {
                    let keep = (nb.len() as u64 * 8).saturating_sub(base);
                    load_word(nb, w, u64::MAX) | if keep >= 64 { 0 } else { u64::MAX << keep }
                }
                None => 0,
            }
        }
    }

    /// The value of an image (see the format README).
    ///
    /// Inlined into [`ColumnView::get`] on purpose: as a call it returns its `Result<Value>`
    /// through memory, which makes `get`'s result a memory temporary that callers then copy
    /// with wide loads stalling on the narrow stores that built it (half the speed of a scan
    /// through `get`, measured by the core_format bench).
    #[inline(always)]
    #[doc(hidden)]
    pub fn value_of_image(&self, r: u64) -> Result<Value<'a>> {
        Ok(match self.prim {
            Some(Primitive::I64) => Value::I64((r ^ FLIP) as i64),
            Some(Primitive::I32) => Value::I32((r ^ FLIP) as i64 as i32),
            Some(Primitive::String) => match &self.pool {
                Some(p) => Value::Str(p.string(r, self.name)?),
                None => return Err(self.without_pool()),
            },
            Some(Primitive::Bool) => Value::Bool(r != 0),
            Some(Primitive::F32) => Value::F32(f32::from_bits(r as u32)),
            Some(Primitive::F64) => Value::F64(f64::from_bits(r)),
            None => Value::Ref(r as u32),
            Some(Primitive::Bytes) => match &self.pool {
                Some(p) => Value::Bytes(p.bytes(r)?),
                None => return Err(self.without_pool()),
            },
        })
    }

    /// The error of a string or bytes column without a pool.
    #[cold]
    fn without_pool(&self) -> Error {
        Corruption::PoolMismatch {
            kind: self.kind.name(),
            has_pool: false,
        }
        .into()
    }

    fn expect(self, type_name: &str, ok: bool, expected: &'static str) -> Result<Self> {
        if ok {
            Ok(self)
        } else {
            Err(Error::WrongFieldKind {
                type_name: type_name.into(),
                field: self.name.into(),
                expected,
                actual: self.kind.name(),
            })
        }
    }
}

/// Ordinals decoded per pass of a column scan.
const BATCH: usize = 64;

/// How a column scan turns a column's images into values (one implementation per kind, so
/// that the loop of [`ColumnView::scan`] is specialized and the conversion inlined).
trait MapImage<'a> {
    /// The value of image `r`, or `None` when it needs the checked path ([`MapImage::slow`]).
    fn value(&self, r: u64) -> Option<Value<'a>>;
    /// The checked path: a value appended by a delta, or an error for a corrupt image. Never
    /// reached for kinds whose [`MapImage::value`] always has a value.
    #[inline(never)]
    fn slow(&self, r: u64) -> Result<Value<'a>> {
        Err(Corruption::ImageWithoutValue { image: r }.into())
    }
}

struct MapI64;
impl<'a> MapImage<'a> for MapI64 {
    #[inline(always)]
    fn value(&self, r: u64) -> Option<Value<'a>> {
        Some(Value::I64((r ^ FLIP) as i64))
    }
}

struct MapI32;
impl<'a> MapImage<'a> for MapI32 {
    #[inline(always)]
    fn value(&self, r: u64) -> Option<Value<'a>> {
        Some(Value::I32((r ^ FLIP) as i64 as i32))
    }
}

struct MapRef;
impl<'a> MapImage<'a> for MapRef {
    #[inline(always)]
    fn value(&self, r: u64) -> Option<Value<'a>> {
        Some(Value::Ref(r as u32))
    }
}

struct MapBool;
impl<'a> MapImage<'a> for MapBool {
    #[inline(always)]
    fn value(&self, r: u64) -> Option<Value<'a>> {
        Some(Value::Bool(r != 0))
    }
}

/// Plain strings of a validated pool: borrowed.
struct MapStr<'c, 'a>(&'c ColumnView<'a>, PoolView<'a>);
impl<'a> MapImage<'a> for MapStr<'_, 'a> {
    #[inline(always)]
    fn value(&self, r: u64) -> Option<Value<'a>> {
        self.1
            .base_value(r)
            .map(|b| Value::Str(Cow::Borrowed(hollow_format::bytes::str_from_validated(b))))
    }
    #[inline(never)]
    fn slow(&self, r: u64) -> Result<Value<'a>> {
        self.0.value_of_image(r)
    }
}

/// Any other kind, through [`ColumnView::value_of_image`].
struct MapAny<'c, 'a>(&'c ColumnView<'a>);
impl<'a> MapImage<'a> for MapAny<'_, 'a> {
    #[inline(always)]
    fn value(&self, _r: u64) -> Option<Value<'a>> {
        None
    }
    #[inline(never)]
    fn slow(&self, r: u64) -> Result<Value<'a>> {
        self.0.value_of_image(r)
    }
}

/// A typed handle on an `i32` or `i64` column.
#[derive(Clone, Copy, Debug)]
pub struct LongColumn<'a>(ColumnView<'a>);
impl LongColumn<'_> {
    /// The value at `ordinal`, `None` when null.
    #[inline(always)]
    pub fn get(&self, ordinal: u32) -> Option<i64> {
        self.0.raw(ordinal).map(|r| (r ^ FLIP) as i64)
    }
}

/// A typed handle on a bool column.
#[derive(Clone, Copy, Debug)]
pub struct BoolColumn<'a>(ColumnView<'a>);
impl BoolColumn<'_> {
    /// The value at `ordinal`, `None` when null.
    #[inline(always)]
    pub fn get(&self, ordinal: u32) -> Option<bool> {
        self.0.raw(ordinal).map(|r| r != 0)
    }
}

/// A typed handle on an `f32` or `f64` column.
#[derive(Clone, Copy, Debug)]
pub struct DoubleColumn<'a>(ColumnView<'a>, bool);
impl DoubleColumn<'_> {
    /// The value at `ordinal` (widened to f64), `None` when null.
    #[inline(always)]
    pub fn get(&self, ordinal: u32) -> Option<f64> {
        self.0.raw(ordinal).map(|r| {
            if self.1 {
                f32::from_bits(r as u32) as f64
            } else {
                f64::from_bits(r)
            }
        })
    }
}

/// A typed handle on a reference column.
#[derive(Clone, Copy, Debug)]
pub struct RefColumn<'a>(ColumnView<'a>);
impl RefColumn<'_> {
    /// The referenced ordinal, `None` when null.
    #[inline(always)]
    pub fn get(&self, ordinal: u32) -> Option<u32> {
        self.0.raw(ordinal).map(|r| r as u32)
    }
}

/// A typed handle on a string column.
#[derive(Clone, Copy, Debug)]
pub struct StrColumn<'a>(ColumnView<'a>, PoolView<'a>);
impl<'a> StrColumn<'a> {
    /// The string at `ordinal`, `None` when null: borrowed from the data, or decoded into an
    /// owned string for compressed columns.
    #[inline]
    pub fn get(&self, ordinal: u32) -> Result<Option<Cow<'a, str>>> {
        let Some(idx) = self.0.raw(ordinal) else {
            return Ok(None);
        };
        if let Some(b) = self.fast(idx) {
            return Ok(Some(Cow::Borrowed(b)));
        }
        self.1.string(idx, self.0.name).map(Some)
    }

    /// The value of pool index `idx` when the pool is plain, validated UTF-8 and `idx` is
    /// in its base part (no check per value then).
    #[inline(always)]
    fn fast(&self, idx: u64) -> Option<&'a str> {
        let b = self.0.fast_str.as_ref()?.base_value(idx)?;
        Some(hollow_format::bytes::str_from_validated(b))
    }

    /// The string at `ordinal` borrowed from the data, `None` when null, with no error path:
    /// for typed views, which check at construction that the column is not compressed. A
    /// value that cannot be borrowed (compressed, or outside the pool of a corrupt state)
    /// reads as `""`.
    #[doc(hidden)]
    #[inline(always)]
    pub fn get_lenient(&self, ordinal: u32) -> Option<&'a str> {
        let idx = self.0.raw(ordinal)?;
        Some(self.fast(idx).unwrap_or_else(|| self.lenient_slow(idx)))
    }

    #[inline(never)]
    fn lenient_slow(&self, idx: u64) -> &'a str {
        match self.1.fsst {
            Some(_) if !self.1.is_extra(idx) => "",
            _ => self.1.plain_str(idx, self.0.name).unwrap_or(""),
        }
    }

    /// Whether the column's pool is plain, validated UTF-8 (what [`StrColumn::get_lenient`]
    /// borrows from without a check per value).
    #[doc(hidden)]
    pub fn is_plain_utf8(&self) -> bool {
        self.1.fsst.is_none() && self.1.utf8_ok
    }

    /// The string at `ordinal` as a borrowed `&str`; an error for compressed columns.
    #[inline]
    pub fn get_str(&self, ordinal: u32) -> Result<Option<&'a str>> {
        if let Some(s) = self.0.raw(ordinal).and_then(|i| self.fast(i)) {
            return Ok(Some(s));
        }
        if self.1.fsst.is_some() && self.0.raw(ordinal).is_some_and(|i| !self.1.is_extra(i)) {
            return Err(Error::WrongFieldKind {
                type_name: String::new(),
                field: self.0.name.into(),
                expected: "plain string",
                actual: "compressed string",
            });
        }
        match self.0.raw(ordinal) {
            None => Ok(None),
            Some(idx) => self.1.plain_str(idx, self.0.name).map(Some),
        }
    }

    /// Decodes the string at `ordinal` into `out` (cleared first); returns false when null.
    pub fn read_into(&self, ordinal: u32, out: &mut String) -> Result<bool> {
        out.clear();
        match self.get(ordinal)? {
            None => Ok(false),
            Some(s) => {
                out.push_str(&s);
                Ok(true)
            }
        }
    }

    /// The pool index of the value at `ordinal` (equal strings of a field share an index).
    #[inline]
    pub fn value_id(&self, ordinal: u32) -> Option<u64> {
        self.0.raw(ordinal)
    }

    /// The number of distinct values in the field's pool.
    pub fn distinct_values(&self) -> u64 {
        self.1.offsets.len().saturating_sub(1) + self.1.extra.map_or(0, |x| x.ends.len() as u64)
    }

    /// The string with pool index `id` (see [`StrColumn::value_id`]).
    pub fn value_by_id(&self, id: u64) -> Result<Cow<'a, str>> {
        self.1.string(id, self.0.name)
    }

    /// The UTF-8 bytes of the string with pool index `id`, decoded (FSST) or copied into `out`
    /// (cleared first): no allocation once `out` is large enough. The bytes are not validated
    /// for compressed columns.
    pub fn value_bytes_into(&self, id: u64, out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        match self.1.fsst {
            Some(t) if !self.1.is_extra(id) => t.decode(self.1.raw(id)?, out),
            _ => {
                out.extend_from_slice(self.1.raw(id)?);
                Ok(())
            }
        }
    }
}

/// A typed handle on a bytes column.
#[derive(Clone, Copy, Debug)]
pub struct BytesColumn<'a>(ColumnView<'a>, PoolView<'a>);
impl<'a> BytesColumn<'a> {
    /// The bytes at `ordinal` borrowed from the data, `None` when null, with no error path
    /// (for typed views of plain columns): a compressed value, or one outside the pool of a
    /// corrupt state, reads as empty.
    #[doc(hidden)]
    #[inline]
    pub fn get_lenient(&self, ordinal: u32) -> Option<&'a [u8]> {
        let idx = self.0.raw(ordinal)?;
        Some(match self.1.fsst {
            Some(_) if !self.1.is_extra(idx) => &[],
            _ => self.1.raw(idx).unwrap_or(&[]),
        })
    }

    /// The column view underneath.
    #[doc(hidden)]
    pub fn column(&self) -> ColumnView<'a> {
        self.0
    }

    /// The bytes at `ordinal`, `None` when null.
    pub fn get(&self, ordinal: u32) -> Result<Option<Cow<'a, [u8]>>> {
        match self.0.raw(ordinal) {
            None => Ok(None),
            Some(idx) => self.1.bytes(idx).map(Some),
        }
    }
}

/// A view of an object type of a read state.
#[derive(Clone, Debug)]
pub struct ObjectView<'a> {
    schema: &'a ObjectSchema,
    bound: u64,
    count: u64,
    populated: &'a BitSlice<u8, Lsb0>,
    populated_bytes: &'a [u8],
    columns: Vec<ColumnView<'a>>,
}

impl<'a> ObjectView<'a> {
    #[doc(hidden)]
    pub fn new(state: &'a ReadState, t: usize) -> Result<Self> {
        let ts = &state.types[t];
        let schema = match &state.schema.types()[t] {
            hollow_format::schema::TypeSchema::Object(o) => o,
            other => {
                return Err(Error::WrongTypeKind {
                    type_name: other.name().into(),
                    expected: "object",
                    actual: other.kind_name(),
                })
            }
        };
        let TypeBody::Object(cols) = &ts.body else {
            return Err(Corruption::BodyMismatch {
                type_name: schema.name.clone(),
                expected: "object",
            }
            .into());
        };
        let columns = cols
            .iter()
            .zip(&schema.fields)
            .map(|(c, f)| ColumnView::new(c, ts.bound, &f.name))
            .collect::<Result<Vec<_>>>()?;
        let populated = &ts.populated.as_slice().view_bits::<Lsb0>()[..ts.bound as usize];
        Ok(ObjectView {
            schema,
            bound: ts.bound,
            count: ts.count,
            populated,
            populated_bytes: &ts.populated,
            columns,
        })
    }

    /// The type's schema.
    pub fn schema(&self) -> &'a ObjectSchema {
        self.schema
    }

    /// The number of records.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether the type holds no record.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// One past the highest ordinal.
    pub fn ordinal_bound(&self) -> u64 {
        self.bound
    }

    /// Whether `ordinal` holds a record.
    #[inline]
    pub fn is_populated(&self, ordinal: u32) -> bool {
        self.populated.get(ordinal as usize).is_some_and(|b| *b)
    }

    /// The populated ordinals, increasing (no allocation).
    pub fn ordinals(&self) -> Ordinals<'a> {
        Ordinals::new(self.populated_bytes, self.bound)
    }

    /// The populated-ordinals bitset.
    pub fn populated(&self) -> &'a BitSlice<u8, Lsb0> {
        self.populated
    }

    /// The index of a field.
    pub fn field_index(&self, name: &str) -> Result<usize> {
        self.schema
            .field_index(name)
            .ok_or_else(|| Error::NoSuchField {
                type_name: self.schema.name.clone(),
                field: name.into(),
            })
    }

    /// The column view of a field by index.
    pub fn column_at(&self, field: usize) -> Result<ColumnView<'a>> {
        self.columns
            .get(field)
            .copied()
            .ok_or_else(|| Error::NoSuchField {
                type_name: self.schema.name.clone(),
                field: format!("#{field}"),
            })
    }

    /// The column view of a field by name.
    pub fn column(&self, name: &str) -> Result<ColumnView<'a>> {
        self.column_at(self.field_index(name)?)
    }

    /// All column views, in field order.
    pub fn columns(&self) -> &[ColumnView<'a>] {
        &self.columns
    }

    /// The value of field `field` (by index) at `ordinal`. An unpopulated ordinal is an error.
    #[inline]
    pub fn get(&self, ordinal: u32, field: usize) -> Result<Value<'a>> {
        if !self.is_populated(ordinal) {
            return Err(Error::NoSuchOrdinal {
                type_name: self.schema.name.clone(),
                ordinal: ordinal as u64,
            });
        }
        self.column_at(field)?.get(ordinal)
    }

    /// Calls `f(ordinal, value)` for every record of the type, increasing by ordinal, with the
    /// value of field `field` (by index): a column-at-a-time full scan, the fastest way to read
    /// a field of every record through the generic API. Values are decoded 64 records at a
    /// time in one sequential pass over the packed bits, with the dispatch on the field's kind
    /// hoisted out of the loop (so a `match` on the value in `f` usually compiles away), and
    /// borrowed as with [`ObjectView::get`]. Returns the first decoding error (a corrupt pool
    /// reference), after which `f` is not called again.
    ///
    /// ```
    /// # use hollow_format::{FieldKind, ObjectSchema, Primitive, SchemaSet, TypeSchema, Value};
    /// # use hollow_state::{WriteState, ReadState};
    /// # let set = SchemaSet::new(vec![TypeSchema::Object(ObjectSchema::new("Movie").field("year", FieldKind::Primitive(Primitive::I32)))]).unwrap();
    /// # let mut ws = WriteState::new(set);
    /// # for y in [1999, 2004] { ws.add_object("Movie", &[Value::I32(y)]).unwrap(); }
    /// # let state = ReadState::from_vec(hollow_state::write::write_snapshot(&ws, &Default::default()).unwrap().0).unwrap();
    /// let movies = state.object("Movie")?;
    /// let mut years = Vec::new();
    /// movies.for_each_value(0, |_ordinal, v| if let Value::I32(y) = v { years.push(y) })?;
    /// assert_eq!(years, [1999, 2004]);
    /// # Ok::<(), hollow_format::Error>(())
    /// ```
    pub fn for_each_value<F: FnMut(u32, Value<'a>)>(&self, field: usize, mut f: F) -> Result<()> {
        let c = self.column_at(field)?;
        let p = self.populated_bytes;
        match c.prim {
            Some(Primitive::I64) => c.scan(p, &MapI64, &mut f),
            Some(Primitive::I32) => c.scan(p, &MapI32, &mut f),
            None => c.scan(p, &MapRef, &mut f),
            Some(Primitive::Bool) => c.scan(p, &MapBool, &mut f),
            Some(Primitive::String) if c.fast_str.is_some() => {
                c.scan(p, &MapStr(&c, c.fast_str.expect("checked")), &mut f)
            }
            _ => c.scan(p, &MapAny(&c), &mut f),
        }
    }

    /// The value of the named field at `ordinal`.
    pub fn get_by_name(&self, ordinal: u32, field: &str) -> Result<Value<'a>> {
        self.get(ordinal, self.field_index(field)?)
    }

    /// A typed handle on an `i32`/`i64` field.
    pub fn long(&self, name: &str) -> Result<LongColumn<'a>> {
        let c = self.column(name)?;
        Ok(LongColumn(c.expect(
            &self.schema.name,
            matches!(
                c.kind,
                FieldKind::Primitive(Primitive::I32 | Primitive::I64)
            ),
            "i32 or i64",
        )?))
    }

    /// A typed handle on a bool field.
    pub fn boolean(&self, name: &str) -> Result<BoolColumn<'a>> {
        let c = self.column(name)?;
        Ok(BoolColumn(c.expect(
            &self.schema.name,
            matches!(c.kind, FieldKind::Primitive(Primitive::Bool)),
            "bool",
        )?))
    }

    /// A typed handle on an `f32`/`f64` field.
    pub fn double(&self, name: &str) -> Result<DoubleColumn<'a>> {
        let c = self.column(name)?;
        let is32 = matches!(c.kind, FieldKind::Primitive(Primitive::F32));
        Ok(DoubleColumn(
            c.expect(
                &self.schema.name,
                matches!(
                    c.kind,
                    FieldKind::Primitive(Primitive::F32 | Primitive::F64)
                ),
                "f32 or f64",
            )?,
            is32,
        ))
    }

    /// A typed handle on a reference field.
    pub fn reference(&self, name: &str) -> Result<RefColumn<'a>> {
        let c = self.column(name)?;
        Ok(RefColumn(c.expect(
            &self.schema.name,
            matches!(c.kind, FieldKind::Reference(_)),
            "reference",
        )?))
    }

    /// A typed handle on a string field.
    pub fn string(&self, name: &str) -> Result<StrColumn<'a>> {
        let c = self.column(name)?;
        let c = c.expect(
            &self.schema.name,
            matches!(c.kind, FieldKind::Primitive(Primitive::String)),
            "string",
        )?;
        Ok(StrColumn(c, c.pool.ok_or_else(|| c.without_pool())?))
    }

    /// A typed handle on a bytes field.
    pub fn bytes(&self, name: &str) -> Result<BytesColumn<'a>> {
        let c = self.column(name)?;
        let c = c.expect(
            &self.schema.name,
            matches!(c.kind, FieldKind::Primitive(Primitive::Bytes)),
            "bytes",
        )?;
        Ok(BytesColumn(c, c.pool.ok_or_else(|| c.without_pool())?))
    }
}

impl ReadState {
    /// A view of an object type.
    pub fn object(&self, type_name: &str) -> Result<ObjectView<'_>> {
        let t = self.type_index(type_name)?;
        ObjectView::new(self, t)
    }
}
