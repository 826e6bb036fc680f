//! Golden fixtures of every released format version: the checked-in blobs must keep
//! reading to the checked-in dumps forever, and today's writer must produce the same bytes
//! for the same state (or the format version must change).
//!
//! This test only compares. Fixtures are written by a separate, explicit command, only when a
//! new format version is introduced, and only into a folder that does not exist yet:
//! `cargo run -p hollow --example write_golden_fixtures -- hollow/tests/fixtures/v<N>`.

mod common;

use std::path::PathBuf;

use common::golden;
use hollow::blob::write_snapshot;
use hollow::ReadState;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

#[test]
fn v1_fixtures_read_and_write_identically() {
    let dir = fixtures();
    let ws = golden::fixture_state();
    let expected_dump =
        std::fs::read_to_string(dir.join("snapshot.dump")).expect("the checked-in golden dump");
    for (name, opts) in &golden::variants() {
        let golden = std::fs::read(dir.join(name)).expect("golden blob");
        let state = ReadState::from_vec(golden.clone()).unwrap();
        assert_eq!(
            common::dump(&state),
            expected_dump,
            "{name} reads differently"
        );
        let (today, _) = write_snapshot(&ws, opts).unwrap();
        assert_eq!(
            today, golden,
            "{name}: the writer's output changed; bump FORMAT_VERSION and add a new fixture folder"
        );
    }
}
