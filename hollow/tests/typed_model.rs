//! Model-based test of sets, maps, lists and references end to end: random producer cycles
//! of typed and serde upserts and deletes over a derived type whose records hold a list of
//! scalars, a set of strings, a map, a list and a set of referenced records and an optional
//! reference. After every version a delta-following consumer, after every reverse step a
//! consumer going back, and at every version a fresh consumer (which starts from a snapshot)
//! equal a plain `BTreeMap` model record by record; and each referenced type holds exactly the
//! distinct values the roots reach (sub-records are reference-counted: nothing leaks, nothing
//! shared is dropped).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use hollow::lifecycle::CycleOutcome;
use hollow::typed::schema_for;
use hollow::{Hollow, ReadState};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[derive(Hollow, serde::Serialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Person {
    name: String,
    born: Option<i32>,
    aliases: Vec<String>,
}

#[derive(Hollow, serde::Serialize, Debug, Clone, PartialEq)]
struct Show {
    #[hollow(primary_key)]
    id: i64,
    title: String,
    episodes: Vec<i64>,
    genres: BTreeSet<String>,
    ratings: BTreeMap<String, i32>,
    cast: Vec<Person>,
    crew: BTreeSet<Person>,
    lead: Option<Person>,
}

#[derive(Debug, Clone)]
enum Op {
    /// Upsert, through `upsert_serde` when the flag is set, else `upsert_typed`.
    Upsert(Box<Show>, bool),
    Delete(i64),
}

const WORDS: [&str; 6] = ["drama", "comedy", "", "noir", "été", "sci-fi"];

fn word() -> impl Strategy<Value = String> {
    (0..WORDS.len()).prop_map(|i| WORDS[i].to_string())
}

fn person() -> impl Strategy<Value = Person> {
    (
        word(),
        proptest::option::of(-2..3i32),
        proptest::collection::vec(word(), 0..2),
    )
        .prop_map(|(name, born, aliases)| Person {
            name,
            born,
            aliases,
        })
}

fn show() -> impl Strategy<Value = Show> {
    (
        0..16i64,
        word(),
        proptest::collection::vec(-3..4i64, 0..3),
        proptest::collection::btree_set(word(), 0..3),
        proptest::collection::btree_map(word(), -2..3i32, 0..3),
        proptest::collection::vec(person(), 0..3),
        proptest::collection::btree_set(person(), 0..3),
        proptest::option::of(person()),
    )
        .prop_map(
            |(id, title, episodes, genres, ratings, cast, crew, lead)| Show {
                id,
                title,
                episodes,
                genres,
                ratings,
                cast,
                crew,
                lead,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (show(), any::<bool>()).prop_map(|(s, serde)| Op::Upsert(Box::new(s), serde)),
        1 => (0..16i64).prop_map(Op::Delete),
    ]
}

type Model = BTreeMap<i64, Show>;

fn person_of(p: PersonView<'_>) -> Person {
    Person {
        name: p.name().to_string(),
        born: p.born(),
        aliases: p.aliases().map(str::to_string).collect(),
    }
}

/// The state's shows, read through typed views; and the check that every referenced type
/// holds exactly what the shows reach.
fn contents(state: &ReadState) -> Model {
    let table = state.typed::<Show>().unwrap();
    let mut out = Model::new();
    for v in table.iter() {
        let show = Show {
            id: v.id(),
            title: v.title().to_string(),
            episodes: v.episodes().collect(),
            genres: v.genres().map(str::to_string).collect(),
            ratings: v.ratings().map(|(k, x)| (k.to_string(), x)).collect(),
            cast: v.cast().map(person_of).collect(),
            crew: v.crew().map(person_of).collect(),
            lead: v.lead().map(person_of),
        };
        assert!(out.insert(show.id, show).is_none(), "duplicate key");
    }
    let shows = out.values();
    let distinct = |f: &dyn Fn(&Show) -> Vec<String>| -> u64 {
        shows.clone().flat_map(f).collect::<BTreeSet<_>>().len() as u64
    };
    let people = |s: &Show| -> Vec<Person> {
        s.cast
            .iter()
            .chain(&s.crew)
            .chain(&s.lead)
            .cloned()
            .collect()
    };
    let person_strings =
        |s: &Show| -> Vec<String> { people(s).iter().map(|p| format!("{p:?}")).collect() };
    let expected: [(&str, u64); 11] = [
        ("Show", out.len() as u64),
        ("Person", distinct(&person_strings)),
        (
            "ListOfString",
            distinct(&|s| {
                people(s)
                    .iter()
                    .map(|p| format!("{:?}", p.aliases))
                    .collect()
            }),
        ),
        (
            "ListOfLong",
            distinct(&|s| vec![format!("{:?}", s.episodes)]),
        ),
        (
            "SetOfString",
            distinct(&|s| vec![format!("{:?}", s.genres)]),
        ),
        (
            "MapOfStringToInteger",
            distinct(&|s| vec![format!("{:?}", s.ratings)]),
        ),
        ("ListOfPerson", distinct(&|s| vec![format!("{:?}", s.cast)])),
        ("SetOfPerson", distinct(&|s| vec![format!("{:?}", s.crew)])),
        (
            "String",
            distinct(&|s| {
                let aliases = people(s).into_iter().flat_map(|p| p.aliases);
                s.genres
                    .iter()
                    .chain(s.ratings.keys())
                    .cloned()
                    .chain(aliases)
                    .collect()
            }),
        ),
        (
            "Integer",
            distinct(&|s| s.ratings.values().map(|x| x.to_string()).collect()),
        ),
        (
            "Long",
            distinct(&|s| s.episodes.iter().map(|x| x.to_string()).collect()),
        ),
    ];
    for (type_name, n) in expected {
        assert_eq!(
            state.record_count(type_name).unwrap(),
            n,
            "records of {type_name} (the distinct values the shows reach)"
        );
    }
    out
}

fn run(cycles: Vec<Vec<Op>>) {
    let rig = common::Rig::new();
    let mut producer = rig.producer(schema_for::<Show>().unwrap(), 3);
    let mut model = Model::new();
    let mut versions: BTreeMap<u64, Model> = BTreeMap::new();
    for (i, ops) in cycles.into_iter().enumerate() {
        let before = model.clone();
        let outcome = producer
            .cycle(|c| {
                for op in &ops {
                    match op {
                        Op::Upsert(s, true) => {
                            c.upsert_serde(&**s)?;
                            model.insert(s.id, (**s).clone());
                        }
                        Op::Upsert(s, false) => {
                            c.upsert_typed(&**s)?;
                            model.insert(s.id, (**s).clone());
                        }
                        Op::Delete(id) => {
                            assert_eq!(c.delete_typed::<Show>(*id)?, model.remove(id).is_some());
                        }
                    }
                }
                Ok(())
            })
            .unwrap();
        match outcome {
            CycleOutcome::Unchanged => assert_eq!(model, before, "cycle {i}: unchanged"),
            CycleOutcome::Published { version, .. } => {
                assert_ne!(model, before, "cycle {i}: published without a change");
                versions.insert(version, model.clone());
                for c in rig.consumers() {
                    c.refresh().unwrap();
                    let cur = c.current().unwrap();
                    assert_eq!(cur.version, version);
                    assert_eq!(contents(&cur.state), model, "cycle {i} version {version}");
                }
            }
            CycleOutcome::ValidationFailed { validator, reason } => panic!("{validator}: {reason}"),
        }
    }
    rig.check_history(&versions, contents);
}

#[test]
fn sets_maps_lists_and_references_match_a_model() {
    let mut runner = TestRunner::new(Config {
        cases: 32,
        ..Config::default()
    });
    runner
        .run(
            &proptest::collection::vec(proptest::collection::vec(op(), 0..7), 1..12),
            |cycles| {
                run(cycles);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn typed_and_serde_upserts_write_the_same_records() {
    // the same show through both paths: the second upsert changes nothing
    let rig = common::Rig::new();
    let mut producer = rig.producer(schema_for::<Show>().unwrap(), 10);
    let show = Show {
        id: 1,
        title: "Dark".into(),
        episodes: vec![1, 2, 2],
        genres: ["noir".to_string(), "drama".to_string()].into(),
        ratings: [("imdb".to_string(), 8)].into(),
        cast: vec![
            Person {
                name: "Ann".into(),
                born: None,
                aliases: vec!["A.".into()],
            },
            Person {
                name: "Ann".into(),
                born: Some(1),
                aliases: vec![],
            },
        ],
        crew: BTreeSet::new(),
        lead: None,
    };
    producer
        .cycle(|c| {
            assert!(c.upsert_typed(&show)?);
            assert!(!c.upsert_serde(&show)?);
            let mut other = show.clone();
            other.lead = other.cast.pop();
            assert!(c.upsert_serde(&other)?);
            assert!(c.upsert_typed(&show)?);
            Ok(())
        })
        .unwrap();
    let state = producer.state();
    // the dropped version's lead was cascaded away; both Ann records stay (the cast holds them)
    assert_eq!(state.len("Person").unwrap(), 2);
    assert_eq!(state.len("ListOfPerson").unwrap(), 1);
    // a value that is not a struct is refused with a clear error
    let e = producer
        .cycle(|c| c.upsert_serde(&5i64).map(|_| ()))
        .unwrap_err();
    assert!(e.to_string().contains("struct"), "{e}");
}
