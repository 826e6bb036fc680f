//! The background follower: it keeps a consumer on the announced version while readers read,
//! refreshes at once when notified, keeps the last good state when a refresh fails, tells
//! listeners each step, and stops when asked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hollow::dataset::DatasetSchema;
use hollow::lifecycle::{
    Consumer, ConsumerConfig, Follower, Loaded, Producer, ProducerConfig, RefreshListener, Step,
    UpdateReport,
};
use hollow::store::{BlobStore, FolderStore};
use hollow::Error;

const SCHEMA: &str = r#"{"dataset": "videos", "type": "Video", "primary_key": ["id"],
    "fields": [{"name": "id", "kind": "i64"}, {"name": "title", "kind": "string"}]}"#;

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<FolderStore>,
    schema: DatasetSchema,
    producer: Producer,
    published: u64,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FolderStore::new(dir.path()).unwrap());
    let schema = DatasetSchema::from_json(SCHEMA).unwrap();
    let producer = Producer::open(
        store.clone(),
        schema.schema_set().unwrap(),
        ProducerConfig::default(),
    )
    .unwrap();
    Setup {
        _dir: dir,
        store,
        schema,
        producer,
        published: 0,
    }
}

impl Setup {
    /// Publishes the next version: one more video, `id` = the new version's record count.
    fn publish_next(&mut self) -> u64 {
        self.published += 1;
        let n = self.published;
        let json = format!(r#"{{"id": {n}, "title": "title {n}"}}"#);
        let schema = &self.schema;
        self.producer
            .cycle(|c| {
                c.upsert_record(schema, &schema.parse_json(json.as_bytes())?)?;
                Ok(())
            })
            .unwrap();
        self.producer.version().unwrap()
    }
}

#[derive(Default)]
struct Events {
    log: Mutex<Vec<String>>,
}

impl RefreshListener for Events {
    fn on_refresh_started(&self, current: Option<u64>, target: u64) {
        self.log
            .lock()
            .unwrap()
            .push(format!("started {current:?} -> {target}"));
    }
    fn on_refresh_updated(&self, loaded: &Loaded, report: &UpdateReport) {
        assert!(!report.transitions.is_empty());
        self.log
            .lock()
            .unwrap()
            .push(format!("updated {}", loaded.version));
    }
    fn on_refresh_failed(&self, target: Option<u64>, error: &Error) {
        self.log
            .lock()
            .unwrap()
            .push(format!("failed {target:?}: {error}"));
    }
}

impl Events {
    fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A state is whole: version v holds videos 1..=v with their titles.
fn check_whole(l: &Loaded) {
    let videos = l.state.object("Video").unwrap();
    assert_eq!(videos.len(), l.version, "version {}", l.version);
    let (id, title) = (videos.long("id").unwrap(), videos.string("title").unwrap());
    let mut ids: Vec<i64> = videos
        .ordinals()
        .map(|o| {
            let i = id.get(o).unwrap();
            assert_eq!(
                title.get_str(o).unwrap(),
                Some(format!("title {i}").as_str())
            );
            i
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=l.version as i64).collect::<Vec<_>>());
}

#[test]
fn follows_a_producer_while_readers_read_whole_states() {
    let mut s = setup();
    s.publish_next();
    let consumer = Arc::new(Consumer::new(s.store.clone(), ConsumerConfig::default()));
    let events = Arc::new(Events::default());
    consumer.add_listener(events.clone());
    let follower = Follower::start(consumer.clone(), Duration::from_millis(2)).unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (consumer, done) = (consumer.clone(), done.clone());
            std::thread::spawn(move || {
                let (mut last, mut reads) = (0, 0u64);
                while !done.load(Ordering::Acquire) {
                    if let Some(l) = consumer.current() {
                        assert!(l.version >= last, "went back from {last} to {}", l.version);
                        last = l.version;
                        check_whole(&l);
                        reads += 1;
                    }
                }
                (last, reads)
            })
        })
        .collect();

    let mut last = 1;
    for _ in 0..30 {
        last = s.publish_next();
        std::thread::sleep(Duration::from_millis(1));
    }
    wait_for("the last version", || consumer.version() == Some(last));
    done.store(true, Ordering::Release);
    for r in readers {
        let (seen, reads) = r.join().expect("a reader failed");
        assert!(seen >= 1 && reads > 0);
    }
    follower.stop();

    let lines = events.lines();
    assert_eq!(
        lines.last().unwrap(),
        &format!("updated {last}"),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("failed")), "{lines:#?}");
    // every update is announced before it lands, and versions only go forward
    let updated: Vec<u64> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("updated ")?.parse().ok())
        .collect();
    assert!(updated.windows(2).all(|w| w[0] < w[1]), "{updated:?}");
    let started = lines.iter().filter(|l| l.starts_with("started")).count();
    assert_eq!(started, updated.len(), "{lines:#?}");
}

#[test]
fn notify_refreshes_before_the_next_poll() {
    let mut s = setup();
    s.publish_next();
    let consumer = Arc::new(Consumer::new(s.store.clone(), ConsumerConfig::default()));
    let follower = Follower::start(consumer.clone(), Duration::from_secs(3600)).unwrap();
    wait_for("the first load", || consumer.version() == Some(1));
    let v = s.publish_next();
    // an hour-long poll: only the notification can bring it
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(consumer.version(), Some(1));
    follower.notify();
    wait_for("the notified version", || consumer.version() == Some(v));
    check_whole(&follower.current().unwrap());
    // stopping does not wait for the hour
    let t = Instant::now();
    drop(follower);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_failed_refresh_keeps_the_last_good_state_and_retries() {
    let mut s = setup();
    s.publish_next();
    let consumer = Arc::new(Consumer::new(s.store.clone(), ConsumerConfig::default()));
    let events = Arc::new(Events::default());
    consumer.add_listener(events.clone());
    let follower = Follower::start(consumer.clone(), Duration::from_secs(3600)).unwrap();
    wait_for("the first load", || consumer.version() == Some(1));

    // Version 2's only path (a delta; no snapshot at 2) is damaged before it is seen (an
    // hour-long poll: the follower refreshes only when notified).
    let v = s.publish_next();
    let delta = Step::Delta(1, v).key();
    let good = s.store.get(&delta).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    s.store.put(&delta, &bad).unwrap();
    assert!(!s.store.exists(&Step::Snapshot(v).key()).unwrap());
    follower.notify();
    wait_for("a failure", || {
        events
            .lines()
            .iter()
            .any(|l| l.starts_with(&format!("failed Some({v})")))
    });
    let held = consumer.current().unwrap();
    assert_eq!(held.version, 1);
    check_whole(&held);

    // Repaired, the next poll gets there.
    s.store.put(&delta, &good).unwrap();
    follower.notify();
    wait_for("the repaired version", || consumer.version() == Some(v));
    check_whole(&consumer.current().unwrap());
    follower.stop();
    let after = consumer.version();
    s.publish_next();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        consumer.version(),
        after,
        "a stopped follower still refreshed"
    );
}
