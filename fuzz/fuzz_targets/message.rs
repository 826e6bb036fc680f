//! Fuzz target `message`: see `hollow_fuzz::message` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hollow_fuzz::message(data));
