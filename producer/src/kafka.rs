//! Kafka plumbing: the embedded broker, client configuration, topic creation, and a sender
//! used for sweeps, simulations and the dead-letter topic.
//!
//! The embedded broker is librdkafka's mock cluster (`rdkafka::mocking::MockCluster`), a
//! real Kafka protocol server inside this process, listening on 127.0.0.1. It is not `Send`,
//! so [`EmbeddedBroker`] keeps it on a thread of its own and talks to it over a channel;
//! the handle itself can be shared between threads.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

use crate::error::{Error, Result};

/// How long metadata and watermark requests may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

enum Command {
    CreateTopic {
        name: String,
        partitions: i32,
        reply: mpsc::Sender<Result<(), String>>,
    },
    Stop,
}

/// An in-process Kafka broker (librdkafka's mock cluster) on 127.0.0.1, kept on its own
/// thread. Stops when dropped; share it with `Arc` to keep it alive across services.
#[derive(Debug)]
pub struct EmbeddedBroker {
    bootstrap: String,
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts a one-broker mock cluster.
    pub fn start() -> Result<EmbeddedBroker> {
        let (boot_tx, boot_rx) = mpsc::channel::<Result<String, String>>();
        let (cmd_tx, cmd_rx) = mpsc::channel::<Command>();
        let thread = std::thread::Builder::new()
            .name("embedded-kafka".into())
            .spawn(move || {
                let cluster = match MockCluster::new(1) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = boot_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = boot_tx.send(Ok(cluster.bootstrap_servers()));
                while let Ok(cmd) = cmd_rx.recv() {
                    match cmd {
                        Command::CreateTopic {
                            name,
                            partitions,
                            reply,
                        } => {
                            let _ = reply.send(
                                cluster
                                    .create_topic(&name, partitions, 1)
                                    .map_err(|e| e.to_string()),
                            );
                        }
                        Command::Stop => break,
                    }
                }
            })
            .map_err(|e| Error::Embedded(format!("cannot start the broker thread: {e}")))?;
        let bootstrap = boot_rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|e| Error::Embedded(format!("the broker did not start: {e}")))?
            .map_err(|e| Error::Embedded(format!("cannot create the mock cluster: {e}")))?;
        log::info!("embedded Kafka broker listening on {bootstrap}");
        Ok(EmbeddedBroker {
            bootstrap,
            commands: cmd_tx,
            thread: Some(thread),
        })
    }

    /// The `bootstrap.servers` string of the broker (`127.0.0.1:PORT`).
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Creates a topic (an existing topic is left as it is).
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        let (tx, rx) = mpsc::channel();
        self.commands
            .send(Command::CreateTopic {
                name: name.to_owned(),
                partitions,
                reply: tx,
            })
            .map_err(|_| Error::Embedded("the broker thread has stopped".into()))?;
        rx.recv_timeout(Duration::from_secs(30))
            .map_err(|e| Error::Embedded(format!("creating topic {name}: {e}")))?
            .map_err(|e| Error::Embedded(format!("creating topic {name}: {e}")))
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A client configuration for `bootstrap` with `extra` librdkafka properties on top.
pub fn client_config(bootstrap: &str, extra: &BTreeMap<String, String>) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap);
    // the mock cluster and local brokers answer fast; keep reconnects snappy
    c.set("reconnect.backoff.ms", "50")
        .set("reconnect.backoff.max.ms", "1000");
    c.set("log_level", "4");
    for (k, v) in extra {
        c.set(k, v);
    }
    c
}

/// [`client_config`] with a client kind's `defaults`, then `extra` (which wins over both).
fn config_with(
    bootstrap: &str,
    defaults: &[(&str, &str)],
    extra: &BTreeMap<String, String>,
) -> ClientConfig {
    let mut c = client_config(bootstrap, &BTreeMap::new());
    for (k, v) in defaults {
        c.set(*k, *v);
    }
    for (k, v) in extra {
        c.set(k, v);
    }
    c
}

/// The client context of our consumers: librdkafka's errors go to the log (at `warn`; the
/// client retries by itself), except partition-EOF notices, which are normal here.
#[derive(Debug, Default, Clone, Copy)]
pub struct ConsumerLog;

impl ClientContext for ConsumerLog {
    fn error(&self, error: KafkaError, reason: &str) {
        match error {
            KafkaError::PartitionEOF(_) => log::trace!("librdkafka: {error}: {reason}"),
            KafkaError::Global(RDKafkaErrorCode::PartitionEOF) => {
                log::trace!("librdkafka: {error}: {reason}")
            }
            _ => log::warn!("librdkafka: {error}: {reason}"),
        }
    }
}

impl ConsumerContext for ConsumerLog {}

/// The consumer type of the service.
pub type KafkaConsumer = BaseConsumer<ConsumerLog>;

/// A consumer that reads only assigned partitions from explicit offsets: no group
/// subscription, no automatic commits or offset store (positions live in the published
/// states). It reports reaching the end of a partition (`PartitionEOF`).
pub fn create_consumer(
    bootstrap: &str,
    group_id: &str,
    extra: &BTreeMap<String, String>,
) -> Result<KafkaConsumer> {
    let defaults = [
        ("group.id", group_id),
        ("enable.auto.commit", "false"),
        ("enable.auto.offset.store", "false"),
        ("auto.offset.reset", "earliest"),
        ("enable.partition.eof", "true"),
        ("fetch.wait.max.ms", "2"),
    ];
    config_with(bootstrap, &defaults, extra)
        .create_with_context(ConsumerLog)
        .map_err(|e| Error::kafka("create consumer", e))
}

/// The partitions of `topic`, or `None` if the broker does not know the topic.
pub fn topic_partitions(consumer: &KafkaConsumer, topic: &str) -> Result<Option<Vec<i32>>> {
    let md = consumer
        .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
        .map_err(|e| Error::kafka(format!("fetch metadata of {topic}"), e))?;
    let Some(t) = md.topics().iter().find(|t| t.name() == topic) else {
        return Ok(None);
    };
    if t.error().is_some() || t.partitions().is_empty() {
        return Ok(None);
    }
    let mut ps: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
    ps.sort_unstable();
    Ok(Some(ps))
}

/// Makes sure every topic of `topics` exists, creating the missing ones with `partitions`
/// partitions: on the embedded broker if one is given, else with the admin API (replication
/// factor 1; fine for local brokers, pre-create topics on real clusters).
pub fn ensure_topics(
    bootstrap: &str,
    extra: &BTreeMap<String, String>,
    topics: &[String],
    partitions: i32,
    embedded: Option<&EmbeddedBroker>,
) -> Result<()> {
    let probe = create_consumer(bootstrap, "hollow-producer-probe", extra)?;
    let missing = |probe: &KafkaConsumer| -> Result<Vec<String>> {
        let mut out = Vec::new();
        for t in topics {
            if topic_partitions(probe, t)?.is_none() {
                out.push(t.clone());
            }
        }
        Ok(out)
    };
    let absent = missing(&probe)?;
    if absent.is_empty() {
        return Ok(());
    }
    log::info!(
        "creating topics {} with {partitions} partition(s)",
        absent.join(", ")
    );
    if let Some(broker) = embedded {
        for t in &absent {
            broker.create_topic(t, partitions)?;
        }
    } else {
        let admin: AdminClient<DefaultClientContext> = client_config(bootstrap, extra)
            .create()
            .map_err(|e| Error::kafka("create admin client", e))?;
        let new: Vec<NewTopic<'_>> = absent
            .iter()
            .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1)))
            .collect();
        let opts = AdminOptions::new()
            .request_timeout(Some(REQUEST_TIMEOUT))
            .operation_timeout(Some(REQUEST_TIMEOUT));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Error::Embedded(format!("cannot start a runtime for the admin client: {e}"))
            })?;
        let results = rt
            .block_on(admin.create_topics(new.iter(), &opts))
            .map_err(|e| Error::kafka("create topics", e))?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((t, code)) => {
                    return Err(Error::kafka(
                        format!("create topic {t}"),
                        KafkaError::AdminOp(code),
                    ))
                }
            }
        }
    }
    // wait until the metadata shows them
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    loop {
        let still = missing(&probe)?;
        if still.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::Config(format!(
                "topics {} still unknown to the broker after creation",
                still.join(", ")
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Counts delivery failures of a [`Sender`].
#[derive(Debug, Default)]
pub struct DeliveryCounter {
    delivered: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                log::warn!("message delivery failed: {e}");
            }
        }
    }
}

/// A Kafka producer that keeps per-key order (one request in flight per connection, acks
/// from all replicas) and counts delivery failures.
pub struct Sender {
    producer: ThreadedProducer<DeliveryCounter>,
    counter_base: (u64, u64),
    sent: u64,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").field("sent", &self.sent).finish()
    }
}

/// What a [`Sender::flush`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Messages acknowledged by the broker since the last flush.
    pub delivered: u64,
    /// Messages that failed since the last flush.
    pub failed: u64,
}

impl Sender {
    /// A sender to `bootstrap`.
    pub fn new(bootstrap: &str, extra: &BTreeMap<String, String>) -> Result<Sender> {
        let defaults = [
            ("acks", "all"),
            ("max.in.flight.requests.per.connection", "1"),
            ("linger.ms", "5"),
            ("message.timeout.ms", "60000"),
            ("queue.buffering.max.messages", "200000"),
        ];
        let producer = config_with(bootstrap, &defaults, extra)
            .create_with_context(DeliveryCounter::default())
            .map_err(|e| Error::kafka("create producer", e))?;
        Ok(Sender {
            producer,
            counter_base: (0, 0),
            sent: 0,
        })
    }

    /// Queues one message (`key` `None`: no key; `value` `None`: a tombstone) with optional string headers; waits
    /// while the local queue is full (at most a minute).
    pub fn send(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Result<()> {
        if self.send_within(topic, key, value, headers, Duration::from_secs(60))? {
            Ok(())
        } else {
            Err(Error::kafka(
                format!("send to {topic}"),
                KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull),
            ))
        }
    }

    /// Queues one message without waiting: `Ok(false)` when the local queue is full (the
    /// broker is not taking messages), and the message is not sent. Delivery results arrive
    /// later: see [`Sender::deliveries`].
    pub fn try_send(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Result<bool> {
        self.send_within(topic, key, value, headers, Duration::ZERO)
    }

    fn send_within(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, &str)],
        max_wait: Duration,
    ) -> Result<bool> {
        let mut hdrs = OwnedHeaders::new_with_capacity(headers.len());
        for (k, v) in headers {
            hdrs = hdrs.insert(Header {
                key: k,
                value: Some(*v),
            });
        }
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic);
        if let Some(k) = key {
            record = record.key(k);
        }
        if let Some(v) = value {
            record = record.payload(v);
        }
        if !headers.is_empty() {
            record = record.headers(hdrs);
        }
        let deadline = Instant::now() + max_wait;
        loop {
            match self.producer.send(record) {
                Ok(()) => {
                    self.sent += 1;
                    return Ok(true);
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    if Instant::now() >= deadline {
                        return Ok(false);
                    }
                    record = r;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(Error::kafka(format!("send to {topic}"), e)),
            }
        }
    }

    /// Deliveries acknowledged and failed since the last call (or [`Sender::flush`]),
    /// without waiting for anything.
    pub fn deliveries(&mut self) -> Delivered {
        let ctx = self.producer.context();
        let (d, f) = (
            ctx.delivered.load(Ordering::Relaxed),
            ctx.failed.load(Ordering::Relaxed),
        );
        let out = Delivered {
            delivered: d - self.counter_base.0,
            failed: f - self.counter_base.1,
        };
        self.counter_base = (d, f);
        out
    }

    /// Messages queued and not yet delivered or failed.
    pub fn in_flight(&self) -> u64 {
        self.producer.in_flight_count().max(0) as u64
    }

    /// Waits until every queued message is delivered or failed (at most `timeout`).
    pub fn flush(&mut self, timeout: Duration) -> Result<Delivered> {
        self.producer
            .flush(timeout)
            .map_err(|e| Error::kafka("flush", e))?;
        Ok(self.deliveries())
    }

    /// Messages queued so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }
}
