//! Lifecycle bench (issue: producer/consumer lifecycle) on the shared catalog's `assets`
//! dataset (1.6M records): a 1% change (16,409 modified, 1,641 deleted, 1,641 added) and a
//! 0.1% change → delta bytes, reverse-delta bytes, incremental producer cycle time (including
//! writing both deltas to a folder store), consumer apply time each way; printed with the
//! dataset size and a same-run full rebuild so that cost ∝ change is visible.
//!
//! Run: `cargo bench -p benches --bench lifecycle` (`HOLLOW_CATALOG=DIR` to reuse a catalog).

use rand::{RngExt as _, SeedableRng as _};
use rand_pcg::Pcg64Mcg;
use std::sync::Arc;
use std::time::Instant;

use benches::*;
use hollow::blob::{apply_delta, write_snapshot, SnapshotOptions};
use hollow::dataset::{FieldValue, Record};
use hollow::index::{HashIndex, PrimaryKeyIndex};
use hollow::lifecycle::Step;
use hollow::lifecycle::{Consumer, ConsumerConfig, CycleOutcome, Producer, ProducerConfig};
use hollow::store::{BlobStore, FolderStore};
use hollow::{Bytes, Value};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let Some(dir) = catalog_dir(1) else {
        println!("lifecycle: skipped: no catalog (set HOLLOW_CATALOG or provide ../shared/tools/gen_catalog.py)");
        return;
    };
    let ds = dataset_schema("assets");
    let mut records = read_records(&ds, &dir);
    let n = records.len();
    let work = workspace_root()
        .join("target")
        .join(format!("lifecycle-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let store: Arc<dyn BlobStore> = Arc::new(FolderStore::new(work.join("store")).expect("store"));
    let config = ProducerConfig {
        snapshot_every: 1_000_000,
        max_count_change_ratio: Some(0.5),
        ..Default::default()
    };

    // Baseline: a full rebuild of the dataset (populate every record, write a snapshot).
    let t = Instant::now();
    let ws = write_state(&ds, &records);
    let (snap, _) = write_snapshot(&ws, &SnapshotOptions::default()).expect("snapshot");
    let full_rebuild = t.elapsed().as_secs_f64();
    drop(ws);

    let t = Instant::now();
    let mut producer =
        Producer::open(store.clone(), ds.schema_set().expect("schema"), config).expect("producer");
    producer
        .cycle(|c| {
            for r in &records {
                c.upsert_record(&ds, r)?;
            }
            Ok(())
        })
        .expect("initial cycle");
    let initial = t.elapsed().as_secs_f64();
    let consumer = Consumer::new(store.clone(), ConsumerConfig::default());
    consumer.refresh().expect("consumer");
    let first = consumer.current().expect("current").state;
    let t = Instant::now();
    let mut pk = PrimaryKeyIndex::for_primary_key(&first, "Asset").expect("pk index");
    let pk_build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut by_video = HashIndex::build(&first, "Asset", &["video_id"]).expect("hash index");
    let hash_build = t.elapsed().as_secs_f64();
    println!(
        "index build from scratch: primary key on id {:.1} ms, hash index on video_id {:.1} ms",
        pk_build * 1e3,
        hash_build * 1e3
    );

    println!(
        "assets: {n} records, snapshot {} ({:.1} B/record)",
        mb(snap.len() as u64),
        snap.len() as f64 / n as f64
    );
    println!("baseline full rebuild (populate + snapshot): {:.3} s; initial incremental load of every record: {:.3} s", full_rebuild, initial);
    println!(
        "{:<8} {:>9} {:>8} {:>8} {:>10} {:>10} {:>11} {:>11} {:>11} {:>12}",
        "change",
        "modified",
        "deleted",
        "added",
        "delta",
        "reverse",
        "cycle",
        "apply fwd",
        "apply rev",
        "consumer"
    );
    let mut rng = Pcg64Mcg::seed_from_u64(42);
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
    for (label, modified, deleted, added) in [
        ("1%", 16_409usize, 1_641usize, 1_641usize),
        ("0.1%", 1_641, 164, 164),
        ("1%", 16_409, 1_641, 1_641),
    ] {
        // choose distinct records to modify and delete
        let mut picked = std::collections::HashSet::new();
        while picked.len() < modified + deleted {
            picked.insert(rng.random_range(0..records.len()));
        }
        let picked: Vec<usize> = picked.into_iter().collect();
        let statuses = ["READY", "IN_PROGRESS", "FAILED"];
        let mut upserts: Vec<Record> = Vec::new();
        for &i in &picked[..modified] {
            let mut r = records[i].clone();
            let cur = if let FieldValue::Str(s) = &r[4] {
                s.clone()
            } else {
                String::new()
            };
            let new = statuses
                .iter()
                .find(|s| **s != cur)
                .expect("another status");
            r[4] = FieldValue::Str(new.to_string());
            records[i] = r.clone();
            upserts.push(r);
        }
        let mut deletes: Vec<String> = picked[modified..]
            .iter()
            .map(|&i| hollow::key::of_record(&ds, &records[i]))
            .collect();
        let mut dels: Vec<usize> = picked[modified..].to_vec();
        dels.sort_unstable_by(|a, b| b.cmp(a));
        for i in dels {
            records.swap_remove(i);
        }
        for _ in 0..added {
            let template = records[rng.random_range(0..records.len())].clone();
            let mut r = template;
            r[0] = FieldValue::Int(next_id);
            next_id += 1;
            records.push(r.clone());
            upserts.push(r);
        }
        deletes.sort();
        let before = producer.version().expect("version");
        let t = Instant::now();
        let outcome = producer
            .cycle(|c| {
                for r in &upserts {
                    c.upsert_record(&ds, r)?;
                }
                for k in &deletes {
                    c.delete_key(&ds, k)?;
                }
                Ok(())
            })
            .expect("cycle");
        let cycle_s = t.elapsed().as_secs_f64();
        let CycleOutcome::Published {
            version,
            delta_bytes,
            reverse_delta_bytes,
            phases,
            ..
        } = outcome
        else {
            panic!("expected a published version, got {outcome:?}")
        };
        // consumer apply, forward and reverse, on bytes already read
        let cur = consumer.current().expect("current");
        let fwd = Bytes::from_vec(
            store
                .get(&Step::Delta(before, version).key())
                .expect("delta"),
        );
        let rev = Bytes::from_vec(
            store
                .get(&Step::Reverse(version, before).key())
                .expect("reverse"),
        );
        let mut best_fwd = f64::MAX;
        let mut best_rev = f64::MAX;
        let mut next_state = None;
        for _ in 0..5 {
            let t = Instant::now();
            let a = apply_delta(&cur.state, &fwd).expect("apply");
            best_fwd = best_fwd.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let b = apply_delta(&a.state, &rev).expect("apply reverse");
            best_rev = best_rev.min(t.elapsed().as_secs_f64());
            assert_eq!(
                b.state.record_count("Asset").expect("count"),
                cur.state.record_count("Asset").expect("count")
            );
            next_state = Some(a);
        }
        assert_eq!(
            next_state
                .expect("applied")
                .state
                .record_count("Asset")
                .expect("count"),
            records.len() as u64
        );
        let old_state = consumer.current().expect("current").state;
        let t = Instant::now();
        let report = consumer.refresh().expect("refresh");
        let refresh_s = t.elapsed().as_secs_f64();
        let new_state = consumer.current().expect("current").state;
        let changes = &report.transitions.last().expect("one transition").changes;
        let t = Instant::now();
        pk.update(&old_state, &new_state, changes)
            .expect("pk update");
        let pk_update = t.elapsed().as_secs_f64();
        let t = Instant::now();
        by_video
            .update(&old_state, &new_state, changes)
            .expect("hash update");
        let hash_update = t.elapsed().as_secs_f64();
        // spot-check the updated indexes against the new state
        for r in upserts.iter().take(100) {
            let FieldValue::Int(id) = r[0] else { continue };
            let o = pk
                .get(&new_state, &[Value::I64(id)])
                .expect("upserted asset is indexed");
            assert_eq!(
                new_state
                    .object("Asset")
                    .expect("type")
                    .long("id")
                    .expect("id")
                    .get(o),
                Some(id)
            );
        }
        println!(
            "{:<8} {:>9} {:>8} {:>8} {:>10} {:>10} {:>8.1} ms {:>8.2} ms {:>8.2} ms {:>9.2} ms",
            label,
            modified,
            deleted,
            added,
            format!("{:.1} KB", delta_bytes as f64 / 1e3),
            format!("{:.1} KB", reverse_delta_bytes as f64 / 1e3),
            cycle_s * 1e3,
            best_fwd * 1e3,
            best_rev * 1e3,
            refresh_s * 1e3
        );
        println!(
            "         index update: primary key {:.2} ms, hash index on video_id {:.2} ms",
            pk_update * 1e3,
            hash_update * 1e3
        );
        println!(
            "         cycle phases: populate {:.1} ms, prepare {:.1} ms, encode {:.1} ms, store (fsync'd folder) {:.1} ms",
            phases.populate.as_secs_f64() * 1e3,
            phases.prepare.as_secs_f64() * 1e3,
            phases.encode.as_secs_f64() * 1e3,
            phases.store.as_secs_f64() * 1e3
        );
    }
    println!("targets (1%): delta and reverse ≤ 280 KB each, producer cycle ≤ 100 ms, consumer apply ≤ 7 ms each way, index update ≤ 10 ms");
    let _ = std::fs::remove_dir_all(&work);
}
