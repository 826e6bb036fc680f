//! Fuzz target `delta`: see `hollow_fuzz::delta` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hollow_fuzz::delta(data));
