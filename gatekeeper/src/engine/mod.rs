//! The fast liveness evaluator: GATEKEEPER.md §3 over every (title, country) pair.
//!
//! Two phases, timed apart by benchmarks:
//!
//! 1. [`Index::build`] (the `build` submodule) turns a borrowed [`Catalog`] into compact
//!    integer-indexed arrays: countries sorted by code and titles sorted by id (so output comes
//!    out in export order), language strings interned to `u32` ids in byte order, per-title
//!    rights windows and video "coverage signatures" in CSR arrays (offsets + flat values),
//!    ratings and localizations as per-title bitsets. Records that point at ids that do not
//!    exist are dropped there.
//! 2. [`Index::evaluate`] walks every title × every country on all cores (contiguous title
//!    ranges balanced by estimated work, `std::thread::scope`). The hot loop computes reasons as
//!    bit flags and language ids, then materializes them in byte order without sorting: the
//!    reason codes' fixed prefixes already order the groups, and language ids follow the
//!    languages' byte order.
//!
//! **Coverage signatures.** Whether a video is playable in a country depends only on which
//! `READY` assets it has: a `VIDEO` picture, `AUDIO` in the title's original language,
//! `CLOSED_CAPTIONS` in the original language (three flags), and the sets of countries'
//! languages it has as audio-or-subtitle, as subtitle, and as captions (three bitsets over the
//! languages that appear in `countries`). The episodes of a show mostly share a few signatures,
//! so each title stores its distinct signatures with a multiplicity.
//!
//! **Language profiles.** A country enters the video-level rules only through its profile:
//! (primary language, `requires_captions`, required languages). Countries sharing a profile
//! (all the Spanish-speaking ones, say) share one video-level evaluation per title, so the
//! video work per title is signatures × profiles, not videos × countries.
//!
//! The catalog must have unique primary keys ([`Catalog::dedup`]; the JSONL loader does it).
//! Repeated title ids or country codes are tolerated here (the last record wins).

mod build;

use crate::jsonl::Catalog;
use crate::model::Liveness;
use crate::rules::Rules;

/// Title-level and video-level reason codes without a language, as bit flags. The order of the
/// materialized output is fixed by [`Index::materialize`], not by these values.
mod flag {
    pub const MISSING_CAPTIONS: u16 = 1 << 0;
    pub const MISSING_ORIGINAL_AUDIO: u16 = 1 << 1;
    pub const MISSING_RATING: u16 = 1 << 2;
    pub const MISSING_SUBTITLE: u16 = 1 << 3;
    pub const MISSING_SYNOPSIS: u16 = 1 << 4;
    pub const MISSING_TITLE_NAME: u16 = 1 << 5;
    pub const MISSING_VIDEO: u16 = 1 << 6;
    pub const NO_RIGHTS: u16 = 1 << 7;
    pub const NO_VIDEOS: u16 = 1 << 8;
    pub const TOO_FEW_PLAYABLE_VIDEOS: u16 = 1 << 9;
    pub const WINDOW_EXPIRED: u16 = 1 << 10;
    pub const WINDOW_NOT_STARTED: u16 = 1 << 11;
    /// The flags that make a title not live by themselves.
    pub const TITLE_LEVEL: u16 = MISSING_RATING | MISSING_SYNOPSIS | MISSING_TITLE_NAME | NO_RIGHTS | NO_VIDEOS | TOO_FEW_PLAYABLE_VIDEOS | WINDOW_EXPIRED | WINDOW_NOT_STARTED;
}

/// Per-video (and per-signature) asset flags.
const HAS_VIDEO: u8 = 1 << 0;
const HAS_ORIGINAL_AUDIO: u8 = 1 << 1;
const HAS_ORIGINAL_CAPTIONS: u8 = 1 << 2;

/// Sizes of an [`Index`], for logs and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexStats {
    /// Titles (distinct ids).
    pub titles: usize,
    /// Countries (distinct codes).
    pub countries: usize,
    /// Distinct language profiles of the countries.
    pub profiles: usize,
    /// Videos of existing titles.
    pub videos: usize,
    /// Distinct coverage signatures, summed over titles.
    pub signatures: usize,
    /// Rights windows of existing titles in existing countries.
    pub windows: usize,
    /// Interned languages; the first `country_languages` are those of `countries`.
    pub languages: usize,
    /// Languages named by `countries` (the width of the language bitsets).
    pub country_languages: usize,
}

/// The phase-1 structures of the evaluator (see the module docs).
#[derive(Debug, Clone)]
pub struct Index {
    /// Interned languages: ids `0..n_bit_langs` are the countries' languages in byte order.
    langs: Vec<String>,
    n_bit_langs: usize,
    /// Words per language bitset.
    lang_words: usize,

    country_codes: Vec<String>,
    country_primary: Vec<u32>,
    country_rating_required: Vec<bool>,
    country_profile: Vec<u32>,
    /// Words per country bitset.
    country_words: usize,

    /// Language profiles: primary language, captions required, required languages (CSR, ids
    /// ascending, without repeats).
    profile_primary: Vec<u32>,
    profile_captions: Vec<bool>,
    profile_req_offsets: Vec<u32>,
    profile_req: Vec<u32>,

    title_ids: Vec<i64>,
    title_orig: Vec<u32>,
    title_is_show: Vec<bool>,
    title_total_videos: Vec<u32>,
    /// Per title, `lang_words` words each: localization name / synopsis present.
    loc_name: Vec<u64>,
    loc_synopsis: Vec<u64>,
    /// Per title, `country_words` words: a rating exists.
    rated: Vec<u64>,

    /// CSR over titles: windows sorted by country.
    window_offsets: Vec<u32>,
    window_country: Vec<u32>,
    window_start: Vec<i64>,
    window_end: Vec<Option<i64>>,

    /// CSR over titles: distinct coverage signatures.
    sig_offsets: Vec<u32>,
    sig_count: Vec<u32>,
    sig_flags: Vec<u8>,
    /// Per signature, `lang_words` words each.
    sig_audio_or_sub: Vec<u64>,
    sig_sub: Vec<u64>,
    sig_captions: Vec<u64>,

    /// Materialized reason strings.
    fixed: FixedReasons,
    missing_language: Vec<String>,
    missing_subtitle: Vec<String>,
    missing_synopsis: Vec<String>,
    missing_title_name: Vec<String>,
}

#[derive(Debug, Clone)]
struct FixedReasons {
    missing_captions: String,
    missing_original_audio: String,
    missing_rating: String,
    missing_video: String,
    no_rights: String,
    no_videos: String,
    too_few_playable_videos: String,
    window_expired: String,
    window_not_started: String,
}

#[inline]
fn bit(words: &[u64], i: usize) -> bool {
    words[i / 64] >> (i % 64) & 1 == 1
}

#[inline]
fn set_bit(words: &mut [u64], i: usize) {
    words[i / 64] |= 1 << (i % 64);
}

/// The default thread count: the machine's parallelism.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One evaluated pair, borrowing its strings from the index.
struct Pair<'a> {
    title_id: i64,
    country: &'a String,
    live: bool,
    reasons: &'a [&'a String],
    playable_videos: u32,
    total_videos: u32,
    next_window_start: Option<i64>,
}

/// Overwrites existing records in order, reusing their strings' buffers.
struct Overwrite<'v>(std::slice::IterMut<'v, Liveness>);

impl Overwrite<'_> {
    #[inline]
    fn put(&mut self, pair: Pair<'_>) {
        // `evaluate_into` sizes the slices to the pairs of their ranges exactly.
        let Some(rec) = self.0.next() else {
            return;
        };
        rec.title_id = pair.title_id;
        if rec.country != *pair.country {
            rec.country.clone_from(pair.country);
        }
        rec.live = pair.live;
        rec.reasons.truncate(pair.reasons.len());
        for (i, reason) in pair.reasons.iter().enumerate() {
            match rec.reasons.get_mut(i) {
                Some(old) if old == *reason => {}
                Some(old) => old.clone_from(*reason),
                None => rec.reasons.push((*reason).clone()),
            }
        }
        rec.playable_videos = pair.playable_videos;
        rec.total_videos = pair.total_videos;
        rec.next_window_start = pair.next_window_start;
    }
}

/// The video-level outcome of one title in one language profile.
struct ProfileOutcome {
    /// Union of the video-level flags.
    flags: Vec<u16>,
    /// Playable videos.
    playable: Vec<u32>,
    /// Whether some video misses some required language.
    any_missing: Vec<bool>,
    /// Per profile, per required language (CSR like `profile_req`): some video misses it.
    missing: Vec<bool>,
}

impl Index {
    /// Sizes of the index.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            titles: self.title_ids.len(),
            countries: self.country_codes.len(),
            profiles: self.profile_primary.len(),
            videos: self.title_total_videos.iter().map(|&n| n as usize).sum(),
            signatures: self.sig_count.len(),
            windows: self.window_start.len(),
            languages: self.langs.len(),
            country_languages: self.n_bit_langs,
        }
    }

    /// Phase 2: every title × every country at `now`, sorted by (title id, country code), on
    /// all available cores.
    pub fn evaluate(&self, now: i64, rules: &Rules) -> Vec<Liveness> {
        self.evaluate_with_threads(now, rules, default_threads())
    }

    /// [`Index::evaluate`] on at most `threads` threads (1 runs on the calling thread).
    pub fn evaluate_with_threads(&self, now: i64, rules: &Rules, threads: usize) -> Vec<Liveness> {
        let mut out = Vec::new();
        self.evaluate_into(now, rules, threads, &mut out);
        out
    }

    /// [`Index::evaluate`] into `out`, reusing its records' allocations.
    ///
    /// `out` is resized to one record per pair; each record's `country` and `reasons` strings
    /// are overwritten in place, so a gatekeeper that evaluates every cycle into the same
    /// vector allocates (almost) nothing once reasons stop growing. (A fresh evaluation is this
    /// over an empty vector: the records are allocated once, in parallel, and never moved.)
    pub fn evaluate_into(&self, now: i64, rules: &Rules, threads: usize, out: &mut Vec<Liveness>) {
        let nc = self.country_codes.len();
        let total = self.title_ids.len() * nc;
        out.truncate(total);
        out.resize_with(total, || Liveness { title_id: 0, country: String::new(), live: false, reasons: Vec::new(), playable_videos: 0, total_videos: 0, next_window_start: None });
        let bounds = self.split(threads);
        let mut slices: Vec<&mut [Liveness]> = Vec::with_capacity(bounds.len());
        let mut rest: &mut [Liveness] = out;
        for w in bounds.windows(2) {
            let (head, tail) = rest.split_at_mut((w[1] - w[0]) * nc);
            slices.push(head);
            rest = tail;
        }
        let mut ranges = bounds.windows(2).map(|w| w[0]..w[1]).zip(slices);
        let Some((first_range, first)) = ranges.next() else {
            return;
        };
        std::thread::scope(|s| {
            for (range, slice) in ranges {
                s.spawn(move || {
                    self.evaluate_range(range, now, rules, &mut Overwrite(slice.iter_mut()));
                });
            }
            self.evaluate_range(first_range, now, rules, &mut Overwrite(first.iter_mut()));
        });
    }

    /// Splits the titles into at most `threads` contiguous ranges of about equal estimated
    /// work; returns the range bounds (at least `[0, n]`).
    fn split(&self, threads: usize) -> Vec<usize> {
        let nt = self.title_ids.len();
        let nc = self.country_codes.len() as u64;
        let np = self.profile_primary.len() as u64;
        let threads = if (nt as u64) * nc < 4096 { 1 } else { threads.clamp(1, nt.max(1)) };
        let weight = |t: usize| -> u64 {
            let sigs = u64::from(self.sig_offsets[t + 1] - self.sig_offsets[t]);
            let windows = u64::from(self.window_offsets[t + 1] - self.window_offsets[t]);
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
    fn evaluate_profiles(&self, t: usize, rules: &Rules, out: &mut ProfileOutcome) {
        let w = self.lang_words;
        let orig = self.title_orig[t] as usize;
        let sigs = self.sig_offsets[t] as usize..self.sig_offsets[t + 1] as usize;
        out.flags.fill(0);
        out.playable.fill(0);
        out.any_missing.fill(false);
        out.missing.fill(false);
        if sigs.is_empty() {
            return;
        }
        for p in 0..self.profile_primary.len() {
            let primary = self.profile_primary[p] as usize;
            let captions = self.profile_captions[p] || rules.captions_in_every_country;
            let subtitle = rules.subtitle_in_primary_language && primary != orig;
            let req_range = self.profile_req_offsets[p] as usize..self.profile_req_offsets[p + 1] as usize;
            let req = &self.profile_req[req_range.clone()];
            let missing = &mut out.missing[req_range];
            let mut flags = 0u16;
            let mut any_missing = false;
            let mut playable = 0u32;
            for s in sigs.clone() {
                let sflags = self.sig_flags[s];
                let words = s * w..(s + 1) * w;
                let mut bad = 0u16;
                if sflags & HAS_VIDEO == 0 {
                    bad |= flag::MISSING_VIDEO;
                }
                if sflags & HAS_ORIGINAL_AUDIO == 0 {
                    bad |= flag::MISSING_ORIGINAL_AUDIO;
                }
                if captions && sflags & HAS_ORIGINAL_CAPTIONS == 0 && !bit(&self.sig_captions[words.clone()], primary) {
                    bad |= flag::MISSING_CAPTIONS;
                }
                if subtitle && !bit(&self.sig_sub[words.clone()], primary) {
                    bad |= flag::MISSING_SUBTITLE;
                }
                let avail = &self.sig_audio_or_sub[words];
                let mut lacks_language = false;
                for (k, &l) in req.iter().enumerate() {
                    if l as usize != orig && !bit(avail, l as usize) {
                        missing[k] = true;
                        lacks_language = true;
                    }
                }
                any_missing |= lacks_language;
                if bad == 0 && !lacks_language {
                    playable += self.sig_count[s];
                }
                flags |= bad;
            }
            out.flags[p] = flags;
            out.playable[p] = playable;
            out.any_missing[p] = any_missing;
        }
    }

    /// Evaluates titles `range` × all countries, appending to `out`.
    fn evaluate_range(&self, range: std::ops::Range<usize>, now: i64, rules: &Rules, out: &mut Overwrite<'_>) {
        let w = self.lang_words;
        let cw = self.country_words;
        let np = self.profile_primary.len();
        let min_show = rules.min_playable_show_videos.max(1);
        let mut outcome = ProfileOutcome { flags: vec![0; np], playable: vec![0; np], any_missing: vec![false; np], missing: vec![false; self.profile_req.len()] };
        let mut reasons: Vec<&String> = Vec::with_capacity(16);
        for t in range {
            self.evaluate_profiles(t, rules, &mut outcome);
            let orig = self.title_orig[t] as usize;
            let total = self.title_total_videos[t];
            let title_id = self.title_ids[t];
            let show = self.title_is_show[t];
            let loc_name = &self.loc_name[t * w..(t + 1) * w];
            let loc_synopsis = &self.loc_synopsis[t * w..(t + 1) * w];
            let rated = &self.rated[t * cw..(t + 1) * cw];
            let mut r = self.window_offsets[t] as usize;
            let r_end = self.window_offsets[t + 1] as usize;
            for c in 0..self.country_codes.len() {
                let mut flags = 0u16;

                // Windows: this title's windows are sorted by country.
                let mut any = false;
                let mut active = false;
                let mut next: Option<i64> = None;
                while r < r_end && self.window_country[r] as usize == c {
                    any = true;
                    let start = self.window_start[r];
                    if start <= now && self.window_end[r].is_none_or(|end| now < end) {
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
                    flags |= if next.is_some() { flag::WINDOW_NOT_STARTED } else { flag::WINDOW_EXPIRED };
                }

                if self.country_rating_required[c] && !bit(rated, c) {
                    flags |= flag::MISSING_RATING;
                }
                let primary = self.country_primary[c] as usize;
                if primary != orig && !bit(loc_name, primary) {
                    flags |= flag::MISSING_TITLE_NAME;
                }
                if !bit(loc_synopsis, primary) {
                    flags |= flag::MISSING_SYNOPSIS;
                }
                if total == 0 {
                    flags |= flag::NO_VIDEOS;
                }

                let p = self.country_profile[c] as usize;
                flags |= outcome.flags[p];
                let playable = outcome.playable[p];
                if show && min_show > 1 && playable < min_show {
                    flags |= flag::TOO_FEW_PLAYABLE_VIDEOS;
                }
                let missing = outcome.any_missing[p].then(|| {
                    let range = self.profile_req_offsets[p] as usize..self.profile_req_offsets[p + 1] as usize;
                    (&self.profile_req[range.clone()], &outcome.missing[range])
                });

                reasons.clear();
                self.materialize(flags, primary, missing, &mut reasons);
                out.put(Pair {
                    title_id,
                    country: &self.country_codes[c],
                    live: flags & flag::TITLE_LEVEL == 0 && playable >= 1,
                    reasons: &reasons,
                    playable_videos: playable,
                    total_videos: total,
                    next_window_start: next,
                });
            }
        }
    }

    /// Pushes the reasons of `flags` and of the missing required languages in byte order.
    ///
    /// The groups' fixed prefixes differ at or before their 10th byte (`MISSING_C`, `MISSING_L`,
    /// `MISSING_O`, `MISSING_R`, `MISSING_SU`, `MISSING_SY`, `MISSING_T`, `MISSING_V`, `NO_R`,
    /// `NO_V`, `T`, `WINDOW_E`, `WINDOW_N`), so emitting the groups in this order and the
    /// languages by ascending id (ids follow byte order) is byte order.
    #[inline]
    fn materialize<'a>(&'a self, flags: u16, primary: usize, missing: Option<(&[u32], &[bool])>, out: &mut Vec<&'a String>) {
        let f = &self.fixed;
        if flags & flag::MISSING_CAPTIONS != 0 {
            out.push(&f.missing_captions);
        }
        if let Some((req, missing)) = missing {
            for (&l, &m) in req.iter().zip(missing) {
                if m {
                    out.push(&self.missing_language[l as usize]);
                }
            }
        }
        if flags & flag::MISSING_ORIGINAL_AUDIO != 0 {
            out.push(&f.missing_original_audio);
        }
        if flags & flag::MISSING_RATING != 0 {
            out.push(&f.missing_rating);
        }
        if flags & flag::MISSING_SUBTITLE != 0 {
            out.push(&self.missing_subtitle[primary]);
        }
        if flags & flag::MISSING_SYNOPSIS != 0 {
            out.push(&self.missing_synopsis[primary]);
        }
        if flags & flag::MISSING_TITLE_NAME != 0 {
            out.push(&self.missing_title_name[primary]);
        }
        if flags & flag::MISSING_VIDEO != 0 {
            out.push(&f.missing_video);
        }
        if flags & flag::NO_RIGHTS != 0 {
            out.push(&f.no_rights);
        }
        if flags & flag::NO_VIDEOS != 0 {
            out.push(&f.no_videos);
        }
        if flags & flag::TOO_FEW_PLAYABLE_VIDEOS != 0 {
            out.push(&f.too_few_playable_videos);
        }
        if flags & flag::WINDOW_EXPIRED != 0 {
            out.push(&f.window_expired);
        }
        if flags & flag::WINDOW_NOT_STARTED != 0 {
            out.push(&f.window_not_started);
        }
    }
}

/// Builds the index of `catalog` and evaluates it at `now`: both phases in one call.
pub fn evaluate(catalog: &Catalog, now: i64, rules: &Rules) -> Vec<Liveness> {
    Index::build(catalog).evaluate(now, rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn materialized_groups_are_in_byte_order() {
        let mut catalog = Catalog::default();
        catalog.countries.push(crate::model::Country {
            code: "XX".into(),
            name: "X".into(),
            primary_language: "zz".into(),
            required_languages: vec!["".into(), "a".into(), "ab".into(), "\u{ff}".into()],
            requires_captions: true,
            rating_required: true,
        });
        let index = Index::build(&catalog);
        // Byte order: "" < "a" < "ab" < "zz" < "\u{ff}", so "zz" (the primary) has id 3.
        let req: Vec<u32> = vec![0, 1, 2, 4];
        let missing = [true; 4];
        let mut out = Vec::new();
        index.materialize(u16::MAX, 3, Some((&req, &missing)), &mut out);
        assert_eq!(out.len(), 12 + 4);
        assert!(out.windows(2).all(|p| p[0].as_bytes() < p[1].as_bytes()), "{out:?}");
    }
}
