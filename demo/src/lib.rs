//! The demo: the whole pipeline on one machine, in one process (`cargo run --release -p demo`).
//!
//! It is its own crate so that `gatekeeper` builds without the producer service and
//! librdkafka; it links both and drives them as a deployment would, with an embedded broker.
//!
//! 1. A catalog is generated into `<dir>/catalog` (from `../shared/data/netflix_titles.csv`
//!    when present, else synthesized; `limit` titles × `scale`).
//! 2. An embedded Kafka broker starts; the catalog is sent to the seven topics.
//! 3. Every cycle: a simulator sends realistic changes to the topics (assets becoming ready or
//!    failing, new windows, ratings, localizations, renamed titles, deletes); the producer
//!    service folds them into the seven input timelines under `<dir>/inputs`; the PROD
//!    gatekeeper (baseline rules) publishes `<dir>/prod`, and the PREPROD gatekeeper (strict
//!    rules, following PROD) publishes `<dir>/preprod` and diffs itself against PROD.
//! 4. At the end: the PREPROD-vs-PROD diff summary, and a replay check of every PROD version.
//!
//! The gatekeepers evaluate on a simulated clock that starts at the catalog's reference time
//! (2026-11-01) and advances one hour a cycle, so the demo shows the same picture on any
//! machine; every output records its `now`, so replays are exact.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use gatekeeper::compare::describe_change;
use gatekeeper::generate::{generate_with, GenOptions, BASE_NOW};
use gatekeeper::service::{Service, ServiceConfig};
use gatekeeper::tools::{diff_outputs, stored_versions, Replayer};
use gatekeeper::Rules;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Prints a line; a closed stdout (`demo | head`) is not worth a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where everything goes (wiped first): `catalog/`, `inputs/`, `prod/`, `preprod/`.
    pub dir: PathBuf,
    /// Titles taken from the source.
    pub limit: usize,
    /// Copies of the titles.
    pub scale: u32,
    /// Cycles to run.
    pub cycles: u32,
    /// Time between cycle starts.
    pub interval: Duration,
    /// Upstream changes sent before each cycle after the first.
    pub changes: usize,
    /// The titles CSV; default: `../shared/data/netflix_titles.csv` when present.
    pub source: Option<PathBuf>,
    /// Serve PROD's metrics on this address.
    pub metrics_addr: Option<SocketAddr>,
    /// Seed of the generator and the simulator.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            dir: PathBuf::from("demo-out"),
            limit: 400,
            scale: 1,
            cycles: 6,
            interval: Duration::from_secs(1),
            changes: 40,
            source: None,
            metrics_addr: None,
            seed: 7,
        }
    }
}

/// The shared titles CSV, if this checkout has it.
fn default_source() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from("../shared/data/netflix_titles.csv"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/netflix_titles.csv"),
    ];
    candidates.into_iter().find(|p| p.is_file())
}

/// Why the demo stopped.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A step of the producer side (the broker, the sender, the producer service) failed.
    #[error("{step}: {source}")]
    Producer {
        /// The step, e.g. "starting the embedded Kafka broker".
        step: &'static str,
        /// The producer's error.
        source: Box<producer::Error>,
    },
    /// The gatekeeper side failed (generating the catalog, a service, the diff, a replay).
    #[error(transparent)]
    Gatekeeper(Box<gatekeeper::Error>),
    /// Generating the catalog failed.
    #[error("generating the catalog: {0}")]
    Generate(#[source] gatekeeper::generate::GenerateError),
    /// The output folder could not be prepared.
    #[error("i/o error on {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Replaying stored PROD versions did not reproduce them.
    #[error("PROD versions {versions:?} differ from their replay")]
    ReplayDiffers {
        /// The versions whose replay differs.
        versions: Vec<u64>,
    },
}

impl From<gatekeeper::Error> for Error {
    fn from(e: gatekeeper::Error) -> Self {
        Error::Gatekeeper(Box::new(e))
    }
}

/// The demo's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a demo run showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Records of the generated catalog, over the seven datasets.
    pub catalog_records: u64,
    /// Catalog messages sent to the embedded broker before the first cycle.
    pub catalog_messages: u64,
    /// The PROD versions stored at the end.
    pub prod_versions: Vec<u64>,
    /// (title, country) pairs of the last PROD version.
    pub prod_pairs: usize,
    /// Pairs on which PREPROD (strict rules) and PROD (baseline rules) differ at the end.
    pub pairs_differ: usize,
    /// PROD versions replayed; every one re-evaluated identically (else [`Error::ReplayDiffers`]).
    pub replayed: usize,
}

fn demo_err(step: &'static str) -> impl Fn(producer::Error) -> Error {
    move |e| Error::Producer {
        step,
        source: Box::new(e),
    }
}

/// Runs the demo, printing as it goes; fails if a replay differs.
pub fn run(opts: &DemoOptions) -> Result<Summary> {
    let started = Instant::now();
    std::fs::create_dir_all(&opts.dir).map_err(|source| Error::Io {
        path: opts.dir.clone(),
        source,
    })?;
    let dir = opts.dir.canonicalize().map_err(|source| Error::Io {
        path: opts.dir.clone(),
        source,
    })?;
    for sub in ["catalog", "inputs", "prod", "preprod"] {
        let p = dir.join(sub);
        if p.exists() {
            std::fs::remove_dir_all(&p).map_err(|source| Error::Io {
                path: p.clone(),
                source,
            })?;
        }
    }
    let url = |sub: &str| format!("file://{}", dir.join(sub).display());
    let (inputs, prod_url, preprod_url) = (url("inputs"), url("prod"), url("preprod"));

    // 1. The catalog.
    let source = opts.source.clone().or_else(default_source);
    let gen = GenOptions {
        scale: opts.scale.max(1),
        source: source.clone(),
        countries: None,
        seed: opts.seed,
        limit: Some(opts.limit),
    };
    let summary = generate_with(&dir.join("catalog"), &gen).map_err(Error::Generate)?;
    let records: u64 = summary.counts.values().sum();
    say!(
        "== catalog: {records} records ({} titles from {}, countries from {}) in {}",
        opts.limit * opts.scale.max(1) as usize,
        summary.titles_from,
        summary.countries_from,
        dir.join("catalog").display()
    );

    // 2. Kafka and the producer.
    let broker = Arc::new(
        producer::EmbeddedBroker::start()
            .map_err(demo_err("starting the embedded Kafka broker"))?,
    );
    let mut pconfig = producer::Config::default();
    pconfig
        .set("store", Some(&inputs))
        .map_err(demo_err("producer config"))?;
    pconfig
        .set("read-timeout", Some("2s"))
        .map_err(demo_err("producer config"))?;
    let schemas = producer::config::load_schemas(&pconfig.schemas, &[])
        .map_err(demo_err("loading the dataset schemas"))?;
    let mut producer = producer::Service::with_broker(pconfig, broker.clone())
        .map_err(demo_err("starting the producer"))?;
    let mut sender = producer::Sender::new(broker.bootstrap_servers(), &Default::default())
        .map_err(demo_err("Kafka sender"))?;
    let catalog = producer::simulate::Catalog::load(&dir.join("catalog"), &schemas)
        .map_err(demo_err("reading the catalog"))?;
    let t = Instant::now();
    let sent = producer::simulate::load_catalog(&mut sender, producer.config(), &catalog)
        .map_err(demo_err("loading the catalog into Kafka"))?;
    say!(
        "== kafka: embedded broker at {}; {sent} catalog messages sent in {:.1} s",
        broker.bootstrap_servers(),
        t.elapsed().as_secs_f64()
    );
    let mut simulator = producer::simulate::Simulator::new(&schemas, catalog, opts.seed);

    // 3. The gatekeepers.
    let mut prod_config = ServiceConfig::new(Some(&inputs), &prod_url);
    prod_config.metrics_addr = opts.metrics_addr;
    let mut prod = Service::new(prod_config)?;
    if let Some(addr) = prod.metrics_addr() {
        say!("== PROD metrics on http://{addr}/metrics");
    }
    let mut preprod_config = ServiceConfig::new(None, &preprod_url);
    preprod_config.follow = Some(prod_url.clone());
    preprod_config.rules = Rules::builtin("strict").map_err(gatekeeper::Error::from)?;
    let mut preprod = Service::new(preprod_config)?;
    say!("== PROD gatekeeper: rules baseline-1 -> {prod_url}\n== PREPROD gatekeeper: rules strict-1, following PROD -> {preprod_url}\n");

    for cycle in 1..=opts.cycles.max(1) {
        let t = Instant::now();
        if cycle > 1 {
            let mut kinds: std::collections::BTreeMap<&str, u64> =
                std::collections::BTreeMap::new();
            for _ in 0..opts.changes {
                let Some(c) = simulator.next_change() else {
                    break;
                };
                let topic = producer.topic(&c.dataset).unwrap_or(&c.dataset).to_string();
                sender
                    .send(
                        &topic,
                        Some(c.key.as_bytes()),
                        c.value.as_deref().map(str::as_bytes),
                        &[],
                    )
                    .map_err(demo_err("sending a change"))?;
                *kinds.entry(c.kind).or_default() += 1;
            }
            sender
                .flush(Duration::from_secs(30))
                .map_err(demo_err("flushing the changes"))?;
            let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k}={n}")).collect();
            say!("cycle {cycle}: upstream sent {}", kinds.join(" "));
        }
        let report = producer.run_cycle();
        match &report {
            Ok(r) => {
                let published: Vec<String> = r.published().iter().map(|(d, v)| format!("{d}=v{v}")).collect();
                say!("cycle {cycle}: producer read {} messages, published [{}]", r.read(), published.join(" "));
            }
            Err(e) => say!("cycle {cycle}: producer FAILED: {e} (the gatekeepers go on with the last versions)"),
        }
        let now = BASE_NOW + i64::from(cycle - 1) * 3_600_000;
        let p = prod.run_cycle_at(now);
        say!("cycle {cycle}: PROD    {p}");
        let pp = preprod.run_cycle();
        say!("cycle {cycle}: PREPROD {pp}");
        if let Some(d) = &pp.prod_diff {
            say!(
                "cycle {cycle}: PREPROD vs PROD: {} pairs differ ({} live -> not live)",
                d.changed + d.added + d.removed,
                d.live_to_not_live
            );
        }
        say!();
        if cycle < opts.cycles {
            std::thread::sleep(opts.interval.saturating_sub(t.elapsed()));
        }
    }

    // 4. The PREPROD-vs-PROD diff and the replays.
    let d = diff_outputs(&prod_url, &preprod_url, None, None)?;
    say!(
        "== PREPROD v{} (strict-1) vs PROD v{} (baseline-1): {} of {} pairs differ",
        d.preprod_version,
        d.prod_version,
        d.diff.len(),
        d.prod.len()
    );
    for &c in d.diff.changed.iter().take(5) {
        say!("   {}", describe_change(&d.prod, &d.preprod, c));
    }
    say!("   summary: {}", d.summary.to_string().trim_end());
    let versions = stored_versions(&prod_url)?;
    let mut replayer = Replayer::new(&prod_url, None, None)?;
    let mut differing = Vec::new();
    for &v in &versions {
        let r = replayer.replay(v)?;
        if !r.identical() {
            differing.push(v);
        }
    }
    if differing.is_empty() {
        say!("== replay: all {} PROD versions re-evaluate identically (inputs travelled back to the versions each header records)", versions.len());
    } else {
        say!("== replay: versions {differing:?} DIFFER");
    }
    let some_title = d
        .prod
        .rows()
        .first()
        .map(|r| d.prod.title_id(r))
        .unwrap_or_default();
    say!("\n== done in {:.1} s. Explore:\n   gatekeeper history --out {prod_url} --title {some_title}\n   gatekeeper diff --prod {prod_url} --preprod {preprod_url}\n   gatekeeper replay --out {prod_url} --version all", started.elapsed().as_secs_f64());
    if differing.is_empty() {
        Ok(Summary {
            catalog_records: records,
            catalog_messages: sent,
            prod_versions: versions.clone(),
            prod_pairs: d.prod.len(),
            pairs_differ: d.diff.len(),
            replayed: versions.len(),
        })
    } else {
        Err(Error::ReplayDiffers {
            versions: differing,
        })
    }
}
