//! The gatekeeper service cycle on the scale-1 catalog (8,807 titles × 239 countries = 2.1M
//! pairs, 5.0M input records), against Java Hollow's reference figures.
//!
//! Setup (timed apart): the seven datasets are published from the JSON Lines catalog into
//! folder timelines, and hollow producers are opened on `assets` and `rights` to change them.
//! Then a [`gatekeeper::Service`] runs: a first cycle (every pair published), then cycles with
//! a small upstream change before each (asset statuses flipped, rights windows moved, published
//! as new input versions by delta), each printing its phases: input refresh by delta, index
//! update, evaluation, output build + publish, total.
//!
//! Run: `cargo bench -p benches --bench gatekeeper_cycle` (`HOLLOW_CATALOG=DIR` to use another
//! catalog; `GK_CYCLES=N` steady cycles, default 6).

use benches::{catalog_dir, timed};
use gatekeeper::generate::BASE_NOW;
use gatekeeper::inputs::{publish_jsonl_dir, InputWriter};
use gatekeeper::model::{Asset, AssetStatus, Right};
use gatekeeper::{jsonl, CycleReport, Dataset, Index, InputStates, Rules, Service, ServiceConfig};
use hollow::{MemoryMode, ReadState};
use std::sync::Arc;
use std::time::Duration;

const MINUTE: i64 = 60_000;

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn row(label: &str, r: &CycleReport) {
    if let Some(e) = &r.error {
        println!("{label:<8} FAILED: {e}");
        return;
    }
    let p = &r.phases;
    let (publish, changes) = match &r.publish {
        Some(pr) => (
            format!(
                "{:8.1} ({:5.1} diff {:7.1} build {:6.1} encode {:6.1} store)",
                ms(p.publish),
                ms(pr.diff),
                ms(pr.populate),
                ms(pr.encode),
                ms(pr.store)
            ),
            format!(
                "+{} -{} -> {}",
                pr.upserts,
                pr.deletes,
                pr.published
                    .map_or_else(|| "unchanged".to_string(), |v| format!("v{v}"))
            ),
        ),
        None => ("-".into(), "-".into()),
    };
    let rebuilt = r.rebuilt.map_or_else(|| "-".to_string(), |b| b.to_string());
    println!(
        "{label:<8} {:8.1} {:8.1} {rebuilt:<34} {:8.1} {publish}  {:8.1}  {changes}",
        ms(p.refresh),
        ms(p.index),
        ms(p.evaluate),
        ms(p.total)
    );
}

fn main() {
    let Some(dir) = catalog_dir(1) else {
        println!("gatekeeper_cycle: skipped (no scale-1 catalog: set HOLLOW_CATALOG or provide ../shared/tools/gen_catalog.py)");
        return;
    };
    let cycles: i64 = std::env::var("GK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let tmp = tempfile::tempdir().expect("temp dir");
    let inputs = format!("file://{}/inputs", tmp.path().display());
    let out = format!("file://{}/liveness", tmp.path().display());
    println!(
        "gatekeeper_cycle: catalog {} ; load average {} on {} cores",
        dir.display(),
        load(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // Setup.
    let (published, t) =
        timed(|| publish_jsonl_dir(&dir, &inputs, false).expect("publishing the inputs"));
    let records: u64 = published.iter().map(|p| p.records).sum();
    println!("setup: published {records} records into 7 folder timelines in {t:.2} s");
    let assets: Vec<Asset> = jsonl::load_dataset(&dir).expect("assets");
    let rights: Vec<Right> = jsonl::load_dataset(&dir).expect("rights");
    let mut writer = InputWriter::new(&inputs);
    let (_, t) = timed(|| {
        writer.open(Dataset::Assets).expect("assets producer");
        writer.open(Dataset::Rights).expect("rights producer");
    });
    println!("setup: opened the assets and rights producers (restore) in {t:.2} s");
    let mut config = ServiceConfig::new(Some(&inputs), &out);
    config.interval = Duration::from_secs(60);
    let (service, t) = timed(|| Service::new(config).expect("service"));
    let mut service = service;
    println!("setup: service opened in {t:.3} s\n");

    println!(
        "{:<8} {:>8} {:>8} {:<34} {:>8} {:<58}  {:>8}  changes",
        "cycle", "refresh", "index", "(parts rebuilt)", "evaluate", "publish (ms)", "total"
    );
    let first = service.run_cycle_at(BASE_NOW);
    row("first", &first);
    let ready = service.wait_output_ready().expect("output producer");
    println!("         (the output producer restored from the first version in the background; waited {:.1} ms more)", ms(ready));

    let mut steady: Vec<CycleReport> = Vec::new();
    for k in 1..=cycles {
        // A small upstream change: 200 asset statuses flipped, 50 rights windows moved.
        let changed_assets: Vec<serde_json::Value> = (0..200)
            .map(|j| {
                let mut a = assets[((k as usize) * 7_919 + j * 104_729) % assets.len()].clone();
                a.status = if a.status == AssetStatus::Ready {
                    AssetStatus::Failed
                } else {
                    AssetStatus::Ready
                };
                serde_json::to_value(a).expect("asset")
            })
            .collect();
        let changed_rights: Vec<serde_json::Value> = (0..50)
            .map(|j| {
                let mut r = rights[((k as usize) * 15_485 + j * 32_452) % rights.len()].clone();
                r.window_end = Some(BASE_NOW + k * MINUTE - 1);
                serde_json::to_value(r).expect("right")
            })
            .collect();
        let (_, upstream) = timed(|| {
            writer
                .cycle(Dataset::Assets, &changed_assets, &[])
                .expect("assets cycle");
            writer
                .cycle(Dataset::Rights, &changed_rights, &[])
                .expect("rights cycle");
        });
        let r = service.run_cycle_at(BASE_NOW + k * MINUTE);
        row(&format!("{k} ({:.0})", upstream * 1e3), &r);
        steady.push(r);
    }

    // Apart from the service: a full index build from the latest input states, and fresh
    // evaluations (new rows, new reason table: nothing recycled).
    let states: Vec<Arc<ReadState>> = Dataset::ALL
        .iter()
        .map(|d| {
            let store = hollow::store::open_store(&d.store_url(&inputs)).expect("store");
            let v = hollow::lifecycle::Timeline::new(store.clone())
                .announced()
                .expect("announced")
                .expect("a version");
            Arc::new(
                hollow::lifecycle::load_version(store, v, MemoryMode::Heap).expect("input state"),
            )
        })
        .collect();
    let inputs_now = InputStates {
        states: states.try_into().expect("seven states"),
        versions: [None; 7],
    };
    let mut builds: Vec<f64> = (0..3)
        .map(|_| timed(|| Index::build(&inputs_now).expect("index")).1 * 1e3)
        .collect();
    builds.sort_by(f64::total_cmp);
    let index = Index::build(&inputs_now).expect("index");
    let rules = Rules::baseline();
    let mut fresh: Vec<f64> = (0..5)
        .map(|_| timed(|| index.evaluate(BASE_NOW, &rules)).1 * 1e3)
        .collect();
    fresh.sort_by(f64::total_cmp);

    let median = |f: &dyn Fn(&CycleReport) -> Duration| -> f64 {
        let mut v: Vec<f64> = steady.iter().map(|r| ms(f(r))).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    println!("\n(k (N) = steady cycle k; N = ms the upstream producers took to publish the change, not part of the cycle)");
    println!(
        "\nsteady-state medians over {} cycles, load average {}:",
        steady.len(),
        load()
    );
    println!("  phase                         ours          Java Hollow reference    target");
    println!(
        "  input refresh (delta)     {:8.1} ms",
        median(&|r| r.phases.refresh)
    );
    println!(
        "  index update (incremental){:8.1} ms        1000–1200 ms",
        median(&|r| r.phases.index)
    );
    println!(
        "  index full build          {:8.1} ms (median of 3, from the hollow states)",
        builds[1]
    );
    println!(
        "  evaluation in the cycle   {:8.1} ms         740–1300 ms          ≤ 300 ms",
        median(&|r| r.phases.evaluate)
    );
    println!(
        "  evaluation, fresh         {:8.1} ms (median of 5; best {:.1} ms)          ≤ 300 ms",
        fresh[2], fresh[0]
    );
    println!(
        "  output build + publish    {:8.1} ms  build 5400–5900 + write 560–690 ms",
        median(&|r| r.phases.publish)
    );
    println!(
        "  whole cycle               {:8.1} ms        8000–9000 ms          ≤ 1000 ms",
        median(&|r| r.phases.total)
    );
    println!(
        "  first cycle (all pairs)   {:8.1} ms (+{:.0} ms background producer restore)",
        ms(first.phases.total),
        ms(ready)
    );
}
