//! Typed errors of the hollow library.
//!
//! [`Error::Data`] carries what the data layers report (a corrupt or truncated blob, a schema
//! mismatch, a missing type or field: [`DataError`]); the other variants are this layer's own:
//! stores, timelines, records, keys and validators. Nothing in the library panics on bad input.

use std::fmt;
use std::sync::Arc;

pub use hollow_format::error::{BlobKind, Corruption, SchemaError};
use hollow_format::value::Value;
/// The error type of the data layers (blobs, schemas, values, states), wrapped in
/// [`Error::Data`].
pub use hollow_format::Error as DataError;

/// The error type of the hollow library.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A blob, a schema, a value or a state is wrong (see [`DataError`]).
    #[error(transparent)]
    Data(#[from] DataError),
    /// A blob store operation failed.
    #[error("blob store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// No stored path reaches a version: every path tried met a missing or bad blob (in
    /// `failures`), or none leads there at all (`failures` empty).
    #[error("version {version} cannot be reached: {}", Failures(failures))]
    Unreachable {
        /// The version asked for.
        version: u64,
        /// The blobs tried and why each failed, in the order they were met.
        failures: Vec<BlobFailure>,
    },
    /// An announcement would move a timeline back to an older version. A consumer refuses
    /// to follow it (it keeps its state: an older announcement is a late write, a second
    /// producer or a hand edit; [pin](crate::lifecycle::Timeline::pin) a version to send
    /// consumers back), and [`Timeline::announce_forward`](crate::lifecycle::Timeline::announce_forward)
    /// refuses to write it.
    #[error("the announcement moves back from version {from} to {to}: refused (pin a version to send consumers back)")]
    AnnouncementBackwards {
        /// The newer version (already announced, or where the consumer is).
        from: u64,
        /// The older version.
        to: u64,
    },
    /// The announcement or the pin does not hold a version number.
    #[error("{key:?} does not hold a version: {text:?}")]
    NotAVersion {
        /// The store key (`announced`, `pinned`).
        key: String,
        /// The start of what it holds (at most 40 bytes, lossily decoded).
        text: String,
    },
    /// A snapshot stored under one version's key holds another version (its header says so).
    #[error("blob {key} holds version {found}, not {expected}")]
    SnapshotVersion {
        /// The snapshot's store key.
        key: String,
        /// The version of the key.
        expected: u64,
        /// The version its header names.
        found: String,
    },
    /// A delta stored under one pair of versions' key holds another pair.
    #[error("blob {key} holds the delta {} → {}, not {} → {}", found.0, found.1, expected.0, expected.1)]
    DeltaVersions {
        /// The delta's store key.
        key: String,
        /// The versions (from, to) of the key.
        expected: (u64, u64),
        /// The versions (from, to) the delta holds.
        found: (u64, u64),
    },
    /// A planned path does not start where the consumer is (a step starts at another
    /// version than the one reached before it).
    #[error("blob {key} starts at version {from}, the path is at {}", at.map_or_else(|| "no version".to_string(), |v| format!("version {v}")))]
    BrokenPath {
        /// The store key of the step.
        key: String,
        /// The version the step starts at.
        from: u64,
        /// The version reached before it (`None`: none yet).
        at: Option<u64>,
    },
    /// A JSON record does not match its dataset schema.
    #[error("invalid record: {0}")]
    InvalidRecord(#[from] hollow_state::dataset::RecordError),
    /// A writer broke the publish protocol of a timeline (see
    /// [`Timeline::publish`](crate::lifecycle::Timeline::publish)).
    #[error("version {version}: {rule}")]
    Protocol {
        /// The version being written.
        version: u64,
        /// Which rule was broken.
        rule: ProtocolRule,
    },
    /// A key text does not parse ([`crate::key`]).
    #[error("invalid key: {0}")]
    InvalidKey(#[from] crate::key::KeyError),
    /// Two records of a type share a key an index or a comparison needs unique.
    #[error("duplicate key {key:?} in {type_name:?}: ordinals {} and {}", ordinals.0, ordinals.1)]
    DuplicateKey {
        /// The object type.
        type_name: String,
        /// The key's values, in key order.
        key: Vec<Value<'static>>,
        /// The two records' ordinals (the smaller first).
        ordinals: (u32, u32),
    },
    /// A protection holder name that is not one (1 to 200 of `[A-Za-z0-9._-]`, starting
    /// with a letter or digit).
    #[error("{holder:?} is not a protection holder name (1 to 200 of [A-Za-z0-9._-], starting with a letter or digit)")]
    InvalidHolder {
        /// The name given.
        holder: String,
    },
    /// A Rust type does not match a state, or a typed write or key is wrong
    /// ([`crate::typed`]).
    #[error(transparent)]
    Typed(Box<hollow_state::typed::TypedError>),
    /// A validator refused a new state.
    #[error("validation failed: {validator}: {reason}")]
    Validation {
        /// The validator's name.
        validator: String,
        /// Why it refused.
        reason: ValidationFailure,
    },
    /// A caller's closure (the body of a producer cycle) gave up with an error of its own,
    /// passed through as is (downcast it to get it back).
    #[error(transparent)]
    Callback(Box<dyn std::error::Error + Send + Sync>),
}

impl From<hollow_state::typed::TypedError> for Error {
    fn from(e: hollow_state::typed::TypedError) -> Self {
        Error::Typed(Box::new(e))
    }
}

/// The result type of the hollow library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The data-layer error inside, if this is one.
    pub fn as_data(&self) -> Option<&DataError> {
        match self {
            Error::Data(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Corruption> for Error {
    fn from(e: Corruption) -> Self {
        Error::Data(e.into())
    }
}

impl From<SchemaError> for Error {
    fn from(e: SchemaError) -> Self {
        Error::Data(e.into())
    }
}

/// One blob a consumer could not use on its way to a version ([`Error::Unreachable`],
/// [`UpdateReport::recovered_errors`](crate::lifecycle::UpdateReport::recovered_errors)).
#[derive(Debug, Clone)]
pub struct BlobFailure {
    /// The blob's store key.
    pub key: String,
    /// Why it could not be used.
    pub error: Arc<Error>,
}

impl fmt::Display for BlobFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.error)
    }
}

/// The failures of an [`Error::Unreachable`], joined by `; ` (or why there are none).
struct Failures<'a>(&'a [BlobFailure]);

impl fmt::Display for Failures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no stored snapshot or delta path leads to it");
        }
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A rule of the publish protocol ([`Error::Protocol`]).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolRule {
    /// A version must be newer than the one it follows.
    #[error("a version must be newer than the one it follows (version {previous})")]
    NotNewer {
        /// The version it follows.
        previous: u64,
    },
    /// A first version needs a snapshot.
    #[error("a first version needs a snapshot")]
    FirstWithoutSnapshot,
    /// A version after another needs its delta and reverse delta.
    #[error("a version after another needs its delta and reverse delta")]
    MissingDeltas,
    /// A first version has no deltas.
    #[error("a first version has no deltas")]
    FirstWithDeltas,
    /// A snapshot can only be added to a published version.
    #[error("a snapshot can only be added to a published version")]
    NotPublished,
}

/// Why a validator refused a state ([`Validator::validate`](crate::lifecycle::Validator::validate)).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidationFailure {
    /// A type's record count would change by more than the allowed fraction
    /// ([`CountChangeValidator`](crate::lifecycle::CountChangeValidator)).
    #[error("record count of {type_name} would change from {previous} to {new} (more than {:.0}% of the previous count)", max_ratio * 100.0)]
    CountChange {
        /// The type.
        type_name: String,
        /// Its records in the last published state.
        previous: u64,
        /// Its records in the new state.
        new: u64,
        /// The largest change allowed, as a fraction of `previous`.
        max_ratio: f64,
    },
    /// Two live records share a primary key
    /// ([`PrimaryKeyValidator`](crate::lifecycle::PrimaryKeyValidator)).
    #[error("two records of {type_name} share the primary key {key:?}: ordinals {} and {}", ordinals.0, ordinals.1)]
    DuplicateKey {
        /// The type.
        type_name: String,
        /// The key's values, in key order.
        key: Vec<Value<'static>>,
        /// The two records' ordinals (the smaller first).
        ordinals: (u32, u32),
    },
    /// A record the cycle added has a primary key the producer's key index does not know.
    #[error(
        "record {ordinal} of {type_name} has a primary key ({key:?}) the key index does not know"
    )]
    UnindexedKey {
        /// The type.
        type_name: String,
        /// The record's ordinal.
        ordinal: u32,
        /// The key's values, in key order.
        key: Vec<Value<'static>>,
    },
    /// The producer's key index holds another number of keys than the type has live records.
    #[error("{type_name} has {live} live records but {keys} distinct primary keys")]
    KeyCount {
        /// The type.
        type_name: String,
        /// Its live records.
        live: u64,
        /// The keys in the index.
        keys: u64,
    },
    /// A validator's own reason (validators outside this crate: [`ValidationFailure::new`]).
    #[error("{reason}")]
    Other {
        /// Human-readable reason.
        reason: String,
    },
}

impl ValidationFailure {
    /// A failure with a reason of the validator's own ([`ValidationFailure::Other`]).
    pub fn new(reason: impl Into<String>) -> Self {
        ValidationFailure::Other {
            reason: reason.into(),
        }
    }
}
