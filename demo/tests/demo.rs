//! The demo end to end, small: the README's first command, on a few titles and cycles.

use std::process::Command;

use hollow::lifecycle::Timeline;
use hollow::store::open_store;

#[test]
fn a_small_demo_publishes_prod_and_preprod_and_replays_identically() {
    let dir = tempfile::tempdir().unwrap();
    let opts = demo::DemoOptions {
        dir: dir.path().join("out"),
        limit: 60,
        cycles: 3,
        interval: std::time::Duration::ZERO,
        changes: 30,
        ..Default::default()
    };
    let summary = demo::run(&opts).expect("the demo runs");
    assert!(
        summary.catalog_records > 0 && summary.catalog_messages > 0,
        "{summary:?}"
    );
    assert!(!summary.prod_versions.is_empty(), "{summary:?}");
    assert_eq!(summary.replayed, summary.prod_versions.len(), "{summary:?}");
    assert!(summary.prod_pairs > 0, "{summary:?}");
    // What it wrote is a store any consumer reads: PROD announced its last version.
    let out = std::fs::canonicalize(dir.path().join("out")).unwrap();
    let prod = Timeline::new(open_store(out.join("prod").to_str().unwrap()).unwrap());
    assert_eq!(
        prod.target().unwrap(),
        summary.prod_versions.last().copied(),
        "{summary:?}"
    );
    for dataset in ["titles", "countries"] {
        let t =
            Timeline::new(open_store(out.join("inputs").join(dataset).to_str().unwrap()).unwrap());
        assert!(t.target().unwrap().is_some(), "no announced {dataset}");
    }
    let preprod = Timeline::new(open_store(out.join("preprod").to_str().unwrap()).unwrap());
    assert!(preprod.target().unwrap().is_some());
}

#[test]
fn a_wrong_flag_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .arg("--cycles=many")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--cycles"), "{err}");
    let help = Command::new(env!("CARGO_BIN_EXE_demo"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--limit",
        "--cycles",
        "--interval",
        "--changes",
        "--dir",
        "--metrics-port",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}:\n{text}");
    }
}
