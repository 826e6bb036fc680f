//! The history of one record across the versions of a timeline: what its values were, and
//! in which versions they changed.
//!
//! A consumer walks the stored versions in the range forward, one delta at a time. Each
//! delta's changes say whether the record's ordinal was replaced (then its new ordinal is
//! found among the added ordinals, not by a scan) and whether any type the record reaches
//! through references changed; only then is the record compared, deeply, with its previous
//! value. A step that loaded a snapshot (no delta stored) falls back to a scan of the type.
//!
//! [`history`] lists the first version of the range and then only the versions where the
//! record changed (appeared, disappeared, or any field differs deeply) — what operators ask
//! for; [`history_every_version`] lists every version.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn main() -> hollow::Result<()> {
//! # let store: Arc<dyn hollow::store::BlobStore> = todo!();
//! for e in hollow::history::history(store, "Asset", &[hollow::Value::I64(42)], 1, u64::MAX)? {
//!     println!("v{}: {:?} (changed {:?})", e.version, e.values, e.changed);
//! }
//! # Ok(()) }
//! ```

use std::sync::Arc;

use crate::diff::DeepEq;
use crate::error::{DataError, Error, Result};
use crate::index::{net_changes, KeyDef};
use crate::lifecycle::{Consumer, ConsumerConfig};
use crate::store::BlobStore;
use hollow_format::schema::TypeSchema;
use hollow_format::value::Value;
use hollow_state::dataset::{DatasetReader, DatasetSchema, Record};
use hollow_state::read::ReadState;

/// The record in one version.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// The version.
    pub version: u64,
    /// The record's ordinal in that version, `None` when no record had the key.
    pub ordinal: Option<u32>,
    /// The record's field values in schema order (references as ordinals of that version's
    /// state; the `changed` fields compare what they point to), `None` when absent.
    pub values: Option<Vec<Value<'static>>>,
    /// The fields that differ from the previous entry (all fields when the record appeared
    /// or disappeared; empty for the first entry and for unchanged versions).
    pub changed: Vec<String>,
}

/// A dataset record in one version.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetHistoryEntry {
    /// The version.
    pub version: u64,
    /// The record (lists resolved), `None` when absent.
    pub record: Option<Record>,
    /// The fields that differ from the previous entry (as in [`HistoryEntry::changed`]).
    pub changed: Vec<String>,
}

/// The values of the record of `type_name` with primary key `key` in the stored versions
/// `from..=to` (either order; versions outside what the store holds are skipped): the first
/// stored version of the range, then each version where the record changed.
pub fn history(
    store: Arc<dyn BlobStore>,
    type_name: &str,
    key: &[Value<'_>],
    from: u64,
    to: u64,
) -> Result<Vec<HistoryEntry>> {
    generic(store, type_name, key, from, to, false)
}

/// Like [`history`], with an entry for every stored version of the range.
pub fn history_every_version(
    store: Arc<dyn BlobStore>,
    type_name: &str,
    key: &[Value<'_>],
    from: u64,
    to: u64,
) -> Result<Vec<HistoryEntry>> {
    generic(store, type_name, key, from, to, true)
}

fn generic(
    store: Arc<dyn BlobStore>,
    type_name: &str,
    key: &[Value<'_>],
    from: u64,
    to: u64,
    every: bool,
) -> Result<Vec<HistoryEntry>> {
    let values = |state: &ReadState, o: u32| -> Result<(u32, Vec<Value<'static>>)> {
        let view = state.object(type_name)?;
        let vals = (0..view.schema().fields.len())
            .map(|f| view.get(o, f).map(Value::into_owned))
            .collect::<Result<Vec<_>, DataError>>()?;
        Ok((o, vals))
    };
    let steps = walk(store, type_name, key, from, to, every, values)?;
    Ok(steps
        .into_iter()
        .map(|s| HistoryEntry {
            version: s.version,
            ordinal: s.item.as_ref().map(|(o, _)| *o),
            values: s.item.map(|(_, v)| v),
            changed: s.changed,
        })
        .collect())
}

/// The history of a dataset record given its Kafka key (`42`, or key values joined by `|`),
/// lists resolved: the first stored version of `from..=to`, then each change.
pub fn dataset_history(
    store: Arc<dyn BlobStore>,
    ds: &DatasetSchema,
    key: &str,
    from: u64,
    to: u64,
) -> Result<Vec<DatasetHistoryEntry>> {
    let key = crate::key::parse_dataset_key(ds, key)?;
    let steps = walk(store, &ds.type_name, &key, from, to, false, |state, o| {
        Ok(DatasetReader::new(ds, state)?.record(o)?)
    })?;
    Ok(steps
        .into_iter()
        .map(|s| DatasetHistoryEntry {
            version: s.version,
            record: s.item,
            changed: s.changed,
        })
        .collect())
}

struct Step<T> {
    version: u64,
    item: Option<T>,
    changed: Vec<String>,
}

/// The ordinal of the record with `key` among `candidates` (all populated ordinals when
/// `None`).
fn find(
    def: &KeyDef,
    state: &ReadState,
    key: &[Value<'_>],
    candidates: Option<&[u32]>,
) -> Result<Option<u32>> {
    let reader = def.reader(state)?;
    match candidates {
        Some(c) => {
            for &o in c {
                if reader.matches(o, key)? {
                    return Ok(Some(o));
                }
            }
        }
        None => {
            let ts = &state.types[def.type_idx];
            for o in hollow_state::read::Ordinals::new(&ts.populated, ts.bound) {
                if reader.matches(o, key)? {
                    return Ok(Some(o));
                }
            }
        }
    }
    Ok(None)
}

/// Per type index: whether type `root` reaches it through references (itself excluded
/// unless it reaches itself).
fn reachable(state: &ReadState, root: usize) -> Vec<bool> {
    let schema = state.schema();
    let mut out = vec![false; schema.types().len()];
    let mut stack = vec![root];
    while let Some(t) = stack.pop() {
        for r in schema.types()[t].referenced_types() {
            if let Some(u) = schema.type_index(r) {
                if !out[u] {
                    out[u] = true;
                    stack.push(u);
                }
            }
        }
    }
    out
}

fn walk<T>(
    store: Arc<dyn BlobStore>,
    type_name: &str,
    key: &[Value<'_>],
    from: u64,
    to: u64,
    every: bool,
    render: impl Fn(&ReadState, u32) -> Result<T>,
) -> Result<Vec<Step<T>>> {
    let (lo, hi) = (from.min(to), from.max(to));
    let consumer = Consumer::new(store, ConsumerConfig::default());
    let versions: Vec<u64> = consumer
        .index()?
        .versions()
        .range(lo..=hi)
        .copied()
        .collect();
    let Some((&first, rest)) = versions.split_first() else {
        return Ok(Vec::new());
    };
    consumer.update_to(first)?;
    let mut cur = consumer.current().ok_or(Error::Unreachable {
        version: first,
        failures: Vec::new(),
    })?;
    let def = KeyDef::primary(cur.state.schema(), type_name)?;
    def.check_query(key)?;
    let t = def.type_idx;
    let reach = reachable(&cur.state, t);
    let field_names: Vec<String> = match &cur.state.schema().types()[t] {
        TypeSchema::Object(o) => o.fields.iter().map(|f| f.name.clone()).collect(),
        _ => Vec::new(),
    };
    let mut ord = find(&def, &cur.state, key, None)?;
    let mut out = vec![Step {
        version: first,
        item: ord.map(|o| render(&cur.state, o)).transpose()?,
        changed: Vec::new(),
    }];
    for &v in rest {
        let report = consumer.update_to(v)?;
        let next = consumer.current().ok_or(Error::Unreachable {
            version: v,
            failures: Vec::new(),
        })?;
        let (new_ord, maybe_changed) =
            match net_changes(&cur.state, &next.state, &report.transitions) {
                None => (find(&def, &next.state, key, None)?, true),
                Some(c) => {
                    let tc = &c.types[t];
                    let replaced = ord.is_some_and(|o| tc.removed.binary_search(&o).is_ok());
                    let new_ord = if ord.is_some() && !replaced {
                        ord
                    } else {
                        find(&def, &next.state, key, Some(&tc.added))?
                    };
                    let deep = reach.iter().enumerate().any(|(u, r)| {
                        *r && c
                            .types
                            .get(u)
                            .is_some_and(|x| !x.removed.is_empty() || !x.added.is_empty())
                    });
                    (new_ord, replaced || new_ord != ord || deep)
                }
            };
        let changed = match (ord, new_ord) {
            _ if !maybe_changed => Vec::new(),
            (None, None) => Vec::new(),
            (Some(a), Some(b)) => {
                DeepEq::new(&cur.state, &next.state, type_name)?.changed_fields(t, a, b)?
            }
            _ => field_names.clone(),
        };
        if every || !changed.is_empty() {
            out.push(Step {
                version: v,
                item: new_ord.map(|o| render(&next.state, o)).transpose()?,
                changed,
            });
        }
        ord = new_ord;
        cur = next;
    }
    Ok(out)
}
