//! The library's error type: what went wrong, with the dataset, file, store or version it
//! concerns.

use std::path::PathBuf;

/// Errors of the gatekeeper library.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON Lines record does not fit its dataset's schema.
    #[error("{}:{line}: {source}", file.display())]
    Malformed {
        /// The file.
        file: PathBuf,
        /// The 1-based line.
        line: u64,
        /// Why the record was rejected.
        #[source]
        source: hollow::dataset::RecordError,
    },
    /// A hollow operation failed.
    #[error("{context}: {source}")]
    Hollow {
        /// What was being done (dataset, store, version).
        context: String,
        /// The hollow error.
        #[source]
        source: hollow::Error,
    },
    /// A blob store could not be opened.
    #[error("blob store {url}: {source}")]
    Store {
        /// The store's URL.
        url: String,
        /// The store error.
        #[source]
        source: hollow::store::StoreError,
    },
    /// An input dataset's state cannot be evaluated (a type or field the rules read is
    /// missing or has another kind, or there are more countries than the engine handles).
    #[error("input {dataset}: {detail}")]
    Input {
        /// The dataset.
        dataset: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// An input dataset has no version yet.
    #[error("input {dataset} has no announced version in {url}")]
    NoInputVersion {
        /// The dataset.
        dataset: &'static str,
        /// The store.
        url: String,
    },
    /// An output state's header lacks what replay or PREPROD need.
    #[error("output version {version}: {detail}")]
    Header {
        /// The output version.
        version: u64,
        /// What is missing or malformed.
        detail: String,
    },
    /// A timeline has no version (or not the one asked for).
    #[error("{url}: {detail}")]
    NoVersion {
        /// The store.
        url: String,
        /// What was looked for.
        detail: String,
    },
    /// Rules could not be loaded.
    #[error(transparent)]
    Rules(#[from] crate::rules::RulesError),
    /// A JSON Lines catalog could not be loaded.
    #[error(transparent)]
    Jsonl(#[from] crate::jsonl::JsonlError),
}

impl Error {
    /// Wraps a hollow error with what was being done.
    pub(crate) fn hollow(context: impl Into<String>, source: impl Into<hollow::Error>) -> Error {
        Error::Hollow {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
