//! Replays fuzz inputs in the normal test suite: the checked-in seed corpora
//! (`fuzz/corpus/<target>/`) and every input that once crashed a fuzz target
//! (`hollow/tests/fuzz-regressions/<target>/`), through the same target bodies the fuzzer
//! runs (`fuzz/src/lib.rs`, included by path; the `message` target's decoder is the
//! producer's `message.rs`, which depends only on hollow).

use std::path::Path;

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod fuzz_targets;

fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| {
                (
                    e.path().display().to_string(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in [
        root.join("../fuzz/corpus").join(target),
        root.join("tests/fuzz-regressions").join(target),
    ] {
        for (name, data) in inputs(&dir) {
            eprintln!("replaying {name}");
            run(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn snapshot_inputs() {
    assert!(
        replay("snapshot", fuzz_targets::snapshot) > 0,
        "no seed corpus found"
    );
}

#[test]
fn delta_inputs() {
    assert!(
        replay("delta", fuzz_targets::delta) > 0,
        "no seed corpus found"
    );
}

#[test]
fn message_inputs() {
    assert!(
        replay("message", fuzz_targets::message) >= 14,
        "the seed corpus holds two messages per schema"
    );
}

#[test]
fn schema_inputs() {
    assert!(
        replay("schema", fuzz_targets::schema) >= 7,
        "the seed corpus holds the seven schemas"
    );
}

/// The seeds really reach the parsers: every seed snapshot reads, the seed delta applies to
/// the base state, every seed message decodes (upserts and tombstones) and every seed schema
/// parses with its record. (A seed that stopped parsing would make the fuzzer start from
/// nothing.)
#[test]
fn seeds_are_valid_inputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (name, data) in inputs(&root.join("snapshot")) {
        let mut blob = data[1..].to_vec();
        fuzz_targets::fix_checksum(&mut blob);
        hollow::ReadState::from_vec(blob).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let base =
        hollow::ReadState::from_vec(std::fs::read(root.join("../base/items-v1.snapshot")).unwrap())
            .unwrap();
    let (_, d) = inputs(&root.join("delta"))
        .into_iter()
        .find(|(n, _)| n.ends_with("delta-1-2"))
        .expect("delta-1-2 seed");
    hollow::blob::apply_delta(&base, &hollow::Bytes::from_vec(d[1..].to_vec()))
        .expect("the seed delta applies to the base");
    let schemas: Vec<hollow::dataset::DatasetSchema> = [
        "assets",
        "countries",
        "localizations",
        "ratings",
        "rights",
        "titles",
        "videos",
    ]
    .iter()
    .map(|n| {
        hollow::dataset::DatasetSchema::from_file(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../schemas/{n}.json")),
        )
        .unwrap()
    })
    .collect();
    for (name, data) in inputs(&root.join("message")) {
        let ds = &schemas[data[0] as usize % 7];
        let (key, value) = data[3..].split_at(data[2] as usize);
        let value = (data[1] & 2 == 2).then_some(value);
        fuzz_targets::message::decode(ds, Some(key), value)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    for (name, data) in inputs(&root.join("schema")) {
        let i = data.iter().position(|&b| b == 0).unwrap();
        let ds =
            hollow::dataset::DatasetSchema::from_json(std::str::from_utf8(&data[..i]).unwrap())
                .unwrap();
        ds.parse_json(&data[i + 1..])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
