//! serde integration: schemas derived from Rust types, values added to a write state, written
//! to a snapshot and read back (heap and mapped) equal to the originals.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::serde::{schema_for, SchemaBuilder};
use hollow::{
    DataError, FieldKind, OpenOptions, Primitive, ReadState, SchemaSet, TypeSchema, Value,
    WriteState,
};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    Feature,
    Short,
    #[serde(rename = "tv-series")]
    Series,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Person {
    name: String,
    born: Option<i64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Movie {
    id: i64,
    title: String,
    year: Option<i32>,
    tags: Vec<String>,
    cast: BTreeSet<String>,
    ratings: BTreeMap<String, i64>,
    director: Option<Person>,
    kind: Kind,
    score: f64,
    weight: f32,
    data: Vec<u8>,
    runtime: Option<u32>,
    aliases: Option<Vec<String>>,
    initial: char,
}

fn movie(id: i64) -> Movie {
    Movie {
        id,
        title: format!("Movie {id}"),
        year: Some(1979),
        tags: vec!["space".into(), "horror".into(), "space".into()],
        cast: ["Sigourney Weaver".to_string(), "Tom Skerritt".to_string()].into(),
        ratings: [("imdb".to_string(), 85), ("rt".to_string(), 98)].into(),
        director: Some(Person {
            name: "Ridley Scott".into(),
            born: Some(1937),
        }),
        kind: Kind::Series,
        score: 8.5,
        weight: 0.25,
        data: vec![0, 1, 2, 255],
        runtime: Some(117),
        aliases: None,
        initial: 'é',
    }
}

/// Equality with floats compared by bit pattern (NaN equals the same NaN).
fn assert_same(a: &Movie, b: &Movie) {
    assert_eq!(a.score.to_bits(), b.score.to_bits(), "score of {}", a.id);
    assert_eq!(a.weight.to_bits(), b.weight.to_bits(), "weight of {}", a.id);
    let strip = |m: &Movie| Movie {
        score: 0.0,
        weight: 0.0,
        ..m.clone()
    };
    assert_eq!(strip(a), strip(b));
}

fn snapshot(state: &WriteState) -> ReadState {
    let (blob, _) = write_snapshot(state, &SnapshotOptions::default()).expect("snapshot");
    ReadState::from_vec(blob).expect("open")
}

fn kind_of(schema: &SchemaSet, ty: &str, field: &str) -> FieldKind {
    let o = schema.object(ty).expect("object type");
    o.fields[o.field_index(field).expect("field")].kind.clone()
}

fn reference(name: &str) -> FieldKind {
    FieldKind::Reference(name.to_string())
}

#[test]
fn schema_of_movie() {
    let schema = schema_for::<Movie>().unwrap();
    let names: Vec<&str> = schema.types().iter().map(|t| t.name()).collect();
    assert_eq!(names[0], "Movie", "root type first: {names:?}");
    let movie = schema.object("Movie").unwrap();
    let fields: Vec<(&str, FieldKind)> = movie
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.kind.clone()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("id", FieldKind::Primitive(Primitive::I64)),
            ("title", FieldKind::Primitive(Primitive::String)),
            ("year", FieldKind::Primitive(Primitive::I32)),
            ("tags", reference("ListOfString")),
            ("cast", reference("SetOfString")),
            ("ratings", reference("MapOfStringToLong")),
            ("director", reference("Person")),
            ("kind", FieldKind::Primitive(Primitive::String)),
            ("score", FieldKind::Primitive(Primitive::F64)),
            ("weight", FieldKind::Primitive(Primitive::F32)),
            ("data", FieldKind::Primitive(Primitive::Bytes)),
            ("runtime", FieldKind::Primitive(Primitive::I64)),
            ("aliases", reference("ListOfString")),
            ("initial", FieldKind::Primitive(Primitive::String)),
        ]
    );
    assert_eq!(
        kind_of(&schema, "Person", "name"),
        FieldKind::Primitive(Primitive::String)
    );
    assert_eq!(
        kind_of(&schema, "Person", "born"),
        FieldKind::Primitive(Primitive::I64)
    );
    assert_eq!(
        schema.get("ListOfString"),
        Some(&TypeSchema::List {
            name: "ListOfString".into(),
            element: "String".into()
        })
    );
    assert_eq!(
        schema.get("SetOfString"),
        Some(&TypeSchema::Set {
            name: "SetOfString".into(),
            element: "String".into()
        })
    );
    assert_eq!(
        schema.get("MapOfStringToLong"),
        Some(&TypeSchema::Map {
            name: "MapOfStringToLong".into(),
            key: "String".into(),
            value: "Long".into()
        })
    );
    assert_eq!(
        kind_of(&schema, "String", "value"),
        FieldKind::Primitive(Primitive::String)
    );
    assert_eq!(
        kind_of(&schema, "Long", "value"),
        FieldKind::Primitive(Primitive::I64)
    );
    assert_eq!(schema.types().len(), 7, "{names:?}");
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
struct Containers {
    hash_set: HashSet<i64>,
    btree_set: BTreeSet<String>,
    list: Vec<i32>,
    small: Vec<i16>,
    hash_map: HashMap<String, Vec<String>>,
    blobs: Vec<Vec<u8>>,
    byte_set: BTreeSet<u8>,
    nested: Vec<BTreeSet<bool>>,
    by_kind: BTreeMap<Kind, f32>,
    people: HashSet<Person>,
    crew: Vec<Person>,
    doubles: Option<Vec<f64>>,
    kinds: Vec<Kind>,
    by_id: HashMap<i64, Person>,
    letters: BTreeSet<char>,
}

#[test]
fn lists_sets_and_maps_are_told_apart() {
    let schema = schema_for::<Containers>().unwrap();
    let k = |f| kind_of(&schema, "Containers", f);
    assert_eq!(k("hash_set"), reference("SetOfLong"));
    assert_eq!(k("btree_set"), reference("SetOfString"));
    assert_eq!(k("list"), reference("ListOfInteger"));
    assert_eq!(k("small"), reference("ListOfInteger"));
    assert_eq!(k("hash_map"), reference("MapOfStringToListOfString"));
    assert_eq!(k("blobs"), reference("ListOfBytes"));
    assert_eq!(k("byte_set"), reference("SetOfInteger"));
    assert_eq!(k("nested"), reference("ListOfSetOfBoolean"));
    assert_eq!(k("by_kind"), reference("MapOfStringToFloat"));
    assert_eq!(k("people"), reference("SetOfPerson"));
    assert_eq!(k("crew"), reference("ListOfPerson"));
    assert_eq!(k("doubles"), reference("ListOfDouble"));
    assert_eq!(k("kinds"), reference("ListOfString"));
    assert_eq!(k("by_id"), reference("MapOfLongToPerson"));
    assert_eq!(k("letters"), reference("SetOfString"));
    assert_eq!(
        schema.get("SetOfBoolean"),
        Some(&TypeSchema::Set {
            name: "SetOfBoolean".into(),
            element: "Boolean".into()
        })
    );
    assert_eq!(
        kind_of(&schema, "Bytes", "value"),
        FieldKind::Primitive(Primitive::Bytes)
    );
    assert_eq!(
        kind_of(&schema, "Integer", "value"),
        FieldKind::Primitive(Primitive::I32)
    );
    assert_eq!(
        kind_of(&schema, "Double", "value"),
        FieldKind::Primitive(Primitive::F64)
    );

    let mut state = WriteState::new(schema);
    let full = Containers {
        hash_set: [i64::MIN, 0, i64::MAX].into(),
        btree_set: ["a".to_string(), String::new()].into(),
        list: vec![3, 1, 3, i32::MIN],
        small: vec![-1, i16::MAX],
        hash_map: [
            ("k".to_string(), vec!["v".to_string(), "v".to_string()]),
            (String::new(), vec![]),
        ]
        .into(),
        blobs: vec![vec![], vec![1, 2, 3], vec![1, 2, 3]],
        byte_set: [0u8, 7, 255].into(),
        nested: vec![[true].into(), BTreeSet::new(), [false, true].into()],
        by_kind: [(Kind::Feature, 1.5), (Kind::Series, f32::NEG_INFINITY)].into(),
        people: [
            Person {
                name: "A".into(),
                born: None,
            },
            Person {
                name: "B".into(),
                born: Some(-5),
            },
        ]
        .into(),
        crew: vec![
            Person {
                name: "A".into(),
                born: None,
            },
            Person {
                name: "A".into(),
                born: None,
            },
        ],
        doubles: Some(vec![0.5, -0.0]),
        kinds: vec![Kind::Short, Kind::Series, Kind::Short],
        by_id: [
            (
                7,
                Person {
                    name: "A".into(),
                    born: None,
                },
            ),
            (
                i64::MIN,
                Person {
                    name: String::new(),
                    born: Some(0),
                },
            ),
        ]
        .into(),
        letters: ['a', '€', '𝄞'].into(),
    };
    let a = state.add(&full).unwrap();
    let b = state.add(&Containers::default()).unwrap();
    let read = snapshot(&state);
    assert_eq!(read.get::<Containers>("Containers", a).unwrap(), full);
    assert_eq!(
        read.get::<Containers>("Containers", b).unwrap(),
        Containers::default()
    );
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Node {
    name: String,
    children: Vec<Node>,
    parent: Option<Box<Node>>,
    index: BTreeMap<String, Node>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Tree {
    root: Node,
    other: Option<Node>,
}

#[test]
fn recursive_types_terminate_and_round_trip() {
    let schema = schema_for::<Tree>().unwrap();
    assert_eq!(kind_of(&schema, "Tree", "root"), reference("Node"));
    assert_eq!(
        kind_of(&schema, "Node", "children"),
        reference("ListOfNode")
    );
    assert_eq!(kind_of(&schema, "Node", "parent"), reference("Node"));
    assert_eq!(
        kind_of(&schema, "Node", "index"),
        reference("MapOfStringToNode")
    );

    let leaf = |n: &str| Node {
        name: n.into(),
        children: vec![],
        parent: None,
        index: BTreeMap::new(),
    };
    let mid = Node {
        name: "mid".into(),
        children: vec![leaf("a"), leaf("b")],
        parent: Some(Box::new(leaf("up"))),
        index: [("x".to_string(), leaf("a"))].into(),
    };
    let tree = Tree {
        root: Node {
            name: "root".into(),
            children: vec![mid.clone(), leaf("c")],
            parent: None,
            index: [("m".to_string(), mid)].into(),
        },
        other: None,
    };
    let mut state = WriteState::new(schema);
    let o = state.add(&tree).unwrap();
    let read = snapshot(&state);
    assert_eq!(read.get::<Tree>("Tree", o).unwrap(), tree);
}

#[derive(Serialize, Deserialize)]
enum WithData {
    Plain,
    Data(i32),
}

#[derive(Serialize, Deserialize)]
struct HasDataEnum {
    e: WithData,
}

#[derive(Serialize, Deserialize)]
enum DataFirst {
    Data(i32),
    Plain,
}

#[derive(Serialize, Deserialize)]
struct HasDataFirst {
    list: Vec<DataFirst>,
}

#[derive(Serialize, Deserialize)]
struct HasTuple {
    pair: (i32, String),
}

#[derive(Serialize, Deserialize)]
struct Looping {
    next: Box<Looping>,
}

#[derive(Serialize, Deserialize)]
struct HasJson {
    v: serde_json::Value,
}

#[test]
fn unsupported_types_are_errors() {
    for (what, r) in [
        ("enum with data", schema_for::<HasDataEnum>().map(|_| ())),
        (
            "enum with data first",
            schema_for::<HasDataFirst>().map(|_| ()),
        ),
        ("tuple", schema_for::<HasTuple>().map(|_| ())),
        ("endless recursion", schema_for::<Looping>().map(|_| ())),
        ("self-describing", schema_for::<HasJson>().map(|_| ())),
        ("non-struct root", schema_for::<Vec<Movie>>().map(|_| ())),
    ] {
        match r {
            Err(DataError::Serde(msg)) => assert!(!msg.is_empty(), "{what}"),
            other => panic!("{what}: expected a serde error, got {other:?}"),
        }
    }
    let err = schema_for::<HasDataEnum>().unwrap_err().to_string();
    assert!(
        err.contains("HasDataEnum.e") && err.contains("Data"),
        "{err}"
    );
}

#[test]
fn builder_merges_types_and_sets_keys_and_compression() {
    #[derive(Serialize, Deserialize)]
    struct Localization {
        movie: i64,
        synopsis: String,
    }
    let schema = SchemaBuilder::new()
        .add::<Movie>()
        .unwrap()
        .add::<Person>()
        .unwrap()
        .add::<Localization>()
        .unwrap()
        .primary_key("Movie", ["id"])
        .primary_key("Localization", ["movie"])
        .compress("Localization", "synopsis")
        .compress("Movie", "title")
        .build()
        .unwrap();
    assert_eq!(
        schema.object("Movie").unwrap().primary_key,
        Some(vec!["id".to_string()])
    );
    assert_eq!(
        schema
            .types()
            .iter()
            .filter(|t| t.name() == "Person")
            .count(),
        1
    );
    let f = &schema.object("Localization").unwrap().fields[1];
    assert_eq!(f.compression, hollow::Compression::Fsst);

    assert!(SchemaBuilder::new()
        .add::<Movie>()
        .unwrap()
        .compress("Movie", "nope")
        .build()
        .is_err());
    assert!(SchemaBuilder::new()
        .add::<Movie>()
        .unwrap()
        .primary_key("Nope", ["id"])
        .build()
        .is_err());

    // compressed strings (decoded into owned strings) read back equal
    let mut state = WriteState::new(schema);
    let movies: Vec<Movie> = (0..50).map(movie).collect();
    let ords: Vec<u32> = movies.iter().map(|m| state.add(m).unwrap()).collect();
    let loc = Localization {
        movie: 7,
        synopsis: "A crew meets a creature. ".repeat(20),
    };
    let l = state.add(&loc).unwrap();
    let read = snapshot(&state);
    for (m, o) in movies.iter().zip(ords) {
        assert_same(&read.get::<Movie>("Movie", o).unwrap(), m);
    }
    #[derive(Deserialize, PartialEq, Debug)]
    struct LocalizationOut {
        movie: i64,
        synopsis: String,
    }
    assert_eq!(
        read.get::<LocalizationOut>("Localization", l).unwrap(),
        LocalizationOut {
            movie: 7,
            synopsis: loc.synopsis
        }
    );
}

#[test]
fn dedup_shares_records() {
    let schema = schema_for::<Movie>().unwrap();
    let mut state = WriteState::new(schema);
    let a = movie(1);
    let first = state.add(&a).unwrap();
    assert_eq!(
        state.add(&a).unwrap(),
        first,
        "the same movie twice is one record"
    );
    assert_eq!(state.len("Movie").unwrap(), 1);

    let mut b = movie(2);
    b.tags = vec!["horror".into(), "drama".into()];
    b.cast = BTreeSet::new();
    b.ratings = BTreeMap::new();
    let second = state.add(&b).unwrap();
    assert_ne!(first, second);
    assert_eq!(
        state.len("Person").unwrap(),
        1,
        "both movies share their director"
    );
    // strings: space, horror, Sigourney Weaver, Tom Skerritt, imdb, rt, drama
    assert_eq!(state.len("String").unwrap(), 7);

    let read = snapshot(&state);
    let movies = read.object("Movie").unwrap();
    let director = movies.reference("director").unwrap();
    assert_eq!(director.get(first), director.get(second));
    let tags = movies.reference("tags").unwrap();
    let lists = read.list("ListOfString").unwrap();
    let ta: Vec<u32> = lists.elements(tags.get(first).unwrap()).unwrap().collect();
    let tb: Vec<u32> = lists.elements(tags.get(second).unwrap()).unwrap().collect();
    assert_eq!(ta.len(), 3);
    assert_eq!(ta[0], ta[2], "repeated tags share a String record");
    assert_eq!(
        ta[1], tb[0],
        "\"horror\" is one String record across movies"
    );
    let strings = read.object("String").unwrap();
    assert_eq!(
        strings.get_by_name(tb[1], "value").unwrap(),
        Value::str("drama")
    );
}

#[test]
fn mapped_mode_reads_the_same() {
    let schema = schema_for::<Movie>().unwrap();
    let mut state = WriteState::new(schema);
    let movies: Vec<Movie> = (0..100).map(movie).collect();
    let ords: Vec<u32> = movies.iter().map(|m| state.add(m).unwrap()).collect();
    let (blob, _) = write_snapshot(&state, &SnapshotOptions::default()).unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &blob).unwrap();
    let read = ReadState::open(file.path(), OpenOptions::mapped()).unwrap();
    assert_eq!(read.mode(), hollow::MemoryMode::Mapped);
    for (m, o) in movies.iter().zip(&ords) {
        assert_same(&read.get::<Movie>("Movie", *o).unwrap(), m);
    }
    let all: Vec<(u32, Movie)> = read
        .iter::<Movie>("Movie")
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), movies.len());
    for (o, m) in &all {
        let i = ords.iter().position(|x| x == o).unwrap();
        assert_same(m, &movies[i]);
    }
}

#[test]
fn read_errors_are_typed() {
    let schema = schema_for::<Movie>().unwrap();
    let mut state = WriteState::new(schema);
    let o = state.add(&movie(1)).unwrap();
    let read = snapshot(&state);
    assert!(matches!(
        read.get::<Movie>("Movie", o + 1),
        Err(DataError::NoSuchOrdinal { .. })
    ));
    assert!(matches!(
        read.get::<Movie>("Nope", 0),
        Err(DataError::NoSuchType(_))
    ));
    assert!(matches!(
        read.iter::<Movie>("Nope").next(),
        Some(Err(DataError::NoSuchType(_)))
    ));
    // a record that does not fit the Rust type
    assert!(matches!(
        read.get::<Person>("Movie", o),
        Err(DataError::Serde(_))
    ));
    // primitives come out of wrapper records, and in partial structs
    let s = read.object("String").unwrap().ordinals().next().unwrap();
    let _: String = read.get("String", s).unwrap();
    #[derive(Deserialize)]
    struct Partial {
        title: String,
        kind: Kind,
    }
    let p: Partial = read.get("Movie", o).unwrap();
    assert_eq!((p.title.as_str(), p.kind), ("Movie 1", Kind::Series));
}

#[test]
fn write_errors_are_typed() {
    let schema = schema_for::<Person>().unwrap();
    let mut state = WriteState::new(schema);
    #[derive(Serialize)]
    #[serde(rename = "Person")]
    struct Wider {
        name: String,
        shoe_size: i32,
    }
    let err = state
        .add(&Wider {
            name: "x".into(),
            shoe_size: 3,
        })
        .unwrap_err();
    assert!(
        matches!(&err, DataError::Serde(m) if m.contains("shoe_size")),
        "{err}"
    );
    #[derive(Serialize)]
    #[serde(rename = "Person")]
    struct Narrower {
        name: String,
    }
    let o = state.add(&Narrower { name: "n".into() }).unwrap();
    #[derive(Serialize)]
    #[serde(rename = "Person")]
    struct Huge {
        born: u64,
    }
    assert!(matches!(
        state.add(&Huge { born: u64::MAX }),
        Err(DataError::Serde(_))
    ));
    assert!(matches!(state.add(&5i64), Err(DataError::Serde(_))));
    assert!(matches!(
        state.add(&movie(1)),
        Err(DataError::NoSuchType(_))
    ));
    let read = snapshot(&state);
    assert_eq!(
        read.get::<Person>("Person", o).unwrap(),
        Person {
            name: "n".into(),
            born: None
        }
    );
}

#[test]
fn add_as_wraps_primitives_and_collections() {
    let schema = schema_for::<Movie>().unwrap();
    let mut state = WriteState::new(schema);
    let s = state.add_as("String", "hello").unwrap();
    assert_eq!(state.add_as("String", &"hello".to_string()).unwrap(), s);
    let l = state
        .add_as("ListOfString", &vec!["hello", "world"])
        .unwrap();
    let n = state.add_as("Long", &42u32).unwrap();
    let read = snapshot(&state);
    assert_eq!(read.get::<String>("String", s).unwrap(), "hello");
    assert_eq!(
        read.get::<Vec<String>>("ListOfString", l).unwrap(),
        ["hello", "world"]
    );
    assert_eq!(read.get::<u8>("Long", n).unwrap(), 42);
    assert_eq!(
        read.get::<serde_json::Value>("ListOfString", l).unwrap(),
        serde_json::json!(["hello", "world"])
    );
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,12}",
        1 => Just(String::new()),
        1 => "[a-c]{0,2}",
        1 => (any::<char>(), 25_000usize..25_100).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

fn long() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0i64),
        Just(-1i64),
        any::<i64>()
    ]
}

fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::from_bits(0x7ff8_0000_dead_beef)),
        Just(-0.0f64),
        Just(f64::NEG_INFINITY),
        any::<f64>()
    ]
}

fn person() -> impl Strategy<Value = Person> {
    (text(), proptest::option::of(long())).prop_map(|(name, born)| Person { name, born })
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Feature), Just(Kind::Short), Just(Kind::Series)]
}

prop_compose! {
    fn any_movie()(
        id in long(),
        title in text(),
        year in proptest::option::of(any::<i32>()),
        tags in proptest::collection::vec(text(), 0..4),
        cast in proptest::collection::btree_set(text(), 0..4),
        ratings in proptest::collection::btree_map(text(), long(), 0..4),
        director in proptest::option::of(person()),
        kind in kind(),
        score in double(),
        weight in prop_oneof![Just(f32::NAN), any::<f32>()],
        data in proptest::collection::vec(any::<u8>(), 0..40),
        runtime in proptest::option::of(any::<u32>()),
        aliases in proptest::option::of(proptest::collection::vec(text(), 0..3)),
        initial in any::<char>(),
    ) -> Movie {
        Movie { id, title, year, tags, cast, ratings, director, kind, score, weight, data, runtime, aliases, initial }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn movies_round_trip(movies in proptest::collection::vec(any_movie(), 1..6)) {
        let schema = schema_for::<Movie>().unwrap();
        let mut state = WriteState::new(schema);
        let ords: Vec<u32> = movies.iter().map(|m| state.add(m).unwrap()).collect();
        // adding again changes nothing
        for (m, o) in movies.iter().zip(&ords) {
            prop_assert_eq!(state.add(m).unwrap(), *o);
        }
        let read = snapshot(&state);
        for (m, o) in movies.iter().zip(&ords) {
            assert_same(&read.get::<Movie>("Movie", *o).unwrap(), m);
        }
        let people: Vec<Person> = movies.iter().filter_map(|m| m.director.clone()).collect();
        prop_assert_eq!(read.record_count("Person").unwrap(), people.iter().collect::<BTreeSet<_>>().len() as u64);
    }
}

/// Throughput smoke test: `cargo test --release -p hollow --no-default-features --test
/// serde_roundtrip -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let n = 200_000;
    let movies: Vec<Movie> = (0..n)
        .map(|i| Movie {
            tags: vec![format!("t{}", i % 1000), "x".into()],
            director: Some(Person {
                name: format!("p{}", i % 5000),
                born: None,
            }),
            ..movie(i)
        })
        .collect();
    let schema = schema_for::<Movie>().unwrap();
    let mut state = WriteState::new(schema);
    let t = std::time::Instant::now();
    let ords: Vec<u32> = movies.iter().map(|m| state.add(m).unwrap()).collect();
    let add = t.elapsed();
    let read = snapshot(&state);
    let t = std::time::Instant::now();
    let mut sum = 0i64;
    for o in &ords {
        sum = sum.wrapping_add(read.get::<Movie>("Movie", *o).unwrap().id);
    }
    let get = t.elapsed();
    let t = std::time::Instant::now();
    let mut reader = read.reader();
    let mut sum2 = 0i64;
    for o in &ords {
        sum2 = sum2.wrapping_add(reader.get::<Movie>("Movie", *o).unwrap().id);
    }
    let reader_get = t.elapsed();
    assert_eq!(sum, sum2);
    let t = std::time::Instant::now();
    let count = read
        .iter::<Movie>("Movie")
        .map(|r| r.unwrap().1.id)
        .fold(0i64, i64::wrapping_add);
    let iter = t.elapsed();
    assert_eq!(sum, count);
    let per = |d: std::time::Duration| d / n as u32;
    println!(
        "per movie: add {:?}, get {:?}, reader.get {:?}, iter {:?}",
        per(add),
        per(get),
        per(reader_get),
        per(iter)
    );
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Link {
    label: String,
    next: Option<Box<Link>>,
}

#[test]
fn reference_cycles_are_errors_not_overflows() {
    let mut state = WriteState::new(schema_for::<Link>().unwrap());
    let a = state
        .add_object("Link", &[Value::str("a"), Value::Null])
        .unwrap();
    let b = state
        .add_object("Link", &[Value::str("b"), Value::Ref(a)])
        .unwrap();
    assert!(state.remove("Link", a).unwrap());
    // the freed ordinal is reused: a -> b -> a
    let c = state
        .add_object("Link", &[Value::str("c"), Value::Ref(b)])
        .unwrap();
    assert_eq!(c, a);
    let read = snapshot(&state);
    match read.get::<Link>("Link", c) {
        Err(DataError::Serde(m)) => assert!(m.contains("deeper than"), "{m}"),
        other => panic!("expected a depth error, got {other:?}"),
    }
    // a well-formed chain reads back
    let chain = Link {
        label: "1".into(),
        next: Some(Box::new(Link {
            label: "2".into(),
            next: None,
        })),
    };
    let mut state = WriteState::new(schema_for::<Link>().unwrap());
    let o = state.add(&chain).unwrap();
    assert_eq!(snapshot(&state).get::<Link>("Link", o).unwrap(), chain);
}
