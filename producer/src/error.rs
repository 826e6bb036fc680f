//! Typed errors of the producer library.
//!
//! Errors caused by one bad Kafka message are not errors here: such a message is a
//! [`Rejection`](crate::message::Rejection), counted and logged, and the cycle goes on.
//! These are the failures that stop a cycle (or stop the service from starting).

use std::path::PathBuf;
use std::sync::Arc;

/// The error type of the producer library.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid (a flag, an environment variable or the config file).
    #[error("configuration: {0}")]
    Config(String),
    /// A schema file could not be read or is invalid.
    #[error("schema {path}: {source}")]
    Schema {
        /// The schema file.
        path: PathBuf,
        /// What was wrong.
        source: hollow::Error,
    },
    /// A Kafka client operation failed.
    #[error("kafka: {op}: {source}")]
    Kafka {
        /// What was being done (`create consumer`, `fetch watermarks of titles/0`, ...).
        op: String,
        /// The client's error.
        source: rdkafka::error::KafkaError,
    },
    /// The embedded Kafka broker could not be started or used.
    #[error("embedded broker: {0}")]
    Embedded(String),
    /// A hollow operation (open, cycle, publish, load) failed for a dataset.
    #[error("dataset {dataset}: {source}")]
    Hollow {
        /// The dataset.
        dataset: String,
        /// The hollow error.
        source: hollow::Error,
    },
    /// A blob store could not be opened.
    #[error("blob store {url}: {source}")]
    Store {
        /// The store URL.
        url: String,
        /// The store error.
        source: hollow::store::StoreError,
    },
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// One or more datasets' cycles failed (the others ran; the failed ones read the same
    /// messages again next cycle).
    #[error("cycle failed: {}", failures.iter().map(|(d, e)| format!("{d}: {e}")).collect::<Vec<_>>().join("; "))]
    CycleFailed {
        /// Each failed dataset and its error (also in its report).
        failures: Vec<(String, Arc<Error>)>,
    },
    /// Messages could not be delivered to Kafka.
    #[error("{failed} message(s) could not be delivered to Kafka ({what})")]
    Delivery {
        /// What was being sent.
        what: String,
        /// How many failed.
        failed: u64,
    },
    /// A source file (JSON Lines) holds a line that is not a valid record.
    #[error("{path}:{line}: {detail}")]
    Source {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        detail: String,
    },
}

/// The result type of the producer library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A [`Error::Kafka`] with what was being done.
    pub(crate) fn kafka(op: impl Into<String>, source: rdkafka::error::KafkaError) -> Self {
        Error::Kafka {
            op: op.into(),
            source,
        }
    }

    /// A [`Error::Hollow`] for a dataset.
    pub(crate) fn hollow(dataset: &str, source: hollow::Error) -> Self {
        Error::Hollow {
            dataset: dataset.to_owned(),
            source,
        }
    }
}
