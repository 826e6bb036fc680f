//! Decoding and validating one Kafka message of a dataset topic (GATEKEEPER.md §2).
//!
//! A message becomes a [`Change`] — an upsert of a parsed record or a delete by key — or a
//! [`Rejection`] with a [`RejectReason`]. Decoding never fails in any other way and never
//! panics, whatever the bytes: rejected messages are counted, logged and optionally sent to
//! a dead-letter topic by the service, and never stop a cycle.
//!
//! Rules:
//! * the key must be present and UTF-8;
//! * a null value (tombstone) deletes the record with that key, which must be a well-formed
//!   key of the dataset in canonical form (`42`, not `042`);
//! * any other value must be a JSON object that [`DatasetSchema::parse_json`] accepts, and
//!   the message key must equal [`hollow::key::of_record`] of the parsed record.

use std::fmt;

use hollow::dataset::{DatasetSchema, Record, RecordError};
use hollow::Value;

/// What a valid message does to its dataset.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Insert or replace the record with this key.
    Upsert {
        /// The message key (equal to the record's primary key).
        key: String,
        /// The parsed record.
        record: Record,
    },
    /// Delete the record with this key, if any.
    Delete {
        /// The message key.
        key: String,
        /// The key's values, one per primary-key field, typed as the fields.
        parts: Vec<Value<'static>>,
    },
}

/// Why a message was rejected. [`RejectReason::label`] is the metric label and log word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// The value is not valid JSON (or not UTF-8).
    NotJson,
    /// The value is JSON but not an object.
    NotObject,
    /// A required field is missing or null.
    MissingField,
    /// A field has the wrong JSON type.
    WrongType,
    /// A number does not fit its field's type.
    OutOfRange,
    /// A string outside its field's enum.
    UnknownEnum,
    /// The message key differs from the record's primary key.
    KeyMismatch,
    /// The message has no key.
    MissingKey,
    /// The key is not UTF-8, or (for a tombstone) not a well-formed canonical key.
    BadKey,
    /// The message is on a topic that is not a configured dataset.
    UnknownTopic,
}

impl RejectReason {
    /// Every reason, in label order.
    pub const ALL: [RejectReason; 10] = [
        RejectReason::BadKey,
        RejectReason::KeyMismatch,
        RejectReason::MissingField,
        RejectReason::MissingKey,
        RejectReason::NotJson,
        RejectReason::NotObject,
        RejectReason::OutOfRange,
        RejectReason::UnknownEnum,
        RejectReason::UnknownTopic,
        RejectReason::WrongType,
    ];

    /// The snake_case label used in metrics, logs and dead-letter headers.
    pub fn label(self) -> &'static str {
        match self {
            RejectReason::NotJson => "not_json",
            RejectReason::NotObject => "not_object",
            RejectReason::MissingField => "missing_field",
            RejectReason::WrongType => "wrong_type",
            RejectReason::OutOfRange => "out_of_range",
            RejectReason::UnknownEnum => "unknown_enum",
            RejectReason::KeyMismatch => "key_mismatch",
            RejectReason::MissingKey => "missing_key",
            RejectReason::BadKey => "bad_key",
            RejectReason::UnknownTopic => "unknown_topic",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A rejected message: the reason and a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The counted reason.
    pub reason: RejectReason,
    /// What exactly was wrong (field names, expected and found values).
    pub detail: String,
}

impl Rejection {
    fn new(reason: RejectReason, detail: impl Into<String>) -> Self {
        Rejection {
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}

impl From<RecordError> for Rejection {
    fn from(e: RecordError) -> Self {
        let reason = match &e {
            RecordError::NotJson(_) => RejectReason::NotJson,
            RecordError::NotObject => RejectReason::NotObject,
            RecordError::MissingField(_) => RejectReason::MissingField,
            RecordError::WrongType { .. } => RejectReason::WrongType,
            RecordError::OutOfRange { .. } => RejectReason::OutOfRange,
            RecordError::UnknownEnum { .. } => RejectReason::UnknownEnum,
        };
        Rejection::new(reason, e.to_string())
    }
}

/// Decodes one message of dataset `ds` from its raw key and value.
pub fn decode(
    ds: &DatasetSchema,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Result<Change, Rejection> {
    let key = key.ok_or_else(|| Rejection::new(RejectReason::MissingKey, "message has no key"))?;
    let key = std::str::from_utf8(key)
        .map_err(|e| Rejection::new(RejectReason::BadKey, format!("key is not UTF-8: {e}")))?;
    match value {
        None => {
            let parts = parse_key(ds, key).map_err(|d| Rejection::new(RejectReason::BadKey, d))?;
            Ok(Change::Delete {
                key: key.to_owned(),
                parts,
            })
        }
        Some(value) => {
            let record = ds.parse_json(value)?;
            let expected = hollow::key::of_record(ds, &record);
            if expected != key {
                return Err(Rejection::new(
                    RejectReason::KeyMismatch,
                    format!("message key {key:?} but the record's primary key is {expected:?}"),
                ));
            }
            Ok(Change::Upsert {
                key: key.to_owned(),
                record,
            })
        }
    }
}

/// Parses a Kafka key (`42|FR|1631750400000`) into typed primary-key values, by the rules of
/// [`hollow::key`] (canonical parts; a string part may hold `|` when it is the key's only
/// string field), so that a tombstone's key always names the record whose key
/// ([`hollow::key::of_record`]) it equals.
pub fn parse_key(ds: &DatasetSchema, key: &str) -> Result<Vec<Value<'static>>, String> {
    hollow::key::parse_dataset_key(ds, key).map_err(|e| match e {
        hollow::key::KeyError::PartCount { got, expected, .. } => format!(
            "key {key:?} has {got} part(s) but the primary key of {} has {expected} ({})",
            ds.dataset,
            ds.primary_key.join("|")
        ),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hollow::dataset::FieldValue;

    fn schema(name: &str) -> DatasetSchema {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../schemas")
            .join(format!("{name}.json"));
        DatasetSchema::from_file(&path).unwrap()
    }

    fn reason(ds: &DatasetSchema, key: Option<&str>, value: Option<&str>) -> RejectReason {
        decode(ds, key.map(str::as_bytes), value.map(str::as_bytes))
            .unwrap_err()
            .reason
    }

    #[test]
    fn upsert_and_delete() {
        let ds = schema("rights");
        let v = r#"{"title_id":42,"country":"FR","window_start":1631750400000,"window_end":null}"#;
        match decode(&ds, Some(b"42|FR|1631750400000"), Some(v.as_bytes())).unwrap() {
            Change::Upsert { key, record } => {
                assert_eq!(key, "42|FR|1631750400000");
                assert_eq!(record[0], FieldValue::Int(42));
                assert_eq!(record[3], FieldValue::Null);
            }
            other => panic!("{other:?}"),
        }
        match decode(&ds, Some(b"42|FR|1631750400000"), None).unwrap() {
            Change::Delete { parts, .. } => assert_eq!(
                parts,
                vec![
                    Value::I64(42),
                    Value::Str("FR".into()),
                    Value::I64(1631750400000)
                ]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_rejection() {
        let assets = schema("assets");
        let ok = r#"{"id":1,"video_id":2,"kind":"VIDEO","language":null,"status":"READY"}"#;
        assert!(decode(&assets, Some(b"1"), Some(ok.as_bytes())).is_ok());
        assert_eq!(reason(&assets, None, Some(ok)), RejectReason::MissingKey);
        assert_eq!(reason(&assets, None, None), RejectReason::MissingKey);
        assert_eq!(
            decode(&assets, Some(&[0xff, 0xfe]), Some(ok.as_bytes()))
                .unwrap_err()
                .reason,
            RejectReason::BadKey
        );
        assert_eq!(
            reason(&assets, Some("2"), Some(ok)),
            RejectReason::KeyMismatch
        );
        assert_eq!(
            reason(&assets, Some("01"), Some(ok)),
            RejectReason::KeyMismatch
        );
        assert_eq!(
            reason(&assets, Some("1"), Some("{not json")),
            RejectReason::NotJson
        );
        assert_eq!(
            decode(&assets, Some(b"1"), Some(&[0xff, 0x00]))
                .unwrap_err()
                .reason,
            RejectReason::NotJson
        );
        assert_eq!(
            reason(&assets, Some("1"), Some("[1,2]")),
            RejectReason::NotObject
        );
        assert_eq!(
            reason(
                &assets,
                Some("1"),
                Some(r#"{"id":1,"kind":"VIDEO","status":"READY"}"#)
            ),
            RejectReason::MissingField
        );
        assert_eq!(
            reason(
                &assets,
                Some("1"),
                Some(r#"{"id":"1","video_id":2,"kind":"VIDEO","status":"READY"}"#)
            ),
            RejectReason::WrongType
        );
        assert_eq!(
            reason(
                &assets,
                Some("1"),
                Some(r#"{"id":1,"video_id":2,"kind":"HOLOGRAM","status":"READY"}"#)
            ),
            RejectReason::UnknownEnum
        );
        assert_eq!(
            reason(
                &assets,
                Some("1"),
                Some(r#"{"id":1e400,"video_id":2,"kind":"VIDEO","status":"READY"}"#)
            ),
            RejectReason::NotJson
        );
        assert_eq!(
            reason(
                &assets,
                Some("1"),
                Some(r#"{"id":18446744073709551615,"video_id":2,"kind":"VIDEO","status":"READY"}"#)
            ),
            RejectReason::OutOfRange
        );
        let videos = schema("videos");
        assert_eq!(
            reason(
                &videos,
                Some("1"),
                Some(r#"{"id":1,"title_id":2,"kind":"MOVIE","season":3000000000}"#)
            ),
            RejectReason::OutOfRange
        );
        // tombstones with malformed keys
        for bad in ["", "x", "1|2", "042", "+1", " 1", "99999999999999999999"] {
            assert_eq!(
                reason(&assets, Some(bad), None),
                RejectReason::BadKey,
                "{bad:?}"
            );
        }
        let rights = schema("rights");
        for bad in ["42|FR", "42", "42|FR|x", "x|FR|1"] {
            assert_eq!(
                reason(&rights, Some(bad), None),
                RejectReason::BadKey,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn string_key_with_separator() {
        let rights = schema("rights");
        let v = r#"{"title_id":7,"country":"A|B","window_start":5,"window_end":null}"#;
        assert!(decode(&rights, Some(b"7|A|B|5"), Some(v.as_bytes())).is_ok());
        match decode(&rights, Some(b"7|A|B|5"), None).unwrap() {
            Change::Delete { parts, .. } => assert_eq!(
                parts,
                vec![Value::I64(7), Value::Str("A|B".into()), Value::I64(5)]
            ),
            other => panic!("{other:?}"),
        }
        let loc = schema("localizations");
        match decode(&loc, Some("42|pt-BR|x".as_bytes()), None).unwrap() {
            Change::Delete { parts, .. } => {
                assert_eq!(parts, vec![Value::I64(42), Value::Str("pt-BR|x".into())])
            }
            other => panic!("{other:?}"),
        }
        // empty strings and unicode are valid string key parts
        let countries = schema("countries");
        assert!(decode(&countries, Some(b""), None).is_ok());
        assert!(decode(&countries, Some("ü|".as_bytes()), None).is_ok());
    }

    #[test]
    fn labels_are_unique_and_sorted() {
        let labels: Vec<&str> = RejectReason::ALL.iter().map(|r| r.label()).collect();
        let mut sorted = labels.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(labels, sorted);
    }
}
