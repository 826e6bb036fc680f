//! Compile-fail tests of `#[derive(Hollow)]`'s misuse: each error says what to do
//! (`TRYBUILD=overwrite` rewrites the expected messages in `tests/ui/`).

#[test]
fn derive_misuse_fails_with_messages_that_say_what_to_do() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
