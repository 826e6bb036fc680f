//! The gatekeeper while its inputs' store is out: the cycle goes on with the last good inputs
//! (nothing new announced), `/healthz` answers 503 naming `inputs` with since when and the
//! last error, the `gatekeeper_dependency_*` gauges say so, and when the store is back the
//! next cycle is healthy again. The outage: the inputs folder replaced by a symbolic link to
//! itself, so every read fails with an I/O error (too many levels of symbolic links).

mod e2e_common;

use std::time::Duration;

use e2e_common::*;
use gatekeeper::generate::{BASE_NOW, DAY};
use gatekeeper::inputs::publish_jsonl_dir;
use gatekeeper::Service;

fn healthz(svc: &Service) -> (u16, String) {
    ops::http::get_status(svc.metrics_addr().unwrap(), "/healthz").unwrap()
}

#[test]
fn inputs_outage_flips_healthz_and_keeps_the_last_good_output() {
    gatekeeper::logging::init(log::LevelFilter::Warn);
    let cat = catalog_dir(10, 5);
    let dir = tempfile::tempdir().unwrap();
    let (inputs, out) = (url(dir.path(), "inputs"), url(dir.path(), "liveness"));
    publish_jsonl_dir(cat.path(), &inputs, false).expect("publishing the inputs");
    let mut config = config(Some(&inputs), &out);
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    config.health_grace = Some(Duration::ZERO);
    let mut svc = Service::new(config).expect("service");
    let r = svc.run_cycle_at(BASE_NOW);
    assert!(r.error.is_none() && r.published() == Some(1), "{r}");
    let (status, body) = healthz(&svc);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, "inputs: ok\noutput: ok\n");

    // out: the folder becomes a loop
    let (folder, aside) = (dir.path().join("inputs"), dir.path().join("inputs.aside"));
    std::fs::rename(&folder, &aside).unwrap();
    std::os::unix::fs::symlink(&folder, &folder).unwrap();
    // the same `now` as the first cycle: with the inputs on their last good states nothing may
    // change (a later `now` can open or close a window, e.g. in a synthesized catalog)
    let r = svc.run_cycle_at(BASE_NOW);
    assert_eq!(r.inputs_on_last_good().len(), 7, "{r}");
    assert_eq!(
        svc.output_version(),
        Some(1),
        "no new version from the same inputs at the same time: {r}"
    );
    let (status, body) = healthz(&svc);
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("inputs: DOWN since") && body.contains("output: ok"),
        "{body}"
    );
    let metrics = ops::http::scrape(svc.metrics_addr().unwrap()).unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "gatekeeper_dependency_up{dependency=\"inputs\"} 0"),
        "{metrics}"
    );

    // back
    std::fs::remove_file(&folder).unwrap();
    std::fs::rename(&aside, &folder).unwrap();
    let r = svc.run_cycle_at(BASE_NOW + DAY);
    assert!(
        r.error.is_none() && r.inputs_on_last_good().is_empty(),
        "{r}"
    );
    let (status, body) = healthz(&svc);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, "inputs: ok\noutput: ok\n");
}
