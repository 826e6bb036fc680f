//! Outage chaos harness (issue 10): the real producer binary (`target/release/producer`)
//! against the real broker (tansu) and the real S3 server (`target/release/testkit-s3`), each
//! a separate process. Four scenarios: the S3 server killed (connections refused) and
//! restarted, the S3 server frozen (SIGSTOP: connections accepted, never answered) and thawed,
//! the broker refusing connections (its advertised listener, a proxy here, closed) and the
//! broker frozen (SIGSTOP). A sender keeps producing throughout. For each scenario it prints
//! the time until `/healthz` reports the outage (503 naming the dependency), the versions
//! announced during it, the longest cycle while down, the time to recover after the
//! dependency returns, and checks that every announced version equals a plain model of the
//! messages below its recorded offsets, and the final one of every message Kafka holds (no
//! lost, no double-applied update). Exits non-zero on any violation.
//!
//! ```text
//! cargo build --release -p producer -p testkit --bins
//! cargo bench -p benches --bench chaos_outage            # short: ~6 s outages
//! cargo bench -p benches --bench chaos_outage -- --long  # 25 s outages
//! ```
//! Without tansu (`HOLLOW_TANSU`, PATH or ~/.cargo/bin) the broker scenarios are skipped
//! with a message (a failure under `CI=true`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hollow::dataset::{DatasetSchema, Record};
use hollow::store::{BlobStore, S3Config, S3Credentials, S3Store};
use producer::message::{decode, Change};
use producer::offsets::{Offsets, HEADER_KEY};
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

const BUCKET: &str = "chaos";
const DATASET: &str = "titles";

type Res<T> = Result<T, String>;

fn main() {
    let long = std::env::args().any(|a| a == "--long");
    let outage = if long {
        Duration::from_secs(25)
    } else {
        Duration::from_secs(6)
    };
    let mut violations = Vec::new();
    let scenarios = [
        (Dep::Store, Mode::Refuse),
        (Dep::Store, Mode::Freeze),
        (Dep::Broker, Mode::Refuse),
        (Dep::Broker, Mode::Freeze),
    ];
    for (dep, mode) in scenarios {
        println!("== {dep:?} {mode:?} for {outage:?}");
        match run(dep, mode, outage) {
            Ok(Outcome::Done(report)) => {
                println!("{report}");
                violations.extend(
                    report
                        .violations
                        .iter()
                        .map(|v| format!("{dep:?} {mode:?}: {v}")),
                );
            }
            Ok(Outcome::Skipped(why)) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    violations.push(format!("{dep:?} {mode:?}: not run under CI=true: {why}"));
                }
                println!("SKIPPED {dep:?} {mode:?}: {why}");
            }
            Err(e) => violations.push(format!("{dep:?} {mode:?}: harness error: {e}")),
        }
    }
    if violations.is_empty() {
        println!("chaos_outage: all scenarios passed");
    } else {
        for v in &violations {
            eprintln!("VIOLATION {v}");
        }
        std::process::exit(1);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dep {
    Store,
    Broker,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Connections refused (the process gone, or its listener closed).
    Refuse,
    /// The process frozen with SIGSTOP.
    Freeze,
}

enum Outcome {
    Done(Report),
    Skipped(String),
}

struct Report {
    detected: Option<Duration>,
    body: String,
    announced_during: Vec<u64>,
    longest_cycle_down: f64,
    recovered: Option<Duration>,
    versions_checked: usize,
    messages: usize,
    records: usize,
    violations: Vec<String>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = |d: Option<Duration>| {
            d.map_or("never".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()))
        };
        writeln!(
            f,
            "  /healthz reported the outage after {}: {}",
            secs(self.detected),
            self.body.trim().replace('\n', " | ")
        )?;
        writeln!(f, "  versions announced during the outage: {:?} (each checked against the model of its offsets)", self.announced_during)?;
        writeln!(
            f,
            "  longest cycle while down (or time since the last cycle ended): {:.1} s",
            self.longest_cycle_down
        )?;
        writeln!(
            f,
            "  recovered (/healthz 200 and caught up) {} after the dependency returned",
            secs(self.recovered)
        )?;
        write!(
            f,
            "  versions checked: {}, messages in Kafka: {}, records: {}, lost: {}, violations: {}",
            self.versions_checked,
            self.messages,
            self.records,
            usize::from(self.violations.iter().any(|v| v.contains("final"))),
            self.violations.len()
        )
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn binary(name: &str) -> Res<PathBuf> {
    let p = workspace().join("target/release").join(name);
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!(
            "{} is missing: cargo build --release -p producer -p testkit --bins",
            p.display()
        ))
    }
}

fn free_port() -> Res<u16> {
    testkit::free_port().map_err(|e| e.to_string())
}

fn signal(child: &Child, sig: &str) -> Res<()> {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("kill {sig} {} failed", child.id()))
}

fn wait_port(port: u16, within: Duration) -> Res<()> {
    let started = Instant::now();
    while TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
        .is_err()
    {
        if started.elapsed() > within {
            return Err(format!("nothing answers on port {port} after {within:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The S3 server process on a fixed port and data folder (so a restart keeps the data).
struct S3Proc {
    port: u16,
    root: PathBuf,
    child: Option<Child>,
}

impl S3Proc {
    fn start(port: u16, root: &Path) -> Res<S3Proc> {
        let mut s = S3Proc {
            port,
            root: root.to_owned(),
            child: None,
        };
        s.spawn()?;
        Ok(s)
    }

    fn spawn(&mut self) -> Res<()> {
        let mut child = Command::new(binary("testkit-s3")?)
            .args(["--listen", &format!("127.0.0.1:{}", self.port), "--root"])
            .arg(&self.root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        if !line.starts_with("endpoint ") {
            return Err(format!("testkit-s3 said {line:?}"));
        }
        self.child = Some(child);
        Ok(())
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for S3Proc {
    fn drop(&mut self) {
        if let Some(c) = &self.child {
            let _ = signal(c, "-CONT");
        }
        self.kill();
    }
}

/// A TCP proxy that can refuse: closed, its port refuses connections and its connections
/// are cut; reopened, it forwards again.
struct Proxy {
    port: u16,
    upstream: SocketAddr,
    open: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    generation: Arc<std::sync::atomic::AtomicU64>,
}

impl Proxy {
    fn start(port: u16, upstream: SocketAddr) -> Res<Proxy> {
        let p = Proxy {
            port,
            upstream,
            open: Arc::new(AtomicBool::new(false)),
            conns: Arc::default(),
            generation: Arc::default(),
        };
        p.reopen()?;
        Ok(p)
    }

    fn reopen(&self) -> Res<()> {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .map_err(|e| format!("proxy port {}: {e}", self.port))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        self.open.store(true, Ordering::SeqCst);
        let gen = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let (open, conns, generation, upstream) = (
            self.open.clone(),
            self.conns.clone(),
            self.generation.clone(),
            self.upstream,
        );
        std::thread::spawn(move || {
            while open.load(Ordering::SeqCst) && generation.load(Ordering::SeqCst) == gen {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let Ok(up) = TcpStream::connect(upstream) else {
                            continue;
                        };
                        if let (Ok(a), Ok(b)) = (conn.try_clone(), up.try_clone()) {
                            conns.lock().unwrap().extend([a, b]);
                        }
                        for (from, to) in [(conn.try_clone(), up.try_clone()), (Ok(up), Ok(conn))] {
                            if let (Ok(from), Ok(to)) = (from, to) {
                                std::thread::spawn(move || pump(from, to));
                            }
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Ok(())
    }

    fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        // the accept loop drops the listener within 10 ms
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// The broker: tansu listening on `port`, advertised (and reached) through a proxy.
struct Broker {
    child: Child,
    proxy: Proxy,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = signal(&self.child, "-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `HOLLOW_TANSU`, `tansu` on `PATH`, or `~/.cargo/bin/tansu` (as testkit finds it).
fn tansu_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HOLLOW_TANSU").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("tansu"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".cargo/bin/tansu"))
            .filter(|p| p.is_file())
    })
}

fn start_broker() -> Res<Option<Broker>> {
    let Some(tansu) = tansu_binary() else {
        return Ok(None);
    };
    let (port, proxy_port) = (free_port()?, free_port()?);
    let listen = format!("tcp://127.0.0.1:{port}");
    let advertised = format!("tcp://127.0.0.1:{proxy_port}");
    let child = Command::new(tansu)
        .args([
            "broker",
            "--listener-url",
            &listen,
            "--advertised-listener-url",
            &advertised,
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting tansu: {e}"))?;
    wait_port(port, Duration::from_secs(30))?;
    let proxy = Proxy::start(proxy_port, SocketAddr::from(([127, 0, 0, 1], port)))?;
    Ok(Some(Broker { child, proxy }))
}

fn s3_store(endpoint: &str, prefix: &str) -> Res<S3Store> {
    let mut c = S3Config::new(BUCKET, prefix);
    c.endpoint = Some(endpoint.to_owned());
    c.force_path_style = true;
    c.region = Some("us-east-1".into());
    c.credentials = Some(S3Credentials {
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        session_token: None,
    });
    S3Store::new(c).map_err(|e| e.to_string())
}

fn healthz(port: u16) -> Option<(u16, String)> {
    ops::http::get_status(SocketAddr::from(([127, 0, 0, 1], port)), "/healthz").ok()
}

fn metric(port: u16, name: &str) -> Option<f64> {
    let text = ops::http::scrape(SocketAddr::from(([127, 0, 0, 1], port))).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|r| r.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
    })
}

fn lag(port: u16) -> Option<f64> {
    let text = ops::http::scrape(SocketAddr::from(([127, 0, 0, 1], port))).ok()?;
    Some(
        text.lines()
            .filter(|l| l.starts_with("hollow_producer_consumer_lag{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum(),
    )
}

/// Every message of `topic`: (partition, offset, key, value).
type Raw = (i32, i64, Option<Vec<u8>>, Option<Vec<u8>>);

fn read_all(bootstrap: &str, topic: &str) -> Res<Vec<Raw>> {
    let consumer = producer::kafka::create_consumer(bootstrap, "chaos-reader", &BTreeMap::new())
        .map_err(|e| e.to_string())?;
    let parts = producer::kafka::topic_partitions(&consumer, topic)
        .map_err(|e| e.to_string())?
        .ok_or("no topic")?;
    let mut tpl = TopicPartitionList::new();
    for p in &parts {
        tpl.add_partition_offset(topic, *p, Offset::Beginning)
            .map_err(|e| e.to_string())?;
    }
    consumer.assign(&tpl).map_err(|e| e.to_string())?;
    let mut pending: std::collections::BTreeSet<i32> = parts.iter().copied().collect();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !pending.is_empty() {
        if Instant::now() > deadline {
            return Err(format!("reading {topic} timed out"));
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => out.push((
                m.partition(),
                m.offset(),
                m.key().map(<[u8]>::to_vec),
                m.payload().map(<[u8]>::to_vec),
            )),
            Some(Err(KafkaError::PartitionEOF(p))) => {
                pending.remove(&p);
            }
            _ => {}
        }
    }
    out.sort_by_key(|r| (r.0, r.1));
    Ok(out)
}

/// The plain model: messages below `upto` (all when `None`) folded in order.
fn model(
    schema: &DatasetSchema,
    messages: &[Raw],
    topic: &str,
    upto: Option<&Offsets>,
) -> BTreeMap<String, Record> {
    let mut m = BTreeMap::new();
    for (p, off, key, value) in messages {
        if upto.is_some_and(|u| *off >= u.get(topic, *p).unwrap_or(0)) {
            continue;
        }
        match decode(schema, key.as_deref(), value.as_deref()) {
            Ok(Change::Upsert { key, record }) => {
                m.insert(key, record);
            }
            Ok(Change::Delete { key, .. }) => {
                m.remove(&key);
            }
            Err(_) => {}
        }
    }
    m
}

fn title(id: u64, n: u64) -> String {
    serde_json::json!({"id": id, "kind": "MOVIE", "name": format!("t{id}-{n}"), "original_language": "en", "release_year": 2020,
        "genres": ["Dramas"], "cast": ["A B"], "directors": []})
    .to_string()
}

/// Runs one scenario in a folder of its own, kept (logs, the S3 server's files) when the
/// scenario fails or finds a violation.
fn run(dep: Dep, mode: Mode, outage: Duration) -> Res<Outcome> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?.keep();
    let result = run_in(dep, mode, outage, &dir);
    match &result {
        Ok(Outcome::Done(r)) if r.violations.is_empty() => {
            let _ = std::fs::remove_dir_all(&dir);
        }
        Ok(Outcome::Skipped(_)) => {
            let _ = std::fs::remove_dir_all(&dir);
        }
        _ => eprintln!("   logs and stores kept in {}", dir.display()),
    }
    result
}

fn run_in(dep: Dep, mode: Mode, outage: Duration, dir: &Path) -> Res<Outcome> {
    let producer_bin = binary("producer")?;
    let root = dir.join("s3");
    std::fs::create_dir_all(root.join(BUCKET)).map_err(|e| e.to_string())?;
    let mut s3 = S3Proc::start(free_port()?, &root)?;
    let endpoint = format!("http://127.0.0.1:{}", s3.port);
    // the store scenarios fall back to the producer's embedded broker without tansu
    let broker = start_broker()?;
    if broker.is_none() && dep == Dep::Broker {
        return Ok(Outcome::Skipped("no tansu binary (HOLLOW_TANSU, PATH, ~/.cargo/bin; cargo install tansu --locked --features dynostore)".into()));
    }
    let metrics_port = free_port()?;
    let topic = DATASET.to_owned();
    let log_path = dir.join("producer.log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let mut command = Command::new(producer_bin);
    command.args([
        "run",
        "--store",
        &format!("s3://{BUCKET}/run"),
        "--datasets",
        DATASET,
    ]);
    if let Some(b) = &broker {
        command.args(["--bootstrap", &format!("127.0.0.1:{}", b.proxy.port)]);
    }
    let mut producer = command
        .args([
            "--cycle-interval",
            "500ms",
            "--read-timeout",
            "2s",
            "--health-grace",
            "1s",
            "--partitions",
            "2",
        ])
        .args(["--metrics-port", &metrics_port.to_string(), "--schemas"])
        .arg(workspace().join("schemas"))
        .env("HOLLOW_S3_ENDPOINT", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("HOLLOW_S3_ATTEMPT_TIMEOUT", "1s")
        .env("HOLLOW_S3_OPERATION_TIMEOUT", "3s")
        .env("HOLLOW_S3_MAX_ATTEMPTS", "2")
        .env("PRODUCER_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| e.to_string())?;
    let bootstrap = match &broker {
        Some(b) => Ok(format!("127.0.0.1:{}", b.proxy.port)),
        None => embedded_bootstrap(&log_path),
    };
    let result = bootstrap.and_then(|bootstrap| {
        drive(
            dep,
            mode,
            outage,
            &mut s3,
            broker.as_ref(),
            &endpoint,
            &bootstrap,
            metrics_port,
            &topic,
        )
    });
    if broker.is_none() {
        println!("  (broker: the producer's embedded one; tansu not found)");
    }
    let _ = producer.kill();
    let _ = producer.wait();
    if result.is_err() {
        if let Ok(text) = std::fs::read_to_string(&log_path) {
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            eprintln!(
                "producer log (last lines):\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
    result.map(Outcome::Done)
}

/// The embedded broker's address, from the producer's log.
fn embedded_bootstrap(log: &Path) -> Res<String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(rest) = text.lines().find_map(|l| {
            l.split_once("embedded Kafka broker listening on ")
                .map(|(_, r)| r.trim().to_owned())
        }) {
            return Ok(rest);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("the producer did not say where its embedded broker listens".into())
}

#[allow(clippy::too_many_arguments)]
fn drive(
    dep: Dep,
    mode: Mode,
    outage: Duration,
    s3: &mut S3Proc,
    broker: Option<&Broker>,
    endpoint: &str,
    bootstrap: &str,
    metrics_port: u16,
    topic: &str,
) -> Res<Report> {
    let schema =
        DatasetSchema::from_file(&workspace().join("schemas").join(format!("{DATASET}.json")))
            .map_err(|e| e.to_string())?;
    let store: Arc<dyn BlobStore> = Arc::new(s3_store(endpoint, &format!("run/{DATASET}"))?);
    let mut violations = Vec::new();

    // warm up: a version announced, healthy
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (stop, bootstrap, topic) = (stop.clone(), bootstrap.to_owned(), topic.to_owned());
        std::thread::spawn(move || -> Res<u64> {
            let mut tx =
                producer::Sender::new(&bootstrap, &BTreeMap::new()).map_err(|e| e.to_string())?;
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let id = n * 7919 % 40 + 1;
                let value = (!n.is_multiple_of(5)).then(|| title(id, n));
                let _ = tx.send(
                    &topic,
                    Some(id.to_string().as_bytes()),
                    value.as_deref().map(str::as_bytes),
                    &[],
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            let d = tx
                .flush(Duration::from_secs(120))
                .map_err(|e| e.to_string())?;
            Ok(d.failed)
        })
    };
    let started = Instant::now();
    loop {
        let announced = producer::state::announced_version(store.clone())
            .ok()
            .flatten();
        if announced.is_some() && healthz(metrics_port).is_some_and(|(s, _)| s == 200) {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err("the producer did not announce a healthy first version within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    let before = producer::state::announced_version(store.clone()).map_err(|e| e.to_string())?;

    // the outage
    let t0 = Instant::now();
    match (dep, mode) {
        (Dep::Store, Mode::Refuse) => s3.kill(),
        (Dep::Store, Mode::Freeze) => signal(s3.child.as_ref().ok_or("no S3 process")?, "-STOP")?,
        (Dep::Broker, Mode::Refuse) => broker.ok_or("no broker")?.proxy.close(),
        (Dep::Broker, Mode::Freeze) => signal(&broker.ok_or("no broker")?.child, "-STOP")?,
    }
    let name = match dep {
        Dep::Store => "store",
        Dep::Broker => "broker",
    };
    let (mut detected, mut body, mut longest) = (None, String::new(), 0f64);
    while t0.elapsed() < outage {
        if let Some((status, text)) = healthz(metrics_port) {
            if status == 503 && detected.is_none() {
                detected = Some(t0.elapsed());
                body = text.clone();
                if !text.contains(&format!("{name}: DOWN since")) {
                    violations.push(format!(
                        "/healthz is 503 but does not name {name} down: {text}"
                    ));
                }
            }
        }
        // a cycle that is still running counts too: the time since the last one ended
        if let Some(c) = metric(metrics_port, "hollow_producer_cycle_duration_seconds") {
            longest = longest.max(c);
        }
        if let Some(end) = metric(metrics_port, "hollow_producer_last_cycle_timestamp_seconds") {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            longest = longest.max(now - end);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let bound = Duration::from_secs(15);
    match detected {
        None => violations.push(format!(
            "/healthz never reported the {name} outage in {outage:?}"
        )),
        Some(d) if d > bound => violations.push(format!(
            "the outage took {d:?} to show in /healthz (bound {bound:?})"
        )),
        _ => {}
    }
    if metric(
        metrics_port,
        &format!("hollow_producer_dependency_up{{dependency=\"{name}\"}}"),
    ) != Some(0.0)
        && detected.is_some()
    {
        // the gauge follows the last operation; it must be 0 while the outage lasts
        violations.push(format!(
            "hollow_producer_dependency_up{{dependency=\"{name}\"}} is not 0 during the outage"
        ));
    }

    // back
    match (dep, mode) {
        (Dep::Store, Mode::Refuse) => s3.spawn()?,
        (Dep::Store, Mode::Freeze) => signal(s3.child.as_ref().ok_or("no S3 process")?, "-CONT")?,
        (Dep::Broker, Mode::Refuse) => broker.ok_or("no broker")?.proxy.reopen()?,
        (Dep::Broker, Mode::Freeze) => signal(&broker.ok_or("no broker")?.child, "-CONT")?,
    }
    let t1 = Instant::now();
    let during = producer::state::announced_version(store.clone()).map_err(|e| e.to_string())?;
    let announced_during: Vec<u64> = match (before, during) {
        (Some(b), Some(d)) if d > b => (b + 1..=d).collect(),
        _ => Vec::new(),
    };
    if longest > bound.as_secs_f64() {
        violations.push(format!(
            "a cycle took {longest:.1} s while {name} was down (bound {bound:?})"
        ));
    }
    // recovery: healthy again and caught up with new traffic
    let mut recovered = None;
    let after_back = producer::state::announced_version(store.clone())
        .ok()
        .flatten();
    while t1.elapsed() < Duration::from_secs(60) {
        let healthy = healthz(metrics_port).is_some_and(|(s, _)| s == 200);
        let version = producer::state::announced_version(store.clone())
            .ok()
            .flatten();
        if healthy && version > after_back && lag(metrics_port).is_some_and(|l| l == 0.0) {
            recovered = Some(t1.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if recovered.is_none() {
        violations.push(format!("no recovery within 60 s after {name} returned"));
    }

    // the end: stop sending, let the producer fold everything, compare with the model
    stop.store(true, Ordering::SeqCst);
    let failed = sender.join().map_err(|_| "the sender panicked")??;
    if failed > 0 {
        println!("  note: {failed} message(s) were not delivered to Kafka (not in the model)");
    }
    // a last message that surely changes the state, so that a version covers every offset
    let mut tx = producer::Sender::new(bootstrap, &BTreeMap::new()).map_err(|e| e.to_string())?;
    tx.send(topic, Some(b"1000"), Some(title(1000, 0).as_bytes()), &[])
        .map_err(|e| e.to_string())?;
    let d = tx
        .flush(Duration::from_secs(60))
        .map_err(|e| e.to_string())?;
    if d.failed > 0 {
        return Err("the last message could not be delivered".into());
    }
    let messages = read_all(bootstrap, topic)?;
    let end: BTreeMap<i32, i64> = messages.iter().fold(BTreeMap::new(), |mut m, r| {
        m.insert(r.0, r.1 + 1);
        m
    });
    let settle = Instant::now();
    let last = loop {
        let v = producer::state::announced_version(store.clone()).map_err(|e| e.to_string())?;
        if let Some(v) = v {
            let state = producer::state::load_version(store.clone(), &schema, v)
                .map_err(|e| e.to_string())?;
            let offsets = Offsets::parse(state.header.get(HEADER_KEY).map_or("", String::as_str))
                .map_err(|e| e.to_string())?;
            if end
                .iter()
                .all(|(p, e)| offsets.get(topic, *p).unwrap_or(0) >= *e)
            {
                break v;
            }
        }
        if settle.elapsed() > Duration::from_secs(60) {
            return Err("the producer did not fold every message within 60 s of the end".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut records = 0;
    // Failed publish attempts leave their numbers unused: check every published version.
    let published = hollow::lifecycle::Timeline::new(store.clone())
        .published()
        .map_err(|e| e.to_string())?;
    let checked: Vec<u64> = published.range(..=last).copied().collect();
    for &v in &checked {
        let state = producer::state::load_version(store.clone(), &schema, v)
            .map_err(|e| format!("loading v{v}: {e}"))?;
        let offsets = Offsets::parse(state.header.get(HEADER_KEY).map_or("", String::as_str))
            .map_err(|e| e.to_string())?;
        let want = model(&schema, &messages, topic, Some(&offsets));
        if want != state.records {
            violations.push(format!(
                "v{v} differs from the model of the messages below its offsets [{offsets}]"
            ));
        }
        records = state.records.len();
    }
    let full = model(&schema, &messages, topic, None);
    let final_state =
        producer::state::load_version(store.clone(), &schema, last).map_err(|e| e.to_string())?;
    if full != final_state.records {
        violations.push(format!(
            "final v{last} differs from the model of all {} messages",
            messages.len()
        ));
    }
    Ok(Report {
        detected,
        body,
        announced_during,
        longest_cycle_down: longest,
        recovered,
        versions_checked: checked.len(),
        messages: messages.len(),
        records,
        violations,
    })
}
