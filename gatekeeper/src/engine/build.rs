//! Phase 1 of the evaluator: from the seven input read states to the parts of [`Index`].
//!
//! Every dataset is opened as its derived model type (`state.typed::<model::Title>()`: the
//! schema checked once, a field that differs named in the error, and a state holding a null
//! in a field the model does not wrap in `Option` refused as a whole) and read through the
//! table's column handles, ordinal by ordinal. Strings that the rules compare (languages,
//! country codes, enum values) are never materialized per record: each string column's pool
//! is mapped once, value id → interned id, and records are looked up by their value id.
//! Records that point at ids that do not exist are dropped.
//!
//! The base (countries, titles, languages) is built first; then videos + assets on one thread
//! and rights + ratings + localizations on the other.

use super::index::{
    default_threads, set_bit, Base, FixedReasons, Index, LocPart, PartUpdate, RatingPart, Rebuilt,
    VideoPart, WindowPart, HAS_ORIGINAL_AUDIO, HAS_ORIGINAL_CAPTIONS, HAS_VIDEO, NO_LANG,
};
use crate::error::{Error, Result};
use crate::inputs::{Dataset, InputStates};
use crate::model;
use crate::model::is_present;
use crate::table::Grid;
use hollow::read::{LongColumn, StrColumn};
use hollow::typed::Table;
use hollow::{Hollow, ObjectView, ReadState};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The most countries a [`Row`](crate::Row) can index.
const MAX_COUNTRIES: usize = u16::MAX as usize + 1;

/// No such id (title, video, country, enum value).
const NONE: u32 = u32::MAX;

/// Asset kinds and the `READY` status, as looked up through their pools.
const KIND_VIDEO: u32 = 0;
const KIND_AUDIO: u32 = 1;
const KIND_SUBTITLE: u32 = 2;
const KIND_CAPTIONS: u32 = 3;

impl Index {
    /// Phase 1: builds the index of the seven input states (see the [`engine`](crate::engine)
    /// docs). Fails when a state lacks a type or field the rules read
    /// ([`Error::Input`](crate::Error::Input)).
    pub fn build(inputs: &InputStates) -> Result<Index> {
        let base = Arc::new(base(inputs)?);
        let (videos, windows, ratings, locs) = parts(&base, inputs, [true; 4])?;
        Ok(Index {
            videos: videos.unwrap_or_default(),
            windows: windows.unwrap_or_default(),
            ratings: ratings.unwrap_or_default(),
            locs: locs.unwrap_or_default(),
            base,
        })
    }

    /// The index of `inputs`, which differ from the states this index was built from only in
    /// the datasets marked in `changed` (by [`Dataset::index`]). Parts whose datasets did not
    /// change are shared with `self`. A change of `countries` or `titles` rebuilds the base,
    /// and everything else too unless the base came out the same (only fields the rules do
    /// not read changed).
    pub fn update(&self, inputs: &InputStates, changed: [bool; 7]) -> Result<(Index, Rebuilt)> {
        let ch = |d: Dataset| changed[d.index()];
        if ch(Dataset::Countries) || ch(Dataset::Titles) {
            // Most title and country changes (a new name, say) leave everything the rules read
            // as it was: then the other parts stay valid.
            let base = base(inputs)?;
            if !base.same_rules_input(&self.base) {
                let base = Arc::new(base);
                let (videos, windows, ratings, locs) = parts(&base, inputs, [true; 4])?;
                let index = Index {
                    videos: videos.unwrap_or_default(),
                    windows: windows.unwrap_or_default(),
                    ratings: ratings.unwrap_or_default(),
                    locs: locs.unwrap_or_default(),
                    base,
                };
                return Ok((index, Rebuilt::all()));
            }
        }
        let want = [
            ch(Dataset::Videos) || ch(Dataset::Assets),
            ch(Dataset::Rights),
            ch(Dataset::Ratings),
            ch(Dataset::Localizations),
        ];
        let (videos, windows, ratings, locs) = parts(&self.base, inputs, want)?;
        let part = |w: bool| {
            if w {
                PartUpdate::Rebuilt
            } else {
                PartUpdate::Shared
            }
        };
        let rebuilt = Rebuilt {
            base: false,
            videos: part(want[0]),
            windows: part(want[1]),
            ratings: part(want[2]),
            localizations: part(want[3]),
        };
        Ok((
            Index {
                base: self.base.clone(),
                videos: videos.unwrap_or_else(|| self.videos.clone()),
                windows: windows.unwrap_or_else(|| self.windows.clone()),
                ratings: ratings.unwrap_or_else(|| self.ratings.clone()),
                locs: locs.unwrap_or_else(|| self.locs.clone()),
            },
            rebuilt,
        ))
    }

    /// Checks that a state of dataset `d` has every type and field the rules read, with the
    /// right kinds (what [`Index::build`] would otherwise fail on).
    pub fn validate_input(d: Dataset, state: &hollow::ReadState) -> Result<()> {
        validate(d, state)
    }
}

pub(super) fn input_err<E: std::fmt::Display>(d: Dataset) -> impl Fn(E) -> Error {
    move |e| Error::Input {
        dataset: d.name(),
        detail: e.to_string(),
    }
}

/// Whether title `t` is kept by a filter (`None` keeps every title).
#[inline]
fn keeps(keep: Option<&[bool]>, t: u32) -> bool {
    keep.is_none_or(|k| k.get(t as usize).copied().unwrap_or(false))
}

/// For each value id of a string column's pool: `f(value)`, or `none` when the value cannot be
/// read. Each distinct string is looked at once.
fn pool_map(col: &StrColumn<'_>, none: u32, mut f: impl FnMut(&str) -> u32) -> Vec<u32> {
    (0..col.distinct_values())
        .map(|id| col.value_by_id(id).map_or(none, |s| f(&s)))
        .collect()
}

/// The mapped value of the string at `ordinal` (`NONE` when null or unknown).
#[inline]
fn mapped(table: &[u32], col: &StrColumn<'_>, ordinal: u32) -> u32 {
    col.value_id(ordinal)
        .and_then(|id| table.get(id as usize).copied())
        .unwrap_or(NONE)
}

/// A map lookup that remembers the last key: the datasets usually come grouped by title (and
/// assets by video), so most lookups repeat the previous one.
pub(super) struct Cached<'m, K, V> {
    map: &'m FxHashMap<K, V>,
    last: Option<(K, Option<V>)>,
}

impl<'m, K: Copy + Eq + std::hash::Hash, V: Copy> Cached<'m, K, V> {
    pub(super) fn new(map: &'m FxHashMap<K, V>) -> Self {
        Cached { map, last: None }
    }

    #[inline]
    pub(super) fn get(&mut self, key: K) -> Option<V> {
        match self.last {
            Some((k, v)) if k == key => v,
            _ => {
                let v = self.map.get(&key).copied();
                self.last = Some((key, v));
                v
            }
        }
    }
}

/// Indices of `keys` sorted by key, keeping only the last index of each repeated key.
fn sorted_last_wins<K: Ord>(keys: &[K]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b])); // stable: equal keys stay in input order
    let mut out: Vec<usize> = Vec::with_capacity(order.len());
    for i in order {
        match out.last_mut() {
            Some(last) if keys[*last] == keys[i] => *last = i,
            _ => out.push(i),
        }
    }
    out
}

/// Counting sort of `items` (each with a group in `0..groups`) into CSR offsets + order.
fn csr(groups: usize, group_of: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; groups + 1];
    for &g in group_of {
        offsets[g as usize + 1] += 1;
    }
    for g in 0..groups {
        offsets[g + 1] += offsets[g];
    }
    let mut next = offsets.clone();
    let mut order = vec![0u32; group_of.len()];
    for (i, &g) in group_of.iter().enumerate() {
        order[next[g as usize] as usize] = i as u32;
        next[g as usize] += 1;
    }
    (offsets, order)
}

// ---------------------------------------------------------------------------------------------
// Typed views of the seven datasets (opening one validates its state).

/// A derived model type's table: its schema checked once against the state (a typed
/// `Mismatch` naming the field that differs), then its columns taken as the engine's handles.
fn table<'a, T: Hollow>(s: &'a ReadState, d: Dataset) -> Result<(ObjectView<'a>, T::Columns<'a>)> {
    Ok(s.typed::<T>().map_err(input_err(d))?.into_parts())
}

pub(super) struct Countries<'a> {
    pub(super) table: Table<'a, model::Country>,
}

impl<'a> Countries<'a> {
    pub(super) fn open(s: &'a ReadState) -> Result<Self> {
        let table = s
            .typed::<model::Country>()
            .map_err(input_err(Dataset::Countries))?;
        Ok(Countries { table })
    }
}

pub(super) struct Titles<'a> {
    pub(super) obj: ObjectView<'a>,
    pub(super) id: LongColumn<'a>,
    pub(super) kind: StrColumn<'a>,
    pub(super) orig: StrColumn<'a>,
}

impl<'a> Titles<'a> {
    pub(super) fn open(s: &'a ReadState) -> Result<Self> {
        let (obj, c) = table::<model::Title>(s, Dataset::Titles)?;
        Ok(Titles {
            id: c.id,
            kind: c.kind.strings(),
            orig: c.original_language,
            obj,
        })
    }
}

pub(super) struct Videos<'a> {
    pub(super) obj: ObjectView<'a>,
    pub(super) id: LongColumn<'a>,
    pub(super) title_id: LongColumn<'a>,
}

impl<'a> Videos<'a> {
    pub(super) fn open(s: &'a ReadState) -> Result<Self> {
        let (obj, c) = table::<model::Video>(s, Dataset::Videos)?;
        Ok(Videos {
            id: c.id,
            title_id: c.title_id,
            obj,
        })
    }
}

pub(super) struct Rights<'a> {
    pub(super) obj: ObjectView<'a>,
    pub(super) title_id: LongColumn<'a>,
    pub(super) country: StrColumn<'a>,
    pub(super) start: LongColumn<'a>,
    pub(super) end: LongColumn<'a>,
}

impl<'a> Rights<'a> {
    pub(super) fn open(s: &'a ReadState) -> Result<Self> {
        let (obj, c) = table::<model::Right>(s, Dataset::Rights)?;
        Ok(Rights {
            title_id: c.title_id,
            country: c.country,
            start: c.window_start,
            end: c.window_end,
            obj,
        })
    }
}

pub(super) struct Assets<'a> {
    pub(super) obj: ObjectView<'a>,
    pub(super) video_id: LongColumn<'a>,
    pub(super) kind: StrColumn<'a>,
    pub(super) language: StrColumn<'a>,
    pub(super) status: StrColumn<'a>,
}

impl<'a> Assets<'a> {
    pub(super) fn open(s: &'a ReadState) -> Result<Self> {
        let (obj, c) = table::<model::Asset>(s, Dataset::Assets)?;
        Ok(Assets {
            video_id: c.video_id,
            kind: c.kind.strings(),
            language: c.language,
            status: c.status.strings(),
            obj,
        })
    }
}

pub(super) struct Localizations<'a> {
    pub(super) obj: ObjectView<'a>,
    pub(super) title_id: LongColumn<'a>,
    pub(super) language: StrColumn<'a>,
    pub(super) name: StrColumn<'a>,
    pub(super) synopsis: StrColumn<'a>,
}

impl<'a> Localizations<'a> {
    pub(super) fn open(s: &'a ReadState) -> Result<Self> {
        let (obj, c) = table::<model::Localization>(s, Dataset::Localizations)?;
        Ok(Localizations {
            title_id: c.title_id,
            language: c.language,
            name: c.name,
            synopsis: c.synopsis,
            obj,
        })
    }
}

pub(super) struct Ratings<'a> {
    pub(super) obj: ObjectView<'a>,
    pub(super) title_id: LongColumn<'a>,
    pub(super) country: StrColumn<'a>,
}

impl<'a> Ratings<'a> {
    pub(super) fn open(s: &'a ReadState) -> Result<Self> {
        let (obj, c) = table::<model::Rating>(s, Dataset::Ratings)?;
        Ok(Ratings {
            title_id: c.title_id,
            country: c.country,
            obj,
        })
    }
}

/// Opens the views of dataset `d` over `state`: fails if the rules cannot read it.
pub(super) fn validate(d: Dataset, state: &ReadState) -> Result<()> {
    match d {
        Dataset::Countries => Countries::open(state).map(|_| ()),
        Dataset::Titles => Titles::open(state).map(|_| ()),
        Dataset::Videos => Videos::open(state).map(|_| ()),
        Dataset::Rights => Rights::open(state).map(|_| ()),
        Dataset::Assets => Assets::open(state).map(|_| ()),
        Dataset::Localizations => Localizations::open(state).map(|_| ()),
        Dataset::Ratings => Ratings::open(state).map(|_| ()),
    }
}

// ---------------------------------------------------------------------------------------------
// The base.

/// One country record, borrowed from the state where the pool is plain.
struct CountryRec<'a> {
    code: Cow<'a, str>,
    primary: Cow<'a, str>,
    required: Vec<Cow<'a, str>>,
    captions: bool,
    rating: bool,
}

/// Builds the base from `countries` and `titles`.
pub(super) fn base(inputs: &InputStates) -> Result<Base> {
    let cv = Countries::open(inputs.get(Dataset::Countries))?;
    let tv = Titles::open(inputs.get(Dataset::Titles))?;

    // Countries, sorted by code (one of each code), with their languages.
    let recs: Vec<CountryRec<'_>> = cv
        .table
        .iter()
        .map(|c| CountryRec {
            code: Cow::Borrowed(c.code()),
            primary: Cow::Borrowed(c.primary_language()),
            required: c.required_languages().map(Cow::Borrowed).collect(),
            captions: c.requires_captions(),
            rating: c.rating_required(),
        })
        .collect();
    let codes: Vec<&str> = recs.iter().map(|c| &*c.code).collect();
    let country_order = sorted_last_wins(&codes);
    let nc = country_order.len();
    if nc > MAX_COUNTRIES {
        return Err(Error::Input {
            dataset: Dataset::Countries.name(),
            detail: format!("{nc} countries; the engine handles at most {MAX_COUNTRIES}"),
        });
    }

    // Languages: the countries' first, in byte order, then the titles' original languages.
    let mut country_langs: Vec<&str> = country_order
        .iter()
        .flat_map(|&i| {
            std::iter::once(&*recs[i].primary).chain(recs[i].required.iter().map(|l| &**l))
        })
        .collect();
    country_langs.sort_unstable();
    country_langs.dedup();
    let n_bit_langs = country_langs.len();
    let lang_words = n_bit_langs.div_ceil(64).max(1);
    let mut langs: Vec<String> = country_langs.iter().map(|l| l.to_string()).collect();
    let mut lang_ids: FxHashMap<String, u32> =
        FxHashMap::with_capacity_and_hasher(n_bit_langs * 2, Default::default());
    for (i, l) in langs.iter().enumerate() {
        lang_ids.insert(l.clone(), i as u32);
    }
    let lang = |ids: &FxHashMap<String, u32>, l: &str| ids.get(l).copied().unwrap_or(NO_LANG);

    let country_words = nc.div_ceil(64).max(1);
    let mut country_ids: FxHashMap<String, u32> =
        FxHashMap::with_capacity_and_hasher(nc, Default::default());
    let mut country_codes = Vec::with_capacity(nc);
    let mut country_primary = Vec::with_capacity(nc);
    let mut country_rating_required = Vec::with_capacity(nc);
    let mut country_profile = Vec::with_capacity(nc);
    let mut profile_ids: BTreeMap<(u32, bool, Vec<u32>), u32> = BTreeMap::new();
    let (mut profile_primary, mut profile_captions, mut profile_req_offsets, mut profile_req) =
        (Vec::new(), Vec::new(), vec![0u32], Vec::new());
    for (ci, &i) in country_order.iter().enumerate() {
        let c = &recs[i];
        country_ids.insert(c.code.to_string(), ci as u32);
        country_codes.push(c.code.to_string());
        let primary = lang(&lang_ids, &c.primary);
        country_primary.push(primary);
        country_rating_required.push(c.rating);
        let mut req: Vec<u32> = c.required.iter().map(|l| lang(&lang_ids, l)).collect();
        req.sort_unstable();
        req.dedup();
        let next = profile_ids.len() as u32;
        let profile = *profile_ids
            .entry((primary, c.captions, req))
            .or_insert_with_key(|(_, captions, req)| {
                profile_primary.push(primary);
                profile_captions.push(*captions);
                profile_req.extend_from_slice(req);
                profile_req_offsets.push(profile_req.len() as u32);
                next
            });
        country_profile.push(profile);
    }

    // Titles, sorted by id; original languages interned through the pool.
    let orig_of = pool_map(&tv.orig, NO_LANG, |l| match lang_ids.get(l) {
        Some(&id) => id,
        None => {
            let id = langs.len() as u32;
            langs.push(l.to_string());
            lang_ids.insert(l.to_string(), id);
            id
        }
    });
    let show_of = pool_map(&tv.kind, 0, |k| u32::from(k == "SHOW"));
    let mut title_ords: Vec<(i64, u32)> = Vec::with_capacity(tv.obj.len() as usize);
    for o in tv.obj.ordinals() {
        if let Some(id) = tv.id.get(o) {
            title_ords.push((id, o));
        }
    }
    let ids: Vec<i64> = title_ords.iter().map(|t| t.0).collect();
    let title_order = sorted_last_wins(&ids);
    let nt = title_order.len();
    if nt > u32::MAX as usize {
        return Err(Error::Input {
            dataset: Dataset::Titles.name(),
            detail: format!("{nt} titles; the engine handles at most {}", u32::MAX),
        });
    }
    let mut title_idx: FxHashMap<i64, u32> =
        FxHashMap::with_capacity_and_hasher(nt, Default::default());
    let mut title_ids = Vec::with_capacity(nt);
    let mut title_orig = Vec::with_capacity(nt);
    let mut title_is_show = Vec::with_capacity(nt);
    for (ti, &i) in title_order.iter().enumerate() {
        let (id, o) = title_ords[i];
        title_idx.insert(id, ti as u32);
        title_ids.push(id);
        title_orig.push(match mapped(&orig_of, &tv.orig, o) {
            NONE => NO_LANG,
            l => l,
        });
        title_is_show.push(mapped(&show_of, &tv.kind, o) == 1);
    }

    let reason = |prefix: &str| -> Vec<String> {
        langs[..n_bit_langs]
            .iter()
            .map(|l| format!("{prefix}:{l}"))
            .collect()
    };
    Ok(Base {
        missing_language: reason("MISSING_LANGUAGE"),
        missing_subtitle: reason("MISSING_SUBTITLE"),
        missing_synopsis: reason("MISSING_SYNOPSIS"),
        missing_title_name: reason("MISSING_TITLE_NAME"),
        fixed: FixedReasons::default(),
        grid: Arc::new(Grid::new(title_ids, country_codes)),
        langs,
        lang_ids,
        n_bit_langs,
        lang_words,
        country_ids,
        country_primary,
        country_rating_required,
        country_profile,
        country_words,
        profile_primary,
        profile_captions,
        profile_req_offsets,
        profile_req,
        title_idx,
        title_orig,
        title_is_show,
    })
}

// ---------------------------------------------------------------------------------------------
// The other parts.

type Parts = (
    Option<Arc<VideoPart>>,
    Option<Arc<WindowPart>>,
    Option<Arc<RatingPart>>,
    Option<Arc<LocPart>>,
);
type OtherParts = (
    Option<Arc<WindowPart>>,
    Option<Arc<RatingPart>>,
    Option<Arc<LocPart>>,
);

/// Builds the parts marked in `want` (videos, rights, ratings, localizations): videos on a
/// second thread when anything else is built too.
pub(super) fn parts(base: &Base, inputs: &InputStates, want: [bool; 4]) -> Result<Parts> {
    let videos = || -> Result<Option<Arc<VideoPart>>> {
        if !want[0] {
            return Ok(None);
        }
        let vv = Videos::open(inputs.get(Dataset::Videos))?;
        let av = Assets::open(inputs.get(Dataset::Assets))?;
        Ok(Some(Arc::new(video_part(base, &vv, &av, None))))
    };
    let rest = || -> Result<OtherParts> {
        let windows = if want[1] {
            Some(Arc::new(window_part(
                base,
                &Rights::open(inputs.get(Dataset::Rights))?,
                None,
            )))
        } else {
            None
        };
        let ratings = if want[2] {
            Some(Arc::new(rating_part(
                base,
                &Ratings::open(inputs.get(Dataset::Ratings))?,
                None,
            )))
        } else {
            None
        };
        let locs = if want[3] {
            Some(Arc::new(loc_part(
                base,
                &Localizations::open(inputs.get(Dataset::Localizations))?,
                None,
            )?))
        } else {
            None
        };
        Ok((windows, ratings, locs))
    };
    let (r, v) = crate::par::join(
        want[0] && want[1..].iter().any(|&w| w) && default_threads() > 1,
        rest,
        videos,
    );
    let (windows, ratings, locs) = r?;
    Ok((v?, windows, ratings, locs))
}

/// Per-video asset coverage, before grouping into signatures.
struct Coverage {
    flags: Vec<u8>,
    audio_or_sub: Vec<u64>,
    sub: Vec<u64>,
    captions: Vec<u64>,
}

/// Videos of existing titles, their `READY` asset coverage, grouped into signatures.
pub(super) fn video_part(
    base: &Base,
    vv: &Videos<'_>,
    av: &Assets<'_>,
    keep: Option<&[bool]>,
) -> VideoPart {
    let nt = base.title_orig.len();
    let w = base.lang_words;
    // Video slots: the videos whose title exists.
    let mut video_slot: FxHashMap<i64, u32> =
        FxHashMap::with_capacity_and_hasher(vv.obj.len() as usize, Default::default());
    let mut video_title: Vec<u32> = Vec::with_capacity(vv.obj.len() as usize);
    let mut title_idx = Cached::new(&base.title_idx);
    for o in vv.obj.ordinals() {
        let (Some(id), Some(tid)) = (vv.id.get(o), vv.title_id.get(o)) else {
            continue;
        };
        if let Some(t) = title_idx.get(tid).filter(|&t| keeps(keep, t)) {
            if let std::collections::hash_map::Entry::Vacant(e) = video_slot.entry(id) {
                e.insert(video_title.len() as u32);
                video_title.push(t);
            }
        }
    }
    let nv = video_title.len();
    let kind_of = pool_map(&av.kind, NONE, |k| match k {
        "VIDEO" => KIND_VIDEO,
        "AUDIO" => KIND_AUDIO,
        "SUBTITLE" => KIND_SUBTITLE,
        "CLOSED_CAPTIONS" => KIND_CAPTIONS,
        _ => NONE,
    });
    let ready_of = pool_map(&av.status, 0, |s| u32::from(s == "READY"));
    let lang_of = pool_map(&av.language, NO_LANG, |l| {
        base.lang_ids.get(l).copied().unwrap_or(NO_LANG)
    });
    let mut cov = Coverage {
        flags: vec![0u8; nv],
        audio_or_sub: vec![0u64; nv * w],
        sub: vec![0u64; nv * w],
        captions: vec![0u64; nv * w],
    };
    let mut video_idx = Cached::new(&video_slot);
    for o in av.obj.ordinals() {
        if mapped(&ready_of, &av.status, o) != 1 {
            continue;
        }
        let Some(v) = av.video_id.get(o).and_then(|id| video_idx.get(id)) else {
            continue;
        };
        let v = v as usize;
        let kind = mapped(&kind_of, &av.kind, o);
        let Some(lang_value) = av.language.value_id(o) else {
            if kind == KIND_VIDEO {
                cov.flags[v] |= HAS_VIDEO;
            }
            continue;
        };
        let l = lang_of.get(lang_value as usize).copied().unwrap_or(NO_LANG);
        if l == NO_LANG {
            continue;
        }
        let is_orig = l == base.title_orig[video_title[v] as usize];
        let in_bits = (l as usize) < base.n_bit_langs;
        let words = v * w..(v + 1) * w;
        match kind {
            KIND_AUDIO => {
                if is_orig {
                    cov.flags[v] |= HAS_ORIGINAL_AUDIO;
                }
                if in_bits {
                    set_bit(&mut cov.audio_or_sub[words], l as usize);
                }
            }
            KIND_SUBTITLE if in_bits => {
                set_bit(&mut cov.audio_or_sub[words.clone()], l as usize);
                set_bit(&mut cov.sub[words], l as usize);
            }
            KIND_CAPTIONS => {
                if is_orig {
                    cov.flags[v] |= HAS_ORIGINAL_CAPTIONS;
                }
                if in_bits {
                    set_bit(&mut cov.captions[words], l as usize);
                }
            }
            _ => {}
        }
    }

    // Group each title's videos by signature.
    let (offsets, order) = csr(nt, &video_title);
    let signature = |v: usize| {
        (
            cov.flags[v],
            &cov.audio_or_sub[v * w..(v + 1) * w],
            &cov.sub[v * w..(v + 1) * w],
            &cov.captions[v * w..(v + 1) * w],
        )
    };
    let mut out = VideoPart {
        total: Vec::with_capacity(nt),
        sig_offsets: Vec::with_capacity(nt + 1),
        ..VideoPart::default()
    };
    out.sig_offsets.push(0);
    let mut members: Vec<u32> = Vec::new();
    for t in 0..nt {
        members.clear();
        members.extend_from_slice(&order[offsets[t] as usize..offsets[t + 1] as usize]);
        members.sort_unstable_by(|&a, &b| signature(a as usize).cmp(&signature(b as usize)));
        out.total.push(members.len() as u32);
        let mut k = 0;
        while k < members.len() {
            let first = members[k] as usize;
            let mut run = 1;
            while k + run < members.len()
                && signature(members[k + run] as usize) == signature(first)
            {
                run += 1;
            }
            let (flags, avail, sub, captions) = signature(first);
            out.sig_count.push(run as u32);
            out.sig_flags.push(flags);
            out.sig_audio_or_sub.extend_from_slice(avail);
            out.sig_sub.extend_from_slice(sub);
            out.sig_captions.extend_from_slice(captions);
            k += run;
        }
        out.sig_offsets.push(out.sig_count.len() as u32);
    }
    out
}

/// Rights windows of existing titles in existing countries, CSR by title, by country.
pub(super) fn window_part(base: &Base, rv: &Rights<'_>, keep: Option<&[bool]>) -> WindowPart {
    let nt = base.title_orig.len();
    let country_of = pool_map(&rv.country, NONE, |c| {
        base.country_ids.get(c).copied().unwrap_or(NONE)
    });
    let mut title_of = Vec::with_capacity(rv.obj.len() as usize);
    let mut kept = Vec::with_capacity(rv.obj.len() as usize);
    let mut title_idx = Cached::new(&base.title_idx);
    for o in rv.obj.ordinals() {
        let c = mapped(&country_of, &rv.country, o);
        let (Some(t), Some(start)) = (
            rv.title_id
                .get(o)
                .and_then(|id| title_idx.get(id))
                .filter(|&t| keeps(keep, t)),
            rv.start.get(o),
        ) else {
            continue;
        };
        if c == NONE {
            continue;
        }
        title_of.push(t);
        kept.push((c, start, rv.end.get(o)));
    }
    let (offsets, mut order) = csr(nt, &title_of);
    for t in 0..nt {
        // Records of a title untouched by deltas are still in file order, usually sorted.
        let run = &mut order[offsets[t] as usize..offsets[t + 1] as usize];
        if !run.is_sorted_by_key(|&i| kept[i as usize]) {
            run.sort_unstable_by_key(|&i| kept[i as usize]);
        }
    }
    let mut out = WindowPart {
        offsets,
        country: Vec::with_capacity(order.len()),
        start: Vec::with_capacity(order.len()),
        end: Vec::with_capacity(order.len()),
    };
    for &i in &order {
        let (c, start, end) = kept[i as usize];
        out.country.push(c);
        out.start.push(start);
        out.end.push(end);
    }
    out
}

/// Per title, a bitset of the countries with a rating.
pub(super) fn rating_part(base: &Base, rv: &Ratings<'_>, keep: Option<&[bool]>) -> RatingPart {
    let cw = base.country_words;
    let country_of = pool_map(&rv.country, NONE, |c| {
        base.country_ids.get(c).copied().unwrap_or(NONE)
    });
    let mut rated = vec![0u64; base.title_orig.len() * cw];
    let mut title_idx = Cached::new(&base.title_idx);
    for o in rv.obj.ordinals() {
        let c = mapped(&country_of, &rv.country, o);
        if let (Some(t), true) = (
            rv.title_id
                .get(o)
                .and_then(|id| title_idx.get(id))
                .filter(|&t| keeps(keep, t)),
            c != NONE,
        ) {
            let t = t as usize;
            set_bit(&mut rated[t * cw..(t + 1) * cw], c as usize);
        }
    }
    RatingPart { rated }
}

/// Whether the text at `ordinal` is present, decoding compressed values into `buf`.
fn present_at(col: &StrColumn<'_>, ordinal: u32, buf: &mut Vec<u8>) -> Result<bool, hollow::Error> {
    let Some(id) = col.value_id(ordinal) else {
        return Ok(false);
    };
    col.value_bytes_into(id, buf)?;
    Ok(match std::str::from_utf8(buf) {
        Ok(s) => is_present(Some(s)),
        Err(_) => is_present(Some(&String::from_utf8_lossy(buf))),
    })
}

/// Per title, bitsets of the countries' languages with a present name / synopsis.
pub(super) fn loc_part(
    base: &Base,
    lv: &Localizations<'_>,
    keep: Option<&[bool]>,
) -> Result<LocPart> {
    let w = base.lang_words;
    let n = base.title_orig.len() * w;
    let mut out = LocPart {
        name: vec![0u64; n],
        synopsis: vec![0u64; n],
    };
    let lang_of = pool_map(&lv.language, NO_LANG, |l| {
        base.lang_ids.get(l).copied().unwrap_or(NO_LANG)
    });
    let mut title_idx = Cached::new(&base.title_idx);
    let mut buf = Vec::new();
    let e = input_err(Dataset::Localizations);
    for o in lv.obj.ordinals() {
        let l = mapped(&lang_of, &lv.language, o);
        let Some(t) = lv
            .title_id
            .get(o)
            .and_then(|id| title_idx.get(id))
            .filter(|&t| keeps(keep, t))
        else {
            continue;
        };
        if l == NO_LANG || l as usize >= base.n_bit_langs {
            continue;
        }
        let (t, l) = (t as usize, l as usize);
        if present_at(&lv.name, o, &mut buf).map_err(&e)? {
            set_bit(&mut out.name[t * w..(t + 1) * w], l);
        }
        if present_at(&lv.synopsis, o, &mut buf).map_err(&e)? {
            set_bit(&mut out.synopsis[t * w..(t + 1) * w], l);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_last_wins_keeps_the_last_of_each_key() {
        assert_eq!(sorted_last_wins(&[3, 1, 3, 2, 1]), [4, 3, 2]);
        assert!(sorted_last_wins::<i64>(&[]).is_empty());
    }

    #[test]
    fn csr_groups_in_input_order() {
        let (offsets, order) = csr(3, &[2, 0, 2, 1, 0]);
        assert_eq!(offsets, [0, 2, 3, 5]);
        assert_eq!(order, [1, 4, 3, 0, 2]);
    }
}
