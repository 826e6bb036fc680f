//! A catalog simulator: loads a catalog into the dataset topics, then emits a steady,
//! deterministic stream of realistic changes — assets becoming READY or FAILED, new assets
//! in progress, new rights windows, ratings and localizations added, titles renamed, records
//! deleted — generated from the catalog's own records with a seeded PRNG ([`Rng`], PCG from `rand_pcg`).
//!
//! The catalog comes from a folder of `<dataset>.jsonl` files ([`Catalog::load`]) or is
//! generated ([`Catalog::generate`]: a small synthetic catalog over twelve countries, with
//! every dataset of GATEKEEPER.md §1). The [`Simulator`] keeps the catalog up to date with
//! the changes it emits, so after every change [`Simulator::catalog`] is what a producer that
//! folded all the messages must hold.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hollow::dataset::DatasetSchema;
use rand::RngExt as _;
use serde_json::{json, Value};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::kafka::Sender;
use crate::sweep::{read_source, source_path};

/// 2026-11-01T00:00:00Z in milliseconds: the simulated "now" at the start.
pub const BASE_NOW_MS: i64 = 1_793_491_200_000;
const DAY_MS: i64 = 86_400_000;

/// The simulator's deterministic PRNG: PCG (`rand_pcg`) seeded with
/// [`rand::SeedableRng::seed_from_u64`], with the few draws the simulator makes.
#[derive(Debug, Clone)]
pub struct Rng(rand_pcg::Pcg64Mcg);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(rand::SeedableRng::seed_from_u64(seed))
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        rand::Rng::next_u64(&mut self.0)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.0.random_range(0..n)
        }
    }
    /// Uniform in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.0.random_range(lo..=hi)
        }
    }
    /// True with probability `p` (always for `p >= 1`, never for NaN).
    pub fn chance(&mut self, p: f64) -> bool {
        self.0.random::<f64>() <= p
    }
    /// A random element (panics on an empty slice, like indexing).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The records of one dataset by key, with O(1) random choice.
#[derive(Debug, Clone, Default)]
struct Table {
    keys: Vec<String>,
    rows: HashMap<String, (usize, Value)>,
}

impl Table {
    fn insert(&mut self, key: String, v: Value) {
        match self.rows.get_mut(&key) {
            Some(row) => row.1 = v,
            None => {
                self.keys.push(key.clone());
                self.rows.insert(key, (self.keys.len() - 1, v));
            }
        }
    }
    fn remove(&mut self, key: &str) -> Option<Value> {
        let (idx, v) = self.rows.remove(key)?;
        self.keys.swap_remove(idx);
        if let Some(moved) = self.keys.get(idx) {
            if let Some(row) = self.rows.get_mut(moved) {
                row.0 = idx;
            }
        }
        Some(v)
    }
    fn random(&self, rng: &mut Rng) -> Option<(&str, &Value)> {
        if self.keys.is_empty() {
            return None;
        }
        let k = &self.keys[rng.below(self.keys.len() as u64) as usize];
        self.rows.get(k).map(|(_, v)| (k.as_str(), v))
    }
}

/// A catalog: every record of every dataset, by key.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    tables: BTreeMap<String, Table>,
}

impl Catalog {
    /// Loads `<dir>/<dataset>.jsonl` of every schema (missing files give empty datasets;
    /// invalid lines are skipped with a warning; a later line with the same key wins).
    pub fn load(dir: &Path, schemas: &[DatasetSchema]) -> Result<Catalog> {
        let mut c = Catalog::default();
        for s in schemas {
            let table = c.tables.entry(s.dataset.clone()).or_default();
            let path = source_path(dir, &s.dataset);
            if !path.exists() {
                continue;
            }
            let file = read_source(&path, s)?;
            if !file.invalid.is_empty() {
                log::warn!(
                    "{}: skipped {} invalid line(s)",
                    path.display(),
                    file.invalid.len()
                );
            }
            for r in file.records {
                let v: Value = serde_json::from_str(&r.json).map_err(|e| Error::Source {
                    path: path.clone(),
                    line: 0,
                    detail: e.to_string(),
                })?;
                table.insert(r.key, v);
            }
        }
        Ok(c)
    }

    /// Generates a synthetic catalog of `titles` titles over twelve countries (records of
    /// datasets without a schema in `schemas` are left out). Deterministic for a seed.
    pub fn generate(schemas: &[DatasetSchema], titles: usize, seed: u64) -> Catalog {
        let mut g = Gen {
            rng: Rng::new(seed),
            out: BTreeMap::new(),
        };
        g.catalog(titles);
        let mut c = Catalog::default();
        for s in schemas {
            let table = c.tables.entry(s.dataset.clone()).or_default();
            for v in g.out.remove(&s.dataset).unwrap_or_default() {
                match s.parse_value(&v) {
                    Ok(rec) => table.insert(hollow::key::of_record(s, &rec), v),
                    Err(e) => log::warn!("generated {} record rejected: {e}", s.dataset),
                }
            }
        }
        c
    }

    /// The datasets.
    pub fn datasets(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    /// Number of records of a dataset.
    pub fn len(&self, dataset: &str) -> usize {
        self.tables.get(dataset).map_or(0, |t| t.keys.len())
    }

    /// Total number of records.
    pub fn total(&self) -> usize {
        self.tables.values().map(|t| t.keys.len()).sum()
    }

    /// The records of a dataset, by key (sorted).
    pub fn records(&self, dataset: &str) -> BTreeMap<&str, &Value> {
        self.tables
            .get(dataset)
            .map(|t| t.rows.iter().map(|(k, (_, v))| (k.as_str(), v)).collect())
            .unwrap_or_default()
    }

    /// Writes every dataset as `<dir>/<dataset>.jsonl`, sorted by key.
    pub fn write_jsonl(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        for name in self.tables.keys() {
            let mut text = String::new();
            for v in self.records(name).values() {
                text.push_str(&v.to_string());
                text.push('\n');
            }
            let path = source_path(dir, name);
            std::fs::write(&path, text).map_err(|source| Error::Io { path, source })?;
        }
        Ok(())
    }
}

const COUNTRIES: &[(&str, &str, &[&str], bool, bool)] = &[
    ("BR", "Brazil", &["pt"], false, true),
    ("CA", "Canada", &["en", "fr"], true, true),
    ("DE", "Germany", &["de"], false, true),
    ("ES", "Spain", &["es", "ca"], false, true),
    ("FR", "France", &["fr"], false, true),
    ("GB", "United Kingdom", &["en"], true, true),
    ("IN", "India", &["hi", "en"], false, true),
    ("IT", "Italy", &["it"], false, false),
    ("JP", "Japan", &["ja"], false, false),
    ("KR", "South Korea", &["ko"], false, true),
    ("MX", "Mexico", &["es"], false, false),
    ("US", "United States", &["en", "es"], true, true),
];
const LANGS: &[&str] = &[
    "en", "en", "en", "es", "fr", "de", "ja", "ko", "hi", "pt", "it",
];
const DUB_LANGS: &[&str] = &[
    "en", "es", "fr", "de", "it", "pt", "ja", "ko", "hi", "ca", "ar", "zh",
];
const GENRES: &[&str] = &[
    "Dramas",
    "Comedies",
    "Documentaries",
    "Thrillers",
    "Action & Adventure",
    "Kids' TV",
    "Romantic Movies",
    "Anime",
    "Horror Movies",
    "Sci-Fi",
];
const ADJ: &[&str] = &[
    "Silent", "Crimson", "Last", "Hidden", "Golden", "Broken", "Distant", "Wild", "Midnight",
    "Electric", "Quiet", "Lost",
];
const NOUN: &[&str] = &[
    "River", "Empire", "Summer", "Code", "Garden", "Harbor", "Signal", "Kingdom", "Horizon",
    "Letters", "Storm", "Orchard",
];
const FIRST: &[&str] = &[
    "Ana", "Kenji", "Marie", "Lars", "Priya", "Diego", "Chloé", "Tomás", "Yuna", "Omar", "Grace",
    "Luca",
];
const LAST: &[&str] = &[
    "Silva", "Tanaka", "Dubois", "Berg", "Sharma", "García", "Kim", "Rossi", "Okafor", "Novak",
    "Smith", "Müller",
];
const RATINGS: &[&str] = &[
    "G", "PG", "PG-13", "R", "7", "12", "16", "18", "TV-MA", "TV-14",
];

struct Gen {
    rng: Rng,
    out: BTreeMap<String, Vec<Value>>,
}

impl Gen {
    fn push(&mut self, dataset: &str, v: Value) {
        self.out.entry(dataset.to_owned()).or_default().push(v);
    }

    fn person(&mut self) -> String {
        format!("{} {}", self.rng.pick(FIRST), self.rng.pick(LAST))
    }

    fn catalog(&mut self, titles: usize) {
        for (code, name, langs, captions, rating) in COUNTRIES {
            let v = json!({"code": code, "name": name, "primary_language": langs[0], "required_languages": langs,
                           "requires_captions": captions, "rating_required": rating});
            self.push("countries", v);
        }
        let (mut video_id, mut asset_id) = (0i64, 0i64);
        for t in 1..=titles as i64 {
            let show = self.rng.chance(0.3);
            let lang = *self.rng.pick(LANGS);
            let name = format!("The {} {}", self.rng.pick(ADJ), self.rng.pick(NOUN));
            let genres: Vec<&str> = (0..self.rng.range(1, 3))
                .map(|_| *self.rng.pick(GENRES))
                .collect();
            let cast: Vec<String> = (0..self.rng.range(0, 4)).map(|_| self.person()).collect();
            let directors: Vec<String> = (0..self.rng.range(0, 2)).map(|_| self.person()).collect();
            let year = if self.rng.chance(0.05) {
                Value::Null
            } else {
                json!(self.rng.range(1980, 2026))
            };
            let title = json!({"id": t, "kind": if show { "SHOW" } else { "MOVIE" }, "name": name, "original_language": lang,
                               "release_year": year, "genres": genres, "cast": cast, "directors": directors});
            self.push("titles", title);
            let episodes: Vec<(Option<i64>, Option<i64>)> = if show {
                (1..=self.rng.range(1, 3))
                    .flat_map(|s| (1..=4).map(move |e| (Some(s), Some(e))))
                    .collect()
            } else {
                vec![(None, None)]
            };
            for (season, episode) in episodes {
                video_id += 1;
                let runtime = if show {
                    self.rng.range(20, 60)
                } else {
                    self.rng.range(80, 150)
                };
                let kind = if show { "EPISODE" } else { "MOVIE" };
                self.push("videos", json!({"id": video_id, "title_id": t, "kind": kind, "season": season, "episode": episode, "runtime_minutes": runtime}));
                asset_id += 1;
                let st = if self.rng.chance(0.9) {
                    "READY"
                } else {
                    "IN_PROGRESS"
                };
                self.push("assets", json!({"id": asset_id, "video_id": video_id, "kind": "VIDEO", "language": null, "status": st}));
                asset_id += 1;
                let st = if self.rng.chance(0.95) {
                    "READY"
                } else {
                    "IN_PROGRESS"
                };
                self.push("assets", json!({"id": asset_id, "video_id": video_id, "kind": "AUDIO", "language": lang, "status": st}));
                for _ in 0..self.rng.range(1, 4) {
                    asset_id += 1;
                    let (kind, l) = (
                        if self.rng.chance(0.4) {
                            "AUDIO"
                        } else {
                            "SUBTITLE"
                        },
                        *self.rng.pick(DUB_LANGS),
                    );
                    let st = *self.rng.pick(&[
                        "READY",
                        "READY",
                        "READY",
                        "READY",
                        "IN_PROGRESS",
                        "FAILED",
                    ]);
                    self.push("assets", json!({"id": asset_id, "video_id": video_id, "kind": kind, "language": l, "status": st}));
                }
                if self.rng.chance(0.7) {
                    asset_id += 1;
                    self.push("assets", json!({"id": asset_id, "video_id": video_id, "kind": "CLOSED_CAPTIONS", "language": lang, "status": "READY"}));
                }
            }
            for (code, _, _, _, _) in COUNTRIES {
                if !self.rng.chance(0.7) {
                    continue;
                }
                let start = if self.rng.chance(0.1) {
                    BASE_NOW_MS + self.rng.range(1, 120) * DAY_MS
                } else {
                    BASE_NOW_MS - self.rng.range(0, 2000) * DAY_MS
                };
                let end = if self.rng.chance(0.5) {
                    Value::Null
                } else {
                    json!(start + self.rng.range(180, 1500) * DAY_MS)
                };
                self.push("rights", json!({"title_id": t, "country": code, "window_start": start, "window_end": end}));
                if self.rng.chance(0.8) {
                    let rating = *self.rng.pick(RATINGS);
                    self.push("ratings", json!({"title_id": t, "country": code, "board": format!("{code}-RB"), "rating": rating}));
                }
            }
            let mut loc_langs: Vec<&str> = (0..self.rng.range(2, 5))
                .map(|_| self.rng.pick(COUNTRIES).2[0])
                .collect();
            loc_langs.sort_unstable();
            loc_langs.dedup();
            for l in loc_langs {
                let n = if self.rng.chance(0.9) {
                    json!(format!("{name} [{l}]"))
                } else {
                    Value::Null
                };
                let s = match self.rng.below(10) {
                    0 => Value::Null,
                    1 => json!("  "),
                    _ => json!(format!(
                        "A story about {} and {} ({l}).",
                        self.rng.pick(NOUN).to_lowercase(),
                        self.rng.pick(NOUN).to_lowercase()
                    )),
                };
                self.push(
                    "localizations",
                    json!({"title_id": t, "language": l, "name": n, "synopsis": s}),
                );
            }
        }
    }
}

/// One change emitted by the simulator.
#[derive(Debug, Clone, PartialEq)]
pub struct SimChange {
    /// The dataset.
    pub dataset: String,
    /// The message key.
    pub key: String,
    /// The record as JSON, or `None` for a delete (tombstone).
    pub value: Option<String>,
    /// What kind of change it is (`asset_ready`, `new_window`, `delete`, ...).
    pub kind: &'static str,
}

/// Emits realistic changes to a catalog and keeps the catalog up to date with them.
#[derive(Debug)]
pub struct Simulator {
    schemas: BTreeMap<String, DatasetSchema>,
    catalog: Catalog,
    rng: Rng,
    now_ms: i64,
    next_asset: i64,
}

impl Simulator {
    /// A simulator over `catalog` (only datasets with a schema are changed).
    pub fn new(schemas: &[DatasetSchema], catalog: Catalog, seed: u64) -> Simulator {
        let next_asset = catalog
            .records("assets")
            .values()
            .filter_map(|v| v["id"].as_i64())
            .max()
            .unwrap_or(0)
            + 1;
        let schemas = schemas
            .iter()
            .map(|s| (s.dataset.clone(), s.clone()))
            .collect();
        Simulator {
            schemas,
            catalog,
            rng: Rng::new(seed ^ 0x5EED),
            now_ms: BASE_NOW_MS,
            next_asset,
        }
    }

    /// The catalog with every change emitted so far applied.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn random(&mut self, dataset: &str) -> Option<(String, Value)> {
        let t = self.catalog.tables.get(dataset)?;
        t.random(&mut self.rng)
            .map(|(k, v)| (k.to_owned(), v.clone()))
    }

    /// The next change (`None` if the catalog has nothing to change).
    pub fn next_change(&mut self) -> Option<SimChange> {
        for _ in 0..32 {
            if let Some(c) = self.try_change() {
                return Some(c);
            }
        }
        None
    }

    fn try_change(&mut self) -> Option<SimChange> {
        self.now_ms += 60_000;
        let roll = self.rng.below(100);
        let (dataset, kind, value): (&str, &'static str, Option<Value>) = match roll {
            0..=29 => {
                let (_, mut a) = self.random("assets")?;
                let ready = self.rng.chance(0.75);
                a["status"] = json!(if ready { "READY" } else { "FAILED" });
                (
                    "assets",
                    if ready { "asset_ready" } else { "asset_failed" },
                    Some(a),
                )
            }
            30..=44 => {
                let (_, v) = self.random("videos")?;
                let id = self.next_asset;
                self.next_asset += 1;
                let kind = *self.rng.pick(&["AUDIO", "SUBTITLE", "CLOSED_CAPTIONS"]);
                let lang = *self.rng.pick(DUB_LANGS);
                (
                    "assets",
                    "new_asset",
                    Some(
                        json!({"id": id, "video_id": v["id"], "kind": kind, "language": lang, "status": "IN_PROGRESS"}),
                    ),
                )
            }
            45..=59 => {
                let (_, t) = self.random("titles")?;
                let (_, c) = self.random("countries")?;
                let start = (self.now_ms / DAY_MS + self.rng.range(1, 60)) * DAY_MS;
                let end = if self.rng.chance(0.5) {
                    Value::Null
                } else {
                    json!(start + 365 * DAY_MS)
                };
                (
                    "rights",
                    "new_window",
                    Some(
                        json!({"title_id": t["id"], "country": c["code"], "window_start": start, "window_end": end}),
                    ),
                )
            }
            60..=69 => {
                let (_, t) = self.random("titles")?;
                let (_, c) = self.random("countries")?;
                let code = c["code"].as_str().unwrap_or("XX").to_owned();
                let rating = *self.rng.pick(RATINGS);
                (
                    "ratings",
                    "rating",
                    Some(
                        json!({"title_id": t["id"], "country": code, "board": format!("{code}-RB"), "rating": rating}),
                    ),
                )
            }
            70..=79 => {
                let (_, t) = self.random("titles")?;
                let (_, c) = self.random("countries")?;
                let lang = c["primary_language"].clone();
                let name = format!(
                    "{} [{}]",
                    t["name"].as_str().unwrap_or(""),
                    lang.as_str().unwrap_or("")
                );
                let synopsis = format!("Localized synopsis #{}", self.rng.below(1_000_000));
                (
                    "localizations",
                    "localization",
                    Some(
                        json!({"title_id": t["id"], "language": lang, "name": name, "synopsis": synopsis}),
                    ),
                )
            }
            80..=89 => {
                let (_, mut t) = self.random("titles")?;
                t["name"] = json!(format!(
                    "The {} {}",
                    self.rng.pick(ADJ),
                    self.rng.pick(NOUN)
                ));
                ("titles", "title_update", Some(t))
            }
            _ => {
                let dataset = *self
                    .rng
                    .pick(&["rights", "assets", "ratings", "localizations"]);
                let (key, _) = self.random(dataset)?;
                self.catalog.tables.get_mut(dataset)?.remove(&key);
                return Some(SimChange {
                    dataset: dataset.to_owned(),
                    key,
                    value: None,
                    kind: "delete",
                });
            }
        };
        let value = value?;
        let schema = self.schemas.get(dataset)?;
        let rec = schema.parse_value(&value).ok()?;
        let key = hollow::key::of_record(schema, &rec);
        let text = value.to_string();
        self.catalog
            .tables
            .entry(dataset.to_owned())
            .or_default()
            .insert(key.clone(), value);
        Some(SimChange {
            dataset: dataset.to_owned(),
            key,
            value: Some(text),
            kind,
        })
    }
}

/// Sends every record of `catalog` to the topics of `config` (in dataset, then key order).
pub fn load_catalog(sender: &mut Sender, config: &Config, catalog: &Catalog) -> Result<u64> {
    let mut n = 0;
    for dataset in catalog.datasets() {
        let topic = config.topic(dataset);
        for (key, v) in catalog.records(dataset) {
            sender.send(
                &topic,
                Some(key.as_bytes()),
                Some(v.to_string().as_bytes()),
                &[],
            )?;
            n += 1;
        }
    }
    let d = sender.flush(Duration::from_secs(120))?;
    if d.failed > 0 {
        return Err(Error::Delivery {
            what: "catalog load".into(),
            failed: d.failed,
        });
    }
    Ok(n)
}

/// How to run a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Changes per second (0: as fast as possible).
    pub rate: f64,
    /// Stop after this long (`None`: until stopped or `max_changes`).
    pub duration: Option<Duration>,
    /// Stop after this many changes.
    pub max_changes: Option<u64>,
    /// Send the catalog first.
    pub load: bool,
    /// PRNG seed of the changes.
    pub seed: u64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            rate: 10.0,
            duration: None,
            max_changes: None,
            load: true,
            seed: 42,
        }
    }
}

/// What a simulation sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimReport {
    /// Catalog records loaded first.
    pub loaded: u64,
    /// Changes sent.
    pub changes: u64,
    /// Changes by kind.
    pub by_kind: BTreeMap<&'static str, u64>,
}

/// Loads the catalog (if `opts.load`) and streams changes at `opts.rate` until `stop` is set,
/// `opts.duration` has passed or `opts.max_changes` were sent. Returns the simulator too, so
/// callers can compare a producer's state with [`Simulator::catalog`].
pub fn simulate(
    sender: &mut Sender,
    config: &Config,
    schemas: &[DatasetSchema],
    catalog: Catalog,
    opts: &SimOptions,
    stop: &AtomicBool,
) -> Result<(SimReport, Simulator)> {
    let mut report = SimReport::default();
    if opts.load {
        report.loaded = load_catalog(sender, config, &catalog)?;
        log::info!("simulate: loaded {} catalog record(s)", report.loaded);
    }
    let mut sim = Simulator::new(schemas, catalog, opts.seed);
    let started = Instant::now();
    let mut last_log = Instant::now();
    while !stop.load(Ordering::Acquire)
        && opts.max_changes.is_none_or(|m| report.changes < m)
        && opts.duration.is_none_or(|d| started.elapsed() < d)
    {
        if opts.rate > 0.0 {
            let due = started + Duration::from_secs_f64(report.changes as f64 / opts.rate);
            let now = Instant::now();
            if due > now {
                std::thread::sleep((due - now).min(Duration::from_millis(100)));
                continue;
            }
        }
        let Some(c) = sim.next_change() else { break };
        sender.send(
            &config.topic(&c.dataset),
            Some(c.key.as_bytes()),
            c.value.as_deref().map(str::as_bytes),
            &[],
        )?;
        report.changes += 1;
        *report.by_kind.entry(c.kind).or_default() += 1;
        if last_log.elapsed() > Duration::from_secs(5) {
            log::info!("simulate: {} change(s) sent", report.changes);
            last_log = Instant::now();
        }
    }
    let d = sender.flush(Duration::from_secs(120))?;
    if d.failed > 0 {
        return Err(Error::Delivery {
            what: "simulation".into(),
            failed: d.failed,
        });
    }
    Ok((report, sim))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas() -> Vec<DatasetSchema> {
        crate::config::load_schemas(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas"),
            &[],
        )
        .unwrap()
    }

    #[test]
    fn generated_catalog_is_valid_and_deterministic() {
        let s = schemas();
        let a = Catalog::generate(&s, 30, 7);
        let b = Catalog::generate(&s, 30, 7);
        assert_eq!(a.len("titles"), 30);
        assert_eq!(a.len("countries"), 12);
        for ds in &s {
            assert!(a.len(&ds.dataset) > 0, "{}", ds.dataset);
            assert_eq!(a.records(&ds.dataset), b.records(&ds.dataset));
            for (k, v) in a.records(&ds.dataset) {
                let rec = ds.parse_value(v).unwrap();
                assert_eq!(hollow::key::of_record(ds, &rec), k);
            }
        }
        let dir = tempfile::tempdir().unwrap();
        a.write_jsonl(dir.path()).unwrap();
        let c = Catalog::load(dir.path(), &s).unwrap();
        assert_eq!(c.total(), a.total());
    }

    #[test]
    fn changes_are_valid_and_tracked() {
        let s = schemas();
        let mut sim = Simulator::new(&s, Catalog::generate(&s, 20, 1), 3);
        let mut kinds = BTreeMap::new();
        for _ in 0..2000 {
            let c = sim.next_change().unwrap();
            *kinds.entry(c.kind).or_insert(0) += 1;
            let ds = s.iter().find(|d| d.dataset == c.dataset).unwrap();
            match &c.value {
                Some(v) => {
                    let rec = ds.parse_json(v.as_bytes()).unwrap();
                    assert_eq!(hollow::key::of_record(ds, &rec), c.key);
                    assert!(sim
                        .catalog()
                        .records(&c.dataset)
                        .contains_key(c.key.as_str()));
                }
                None => assert!(!sim
                    .catalog()
                    .records(&c.dataset)
                    .contains_key(c.key.as_str())),
            }
        }
        for k in [
            "asset_ready",
            "asset_failed",
            "new_asset",
            "new_window",
            "rating",
            "localization",
            "title_update",
            "delete",
        ] {
            assert!(kinds.get(k).copied().unwrap_or(0) > 20, "{k}: {kinds:?}");
        }
    }

    #[test]
    fn table_random_and_remove() {
        let mut t = Table::default();
        for i in 0..10 {
            t.insert(i.to_string(), json!(i));
        }
        assert_eq!(t.remove("3"), Some(json!(3)));
        assert_eq!(t.remove("3"), None);
        assert_eq!(t.remove("9"), Some(json!(9)));
        let mut rng = Rng::new(1);
        for _ in 0..100 {
            let (k, v) = t.random(&mut rng).unwrap();
            assert_eq!(v.to_string(), k);
        }
        assert_eq!(t.keys.len(), 8);
    }
}
