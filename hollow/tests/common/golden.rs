//! The state behind the golden fixtures of format version 1, and the snapshot variants
//! written of it; shared by the golden test (which only compares) and the
//! `write_golden_fixtures` example (which alone writes fixtures).

use hollow::blob::SnapshotOptions;
use hollow::{Value, WriteState};

/// The snapshot files of a fixture folder and the options each is written with.
pub fn variants() -> [(&'static str, SnapshotOptions); 2] {
    [
        ("snapshot.blob", SnapshotOptions::default()),
        (
            "snapshot-zstd.blob",
            SnapshotOptions {
                zstd_level: Some(3),
                disable_fsst: false,
            },
        ),
    ]
}

/// Every kind of field with extremes, nulls, empty collections, a shared reference and a hole.
pub fn fixture_state() -> WriteState {
    let mut ws = WriteState::new(super::schema());
    ws.set_header("kafka.offsets", "assets/0=1234");
    ws.set_header("now", "1793491200000");
    let things = [
        super::Thing {
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
        super::Thing {
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
        super::Thing {
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
        super::add(&mut ws, t);
    }
    let gone = ws.add_object("Person", &[Value::str("removed")]).unwrap();
    ws.remove("Person", gone).unwrap();
    ws
}
