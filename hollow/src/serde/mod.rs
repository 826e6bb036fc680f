//! serde integration: derive schemas from Rust types, add Rust values to a write state,
//! and read records back as Rust values.
