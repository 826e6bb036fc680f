//! Each kind of bad input gives its own typed variant, with the facts in its fields (not a
//! formatted string): schemas, the envelope, bit-packed arrays and FSST tables.

use hollow_format::bits::Packed;
use hollow_format::blob::envelope::{read_preamble, seal, PREAMBLE_LEN};
use hollow_format::blob::fsst::FsstTable;
use hollow_format::wire::{Cursor, Sink};
use hollow_format::{
    BlobKind, Corruption, Error, FieldKind, ObjectSchema, Primitive, SchemaError, SchemaSet,
    TypeSchema,
};

fn object(o: ObjectSchema) -> TypeSchema {
    TypeSchema::Object(o)
}

/// Asserts that an error is the corruption the pattern describes.
macro_rules! assert_corrupt {
    ($e:expr, $p:pat) => {{
        let e = &$e;
        assert!(matches!(e, Error::Corrupt($p)), "{e:?}");
    }};
}

#[test]
fn invalid_schemas_name_the_rule_type_and_field() {
    let e = SchemaSet::new(vec![
        object(ObjectSchema::new("Movie")),
        object(ObjectSchema::new("Movie")),
    ])
    .unwrap_err();
    assert!(
        matches!(&e, Error::Schema(SchemaError::DuplicateType { name }) if name == "Movie"),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "schema error: type \"Movie\" declared twice");

    let e = SchemaSet::new(vec![object(
        ObjectSchema::new("Movie")
            .field("id", FieldKind::Primitive(Primitive::I64))
            .field("id", FieldKind::Primitive(Primitive::String)),
    )])
    .unwrap_err();
    assert!(
        matches!(&e, Error::Schema(SchemaError::DuplicateField { type_name, field })
            if type_name == "Movie" && field == "id"),
        "{e:?}"
    );

    let e = SchemaSet::new(vec![object(
        ObjectSchema::new("Movie").field("cast", FieldKind::Reference("Actor".into())),
    )])
    .unwrap_err();
    assert!(
        matches!(&e, Error::Schema(SchemaError::UnknownReference { type_name, target })
            if type_name == "Movie" && target == "Actor"),
        "{e:?}"
    );

    let mut movie = ObjectSchema::new("Movie").field("id", FieldKind::Primitive(Primitive::I64));
    movie.fields[0].compression = hollow_format::Compression::Fsst;
    let e = SchemaSet::new(vec![object(movie)]).unwrap_err();
    assert!(
        matches!(&e, Error::Schema(SchemaError::CompressedKind { type_name, field, kind: "i64" })
            if type_name == "Movie" && field == "id"),
        "{e:?}"
    );

    let set = SchemaSet::new(vec![object(
        ObjectSchema::new("Movie").field("id", FieldKind::Primitive(Primitive::I64)),
    )])
    .unwrap();
    let e = set.resolve_path("Movie", "id.x").unwrap_err();
    assert!(
        matches!(&e, Error::Schema(SchemaError::NotAReference { type_name, path, field })
            if type_name == "Movie" && path == "id.x" && field == "id"),
        "{e:?}"
    );
}

#[test]
fn an_unknown_tag_in_the_schema_section_is_corruption() {
    let mut s = Sink::default();
    s.u32(1);
    s.u8(9);
    let e = SchemaSet::read(&mut Cursor::new(&s.buf, 0)).unwrap_err();
    assert_corrupt!(
        e,
        Corruption::UnknownCode {
            what: "type tag",
            code: 9
        }
    );
    assert_eq!(e.to_string(), "corrupt blob: unknown type tag 9");
}

#[test]
fn a_bad_preamble_says_which_field_and_value() {
    let blob = seal(BlobKind::Snapshot, b"abc", None);
    read_preamble(&blob).unwrap();

    let mut b = blob.clone();
    b[12..16].copy_from_slice(&7u32.to_le_bytes());
    let e = read_preamble(&b).unwrap_err();
    assert_corrupt!(
        e,
        Corruption::UnknownCode {
            what: "blob kind",
            code: 7
        }
    );

    let mut b = blob.clone();
    b[16..20].copy_from_slice(&6u32.to_le_bytes());
    let e = read_preamble(&b).unwrap_err();
    assert_corrupt!(e, Corruption::UnknownFlags { flags: 6 });
    assert_eq!(e.to_string(), "corrupt blob: unknown blob flags 0x6");

    let mut b = blob.clone();
    b.extend_from_slice(&[0, 0]);
    let e = read_preamble(&b).unwrap_err();
    assert_corrupt!(
        e,
        Corruption::TrailingBytes {
            what: "declared blob body",
            count: 2
        }
    );

    let e = read_preamble(&blob[..PREAMBLE_LEN + 1]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Truncated {
                what: "blob body",
                offset: 48,
                needed: 3,
                available: 1
            }
        ),
        "{e:?}"
    );

    let mut b = blob;
    b[32..40].copy_from_slice(&5u64.to_le_bytes());
    let e = read_preamble(&b).unwrap_err();
    assert_corrupt!(
        e,
        Corruption::CountMismatch {
            what: "raw length of an uncompressed body",
            expected: 3,
            got: 5
        }
    );
}

#[test]
fn packed_arrays_and_fsst_tables_report_their_numbers() {
    let e = Packed::new(&[0; 16], 65, 1).unwrap_err();
    assert_corrupt!(
        e,
        Corruption::OutOfRange {
            what: "bit width",
            value: 65,
            min: 0,
            max: 64
        }
    );
    assert!(matches!(
        Packed::new(&[], 8, 3),
        Err(Error::Truncated {
            what: "bit-packed array",
            available: 0,
            ..
        })
    ));

    let e = FsstTable::validate(vec![1], vec![0]).unwrap_err();
    assert_corrupt!(
        e,
        Corruption::OutOfRange {
            what: "FSST symbol length",
            value: 0,
            min: 1,
            max: 8
        }
    );
    let e = FsstTable::validate(vec![1, 2], vec![1]).unwrap_err();
    assert_corrupt!(
        e,
        Corruption::CountMismatch {
            what: "FSST symbol length count",
            expected: 2,
            got: 1
        }
    );
    let table = FsstTable::validate(vec![u64::from(b'a')], vec![1]).unwrap();
    let mut out = Vec::new();
    let e = table.decode(&[0, 5], &mut out).unwrap_err();
    assert_corrupt!(
        e,
        Corruption::IndexOutOfRange {
            what: "FSST code",
            index: 5,
            len: 1
        }
    );
    let e = table.decode(&[255], &mut out).unwrap_err();
    assert_corrupt!(e, Corruption::FsstEscapeAtEnd);
}
