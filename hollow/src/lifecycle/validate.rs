//! Validators: checks a [`Producer`](super::Producer) runs on every new state before it
//! publishes it. A validator that refuses a state stops the cycle: nothing is written or
//! announced, the producer's working state rolls back to the last published version, and the
//! cycle returns [`CycleOutcome::ValidationFailed`](super::CycleOutcome::ValidationFailed)
//! naming the validator and its reason.
//!
//! * [`Validator`]: the hook (implement it for your own checks, register it with
//!   [`ProducerConfig::validators`](super::ProducerConfig) or
//!   [`Producer::add_validator`](super::Producer::add_validator)).
//! * [`ValidationContext`]: what a validator sees: the previous and new record counts of
//!   every type, the cycle's changes, the previous header and the header entries the cycle
//!   sets, and the new working state itself.
//! * Built-ins: [`CountChangeValidator`] (a type's record count may not change by more than a
//!   fraction, with a minimum-size guard) and [`PrimaryKeyValidator`] (no two live records of
//!   a keyed type share a primary key).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use hollow_format::codec::decode_field;
use hollow_format::schema::{FieldKind, ObjectSchema, Primitive, SchemaSet, TypeSchema};
use hollow_format::value::Value;
use hollow_state::write::{StateChanges, WriteState};
use rustc_hash::FxHashMap;

pub use crate::error::ValidationFailure;

/// A check of every new state before it is published.
pub trait Validator: Send + Sync {
    /// A short stable name (`[a-z0-9_]`), used in outcomes, logs and metric labels.
    fn name(&self) -> &str;
    /// `Ok` to let the state be published; `Err` refuses it.
    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationFailure>;
}

/// Record counts of one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeCounts {
    /// Records in the last published state.
    pub previous: u64,
    /// Records in the new state.
    pub new: u64,
    /// Records the cycle added (a modified record counts as removed and added).
    pub added: u64,
    /// Records the cycle removed.
    pub removed: u64,
}

/// Per type: the producer's primary-key index (key encoding → ordinal), `None` for types
/// without a key.
pub(crate) type KeyIndexes = [Option<FxHashMap<Box<[u8]>, u32>>];

/// What a validator sees of a cycle.
pub struct ValidationContext<'a> {
    pub(crate) state: &'a WriteState,
    pub(crate) changes: &'a StateChanges,
    pub(crate) previous_version: Option<u64>,
    pub(crate) previous_header: &'a BTreeMap<String, String>,
    pub(crate) header_updates: &'a BTreeMap<String, String>,
    pub(crate) full: bool,
    /// Per type: the indexes of its primary-key fields (empty: no key).
    pub(crate) pk_fields: &'a [Vec<usize>],
    /// Per keyed type: the producer's primary-key index.
    pub(crate) keys: &'a KeyIndexes,
}

impl<'a> ValidationContext<'a> {
    /// The schema of the states.
    pub fn schema(&self) -> &SchemaSet {
        self.state.schema()
    }

    /// The last published version (`None`: the new state would be the first).
    pub fn previous_version(&self) -> Option<u64> {
        self.previous_version
    }

    /// The version the new state would get.
    pub fn next_version(&self) -> u64 {
        self.previous_version.map_or(1, |v| v + 1)
    }

    /// Whether the cycle is a full repopulation ([`Producer::cycle_full`](super::Producer::cycle_full)).
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// The header of the last published state.
    pub fn previous_header(&self) -> &BTreeMap<String, String> {
        self.previous_header
    }

    /// The header entries the cycle sets (the new header is the previous one with these).
    pub fn header_updates(&self) -> &BTreeMap<String, String> {
        self.header_updates
    }

    /// The new state (read records with [`WriteState::object_values`] and
    /// [`WriteState::ordinals`]).
    pub fn new_state(&self) -> &WriteState {
        self.state
    }

    /// The cycle's net changes, per type index (schema order).
    pub fn changes(&self) -> &StateChanges {
        self.changes
    }

    /// Record counts of the type at index `t` (schema order).
    pub fn counts_at(&self, t: usize) -> Option<TypeCounts> {
        let now = self.state.types.get(t)?.len();
        let (added, removed) = self
            .changes
            .types
            .get(t)
            .map_or((0, 0), |c| (c.added.len() as u64, c.removed.len() as u64));
        Some(TypeCounts {
            previous: (now + removed).saturating_sub(added),
            new: now,
            added,
            removed,
        })
    }

    /// Record counts of a type by name.
    pub fn counts(&self, type_name: &str) -> Option<TypeCounts> {
        self.counts_at(
            self.schema()
                .types()
                .iter()
                .position(|t| t.name() == type_name)?,
        )
    }

    /// Whether the type at index `t` has a primary key.
    pub fn has_primary_key(&self, t: usize) -> bool {
        self.pk_fields.get(t).is_some_and(|f| !f.is_empty())
    }

    /// The values of a primary-key encoding of type index `t` (from
    /// [`ValidationContext::primary_key`]), in key order.
    pub fn key_values(&self, t: usize, key: &[u8]) -> Vec<Value<'static>> {
        match (self.schema().types().get(t), self.pk_fields.get(t)) {
            (Some(TypeSchema::Object(o)), Some(pk)) => key_values(o, pk, key),
            _ => Vec::new(),
        }
    }

    /// The primary-key encoding of a live record of type index `t` (`None`: no such record, or
    /// the type has no key).
    pub fn primary_key(&self, t: usize, ordinal: u32) -> Option<Vec<u8>> {
        let TypeSchema::Object(o) = self.schema().types().get(t)? else {
            return None;
        };
        let pk = self.pk_fields.get(t).filter(|f| !f.is_empty())?;
        let enc = self.state.encoded(t, ordinal)?;
        let mut spans = Vec::with_capacity(o.fields.len());
        let mut pos = 0;
        for f in &o.fields {
            let start = pos;
            let _ = decode_field(&f.kind, enc, &mut pos);
            spans.push(start..pos.min(enc.len()));
        }
        let mut out = Vec::new();
        for i in pk {
            out.extend_from_slice(enc.get(spans.get(*i)?.clone())?);
        }
        Some(out)
    }
}

/// Refuses a state when a keyed type's record count changes by more than `max_ratio` of its
/// previous count (0.5: more than ±50 %; with `growth` false only drops are checked). Types
/// with fewer than `min_previous` records in the previous state are not checked, nor is the
/// first version.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountChangeValidator {
    /// The largest allowed change, as a fraction of the previous count.
    pub max_ratio: f64,
    /// Types smaller than this (in the previous state) are not checked.
    pub min_previous: u64,
    /// Also check types without a primary key (strings, lists of a record); default false:
    /// they follow their owners.
    pub all_types: bool,
    /// Check growth too (default true); false: only drops are refused.
    pub growth: bool,
}

impl CountChangeValidator {
    /// Name of this validator.
    pub const NAME: &'static str = "record_count_change";

    /// A check of keyed types of at least 10 records.
    pub fn new(max_ratio: f64) -> Self {
        CountChangeValidator {
            max_ratio,
            min_previous: 10,
            all_types: false,
            growth: true,
        }
    }
}

impl Validator for CountChangeValidator {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationFailure> {
        if ctx.previous_version().is_none() {
            return Ok(());
        }
        for (t, ts) in ctx.schema().types().iter().enumerate() {
            if !self.all_types && !ctx.has_primary_key(t) {
                continue;
            }
            let Some(c) = ctx.counts_at(t) else { continue };
            if c.previous < self.min_previous.max(1) {
                continue;
            }
            let change = c.new.abs_diff(c.previous) as f64;
            if (c.new < c.previous || self.growth) && change > self.max_ratio * c.previous as f64 {
                return Err(ValidationFailure::CountChange {
                    type_name: ts.name().into(),
                    previous: c.previous,
                    new: c.new,
                    max_ratio: self.max_ratio,
                });
            }
        }
        Ok(())
    }
}

/// Refuses a state in which two live records of a keyed type share a primary key.
///
/// [`PrimaryKeyValidator::incremental`] (the default) checks, in time proportional to the
/// changes, that each record the cycle added owns its key in the producer's key index and
/// that the index has exactly one key per live record — which, together with the check of
/// every earlier cycle, means no two live records share a key. [`PrimaryKeyValidator::full`]
/// recomputes the keys of every live record of each changed type from its encoding,
/// independently of the index (time proportional to the state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrimaryKeyValidator {
    /// Recompute every live record's key instead of checking the changes.
    pub full: bool,
}

impl PrimaryKeyValidator {
    /// Name of this validator.
    pub const NAME: &'static str = "primary_key_unique";

    /// The check of the changes (see the type docs).
    pub fn incremental() -> Self {
        PrimaryKeyValidator { full: false }
    }

    /// The check of every live record of the changed types.
    pub fn full() -> Self {
        PrimaryKeyValidator { full: true }
    }
}

impl Validator for PrimaryKeyValidator {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationFailure> {
        let dup = |t: usize, key: &[u8], a: u32, b: u32| ValidationFailure::DuplicateKey {
            type_name: ctx.schema().types()[t].name().into(),
            key: ctx.key_values(t, key),
            ordinals: (a.min(b), a.max(b)),
        };
        for (t, ts) in ctx.schema().types().iter().enumerate() {
            if !ctx.has_primary_key(t) {
                continue;
            }
            let changed = ctx
                .changes
                .types
                .get(t)
                .is_some_and(|c| !c.added.is_empty() || !c.removed.is_empty());
            if !changed {
                continue;
            }
            let live = ctx.state.types[t].len();
            if self.full {
                let mut seen: HashMap<Vec<u8>, u32> = HashMap::with_capacity(live as usize);
                for ord in ctx.state.types[t].ordinals() {
                    let Some(k) = ctx.primary_key(t, ord) else {
                        continue;
                    };
                    if let Some(other) = seen.insert(k.clone(), ord) {
                        return Err(dup(t, &k, other, ord));
                    }
                }
                continue;
            }
            let Some(index) = ctx.keys.get(t).and_then(Option::as_ref) else {
                continue;
            };
            for &ord in &ctx.changes.types[t].added {
                let Some(k) = ctx.primary_key(t, ord) else {
                    continue;
                };
                match index.get(&k[..]) {
                    Some(&o) if o == ord => {}
                    Some(&o) => return Err(dup(t, &k, o, ord)),
                    None => {
                        return Err(ValidationFailure::UnindexedKey {
                            type_name: ts.name().into(),
                            ordinal: ord,
                            key: ctx.key_values(t, &k),
                        })
                    }
                }
            }
            if index.len() as u64 != live {
                return Err(ValidationFailure::KeyCount {
                    type_name: ts.name().into(),
                    live,
                    keys: index.len() as u64,
                });
            }
        }
        Ok(())
    }
}

/// The values of a primary-key encoding of object type `o` (the record codec's encodings
/// of the fields `pk`, in key order, as [`ValidationContext::primary_key`] returns them).
/// String fields come back as strings when they are UTF-8; a short encoding ends in nulls.
pub(crate) fn key_values(o: &ObjectSchema, pk: &[usize], key: &[u8]) -> Vec<Value<'static>> {
    let mut pos = 0;
    pk.iter()
        .map(|&i| {
            let kind = &o.fields[i].kind;
            if pos >= key.len() {
                return Value::Null;
            }
            match (kind, decode_field(kind, key, &mut pos)) {
                (FieldKind::Primitive(Primitive::String), Value::Bytes(b)) => {
                    match std::str::from_utf8(&b) {
                        Ok(s) => Value::Str(s.to_owned().into()),
                        Err(_) => Value::Bytes(b.into_owned().into()),
                    }
                }
                (_, v) => v.into_owned(),
            }
        })
        .collect()
}

/// A list of validators, run in order (the first refusal stops the cycle).
#[derive(Clone, Default)]
pub struct Validators(pub Vec<Arc<dyn Validator>>);

impl Validators {
    /// No validators.
    pub fn none() -> Self {
        Validators(Vec::new())
    }

    /// Adds a validator.
    pub fn push(&mut self, v: impl Validator + 'static) {
        self.0.push(Arc::new(v));
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs them in order: the name of the first that refuses, and why.
    pub fn run(&self, ctx: &ValidationContext<'_>) -> Result<(), (String, ValidationFailure)> {
        for v in &self.0 {
            v.validate(ctx).map_err(|f| (v.name().to_string(), f))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Validators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|v| v.name().to_string()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hollow_format::value::Value;
    use hollow_state::dataset::DatasetSchema;
    use hollow_state::write::TypeChanges;

    /// A state whose `Item` type holds records 1, 2 and a second record with key 1 (two
    /// records differing in name), with the producer's index as it would be if a bug had
    /// let the second one in (one key, the last ordinal).
    type Keys = Vec<Option<FxHashMap<Box<[u8]>, u32>>>;

    fn duplicated() -> (WriteState, Vec<Vec<usize>>, Keys, StateChanges) {
        let ds =
            DatasetSchema::from_json(r#"{"dataset": "d", "type": "Item", "primary_key": ["id"], "fields": [{"name": "id", "kind": "i64"}, {"name": "name", "kind": "string"}]}"#)
                .unwrap();
        let mut ws = WriteState::new(ds.schema_set().unwrap());
        let t = ws.type_idx("Item").unwrap();
        let a = ws
            .add_object("Item", &[Value::I64(1), Value::str("a")])
            .unwrap();
        let b = ws
            .add_object("Item", &[Value::I64(2), Value::str("b")])
            .unwrap();
        let c = ws
            .add_object("Item", &[Value::I64(1), Value::str("c")])
            .unwrap();
        let mut pk_fields = vec![Vec::new(); ws.schema().types().len()];
        pk_fields[t] = vec![0];
        let mut keys: Keys = vec![None; ws.schema().types().len()];
        let mut changes = StateChanges {
            types: vec![TypeChanges::default(); ws.schema().types().len()],
        };
        changes.types[t].added = vec![a, b, c];
        let ctx_keys = {
            let probe = ValidationContext {
                state: &ws,
                changes: &changes,
                previous_version: None,
                previous_header: &BTreeMap::new(),
                header_updates: &BTreeMap::new(),
                full: false,
                pk_fields: &pk_fields,
                keys: &keys,
            };
            let mut m = FxHashMap::default();
            for o in [a, b, c] {
                m.insert(probe.primary_key(t, o).unwrap().into_boxed_slice(), o);
            }
            m
        };
        keys[t] = Some(ctx_keys);
        (ws, pk_fields, keys, changes)
    }

    fn check(
        v: PrimaryKeyValidator,
        ws: &WriteState,
        pk: &[Vec<usize>],
        keys: &KeyIndexes,
        changes: &StateChanges,
    ) -> Result<(), ValidationFailure> {
        let (h, u) = (BTreeMap::new(), BTreeMap::new());
        v.validate(&ValidationContext {
            state: ws,
            changes,
            previous_version: Some(1),
            previous_header: &h,
            header_updates: &u,
            full: false,
            pk_fields: pk,
            keys,
        })
    }

    #[test]
    fn duplicate_primary_keys_are_refused_by_both_modes() {
        let (ws, pk, keys, changes) = duplicated();
        let full = check(PrimaryKeyValidator::full(), &ws, &pk, &keys, &changes).unwrap_err();
        assert!(full.to_string().contains("share the primary key"), "{full}");
        assert_eq!(
            full,
            ValidationFailure::DuplicateKey {
                type_name: "Item".into(),
                key: vec![Value::I64(1)],
                ordinals: (0, 2),
            }
        );
        let inc = check(
            PrimaryKeyValidator::incremental(),
            &ws,
            &pk,
            &keys,
            &changes,
        )
        .unwrap_err();
        assert!(
            matches!(
                &inc,
                ValidationFailure::DuplicateKey { type_name, key, ordinals: (0, 2) }
                    if type_name == "Item" && key == &[Value::I64(1)]
            ) || matches!(
                inc,
                ValidationFailure::KeyCount {
                    live: 3,
                    keys: 2,
                    ..
                }
            ),
            "{inc}"
        );
    }

    #[test]
    fn unique_keys_pass() {
        let (mut ws, pk, mut keys, mut changes) = duplicated();
        let t = ws.type_idx("Item").unwrap();
        // drop the duplicate (ordinal 2) from the state and the index
        ws.remove("Item", 2).unwrap();
        changes.types[t].added = vec![0, 1];
        let m = keys[t].as_mut().unwrap();
        let dup_key: Vec<Box<[u8]>> = m
            .iter()
            .filter(|(_, o)| **o == 2)
            .map(|(k, _)| k.clone())
            .collect();
        for k in dup_key {
            m.insert(k, 0);
        }
        check(PrimaryKeyValidator::full(), &ws, &pk, &keys, &changes).unwrap();
        check(
            PrimaryKeyValidator::incremental(),
            &ws,
            &pk,
            &keys,
            &changes,
        )
        .unwrap();
        // an index entry left behind for a removed record is caught by the count
        keys[t]
            .as_mut()
            .unwrap()
            .insert(vec![9u8; 8].into_boxed_slice(), 7);
        assert!(check(
            PrimaryKeyValidator::incremental(),
            &ws,
            &pk,
            &keys,
            &changes
        )
        .is_err());
    }
}
