//! Phase 2 of the evaluator: every title × every country into a [`LivenessTable`].
//!
//! Titles are split into contiguous ranges of about equal estimated work, one per thread, each
//! writing its own slice of the pre-sized row vector. A pair's reasons are a key — (flags,
//! primary language when a reason names it, the id of the set of missing required languages)
//! — interned per thread into a small local table; afterwards the distinct keys (a few
//! thousand) are materialized once into strings and interned into the [`Evaluator`]'s
//! persistent [`ReasonTable`], and a second parallel pass rewrites the local ids. Nothing is
//! allocated per pair.

use super::index::{
    bit, default_threads, flag, Base, Index, HAS_ORIGINAL_AUDIO, HAS_ORIGINAL_CAPTIONS, HAS_VIDEO,
    NO_LANG,
};
use crate::reasons::ReasonTable;
use crate::rules::Rules;
use crate::table::{LivenessTable, Row};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// No missing-language set.
const NO_SET: u32 = u32::MAX;

/// Evaluates indexes into [`LivenessTable`]s whose reason ids stay comparable across
/// evaluations: it owns the reason table they all intern into (see [`crate::reasons`]).
#[derive(Debug, Clone)]
pub struct Evaluator {
    reasons: Arc<ReasonTable>,
    threads: usize,
    /// Rows of a table no longer needed, to evaluate into (no fresh pages).
    spare: Vec<Row>,
}

impl Default for Evaluator {
    fn default() -> Self {
        Evaluator::new()
    }
}

impl Evaluator {
    /// An evaluator on all cores, with a new reason table.
    pub fn new() -> Evaluator {
        Evaluator::with_threads(default_threads())
    }

    /// An evaluator on at most `threads` threads (1 runs on the calling thread).
    pub fn with_threads(threads: usize) -> Evaluator {
        Evaluator {
            reasons: Arc::new(ReasonTable::new()),
            threads: threads.max(1),
            spare: Vec::new(),
        }
    }

    /// The reason table (shared with the tables evaluated so far).
    pub fn reasons(&self) -> &Arc<ReasonTable> {
        &self.reasons
    }

    /// The reason table, to intern more sets into it (reading a published output, say) so that
    /// their ids compare with the evaluated ones.
    pub fn reasons_mut(&mut self) -> &mut Arc<ReasonTable> {
        &mut self.reasons
    }

    /// Gives back a table that is no longer needed: the next evaluation writes into its rows
    /// instead of fresh memory (a service recycles the table of two cycles ago).
    pub fn recycle(&mut self, table: LivenessTable) {
        self.spare = table.into_rows();
    }

    /// Evaluates every title × every country of `index` at `now` under `rules`.
    pub fn evaluate(&mut self, index: &Index, now: i64, rules: &Rules) -> LivenessTable {
        let base = &*index.base;
        let nc = base.grid.country_codes.len();
        // Every row is overwritten below: a recycled buffer of the right length is used as is.
        let mut rows = std::mem::take(&mut self.spare);
        if rows.len() != base.grid.pairs() {
            rows.clear();
            rows.resize(base.grid.pairs(), Row::default());
        }
        let bounds = index.split(self.threads);
        let mut slices: Vec<&mut [Row]> = Vec::with_capacity(bounds.len());
        let mut rest: &mut [Row] = &mut rows;
        for w in bounds.windows(2) {
            let (head, tail) = rest.split_at_mut((w[1] - w[0]) * nc);
            slices.push(head);
            rest = tail;
        }
        let ranges: Vec<std::ops::Range<usize>> = bounds.windows(2).map(|w| w[0]..w[1]).collect();
        let locals: Vec<LocalReasons> = if slices.len() <= 1 {
            slices
                .iter_mut()
                .zip(&ranges)
                .map(|(slice, range)| index.evaluate_range(range.clone(), now, rules, slice))
                .collect()
        } else {
            crate::par::map(slices.iter_mut().zip(&ranges), |(slice, range)| {
                index.evaluate_range(range.clone(), now, rules, slice)
            })
        };

        // Local keys → global reason-set ids.
        let table = Arc::make_mut(&mut self.reasons);
        let mut strings: Vec<&str> = Vec::with_capacity(16);
        let remaps: Vec<Vec<u32>> = locals
            .iter()
            .map(|local| {
                local
                    .keys
                    .iter()
                    .map(|&(flags, primary, set)| {
                        strings.clear();
                        let missing = local
                            .miss_sets
                            .get(set as usize)
                            .map_or(&[][..], Vec::as_slice);
                        base.materialize(flags, primary as usize, missing, &mut strings);
                        table.intern(strings.iter().copied())
                    })
                    .collect()
            })
            .collect();
        let remap = |slice: &mut [Row], remap: &[u32]| {
            for r in slice {
                r.reasons = remap.get(r.reasons as usize).copied().unwrap_or(0);
            }
        };
        if slices.len() <= 1 {
            slices
                .iter_mut()
                .zip(&remaps)
                .for_each(|(s, m)| remap(s, m));
        } else {
            std::thread::scope(|s| {
                for (slice, m) in slices.iter_mut().zip(&remaps) {
                    s.spawn(move || remap(slice, m));
                }
            });
        }
        LivenessTable::new(base.grid.clone(), self.reasons.clone(), rows)
    }
}

/// One thread's reason keys: (flags, primary language or `NO_LANG`, missing set or `NO_SET`).
#[derive(Default)]
struct LocalReasons {
    /// (profile, mask over the profile's required languages) → missing set.
    mask_ids: FxHashMap<(u32, u64), u32>,
    miss_ids: FxHashMap<Vec<u32>, u32>,
    miss_sets: Vec<Vec<u32>>,
    key_ids: FxHashMap<u128, u32>,
    keys: Vec<(u16, u32, u32)>,
}

impl LocalReasons {
    /// The local id of the set of languages `req[k]` with `missing[k]` (ids ascending), for
    /// profile `p`; `langs` is scratch.
    fn miss_set_of(&mut self, p: u32, req: &[u32], missing: &[bool], langs: &mut Vec<u32>) -> u32 {
        let mask = (req.len() <= 64).then(|| {
            missing
                .iter()
                .enumerate()
                .fold(0u64, |m, (k, &b)| m | (u64::from(b) << k))
        });
        if let Some(&id) = mask.and_then(|m| self.mask_ids.get(&(p, m))) {
            return id;
        }
        langs.clear();
        langs.extend(req.iter().zip(missing).filter(|(_, &m)| m).map(|(&l, _)| l));
        let id = self.miss_set(langs);
        if let Some(m) = mask {
            self.mask_ids.insert((p, m), id);
        }
        id
    }

    /// The local id of a missing-language set (language ids ascending).
    fn miss_set(&mut self, langs: &[u32]) -> u32 {
        if let Some(&id) = self.miss_ids.get(langs) {
            return id;
        }
        let id = self.miss_sets.len() as u32;
        self.miss_sets.push(langs.to_vec());
        self.miss_ids.insert(langs.to_vec(), id);
        id
    }

    #[inline]
    fn key(&mut self, flags: u16, primary: u32, set: u32) -> u32 {
        let packed = (u128::from(flags) << 64) | (u128::from(primary) << 32) | u128::from(set);
        if let Some(&id) = self.key_ids.get(&packed) {
            return id;
        }
        let id = self.keys.len() as u32;
        self.keys.push((flags, primary, set));
        self.key_ids.insert(packed, id);
        id
    }
}

/// The video-level outcome of one title in every language profile.
struct ProfileOutcome {
    /// Union of the video-level flags.
    flags: Vec<u16>,
    /// Playable videos.
    playable: Vec<u32>,
    /// The local id of the set of required languages some video misses, or `NO_SET`.
    miss_set: Vec<u32>,
    /// Per profile, per required language (CSR like `profile_req`): some video misses it.
    missing: Vec<bool>,
    /// Scratch: the missing languages of one profile.
    langs: Vec<u32>,
}

impl Index {
    /// Phase 2: every title × every country at `now` on all available cores, with a fresh
    /// reason table (use an [`Evaluator`] to keep reason ids comparable across evaluations).
    pub fn evaluate(&self, now: i64, rules: &Rules) -> LivenessTable {
        Evaluator::new().evaluate(self, now, rules)
    }

    /// [`Index::evaluate`] on at most `threads` threads (1 runs on the calling thread).
    pub fn evaluate_with_threads(&self, now: i64, rules: &Rules, threads: usize) -> LivenessTable {
        Evaluator::with_threads(threads).evaluate(self, now, rules)
    }

    /// Splits the titles into at most `threads` contiguous ranges of about equal estimated
    /// work; returns the range bounds (at least `[0, n]`).
    fn split(&self, threads: usize) -> Vec<usize> {
        let b = &*self.base;
        let nt = b.grid.title_ids.len();
        let nc = b.grid.country_codes.len() as u64;
        let np = b.profile_primary.len() as u64;
        let threads = if (nt as u64) * nc < 4096 {
            1
        } else {
            threads.clamp(1, nt.max(1))
        };
        let weight = |t: usize| -> u64 {
            let sigs = u64::from(self.videos.sig_offsets[t + 1] - self.videos.sig_offsets[t]);
            let windows = u64::from(self.windows.offsets[t + 1] - self.windows.offsets[t]);
            nc * 16 + np * sigs * 2 + windows
        };
        let all: u64 = (0..nt).map(weight).sum();
        let mut bounds = vec![0usize];
        let mut acc = 0u64;
        for t in 0..nt {
            acc += weight(t);
            let k = bounds.len() as u64;
            if k < threads as u64 && acc * threads as u64 >= all * k {
                bounds.push(t + 1);
            }
        }
        bounds.push(nt);
        bounds.dedup();
        if bounds.len() == 1 {
            bounds.push(nt);
        }
        bounds
    }

    /// The video-level outcome of title `t` in every language profile, into `out`.
    fn evaluate_profiles(
        &self,
        t: usize,
        rules: &Rules,
        out: &mut ProfileOutcome,
        local: &mut LocalReasons,
    ) {
        let b = &*self.base;
        let v = &*self.videos;
        let w = b.lang_words;
        let orig = b.title_orig[t];
        let sigs = v.sig_offsets[t] as usize..v.sig_offsets[t + 1] as usize;
        out.flags.fill(0);
        out.playable.fill(0);
        out.miss_set.fill(NO_SET);
        out.missing.fill(false);
        if sigs.is_empty() {
            return;
        }
        for p in 0..b.profile_primary.len() {
            let primary = b.profile_primary[p];
            let captions = b.profile_captions[p] || rules.captions_in_every_country;
            let subtitle = rules.subtitle_in_primary_language && primary != orig;
            let req_range =
                b.profile_req_offsets[p] as usize..b.profile_req_offsets[p + 1] as usize;
            let req = &b.profile_req[req_range.clone()];
            let missing = &mut out.missing[req_range];
            let mut flags = 0u16;
            let mut any_missing = false;
            let mut playable = 0u32;
            for s in sigs.clone() {
                let sflags = v.sig_flags[s];
                let words = s * w..(s + 1) * w;
                let mut bad = 0u16;
                if sflags & HAS_VIDEO == 0 {
                    bad |= flag::MISSING_VIDEO;
                }
                if sflags & HAS_ORIGINAL_AUDIO == 0 {
                    bad |= flag::MISSING_ORIGINAL_AUDIO;
                }
                if captions
                    && sflags & HAS_ORIGINAL_CAPTIONS == 0
                    && !bit(&v.sig_captions[words.clone()], primary as usize)
                {
                    bad |= flag::MISSING_CAPTIONS;
                }
                if subtitle && !bit(&v.sig_sub[words.clone()], primary as usize) {
                    bad |= flag::MISSING_SUBTITLE;
                }
                let avail = &v.sig_audio_or_sub[words];
                let mut lacks_language = false;
                for (k, &l) in req.iter().enumerate() {
                    if l != orig && !bit(avail, l as usize) {
                        missing[k] = true;
                        lacks_language = true;
                    }
                }
                any_missing |= lacks_language;
                if bad == 0 && !lacks_language {
                    playable += v.sig_count[s];
                }
                flags |= bad;
            }
            out.flags[p] = flags;
            out.playable[p] = playable;
            if any_missing {
                out.miss_set[p] = local.miss_set_of(p as u32, req, missing, &mut out.langs);
            }
        }
    }

    /// Evaluates titles `range` × all countries into `out` (exactly their rows), with reason
    /// ids local to the returned table.
    fn evaluate_range(
        &self,
        range: std::ops::Range<usize>,
        now: i64,
        rules: &Rules,
        out: &mut [Row],
    ) -> LocalReasons {
        let b: &Base = &self.base;
        let win = &*self.windows;
        let w = b.lang_words;
        let cw = b.country_words;
        let nc = b.grid.country_codes.len();
        let np = b.profile_primary.len();
        let min_show = rules.min_playable_show_videos.max(1);
        let mut local = LocalReasons::default();
        let mut outcome = ProfileOutcome {
            flags: vec![0; np],
            playable: vec![0; np],
            miss_set: vec![NO_SET; np],
            missing: vec![false; b.profile_req.len()],
            langs: Vec::new(),
        };
        let mut rows = out.iter_mut();
        for t in range {
            self.evaluate_profiles(t, rules, &mut outcome, &mut local);
            let orig = b.title_orig[t];
            let total = self.videos.total[t];
            let show = b.title_is_show[t];
            let loc_name = &self.locs.name[t * w..(t + 1) * w];
            let loc_synopsis = &self.locs.synopsis[t * w..(t + 1) * w];
            let rated = &self.ratings.rated[t * cw..(t + 1) * cw];
            let mut r = win.offsets[t] as usize;
            let r_end = win.offsets[t + 1] as usize;
            for c in 0..nc {
                let mut flags = 0u16;

                // Windows: this title's windows are sorted by country.
                let mut any = false;
                let mut active = false;
                let mut next: Option<i64> = None;
                while r < r_end && win.country[r] as usize == c {
                    any = true;
                    let start = win.start[r];
                    if start <= now && win.end[r].is_none_or(|end| now < end) {
                        active = true;
                    }
                    if start > now && next.is_none_or(|n| start < n) {
                        next = Some(start);
                    }
                    r += 1;
                }
                if !any {
                    flags |= flag::NO_RIGHTS;
                } else if !active {
                    flags |= if next.is_some() {
                        flag::WINDOW_NOT_STARTED
                    } else {
                        flag::WINDOW_EXPIRED
                    };
                }

                if b.country_rating_required[c] && !bit(rated, c) {
                    flags |= flag::MISSING_RATING;
                }
                let primary = b.country_primary[c];
                if primary != orig && !bit(loc_name, primary as usize) {
                    flags |= flag::MISSING_TITLE_NAME;
                }
                if !bit(loc_synopsis, primary as usize) {
                    flags |= flag::MISSING_SYNOPSIS;
                }
                if total == 0 {
                    flags |= flag::NO_VIDEOS;
                }

                let p = b.country_profile[c] as usize;
                flags |= outcome.flags[p];
                let playable = outcome.playable[p];
                if show && min_show > 1 && playable < min_show {
                    flags |= flag::TOO_FEW_PLAYABLE_VIDEOS;
                }
                let reasons = local.key(
                    flags,
                    if flags & flag::WITH_PRIMARY != 0 {
                        primary
                    } else {
                        NO_LANG
                    },
                    outcome.miss_set[p],
                );
                // The caller sized `out` to exactly these pairs.
                if let Some(row) = rows.next() {
                    *row = Row::new(
                        t as u32,
                        c as u16,
                        flags & flag::TITLE_LEVEL == 0 && playable >= 1,
                        reasons,
                        playable,
                        total,
                        next,
                    );
                }
            }
        }
        local
    }
}
