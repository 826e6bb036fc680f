//! Core format bench (issue: hollow dataset engine). Loads the seven datasets of the
//! scale-1 catalog and prints, per dataset and in total: snapshot bytes (plain strings, FSST
//! strings, zstd), resident bytes after a heap-mode load, bytes per record, mapped-mode open
//! time, full-scan throughput through the generic borrowed API, and the same scan over plain
//! Rust structs in `Vec`s as a same-run baseline.
//!
//! The full scan reads every field of every record as a `Value` (strings as `&str` into the
//! data) and follows list references into their elements. Its headline figure is column at a
//! time (`ObjectView::for_each_value`, the scan API); record at a time (`ColumnView::get` per
//! field, the random-access API) is printed beside it. Both checksums must equal the baseline's.
//!
//! The same full scan is also timed through typed views (`#[derive(Hollow)]` on the
//! baseline structs, `ReadState::typed`), through hand-written column-handle loops
//! (`ObjectView::long`, `string`, ...) and through serde (`ReadState::iter`), on the plain
//! heap state, and printed side by side.
//!
//! Profiling: `HOLLOW_BENCH_KEEP=DIR` keeps the snapshots; the bench binary with
//! `--scan-only DIR [ROUNDS]` then scans them (heap and mapped) without rebuilding them.
//!
//! Run: `cargo bench -p benches --bench core_format` (set `HOLLOW_CATALOG=DIR` to use an
//! existing catalog; otherwise it is generated with `../shared/tools/gen_catalog.py`).

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use benches::*;
use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::dataset::DatasetSchema;
use hollow::read::{ColumnView, ListView};
use hollow::{Hollow, OpenOptions, ReadState, Value};
use serde::Deserialize;

const ZSTD_LEVEL: i32 = 9;

/// Runs of each full scan (hollow's and the baseline's); the best is reported. This VM's
/// figures move by ±25 % between runs with other tenants' load, so one run is not enough.
const SCAN_ROUNDS: usize = 7;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--measure-rss") {
        // child mode: load the given snapshots in heap mode and report resident memory
        let before = rss_bytes();
        let states: Vec<ReadState> = args[i + 1..]
            .iter()
            .map(|p| ReadState::open(Path::new(p), OpenOptions::heap()).expect("heap load"))
            .collect();
        let after = rss_bytes();
        let heap: usize = states.iter().map(|s| s.heap_bytes()).sum();
        println!("{} {} {}", before, after, heap);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--scan-only") {
        // profiling mode: scan snapshots kept by an earlier run (HOLLOW_BENCH_KEEP=DIR), in both
        // memory modes, and print the rates; `--scan-only DIR [ROUNDS [DATASET]]`
        let keep = Path::new(args.get(i + 1).map(String::as_str).unwrap_or("."));
        let rounds: usize = args.get(i + 2).and_then(|r| r.parse().ok()).unwrap_or(5);
        let only = args.get(i + 3);
        for name in DATASETS.iter().filter(|n| only.is_none_or(|o| o == *n)) {
            let schema = dataset_schema(name);
            let path = keep.join(format!("{name}.plain.snapshot"));
            for opts in [OpenOptions::heap(), OpenOptions::mapped()] {
                let state = ReadState::open(&path, opts).expect("open");
                let n = state.record_count(&schema.type_name).expect("count");
                let (s, _, _) = best_of(rounds, || scan_values(&schema, &state));
                let (c, _, _) = best_of(rounds, || scan_state(&schema, &state));
                println!(
                    "{name:<14} {:?}: column scan {:.1} M rec/s, row scan {:.1} M rec/s",
                    opts.mode,
                    n as f64 / s / 1e6,
                    n as f64 / c / 1e6
                );
            }
        }
        return;
    }
    let Some(dir) = catalog_dir(1) else {
        println!("core_format: skipped: no catalog (set HOLLOW_CATALOG or provide ../shared/tools/gen_catalog.py)");
        return;
    };
    let out = tempdir();
    println!("catalog: {}", dir.display());
    println!(
        "{:<14} {:>9} {:>11} {:>11} {:>10} {:>11} {:>11} {:>7} {:>9} {:>10} {:>10} {:>6}",
        "dataset",
        "records",
        "snap plain",
        "snap fsst",
        "snap zstd",
        "heap plain",
        "heap fsst",
        "B/rec",
        "open map",
        "scan M/s",
        "base M/s",
        "ratio"
    );
    let mut tot = Totals::default();
    for name in DATASETS {
        let schema = dataset_schema(name);
        let records = read_records(&schema, &dir);
        let ws = write_state(&schema, &records);
        let n = records.len() as u64;
        drop(records);
        let (plain, _) = write_snapshot(
            &ws,
            &SnapshotOptions {
                disable_fsst: true,
                ..Default::default()
            },
        )
        .expect("snapshot");
        let (fsst, _) = write_snapshot(&ws, &SnapshotOptions::default()).expect("snapshot");
        let (zstd, _) = write_snapshot(
            &ws,
            &SnapshotOptions {
                zstd_level: Some(ZSTD_LEVEL),
                disable_fsst: true,
            },
        )
        .expect("snapshot");
        drop(ws);
        let plain_path = out.join(format!("{name}.plain.snapshot"));
        let fsst_path = out.join(format!("{name}.fsst.snapshot"));
        std::fs::write(&plain_path, &plain).expect("write");
        std::fs::write(&fsst_path, &fsst).expect("write");

        // heap-mode loads: resident bytes
        let heap_plain = ReadState::open(&plain_path, OpenOptions::heap()).expect("heap load");
        let heap_plain_bytes = heap_plain.heap_bytes() as u64;
        let (heap_fsst, load_s) =
            timed(|| ReadState::open(&fsst_path, OpenOptions::heap()).expect("heap load"));
        let heap_fsst_bytes = heap_fsst.heap_bytes() as u64;
        let zstd_state = ReadState::from_vec(zstd.clone()).expect("zstd load");
        assert_eq!(zstd_state.record_count(&schema.type_name).unwrap(), n);
        drop(zstd_state);

        // mapped open (files are in the page cache; best of 5)
        let mut open_best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let m = ReadState::open(&plain_path, OpenOptions::mapped()).expect("mapped open");
            open_best = open_best.min(t.elapsed().as_secs_f64());
            black_box(&m);
        }

        // full scans, plain strings, one thread: column at a time through `for_each_value`
        // (the headline, best of SCAN_ROUNDS like the baseline), record at a time through `get`
        let scan = best_of(SCAN_ROUNDS, || scan_values(&schema, &heap_plain));
        let scan_row = best_of(SCAN_ROUNDS, || scan_state(&schema, &heap_plain));
        let mapped = ReadState::open(&plain_path, OpenOptions::mapped()).expect("mapped open");
        let scan_mapped = best_of(3, || scan_values(&schema, &mapped));
        let scan_fsst = best_of(1, || scan_values(&schema, &heap_fsst));
        let base = baseline_scan(name, &dir);
        let [typed, handles, serde] = three_scans(&heap_plain, name);
        for (what, scan) in [
            ("typed view", typed),
            ("column handle", handles),
            ("serde", serde),
        ] {
            assert_eq!(
                scan.1, base.1,
                "{name}: {what} scan and baseline scan disagree"
            );
        }
        assert_eq!(
            scan.1, base.1,
            "{name}: hollow scan and baseline scan disagree"
        );
        assert_eq!(
            scan_row.1, base.1,
            "{name}: hollow row scan and baseline scan disagree"
        );
        assert_eq!(
            scan_mapped.1, base.1,
            "{name}: hollow mapped scan and baseline scan disagree"
        );
        assert_eq!(
            scan_fsst.1, base.1,
            "{name}: hollow fsst scan and baseline scan disagree"
        );
        let scan_rate = n as f64 / scan.0 / 1e6;
        let base_rate = n as f64 / base.0 / 1e6;
        println!(
            "{:<14} {:>9} {:>11} {:>11} {:>10} {:>11} {:>11} {:>7.1} {:>7.3}ms {:>10.1} {:>10.1} {:>6.2}",
            name,
            n,
            mb(plain.len() as u64),
            mb(fsst.len() as u64),
            mb(zstd.len() as u64),
            mb(heap_plain_bytes),
            mb(heap_fsst_bytes),
            heap_fsst_bytes as f64 / n as f64,
            open_best * 1e3,
            scan_rate,
            base_rate,
            scan_rate / base_rate
        );
        println!(
            "{:<14} scan in CPU time {:.1} M rec/s (baseline {:.1}); record-at-a-time scan (get) {:.1} M rec/s; heap load (fsst) {:.3}s, mapped scan {:.1} M rec/s, fsst scan {:.1} M rec/s",
            "",
            n as f64 / scan.2 / 1e6,
            n as f64 / base.2 / 1e6,
            n as f64 / scan_row.0 / 1e6,
            load_s,
            n as f64 / scan_mapped.0 / 1e6,
            n as f64 / scan_fsst.0 / 1e6
        );
        println!(
            "{:<14} typed views {:.1} M rec/s, column handles {:.1} M rec/s, serde get {:.1} M rec/s (typed/handles {:.2}, typed/serde {:.1}x)",
            "",
            n as f64 / typed.0 / 1e6,
            n as f64 / handles.0 / 1e6,
            n as f64 / serde.0 / 1e6,
            handles.0 / typed.0,
            serde.0 / typed.0
        );
        if name == "assets" {
            let (typed_ns, untyped_ns, n) = pk_lookups(&heap_plain);
            println!(
                "{:<14} primary-key lookups of all {n} assets, shuffled, best CPU time of {SCAN_ROUNDS}: typed (PrimaryKeyIndex<Asset>::get → view, + one field) {typed_ns:.1} ns each (target ≤ 100), untyped (PrimaryKeyIndex::get → ordinal) {untyped_ns:.1} ns",
                ""
            );
        }
        tot.typed_s += typed.0;
        tot.handles_s += handles.0;
        tot.serde_s += serde.0;
        tot.records += n;
        tot.plain += plain.len() as u64;
        tot.fsst += fsst.len() as u64;
        tot.zstd += zstd.len() as u64;
        tot.heap_plain += heap_plain_bytes;
        tot.heap_fsst += heap_fsst_bytes;
        tot.open += open_best;
        tot.scan_s += scan.0;
        tot.row_s += scan_row.0;
        tot.base_s += base.0;
        tot.scan_cpu += scan.2;
        tot.base_cpu += base.2;
    }
    // Resident memory of a fresh process holding all seven states in heap mode.
    for variant in ["plain", "fsst"] {
        let files: Vec<String> = DATASETS
            .iter()
            .map(|n| {
                out.join(format!("{n}.{variant}.snapshot"))
                    .display()
                    .to_string()
            })
            .collect();
        let child = std::process::Command::new(std::env::current_exe().expect("exe"))
            .arg("--measure-rss")
            .args(&files)
            .output()
            .expect("child");
        let text = String::from_utf8_lossy(&child.stdout);
        let nums: Vec<u64> = text
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if let [before, after, heap] = nums[..] {
            println!(
                "resident after a heap-mode load of all seven ({variant} strings), measured in a fresh process: RSS +{} (process total {}), state heap bytes {}",
                mb(after - before),
                mb(after),
                mb(heap)
            );
        }
    }
    // Opening all seven mapped, back to back.
    let t = Instant::now();
    let states: Vec<ReadState> = DATASETS
        .iter()
        .map(|n| {
            ReadState::open(
                &out.join(format!("{n}.plain.snapshot")),
                OpenOptions::mapped(),
            )
            .expect("open")
        })
        .collect();
    let open_all = t.elapsed().as_secs_f64();
    black_box(&states);
    println!(
        "{:<14} {:>9} {:>11} {:>11} {:>10} {:>11} {:>11} {:>7.1} {:>7.3}ms {:>10.1} {:>10.1} {:>6.2}",
        "TOTAL",
        tot.records,
        mb(tot.plain),
        mb(tot.fsst),
        mb(tot.zstd),
        mb(tot.heap_plain),
        mb(tot.heap_fsst),
        tot.heap_fsst as f64 / tot.records as f64,
        tot.open * 1e3,
        tot.records as f64 / tot.scan_s / 1e6,
        tot.records as f64 / tot.base_s / 1e6,
        tot.base_s / tot.scan_s
    );
    println!(
        "all seven opened mapped in one go: {:.3} ms",
        open_all * 1e3
    );
    println!(
        "full scan of every field, one thread, best of {SCAN_ROUNDS}, column at a time (ObjectView::for_each_value): {:.1} M rec/s wall, {:.1} M rec/s in CPU time; record at a time (ColumnView::get): {:.1} M rec/s (baseline structs: {:.1} wall, {:.1} CPU)",
        tot.records as f64 / tot.scan_s / 1e6,
        tot.records as f64 / tot.scan_cpu / 1e6,
        tot.records as f64 / tot.row_s / 1e6,
        tot.records as f64 / tot.base_s / 1e6,
        tot.records as f64 / tot.base_cpu / 1e6
    );
    println!(
        "full scan of every field through typed views (ReadState::typed, #[derive(Hollow)]): {:.1} M rec/s; column handles (ObjectView::long/string/...): {:.1} M rec/s; serde get (ReadState::iter): {:.1} M rec/s; typed/handles {:.2} (target ≥ 0.90), typed/serde {:.1}x (target ≥ 2); against the same run's struct baseline: typed views {:.2}x, column scan {:.2}x",
        tot.records as f64 / tot.typed_s / 1e6,
        tot.records as f64 / tot.handles_s / 1e6,
        tot.records as f64 / tot.serde_s / 1e6,
        tot.handles_s / tot.typed_s,
        tot.serde_s / tot.typed_s,
        tot.base_s / tot.typed_s,
        tot.base_s / tot.scan_s
    );
    println!(
        "targets: heap ≤ 120 MB (fsst: {}), stored ≤ 60 MB compressed (zstd: {}), ≤ 150 MB uncompressed (plain: {}), mapped open < 10 ms ({:.3} ms), scan ≥ 30 M rec/s ({:.1})",
        mb(tot.heap_fsst),
        mb(tot.zstd),
        mb(tot.plain),
        open_all * 1e3,
        tot.records as f64 / tot.scan_s / 1e6
    );
    match std::env::var_os("HOLLOW_BENCH_KEEP") {
        Some(keep) => {
            std::fs::create_dir_all(&keep).expect("keep dir");
            for e in std::fs::read_dir(&out).expect("out").flatten() {
                std::fs::rename(e.path(), Path::new(&keep).join(e.file_name())).expect("keep");
            }
            let _ = std::fs::remove_dir_all(&out);
            println!("snapshots kept in {}", Path::new(&keep).display());
        }
        None => {
            let _ = std::fs::remove_dir_all(&out);
        }
    }
}

#[derive(Default)]
struct Totals {
    records: u64,
    plain: u64,
    fsst: u64,
    zstd: u64,
    heap_plain: u64,
    heap_fsst: u64,
    open: f64,
    scan_s: f64,
    row_s: f64,
    base_s: f64,
    scan_cpu: f64,
    base_cpu: f64,
    typed_s: f64,
    handles_s: f64,
    serde_s: f64,
}

fn tempdir() -> std::path::PathBuf {
    let d = workspace_root()
        .join("target")
        .join(format!("core-format-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tempdir");
    d
}

/// Best wall time, checksum, best CPU time of `n` runs.
fn best_of(n: usize, mut f: impl FnMut() -> u64) -> (f64, u64, f64) {
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut sum = 0;
    for _ in 0..n {
        let c = thread_cpu_ns();
        let t = Instant::now();
        sum = black_box(f());
        best = best.min(t.elapsed().as_secs_f64());
        best_cpu = best_cpu.min((thread_cpu_ns() - c) as f64 / 1e9);
    }
    (best, sum, best_cpu)
}

/// The list views a scan follows for each list field (`None` for scalar fields).
fn list_views<'a>(
    schema: &DatasetSchema,
    state: &'a ReadState,
) -> Vec<Option<(ListView<'a>, ColumnView<'a>)>> {
    schema
        .fields
        .iter()
        .map(|f| {
            f.list_types().map(|(elem, list)| {
                (
                    state.list(&list).expect("list"),
                    state
                        .object(elem)
                        .expect("elem")
                        .column_at(0)
                        .expect("value"),
                )
            })
        })
        .collect()
}

/// What a scan adds to its checksum for one value (list references followed into their
/// elements); the baseline adds the same for the same field.
#[inline(always)]
fn fold_value(v: &Value<'_>, list: Option<&(ListView<'_>, ColumnView<'_>)>) -> u64 {
    match v {
        Value::Null => 1,
        Value::Bool(b) => 2 + *b as u64,
        Value::I32(x) => *x as i64 as u64,
        Value::I64(x) => *x as u64,
        Value::Str(s) => s.len() as u64 + s.as_bytes().first().copied().unwrap_or(0) as u64,
        Value::Ref(r) => fold_list(*r, list),
        Value::F32(_) | Value::F64(_) | Value::Bytes(_) => unexpected(),
    }
}

#[inline(never)]
fn fold_list(r: u32, list: Option<&(ListView<'_>, ColumnView<'_>)>) -> u64 {
    let (list, elem) = list.expect("list field");
    let mut a = 7u64;
    for e in list.elements(r).expect("elements") {
        if let Value::Str(s) = elem.get(e).expect("element") {
            a = a.wrapping_add(s.len() as u64 + s.as_bytes().first().copied().unwrap_or(0) as u64);
        }
    }
    a
}

#[cold]
#[inline(never)]
fn unexpected() -> u64 {
    panic!("the catalog has no float or bytes field")
}

/// Reads every field of every record through the generic borrowed API, record by record
/// (`ColumnView::get` → `Value` per field, `&str` into the data), following list references
/// into their elements. Returns a checksum equal to [`baseline_scan`]'s.
fn scan_state(schema: &DatasetSchema, state: &ReadState) -> u64 {
    let root = state.object(&schema.type_name).expect("root type");
    let cols: Vec<ColumnView<'_>> = root.columns().to_vec();
    let lists = list_views(schema, state);
    let mut acc = 0u64;
    for ord in root.ordinals() {
        for (i, c) in cols.iter().enumerate() {
            acc = acc.wrapping_add(match c.get(ord).expect("value") {
                Value::Null => 1,
                Value::Bool(b) => 2 + b as u64,
                Value::I32(x) => x as i64 as u64,
                Value::I64(x) => x as u64,
                Value::Str(s) => s.len() as u64 + s.as_bytes().first().copied().unwrap_or(0) as u64,
                Value::Ref(r) => fold_list(r, lists[i].as_ref()),
                Value::F32(_) | Value::F64(_) | Value::Bytes(_) => unexpected(),
            });
        }
    }
    acc
}

/// The same full scan column by column through `ObjectView::for_each_value`.
fn scan_values(schema: &DatasetSchema, state: &ReadState) -> u64 {
    let root = state.object(&schema.type_name).expect("root type");
    let lists = list_views(schema, state);
    let mut acc = 0u64;
    for (i, list) in lists.iter().enumerate() {
        root.for_each_value(i, |_, v| {
            acc = acc.wrapping_add(fold_value(&v, list.as_ref()))
        })
        .expect("scan");
    }
    acc
}

// ---- the baseline: plain Rust structs in Vecs (the same structs derive the typed views) ----

#[derive(Deserialize, Hollow)]
struct Country {
    #[hollow(primary_key)]
    code: String,
    name: String,
    primary_language: String,
    required_languages: Vec<String>,
    requires_captions: bool,
    rating_required: bool,
}
#[derive(Deserialize, Hollow)]
struct Title {
    #[hollow(primary_key)]
    id: i64,
    kind: String,
    name: String,
    original_language: String,
    release_year: Option<i32>,
    genres: Vec<String>,
    cast: Vec<String>,
    directors: Vec<String>,
}
#[derive(Deserialize, Hollow)]
struct Video {
    #[hollow(primary_key)]
    id: i64,
    title_id: i64,
    kind: String,
    season: Option<i32>,
    episode: Option<i32>,
    runtime_minutes: Option<i32>,
}
#[derive(Deserialize, Hollow)]
struct Right {
    #[hollow(primary_key)]
    title_id: i64,
    #[hollow(primary_key)]
    country: String,
    #[hollow(primary_key)]
    window_start: i64,
    window_end: Option<i64>,
}
#[derive(Deserialize, Hollow)]
struct Asset {
    #[hollow(primary_key)]
    id: i64,
    video_id: i64,
    kind: String,
    language: Option<String>,
    status: String,
}
#[derive(Deserialize, Hollow)]
struct Localization {
    #[hollow(primary_key)]
    title_id: i64,
    #[hollow(primary_key)]
    language: String,
    name: Option<String>,
    #[hollow(compressed)]
    synopsis: Option<String>,
}
#[derive(Deserialize, Hollow)]
struct Rating {
    #[hollow(primary_key)]
    title_id: i64,
    #[hollow(primary_key)]
    country: String,
    board: String,
    rating: String,
}

fn s(x: &str) -> u64 {
    x.len() as u64 + x.as_bytes().first().copied().unwrap_or(0) as u64
}
fn os(x: &Option<String>) -> u64 {
    x.as_deref().map_or(1, s)
}
fn oi(x: Option<i32>) -> u64 {
    x.map_or(1, |v| v as i64 as u64)
}
fn oi64(x: Option<i64>) -> u64 {
    x.map_or(1, |v| v as u64)
}
fn b(x: bool) -> u64 {
    2 + x as u64
}
fn l(x: &[String]) -> u64 {
    x.iter().fold(7u64, |a, e| a.wrapping_add(s(e)))
}
fn sum(parts: &[u64]) -> u64 {
    parts.iter().fold(0u64, |a, p| a.wrapping_add(*p))
}

fn load<T: for<'de> Deserialize<'de>>(
    dir: &Path,
    name: &str,
    key: impl Fn(&T) -> String,
) -> Vec<T> {
    let text = std::fs::read(dir.join(format!("{name}.jsonl"))).expect("read");
    let mut out: Vec<T> = Vec::new();
    let mut idx = std::collections::HashMap::new();
    for line in text.split(|c| *c == b'\n').filter(|l| !l.is_empty()) {
        let v: T = serde_json::from_slice(line).expect("json");
        let k = key(&v);
        match idx.get(&k) {
            Some(i) => out[*i] = v,
            None => {
                idx.insert(k, out.len());
                out.push(v);
            }
        }
    }
    out
}

fn time_scan<T>(v: &[T], f: impl Fn(&T) -> u64) -> (f64, u64, f64) {
    best_of(SCAN_ROUNDS, || {
        v.iter().fold(0u64, |a, x| a.wrapping_add(f(black_box(x))))
    })
}

fn fold_country(c: &Country) -> u64 {
    sum(&[
        s(&c.code),
        s(&c.name),
        s(&c.primary_language),
        l(&c.required_languages),
        b(c.requires_captions),
        b(c.rating_required),
    ])
}
fn fold_title(t: &Title) -> u64 {
    sum(&[
        t.id as u64,
        s(&t.kind),
        s(&t.name),
        s(&t.original_language),
        oi(t.release_year),
        l(&t.genres),
        l(&t.cast),
        l(&t.directors),
    ])
}
fn fold_video(v: &Video) -> u64 {
    sum(&[
        v.id as u64,
        v.title_id as u64,
        s(&v.kind),
        oi(v.season),
        oi(v.episode),
        oi(v.runtime_minutes),
    ])
}
fn fold_right(r: &Right) -> u64 {
    sum(&[
        r.title_id as u64,
        s(&r.country),
        r.window_start as u64,
        oi64(r.window_end),
    ])
}
fn fold_asset(a: &Asset) -> u64 {
    sum(&[
        a.id as u64,
        a.video_id as u64,
        s(&a.kind),
        os(&a.language),
        s(&a.status),
    ])
}
fn fold_localization(l: &Localization) -> u64 {
    sum(&[
        l.title_id as u64,
        s(&l.language),
        os(&l.name),
        os(&l.synopsis),
    ])
}
fn fold_rating(r: &Rating) -> u64 {
    sum(&[r.title_id as u64, s(&r.country), s(&r.board), s(&r.rating)])
}

fn baseline_scan(name: &str, dir: &Path) -> (f64, u64, f64) {
    match name {
        "countries" => time_scan(&load(dir, name, |c: &Country| c.code.clone()), fold_country),
        "titles" => time_scan(&load(dir, name, |t: &Title| t.id.to_string()), fold_title),
        "videos" => time_scan(&load(dir, name, |v: &Video| v.id.to_string()), fold_video),
        "rights" => time_scan(
            &load(dir, name, |r: &Right| {
                format!("{}|{}|{}", r.title_id, r.country, r.window_start)
            }),
            fold_right,
        ),
        "assets" => time_scan(&load(dir, name, |a: &Asset| a.id.to_string()), fold_asset),
        "localizations" => time_scan(
            &load(dir, name, |l: &Localization| {
                format!("{}|{}", l.title_id, l.language)
            }),
            fold_localization,
        ),
        "ratings" => time_scan(
            &load(dir, name, |r: &Rating| {
                format!("{}|{}", r.title_id, r.country)
            }),
            fold_rating,
        ),
        other => panic!("unknown dataset {other}"),
    }
}

#[path = "core_format/typed_scans.rs"]
mod typed_scans;
use typed_scans::{pk_lookups, three_scans};
