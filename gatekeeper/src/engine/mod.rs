//! The liveness engine: GATEKEEPER.md §3 over every (title, country) pair, from the seven input
//! datasets as hollow read states.
//!
//! Two phases, timed apart by benchmarks:
//!
//! 1. [`Index::build`] (the `build` submodule) reads the seven [`InputStates`](crate::InputStates)
//!    through hollow's typed column handles into compact integer-indexed arrays (the `index`
//!    submodule): countries sorted by code and titles sorted by id (so output comes out in export
//!    order), languages interned to `u32` ids in byte order through the string pools' value ids
//!    (each distinct string of a column is looked at once; no `String` per record), per-title
//!    rights windows and video "coverage signatures" in CSR arrays (offsets + flat values), ratings
//!    and localizations as per-title bitsets. Records that point at ids that do not exist are
//!    dropped there. [`Index::update`] rebuilds only the parts whose datasets changed (see below),
//!    and [`Index::update_incremental`] only the titles that hollow's net changes touch.
//! 2. [`Index::evaluate`] (the `eval` submodule) walks every title × every country on all
//!    cores (contiguous title ranges balanced by estimated work, `std::thread::scope`) into a
//!    [`LivenessTable`](crate::LivenessTable) of 32-byte [`Row`](crate::Row)s; a pair's reasons are computed as bit
//!    flags and language ids and interned as a reason-set id, so nothing is allocated per pair.
//!
//! **Parts.** The index is five parts behind `Arc`s: the base (countries, language profiles,
//! titles, languages), videos + assets (coverage signatures), rights (windows), ratings, and
//! localizations. Every part depends on the base; each other part on its own datasets. When
//! `countries` and `titles` are unchanged (as the rules see them), [`Index::update`] shares the
//! base and every part whose datasets are unchanged with the previous index and rebuilds the
//! others; [`Index::update_incremental`] rebuilds a changed part only for the titles its
//! changed records belong to and splices them in (the `incremental` submodule).
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
//! Input states from hollow timelines have unique primary keys. Repeated title ids or country
//! codes are tolerated anyway (one of the records wins).

mod build;
mod eval;
mod incremental;
mod index;

pub use eval::Evaluator;
pub use incremental::InputChange;
pub(crate) use index::default_threads;
pub use index::{Index, IndexStats, PartUpdate, Rebuilt};
