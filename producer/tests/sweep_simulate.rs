//! Sweeps (the state equals the source; an unchanged sweep publishes nothing) and a
//! simulated change stream folded while it is being sent (the state equals the simulator's
//! catalog).

mod common;

use std::sync::atomic::AtomicBool;

use common::*;
use producer::simulate::{simulate, Catalog, SimOptions};
use producer::sweep::sweep;
use serde_json::json;

on_both_brokers!(
    sweeps_make_the_state_equal_the_source,
    a_simulated_stream_folded_while_it_is_sent
);

fn assert_state_equals(config: &producer::Config, catalog: &Catalog) {
    for s in all_schemas() {
        let expected = records_of(&s, catalog.records(&s.dataset));
        let got = published(config, &s.dataset)
            .map(|p| p.records)
            .unwrap_or_default();
        assert_eq!(got.len(), expected.len(), "{}", s.dataset);
        assert!(
            got == expected,
            "{}: state differs from the source",
            s.dataset
        );
    }
}

fn sweeps_make_the_state_equal_the_source(kafka: Kafka) {
    let dir = tempdir();
    let src = dir.path().join("source");
    let config = kafka.config(&dir.path().join("blobs"), &[]);
    let mut service = kafka.service(config.clone());
    let schemas = all_schemas();
    let catalog = Catalog::generate(&schemas, 40, 11);
    catalog.write_jsonl(&src).unwrap();

    let report = sweep(&config, &src, false).unwrap();
    assert_eq!(report.sent(), catalog.total() as u64);
    let r = service.run_cycle().unwrap();
    assert_eq!(r.published().len(), 7);
    assert_eq!(r.applied(), catalog.total() as u64);
    assert_state_equals(&config, &catalog);

    // an unchanged sweep publishes nothing
    sweep(&config, &src, true).unwrap();
    let r = service.run_cycle().unwrap();
    assert!(r.published().is_empty(), "{r}");
    assert_eq!(
        (r.read(), r.noop()),
        (catalog.total() as u64, catalog.total() as u64)
    );

    // the source changes: a record edited, records gone, one added, a duplicate key (last wins)
    let mut text = std::fs::read_to_string(src.join("titles.jsonl")).unwrap();
    let first = text.lines().next().unwrap().to_owned();
    let mut t1: serde_json::Value = serde_json::from_str(&first).unwrap();
    t1["name"] = json!("Edited ✓");
    text.push_str(&format!("{t1}\n"));
    std::fs::write(src.join("titles.jsonl"), text).unwrap();
    let rights = std::fs::read_to_string(src.join("rights.jsonl")).unwrap();
    let kept: Vec<&str> = rights.lines().skip(5).collect();
    std::fs::write(src.join("rights.jsonl"), kept.join("\n") + "\n").unwrap();
    let mut ratings = std::fs::read_to_string(src.join("ratings.jsonl")).unwrap();
    ratings.push_str("{\"title_id\":999,\"country\":\"FR\",\"board\":\"CNC\",\"rating\":\"12\"}\n\nnot a record\n");
    std::fs::write(src.join("ratings.jsonl"), ratings).unwrap();
    let edited = Catalog::load(&src, &schemas).unwrap();

    let report = sweep(&config, &src, true).unwrap();
    assert_eq!(report.tombstones(), 5);
    assert_eq!(report.datasets["ratings"].invalid, 1);
    let r = service.run_cycle().unwrap();
    assert_eq!(
        r.published().keys().map(String::as_str).collect::<Vec<_>>(),
        ["ratings", "rights", "titles"]
    );
    assert_state_equals(&config, &edited);
    assert_eq!(published(&config, "titles").unwrap().records.len(), 40);
}

fn a_simulated_stream_folded_while_it_is_sent(kafka: Kafka) {
    let dir = tempdir();
    let config = kafka.config(dir.path(), &[]);
    let mut service = kafka.service(config.clone());
    let schemas = all_schemas();
    let catalog = Catalog::generate(&schemas, 25, 3);
    let (mut tx, cfg, sch) = (kafka.sender(), config.clone(), schemas.clone());
    let sim = std::thread::spawn(move || {
        let opts = SimOptions {
            rate: 3000.0,
            max_changes: Some(3000),
            seed: 9,
            ..SimOptions::default()
        };
        simulate(&mut tx, &cfg, &sch, catalog, &opts, &AtomicBool::new(false)).unwrap()
    });
    let mut cycles = 0;
    while !sim.is_finished() {
        service.run_cycle().unwrap();
        cycles += 1;
    }
    let (report, sim) = sim.join().unwrap();
    assert_eq!(report.changes, 3000);
    assert!(report.by_kind.len() >= 8, "{:?}", report.by_kind);
    loop {
        let r = service.run_cycle().unwrap();
        if r.read() == 0 {
            break;
        }
    }
    assert!(cycles >= 2, "the stream should span several cycles");
    assert_state_equals(&config, sim.catalog());
}
