//! JSON Lines input and output: a dataset directory into a [`Catalog`], and the `liveness`
//! export.
//!
//! A dataset directory holds the seven files `<dataset>.jsonl` of GATEKEEPER.md §1, one JSON
//! object a line, UTF-8. Loading:
//!
//! - reads each file whole and parses its lines with `serde_json::from_slice`, split across the
//!   machine's cores at line boundaries (no `String` per line);
//! - skips blank lines (empty or ASCII white space only), so a trailing newline or a `\r\n`
//!   ending is fine;
//! - stops at the first malformed line with [`JsonlError::Malformed`], which names the file and
//!   the 1-based line;
//! - applies "a later record with the same primary key replaces an earlier one": the surviving
//!   record takes the **position of the key's first occurrence** and the **content of its last
//!   one**, so a file without repeated keys loads in file order.
//!
//! The export writes [`Liveness`] records sorted by `title_id` then `country` (byte order), one
//! compact JSON object a line, fields in declaration order.

use crate::model::{Asset, Country, Liveness, Localization, Rating, Record, Right, Title, Video};
use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::hash_map::Entry;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Files smaller than this are parsed on the calling thread.
const PARALLEL_MIN_BYTES: usize = 1 << 20;
/// Records serialized per block by the parallel export.
const EXPORT_BLOCK: usize = 1 << 15;

/// What went wrong reading or writing JSON Lines.
#[derive(Debug, thiserror::Error)]
pub enum JsonlError {
    /// A file could not be read, created or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A line is not a valid record of its dataset: bad JSON, a missing or mistyped field, or an
    /// unknown enum value.
    #[error("{}:{line}:{}: {}", file.display(), source.column(), parse_message(source))]
    Malformed {
        /// The file.
        file: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The parser's account (its category tells syntax from data errors; its column is the
        /// column in the line).
        #[source]
        source: serde_json::Error,
    },
}

/// The parser's message without its " at line 1 column N" suffix (each line is parsed alone).
fn parse_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix)
        .map_or_else(|| text.clone(), str::to_string)
}

/// The seven upstream datasets, each with unique primary keys.
///
/// [`load_catalog`] guarantees the unique keys; a catalog built by hand should call
/// [`Catalog::dedup`] (the evaluators assume unique keys).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// `countries.jsonl`.
    pub countries: Vec<Country>,
    /// `titles.jsonl`.
    pub titles: Vec<Title>,
    /// `videos.jsonl`.
    pub videos: Vec<Video>,
    /// `rights.jsonl`.
    pub rights: Vec<Right>,
    /// `assets.jsonl`.
    pub assets: Vec<Asset>,
    /// `localizations.jsonl`.
    pub localizations: Vec<Localization>,
    /// `ratings.jsonl`.
    pub ratings: Vec<Rating>,
}

impl Catalog {
    /// Applies "a later record with the same key replaces an earlier one" to every dataset (the
    /// survivor keeps the first occurrence's position).
    pub fn dedup(&mut self) {
        dedup_in_place(&mut self.countries);
        dedup_in_place(&mut self.titles);
        dedup_in_place(&mut self.videos);
        dedup_in_place(&mut self.rights);
        dedup_in_place(&mut self.assets);
        dedup_in_place(&mut self.localizations);
        dedup_in_place(&mut self.ratings);
    }

    /// The number of records over all seven datasets.
    pub fn len(&self) -> usize {
        self.countries.len()
            + self.titles.len()
            + self.videos.len()
            + self.rights.len()
            + self.assets.len()
            + self.localizations.len()
            + self.ratings.len()
    }

    /// Whether all seven datasets are empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the seven datasets as `<dataset>.jsonl` files into `dir` (created if missing).
    pub fn write_dir(&self, dir: &Path) -> Result<(), JsonlError> {
        fs::create_dir_all(dir).map_err(|source| JsonlError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        write_dataset(dir, &self.countries)?;
        write_dataset(dir, &self.titles)?;
        write_dataset(dir, &self.videos)?;
        write_dataset(dir, &self.rights)?;
        write_dataset(dir, &self.assets)?;
        write_dataset(dir, &self.localizations)?;
        write_dataset(dir, &self.ratings)?;
        Ok(())
    }
}

/// Loads the seven `<dataset>.jsonl` files of `dir`; every file must exist.
///
/// With two cores or more, the datasets load in two groups of about equal size at once (the
/// countries, videos, assets and ratings; the titles, localizations and rights), each file's
/// lines split across half the cores. On failure the error is that of the first group's first
/// failing file, else the second's.
pub fn load_catalog(dir: &Path) -> Result<Catalog, JsonlError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_file = (cores / 2).max(1);
    let group_a = || -> Result<_, JsonlError> {
        Ok((
            load_dataset_with::<Country>(dir, per_file)?,
            load_dataset_with::<Video>(dir, per_file)?,
            load_dataset_with::<Asset>(dir, per_file)?,
            load_dataset_with::<Rating>(dir, per_file)?,
        ))
    };
    let group_b = || -> Result<_, JsonlError> {
        Ok((
            load_dataset_with::<Title>(dir, per_file)?,
            load_dataset_with::<Localization>(dir, per_file)?,
            load_dataset_with::<Right>(dir, per_file)?,
        ))
    };
    let (a, b) = crate::par::join(cores >= 2, group_a, group_b);
    let (countries, videos, assets, ratings) = a?;
    let (titles, localizations, rights) = b?;
    Ok(Catalog {
        countries,
        titles,
        videos,
        rights,
        assets,
        localizations,
        ratings,
    })
}

/// Loads `<dir>/<T::DATASET>.jsonl` with repeated keys resolved (see the module docs), parsing
/// on all cores.
pub fn load_dataset<T>(dir: &Path) -> Result<Vec<T>, JsonlError>
where
    T: Record + DeserializeOwned + Send,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    load_dataset_with(dir, cores)
}

/// [`load_dataset`], parsing on at most `threads` threads.
pub fn load_dataset_with<T>(dir: &Path, threads: usize) -> Result<Vec<T>, JsonlError>
where
    T: Record + DeserializeOwned + Send,
{
    let path = dir.join(format!("{}.jsonl", T::DATASET));
    let bytes = fs::read(&path).map_err(|source| JsonlError::Io {
        path: path.clone(),
        source,
    })?;
    let mut records = parse_lines_with::<T>(&bytes, threads).map_err(|(offset, source)| {
        let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64;
        JsonlError::Malformed {
            file: path,
            line,
            source,
        }
    })?;
    dedup_in_place(&mut records);
    Ok(records)
}

/// Parses JSON Lines `bytes` into records, in order, without resolving repeated keys.
///
/// On error returns the byte offset of the bad line's start and the parser's error.
pub fn parse_lines<T>(bytes: &[u8]) -> Result<Vec<T>, (usize, serde_json::Error)>
where
    T: DeserializeOwned + Send,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    parse_lines_with(bytes, cores)
}

/// [`parse_lines`] on at most `threads` threads (small inputs use one).
pub fn parse_lines_with<T>(
    bytes: &[u8],
    threads: usize,
) -> Result<Vec<T>, (usize, serde_json::Error)>
where
    T: DeserializeOwned + Send,
{
    let threads = if bytes.len() < PARALLEL_MIN_BYTES {
        1
    } else {
        threads.max(1)
    };
    if threads <= 1 {
        return parse_chunk(bytes, 0);
    }
    // Split at line boundaries into `threads` chunks of about equal size.
    let mut bounds = vec![0usize];
    for k in 1..threads {
        let target = (bytes.len() * k / threads).max(*bounds.last().unwrap_or(&0));
        let cut = bytes[target..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |p| target + p + 1);
        bounds.push(cut);
    }
    bounds.push(bytes.len());
    let results: Vec<Result<Vec<T>, (usize, serde_json::Error)>> =
        crate::par::map(bounds.windows(2), |w| {
            parse_chunk::<T>(&bytes[w[0]..w[1]], w[0])
        });
    let mut out = Vec::new();
    for part in results {
        let mut part = part?;
        if out.is_empty() {
            out = part;
        } else {
            out.append(&mut part);
        }
    }
    Ok(out)
}

/// Parses the lines of one chunk that starts at byte `base` of its file.
fn parse_chunk<T: DeserializeOwned>(
    chunk: &[u8],
    base: usize,
) -> Result<Vec<T>, (usize, serde_json::Error)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < chunk.len() {
        let end = chunk[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(chunk.len(), |p| pos + p);
        let line = &chunk[pos..end];
        if !line.iter().all(u8::is_ascii_whitespace) {
            match serde_json::from_slice(line) {
                Ok(record) => out.push(record),
                Err(e) => return Err((base + pos, e)),
            }
        }
        pos = end + 1;
    }
    Ok(out)
}

/// Resolves repeated primary keys: the last record of a key wins and takes the position of the
/// key's first occurrence.
///
/// Keys that strictly increase through the file (the usual export order) cannot repeat; that
/// case is recognized in one pass without hashing.
pub fn dedup_in_place<T: Record>(records: &mut Vec<T>) {
    if records.windows(2).all(|w| w[0].key() < w[1].key()) {
        return;
    }
    // slots[k] = index (into `records`) of the record that ends up at output position k.
    let mut slots: Vec<usize> = Vec::with_capacity(records.len());
    {
        let mut first: FxHashMap<T::Key<'_>, usize> =
            FxHashMap::with_capacity_and_hasher(records.len(), Default::default());
        for (i, record) in records.iter().enumerate() {
            match first.entry(record.key()) {
                Entry::Occupied(e) => slots[*e.get()] = i,
                Entry::Vacant(e) => {
                    e.insert(slots.len());
                    slots.push(i);
                }
            }
        }
    }
    if slots.len() == records.len() {
        return;
    }
    let mut taken: Vec<Option<T>> = std::mem::take(records).into_iter().map(Some).collect();
    // Every index appears at most once in `slots`, so each `take` finds a record.
    *records = slots.iter().filter_map(|&i| taken[i].take()).collect();
}

/// Writes `records` as `<dir>/<T::DATASET>.jsonl`, one compact JSON object a line.
pub fn write_dataset<T: Record + Serialize>(dir: &Path, records: &[T]) -> Result<(), JsonlError> {
    let path = dir.join(format!("{}.jsonl", T::DATASET));
    let io_err = |source| JsonlError::Io {
        path: path.clone(),
        source,
    };
    let file = fs::File::create(&path).map_err(io_err)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    for record in records {
        serde_json::to_writer(&mut w, record).map_err(|e| io_err(e.into()))?;
        w.write_all(b"\n").map_err(io_err)?;
    }
    w.flush().map_err(io_err)
}

/// Writes the `liveness` export to `path` (see [`write_liveness`]).
pub fn write_liveness_file(path: &Path, records: &[Liveness]) -> Result<(), JsonlError> {
    let io_err = |source| JsonlError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::create(path).map_err(io_err)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    write_liveness(&mut w, records).map_err(io_err)?;
    w.flush().map_err(io_err)
}

/// Writes the `liveness` export: one compact JSON object a line, sorted by `title_id` then
/// `country` (records that are not sorted already are written in sorted order).
///
/// Blocks of records are serialized on all cores, then written in order.
pub fn write_liveness<W: Write>(w: &mut W, records: &[Liveness]) -> io::Result<()> {
    let sorted = records
        .windows(2)
        .all(|p| export_key(&p[0]) <= export_key(&p[1]));
    let order: Vec<&Liveness> = if sorted {
        records.iter().collect()
    } else {
        let mut order: Vec<&Liveness> = records.iter().collect();
        order.sort_by(|a, b| export_key(a).cmp(&export_key(b)));
        order
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let blocks: Vec<&[&Liveness]> = order.chunks(EXPORT_BLOCK).collect();
    for round in blocks.chunks(threads) {
        let buffers: Vec<Vec<u8>> = crate::par::map(round, |block| serialize_block(block));
        for buffer in buffers {
            w.write_all(&buffer)?;
        }
    }
    Ok(())
}

/// The export order: title id, then country code bytes.
fn export_key(r: &Liveness) -> (i64, &str) {
    (r.title_id, &r.country)
}

/// Serializes records as JSON Lines into a fresh buffer.
///
/// Hand-written for speed, byte for byte what `serde_json::to_writer` writes for a
/// [`Liveness`] (the unit tests and the oracle tests compare the two).
fn serialize_block(block: &[&Liveness]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(block.len() * 160);
    for r in block {
        buf.extend_from_slice(b"{\"title_id\":");
        push_i64(&mut buf, r.title_id);
        buf.extend_from_slice(b",\"country\":");
        push_str(&mut buf, &r.country);
        buf.extend_from_slice(if r.live {
            b",\"live\":true,\"reasons\":["
        } else {
            b",\"live\":false,\"reasons\":["
        });
        for (i, reason) in r.reasons.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            push_str(&mut buf, reason);
        }
        buf.push(b']');
        push_tail(
            &mut buf,
            i64::from(r.playable_videos),
            i64::from(r.total_videos),
            r.next_window_start,
        );
    }
    buf
}

/// Appends the fields after `reasons` of an output line, and its end.
pub(crate) fn push_tail(
    buf: &mut Vec<u8>,
    playable_videos: i64,
    total_videos: i64,
    next_window_start: Option<i64>,
) {
    buf.extend_from_slice(b",\"playable_videos\":");
    push_i64(buf, playable_videos);
    buf.extend_from_slice(b",\"total_videos\":");
    push_i64(buf, total_videos);
    buf.extend_from_slice(b",\"next_window_start\":");
    match next_window_start {
        Some(t) => push_i64(buf, t),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b"}\n");
}

/// Appends the decimal form of `n`.
pub(crate) fn push_i64(buf: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Appends `s` as a JSON string: as is when nothing needs escaping, else as serde_json does.
fn push_str(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        // Writing a string into a Vec cannot fail.
        serde_json::to_writer(&mut *buf, s).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AssetKind, AssetStatus};
    use serde_json::error::Category;

    fn dir_with(dataset: &str, text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(format!("{dataset}.jsonl")), text).unwrap();
        dir
    }

    fn malformed<T: Record + DeserializeOwned + Send + std::fmt::Debug>(
        text: &str,
    ) -> (u64, Category, String) {
        let dir = dir_with(T::DATASET, text);
        match load_dataset::<T>(dir.path()) {
            Err(JsonlError::Malformed { file, line, source }) => {
                assert!(file.ends_with(format!("{}.jsonl", T::DATASET)));
                (line, source.classify(), source.to_string())
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    const GOOD_ASSET: &str =
        r#"{"id":1,"video_id":2,"kind":"VIDEO","language":null,"status":"READY"}"#;

    #[test]
    fn bad_json_is_a_syntax_error_with_its_line() {
        let text = format!("{GOOD_ASSET}\n\n{{\"id\":2,\n{GOOD_ASSET}\n");
        let (line, category, _) = malformed::<Asset>(&text);
        assert_eq!(line, 3);
        assert_eq!(category, Category::Eof);
        let (line, category, _) = malformed::<Asset>("not json\n");
        assert_eq!((line, category), (1, Category::Syntax));
    }

    #[test]
    fn unknown_enum_value_is_a_data_error() {
        let bad = r#"{"id":3,"video_id":2,"kind":"HOLOGRAM","language":null,"status":"READY"}"#;
        let (line, category, message) = malformed::<Asset>(&format!("{GOOD_ASSET}\n{bad}\n"));
        assert_eq!((line, category), (2, Category::Data));
        assert!(message.contains("HOLOGRAM"), "{message}");
        let bad = r#"{"id":3,"video_id":2,"kind":"AUDIO","language":"en","status":"ready"}"#;
        let (line, category, _) = malformed::<Asset>(&format!("{bad}\n"));
        assert_eq!((line, category), (1, Category::Data));
    }

    #[test]
    fn missing_or_mistyped_field_is_a_data_error() {
        let text = "{\"title_id\":1,\"country\":\"FR\",\"window_start\":0,\"window_end\":null}\n\
                    {\"title_id\":1,\"country\":\"DE\",\"window_start\":0}\n";
        let (line, category, message) = malformed::<Right>(text);
        assert_eq!((line, category), (2, Category::Data));
        assert!(message.contains("missing field `window_end`"), "{message}");
        let dir = dir_with("rights", text);
        let shown = load_dataset::<Right>(dir.path()).unwrap_err().to_string();
        assert!(
            shown.ends_with("rights.jsonl:2:46: missing field `window_end`"),
            "{shown}"
        );
        let text = r#"{"title_id":"1","language":"fr","name":null,"synopsis":null}"#;
        let (line, category, _) = malformed::<Localization>(text);
        assert_eq!((line, category), (1, Category::Data));
    }

    #[test]
    fn errors_in_a_large_file_report_the_right_line() {
        // Big enough to be parsed on several threads.
        let mut text = String::new();
        let mut n = 0;
        while text.len() < 3 * PARALLEL_MIN_BYTES {
            n += 1;
            text.push_str(&format!(
                r#"{{"id":{n},"video_id":2,"kind":"VIDEO","language":null,"status":"READY"}}"#
            ));
            text.push('\n');
        }
        let good = n;
        let dir = dir_with("assets", &text);
        assert_eq!(load_dataset::<Asset>(dir.path()).unwrap().len(), good);
        text.push_str("{oops}\n");
        let (line, category, _) = malformed::<Asset>(&text);
        assert_eq!((line, category), (good as u64 + 1, Category::Syntax));
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        match load_catalog(dir.path()) {
            Err(JsonlError::Io { path, .. }) => assert!(path.ends_with("countries.jsonl")),
            other => panic!("expected Io, got {other:?}"),
        }
    }

    #[test]
    fn later_records_replace_earlier_ones_in_first_position() {
        let line = |id: i64, lang: &str| {
            format!(
                r#"{{"id":{id},"video_id":9,"kind":"AUDIO","language":"{lang}","status":"READY"}}"#
            )
        };
        let text = [
            line(5, "a"),
            line(3, "b"),
            line(5, "c"),
            line(4, "d"),
            line(3, "e"),
        ]
        .join("\r\n");
        let dir = dir_with("assets", &text);
        let assets = load_dataset::<Asset>(dir.path()).unwrap();
        let got: Vec<(i64, &str)> = assets
            .iter()
            .map(|a| (a.id, a.language.as_deref().unwrap()))
            .collect();
        assert_eq!(got, [(5, "c"), (3, "e"), (4, "d")]);
        assert!(assets
            .iter()
            .all(|a| a.kind == AssetKind::Audio && a.status == AssetStatus::Ready));
    }

    #[test]
    fn hand_written_export_equals_serde_json() {
        let mut records = Vec::new();
        for (i, n) in [i64::MIN, -1, 0, 7, 10, 1_793_491_200_000, i64::MAX]
            .into_iter()
            .enumerate()
        {
            records.push(Liveness {
                title_id: n,
                country: ["FR", "", "Å\"\\\u{1}\n", "日本", "\u{7f}x"][i % 5].to_string(),
                live: i % 2 == 0,
                reasons: (0..i).map(|k| format!("R{k}:\t\u{2028}é")).collect(),
                playable_videos: [0, 1, u32::MAX][i % 3],
                total_videos: [u32::MAX, 0, 9][i % 3],
                next_window_start: (i % 3 != 0).then_some(n),
            });
        }
        let refs: Vec<&Liveness> = records.iter().collect();
        let ours = serialize_block(&refs);
        let mut theirs = Vec::new();
        for r in &records {
            serde_json::to_writer(&mut theirs, r).unwrap();
            theirs.push(b'\n');
        }
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
    }

    #[test]
    fn liveness_export_is_sorted_and_compact() {
        let rec = |title_id: i64, country: &str| Liveness {
            title_id,
            country: country.into(),
            live: false,
            reasons: vec!["NO_RIGHTS".into()],
            playable_videos: 0,
            total_videos: 1,
            next_window_start: None,
        };
        let records = [rec(2, "AD"), rec(-1, "FR"), rec(2, "AB"), rec(-1, "DE")];
        let mut out = Vec::new();
        write_liveness(&mut out, &records).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            r#"{"title_id":-1,"country":"DE","live":false,"reasons":["NO_RIGHTS"],"playable_videos":0,"total_videos":1,"next_window_start":null}"#
        );
        assert!(lines[1].contains(r#""title_id":-1,"country":"FR""#));
        assert!(lines[2].contains(r#""title_id":2,"country":"AB""#));
        assert!(lines[3].contains(r#""title_id":2,"country":"AD""#));
    }
}
