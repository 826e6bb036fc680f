//! `hollow export`: every record of an object type as JSON lines or CSV, streamed.
//!
//! Records are written by hand into one reused buffer (no allocation per record: integers
//! formatted in place, strings borrowed from the data and escaped only when they need it),
//! which goes to the output every 64 KiB. References are written as ordinals.

use std::io::Write;

use hollow::read::ColumnView;
use hollow::{ReadState, Value};

use crate::cli::Format;
use crate::fail::{io_fail, lib, Failure};
use crate::ui;

/// Output is handed to the writer in chunks of about this size.
const CHUNK: usize = 64 * 1024;

/// Writes every record of `type_name` in `format`; returns the number of records.
pub fn export(
    state: &ReadState,
    type_name: &str,
    format: Format,
    out: &mut impl Write,
) -> Result<u64, Failure> {
    let view = state.object(type_name).map_err(lib("reading the type"))?;
    let columns: &[ColumnView<'_>] = view.columns();
    let fields = &view.schema().fields;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    // JSON: the `"name":` prefixes, `{` before the first and `,` before the others.
    let prefixes: Vec<Vec<u8>> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut p = vec![if i == 0 { b'{' } else { b',' }];
            json_str(&mut p, &f.name);
            p.push(b':');
            p
        })
        .collect();
    if format == Format::Csv {
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            csv_str(&mut buf, f.name.as_bytes());
        }
        buf.push(b'\n');
    }
    let bar = ui::progress(view.len(), "exporting");
    let err = lib("reading a record");
    let mut n = 0u64;
    for o in view.ordinals() {
        match format {
            Format::Jsonl => {
                for (c, p) in columns.iter().zip(&prefixes) {
                    buf.extend_from_slice(p);
                    json_value(&mut buf, &c.get(o).map_err(&err)?);
                }
                if columns.is_empty() {
                    buf.push(b'{');
                }
                buf.extend_from_slice(b"}\n");
            }
            Format::Csv => {
                for (i, c) in columns.iter().enumerate() {
                    if i > 0 {
                        buf.push(b',');
                    }
                    csv_value(&mut buf, &c.get(o).map_err(&err)?);
                }
                buf.push(b'\n');
            }
        }
        n += 1;
        if buf.len() >= CHUNK {
            out.write_all(&buf).map_err(io_fail)?;
            buf.clear();
            bar.set_position(n);
        }
    }
    out.write_all(&buf).map_err(io_fail)?;
    bar.finish_and_clear();
    Ok(n)
}

/// Appends the decimal digits of `v`.
fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn push_i64(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    push_u64(buf, v.unsigned_abs());
}

fn push_f64(buf: &mut Vec<u8>, v: f64, null: &[u8]) {
    if v.is_finite() {
        // serde_json writes the shortest representation that reads back the same value.
        let _ = serde_json::to_writer(&mut *buf, &v);
    } else {
        buf.extend_from_slice(null);
    }
}

/// Appends `v` as a JSON value (bytes as a lossy UTF-8 string, references as ordinals).
pub fn json_value(buf: &mut Vec<u8>, v: &Value<'_>) {
    match v {
        Value::Null => buf.extend_from_slice(b"null"),
        Value::Bool(true) => buf.extend_from_slice(b"true"),
        Value::Bool(false) => buf.extend_from_slice(b"false"),
        Value::I32(i) => push_i64(buf, *i as i64),
        Value::I64(i) => push_i64(buf, *i),
        Value::F32(f) => push_f64(buf, *f as f64, b"null"),
        Value::F64(f) => push_f64(buf, *f, b"null"),
        Value::Str(s) => json_str(buf, s),
        Value::Bytes(b) => json_str(buf, &String::from_utf8_lossy(b)),
        Value::Ref(r) => push_u64(buf, *r as u64),
    }
}

/// Whether a byte must be escaped inside a JSON string.
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends `s` as a JSON string.
pub fn json_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        buf.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[(b >> 4) as usize]);
                buf.push(HEX[(b & 15) as usize]);
            }
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// Appends `v` as a CSV field: null is empty, references are ordinals.
fn csv_value(buf: &mut Vec<u8>, v: &Value<'_>) {
    match v {
        Value::Null => {}
        Value::Str(s) => csv_str(buf, s.as_bytes()),
        Value::Bytes(b) => csv_str(buf, b),
        Value::F32(f) => push_f64(buf, *f as f64, b""),
        Value::F64(f) => push_f64(buf, *f, b""),
        other => json_value(buf, other),
    }
}

/// Appends a CSV field, quoted (with `"` doubled) when it holds a comma, quote or line end,
/// or is empty (so that an empty string differs from null).
fn csv_str(buf: &mut Vec<u8>, s: &[u8]) {
    if !s.is_empty() && !s.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.extend_from_slice(s);
        return;
    }
    buf.push(b'"');
    for &b in s {
        if b == b'"' {
            buf.push(b'"');
        }
        buf.push(b);
    }
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_like_serde_json() {
        for s in [
            "",
            "plain",
            "a\"b\\c",
            "line\nbreak\ttab\r",
            "\u{1}\u{1f}",
            "é ünï",
        ] {
            let mut buf = Vec::new();
            json_str(&mut buf, s);
            let back: String = serde_json::from_slice(&buf).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn integers_and_csv_quoting() {
        let mut buf = Vec::new();
        for v in [0i64, 7, -7, i64::MIN, i64::MAX] {
            buf.clear();
            push_i64(&mut buf, v);
            assert_eq!(buf, v.to_string().as_bytes());
        }
        buf.clear();
        csv_str(&mut buf, b"a,\"b\"");
        assert_eq!(buf, b"\"a,\"\"b\"\"\"");
        buf.clear();
        csv_value(&mut buf, &Value::Null);
        csv_str(&mut buf, b"");
        assert_eq!(buf, b"\"\"");
    }
}
