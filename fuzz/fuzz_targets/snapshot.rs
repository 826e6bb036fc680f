//! Fuzz target `snapshot`: see `hollow_fuzz::snapshot` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hollow_fuzz::snapshot(data));
