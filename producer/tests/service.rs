//! The service against a Kafka broker (each test on the embedded broker and on tansu):
//! upserts, deletes, no-ops, rejections, dead letters, quiet cycles, restarts, validation
//! failures, metrics.

mod common;

use std::collections::BTreeMap;

use common::*;
use producer::offsets::HEADER_KEY;
use producer::{DatasetOutcome, Offsets, RejectReason};
use serde_json::json;

on_both_brokers!(
    upserts_deletes_and_noops,
    bad_messages_are_counted_dead_lettered_and_change_nothing,
    quiet_cycles_publish_nothing,
    restart_resumes_from_stored_offsets,
    refused_states_are_retried_not_skipped,
    metrics_are_served_over_http
);

type Key<'a> = Option<&'a [u8]>;
type Value<'a> = Option<&'a [u8]>;

fn title(id: i64, name: &str) -> String {
    json!({"id": id, "kind": "MOVIE", "name": name, "original_language": "en", "release_year": 2020,
           "genres": ["Dramas"], "cast": ["A B"], "directors": []})
    .to_string()
}

fn upserts_deletes_and_noops(kafka: Kafka) {
    let dir = tempdir();
    let config = kafka.config(dir.path(), &["titles"]);
    let mut service = kafka.service(config.clone());
    let topic = kafka.topic("titles");
    let mut tx = kafka.sender();

    for id in 1..=5 {
        tx.send(
            &topic,
            Some(id.to_string().as_bytes()),
            Some(title(id, &format!("t{id}")).as_bytes()),
            &[],
        )
        .unwrap();
    }
    tx.flush(std::time::Duration::from_secs(30)).unwrap();
    let r = service.run_cycle().unwrap();
    let d = r.dataset("titles").unwrap();
    assert_eq!(
        (d.read, d.applied, d.noop, d.rejected_total()),
        (5, 5, 0, 0)
    );
    assert_eq!(d.published(), Some(1));
    assert_eq!(published(&config, "titles").unwrap().records.len(), 5);

    // identical content: a no-op, no new version
    send_now(&mut tx, &topic, Some("3"), Some(&title(3, "t3")));
    let d = service.run_cycle().unwrap().datasets.remove(0);
    assert_eq!((d.read, d.applied, d.noop), (1, 0, 1));
    assert_eq!(d.outcome, DatasetOutcome::Unchanged);
    assert_eq!(service.version("titles"), Some(1));

    // a modification and a tombstone
    send_now(&mut tx, &topic, Some("2"), Some(&title(2, "renamed")));
    send_now(&mut tx, &topic, Some("4"), None);
    let d = service.run_cycle().unwrap().datasets.remove(0);
    assert_eq!((d.read, d.applied, d.noop), (2, 2, 0));
    assert_eq!(d.published(), Some(2));
    let state = published(&config, "titles").unwrap();
    assert_eq!(state.version, 2);
    assert_eq!(
        state.records.keys().cloned().collect::<Vec<_>>(),
        ["1", "2", "3", "5"]
    );
    let s = schema("titles");
    assert_eq!(
        state.records["2"],
        s.parse_json(title(2, "renamed").as_bytes()).unwrap()
    );

    // a tombstone for a missing key is a no-op
    send_now(&mut tx, &topic, Some("4"), None);
    let d = service.run_cycle().unwrap().datasets.remove(0);
    assert_eq!((d.read, d.applied, d.noop), (1, 0, 1));
    assert_eq!(d.outcome, DatasetOutcome::Unchanged);

    // the header holds the offsets of every message folded so far (9 sent)
    let offsets = Offsets::parse(&state.header[HEADER_KEY]).unwrap();
    assert_eq!(offsets.total(), 8, "{offsets}");
    assert_eq!(service.offsets("titles").unwrap().total(), 9);
    let all = kafka.read_all(&topic);
    assert_eq!(fold(&s, &all, None), state.records);
}

fn bad_messages_are_counted_dead_lettered_and_change_nothing(kafka: Kafka) {
    let dir = tempdir();
    let mut config = kafka.config(dir.path(), &["assets", "rights"]);
    let dlq = kafka.topic("dead-letters");
    config.dead_letter_topic = Some(dlq.clone());
    let mut service = kafka.service(config.clone());
    let (assets, rights) = (kafka.topic("assets"), kafka.topic("rights"));
    let mut tx = kafka.sender();
    let good = r#"{"id":1,"video_id":2,"kind":"VIDEO","language":null,"status":"READY"}"#;
    send_now(&mut tx, &assets, Some("1"), Some(good));
    let bad: Vec<(Key<'_>, Value<'_>, RejectReason)> = vec![
        (Some(b"1"), Some(b"{oops"), RejectReason::NotJson),
        (Some(b"1"), Some(b""), RejectReason::NotJson),
        (Some(b"1"), Some(&[0xc3, 0x28]), RejectReason::NotJson),
        (Some(b"1"), Some(b"[1]"), RejectReason::NotObject),
        (Some(b"1"), Some(br#"{"id":1,"kind":"VIDEO","language":null,"status":"READY"}"#), RejectReason::MissingField),
        (Some(b"1"), Some(br#"{"id":1,"video_id":"2","kind":"VIDEO","language":null,"status":"READY"}"#), RejectReason::WrongType),
        (Some(b"1"), Some(br#"{"id":1,"video_id":18446744073709551615,"kind":"VIDEO","language":null,"status":"READY"}"#), RejectReason::OutOfRange),
        (Some(b"1"), Some(br#"{"id":1,"video_id":2,"kind":"VIDEO","language":null,"status":"DONE"}"#), RejectReason::UnknownEnum),
        (Some(b"7"), Some(good.as_bytes()), RejectReason::KeyMismatch),
        (None, Some(good.as_bytes()), RejectReason::MissingKey),
        (None, None, RejectReason::MissingKey),
        (Some(&[0xff]), Some(good.as_bytes()), RejectReason::BadKey),
        (Some(b"01"), None, RejectReason::BadKey),
        (Some(b"1|2"), None, RejectReason::BadKey),
    ];
    for (k, v, _) in &bad {
        tx.send(&assets, *k, *v, &[]).unwrap();
    }
    // a bad message on the other dataset (a rights key is 3 parts)
    tx.send(&rights, Some(b"42|FR"), None, &[]).unwrap();
    tx.flush(std::time::Duration::from_secs(30)).unwrap();

    let r = service.run_cycle().unwrap();
    let a = r.dataset("assets").unwrap();
    assert_eq!(
        r.dead_letter.map(|d| (d.queued, d.dropped)),
        Some((bad.len() as u64 + 1, 0))
    );
    // the cycle did not wait for the dead letters: wait for them here
    service.flush_dead_letters(std::time::Duration::from_secs(30));
    assert_eq!(a.read, 1 + bad.len() as u64);
    assert_eq!((a.applied, a.noop), (1, 0));
    let mut expected: BTreeMap<RejectReason, u64> = BTreeMap::new();
    for (_, _, reason) in &bad {
        *expected.entry(*reason).or_default() += 1;
    }
    assert_eq!(a.rejected, expected);
    assert_eq!(
        r.dataset("rights").unwrap().rejected,
        BTreeMap::from([(RejectReason::BadKey, 1)])
    );
    assert_eq!(
        r.dataset("rights").unwrap().outcome,
        DatasetOutcome::Unchanged
    );
    let state = published(&config, "assets").unwrap();
    assert_eq!(state.records.keys().collect::<Vec<_>>(), ["1"]);
    assert_eq!(
        state.records["1"],
        schema("assets").parse_json(good.as_bytes()).unwrap()
    );

    // every rejected message is in the dead-letter topic with its reason
    let dead = kafka.read_all(&dlq);
    assert_eq!(dead.len(), bad.len() + 1);
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for m in &dead {
        *reasons.entry(m.reason.clone().unwrap()).or_default() += 1;
    }
    expected.entry(RejectReason::BadKey).and_modify(|n| *n += 1);
    assert_eq!(
        reasons,
        expected
            .iter()
            .map(|(r, n)| (r.label().to_owned(), *n))
            .collect()
    );
    assert!(dead
        .iter()
        .any(|m| m.key.as_deref() == Some(b"7") && m.value.as_deref() == Some(good.as_bytes())));

    // a rejected-only cycle publishes nothing; counts show in the metrics
    send_now(&mut tx, &assets, Some("1"), Some("null"));
    let a = service.run_cycle().unwrap().datasets.remove(0);
    assert_eq!(a.rejected, BTreeMap::from([(RejectReason::NotObject, 1)]));
    assert_eq!(a.outcome, DatasetOutcome::Unchanged);
    let text = service.metrics().render();
    assert!(
        text.contains(
            "hollow_producer_messages_rejected_total{dataset=\"assets\",reason=\"not_object\"} 2"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "hollow_producer_messages_rejected_total{dataset=\"assets\",reason=\"key_mismatch\"} 1"
        ),
        "{text}"
    );
}

fn quiet_cycles_publish_nothing(kafka: Kafka) {
    let dir = tempdir();
    let config = kafka.config(dir.path(), &[]);
    let mut service = kafka.service(config.clone());
    for _ in 0..2 {
        let r = service.run_cycle().unwrap();
        assert_eq!(r.datasets.len(), 7);
        assert!(r.published().is_empty());
        assert_eq!(r.read(), 0);
    }
    assert!(published(&config, "titles").is_none());
    let mut tx = kafka.sender();
    send_now(
        &mut tx,
        &kafka.topic("titles"),
        Some("1"),
        Some(&title(1, "x")),
    );
    assert_eq!(
        service.run_cycle().unwrap().published(),
        BTreeMap::from([("titles".to_owned(), 1)])
    );
    for _ in 0..2 {
        let r = service.run_cycle().unwrap();
        assert!(r.published().is_empty());
        assert_eq!(r.read(), 0);
    }
    assert_eq!(service.version("titles"), Some(1));
}

fn restart_resumes_from_stored_offsets(kafka: Kafka) {
    let dir = tempdir();
    let config = kafka.config(dir.path(), &["titles"]);
    let topic = kafka.topic("titles");
    let mut tx = kafka.sender();
    {
        let mut service = kafka.service(config.clone());
        for id in 1..=20 {
            tx.send(
                &topic,
                Some(id.to_string().as_bytes()),
                Some(title(id, "a").as_bytes()),
                &[],
            )
            .unwrap();
        }
        tx.flush(std::time::Duration::from_secs(30)).unwrap();
        assert_eq!(
            service
                .run_cycle()
                .unwrap()
                .dataset("titles")
                .unwrap()
                .published(),
            Some(1)
        );
        // identical messages: an unchanged cycle advances offsets in memory only
        send_now(&mut tx, &topic, Some("1"), Some(&title(1, "a")));
        let d = service.run_cycle().unwrap().datasets.remove(0);
        assert_eq!((d.read, d.noop, d.published()), (1, 1, None));
    }
    // while the service is down
    for id in 15..=25 {
        tx.send(
            &topic,
            Some(id.to_string().as_bytes()),
            Some(title(id, "b").as_bytes()),
            &[],
        )
        .unwrap();
    }
    tx.send(&topic, Some(b"3"), None, &[]).unwrap();
    tx.flush(std::time::Duration::from_secs(30)).unwrap();

    let mut service = kafka.service(config.clone());
    assert_eq!(service.version("titles"), Some(1));
    assert_eq!(service.offsets("titles").unwrap().total(), 20);
    let d = service.run_cycle().unwrap().datasets.remove(0);
    // the no-op message is read again (harmless), then the 12 new ones
    assert_eq!((d.read, d.applied, d.noop), (13, 12, 1));
    assert_eq!(d.published(), Some(2));
    let state = published(&config, "titles").unwrap();
    let all = kafka.read_all(&topic);
    assert_eq!(all.len(), 33);
    assert_eq!(state.records, fold(&schema("titles"), &all, None));
    assert_eq!(state.records.len(), 24);
    assert_eq!(
        Offsets::parse(&state.header[HEADER_KEY]).unwrap().total(),
        33
    );
    drop(service);

    // nothing new: a restart publishes nothing and reads nothing
    let mut service = kafka.service(config.clone());
    let d = service.run_cycle().unwrap().datasets.remove(0);
    assert_eq!((d.read, d.published()), (0, None));
    assert_eq!(service.version("titles"), Some(2));
}

fn refused_states_are_retried_not_skipped(kafka: Kafka) {
    let dir = tempdir();
    let mut config = kafka.config(dir.path(), &["titles"]);
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    // the default count check (±50 %), with a guard small enough for this test
    assert_eq!(config.state.max_count_change_ratio, Some(0.5));
    config.state.count_check_min = 10;
    let topic = kafka.topic("titles");
    let mut service = kafka.service(config.clone());
    let mut tx = kafka.sender();
    for id in 1..=20 {
        tx.send(
            &topic,
            Some(id.to_string().as_bytes()),
            Some(title(id, "a").as_bytes()),
            &[],
        )
        .unwrap();
    }
    tx.flush(std::time::Duration::from_secs(30)).unwrap();
    assert_eq!(
        service.run_cycle().unwrap().datasets[0].published(),
        Some(1)
    );
    for id in 1..=15 {
        tx.send(&topic, Some(id.to_string().as_bytes()), None, &[])
            .unwrap();
    }
    tx.flush(std::time::Duration::from_secs(30)).unwrap();
    for _ in 0..2 {
        let d = service.run_cycle().unwrap().datasets.remove(0);
        match &d.outcome {
            DatasetOutcome::ValidationFailed { validator, reason } => {
                assert_eq!(validator, "record_count_change", "{reason}");
                assert!(
                    matches!(
                        reason,
                        hollow::lifecycle::ValidationFailure::CountChange {
                            previous: 20,
                            new: 5,
                            ..
                        }
                    ),
                    "{reason:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(d.read, 15, "the same messages are read again");
        assert_eq!(service.version("titles"), Some(1));
        assert_eq!(service.offsets("titles").unwrap().total(), 20);
    }
    let state = published(&config, "titles").unwrap();
    assert_eq!(state.records.len(), 20);
    assert_eq!(
        Offsets::parse(&state.header[HEADER_KEY]).unwrap().total(),
        20,
        "the announced offsets did not move"
    );
    let text = producer::metrics::scrape(service.metrics_addr().unwrap()).unwrap();
    assert!(text.lines().any(|l| l == "hollow_producer_validation_failures_total{dataset=\"titles\",validator=\"record_count_change\"} 2"), "{text}");

    // a restart in between re-reads from the announced offsets too
    drop(service);
    let mut service = kafka.service(config.clone());
    assert!(matches!(
        service.run_cycle().unwrap().datasets[0].outcome,
        DatasetOutcome::ValidationFailed { .. }
    ));

    // ten new titles: 20 - 15 + 10 = 15 records (-25 %): the next cycle publishes the
    // refused deletes and the new titles together, each exactly once
    for id in 21..=30 {
        tx.send(
            &topic,
            Some(id.to_string().as_bytes()),
            Some(title(id, "b").as_bytes()),
            &[],
        )
        .unwrap();
    }
    tx.flush(std::time::Duration::from_secs(30)).unwrap();
    let d = service.run_cycle().unwrap().datasets.remove(0);
    assert_eq!(
        (d.read, d.applied, d.published()),
        (25, 25, Some(2)),
        "{d:?}"
    );
    let state = published(&config, "titles").unwrap();
    let all = kafka.read_all(&topic);
    assert_eq!(all.len(), 45);
    assert_eq!(state.records, fold(&schema("titles"), &all, None));
    assert_eq!(state.records.len(), 15);
    assert_eq!(
        Offsets::parse(&state.header[HEADER_KEY]).unwrap().total(),
        45
    );
    // and nothing more to do
    let d = service.run_cycle().unwrap().datasets.remove(0);
    assert_eq!((d.read, d.published()), (0, None));

    // growth is not refused by default (15 → 45 records), only with count-check-growth
    for id in 31..=60 {
        tx.send(
            &topic,
            Some(id.to_string().as_bytes()),
            Some(title(id, "c").as_bytes()),
            &[],
        )
        .unwrap();
    }
    tx.flush(std::time::Duration::from_secs(30)).unwrap();
    assert_eq!(
        service.run_cycle().unwrap().datasets[0].published(),
        Some(3)
    );
    drop(service);
    config.state.count_check_growth = true;
    let mut service = kafka.service(config.clone());
    for id in 61..=130 {
        tx.send(
            &topic,
            Some(id.to_string().as_bytes()),
            Some(title(id, "d").as_bytes()),
            &[],
        )
        .unwrap();
    }
    tx.flush(std::time::Duration::from_secs(30)).unwrap();
    assert!(matches!(
        service.run_cycle().unwrap().datasets[0].outcome,
        DatasetOutcome::ValidationFailed { .. }
    ));
}

#[test]
fn an_unreachable_dead_letter_broker_does_not_hold_the_cycle() {
    let kafka = Kafka::start();
    let dir = tempdir();
    let mut config = kafka.config(dir.path(), &["titles"]);
    // a port nothing listens on: bind one, note it, close it
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    config.dead_letter_topic = Some(kafka.topic("dead-letters"));
    config.dead_letter_bootstrap = Some(format!("127.0.0.1:{port}"));
    // a small local queue, so that the dropping path runs too
    config
        .kafka
        .insert("queue.buffering.max.messages".into(), "20".into());
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let topic = kafka.topic("titles");
    let mut service = kafka.service(config.clone());
    let mut tx = kafka.sender();
    for id in 1..=5 {
        tx.send(
            &topic,
            Some(id.to_string().as_bytes()),
            Some(title(id, "a").as_bytes()),
            &[],
        )
        .unwrap();
    }
    for id in 1..=50 {
        tx.send(&topic, Some(id.to_string().as_bytes()), Some(b"{oops"), &[])
            .unwrap();
    }
    tx.flush(std::time::Duration::from_secs(30)).unwrap();
    let started = std::time::Instant::now();
    let r = service.run_cycle().unwrap();
    let elapsed = started.elapsed();
    let d = &r.datasets[0];
    assert_eq!(
        (d.read, d.applied, d.rejected_total(), d.published()),
        (55, 5, 50, Some(1))
    );
    let dl = r.dead_letter.unwrap();
    assert_eq!(dl.queued + dl.dropped, 50, "{dl:?}");
    assert!(dl.dropped >= 30, "a full queue drops: {dl:?}");
    assert_eq!((dl.delivered, dl.failed), (0, 0), "{dl:?}");
    assert!(dl.in_flight > 0, "{dl:?}");
    // before, the cycle flushed the dead letters and waited 30 s for this broker
    assert!(
        elapsed < std::time::Duration::from_secs(5),
        "the cycle took {elapsed:?}"
    );
    eprintln!("cycle with an unreachable dead-letter broker: {elapsed:?}, {dl:?}");
    let text = producer::metrics::scrape(service.metrics_addr().unwrap()).unwrap();
    assert!(
        text.lines().any(|l| l
            == format!(
                "hollow_producer_dead_letter_messages_total{{outcome=\"dropped\"}} {}",
                dl.dropped
            )),
        "{text}"
    );
    // the next cycle is quick too, and a bounded flush gives up
    let started = std::time::Instant::now();
    service.run_cycle().unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let started = std::time::Instant::now();
    service.flush_dead_letters(std::time::Duration::from_millis(300));
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

fn metrics_are_served_over_http(kafka: Kafka) {
    let dir = tempdir();
    let mut config = kafka.config(dir.path(), &["titles", "videos"]);
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let mut service = kafka.service(config);
    let addr = service.metrics_addr().unwrap();
    let mut tx = kafka.sender();
    send_now(
        &mut tx,
        &kafka.topic("titles"),
        Some("1"),
        Some(&title(1, "x")),
    );
    send_now(&mut tx, &kafka.topic("titles"), Some("2"), Some("{}"));
    service.run_cycle().unwrap();
    let text = producer::metrics::scrape(addr).unwrap();
    for line in [
        "hollow_producer_cycles_total 1",
        "hollow_producer_messages_read_total{dataset=\"titles\"} 2",
        "hollow_producer_messages_applied_total{dataset=\"titles\"} 1",
        "hollow_producer_messages_rejected_total{dataset=\"titles\",reason=\"missing_field\"} 1",
        "hollow_producer_version{dataset=\"titles\"} 1",
        "hollow_producer_version{dataset=\"videos\"} -1",
        "hollow_producer_dataset_cycles_total{dataset=\"titles\",outcome=\"published\"} 1",
        "hollow_producer_consumer_lag{dataset=\"titles\",partition=\"0\"} 0",
        "# TYPE hollow_producer_cycle_duration_seconds gauge",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn retention_by_versions_keeps_protected_versions_and_is_counted() {
    let kafka = Kafka::start();
    let dir = tempdir();
    let mut config = kafka.config(dir.path(), &["titles"]);
    config.state.keep_versions = 2;
    config.state.snapshot_every = 2;
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let topic = kafka.topic("titles");
    let mut service = kafka.service(config.clone());
    let mut tx = kafka.sender();
    let store = hollow::store::open_store(&config.store_url("titles")).unwrap();
    let tl = hollow::lifecycle::Timeline::new(store.clone());
    let mut deleted = 0;
    let mut at_v2 = None;
    for id in 1..=9 {
        send_now(
            &mut tx,
            &topic,
            Some(&id.to_string()),
            Some(&title(id, "a")),
        );
        let d = service.run_cycle().unwrap().datasets.remove(0);
        let DatasetOutcome::Published {
            version,
            retention_deleted,
            retention_error,
            ..
        } = d.outcome
        else {
            panic!("{d:?}")
        };
        assert!(retention_error.is_none(), "{retention_error:?}");
        deleted += retention_deleted;
        if version == 2 {
            // a gatekeeper's retained output uses version 2
            tl.protect(2, "gatekeeper-test").unwrap();
            at_v2 = Some(published(&config, "titles").unwrap());
        }
    }
    assert!(deleted > 0);
    let text = producer::metrics::scrape(service.metrics_addr().unwrap()).unwrap();
    assert!(
        text.lines().any(|l| l
            == format!("hollow_producer_retention_deleted_total{{dataset=\"titles\"}} {deleted}")),
        "{text}"
    );
    let schema = schema("titles");
    assert_eq!(
        Some(producer::state::load_version(store.clone(), &schema, 2).unwrap()),
        at_v2,
        "the protected version still loads"
    );
    assert!(
        producer::state::load_version(store.clone(), &schema, 4).is_err(),
        "an unprotected old version is gone"
    );
    for v in [8, 9] {
        assert_eq!(
            producer::state::load_version(store.clone(), &schema, v)
                .unwrap()
                .records
                .len(),
            v as usize
        );
    }
}
