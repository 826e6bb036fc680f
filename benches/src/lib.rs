//! Shared helpers for the benchmarks: locating (or generating) the scale-1 catalog and
//! loading its JSON Lines datasets into write states.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hollow::dataset::{DatasetSchema, Record};
use hollow::WriteState;

/// The seven datasets of the gatekeeper contract, in a stable order.
pub const DATASETS: [&str; 7] = [
    "countries",
    "titles",
    "videos",
    "rights",
    "assets",
    "localizations",
    "ratings",
];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ has a parent")
        .to_path_buf()
}

/// The dataset schema shipped in `schemas/<name>.json`.
pub fn dataset_schema(name: &str) -> DatasetSchema {
    let path = workspace_root()
        .join("schemas")
        .join(format!("{name}.json"));
    DatasetSchema::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The catalog directory for a scale: `$HOLLOW_CATALOG` if set, else a cached
/// `target/catalog-scale{K}` generated with `../shared/tools/gen_catalog.py`. `None` when
/// neither is available.
pub fn catalog_dir(scale: u32) -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("HOLLOW_CATALOG") {
        return Some(PathBuf::from(dir));
    }
    let dir = workspace_root()
        .join("target")
        .join(format!("catalog-scale{scale}"));
    if dir.join("ratings.jsonl").exists() {
        return Some(dir);
    }
    let tool = workspace_root().join("../shared/tools/gen_catalog.py");
    if !tool.exists() {
        return None;
    }
    eprintln!(
        "generating the scale-{scale} catalog into {} ...",
        dir.display()
    );
    let tmp = dir.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).ok()?;
    let ok = std::process::Command::new("python3")
        .arg(&tool)
        .arg(&tmp)
        .arg("--scale")
        .arg(scale.to_string())
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    std::fs::rename(&tmp, &dir).ok()?;
    Some(dir)
}

/// Reads `<dir>/<dataset>.jsonl` (a later line with the same key replaces an earlier one).
pub fn read_records(schema: &DatasetSchema, dir: &Path) -> Vec<Record> {
    let path = dir.join(format!("{}.jsonl", schema.dataset));
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut records: Vec<Record> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (n, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let rec = schema
            .parse_json(line)
            .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1));
        let key = hollow::key::of_record(schema, &rec);
        match by_key.get(&key) {
            Some(i) => records[*i] = rec,
            None => {
                by_key.insert(key, records.len());
                records.push(rec);
            }
        }
    }
    records
}

/// Builds a write state of a dataset from records.
pub fn write_state(schema: &DatasetSchema, records: &[Record]) -> WriteState {
    let mut ws = WriteState::new(schema.schema_set().expect("schema"));
    for r in records {
        schema.add(&mut ws, r).expect("add record");
    }
    ws
}

/// Resident set size of this process in bytes (Linux), for memory reports.
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// Times a closure, returning its result and seconds.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed().as_secs_f64())
}

/// Formats bytes as MB (10^6).
pub fn mb(b: u64) -> String {
    format!("{:.1} MB", b as f64 / 1e6)
}

/// CPU time of the calling thread in nanoseconds (Linux `/proc/thread-self/schedstat`; 0
/// elsewhere). Throughput "on one core" is measured in CPU time so that other processes on a
/// shared machine do not count against it; wall time is printed too.
pub fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}
