//! The read state: a loaded data state, read in place from heap or memory-mapped bytes.
//!
//! [`ReadState`] owns the blob bytes and small per-type descriptors. Access goes through
//! views that borrow from it: [`ObjectView`] for object types (generic access by field name
//! or index, typed column handles for hot loops), [`ListView`], [`SetView`] and [`MapView`]
//! for collections. Nothing is copied or allocated per record; strings are `&str` into the data.

mod collection;
mod convert;
mod object;
mod ordinals;
mod state;

pub use collection::{ListView, MapView, SetView};
pub use object::{
    BoolColumn, BytesColumn, ColumnView, DoubleColumn, LongColumn, ObjectView, RefColumn, StrColumn,
};
#[doc(hidden)]
pub use ordinals::load_word;
pub use ordinals::Ordinals;
pub use state::{MemoryMode, OpenOptions, ReadState};
