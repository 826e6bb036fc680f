//! The versioned lifecycle of a dataset: producers publish data states as snapshots, deltas
//! and reverse deltas to a blob store; consumers load, follow, travel back and pin.
//!
//! * [`timeline`]: blob naming, announcement, pin, path planning, retention.
//! * [`producer`]: incremental and full cycles, validators, restore after restart.
//! * [`validate`]: the validator hook and the built-in checks a producer runs before publishing.
//! * [`consumer`]: heap and mapped consumers following deltas with fallbacks; listeners.
//! * [`follow`]: the background refresh of a consumer ([`Follower`]).

pub mod consumer;
pub mod follow;
pub mod producer;
pub mod timeline;
pub mod validate;

pub use consumer::{
    load_version, Consumer, ConsumerConfig, Loaded, RefreshListener, Transition, UpdateReport,
};
pub use follow::Follower;
pub use producer::{Cycle, CycleOutcome, CyclePhases, Producer, ProducerConfig, RetentionOutcome};
pub use timeline::{Step, Timeline, TimelineIndex, VersionBlobs};
pub use validate::{
    CountChangeValidator, PrimaryKeyValidator, TypeCounts, ValidationContext, ValidationFailure,
    Validator, Validators,
};
