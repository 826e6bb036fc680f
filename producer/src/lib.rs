//! # producer
//!
//! The Kafka → Hollow producer service of the gatekeeper (see `shared/GATEKEEPER.md` §1–2):
//! each upstream dataset is a Kafka topic of JSON records keyed by primary key; every cycle
//! the service folds the messages added since the last cycle into that dataset's hollow
//! producer and publishes a new version to the dataset's blob store when something changed.
//!
//! * [`Service`] — the service: [`Service::new`] then [`Service::run_cycle`] (one cycle,
//!   returns a [`CycleReport`]) or [`Service::run`] (the timed loop). With no bootstrap
//!   servers configured it starts an [`EmbeddedBroker`] in-process.
//! * [`Config`] — settings from a JSON file, `PRODUCER_*` variables and flags.
//! * [`message`] — decoding and validating one message into a [`Change`] or a
//!   [`Rejection`](message::Rejection).
//! * [`offsets`] — the Kafka positions stored in each published state's header, which make
//!   the fold exactly-once across restarts (see [`service`]).
//! * [`state`] — the adapter over hollow's producer lifecycle, and reading published states
//!   back.
//! * [`sweep`] and [`simulate`] — loading JSON Lines catalogs into the topics, and a
//!   deterministic stream of realistic catalog changes.
//! * [`metrics`] — counters per dataset and reason, Prometheus text over HTTP.
//!
//! ```no_run
//! use producer::{Config, Service};
//! # fn main() -> Result<(), producer::Error> {
//! let mut config = Config::default();
//! config.set("store", Some("file:///tmp/hollow"))?; // each dataset under /tmp/hollow/<dataset>
//! let mut service = Service::new(config)?; // no bootstrap: an embedded broker
//! println!("send messages to {}", service.bootstrap_servers());
//! let report = service.run_cycle()?;
//! println!("{report}");
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod health;
pub mod kafka;
pub mod logging;
pub mod message;
pub mod metrics;
pub mod offsets;
mod report;
pub mod service;
pub mod simulate;
pub mod state;
pub mod sweep;

pub use config::Config;
pub use error::{Error, Result};
pub use kafka::{EmbeddedBroker, Sender};
pub use message::{Change, RejectReason};
pub use offsets::Offsets;
pub use service::{CycleReport, DatasetOutcome, DatasetReport, Service};
