//! The fast evaluator (`gatekeeper::engine`) against the naive oracle (`integration_tests::naive`),
//! byte for byte on the JSON Lines export, for both built-in rule sets. The engine reads hollow
//! read states, as in the service: JSON Lines directories go through
//! `InputStates::from_jsonl_dir` (hollow write states, a snapshot, a read state), in-memory
//! catalogs through `InputStates::from_catalog`; the oracle reads the `Catalog` records.
//!
//! (a) catalogs from the reference generator `shared/tools/gen_catalog.py` at several sizes,
//!     seeds and evaluation times (including exact window starts and ends from the data);
//! (b) hand-made catalogs with the hard cases of GATEKEEPER.md §1, also checked against
//!     hand-computed records;
//! (c) random small catalogs with tiny value domains, so ids, keys and timestamps collide.

use gatekeeper::generate::{BASE_NOW, DAY};
use gatekeeper::model::{
    Asset, AssetKind, AssetStatus, Country, Liveness, Localization, Rating, Right, Title,
    TitleKind, Video, VideoKind,
};
use gatekeeper::{jsonl, Catalog, Evaluator, Index, InputStates, LivenessTable, Rules};
use integration_tests::naive;
use proptest::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn rule_sets() -> [Rules; 2] {
    [
        Rules::builtin("baseline").expect("baseline rules"),
        Rules::builtin("strict").expect("strict rules"),
    ]
}

fn export(table: &LivenessTable) -> String {
    let mut buf = Vec::new();
    table.write_jsonl(&mut buf).expect("writing to a Vec");
    String::from_utf8(buf).expect("the export is UTF-8")
}

/// The engine's index over the hollow states of an in-memory catalog.
fn index_of(catalog: &Catalog) -> Index {
    Index::build(&InputStates::from_catalog(catalog).expect("hollow states of the catalog"))
        .expect("index")
}

/// The engine's index over the hollow states loaded from a JSON Lines directory.
fn index_of_dir(dir: &Path) -> Index {
    Index::build(&InputStates::from_jsonl_dir(dir).expect("hollow states of the directory"))
        .expect("index")
}

/// Panics with the first differing line if the two exports differ.
fn assert_same_export(engine: &str, naive: &str, context: &str) {
    if engine == naive {
        return;
    }
    let (e, n): (Vec<&str>, Vec<&str>) = (engine.lines().collect(), naive.lines().collect());
    let at = e
        .iter()
        .zip(&n)
        .position(|(a, b)| a != b)
        .unwrap_or(e.len().min(n.len()));
    panic!(
        "{context}: engine and naive differ at line {} ({} vs {} lines)\n engine: {}\n  naive: {}",
        at + 1,
        e.len(),
        n.len(),
        e.get(at).unwrap_or(&"<none>"),
        n.get(at).unwrap_or(&"<none>"),
    );
}

/// Engine (fresh, single-threaded, and with an evaluator whose reason table already holds
/// another evaluation's sets) vs naive, one `now`, one rule set. Returns the engine's records.
fn check(
    index: &Index,
    catalog: &Catalog,
    now: i64,
    rules: &Rules,
    context: &str,
) -> Vec<Liveness> {
    let context = format!("{context}, now {now}, rules {}", rules.version);
    let oracle = naive::export(&naive::evaluate(catalog, now, rules));
    let table = index.evaluate(now, rules);
    assert_same_export(&export(&table), &oracle, &context);
    let single = index.evaluate_with_threads(now, rules, 1);
    assert_same_export(&export(&single), &oracle, &format!("{context}, 1 thread"));
    // An evaluator that evaluated another time first: reason ids are shared, results equal.
    let mut evaluator = Evaluator::with_threads(3);
    let other = evaluator.evaluate(index, now.wrapping_add(DAY), rules);
    let again = evaluator.evaluate(index, now, rules);
    assert_same_export(
        &export(&again),
        &oracle,
        &format!("{context}, reused evaluator"),
    );
    assert_eq!(
        other.diff(&again).is_empty(),
        export(&other) == oracle,
        "{context}: the diff agrees with the exports"
    );
    table.to_liveness()
}

// ---------------------------------------------------------------------------------------------
// (a) Catalogs from the reference generator.

fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    dir.join("tools/gen_catalog.py").is_file().then_some(dir)
}

fn python_works() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Interesting evaluation times for a catalog, most telling first: the generator's reference
/// time, exact window starts and ends taken from the data, and the extremes.
fn interesting_nows(catalog: &Catalog) -> Vec<i64> {
    let mut starts: Vec<i64> = catalog.rights.iter().map(|r| r.window_start).collect();
    starts.sort_unstable();
    let mut ends: Vec<i64> = catalog.rights.iter().filter_map(|r| r.window_end).collect();
    ends.sort_unstable();
    let mut nows = vec![BASE_NOW];
    // An upcoming launch starts exactly now.
    nows.extend(starts.iter().find(|&&s| s > BASE_NOW));
    // An expired window ends exactly now.
    nows.extend(ends.iter().rev().find(|&&e| e < BASE_NOW));
    // A typical window starts exactly now; another one ends exactly now.
    nows.extend(starts.get(starts.len() / 2));
    nows.extend(ends.get(ends.len() / 2));
    // The generator's second windows start; the extremes.
    nows.extend([BASE_NOW + 400 * DAY, i64::MIN, i64::MAX]);
    nows
}

#[test]
fn engine_matches_naive_on_generated_catalogs() {
    let Some(shared) = shared_dir().filter(|_| python_works()) else {
        testkit::need(
            "gatekeeper_oracle::engine_matches_naive_on_generated_catalogs",
            "../shared/tools/gen_catalog.py (and python3) not found",
        );
        return;
    };
    let script = shared.join("tools/gen_catalog.py");
    // The naive oracle is slow in debug builds (about 10 µs a pair), so the larger catalogs get
    // only the most telling times.
    for (limit, seed, max_nows) in [(20, 1, 8), (100, 2, 3), (300, 3, 1), (60, 4, 2)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let status = Command::new("python3")
            .arg(&script)
            .arg(dir.path())
            .args(["--limit", &limit.to_string(), "--seed", &seed.to_string()])
            .status()
            .expect("running gen_catalog.py");
        assert!(status.success(), "gen_catalog.py failed");
        let catalog = jsonl::load_catalog(dir.path()).expect("loading the generated catalog");
        assert_eq!(catalog.titles.len(), limit);
        let index = index_of_dir(dir.path());
        for now in interesting_nows(&catalog).into_iter().take(max_nows) {
            for rules in &rule_sets() {
                let records = check(
                    &index,
                    &catalog,
                    now,
                    rules,
                    &format!("gen_catalog --limit {limit} --seed {seed}"),
                );
                assert_eq!(records.len(), limit * catalog.countries.len());
            }
        }
    }
}

#[test]
fn engine_matches_naive_on_the_rust_generator() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = gatekeeper::generate::GenOptions {
        limit: Some(80),
        scale: 2,
        seed: 9,
        ..Default::default()
    };
    gatekeeper::generate::generate_with(dir.path(), &options).expect("generating");
    let catalog = jsonl::load_catalog(dir.path()).expect("loading");
    let index = index_of_dir(dir.path());
    for now in interesting_nows(&catalog).into_iter().take(4) {
        for rules in &rule_sets() {
            check(&index, &catalog, now, rules, "synthetic catalog");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (b) Hand-made catalogs.

fn country(code: &str, primary: &str, required: &[&str], captions: bool, rating: bool) -> Country {
    Country {
        code: code.into(),
        name: format!("Country {code}"),
        primary_language: primary.into(),
        required_languages: required.iter().map(|l| l.to_string()).collect(),
        requires_captions: captions,
        rating_required: rating,
    }
}

fn title(id: i64, kind: TitleKind, original_language: &str, name: &str) -> Title {
    Title {
        id,
        kind,
        name: name.into(),
        original_language: original_language.into(),
        release_year: None,
        genres: vec![],
        cast: vec![],
        directors: vec![],
    }
}

fn video(id: i64, title_id: i64) -> Video {
    Video {
        id,
        title_id,
        kind: VideoKind::Episode,
        season: Some(1),
        episode: Some(1),
        runtime_minutes: None,
    }
}

fn asset(
    id: i64,
    video_id: i64,
    kind: AssetKind,
    lang: Option<&str>,
    status: AssetStatus,
) -> Asset {
    Asset {
        id,
        video_id,
        kind,
        language: lang.map(str::to_string),
        status,
    }
}

fn right(title_id: i64, country: &str, start: i64, end: Option<i64>) -> Right {
    Right {
        title_id,
        country: country.into(),
        window_start: start,
        window_end: end,
    }
}

fn loc(title_id: i64, language: &str, name: Option<&str>, synopsis: Option<&str>) -> Localization {
    Localization {
        title_id,
        language: language.into(),
        name: name.map(str::to_string),
        synopsis: synopsis.map(str::to_string),
    }
}

fn rating(title_id: i64, country: &str) -> Rating {
    Rating {
        title_id,
        country: country.into(),
        board: "B".into(),
        rating: "R".into(),
    }
}

/// Writes `catalog` as JSONL, appends `extra` raw lines per dataset (repeated keys), and
/// loads it back: as a catalog (for the oracle) and as hollow states (for the engine).
fn via_jsonl(catalog: &Catalog, extra: &[(&str, String)]) -> (Catalog, Index) {
    let dir = tempfile::tempdir().expect("temp dir");
    catalog.write_dir(dir.path()).expect("writing the catalog");
    for (dataset, line) in extra {
        let path = dir.path().join(format!("{dataset}.jsonl"));
        let mut text = fs::read_to_string(&path).expect("reading back");
        text.push_str(line);
        text.push('\n');
        fs::write(&path, text).expect("appending");
    }
    (
        jsonl::load_catalog(dir.path()).expect("loading the hand-made catalog"),
        index_of_dir(dir.path()),
    )
}

fn liveness(
    title_id: i64,
    country: &str,
    live: bool,
    reasons: &[&str],
    playable_videos: u32,
    total_videos: u32,
    next_window_start: Option<i64>,
) -> Liveness {
    Liveness {
        title_id,
        country: country.into(),
        live,
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
        playable_videos,
        total_videos,
        next_window_start,
    }
}

fn find<'a>(records: &'a [Liveness], title_id: i64, country: &str) -> &'a Liveness {
    records
        .iter()
        .find(|r| r.title_id == title_id && r.country == country)
        .unwrap_or_else(|| panic!("no record for {title_id}|{country}"))
}

/// A title with one fully ready video in `langs` (audio + subtitles + captions).
fn ready_video(assets: &mut Vec<Asset>, next_id: &mut i64, video_id: i64, langs: &[&str]) {
    let mut push = |kind, lang: Option<&str>| {
        *next_id += 1;
        assets.push(asset(*next_id, video_id, kind, lang, AssetStatus::Ready));
    };
    push(AssetKind::Video, None);
    for l in langs {
        push(AssetKind::Audio, Some(l));
        push(AssetKind::Subtitle, Some(l));
        push(AssetKind::ClosedCaptions, Some(l));
    }
}

fn hard_case_catalog() -> (Catalog, Vec<(&'static str, String)>) {
    let now = 1_000;
    let mut assets = Vec::new();
    let countries = vec![
        country("FR", "fr", &["fr", "de", "fr"], true, true),
        country("US", "en", &[], false, false),
        country("JP", "日本語", &["日本語"], false, true),
        country("ÅX", "sv", &["sv", "en"], true, false),
    ];
    let titles = vec![
        title(i64::MIN, TitleKind::Movie, "en", "Amélie 🎬"),
        title(i64::MAX, TitleKind::Show, "fr", ""),
        title(0, TitleKind::Movie, "en", "no videos"),
        title(7, TitleKind::Show, "日本語", "\u{3000}"),
    ];
    let videos = vec![
        video(1, i64::MIN),
        video(2, i64::MAX),
        video(3, i64::MAX),
        video(4, 7),
        video(5, 999), // dangling: no such title
    ];
    let mut next = 100;
    ready_video(&mut assets, &mut next, 1, &["en", "fr", "de", "sv"]);
    ready_video(&mut assets, &mut next, 2, &["fr", "de"]);
    // Video 3: picture not ready, audio only in fr; video 4: nothing but a picture.
    assets.push(asset(1, 3, AssetKind::Video, None, AssetStatus::InProgress));
    assets.push(asset(
        2,
        3,
        AssetKind::Audio,
        Some("fr"),
        AssetStatus::Ready,
    ));
    assets.push(asset(3, 4, AssetKind::Video, None, AssetStatus::Ready));
    // A VIDEO asset with a language does not count as the picture.
    assets.push(asset(
        4,
        4,
        AssetKind::Video,
        Some("日本語"),
        AssetStatus::Ready,
    ));
    assets.push(asset(
        5,
        4,
        AssetKind::Audio,
        Some("日本語"),
        AssetStatus::Failed,
    ));
    assets.push(asset(6, 404, AssetKind::Video, None, AssetStatus::Ready)); // dangling
    assets.push(asset(
        i64::MAX,
        4,
        AssetKind::Subtitle,
        Some("sv"),
        AssetStatus::Ready,
    ));
    let rights = vec![
        // i64::MIN: active from the dawn of time, forever.
        right(i64::MIN, "FR", i64::MIN, None),
        // Ends exactly at now: expired. Another one starts exactly at now: active.
        right(i64::MIN, "US", 0, Some(now)),
        right(i64::MIN, "JP", now, Some(now + 1)),
        // Ends exactly at now, and one starts later: not started.
        right(i64::MAX, "FR", 0, Some(now)),
        right(i64::MAX, "FR", now + 5, None),
        right(i64::MAX, "FR", now + 3, Some(now + 4)),
        right(i64::MAX, "US", i64::MIN, Some(i64::MAX)),
        right(7, "JP", now - 1, None),
        right(7, "ÅX", now + 1, Some(now)), // starts later, ends before it starts
        right(0, "US", 0, None),
        right(999, "US", 0, None), // no such title
        right(7, "ZZ", 0, None),   // no such country
    ];
    let localizations = vec![
        loc(i64::MIN, "fr", Some("Amélie"), Some("\u{a0}\u{3000}")), // synopsis is white space
        loc(i64::MIN, "en", Some("x"), Some("Synopsis")),
        loc(i64::MIN, "sv", Some(" \u{2028}"), Some("ok")), // name is white space
        loc(i64::MAX, "fr", None, Some("Résumé")),          // name null, not needed in FR
        loc(i64::MAX, "en", Some("Name"), Some("x")),
        loc(7, "日本語", Some(""), Some("あらすじ")),
        loc(7, "fr", Some("\u{200b}"), Some("\u{200b}")), // zero-width space is not white space
        loc(7, "en", Some("N"), Some("S")),
    ];
    let ratings = vec![
        rating(i64::MIN, "FR"),
        rating(i64::MAX, "JP"),
        rating(7, "JP"),
        rating(999, "FR"),
    ];
    let c = Catalog {
        countries,
        titles,
        videos,
        rights,
        assets,
        localizations,
        ratings,
    };
    // Repeated keys: later lines win.
    let extra = vec![
        // (i64::MIN, US, 0) now never ends: active after all.
        ("rights", format!(r#"{{"title_id":{},"country":"US","window_start":0,"window_end":null}}"#, i64::MIN)),
        // Title 7's JP localization gets a real synopsis removed and a name.
        ("localizations", r#"{"title_id":7,"language":"日本語","name":"名前","synopsis":" "}"#.to_string()),
        // Asset 3 (video 4's picture) failed after all.
        ("assets", r#"{"id":3,"video_id":4,"kind":"VIDEO","language":null,"status":"FAILED"}"#.to_string()),
        // Title 0 is redefined as a show in "sv".
        ("titles", r#"{"id":0,"kind":"SHOW","name":"no videos","original_language":"sv","release_year":null,"genres":[],"cast":[],"directors":[]}"#.to_string()),
    ];
    (c, extra)
}

#[test]
fn hand_made_hard_cases_match_naive_and_hand_computed_records() {
    let now = 1_000;
    let (catalog, extra) = hard_case_catalog();
    let (catalog, index) = via_jsonl(&catalog, &extra);
    assert_eq!(
        catalog.titles.iter().find(|t| t.id == 0).map(|t| t.kind),
        Some(TitleKind::Show)
    );
    let [baseline, strict] = rule_sets();
    for t in [
        i64::MIN,
        -1,
        0,
        1,
        now - 1,
        now,
        now + 1,
        now + 3,
        now + 4,
        now + 5,
        i64::MAX,
    ] {
        check(&index, &catalog, t, &baseline, "hand-made");
        check(&index, &catalog, t, &strict, "hand-made");
    }

    let records = index.evaluate(now, &baseline).to_liveness();
    assert_eq!(records.len(), 4 * 4);
    // Export order: i64::MIN first; country codes by bytes ("ÅX" after "US").
    let order: Vec<(i64, &str)> = records
        .iter()
        .map(|r| (r.title_id, r.country.as_str()))
        .collect();
    assert_eq!(
        &order[..4],
        &[
            (i64::MIN, "FR"),
            (i64::MIN, "JP"),
            (i64::MIN, "US"),
            (i64::MIN, "ÅX")
        ]
    );

    // FR: rated, named, one ready video with fr/de and captions; but the synopsis is white space.
    assert_eq!(
        find(&records, i64::MIN, "FR"),
        &liveness(i64::MIN, "FR", false, &["MISSING_SYNOPSIS:fr"], 1, 1, None)
    );
    // US: the repeated right made it open-ended; no localization needed beyond en.
    assert_eq!(
        find(&records, i64::MIN, "US"),
        &liveness(i64::MIN, "US", true, &[], 1, 1, None)
    );
    // JP: the window starts exactly now (active); no rating, no 日本語 name/synopsis/language.
    assert_eq!(
        find(&records, i64::MIN, "JP"),
        &liveness(
            i64::MIN,
            "JP",
            false,
            &[
                "MISSING_LANGUAGE:日本語",
                "MISSING_RATING",
                "MISSING_SYNOPSIS:日本語",
                "MISSING_TITLE_NAME:日本語"
            ],
            0,
            1,
            None
        )
    );
    // i64::MAX in FR: one window ended exactly now, two start later (the smallest is next);
    // the title's original language is fr, so no name is needed; video 3 lacks the picture
    // and captions; video 2 is fine. No rating in FR.
    assert_eq!(
        find(&records, i64::MAX, "FR"),
        &liveness(
            i64::MAX,
            "FR",
            false,
            &[
                "MISSING_CAPTIONS",
                "MISSING_LANGUAGE:de",
                "MISSING_RATING",
                "MISSING_VIDEO",
                "WINDOW_NOT_STARTED"
            ],
            1,
            2,
            Some(now + 3)
        )
    );
    // Title 0 has no videos; the repeated record made its original language sv, so the US needs
    // an en name and synopsis, and it has no localization at all.
    assert_eq!(
        find(&records, 0, "US"),
        &liveness(
            0,
            "US",
            false,
            &["MISSING_SYNOPSIS:en", "MISSING_TITLE_NAME:en", "NO_VIDEOS"],
            0,
            0,
            None
        )
    );
    // Title 7 in ÅX: its only window starts later and ends before it starts: not started.
    // Video 4: picture failed (the later record), no 日本語 audio, sv subtitle ready, no en.
    assert_eq!(
        find(&records, 7, "ÅX"),
        &liveness(
            7,
            "ÅX",
            false,
            &[
                "MISSING_CAPTIONS",
                "MISSING_LANGUAGE:en",
                "MISSING_ORIGINAL_AUDIO",
                "MISSING_SYNOPSIS:sv",
                "MISSING_TITLE_NAME:sv",
                "MISSING_VIDEO",
                "WINDOW_NOT_STARTED"
            ],
            0,
            1,
            Some(now + 1)
        )
    );
    // Title 7 in JP: the repeated localization has a name but a blank synopsis.
    assert_eq!(
        find(&records, 7, "JP"),
        &liveness(
            7,
            "JP",
            false,
            &[
                "MISSING_ORIGINAL_AUDIO",
                "MISSING_SYNOPSIS:日本語",
                "MISSING_VIDEO"
            ],
            0,
            1,
            None
        )
    );

    // Strict: a SHOW needs 3 playable videos, captions everywhere, and subtitles in the primary
    // language where it is not the original. Baseline: the US needs none of that, so one
    // playable episode (video 2) makes the show live despite video 3's missing picture.
    let strict_records = index.evaluate(now, &strict).to_liveness();
    assert_eq!(
        find(&strict_records, i64::MAX, "US"),
        &liveness(
            i64::MAX,
            "US",
            false,
            &[
                "MISSING_CAPTIONS",
                "MISSING_SUBTITLE:en",
                "MISSING_VIDEO",
                "TOO_FEW_PLAYABLE_VIDEOS"
            ],
            0,
            2,
            None
        )
    );
    assert_eq!(
        find(&records, i64::MAX, "US"),
        &liveness(i64::MAX, "US", true, &["MISSING_VIDEO"], 1, 2, None)
    );
}

#[test]
fn empty_catalogs() {
    let [baseline, _] = rule_sets();
    let empty = Catalog::default();
    let index = index_of(&empty);
    assert!(index.evaluate(0, &baseline).is_empty());
    assert_eq!(naive::export(&naive::evaluate(&empty, 0, &baseline)), "");
    // Countries but no titles, titles but no countries.
    let mut only_countries = Catalog::default();
    only_countries
        .countries
        .push(country("FR", "fr", &[], false, false));
    assert!(index_of(&only_countries).evaluate(0, &baseline).is_empty());
    let mut only_titles = Catalog::default();
    only_titles
        .titles
        .push(title(1, TitleKind::Movie, "en", "x"));
    assert!(index_of(&only_titles).evaluate(0, &baseline).is_empty());
}

// ---------------------------------------------------------------------------------------------
// (c) Random small catalogs.

const LANGS: [&str; 5] = ["en", "fr", "", "日本", "de"];
const CODES: [&str; 4] = ["AA", "BB", "Ü", "ZZ"];
const TIMES: [i64; 7] = [i64::MIN, -1, 0, 1, 2, 5, i64::MAX];
const TITLE_IDS: [i64; 5] = [i64::MIN, -1, 0, 1, i64::MAX];
const TEXTS: [Option<&str>; 6] = [
    None,
    Some(""),
    Some(" "),
    Some("\u{3000}\u{a0}"),
    Some("x"),
    Some(" y "),
];

fn lang() -> impl Strategy<Value = String> {
    prop::sample::select(&LANGS[..]).prop_map(str::to_string)
}

fn code() -> impl Strategy<Value = String> {
    prop::sample::select(&CODES[..]).prop_map(str::to_string)
}

fn time() -> impl Strategy<Value = i64> {
    prop::sample::select(&TIMES[..])
}

fn title_id() -> impl Strategy<Value = i64> {
    prop::sample::select(&TITLE_IDS[..])
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop::sample::select(&TEXTS[..]).prop_map(|t| t.map(str::to_string))
}

fn arb_catalog() -> impl Strategy<Value = Catalog> {
    let countries = prop::collection::vec(
        (
            code(),
            lang(),
            prop::collection::vec(lang(), 0..4),
            any::<bool>(),
            any::<bool>(),
        ),
        0..4,
    )
    .prop_map(|cs| {
        cs.into_iter()
            .map(|(code, primary, required, captions, rating)| Country {
                name: code.clone(),
                code,
                primary_language: primary,
                required_languages: required,
                requires_captions: captions,
                rating_required: rating,
            })
            .collect::<Vec<_>>()
    });
    let titles = prop::collection::vec((title_id(), any::<bool>(), lang()), 0..5).prop_map(|ts| {
        ts.into_iter()
            .map(|(id, show, orig)| {
                title(
                    id,
                    if show {
                        TitleKind::Show
                    } else {
                        TitleKind::Movie
                    },
                    &orig,
                    "t",
                )
            })
            .collect::<Vec<_>>()
    });
    let videos = prop::collection::vec((0..6i64, title_id()), 0..8).prop_map(|vs| {
        vs.into_iter()
            .map(|(id, t)| video(id, t))
            .collect::<Vec<_>>()
    });
    let assets = prop::collection::vec(
        (
            0..30i64,
            0..7i64,
            prop::sample::select(
                &[
                    AssetKind::Video,
                    AssetKind::Audio,
                    AssetKind::Subtitle,
                    AssetKind::ClosedCaptions,
                ][..],
            ),
            prop::option::weighted(0.8, lang()),
            prop::sample::select(
                &[
                    AssetStatus::Ready,
                    AssetStatus::Ready,
                    AssetStatus::InProgress,
                    AssetStatus::Failed,
                ][..],
            ),
        ),
        0..40,
    )
    .prop_map(|xs| {
        xs.into_iter()
            .map(|(id, v, kind, lang, status)| Asset {
                id,
                video_id: v,
                kind,
                // Pictures mostly have no language, as they should.
                language: if kind == AssetKind::Video && id % 4 != 0 {
                    None
                } else {
                    lang
                },
                status,
            })
            .collect::<Vec<_>>()
    });
    let rights = prop::collection::vec(
        (title_id(), code(), time(), prop::option::of(time())),
        0..12,
    )
    .prop_map(|rs| {
        rs.into_iter()
            .map(|(t, c, s, e)| right(t, &c, s, e))
            .collect::<Vec<_>>()
    });
    let localizations = prop::collection::vec((title_id(), lang(), text(), text()), 0..10)
        .prop_map(|ls| {
            ls.into_iter()
                .map(|(t, l, name, synopsis)| Localization {
                    title_id: t,
                    language: l,
                    name,
                    synopsis,
                })
                .collect::<Vec<_>>()
        });
    let ratings = prop::collection::vec((title_id(), code()), 0..8).prop_map(|rs| {
        rs.into_iter()
            .map(|(t, c)| rating(t, &c))
            .collect::<Vec<_>>()
    });
    (
        countries,
        titles,
        videos,
        assets,
        rights,
        localizations,
        ratings,
    )
        .prop_map(
            |(countries, titles, videos, assets, rights, localizations, ratings)| {
                let mut catalog = Catalog {
                    countries,
                    titles,
                    videos,
                    rights,
                    assets,
                    localizations,
                    ratings,
                };
                catalog.dedup();
                catalog
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_naive_on_random_catalogs(catalog in arb_catalog(), now in time()) {
        let index = index_of(&catalog);
        let mut evaluator = Evaluator::with_threads(2);
        for rules in &rule_sets() {
            let oracle = naive::export(&naive::evaluate(&catalog, now, rules));
            let engine = export(&index.evaluate(now, rules));
            prop_assert_eq!(&engine, &oracle, "rules {}", rules.version);
            let _ = evaluator.evaluate(&index, now.wrapping_sub(1), rules);
            prop_assert_eq!(&export(&evaluator.evaluate(&index, now, rules)), &oracle, "reused evaluator, rules {}", rules.version);
        }
    }
}
