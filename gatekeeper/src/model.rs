//! The seven upstream datasets of GATEKEEPER.md §1 as plain Rust records, and the `liveness`
//! output record of §3.
//!
//! Field names and types follow the contract exactly, so `serde_json` reads and writes the wire
//! form of §1/§2 directly. Strictness on input:
//!
//! - every field must be present; a `?` field (an `Option`) may be `null` but not absent,
//!   because §2 rejects "a missing field";
//! - an enum value outside its list (`"kind": "TRAILER"`) is an error;
//! - unknown extra fields are ignored (upstreams may add fields before we read them).
//!
//! Each record knows its primary key, as a typed value ([`Record::Key`], cheap to hash and
//! compare) and as the Kafka key string of §2 ([`Record::key_string`]: `42`, `42|FR|1631750400000`,
//! `42|fr`).

use hollow::Hollow;
use serde::{Deserialize, Deserializer, Serialize};
use std::hash::Hash;

/// Deserializes a nullable field that must nevertheless be present.
///
/// With `deserialize_with`, serde no longer treats a missing `Option` field as `None`, so an
/// absent `"window_end"` is "missing field" while `"window_end": null` is `None`.
fn nullable<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}

/// A record of one of the seven datasets: it has a primary key.
pub trait Record {
    /// The dataset's name: its JSONL file stem and its Kafka topic.
    const DATASET: &'static str;
    /// The primary key as a typed, borrowed value.
    type Key<'a>: Eq + Ord + Hash
    where
        Self: 'a;
    /// The primary key as a typed, borrowed value.
    fn key(&self) -> Self::Key<'_>;
    /// The primary key as the Kafka message key of §2: the key's values joined by `|`.
    fn key_string(&self) -> String;
}

/// A country: where titles may go live (`countries`, key `code`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Hollow)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code, e.g. `FR`.
    #[hollow(primary_key)]
    pub code: String,
    /// English name.
    pub name: String,
    /// The language titles are presented in (name and synopsis).
    pub primary_language: String,
    /// Languages every playable video must offer as audio or subtitles.
    pub required_languages: Vec<String>,
    /// Whether closed captions are required.
    pub requires_captions: bool,
    /// Whether a rating from the local board is required.
    pub rating_required: bool,
}

/// A title's kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Hollow,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TitleKind {
    /// `"MOVIE"`.
    #[hollow(rename = "MOVIE")]
    Movie,
    /// `"SHOW"`.
    #[hollow(rename = "SHOW")]
    Show,
}

/// A title: a movie or a show (`titles`, key `id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Hollow)]
pub struct Title {
    /// Title id.
    #[hollow(primary_key)]
    pub id: i64,
    /// Movie or show.
    pub kind: TitleKind,
    /// Name in the original language.
    pub name: String,
    /// The language the title was made in.
    pub original_language: String,
    /// Release year, if known.
    #[serde(deserialize_with = "nullable")]
    pub release_year: Option<i32>,
    /// Genres.
    pub genres: Vec<String>,
    /// Cast members.
    pub cast: Vec<String>,
    /// Directors.
    pub directors: Vec<String>,
}

/// A video's kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Hollow,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VideoKind {
    /// `"MOVIE"`.
    #[hollow(rename = "MOVIE")]
    Movie,
    /// `"EPISODE"`.
    #[hollow(rename = "EPISODE")]
    Episode,
}

/// A playable video of a title: the movie itself or one episode (`videos`, key `id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Hollow)]
pub struct Video {
    /// Video id.
    #[hollow(primary_key)]
    pub id: i64,
    /// The title it belongs to (may point at no title).
    pub title_id: i64,
    /// Movie or episode.
    pub kind: VideoKind,
    /// Season number, for episodes.
    #[serde(deserialize_with = "nullable")]
    pub season: Option<i32>,
    /// Episode number, for episodes.
    #[serde(deserialize_with = "nullable")]
    pub episode: Option<i32>,
    /// Runtime, if known.
    #[serde(deserialize_with = "nullable")]
    pub runtime_minutes: Option<i32>,
}

/// A license window of a title in a country (`rights`, key `title_id|country|window_start`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Hollow)]
pub struct Right {
    /// The licensed title.
    #[hollow(primary_key)]
    pub title_id: i64,
    /// The country code.
    #[hollow(primary_key)]
    pub country: String,
    /// First millisecond of the window (inclusive).
    #[hollow(primary_key)]
    pub window_start: i64,
    /// End of the window (exclusive); `None` never ends.
    #[serde(deserialize_with = "nullable")]
    pub window_end: Option<i64>,
}

/// An asset's kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Hollow,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssetKind {
    /// `"VIDEO"`: the picture (language null).
    #[hollow(rename = "VIDEO")]
    Video,
    /// `"AUDIO"`: an audio track.
    #[hollow(rename = "AUDIO")]
    Audio,
    /// `"SUBTITLE"`: a subtitle track.
    #[hollow(rename = "SUBTITLE")]
    Subtitle,
    /// `"CLOSED_CAPTIONS"`: a closed-captions track.
    #[hollow(rename = "CLOSED_CAPTIONS")]
    ClosedCaptions,
}

/// An asset's processing status.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Hollow,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssetStatus {
    /// `"READY"`: usable.
    #[hollow(rename = "READY")]
    Ready,
    /// `"IN_PROGRESS"`: not usable yet.
    #[hollow(rename = "IN_PROGRESS")]
    InProgress,
    /// `"FAILED"`: not usable.
    #[hollow(rename = "FAILED")]
    Failed,
}

/// A media asset of a video (`assets`, key `id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Hollow)]
pub struct Asset {
    /// Asset id.
    #[hollow(primary_key)]
    pub id: i64,
    /// The video it belongs to (may point at no video).
    pub video_id: i64,
    /// Picture, audio, subtitle or captions.
    pub kind: AssetKind,
    /// Language of the track; `None` for `VIDEO`.
    #[serde(deserialize_with = "nullable")]
    pub language: Option<String>,
    /// Processing status.
    pub status: AssetStatus,
}

/// A title's name and synopsis in one language (`localizations`, key `title_id|language`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Hollow)]
pub struct Localization {
    /// The title.
    #[hollow(primary_key)]
    pub title_id: i64,
    /// The language.
    #[hollow(primary_key)]
    pub language: String,
    /// Localized name.
    #[serde(deserialize_with = "nullable")]
    pub name: Option<String>,
    /// Localized synopsis.
    #[serde(deserialize_with = "nullable")]
    #[hollow(compressed)]
    pub synopsis: Option<String>,
}

/// A title's rating by a country's board (`ratings`, key `title_id|country`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Hollow)]
pub struct Rating {
    /// The title.
    #[hollow(primary_key)]
    pub title_id: i64,
    /// The country code.
    #[hollow(primary_key)]
    pub country: String,
    /// The rating board.
    pub board: String,
    /// The rating.
    pub rating: String,
}

impl Record for Country {
    const DATASET: &'static str = "countries";
    type Key<'a> = &'a str;
    fn key(&self) -> &str {
        &self.code
    }
    fn key_string(&self) -> String {
        self.code.clone()
    }
}

impl Record for Title {
    const DATASET: &'static str = "titles";
    type Key<'a> = i64;
    fn key(&self) -> i64 {
        self.id
    }
    fn key_string(&self) -> String {
        self.id.to_string()
    }
}

impl Record for Video {
    const DATASET: &'static str = "videos";
    type Key<'a> = i64;
    fn key(&self) -> i64 {
        self.id
    }
    fn key_string(&self) -> String {
        self.id.to_string()
    }
}

impl Record for Right {
    const DATASET: &'static str = "rights";
    type Key<'a> = (i64, &'a str, i64);
    fn key(&self) -> (i64, &str, i64) {
        (self.title_id, &self.country, self.window_start)
    }
    fn key_string(&self) -> String {
        format!("{}|{}|{}", self.title_id, self.country, self.window_start)
    }
}

impl Record for Asset {
    const DATASET: &'static str = "assets";
    type Key<'a> = i64;
    fn key(&self) -> i64 {
        self.id
    }
    fn key_string(&self) -> String {
        self.id.to_string()
    }
}

impl Record for Localization {
    const DATASET: &'static str = "localizations";
    type Key<'a> = (i64, &'a str);
    fn key(&self) -> (i64, &str) {
        (self.title_id, &self.language)
    }
    fn key_string(&self) -> String {
        format!("{}|{}", self.title_id, self.language)
    }
}

impl Record for Rating {
    const DATASET: &'static str = "ratings";
    type Key<'a> = (i64, &'a str);
    fn key(&self) -> (i64, &str) {
        (self.title_id, &self.country)
    }
    fn key_string(&self) -> String {
        format!("{}|{}", self.title_id, self.country)
    }
}

/// The output of §3 for one (title, country) pair: dataset `liveness`.
///
/// Field order is the export order of the JSON Lines form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Liveness {
    /// The title's id.
    pub title_id: i64,
    /// The country's code.
    pub country: String,
    /// No title-level reason applies and at least one video is playable.
    pub live: bool,
    /// Title-level and video-level reason codes, without repeats, sorted by byte order.
    pub reasons: Vec<String>,
    /// How many of the title's videos are playable in the country.
    pub playable_videos: u32,
    /// How many videos the title has.
    pub total_videos: u32,
    /// The smallest window start after `now` in this country, if any.
    pub next_window_start: Option<i64>,
}

/// Text is *present* (§3) when it is non-null and has a character that is not white space
/// (`char::is_whitespace`, Unicode's `White_Space` property).
pub fn is_present(text: Option<&str>) -> bool {
    text.is_some_and(|t| t.chars().any(|c| !c.is_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_kafka_format() {
        let right = Right {
            title_id: 42,
            country: "FR".into(),
            window_start: 1_631_750_400_000,
            window_end: None,
        };
        assert_eq!(right.key_string(), "42|FR|1631750400000");
        let loc = Localization {
            title_id: 42,
            language: "fr".into(),
            name: None,
            synopsis: None,
        };
        assert_eq!(loc.key_string(), "42|fr");
        let asset = Asset {
            id: -7,
            video_id: 1,
            kind: AssetKind::Video,
            language: None,
            status: AssetStatus::Ready,
        };
        assert_eq!(asset.key_string(), "-7");
    }

    #[test]
    fn enums_use_the_exact_uppercase_strings() {
        let json = serde_json::to_string(&AssetKind::ClosedCaptions).unwrap();
        assert_eq!(json, "\"CLOSED_CAPTIONS\"");
        let json = serde_json::to_string(&AssetStatus::InProgress).unwrap();
        assert_eq!(json, "\"IN_PROGRESS\"");
        assert!(serde_json::from_str::<TitleKind>("\"movie\"").is_err());
        assert!(serde_json::from_str::<VideoKind>("\"TRAILER\"").is_err());
    }

    #[test]
    fn nullable_fields_must_be_present() {
        let ok = r#"{"title_id":1,"country":"FR","window_start":5,"window_end":null}"#;
        assert_eq!(serde_json::from_str::<Right>(ok).unwrap().window_end, None);
        let missing = r#"{"title_id":1,"country":"FR","window_start":5}"#;
        let err = serde_json::from_str::<Right>(missing).unwrap_err();
        assert!(err.to_string().contains("window_end"), "{err}");
    }

    #[test]
    fn presence_uses_unicode_white_space() {
        assert!(!is_present(None));
        assert!(!is_present(Some("")));
        assert!(!is_present(Some(" \t\n\u{3000}\u{a0}\u{2028}")));
        assert!(is_present(Some(" x ")));
        assert!(is_present(Some("\u{200b}"))); // zero-width space is not White_Space
    }
}
