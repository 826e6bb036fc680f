//! Crash safety: the `producer` binary is killed with SIGKILL at random points over many
//! cycles (200 ms apart) while messages keep arriving, and restarted each time. At the end
//! every published version must equal exactly the fold of the messages below the offsets
//! stored in its header, offsets only move forward from version to version, and the last
//! version holds every message: nothing lost, nothing applied twice, no version published
//! twice with different content.
//!
//! Runs twice: on the embedded broker of this test process (the child connects to it with
//! `--bootstrap`) and on the real tansu broker.
//! HOLLOW_CRASH_ROUNDS sets the number of kills (default 12).

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use producer::offsets::{Offsets, HEADER_KEY};
use producer::simulate::Rng;
use producer::state::{announced_version, load_version};
use serde_json::json;

on_both_brokers!(kill_9_at_random_points_loses_nothing_and_applies_nothing_twice);

const DATASETS: [&str; 3] = ["assets", "rights", "titles"];

/// One random message: (dataset, key, value).
fn random_message(rng: &mut Rng, n: u64) -> (&'static str, Option<String>, Option<String>) {
    let dataset = *rng.pick(&DATASETS);
    let k = rng.range(1, 40);
    let roll = rng.below(100);
    let (key, value) = match dataset {
        "titles" => (
            k.to_string(),
            json!({"id": k, "kind": "SHOW", "name": format!("name {n}"), "original_language": "en", "release_year": null, "genres": [format!("g{}", n % 3)], "cast": [], "directors": ["D"]}),
        ),
        "assets" => {
            let status = *rng.pick(&["READY", "FAILED", "IN_PROGRESS"]);
            (
                k.to_string(),
                json!({"id": k, "video_id": k * 10, "kind": "AUDIO", "language": "en", "status": status}),
            )
        }
        _ => {
            let country = *rng.pick(&["FR", "US", "DE"]);
            let start = (k % 3) * 1000;
            (
                format!("{}|{country}|{start}", k % 10),
                json!({"title_id": k % 10, "country": country, "window_start": start, "window_end": n as i64}),
            )
        }
    };
    match roll {
        0..=9 => (dataset, Some(key), None),
        10..=12 => (dataset, Some("999".into()), Some(value.to_string())), // key mismatch
        13 => (dataset, Some(key), Some("{broken".into())),
        _ => (dataset, Some(key), Some(value.to_string())),
    }
}

fn kill_9_at_random_points_loses_nothing_and_applies_nothing_twice(kafka: Kafka) {
    let dir = tempdir();
    let config = kafka.config(&dir.path().join("blobs"), &DATASETS);
    let topics: Vec<String> = DATASETS.iter().map(|d| kafka.topic(d)).collect();
    kafka.create_topics(&topics, 3);
    let rounds: u64 = std::env::var("HOLLOW_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let log_path = dir.path().join("producer.log");

    // a writer keeps sending while the producer is killed and restarted
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, mut tx, prefix) = (stop.clone(), kafka.sender(), kafka.prefix.clone());
        std::thread::spawn(move || {
            let mut rng = Rng::new(2024);
            let mut n = 0u64;
            while !stop.load(Ordering::Acquire) {
                for _ in 0..20 {
                    let (ds, key, value) = random_message(&mut rng, n);
                    tx.send(
                        &format!("{prefix}{ds}"),
                        key.as_deref().map(str::as_bytes),
                        value.as_deref().map(str::as_bytes),
                        &[],
                    )
                    .unwrap();
                    n += 1;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            assert_eq!(tx.flush(Duration::from_secs(60)).unwrap().failed, 0);
            n
        })
    };

    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = vec!["run".into()];
        for (k, v) in [
            ("--bootstrap", kafka.bootstrap.clone()),
            ("--topic-prefix", kafka.prefix.clone()),
            ("--schemas", schemas_dir().display().to_string()),
            ("--datasets", DATASETS.join(",")),
            ("--store", config.store.clone()),
            ("--cycle-interval", "200ms".into()),
            ("--snapshot-every", "3".into()),
        ] {
            a.push(k.into());
            a.push(v);
        }
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let spawn = |extra: &[&str]| {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap();
        Command::new(env!("CARGO_BIN_EXE_producer"))
            .args(args(extra))
            .env("PRODUCER_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    };
    // blobs of versions that were being published when a kill struck (diagnostics only)
    let mut interrupted = std::collections::BTreeSet::new();
    let mut interrupted_publishes = || {
        for ds in DATASETS {
            let store = hollow::store::open_store(&config.store_url(ds)).unwrap();
            let announced = announced_version(store.clone()).unwrap().unwrap_or(0);
            let keys = store.list("").unwrap();
            for k in keys
                .iter()
                .filter(|k| k.starts_with("snapshot/") || k.starts_with("delta/"))
            {
                if k.rsplit(['/', '-'])
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .is_some_and(|v| v > announced)
                {
                    // the same leftover may be seen after several kills: count it once
                    interrupted.insert(format!("{ds}/{k}"));
                }
            }
        }
    };
    let mut rng = Rng::new(7);
    for _ in 0..rounds {
        let mut child = spawn(&[]);
        std::thread::sleep(Duration::from_millis(rng.range(30, 1500) as u64));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        interrupted_publishes();
    }
    stop.store(true, Ordering::Release);
    let sent = writer.join().unwrap();

    // one last clean cycle folds everything that is left
    let status = spawn(&["--once"]).wait().unwrap();
    let log_tail = || {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        text.lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(status.success(), "the final cycle failed:\n{}", log_tail());

    let mut total_read = 0;
    let mut versions_checked = 0;
    for ds in DATASETS {
        let schema = schema(ds);
        let topic = kafka.topic(ds);
        let all = kafka.read_all(&topic);
        total_read += all.len() as u64;
        let store = hollow::store::open_store(&config.store_url(ds)).unwrap();
        let last = announced_version(store.clone())
            .unwrap()
            .expect("something was published");
        let mut prev_offsets: BTreeMap<i32, i64> = BTreeMap::new();
        let mut prev_records = None;
        // a publish killed after storing some blobs burns its number: the versions are the
        // published ones (a metadata line each), not every number up to the last
        let published = hollow::lifecycle::Timeline::new(store.clone())
            .published()
            .unwrap();
        for v in published.into_iter().filter(|v| *v <= last) {
            let state = load_version(store.clone(), &schema, v)
                .unwrap_or_else(|e| panic!("{ds} v{v}: {e}\n{}", log_tail()));
            let offsets = Offsets::parse(&state.header[HEADER_KEY]).unwrap();
            let upto: BTreeMap<i32, i64> = offsets
                .iter()
                .map(|(tp, o)| {
                    assert_eq!(tp.topic, topic);
                    (tp.partition, o)
                })
                .collect();
            for (p, o) in &prev_offsets {
                assert!(
                    upto.get(p).copied().unwrap_or(0) >= *o,
                    "{ds} v{v}: offsets moved back: {offsets}"
                );
            }
            let expected = fold(&schema, &all, Some(&upto));
            if state.records != expected {
                let keys: std::collections::BTreeSet<&String> =
                    state.records.keys().chain(expected.keys()).collect();
                let diff: Vec<String> = keys
                    .into_iter()
                    .filter(|k| state.records.get(*k) != expected.get(*k))
                    .take(5)
                    .map(|k| {
                        format!(
                            "{k}: state {:?} vs fold {:?}",
                            state.records.get(k),
                            expected.get(k)
                        )
                    })
                    .collect();
                panic!("{ds} v{v}: state differs from the fold of the messages below {offsets}:\n{}\n{}", diff.join("\n"), log_tail());
            }
            assert!(
                prev_records.as_ref() != Some(&state.records),
                "{ds} v{v}: a version that changes nothing"
            );
            prev_offsets = upto;
            prev_records = Some(state.records);
            versions_checked += 1;
        }
        let ends: BTreeMap<i32, i64> = all.iter().fold(BTreeMap::new(), |mut m, r| {
            m.insert(r.partition, r.offset + 1);
            m
        });
        let final_records = prev_records.unwrap();
        assert_eq!(
            final_records,
            fold(&schema, &all, None),
            "{ds}: the last version misses messages"
        );
        for (p, end) in ends {
            // the last version may precede trailing no-op messages, never miss a change
            assert!(prev_offsets.get(&p).copied().unwrap_or(0) <= end);
        }
    }
    assert_eq!(total_read, sent, "every message sent is in Kafka");
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let restored = log.matches(": restored v").count();
    let resets = log.matches("the broker restarted this partition").count();
    eprintln!(
        "crash test: {rounds} kills, {sent} messages, {versions_checked} versions checked, {restored} dataset restores, {} kill(s) during a publish, {resets} partition reset(s)",
        interrupted.len()
    );
    assert!(
        versions_checked as u64 > DATASETS.len() as u64,
        "too few versions to mean anything"
    );
}
