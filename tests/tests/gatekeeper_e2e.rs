//! The gatekeeper service end to end, in process, over folder blob stores:
//!
//! - a catalog (`gen_catalog.py --limit N` from `../shared` when present, else the built-in
//!   generator) is published into seven input timelines; a PROD service and a PREPROD one
//!   (strict rules, following PROD) run several cycles with input changes between them, made
//!   through hollow producers directly (asset statuses, windows, titles, countries,
//!   localizations, ratings; a title added and one deleted);
//! - after every cycle, the published output equals the naive oracle's evaluation of the very
//!   input versions (read back from the input timelines) at the cycle's `now`; PREPROD's
//!   header follows PROD, its output equals the strict oracle, and `diff_outputs` agrees with
//!   the two oracle exports;
//! - every output version of both replays identically, and `stored_versions` (what
//!   `replay --version all` walks) leaves out the number of a publish killed after it stored
//!   blobs;
//! - a corrupt delta blob, a missing one and an unreadable announcement make the cycle go on
//!   with the input's last good version, and say so (report, metrics over HTTP);
//! - over the embedded Kafka: a change sent to a topic shows up in the liveness output within
//!   two cycles.
//!
//! The same service over S3 is in `gatekeeper_s3.rs` (its own process, because it points the
//! `s3://` URLs at an S3 server through the environment).

mod e2e_common;

use e2e_common::*;

use gatekeeper::generate::{BASE_NOW, DAY};
use gatekeeper::inputs::{publish_jsonl_dir, InputWriter};
use gatekeeper::model::{
    Asset, AssetKind, AssetStatus, Country, Localization, Rating, Right, Title, TitleKind, Video,
};
use gatekeeper::tools::{diff_outputs, stored_versions, Replayer};
use gatekeeper::{jsonl, Catalog, Dataset, Rules, Service};
use hollow::{MemoryMode, ReadState};
use integration_tests::naive;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Input changes before cycle `k` (through hollow producers, as an upstream would).
fn change_inputs(k: u32, w: &mut InputWriter, c: &Catalog, now: i64) {
    match k {
        1 => {
            // The pictures of the first three titles' videos fail; windows go and come.
            let videos: Vec<i64> = c
                .videos
                .iter()
                .filter(|v| c.titles[..3].iter().any(|t| t.id == v.title_id))
                .map(|v| v.id)
                .collect();
            let failed: Vec<Asset> = c
                .assets
                .iter()
                .filter(|a| a.kind == AssetKind::Video && videos.contains(&a.video_id))
                .map(|a| Asset {
                    status: AssetStatus::Failed,
                    ..a.clone()
                })
                .collect();
            assert!(!failed.is_empty());
            w.cycle(Dataset::Assets, &to_json(&failed), &[])
                .expect("assets");
            let gone: Vec<String> = c
                .rights
                .iter()
                .take(5)
                .map(|r| format!("{}|{}|{}", r.title_id, r.country, r.window_start))
                .collect();
            let new = Right {
                title_id: c.titles[4].id,
                country: c.countries[0].code.clone(),
                window_start: now + 10 * DAY,
                window_end: None,
            };
            w.cycle(
                Dataset::Rights,
                &to_json(&[new]),
                &gone.iter().map(String::as_str).collect::<Vec<_>>(),
            )
            .expect("rights");
        }
        2 => {
            // A title changes its original language; a title without videos appears; names go.
            let mut t = c.titles[5].clone();
            t.original_language = if t.original_language == "en" {
                "fr".into()
            } else {
                "en".into()
            };
            let max = c.titles.iter().map(|t| t.id).max().unwrap_or(0);
            let new = Title {
                id: max + 1,
                kind: TitleKind::Show,
                name: "Brand New".into(),
                original_language: "ja".into(),
                release_year: None,
                genres: vec![],
                cast: vec![],
                directors: vec![],
            };
            w.cycle(Dataset::Titles, &to_json(&[t, new]), &[])
                .expect("titles");
            let nameless: Vec<Localization> = c
                .localizations
                .iter()
                .take(5)
                .map(|l| Localization {
                    name: None,
                    ..l.clone()
                })
                .collect();
            w.cycle(Dataset::Localizations, &to_json(&nameless), &[])
                .expect("localizations");
        }
        3 => {
            // Two countries change their captions rule; ratings go.
            let flipped: Vec<Country> = c
                .countries
                .iter()
                .take(2)
                .map(|x| Country {
                    requires_captions: !x.requires_captions,
                    ..x.clone()
                })
                .collect();
            w.cycle(Dataset::Countries, &to_json(&flipped), &[])
                .expect("countries");
            let gone: Vec<String> = c
                .ratings
                .iter()
                .take(10)
                .map(|r: &Rating| format!("{}|{}", r.title_id, r.country))
                .collect();
            w.cycle(
                Dataset::Ratings,
                &[],
                &gone.iter().map(String::as_str).collect::<Vec<_>>(),
            )
            .expect("ratings");
        }
        4 => {} // only time passes
        _ => {
            // A title is deleted (its pairs disappear); its videos stay behind, dangling.
            let key = c.titles[6].id.to_string();
            w.cycle(Dataset::Titles, &[], &[&key]).expect("titles");
            let orphan: Vec<Video> = c
                .videos
                .iter()
                .filter(|v| v.title_id == c.titles[6].id)
                .take(1)
                .cloned()
                .collect();
            w.cycle(Dataset::Videos, &to_json(&orphan), &[])
                .expect("videos");
        }
    }
}

#[test]
fn service_cycles_match_the_oracle_replay_and_preprod_diff() {
    gatekeeper::logging::init(log::LevelFilter::Warn);
    let cat = catalog_dir(40, 3);
    let tmp = tempfile::tempdir().expect("temp dir");
    let (inputs, out, pre) = (
        url(tmp.path(), "inputs"),
        url(tmp.path(), "prod"),
        url(tmp.path(), "preprod"),
    );
    publish_jsonl_dir(cat.path(), &inputs, false).expect("publishing the inputs");
    let catalog = jsonl::load_catalog(cat.path()).expect("catalog");
    let baseline = Rules::builtin("baseline").expect("baseline");
    let strict = Rules::builtin("strict").expect("strict");

    let mut prod_config = config(Some(&inputs), &out);
    prod_config.snapshot_every = 2;
    let mut prod = Service::new(prod_config).expect("PROD service");
    let mut preprod_config = config(None, &pre);
    preprod_config.follow = Some(out.clone());
    preprod_config.rules = strict.clone();
    let mut preprod = Service::new(preprod_config).expect("PREPROD service");
    let mut writer = InputWriter::new(&inputs);

    let mut published_any_unchanged = false;
    for k in 0..6u32 {
        let now = BASE_NOW + i64::from(k) * 20 * DAY;
        if k > 0 {
            change_inputs(k, &mut writer, &catalog, now);
        }
        let r = prod.run_cycle_at(now);
        assert!(r.error.is_none(), "cycle {k}: {r}");
        assert!(r.inputs_on_last_good().is_empty(), "cycle {k}: {r}");
        published_any_unchanged |= r.published().is_none();
        let versions: [u64; 7] =
            std::array::from_fn(|i| r.inputs[i].version.expect("input version"));
        let oracle = naive::export(&naive::evaluate(
            &catalog_at(&inputs, versions),
            now,
            &baseline,
        ));
        // The latest output (published now, or unchanged since) is the evaluation at `now`.
        let (v, header, output) = latest_output(&out);
        assert!(
            output == oracle,
            "cycle {k} (output v{v}): output and oracle differ at {}",
            first_difference(&output, &oracle)
        );
        if r.published().is_some() {
            assert_eq!(
                (
                    header.now,
                    header.inputs.map(Option::unwrap_or_default),
                    header.rules.as_str()
                ),
                (now, versions, "baseline-1"),
                "cycle {k}: header"
            );
        }

        // PREPROD follows PROD's latest version.
        let p = preprod.run_cycle();
        assert!(p.error.is_none(), "PREPROD cycle {k}: {p}");
        assert_eq!(p.follows, Some(v), "PREPROD cycle {k}: {p}");
        let (pv, pheader, poutput) = latest_output(&pre);
        assert_eq!(
            (
                pheader.follows,
                pheader.now,
                pheader.inputs,
                pheader.rules.as_str()
            ),
            (Some(v), header.now, header.inputs, "strict-1"),
            "PREPROD v{pv} header"
        );
        let prod_versions = header.input_versions(v).expect("PROD input versions");
        let strict_oracle = naive::export(&naive::evaluate(
            &catalog_at(&inputs, prod_versions),
            header.now,
            &strict,
        ));
        if p.skipped.is_none() {
            assert!(
                poutput == strict_oracle,
                "PREPROD cycle {k}: output and strict oracle differ at {}",
                first_difference(&poutput, &strict_oracle)
            );
        }
        let d = diff_outputs(&out, &pre, None, None).expect("diff");
        assert_eq!((d.prod_version, d.preprod_version), (v, pv));
        let base_oracle = naive::export(&naive::evaluate(
            &catalog_at(&inputs, prod_versions),
            header.now,
            &baseline,
        ));
        let differing = base_oracle
            .lines()
            .zip(strict_oracle.lines())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(d.diff.len(), differing, "PREPROD cycle {k}: diff size");
        assert!(
            d.summary.gained.contains_key("MISSING_CAPTIONS") || differing == 0,
            "{}",
            d.summary
        );
        if let Some(s) = &p.prod_diff {
            assert_eq!(
                (s.changed + s.added + s.removed) as usize,
                differing,
                "PREPROD cycle {k}: the cycle's own diff"
            );
        }
    }
    assert!(published_any_unchanged || stored_versions(&out).expect("versions").len() == 6);

    // PROD wrote the snapshots of its even versions in the background (done once it is dropped).
    drop(prod);
    let snapshots: Vec<u64> = std::fs::read_dir(tmp.path().join("prod/snapshot"))
        .expect("snapshots")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let last = *stored_versions(&out)
        .expect("versions")
        .last()
        .expect("a version");
    for v in (2..=last).step_by(2) {
        assert!(
            snapshots.contains(&v),
            "no snapshot of v{v} in {snapshots:?}"
        );
    }

    // Every output version of both replays identically.
    for (url, n) in [(&out, 1), (&pre, 1)] {
        let versions = stored_versions(url).expect("versions");
        assert!(versions.len() >= n);
        let mut replayer = Replayer::new(url, None, None).expect("replayer");
        for v in versions {
            let r = replayer.replay(v).expect("replay");
            assert!(
                r.identical(),
                "{url} v{v}: replay differs in {} pairs: {}",
                r.diff.len(),
                r.summary()
            );
        }
    }
}

/// Overwrites a file of a folder store.
/// A catalog of `limit` titles (`seed`) published into the input timelines of a temp dir
/// (the generated files are removed once loaded); the output timeline goes next to them.
struct Published {
    tmp: tempfile::TempDir,
    inputs: String,
    out: String,
    catalog: Catalog,
}

fn published_catalog(limit: usize, seed: u64) -> Published {
    gatekeeper::logging::init(log::LevelFilter::Warn);
    let cat = catalog_dir(limit, seed);
    let tmp = tempfile::tempdir().expect("temp dir");
    let (inputs, out) = (url(tmp.path(), "inputs"), url(tmp.path(), "out"));
    publish_jsonl_dir(cat.path(), &inputs, false).expect("publishing the inputs");
    let catalog = jsonl::load_catalog(cat.path()).expect("catalog");
    Published {
        tmp,
        inputs,
        out,
        catalog,
    }
}

/// The first `n` assets of the catalog, failed.
fn first_assets_failed(catalog: &Catalog, n: usize) -> Vec<Asset> {
    catalog
        .assets
        .iter()
        .take(n)
        .map(|a| Asset {
            status: AssetStatus::Failed,
            ..a.clone()
        })
        .collect()
}

fn blob_path(inputs_dir: &Path, dataset: &str, prefix: &str) -> PathBuf {
    let dir = inputs_dir.join(dataset).join(prefix);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("blob folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files.pop().expect("a blob")
}

#[test]
fn bad_inputs_keep_the_last_good_version_and_say_so() {
    let Published {
        tmp,
        inputs,
        out,
        catalog,
    } = published_catalog(15, 5);
    let mut c = config(Some(&inputs), &out);
    c.metrics_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let mut svc = Service::new(c).expect("service");
    let addr = svc.metrics_addr().expect("metrics address");
    assert!(svc.run_cycle_at(BASE_NOW).error.is_none());

    // A new assets version whose delta blob is corrupt (there is no snapshot of it).
    let failed = first_assets_failed(&catalog, 20);
    let mut writer = InputWriter::new(&inputs);
    assert_eq!(
        writer
            .cycle(Dataset::Assets, &to_json(&failed), &[])
            .expect("assets"),
        Some(2)
    );
    let delta = blob_path(&tmp.path().join("inputs"), "assets", "delta");
    let good = std::fs::read(&delta).expect("delta");
    std::fs::write(&delta, b"not a hollow blob").expect("corrupting");
    let r = svc.run_cycle_at(BASE_NOW + DAY);
    assert!(r.error.is_none(), "{r}");
    assert_eq!(r.inputs_on_last_good(), [Dataset::Assets], "{r}");
    assert_eq!(r.inputs[Dataset::Assets.index()].version, Some(1));
    let error = r.inputs[Dataset::Assets.index()].error.as_ref();
    assert!(
        error.is_some_and(|e| e.to_string().contains("assets")),
        "{r}"
    );
    // the typed cause: the delta is not a hollow blob, and no other path reaches the version
    assert!(
        matches!(
            error,
            Some(gatekeeper::service::InputError::Refresh { error, .. })
                if matches!(&**error, hollow::Error::Unreachable { failures, .. }
                    if failures.iter().any(|f| matches!(&*f.error,
                        hollow::Error::Data(hollow::DataError::BadMagic { .. })))),
        ),
        "{error:?}"
    );
    assert!(r.to_string().contains("ON LAST GOOD: assets"), "{r}");
    let metrics = gatekeeper::metrics::scrape(addr).expect("scraping the metrics");
    assert!(
        metrics.contains("gatekeeper_input_on_last_good{dataset=\"assets\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("gatekeeper_inputs_on_last_good 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("gatekeeper_input_version{dataset=\"assets\"} 1"),
        "{metrics}"
    );
    if r.published().is_some() {
        assert_eq!(
            latest_output(&out).1.inputs[Dataset::Assets.index()],
            Some(1)
        );
    }

    // The blob missing altogether: the same.
    std::fs::remove_file(&delta).expect("removing");
    let r = svc.run_cycle_at(BASE_NOW + 2 * DAY);
    assert!(
        r.error.is_none() && r.inputs_on_last_good() == [Dataset::Assets],
        "{r}"
    );

    // Repaired: the cycle moves on.
    std::fs::write(&delta, &good).expect("repairing");
    let r = svc.run_cycle_at(BASE_NOW + 3 * DAY);
    assert!(
        r.error.is_none() && r.inputs_on_last_good().is_empty(),
        "{r}"
    );
    assert_eq!(r.inputs[Dataset::Assets.index()].version, Some(2));

    // An unreadable announcement of another input.
    let announced = tmp.path().join("inputs/ratings/announced");
    std::fs::write(&announced, b"garbage").expect("corrupting the announcement");
    let r = svc.run_cycle_at(BASE_NOW + 4 * DAY);
    assert!(
        r.error.is_none() && r.inputs_on_last_good() == [Dataset::Ratings],
        "{r}"
    );
    let metrics = gatekeeper::metrics::scrape(addr).expect("scraping the metrics");
    assert!(
        metrics.contains("gatekeeper_input_on_last_good{dataset=\"ratings\"} 1")
            && metrics.contains("gatekeeper_cycles_total 5"),
        "{metrics}"
    );

    // Every version published on the way replays identically.
    let mut replayer = Replayer::new(&out, None, None).expect("replayer");
    for v in stored_versions(&out).expect("versions") {
        assert!(replayer.replay(v).expect("replay").identical(), "v{v}");
    }
}

#[test]
fn replay_all_skips_the_number_of_a_publish_that_was_killed() {
    let Published {
        tmp,
        inputs,
        out,
        catalog,
    } = published_catalog(15, 4);
    let mut svc = Service::new(config(Some(&inputs), &out)).expect("service");
    assert!(svc.run_cycle_at(BASE_NOW).error.is_none());
    assert_eq!(stored_versions(&out).expect("versions"), [1]);

    // A publish of version 2 killed after its snapshot and delta blobs were stored, before
    // its metadata line and announcement: blobs that name a version never published.
    let out_dir = tmp.path().join("out");
    std::fs::create_dir_all(out_dir.join("delta")).expect("delta dir");
    let snapshot =
        std::fs::read(out_dir.join(hollow::lifecycle::Step::Snapshot(1).key())).expect("v1");
    std::fs::write(
        out_dir.join(hollow::lifecycle::Step::Snapshot(2).key()),
        &snapshot,
    )
    .expect("v2");
    std::fs::write(
        out_dir.join(hollow::lifecycle::Step::Delta(1, 2).key()),
        b"half",
    )
    .expect("1-2");

    // The service restarts, and its next cycles number their versions above it.
    drop(svc);
    let mut svc = Service::new(config(Some(&inputs), &out)).expect("service");
    let mut writer = InputWriter::new(&inputs);
    for (k, take) in [(1, 10), (2, 30)] {
        let failed = first_assets_failed(&catalog, take);
        writer
            .cycle(Dataset::Assets, &to_json(&failed), &[])
            .expect("assets");
        let r = svc.run_cycle_at(BASE_NOW + k * DAY);
        assert!(r.error.is_none(), "{r}");
    }
    let versions = stored_versions(&out).expect("versions");
    assert_eq!(versions, [1, 3, 4], "the killed number 2 is not a version");

    // Replaying all of them (what `gatekeeper replay --version all` does) succeeds.
    let mut replayer = Replayer::new(&out, None, None).expect("replayer");
    for v in versions {
        assert!(replayer.replay(v).expect("replay").identical(), "v{v}");
    }
}

#[test]
fn a_kafka_change_reaches_the_output_within_two_cycles() {
    gatekeeper::logging::init(log::LevelFilter::Warn);
    let broker = match producer::EmbeddedBroker::start() {
        Ok(b) => Arc::new(b),
        Err(e) => {
            eprintln!("SKIPPED: cannot start the embedded Kafka broker: {e}");
            return;
        }
    };
    let cat = catalog_dir(12, 9);
    let tmp = tempfile::tempdir().expect("temp dir");
    let (inputs, out) = (url(tmp.path(), "inputs"), url(tmp.path(), "out"));
    let schemas_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let mut pconfig = producer::Config::default();
    pconfig.set("store", Some(&inputs)).expect("store");
    pconfig
        .set("schemas", Some(schemas_dir.to_str().expect("path")))
        .expect("schemas");
    pconfig
        .set("read-timeout", Some("2s"))
        .expect("read timeout");
    let mut producer =
        producer::Service::with_broker(pconfig, broker.clone()).expect("producer service");
    let schemas = producer::config::load_schemas(&schemas_dir, &[]).expect("schemas");
    let source = producer::simulate::Catalog::load(cat.path(), &schemas).expect("catalog");
    let mut sender =
        producer::Sender::new(broker.bootstrap_servers(), &Default::default()).expect("sender");
    producer::simulate::load_catalog(&mut sender, producer.config(), &source)
        .expect("loading the catalog into Kafka");
    producer.run_cycle().expect("producer cycle");

    let mut gk = Service::new(config(Some(&inputs), &out)).expect("gatekeeper");
    let now = BASE_NOW;
    assert!(gk.run_cycle_at(now).error.is_none());
    let catalog = jsonl::load_catalog(cat.path()).expect("catalog");
    let table = gk.published().expect("published").clone();
    let live = table.rows().iter().find(|r| r.live).expect("a live pair");
    let (title, country) = (table.title_id(live), table.country(live).to_string());

    // Tombstones for every window of that pair: it loses its rights.
    let topic = producer.topic("rights").expect("rights topic").to_string();
    for r in catalog
        .rights
        .iter()
        .filter(|r| r.title_id == title && r.country == country)
    {
        sender
            .send(
                &topic,
                Some(format!("{}|{}|{}", r.title_id, r.country, r.window_start).as_bytes()),
                None,
                &[],
            )
            .expect("tombstone");
    }
    sender.flush(Duration::from_secs(30)).expect("flush");
    let mut seen = false;
    for _ in 0..2 {
        producer.run_cycle().expect("producer cycle");
        let r = gk.run_cycle_at(now);
        assert!(r.error.is_none(), "{r}");
        let row = gk
            .published()
            .and_then(|t| t.find(title, &country).map(|row| t.liveness(row)))
            .expect("the pair");
        if !row.live && row.reasons.iter().any(|x| x == "NO_RIGHTS") {
            seen = true;
            break;
        }
    }
    assert!(
        seen,
        "{title}|{country} did not lose its rights within two cycles"
    );
    let (_, _, output) = latest_output(&out);
    assert!(output.contains(&format!(
        "{{\"title_id\":{title},\"country\":{},\"live\":false",
        json!(country)
    )));
}

/// Random changes to every dataset the parts read, round after round: the service's index,
/// updated incrementally from the consumers' net changes, evaluates exactly as a fresh index
/// of the same input versions.
#[test]
fn incremental_index_updates_equal_fresh_builds() {
    let Published {
        tmp: _tmp,
        inputs,
        out,
        catalog,
    } = published_catalog(30, 21);
    let mut svc = Service::new(config(Some(&inputs), &out)).expect("service");
    let mut writer = InputWriter::new(&inputs);
    let mut rng = <rand_pcg::Pcg64Mcg as rand::SeedableRng>::seed_from_u64(
        std::env::var("GK_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(99),
    );
    let mut patched = 0;
    let mut next_asset = catalog.assets.iter().map(|a| a.id).max().unwrap_or(0) + 1;
    for round in 0..8i64 {
        let now = BASE_NOW + round * 7 * DAY;
        if round > 0 {
            let pick = |rng: &mut rand_pcg::Pcg64Mcg, n: usize| {
                rand::RngExt::random_range(rng, 0..n.max(1))
            };
            // Assets: flips, a new subtitle, a delete.
            let mut assets: Vec<Asset> = (0..6)
                .map(|_| catalog.assets[pick(&mut rng, catalog.assets.len())].clone())
                .collect();
            for a in &mut assets {
                a.status = if a.status == AssetStatus::Ready {
                    AssetStatus::Failed
                } else {
                    AssetStatus::Ready
                };
            }
            let video = &catalog.videos[pick(&mut rng, catalog.videos.len())];
            assets.push(Asset {
                id: next_asset,
                video_id: video.id,
                kind: AssetKind::Subtitle,
                language: Some(catalog.countries[0].primary_language.clone()),
                status: AssetStatus::Ready,
            });
            next_asset += 1;
            let gone = catalog.assets[pick(&mut rng, catalog.assets.len())]
                .id
                .to_string();
            writer
                .cycle(Dataset::Assets, &to_json(&assets), &[&gone])
                .expect("assets");
            // Videos: one moves to another title, one is deleted (its assets dangle).
            if round % 2 == 0 {
                let mut v = catalog.videos[pick(&mut rng, catalog.videos.len())].clone();
                v.title_id = catalog.titles[pick(&mut rng, catalog.titles.len())].id;
                let gone = catalog.videos[pick(&mut rng, catalog.videos.len())]
                    .id
                    .to_string();
                writer
                    .cycle(Dataset::Videos, &to_json(&[v]), &[&gone])
                    .expect("videos");
            }
            // Rights: a window ends now, one is deleted, a new one starts soon.
            let mut r = catalog.rights[pick(&mut rng, catalog.rights.len())].clone();
            r.window_end = Some(now);
            let gone = &catalog.rights[pick(&mut rng, catalog.rights.len())];
            let gone = format!("{}|{}|{}", gone.title_id, gone.country, gone.window_start);
            let new = Right {
                title_id: catalog.titles[pick(&mut rng, catalog.titles.len())].id,
                country: catalog.countries[pick(&mut rng, catalog.countries.len())]
                    .code
                    .clone(),
                window_start: now + DAY,
                window_end: None,
            };
            writer
                .cycle(Dataset::Rights, &to_json(&[r, new]), &[&gone])
                .expect("rights");
            // Ratings and localizations, every other round.
            if round % 2 == 1 {
                let gone = &catalog.ratings[pick(&mut rng, catalog.ratings.len())];
                let new = Rating {
                    title_id: catalog.titles[pick(&mut rng, catalog.titles.len())].id,
                    country: catalog.countries[pick(&mut rng, catalog.countries.len())]
                        .code
                        .clone(),
                    board: "B".into(),
                    rating: "R".into(),
                };
                writer
                    .cycle(
                        Dataset::Ratings,
                        &to_json(&[new]),
                        &[&format!("{}|{}", gone.title_id, gone.country)],
                    )
                    .expect("ratings");
                let mut l =
                    catalog.localizations[pick(&mut rng, catalog.localizations.len())].clone();
                l.synopsis = Some(" ".into());
                let gone = &catalog.localizations[pick(&mut rng, catalog.localizations.len())];
                writer
                    .cycle(
                        Dataset::Localizations,
                        &to_json(&[l]),
                        &[&format!("{}|{}", gone.title_id, gone.language)],
                    )
                    .expect("localizations");
            }
        }
        let r = svc.run_cycle_at(now);
        assert!(r.error.is_none(), "round {round}: {r}");
        if let Some(rb) = r.rebuilt {
            patched += [rb.videos, rb.windows, rb.ratings, rb.localizations]
                .iter()
                .filter(|u| matches!(u, gatekeeper::PartUpdate::Patched(_)))
                .count();
        }
        let versions: [u64; 7] =
            std::array::from_fn(|i| r.inputs[i].version.expect("input version"));
        let states: Vec<Arc<ReadState>> = Dataset::ALL
            .iter()
            .map(|d| {
                Arc::new(
                    hollow::lifecycle::load_version(
                        hollow::store::open_store(&d.store_url(&inputs)).expect("store"),
                        versions[d.index()],
                        MemoryMode::Heap,
                    )
                    .expect("state"),
                )
            })
            .collect();
        let fresh_inputs = gatekeeper::InputStates {
            states: states.try_into().expect("seven"),
            versions: versions.map(Some),
        };
        let fresh = gatekeeper::Index::build(&fresh_inputs)
            .expect("fresh index")
            .evaluate(now, &Rules::baseline());
        let published = svc.published().expect("published");
        let diff = published.diff(&fresh);
        assert!(
            diff.is_empty(),
            "round {round} ({r}): {} pairs differ, first {}",
            diff.len(),
            gatekeeper::compare::describe_change(published, &fresh, diff.changed[0])
        );
    }
    assert!(patched >= 10, "the incremental path ran {patched} times");
}
