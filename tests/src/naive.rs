//! A deliberately naive liveness evaluator, written straight from GATEKEEPER.md §3 as the test
//! oracle for `gatekeeper::engine`.
//!
//! Plain `BTreeMap`s, `BTreeSet`s and loops; no interning, bitsets, signatures or threads. It
//! shares only the record structs and the JSONL loader with the engine (not even the "present"
//! helper), and it supports the same rule parameters (`gatekeeper::Rules`), so both the
//! baseline and the strict variant are checked. Records pointing at ids that do not exist are
//! simply never found by the lookups.

use gatekeeper::jsonl::Catalog;
use gatekeeper::model::{AssetKind, AssetStatus, Country, Liveness, Right, Title, TitleKind};
use gatekeeper::Rules;
use std::collections::{BTreeMap, BTreeSet};

/// Text is present: non-null and holding a character that is not Unicode white space.
fn present(text: &Option<String>) -> bool {
    match text {
        None => false,
        Some(s) => {
            for c in s.chars() {
                if !c.is_whitespace() {
                    return true;
                }
            }
            false
        }
    }
}

/// The (kind, language) pairs of one video's READY assets.
type ReadySet<'a> = BTreeSet<(AssetKind, Option<&'a str>)>;

/// `ready(V, kind, lang)`: some asset of V with that kind and language is READY.
fn ready(ready_assets: &ReadySet<'_>, kind: AssetKind, lang: Option<&str>) -> bool {
    ready_assets.contains(&(kind, lang))
}

/// Evaluates every title × every country of `catalog` at `now` under `rules`, in export order.
pub fn evaluate(catalog: &Catalog, now: i64, rules: &Rules) -> Vec<Liveness> {
    // Group the datasets by the keys the rules look them up by.
    let mut titles: BTreeMap<i64, &Title> = BTreeMap::new();
    for t in &catalog.titles {
        titles.insert(t.id, t);
    }
    let mut countries: BTreeMap<&str, &Country> = BTreeMap::new();
    for c in &catalog.countries {
        countries.insert(&c.code, c);
    }
    let mut windows: BTreeMap<(i64, &str), Vec<&Right>> = BTreeMap::new();
    for r in &catalog.rights {
        windows.entry((r.title_id, &r.country)).or_default().push(r);
    }
    let mut videos: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for v in &catalog.videos {
        videos.entry(v.title_id).or_default().push(v.id);
    }
    let mut ready_assets: BTreeMap<i64, ReadySet<'_>> = BTreeMap::new();
    for a in &catalog.assets {
        if a.status == AssetStatus::Ready {
            ready_assets
                .entry(a.video_id)
                .or_default()
                .insert((a.kind, a.language.as_deref()));
        }
    }
    let mut ratings: BTreeSet<(i64, &str)> = BTreeSet::new();
    for r in &catalog.ratings {
        ratings.insert((r.title_id, &r.country));
    }
    let mut localizations = BTreeMap::new();
    for l in &catalog.localizations {
        localizations.insert((l.title_id, l.language.as_str()), l);
    }

    let mut out = Vec::new();
    for (&tid, t) in &titles {
        for (&code, c) in &countries {
            let mut reasons: BTreeSet<String> = BTreeSet::new();
            let mut title_level = false;
            let mut add_title_reason = |reason: String, reasons: &mut BTreeSet<String>| {
                title_level = true;
                reasons.insert(reason);
            };

            // Windows.
            let no_windows: Vec<&Right> = Vec::new();
            let ws: &Vec<&Right> = windows.get(&(tid, code)).unwrap_or(&no_windows);
            let mut any_active = false;
            let mut next_window_start: Option<i64> = None;
            for w in ws {
                let started = w.window_start <= now;
                let not_ended = match w.window_end {
                    None => true,
                    Some(end) => now < end,
                };
                if started && not_ended {
                    any_active = true;
                }
                if w.window_start > now {
                    next_window_start = Some(match next_window_start {
                        None => w.window_start,
                        Some(n) => n.min(w.window_start),
                    });
                }
            }
            let some_starts_later = ws.iter().any(|w| w.window_start > now);
            if ws.is_empty() {
                add_title_reason("NO_RIGHTS".to_string(), &mut reasons);
            }
            if !any_active && some_starts_later {
                add_title_reason("WINDOW_NOT_STARTED".to_string(), &mut reasons);
            }
            if !ws.is_empty() && !any_active && !some_starts_later {
                add_title_reason("WINDOW_EXPIRED".to_string(), &mut reasons);
            }

            // Rating and localization.
            if c.rating_required && !ratings.contains(&(tid, code)) {
                add_title_reason("MISSING_RATING".to_string(), &mut reasons);
            }
            let primary = c.primary_language.as_str();
            let loc = localizations.get(&(tid, primary));
            if primary != t.original_language {
                let has_name = match loc {
                    Some(l) => present(&l.name),
                    None => false,
                };
                if !has_name {
                    add_title_reason(format!("MISSING_TITLE_NAME:{primary}"), &mut reasons);
                }
            }
            let has_synopsis = match loc {
                Some(l) => present(&l.synopsis),
                None => false,
            };
            if !has_synopsis {
                add_title_reason(format!("MISSING_SYNOPSIS:{primary}"), &mut reasons);
            }

            // Videos.
            let no_videos: Vec<i64> = Vec::new();
            let vids: &Vec<i64> = videos.get(&tid).unwrap_or(&no_videos);
            if vids.is_empty() {
                add_title_reason("NO_VIDEOS".to_string(), &mut reasons);
            }
            let orig = t.original_language.as_str();
            let mut playable = 0u32;
            for vid in vids {
                let no_assets: ReadySet<'_> = BTreeSet::new();
                let va: &ReadySet<'_> = ready_assets.get(vid).unwrap_or(&no_assets);
                let mut video_reasons: Vec<String> = Vec::new();
                if !ready(va, AssetKind::Video, None) {
                    video_reasons.push("MISSING_VIDEO".to_string());
                }
                if !ready(va, AssetKind::Audio, Some(orig)) {
                    video_reasons.push("MISSING_ORIGINAL_AUDIO".to_string());
                }
                for l in &c.required_languages {
                    if l != orig
                        && !ready(va, AssetKind::Audio, Some(l))
                        && !ready(va, AssetKind::Subtitle, Some(l))
                    {
                        video_reasons.push(format!("MISSING_LANGUAGE:{l}"));
                    }
                }
                if (c.requires_captions || rules.captions_in_every_country)
                    && !ready(va, AssetKind::ClosedCaptions, Some(orig))
                    && !ready(va, AssetKind::ClosedCaptions, Some(primary))
                {
                    video_reasons.push("MISSING_CAPTIONS".to_string());
                }
                if rules.subtitle_in_primary_language
                    && primary != orig
                    && !ready(va, AssetKind::Subtitle, Some(primary))
                {
                    video_reasons.push(format!("MISSING_SUBTITLE:{primary}"));
                }
                if video_reasons.is_empty() {
                    playable += 1;
                }
                reasons.extend(video_reasons);
            }
            if t.kind == TitleKind::Show
                && rules.min_playable_show_videos > 1
                && playable < rules.min_playable_show_videos
            {
                add_title_reason("TOO_FEW_PLAYABLE_VIDEOS".to_string(), &mut reasons);
            }

            out.push(Liveness {
                title_id: tid,
                country: code.to_string(),
                live: !title_level && playable >= 1,
                // A BTreeSet<String> iterates in byte order without repeats.
                reasons: reasons.into_iter().collect(),
                playable_videos: playable,
                total_videos: vids.len() as u32,
                next_window_start,
            });
        }
    }
    out
}

/// The JSON Lines export of [`evaluate`]'s records: one compact object a line, in order.
pub fn export(records: &[Liveness]) -> String {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).expect("a Liveness serializes"));
        text.push('\n');
    }
    text
}
