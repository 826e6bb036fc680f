//! Helpers shared by the gatekeeper end-to-end tests: catalogs, reading input and output
//! versions back, exports and their first difference.
#![allow(dead_code)]

use gatekeeper::output::{load_version, read_table, OutputHeader};
use gatekeeper::{Catalog, Dataset, LivenessTable, ReasonTable, ServiceConfig};
use hollow::dataset::DatasetReader;
use hollow::{MemoryMode, ReadState};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A catalog directory of about `limit` titles.
pub fn catalog_dir(limit: usize, seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/gen_catalog.py");
    let python = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if script.is_file() && python {
        let ok = Command::new("python3")
            .arg(&script)
            .arg(dir.path())
            .args(["--limit", &limit.to_string(), "--seed", &seed.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return dir;
        }
    }
    let options = gatekeeper::generate::GenOptions {
        limit: Some(limit),
        seed,
        ..Default::default()
    };
    gatekeeper::generate::generate_with(dir.path(), &options).expect("generating a catalog");
    dir
}

pub fn url(dir: &Path, name: &str) -> String {
    format!("file://{}/{name}", dir.display())
}

pub fn records<T: DeserializeOwned>(d: Dataset, state: &ReadState) -> Vec<T> {
    let ds = d.schema().expect("schema");
    let reader = DatasetReader::new(&ds, state).expect("reader");
    reader
        .root()
        .ordinals()
        .map(|o| {
            serde_json::from_str(&ds.to_json(&reader.record(o).expect("record")))
                .expect("a model record")
        })
        .collect()
}

/// The catalog the input timelines hold at `versions`, read back from hollow.
pub fn catalog_at(inputs: &str, versions: [u64; 7]) -> Catalog {
    let state = |d: Dataset| -> ReadState {
        let store = hollow::store::open_store(&d.store_url(inputs)).expect("store");
        hollow::lifecycle::load_version(store, versions[d.index()], MemoryMode::Heap)
            .expect("input version")
    };
    Catalog {
        countries: records(Dataset::Countries, &state(Dataset::Countries)),
        titles: records(Dataset::Titles, &state(Dataset::Titles)),
        videos: records(Dataset::Videos, &state(Dataset::Videos)),
        rights: records(Dataset::Rights, &state(Dataset::Rights)),
        assets: records(Dataset::Assets, &state(Dataset::Assets)),
        localizations: records(Dataset::Localizations, &state(Dataset::Localizations)),
        ratings: records(Dataset::Ratings, &state(Dataset::Ratings)),
    }
}

pub fn export(table: &LivenessTable) -> String {
    let mut buf = Vec::new();
    table.write_jsonl(&mut buf).expect("export");
    String::from_utf8(buf).expect("UTF-8")
}

pub fn first_difference(a: &str, b: &str) -> String {
    let (x, y): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let at = x
        .iter()
        .zip(&y)
        .position(|(p, q)| p != q)
        .unwrap_or(x.len().min(y.len()));
    format!(
        "line {} ({} vs {} lines)\n  output: {}\n  oracle: {}",
        at + 1,
        x.len(),
        y.len(),
        x.get(at).unwrap_or(&"<none>"),
        y.get(at).unwrap_or(&"<none>")
    )
}

/// The latest version of the output at `out`, its header and its export.
pub fn latest_output(out: &str) -> (u64, OutputHeader, String) {
    let (v, state) = load_version(out, None).expect("output version");
    let header = OutputHeader::parse(v, state.header()).expect("header");
    let table = read_table(&state, &mut Arc::new(ReasonTable::new())).expect("read the output");
    (v, header, export(&table))
}

pub fn to_json<T: serde::Serialize>(records: &[T]) -> Vec<Value> {
    records
        .iter()
        .map(|r| serde_json::to_value(r).expect("JSON"))
        .collect()
}

pub fn config(inputs: Option<&str>, out: &str) -> ServiceConfig {
    let mut c = ServiceConfig::new(inputs, out);
    c.interval = Duration::from_millis(10);
    c.threads = 2;
    c
}
