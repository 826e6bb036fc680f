//! The index's data, shared by the phases: [`Index`] and its parts (the base, videos,
//! windows, ratings, localizations), the reason flags and asset flags, the bitset helpers, and
//! what an update reports ([`Rebuilt`], [`PartUpdate`]). Building it is the `build` module's
//! work, evaluating it the `eval` module's, patching it the `incremental` module's.

use crate::table::Grid;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Title-level and video-level reason codes without a language, as bit flags. The order of the
/// materialized output is fixed by `Base::materialize`, not by these values.
pub(crate) mod flag {
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
    pub const TITLE_LEVEL: u16 = MISSING_RATING
        | MISSING_SYNOPSIS
        | MISSING_TITLE_NAME
        | NO_RIGHTS
        | NO_VIDEOS
        | TOO_FEW_PLAYABLE_VIDEOS
        | WINDOW_EXPIRED
        | WINDOW_NOT_STARTED;
    /// The flags whose reason names the country's primary language.
    pub const WITH_PRIMARY: u16 = MISSING_SUBTITLE | MISSING_SYNOPSIS | MISSING_TITLE_NAME;
}

/// Per-video (and per-signature) asset flags.
pub(super) const HAS_VIDEO: u8 = 1 << 0;
pub(super) const HAS_ORIGINAL_AUDIO: u8 = 1 << 1;
pub(super) const HAS_ORIGINAL_CAPTIONS: u8 = 1 << 2;

/// A language id that matches no language (a null original language).
pub(super) const NO_LANG: u32 = u32::MAX;

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

/// How [`Index::update`] or [`Index::update_incremental`] brought one part up to date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PartUpdate {
    /// Nothing it reads changed: shared with the previous index.
    #[default]
    Shared,
    /// Rebuilt for this many affected titles and spliced into a copy of the previous part.
    Patched(usize),
    /// Rebuilt whole.
    Rebuilt,
}

/// What an index update did, part by part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Countries, profiles, titles, languages changed as the rules see them (then every other
    /// part is rebuilt too). A change of fields the rules do not read (a title's name) rebuilds
    /// and compares the base but keeps the old one.
    pub base: bool,
    /// Videos and assets.
    pub videos: PartUpdate,
    /// Rights.
    pub windows: PartUpdate,
    /// Ratings.
    pub ratings: PartUpdate,
    /// Localizations.
    pub localizations: PartUpdate,
}

impl Rebuilt {
    /// Everything rebuilt (a full build).
    pub fn all() -> Rebuilt {
        Rebuilt {
            base: true,
            videos: PartUpdate::Rebuilt,
            windows: PartUpdate::Rebuilt,
            ratings: PartUpdate::Rebuilt,
            localizations: PartUpdate::Rebuilt,
        }
    }
}

impl std::fmt::Display for Rebuilt {
    /// `base` for a full build, else the parts touched: `videos~12` (12 titles patched),
    /// `rights` (rebuilt), or `nothing`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.base {
            return f.write_str("full build");
        }
        let parts: Vec<String> = [
            (self.videos, "videos"),
            (self.windows, "rights"),
            (self.ratings, "ratings"),
            (self.localizations, "localizations"),
        ]
        .iter()
        .filter_map(|(u, n)| match u {
            PartUpdate::Shared => None,
            PartUpdate::Patched(k) => Some(format!("{n}~{k}")),
            PartUpdate::Rebuilt => Some(n.to_string()),
        })
        .collect();
        if parts.is_empty() {
            f.write_str("nothing")
        } else {
            f.write_str(&parts.join("+"))
        }
    }
}

/// The phase-1 structures of the evaluator (see the [`engine`](crate::engine) docs).
#[derive(Debug, Clone)]
pub struct Index {
    pub(super) base: Arc<Base>,
    pub(super) videos: Arc<VideoPart>,
    pub(super) windows: Arc<WindowPart>,
    pub(super) ratings: Arc<RatingPart>,
    pub(super) locs: Arc<LocPart>,
}

/// Countries, language profiles, titles and languages.
#[derive(Debug)]
pub(crate) struct Base {
    /// Title ids ascending and country codes in byte order.
    pub(super) grid: Arc<Grid>,
    /// Interned languages: ids `0..n_bit_langs` are the countries' languages in byte order.
    pub(super) langs: Vec<String>,
    pub(super) lang_ids: FxHashMap<String, u32>,
    pub(super) n_bit_langs: usize,
    /// Words per language bitset.
    pub(super) lang_words: usize,

    pub(super) country_ids: FxHashMap<String, u32>,
    pub(super) country_primary: Vec<u32>,
    pub(super) country_rating_required: Vec<bool>,
    pub(super) country_profile: Vec<u32>,
    /// Words per country bitset.
    pub(super) country_words: usize,

    /// Language profiles: primary language, captions required, required languages (CSR, ids
    /// ascending, without repeats).
    pub(super) profile_primary: Vec<u32>,
    pub(super) profile_captions: Vec<bool>,
    pub(super) profile_req_offsets: Vec<u32>,
    pub(super) profile_req: Vec<u32>,

    pub(super) title_idx: FxHashMap<i64, u32>,
    pub(super) title_orig: Vec<u32>,
    pub(super) title_is_show: Vec<bool>,

    /// Materialized reason strings.
    pub(super) fixed: FixedReasons,
    pub(super) missing_language: Vec<String>,
    pub(super) missing_subtitle: Vec<String>,
    pub(super) missing_synopsis: Vec<String>,
    pub(super) missing_title_name: Vec<String>,
}

/// Videos of existing titles grouped into coverage signatures, CSR over titles.
#[derive(Debug, Default)]
pub(crate) struct VideoPart {
    pub(super) total: Vec<u32>,
    pub(super) sig_offsets: Vec<u32>,
    pub(super) sig_count: Vec<u32>,
    pub(super) sig_flags: Vec<u8>,
    /// Per signature, `lang_words` words each.
    pub(super) sig_audio_or_sub: Vec<u64>,
    pub(super) sig_sub: Vec<u64>,
    pub(super) sig_captions: Vec<u64>,
}

/// Rights windows of existing titles in existing countries, CSR over titles, sorted by country.
#[derive(Debug, Default)]
pub(crate) struct WindowPart {
    pub(super) offsets: Vec<u32>,
    pub(super) country: Vec<u32>,
    pub(super) start: Vec<i64>,
    pub(super) end: Vec<Option<i64>>,
}

/// Per title, `country_words` words: a rating exists.
#[derive(Debug, Default)]
pub(crate) struct RatingPart {
    pub(super) rated: Vec<u64>,
}

/// Per title, `lang_words` words each: localization name / synopsis present.
#[derive(Debug, Default)]
pub(crate) struct LocPart {
    pub(super) name: Vec<u64>,
    pub(super) synopsis: Vec<u64>,
}

#[derive(Debug)]
pub(super) struct FixedReasons {
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

impl Default for FixedReasons {
    fn default() -> Self {
        FixedReasons {
            missing_captions: "MISSING_CAPTIONS".into(),
            missing_original_audio: "MISSING_ORIGINAL_AUDIO".into(),
            missing_rating: "MISSING_RATING".into(),
            missing_video: "MISSING_VIDEO".into(),
            no_rights: "NO_RIGHTS".into(),
            no_videos: "NO_VIDEOS".into(),
            too_few_playable_videos: "TOO_FEW_PLAYABLE_VIDEOS".into(),
            window_expired: "WINDOW_EXPIRED".into(),
            window_not_started: "WINDOW_NOT_STARTED".into(),
        }
    }
}

#[inline]
pub(super) fn bit(words: &[u64], i: usize) -> bool {
    words.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
}

#[inline]
pub(super) fn set_bit(words: &mut [u64], i: usize) {
    if let Some(w) = words.get_mut(i / 64) {
        *w |= 1 << (i % 64);
    }
}

/// The default thread count: the machine's parallelism.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Index {
    /// The titles and countries of the pairs.
    pub fn grid(&self) -> &Arc<Grid> {
        &self.base.grid
    }

    /// Sizes of the index.
    pub fn stats(&self) -> IndexStats {
        let b = &self.base;
        IndexStats {
            titles: b.grid.title_ids.len(),
            countries: b.grid.country_codes.len(),
            profiles: b.profile_primary.len(),
            videos: self.videos.total.iter().map(|&n| n as usize).sum(),
            signatures: self.videos.sig_count.len(),
            windows: self.windows.start.len(),
            languages: b.langs.len(),
            country_languages: b.n_bit_langs,
        }
    }
}

impl Base {
    /// Whether everything the rules and the other parts read from the base equals `other`'s.
    pub(super) fn same_rules_input(&self, other: &Base) -> bool {
        self.grid == other.grid
            && self.langs == other.langs
            && self.country_primary == other.country_primary
            && self.country_rating_required == other.country_rating_required
            && self.country_profile == other.country_profile
            && self.profile_primary == other.profile_primary
            && self.profile_captions == other.profile_captions
            && self.profile_req_offsets == other.profile_req_offsets
            && self.profile_req == other.profile_req
            && self.title_orig == other.title_orig
            && self.title_is_show == other.title_is_show
    }

    /// Pushes the reasons of `flags` and of the missing required languages `missing` (ids
    /// ascending) in byte order.
    ///
    /// The groups' fixed prefixes differ at or before their 10th byte (`MISSING_C`, `MISSING_L`,
    /// `MISSING_O`, `MISSING_R`, `MISSING_SU`, `MISSING_SY`, `MISSING_T`, `MISSING_V`, `NO_R`,
    /// `NO_V`, `T`, `WINDOW_E`, `WINDOW_N`), so emitting the groups in this order and the
    /// languages by ascending id (ids follow byte order) is byte order.
    pub(super) fn materialize<'a>(
        &'a self,
        flags: u16,
        primary: usize,
        missing: &[u32],
        out: &mut Vec<&'a str>,
    ) {
        let f = &self.fixed;
        let lang = |table: &'a [String], l: usize| table.get(l).map_or("", String::as_str);
        if flags & flag::MISSING_CAPTIONS != 0 {
            out.push(&f.missing_captions);
        }
        for &l in missing {
            out.push(lang(&self.missing_language, l as usize));
        }
        if flags & flag::MISSING_ORIGINAL_AUDIO != 0 {
            out.push(&f.missing_original_audio);
        }
        if flags & flag::MISSING_RATING != 0 {
            out.push(&f.missing_rating);
        }
        if flags & flag::MISSING_SUBTITLE != 0 {
            out.push(lang(&self.missing_subtitle, primary));
        }
        if flags & flag::MISSING_SYNOPSIS != 0 {
            out.push(lang(&self.missing_synopsis, primary));
        }
        if flags & flag::MISSING_TITLE_NAME != 0 {
            out.push(lang(&self.missing_title_name, primary));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::InputStates;
    use crate::jsonl::Catalog;

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
        let index = Index::build(&InputStates::from_catalog(&catalog).unwrap()).unwrap();
        // Byte order: "" < "a" < "ab" < "zz" < "\u{ff}", so "zz" (the primary) has id 3.
        let mut out = Vec::new();
        index.base.materialize(u16::MAX, 3, &[0, 1, 2, 4], &mut out);
        assert_eq!(out.len(), 12 + 4);
        assert!(
            out.windows(2).all(|p| p[0].as_bytes() < p[1].as_bytes()),
            "{out:?}"
        );
    }
}
