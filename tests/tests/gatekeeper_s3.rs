//! The gatekeeper service over S3, inputs and output in one bucket of a real S3 server that
//! this test starts in its own process ([`testkit::S3Server`]): cycles, a change, the output
//! against the naive oracle, replay of every version. A test binary of its own, because the
//! `s3://` URLs find the server through the environment (`HOLLOW_S3_ENDPOINT`, AWS_*), which
//! it sets before anything else runs.

mod e2e_common;

use e2e_common::*;
use gatekeeper::generate::{BASE_NOW, DAY};
use gatekeeper::inputs::{publish_jsonl_dir, InputWriter};
use gatekeeper::model::{Asset, AssetKind, AssetStatus};
use gatekeeper::tools::{stored_versions, Replayer};
use gatekeeper::{jsonl, Dataset, Rules, Service};
use integration_tests::naive;

#[test]
fn the_service_runs_over_s3() {
    gatekeeper::logging::init(log::LevelFilter::Warn);
    let server = testkit::S3Server::start().expect("starting the in-process S3 server");
    testkit::report_server("gatekeeper over S3", &server.describe());
    // The only test of this process, so nothing reads the environment while it changes.
    std::env::set_var("HOLLOW_S3_ENDPOINT", server.endpoint());
    std::env::set_var("AWS_ACCESS_KEY_ID", testkit::S3_ACCESS_KEY);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", testkit::S3_SECRET_KEY);
    std::env::set_var("AWS_REGION", testkit::S3_REGION);
    let bucket = "gatekeeper-e2e";
    server.create_bucket(bucket).expect("bucket");
    let cat = catalog_dir(10, 11);
    let (inputs, out) = (
        format!("s3://{bucket}/inputs"),
        format!("s3://{bucket}/liveness"),
    );
    publish_jsonl_dir(cat.path(), &inputs, false).expect("publishing the inputs to S3");
    let catalog = jsonl::load_catalog(cat.path()).expect("catalog");
    let mut svc = Service::new(config(Some(&inputs), &out)).expect("service");
    let r = svc.run_cycle_at(BASE_NOW);
    assert!(r.error.is_none() && r.published() == Some(1), "{r}");
    let failed: Vec<Asset> = catalog
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::Video)
        .take(5)
        .map(|a| Asset {
            status: AssetStatus::Failed,
            ..a.clone()
        })
        .collect();
    InputWriter::new(&inputs)
        .cycle(Dataset::Assets, &to_json(&failed), &[])
        .expect("assets");
    let r = svc.run_cycle_at(BASE_NOW + DAY);
    assert!(
        r.error.is_none() && r.inputs_on_last_good().is_empty(),
        "{r}"
    );
    let versions: [u64; 7] = std::array::from_fn(|i| r.inputs[i].version.expect("input version"));
    let oracle = naive::export(&naive::evaluate(
        &catalog_at(&inputs, versions),
        BASE_NOW + DAY,
        &Rules::baseline(),
    ));
    let (_, _, output) = latest_output(&out);
    assert!(
        output == oracle,
        "S3: output and oracle differ at {}",
        first_difference(&output, &oracle)
    );
    let mut replayer = Replayer::new(&out, None, None).expect("replayer");
    let stored = stored_versions(&out).expect("versions");
    assert!(stored.len() >= 2, "{stored:?}");
    for v in stored {
        assert!(replayer.replay(v).expect("replay").identical(), "v{v}");
    }
}
