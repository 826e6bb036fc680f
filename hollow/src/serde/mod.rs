//! serde placeholder
