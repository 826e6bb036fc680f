//! The typed Rust API: `#[derive(Hollow)]` on the structs and enums of a data model gives
//! their schema, their writer and zero-copy views ([`ReadState::typed`](crate::ReadState::typed)).
//!
//! The mapping of Rust types to hollow types, the checks and the limits are documented in
//! [`hollow_state::typed`], re-exported here.

pub use hollow_derive::Hollow;
pub use hollow_state::typed::*;
