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
