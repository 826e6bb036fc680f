//! producer: under construction.
