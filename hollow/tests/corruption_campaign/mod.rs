//! The corruption campaign (issue 10): seeded mutations of a real store's snapshots, deltas,
//! reverse deltas and announcement, each read by a heap and a mapped consumer.
//!
//! Shared by the fast test in `hollow/tests/corruption.rs` (a few hundred mutations) and the
//! bench binary `benches/benches/corruption.rs` (10,000 by hand), which includes this file by
//! path. [`Fixture::build`] publishes a few versions through the hollow [`Producer`] (upserts,
//! deletes, string and list changes, nulls, FSST text, half of them zstd-compressed) into a
//! folder store and keeps a plain model of every version's records. Each mutation copies the
//! store, lets each consumer reach a start version from the intact copy, damages one blob or
//! the announcement, asks the consumer for a target version (or to refresh), and classifies
//! what happened against the model:
//!
//! * `refused: <variant>/<cause>` — a typed error, and the consumer kept its last good state;
//! * `recovered: <cause>` — the damaged blob was refused and another path reached the target;
//! * `unaffected` — the damaged blob was not on the consumer's path;
//! * `followed announcement` — a garbled announcement still named a stored version, and the
//!   consumer holds that version's correct records;
//! * `accepted, correct` — the damaged blob was read without an error and the records read are
//!   still those of the model (not a failure, but counted);
//! * `WRONG STATE: ...` and `PANIC: ...` — failures.
//!
//! Byte-level damage (flip, truncation, extension) is also given straight to the parser
//! (`ReadState::from_vec` for snapshots, `apply_delta` on the intact start state for deltas),
//! which must refuse it or read exactly the model's records.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Arc, Mutex};

use hollow::blob::apply_delta;
use hollow::dataset::{DatasetReader, DatasetSchema, FieldValue, Record};
use hollow::error::BlobFailure;
use hollow::lifecycle::timeline::ANNOUNCED;
use hollow::lifecycle::Step;
use hollow::lifecycle::{
    load_version, Consumer, ConsumerConfig, CycleOutcome, Loaded, Producer, ProducerConfig,
    UpdateReport,
};
use hollow::store::{BlobStore, FolderStore, StoreError};
use hollow::{Bytes, DataError, Error, MemoryMode, ReadState};

/// The campaign's dataset: scalars of most kinds, a nullable FSST text, two lists.
pub const SCHEMA: &str = r#"{"dataset": "items", "type": "Item", "primary_key": ["id"], "fields": [
  {"name": "id", "kind": "i64"},
  {"name": "name", "kind": "string"},
  {"name": "note", "kind": "string", "nullable": true, "compression": "fsst"},
  {"name": "score", "kind": "f64", "nullable": true},
  {"name": "active", "kind": "bool"},
  {"name": "tags", "kind": "string", "list": true},
  {"name": "ranks", "kind": "i32", "list": true}
]}"#;

/// Records of one version by primary key.
pub type Model = BTreeMap<String, Record>;

/// The campaign's deterministic PRNG: PCG (`rand_pcg`) seeded with
/// [`rand::SeedableRng::seed_from_u64`], with the few draws the campaign makes.
#[derive(Debug, Clone)]
pub struct Rng(rand_pcg::Pcg64Mcg);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(rand::SeedableRng::seed_from_u64(seed))
    }
    pub fn next_u64(&mut self) -> u64 {
        rand::Rng::next_u64(&mut self.0)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        use rand::RngExt as _;
        self.0.random_range(0..n.max(1))
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The dataset schema of the campaign.
pub fn dataset() -> DatasetSchema {
    DatasetSchema::from_json(SCHEMA).expect("the campaign schema parses")
}

fn record(rng: &mut Rng, id: i64, generation: u64) -> Record {
    let words = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
    ];
    let note = if rng.chance(25) {
        FieldValue::Null
    } else {
        FieldValue::Str(format!(
            "{} note of item {id}, generation {generation}: {}",
            rng.pick(&words),
            rng.pick(&words).repeat(1 + rng.below(6) as usize)
        ))
    };
    let score = if rng.chance(20) {
        FieldValue::Null
    } else {
        FieldValue::Float(rng.below(4000) as f64 / 4.0 - 500.0)
    };
    let tags = (0..rng.below(4))
        .map(|_| FieldValue::Str(rng.pick(&words).to_string()))
        .collect();
    let ranks = (0..rng.below(3))
        .map(|_| FieldValue::Int(rng.below(2000) as i64 - 1000))
        .collect();
    vec![
        FieldValue::Int(id),
        FieldValue::Str(format!("item-{id}-{}", rng.pick(&words))),
        note,
        score,
        FieldValue::Bool(rng.chance(50)),
        FieldValue::List(tags),
        FieldValue::List(ranks),
    ]
}

/// The records of a state, by key.
pub fn contents(ds: &DatasetSchema, state: &ReadState) -> hollow::Result<Model> {
    let r = DatasetReader::new(ds, state)?;
    let mut m = Model::new();
    for o in r.root().ordinals() {
        let rec = r.record(o)?;
        m.insert(hollow::key::of_record(ds, &rec), rec);
    }
    Ok(m)
}

/// An intact store of a few versions and the model of each.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub ds: DatasetSchema,
    /// Model of every published version.
    pub versions: BTreeMap<u64, Model>,
    /// Every key of the store and its bytes.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The announced version.
    pub announced: u64,
}

impl Fixture {
    /// The store's root folder.
    pub fn store_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("store")
    }

    /// Publishes `n_versions` versions (snapshots every 3; versions after the first half
    /// compressed with zstd) and checks that each loads back as its model.
    pub fn build(seed: u64, n_versions: u64) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let store: Arc<dyn BlobStore> =
            Arc::new(FolderStore::new(dir.path().join("store")).expect("folder store"));
        let ds = dataset();
        let mut rng = Rng::new(seed);
        let mut model = Model::new();
        let mut versions = BTreeMap::new();
        let mut next_id = 0i64;
        let config = |zstd: bool| ProducerConfig {
            snapshot_every: 3,
            max_count_change_ratio: None,
            zstd_level: zstd.then_some(1),
            ..Default::default()
        };
        let mut p = Producer::open(
            store.clone(),
            ds.schema_set().expect("schema set"),
            config(false),
        )
        .expect("producer");
        for i in 0..n_versions {
            if i == n_versions / 2 {
                // reopened from the store, as a restarted producer is, now compressing
                p = Producer::open(
                    store.clone(),
                    ds.schema_set().expect("schema set"),
                    config(true),
                )
                .expect("producer reopens");
            }
            let mut next = model.clone();
            let (new, changed, deleted) = if i == 0 { (40, 0, 0) } else { (4, 6, 3) };
            let mut ups = Vec::new();
            for _ in 0..new {
                ups.push(record(&mut rng, next_id, i));
                next_id += 1;
            }
            let existing: Vec<String> = model.keys().cloned().collect();
            for _ in 0..changed {
                let k = rng.pick(&existing);
                let FieldValue::Int(id) = model[k][0] else {
                    unreachable!("ids are ints")
                };
                ups.push(record(&mut rng, id, i));
            }
            let mut dels = Vec::new();
            for _ in 0..deleted {
                dels.push(rng.pick(&existing).clone());
            }
            let out = p
                .cycle(|c| {
                    for r in &ups {
                        c.upsert_record(&ds, r)?;
                    }
                    for k in &dels {
                        c.delete_key(&ds, k)?;
                    }
                    Ok(())
                })
                .expect("cycle");
            for r in ups {
                next.insert(hollow::key::of_record(&ds, &r), r);
            }
            for k in &dels {
                next.remove(k);
            }
            let CycleOutcome::Published { version, .. } = out else {
                panic!("cycle {i} published nothing: {out:?}")
            };
            model = next;
            versions.insert(version, model.clone());
        }
        let announced = *versions.keys().last().expect("versions");
        for (v, m) in &versions {
            for mode in [MemoryMode::Heap, MemoryMode::Mapped] {
                let st = load_version(store.clone(), *v, mode).expect("an intact version loads");
                assert_eq!(
                    &contents(&ds, &st).expect("intact records read"),
                    m,
                    "version {v} ({mode:?}) loads as its model"
                );
            }
        }
        let mut files = BTreeMap::new();
        for k in store.list("").expect("list") {
            files.insert(k.clone(), store.get(&k).expect("get"));
        }
        Fixture {
            dir,
            ds,
            versions,
            files,
            announced,
        }
    }

    fn keys_with(&self, prefix: &str) -> Vec<String> {
        self.files
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }
}

/// What was damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Damage {
    BitFlip,
    Truncate,
    Extend,
    Swap,
    Garble,
    Missing,
}

/// One planned mutation.
#[derive(Debug, Clone)]
pub struct Mutation {
    /// `snapshot`, `delta`, `reverse` or `announced`.
    pub target_kind: &'static str,
    pub damage: Damage,
    pub key: String,
    pub bytes: Vec<u8>,
    /// Version the consumer holds before (None: a fresh consumer).
    pub start: Option<u64>,
    /// Version asked for (None: `refresh`, i.e. follow the announcement).
    pub goal: Option<u64>,
}

fn plan(f: &Fixture, rng: &mut Rng) -> Mutation {
    let versions: Vec<u64> = f.versions.keys().copied().collect();
    let kinds = ["snapshot", "delta", "reverse", "announced"];
    let target_kind = *rng.pick(&kinds);
    let damage = if target_kind == "announced" {
        *rng.pick(&[
            Damage::BitFlip,
            Damage::Truncate,
            Damage::Extend,
            Damage::Garble,
            Damage::Missing,
        ])
    } else {
        *rng.pick(&[
            Damage::BitFlip,
            Damage::Truncate,
            Damage::Extend,
            Damage::Swap,
        ])
    };
    let key = if target_kind == "announced" {
        ANNOUNCED.to_string()
    } else {
        rng.pick(&f.keys_with(&format!("{target_kind}/"))).clone()
    };
    let orig = &f.files[&key];
    let mut b = orig.clone();
    match damage {
        Damage::BitFlip => {
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(b.len() as u64) as usize;
                b[i] ^= 1 << rng.below(8);
            }
        }
        Damage::Truncate => b.truncate(rng.below(b.len() as u64) as usize),
        Damage::Extend => {
            let n = 1 + rng.below(64) as usize;
            b.extend((0..n).map(|_| {
                if rng.chance(30) {
                    0
                } else {
                    rng.next_u64() as u8
                }
            }));
        }
        Damage::Swap => {
            // another version's blob of the same kind, or now and then of another kind
            let prefix = if rng.chance(75) {
                format!("{target_kind}/")
            } else {
                format!("{}/", rng.pick(&kinds[..3]))
            };
            let others: Vec<String> = f
                .keys_with(&prefix)
                .into_iter()
                .filter(|k| *k != key)
                .collect();
            let other = if others.is_empty() {
                f.keys_with("snapshot/")
                    .into_iter()
                    .find(|k| *k != key)
                    .expect("two snapshots")
            } else {
                rng.pick(&others).clone()
            };
            b = f.files[&other].clone();
        }
        Damage::Garble => {
            let garbles: [&[u8]; 6] = [
                b"",
                b"  \n",
                b"-1",
                b"v7",
                b"18446744073709551616",
                b"\xff\xfe",
            ];
            b = if rng.chance(50) {
                rng.pick(&garbles).to_vec()
            } else {
                (0..1 + rng.below(12))
                    .map(|_| rng.next_u64() as u8)
                    .collect()
            };
        }
        Damage::Missing => {
            let last = f.announced;
            let far = last + 1 + rng.below(1000);
            let v = *rng.pick(&[0, last + 1, far, u64::MAX]);
            b = v.to_string().into_bytes();
        }
    }
    let pick_other = |rng: &mut Rng| {
        if rng.chance(30) {
            None
        } else {
            Some(*rng.pick(&versions))
        }
    };
    let (mut start, mut goal) = match (target_kind, key.split_once('/')) {
        ("snapshot", Some((_, v))) => (
            if rng.chance(80) {
                None
            } else {
                pick_other(rng)
            },
            v.parse().ok(),
        ),
        ("delta" | "reverse", Some((_, ab))) => {
            let (a, b) = ab.split_once('-').expect("a-b");
            (a.parse().ok(), b.parse().ok())
        }
        _ => (pick_other(rng), None),
    };
    if target_kind != "announced" && rng.chance(15) {
        start = pick_other(rng);
        goal = Some(*rng.pick(&versions));
    }
    Mutation {
        target_kind,
        damage,
        key,
        bytes: b,
        start,
        goal,
    }
}

/// Failures and outcomes, counted.
#[derive(Debug, Default)]
pub struct Tally {
    /// (row, outcome) → count; row is `<kind>/<damage>`.
    pub counts: BTreeMap<(String, String), u64>,
    /// Direct parser checks: (row, outcome) → count.
    pub parser: BTreeMap<(String, String), u64>,
    pub mutations: u64,
    pub panics: u64,
    pub wrong: u64,
    /// The first failures, described.
    pub failures: Vec<String>,
}

impl Tally {
    fn add(&mut self, row: &str, outcome: String, m: &Mutation, mode: &str) {
        if outcome.starts_with("PANIC") {
            self.panics += 1;
        }
        if outcome.starts_with("WRONG") {
            self.wrong += 1;
        }
        if (outcome.starts_with("PANIC") || outcome.starts_with("WRONG"))
            && self.failures.len() < 20
        {
            self.failures.push(format!(
                "{mode} {row} {} start {:?} goal {:?}: {outcome}",
                m.key, m.start, m.goal
            ));
        }
        let outcome = if outcome.starts_with("WRONG") || outcome.starts_with("PANIC") {
            outcome.split(':').next().unwrap_or("").to_string()
        } else {
            outcome
        };
        *self.counts.entry((row.to_string(), outcome)).or_default() += 1;
    }

    /// Outcome totals over all rows.
    pub fn totals(&self) -> BTreeMap<String, u64> {
        let mut t = BTreeMap::new();
        for ((_, o), n) in &self.counts {
            *t.entry(o.clone()).or_default() += n;
        }
        t
    }

    /// The tally as a table: one line per row and outcome, then the totals.
    pub fn table(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "{:<22} {:<48} {:>7}\n",
            "mutation", "consumer outcome (heap + mapped)", "count"
        ));
        for ((row, o), n) in &self.counts {
            s.push_str(&format!("{row:<22} {o:<48} {n:>7}\n"));
        }
        s.push_str(&format!(
            "\n{:<22} {:<48} {:>7}\n",
            "mutation", "direct parse of the damaged blob", "count"
        ));
        for ((row, o), n) in &self.parser {
            s.push_str(&format!("{row:<22} {o:<48} {n:>7}\n"));
        }
        s.push_str("\ntotals (consumer runs):\n");
        for (o, n) in self.totals() {
            s.push_str(&format!("  {o:<48} {n:>7}\n"));
        }
        s.push_str(&format!(
            "mutations = {}, consumer runs = {}, panics = {}, wrong-state = {}\n",
            self.mutations,
            self.mutations * 2,
            self.panics,
            self.wrong
        ));
        s
    }
}

/// The cause of a refused blob: its error's variant (`WrongVersion` for a blob holding
/// another version, `NoPath` when no stored path is left to try).
pub fn cause(e: &Error) -> &'static str {
    match e {
        Error::Data(d) => match d {
            DataError::ChecksumMismatch { .. } => "ChecksumMismatch",
            DataError::Truncated { .. } => "Truncated",
            DataError::BadMagic { .. } => "BadMagic",
            DataError::Version { .. } => "Version",
            DataError::WrongBlobKind { .. } => "WrongBlobKind",
            DataError::Schema(_) => "Schema",
            DataError::Corrupt(_) => "Corrupt",
            _ => "other",
        },
        Error::SnapshotVersion { .. } | Error::DeltaVersions { .. } => "WrongVersion",
        Error::Store(StoreError::NotFound { .. }) => "NotFound",
        Error::Unreachable { failures, .. } if failures.is_empty() => "NoPath",
        _ => "other",
    }
}

/// The variant's name; for the data layers' errors, the inner variant's (`Corrupt`, ...).
fn variant(e: &Error) -> String {
    let text = match e.as_data() {
        Some(d) => format!("{d:?}"),
        None => format!("{e:?}"),
    };
    text.chars().take_while(|c| c.is_alphanumeric()).collect()
}

/// The message of a caught panic.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".into())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

fn step_keys(report: &UpdateReport) -> Vec<String> {
    report
        .transitions
        .iter()
        .map(|t| match t.from {
            None => Step::Snapshot(t.to).key(),
            Some(a) if t.to > a => Step::Delta(a, t.to).key(),
            Some(a) => Step::Reverse(a, t.to).key(),
        })
        .collect()
}

/// The cause of the failure of the damaged key among `failures`, else of the first (`NoPath`
/// when there is none).
fn cause_for(key: &str, failures: &[BlobFailure]) -> &'static str {
    match failures.iter().find(|f| f.key == key).or(failures.first()) {
        Some(f) => cause(&f.error),
        None => "NoPath",
    }
}

/// What the consumer must reach: `Some(v)` a stored version, `None` an error.
fn expected_goal(f: &Fixture, m: &Mutation) -> Option<u64> {
    match m.goal {
        Some(v) => Some(v),
        None => {
            let text = if m.target_kind == "announced" {
                m.bytes.clone()
            } else {
                f.announced.to_string().into_bytes()
            };
            let v = std::str::from_utf8(&text)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())?;
            f.versions.contains_key(&v).then_some(v)
        }
    }
}

fn same(a: &Option<Loaded>, b: &Option<Loaded>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.version == b.version && Arc::ptr_eq(&a.state, &b.state),
        (None, None) => true,
        _ => false,
    }
}

/// Runs one consumer through one mutation and classifies the outcome.
fn consume(f: &Fixture, m: &Mutation, c: &Consumer, before: Option<Loaded>) -> String {
    let announce_damaged = m.target_kind == "announced";
    let r = catch_unwind(AssertUnwindSafe(|| match m.goal {
        Some(v) => c.update_to(v),
        None => c.refresh(),
    }));
    let after = c.current();
    let check = |l: &Option<Loaded>, v: Option<u64>| -> Result<(), String> {
        match (l, v) {
            (None, None) => Ok(()),
            (Some(l), Some(v)) if l.version == v => {
                match catch_unwind(AssertUnwindSafe(|| contents(&f.ds, &l.state))) {
                    Ok(Ok(got)) if got == f.versions[&v] => Ok(()),
                    Ok(Ok(_)) => Err(format!("records of version {v} differ from the model")),
                    Ok(Err(e)) => Err(format!("state of version {v} does not read: {e}")),
                    Err(p) => Err(format!("PANIC reading the state: {}", panic_text(&*p))),
                }
            }
            (l, v) => Err(format!(
                "at version {:?}, expected {v:?}",
                l.as_ref().map(|l| l.version)
            )),
        }
    };
    match r {
        Err(p) => format!("PANIC: {}", panic_text(&*p)),
        Ok(Err(e)) => {
            if !same(&before, &after) {
                return format!("WRONG STATE: the state changed although the update failed ({e})");
            }
            if let Err(w) = check(&after, before.as_ref().map(|l| l.version)) {
                return format!("WRONG STATE: kept state: {w}");
            }
            if let Some(v) = expected_goal(f, m) {
                if !announce_damaged && !is_damage_error(&e) {
                    return format!("WRONG STATE: version {v} should be reachable: {e}");
                }
            }
            match &e {
                Error::Unreachable { failures, .. } => {
                    format!("refused: Unreachable/{}, kept", cause_for(&m.key, failures))
                }
                other => format!("refused: {}, kept", variant(other)),
            }
        }
        Ok(Ok(report)) => {
            let goal = expected_goal(f, m);
            if goal.is_none() {
                return format!(
                    "WRONG STATE: the update succeeded (at {:?}) where it must fail",
                    after.as_ref().map(|l| l.version)
                );
            }
            if let Err(w) = check(&after, goal) {
                return format!("WRONG STATE: {w}");
            }
            if announce_damaged {
                if goal == Some(f.announced) {
                    "unaffected (announcement still names the version)".into()
                } else {
                    "followed announcement to a stored version".into()
                }
            } else if !report.recovered_errors.is_empty() {
                format!("recovered: {}", cause_for(&m.key, &report.recovered_errors))
            } else if step_keys(&report).contains(&m.key) {
                "accepted, correct".into()
            } else {
                "unaffected".into()
            }
        }
    }
}

/// Whether an update error is the refusal of damage (rather than, say, an I/O failure).
fn is_damage_error(e: &Error) -> bool {
    match e {
        Error::Unreachable { failures, .. } => failures.iter().all(|f| cause(&f.error) != "other"),
        other => cause(other) != "other",
    }
}

/// Gives byte-level damage straight to the parser.
fn direct(f: &Fixture, m: &Mutation, start_state: Option<&ReadState>) -> Option<String> {
    if !matches!(
        m.damage,
        Damage::BitFlip | Damage::Truncate | Damage::Extend
    ) || m.target_kind == "announced"
    {
        return None;
    }
    let r = catch_unwind(AssertUnwindSafe(|| -> Result<Option<Model>, Error> {
        if m.target_kind == "snapshot" {
            let st = ReadState::from_vec(m.bytes.clone())?;
            Ok(Some(contents(&f.ds, &st)?))
        } else {
            let Some(st) = start_state else {
                return Ok(None);
            };
            let applied = apply_delta(st, &Bytes::from_vec(m.bytes.clone()))?;
            Ok(Some(contents(&f.ds, &applied.state)?))
        }
    }));
    let v: Option<u64> = m.key.rsplit(['/', '-']).next().and_then(|s| s.parse().ok());
    Some(match r {
        Err(p) => format!("PANIC: {}", panic_text(&*p)),
        Ok(Err(e)) => format!("refused: {}", variant(&e)),
        Ok(Ok(None)) => return None,
        Ok(Ok(Some(got))) if v.is_some_and(|v| f.versions.get(&v) == Some(&got)) => {
            "accepted, records correct".into()
        }
        Ok(Ok(Some(_))) => "WRONG STATE: accepted with wrong records".into(),
    })
}

/// Collects panic messages instead of printing each (the campaign reports them).
pub fn quiet_panics() -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut v) = s.lock() {
            if v.len() < 20 {
                v.push(info.to_string());
            }
        }
    }));
    seen
}

/// Runs `mutations` seeded mutations over one fixture; `progress` is called every 1,000.
pub fn run(seed: u64, mutations: u64, mut progress: impl FnMut(u64, &Tally)) -> Tally {
    let f = Fixture::build(seed, 8);
    let work = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(1));
    let mut tally = Tally::default();
    for i in 0..mutations {
        let m = plan(&f, &mut rng);
        let row = format!("{}/{:?}", m.target_kind, m.damage).to_lowercase();
        let dir = work.path().join(format!("m{i}"));
        copy_dir(&f.store_dir(), &dir.join("store")).expect("copy the store");
        let store: Arc<dyn BlobStore> =
            Arc::new(FolderStore::new(dir.join("store")).expect("folder store"));
        let consumers: Vec<(&str, Consumer)> =
            [("heap", MemoryMode::Heap), ("mapped", MemoryMode::Mapped)]
                .into_iter()
                .map(|(name, mode)| {
                    (
                        name,
                        Consumer::new(
                            store.clone(),
                            ConsumerConfig {
                                mode,
                                cache_dir: Some(dir.join(format!("cache-{name}"))),
                            },
                        ),
                    )
                })
                .collect();
        // the consumers reach their start version while the store is intact
        let mut befores = Vec::new();
        for (name, c) in &consumers {
            if let Some(s) = m.start {
                c.update_to(s).unwrap_or_else(|e| {
                    panic!("{name} consumer reaches start version {s} of the intact store: {e}")
                });
            }
            befores.push(c.current());
        }
        store.put(&m.key, &m.bytes).expect("damage the blob");
        for ((name, c), before) in consumers.iter().zip(befores.iter()) {
            let outcome = consume(&f, &m, c, before.clone());
            tally.add(&row, outcome, &m, name);
        }
        if let Some(d) = direct(&f, &m, befores[0].as_ref().map(|l| l.state.as_ref())) {
            if d.starts_with("PANIC") {
                tally.panics += 1;
            }
            if d.starts_with("WRONG") {
                tally.wrong += 1;
            }
            if (d.starts_with("PANIC") || d.starts_with("WRONG")) && tally.failures.len() < 20 {
                tally.failures.push(format!("parser {row} {}: {d}", m.key));
            }
            let d = if d.starts_with("PANIC") {
                "PANIC".to_string()
            } else {
                d
            };
            *tally.parser.entry((row.clone(), d)).or_default() += 1;
        }
        drop(consumers);
        let _ = std::fs::remove_dir_all(&dir);
        tally.mutations += 1;
        if (i + 1) % 1000 == 0 {
            progress(i + 1, &tally);
        }
    }
    tally
}
