//! The typed API: `#[derive(Hollow)]` schemas, writers and views.

use std::collections::{BTreeMap, BTreeSet};

use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::typed::{schema_for, Mismatch, TypedError};
use hollow::{Hollow, ReadState, WriteState};

#[derive(Hollow, Debug, Clone, Copy, PartialEq)]
enum Kind {
    #[hollow(rename = "MOVIE")]
    Movie,
    #[hollow(rename = "EPISODE")]
    Episode,
}

#[derive(Hollow, Debug, Clone, PartialEq)]
struct Person {
    #[hollow(primary_key)]
    id: i64,
    name: String,
}

#[derive(Hollow, Debug, Clone, PartialEq)]
struct Video {
    #[hollow(primary_key)]
    id: i64,
    title: String,
    kind: Kind,
    season: Option<i32>,
    rating: f64,
    live: bool,
    tags: Vec<String>,
    cast: Vec<Person>,
    director: Option<Person>,
    regions: BTreeSet<String>,
    scores: BTreeMap<String, i64>,
    thumb: Vec<u8>,
}

fn video(id: i64) -> Video {
    Video {
        id,
        title: format!("video {id}"),
        kind: if id % 2 == 0 {
            Kind::Movie
        } else {
            Kind::Episode
        },
        season: (id % 3 != 0).then_some(id as i32),
        rating: id as f64 / 2.0,
        live: id % 2 == 1,
        tags: vec!["a".into(), format!("t{id}")],
        cast: vec![
            Person {
                id: 1,
                name: "Ann".into(),
            },
            Person {
                id: id + 10,
                name: format!("p{id}"),
            },
        ],
        director: (id != 2).then(|| Person {
            id: 7,
            name: "Dee".into(),
        }),
        regions: ["FR".to_string(), "US".to_string()].into(),
        scores: [("imdb".to_string(), id * 10), ("rt".to_string(), i64::MIN)].into(),
        thumb: vec![id as u8, 0, 255],
    }
}

fn state_of(videos: &[Video]) -> ReadState {
    let mut ws = WriteState::new(schema_for::<Video>().unwrap());
    for v in videos {
        ws.add_typed(v).unwrap();
    }
    ReadState::from_vec(write_snapshot(&ws, &SnapshotOptions::default()).unwrap().0).unwrap()
}

#[test]
fn views_read_back_what_was_written() {
    let videos: Vec<Video> = (0..20).map(video).collect();
    let state = state_of(&videos);
    let table = state.typed::<Video>().unwrap();
    assert_eq!(table.len(), 20);
    for (v, want) in table.iter().zip(&videos) {
        assert_eq!(v.id(), want.id);
        assert_eq!(v.title(), want.title);
        assert_eq!(v.kind(), want.kind);
        assert_eq!(v.season(), want.season);
        assert_eq!(v.rating(), want.rating);
        assert_eq!(v.live(), want.live);
        assert_eq!(v.tags().collect::<Vec<_>>(), want.tags);
        let cast: Vec<(i64, &str)> = v.cast().map(|p| (p.id(), p.name())).collect();
        let want_cast: Vec<(i64, &str)> =
            want.cast.iter().map(|p| (p.id, p.name.as_str())).collect();
        assert_eq!(cast, want_cast);
        assert_eq!(
            v.director().map(|d| d.name()),
            want.director.as_ref().map(|d| d.name.as_str())
        );
        assert_eq!(
            v.regions().collect::<BTreeSet<_>>(),
            want.regions.iter().map(String::as_str).collect()
        );
        let scores: BTreeMap<&str, i64> = v.scores().collect();
        assert_eq!(
            scores,
            want.scores.iter().map(|(k, v)| (k.as_str(), *v)).collect()
        );
        assert_eq!(v.thumb(), want.thumb);
    }
}

#[test]
fn a_schema_that_differs_is_refused_naming_the_field() {
    #[derive(Hollow)]
    #[hollow(rename = "Video")]
    #[allow(dead_code)] // only its schema is used
    struct Other {
        id: i64,
        title: i32,
    }
    let state = state_of(&[video(1)]);
    match state.typed::<Other>() {
        Err(TypedError::Mismatch(Mismatch::FieldKind { field, .. })) => assert_eq!(field, "title"),
        other => panic!("{other:?}"),
    }
}

#[derive(Hollow, Debug, Clone, Copy, PartialEq)]
enum TitleKind {
    #[hollow(rename = "MOVIE")]
    Movie,
    #[hollow(rename = "SHOW")]
    Show,
}

/// The `titles` dataset of `schemas/titles.json`, as a struct.
#[derive(Hollow, Debug, Clone, PartialEq)]
struct Title {
    #[hollow(primary_key)]
    id: i64,
    kind: TitleKind,
    name: String,
    original_language: String,
    release_year: Option<i32>,
    genres: Vec<String>,
    cast: Vec<String>,
    directors: Vec<String>,
}

/// The `localizations` dataset: a composite key and a compressed field.
#[derive(Hollow, Debug, Clone, PartialEq)]
struct Localization {
    #[hollow(primary_key)]
    title_id: i64,
    #[hollow(primary_key)]
    language: String,
    name: Option<String>,
    #[hollow(compressed)]
    synopsis: Option<String>,
}

fn dataset(name: &str) -> hollow::dataset::DatasetSchema {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../schemas/{name}.json"));
    hollow::dataset::DatasetSchema::from_file(&path).unwrap()
}

fn title(i: i64) -> Title {
    Title {
        id: i,
        kind: if i % 3 == 0 {
            TitleKind::Show
        } else {
            TitleKind::Movie
        },
        name: format!("Title \"{i}\" ✓"),
        original_language: ["en", "fr", "ja"][i as usize % 3].into(),
        release_year: (i % 4 != 0).then_some(1990 + i as i32),
        genres: (0..i % 3).map(|g| format!("g{g}")).collect(),
        cast: vec![
            format!("actor {}", i % 5),
            "actor 0".into(),
            format!("actor {}", i % 5),
        ],
        directors: vec![],
    }
}

fn localization(i: i64) -> Localization {
    Localization {
        title_id: i / 2,
        language: ["en", "de"][i as usize % 2].into(),
        name: (i % 3 != 0).then(|| format!("name {i}")),
        synopsis: (i % 5 != 0)
            .then(|| "a long synopsis that repeats itself ".repeat(1 + i as usize % 4)),
    }
}

/// Writes the same records through the typed writer and as JSON records of the dataset.
fn both_ways<T: Hollow + serde_json_like::ToJson>(name: &str, records: &[T]) -> (Vec<u8>, Vec<u8>) {
    let ds = dataset(name);
    assert_eq!(
        schema_for::<T>().unwrap(),
        ds.schema_set().unwrap(),
        "{name}: schemas differ"
    );
    let mut typed = WriteState::new(schema_for::<T>().unwrap());
    let mut json = WriteState::new(ds.schema_set().unwrap());
    for r in records {
        typed.add_typed(r).unwrap();
        let rec = ds.parse_json(r.to_json().as_bytes()).unwrap();
        ds.add(&mut json, &rec).unwrap();
    }
    let opts = SnapshotOptions::default();
    (
        write_snapshot(&typed, &opts).unwrap().0,
        write_snapshot(&json, &opts).unwrap().0,
    )
}

/// Hand-written JSON of the test records (the typed API does not depend on serde).
mod serde_json_like {
    use super::*;

    pub trait ToJson {
        fn to_json(&self) -> String;
    }

    fn s(x: &str) -> String {
        format!("{x:?}")
    }
    fn list(x: &[String]) -> String {
        format!("[{}]", x.iter().map(|e| s(e)).collect::<Vec<_>>().join(","))
    }
    fn opt<T>(x: &Option<T>, f: impl Fn(&T) -> String) -> String {
        x.as_ref().map_or("null".into(), f)
    }

    impl ToJson for Title {
        fn to_json(&self) -> String {
            let kind = match self.kind {
                TitleKind::Movie => "MOVIE",
                TitleKind::Show => "SHOW",
            };
            format!(
                r#"{{"id":{},"kind":"{kind}","name":{},"original_language":{},"release_year":{},"genres":{},"cast":{},"directors":{}}}"#,
                self.id,
                s(&self.name),
                s(&self.original_language),
                opt(&self.release_year, |y| y.to_string()),
                list(&self.genres),
                list(&self.cast),
                list(&self.directors)
            )
        }
    }

    impl ToJson for Localization {
        fn to_json(&self) -> String {
            format!(
                r#"{{"title_id":{},"language":{},"name":{},"synopsis":{}}}"#,
                self.title_id,
                s(&self.language),
                opt(&self.name, |x| s(x)),
                opt(&self.synopsis, |x| s(x))
            )
        }
    }
}

#[test]
fn a_state_from_structs_is_byte_identical_to_one_from_json_records() {
    let titles: Vec<Title> = (0..200).map(title).collect();
    let (typed, json) = both_ways("titles", &titles);
    assert!(typed == json, "titles: the snapshots differ");
    let locs: Vec<Localization> = (0..200).map(localization).collect();
    let (typed, json) = both_ways("localizations", &locs);
    assert!(typed == json, "localizations: the snapshots differ");

    // and the typed view of the JSON-made state reads the structs back
    let state = ReadState::from_vec(json).unwrap();
    let table = state.typed::<Localization>().unwrap();
    for (v, want) in table.iter().zip(&locs) {
        assert_eq!(
            (v.title_id(), v.language(), v.name()),
            (want.title_id, want.language.as_str(), want.name.as_deref())
        );
        assert_eq!(v.synopsis().as_deref(), want.synopsis.as_deref());
    }
}

#[test]
fn null_is_distinct_from_i64_min_and_a_non_option_field_refuses_nulls() {
    #[derive(Hollow)]
    struct Window {
        start: i64,
        end: Option<i64>,
    }
    let mut ws = WriteState::new(schema_for::<Window>().unwrap());
    ws.add_typed(&Window {
        start: i64::MIN,
        end: Some(i64::MIN),
    })
    .unwrap();
    ws.add_typed(&Window {
        start: 0,
        end: None,
    })
    .unwrap();
    let state =
        ReadState::from_vec(write_snapshot(&ws, &SnapshotOptions::default()).unwrap().0).unwrap();
    let t = state.typed::<Window>().unwrap();
    let got: Vec<(i64, Option<i64>)> = t.iter().map(|w| (w.start(), w.end())).collect();
    assert_eq!(got, [(i64::MIN, Some(i64::MIN)), (0, None)]);

    #[derive(Hollow)]
    #[hollow(rename = "Window")]
    #[allow(dead_code)]
    struct Strict {
        start: i64,
        end: i64,
    }
    let err = state.typed::<Strict>().unwrap_err();
    assert!(
        matches!(&err, TypedError::Mismatch(Mismatch::Nullable { field, ordinal: 1, .. }) if field == "end"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "the state does not match the Rust type: field Window.end holds null (at ordinal 1) but is not an Option in Rust"
    );
}

#[test]
fn missing_fields_types_and_recursion_are_named() {
    #[derive(Hollow)]
    #[hollow(rename = "Video")]
    #[allow(dead_code)]
    struct Extra {
        id: i64,
        budget: Option<i64>,
    }
    let state = state_of(&[video(1)]);
    let err = state.typed::<Extra>().unwrap_err();
    assert!(
        matches!(&err, TypedError::Mismatch(Mismatch::MissingField { field, .. }) if field == "budget"),
        "{err}"
    );

    #[derive(Hollow)]
    #[allow(dead_code)]
    struct Show {
        id: i64,
    }
    let err = state.typed::<Show>().unwrap_err();
    assert!(
        matches!(&err, TypedError::Mismatch(Mismatch::MissingType { type_name }) if type_name == "Show"),
        "{err}"
    );

    // fewer fields than the state: fine (the state may have grown)
    #[derive(Hollow)]
    #[hollow(rename = "Video")]
    struct Slim {
        title: String,
    }
    assert_eq!(state.typed::<Slim>().unwrap().view(0).title(), "video 1");

    // a recursive type: its schema and writer work, its typed view is refused
    #[derive(Hollow)]
    struct Node {
        id: i64,
        next: Option<Box<Node>>,
        children: Vec<Node>,
    }
    let schema = schema_for::<Node>().unwrap();
    assert_eq!(
        schema.object("Node").unwrap().fields[1].kind,
        hollow::FieldKind::Reference("Node".into())
    );
    let mut ws = WriteState::new(schema);
    let leaf = Node {
        id: 2,
        next: None,
        children: vec![],
    };
    ws.add_typed(&Node {
        id: 1,
        next: Some(Box::new(leaf)),
        children: vec![],
    })
    .unwrap();
    assert_eq!(ws.len("Node").unwrap(), 2);
    let state =
        ReadState::from_vec(write_snapshot(&ws, &SnapshotOptions::default()).unwrap().0).unwrap();
    let err = state.typed::<Node>().unwrap_err();
    assert!(
        matches!(&err, TypedError::Recursive { path } if path == "Node → Node"),
        "{err}"
    );
}

/// A keyed type for the producer and index tests.
#[derive(Hollow, Debug, Clone, PartialEq)]
struct Asset {
    #[hollow(primary_key)]
    id: i64,
    video_id: i64,
    language: Option<String>,
    tags: Vec<String>,
}

fn asset(id: i64, language: &str) -> Asset {
    Asset {
        id,
        video_id: id / 3,
        language: Some(language.to_string()),
        tags: vec![format!("only-{id}"), "shared".into()],
    }
}

#[test]
fn typed_cycles_and_indexes_follow_deltas() {
    use hollow::lifecycle::{Consumer, ConsumerConfig, Producer, ProducerConfig};
    use hollow::typed::{HashIndex, PrimaryKeyIndex};

    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(hollow::store::FolderStore::new(dir.path()).unwrap());
    let mut producer = Producer::open(
        store.clone(),
        schema_for::<Asset>().unwrap(),
        ProducerConfig::default(),
    )
    .unwrap();
    producer
        .cycle(|c| {
            for id in 0..12 {
                c.upsert_typed(&asset(id, "en"))?;
            }
            Ok(())
        })
        .unwrap();
    let consumer = Consumer::new(store, ConsumerConfig::default());
    consumer.refresh().unwrap();
    let v1 = consumer.current().unwrap();
    let mut by_id = PrimaryKeyIndex::<Asset>::build(&v1.state).unwrap();
    let mut by_video: HashIndex<Asset, (i64, &str)> =
        HashIndex::build(&v1.state, &["video_id", "language"]).unwrap();
    {
        let table = v1.state.typed::<Asset>().unwrap();
        assert_eq!(by_id.get(&table, 4).map(|a| a.video_id()), Some(1));
        let ids: Vec<i64> = by_video.get(&table, (1, "en")).map(|a| a.id()).collect();
        assert_eq!(ids, [3, 4, 5]);
    }

    // a delta: one changed, one deleted, one added, one unchanged upsert
    let outcome = producer
        .cycle(|c| {
            assert!(c.upsert_typed(&asset(3, "fr"))?);
            assert!(!c.upsert_typed(&asset(5, "en"))?);
            assert!(c.delete_typed::<Asset>(4)?);
            assert!(!c.delete_typed::<Asset>(99)?);
            assert!(c.upsert_typed(&asset(12, "en"))?);
            Ok(())
        })
        .unwrap();
    assert!(
        matches!(outcome, hollow::CycleOutcome::Published { .. }),
        "{outcome:?}"
    );
    let report = consumer.refresh().unwrap();
    let v2 = consumer.current().unwrap();
    by_id
        .apply(&v1.state, &v2.state, &report.transitions)
        .unwrap();
    by_video
        .apply(&v1.state, &v2.state, &report.transitions)
        .unwrap();
    let table = v2.state.typed::<Asset>().unwrap();
    assert!(by_id.get(&table, 4).is_none());
    assert_eq!(by_id.get(&table, 3).and_then(|a| a.language()), Some("fr"));
    assert_eq!(
        by_id.get(&table, 12).map(|a| a.tags().collect::<Vec<_>>()),
        Some(vec!["only-12", "shared"])
    );
    let ids: Vec<i64> = by_video.get(&table, (1, "en")).map(|a| a.id()).collect();
    assert_eq!(ids, [5]);
    assert_eq!(
        by_video
            .get(&table, (1, "fr"))
            .map(|a| a.id())
            .collect::<Vec<_>>(),
        [3]
    );
    // the updated indexes answer like rebuilt ones
    let fresh = PrimaryKeyIndex::<Asset>::build(&v2.state).unwrap();
    for id in 0..14 {
        assert_eq!(
            by_id.ordinal(&v2.state, id),
            fresh.ordinal(&v2.state, id),
            "id {id}"
        );
    }
    // the deleted record's own tag went with it (reference counts), the shared one stayed
    let strings = v2
        .state
        .typed::<Asset>()
        .unwrap()
        .iter()
        .flat_map(|a| a.tags().collect::<Vec<_>>())
        .count();
    assert_eq!(strings, 24);
    assert_eq!(v2.state.record_count("String").unwrap(), 12 + 1);
}
