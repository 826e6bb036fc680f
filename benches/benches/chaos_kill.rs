//! kill -9 chaos harness for the producer and the gatekeeper (issue 10).
//!
//! Against a Kafka broker (tansu through `testkit`, or `HOLLOW_TEST_KAFKA_BOOTSTRAP`) and an S3
//! server (the `testkit-s3` binary as a separate process), while simulators keep producing:
//!
//! 1. **Producer.** The release `producer` binary (`--store s3://...`) is killed with SIGKILL
//!    at each fault-injection phase in turn (`HOLLOW_CHAOS_PAUSE`, see `ops::chaos`: `consume`,
//!    `fold`, `upload`, `announce`, `commit`) and at random times, and restarted. After each kill
//!    the announced state of every dataset (what the restart restores) must equal a plain model
//!    fed every message Kafka holds below the offsets stored in its header; at the end every
//!    version ever announced must equal the model below its offsets (offsets only move
//!    forward, no version changes content once announced) and the last one every message.
//!    A key whose state misses a message below the stored offsets counts as *lost*; one that
//!    holds the effect of a message at or past them (it will be folded again) as
//!    *double-applied*.
//! 2. **Gatekeeper.** A PROD `gatekeeper run` over the producer's store (the producer now runs
//!    without kills) is killed at its phases (`loaded`, `evaluate`, `upload`, `announce`) and at
//!    random times. Every output version it announced must equal the naive oracle
//!    (`integration_tests::naive`) evaluated on the input versions and `now` its header
//!    records, after each restart the process must publish again, and at the end `gatekeeper
//!    replay --version all` must match every version.
//!
//! Short form by default (6 producer kills, 3 gatekeeper kills); `--long` is 50 + 20;
//! `--producer-kills N`, `--gatekeeper-kills N`, `--seed S` override. Exits non-zero on any
//! violation. Needs the release binaries: `cargo build --release -p producer -p gatekeeper -p
//! testkit`, then `cargo bench -p benches --bench chaos_kill [-- --long]`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use gatekeeper::output::{load_version as load_output, read_table, OutputHeader};
use gatekeeper::{Catalog, Dataset, ReasonTable};
use hollow::dataset::{DatasetReader, DatasetSchema, Record};
use hollow::{MemoryMode, ReadState};
use integration_tests::naive;
use producer::message::{decode, Change};
use producer::offsets::{Offsets, HEADER_KEY};
use producer::simulate::{simulate, Catalog as SimCatalog, Rng, SimOptions};
use producer::state::{announced_version, load_version};
use producer::{Config, Sender};
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

const PRODUCER_PHASES: [&str; 6] = ["consume", "fold", "upload", "announce", "commit", "random"];
const GATEKEEPER_PHASES: [&str; 5] = ["loaded", "evaluate", "upload", "announce", "random"];
const PARTITIONS: i32 = 3;
const BUCKET: &str = "chaos";

struct Options {
    producer_kills: usize,
    gatekeeper_kills: usize,
    seed: u64,
}

fn options() -> Result<Options> {
    let mut o = Options {
        producer_kills: 6,
        gatekeeper_kills: 3,
        seed: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Result<u64> {
            args.next()
                .with_context(|| format!("{name} needs a value"))?
                .parse()
                .with_context(|| format!("{name}: not a number"))
        };
        match a.as_str() {
            "--long" => (o.producer_kills, o.gatekeeper_kills) = (50, 20),
            "--producer-kills" => o.producer_kills = num("--producer-kills")? as usize,
            "--gatekeeper-kills" => o.gatekeeper_kills = num("--gatekeeper-kills")? as usize,
            "--seed" => o.seed = num("--seed")?,
            "--bench" => {} // passed by `cargo bench`
            other => bail!("unknown argument {other:?} (--long, --producer-kills N, --gatekeeper-kills N, --seed S)"),
        }
    }
    Ok(o)
}

/// The release binaries: beside the harness's own `deps/` folder, or in `HOLLOW_CHAOS_BIN_DIR`.
fn bin(name: &str) -> Result<PathBuf> {
    let dir = match std::env::var_os("HOLLOW_CHAOS_BIN_DIR") {
        Some(d) => PathBuf::from(d),
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .context("the harness's folder")?
            .to_path_buf(),
    };
    let path = dir.join(name);
    if !path.is_file() {
        bail!("{} is missing: build it first (cargo build --release -p producer -p gatekeeper -p testkit)", path.display());
    }
    Ok(path)
}

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

/// Tallies printed at the end.
#[derive(Default, Debug)]
struct Tally {
    kills: BTreeMap<String, u64>,
    restarts: u64,
    checks: u64,
    lost: u64,
    double_applied: u64,
    republished: u64,
    offsets_back: u64,
    versions_checked: u64,
    violations: Vec<String>,
}

impl Tally {
    fn violation(&mut self, what: String) {
        eprintln!("VIOLATION: {what}");
        self.violations.push(what);
    }
}

// ---------------------------------------------------------------------------------------------
// Kafka: what the topics hold

/// One message read back.
#[derive(Debug, Clone)]
struct Raw {
    partition: i32,
    offset: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
}

/// A topic read incrementally, from its beginning, as far as the checks need.
struct TopicLog {
    topic: String,
    consumer: producer::kafka::KafkaConsumer,
    messages: Vec<Raw>,
    next: BTreeMap<i32, i64>,
}

impl TopicLog {
    fn open(bootstrap: &str, topic: &str) -> Result<TopicLog> {
        let consumer =
            producer::kafka::create_consumer(bootstrap, "chaos-reader", &BTreeMap::new())?;
        let parts = producer::kafka::topic_partitions(&consumer, topic)?
            .with_context(|| format!("topic {topic} is missing"))?;
        let mut tpl = TopicPartitionList::new();
        for p in &parts {
            tpl.add_partition_offset(topic, *p, Offset::Beginning)?;
        }
        consumer.assign(&tpl)?;
        Ok(TopicLog {
            topic: topic.to_string(),
            consumer,
            messages: Vec::new(),
            next: parts.iter().map(|p| (*p, 0)).collect(),
        })
    }

    fn poll_once(&mut self, wait: Duration) -> Option<i32> {
        match self.consumer.poll(wait) {
            Some(Ok(m)) => {
                if m.offset() >= self.next.get(&m.partition()).copied().unwrap_or(0) {
                    self.messages.push(Raw {
                        partition: m.partition(),
                        offset: m.offset(),
                        key: m.key().map(<[u8]>::to_vec),
                        value: m.payload().map(<[u8]>::to_vec),
                    });
                    self.next.insert(m.partition(), m.offset() + 1);
                }
                None
            }
            Some(Err(KafkaError::PartitionEOF(p))) => Some(p),
            _ => None,
        }
    }

    /// Reads until every partition's messages below `upto` are here.
    fn ensure(&mut self, upto: &BTreeMap<i32, i64>) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while upto
            .iter()
            .any(|(p, o)| self.next.get(p).copied().unwrap_or(0) < *o)
        {
            if Instant::now() > deadline {
                bail!(
                    "{}: reading up to {upto:?} timed out at {:?}",
                    self.topic,
                    self.next
                );
            }
            self.poll_once(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Reads for a while longer (to classify a mismatch with the messages past the offsets).
    fn read_more(&mut self, time: Duration) {
        let until = Instant::now() + time;
        while Instant::now() < until {
            self.poll_once(Duration::from_millis(50));
        }
    }

    /// Reads until every partition reports its end (call once nothing is sent any more).
    fn drain(&mut self) -> Result<()> {
        let mut pending: BTreeSet<i32> = self.next.keys().copied().collect();
        let deadline = Instant::now() + Duration::from_secs(120);
        // a fresh fetch after the senders flushed: each partition's end is reported again
        let mut tpl = TopicPartitionList::new();
        for (p, o) in &self.next {
            tpl.add_partition_offset(&self.topic, *p, Offset::Offset(*o))?;
        }
        self.consumer.assign(&tpl)?;
        while !pending.is_empty() {
            if Instant::now() > deadline {
                bail!("{}: reading to the end timed out", self.topic);
            }
            if let Some(p) = self.poll_once(Duration::from_millis(100)) {
                pending.remove(&p);
            }
        }
        Ok(())
    }
}

/// Folds messages in order into a model (rejects ignored): those below `upto` (all if `None`).
fn fold(
    schema: &DatasetSchema,
    messages: &[Raw],
    upto: Option<&BTreeMap<i32, i64>>,
) -> BTreeMap<String, Record> {
    let mut model = BTreeMap::new();
    for m in messages {
        if upto.is_some_and(|u| m.offset >= u.get(&m.partition).copied().unwrap_or(0)) {
            continue;
        }
        match decode(schema, m.key.as_deref(), m.value.as_deref()) {
            Ok(Change::Upsert { key, record }) => {
                model.insert(key, record);
            }
            Ok(Change::Delete { key, .. }) => {
                model.remove(&key);
            }
            Err(_) => {}
        }
    }
    model
}

/// (lost, double-applied) keys of a state against the model below `upto`: a key whose state
/// value is the effect of a message at or past `upto` is double-applied, any other difference
/// lost.
fn classify(
    schema: &DatasetSchema,
    state: &BTreeMap<String, Record>,
    model: &BTreeMap<String, Record>,
    messages: &[Raw],
    upto: &BTreeMap<i32, i64>,
) -> (u64, u64, Vec<String>) {
    let keys: BTreeSet<&String> = state.keys().chain(model.keys()).collect();
    let (mut lost, mut double, mut shown) = (0, 0, Vec::new());
    for k in keys {
        let (s, m) = (state.get(k), model.get(k));
        if s == m {
            continue;
        }
        let beyond = messages
            .iter()
            .filter(|x| x.offset >= upto.get(&x.partition).copied().unwrap_or(0))
            .any(
                |x| match decode(schema, x.key.as_deref(), x.value.as_deref()) {
                    Ok(Change::Upsert { key, record }) => &key == k && s == Some(&record),
                    Ok(Change::Delete { key, .. }) => &key == k && s.is_none(),
                    Err(_) => false,
                },
            );
        if beyond {
            double += 1;
        } else {
            lost += 1;
        }
        if shown.len() < 5 {
            shown.push(format!(
                "{k}: state {s:?} vs model {m:?} ({})",
                if beyond { "double-applied" } else { "lost" }
            ));
        }
    }
    (lost, double, shown)
}

// ---------------------------------------------------------------------------------------------
// Servers

enum Broker {
    Embedded(Arc<producer::EmbeddedBroker>, String),
    Tansu(testkit::Tansu),
}

impl Broker {
    /// tansu (`HOLLOW_TEST_KAFKA_BOOTSTRAP`, else started by testkit); without it the run fails
    /// under `CI=true` and otherwise says so and uses the embedded broker (as it does when
    /// `HOLLOW_CHAOS_EMBEDDED` is set).
    fn start() -> Result<Broker> {
        if std::env::var_os("HOLLOW_CHAOS_EMBEDDED").is_none() {
            match testkit::Tansu::start() {
                Ok(t) => return Ok(Broker::Tansu(t)),
                Err(e) => testkit::need(
                    "chaos_kill",
                    &format!("{e}; running against the embedded broker instead"),
                ),
            }
        }
        let b = Arc::new(producer::EmbeddedBroker::start()?);
        let s = b.bootstrap_servers().to_string();
        Ok(Broker::Embedded(b, s))
    }
    fn bootstrap(&self) -> String {
        match self {
            Broker::Embedded(_, s) => s.clone(),
            Broker::Tansu(t) => t.bootstrap().to_string(),
        }
    }
    fn embedded(&self) -> Option<&producer::EmbeddedBroker> {
        match self {
            Broker::Embedded(b, _) => Some(b),
            Broker::Tansu(_) => None,
        }
    }
    fn describe(&self) -> String {
        match self {
            Broker::Embedded(_, s) => format!("the embedded librdkafka mock cluster at {s}"),
            Broker::Tansu(t) => t.describe().to_string(),
        }
    }
}

/// The `testkit-s3` server as a child process; killed on drop.
struct S3Process {
    child: Child,
    endpoint: String,
}

impl S3Process {
    fn start(root: &Path) -> Result<S3Process> {
        std::fs::create_dir_all(root.join(BUCKET))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut child = Command::new(bin("testkit-s3")?)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--root"])
            .arg(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting testkit-s3")?;
        let stdout = child.stdout.take().context("testkit-s3 stdout")?;
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        let endpoint = line
            .trim()
            .strip_prefix("endpoint ")
            .with_context(|| format!("testkit-s3 said {line:?}"))?
            .to_string();
        Ok(S3Process { child, endpoint })
    }
}

impl Drop for S3Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Processes under test

/// Spawns `program args` with its stderr appended to `log`, pausing at `pause` if given.
fn spawn(
    program: &Path,
    args: &[String],
    log: &Path,
    pause: Option<&str>,
    pause_file: &Path,
) -> Result<Child> {
    let _ = std::fs::remove_file(pause_file);
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("PRODUCER_LOG", "info")
        .env("GATEKEEPER_LOG", "info")
        // a failure's message, not pages of frames, at the end of the log
        .env("RUST_BACKTRACE", "0")
        .env(ops::chaos::FILE_ENV, pause_file)
        .stdout(Stdio::null())
        .stderr(out);
    match pause {
        Some(p) => cmd.env(ops::chaos::PAUSE_ENV, p),
        None => cmd.env_remove(ops::chaos::PAUSE_ENV),
    };
    Ok(cmd.spawn()?)
}

/// Waits until the child writes its pause file; an error if it exits first or takes too long.
fn wait_paused(child: &mut Child, pause_file: &Path, what: &str, log: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if std::fs::read_to_string(pause_file).is_ok_and(|s| s.starts_with("chaos-paused")) {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("{what}: exited ({status}) before pausing\n{}", tail(log));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!(
                "{what}: never reached its pause point in 90 s\n{}",
                tail(log)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kill9(child: &mut Child) -> Result<()> {
    child.kill()?; // SIGKILL
    child.wait()?;
    Ok(())
}

fn tail(log: &Path) -> String {
    let text = String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default()).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// The n of `<phase>:<n>`: the pause comes within the first cycles of a fresh process.
fn nth(rng: &mut Rng, phase: &str) -> i64 {
    match phase {
        "consume" => rng.range(1, 40),
        "fold" => rng.range(1, 400),
        "upload" => rng.range(1, 12),
        "loaded" | "evaluate" => rng.range(2, 4),
        _ => rng.range(1, 4),
    }
}

// ---------------------------------------------------------------------------------------------
// The run

struct World {
    /// The run's folder (logs, the S3 server's files): kept when the run fails.
    tmp: PathBuf,
    bootstrap: String,
    prefix: String,
    store: String,
    schemas: BTreeMap<String, DatasetSchema>,
    logs: BTreeMap<String, TopicLog>,
    /// Announced content seen by the checks, by (dataset, version).
    seen: BTreeMap<(String, u64), BTreeMap<String, Record>>,
    tally: Tally,
}

impl World {
    fn topic(&self, ds: &str) -> String {
        format!("{}{ds}", self.prefix)
    }
    fn store_url(&self, ds: &str) -> String {
        format!("{}/{ds}", self.store)
    }
    fn producer_args(&self, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = vec!["run".into()];
        for (k, v) in [
            ("--bootstrap", self.bootstrap.clone()),
            ("--topic-prefix", self.prefix.clone()),
            ("--schemas", schemas_dir().display().to_string()),
            ("--store", self.store.clone()),
            ("--cycle-interval", "200ms".into()),
            ("--snapshot-every", "3".into()),
        ] {
            a.push(k.into());
            a.push(v);
        }
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    /// Checks the announced state of every dataset against the model below its offsets.
    fn check_announced(&mut self) -> Result<()> {
        let datasets: Vec<String> = self.schemas.keys().cloned().collect();
        for ds in datasets {
            let store = hollow::store::open_store(&self.store_url(&ds))?;
            let Some(v) = announced_version(store.clone())? else {
                continue;
            };
            let schema = self.schemas[&ds].clone();
            let state = load_version(store, &schema, v).with_context(|| format!("{ds} v{v}"))?;
            let upto = self.upto(&ds, &state.header)?;
            let log = self.logs.get_mut(&ds).context("topic log")?;
            log.ensure(&upto)?;
            let model = fold(&schema, &log.messages, Some(&upto));
            self.tally.checks += 1;
            if state.records != model {
                log.read_more(Duration::from_secs(2));
                let (lost, double, shown) =
                    classify(&schema, &state.records, &model, &log.messages, &upto);
                self.tally.lost += lost;
                self.tally.double_applied += double;
                self.tally.violation(format!(
                    "{ds} v{v}: the announced state differs from the model below its offsets ({lost} lost, {double} double-applied):\n  {}",
                    shown.join("\n  ")
                ));
            }
            self.remember(&ds, v, state.records);
        }
        Ok(())
    }

    fn upto(&self, ds: &str, header: &BTreeMap<String, String>) -> Result<BTreeMap<i32, i64>> {
        let text = header
            .get(HEADER_KEY)
            .with_context(|| format!("{ds}: no {HEADER_KEY} in the header"))?;
        let offsets = Offsets::parse(text).map_err(|e| anyhow::anyhow!("{ds}: {e}"))?;
        let topic = self.topic(ds);
        Ok(offsets
            .iter()
            .filter(|(tp, _)| tp.topic == topic)
            .map(|(tp, o)| (tp.partition, o))
            .collect())
    }

    /// Records an announced version's content; a version seen before must not have changed.
    fn remember(&mut self, ds: &str, v: u64, records: BTreeMap<String, Record>) {
        match self.seen.get(&(ds.to_string(), v)) {
            Some(before) if *before != records => {
                self.tally.republished += 1;
                self.tally.violation(format!(
                    "{ds} v{v}: the announced version changed content after it was announced"
                ));
            }
            Some(_) => {}
            None => {
                self.seen.insert((ds.to_string(), v), records);
            }
        }
    }

    /// Every version of every dataset against the model below its offsets, and the last one
    /// against every message (call when nothing is sent and the producer caught up).
    fn check_history(&mut self) -> Result<u64> {
        let mut total = 0u64;
        let datasets: Vec<String> = self.schemas.keys().cloned().collect();
        for ds in datasets {
            let schema = self.schemas[&ds].clone();
            self.logs.get_mut(&ds).context("topic log")?.drain()?;
            let messages = self.logs[&ds].messages.clone();
            total += messages.len() as u64;
            let store = hollow::store::open_store(&self.store_url(&ds))?;
            let last = announced_version(store.clone())?
                .with_context(|| format!("{ds}: nothing announced"))?;
            let mut prev: BTreeMap<i32, i64> = BTreeMap::new();
            let mut last_records = BTreeMap::new();
            // A killed publish leaves its number unused: check every published version.
            let published = hollow::lifecycle::Timeline::new(store.clone()).published()?;
            for v in published.range(..=last).copied() {
                let state = load_version(store.clone(), &schema, v)
                    .with_context(|| format!("{ds} v{v}"))?;
                let upto = self.upto(&ds, &state.header)?;
                if prev
                    .iter()
                    .any(|(p, o)| upto.get(p).copied().unwrap_or(0) < *o)
                {
                    self.tally.offsets_back += 1;
                    self.tally.violation(format!(
                        "{ds} v{v}: offsets moved back: {upto:?} after {prev:?}"
                    ));
                }
                let model = fold(&schema, &messages, Some(&upto));
                if state.records != model {
                    let (lost, double, shown) =
                        classify(&schema, &state.records, &model, &messages, &upto);
                    self.tally.lost += lost;
                    self.tally.double_applied += double;
                    self.tally.violation(format!("{ds} v{v}: differs from the model below its offsets ({lost} lost, {double} double-applied):\n  {}", shown.join("\n  ")));
                }
                self.tally.versions_checked += 1;
                prev = upto;
                last_records = state.records.clone();
                self.remember(&ds, v, state.records);
            }
            let all = fold(&schema, &messages, None);
            if last_records != all {
                let ends: BTreeMap<i32, i64> = messages
                    .iter()
                    .map(|m| (m.partition, m.offset + 1))
                    .collect();
                let (lost, double, shown) =
                    classify(&schema, &last_records, &all, &messages, &ends);
                self.tally.lost += lost;
                self.tally.double_applied += double;
                self.tally.violation(format!("{ds} v{last}: the last version misses messages ({lost} lost, {double} double-applied):\n  {}", shown.join("\n  ")));
            }
        }
        Ok(total)
    }
}

/// Background senders: the simulator (a generated catalog, then changes) and a trickle of
/// messages the producer must reject or find no-ops.
struct Senders {
    stop: Arc<AtomicBool>,
    sim: std::thread::JoinHandle<Result<u64>>,
    noise: std::thread::JoinHandle<Result<u64>>,
}

fn start_senders(bootstrap: &str, prefix: &str, seed: u64) -> Result<Senders> {
    let stop = Arc::new(AtomicBool::new(false));
    let config = Config {
        bootstrap: Some(bootstrap.to_string()),
        topic_prefix: prefix.to_string(),
        schemas: schemas_dir(),
        ..Config::default()
    };
    let schemas = config.load_schemas()?;
    let sim = {
        let (stop, config) = (stop.clone(), config.clone());
        std::thread::spawn(move || -> Result<u64> {
            let mut sender = Sender::new(
                config.bootstrap.as_deref().unwrap_or_default(),
                &config.kafka,
            )?;
            let catalog = SimCatalog::generate(&schemas, 30, seed);
            let opts = SimOptions {
                rate: 60.0,
                seed,
                ..SimOptions::default()
            };
            let (report, _) = simulate(&mut sender, &config, &schemas, catalog, &opts, &stop)?;
            Ok(report.loaded + report.changes)
        })
    };
    let noise = {
        let (stop, config) = (stop.clone(), config);
        std::thread::spawn(move || -> Result<u64> {
            let mut sender = Sender::new(
                config.bootstrap.as_deref().unwrap_or_default(),
                &config.kafka,
            )?;
            let mut rng = Rng::new(seed ^ 0x5eed);
            let mut n = 0u64;
            while !stop.load(Ordering::Acquire) {
                let ds = *rng.pick(&["titles", "assets", "rights", "videos"]);
                let (key, value): (&str, Option<&str>) = match rng.below(3) {
                    0 => ("1", Some("{broken")),
                    1 => ("999999", None), // delete of a missing key: a no-op
                    _ => ("not-a-key", Some("{\"id\": 1}")),
                };
                sender.send(
                    &config.topic(ds),
                    Some(key.as_bytes()),
                    value.map(str::as_bytes),
                    &[],
                )?;
                n += 1;
                std::thread::sleep(Duration::from_millis(150));
            }
            let d = sender.flush(Duration::from_secs(60))?;
            if d.failed > 0 {
                bail!("{} noise message(s) not delivered", d.failed);
            }
            Ok(n)
        })
    };
    Ok(Senders { stop, sim, noise })
}

impl Senders {
    fn stop(self) -> Result<u64> {
        self.stop.store(true, Ordering::Release);
        let sim = self
            .sim
            .join()
            .map_err(|_| anyhow::anyhow!("the simulator panicked"))??;
        let noise = self
            .noise
            .join()
            .map_err(|_| anyhow::anyhow!("the noise sender panicked"))??;
        Ok(sim + noise)
    }
}

static GK_OUTPUTS: AtomicU64 = AtomicU64::new(0);

fn main() -> Result<()> {
    let opts = options()?;
    producer::logging::init(log::LevelFilter::Warn);
    // kept on any failure (the logs say what went wrong); removed after a clean run
    let tmp = tempfile::tempdir()?.keep();
    match run(opts, tmp.clone()) {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(())
        }
        Err(e) => Err(e.context(format!(
            "chaos_kill failed; its logs and stores are kept in {}",
            tmp.display()
        ))),
    }
}

fn run(opts: Options, tmp: PathBuf) -> Result<()> {
    let started = Instant::now();
    // S3: the testkit server as a process; the children find it through the environment.
    let s3 = S3Process::start(&tmp.join("s3"))?;
    for (k, v) in [
        ("HOLLOW_S3_ENDPOINT", s3.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        std::env::set_var(k, v);
    }
    let broker = Broker::start()?;
    let bootstrap = broker.bootstrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let prefix = format!("chaos{}-{}.", std::process::id(), nanos % 1_000_000_000);
    println!(
        "chaos_kill: broker {}, S3 testkit-s3 at {}, seed {}",
        broker.describe(),
        s3.endpoint,
        opts.seed
    );
    testkit::report_server(
        "chaos_kill",
        &format!("{}; testkit-s3 {}", broker.describe(), s3.endpoint),
    );

    let schemas: BTreeMap<String, DatasetSchema> =
        producer::config::load_schemas(&schemas_dir(), &[])?
            .into_iter()
            .map(|s| (s.dataset.clone(), s))
            .collect();
    let topics: Vec<String> = schemas.keys().map(|d| format!("{prefix}{d}")).collect();
    producer::kafka::ensure_topics(
        &bootstrap,
        &BTreeMap::new(),
        &topics,
        PARTITIONS,
        broker.embedded(),
    )?;
    let mut logs = BTreeMap::new();
    for ds in schemas.keys() {
        logs.insert(
            ds.clone(),
            TopicLog::open(&bootstrap, &format!("{prefix}{ds}"))?,
        );
    }
    let store = format!("s3://{BUCKET}/inputs");
    let mut w = World {
        tmp,
        bootstrap: bootstrap.clone(),
        prefix: prefix.clone(),
        store,
        schemas,
        logs,
        seen: BTreeMap::new(),
        tally: Tally::default(),
    };
    let senders = start_senders(&bootstrap, &prefix, opts.seed)?;
    let mut rng = Rng::new(opts.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);

    // 1. the producer, killed at each phase in turn and at random times
    let producer_bin = bin("producer")?;
    let plog = w.tmp.join("producer.log");
    let pause_file = w.tmp.join("pause");
    for round in 0..opts.producer_kills {
        let phase = PRODUCER_PHASES[round % PRODUCER_PHASES.len()];
        let mut child = if phase == "random" {
            let c = spawn(
                &producer_bin,
                &w.producer_args(&[]),
                &plog,
                None,
                &pause_file,
            )?;
            std::thread::sleep(Duration::from_millis(rng.range(100, 3000) as u64));
            c
        } else {
            let plan = format!("{phase}:{}", nth(&mut rng, phase));
            let mut c = spawn(
                &producer_bin,
                &w.producer_args(&[]),
                &plog,
                Some(&plan),
                &pause_file,
            )?;
            wait_paused(
                &mut c,
                &pause_file,
                &format!("producer round {round} ({plan})"),
                &plog,
            )?;
            c
        };
        kill9(&mut child)?;
        *w.tally
            .kills
            .entry(format!("producer {phase}"))
            .or_default() += 1;
        w.check_announced()?;
        w.tally.restarts += 1;
        println!(
            "  producer kill {:>2}/{} at {phase:<8} checked ({} lost, {} double-applied so far, {:.0} s)",
            round + 1,
            opts.producer_kills,
            w.tally.lost,
            w.tally.double_applied,
            started.elapsed().as_secs_f64()
        );
    }

    // 2. the gatekeeper over the producer's store (the producer now runs undisturbed)
    let mut background = spawn(
        &producer_bin,
        &w.producer_args(&[]),
        &plog,
        None,
        &pause_file.with_extension("none"),
    )?;
    wait_for_inputs(&w)?;
    let gk_bin = bin("gatekeeper")?;
    let gk_out = format!("s3://{BUCKET}/liveness");
    let gk_args: Vec<String> = [
        "run",
        "--inputs",
        &w.store,
        "--out",
        &gk_out,
        "--interval",
        "300ms",
        "--threads",
        "1",
        "--snapshot-every",
        "3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let glog = w.tmp.join("gatekeeper.log");
    let mut outputs = OutputChecks::default();
    for round in 0..opts.gatekeeper_kills {
        let phase = GATEKEEPER_PHASES[round % GATEKEEPER_PHASES.len()];
        let mut child = if phase == "random" {
            let c = spawn(&gk_bin, &gk_args, &glog, None, &pause_file)?;
            std::thread::sleep(Duration::from_millis(rng.range(500, 4000) as u64));
            c
        } else {
            let plan = format!("{phase}:{}", nth(&mut rng, phase));
            let mut c = spawn(&gk_bin, &gk_args, &glog, Some(&plan), &pause_file)?;
            wait_paused(
                &mut c,
                &pause_file,
                &format!("gatekeeper round {round} ({plan})"),
                &glog,
            )?;
            c
        };
        kill9(&mut child)?;
        *w.tally
            .kills
            .entry(format!("gatekeeper {phase}"))
            .or_default() += 1;
        w.tally.restarts += 1;
        outputs.check_new(&gk_out, &w.store, &mut w.tally)?;
        // the restart must resume: run it without a pause until it publishes again
        let mut resumed = spawn(&gk_bin, &gk_args, &glog, None, &pause_file)?;
        let target = outputs.checked + 1;
        let deadline = Instant::now() + Duration::from_secs(90);
        while output_version(&gk_out)?.unwrap_or(0) < target {
            if Instant::now() > deadline || resumed.try_wait()?.is_some() {
                let _ = resumed.kill();
                bail!("gatekeeper round {round}: the restarted service published nothing past v{}\n{}", target - 1, tail(&glog));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        kill9(&mut resumed)?;
        w.tally.restarts += 1;
        outputs.check_new(&gk_out, &w.store, &mut w.tally)?;
        println!(
            "  gatekeeper kill {:>2}/{} at {phase:<8} checked (outputs v1..v{} equal the oracle so far, {:.0} s)",
            round + 1,
            opts.gatekeeper_kills,
            outputs.checked,
            started.elapsed().as_secs_f64()
        );
    }

    // 3. stop the senders, let the producer catch up in one clean cycle, check everything
    kill9(&mut background)?;
    let sent = senders.stop()?;
    let status = spawn(
        &producer_bin,
        &w.producer_args(&["--once"]),
        &plog,
        None,
        &pause_file,
    )?
    .wait()?;
    if !status.success() {
        bail!("the final producer cycle failed\n{}", tail(&plog));
    }
    let in_kafka = w.check_history()?;
    if in_kafka != sent {
        w.tally
            .violation(format!("{sent} messages sent but {in_kafka} in Kafka"));
    }
    if opts.gatekeeper_kills > 0 {
        let mut last = spawn(
            &gk_bin,
            &[gk_args.clone(), vec!["--cycles".into(), "1".into()]].concat(),
            &glog,
            None,
            &pause_file,
        )?;
        if !last.wait()?.success() {
            w.tally.violation(format!(
                "the final gatekeeper cycle failed\n{}",
                tail(&glog)
            ));
        }
        outputs.check_new(&gk_out, &w.store, &mut w.tally)?;
        outputs.recheck(&gk_out, &mut w.tally)?;
        let replay = Command::new(&gk_bin)
            .args(["replay", "--out", &gk_out, "--version", "all"])
            .output()?;
        let text = String::from_utf8_lossy(&replay.stdout);
        if !replay.status.success() {
            w.tally.violation(format!(
                "gatekeeper replay --version all failed:\n{text}{}",
                String::from_utf8_lossy(&replay.stderr)
            ));
        } else {
            println!(
                "  gatekeeper replay --version all: {} version(s) identical",
                text.lines().filter(|l| l.contains("identical")).count()
            );
        }
    }

    let t = &w.tally;
    let kills: u64 = t.kills.values().sum();
    println!(
        "chaos_kill tallies: kills={kills} ({}) restarts={} messages={in_kafka} (sent {sent}) state_checks={} versions_checked={} gatekeeper_outputs_checked={} lost={} double_applied={} republished={} offsets_back={} in {:.0} s",
        t.kills.iter().map(|(k, n)| format!("{k}={n}")).collect::<Vec<_>>().join(" "),
        t.restarts,
        t.checks,
        t.versions_checked,
        GK_OUTPUTS.load(Ordering::Relaxed),
        t.lost,
        t.double_applied,
        t.republished,
        t.offsets_back,
        started.elapsed().as_secs_f64()
    );
    drop(s3);
    if !t.violations.is_empty() {
        bail!("{} violation(s)", t.violations.len());
    }
    Ok(())
}

/// Waits until every input dataset has an announced version.
fn wait_for_inputs(w: &World) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    for d in Dataset::ALL {
        let store = hollow::store::open_store(&d.store_url(&w.store))?;
        while announced_version(store.clone())?.is_none() {
            if Instant::now() > deadline {
                bail!("input {} was never announced", d.name());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}

/// The announced output version. Read while the gatekeeper may be rewriting the announcement:
/// testkit-s3 (s3s-fs) can serve a torn body then (a checksum error), so a failed read is retried.
fn output_version(out: &str) -> Result<Option<u64>> {
    let timeline = hollow::lifecycle::Timeline::new(hollow::store::open_store(out)?);
    let mut attempt = 0;
    loop {
        match timeline.announced() {
            Ok(v) => return Ok(v),
            Err(e) if attempt < 5 => {
                attempt += 1;
                eprintln!("  (retrying a read of {out}/announced: {e})");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The gatekeeper output versions checked so far against the oracle, with their exports.
#[derive(Default)]
struct OutputChecks {
    checked: u64,
    exports: BTreeMap<u64, String>,
}

impl OutputChecks {
    /// Checks every version announced since the last call against the oracle.
    fn check_new(&mut self, out: &str, inputs: &str, tally: &mut Tally) -> Result<()> {
        let Some(last) = output_version(out)? else {
            return Ok(());
        };
        if last <= self.checked {
            return Ok(());
        }
        let published =
            hollow::lifecycle::Timeline::new(hollow::store::open_store(out)?).published()?;
        for v in published.range(self.checked + 1..=last).copied() {
            let (_, state) = load_output(out, Some(v))?;
            let header = OutputHeader::parse(v, state.header())?;
            let rules = gatekeeper::tools::rules_for_version(&header.rules, None)?;
            let versions = header.input_versions(v)?;
            let oracle = naive::export(&naive::evaluate(
                &catalog_at(inputs, versions)?,
                header.now,
                &rules,
            ));
            let export = export(&state)?;
            if export != oracle {
                tally.violation(format!("gatekeeper output v{v} differs from the oracle for inputs {versions:?} at now={}: {}", header.now, first_difference(&export, &oracle)));
            }
            GK_OUTPUTS.fetch_add(1, Ordering::Relaxed);
            self.exports.insert(v, export);
            self.checked = v;
        }
        Ok(())
    }

    /// Every version checked still holds what it held when it was checked.
    fn recheck(&self, out: &str, tally: &mut Tally) -> Result<()> {
        for (v, before) in &self.exports {
            let (_, state) = load_output(out, Some(*v))?;
            if export(&state)? != *before {
                tally.republished += 1;
                tally.violation(format!(
                    "gatekeeper output v{v} changed after it was announced"
                ));
            }
        }
        Ok(())
    }
}

fn export(state: &ReadState) -> Result<String> {
    let table = read_table(state, &mut Arc::new(ReasonTable::new()))?;
    let mut buf = Vec::new();
    table.write_jsonl(&mut buf)?;
    Ok(String::from_utf8(buf)?)
}

fn first_difference(a: &str, b: &str) -> String {
    let (x, y): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let at = x
        .iter()
        .zip(&y)
        .position(|(p, q)| p != q)
        .unwrap_or(x.len().min(y.len()));
    format!(
        "line {} ({} vs {} lines)\n  output: {}\n  oracle: {}",
        at + 1,
        x.len(),
        y.len(),
        x.get(at).unwrap_or(&"<none>"),
        y.get(at).unwrap_or(&"<none>")
    )
}

fn records<T: serde::de::DeserializeOwned>(d: Dataset, state: &ReadState) -> Result<Vec<T>> {
    let ds = d.schema()?;
    let reader = DatasetReader::new(&ds, state)?;
    reader
        .root()
        .ordinals()
        .map(|o| Ok(serde_json::from_str(&ds.to_json(&reader.record(o)?))?))
        .collect()
}

/// The catalog the input timelines hold at `versions`, read back from hollow.
fn catalog_at(inputs: &str, versions: [u64; 7]) -> Result<Catalog> {
    let state = |d: Dataset| -> Result<ReadState> {
        let store = hollow::store::open_store(&d.store_url(inputs))?;
        Ok(hollow::lifecycle::load_version(
            store,
            versions[d.index()],
            MemoryMode::Heap,
        )?)
    };
    Ok(Catalog {
        countries: records(Dataset::Countries, &state(Dataset::Countries)?)?,
        titles: records(Dataset::Titles, &state(Dataset::Titles)?)?,
        videos: records(Dataset::Videos, &state(Dataset::Videos)?)?,
        rights: records(Dataset::Rights, &state(Dataset::Rights)?)?,
        assets: records(Dataset::Assets, &state(Dataset::Assets)?)?,
        localizations: records(Dataset::Localizations, &state(Dataset::Localizations)?)?,
        ratings: records(Dataset::Ratings, &state(Dataset::Ratings)?)?,
    })
}
