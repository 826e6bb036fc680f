//! Typed errors of the data layers (this crate and `hollow-state`).
//!
//! Every error that data from outside (a blob, a schema, a value) can cause is a variant here,
//! carrying what went wrong and where. Nothing in these crates panics on bad input. The
//! `hollow` crate wraps this type in its own error, beside store and timeline errors.

use std::fmt;

/// Which kind of blob an error is about.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobKind {
    /// A full snapshot of a state.
    Snapshot,
    /// A forward delta (previous state → next state).
    Delta,
    /// A reverse delta (next state → previous state).
    ReverseDelta,
}

impl fmt::Display for BlobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlobKind::Snapshot => "snapshot",
            BlobKind::Delta => "delta",
            BlobKind::ReverseDelta => "reverse delta",
        })
    }
}

/// The error type of the data layers: blobs, schemas, values, states.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes do not start with the hollow magic.
    #[error("not a hollow blob: bad magic bytes {got:02x?}")]
    BadMagic {
        /// The first bytes found.
        got: Vec<u8>,
    },
    /// The blob was written in a format version this build cannot read.
    #[error("unsupported blob format version: expected {expected}, got {got}")]
    Version {
        /// The version this build reads.
        expected: u32,
        /// The version in the blob.
        got: u32,
    },
    /// The blob's checksum does not match its content.
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    ChecksumMismatch {
        /// The checksum stored in the blob.
        stored: u32,
        /// The checksum computed over the bytes.
        computed: u32,
    },
    /// The blob ends before a section it declares.
    #[error("truncated blob: {what} needs {needed} bytes at offset {offset}, only {available} available")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Byte offset of the read.
        offset: u64,
        /// Bytes needed.
        needed: u64,
        /// Bytes available from that offset.
        available: u64,
    },
    /// The blob's structure is inconsistent (an impossible width, an out-of-range offset, ...).
    #[error("corrupt blob: {0}")]
    Corrupt(String),
    /// A blob of one kind was given where another was expected.
    #[error("wrong blob kind: expected {expected}, got {got}")]
    WrongBlobKind {
        /// The kind expected.
        expected: BlobKind,
        /// The kind found.
        got: BlobKind,
    },
    /// A schema is invalid or does not match.
    #[error("schema error: {0}")]
    Schema(String),
    /// A named type does not exist in the state.
    #[error("no type named {0:?}")]
    NoSuchType(String),
    /// A named field does not exist in a type.
    #[error("type {type_name:?} has no field {field:?}")]
    NoSuchField {
        /// The type.
        type_name: String,
        /// The missing field.
        field: String,
    },
    /// A type was used as a kind it is not (an object as a list, ...).
    #[error("type {type_name:?} is a {actual}, not a {expected}")]
    WrongTypeKind {
        /// The type.
        type_name: String,
        /// The kind asked for.
        expected: &'static str,
        /// The kind it is.
        actual: &'static str,
    },
    /// A field was read or written as a kind it is not.
    #[error("field {type_name}.{field} is {actual}, not {expected}")]
    WrongFieldKind {
        /// The type.
        type_name: String,
        /// The field.
        field: String,
        /// The kind asked for.
        expected: &'static str,
        /// The field's kind.
        actual: &'static str,
    },
    /// An ordinal is not populated in a type.
    #[error("ordinal {ordinal} is not populated in type {type_name:?}")]
    NoSuchOrdinal {
        /// The type.
        type_name: String,
        /// The ordinal.
        ordinal: u64,
    },
    /// A type ran out of ordinals (more than 2^32-1 records).
    #[error("type {0:?} is full: a type holds at most 4294967295 records")]
    OrdinalsExhausted(String),
    /// A string in the data is not valid UTF-8.
    #[error("invalid UTF-8 in field {0}")]
    Utf8(String),
    /// A value could not be serialized into or deserialized from a state through serde.
    #[error("serde: {0}")]
    Serde(String),
    /// An I/O error (opening or mapping a file).
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The result type of the data layers.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A [`Error::Corrupt`] with a message.
    pub fn corrupt(msg: impl Into<String>) -> Self {
        Error::Corrupt(msg.into())
    }
}

// The serde module of `hollow-state` reports through this type.
impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Serde(msg.to_string())
    }
}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Serde(msg.to_string())
    }
}
