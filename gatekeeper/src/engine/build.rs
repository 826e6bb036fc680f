//! Phase 1 of the evaluator: [`Index::build`], from a borrowed [`Catalog`] to the flat arrays
//! of [`Index`].
//!
//! Two independent halves run on two threads: videos + assets (coverage signatures), and
//! rights + ratings + localizations. Records that point at ids that do not exist are dropped.

use super::{set_bit, FixedReasons, Index, HAS_ORIGINAL_AUDIO, HAS_ORIGINAL_CAPTIONS, HAS_VIDEO};
use crate::fxhash::{map_with_capacity, FxHashMap};
use crate::jsonl::Catalog;
use crate::model::{is_present, AssetKind, AssetStatus, TitleKind};
use std::collections::BTreeMap;

/// A map lookup that remembers the last key: the datasets usually come grouped by title (and
/// assets by video), so most lookups repeat the previous one.
struct Cached<'m, K, V> {
    map: &'m FxHashMap<K, V>,
    last: Option<(K, Option<V>)>,
}

impl<'m, K: Copy + Eq + std::hash::Hash, V: Copy> Cached<'m, K, V> {
    fn new(map: &'m FxHashMap<K, V>) -> Self {
        Cached { map, last: None }
    }

    #[inline]
    fn get(&mut self, key: K) -> Option<V> {
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

/// Country language profiles under construction.
struct Profiles {
    primary: Vec<u32>,
    captions: Vec<bool>,
    req_offsets: Vec<u32>,
    req: Vec<u32>,
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

/// Language strings to ids, in first-seen order.
struct Interner<'a> {
    ids: FxHashMap<&'a str, u32>,
    langs: Vec<&'a str>,
}

impl<'a> Interner<'a> {
    fn intern(&mut self, l: &'a str) -> u32 {
        let next = self.langs.len() as u32;
        let id = *self.ids.entry(l).or_insert(next);
        if id == next {
            self.langs.push(l);
        }
        id
    }
}

/// Per-video asset coverage, before grouping into signatures.
struct Coverage {
    flags: Vec<u8>,
    audio_or_sub: Vec<u64>,
    sub: Vec<u64>,
    captions: Vec<u64>,
}

impl Index {
    /// Phase 1: builds the index of `catalog` (see the module docs).
    pub fn build(catalog: &Catalog) -> Index {
        // Languages: the countries' first, in byte order, then titles' original languages.
        let mut country_langs: Vec<&str> =
            catalog.countries.iter().flat_map(|c| std::iter::once(c.primary_language.as_str()).chain(c.required_languages.iter().map(String::as_str))).collect();
        country_langs.sort_unstable();
        country_langs.dedup();
        let n_bit_langs = country_langs.len();
        let lang_words = n_bit_langs.div_ceil(64).max(1);
        let mut lang_ids: FxHashMap<&str, u32> = map_with_capacity(n_bit_langs * 2);
        let mut langs: Vec<&str> = Vec::with_capacity(n_bit_langs);
        for l in country_langs {
            lang_ids.insert(l, langs.len() as u32);
            langs.push(l);
        }
        let mut interner = Interner { ids: lang_ids, langs };

        // Countries, sorted by code, and their language profiles.
        let codes: Vec<&str> = catalog.countries.iter().map(|c| c.code.as_str()).collect();
        let country_order = sorted_last_wins(&codes);
        let nc = country_order.len();
        let country_words = nc.div_ceil(64).max(1);
        let mut country_ids: FxHashMap<&str, u32> = map_with_capacity(nc);
        let mut country_codes = Vec::with_capacity(nc);
        let mut country_primary = Vec::with_capacity(nc);
        let mut country_rating_required = Vec::with_capacity(nc);
        let mut country_profile = Vec::with_capacity(nc);
        let mut profile_ids: BTreeMap<(u32, bool, Vec<u32>), u32> = BTreeMap::new();
        let mut profiles = Profiles { primary: Vec::new(), captions: Vec::new(), req_offsets: vec![0], req: Vec::new() };
        for (ci, &i) in country_order.iter().enumerate() {
            let c = &catalog.countries[i];
            country_ids.insert(&c.code, ci as u32);
            country_codes.push(c.code.clone());
            let primary = interner.intern(&c.primary_language);
            country_primary.push(primary);
            country_rating_required.push(c.rating_required);
            let mut req: Vec<u32> = c.required_languages.iter().map(|l| interner.intern(l)).collect();
            req.sort_unstable();
            req.dedup();
            let next = profile_ids.len() as u32;
            let profile = *profile_ids.entry((primary, c.requires_captions, req)).or_insert_with_key(|(_, captions, req)| {
                profiles.primary.push(primary);
                profiles.captions.push(*captions);
                profiles.req.extend_from_slice(req);
                profiles.req_offsets.push(profiles.req.len() as u32);
                next
            });
            country_profile.push(profile);
        }

        // Titles, sorted by id.
        let ids: Vec<i64> = catalog.titles.iter().map(|t| t.id).collect();
        let title_order = sorted_last_wins(&ids);
        let nt = title_order.len();
        let mut title_idx: FxHashMap<i64, u32> = map_with_capacity(nt);
        let mut title_ids = Vec::with_capacity(nt);
        let mut title_orig = Vec::with_capacity(nt);
        let mut title_is_show = Vec::with_capacity(nt);
        for (ti, &i) in title_order.iter().enumerate() {
            let t = &catalog.titles[i];
            title_idx.insert(t.id, ti as u32);
            title_ids.push(t.id);
            title_orig.push(interner.intern(&t.original_language));
            title_is_show.push(t.kind == TitleKind::Show);
        }
        let Interner { ids: lang_ids, langs } = interner;
        let langs: Vec<String> = langs.iter().map(|l| l.to_string()).collect();

        let shared = Shared { catalog, lang_ids: &lang_ids, n_bit_langs, lang_words, country_ids: &country_ids, country_words, title_idx: &title_idx, title_orig: &title_orig };
        // Two independent halves: videos + assets, and rights + ratings + localizations.
        let (videos, (windows, rated, (loc_name, loc_synopsis))) = std::thread::scope(|s| {
            let videos = s.spawn(|| shared.videos());
            let rest = (shared.windows(), shared.ratings(), shared.localizations());
            (videos.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), rest)
        });

        let reason = |prefix: &str| -> Vec<String> { langs[..n_bit_langs].iter().map(|l| format!("{prefix}:{l}")).collect() };
        Index {
            missing_language: reason("MISSING_LANGUAGE"),
            missing_subtitle: reason("MISSING_SUBTITLE"),
            missing_synopsis: reason("MISSING_SYNOPSIS"),
            missing_title_name: reason("MISSING_TITLE_NAME"),
            fixed: FixedReasons {
                missing_captions: "MISSING_CAPTIONS".into(),
                missing_original_audio: "MISSING_ORIGINAL_AUDIO".into(),
                missing_rating: "MISSING_RATING".into(),
                missing_video: "MISSING_VIDEO".into(),
                no_rights: "NO_RIGHTS".into(),
                no_videos: "NO_VIDEOS".into(),
                too_few_playable_videos: "TOO_FEW_PLAYABLE_VIDEOS".into(),
                window_expired: "WINDOW_EXPIRED".into(),
                window_not_started: "WINDOW_NOT_STARTED".into(),
            },
            langs,
            n_bit_langs,
            lang_words,
            country_codes,
            country_primary,
            country_rating_required,
            country_profile,
            country_words,
            profile_primary: profiles.primary,
            profile_captions: profiles.captions,
            profile_req_offsets: profiles.req_offsets,
            profile_req: profiles.req,
            title_ids,
            title_orig,
            title_is_show,
            title_total_videos: videos.total,
            loc_name,
            loc_synopsis,
            rated,
            window_offsets: windows.offsets,
            window_country: windows.country,
            window_start: windows.start,
            window_end: windows.end,
            sig_offsets: videos.sig_offsets,
            sig_count: videos.sig_count,
            sig_flags: videos.sig_flags,
            sig_audio_or_sub: videos.sig_audio_or_sub,
            sig_sub: videos.sig_sub,
            sig_captions: videos.sig_captions,
        }
    }
}

/// What the parallel halves of [`Index::build`] share.
struct Shared<'a> {
    catalog: &'a Catalog,
    lang_ids: &'a FxHashMap<&'a str, u32>,
    n_bit_langs: usize,
    lang_words: usize,
    country_ids: &'a FxHashMap<&'a str, u32>,
    country_words: usize,
    title_idx: &'a FxHashMap<i64, u32>,
    title_orig: &'a [u32],
}

struct Videos {
    total: Vec<u32>,
    sig_offsets: Vec<u32>,
    sig_count: Vec<u32>,
    sig_flags: Vec<u8>,
    sig_audio_or_sub: Vec<u64>,
    sig_sub: Vec<u64>,
    sig_captions: Vec<u64>,
}

struct Windows {
    offsets: Vec<u32>,
    country: Vec<u32>,
    start: Vec<i64>,
    end: Vec<Option<i64>>,
}

impl Shared<'_> {
    fn n_titles(&self) -> usize {
        self.title_orig.len()
    }

    /// Videos of existing titles, their asset coverage, grouped into signatures.
    fn videos(&self) -> Videos {
        let nt = self.n_titles();
        let w = self.lang_words;
        // Video slots: the videos whose title exists.
        let mut video_slot: FxHashMap<i64, u32> = map_with_capacity(self.catalog.videos.len());
        let mut video_title: Vec<u32> = Vec::with_capacity(self.catalog.videos.len());
        let mut title_idx = Cached::new(self.title_idx);
        for v in &self.catalog.videos {
            if let Some(t) = title_idx.get(v.title_id) {
                video_slot.insert(v.id, video_title.len() as u32);
                video_title.push(t);
            }
        }
        let nv = video_title.len();
        let mut cov = Coverage { flags: vec![0u8; nv], audio_or_sub: vec![0u64; nv * w], sub: vec![0u64; nv * w], captions: vec![0u64; nv * w] };
        let mut video_idx = Cached::new(&video_slot);
        for a in &self.catalog.assets {
            if a.status != AssetStatus::Ready {
                continue;
            }
            let Some(v) = video_idx.get(a.video_id) else {
                continue;
            };
            let v = v as usize;
            let Some(lang) = a.language.as_deref() else {
                if a.kind == AssetKind::Video {
                    cov.flags[v] |= HAS_VIDEO;
                }
                continue;
            };
            let Some(&l) = self.lang_ids.get(lang) else {
                continue;
            };
            let is_orig = l == self.title_orig[video_title[v] as usize];
            let in_bits = (l as usize) < self.n_bit_langs;
            let words = v * w..(v + 1) * w;
            match a.kind {
                AssetKind::Video => {}
                AssetKind::Audio => {
                    if is_orig {
                        cov.flags[v] |= HAS_ORIGINAL_AUDIO;
                    }
                    if in_bits {
                        set_bit(&mut cov.audio_or_sub[words], l as usize);
                    }
                }
                AssetKind::Subtitle => {
                    if in_bits {
                        set_bit(&mut cov.audio_or_sub[words.clone()], l as usize);
                        set_bit(&mut cov.sub[words], l as usize);
                    }
                }
                AssetKind::ClosedCaptions => {
                    if is_orig {
                        cov.flags[v] |= HAS_ORIGINAL_CAPTIONS;
                    }
                    if in_bits {
                        set_bit(&mut cov.captions[words], l as usize);
                    }
                }
            }
        }

        // Group each title's videos by signature.
        let (offsets, order) = csr(nt, &video_title);
        let signature = |v: usize| (cov.flags[v], &cov.audio_or_sub[v * w..(v + 1) * w], &cov.sub[v * w..(v + 1) * w], &cov.captions[v * w..(v + 1) * w]);
        let mut out = Videos {
            total: Vec::with_capacity(nt),
            sig_offsets: Vec::with_capacity(nt + 1),
            sig_count: Vec::new(),
            sig_flags: Vec::new(),
            sig_audio_or_sub: Vec::new(),
            sig_sub: Vec::new(),
            sig_captions: Vec::new(),
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
                while k + run < members.len() && signature(members[k + run] as usize) == signature(first) {
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
    fn windows(&self) -> Windows {
        let nt = self.n_titles();
        let mut title_of = Vec::with_capacity(self.catalog.rights.len());
        let mut kept = Vec::with_capacity(self.catalog.rights.len());
        let mut title_idx = Cached::new(self.title_idx);
        for r in &self.catalog.rights {
            let (Some(t), Some(&c)) = (title_idx.get(r.title_id), self.country_ids.get(r.country.as_str())) else {
                continue;
            };
            title_of.push(t);
            kept.push((c, r.window_start, r.window_end));
        }
        let (offsets, mut order) = csr(nt, &title_of);
        for t in 0..nt {
            order[offsets[t] as usize..offsets[t + 1] as usize].sort_unstable_by_key(|&i| kept[i as usize]);
        }
        Windows {
            offsets,
            country: order.iter().map(|&i| kept[i as usize].0).collect(),
            start: order.iter().map(|&i| kept[i as usize].1).collect(),
            end: order.iter().map(|&i| kept[i as usize].2).collect(),
        }
    }

    /// Per title, a bitset of the countries with a rating.
    fn ratings(&self) -> Vec<u64> {
        let cw = self.country_words;
        let mut rated = vec![0u64; self.n_titles() * cw];
        let mut title_idx = Cached::new(self.title_idx);
        for r in &self.catalog.ratings {
            if let (Some(t), Some(&c)) = (title_idx.get(r.title_id), self.country_ids.get(r.country.as_str())) {
                let t = t as usize;
                set_bit(&mut rated[t * cw..(t + 1) * cw], c as usize);
            }
        }
        rated
    }

    /// Per title, bitsets of the countries' languages with a present name / synopsis.
    fn localizations(&self) -> (Vec<u64>, Vec<u64>) {
        let w = self.lang_words;
        let mut name = vec![0u64; self.n_titles() * w];
        let mut synopsis = vec![0u64; self.n_titles() * w];
        let mut title_idx = Cached::new(self.title_idx);
        for loc in &self.catalog.localizations {
            let (Some(t), Some(&l)) = (title_idx.get(loc.title_id), self.lang_ids.get(loc.language.as_str())) else {
                continue;
            };
            let (t, l) = (t as usize, l as usize);
            if l >= self.n_bit_langs {
                continue;
            }
            if is_present(loc.name.as_deref()) {
                set_bit(&mut name[t * w..(t + 1) * w], l);
            }
            if is_present(loc.synopsis.as_deref()) {
                set_bit(&mut synopsis[t * w..(t + 1) * w], l);
            }
        }
        (name, synopsis)
    }
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
