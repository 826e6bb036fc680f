//! Fuzz target `schema`: see `hollow_fuzz::schema` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hollow_fuzz::schema(data));
