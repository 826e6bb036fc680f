//! Built-in inputs for the generator when the real files are not at hand: a table of 64
//! countries with their official languages, and synthetic titles shaped like the Netflix list.
//!
//! The distributions follow the real list (8,807 titles, CC0): 70% movies with a runtime around
//! 100 minutes, shows with mostly one season, 1–3 genres from Netflix's 42, up to 12 cast
//! members, the production countries' mix (a third US, then India, UK, …; a tenth unknown),
//! titles added 2008–2021 and released mostly after 2000, the US ratings' mix.

use crate::source::{days_from_civil, rng, CountrySpec, Rng, SourceTitle, DAY};
use rand::distr::weighted::WeightedIndex;
use rand::seq::IndexedRandom as _;
use rand::RngExt as _;

/// (code, English name, official languages, weight as a production country of titles).
const COUNTRIES: [(&str, &str, &[&str], f64); 64] = [
    ("AE", "United Arab Emirates", &["ar"], 4.0),
    ("AR", "Argentina", &["es"], 76.0),
    ("AT", "Austria", &["de"], 3.0),
    ("AU", "Australia", &["en"], 117.0),
    ("BE", "Belgium", &["nl", "fr", "de"], 20.0),
    ("BG", "Bulgaria", &["bg"], 2.0),
    ("BR", "Brazil", &["pt"], 84.0),
    ("CA", "Canada", &["en", "fr"], 271.0),
    ("CH", "Switzerland", &["de", "fr", "it", "rm"], 8.0),
    ("CL", "Chile", &["es"], 20.0),
    ("CN", "China", &["zh"], 100.0),
    ("CO", "Colombia", &["es"], 40.0),
    ("CY", "Cyprus", &["el", "tr"], 1.0),
    ("CZ", "Czechia", &["cs"], 8.0),
    ("DE", "Germany", &["de"], 103.0),
    ("DK", "Denmark", &["da"], 30.0),
    ("EC", "Ecuador", &["es"], 1.0),
    ("EE", "Estonia", &["et"], 1.0),
    ("EG", "Egypt", &["ar"], 112.0),
    ("ES", "Spain", &["es"], 181.0),
    ("FI", "Finland", &["fi", "sv"], 8.0),
    ("FR", "France", &["fr"], 212.0),
    ("GB", "United Kingdom", &["en"], 628.0),
    ("GR", "Greece", &["el"], 5.0),
    ("HK", "Hong Kong", &["zh", "en"], 79.0),
    ("HR", "Croatia", &["hr"], 2.0),
    ("HU", "Hungary", &["hu"], 5.0),
    ("ID", "Indonesia", &["id"], 85.0),
    ("IE", "Ireland", &["en", "ga"], 28.0),
    ("IL", "Israel", &["he"], 20.0),
    ("IN", "India", &["hi", "en"], 1008.0),
    ("IR", "Iran", &["fa"], 3.0),
    ("IS", "Iceland", &["is"], 6.0),
    ("IT", "Italy", &["it"], 67.0),
    ("JM", "Jamaica", &["en"], 1.0),
    ("JP", "Japan", &["ja"], 259.0),
    ("KE", "Kenya", &["sw", "en"], 5.0),
    ("KR", "South Korea", &["ko"], 211.0),
    ("KW", "Kuwait", &["ar"], 5.0),
    ("LB", "Lebanon", &["ar"], 20.0),
    ("LU", "Luxembourg", &["lb", "fr", "de"], 2.0),
    ("MA", "Morocco", &["ar", "fr"], 3.0),
    ("MT", "Malta", &["mt", "en"], 1.0),
    ("MX", "Mexico", &["es"], 134.0),
    ("MY", "Malaysia", &["ms"], 20.0),
    ("NG", "Nigeria", &["en"], 96.0),
    ("NL", "Netherlands", &["nl"], 28.0),
    ("NO", "Norway", &["nb"], 20.0),
    ("NZ", "New Zealand", &["en", "mi"], 15.0),
    ("PE", "Peru", &["es", "qu"], 5.0),
    ("PH", "Philippines", &["fil", "en"], 80.0),
    ("PK", "Pakistan", &["ur", "en"], 15.0),
    ("PL", "Poland", &["pl"], 30.0),
    ("PT", "Portugal", &["pt"], 5.0),
    ("RO", "Romania", &["ro"], 10.0),
    ("RU", "Russia", &["ru"], 20.0),
    ("SA", "Saudi Arabia", &["ar"], 10.0),
    ("SE", "Sweden", &["sv"], 20.0),
    ("SG", "Singapore", &["en", "ms", "zh", "ta"], 20.0),
    ("TH", "Thailand", &["th"], 65.0),
    ("TR", "Turkey", &["tr"], 111.0),
    ("TW", "Taiwan", &["zh"], 85.0),
    ("US", "United States", &["en"], 3211.0),
    ("ZA", "South Africa", &["en", "af", "zu", "xh"], 41.0),
];

/// Titles in the real list; the synthetic list has as many.
pub(crate) const SYNTHETIC_TITLES: usize = 8807;

const GENRES_MOVIE: [&str; 20] = [
    "International Movies",
    "Dramas",
    "Comedies",
    "Documentaries",
    "Action & Adventure",
    "Independent Movies",
    "Children & Family Movies",
    "Romantic Movies",
    "Thrillers",
    "Music & Musicals",
    "Horror Movies",
    "Stand-Up Comedy",
    "Sci-Fi & Fantasy",
    "Sports Movies",
    "Classic Movies",
    "LGBTQ Movies",
    "Anime Features",
    "Cult Movies",
    "Faith & Spirituality",
    "Movies",
];
const GENRES_SHOW: [&str; 20] = [
    "International TV Shows",
    "TV Dramas",
    "TV Comedies",
    "Crime TV Shows",
    "Kids' TV",
    "Docuseries",
    "Romantic TV Shows",
    "Reality TV",
    "British TV Shows",
    "Anime Series",
    "Spanish-Language TV Shows",
    "TV Action & Adventure",
    "Korean TV Shows",
    "TV Mysteries",
    "Science & Nature TV",
    "TV Sci-Fi & Fantasy",
    "TV Horror",
    "Teen TV Shows",
    "TV Thrillers",
    "Stand-Up Comedy & Talk Shows",
];
const RATINGS: [(&str, f64); 14] = [
    ("TV-MA", 3207.0),
    ("TV-14", 2160.0),
    ("TV-PG", 863.0),
    ("R", 799.0),
    ("PG-13", 490.0),
    ("TV-Y7", 334.0),
    ("TV-Y", 307.0),
    ("PG", 287.0),
    ("TV-G", 220.0),
    ("NR", 80.0),
    ("G", 41.0),
    ("TV-Y7-FV", 6.0),
    ("", 4.0),
    ("NC-17", 3.0),
];
const ADJECTIVES: [&str; 32] = [
    "Silent",
    "Golden",
    "Broken",
    "Hidden",
    "Last",
    "Wild",
    "Secret",
    "Midnight",
    "Crimson",
    "Lost",
    "Frozen",
    "Burning",
    "Little",
    "Endless",
    "Dark",
    "Brave",
    "Distant",
    "Electric",
    "Quiet",
    "Final",
    "Sweet",
    "Savage",
    "Restless",
    "Paper",
    "Iron",
    "Velvet",
    "Hollow",
    "Northern",
    "Forgotten",
    "Bright",
    "Royal",
    "Stolen",
];
const NOUNS: [&str; 32] = [
    "River", "Kingdom", "Summer", "Heart", "City", "Promise", "Road", "Garden", "Storm", "Island",
    "Mirror", "Season", "Empire", "Station", "Harbor", "Circus", "Letter", "Window", "Frontier",
    "Dynasty", "Game", "Family", "Voyage", "Crossing", "Melody", "Shadow", "Border", "Tide",
    "Lantern", "Orchard", "Signal", "Witness",
];
const FIRST: [&str; 24] = [
    "Ana", "Rahul", "Emma", "Kenji", "Ji-woo", "Lucas", "Fatima", "Olga", "Diego", "Priya", "Noah",
    "Amara", "Mateo", "Yuki", "Omar", "Chloé", "Ingrid", "Tunde", "Mei", "Arjun", "Sofía", "Jonas",
    "Layla", "Pierre",
];
const LAST: [&str; 24] = [
    "Silva",
    "Sharma",
    "Müller",
    "Tanaka",
    "Kim",
    "García",
    "Okafor",
    "Ivanova",
    "Rossi",
    "Khan",
    "Dubois",
    "Smith",
    "Nguyen",
    "Andersen",
    "Haddad",
    "Kowalski",
    "Chen",
    "Mendoza",
    "Yilmaz",
    "Patel",
    "Johansson",
    "Santos",
    "O'Brien",
    "Costa",
];

/// The built-in country table.
pub(crate) fn builtin_countries() -> Vec<CountrySpec> {
    COUNTRIES
        .iter()
        .map(|(code, name, langs, _)| CountrySpec {
            code: code.to_string(),
            name: name.to_string(),
            languages: langs.iter().map(|l| l.to_string()).collect(),
        })
        .collect()
}

/// One of `items` (`""` for none).
fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

fn person(rng: &mut Rng) -> String {
    format!("{} {}", pick(rng, &FIRST), pick(rng, &LAST))
}

/// A draw of an index into a table by its weights (the tables' weights are positive constants).
fn weights(w: impl IntoIterator<Item = f64>) -> WeightedIndex<f64> {
    WeightedIndex::new(w).expect("the built-in tables have positive weights")
}

/// `n` synthetic titles, deterministic for `seed`, shaped like the real list.
pub(crate) fn synthetic_titles(n: usize, seed: u64) -> Vec<SourceTitle> {
    let mut rng = rng(seed ^ 0x5eed_0f71_71e5);
    let country_weights = weights(COUNTRIES.iter().map(|c| c.3));
    let rating_weights = weights(RATINGS.iter().map(|r| r.1));
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let is_show = rng.random::<f64>() < 0.304;
        let title = format!(
            "{} {}{}",
            pick(&mut rng, &ADJECTIVES),
            pick(&mut rng, &NOUNS),
            if rng.random::<f64>() < 0.2 {
                format!(" {}", rng.random_range(2..=9))
            } else {
                String::new()
            }
        );
        let n_countries = match rng.random::<f64>() {
            x if x < 0.094 => 0,
            x if x < 0.85 => 1,
            x if x < 0.95 => 2,
            _ => rng.random_range(3..=6) as usize,
        };
        let mut countries: Vec<String> = Vec::new();
        while countries.len() < n_countries {
            let name = COUNTRIES[rng.sample(&country_weights)].1.to_string();
            if !countries.contains(&name) {
                countries.push(name);
            }
        }
        let year_added = 2021 - (rng.random::<f64>() * rng.random::<f64>() * 13.0) as i32;
        let month = rng.random_range(0..12u32);
        let day = rng.random_range(1..=28);
        let added = (rng.random::<f64>() >= 0.001)
            .then(|| days_from_civil(year_added, month + 1, day as u32) * DAY);
        let age = (rng.random::<f64>() * rng.random::<f64>() * rng.random::<f64>() * 80.0) as i32;
        let release_year = Some((year_added - age).max(1925));
        let genres_from: &[&str] = if is_show { &GENRES_SHOW } else { &GENRES_MOVIE };
        let n_genres = rng.random_range(1..=3) as usize;
        let genres = genres_from
            .sample(&mut rng, n_genres)
            .map(|g| g.to_string())
            .collect();
        let n_cast = if rng.random::<f64>() < 0.1 {
            0
        } else {
            rng.random_range(1..=12) as usize
        };
        let cast = (0..n_cast).map(|_| person(&mut rng)).collect();
        let n_directors = match (is_show, rng.random::<f64>()) {
            (true, x) if x < 0.9 => 0,
            (false, x) if x < 0.03 => 0,
            (_, x) if x < 0.93 => 1,
            _ => 2,
        };
        let directors = (0..n_directors).map(|_| person(&mut rng)).collect();
        let movie_minutes = (!is_show).then(|| {
            let tri = rng.random::<f64>() + rng.random::<f64>() + rng.random::<f64>() - 1.5; // about N(0, 0.5)
            (100.0 + tri * 56.0).clamp(3.0, 312.0) as i32
        });
        let seasons = if is_show {
            let x = rng.random::<f64>();
            if x < 0.67 {
                1
            } else if x < 0.83 {
                2
            } else {
                (3.0 + rng.random::<f64>() * rng.random::<f64>() * 13.0) as u32
            }
        } else {
            0
        };
        let rating = RATINGS[rng.sample(&rating_weights)].0.to_string();
        let description = format!(
            "When {} finds a {} {}, {} must face {} {} before it is too late.",
            person(&mut rng),
            pick(&mut rng, &ADJECTIVES).to_lowercase(),
            pick(&mut rng, &NOUNS).to_lowercase(),
            if rng.random::<f64>() < 0.5 {
                "she"
            } else {
                "he"
            },
            if rng.random::<f64>() < 0.5 {
                "a"
            } else {
                "the"
            },
            pick(&mut rng, &NOUNS).to_lowercase(),
        );
        out.push(SourceTitle {
            n: i as i64 + 1,
            is_show,
            title,
            directors,
            cast,
            countries,
            added,
            release_year,
            rating,
            movie_minutes,
            seasons,
            genres,
            description,
        });
    }
    out
}
