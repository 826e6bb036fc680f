//! Model-based tests of indexes, diffs and history.
//!
//! * Through producer cycles (random upserts and deletes of a dataset): after every consumer
//!   transition — forward deltas, reverse deltas, snapshots, multi-step jumps — the
//!   incrementally updated indexes agree with a brute-force scan and with freshly built
//!   indexes; the diff of random version pairs equals the model's; the history of random
//!   keys equals the model's.
//! * Through write states (a schema with references, sets and maps): indexes by dotted
//!   paths follow records whose key changes because a referenced record changed in place;
//!   deep diffs match a model, also between states built in different orders.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::items::{op, record, Model, Op, SCHEMA};
use hollow::blob::{write_snapshot, SnapshotOptions};
use hollow::dataset::{DatasetReader, DatasetSchema, FieldValue, Record};
use hollow::diff::{diff, diff_by, json_lines};
use hollow::error::SchemaError;
use hollow::history::{dataset_history, history, history_every_version};
use hollow::index::{HashIndex, PrimaryKeyIndex};
use hollow::lifecycle::{Consumer, ConsumerConfig, CycleOutcome, Producer, ProducerConfig};
use hollow::store::{BlobStore, FolderStore};
use hollow::{
    DataError, Error, FieldKind, ObjectSchema, Primitive, ReadState, SchemaSet, StateChanges,
    TypeChanges, TypeSchema, Value, WriteState,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

// ---------------------------------------------------------------------------------------
// Part 1: a dataset through producer cycles and a consumer.

const FIELDS: [&str; 6] = ["id", "name", "score", "tags", "note", "big"];

/// Every record of a state by ordinal.
fn records(ds: &DatasetSchema, state: &ReadState) -> BTreeMap<u32, Record> {
    let r = DatasetReader::new(ds, state).unwrap();
    r.root()
        .ordinals()
        .map(|o| (o, r.record(o).unwrap()))
        .collect()
}

fn id_of(rec: &Record) -> i64 {
    match rec[0] {
        FieldValue::Int(i) => i,
        _ => panic!("id"),
    }
}

/// A field value of a record as a query value.
fn query(v: &FieldValue, i32_field: bool) -> Value<'static> {
    match v {
        FieldValue::Null => Value::Null,
        FieldValue::Int(i) if i32_field => Value::I32(*i as i32),
        FieldValue::Int(i) => Value::I64(*i),
        FieldValue::Str(s) => Value::Str(s.clone().into()),
        other => panic!("not a key value: {other:?}"),
    }
}

struct Indexes {
    pk: PrimaryKeyIndex,
    pk2: PrimaryKeyIndex,
    by_name: HashIndex,
    by_score_big: HashIndex,
    by_note: HashIndex,
}

impl Indexes {
    fn build(state: &ReadState) -> Indexes {
        Indexes {
            pk: PrimaryKeyIndex::for_primary_key(state, "Item").unwrap(),
            pk2: PrimaryKeyIndex::build(state, "Item", &["name", "id"]).unwrap(),
            by_name: HashIndex::build(state, "Item", &["name"]).unwrap(),
            by_score_big: HashIndex::build(state, "Item", &["score", "big"]).unwrap(),
            by_note: HashIndex::build(state, "Item", &["note"]).unwrap(),
        }
    }

    fn apply(
        &mut self,
        old: &ReadState,
        new: &ReadState,
        report: &hollow::lifecycle::UpdateReport,
    ) {
        self.pk.apply(old, new, &report.transitions).unwrap();
        self.pk2.apply(old, new, &report.transitions).unwrap();
        self.by_name.apply(old, new, &report.transitions).unwrap();
        self.by_score_big
            .apply(old, new, &report.transitions)
            .unwrap();
        self.by_note.apply(old, new, &report.transitions).unwrap();
    }
}

fn sorted(s: &[u32]) -> Vec<u32> {
    let mut v = s.to_vec();
    v.sort_unstable();
    v
}

/// The indexes agree with a scan of the state (and the state with the model), and with
/// freshly built indexes.
fn check_indexes(ix: &Indexes, ds: &DatasetSchema, state: &ReadState, model: &Model, what: &str) {
    let recs = records(ds, state);
    let by_id: Model = recs.values().map(|r| (id_of(r), r.clone())).collect();
    assert_eq!(&by_id, model, "{what}: state differs from the model");
    let fresh = Indexes::build(state);
    assert_eq!(ix.pk.len(), recs.len(), "{what}");
    assert_eq!(ix.by_name.len(), recs.len(), "{what}");
    let mut groups: BTreeMap<(usize, String), Vec<u32>> = BTreeMap::new();
    for (o, r) in &recs {
        let id = Value::I64(id_of(r));
        assert_eq!(
            ix.pk.get(state, std::slice::from_ref(&id)),
            Some(*o),
            "{what}: pk of {id:?}"
        );
        assert_eq!(
            ix.pk.get(state, &[Value::I32(id_of(r) as i32)]),
            Some(*o),
            "{what}: pk by an i32 value"
        );
        let name = query(&r[1], false);
        assert_eq!(
            ix.pk2.get(state, &[name.clone(), id.clone()]),
            Some(*o),
            "{what}: pk2"
        );
        for (g, key) in [
            (0, format!("{:?}", r[1])),
            (1, format!("{:?}|{:?}", r[2], r[5])),
            (2, format!("{:?}", r[4])),
        ] {
            groups.entry((g, key)).or_default().push(*o);
        }
    }
    for (o, r) in &recs {
        let name = [query(&r[1], false)];
        let sb = [query(&r[2], true), query(&r[5], false)];
        let note = [query(&r[4], false)];
        let cases: [(&HashIndex, &HashIndex, &[Value], usize, String); 3] = [
            (&ix.by_name, &fresh.by_name, &name, 0, format!("{:?}", r[1])),
            (
                &ix.by_score_big,
                &fresh.by_score_big,
                &sb,
                1,
                format!("{:?}|{:?}", r[2], r[5]),
            ),
            (&ix.by_note, &fresh.by_note, &note, 2, format!("{:?}", r[4])),
        ];
        for (inc, fr, key, g, gk) in cases {
            let want = &groups[&(g, gk)];
            assert_eq!(
                &sorted(inc.get(state, key)),
                want,
                "{what}: hash index {:?} at {key:?} (record {o})",
                inc.fields()
            );
            assert_eq!(
                sorted(fr.get(state, key)),
                sorted(inc.get(state, key)),
                "{what}: fresh vs incremental"
            );
        }
    }
    for (inc, fr) in [
        (&ix.by_name, &fresh.by_name),
        (&ix.by_score_big, &fresh.by_score_big),
        (&ix.by_note, &fresh.by_note),
    ] {
        assert_eq!(
            inc.distinct_keys(),
            fr.distinct_keys(),
            "{what}: distinct keys of {:?}",
            inc.fields()
        );
        assert_eq!(inc.len(), fr.len());
    }
    for absent in (0..32).filter(|i| !model.contains_key(i)) {
        assert_eq!(
            ix.pk.get(state, &[Value::I64(absent)]),
            None,
            "{what}: absent {absent}"
        );
    }
    assert!(ix
        .by_name
        .get(state, &[Value::str("no such name")])
        .is_empty());
    // wrong kinds and arity find nothing, and say why when asked
    assert_eq!(ix.pk.get(state, &[Value::str("1")]), None);
    assert_eq!(ix.pk.get(state, &[]), None);
    assert!(matches!(
        ix.pk.try_get(state, &[Value::str("1")]),
        Err(Error::Data(DataError::WrongFieldKind { .. }))
    ));
    assert!(matches!(
        ix.by_name.try_get(state, &[Value::I64(1), Value::Null]),
        Err(Error::Data(DataError::Schema(SchemaError::KeyArity {
            got: 2,
            ..
        })))
    ));
}

/// The model's diff between two versions: (added ids, removed ids, changed ids with fields).
/// Added keys, removed keys, and changed keys with the names of their changed fields.
type ModelDiff = (Vec<i64>, Vec<i64>, Vec<(i64, Vec<String>)>);

fn model_diff(a: &Model, b: &Model) -> ModelDiff {
    let added = b.keys().filter(|k| !a.contains_key(k)).copied().collect();
    let removed = a.keys().filter(|k| !b.contains_key(k)).copied().collect();
    let mut changed = Vec::new();
    for (k, ra) in a {
        if let Some(rb) = b.get(k) {
            let fields: Vec<String> = (0..FIELDS.len())
                .filter(|i| ra[*i] != rb[*i])
                .map(|i| FIELDS[i].to_string())
                .collect();
            if !fields.is_empty() {
                changed.push((*k, fields));
            }
        }
    }
    (added, removed, changed)
}

fn check_diff(
    ds: &DatasetSchema,
    a: &ReadState,
    b: &ReadState,
    ma: &Model,
    mb: &Model,
    what: &str,
) {
    let d = diff(a, b, "Item").unwrap();
    let (ra, rb) = (records(ds, a), records(ds, b));
    let id_a = |o: &u32| id_of(&ra[o]);
    let id_b = |o: &u32| id_of(&rb[o]);
    let (added, removed, changed) = model_diff(ma, mb);
    let mut got_added: Vec<i64> = d.added.iter().map(id_b).collect();
    got_added.sort_unstable();
    let mut got_removed: Vec<i64> = d.removed.iter().map(id_a).collect();
    got_removed.sort_unstable();
    let mut got_changed: Vec<(i64, Vec<String>)> = d
        .changed
        .iter()
        .map(|(oa, ob, f)| {
            assert_eq!(
                id_a(oa),
                id_b(ob),
                "{what}: matched records have the same key"
            );
            (id_a(oa), f.clone())
        })
        .collect();
    got_changed.sort();
    assert_eq!(got_added, added, "{what}: added");
    assert_eq!(got_removed, removed, "{what}: removed");
    assert_eq!(got_changed, changed, "{what}: changed");
    assert_eq!(
        d.unchanged as usize,
        ma.len() - removed.len() - changed.len(),
        "{what}: unchanged"
    );
    let lines = json_lines(ds, a, b).unwrap();
    assert_eq!(lines.len(), added.len() + removed.len() + changed.len());
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let key: i64 = v["key"].as_str().unwrap().parse().unwrap();
        match v["op"].as_str().unwrap() {
            "added" => assert!(added.contains(&key) && v["after"]["id"] == key),
            "removed" => assert!(removed.contains(&key) && v["before"]["id"] == key),
            "changed" => {
                let fields: Vec<String> = serde_json::from_value(v["fields"].clone()).unwrap();
                assert!(changed.contains(&(key, fields)), "{l}");
            }
            other => panic!("op {other}"),
        }
    }
}

/// The model's history of a key: the first version of the range, then every change.
fn model_history(
    versions: &BTreeMap<u64, Model>,
    key: i64,
    lo: u64,
    hi: u64,
    every: bool,
) -> Vec<(u64, Option<Record>, Vec<String>)> {
    let mut out: Vec<(u64, Option<Record>, Vec<String>)> = Vec::new();
    let mut prev: Option<Option<&Record>> = None;
    for (v, m) in versions.range(lo..=hi) {
        let cur = m.get(&key);
        let changed: Vec<String> = match (prev, cur) {
            (None, _) => Vec::new(),
            (Some(Some(a)), Some(b)) => (0..FIELDS.len())
                .filter(|i| a[*i] != b[*i])
                .map(|i| FIELDS[i].to_string())
                .collect(),
            (Some(None), None) => Vec::new(),
            _ => FIELDS.iter().map(|s| s.to_string()).collect(),
        };
        if prev.is_none() || every || !changed.is_empty() {
            out.push((*v, cur.cloned(), changed));
        }
        prev = Some(cur);
    }
    out
}

fn check_history(
    store: &Arc<dyn BlobStore>,
    ds: &DatasetSchema,
    versions: &BTreeMap<u64, Model>,
    key: i64,
    lo: u64,
    hi: u64,
) {
    let want = model_history(versions, key, lo, hi, false);
    let got: Vec<(u64, Option<Record>, Vec<String>)> =
        dataset_history(store.clone(), ds, &key.to_string(), lo, hi)
            .unwrap()
            .into_iter()
            .map(|e| (e.version, e.record, e.changed))
            .collect();
    assert_eq!(got, want, "history of {key} in {lo}..={hi}");
    let generic = history(store.clone(), "Item", &[Value::I64(key)], hi, lo).unwrap();
    let shape: Vec<(u64, bool, Vec<String>)> = generic
        .iter()
        .map(|e| (e.version, e.values.is_some(), e.changed.clone()))
        .collect();
    let want_shape: Vec<(u64, bool, Vec<String>)> = want
        .iter()
        .map(|(v, r, c)| (*v, r.is_some(), c.clone()))
        .collect();
    assert_eq!(shape, want_shape, "generic history of {key}");
    for e in &generic {
        assert_eq!(e.ordinal.is_some(), e.values.is_some());
        if let Some(vals) = &e.values {
            assert_eq!(vals[0], Value::I64(key));
        }
    }
    let every = history_every_version(store.clone(), "Item", &[Value::I64(key)], lo, hi).unwrap();
    let want_every = model_history(versions, key, lo, hi, true);
    assert_eq!(
        every
            .iter()
            .map(|e| (e.version, e.values.is_some(), e.changed.clone()))
            .collect::<Vec<_>>(),
        want_every
            .iter()
            .map(|(v, r, c)| (*v, r.is_some(), c.clone()))
            .collect::<Vec<_>>()
    );
}

fn run(cycles: Vec<Vec<Op>>, jumps: Vec<Option<usize>>, probes: Vec<(usize, usize, i64)>) {
    let ds = DatasetSchema::from_json(SCHEMA).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn BlobStore> = Arc::new(FolderStore::new(dir.path().join("store")).unwrap());
    let config = ProducerConfig {
        snapshot_every: 3,
        max_count_change_ratio: None,
        ..Default::default()
    };
    let mut producer = Producer::open(store.clone(), ds.schema_set().unwrap(), config).unwrap();
    let consumer = Consumer::new(store.clone(), ConsumerConfig::default());
    let mut model: Model = BTreeMap::new();
    let mut versions: BTreeMap<u64, Model> = BTreeMap::new();
    let mut states: BTreeMap<u64, Arc<ReadState>> = BTreeMap::new();
    let mut ix: Option<Indexes> = None;
    for (i, ops) in cycles.into_iter().enumerate() {
        let outcome = producer
            .cycle(|c| {
                for op in &ops {
                    match op {
                        Op::Upsert(id, ..) => {
                            c.upsert_record(&ds, &record(op))?;
                            model.insert(*id, record(op));
                        }
                        Op::Delete(id) => {
                            c.delete_key(&ds, &id.to_string())?;
                            model.remove(id);
                        }
                    }
                }
                Ok(())
            })
            .unwrap();
        let CycleOutcome::Published { version, .. } = outcome else {
            continue;
        };
        versions.insert(version, model.clone());
        let before = consumer.current();
        let report = consumer.refresh().unwrap();
        let cur = consumer.current().unwrap();
        assert_eq!(cur.version, version);
        states.insert(version, cur.state.clone());
        match (&mut ix, before) {
            (Some(ix), Some(b)) => ix.apply(&b.state, &cur.state, &report),
            (ix, _) => *ix = Some(Indexes::build(&cur.state)),
        }
        let ixr = ix.as_ref().unwrap();
        check_indexes(
            ixr,
            &ds,
            &cur.state,
            &model,
            &format!("cycle {i}, version {version}"),
        );
        // a jump back (reverse deltas, or a snapshot and deltas), then forward again
        if let Some(j) = jumps.get(i).copied().flatten() {
            let vs: Vec<u64> = versions.keys().copied().collect();
            let target = vs[j % vs.len()];
            for (to, want) in [
                (target, versions[&target].clone()),
                (version, model.clone()),
            ] {
                let before = consumer.current().unwrap();
                let report = consumer.update_to(to).unwrap();
                let now = consumer.current().unwrap();
                let ixm = ix.as_mut().unwrap();
                ixm.apply(&before.state, &now.state, &report);
                check_indexes(
                    ixm,
                    &ds,
                    &now.state,
                    &want,
                    &format!("cycle {i}: jump {} -> {to}", before.version),
                );
            }
        }
    }
    if versions.is_empty() {
        return;
    }
    let vs: Vec<u64> = versions.keys().copied().collect();
    for (x, y, key) in probes {
        let (va, vb) = (vs[x % vs.len()], vs[y % vs.len()]);
        check_diff(
            &ds,
            &states[&va],
            &states[&vb],
            &versions[&va],
            &versions[&vb],
            &format!("diff {va} -> {vb}"),
        );
        let (lo, hi) = (va.min(vb), va.max(vb));
        check_history(&store, &ds, &versions, key, lo, hi);
    }
    // the whole timeline, for one key
    check_history(&store, &ds, &versions, 0, 0, u64::MAX);
}

#[test]
fn indexes_diffs_and_history_match_the_model() {
    let mut runner = TestRunner::new(Config {
        cases: 20,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(proptest::collection::vec(op(30, 2, 12), 0..10), 1..14),
        proptest::collection::vec(proptest::option::weighted(0.3, any::<usize>()), 0..14),
        proptest::collection::vec((any::<usize>(), any::<usize>(), 0i64..32), 0..5),
    );
    runner
        .run(&strategy, |(cycles, jumps, probes)| {
            run(cycles, jumps, probes);
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Part 2: references, sets and maps, through write states.

fn schema2() -> SchemaSet {
    SchemaSet::new(vec![
        TypeSchema::Object(
            ObjectSchema::new("Movie")
                .field("id", FieldKind::Primitive(Primitive::I64))
                .field("title", FieldKind::Primitive(Primitive::String)),
        ),
        TypeSchema::Object(
            ObjectSchema::new("Label").field("value", FieldKind::Primitive(Primitive::String)),
        ),
        TypeSchema::Set {
            name: "SetOfLabel".into(),
            element: "Label".into(),
        },
        TypeSchema::Map {
            name: "MapOfLabelToLabel".into(),
            key: "Label".into(),
            value: "Label".into(),
        },
        TypeSchema::List {
            name: "ListOfMovie".into(),
            element: "Movie".into(),
        },
        TypeSchema::Object(
            ObjectSchema::new("Asset")
                .field("id", FieldKind::Primitive(Primitive::I64))
                .field("movie", FieldKind::Reference("Movie".into()))
                .field("lang", FieldKind::Primitive(Primitive::String))
                .field("labels", FieldKind::Reference("SetOfLabel".into()))
                .field("props", FieldKind::Reference("MapOfLabelToLabel".into()))
                .field("related", FieldKind::Reference("ListOfMovie".into()))
                .field("score", FieldKind::Primitive(Primitive::F64))
                .primary_key(["id"]),
        ),
    ])
    .unwrap()
}

/// An asset as plain values: movie id, lang, labels, props, related movie ids, score bits.
#[derive(Debug, Clone, PartialEq)]
struct AssetM {
    movie: i64,
    lang: Option<String>,
    labels: BTreeSet<String>,
    props: BTreeMap<String, String>,
    related: Vec<i64>,
    score: u64,
}

#[derive(Debug, Clone)]
enum Op2 {
    AddMovie(i64, String),
    Retitle(i64, String),
    DeleteMovie(i64),
    Upsert(
        i64,
        usize,
        Option<String>,
        BTreeSet<String>,
        BTreeMap<String, String>,
        Vec<usize>,
        u64,
    ),
    DeleteAsset(i64),
}

fn op2() -> impl Strategy<Value = Op2> {
    let scores = prop_oneof![
        Just(0.0f64.to_bits()),
        Just((-0.0f64).to_bits()),
        Just(f64::NAN.to_bits()),
        Just(1.5f64.to_bits())
    ];
    prop_oneof![
        2 => (0i64..8, "[p-r]{1}").prop_map(|(m, t)| Op2::AddMovie(m, t)),
        2 => (0i64..8, "[p-r]{1}").prop_map(|(m, t)| Op2::Retitle(m, t)),
        1 => (0i64..8).prop_map(Op2::DeleteMovie),
        5 => (0i64..20, any::<usize>(), proptest::option::of("[e-f]{1}"), proptest::collection::btree_set("[a-d]", 0..3),
              proptest::collection::btree_map("[a-c]", "[a-c]", 0..3), proptest::collection::vec(any::<usize>(), 0..3), scores)
            .prop_map(|(a, m, l, s, p, r, sc)| Op2::Upsert(a, m, l, s, p, r, sc)),
        2 => (0i64..20).prop_map(Op2::DeleteAsset),
    ]
}

/// An asset's content as the diff sees it: movie id and title, lang, labels, props,
/// related movies (id, title), score bits.
type Deep = (
    i64,
    String,
    Option<String>,
    BTreeSet<String>,
    BTreeMap<String, String>,
    Vec<(i64, String)>,
    u64,
);

#[derive(Default, Clone)]
struct World {
    movies: BTreeMap<i64, (u32, String)>,
    assets: BTreeMap<i64, (u32, AssetM)>,
}

fn label(ws: &mut WriteState, s: &str) -> u32 {
    ws.add_object("Label", &[Value::str(s)]).unwrap()
}

fn add_asset(
    ws: &mut WriteState,
    movies: &BTreeMap<i64, (u32, String)>,
    id: i64,
    a: &AssetM,
) -> u32 {
    let labels: Vec<u32> = a.labels.iter().map(|l| label(ws, l)).collect();
    let set = ws.add_set("SetOfLabel", &labels).unwrap();
    let props: Vec<(u32, u32)> = a
        .props
        .iter()
        .map(|(k, v)| (label(ws, k), label(ws, v)))
        .collect();
    let map = ws.add_map("MapOfLabelToLabel", &props).unwrap();
    let related: Vec<u32> = a.related.iter().map(|m| movies[m].0).collect();
    let list = ws.add_list("ListOfMovie", &related).unwrap();
    let vals = [
        Value::I64(id),
        Value::Ref(movies[&a.movie].0),
        a.lang.as_deref().map_or(Value::Null, Value::str),
        Value::Ref(set),
        Value::Ref(map),
        Value::Ref(list),
        Value::F64(f64::from_bits(a.score)),
    ];
    ws.add_object("Asset", &vals).unwrap()
}

impl World {
    fn referenced(&self, m: i64) -> bool {
        self.assets
            .values()
            .any(|(_, a)| a.movie == m || a.related.contains(&m))
    }

    fn apply(&mut self, ws: &mut WriteState, op: &Op2) {
        match op {
            Op2::AddMovie(m, t) => {
                if !self.movies.contains_key(m) {
                    let o = ws
                        .add_object("Movie", &[Value::I64(*m), Value::str(t)])
                        .unwrap();
                    self.movies.insert(*m, (o, t.clone()));
                }
            }
            Op2::Retitle(m, t) => {
                if let Some((o, old)) = self.movies.get(m).cloned() {
                    if old != *t {
                        // in place: the freed ordinal is reused, so assets pointing at it do not change
                        ws.remove("Movie", o).unwrap();
                        let n = ws
                            .add_object("Movie", &[Value::I64(*m), Value::str(t)])
                            .unwrap();
                        assert_eq!(n, o, "the freed ordinal is reused");
                        self.movies.insert(*m, (o, t.clone()));
                    }
                }
            }
            Op2::DeleteMovie(m) => {
                if !self.referenced(*m) {
                    if let Some((o, _)) = self.movies.remove(m) {
                        ws.remove("Movie", o).unwrap();
                    }
                }
            }
            Op2::Upsert(id, pick, lang, labels, props, related, score) => {
                if self.movies.is_empty() {
                    return;
                }
                let ids: Vec<i64> = self.movies.keys().copied().collect();
                let a = AssetM {
                    movie: ids[pick % ids.len()],
                    lang: lang.clone(),
                    labels: labels.clone(),
                    props: props.clone(),
                    related: related.iter().map(|r| ids[r % ids.len()]).collect(),
                    score: *score,
                };
                if let Some((o, _)) = self.assets.remove(id) {
                    ws.remove("Asset", o).unwrap();
                }
                let o = add_asset(ws, &self.movies, *id, &a);
                self.assets.insert(*id, (o, a));
            }
            Op2::DeleteAsset(id) => {
                if let Some((o, _)) = self.assets.remove(id) {
                    ws.remove("Asset", o).unwrap();
                }
            }
        }
    }

    /// The deep content of an asset as the diff sees it.
    fn deep(&self, a: &AssetM) -> Deep {
        let mv = |m: &i64| (*m, self.movies[m].1.clone());
        let (m, t) = mv(&a.movie);
        (
            m,
            t,
            a.lang.clone(),
            a.labels.clone(),
            a.props.clone(),
            a.related.iter().map(mv).collect(),
            a.score,
        )
    }

    fn changed_fields(&self, other: &World, a: &AssetM, b: &AssetM) -> Vec<String> {
        let (da, db) = (self.deep(a), other.deep(b));
        let mut out = Vec::new();
        if (da.0, &da.1) != (db.0, &db.1) {
            out.push("movie");
        }
        if da.2 != db.2 {
            out.push("lang");
        }
        if da.3 != db.3 {
            out.push("labels");
        }
        if da.4 != db.4 {
            out.push("props");
        }
        if da.5 != db.5 {
            out.push("related");
        }
        if da.6 != db.6 {
            out.push("score");
        }
        out.into_iter().map(String::from).collect()
    }
}

fn snapshot(ws: &WriteState) -> ReadState {
    ReadState::from_vec(write_snapshot(ws, &SnapshotOptions::default()).unwrap().0).unwrap()
}

/// The changes between two states that share ordinals (as a delta would list them).
fn changes_between(a: &ReadState, b: &ReadState) -> StateChanges {
    let mut out = StateChanges::default();
    for ts in a.schema().types() {
        let name = ts.name();
        let mut tc = TypeChanges::default();
        let bound = a
            .ordinal_bound(name)
            .unwrap()
            .max(b.ordinal_bound(name).unwrap()) as u32;
        let (pa, pb) = (a.populated(name).unwrap(), b.populated(name).unwrap());
        for o in 0..bound {
            let (ha, hb) = (
                pa.get(o as usize).is_some_and(|x| *x),
                pb.get(o as usize).is_some_and(|x| *x),
            );
            let same = ha
                && hb
                && match ts {
                    TypeSchema::Object(obj) => {
                        let (va, vb) = (a.object(name).unwrap(), b.object(name).unwrap());
                        (0..obj.fields.len())
                            .all(|f| va.get(o, f).unwrap().same(&vb.get(o, f).unwrap()))
                    }
                    TypeSchema::List { .. } => a.list(name).unwrap().elements(o).unwrap().eq(b
                        .list(name)
                        .unwrap()
                        .elements(o)
                        .unwrap()),
                    TypeSchema::Set { .. } => {
                        a.set(name)
                            .unwrap()
                            .elements(o)
                            .unwrap()
                            .collect::<BTreeSet<_>>()
                            == b.set(name)
                                .unwrap()
                                .elements(o)
                                .unwrap()
                                .collect::<BTreeSet<_>>()
                    }
                    TypeSchema::Map { .. } => {
                        a.map(name)
                            .unwrap()
                            .entries(o)
                            .unwrap()
                            .collect::<BTreeSet<_>>()
                            == b.map(name)
                                .unwrap()
                                .entries(o)
                                .unwrap()
                                .collect::<BTreeSet<_>>()
                    }
                };
            if ha && !same {
                tc.removed.push(o);
            }
            if hb && !same {
                tc.added.push(o);
            }
        }
        out.types.push(tc);
    }
    out
}

struct Indexes2 {
    pk: PrimaryKeyIndex,
    by_title: HashIndex,
    by_movie_lang: HashIndex,
    pk_id_movie: PrimaryKeyIndex,
}

impl Indexes2 {
    fn build(s: &ReadState) -> Self {
        Indexes2 {
            pk: PrimaryKeyIndex::for_primary_key(s, "Asset").unwrap(),
            by_title: HashIndex::build(s, "Asset", &["movie.title"]).unwrap(),
            by_movie_lang: HashIndex::build(s, "Asset", &["movie.id", "lang"]).unwrap(),
            pk_id_movie: PrimaryKeyIndex::build(s, "Asset", &["id", "movie.title"]).unwrap(),
        }
    }

    fn update(&mut self, a: &ReadState, b: &ReadState, c: &StateChanges) {
        self.pk.update(a, b, c).unwrap();
        self.by_title.update(a, b, c).unwrap();
        self.by_movie_lang.update(a, b, c).unwrap();
        self.pk_id_movie.update(a, b, c).unwrap();
    }

    fn check(&self, s: &ReadState, w: &World, what: &str) {
        let fresh = Indexes2::build(s);
        let mut by_title: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        let mut by_ml: BTreeMap<(i64, Option<String>), Vec<u32>> = BTreeMap::new();
        for (id, (o, a)) in &w.assets {
            let title = w.movies[&a.movie].1.clone();
            assert_eq!(
                self.pk.get(s, &[Value::I64(*id)]),
                Some(*o),
                "{what}: pk {id}"
            );
            assert_eq!(
                self.pk_id_movie
                    .get(s, &[Value::I64(*id), Value::str(&title)]),
                Some(*o),
                "{what}: pk by id and movie.title"
            );
            assert_eq!(
                self.pk_id_movie
                    .get(s, &[Value::I64(*id), Value::str("no title")]),
                None
            );
            by_title.entry(title).or_default().push(*o);
            by_ml.entry((a.movie, a.lang.clone())).or_default().push(*o);
        }
        for v in by_title.values_mut().chain(by_ml.values_mut()) {
            v.sort_unstable();
        }
        for (t, want) in &by_title {
            assert_eq!(
                &sorted(self.by_title.get(s, &[Value::str(t)])),
                want,
                "{what}: by movie.title {t}"
            );
            assert_eq!(sorted(fresh.by_title.get(s, &[Value::str(t)])), *want);
        }
        for ((m, l), want) in &by_ml {
            let key = [Value::I64(*m), l.as_deref().map_or(Value::Null, Value::str)];
            assert_eq!(
                &sorted(self.by_movie_lang.get(s, &key)),
                want,
                "{what}: by movie.id, lang {key:?}"
            );
        }
        assert_eq!(self.by_title.distinct_keys(), by_title.len(), "{what}");
        assert_eq!(
            self.by_title.distinct_keys(),
            fresh.by_title.distinct_keys()
        );
        assert_eq!(self.by_movie_lang.distinct_keys(), by_ml.len(), "{what}");
        assert_eq!(self.pk.len(), w.assets.len());
        assert_eq!(self.pk_id_movie.len(), fresh.pk_id_movie.len());
        for t in ["p", "q", "r"] {
            if !by_title.contains_key(t) {
                assert!(
                    self.by_title.get(s, &[Value::str(t)]).is_empty(),
                    "{what}: no asset of a movie titled {t}"
                );
            }
        }
    }
}

fn check_diff2(a: &ReadState, b: &ReadState, wa: &World, wb: &World, what: &str) {
    let d = diff(a, b, "Asset").unwrap();
    let id_at = |s: &ReadState, o: u32| match s.object("Asset").unwrap().get(o, 0).unwrap() {
        Value::I64(i) => i,
        v => panic!("{v:?}"),
    };
    let mut got: Vec<(i64, Vec<String>)> = d
        .changed
        .iter()
        .map(|(oa, ob, f)| {
            (id_at(a, *oa), {
                assert_eq!(id_at(a, *oa), id_at(b, *ob));
                f.clone()
            })
        })
        .collect();
    got.sort();
    let mut want = Vec::new();
    for (id, (_, x)) in &wa.assets {
        if let Some((_, y)) = wb.assets.get(id) {
            let f = wa.changed_fields(wb, x, y);
            if !f.is_empty() {
                want.push((*id, f));
            }
        }
    }
    assert_eq!(got, want, "{what}: changed");
    let added: BTreeSet<i64> = d.added.iter().map(|o| id_at(b, *o)).collect();
    let removed: BTreeSet<i64> = d.removed.iter().map(|o| id_at(a, *o)).collect();
    assert_eq!(
        added,
        wb.assets
            .keys()
            .filter(|k| !wa.assets.contains_key(k))
            .copied()
            .collect(),
        "{what}: added"
    );
    assert_eq!(
        removed,
        wa.assets
            .keys()
            .filter(|k| !wb.assets.contains_key(k))
            .copied()
            .collect(),
        "{what}: removed"
    );
}

/// The same records added in another order: different ordinals, same content.
fn rebuilt(w: &World, seed: usize) -> ReadState {
    let mut ws = WriteState::new(schema2());
    // filler records shift every ordinal
    for i in 0..(seed % 3) {
        ws.add_object("Label", &[Value::Str(format!("filler{i}").into())])
            .unwrap();
        ws.add_object(
            "Movie",
            &[Value::I64(1000 + i as i64), Value::str("filler")],
        )
        .unwrap();
    }
    let mut movies = BTreeMap::new();
    for (m, (_, t)) in w.movies.iter().rev() {
        movies.insert(
            *m,
            (
                ws.add_object("Movie", &[Value::I64(*m), Value::str(t)])
                    .unwrap(),
                t.clone(),
            ),
        );
    }
    let mut ids: Vec<&i64> = w.assets.keys().collect();
    let shift = seed % ids.len().max(1);
    ids.rotate_left(shift);
    for id in ids {
        let mut a = w.assets[id].1.clone();
        // label insertion order differs too
        let mut labels: Vec<String> = a.labels.iter().cloned().collect();
        labels.reverse();
        for l in &labels {
            label(&mut ws, l);
        }
        a.labels = labels.into_iter().collect();
        add_asset(&mut ws, &movies, *id, &a);
    }
    snapshot(&ws)
}

fn run2(batches: Vec<Vec<Op2>>, seed: usize) {
    let mut ws = WriteState::new(schema2());
    let mut world = World::default();
    let mut state = snapshot(&ws);
    let mut ix = Indexes2::build(&state);
    let mut history: Vec<(ReadState, World)> = vec![(state.clone(), world.clone())];
    for (i, batch) in batches.iter().enumerate() {
        let before = world.clone();
        for op in batch {
            world.apply(&mut ws, op);
        }
        let next = snapshot(&ws);
        let changes = changes_between(&state, &next);
        ix.update(&state, &next, &changes);
        ix.check(&next, &world, &format!("batch {i}"));
        check_diff2(&state, &next, &before, &world, &format!("batch {i}"));
        state = next;
        history.push((state.clone(), world.clone()));
    }
    // diffs between any two states, and against the same content built in another order
    let n = history.len();
    let (a, wa) = &history[seed % n];
    let (b, wb) = &history[(seed / 7) % n];
    check_diff2(a, b, wa, wb, "random pair");
    let other = rebuilt(&world, seed);
    let d = diff(&state, &other, "Asset").unwrap();
    assert!(d.is_empty(), "same content built in another order: {d:?}");
    assert_eq!(d.unchanged as usize, world.assets.len());
    let d = diff_by(&state, &other, "Asset", &["movie.title", "id"]).unwrap();
    assert!(d.is_empty(), "{d:?}");
    // a snapshot-level rebuild agrees with the incremental indexes
    ix.check(&state, &world, "end");
}

#[test]
fn dotted_paths_and_deep_diffs_match_the_model() {
    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..Config::default()
    });
    runner
        .run(
            &(
                proptest::collection::vec(proptest::collection::vec(op2(), 0..12), 1..12),
                any::<usize>(),
            ),
            |(batches, seed)| {
                run2(batches, seed);
                Ok(())
            },
        )
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Part 3: API edges.

#[test]
fn index_errors_are_typed() {
    let mut ws = WriteState::new(schema2());
    let m = ws
        .add_object("Movie", &[Value::I64(1), Value::str("x")])
        .unwrap();
    ws.add_object("Movie", &[Value::I64(2), Value::str("x")])
        .unwrap();
    let s = snapshot(&ws);
    assert!(
        matches!(
            PrimaryKeyIndex::for_primary_key(&s, "Movie"),
            Err(Error::Data(DataError::Schema(SchemaError::NoPrimaryKey { type_name })))
                if type_name == "Movie"
        ),
        "Movie declares no primary key"
    );
    assert!(
        matches!(
            PrimaryKeyIndex::build(&s, "Movie", &["title"]),
            Err(Error::DuplicateKey { type_name, key, ordinals: (0, 1) })
                if type_name == "Movie" && key == [Value::str("x")]
        ),
        "duplicate keys"
    );
    assert!(matches!(
        PrimaryKeyIndex::build(&s, "Movie", &["nope"]),
        Err(Error::Data(DataError::NoSuchField { .. }))
    ));
    assert!(matches!(
        PrimaryKeyIndex::build(&s, "Nope", &["id"]),
        Err(Error::Data(DataError::NoSuchType(_)))
    ));
    assert!(matches!(
        PrimaryKeyIndex::build(&s, "SetOfLabel", &["id"]),
        Err(Error::Data(DataError::WrongTypeKind { .. }))
    ));
    assert!(matches!(
        HashIndex::build(&s, "Movie", &[]),
        Err(Error::Data(DataError::Schema(SchemaError::EmptyKey { .. })))
    ));
    assert!(
        matches!(
            HashIndex::build(&s, "Asset", &["lang.x"]),
            Err(Error::Data(DataError::Schema(SchemaError::NotAReference { path, field, .. })))
                if path == "lang.x" && field == "lang"
        ),
        "a path through a non-reference"
    );
    let ix = PrimaryKeyIndex::build(&s, "Movie", &["id"]).unwrap();
    assert_eq!(ix.get(&s, &[Value::I64(1)]), Some(m));
    assert_eq!(ix.key_of(&s, m).unwrap(), vec![Value::I64(1)]);
    let look = ix.lookup(&s).unwrap();
    assert_eq!(look.get(&[Value::I32(1)]), Some(m));
    assert_eq!(look.get(&[Value::str("1")]), None);
    assert!(matches!(
        look.try_get(&[Value::I64(1), Value::I64(2)]),
        Err(Error::Data(DataError::Schema(SchemaError::KeyArity {
            got: 2,
            ..
        })))
    ));
    let h = HashIndex::build(&s, "Movie", &["title"]).unwrap();
    assert_eq!(h.get(&s, &[Value::str("x")]).len(), 2);
    assert_eq!(
        h.lookup(&s)
            .unwrap()
            .get(&[Value::Bytes(b"x".as_slice().into())])
            .len(),
        2,
        "bytes query on a string field"
    );
    // a state of another schema is refused
    let other = ReadState::from_vec(
        write_snapshot(
            &WriteState::new(
                DatasetSchema::from_json(SCHEMA)
                    .unwrap()
                    .schema_set()
                    .unwrap(),
            ),
            &SnapshotOptions::default(),
        )
        .unwrap()
        .0,
    )
    .unwrap();
    assert!(ix.try_get(&other, &[Value::I64(1)]).is_err());
    assert_eq!(ix.get(&other, &[Value::I64(1)]), None);
    // diffs need the same schemas and a key
    assert!(diff(&s, &other, "Movie").is_err());
    assert!(
        matches!(
            diff(&s, &s, "Movie"),
            Err(Error::Data(DataError::Schema(
                SchemaError::NoPrimaryKey { .. }
            )))
        ),
        "no primary key declared"
    );
    assert!(diff_by(&s, &s, "Movie", &["id"]).unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Part 4: timings on 1.6 million assets (run with
// `cargo test --release -p hollow --no-default-features --test index_diff_history -- --ignored --nocapture`).

/// CPU time of this thread (other processes on a busy machine do not count).
fn cpu_now() -> std::time::Duration {
    let ns = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|x| x.parse::<u64>().ok())
        })
        .unwrap_or(0);
    std::time::Duration::from_nanos(ns)
}

/// Runs `f`, printing its wall and CPU time (per item when `items` > 1).
fn timed<T>(what: &str, items: u64, f: impl FnOnce() -> T) -> T {
    let (w, c) = (std::time::Instant::now(), cpu_now());
    let out = f();
    let (wall, cpu) = (w.elapsed(), cpu_now().saturating_sub(c));
    if items > 1 {
        println!(
            "{what}: {:.0} ns each (CPU {:.0} ns)",
            wall.as_nanos() as f64 / items as f64,
            cpu.as_nanos() as f64 / items as f64
        );
    } else {
        println!("{what}: {wall:.1?} (CPU {cpu:.1?})");
    }
    out
}

#[test]
#[ignore]
fn timings_on_1_6_million_assets() {
    let ds = DatasetSchema::from_json(
        r#"{"dataset": "assets", "type": "Asset", "primary_key": ["id"], "fields": [
        {"name": "id", "kind": "i64"}, {"name": "video_id", "kind": "i64"},
        {"name": "kind", "kind": "string", "enum": ["VIDEO", "AUDIO", "SUBTITLE", "CLOSED_CAPTIONS"]},
        {"name": "language", "kind": "string", "nullable": true},
        {"name": "status", "kind": "string", "enum": ["READY", "IN_PROGRESS", "FAILED"]}]}"#,
    )
    .unwrap();
    const N: i64 = 1_600_000;
    let kinds = ["VIDEO", "AUDIO", "SUBTITLE", "CLOSED_CAPTIONS"];
    let langs = ["en", "fr", "de", "es", "it", "ja", "ko", "pt", "nl", "sv"];
    let statuses = ["READY", "IN_PROGRESS", "FAILED"];
    let rec = |i: i64, salt: i64| -> Record {
        vec![
            FieldValue::Int(i * 7 + 3),
            FieldValue::Int(i / 4),
            FieldValue::Str(kinds[(i % 4) as usize].into()),
            if i % 11 == 0 {
                FieldValue::Null
            } else {
                FieldValue::Str(langs[((i + salt) % 10) as usize].into())
            },
            FieldValue::Str(statuses[((i + salt) % 3) as usize].into()),
        ]
    };
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn BlobStore> = Arc::new(FolderStore::new(dir.path()).unwrap());
    let mut p = Producer::open(
        store.clone(),
        ds.schema_set().unwrap(),
        ProducerConfig {
            max_count_change_ratio: None,
            ..Default::default()
        },
    )
    .unwrap();
    timed("produce 1.6M assets", 1, || {
        p.cycle(|c| {
            for i in 0..N {
                c.upsert_record(&ds, &rec(i, 0))?;
            }
            Ok(())
        })
        .unwrap()
    });
    let consumer = Consumer::new(store.clone(), ConsumerConfig::default());
    consumer.refresh().unwrap();
    let v1 = consumer.current().unwrap();
    let mut pk = timed("build primary key index (id)", 1, || {
        PrimaryKeyIndex::for_primary_key(&v1.state, "Asset").unwrap()
    });
    let mut by_video = timed("build hash index (video_id)", 1, || {
        HashIndex::build(&v1.state, "Asset", &["video_id"]).unwrap()
    });
    let by_kind_lang = timed("build hash index (kind, language)", 1, || {
        HashIndex::build(&v1.state, "Asset", &["kind", "language"]).unwrap()
    });
    let pk_two = timed("build primary key index (id, kind)", 1, || {
        PrimaryKeyIndex::build(&v1.state, "Asset", &["id", "kind"]).unwrap()
    });
    println!(
        "memory: pk {} MB, video_id {} MB ({} keys), kind+language {} keys, (id, kind) {} MB",
        pk.heap_bytes() >> 20,
        by_video.heap_bytes() >> 20,
        by_video.distinct_keys(),
        by_kind_lang.distinct_keys(),
        pk_two.heap_bytes() >> 20
    );
    const Q: u64 = 1_000_000;
    let queries: Vec<[Value; 1]> = (0..Q as i64)
        .map(|i| [Value::I64(((i * 7919) % N) * 7 + 3)])
        .collect();
    let look = pk.lookup(&v1.state).unwrap();
    let found = timed("pk lookup (bound)", Q, || {
        queries.iter().filter(|q| look.get(*q).is_some()).count()
    });
    assert_eq!(found, Q as usize);
    let found = timed("pk lookup (get with the state)", Q, || {
        queries
            .iter()
            .filter(|q| pk.get(&v1.state, *q).is_some())
            .count()
    });
    assert_eq!(found, Q as usize);
    let two: Vec<[Value; 2]> = (0..Q as i64)
        .map(|i| {
            [
                Value::I64(((i * 7919) % N) * 7 + 3),
                Value::str(kinds[(((i * 7919) % N) % 4) as usize]),
            ]
        })
        .collect();
    let look2 = pk_two.lookup(&v1.state).unwrap();
    let found = timed(
        "pk lookup (id, kind), verified against the state",
        Q,
        || two.iter().filter(|q| look2.get(*q).is_some()).count(),
    );
    assert_eq!(found, Q as usize);
    let lv = by_video.lookup(&v1.state).unwrap();
    let hits = timed("hash lookup (video_id)", Q, || {
        (0..Q as i64)
            .map(|i| lv.get(&[Value::I64((i * 7919) % (N / 4))]).len())
            .sum::<usize>()
    });
    assert_eq!(hits, 4 * Q as usize);
    // 1 % of the records change
    p.cycle(|c| {
        for i in (0..N).step_by(100) {
            c.upsert_record(&ds, &rec(i, 1))?;
        }
        Ok(())
    })
    .unwrap();
    let report = consumer.refresh().unwrap();
    let v2 = consumer.current().unwrap();
    println!("consumer delta apply: {:?}", report.elapsed);
    timed("update primary key index, 1% changed", 1, || {
        pk.apply(&v1.state, &v2.state, &report.transitions).unwrap()
    });
    timed("update hash index (video_id), 1% changed", 1, || {
        by_video
            .apply(&v1.state, &v2.state, &report.transitions)
            .unwrap()
    });
    let d = timed("diff of the two versions", 1, || {
        diff(&v1.state, &v2.state, "Asset").unwrap()
    });
    assert_eq!(d.changed.len(), (N / 100) as usize);
    let h = timed("history of one key over 2 versions", 1, || {
        history(store.clone(), "Asset", &[Value::I64(3)], 1, 2).unwrap()
    });
    assert_eq!(h.len(), 2);
}
