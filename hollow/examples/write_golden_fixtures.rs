//! Writes the golden fixtures of the current format version into a folder that must not exist
//! yet: `cargo run -p hollow --example write_golden_fixtures -- hollow/tests/fixtures/v<N>`.
//!
//! Run it only when introducing a new format version; the golden test then reads the new folder
//! (point its `fixtures()` at it) and keeps reading every older one. The tests never write
//! fixtures themselves, so a changed writer cannot bless its own output.

#[path = "../tests/common/mod.rs"]
mod common;

use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::ReadState;

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(std::path::PathBuf::from) else {
        eprintln!("usage: write_golden_fixtures NEW_FOLDER   (e.g. hollow/tests/fixtures/v2)");
        std::process::exit(2);
    };
    if dir.exists() {
        eprintln!(
            "{} exists: fixtures of a released format are never rewritten; name a new folder",
            dir.display()
        );
        std::process::exit(2);
    }
    if let Err(e) = write(&dir) {
        eprintln!("{}: {e}", dir.display());
        std::process::exit(1);
    }
    println!("wrote {}", dir.display());
}

fn write(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let ws = common::golden::fixture_state();
    std::fs::create_dir_all(dir)?;
    for (name, opts) in &common::golden::variants() {
        let (blob, _) = write_snapshot(&ws, opts)?;
        std::fs::write(dir.join(name), &blob)?;
    }
    let (blob, _) = write_snapshot(&ws, &SnapshotOptions::default())?;
    std::fs::write(
        dir.join("snapshot.dump"),
        common::dump(&ReadState::from_vec(blob)?),
    )?;
    Ok(())
}
