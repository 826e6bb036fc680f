//! Typed errors of the hollow library.
//!
//! [`Error::Data`] carries what the data layers report (a corrupt or truncated blob, a schema
//! mismatch, a missing type or field: [`DataError`]); the other variants are this layer's own:
//! stores, timelines, records and validators. Nothing in the library panics on bad input.

pub use hollow_format::error::BlobKind;
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
    /// A blob needed to reach a version is missing.
    #[error("version {version} cannot be reached: {detail}")]
    Unreachable {
        /// The version asked for.
        version: u64,
        /// What was missing or failed.
        detail: String,
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
    /// A JSON record does not match its dataset schema.
    #[error("invalid record: {0}")]
    InvalidRecord(#[from] hollow_state::dataset::RecordError),
    /// A writer broke the publish protocol of a timeline (see
    /// [`Timeline::publish`](crate::lifecycle::Timeline::publish)).
    #[error("version {version}: {detail}")]
    Protocol {
        /// The version being written.
        version: u64,
        /// Which rule was broken.
        detail: &'static str,
    },
    /// A key text does not parse ([`crate::key`]).
    #[error("invalid key: {0}")]
    InvalidKey(#[from] crate::key::KeyError),
    /// A Rust type does not match a state, or a typed write or key is wrong
    /// ([`crate::typed`]).
    #[error(transparent)]
    Typed(Box<hollow_state::typed::TypedError>),
    /// A validator refused a new state.
    #[error("validation failed: {0}")]
    Validation(String),
}

impl From<hollow_state::typed::TypedError> for Error {
    fn from(e: hollow_state::typed::TypedError) -> Self {
        Error::Typed(Box::new(e))
    }
}

/// The result type of the hollow library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn corrupt(msg: impl Into<String>) -> Self {
        Error::Data(DataError::corrupt(msg))
    }

    /// The data-layer error inside, if this is one.
    pub fn as_data(&self) -> Option<&DataError> {
        match self {
            Error::Data(e) => Some(e),
            _ => None,
        }
    }
}
