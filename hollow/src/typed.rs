//! The typed Rust API: `#[derive(Hollow)]` on the structs and enums of a data model gives
//! their schema, their writer and zero-copy views ([`ReadState::typed`]); typed indexes
//! look records up by keys of Rust types and return views; producer cycles take the
//! structs ([`Cycle::upsert_typed`](crate::lifecycle::Cycle::upsert_typed)).
//!
//! The mapping of Rust types to hollow types, the checks and the limits are documented in
//! [`hollow_state::typed`], re-exported here.
//!
//! ```
//! use hollow::blob::{write_snapshot, SnapshotOptions};
//! use hollow::typed::{schema_for, PrimaryKeyIndex};
//! use hollow::{Hollow, ReadState, WriteState};
//!
//! #[derive(Hollow)]
//! struct Movie {
//!     #[hollow(primary_key)]
//!     id: i64,
//!     title: String,
//!     tags: Vec<String>,
//! }
//!
//! # fn main() -> hollow::Result<()> {
//! let mut ws = WriteState::new(schema_for::<Movie>()?);
//! ws.add_typed(&Movie { id: 1, title: "Alien".into(), tags: vec!["space".into()] })?;
//! let state = ReadState::from_vec(write_snapshot(&ws, &SnapshotOptions::default())?.0)?;
//!
//! let movies = state.typed::<Movie>()?; // checks the schema once
//! let by_id = PrimaryKeyIndex::<Movie>::build(&state)?;
//! let alien = by_id.get(&movies, 1).expect("indexed");
//! assert_eq!(alien.title(), "Alien"); // a &str into the data
//! assert_eq!(alien.tags().collect::<Vec<_>>(), ["space"]);
//! # Ok(()) }
//! ```

use std::marker::PhantomData;

use crate::index;
use crate::lifecycle::Transition;
use hollow_state::read::ReadState;
use hollow_state::write::StateChanges;

pub use hollow_derive::Hollow;
pub use hollow_state::typed::*;

/// A unique index of derived type `T` by its `#[hollow(primary_key)]` fields: lookups take
/// the key's Rust types (`i64`, `&str`, or a tuple for a composite key) and return views.
/// Kept across deltas like [`index::PrimaryKeyIndex`], which it wraps.
#[derive(Debug, Clone)]
pub struct PrimaryKeyIndex<T: Hollow> {
    inner: index::PrimaryKeyIndex,
    _t: PhantomData<fn() -> T>,
}

impl<T: Hollow> PrimaryKeyIndex<T> {
    /// Builds the index of `state`'s records of `T` (duplicate keys are an error).
    pub fn build(state: &ReadState) -> crate::error::Result<Self> {
        check_arity::<T, T::Key>(T::PRIMARY_KEY)?;
        Ok(PrimaryKeyIndex {
            inner: index::PrimaryKeyIndex::build(state, T::TYPE_NAME, T::PRIMARY_KEY)?,
            _t: PhantomData,
        })
    }

    /// The view of the record with `key` in `table` (a table of the state the index was
    /// built or last updated for), if any.
    #[inline]
    pub fn get<'a>(
        &self,
        table: &'a Table<'a, T>,
        key: <T::Key as KeyTuple>::Borrowed<'_>,
    ) -> Option<T::View<'a>> {
        let o = T::Key::with_values(&key, |k| self.inner.get(table.state(), k))?;
        Some(table.view(o))
    }

    /// The ordinal of the record with `key` in `state`, if any.
    #[inline]
    pub fn ordinal(
        &self,
        state: &ReadState,
        key: <T::Key as KeyTuple>::Borrowed<'_>,
    ) -> Option<u32> {
        T::Key::with_values(&key, |k| self.inner.get(state, k))
    }

    /// The number of indexed records.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether no record is indexed.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

/// A non-unique index of derived type `T` by fields whose Rust types make up `K` (one key
/// part or a tuple: `HashIndex<Asset, (i64, &str)>`): lookups take `K`'s borrowed form and
/// return the views of every matching record. Kept across deltas like [`index::HashIndex`].
#[derive(Debug, Clone)]
pub struct HashIndex<T: Hollow, K: KeyTuple> {
    inner: index::HashIndex,
    _t: PhantomData<fn() -> (T, K)>,
}

impl<T: Hollow, K: KeyTuple> HashIndex<T, K> {
    /// Builds the index of `state`'s records of `T` by `fields` (names or dotted paths, one
    /// per part of `K`).
    pub fn build(state: &ReadState, fields: &[&str]) -> crate::error::Result<Self> {
        check_arity::<T, K>(fields)?;
        Ok(HashIndex {
            inner: index::HashIndex::build(state, T::TYPE_NAME, fields)?,
            _t: PhantomData,
        })
    }

    /// The views of the records with `key` in `table` (a table of the state the index was
    /// built or last updated for), by increasing ordinal.
    pub fn get<'a>(
        &'a self,
        table: &'a Table<'a, T>,
        key: K::Borrowed<'_>,
    ) -> impl ExactSizeIterator<Item = T::View<'a>> + 'a {
        let ords = K::with_values(&key, |k| self.inner.get(table.state(), k));
        ords.iter().map(move |&o| table.view(o))
    }

    /// The ordinals of the records with `key` in `state`.
    pub fn ordinals<'a>(&'a self, state: &'a ReadState, key: K::Borrowed<'_>) -> &'a [u32] {
        K::with_values(&key, |k| self.inner.get(state, k))
    }
}

/// Index maintenance, delegated to the untyped index underneath.
macro_rules! maintained {
    ([$($g:tt)*] $typed:ty, $untyped:ident) => {
        impl<$($g)*> $typed {
            #[doc = concat!("Moves the index from `old` to `new` given their changes (see [`index::", stringify!($untyped), "::update`]).")]
            pub fn update(
                &mut self,
                old: &ReadState,
                new: &ReadState,
                changes: &StateChanges,
            ) -> crate::error::Result<()> {
                self.inner.update(old, new, changes)
            }

            #[doc = concat!("Moves the index along a consumer's transitions (see [`index::", stringify!($untyped), "::apply`]).")]
            pub fn apply(
                &mut self,
                old: &ReadState,
                new: &ReadState,
                transitions: &[Transition],
            ) -> crate::error::Result<()> {
                self.inner.apply(old, new, transitions)
            }

            /// The untyped index underneath.
            pub fn untyped(&self) -> &index::$untyped {
                &self.inner
            }
        }
    };
}
maintained!([T: Hollow] PrimaryKeyIndex<T>, PrimaryKeyIndex);
maintained!([T: Hollow, K: KeyTuple] HashIndex<T, K>, HashIndex);

/// Refuses key fields whose number differs from the parts of the key's Rust type.
fn check_arity<T: Hollow, K: KeyTuple>(fields: &[&str]) -> crate::error::Result<()> {
    if fields.len() != K::LEN {
        return Err(TypedError::KeyArity {
            type_name: T::TYPE_NAME,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            parts: K::LEN,
        }
        .into());
    }
    Ok(())
}
