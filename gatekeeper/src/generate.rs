//! The catalog generator: the seven upstream datasets of GATEKEEPER.md §1 as JSON Lines.
//!
//! Two sources of titles:
//!
//! - **the Netflix titles CSV** (`shared/data/netflix_titles.csv`, 8,807 titles, CC0) with its
//!   country table (`countries.json` beside it, 239 countries with their official languages):
//!   the same derivation as `shared/tools/gen_catalog.py`, with our own PRNG, so record counts
//!   and distributions match the Python tool's while the records themselves differ;
//! - **synthetic** titles shaped like the CSV and a built-in table of 64 countries
//!   (the private `synth` module), for a fresh clone without the shared data.
//!
//! Derivation per title (as `gen_catalog.py`): the original language from the first production
//! country; one `MOVIE` video, or seasons × 6–13 `EPISODE`s; rights in the production countries
//! plus 40–95% of the world (2% upcoming, 5% expired, else open or long windows, 1% a second
//! later window); per video a picture, original audio, 0–6 dubs, subtitles for the 15–35
//! languages most needed where licensed, usually original-language captions, each asset
//! `READY` with 97–99.5% probability; localizations in every licensed primary language with 1–3%
//! gaps; a rating in 96% of licensed countries. Countries require captions in US/GB/CA/AU and
//! 15% elsewhere, and a rating 85% of the time.
//!
//! `--scale K` repeats the titles K times with fresh ids (`copy * 1_000_000 + n`); the output is
//! deterministic for a given (source, scale, limit, seed).

use crate::model::{
    Asset, AssetKind, AssetStatus, Country, Localization, Rating, Right, Title, TitleKind, Video,
    VideoKind,
};
use crate::source::{days_from_civil, rng, Rng, SourceTitle};
use crate::synth;
use rand::seq::IndexedRandom as _;
use rand::RngExt as _;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub use crate::source::{CountrySpec, DAY};

/// The generator's reference "now": 2026-11-01T00:00:00Z in ms. Windows are placed around it.
pub const BASE_NOW: i64 = 20_758 * DAY;

const DUB_LANGS: [&str; 16] = [
    "en", "es", "fr", "de", "it", "pt", "ja", "ko", "hi", "ar", "tr", "pl", "ru", "zh", "th", "id",
];

/// Production country (CSV name) -> original language, coarse.
const COUNTRY_LANG_HINT: [(&str, &str); 43] = [
    ("United States", "en"),
    ("United Kingdom", "en"),
    ("Canada", "en"),
    ("Australia", "en"),
    ("Ireland", "en"),
    ("New Zealand", "en"),
    ("India", "hi"),
    ("Japan", "ja"),
    ("South Korea", "ko"),
    ("France", "fr"),
    ("Spain", "es"),
    ("Mexico", "es"),
    ("Argentina", "es"),
    ("Colombia", "es"),
    ("Chile", "es"),
    ("Germany", "de"),
    ("Italy", "it"),
    ("Brazil", "pt"),
    ("Portugal", "pt"),
    ("Turkey", "tr"),
    ("Egypt", "ar"),
    ("Nigeria", "en"),
    ("China", "zh"),
    ("Hong Kong", "zh"),
    ("Taiwan", "zh"),
    ("Philippines", "fil"),
    ("Indonesia", "id"),
    ("Thailand", "th"),
    ("Poland", "pl"),
    ("Sweden", "sv"),
    ("Norway", "nb"),
    ("Denmark", "da"),
    ("Netherlands", "nl"),
    ("Belgium", "nl"),
    ("Israel", "he"),
    ("Russia", "ru"),
    ("Lebanon", "ar"),
    ("Saudi Arabia", "ar"),
    ("United Arab Emirates", "ar"),
    ("South Africa", "en"),
    ("Malaysia", "ms"),
    ("Singapore", "en"),
    ("Pakistan", "ur"),
];

/// CSV country names that differ from CLDR's English names.
const CSV_COUNTRY_CODE: [(&str, &str); 15] = [
    ("United States", "US"),
    ("United Kingdom", "GB"),
    ("South Korea", "KR"),
    ("Russia", "RU"),
    ("Hong Kong", "HK"),
    ("Taiwan", "TW"),
    ("Vietnam", "VN"),
    ("Czech Republic", "CZ"),
    ("Soviet Union", "RU"),
    ("West Germany", "DE"),
    ("East Germany", "DE"),
    ("Vatican City", "VA"),
    ("Palestine", "PS"),
    ("Syria", "SY"),
    ("Iran", "IR"),
];

/// US rating -> local minimum age (`None`: unrated).
const US_TO_LOCAL: [(&str, Option<u8>); 14] = [
    ("G", Some(0)),
    ("TV-Y", Some(0)),
    ("TV-G", Some(0)),
    ("TV-Y7", Some(7)),
    ("TV-Y7-FV", Some(7)),
    ("PG", Some(10)),
    ("TV-PG", Some(10)),
    ("PG-13", Some(13)),
    ("TV-14", Some(14)),
    ("R", Some(16)),
    ("TV-MA", Some(18)),
    ("NC-17", Some(18)),
    ("NR", None),
    ("UR", None),
];

/// What went wrong generating a catalog.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The titles CSV is malformed.
    #[error("{}:{line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The country table is not a JSON list of `{code, name, languages}`.
    #[error("{}: {source}", path.display())]
    Countries {
        /// The file.
        path: PathBuf,
        /// The parser's account.
        #[source]
        source: serde_json::Error,
    },
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOptions {
    /// Copies of the title list, each with fresh ids (at least 1).
    pub scale: u32,
    /// The Netflix titles CSV; `None` synthesizes titles.
    pub source: Option<PathBuf>,
    /// The country table (JSON); `None`: `countries.json` beside the CSV if there is one, else
    /// the built-in table.
    pub countries: Option<PathBuf>,
    /// The PRNG seed.
    pub seed: u64,
    /// Keep only the first N titles of the list.
    pub limit: Option<usize>,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            scale: 1,
            source: None,
            countries: None,
            seed: 7,
            limit: None,
        }
    }
}

/// Record counts of a generated catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenSummary {
    /// Where the titles came from (the CSV path or `synthetic`).
    pub titles_from: String,
    /// Where the countries came from (a path or `built-in`).
    pub countries_from: String,
    /// Records written per dataset, by dataset name.
    pub counts: BTreeMap<&'static str, u64>,
}

/// Generates a catalog into `out_dir` from the CSV at `csv` (or synthetic titles).
pub fn generate(
    out_dir: &Path,
    scale: u32,
    csv: Option<&Path>,
    seed: u64,
) -> Result<GenSummary, GenerateError> {
    generate_with(
        out_dir,
        &GenOptions {
            scale,
            source: csv.map(Path::to_path_buf),
            seed,
            ..GenOptions::default()
        },
    )
}

/// Generates a catalog into `out_dir` as `options` say.
pub fn generate_with(out_dir: &Path, options: &GenOptions) -> Result<GenSummary, GenerateError> {
    let mut summary = GenSummary::default();
    let mut titles = match &options.source {
        Some(csv) => {
            summary.titles_from = csv.display().to_string();
            read_csv_titles(csv)?
        }
        None => {
            summary.titles_from = "synthetic".into();
            let n = options
                .limit
                .map_or(synth::SYNTHETIC_TITLES, |l| l.min(1_000_000));
            synth::synthetic_titles(n, options.seed)
        }
    };
    if let Some(limit) = options.limit {
        titles.truncate(limit);
    }
    let countries_path = options.countries.clone().or_else(|| {
        let beside = options.source.as_ref()?.parent()?.join("countries.json");
        beside.is_file().then_some(beside)
    });
    let countries = match &countries_path {
        Some(path) => {
            summary.countries_from = path.display().to_string();
            read_countries(path)?
        }
        None => {
            summary.countries_from = "built-in".into();
            synth::builtin_countries()
        }
    };
    fs::create_dir_all(out_dir).map_err(|source| GenerateError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut out = Out::create(out_dir)?;
    derive(&titles, &countries, options, &mut out).map_err(|(dataset, source)| {
        GenerateError::Io {
            path: out_dir.join(format!("{dataset}.jsonl")),
            source,
        }
    })?;
    summary.counts = out
        .finish()
        .map_err(|(dataset, source)| GenerateError::Io {
            path: out_dir.join(format!("{dataset}.jsonl")),
            source,
        })?;
    Ok(summary)
}

/// The seven output files and their record counts.
struct Out {
    files: Vec<(&'static str, BufWriter<fs::File>, u64)>,
}

/// Dataset positions in [`Out::files`].
const COUNTRIES: usize = 0;
const TITLES: usize = 1;
const VIDEOS: usize = 2;
const RIGHTS: usize = 3;
const ASSETS: usize = 4;
const LOCALIZATIONS: usize = 5;
const RATINGS: usize = 6;
const DATASETS: [&str; 7] = [
    "countries",
    "titles",
    "videos",
    "rights",
    "assets",
    "localizations",
    "ratings",
];

type OutError = (&'static str, io::Error);

impl Out {
    fn create(dir: &Path) -> Result<Out, GenerateError> {
        let mut files = Vec::new();
        for name in DATASETS {
            let path = dir.join(format!("{name}.jsonl"));
            let file =
                fs::File::create(&path).map_err(|source| GenerateError::Io { path, source })?;
            files.push((name, BufWriter::with_capacity(1 << 20, file), 0));
        }
        Ok(Out { files })
    }

    fn emit<T: Serialize>(&mut self, dataset: usize, record: &T) -> Result<(), OutError> {
        let (name, w, n) = &mut self.files[dataset];
        serde_json::to_writer(&mut *w, record).map_err(|e| (*name, io::Error::from(e)))?;
        w.write_all(b"\n").map_err(|e| (*name, e))?;
        *n += 1;
        Ok(())
    }

    fn finish(self) -> Result<BTreeMap<&'static str, u64>, OutError> {
        let mut counts = BTreeMap::new();
        for (name, mut w, n) in self.files {
            w.flush().map_err(|e| (name, e))?;
            counts.insert(name, n);
        }
        Ok(counts)
    }
}

fn lookup<'a, V: Copy>(table: &'a [(&'a str, V)], key: &str) -> Option<V> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The derivation of `gen_catalog.py`, record by record.
fn derive(
    titles: &[SourceTitle],
    countries: &[CountrySpec],
    options: &GenOptions,
    out: &mut Out,
) -> Result<(), OutError> {
    let mut rng = rng(options.seed);
    let by_name: BTreeMap<&str, &str> = countries
        .iter()
        .map(|c| (c.name.as_str(), c.code.as_str()))
        .collect();
    let mut country_rec: BTreeMap<String, Country> = BTreeMap::new();
    for c in countries {
        let languages = if c.languages.is_empty() {
            vec!["en".to_string()]
        } else {
            c.languages.clone()
        };
        let rec = Country {
            code: c.code.clone(),
            name: c.name.clone(),
            primary_language: languages[0].clone(),
            required_languages: languages,
            requires_captions: ["US", "GB", "CA", "AU"].contains(&c.code.as_str())
                || rng.random::<f64>() < 0.15,
            rating_required: rng.random::<f64>() < 0.85,
        };
        out.emit(COUNTRIES, &rec)?;
        country_rec.insert(c.code.clone(), rec);
    }
    let codes: Vec<&str> = countries.iter().map(|c| c.code.as_str()).collect();

    let mut asset_id = 0i64;
    let mut video_id = 0i64;
    for copy in 0..options.scale.max(1) {
        for row in titles {
            let tid = i64::from(copy) * 1_000_000 + row.n;
            let orig = row
                .countries
                .first()
                .map_or("en", |c| lookup(&COUNTRY_LANG_HINT, c).unwrap_or("en"));
            let kind = if row.is_show {
                TitleKind::Show
            } else {
                TitleKind::Movie
            };
            let name = if copy == 0 {
                row.title.clone()
            } else {
                format!("{} ({copy})", row.title)
            };
            out.emit(
                TITLES,
                &Title {
                    id: tid,
                    kind,
                    name,
                    original_language: orig.to_string(),
                    release_year: row.release_year,
                    genres: row.genres.clone(),
                    cast: row.cast.iter().take(12).cloned().collect(),
                    directors: row.directors.clone(),
                },
            )?;

            // Videos.
            let mut vids: Vec<i64> = Vec::new();
            if row.is_show {
                for season in 1..=row.seasons.max(1) as i32 {
                    for episode in 1..=rng.random_range(6..=13) as i32 {
                        video_id += 1;
                        vids.push(video_id);
                        let runtime = rng.random_range(20..=60) as i32;
                        out.emit(
                            VIDEOS,
                            &Video {
                                id: video_id,
                                title_id: tid,
                                kind: VideoKind::Episode,
                                season: Some(season),
                                episode: Some(episode),
                                runtime_minutes: Some(runtime),
                            },
                        )?;
                    }
                }
            } else {
                video_id += 1;
                vids.push(video_id);
                out.emit(
                    VIDEOS,
                    &Video {
                        id: video_id,
                        title_id: tid,
                        kind: VideoKind::Movie,
                        season: None,
                        episode: None,
                        runtime_minutes: row.movie_minutes,
                    },
                )?;
            }

            // Rights: the production countries plus a random share of the world.
            let home: BTreeSet<&str> = row
                .countries
                .iter()
                .filter_map(|c| {
                    by_name
                        .get(c.as_str())
                        .copied()
                        .or_else(|| lookup(&CSV_COUNTRY_CODE, c))
                })
                .collect();
            let share = rng.random_range(0.4..0.95);
            let mut licensed: Vec<&str> = codes
                .iter()
                .copied()
                .filter(|c| home.contains(c) || rng.random::<f64>() < share)
                .collect();
            licensed.sort_unstable();
            let added = match row.added {
                Some(ms) => ms,
                None => BASE_NOW - rng.random_range(0..=3650) * DAY,
            };
            for &c in &licensed {
                let r = rng.random::<f64>();
                let (start, end) = if r < 0.02 {
                    (BASE_NOW + rng.random_range(1..=60) * DAY, None)
                } else if r < 0.07 {
                    let end = (BASE_NOW - DAY).min(added + rng.random_range(365..=2000) * DAY);
                    (added, Some(end))
                } else {
                    let start = added - rng.random_range(0..=30) * DAY;
                    let end = if rng.random::<f64>() < 0.7 {
                        None
                    } else {
                        Some(BASE_NOW + rng.random_range(30..=3000) * DAY)
                    };
                    (start, end)
                };
                let right = Right {
                    title_id: tid,
                    country: c.to_string(),
                    window_start: start,
                    window_end: end,
                };
                out.emit(RIGHTS, &right)?;
                if rng.random::<f64>() < 0.01 {
                    let later = Right {
                        window_start: BASE_NOW + 400 * DAY,
                        window_end: None,
                        ..right
                    };
                    out.emit(RIGHTS, &later)?;
                }
            }

            // Assets per video.
            let mut need: BTreeMap<&str, u32> = BTreeMap::new();
            for c in &licensed {
                for l in &country_rec[*c].required_languages {
                    *need.entry(l.as_str()).or_default() += 1;
                }
            }
            let mut ranked: Vec<&str> = need.keys().copied().collect();
            ranked.sort_by(|a, b| need[b].cmp(&need[a]).then(a.cmp(b)));
            ranked.truncate(rng.random_range(15..=35) as usize);
            let k = rng.random_range(0..=6) as usize;
            let dubs: BTreeSet<&str> = DUB_LANGS
                .sample(&mut rng, k)
                .copied()
                .filter(|l| *l != orig)
                .collect();
            let mut sub_pool: BTreeSet<&str> = ranked.iter().copied().collect();
            sub_pool.extend(DUB_LANGS.sample(&mut rng, 4).copied());
            let subs: Vec<&str> = sub_pool
                .into_iter()
                .filter(|_| rng.random::<f64>() < 0.97)
                .collect();
            for &v in &vids {
                let mut ctx = AssetCtx {
                    out: &mut *out,
                    rng: &mut rng,
                    next_id: &mut asset_id,
                    video_id: v,
                };
                ctx.emit(AssetKind::Video, None, 0.985)?;
                ctx.emit(AssetKind::Audio, Some(orig), 0.995)?;
                for l in &dubs {
                    ctx.emit(AssetKind::Audio, Some(l), 0.97)?;
                }
                for l in &subs {
                    ctx.emit(AssetKind::Subtitle, Some(l), 0.985)?;
                }
                if ctx.rng.random::<f64>() < 0.92 {
                    ctx.emit(AssetKind::ClosedCaptions, Some(orig), 0.98)?;
                }
            }

            // Localizations: every primary language of a licensed country, plus the original.
            let mut loc_langs: BTreeSet<&str> = licensed
                .iter()
                .map(|c| country_rec[*c].primary_language.as_str())
                .collect();
            loc_langs.insert(orig);
            for l in loc_langs {
                if rng.random::<f64>() < 0.03 {
                    continue;
                }
                let name = if rng.random::<f64>() < 0.01 {
                    None
                } else if l == orig {
                    Some(row.title.clone())
                } else {
                    Some(format!("{} [{l}]", row.title))
                };
                let mut synopsis = if l == "en" {
                    row.description.clone()
                } else {
                    format!("[{l}] {}", row.description)
                };
                if rng.random::<f64>() < 0.01 {
                    synopsis.clear();
                }
                out.emit(
                    LOCALIZATIONS,
                    &Localization {
                        title_id: tid,
                        language: l.to_string(),
                        name,
                        synopsis: Some(synopsis),
                    },
                )?;
            }

            // Ratings.
            let us = row.rating.trim();
            let us_known = US_TO_LOCAL.iter().any(|(r, _)| *r == us);
            let age = lookup(&US_TO_LOCAL, us).flatten();
            for &c in &licensed {
                if rng.random::<f64>() < 0.04 {
                    continue;
                }
                let (board, rating) = if c == "US" && us_known {
                    let board = if row.is_show { "TVPG" } else { "MPA" };
                    (board.to_string(), us.to_string())
                } else {
                    let rating = age.map_or_else(|| "UNRATED".to_string(), |a| format!("{a}+"));
                    (format!("{c}-RB"), rating)
                };
                out.emit(
                    RATINGS,
                    &Rating {
                        title_id: tid,
                        country: c.to_string(),
                        board,
                        rating,
                    },
                )?;
            }
        }
    }
    Ok(())
}

/// What emitting one asset needs.
struct AssetCtx<'a> {
    out: &'a mut Out,
    rng: &'a mut Rng,
    next_id: &'a mut i64,
    video_id: i64,
}

impl AssetCtx<'_> {
    /// Emits an asset that is `READY` with probability `p_ready`.
    fn emit(&mut self, kind: AssetKind, lang: Option<&str>, p_ready: f64) -> Result<(), OutError> {
        *self.next_id += 1;
        let status = if self.rng.random::<f64>() < p_ready {
            AssetStatus::Ready
        } else {
            [AssetStatus::InProgress, AssetStatus::Failed]
                .choose(self.rng)
                .copied()
                .unwrap_or(AssetStatus::Failed)
        };
        self.out.emit(
            ASSETS,
            &Asset {
                id: *self.next_id,
                video_id: self.video_id,
                kind,
                language: lang.map(str::to_string),
                status,
            },
        )
    }
}

/// Reads a country table: a JSON list of `{code, name, languages}`.
pub fn read_countries(path: &Path) -> Result<Vec<CountrySpec>, GenerateError> {
    let bytes = fs::read(path).map_err(|source| GenerateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| GenerateError::Countries {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses the CSV's `date_added`: `25-Sep-21` or `September 25, 2021`, as UTC midnight in ms.
fn parse_added(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let s = s.trim();
    let month_of = |name: &str, full: bool| {
        let name = name.to_ascii_lowercase();
        MONTHS
            .iter()
            .position(|m| if full { *m == name } else { m[..3] == name })
            .map(|i| i as u32 + 1)
    };
    let valid = |y: i32, m: u32, d: u32| {
        let days_in = days_from_civil(if m == 12 { y + 1 } else { y }, m % 12 + 1, 1)
            - days_from_civil(y, m, 1);
        (d >= 1 && i64::from(d) <= days_in).then(|| days_from_civil(y, m, d) * DAY)
    };
    if let [d, mon, yy] = s.split('-').collect::<Vec<_>>()[..] {
        let (d, yy): (u32, i32) = (d.parse().ok()?, yy.parse().ok()?);
        let year = if yy < 69 { 2000 + yy } else { 1900 + yy };
        return valid(year, month_of(mon, false)?, d);
    }
    let (mon, rest) = s.split_once(' ')?;
    let (d, y) = rest.split_once(',')?;
    valid(
        y.trim().parse().ok()?,
        month_of(mon, true)?,
        d.trim().parse().ok()?,
    )
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// A CSV record: the 1-based line it starts on, and its fields.
type CsvRecord = (usize, Vec<String>);

/// Parses RFC 4180 CSV text: quoted fields may hold commas, newlines and `""`.
/// Returns the records with the 1-based line each starts on.
fn parse_csv(text: &str) -> Result<Vec<CsvRecord>, (usize, String)> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut quote_line = 0;
    while let Some(ch) = chars.next() {
        if in_quotes {
            match ch {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(ch);
                }
                _ => field.push(ch),
            }
            continue;
        }
        match ch {
            '"' => {
                in_quotes = true;
                quote_line = line;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push((start_line, std::mem::take(&mut record)));
                line += 1;
                start_line = line;
            }
            _ => field.push(ch),
        }
    }
    if in_quotes {
        return Err((quote_line, "unterminated quoted field".into()));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((start_line, record));
    }
    Ok(records)
}

/// Reads the Netflix titles CSV.
fn read_csv_titles(path: &Path) -> Result<Vec<SourceTitle>, GenerateError> {
    let csv_err = |line, message: String| GenerateError::Csv {
        path: path.to_path_buf(),
        line,
        message,
    };
    let text = fs::read_to_string(path).map_err(|source| GenerateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut records = parse_csv(&text)
        .map_err(|(line, message)| csv_err(line, message))?
        .into_iter();
    let (_, header) = records
        .next()
        .ok_or_else(|| csv_err(1, "empty file".into()))?;
    let column = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| header.iter().position(|h| h.trim() == *n))
            .ok_or_else(|| csv_err(1, format!("no column {:?}", names[0])))
    };
    let c_id = column(&["show_id"])?;
    let c_type = column(&["type"])?;
    let c_title = column(&["title"])?;
    let c_director = column(&["director"])?;
    let c_cast = column(&["cast", "casts"])?;
    let c_country = column(&["country"])?;
    let c_added = column(&["date_added"])?;
    let c_year = column(&["release_year"])?;
    let c_rating = column(&["rating"])?;
    let c_duration = column(&["duration"])?;
    let c_listed = column(&["listed_in"])?;
    let c_description = column(&["description"])?;
    let mut out = Vec::new();
    for (line, rec) in records {
        if rec.len() == 1 && rec[0].trim().is_empty() {
            continue;
        }
        if rec.len() != header.len() {
            return Err(csv_err(
                line,
                format!("{} fields, header has {}", rec.len(), header.len()),
            ));
        }
        let n: i64 = rec[c_id]
            .trim()
            .trim_start_matches('s')
            .parse()
            .map_err(|_| csv_err(line, format!("bad show_id {:?}", rec[c_id])))?;
        let is_show = rec[c_type].trim() != "Movie";
        let duration = rec[c_duration].trim();
        let first: Option<i32> = duration.split_whitespace().next().and_then(|d| {
            d.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| d.parse().ok())?
        });
        let year = rec[c_year].trim();
        out.push(SourceTitle {
            n,
            is_show,
            title: rec[c_title].clone(),
            directors: split_list(&rec[c_director]),
            cast: split_list(&rec[c_cast]),
            countries: split_list(&rec[c_country]),
            added: parse_added(&rec[c_added]),
            release_year: year
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| year.parse().ok())
                .flatten(),
            rating: rec[c_rating].clone(),
            movie_minutes: first.filter(|_| duration.contains("min")),
            seasons: first.map_or(1, |s| s.max(0) as u32),
            genres: split_list(&rec[c_listed]),
            description: rec[c_description].clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonl::load_catalog;

    fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
        DATASETS
            .iter()
            .map(|d| {
                let name = format!("{d}.jsonl");
                let bytes = fs::read(dir.join(&name)).unwrap();
                (name, bytes)
            })
            .collect()
    }

    #[test]
    fn dates_and_base_now() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(BASE_NOW, 1_793_491_200_000); // 2026-11-01T00:00:00Z
        assert_eq!(parse_added("25-Sep-21"), Some(1_632_528_000_000));
        assert_eq!(parse_added(" September 25, 2021 "), Some(1_632_528_000_000));
        assert_eq!(parse_added("31-Feb-21"), None);
        assert_eq!(parse_added(""), None);
    }

    #[test]
    fn csv_quotes_commas_and_newlines() {
        let text = "a,b,c\r\n1,\"x, \"\"y\"\"\nz\",3\n4,,\n";
        let recs = parse_csv(text).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(
            recs[1],
            (2, vec!["1".into(), "x, \"y\"\nz".into(), "3".into()])
        );
        assert_eq!(recs[2], (4, vec!["4".into(), String::new(), String::new()]));
        assert!(parse_csv("a,\"b\n").is_err());
    }

    #[test]
    fn synthetic_mode_writes_seven_loadable_files() {
        let dir = tempfile::tempdir().unwrap();
        let options = GenOptions {
            limit: Some(40),
            seed: 3,
            ..GenOptions::default()
        };
        let summary = generate_with(dir.path(), &options).unwrap();
        assert_eq!(summary.titles_from, "synthetic");
        assert_eq!(summary.countries_from, "built-in");
        let catalog = load_catalog(dir.path()).unwrap();
        assert_eq!(catalog.countries.len(), 64);
        assert_eq!(catalog.titles.len(), 40);
        assert!(catalog.videos.len() >= 40);
        for (name, n) in [
            ("rights", catalog.rights.len()),
            ("assets", catalog.assets.len()),
            ("localizations", catalog.localizations.len()),
            ("ratings", catalog.ratings.len()),
        ] {
            assert!(n > 40, "{name}: {n}");
            assert_eq!(summary.counts[name], n as u64, "{name}");
        }
        // Every kind of status and every upcoming/expired/open window shape shows up.
        assert!(catalog
            .assets
            .iter()
            .any(|a| a.status != AssetStatus::Ready));
        assert!(catalog.rights.iter().any(|r| r.window_end.is_none()));
        assert!(catalog.rights.iter().any(|r| r.window_start > BASE_NOW));
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let options = |seed| GenOptions {
            limit: Some(25),
            scale: 2,
            seed,
            ..GenOptions::default()
        };
        generate_with(a.path(), &options(11)).unwrap();
        generate_with(b.path(), &options(11)).unwrap();
        generate_with(c.path(), &options(12)).unwrap();
        assert_eq!(read_all(a.path()), read_all(b.path()));
        assert_ne!(read_all(a.path()), read_all(c.path()));
        let catalog = load_catalog(a.path()).unwrap();
        assert_eq!(catalog.titles.len(), 50);
        assert!(catalog.titles.iter().any(|t| t.id > 1_000_000));
    }

    #[test]
    fn csv_mode_reads_a_small_file() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("titles.csv");
        fs::write(
            &csv,
            "show_id,type,title,director,casts,country,date_added,release_year,rating,duration,listed_in,description\n\
             s1,Movie,Dick Johnson Is Dead,Kirsten Johnson,,United States,25-Sep-21,2020,PG-13,90 min,Documentaries,\"As her father nears the end, she stages his death.\"\n\
             s2,TV Show,Blood & Water,,\"Ama Qamata, Khosi Ngema\",South Africa,24-Sep-21,2021,TV-MA,2 Seasons,\"International TV Shows, TV Dramas\",A teen sets out.\n",
        )
        .unwrap();
        fs::write(
            dir.path().join("countries.json"),
            r#"[{"code":"US","name":"United States","languages":["en"]},
                {"code":"ZA","name":"South Africa","languages":["en","af","zu"]}]"#,
        )
        .unwrap();
        let out = dir.path().join("out");
        let summary = generate(&out, 1, Some(&csv), 5).unwrap();
        assert!(summary.countries_from.ends_with("countries.json"));
        let catalog = load_catalog(&out).unwrap();
        assert_eq!(catalog.countries.len(), 2);
        assert_eq!(catalog.titles.len(), 2);
        let show = &catalog.titles[1];
        assert_eq!((show.id, show.kind), (2, TitleKind::Show));
        assert_eq!(show.cast, ["Ama Qamata", "Khosi Ngema"]);
        assert_eq!(show.genres, ["International TV Shows", "TV Dramas"]);
        assert!(catalog.videos.iter().filter(|v| v.title_id == 2).count() >= 12);
        assert_eq!(catalog.videos[0].runtime_minutes, Some(90));
        // Home countries are always licensed.
        assert!(catalog
            .rights
            .iter()
            .any(|r| r.title_id == 1 && r.country == "US"));
        assert!(catalog
            .rights
            .iter()
            .any(|r| r.title_id == 2 && r.country == "ZA"));
    }
}
