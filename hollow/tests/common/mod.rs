//! Shared test helpers: a schema with every kind of field and type, a plain model of its
//! records, and a canonical dump of a read state.
#![allow(dead_code)]

pub mod golden;
pub mod items;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hollow::{
    FieldKind, ObjectSchema, Primitive, ReadState, SchemaSet, TypeSchema, Value, WriteState,
};
use proptest::prelude::*;

pub fn schema() -> SchemaSet {
    SchemaSet::new(vec![
        TypeSchema::Object(
            ObjectSchema::new("Thing")
                .field("b", FieldKind::Primitive(Primitive::Bool))
                .field("i", FieldKind::Primitive(Primitive::I32))
                .field("l", FieldKind::Primitive(Primitive::I64))
                .field("f", FieldKind::Primitive(Primitive::F32))
                .field("d", FieldKind::Primitive(Primitive::F64))
                .field("s", FieldKind::Primitive(Primitive::String))
                .compressed_string("z")
                .field("by", FieldKind::Primitive(Primitive::Bytes))
                .field("person", FieldKind::Reference("Person".into()))
                .field("tags", FieldKind::Reference("ListOfTag".into()))
                .field("tagset", FieldKind::Reference("SetOfTag".into()))
                .field("tagmap", FieldKind::Reference("MapOfTagToPerson".into()))
                .primary_key(["l"]),
        ),
        TypeSchema::Object(
            ObjectSchema::new("Person").field("name", FieldKind::Primitive(Primitive::String)),
        ),
        TypeSchema::Object(
            ObjectSchema::new("Tag").field("value", FieldKind::Primitive(Primitive::String)),
        ),
        TypeSchema::List {
            name: "ListOfTag".into(),
            element: "Tag".into(),
        },
        TypeSchema::Set {
            name: "SetOfTag".into(),
            element: "Tag".into(),
        },
        TypeSchema::Map {
            name: "MapOfTagToPerson".into(),
            key: "Tag".into(),
            value: "Person".into(),
        },
    ])
    .unwrap()
}

/// A Thing as plain Rust values (the model).
#[derive(Debug, Clone, PartialEq)]
pub struct Thing {
    pub b: Option<bool>,
    pub i: Option<i32>,
    pub l: Option<i64>,
    pub f: Option<u32>, // f32 bits
    pub d: Option<u64>, // f64 bits
    pub s: Option<String>,
    pub z: Option<String>,
    pub by: Option<Vec<u8>>,
    pub person: Option<String>,
    pub tags: Option<Vec<String>>,
    pub tagset: Option<Vec<String>>, // sorted, deduplicated
    pub tagmap: Option<BTreeMap<String, String>>, // tag -> person name
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-c]{0,3}",
        2 => "\\PC{0,40}",
        1 => Just(String::new()),
        1 => Just(" \t\u{3000}".to_string()),
        1 => (0usize..3).prop_map(|k| "ü€𝄞x".repeat(1 + k * 9000)),
    ]
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    prop_oneof![1 => Just(None), 4 => s.prop_map(Some)]
}

pub fn thing() -> impl Strategy<Value = Thing> {
    let ints = prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0i64),
        Just(-1),
        -5i64..5,
        any::<i64>()
    ];
    let i32s = prop_oneof![Just(i32::MIN), Just(i32::MAX), -3i32..3, any::<i32>()];
    let f32s = prop_oneof![
        Just(f32::NAN.to_bits()),
        Just((-0.0f32).to_bits()),
        Just(f32::INFINITY.to_bits()),
        any::<u32>()
    ];
    let f64s = prop_oneof![
        Just(f64::NAN.to_bits()),
        Just(f64::MIN.to_bits()),
        any::<u64>()
    ];
    let small_text = "[a-d]{0,2}";
    (
        (
            opt(any::<bool>()),
            opt(i32s),
            opt(ints),
            opt(f32s),
            opt(f64s),
            opt(text()),
            opt(text()),
            opt(proptest::collection::vec(any::<u8>(), 0..20)),
        ),
        (
            opt(small_text),
            opt(proptest::collection::vec("[a-e]{0,1}", 0..6)),
            opt(proptest::collection::btree_set("[a-f]{0,1}", 0..6)
                .prop_map(|s| s.into_iter().collect::<Vec<_>>())),
            opt(proptest::collection::btree_map("[a-f]{0,1}", "[x-z]", 0..5)),
        ),
    )
        .prop_map(
            |((b, i, l, f, d, s, z, by), (person, tags, tagset, tagmap))| Thing {
                b,
                i,
                l,
                f,
                d,
                s,
                z,
                by,
                person,
                tags,
                tagset,
                tagmap,
            },
        )
}

fn tag(ws: &mut WriteState, t: &str) -> u32 {
    ws.add_object("Tag", &[Value::str(t)]).unwrap()
}
fn person(ws: &mut WriteState, p: &str) -> u32 {
    ws.add_object("Person", &[Value::str(p)]).unwrap()
}

/// Adds a Thing (and its sub-records) to a write state.
pub fn add(ws: &mut WriteState, t: &Thing) -> u32 {
    let person_v = t
        .person
        .as_ref()
        .map_or(Value::Null, |p| Value::Ref(person(ws, p)));
    let tags_v = t.tags.as_ref().map_or(Value::Null, |ts| {
        let o: Vec<u32> = ts.iter().map(|x| tag(ws, x)).collect();
        Value::Ref(ws.add_list("ListOfTag", &o).unwrap())
    });
    let set_v = t.tagset.as_ref().map_or(Value::Null, |ts| {
        let o: Vec<u32> = ts.iter().map(|x| tag(ws, x)).collect();
        Value::Ref(ws.add_set("SetOfTag", &o).unwrap())
    });
    let map_v = t.tagmap.as_ref().map_or(Value::Null, |m| {
        let e: Vec<(u32, u32)> = m.iter().map(|(k, v)| (tag(ws, k), person(ws, v))).collect();
        Value::Ref(ws.add_map("MapOfTagToPerson", &e).unwrap())
    });
    let vals = vec![
        t.b.map_or(Value::Null, Value::Bool),
        t.i.map_or(Value::Null, Value::I32),
        t.l.map_or(Value::Null, Value::I64),
        t.f.map_or(Value::Null, |x| Value::F32(f32::from_bits(x))),
        t.d.map_or(Value::Null, |x| Value::F64(f64::from_bits(x))),
        t.s.as_deref().map_or(Value::Null, Value::str),
        t.z.as_deref().map_or(Value::Null, Value::str),
        t.by.as_ref()
            .map_or(Value::Null, |b| Value::Bytes(b.as_slice().into())),
        person_v,
        tags_v,
        set_v,
        map_v,
    ];
    ws.add_object("Thing", &vals).unwrap()
}

fn string_of(state: &ReadState, ty: &str, ord: u32) -> String {
    let v = state.object(ty).unwrap();
    assert!(
        v.is_populated(ord),
        "{ty} reference to unpopulated ordinal {ord}"
    );
    match v.get(ord, 0).unwrap() {
        Value::Str(s) => s.into_owned(),
        other => panic!("{other:?}"),
    }
}

/// Reads a Thing back from a read state, checking every reference points at a populated record.
pub fn read(state: &ReadState, ord: u32) -> Thing {
    let v = state.object("Thing").unwrap();
    let g = |f: &str| v.get_by_name(ord, f).unwrap();
    let refd = |f: &str| match g(f) {
        Value::Null => None,
        Value::Ref(r) => Some(r),
        other => panic!("{other:?}"),
    };
    Thing {
        b: match g("b") {
            Value::Bool(x) => Some(x),
            _ => None,
        },
        i: match g("i") {
            Value::I32(x) => Some(x),
            _ => None,
        },
        l: match g("l") {
            Value::I64(x) => Some(x),
            _ => None,
        },
        f: match g("f") {
            Value::F32(x) => Some(x.to_bits()),
            _ => None,
        },
        d: match g("d") {
            Value::F64(x) => Some(x.to_bits()),
            _ => None,
        },
        s: match g("s") {
            Value::Str(x) => Some(x.into_owned()),
            _ => None,
        },
        z: match g("z") {
            Value::Str(x) => Some(x.into_owned()),
            _ => None,
        },
        by: match g("by") {
            Value::Bytes(x) => Some(x.into_owned()),
            _ => None,
        },
        person: refd("person").map(|r| string_of(state, "Person", r)),
        tags: refd("tags").map(|r| {
            state
                .list("ListOfTag")
                .unwrap()
                .elements(r)
                .unwrap()
                .map(|e| string_of(state, "Tag", e))
                .collect()
        }),
        tagset: refd("tagset").map(|r| {
            let set = state.set("SetOfTag").unwrap();
            let mut v: Vec<String> = set
                .elements(r)
                .unwrap()
                .map(|e| string_of(state, "Tag", e))
                .collect();
            for e in set.elements(r).unwrap() {
                assert!(set.contains(r, e).unwrap());
            }
            v.sort();
            v
        }),
        tagmap: refd("tagmap").map(|r| {
            let map = state.map("MapOfTagToPerson").unwrap();
            let mut m = BTreeMap::new();
            for (k, val) in map.entries(r).unwrap() {
                assert_eq!(map.get(r, k).unwrap(), Some(val));
                m.insert(string_of(state, "Tag", k), string_of(state, "Person", val));
            }
            m
        }),
    }
}

/// A canonical text dump of every record of every type (for golden files and comparisons).
pub fn dump(state: &ReadState) -> String {
    let mut out = String::new();
    for (k, v) in state.header() {
        writeln!(out, "header {k}={v}").unwrap();
    }
    for ts in state.schema().types() {
        let name = ts.name();
        writeln!(
            out,
            "type {name} ({}) records={}",
            ts.kind_name(),
            state.record_count(name).unwrap()
        )
        .unwrap();
        match ts {
            TypeSchema::Object(_) => {
                let v = state.object(name).unwrap();
                for o in v.ordinals() {
                    let vals: Vec<String> = (0..v.columns().len())
                        .map(|f| format!("{:?}", v.get(o, f).unwrap()))
                        .collect();
                    writeln!(out, "  {o}: {}", vals.join(", ")).unwrap();
                }
            }
            TypeSchema::List { .. } => {
                let v = state.list(name).unwrap();
                for o in v.ordinals() {
                    writeln!(
                        out,
                        "  {o}: {:?}",
                        v.elements(o).unwrap().collect::<Vec<_>>()
                    )
                    .unwrap();
                }
            }
            TypeSchema::Set { .. } => {
                let v = state.set(name).unwrap();
                for o in v.ordinals() {
                    let mut e: Vec<u32> = v.elements(o).unwrap().collect();
                    e.sort();
                    writeln!(out, "  {o}: {e:?}").unwrap();
                }
            }
            TypeSchema::Map { .. } => {
                let v = state.map(name).unwrap();
                for o in v.ordinals() {
                    let mut e: Vec<(u32, u32)> = v.entries(o).unwrap().collect();
                    e.sort();
                    writeln!(out, "  {o}: {e:?}").unwrap();
                }
            }
        }
    }
    out
}

/// Like [`dump`] but returning errors instead of panicking (for corrupted states).
pub fn dump_safe(state: &ReadState) -> Result<String, hollow::Error> {
    let mut out = String::new();
    for ts in state.schema().types() {
        if let TypeSchema::Object(_) = ts {
            let v = state.object(ts.name())?;
            for o in v.ordinals() {
                for f in 0..v.columns().len() {
                    write!(out, "{:?}", v.get(o, f)?).unwrap();
                }
            }
        }
    }
    Ok(out)
}

/// Asserts that the column scan (`ObjectView::for_each_value`) of every field of every object
/// type yields exactly the populated ordinals, increasing, with the values `ObjectView::get`
/// returns for them.
pub fn assert_scan_equals_get(state: &ReadState) {
    for ts in state.schema().types() {
        let TypeSchema::Object(o) = ts else { continue };
        let view = state.object(&o.name).unwrap();
        let ords: Vec<u32> = view.ordinals().collect();
        for f in 0..o.fields.len() {
            let mut seen: Vec<(u32, Value<'static>)> = Vec::new();
            view.for_each_value(f, |ord, v| seen.push((ord, v.into_owned())))
                .unwrap();
            assert_eq!(
                seen.iter().map(|p| p.0).collect::<Vec<_>>(),
                ords,
                "{}.{}: scanned ordinals",
                o.name,
                o.fields[f].name
            );
            for (ord, v) in &seen {
                let got = view.get(*ord, f).unwrap();
                assert!(
                    got.same(v),
                    "{}.{} ordinal {ord}: scan {v:?}, get {got:?}",
                    o.name,
                    o.fields[f].name
                );
            }
        }
        assert!(
            view.for_each_value(o.fields.len(), |_, _| ()).is_err(),
            "a field index past the end is an error"
        );
    }
}

/// The rig of the model-based lifecycle tests: a folder store in a temporary folder, and a
/// heap and a mapped consumer following it.
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub store: std::sync::Arc<hollow::store::FolderStore>,
    pub heap: hollow::Consumer,
    pub mapped: hollow::Consumer,
}

impl Rig {
    pub fn new() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let store =
            std::sync::Arc::new(hollow::store::FolderStore::new(dir.path().join("store")).unwrap());
        let heap = hollow::Consumer::new(store.clone(), hollow::ConsumerConfig::default());
        let mapped = hollow::Consumer::new(
            store.clone(),
            hollow::ConsumerConfig {
                mode: hollow::MemoryMode::Mapped,
                cache_dir: Some(dir.path().join("cache")),
            },
        );
        Rig {
            dir,
            store,
            heap,
            mapped,
        }
    }

    /// A producer on the rig's store: a snapshot every `snapshot_every` versions, and no
    /// record-count validator (random cycles may delete most records).
    pub fn producer(&self, schema: SchemaSet, snapshot_every: u64) -> hollow::Producer {
        let config = hollow::ProducerConfig {
            snapshot_every,
            max_count_change_ratio: None,
            ..Default::default()
        };
        hollow::Producer::open(self.store.clone(), schema, config).unwrap()
    }

    pub fn consumers(&self) -> [&hollow::Consumer; 2] {
        [&self.heap, &self.mapped]
    }

    /// Checks the published history against the model of each version: both consumers step
    /// back from the latest version to the first by reverse deltas (a snapshot only to reach
    /// the first), and a fresh consumer reaches each version (from a snapshot); every state
    /// reached equals its version's model through `contents`.
    pub fn check_history<M: PartialEq + std::fmt::Debug>(
        &self,
        versions: &BTreeMap<u64, M>,
        contents: impl Fn(&ReadState) -> M,
    ) {
        let vs: Vec<u64> = versions.keys().copied().collect();
        for c in self.consumers() {
            for v in vs.iter().rev() {
                let report = c.update_to(*v).unwrap();
                assert!(
                    report.transitions.iter().all(|t| !t.snapshot) || v == &vs[0],
                    "back to {v} by reverse deltas: {:?}",
                    report
                        .transitions
                        .iter()
                        .map(|t| (t.from, t.to, t.snapshot))
                        .collect::<Vec<_>>()
                );
                assert_eq!(
                    contents(&c.current().unwrap().state),
                    versions[v],
                    "back to {v}"
                );
            }
        }
        for v in &vs {
            let fresh =
                hollow::Consumer::new(self.store.clone(), hollow::ConsumerConfig::default());
            let report = fresh.update_to(*v).unwrap();
            assert!(report.transitions.first().is_some_and(|t| t.snapshot));
            assert_eq!(
                contents(&fresh.current().unwrap().state),
                versions[v],
                "fresh at {v}"
            );
        }
    }
}
