//! `hollow verify`: the checksum of every blob and a path to every version; with `--all`,
//! the chain itself: every snapshot is loaded, every delta applied to the state before it
//! and compared with the snapshot of its target (when there is one), every reverse delta
//! applied and compared with the state it must give back. Two states are equal when every
//! object type with a primary key diffs empty and every type has the same record count.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use hollow::lifecycle::Step;
use hollow::lifecycle::TimelineIndex;
use hollow::store::BlobStore;
use hollow::{Bytes, ReadState, TypeSchema};
use serde_json::{json, Value as Json};

use crate::cli::Cli;
use crate::dataset::timeline;
use crate::fail::{io_fail, Failure};
use crate::ui::{self, table, Cell, Paint, Tone};

fn read(store: &dyn BlobStore, key: &str) -> Result<Vec<u8>, Failure> {
    store
        .get(key)
        .map_err(|e| Failure(4, format!("reading {key}: {e}")))
}

/// Why two states differ, or `None` when they hold the same records.
fn difference(a: &ReadState, b: &ReadState) -> Option<String> {
    let names = |s: &ReadState| -> Vec<String> {
        s.schema()
            .types()
            .iter()
            .map(|t| t.name().to_owned())
            .collect()
    };
    if names(a) != names(b) {
        return Some("the schemas differ".to_owned());
    }
    for t in a.schema().types() {
        let name = t.name();
        let (ca, cb) = (a.record_count(name).ok(), b.record_count(name).ok());
        if ca != cb {
            return Some(format!(
                "{name}: {} records instead of {}",
                cb.unwrap_or(0),
                ca.unwrap_or(0)
            ));
        }
        if let TypeSchema::Object(o) = t {
            if o.primary_key.is_some() {
                match hollow::diff::diff(a, b, name) {
                    Ok(d) if d.is_empty() => {}
                    Ok(d) => {
                        return Some(format!(
                            "{name}: {} added, {} removed, {} changed",
                            d.added.len(),
                            d.removed.len(),
                            d.changed.len()
                        ))
                    }
                    Err(e) => return Some(format!("{name}: cannot compare: {e}")),
                }
            }
        }
    }
    None
}

/// What `--all` found: problems, and how many steps it checked.
struct Walk {
    broken: Vec<Json>,
    applied: usize,
    compared: usize,
}

fn walk(
    store: &dyn BlobStore,
    idx: &TimelineIndex,
    bad: &HashSet<String>,
) -> Result<Walk, Failure> {
    let mut w = Walk {
        broken: Vec::new(),
        applied: 0,
        compared: 0,
    };
    let versions = idx.versions();
    let bar = ui::progress(versions.len() as u64, "verifying");
    // The state of the previous version only: deltas and reverse deltas join neighbours.
    let mut held: BTreeMap<u64, ReadState> = BTreeMap::new();
    for v in versions {
        bar.inc(1);
        let mut from_delta: Option<(String, ReadState)> = None;
        for (a, bs) in &idx.deltas {
            let key = Step::Delta(*a, v).key();
            if !bs.contains(&v) || bad.contains(&key) {
                continue;
            }
            let Some(prev) = held.get(a) else { continue };
            match hollow::blob::apply_delta(prev, &Bytes::from_vec(read(store, &key)?)) {
                Ok(applied) => {
                    w.applied += 1;
                    from_delta = Some((key, applied.state));
                }
                Err(e) => w.broken.push(
                    json!({"blob": key, "problem": format!("does not apply to version {a}: {e}")}),
                ),
            }
        }
        let snap_key = Step::Snapshot(v).key();
        let snapshot = if idx.snapshots.contains(&v) && !bad.contains(&snap_key) {
            match ReadState::from_vec(read(store, &snap_key)?) {
                Ok(s) => Some(s),
                Err(e) => {
                    w.broken
                        .push(json!({"blob": snap_key, "problem": format!("does not load: {e}")}));
                    None
                }
            }
        } else {
            None
        };
        if let (Some((key, by_delta)), Some(snap)) = (&from_delta, &snapshot) {
            w.compared += 1;
            if let Some(why) = difference(snap, by_delta) {
                w.broken.push(json!({"blob": key,
                    "problem": format!("gives a state that differs from snapshot {v}: {why}")}));
            }
        }
        let Some(cur) = snapshot.or(from_delta.map(|(_, s)| s)) else {
            held.clear();
            continue;
        };
        for (b, back) in idx
            .reverses
            .get(&v)
            .into_iter()
            .flatten()
            .map(|b| (*b, held.get(b)))
        {
            let key = Step::Reverse(v, b).key();
            let Some(back) = back else { continue };
            if bad.contains(&key) {
                continue;
            }
            match hollow::blob::apply_delta(&cur, &Bytes::from_vec(read(store, &key)?)) {
                Ok(applied) => {
                    w.applied += 1;
                    w.compared += 1;
                    if let Some(why) = difference(back, &applied.state) {
                        w.broken.push(json!({"blob": key,
                            "problem": format!("gives a state that differs from version {b}: {why}")}));
                    }
                }
                Err(e) => w.broken.push(
                    json!({"blob": key, "problem": format!("does not apply to version {v}: {e}")}),
                ),
            }
        }
        held.clear();
        held.insert(v, cur);
    }
    bar.finish_and_clear();
    Ok(w)
}

pub fn verify(cli: &Cli, dataset: &str, all: bool, out: &mut impl Write) -> Result<u8, Failure> {
    let t = timeline(cli, dataset)?;
    let idx = t.index().map_err(crate::fail::lib("listing versions"))?;
    let store = t.store().clone();
    let mut keys = Vec::new();
    keys.extend(idx.snapshots.iter().map(|v| Step::Snapshot(*v).key()));
    for (a, bs) in &idx.deltas {
        keys.extend(bs.iter().map(|b| Step::Delta(*a, *b).key()));
    }
    for (a, bs) in &idx.reverses {
        keys.extend(bs.iter().map(|b| Step::Reverse(*a, *b).key()));
    }
    let mut broken = Vec::new();
    let mut bad = HashSet::new();
    let bar = ui::progress(keys.len() as u64, "checksums");
    for k in &keys {
        bar.inc(1);
        let bytes = read(&*store, k)?;
        if let Err(e) = hollow::blob::verify_checksum(&bytes) {
            broken.push(json!({"blob": k, "problem": e.to_string()}));
            bad.insert(k.clone());
        }
    }
    bar.finish_and_clear();
    let mut unreachable = Vec::new();
    for v in idx.versions() {
        if idx.plan(None, v, &HashSet::new()).is_none() {
            unreachable.push(v);
        }
    }
    for v in &unreachable {
        broken.push(json!({"version": v, "problem": "no path from a snapshot reaches it"}));
    }
    let chain = if all {
        let w = walk(&*store, &idx, &bad)?;
        broken.extend(w.broken);
        Some((w.applied, w.compared))
    } else {
        None
    };
    if cli.json {
        let mut j = json!({"dataset": dataset, "blobs": keys.len(), "broken": broken});
        if let Some((applied, compared)) = chain {
            j["deltas_applied"] = json!(applied);
            j["states_compared"] = json!(compared);
        }
        writeln!(out, "{j}").map_err(io_fail)?;
    } else {
        let paint = Paint::detect();
        let mut line = format!("{dataset}: {} blobs checked", keys.len());
        if let Some((applied, compared)) = chain {
            line.push_str(&format!(
                ", {applied} deltas applied, {compared} states compared"
            ));
        }
        writeln!(out, "{line}").map_err(io_fail)?;
        let rows: Vec<Vec<Cell>> = broken
            .iter()
            .map(|b| {
                let what = match (b.get("blob"), b.get("version")) {
                    (Some(k), _) => k.as_str().unwrap_or_default().to_owned(),
                    (None, Some(v)) => format!("version {v}"),
                    _ => String::new(),
                };
                vec![
                    Cell::toned("BROKEN", Tone::Bad),
                    what.into(),
                    b["problem"].as_str().unwrap_or_default().into(),
                ]
            })
            .collect();
        table(out, paint, false, rows)?;
        if broken.is_empty() {
            writeln!(out, "{}", paint.paint(Tone::Good, "ok")).map_err(io_fail)?;
        }
    }
    Ok(if broken.is_empty() { 0 } else { 1 })
}
