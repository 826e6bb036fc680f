//! Retention on both sides keeps `replay` working: a PROD gatekeeper with output retention
//! (`keep_versions`) runs cycles while its inputs change several times between cycles and
//! the inputs' own retention (hollow's `Timeline::retain`, what the producer service runs
//! after each publish) keeps only their latest version. The gatekeeper protects the input
//! versions its retained outputs use and releases the others: afterwards every retained
//! output replays identically, the intermediate input versions are gone, and only versions
//! some retained output uses stay protected. Without the protections, the same retention
//! makes the replay of older outputs fail (the test's own control).

use gatekeeper::inputs::{publish_jsonl_dir, InputWriter};
use gatekeeper::model::AssetStatus;
use gatekeeper::retention::{holder_for, Protector};
use gatekeeper::tools::{stored_versions, Replayer};
use gatekeeper::{jsonl, Dataset, Service, ServiceConfig};
use hollow::lifecycle::Timeline;
use std::collections::BTreeSet;
use std::time::Duration;

const DAY: i64 = 86_400_000;

fn timeline(inputs: &str, d: Dataset) -> Timeline {
    Timeline::new(hollow::store::open_store(&d.store_url(inputs)).expect("input store"))
}

#[test]
fn retention_on_both_sides_keeps_every_retained_output_replayable() {
    gatekeeper::logging::init(log::LevelFilter::Warn);
    let cat = tempfile::tempdir().expect("temp dir");
    let options = gatekeeper::generate::GenOptions {
        limit: Some(30),
        seed: 11,
        ..Default::default()
    };
    gatekeeper::generate::generate_with(cat.path(), &options).expect("catalog");
    let tmp = tempfile::tempdir().expect("temp dir");
    let inputs = format!("file://{}/inputs", tmp.path().display());
    let out = format!("file://{}/prod", tmp.path().display());
    publish_jsonl_dir(cat.path(), &inputs, false).expect("publishing the inputs");
    let catalog = jsonl::load_catalog(cat.path()).expect("catalog");

    let mut config = ServiceConfig::new(Some(&inputs), &out);
    config.interval = Duration::from_millis(10);
    config.threads = 2;
    config.snapshot_every = 2;
    config.keep_versions = 3;
    let mut prod = Service::new(config).expect("PROD service");
    let mut writer = InputWriter::new(&inputs);
    let now0 = gatekeeper::generate::BASE_NOW;
    let mut deleted_inputs = 0usize;
    let mut used: Vec<[u64; 7]> = Vec::new();
    for k in 0..8usize {
        // six asset changes between cycles: five of them no output ever uses (and the
        // oldest retained output's is more than one input snapshot period, 10, behind)
        for j in 0..6usize {
            let a = &catalog.assets[(k * 6 + j) % catalog.assets.len()];
            let status = if (k + j) % 2 == 0 {
                AssetStatus::Failed
            } else {
                AssetStatus::Ready
            };
            let changed = gatekeeper::model::Asset {
                status,
                ..a.clone()
            };
            writer
                .cycle(
                    Dataset::Assets,
                    &[serde_json::to_value(&changed).expect("json")],
                    &[],
                )
                .expect("assets");
        }
        let r = prod.run_cycle_at(now0 + k as i64 * DAY);
        assert!(r.error.is_none(), "cycle {k}: {r}");
        let ret = r.retention.clone().expect("a retention report");
        assert!(
            ret.errors.is_empty() && ret.unprotected.is_empty(),
            "cycle {k}: {ret:?}"
        );
        used.push(std::array::from_fn(|i| {
            r.inputs[i].version.expect("input version")
        }));
        // the producers' retention: keep only the latest version of each input
        for d in Dataset::ALL {
            deleted_inputs += timeline(&inputs, d)
                .retain(1, None, u64::MAX)
                .expect("input retention")
                .len();
        }
    }
    drop(prod);

    let retained = stored_versions(&out).expect("output versions");
    assert!(
        retained.len() >= 3 && retained.len() < 8,
        "output retention kept {retained:?}"
    );
    assert!(deleted_inputs > 0, "the inputs' retention deleted nothing");
    // every retained output replays identically
    let mut replayer = Replayer::new(&out, None, None).expect("replayer");
    for &v in &retained {
        let r = replayer.replay(v).expect("replay of a retained output");
        assert!(r.identical(), "v{v}: {}", r.summary());
    }
    // the intermediate asset versions are gone; only what retained outputs use is protected
    let out_store = hollow::store::open_store(&out).expect("output store");
    let protector = Protector::new(&out, out_store);
    let mut needed: [BTreeSet<u64>; 7] = Default::default();
    for &v in &retained {
        let refs = protector
            .refs(v)
            .expect("refs")
            .expect("a refs record of every retained version");
        for d in Dataset::ALL {
            needed[d.index()].insert(refs.versions[d.index()]);
        }
    }
    let holder = holder_for(&out);
    for d in Dataset::ALL {
        let mine: BTreeSet<u64> = timeline(&inputs, d)
            .protected()
            .expect("protected")
            .into_iter()
            .filter(|(_, h)| h.contains(&holder))
            .map(|(v, _)| v)
            .collect();
        assert_eq!(mine, needed[d.index()], "input {d}: protected versions");
    }
    let assets = timeline(&inputs, Dataset::Assets);
    let oldest_used = used
        .iter()
        .map(|u| u[Dataset::Assets.index()])
        .min()
        .expect("cycles");
    let gone = (oldest_used..=used.last().expect("cycles")[Dataset::Assets.index()])
        .filter(|v| !needed[Dataset::Assets.index()].contains(v))
        .filter(|v| {
            let c = hollow::lifecycle::Consumer::new(
                assets.store().clone(),
                hollow::lifecycle::ConsumerConfig::default(),
            );
            c.update_to(*v).is_err()
        });
    assert!(gone.count() > 0, "no unused input version was deleted");

    // control: without the protections the same retention breaks the replay of old outputs
    for d in Dataset::ALL {
        let tl = timeline(&inputs, d);
        for v in tl.protected().expect("protected").into_keys() {
            tl.release(v, &holder).expect("release");
        }
        tl.retain(1, None, u64::MAX).expect("input retention");
    }
    let mut replayer = Replayer::new(&out, None, None).expect("replayer");
    assert!(
        replayer.replay(retained[0]).is_err(),
        "v{} still replays without its inputs",
        retained[0]
    );
}
