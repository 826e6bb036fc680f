//! Incremental index maintenance: [`Index::update_incremental`] from hollow's net changes.
//!
//! A consumer that follows an input by delta knows which ordinals each delta removed and added
//! ([`hollow::index::net_changes`] folds several deltas into one change set). From them this
//! module finds the *affected titles* of each part — the titles of removed records (read in the
//! old state) and of added ones (read in the new state); for assets, the titles of their videos
//! — rebuilds the part for those titles only (the part builders take a title filter), and
//! splices the result into a copy of the old part (the other titles' slices are copied as they
//! are). A part whose changes are unknown (a snapshot was loaded) or touch more than half the
//! titles is rebuilt whole; a part none of whose datasets changed is shared.

use super::build::{self, Assets, Localizations, Ratings, Rights, Videos};
use super::index::{
    default_threads, Base, Index, LocPart, PartUpdate, RatingPart, Rebuilt, VideoPart, WindowPart,
};
use crate::error::{Error, Result};
use crate::inputs::{Dataset, InputStates};
use hollow::write::{StateChanges, TypeChanges};
use hollow::ReadState;
use rustc_hash::FxHashSet;
use std::sync::Arc;

/// What changed in one input since the state an index was built from.
#[derive(Debug, Clone, Copy)]
pub struct InputChange<'a> {
    /// The state the index was built from.
    pub old: &'a ReadState,
    /// The net changes from `old` to the new state (`hollow::index::net_changes`); `None` when
    /// unknown (a snapshot was loaded): the parts reading the dataset are rebuilt whole.
    pub changes: Option<&'a StateChanges>,
}

/// The changes of the root type `type_name` of a dataset.
fn root_changes<'c>(
    change: &InputChange<'c>,
    d: Dataset,
    type_name: &str,
) -> Result<Option<&'c TypeChanges>> {
    let Some(changes) = change.changes else {
        return Ok(None);
    };
    let t = change
        .old
        .schema()
        .type_index(type_name)
        .ok_or_else(|| Error::Input {
            dataset: d.name(),
            detail: format!("no type {type_name}"),
        })?;
    Ok(changes.types.get(t))
}

/// The rights, ratings and localizations parts after an update, with what happened to each.
type OtherParts = (
    (Arc<WindowPart>, PartUpdate),
    (Arc<RatingPart>, PartUpdate),
    (Arc<LocPart>, PartUpdate),
);

/// How one part is brought up to date.
enum Plan {
    /// Nothing it reads changed.
    Share,
    /// Rebuild it whole.
    Rebuild,
    /// Rebuild these titles (a mask over the titles) and splice.
    Patch(Vec<bool>),
}

impl Plan {
    /// A patch of the titles in `mask`, or a whole rebuild when they are more than half.
    fn patch(mask: Vec<bool>) -> Plan {
        let n = mask.iter().filter(|&&k| k).count();
        if n == 0 {
            Plan::Share
        } else if n * 2 > mask.len() {
            Plan::Rebuild
        } else {
            Plan::Patch(mask)
        }
    }
}

/// Marks the titles (by id) in `mask`.
fn mark(base: &Base, mask: &mut [bool], title_id: i64) {
    if let Some(&t) = base.title_idx.get(&title_id) {
        if let Some(m) = mask.get_mut(t as usize) {
            *m = true;
        }
    }
}

/// The affected titles of a dataset whose records carry a `title_id`: removed records read in
/// the old state, added ones in the new.
fn title_mask(
    base: &Base,
    d: Dataset,
    type_name: &str,
    change: &InputChange<'_>,
    new: &ReadState,
) -> Result<Option<Vec<bool>>> {
    let Some(tc) = root_changes(change, d, type_name)? else {
        return Ok(None);
    };
    let e = build::input_err(d);
    let (old_col, new_col) = (
        change
            .old
            .object(type_name)
            .map_err(&e)?
            .long("title_id")
            .map_err(&e)?,
        new.object(type_name)
            .map_err(&e)?
            .long("title_id")
            .map_err(&e)?,
    );
    let mut mask = vec![false; base.title_orig.len()];
    for &o in &tc.removed {
        if let Some(t) = old_col.get(o) {
            mark(base, &mut mask, t);
        }
    }
    for &o in &tc.added {
        if let Some(t) = new_col.get(o) {
            mark(base, &mut mask, t);
        }
    }
    Ok(Some(mask))
}

/// The affected titles of the videos part: titles of removed and added videos, and of the
/// videos of removed and added assets.
fn video_mask(
    base: &Base,
    videos: Option<&InputChange<'_>>,
    assets: Option<&InputChange<'_>>,
    inputs: &InputStates,
) -> Result<Option<Vec<bool>>> {
    let mut video_ids: FxHashSet<i64> = FxHashSet::default();
    let mut mask = vec![false; base.title_orig.len()];
    if let Some(c) = videos {
        let Some(tc) = root_changes(c, Dataset::Videos, "Video")? else {
            return Ok(None);
        };
        let (old, new) = (
            Videos::open(c.old)?,
            Videos::open(inputs.get(Dataset::Videos))?,
        );
        for (view, ords) in [(&old, &tc.removed), (&new, &tc.added)] {
            for &o in ords {
                if let (Some(id), Some(t)) = (view.id.get(o), view.title_id.get(o)) {
                    video_ids.insert(id);
                    mark(base, &mut mask, t);
                }
            }
        }
    }
    if let Some(c) = assets {
        let Some(tc) = root_changes(c, Dataset::Assets, "Asset")? else {
            return Ok(None);
        };
        let (old, new) = (
            Assets::open(c.old)?,
            Assets::open(inputs.get(Dataset::Assets))?,
        );
        for (view, ords) in [(&old, &tc.removed), (&new, &tc.added)] {
            for &o in ords {
                if let Some(v) = view.video_id.get(o) {
                    video_ids.insert(v);
                }
            }
        }
    }
    if !video_ids.is_empty() {
        let vv = Videos::open(inputs.get(Dataset::Videos))?;
        for o in vv.obj.ordinals() {
            if let (Some(id), Some(t)) = (vv.id.get(o), vv.title_id.get(o)) {
                if video_ids.contains(&id) {
                    mark(base, &mut mask, t);
                }
            }
        }
    }
    Ok(Some(mask))
}

/// Copies `old` with the titles of `keep` taken from `new` (both CSR over every title).
fn splice_videos(old: &VideoPart, new: &VideoPart, keep: &[bool], w: usize) -> VideoPart {
    let nt = keep.len();
    let mut out = VideoPart {
        total: Vec::with_capacity(nt),
        sig_offsets: Vec::with_capacity(nt + 1),
        ..VideoPart::default()
    };
    out.sig_offsets.push(0);
    for (t, &k) in keep.iter().enumerate() {
        let src = if k { new } else { old };
        out.total.push(src.total[t]);
        let (a, b) = (src.sig_offsets[t] as usize, src.sig_offsets[t + 1] as usize);
        out.sig_count.extend_from_slice(&src.sig_count[a..b]);
        out.sig_flags.extend_from_slice(&src.sig_flags[a..b]);
        out.sig_audio_or_sub
            .extend_from_slice(&src.sig_audio_or_sub[a * w..b * w]);
        out.sig_sub.extend_from_slice(&src.sig_sub[a * w..b * w]);
        out.sig_captions
            .extend_from_slice(&src.sig_captions[a * w..b * w]);
        out.sig_offsets.push(out.sig_count.len() as u32);
    }
    out
}

/// Copies `old` with the titles of `keep` taken from `new`; runs of untouched titles are
/// copied in one piece.
fn splice_windows(old: &WindowPart, new: &WindowPart, keep: &[bool]) -> WindowPart {
    let nt = keep.len();
    let mut out = WindowPart {
        offsets: Vec::with_capacity(nt + 1),
        ..WindowPart::default()
    };
    let total = old.start.len() + new.start.len();
    out.country.reserve(total);
    out.start.reserve(total);
    out.end.reserve(total);
    out.offsets.push(0);
    let mut t = 0;
    while t < nt {
        let k = keep[t];
        let mut u = t;
        while u < nt && keep[u] == k {
            u += 1;
        }
        let src = if k { new } else { old };
        let (a, b) = (src.offsets[t] as usize, src.offsets[u] as usize);
        let shift = out.start.len() as i64 - a as i64;
        out.country.extend_from_slice(&src.country[a..b]);
        out.start.extend_from_slice(&src.start[a..b]);
        out.end.extend_from_slice(&src.end[a..b]);
        out.offsets.extend(
            src.offsets[t + 1..=u]
                .iter()
                .map(|&o| (o as i64 + shift) as u32),
        );
        t = u;
    }
    out
}

/// Copies per-title bitsets of `words` words, the titles of `keep` from `new`.
fn splice_words(old: &[u64], new: &[u64], keep: &[bool], words: usize) -> Vec<u64> {
    let mut out = old.to_vec();
    for (t, _) in keep.iter().enumerate().filter(|(_, &k)| k) {
        out[t * words..(t + 1) * words].copy_from_slice(&new[t * words..(t + 1) * words]);
    }
    out
}

impl Index {
    /// The index of `inputs`, from this index and what changed in each input since the states
    /// it was built from (`None`: unchanged). See the module docs of `incremental`.
    pub fn update_incremental(
        &self,
        inputs: &InputStates,
        changes: &[Option<InputChange<'_>>; 7],
    ) -> Result<(Index, Rebuilt)> {
        let ch = |d: Dataset| changes[d.index()].as_ref();
        if ch(Dataset::Countries).is_some() || ch(Dataset::Titles).is_some() {
            let base = build::base(inputs)?;
            if !base.same_rules_input(&self.base) {
                return Ok((Index::build(inputs)?, Rebuilt::all()));
            }
        }
        let base = &*self.base;
        let videos_plan = match (ch(Dataset::Videos), ch(Dataset::Assets)) {
            (None, None) => Plan::Share,
            (v, a) => video_mask(base, v, a, inputs)?.map_or(Plan::Rebuild, Plan::patch),
        };
        let simple = |d: Dataset, type_name: &str| -> Result<Plan> {
            Ok(match ch(d) {
                None => Plan::Share,
                Some(c) => title_mask(base, d, type_name, c, inputs.get(d))?
                    .map_or(Plan::Rebuild, Plan::patch),
            })
        };
        let (windows_plan, ratings_plan, locs_plan) = (
            simple(Dataset::Rights, "Right")?,
            simple(Dataset::Ratings, "Rating")?,
            simple(Dataset::Localizations, "Localization")?,
        );

        let videos = || -> Result<(Arc<VideoPart>, PartUpdate)> {
            let open = || -> Result<(Videos<'_>, Assets<'_>)> {
                Ok((
                    Videos::open(inputs.get(Dataset::Videos))?,
                    Assets::open(inputs.get(Dataset::Assets))?,
                ))
            };
            Ok(match &videos_plan {
                Plan::Share => (self.videos.clone(), PartUpdate::Shared),
                Plan::Rebuild => {
                    let (vv, av) = open()?;
                    (
                        Arc::new(build::video_part(base, &vv, &av, None)),
                        PartUpdate::Rebuilt,
                    )
                }
                Plan::Patch(mask) => {
                    let (vv, av) = open()?;
                    let patch = build::video_part(base, &vv, &av, Some(mask));
                    (
                        Arc::new(splice_videos(&self.videos, &patch, mask, base.lang_words)),
                        PartUpdate::Patched(mask.iter().filter(|&&k| k).count()),
                    )
                }
            })
        };
        let rest = || -> Result<OtherParts> {
            let windows = match &windows_plan {
                Plan::Share => (self.windows.clone(), PartUpdate::Shared),
                Plan::Rebuild => (
                    Arc::new(build::window_part(
                        base,
                        &Rights::open(inputs.get(Dataset::Rights))?,
                        None,
                    )),
                    PartUpdate::Rebuilt,
                ),
                Plan::Patch(mask) => {
                    let patch = build::window_part(
                        base,
                        &Rights::open(inputs.get(Dataset::Rights))?,
                        Some(mask),
                    );
                    (
                        Arc::new(splice_windows(&self.windows, &patch, mask)),
                        PartUpdate::Patched(mask.iter().filter(|&&k| k).count()),
                    )
                }
            };
            let ratings = match &ratings_plan {
                Plan::Share => (self.ratings.clone(), PartUpdate::Shared),
                Plan::Rebuild => (
                    Arc::new(build::rating_part(
                        base,
                        &Ratings::open(inputs.get(Dataset::Ratings))?,
                        None,
                    )),
                    PartUpdate::Rebuilt,
                ),
                Plan::Patch(mask) => {
                    let patch = build::rating_part(
                        base,
                        &Ratings::open(inputs.get(Dataset::Ratings))?,
                        Some(mask),
                    );
                    let rated =
                        splice_words(&self.ratings.rated, &patch.rated, mask, base.country_words);
                    (
                        Arc::new(RatingPart { rated }),
                        PartUpdate::Patched(mask.iter().filter(|&&k| k).count()),
                    )
                }
            };
            let locs = match &locs_plan {
                Plan::Share => (self.locs.clone(), PartUpdate::Shared),
                Plan::Rebuild => (
                    Arc::new(build::loc_part(
                        base,
                        &Localizations::open(inputs.get(Dataset::Localizations))?,
                        None,
                    )?),
                    PartUpdate::Rebuilt,
                ),
                Plan::Patch(mask) => {
                    let patch = build::loc_part(
                        base,
                        &Localizations::open(inputs.get(Dataset::Localizations))?,
                        Some(mask),
                    )?;
                    let w = base.lang_words;
                    let part = LocPart {
                        name: splice_words(&self.locs.name, &patch.name, mask, w),
                        synopsis: splice_words(&self.locs.synopsis, &patch.synopsis, mask, w),
                    };
                    (
                        Arc::new(part),
                        PartUpdate::Patched(mask.iter().filter(|&&k| k).count()),
                    )
                }
            };
            Ok((windows, ratings, locs))
        };
        let heavy_videos = matches!(videos_plan, Plan::Rebuild | Plan::Patch(_));
        let (r, v) = crate::par::join(heavy_videos && default_threads() > 1, rest, videos);
        let ((videos, vu), ((windows, wu), (ratings, ru), (locs, lu))) = (v?, r?);
        let index = Index {
            base: self.base.clone(),
            videos,
            windows,
            ratings,
            locs,
        };
        Ok((
            index,
            Rebuilt {
                base: false,
                videos: vu,
                windows: wu,
                ratings: ru,
                localizations: lu,
            },
        ))
    }
}
