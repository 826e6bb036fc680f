//! Collections of the typed API: `Vec` as lists, `HashSet`/`BTreeSet` as sets,
//! `HashMap`/`BTreeMap` as maps, and the iterators views return for them.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::model::{Build, Element, Field, Registry, Result, Sink};
use crate::read::{self, ListView, MapView, ObjectView, SetView};
use hollow_format::schema::{list_type_name, map_type_name, set_type_name, FieldKind};
use hollow_format::value::Value;

/// What reads the records of a collection type whose elements are `T`.
pub struct CollectionReader<'a, V, T: Element> {
    view: V,
    elems: T::Reader<'a>,
}

/// What reads the records of a map type.
pub struct MapReader<'a, K: Element, V: Element> {
    view: MapView<'a>,
    keys: K::Reader<'a>,
    values: V::Reader<'a>,
}

/// The handle of a collection field: the references and the collection's reader.
pub struct CollectionColumn<'a, R> {
    refs: read::RefColumn<'a>,
    reader: R,
}

impl<'a, R> CollectionColumn<'a, R> {
    /// The reference column: the ordinal of each record's collection record (`None` when
    /// null). Equal collections share one record, so the ordinal identifies the contents.
    pub fn refs(&self) -> read::RefColumn<'a> {
        self.refs
    }
}

/// The elements of a list record, in order.
pub struct ListIter<'a, T: Element> {
    reader: &'a CollectionReader<'a, ListView<'a>, T>,
    pos: u64,
    end: u64,
}

/// The elements of a set record (in bucket order).
pub struct SetIter<'a, T: Element> {
    reader: &'a CollectionReader<'a, SetView<'a>, T>,
    pos: u64,
    end: u64,
}

/// The (key, value) entries of a map record (in bucket order).
pub struct MapIter<'a, K: Element, V: Element> {
    reader: &'a MapReader<'a, K, V>,
    pos: u64,
    end: u64,
}

macro_rules! copy_iter {
    ($name:ident <$($p:ident),+>) => {
        impl<$($p: Element),+> Clone for $name<'_, $($p),+> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<$($p: Element),+> Copy for $name<'_, $($p),+> {}
        impl<$($p: Element),+> std::fmt::Debug for $name<'_, $($p),+> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("slots", &(self.pos..self.end))
                    .finish()
            }
        }
        impl<$($p: Element),+> $name<'_, $($p),+> {
            /// Whether the record holds no element.
            pub fn is_empty(&self) -> bool {
                self.clone().next().is_none()
            }
        }
    };
}
copy_iter!(ListIter<T>);
copy_iter!(SetIter<T>);
copy_iter!(MapIter<K, V>);

impl<'a, T: Element> Iterator for ListIter<'a, T> {
    type Item = T::Item<'a>;

    #[inline]
    fn next(&mut self) -> Option<T::Item<'a>> {
        if self.pos >= self.end {
            return None;
        }
        let o = self.reader.view.slot(self.pos) as u32;
        self.pos += 1;
        Some(T::item(&self.reader.elems, o))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end - self.pos) as usize;
        (n, Some(n))
    }
}

impl<T: Element> ExactSizeIterator for ListIter<'_, T> {}

impl<'a, T: Element> Iterator for SetIter<'a, T> {
    type Item = T::Item<'a>;

    #[inline]
    fn next(&mut self) -> Option<T::Item<'a>> {
        while self.pos < self.end {
            let s = self.reader.view.slot(self.pos);
            self.pos += 1;
            if s != 0 {
                return Some(T::item(&self.reader.elems, (s - 1) as u32));
            }
        }
        None
    }
}

impl<'a, K: Element, V: Element> Iterator for MapIter<'a, K, V> {
    type Item = (K::Item<'a>, V::Item<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        while self.pos < self.end {
            let r = self.reader;
            let (s, v) = (r.view.slot(self.pos), r.view.value_slot(self.pos));
            self.pos += 1;
            if s != 0 {
                return Some((
                    K::item(&r.keys, (s - 1) as u32),
                    V::item(&r.values, v as u32),
                ));
            }
        }
        None
    }
}

/// Adds each element as a record, then the collection record of type `name`.
fn add_all<'e, T: Element + 'e, S: Sink + ?Sized>(
    name: &str,
    elems: impl Iterator<Item = &'e T>,
    sink: &mut S,
) -> Result<u32> {
    let items = elems
        .map(|e| e.add_element(sink))
        .collect::<Result<Vec<u32>>>()?;
    sink.add_collection(name, items)
}

/// The handle of a collection field: the reference column (null check included) and the
/// collection's reader.
fn collection_column<'a, R>(
    cx: &mut Build<'a>,
    object: &ObjectView<'a>,
    field: &str,
    nullable: bool,
    reader: impl FnOnce(&mut Build<'a>) -> Result<R>,
) -> Result<CollectionColumn<'a, R>> {
    cx.column(object, field, nullable, false)?;
    Ok(CollectionColumn {
        refs: object.reference(field)?,
        reader: reader(cx)?,
    })
}

/// `Field` of a collection type, through its `Element` implementation: a reference to the
/// collection record.
macro_rules! field_via_element {
    ([$($g:tt)*] $coll:ty) => {
        impl<$($g)*> Field for $coll {
            fn declare(reg: &mut Registry) -> FieldKind {
                FieldKind::Reference(<Self as Element>::declare_element(reg))
            }
            fn to_value<'v, S: Sink + ?Sized>(&'v self, sink: &mut S) -> Result<Value<'v>> {
                Ok(Value::Ref(self.add_element(sink)?))
            }
            type Column<'a> = CollectionColumn<'a, <Self as Element>::Reader<'a>>;
            type Out<'a> = <Self as Element>::Item<'a>;
            fn column<'a>(
                cx: &mut Build<'a>,
                object: &ObjectView<'a>,
                field: &str,
                nullable: bool,
            ) -> Result<Self::Column<'a>> {
                collection_column(cx, object, field, nullable, <Self as Element>::reader)
            }
            #[inline(always)]
            fn get<'a>(column: &'a Self::Column<'a>, ordinal: u32) -> Self::Out<'a> {
                let r = column.refs.get(ordinal).unwrap_or(u32::MAX);
                <Self as Element>::item(&column.reader, r)
            }
            #[inline(always)]
            fn get_opt<'a>(column: &'a Self::Column<'a>, ordinal: u32) -> Option<Self::Out<'a>> {
                let r = column.refs.get(ordinal)?;
                Some(<Self as Element>::item(&column.reader, r))
            }
        }
    };
}

/// `Element` of a list or set type: records of type `$name(element)` read through
/// `$view` (from `ReadState::$open`) and iterated by `$iter`.
macro_rules! seq_element {
    ([$($g:tt)*] $coll:ty, $name:ident, $set:expr, $view:ident, $iter:ident, $open:ident) => {
        impl<$($g)*> Element for $coll {
            fn element_name() -> Cow<'static, str> {
                Cow::Owned($name(&T::element_name()))
            }
            fn declare_element(reg: &mut Registry) -> String {
                reg.collection::<T>(Self::element_name().into_owned(), $set)
            }
            fn add_element<S: Sink + ?Sized>(&self, sink: &mut S) -> Result<u32> {
                add_all(&Self::element_name(), self.iter(), sink)
            }
            type Reader<'a> = CollectionReader<'a, $view<'a>, T>;
            type Item<'a> = $iter<'a, T>;
            fn reader<'a>(cx: &mut Build<'a>) -> Result<Self::Reader<'a>> {
                Ok(CollectionReader {
                    view: cx.state().$open(&Self::element_name())?,
                    elems: T::reader(cx)?,
                })
            }
            #[inline(always)]
            fn item<'a>(reader: &'a Self::Reader<'a>, ordinal: u32) -> $iter<'a, T> {
                let (pos, end) = reader.view.span_lenient(ordinal);
                $iter { reader, pos, end }
            }
        }
        field_via_element!([$($g)*] $coll);
    };
}

seq_element!([T: Element + 'static] Vec<T>, list_type_name, false, ListView, ListIter, list);
seq_element!([T: Element + 'static, H] HashSet<T, H>, set_type_name, true, SetView, SetIter, set);
seq_element!([T: Element + 'static] BTreeSet<T>, set_type_name, true, SetView, SetIter, set);

/// Adds each entry's key and value as records, then the map record of type `name`.
fn add_entries<'e, K: Element + 'e, V: Element + 'e, S: Sink + ?Sized>(
    name: &str,
    entries: impl Iterator<Item = (&'e K, &'e V)>,
    sink: &mut S,
) -> Result<u32> {
    let mut items = Vec::new();
    for (k, v) in entries {
        items.push(k.add_element(sink)?);
        items.push(v.add_element(sink)?);
    }
    sink.add_collection(name, items)
}

/// `Element` (and `Field`) of a map type: records of type `MapOf{K}To{V}`.
macro_rules! map_element {
    ([$($g:tt)*] $coll:ty) => {
        impl<$($g)*> Element for $coll {
            fn element_name() -> Cow<'static, str> {
                Cow::Owned(map_type_name(&K::element_name(), &V::element_name()))
            }
            fn declare_element(reg: &mut Registry) -> String {
                reg.map::<K, V>(Self::element_name().into_owned())
            }
            fn add_element<S: Sink + ?Sized>(&self, sink: &mut S) -> Result<u32> {
                add_entries(&Self::element_name(), self.iter(), sink)
            }
            type Reader<'a> = MapReader<'a, K, V>;
            type Item<'a> = MapIter<'a, K, V>;
            fn reader<'a>(cx: &mut Build<'a>) -> Result<MapReader<'a, K, V>> {
                Ok(MapReader {
                    view: cx.state().map(&Self::element_name())?,
                    keys: K::reader(cx)?,
                    values: V::reader(cx)?,
                })
            }
            #[inline(always)]
            fn item<'a>(reader: &'a MapReader<'a, K, V>, ordinal: u32) -> MapIter<'a, K, V> {
                let (pos, end) = reader.view.span_lenient(ordinal);
                MapIter { reader, pos, end }
            }
        }
        field_via_element!([$($g)*] $coll);
    };
}
map_element!([K: Element + 'static, V: Element + 'static, H] HashMap<K, V, H>);
map_element!([K: Element + 'static, V: Element + 'static] BTreeMap<K, V>);
