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
    /// The blob's structure is inconsistent (an impossible width, an out-of-range offset, ...):
    /// the [`Corruption`] says what and where.
    #[error("corrupt blob: {0}")]
    Corrupt(#[from] Corruption),
    /// A blob of one kind was given where another was expected.
    #[error("wrong blob kind: expected {expected}, got {got}")]
    WrongBlobKind {
        /// The kind expected.
        expected: BlobKind,
        /// The kind found.
        got: BlobKind,
    },
    /// A schema is invalid or does not match: the [`SchemaError`] says which rule and where.
    #[error("schema error: {0}")]
    Schema(#[from] SchemaError),
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

/// What is inconsistent in a corrupt blob, or in a state built from one ([`Error::Corrupt`]).
///
/// Every variant names the structure (`what`, a type) and carries the numbers that do not
/// fit; the message says the same in words.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Corruption {
    /// A code this format version does not define (a blob kind, a column encoding, a tag
    /// of the schema section, ...).
    #[error("unknown {what} {code}")]
    UnknownCode {
        /// What the code is the code of (`blob kind`, `column encoding`, `field kind`, ...).
        what: &'static str,
        /// The code found.
        code: u64,
    },
    /// Preamble flags this build does not know.
    #[error("unknown blob flags {flags:#x}")]
    UnknownFlags {
        /// The flags found.
        flags: u32,
    },
    /// A number outside the range the format allows (a bit width, a symbol length, ...).
    #[error("{what} {value} outside {min}..={max}")]
    OutOfRange {
        /// What the number is (`bit width`, `ordinal width`, `FSST symbol length`, ...).
        what: &'static str,
        /// The number found.
        value: u64,
        /// The smallest allowed.
        min: u64,
        /// The largest allowed.
        max: u64,
    },
    /// Two counts or lengths that must agree differ.
    #[error("{what} is {got}, expected {expected}")]
    CountMismatch {
        /// What was counted (`snapshot type count`, `decompressed body length`, ...).
        what: &'static str,
        /// The count the other structure implies.
        expected: u64,
        /// The count found.
        got: u64,
    },
    /// An index past the end of what it indexes.
    #[error("{what} {index} out of range (0..{len})")]
    IndexOutOfRange {
        /// What the index is (`pool index`, `FSST code`, `collection record`, ...).
        what: &'static str,
        /// The index.
        index: u64,
        /// The number of entries it indexes.
        len: u64,
    },
    /// A string or bytes value whose offsets lie outside its pool.
    #[error("pool value {index} spans {start}..{end}, outside the pool's {len} bytes")]
    PoolSpan {
        /// The value's index in the pool.
        index: u64,
        /// Its start offset.
        start: u64,
        /// Its end offset.
        end: u64,
        /// The pool's data length.
        len: u64,
    },
    /// A collection record whose entries lie outside the collection's entries.
    #[error("collection {type_name} record {ordinal} spans {start}..{end} of {len}")]
    RecordSpan {
        /// The collection type.
        type_name: String,
        /// The record's ordinal.
        ordinal: u64,
        /// Its first entry.
        start: u64,
        /// One past its last entry.
        end: u64,
        /// The collection's entry count.
        len: u64,
    },
    /// A size computed from the blob's counts overflows.
    #[error("{what} of {count} overflows")]
    SizeOverflow {
        /// What was sized (`packed array`, `pool offsets`, `raw body length`, ...).
        what: &'static str,
        /// The count it was computed from.
        count: u64,
    },
    /// Bytes after the end of a structure that must fill its container.
    #[error("{count} unread bytes after the {what}")]
    TrailingBytes {
        /// The structure (`declared blob body`, `snapshot body`, `delta body`).
        what: &'static str,
        /// How many bytes follow it.
        count: u64,
    },
    /// A compressed body claims a raw length no zstd frame of its size can hold.
    #[error("implausible raw body length {raw} for {stored} compressed bytes")]
    ImplausibleLength {
        /// The raw length claimed.
        raw: u64,
        /// The compressed length.
        stored: u64,
    },
    /// The zstd-compressed body does not decompress.
    #[error("zstd: {0}")]
    Zstd(#[source] std::io::Error),
    /// A string of the blob's structure (a header entry, a name) is not UTF-8.
    #[error("{what}: invalid UTF-8")]
    InvalidUtf8 {
        /// What the string is (`header key`, `type name`, ...).
        what: &'static str,
    },
    /// An FSST-compressed value ends with an escape byte (its literal is missing).
    #[error("FSST escape at end of value")]
    FsstEscapeAtEnd,
    /// A section whose length must be a multiple of an entry size is not.
    #[error("{what}: {len} bytes, not a multiple of {multiple}")]
    Misaligned {
        /// The section (`FSST symbols`).
        what: &'static str,
        /// Its length in bytes.
        len: u64,
        /// The entry size.
        multiple: u64,
    },
    /// A pool claims more than one value with zero-width offsets (so all empty: pools hold
    /// distinct values, so at most one).
    #[error("pool of {count} values with zero-width offsets (pools hold distinct values)")]
    ZeroWidthPool {
        /// The value count claimed.
        count: u64,
    },
    /// A column has a pool where its kind has none, or lacks one where its kind needs one.
    #[error("column of kind {kind} {} a pool", if *has_pool { "has" } else { "lacks" })]
    PoolMismatch {
        /// The column's kind (`string`, `bytes`, `i64`, ...).
        kind: &'static str,
        /// Whether the column has a pool.
        has_pool: bool,
    },
    /// A type's kind tag in the body differs from its kind in the schema.
    #[error("type {type_name:?}: kind tag {got}, schema says {expected}")]
    KindTag {
        /// The type.
        type_name: String,
        /// The tag of the schema's kind.
        expected: u8,
        /// The tag found.
        got: u8,
    },
    /// A type claims more records than its ordinal bound holds (or a bound past 2^32).
    #[error("type {type_name:?}: {count} records under ordinal bound {bound}")]
    CountOverBound {
        /// The type.
        type_name: String,
        /// The record count claimed.
        count: u64,
        /// The ordinal bound claimed.
        bound: u64,
    },
    /// A delta's record count of a type differs from the count applying it gives.
    #[error("delta type {type_name:?}: {actual} records after applying, delta says {declared}")]
    DeltaCount {
        /// The type.
        type_name: String,
        /// The count the delta declares.
        declared: u64,
        /// The count after applying it.
        actual: u64,
    },
    /// A delta's ordinal list is not strictly increasing.
    #[error("delta ordinals not strictly increasing: {next} after {previous}")]
    OrdinalOrder {
        /// The earlier ordinal.
        previous: u32,
        /// The ordinal after it, not greater.
        next: u32,
    },
    /// An ordinal that must be populated (in a state, an index, a journal) is not.
    #[error("{what}: ordinal {ordinal} of {type_name:?} is not populated")]
    NotPopulated {
        /// What names it (`a delta's removals`, `a key path`, `the journal's additions`, ...).
        what: &'static str,
        /// The type.
        type_name: String,
        /// The ordinal.
        ordinal: u64,
    },
    /// An ordinal that must be free (in a state, an index) is populated.
    #[error("{what}: ordinal {ordinal} of {type_name:?} is already populated")]
    AlreadyPopulated {
        /// What names it (`a delta's additions`, `a restored record`, `the index`).
        what: &'static str,
        /// The type.
        type_name: String,
        /// The ordinal.
        ordinal: u64,
    },
    /// A hashed collection record (set or map) whose bucket count is not a power of two.
    #[error("collection {type_name} record {ordinal}: hashed record with {buckets} buckets")]
    HashBuckets {
        /// The collection type.
        type_name: String,
        /// The record's ordinal.
        ordinal: u64,
        /// Its bucket count.
        buckets: u64,
    },
    /// A type's body is not of the kind its schema declares (columns for an object, entries
    /// for a collection).
    #[error("type {type_name:?} has no {expected} body")]
    BodyMismatch {
        /// The type.
        type_name: String,
        /// The body its schema declares (`object`, `collection`).
        expected: &'static str,
    },
    /// A column of an object type does not match its field in the schema (missing, or of
    /// another kind).
    #[error("column {type_name}.{field} does not match its schema")]
    ColumnMismatch {
        /// The object type.
        type_name: String,
        /// The field.
        field: String,
    },
    /// A column image (a stored value) that decodes to no value.
    #[error("image {image} has no value")]
    ImageWithoutValue {
        /// The image.
        image: u64,
    },
    /// References nest deeper than a comparison follows (only a reference cycle can).
    #[error("references nest deeper than {max} (a cycle?)")]
    NestingTooDeep {
        /// The deepest nesting followed.
        max: u32,
    },
    /// A comparison of two states reached a type it did not prepare (not reachable from the
    /// type compared).
    #[error("type #{type_index} is not reachable from the compared type")]
    UnreachedType {
        /// The type's index in the schema.
        type_index: usize,
    },
}

/// Why a schema is invalid, or does not fit the data or the other schema it meets
/// ([`Error::Schema`]).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A type without a name.
    #[error("empty type name")]
    EmptyTypeName,
    /// Two types of one name (declared twice, or two different Rust types traced to it).
    #[error("type {name:?} declared twice")]
    DuplicateType {
        /// The name.
        name: String,
    },
    /// A type refers to a type the schema does not declare.
    #[error("type {type_name:?} refers to unknown type {target:?}")]
    UnknownReference {
        /// The referring type.
        type_name: String,
        /// The missing type.
        target: String,
    },
    /// Two fields of one name in an object type.
    #[error("field {type_name}.{field} declared twice")]
    DuplicateField {
        /// The object type.
        type_name: String,
        /// The field.
        field: String,
    },
    /// A compressed field of a kind that cannot be compressed.
    #[error(
        "field {type_name}.{field}: only string and bytes fields can be compressed, not {kind}"
    )]
    CompressedKind {
        /// The object type.
        type_name: String,
        /// The field.
        field: String,
        /// Its kind.
        kind: &'static str,
    },
    /// A primary key of no fields.
    #[error("type {type_name:?}: empty primary key")]
    EmptyPrimaryKey {
        /// The object type.
        type_name: String,
    },
    /// A dotted field path goes on past a field that is not a reference.
    #[error("path {path:?}: {field:?} of {type_name:?} is not a reference")]
    NotAReference {
        /// The type holding the field.
        type_name: String,
        /// The whole path.
        path: String,
        /// The field that is not a reference.
        field: String,
    },
    /// An empty field path.
    #[error("empty field path in type {type_name:?}")]
    EmptyPath {
        /// The object type.
        type_name: String,
    },
    /// A record given with another number of values than its type has fields.
    #[error("type {type_name:?} has {expected} fields, got {got} values")]
    ValueCount {
        /// The object type.
        type_name: String,
        /// Its field count.
        expected: usize,
        /// The values given.
        got: usize,
    },
    /// A key given with another number of values than the key has fields.
    #[error("the key {fields:?} of {type_name:?} has {} fields, got {got} values", fields.len())]
    KeyArity {
        /// The object type.
        type_name: String,
        /// The key's fields.
        fields: Vec<String>,
        /// The values given.
        got: usize,
    },
    /// A snapshot written with another number of record tables than the schema has types.
    #[error("{got} record tables for {expected} types")]
    RecordTables {
        /// The schema's type count.
        expected: usize,
        /// The tables given.
        got: usize,
    },
    /// A map record given an odd number of ordinals (not key-value pairs).
    #[error("map {type_name:?}: {count} ordinals given, entries must be pairs")]
    OddMapEntries {
        /// The map type.
        type_name: String,
        /// The ordinals given.
        count: usize,
    },
    /// A dataset schema file is not valid JSON of the expected shape.
    #[error("dataset schema: {0}")]
    DatasetJson(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A dataset's primary key names a field the dataset does not declare.
    #[error("{dataset}: primary key field {field:?} not declared")]
    UndeclaredKeyField {
        /// The dataset.
        dataset: String,
        /// The field.
        field: String,
    },
    /// A dataset's primary key names a list field.
    #[error("{dataset}: primary key field {field:?} is a list")]
    ListKeyField {
        /// The dataset.
        dataset: String,
        /// The field.
        field: String,
    },
    /// A dataset without a primary key.
    #[error("{dataset}: empty primary key")]
    DatasetWithoutKey {
        /// The dataset.
        dataset: String,
    },
    /// A dataset field asks for a compression it cannot have.
    #[error("{dataset}.{field}: unsupported compression {compression:?}")]
    UnsupportedCompression {
        /// The dataset.
        dataset: String,
        /// The field.
        field: String,
        /// The compression asked for.
        compression: String,
    },
    /// A delta written against another schema than the state it is applied to.
    #[error("the delta's schema differs from the state's")]
    DeltaMismatch,
    /// The announced version of a timeline has another schema than its producer's.
    #[error("the announced version {version} has a different schema than the producer's")]
    AnnouncedMismatch {
        /// The announced version.
        version: u64,
    },
    /// A type compared between two states differs between their schemas.
    #[error("type {type_name:?} differs between the two states")]
    TypeDiffers {
        /// The type.
        type_name: String,
    },
    /// A state's schema does not hold the types and fields a key was resolved against.
    #[error("the state's schema does not match the key {fields:?} of {type_name:?}")]
    KeyMismatch {
        /// The key's object type.
        type_name: String,
        /// The key's fields.
        fields: Vec<String>,
    },
    /// A key of no fields.
    #[error("a key of {type_name:?} needs at least one field")]
    EmptyKey {
        /// The object type.
        type_name: String,
    },
    /// A key operation on an object type that declares no primary key.
    #[error("type {type_name:?} declares no primary key")]
    NoPrimaryKey {
        /// The object type.
        type_name: String,
    },
    /// An incremental producer's type whose primary key is a path through a reference
    /// (incremental producers need keys of direct fields).
    #[error("{type_name}: incremental producers need primary keys of direct fields, not {path:?}")]
    NestedPrimaryKey {
        /// The object type.
        type_name: String,
        /// The key path.
        path: String,
    },
}

/// The result type of the data layers.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
