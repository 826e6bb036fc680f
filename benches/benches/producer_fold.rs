//! Producer bench (issue: incremental producer service): fold 100,000 Kafka changes into the
//! 1.6M-record `assets` dataset and publish, through the real service path (embedded
//! librdkafka mock cluster → consume → validate → fold → delta + reverse delta to a folder
//! store). Prints messages/s and cycle time together with the same run's full-rebuild time.
//!
//! Run: `cargo bench -p benches --bench producer_fold` (`HOLLOW_CATALOG=DIR` to reuse a catalog).

use rand::{RngExt as _, SeedableRng as _};
use rand_pcg::Pcg64Mcg;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use benches::*;
use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::dataset::FieldValue;
use producer::{Config, Sender, Service};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let Some(dir) = catalog_dir(1) else {
        println!("producer_fold: skipped: no catalog (set HOLLOW_CATALOG or provide ../shared/tools/gen_catalog.py)");
        return;
    };
    let ds = dataset_schema("assets");
    let records = read_records(&ds, &dir);
    let n = records.len();

    // Same-run baseline: a full rebuild (populate every record, write a snapshot).
    let t = Instant::now();
    let ws = write_state(&ds, &records);
    let (snap, _) = write_snapshot(&ws, &SnapshotOptions::default()).expect("snapshot");
    let full_rebuild = t.elapsed().as_secs_f64();
    drop((ws, snap));

    let work = workspace_root()
        .join("target")
        .join(format!("producer-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let config = Config {
        schemas: workspace_root().join("schemas"),
        datasets: vec!["assets".into()],
        store: format!("file://{}", work.join("store").display()),
        // librdkafka's mock cluster keeps about 5 MB of log per partition: spread the
        // 100k changes over enough partitions that none of them is dropped before it is read
        partitions: 8,
        read_timeout: Duration::from_secs(30),
        // measure a delta cycle: snapshots (every N versions) are a separate cost
        state: producer::state::StateOptions {
            snapshot_every: 1000,
            ..Default::default()
        },
        ..Config::default()
    };
    let mut service = Service::new(config).expect("service");
    let mut sender = Sender::new(service.bootstrap_servers(), &BTreeMap::new()).expect("sender");

    // Setup: the whole dataset through Kafka, in chunks of 200k messages a cycle (the mock
    // cluster's log retention would drop more).
    let t = Instant::now();
    let mut folded = 0;
    let mut cycles = 0;
    for chunk in records.chunks(200_000) {
        for r in chunk {
            sender
                .send(
                    "assets",
                    Some(hollow::key::of_record(&ds, r).as_bytes()),
                    Some(ds.to_json(r).as_bytes()),
                    &[],
                )
                .expect("send");
        }
        sender.flush(Duration::from_secs(120)).expect("flush");
        folded += service.run_cycle().expect("setup cycle").read();
        cycles += 1;
    }
    let setup = t.elapsed().as_secs_f64();
    assert_eq!(folded as usize, n, "every record of the catalog was folded");
    assert_eq!(
        service.version("assets"),
        Some(cycles),
        "one version a setup cycle"
    );
    println!(
        "assets: {n} records sent and folded through Kafka in {cycles} setup cycles, {setup:.2} s"
    );
    println!(
        "same-run baseline, full rebuild of the dataset (populate + snapshot): {full_rebuild:.3} s"
    );

    // 100,000 changes: 90% modified, 5% deleted, 5% added.
    let mut rng = Pcg64Mcg::seed_from_u64(7);
    let statuses = ["READY", "IN_PROGRESS", "FAILED"];
    let mut next_id = records
        .iter()
        .filter_map(|r| {
            if let FieldValue::Int(i) = r[0] {
                Some(i)
            } else {
                None
            }
        })
        .max()
        .unwrap_or(0)
        + 1;
    let mut touched = std::collections::HashSet::new();
    let mut messages: Vec<(String, Option<String>)> = Vec::with_capacity(100_000);
    while messages.len() < 100_000 {
        let i = rng.random_range(0..n);
        if !touched.insert(i) {
            continue;
        }
        let k = messages.len();
        if k.is_multiple_of(20) {
            messages.push((hollow::key::of_record(&ds, &records[i]), None));
        } else if k % 20 == 1 {
            let mut r = records[i].clone();
            r[0] = FieldValue::Int(next_id);
            next_id += 1;
            messages.push((hollow::key::of_record(&ds, &r), Some(ds.to_json(&r))));
        } else {
            let mut r = records[i].clone();
            let cur = if let FieldValue::Str(s) = &r[4] {
                s.clone()
            } else {
                String::new()
            };
            r[4] = FieldValue::Str(
                statuses
                    .iter()
                    .find(|s| **s != cur)
                    .expect("status")
                    .to_string(),
            );
            messages.push((hollow::key::of_record(&ds, &r), Some(ds.to_json(&r))));
        }
    }
    for (k, v) in &messages {
        sender
            .send(
                "assets",
                Some(k.as_bytes()),
                v.as_deref().map(str::as_bytes),
                &[],
            )
            .expect("send");
    }
    sender.flush(Duration::from_secs(60)).expect("flush");
    let t = Instant::now();
    let report = service.run_cycle().expect("cycle");
    let cycle = t.elapsed().as_secs_f64();
    let d = report.dataset("assets").expect("assets report");
    assert_eq!(d.read, 100_000, "the cycle folded every change");
    println!(
        "100k-change cycle: read {} applied {} no-op {} rejected {} → version {:?}; cycle {:.3} s = {:.0} messages/s ({:.1}% of the full rebuild's time)",
        d.read,
        d.applied,
        d.noop,
        d.rejected_total(),
        d.version,
        cycle,
        d.read as f64 / cycle,
        cycle / full_rebuild * 100.0
    );
    println!(
        "  outcome: {:?}; dataset elapsed {:.3} s",
        d.outcome,
        d.elapsed.as_secs_f64()
    );
    // A cycle with no traffic publishes nothing.
    let t = Instant::now();
    let idle = service.run_cycle().expect("idle cycle");
    println!(
        "idle cycle: {:.3} s, published {:?}",
        t.elapsed().as_secs_f64(),
        idle.published()
    );
    println!("target: ≤ 1 s for the 100k-change cycle on this 2-core machine");
    let _ = std::fs::remove_dir_all(&work);
}
