//! Background refresh: a [`Follower`] is a thread that keeps a [`Consumer`] on the announced
//! (or pinned) version, as Java Hollow's `HollowConsumer` does with its announcement watcher.
//!
//! It checks the announcement every poll interval, and at once when told to
//! ([`Follower::notify`], for a service that hears of new versions another way: a message,
//! a webhook). Readers never wait for it: they call [`Consumer::current`] (or
//! [`Follower::current`]) and read the state they get, while the next one is built aside and
//! swapped in. A failed refresh (a missing or corrupt blob, an unreachable store) keeps the
//! last good state serving; the follower tries again at the next poll and reports each
//! attempt to the consumer's [listeners](super::consumer::RefreshListener).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use hollow::dataset::DatasetSchema;
//! use hollow::lifecycle::{Consumer, ConsumerConfig, Follower, Producer, ProducerConfig};
//! use hollow::store::FolderStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let schema = DatasetSchema::from_json(r#"{"dataset": "videos", "type": "Video", "primary_key": ["id"],
//!     "fields": [{"name": "id", "kind": "i64"}, {"name": "title", "kind": "string"}]}"#)?;
//! let dir = tempfile::tempdir()?;
//! let store = Arc::new(FolderStore::new(dir.path())?);
//! let mut producer = Producer::open(store.clone(), schema.schema_set()?, ProducerConfig::default())?;
//!
//! // A service's consumer, refreshed in the background every 10 ms.
//! let consumer = Arc::new(Consumer::new(store.clone(), ConsumerConfig::default()));
//! let follower = Follower::start(consumer.clone(), Duration::from_millis(10))?;
//!
//! for id in 1..=3 {
//!     producer.cycle(|c| {
//!         c.upsert_record(&schema, &schema.parse_json(format!(r#"{{"id": {id}, "title": "t{id}"}}"#).as_bytes())?)?;
//!         Ok(())
//!     })?;
//!     follower.notify(); // or wait for the next poll
//! }
//! // Readers take the current state whenever they like; it never changes under them.
//! let mut waited = 0;
//! while consumer.version() != Some(3) && waited < 500 {
//!     std::thread::sleep(Duration::from_millis(10));
//!     waited += 1;
//! }
//! let now = follower.current().expect("a state is loaded");
//! assert_eq!((now.version, now.state.object("Video")?.len()), (3, 3));
//! follower.stop(); // or drop it
//! # Ok(()) }
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::consumer::{Consumer, Loaded};

/// What the follower's thread waits on: a flag raised by [`Follower::notify`].
#[derive(Debug, Default)]
struct Wake {
    pending: Mutex<bool>,
    signal: Condvar,
}

impl Wake {
    fn raise(&self) {
        *self.pending.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.signal.notify_all();
    }

    /// Waits until raised or `timeout` passes; lowers the flag.
    fn wait(&self, timeout: Duration) {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let (mut pending, _) = self
            .signal
            .wait_timeout_while(pending, timeout, |p| !*p)
            .unwrap_or_else(|p| p.into_inner());
        *pending = false;
    }
}

/// A thread that refreshes a consumer every poll interval and on [`Follower::notify`];
/// stopped (and joined) by [`Follower::stop`] or on drop.
#[derive(Debug)]
pub struct Follower {
    consumer: Arc<Consumer>,
    wake: Arc<Wake>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Follower {
    /// Starts following: a first refresh runs at once on the new thread, then one every
    /// `poll` (and on each [`Follower::notify`]). Errors of a refresh go to the consumer's
    /// listeners and the last good state keeps serving; the only error here is the system's
    /// refusal to spawn the thread.
    pub fn start(consumer: Arc<Consumer>, poll: Duration) -> std::io::Result<Follower> {
        let wake = Arc::new(Wake::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (consumer, wake, stop) = (consumer.clone(), wake.clone(), stop.clone());
            std::thread::Builder::new()
                .name("hollow-follower".into())
                .spawn(move || {
                    while !stop.load(Ordering::Acquire) {
                        // errors reach the listeners; the current state stays
                        let _ = consumer.refresh();
                        if stop.load(Ordering::Acquire) {
                            break;
                        }
                        wake.wait(poll);
                    }
                })?
        };
        Ok(Follower {
            consumer,
            wake,
            stop,
            thread: Some(thread),
        })
    }

    /// Asks for a refresh now instead of at the next poll (a refresh already running is
    /// followed by another).
    pub fn notify(&self) {
        self.wake.raise();
    }

    /// The consumer followed.
    pub fn consumer(&self) -> &Arc<Consumer> {
        &self.consumer
    }

    /// The current version and state ([`Consumer::current`]).
    pub fn current(&self) -> Option<Loaded> {
        self.consumer.current()
    }

    /// Stops the thread and waits for it (a refresh in progress finishes first).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.wake.raise();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.halt();
    }
}
