//! Golden fixtures of every released format version: the checked-in blobs must keep
//! reading to the checked-in dumps forever, and today's writer must produce the same bytes
//! for the same state (or the format version must change).
//!
//! Regenerate (only when introducing a new format version, into a new folder):
//! `HOLLOW_BLESS=1 cargo test -p hollow --test golden`.

mod common;

use std::path::PathBuf;

use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::{ReadState, Value, WriteState};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

fn fixture_state() -> WriteState {
    let mut ws = WriteState::new(common::schema());
    ws.set_header("kafka.offsets", "assets/0=1234");
    ws.set_header("now", "1793491200000");
    let things = [
        common::Thing {
            b: Some(true),
            i: Some(i32::MIN),
            l: Some(i64::MIN),
            f: Some(f32::NAN.to_bits()),
            d: Some(2.5f64.to_bits()),
            s: Some("Dick Johnson Is Dead".into()),
            z: Some("[fr] As her father nears the end of his life, filmmaker Kirsten Johnson stages his death".into()),
            by: Some(vec![0, 1, 2, 255]),
            person: Some("Kirsten Johnson".into()),
            tags: Some(vec!["doc".into(), "doc".into(), "drama".into()]),
            tagset: Some(vec!["doc".into(), "drama".into()]),
            tagmap: Some([("doc".to_string(), "Kirsten Johnson".to_string())].into_iter().collect()),
        },
        common::Thing {
            b: None,
            i: None,
            l: Some(i64::MAX),
            f: None,
            d: None,
            s: Some(String::new()),
            z: None,
            by: None,
            person: None,
            tags: Some(vec![]),
            tagset: None,
            tagmap: None,
        },
        common::Thing {
            b: Some(false),
            i: Some(7),
            l: None,
            f: Some(0),
            d: None,
            s: Some("ünïcödé 𝄞 \u{3000}".into()),
            z: Some(String::new()),
            by: Some(vec![]),
            person: Some("Kirsten Johnson".into()),
            tags: None,
            tagset: Some(vec![]),
            tagmap: Some(Default::default()),
        },
    ];
    for t in &things {
        common::add(&mut ws, t);
    }
    let gone = ws.add_object("Person", &[Value::str("removed")]).unwrap();
    ws.remove("Person", gone).unwrap();
    ws
}

#[test]
fn v1_fixtures_read_and_write_identically() {
    let dir = fixtures();
    let ws = fixture_state();
    let variants = [("snapshot.blob", SnapshotOptions::default()), ("snapshot-zstd.blob", SnapshotOptions { zstd_level: Some(3), disable_fsst: false })];
    if std::env::var_os("HOLLOW_BLESS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, opts) in &variants {
            let (blob, _) = write_snapshot(&ws, opts).unwrap();
            std::fs::write(dir.join(name), &blob).unwrap();
        }
        let (blob, _) = write_snapshot(&ws, &SnapshotOptions::default()).unwrap();
        std::fs::write(dir.join("snapshot.dump"), common::dump(&ReadState::from_vec(blob).unwrap())).unwrap();
    }
    let expected_dump = std::fs::read_to_string(dir.join("snapshot.dump")).expect("golden dump (run with HOLLOW_BLESS=1 once)");
    for (name, opts) in &variants {
        let golden = std::fs::read(dir.join(name)).expect("golden blob");
        let state = ReadState::from_vec(golden.clone()).unwrap();
        assert_eq!(common::dump(&state), expected_dump, "{name} reads differently");
        let (today, _) = write_snapshot(&ws, opts).unwrap();
        assert_eq!(today, golden, "{name}: the writer's output changed; bump FORMAT_VERSION and add a new fixture folder");
    }
}
