//! Views of list, set and map types. Sets and maps are open-addressing hash tables per
//! record (bucket = hash of the element ordinal), so `contains` and `get` are O(1) without
//! materializing the collection.

use bitvec::prelude::*;

use super::ordinals::Ordinals;
use super::state::ReadState;
use hollow_format::bits::Packed;
use hollow_format::blob::parse::TypeBody;
use hollow_format::error::{Corruption, Error, Result};
use hollow_format::schema::TypeSchema;

#[derive(Clone, Copy, Debug)]
struct Coll<'a> {
    name: &'a str,
    ends: Packed<'a>,
    elems: Packed<'a>,
    values: Packed<'a>,
    populated: &'a BitSlice<u8, Lsb0>,
    populated_bytes: &'a [u8],
    count: u64,
}

impl<'a> Coll<'a> {
    fn new(state: &'a ReadState, t: usize) -> Result<Self> {
        let ts = &state.types[t];
        let TypeBody::Collection(c) = &ts.body else {
            return Err(Corruption::BodyMismatch {
                type_name: state.schema.types()[t].name().into(),
                expected: "collection",
            }
            .into());
        };
        let is_map = matches!(
            state.schema.types()[t],
            hollow_format::schema::TypeSchema::Map { .. }
        );
        Ok(Coll {
            name: state.schema.types()[t].name(),
            ends: Packed::new(&c.ends, c.ends_width, ts.bound)?,
            elems: Packed::new(&c.elems, c.elem_width, c.total)?,
            values: Packed::new(&c.values, c.value_width, if is_map { c.total } else { 0 })?,
            populated: &ts.populated.as_slice().view_bits::<Lsb0>()[..ts.bound as usize],
            populated_bytes: &ts.populated,
            count: ts.count,
        })
    }

    #[inline]
    fn range(&self, ordinal: u32) -> Result<(u64, u64)> {
        if !self.populated.get(ordinal as usize).is_some_and(|b| *b) {
            return Err(Error::NoSuchOrdinal {
                type_name: self.name.into(),
                ordinal: ordinal as u64,
            });
        }
        let end = self
            .ends
            .get(ordinal as u64)
            .ok_or_else(|| Corruption::IndexOutOfRange {
                what: "collection record",
                index: ordinal as u64,
                len: self.ends.len(),
            })?;
        let start = if ordinal == 0 {
            0
        } else {
            self.ends.get(ordinal as u64 - 1).unwrap_or(0)
        };
        if start > end || end > self.elems.len() {
            return Err(Corruption::RecordSpan {
                type_name: self.name.into(),
                ordinal: ordinal as u64,
                start,
                end,
                len: self.elems.len(),
            }
            .into());
        }
        Ok((start, end))
    }

    fn ordinals(&self) -> Ordinals<'a> {
        Ordinals::new(self.populated_bytes, self.populated.len() as u64)
    }

    /// Finds the bucket holding `key` in a hashed record, if any.
    fn find(&self, ordinal: u32, key: u32) -> Result<Option<u64>> {
        let (start, end) = self.range(ordinal)?;
        let n = end - start;
        if n == 0 {
            return Ok(None);
        }
        if !n.is_power_of_two() {
            return Err(Corruption::HashBuckets {
                type_name: self.name.into(),
                ordinal: ordinal as u64,
                buckets: n,
            }
            .into());
        }
        let mut b = hollow_format::blob::column::bucket_of(key, n);
        for _ in 0..n {
            let v = self.elems.get_in_bounds(start + b);
            if v == 0 {
                return Ok(None);
            }
            if v == key as u64 + 1 {
                return Ok(Some(start + b));
            }
            b = (b + 1) & (n - 1);
        }
        Ok(None)
    }
}

/// The raw slots of collection records, for typed views: spans of records and the slot
/// values inside them, with no error path (a corrupt record reads as empty).
macro_rules! raw_slots {
    ($t:ty) => {
        impl $t {
            /// The slot range of record `ordinal`; empty for a missing or corrupt record.
            #[doc(hidden)]
            #[inline]
            pub fn span_lenient(&self, ordinal: u32) -> (u64, u64) {
                self.0.range(ordinal).unwrap_or((0, 0))
            }

            /// The element slot `i` (for sets and maps, the ordinal + 1, or 0 for an empty
            /// bucket); 0 past the end.
            #[doc(hidden)]
            #[inline]
            pub fn slot(&self, i: u64) -> u64 {
                self.0.elems.get(i).unwrap_or(0)
            }
        }
    };
}
raw_slots!(ListView<'_>);
raw_slots!(SetView<'_>);
raw_slots!(MapView<'_>);

/// A view of a list type.
#[derive(Clone, Copy, Debug)]
pub struct ListView<'a>(Coll<'a>);

impl<'a> ListView<'a> {
    #[doc(hidden)]
    pub fn new(state: &'a ReadState, t: usize) -> Result<Self> {
        Coll::new(state, t).map(ListView)
    }

    /// The collection type's name.
    pub fn name(&self) -> &'a str {
        self.0.name
    }

    /// The number of list records.
    pub fn len(&self) -> u64 {
        self.0.count
    }

    /// Whether the type holds no record.
    pub fn is_empty(&self) -> bool {
        self.0.count == 0
    }

    /// Populated ordinals.
    pub fn ordinals(&self) -> impl Iterator<Item = u32> + 'a {
        self.0.ordinals()
    }

    /// The number of elements of list `ordinal`.
    pub fn size(&self, ordinal: u32) -> Result<u64> {
        let (s, e) = self.0.range(ordinal)?;
        Ok(e - s)
    }

    /// Element `i` of list `ordinal`.
    pub fn get(&self, ordinal: u32, i: u64) -> Result<Option<u32>> {
        let (s, e) = self.0.range(ordinal)?;
        Ok((i < e - s).then(|| self.0.elems.get_in_bounds(s + i) as u32))
    }

    /// The element ordinals of list `ordinal`, in order.
    pub fn elements(&self, ordinal: u32) -> Result<impl Iterator<Item = u32> + 'a> {
        let (s, e) = self.0.range(ordinal)?;
        let elems = self.0.elems;
        Ok((s..e).map(move |i| elems.get_in_bounds(i) as u32))
    }
}

/// A view of a set type.
#[derive(Clone, Copy, Debug)]
pub struct SetView<'a>(Coll<'a>);

impl<'a> SetView<'a> {
    #[doc(hidden)]
    pub fn new(state: &'a ReadState, t: usize) -> Result<Self> {
        Coll::new(state, t).map(SetView)
    }

    /// The collection type's name.
    pub fn name(&self) -> &'a str {
        self.0.name
    }

    /// The number of set records.
    pub fn len(&self) -> u64 {
        self.0.count
    }

    /// Whether the type holds no record.
    pub fn is_empty(&self) -> bool {
        self.0.count == 0
    }

    /// Populated ordinals.
    pub fn ordinals(&self) -> impl Iterator<Item = u32> + 'a {
        self.0.ordinals()
    }

    /// Whether set `ordinal` contains the element ordinal `element` (O(1)).
    pub fn contains(&self, ordinal: u32, element: u32) -> Result<bool> {
        Ok(self.0.find(ordinal, element)?.is_some())
    }

    /// The element ordinals of set `ordinal` (bucket order).
    pub fn elements(&self, ordinal: u32) -> Result<impl Iterator<Item = u32> + 'a> {
        let (s, e) = self.0.range(ordinal)?;
        let elems = self.0.elems;
        Ok((s..e).filter_map(move |i| elems.get_in_bounds(i).checked_sub(1).map(|v| v as u32)))
    }
}

/// A view of a map type.
#[derive(Clone, Copy, Debug)]
pub struct MapView<'a>(Coll<'a>);

impl<'a> MapView<'a> {
    #[doc(hidden)]
    pub fn new(state: &'a ReadState, t: usize) -> Result<Self> {
        Coll::new(state, t).map(MapView)
    }

    /// The collection type's name.
    pub fn name(&self) -> &'a str {
        self.0.name
    }

    /// The number of map records.
    pub fn len(&self) -> u64 {
        self.0.count
    }

    /// Whether the type holds no record.
    pub fn is_empty(&self) -> bool {
        self.0.count == 0
    }

    /// Populated ordinals.
    pub fn ordinals(&self) -> impl Iterator<Item = u32> + 'a {
        self.0.ordinals()
    }

    /// The value ordinal for key ordinal `key` in map `ordinal` (O(1)).
    pub fn get(&self, ordinal: u32, key: u32) -> Result<Option<u32>> {
        Ok(self
            .0
            .find(ordinal, key)?
            .and_then(|b| self.0.values.get(b).map(|v| v as u32)))
    }

    /// The value slot `i` of a map (the value ordinal); 0 past the end.
    #[doc(hidden)]
    #[inline]
    pub fn value_slot(&self, i: u64) -> u64 {
        self.0.values.get(i).unwrap_or(0)
    }

    /// The (key, value) ordinals of map `ordinal` (bucket order).
    pub fn entries(&self, ordinal: u32) -> Result<impl Iterator<Item = (u32, u32)> + 'a> {
        let (s, e) = self.0.range(ordinal)?;
        let c = self.0;
        Ok((s..e).filter_map(move |i| {
            let k = c.elems.get_in_bounds(i).checked_sub(1)?;
            Some((k as u32, c.values.get(i).unwrap_or(0) as u32))
        }))
    }
}

impl ReadState {
    /// A view of a list type.
    pub fn list(&self, type_name: &str) -> Result<ListView<'_>> {
        let t = self.type_index(type_name)?;
        match &self.schema.types()[t] {
            TypeSchema::List { .. } => ListView::new(self, t),
            ts => Err(Error::WrongTypeKind {
                type_name: type_name.into(),
                expected: "list",
                actual: ts.kind_name(),
            }),
        }
    }

    /// A view of a set type.
    pub fn set(&self, type_name: &str) -> Result<SetView<'_>> {
        let t = self.type_index(type_name)?;
        match &self.schema.types()[t] {
            TypeSchema::Set { .. } => SetView::new(self, t),
            ts => Err(Error::WrongTypeKind {
                type_name: type_name.into(),
                expected: "set",
                actual: ts.kind_name(),
            }),
        }
    }

    /// A view of a map type.
    pub fn map(&self, type_name: &str) -> Result<MapView<'_>> {
        let t = self.type_index(type_name)?;
        match &self.schema.types()[t] {
            TypeSchema::Map { .. } => MapView::new(self, t),
            ts => Err(Error::WrongTypeKind {
                type_name: type_name.into(),
                expected: "map",
                actual: ts.kind_name(),
            }),
        }
    }
}
