//! The compact form of a liveness result: [`Row`]s over a [`Grid`] of titles × countries, with
//! their reason sets interned in a [`ReasonTable`].
//!
//! A [`LivenessTable`] is what the engine evaluates, what the service publishes and diffs
//! against the previous cycle, and what replay and the PREPROD diff read back from a published
//! output state. Nothing in it is allocated per pair: a row is 32 bytes of integers, and the
//! strings (title ids, country codes, reasons) live once in the grid and the reason table.
//! [`Liveness`] records and the JSON Lines export are materialized on demand.

use crate::jsonl::{push_i64, push_tail};
use crate::model::Liveness;
use crate::reasons::ReasonTable;
use std::cmp::Ordering;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

/// Rows serialized per block by the parallel export.
const EXPORT_BLOCK: usize = 1 << 15;

/// `next` of a row without a next window start. A next start is greater than `now`, so it is
/// never `i64::MIN`.
const NO_NEXT: i64 = i64::MIN;

/// The titles and countries a table's rows refer to, each sorted and without repeats (title
/// ids ascending, country codes in byte order): the export order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grid {
    pub(crate) title_ids: Vec<i64>,
    pub(crate) country_codes: Vec<String>,
}

impl Grid {
    /// A grid; the caller guarantees both lists are sorted and without repeats.
    pub(crate) fn new(title_ids: Vec<i64>, country_codes: Vec<String>) -> Grid {
        Grid {
            title_ids,
            country_codes,
        }
    }

    /// Title ids, ascending.
    pub fn title_ids(&self) -> &[i64] {
        &self.title_ids
    }

    /// Country codes, in byte order.
    pub fn country_codes(&self) -> &[String] {
        &self.country_codes
    }

    /// Titles × countries.
    pub fn pairs(&self) -> usize {
        self.title_ids.len() * self.country_codes.len()
    }
}

/// One (title, country) outcome: indexes into a [`Grid`], a reason-set id into a
/// [`ReasonTable`], and the counts. 32 bytes, `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Row {
    /// Index of the title in [`Grid::title_ids`].
    pub title: u32,
    /// Index of the country in [`Grid::country_codes`].
    pub country: u16,
    /// No title-level reason applies and at least one video is playable.
    pub live: bool,
    /// The reason set's id in the table's [`ReasonTable`].
    pub reasons: u32,
    /// How many of the title's videos are playable in the country.
    pub playable_videos: u32,
    /// How many videos the title has.
    pub total_videos: u32,
    next: i64,
}

impl Row {
    /// A row.
    pub fn new(
        title: u32,
        country: u16,
        live: bool,
        reasons: u32,
        playable_videos: u32,
        total_videos: u32,
        next_window_start: Option<i64>,
    ) -> Row {
        // `Some(i64::MIN)` cannot be a start after `now`; it reads back as `None`.
        Row {
            title,
            country,
            live,
            reasons,
            playable_videos,
            total_videos,
            next: next_window_start.unwrap_or(NO_NEXT),
        }
    }

    /// The smallest window start after `now`, if any.
    #[inline]
    pub fn next_window_start(&self) -> Option<i64> {
        (self.next != NO_NEXT).then_some(self.next)
    }

    /// Whether the outcome (everything but the pair) equals `other`'s, reason ids compared as
    /// ids (rows of one reason table).
    #[inline]
    pub fn same_outcome(&self, other: &Row) -> bool {
        self.live == other.live
            && self.reasons == other.reasons
            && self.playable_videos == other.playable_videos
            && self.total_videos == other.total_videos
            && self.next == other.next
    }
}

/// Liveness rows sorted by (title id, country code), with the grid and reason table they refer
/// to (see the module docs).
#[derive(Debug, Clone)]
pub struct LivenessTable {
    grid: Arc<Grid>,
    reasons: Arc<ReasonTable>,
    rows: Vec<Row>,
}

/// The pairs that differ between an older and a newer table: `(index in old, index in new)`,
/// in export order. `(None, Some)` is a new pair, `(Some, None)` a removed one, `(Some, Some)`
/// a pair whose outcome changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableDiff {
    /// The differing pairs.
    pub changed: Vec<(Option<u32>, Option<u32>)>,
}

impl TableDiff {
    /// Whether the tables hold the same records.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
    }

    /// The number of differing pairs.
    pub fn len(&self) -> usize {
        self.changed.len()
    }

    /// Pairs only in the newer table, changed pairs, pairs only in the older table.
    pub fn counts(&self) -> (usize, usize, usize) {
        let added = self.changed.iter().filter(|c| c.0.is_none()).count();
        let removed = self.changed.iter().filter(|c| c.1.is_none()).count();
        (added, self.changed.len() - added - removed, removed)
    }
}

impl LivenessTable {
    /// A table. `rows` must be sorted by (title id, country code) without repeated pairs and
    /// refer to `grid` and `reasons`.
    pub fn new(grid: Arc<Grid>, reasons: Arc<ReasonTable>, rows: Vec<Row>) -> LivenessTable {
        LivenessTable {
            grid,
            reasons,
            rows,
        }
    }

    /// An empty table.
    pub fn empty() -> LivenessTable {
        LivenessTable::new(
            Arc::new(Grid::default()),
            Arc::new(ReasonTable::new()),
            Vec::new(),
        )
    }

    /// The rows, in export order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The rows, the table dropped.
    pub fn into_rows(self) -> Vec<Row> {
        self.rows
    }

    /// The grid.
    pub fn grid(&self) -> &Arc<Grid> {
        &self.grid
    }

    /// The reason table.
    pub fn reasons(&self) -> &Arc<ReasonTable> {
        &self.reasons
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many records are live.
    pub fn live_count(&self) -> usize {
        self.rows.iter().filter(|r| r.live).count()
    }

    /// The title id of a row.
    #[inline]
    pub fn title_id(&self, row: &Row) -> i64 {
        self.grid
            .title_ids
            .get(row.title as usize)
            .copied()
            .unwrap_or_default()
    }

    /// The country code of a row.
    #[inline]
    pub fn country(&self, row: &Row) -> &str {
        self.grid
            .country_codes
            .get(row.country as usize)
            .map_or("", String::as_str)
    }

    /// The reasons of a row.
    pub fn reason_list(&self, row: &Row) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.reasons.get(row.reasons)
    }

    /// The record of a row.
    pub fn liveness(&self, row: &Row) -> Liveness {
        Liveness {
            title_id: self.title_id(row),
            country: self.country(row).to_string(),
            live: row.live,
            reasons: self.reasons.to_vec(row.reasons),
            playable_videos: row.playable_videos,
            total_videos: row.total_videos,
            next_window_start: row.next_window_start(),
        }
    }

    /// Every record, materialized (tests and small tables).
    pub fn to_liveness(&self) -> Vec<Liveness> {
        self.rows.iter().map(|r| self.liveness(r)).collect()
    }

    /// The row of a pair, if any (binary search).
    pub fn find(&self, title_id: i64, country: &str) -> Option<&Row> {
        self.rows
            .binary_search_by(|r| (self.title_id(r), self.country(r)).cmp(&(title_id, country)))
            .ok()
            .map(|i| &self.rows[i])
    }

    /// The rows of one title (a contiguous run).
    pub fn title_rows(&self, title_id: i64) -> &[Row] {
        let start = self.rows.partition_point(|r| self.title_id(r) < title_id);
        let end = self.rows.partition_point(|r| self.title_id(r) <= title_id);
        &self.rows[start..end]
    }

    /// Whether `a` (of `self`) and `b` (of `other`) have the same outcome, comparing reasons by
    /// id below the tables' common prefix and by content above it.
    pub fn same_outcome(&self, a: &Row, other: &LivenessTable, b: &Row) -> bool {
        self.same_outcome_within(a, other, b, self.reasons.common_prefix(&other.reasons))
    }

    #[inline]
    fn same_outcome_within(&self, a: &Row, other: &LivenessTable, b: &Row, prefix: u32) -> bool {
        if a.reasons < prefix && b.reasons < prefix {
            a.same_outcome(b)
        } else {
            a.live == b.live
                && a.playable_videos == b.playable_videos
                && a.total_videos == b.total_videos
                && a.next == b.next
                && self.reasons.get(a.reasons).eq(other.reasons.get(b.reasons))
        }
    }

    /// The pairs that differ from `self` (older) to `newer`.
    pub fn diff(&self, newer: &LivenessTable) -> TableDiff {
        let mut changed = Vec::new();
        let prefix = self.reasons.common_prefix(&newer.reasons);
        let same_grid = Arc::ptr_eq(&self.grid, &newer.grid) || *self.grid == *newer.grid;
        let full = self.rows.len() == self.grid.pairs() && newer.rows.len() == newer.grid.pairs();
        if same_grid && full {
            // Same pairs in the same order: compare in place.
            for (i, (a, b)) in self.rows.iter().zip(&newer.rows).enumerate() {
                if !self.same_outcome_within(a, newer, b, prefix) {
                    changed.push((Some(i as u32), Some(i as u32)));
                }
            }
            return TableDiff { changed };
        }
        // Merge by (title id, country code).
        let (mut i, mut j) = (0usize, 0usize);
        while i < self.rows.len() || j < newer.rows.len() {
            let order = match (self.rows.get(i), newer.rows.get(j)) {
                (Some(a), Some(b)) => {
                    (self.title_id(a), self.country(a)).cmp(&(newer.title_id(b), newer.country(b)))
                }
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match order {
                Ordering::Less => {
                    changed.push((Some(i as u32), None));
                    i += 1;
                }
                Ordering::Greater => {
                    changed.push((None, Some(j as u32)));
                    j += 1;
                }
                Ordering::Equal => {
                    if !self.same_outcome_within(&self.rows[i], newer, &newer.rows[j], prefix) {
                        changed.push((Some(i as u32), Some(j as u32)));
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        TableDiff { changed }
    }

    /// Writes the JSON Lines export (GATEKEEPER.md §3) to `path`.
    pub fn write_jsonl_file(&self, path: &Path) -> io::Result<()> {
        let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
        self.write_jsonl(&mut w)?;
        w.flush()
    }

    /// Writes the JSON Lines export: one compact object a line in export order, byte for byte
    /// what `serde_json` writes for the [`Liveness`] records. Blocks are serialized on all
    /// cores.
    pub fn write_jsonl<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let countries: Vec<String> = self
            .grid
            .country_codes
            .iter()
            .map(|c| {
                let mut s = String::new();
                crate::reasons::push_json_str(&mut s, c);
                s
            })
            .collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let blocks: Vec<&[Row]> = self.rows.chunks(EXPORT_BLOCK).collect();
        for round in blocks.chunks(threads) {
            let buffers: Vec<Vec<u8>> =
                crate::par::map(round, |block| self.serialize_block(block, &countries));
            for buffer in buffers {
                w.write_all(&buffer)?;
            }
        }
        Ok(())
    }

    fn serialize_block(&self, block: &[Row], countries: &[String]) -> Vec<u8> {
        let mut buf = Vec::with_capacity(block.len() * 160);
        for r in block {
            buf.extend_from_slice(b"{\"title_id\":");
            push_i64(&mut buf, self.title_id(r));
            buf.extend_from_slice(b",\"country\":");
            buf.extend_from_slice(
                countries
                    .get(r.country as usize)
                    .map_or("\"\"", String::as_str)
                    .as_bytes(),
            );
            buf.extend_from_slice(if r.live {
                b",\"live\":true,\"reasons\":"
            } else {
                b",\"live\":false,\"reasons\":"
            });
            buf.extend_from_slice(self.reasons.json(r.reasons).as_bytes());
            push_tail(
                &mut buf,
                i64::from(r.playable_videos),
                i64::from(r.total_videos),
                r.next_window_start(),
            );
        }
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(
        titles: Vec<i64>,
        codes: &[&str],
        rows: Vec<Row>,
        reasons: Arc<ReasonTable>,
    ) -> LivenessTable {
        LivenessTable::new(
            Arc::new(Grid::new(
                titles,
                codes.iter().map(|c| c.to_string()).collect(),
            )),
            reasons,
            rows,
        )
    }

    #[test]
    fn rows_are_small_and_round_trip() {
        assert_eq!(std::mem::size_of::<Row>(), 32);
        let r = Row::new(1, 2, true, 3, 4, 5, Some(-7));
        assert_eq!(r.next_window_start(), Some(-7));
        assert_eq!(
            Row::new(1, 2, true, 3, 4, 5, None).next_window_start(),
            None
        );
    }

    #[test]
    fn export_equals_serde_json() {
        let mut reasons = ReasonTable::new();
        let odd = reasons.intern(["R0:\t\u{2028}é", "Q\"\\"]);
        let reasons = Arc::new(reasons);
        let rows = vec![
            Row::new(0, 0, false, odd, 0, u32::MAX, Some(i64::MAX)),
            Row::new(0, 1, true, 0, 1, 1, None),
            Row::new(1, 0, false, odd, 2, 3, Some(-1)),
        ];
        let t = table(vec![i64::MIN, 7], &["Å\"\\\u{1}\n", "日本"], rows, reasons);
        let mut ours = Vec::new();
        t.write_jsonl(&mut ours).unwrap();
        let mut theirs = Vec::new();
        for r in t.to_liveness() {
            serde_json::to_writer(&mut theirs, &r).unwrap();
            theirs.push(b'\n');
        }
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
        assert_eq!(
            t.find(7, "Å\"\\\u{1}\n").map(|r| r.playable_videos),
            Some(2)
        );
        assert_eq!(t.title_rows(i64::MIN).len(), 2);
    }

    #[test]
    fn diff_merges_by_pair_and_compares_across_tables() {
        let mut a = ReasonTable::new();
        let x = a.intern(["X"]);
        let mut b = ReasonTable::new();
        let _ = b.intern(["Y"]);
        let bx = b.intern(["X"]);
        let old = table(
            vec![1, 2],
            &["AA", "BB"],
            vec![
                Row::new(0, 0, false, x, 0, 0, None),
                Row::new(0, 1, true, 0, 1, 1, None),
                Row::new(1, 0, true, 0, 1, 1, None),
            ],
            Arc::new(a),
        );
        let new = table(
            vec![1, 3],
            &["AA", "BB"],
            vec![
                Row::new(0, 0, false, bx, 0, 0, None),
                Row::new(0, 1, false, 0, 1, 1, None),
                Row::new(1, 1, true, 0, 1, 1, None),
            ],
            Arc::new(b),
        );
        let d = old.diff(&new);
        assert_eq!(
            d.changed,
            vec![(Some(1), Some(1)), (Some(2), None), (None, Some(2))]
        );
        assert_eq!(d.counts(), (1, 1, 1));
        assert!(old.diff(&old).is_empty());
    }
}
