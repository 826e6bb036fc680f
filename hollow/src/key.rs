//! The key codec: a record's primary key as text, the one rule every writer and reader of
//! keys follows (Kafka message keys, tombstones, `delete_key`, record history, the CLI).
//!
//! A key is its parts joined by `|`, one per key field, in key order: `42`,
//! `42|FR|1631750400000`. Numbers and bools are written canonically (as Rust prints them)
//! and only canonical text parses back (`42`, not `+42` or `042`), so that a key always names
//! exactly one record. A string part is written as is; it may contain `|` when it is the only
//! string field of the key (the other parts never do): the parts before it are then taken from
//! the left and the parts after it from the right.

use std::borrow::Cow;
use std::fmt::Write as _;

use hollow_format::schema::{FieldKind, Primitive};
use hollow_format::value::Value;
use hollow_state::dataset::{DatasetSchema, FieldValue, Record};

/// Why a key does not parse.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key has the wrong number of `|`-separated parts.
    #[error("key {key:?} has {got} part(s), the key has {expected} field(s)")]
    PartCount {
        /// The key text.
        key: String,
        /// The number of key fields.
        expected: usize,
        /// The number of parts found.
        got: usize,
    },
    /// A part is not the canonical text of its field's kind.
    #[error("key part {part:?} is not a canonical {kind}")]
    BadPart {
        /// The part's text.
        part: String,
        /// The kind of its field.
        kind: &'static str,
    },
}

/// The key text of a dataset record (its key fields' values joined by `|`).
pub fn of_record(ds: &DatasetSchema, rec: &Record) -> String {
    let mut s = String::new();
    for (n, i) in ds.key_fields().iter().enumerate() {
        if n > 0 {
            s.push('|');
        }
        match rec.get(*i) {
            Some(FieldValue::Bool(b)) => {
                let _ = write!(s, "{b}");
            }
            Some(FieldValue::Int(i)) => {
                let _ = write!(s, "{i}");
            }
            Some(FieldValue::Float(x)) => {
                let _ = write!(s, "{x}");
            }
            Some(FieldValue::Str(t)) => s.push_str(t),
            Some(FieldValue::Null | FieldValue::List(_)) | None => {}
        }
    }
    s
}

/// The kinds of a dataset's key fields, in key order.
pub fn dataset_kinds(ds: &DatasetSchema) -> Vec<FieldKind> {
    ds.key_fields()
        .iter()
        .map(|i| ds.fields[*i].kind.into())
        .collect()
}

/// Parses a dataset key into the values of its key fields.
pub fn parse_dataset_key(ds: &DatasetSchema, key: &str) -> Result<Vec<Value<'static>>, KeyError> {
    parse(&dataset_kinds(ds), key)
}

/// Parses a key whose fields have `kinds` into one value per field.
pub fn parse(kinds: &[FieldKind], key: &str) -> Result<Vec<Value<'static>>, KeyError> {
    split(kinds, key)?
        .iter()
        .zip(kinds)
        .map(|(part, kind)| parse_part(kind, part))
        .collect()
}

/// Splits a key into one part per field (see the module docs for `|` inside a string).
pub fn split<'k>(kinds: &[FieldKind], key: &'k str) -> Result<Vec<Cow<'k, str>>, KeyError> {
    let n = kinds.len();
    let pieces: Vec<&str> = key.split('|').collect();
    let strings: Vec<usize> = (0..n)
        .filter(|&i| {
            matches!(
                kinds[i],
                FieldKind::Primitive(Primitive::String | Primitive::Bytes)
            )
        })
        .collect();
    if pieces.len() == n {
        return Ok(pieces.into_iter().map(Cow::Borrowed).collect());
    }
    if pieces.len() > n && strings.len() == 1 {
        let s = strings[0];
        let after = n - s - 1;
        let mut out: Vec<Cow<'k, str>> = pieces[..s].iter().map(|p| Cow::Borrowed(*p)).collect();
        out.push(Cow::Owned(pieces[s..pieces.len() - after].join("|")));
        out.extend(
            pieces[pieces.len() - after..]
                .iter()
                .map(|p| Cow::Borrowed(*p)),
        );
        return Ok(out);
    }
    Err(KeyError::PartCount {
        key: key.to_string(),
        expected: n,
        got: pieces.len(),
    })
}

/// Parses one key part as a value of `kind` (canonical text only).
pub fn parse_part(kind: &FieldKind, text: &str) -> Result<Value<'static>, KeyError> {
    let bad = || KeyError::BadPart {
        part: text.to_string(),
        kind: kind.name(),
    };
    Ok(match kind {
        FieldKind::Primitive(Primitive::String) => Value::Str(Cow::Owned(text.to_string())),
        FieldKind::Primitive(Primitive::Bytes) => {
            Value::Bytes(Cow::Owned(text.as_bytes().to_vec()))
        }
        FieldKind::Primitive(Primitive::Bool) => Value::Bool(canonical(text).ok_or_else(bad)?),
        FieldKind::Primitive(Primitive::I32) => Value::I32(canonical(text).ok_or_else(bad)?),
        FieldKind::Primitive(Primitive::I64) => Value::I64(canonical(text).ok_or_else(bad)?),
        FieldKind::Primitive(Primitive::F32) => Value::F32(canonical(text).ok_or_else(bad)?),
        FieldKind::Primitive(Primitive::F64) => Value::F64(canonical(text).ok_or_else(bad)?),
        FieldKind::Reference(_) => return Err(bad()),
    })
}

/// `text` as a `T` only if it prints back to exactly `text`.
fn canonical<T: std::str::FromStr + ToString>(text: &str) -> Option<T> {
    let v: T = text.parse().ok()?;
    (v.to_string() == text).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_split_and_parse_canonically() {
        let kinds = [
            FieldKind::Primitive(Primitive::I64),
            FieldKind::Primitive(Primitive::String),
            FieldKind::Primitive(Primitive::I64),
        ];
        assert_eq!(
            parse(&kinds, "7|A|B|5").unwrap(),
            vec![Value::I64(7), Value::Str("A|B".into()), Value::I64(5)]
        );
        assert_eq!(
            parse(&kinds, "42|FR|1631750400000").unwrap(),
            vec![
                Value::I64(42),
                Value::Str("FR".into()),
                Value::I64(1631750400000)
            ]
        );
        assert!(matches!(
            parse(&kinds, "42|FR"),
            Err(KeyError::PartCount { got: 2, .. })
        ));
        assert!(matches!(
            parse(&kinds, "042|FR|1"),
            Err(KeyError::BadPart { .. })
        ));
        assert!(matches!(
            parse(&kinds, "+4|FR|1"),
            Err(KeyError::BadPart { .. })
        ));
        assert!(matches!(
            parse(&[FieldKind::Primitive(Primitive::Bool)], "yes"),
            Err(KeyError::BadPart { kind: "bool", .. })
        ));
        // two string fields: a `|` inside one cannot be placed
        let two = [
            FieldKind::Primitive(Primitive::String),
            FieldKind::Primitive(Primitive::String),
        ];
        assert!(matches!(
            parse(&two, "a|b|c"),
            Err(KeyError::PartCount { .. })
        ));
    }
}
