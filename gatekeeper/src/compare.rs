//! Comparing two liveness tables: a [`DiffSummary`] by reason (pairs gaining and losing each
//! reason, live → not live and not live → live), and a printable listing of the changed pairs
//! with their old and new `live` and `reasons`.
//!
//! Used by PREPROD (its output against PROD's), `gatekeeper diff` and `gatekeeper replay`.

use crate::table::{LivenessTable, Row, TableDiff};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

/// Counts of what changed from an older table to a newer one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffSummary {
    /// Pairs in both tables whose outcome differs.
    pub changed: u64,
    /// Pairs only in the newer table.
    pub added: u64,
    /// Pairs only in the older table.
    pub removed: u64,
    /// Pairs live in the older table and not live in the newer.
    pub live_to_not_live: u64,
    /// Pairs not live in the older table and live in the newer.
    pub not_live_to_live: u64,
    /// Per reason: pairs that have it in the newer table and not in the older (added pairs
    /// count with all their reasons).
    pub gained: BTreeMap<String, u64>,
    /// Per reason: pairs that had it in the older table and not in the newer (removed pairs
    /// count with all their reasons).
    pub lost: BTreeMap<String, u64>,
}

impl DiffSummary {
    /// Summarizes `diff` (from [`LivenessTable::diff`] of `old` and `new`).
    pub fn new(old: &LivenessTable, new: &LivenessTable, diff: &TableDiff) -> DiffSummary {
        let mut s = DiffSummary::default();
        // Reason-set pairs repeat a lot: count them first, expand into strings once each.
        let mut set_pairs: FxHashMap<(Option<u32>, Option<u32>), u64> = FxHashMap::default();
        for &(i, j) in &diff.changed {
            let a = i.map(|i| &old.rows()[i as usize]);
            let b = j.map(|j| &new.rows()[j as usize]);
            match (a, b) {
                (Some(a), Some(b)) => {
                    s.changed += 1;
                    if a.live && !b.live {
                        s.live_to_not_live += 1;
                    }
                    if !a.live && b.live {
                        s.not_live_to_live += 1;
                    }
                }
                (None, Some(_)) => s.added += 1,
                (Some(_), None) => s.removed += 1,
                (None, None) => {}
            }
            *set_pairs
                .entry((a.map(|r| r.reasons), b.map(|r| r.reasons)))
                .or_default() += 1;
        }
        for ((a, b), n) in set_pairs {
            let before: Vec<&str> = a.map_or_else(Vec::new, |a| old.reasons().get(a).collect());
            let after: Vec<&str> = b.map_or_else(Vec::new, |b| new.reasons().get(b).collect());
            for r in &after {
                if !before.contains(r) {
                    *s.gained.entry(r.to_string()).or_default() += n;
                }
            }
            for r in &before {
                if !after.contains(r) {
                    *s.lost.entry(r.to_string()).or_default() += n;
                }
            }
        }
        s
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.changed == 0 && self.added == 0 && self.removed == 0
    }
}

impl DiffSummary {
    /// The counts by reason code, languages folded (`MISSING_SUBTITLE:fr` and
    /// `MISSING_SUBTITLE:de` count as `MISSING_SUBTITLE:*`): (code, gained, lost, reasons
    /// folded), most affected first.
    pub fn by_code(&self) -> Vec<(String, u64, u64, usize)> {
        let mut codes: BTreeMap<String, (u64, u64, usize)> = BTreeMap::new();
        let code = |r: &str| {
            r.split_once(':')
                .map_or_else(|| r.to_string(), |(c, _)| format!("{c}:*"))
        };
        for r in self
            .gained
            .keys()
            .chain(self.lost.keys().filter(|r| !self.gained.contains_key(*r)))
        {
            let e = codes.entry(code(r)).or_default();
            e.0 += self.gained.get(r).copied().unwrap_or(0);
            e.1 += self.lost.get(r).copied().unwrap_or(0);
            e.2 += 1;
        }
        let mut out: Vec<(String, u64, u64, usize)> = codes
            .into_iter()
            .map(|(c, (g, l, n))| (c, g, l, n))
            .collect();
        out.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then(a.0.cmp(&b.0)));
        out
    }
}

impl DiffSummary {
    /// One line per reason (languages not folded), most affected first, at most `limit`.
    pub fn by_reason(&self, limit: usize) -> String {
        let mut reasons: Vec<(&String, u64, u64)> = self
            .gained
            .keys()
            .chain(self.lost.keys().filter(|r| !self.gained.contains_key(*r)))
            .map(|r| {
                (
                    r,
                    self.gained.get(r).copied().unwrap_or(0),
                    self.lost.get(r).copied().unwrap_or(0),
                )
            })
            .collect();
        reasons.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then(a.0.cmp(b.0)));
        let mut out = String::new();
        for (r, gained, lost) in reasons.iter().take(limit) {
            let _ = writeln!(
                out,
                "  {r:<32} {:>9} {:>9}",
                format!("+{gained}"),
                format!("-{lost}")
            );
        }
        if reasons.len() > limit {
            let _ = writeln!(out, "  ... and {} more reasons", reasons.len() - limit);
        }
        out
    }
}

impl fmt::Display for DiffSummary {
    /// A multi-line summary: totals, then one line per reason code (languages folded; the
    /// per-reason counts are in [`DiffSummary::gained`] and [`DiffSummary::lost`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} pairs changed ({} live -> not live, {} not live -> live), {} added, {} removed",
            self.changed, self.live_to_not_live, self.not_live_to_live, self.added, self.removed
        )?;
        if !self.gained.is_empty() || !self.lost.is_empty() {
            writeln!(f, "  {:<32} {:>9} {:>9}", "reason", "gained", "lost")?;
        }
        for (code, gained, lost, n) in self.by_code() {
            let languages = if code.ends_with(":*") {
                format!("  ({n} languages)")
            } else {
                String::new()
            };
            writeln!(
                f,
                "  {code:<32} {:>9} {:>9}{languages}",
                format!("+{gained}"),
                format!("-{lost}")
            )?;
        }
        Ok(())
    }
}

/// One changed pair as text: `title|country: live=A [reasons] -> live=B [reasons]` (`absent`
/// for a side without the pair).
pub fn describe_change(
    old: &LivenessTable,
    new: &LivenessTable,
    change: (Option<u32>, Option<u32>),
) -> String {
    let side = |t: &LivenessTable, r: Option<&Row>| -> String {
        match r {
            None => "absent".to_string(),
            Some(r) => format!("live={} {}", r.live, t.reasons().json(r.reasons)),
        }
    };
    let a = change.0.map(|i| &old.rows()[i as usize]);
    let b = change.1.map(|j| &new.rows()[j as usize]);
    let (title, country) = match (a, b) {
        (_, Some(b)) => (new.title_id(b), new.country(b)),
        (Some(a), None) => (old.title_id(a), old.country(a)),
        (None, None) => (0, ""),
    };
    let mut s = String::new();
    let _ = write!(s, "{title}|{country}: {} -> {}", side(old, a), side(new, b));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reasons::ReasonTable;
    use crate::table::Grid;
    use std::sync::Arc;

    #[test]
    fn summary_counts_reasons_and_live_flips() {
        let mut reasons = ReasonTable::new();
        let a = reasons.intern(["MISSING_RATING"]);
        let b = reasons.intern(["MISSING_RATING", "NO_RIGHTS"]);
        let reasons = Arc::new(reasons);
        let grid = Arc::new(Grid::new(vec![1, 2], vec!["FR".into(), "US".into()]));
        let old = LivenessTable::new(
            grid.clone(),
            reasons.clone(),
            vec![
                Row::new(0, 0, true, 0, 1, 1, None),
                Row::new(0, 1, false, a, 1, 1, None),
                Row::new(1, 0, false, b, 0, 1, None),
                Row::new(1, 1, true, 0, 1, 1, None),
            ],
        );
        let new = LivenessTable::new(
            grid,
            reasons,
            vec![
                Row::new(0, 0, false, a, 1, 1, None),
                Row::new(0, 1, false, b, 1, 1, None),
                Row::new(1, 0, true, 0, 1, 1, None),
                Row::new(1, 1, true, 0, 1, 1, None),
            ],
        );
        let diff = old.diff(&new);
        let s = DiffSummary::new(&old, &new, &diff);
        assert_eq!(
            (
                s.changed,
                s.live_to_not_live,
                s.not_live_to_live,
                s.added,
                s.removed
            ),
            (3, 1, 1, 0, 0)
        );
        assert_eq!(s.gained.get("MISSING_RATING"), Some(&1));
        assert_eq!(s.gained.get("NO_RIGHTS"), Some(&1));
        assert_eq!(s.lost.get("MISSING_RATING"), Some(&1));
        assert_eq!(s.lost.get("NO_RIGHTS"), Some(&1));
        assert!(s.to_string().contains("1 live -> not live"));
        assert_eq!(
            s.by_code(),
            vec![
                ("MISSING_RATING".to_string(), 1, 1, 1),
                ("NO_RIGHTS".to_string(), 1, 1, 1)
            ]
        );
        assert!(s.by_reason(1).contains("1 more"));
        assert_eq!(
            describe_change(&old, &new, diff.changed[0]),
            r#"1|FR: live=true [] -> live=false ["MISSING_RATING"]"#
        );
    }
}
