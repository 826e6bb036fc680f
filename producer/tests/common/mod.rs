//! Shared helpers of the producer's integration tests: a Kafka to test against (the embedded
//! broker, or the real tansu broker with topics under a unique prefix), configs, senders, and
//! state comparisons. [`on_both_brokers!`] runs a test body against each of the two.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hollow::dataset::{DatasetSchema, Record};
use producer::message::{decode, Change};
use producer::state::{load_published, Published};
use producer::{Config, EmbeddedBroker, Sender, Service};
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

/// Runs each named test body (`fn name(kafka: Kafka)`) twice: `name::embedded` on the
/// embedded broker and `name::tansu` on the real tansu broker ([`Kafka::tansu`]: under
/// `CI=true` a missing tansu fails the test; elsewhere the skip is reported on the terminal).
#[macro_export]
macro_rules! on_both_brokers {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn embedded() {
                    super::$name(super::Kafka::start())
                }
                #[test]
                fn tansu() {
                    if let Some(kafka) = super::Kafka::tansu(concat!(module_path!(), "::tansu")) {
                        super::$name(kafka)
                    }
                }
            }
        )*
    };
}

pub fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

pub fn schema(dataset: &str) -> DatasetSchema {
    DatasetSchema::from_file(&schemas_dir().join(format!("{dataset}.json"))).unwrap()
}

pub fn all_schemas() -> Vec<DatasetSchema> {
    producer::config::load_schemas(&schemas_dir(), &[]).unwrap()
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A Kafka to test against.
pub struct Kafka {
    pub embedded: Option<Arc<EmbeddedBroker>>,
    pub bootstrap: String,
    pub prefix: String,
    /// The tansu broker, when this process started it (stopped on drop).
    pub tansu: Option<testkit::Tansu>,
}

impl Kafka {
    /// A fresh embedded broker (librdkafka's mock cluster, inside this process).
    pub fn start() -> Kafka {
        producer::logging::init(log::LevelFilter::Warn);
        let broker = Arc::new(EmbeddedBroker::start().unwrap());
        Kafka {
            bootstrap: broker.bootstrap_servers().to_owned(),
            embedded: Some(broker),
            prefix: String::new(),
            tansu: None,
        }
    }

    /// The real tansu broker (`HOLLOW_TEST_KAFKA_BOOTSTRAP`, else one started from the tansu
    /// binary), with topics under a unique prefix; `None` after [`testkit::need`] when there is
    /// none (which fails the test under `CI=true`).
    pub fn tansu(test: &str) -> Option<Kafka> {
        producer::logging::init(log::LevelFilter::Warn);
        let tansu = match testkit::Tansu::start() {
            Ok(t) => t,
            Err(why) => {
                testkit::need(test, &why);
                return None;
            }
        };
        testkit::report_server("producer real-broker tests", tansu.describe());
        println!("{test}: broker {}", tansu.describe());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let prefix = format!(
            "t{}-{}-{}.",
            std::process::id(),
            nanos % 1_000_000_000,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        Some(Kafka {
            embedded: None,
            bootstrap: tansu.bootstrap().to_owned(),
            prefix,
            tansu: Some(tansu),
        })
    }

    pub fn topic(&self, dataset: &str) -> String {
        format!("{}{dataset}", self.prefix)
    }

    /// A config for these datasets (empty: all seven) with its stores under `store`.
    pub fn config(&self, store: &Path, datasets: &[&str]) -> Config {
        Config {
            bootstrap: Some(self.bootstrap.clone()),
            topic_prefix: self.prefix.clone(),
            schemas: schemas_dir(),
            datasets: datasets.iter().map(|s| s.to_string()).collect(),
            store: format!("file://{}", store.display()),
            cycle_interval: Duration::from_millis(100),
            read_timeout: Duration::from_secs(10),
            ..Config::default()
        }
    }

    /// Creates the topics (the service does too; tests that send first call this).
    pub fn create_topics(&self, names: &[String], partitions: i32) {
        producer::kafka::ensure_topics(
            &self.bootstrap,
            &BTreeMap::new(),
            names,
            partitions,
            self.embedded.as_deref(),
        )
        .unwrap();
    }

    pub fn service(&self, config: Config) -> Service {
        match &self.embedded {
            Some(b) => Service::with_broker(config, b.clone()).unwrap(),
            None => Service::new(config).unwrap(),
        }
    }

    pub fn sender(&self) -> Sender {
        Sender::new(&self.bootstrap, &BTreeMap::new()).unwrap()
    }

    /// Reads every message of a topic: (partition, offset, key, value), by partition then
    /// offset. Reads until each partition's end as the fetches report it (partition EOF),
    /// not as ListOffsets does (tansu 0.6 under-reports it).
    pub fn read_all(&self, topic: &str) -> Vec<Raw> {
        let consumer =
            producer::kafka::create_consumer(&self.bootstrap, "test-reader", &BTreeMap::new())
                .unwrap();
        let parts = producer::kafka::topic_partitions(&consumer, topic)
            .unwrap()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        for p in &parts {
            tpl.add_partition_offset(topic, *p, Offset::Beginning)
                .unwrap();
        }
        let mut pending: std::collections::BTreeSet<i32> = parts.iter().copied().collect();
        let mut out = Vec::new();
        consumer.assign(&tpl).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !pending.is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "reading {topic} timed out"
            );
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    let reason = m.headers().and_then(|h| {
                        h.iter()
                            .find(|h| h.key == "reason")
                            .and_then(|h| h.value.map(|v| String::from_utf8_lossy(v).into_owned()))
                    });
                    out.push(Raw {
                        partition: m.partition(),
                        offset: m.offset(),
                        key: m.key().map(<[u8]>::to_vec),
                        value: m.payload().map(<[u8]>::to_vec),
                        reason,
                    });
                }
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    pending.remove(&p);
                }
                _ => {}
            }
        }
        out.sort_by_key(|r| (r.partition, r.offset));
        out
    }
}

/// A raw message read back.
#[derive(Debug, Clone)]
pub struct Raw {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// The `reason` header, if any.
    pub reason: Option<String>,
}

/// Sends one message and waits for its delivery.
pub fn send_now(sender: &mut Sender, topic: &str, key: Option<&str>, value: Option<&str>) {
    sender
        .send(topic, key.map(str::as_bytes), value.map(str::as_bytes), &[])
        .unwrap();
    let d = sender.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(d.failed, 0);
}

/// The published state of a dataset in the config's store.
pub fn published(config: &Config, dataset: &str) -> Option<Published> {
    let store = hollow::store::open_store(&config.store_url(dataset)).unwrap();
    load_published(store, &schema(dataset)).unwrap()
}

/// Records by key from JSON values by key.
pub fn records_of<'a>(
    schema: &DatasetSchema,
    values: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
) -> BTreeMap<String, Record> {
    values
        .into_iter()
        .map(|(k, v)| {
            let rec = schema.parse_value(v).unwrap();
            assert_eq!(hollow::key::of_record(schema, &rec), k);
            (k.to_owned(), rec)
        })
        .collect()
}

/// Folds raw messages in order into a model, the way the producer must (rejects ignored);
/// only messages below `upto` (per partition; `None`: all) are folded.
pub fn fold(
    schema: &DatasetSchema,
    messages: &[Raw],
    upto: Option<&BTreeMap<i32, i64>>,
) -> BTreeMap<String, Record> {
    let mut model = BTreeMap::new();
    for m in messages {
        if let Some(upto) = upto {
            if m.offset >= upto.get(&m.partition).copied().unwrap_or(0) {
                continue;
            }
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

/// A fresh temporary folder.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}
