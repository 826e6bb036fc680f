//! Service configuration: defaults, overridden by a JSON config file, then by `PRODUCER_*`
//! environment variables, then by command-line flags.
//!
//! Every setting has one name, used in all three places: the flag `--cycle-interval 5s`, the
//! environment variable `PRODUCER_CYCLE_INTERVAL=5s`, the file key `"cycle_interval": "5s"`
//! (or `"cycle-interval"`). See [`SETTINGS`] for the list. Two settings are maps: `store-for`
//! (`DATASET=URL`, repeatable; an object in the file) and `kafka` (`KEY=VALUE` librdkafka
//! properties, repeatable; an object in the file).
//!
//! ```
//! use producer::Config;
//! let mut c = Config::default();
//! c.set("cycle-interval", Some("200ms")).unwrap();
//! c.set("store", Some("s3://bucket/hollow")).unwrap();
//! assert_eq!(c.cycle_interval, std::time::Duration::from_millis(200));
//! assert_eq!(c.store_url("titles"), "s3://bucket/hollow/titles");
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hollow::dataset::DatasetSchema;

use crate::error::{Error, Result};
use crate::state::StateOptions;

/// The settings: name, whether it takes a value, and what it does.
pub const SETTINGS: &[(&str, bool, &str)] = &[
    ("config", true, "JSON config file (its keys are these names)"),
    ("bootstrap", true, "Kafka bootstrap servers; absent: start an embedded broker in-process"),
    ("schemas", true, "folder of dataset schema files (default: ./schemas, else the workspace's)"),
    ("datasets", true, "comma-separated datasets to produce (default: every schema in the folder)"),
    ("store", true, "blob store URL; each dataset under <URL>/<dataset> (default: file://blobs)"),
    ("store-for", true, "DATASET=URL: the blob store of one dataset (repeatable)"),
    ("topic-prefix", true, "prefix of every dataset topic (default: none; the topic is the dataset name)"),
    ("cycle-interval", true, "time between cycle starts (default: 30s)"),
    ("read-timeout", true, "give up reading a partition after this long without a message (default: 10s)"),
    ("health-grace", true, "report a dependency (broker, store) down in /healthz once its operations have failed this long (default: one cycle interval)"),
    ("metrics-port", true, "serve Prometheus metrics on 127.0.0.1:PORT (0: any free port)"),
    ("metrics-addr", true, "serve Prometheus metrics on HOST:PORT"),
    ("dead-letter-topic", true, "forward rejected messages to this topic"),
    ("dead-letter-bootstrap", true, "bootstrap servers of the dead-letter topic's cluster (default: --bootstrap; the topic is not created there)"),
    ("group-id", true, "consumer group id (default: hollow-producer)"),
    ("partitions", true, "partitions of topics the producer creates (default: 3)"),
    ("create-topics", true, "create missing topics: true|false (default: true)"),
    ("snapshot-every", true, "write a snapshot every N versions (default: 10)"),
    ("max-count-change-ratio", true, "validator: refuse a version whose record count drops (see count-check-growth) by more than this fraction (default: 0.5; off: no check)"),
    ("count-check-min", true, "the count validator skips datasets under this many records (default: 1000)"),
    ("count-check-growth", true, "the count validator refuses growth too, not only drops: true|false (default: false)"),
    ("validate-primary-keys", true, "validator: refuse a version in which two records share a key: on (checks the changes), full (every record), off (default: on)"),
    ("zstd-level", true, "compress blobs with zstd at this level (default: off)"),
    ("keep-versions", true, "retention: versions kept in the store (default: 0, all); announced, pinned and protected versions are always kept"),
    ("keep-days", true, "retention: also keep versions published within this many days (default: off)"),
    ("kafka", true, "KEY=VALUE librdkafka property for every client (repeatable)"),
];

/// Whether `name` is a setting and takes a value (`None`: not a setting).
pub fn takes_value(name: &str) -> Option<bool> {
    SETTINGS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, v, _)| *v)
}

/// The configuration of a [`Service`](crate::Service).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Kafka bootstrap servers; `None` starts an embedded broker.
    pub bootstrap: Option<String>,
    /// Folder of dataset schema files.
    pub schemas: PathBuf,
    /// Datasets to produce (empty: every schema in the folder).
    pub datasets: Vec<String>,
    /// Base blob store URL; each dataset lives under `<store>/<dataset>`.
    pub store: String,
    /// Per-dataset blob store URLs, overriding `store`.
    pub stores: BTreeMap<String, String>,
    /// Prefix of every dataset topic.
    pub topic_prefix: String,
    /// Time between cycle starts.
    pub cycle_interval: Duration,
    /// How long a cycle waits for the next message of a partition before giving up on it.
    pub read_timeout: Duration,
    /// Where to serve Prometheus metrics (`None`: not served).
    pub metrics_addr: Option<SocketAddr>,
    /// How long a dependency's operations may fail before `/healthz` reports it down
    /// (`None`: one cycle interval).
    pub health_grace: Option<Duration>,
    /// Where rejected messages are forwarded (`None`: nowhere).
    pub dead_letter_topic: Option<String>,
    /// The dead-letter topic's cluster (`None`: the datasets' cluster).
    pub dead_letter_bootstrap: Option<String>,
    /// Consumer group id (used for identification only: positions live in the states).
    pub group_id: String,
    /// Partitions of the topics the service creates.
    pub partitions: i32,
    /// Whether missing topics are created at start.
    pub create_topics: bool,
    /// Publishing settings.
    pub state: StateOptions,
    /// Extra librdkafka properties of every client.
    pub kafka: BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bootstrap: None,
            schemas: default_schemas_dir(),
            datasets: Vec::new(),
            store: "file://blobs".into(),
            stores: BTreeMap::new(),
            topic_prefix: String::new(),
            cycle_interval: Duration::from_secs(30),
            read_timeout: Duration::from_secs(10),
            metrics_addr: None,
            health_grace: None,
            dead_letter_topic: None,
            dead_letter_bootstrap: None,
            group_id: "hollow-producer".into(),
            partitions: 3,
            create_topics: true,
            state: StateOptions::default(),
            kafka: BTreeMap::new(),
        }
    }
}

/// `./schemas` if it exists, else the nearest `schemas/` folder above the current directory,
/// else the workspace's `schemas/` (as of the build), else `schemas`.
pub fn default_schemas_dir() -> PathBuf {
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            let cand = dir.join("schemas");
            if cand.is_dir() {
                return cand;
            }
        }
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    if built.is_dir() {
        return built;
    }
    PathBuf::from("schemas")
}

impl Config {
    /// Applies one setting by name (see [`SETTINGS`]); `value` is `None` only for a flag
    /// given without a value, which means `true` for boolean settings.
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<()> {
        let bad = |detail: String| Error::Config(format!("{name}: {detail}"));
        let v = match (value, name) {
            (Some(v), _) => v.trim(),
            (None, "create-topics" | "count-check-growth") => "true",
            (None, _) => return Err(bad("needs a value".into())),
        };
        match name {
            "config" => return Err(bad("only as a flag or PRODUCER_CONFIG".into())),
            "bootstrap" => self.bootstrap = (!v.is_empty()).then(|| v.to_owned()),
            "schemas" => self.schemas = PathBuf::from(v),
            "datasets" => {
                self.datasets = v
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                for d in &self.datasets {
                    check_topic_chars(d).map_err(bad)?;
                }
            }
            "store" => self.store = v.to_owned(),
            "store-for" => {
                let (d, url) = v
                    .split_once('=')
                    .ok_or_else(|| bad(format!("expected DATASET=URL, got {v:?}")))?;
                self.stores
                    .insert(d.trim().to_owned(), url.trim().to_owned());
            }
            "topic-prefix" => {
                check_topic_chars(v).map_err(bad)?;
                self.topic_prefix = v.to_owned();
            }
            "cycle-interval" => self.cycle_interval = parse_duration(v).map_err(bad)?,
            "read-timeout" => self.read_timeout = parse_duration(v).map_err(bad)?,
            "health-grace" => self.health_grace = Some(parse_duration(v).map_err(bad)?),
            "metrics-port" => {
                let port: u16 = v.parse().map_err(|_| bad(format!("not a port: {v:?}")))?;
                self.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], port)));
            }
            "metrics-addr" => {
                self.metrics_addr = Some(
                    v.parse()
                        .map_err(|_| bad(format!("not HOST:PORT: {v:?}")))?,
                )
            }
            "dead-letter-topic" => {
                if v.is_empty() {
                    self.dead_letter_topic = None;
                } else {
                    check_topic_chars(v).map_err(bad)?;
                    self.dead_letter_topic = Some(v.to_owned());
                }
            }
            "dead-letter-bootstrap" => {
                self.dead_letter_bootstrap = (!v.is_empty()).then(|| v.to_owned())
            }
            "group-id" => self.group_id = v.to_owned(),
            "partitions" => {
                self.partitions = v
                    .parse()
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| bad(format!("not a partition count: {v:?}")))?;
            }
            "create-topics" => self.create_topics = parse_bool(v).map_err(bad)?,
            "snapshot-every" => {
                self.state.snapshot_every = v
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| bad(format!("not a positive integer: {v:?}")))?
            }
            "max-count-change-ratio" => {
                self.state.max_count_change_ratio = match v {
                    "" | "off" | "none" => None,
                    _ => Some(
                        v.parse()
                            .ok()
                            .filter(|r: &f64| r.is_finite() && *r > 0.0)
                            .ok_or_else(|| bad(format!("not a positive fraction: {v:?}")))?,
                    ),
                }
            }
            "count-check-growth" => self.state.count_check_growth = parse_bool(v).map_err(bad)?,
            "count-check-min" => {
                self.state.count_check_min = v
                    .parse()
                    .map_err(|_| bad(format!("not a record count: {v:?}")))?
            }
            "validate-primary-keys" => {
                self.state.primary_keys = match v.to_ascii_lowercase().as_str() {
                    "full" => Some(hollow::lifecycle::PrimaryKeyValidator::full()),
                    "on" | "true" | "yes" | "1" | "incremental" => {
                        Some(hollow::lifecycle::PrimaryKeyValidator::incremental())
                    }
                    "off" | "false" | "no" | "0" => None,
                    _ => return Err(bad(format!("expected on, full or off, got {v:?}"))),
                }
            }
            "keep-days" => {
                self.state.keep_days = match v {
                    "" | "off" | "none" => None,
                    _ => Some(
                        v.parse()
                            .ok()
                            .filter(|d: &f64| d.is_finite() && *d >= 0.0)
                            .ok_or_else(|| bad(format!("not a number of days: {v:?}")))?,
                    ),
                }
            }
            "zstd-level" => {
                self.state.zstd_level = match v {
                    "" | "off" | "none" => None,
                    _ => Some(
                        v.parse()
                            .map_err(|_| bad(format!("not an integer: {v:?}")))?,
                    ),
                }
            }
            "keep-versions" => {
                self.state.keep_versions = v
                    .parse()
                    .map_err(|_| bad(format!("not an integer: {v:?}")))?
            }
            "kafka" => {
                let (k, val) = v
                    .split_once('=')
                    .ok_or_else(|| bad(format!("expected KEY=VALUE, got {v:?}")))?;
                self.kafka
                    .insert(k.trim().to_owned(), val.trim().to_owned());
            }
            _ => return Err(Error::Config(format!("unknown setting {name:?}"))),
        }
        Ok(())
    }

    /// Applies a JSON config file: an object whose keys are setting names (`_` or `-`);
    /// values are strings, numbers or booleans; `store_for` and `kafka` may be objects and
    /// `datasets` an array.
    pub fn apply_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        let obj = v
            .as_object()
            .ok_or_else(|| Error::Config(format!("{}: expected a JSON object", path.display())))?;
        for (key, value) in obj {
            let name = key.replace('_', "-");
            let ctx = |e: Error| Error::Config(format!("{}: {e}", path.display()));
            match value {
                serde_json::Value::Object(map) if name == "store-for" || name == "kafka" => {
                    for (k, v) in map {
                        self.set(
                            &name,
                            Some(&format!("{k}={}", scalar_text(v).map_err(ctx)?)),
                        )
                        .map_err(ctx)?;
                    }
                }
                serde_json::Value::Array(items) if name == "datasets" => {
                    let names: Vec<String> = items
                        .iter()
                        .map(scalar_text)
                        .collect::<Result<_>>()
                        .map_err(ctx)?;
                    self.set(&name, Some(&names.join(","))).map_err(ctx)?;
                }
                serde_json::Value::Null => {}
                other => self
                    .set(&name, Some(&scalar_text(other).map_err(ctx)?))
                    .map_err(ctx)?,
            }
        }
        Ok(())
    }

    /// Applies `PRODUCER_<NAME>` environment variables (`PRODUCER_CYCLE_INTERVAL`, ...), read
    /// through `get`. Map settings take `;`-separated `K=V` lists.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        for (name, _, _) in SETTINGS {
            if *name == "config" {
                continue;
            }
            let var = format!("PRODUCER_{}", name.to_uppercase().replace('-', "_"));
            if let Some(v) = get(&var) {
                let ctx = |e: Error| Error::Config(format!("{var}: {e}"));
                if *name == "store-for" || *name == "kafka" {
                    for item in v.split(';').filter(|s| !s.trim().is_empty()) {
                        self.set(name, Some(item)).map_err(ctx)?;
                    }
                } else {
                    self.set(name, Some(&v)).map_err(ctx)?;
                }
            }
        }
        Ok(())
    }

    /// The configuration from defaults, the config file (`--config` or `PRODUCER_CONFIG`),
    /// the environment and `flags` (`(name, value)` pairs, in order), with that precedence.
    pub fn load(
        flags: &[(String, Option<String>)],
        get_env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config> {
        let mut c = Config::default();
        let file = flags
            .iter()
            .rev()
            .find(|(n, _)| n == "config")
            .and_then(|(_, v)| v.clone())
            .or_else(|| get_env("PRODUCER_CONFIG"));
        if let Some(f) = file {
            c.apply_file(Path::new(&f))?;
        }
        c.apply_env(&get_env)?;
        for (name, value) in flags.iter().filter(|(n, _)| n != "config") {
            c.set(name, value.as_deref())?;
        }
        Ok(c)
    }

    /// The blob store URL of a dataset: its `store-for` entry, else `<store>/<dataset>`.
    pub fn store_url(&self, dataset: &str) -> String {
        match self.stores.get(dataset) {
            Some(url) => url.clone(),
            None => format!("{}/{dataset}", self.store.trim_end_matches('/')),
        }
    }

    /// The topic of a dataset: `<topic-prefix><dataset>`.
    pub fn topic(&self, dataset: &str) -> String {
        format!("{}{dataset}", self.topic_prefix)
    }

    /// Reads the schema files of the configured datasets (sorted by dataset name).
    pub fn load_schemas(&self) -> Result<Vec<DatasetSchema>> {
        load_schemas(&self.schemas, &self.datasets)
    }
}

/// Reads every `*.json` schema file of `dir`, keeping only `only` if it is not empty.
pub fn load_schemas(dir: &Path, only: &[String]) -> Result<Vec<DatasetSchema>> {
    let io = |source| Error::Io {
        path: dir.to_owned(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut out: Vec<DatasetSchema> = Vec::new();
    for path in paths {
        let s = DatasetSchema::from_file(&path).map_err(|source| Error::Schema {
            path: path.clone(),
            source: source.into(),
        })?;
        if !only.is_empty() && !only.contains(&s.dataset) {
            continue;
        }
        check_topic_chars(&s.dataset)
            .map_err(|d| Error::Config(format!("{}: dataset name: {d}", path.display())))?;
        if out.iter().any(|o| o.dataset == s.dataset) {
            return Err(Error::Config(format!(
                "{}: dataset {:?} is defined twice",
                path.display(),
                s.dataset
            )));
        }
        out.push(s);
    }
    for d in only {
        if !out.iter().any(|s| &s.dataset == d) {
            return Err(Error::Config(format!(
                "no schema file for dataset {d:?} in {}",
                dir.display()
            )));
        }
    }
    if out.is_empty() {
        return Err(Error::Config(format!(
            "no dataset schema files (*.json) in {}",
            dir.display()
        )));
    }
    out.sort_by(|a, b| a.dataset.cmp(&b.dataset));
    Ok(out)
}

fn scalar_text(v: &serde_json::Value) -> Result<String> {
    match v {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        serde_json::Value::Null => Ok(String::new()),
        other => Err(Error::Config(format!(
            "expected a string, number or boolean, got {other}"
        ))),
    }
}

/// Kafka topic names: `[a-zA-Z0-9._-]`, at most 249 characters.
fn check_topic_chars(s: &str) -> std::result::Result<(), String> {
    if s.len() > 200
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(format!(
            "{s:?} is not a valid Kafka topic name part ([a-zA-Z0-9._-], at most 200 characters)"
        ));
    }
    Ok(())
}

fn parse_bool(v: &str) -> std::result::Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("not a boolean: {v:?}")),
    }
}

/// Parses `200ms`, `30s`, `1.5s`, `5m`, `1h`, or a plain number of seconds.
pub use ops::parse_duration;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        std::fs::write(
            &file,
            r#"{"cycle_interval": "5s", "store": "file:///data", "partitions": 4, "datasets": ["titles", "videos"],
                "store_for": {"titles": "s3://b/t"}, "kafka": {"linger.ms": 7}, "create_topics": false}"#,
        )
        .unwrap();
        let env = |k: &str| match k {
            "PRODUCER_CONFIG" => Some(file.display().to_string()),
            "PRODUCER_PARTITIONS" => Some("6".to_owned()),
            "PRODUCER_KAFKA" => Some("a=1;b=2".to_owned()),
            _ => None,
        };
        let flags = vec![
            ("cycle-interval".to_owned(), Some("250ms".to_owned())),
            ("metrics-port".to_owned(), Some("0".to_owned())),
        ];
        let c = Config::load(&flags, env).unwrap();
        assert_eq!(c.cycle_interval, Duration::from_millis(250));
        assert_eq!(c.partitions, 6);
        assert!(!c.create_topics);
        assert_eq!(c.datasets, vec!["titles", "videos"]);
        assert_eq!(c.store_url("titles"), "s3://b/t");
        assert_eq!(c.store_url("videos"), "file:///data/videos");
        assert_eq!(c.kafka.get("linger.ms").map(String::as_str), Some("7"));
        assert_eq!(c.kafka.get("b").map(String::as_str), Some("2"));
        assert_eq!(c.metrics_addr, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(c.bootstrap, None);
    }

    #[test]
    fn validators_are_on_by_default_and_can_be_turned_off() {
        let mut c = Config::default();
        assert_eq!(c.state.max_count_change_ratio, Some(0.5));
        assert_eq!(c.state.count_check_min, 1000);
        assert!(!c.state.count_check_growth);
        c.set("count-check-growth", None).unwrap();
        assert!(c.state.count_check_growth);
        assert_eq!(
            c.state.primary_keys,
            Some(hollow::lifecycle::PrimaryKeyValidator::incremental())
        );
        for (n, v) in [
            ("max-count-change-ratio", "off"),
            ("validate-primary-keys", "off"),
            ("keep-days", "2.5"),
            ("keep-versions", "4"),
            ("count-check-min", "10"),
        ] {
            c.set(n, Some(v)).unwrap();
        }
        assert_eq!(
            (
                c.state.max_count_change_ratio,
                c.state.primary_keys,
                c.state.keep_days,
                c.state.keep_versions,
                c.state.count_check_min
            ),
            (None, None, Some(2.5), 4, 10)
        );
        c.set("validate-primary-keys", Some("full")).unwrap();
        assert_eq!(
            c.state.primary_keys,
            Some(hollow::lifecycle::PrimaryKeyValidator::full())
        );
    }

    #[test]
    fn rejects_bad_settings() {
        let mut c = Config::default();
        for (n, v) in [
            ("partitions", "0"),
            ("topic-prefix", "a b"),
            ("cycle-interval", "soon"),
            ("nope", "1"),
            ("store-for", "x"),
            ("metrics-port", "70000"),
        ] {
            assert!(c.set(n, Some(v)).is_err(), "{n}={v}");
        }
        assert!(c.set("bootstrap", None).is_err());
        for (n, v) in [
            ("validate-primary-keys", "maybe"),
            ("keep-days", "-1"),
            ("keep-days", "soon"),
            ("count-check-min", "x"),
            ("max-count-change-ratio", "0"),
        ] {
            assert!(c.set(n, Some(v)).is_err(), "{n}={v}");
        }
        c.set("create-topics", None).unwrap();
        assert!(c.create_topics);
    }

    #[test]
    fn schemas_of_the_workspace() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
        let all = load_schemas(&dir, &[]).unwrap();
        let names: Vec<&str> = all.iter().map(|s| s.dataset.as_str()).collect();
        assert_eq!(
            names,
            [
                "assets",
                "countries",
                "localizations",
                "ratings",
                "rights",
                "titles",
                "videos"
            ]
        );
        assert_eq!(load_schemas(&dir, &["titles".to_owned()]).unwrap().len(), 1);
        assert!(load_schemas(&dir, &["nope".to_owned()]).is_err());
    }
}
