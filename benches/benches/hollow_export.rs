//! `hollow export` bench (issue #15): the real `hollow` binary streams every record of the
//! scale-1 `assets` dataset (1.6 M records) as JSON lines and as CSV, and the bench prints
//! records per second (median of the runs), output bytes per record, the child's resident
//! memory over the export (flat: it must not grow with the output) and ratios against
//! same-run baselines: the obvious exporter as a process (this bench re-run with
//! `--serde-child`: the same spawn and load, then one `serde_json` map serialized per record
//! into the same pipe), and `cat` of the same bytes (the ceiling of the pipe and the reader).
//! The in-process `serde_json` rate (state already loaded, no pipe) is printed too.
//!
//! The store is written by hollow's `Producer` as a service would write it: version 1 is
//! the whole catalog, version 2 changes 1 % of the records and deletes 0.1 %, so `hollow
//! export` loads a snapshot and applies a delta before it streams the announced version.
//!
//! Checks (the bench exits non-zero when one fails): the binary writes one line per record
//! of the announced state, and its lines mean the same JSON as the baseline's (compared
//! line by line as parsed values when the bytes differ); the CSV has a header and one line
//! per record.
//!
//! Run: `cargo build --release -p hollow-cli && cargo bench -p benches --bench hollow_export`
//! (`HOLLOW_CATALOG=DIR` uses an existing catalog; `HOLLOW_EXPORT_RUNS=N` sets the runs,
//! default 5).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use benches::*;
use hollow::lifecycle::{load_version, Producer, ProducerConfig, Timeline};
use hollow::store::FolderStore;
use hollow::{MemoryMode, ReadState, Value};
use serde::ser::{SerializeMap, Serializer};

type Res<T> = Result<T, String>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--serde-child") {
        // the baseline as a process: load the announced version of STORE/assets as `hollow`
        // does and write every record through serde_json to stdout
        let result = args
            .get(i + 1)
            .ok_or_else(|| "--serde-child STORE".to_owned())
            .and_then(|store| serde_child(Path::new(store)));
        if let Err(e) = result {
            eprintln!("hollow_export --serde-child: {e}");
            std::process::exit(1);
        }
        return;
    }
    if let Err(e) = run() {
        eprintln!("hollow_export: FAILED: {e}");
        std::process::exit(1);
    }
}

fn bin(name: &str) -> Res<PathBuf> {
    // target/release/deps/hollow_export-* → target/release/<name>
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("the bench's folder")?;
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: cargo build --release -p hollow-cli first",
            path.display()
        ))
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `VmRSS` and `VmHWM` of a process, in bytes.
fn child_mem(pid: u32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = s.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// One export by the binary.
struct Run {
    /// From spawn to the end of the output.
    total_s: f64,
    /// From the first output byte to the end (streaming only, after the load).
    stream_s: f64,
    lines: u64,
    bytes: u64,
    hash: u64,
    /// Resident memory when the first output arrived, at the middle of the output, at the end.
    rss_first: u64,
    rss_mid: u64,
    rss_last: u64,
    /// The child's peak resident memory.
    hwm: u64,
    /// The output, kept when asked (for the line-by-line comparison).
    kept: Option<Vec<u8>>,
}

fn export_once(hollow: &Path, store: &Path, format: &str, keep: bool) -> Res<Run> {
    let mut cmd = Command::new(hollow);
    cmd.arg("--store")
        .arg(store)
        .args(["export", "assets", "--format", format])
        .env_remove("HOLLOW_STORE");
    read_child(cmd, keep)
}

/// Runs `cmd` and reads its stdout to the end, as `export_once` reads the export.
fn read_child(mut cmd: Command, keep: bool) -> Res<Run> {
    let started = Instant::now();
    let program = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    let pid = child.id();
    let mut out = child.stdout.take().ok_or("no stdout")?;
    // A sampler thread reads the child's memory every 20 ms, tagged with the bytes read so far.
    let read_so_far = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let samples: Arc<Mutex<Vec<(u64, u64, u64)>>> = Arc::default();
    let sampler = {
        let (read_so_far, done, samples) = (read_so_far.clone(), done.clone(), samples.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some((rss, hwm)) = child_mem(pid) {
                    let at = read_so_far.load(Ordering::Relaxed);
                    samples.lock().unwrap().push((at, rss, hwm));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut bytes) = (0u64, 0u64);
    let mut hasher = DefaultHasher::new();
    let mut first: Option<Instant> = None;
    let mut kept = keep.then(Vec::new);
    loop {
        let n = out.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        first.get_or_insert_with(Instant::now);
        let chunk = &buf[..n];
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        bytes += n as u64;
        hasher.write(chunk);
        if let Some(k) = kept.as_mut() {
            k.extend_from_slice(chunk);
        }
        read_so_far.store(bytes, Ordering::Relaxed);
    }
    let end = Instant::now();
    // the last sample, taken after the output ended and before the child exits
    let last = child_mem(pid);
    done.store(true, Ordering::Relaxed);
    sampler.join().map_err(|_| "sampler panicked")?;
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("{program} exited with {status}: {err}"));
    }
    let samples = samples.lock().unwrap();
    let first_sample = samples
        .iter()
        .find(|s| s.0 > 0)
        .or(samples.last())
        .ok_or("no memory sample of the child")?;
    let mid = samples
        .iter()
        .find(|s| s.0 >= bytes / 2)
        .unwrap_or(first_sample);
    let (rss_last, hwm_last) = last.map_or((samples.last().unwrap().1, 0), |m| m);
    let hwm = samples.iter().map(|s| s.2).max().unwrap_or(0).max(hwm_last);
    let first = first.ok_or("the export wrote nothing")?;
    Ok(Run {
        total_s: (end - started).as_secs_f64(),
        stream_s: (end - first).as_secs_f64(),
        lines,
        bytes,
        hash: hasher.finish(),
        rss_first: first_sample.1,
        rss_mid: mid.1,
        rss_last,
        hwm,
        kept,
    })
}

/// A record as `serde_json` writes it: a map of its fields in schema order.
struct JsonRecord<'a> {
    names: &'a [String],
    values: &'a [Value<'a>],
}

impl serde::Serialize for JsonRecord<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.names.len()))?;
        for (n, v) in self.names.iter().zip(self.values) {
            match v {
                Value::Null => m.serialize_entry(n, &())?,
                Value::Bool(b) => m.serialize_entry(n, b)?,
                Value::I32(i) => m.serialize_entry(n, i)?,
                Value::I64(i) => m.serialize_entry(n, i)?,
                Value::F32(f) => m.serialize_entry(n, f)?,
                Value::F64(f) => m.serialize_entry(n, f)?,
                Value::Str(t) => m.serialize_entry(n, t)?,
                Value::Bytes(b) => m.serialize_entry(n, &String::from_utf8_lossy(b))?,
                Value::Ref(r) => m.serialize_entry(n, r)?,
            }
        }
        m.end()
    }
}

fn serde_child(store: &Path) -> Res<()> {
    let store = Arc::new(FolderStore::new(store.join("assets")).map_err(|e| e.to_string())?);
    let v = Timeline::new(store.clone())
        .target()
        .map_err(|e| e.to_string())?
        .ok_or("nothing announced")?;
    let state = load_version(store, v, MemoryMode::Heap).map_err(|e| e.to_string())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    write_serde(&state, &mut out)?;
    out.flush().map_err(|e| e.to_string())
}

/// Every record of `Asset` through `serde_json`, one line each.
fn write_serde(state: &ReadState, out: &mut impl Write) -> Res<()> {
    let view = state.object("Asset").map_err(|e| e.to_string())?;
    let names: Vec<String> = view
        .schema()
        .fields
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let columns = view.columns();
    let mut values = Vec::with_capacity(names.len());
    for o in view.ordinals() {
        values.clear();
        for c in columns {
            values.push(c.get(o).map_err(|e| e.to_string())?);
        }
        serde_json::to_writer(
            &mut *out,
            &JsonRecord {
                names: &names,
                values: &values,
            },
        )
        .map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// What the in-process baseline wrote: seconds, lines, bytes, hash, the bytes when kept.
type Baseline = (f64, u64, u64, u64, Option<Vec<u8>>);

/// The baseline in this process: every record of `Asset` through `serde_json`, into a sink
/// that hashes.
fn baseline(state: &ReadState, keep: bool) -> Res<Baseline> {
    struct Sink {
        hasher: DefaultHasher,
        bytes: u64,
        lines: u64,
        kept: Option<Vec<u8>>,
    }
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.hasher.write(b);
            self.bytes += b.len() as u64;
            self.lines += b.iter().filter(|c| **c == b'\n').count() as u64;
            if let Some(k) = self.kept.as_mut() {
                k.extend_from_slice(b);
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let t = Instant::now();
    let mut out = std::io::BufWriter::with_capacity(
        64 * 1024,
        Sink {
            hasher: DefaultHasher::new(),
            bytes: 0,
            lines: 0,
            kept: keep.then(Vec::new),
        },
    );
    write_serde(state, &mut out)?;
    let sink = out.into_inner().map_err(|e| e.to_string())?;
    Ok((
        t.elapsed().as_secs_f64(),
        sink.lines,
        sink.bytes,
        sink.hasher.finish(),
        sink.kept,
    ))
}

fn run() -> Res<()> {
    let runs: usize = std::env::var("HOLLOW_EXPORT_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let hollow = bin("hollow")?;
    let Some(dir) = catalog_dir(1) else {
        println!("hollow_export: skipped: no catalog (set HOLLOW_CATALOG or provide ../shared/tools/gen_catalog.py)");
        return Ok(());
    };
    println!(
        "catalog: {}; load average at start: {}",
        dir.display(),
        loadavg()
    );
    let schema = dataset_schema("assets");
    let (records, read_s) = timed(|| read_records(&schema, &dir));

    // The store, as the producer writes it.
    let tmp = std::env::temp_dir().join(format!("hollow-export-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let store = Arc::new(FolderStore::new(tmp.join("assets")).map_err(|e| e.to_string())?);
    let t = Instant::now();
    let mut p = Producer::open(
        store.clone(),
        schema.schema_set().map_err(|e| e.to_string())?,
        ProducerConfig::default(),
    )
    .map_err(|e| e.to_string())?;
    p.cycle(|c| {
        for r in &records {
            c.upsert_record(&schema, r)?;
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    // version 2: 1 % of the records change status, 0.1 % are deleted
    let (mut changed, mut deleted) = (0u64, 0u64);
    p.cycle(|c| {
        for (i, r) in records.iter().enumerate() {
            if i % 1000 == 7 {
                c.delete_key(&schema, &hollow::key::of_record(&schema, r))?;
                deleted += 1;
            } else if i % 100 == 3 {
                let mut json: serde_json::Value = serde_json::from_str(&schema.to_json(r))
                    .map_err(|e| hollow::Error::Callback(Box::new(e)))?;
                json["status"] = serde_json::Value::from(match json["status"].as_str() {
                    Some("READY") => "FAILED",
                    _ => "READY",
                });
                let rec = schema.parse_value(&json)?;
                c.upsert_record(&schema, &rec)?;
                changed += 1;
            }
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    drop(p);
    let publish_s = t.elapsed().as_secs_f64();
    let timeline = Timeline::new(store.clone());
    let v = timeline
        .target()
        .map_err(|e| e.to_string())?
        .ok_or("nothing announced")?;
    let state = load_version(store.clone(), v, MemoryMode::Heap).map_err(|e| e.to_string())?;
    let n = state.object("Asset").map_err(|e| e.to_string())?.len();
    let blob_bytes: u64 = walk(&tmp).iter().map(|p| p.1).sum();
    println!(
        "store: {} records read in {read_s:.1} s, published as v1 (all) and v{v} ({changed} changed, {deleted} deleted) in {publish_s:.1} s; {} on disk; announced v{v} holds {n} records, {} in memory",
        records.len(),
        mb(blob_bytes),
        mb(state.heap_bytes() as u64)
    );
    drop(records);

    // The baseline, in this process, on the same state (load not counted).
    let mut base_rates = Vec::new();
    let mut base = None;
    for i in 0..runs {
        let (s, lines, bytes, hash, kept) = baseline(&state, i == 0)?;
        if lines != n {
            return Err(format!("baseline wrote {lines} lines for {n} records"));
        }
        base_rates.push(n as f64 / s);
        if i == 0 {
            base = Some((bytes, hash, kept.unwrap_or_default()));
        }
    }
    let (base_bytes, base_hash, base_out) = base.ok_or("no baseline run")?;
    let base_rate = median(&mut base_rates);
    println!(
        "baseline (serde_json map per record, state already loaded): {:.2} M records/s (median of {runs}), {:.1} bytes/record",
        base_rate / 1e6,
        base_bytes as f64 / n as f64
    );

    // The ceiling of the pipe and of this reader: `cat` of the same JSON lines.
    let file = tmp.join("baseline.jsonl");
    std::fs::write(&file, &base_out).map_err(|e| e.to_string())?;
    let mut cat_rates = Vec::new();
    for _ in 0..runs {
        let mut cmd = Command::new("cat");
        cmd.arg(&file);
        let r = read_child(cmd, false)?;
        if r.lines != n {
            return Err(format!("cat gave {} lines", r.lines));
        }
        cat_rates.push(n as f64 / r.total_s);
    }
    let cat_rate = median(&mut cat_rates);
    // The baseline as a process, like `hollow export`: spawn, load, serde_json, pipe.
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child_rates = Vec::new();
    for _ in 0..runs {
        let mut cmd = Command::new(&me);
        cmd.arg("--serde-child").arg(&tmp);
        let r = read_child(cmd, false)?;
        if r.lines != n || r.hash != base_hash {
            return Err(format!(
                "the serde_json child wrote {} lines, not the in-process bytes",
                r.lines
            ));
        }
        child_rates.push(n as f64 / r.total_s);
    }
    let child_rate = median(&mut child_rates);
    println!(
        "pipe ceiling (cat of the same {} of JSON lines through the same reader): {:.2} M records/s (median of {runs})",
        mb(base_bytes),
        cat_rate / 1e6
    );
    println!(
        "baseline process (spawn, load of snapshot + delta, serde_json map per record, pipe): {:.2} M records/s end to end (median of {runs})",
        child_rate / 1e6
    );

    for format in ["jsonl", "csv"] {
        let mut totals = Vec::new();
        let mut streams = Vec::new();
        let mut growth = Vec::new();
        let mut hwms = Vec::new();
        let mut last: Option<Run> = None;
        for i in 0..runs {
            let r = export_once(&hollow, &tmp, format, i == 0 && format == "jsonl")?;
            let expect = if format == "csv" { n + 1 } else { n };
            if r.lines != expect {
                return Err(format!(
                    "hollow export --format {format} wrote {} lines for {n} records",
                    r.lines
                ));
            }
            if format == "jsonl" && i == 0 {
                compare(
                    &base_out,
                    r.kept.as_deref().unwrap_or_default(),
                    r.hash == base_hash,
                )?;
            }
            totals.push(n as f64 / r.total_s);
            streams.push(n as f64 / r.stream_s);
            growth.push(r.rss_last as f64 - r.rss_first as f64);
            hwms.push(r.hwm as f64);
            if i + 1 == runs {
                println!(
                    "  last run: {:.2} s in all, {:.2} s streaming; resident memory at the first output {}, at the middle {}, at the end {}, peak {}",
                    r.total_s,
                    r.stream_s,
                    mb(r.rss_first),
                    mb(r.rss_mid),
                    mb(r.rss_last),
                    mb(r.hwm)
                );
            }
            last = Some(r);
        }
        let last = last.ok_or("no run")?;
        let total = median(&mut totals);
        let stream = median(&mut streams);
        let grow = median(&mut growth);
        println!(
            "hollow export --format {format}: {:.2} M records/s end to end (spawn, load of snapshot + delta, stream; median of {runs}), {:.2} M records/s streaming; {:.1} bytes/record ({} out); memory growth while streaming {} (median), peak {}; end to end {:.2}x the baseline process, {:.2}x the pipe ceiling",
            total / 1e6,
            stream / 1e6,
            last.bytes as f64 / n as f64,
            mb(last.bytes),
            mb(grow.max(0.0) as u64),
            mb(median(&mut hwms) as u64),
            total / child_rate,
            total / cat_rate
        );
    }
    println!("load average at end: {}", loadavg());
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// Same bytes, or else the same JSON values line by line.
fn compare(base: &[u8], ours: &[u8], same_hash: bool) -> Res<()> {
    if same_hash && base == ours {
        println!("  check: hollow export's JSON lines are byte-identical to serde_json's");
        return Ok(());
    }
    let (mut a, mut b) = (BufReader::new(base).lines(), BufReader::new(ours).lines());
    let mut line = 0u64;
    loop {
        line += 1;
        match (a.next(), b.next()) {
            (None, None) => break,
            (Some(x), Some(y)) => {
                let (x, y) = (x.map_err(|e| e.to_string())?, y.map_err(|e| e.to_string())?);
                let px: serde_json::Value = serde_json::from_str(&x).map_err(|e| e.to_string())?;
                let py: serde_json::Value = serde_json::from_str(&y)
                    .map_err(|e| format!("line {line} of hollow export is not JSON: {e}: {y}"))?;
                if px != py {
                    return Err(format!(
                        "line {line} differs: baseline {x}, hollow export {y}"
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "the outputs have different line counts at line {line}"
                ))
            }
        }
    }
    println!("  check: hollow export's JSON lines parse to the same values as serde_json's");
    Ok(())
}

fn walk(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if let Ok(m) = e.metadata() {
                out.push((p, m.len()));
            }
        }
    }
    out
}
