//! What the subcommands share: opening the store and a dataset's timeline, checking and
//! loading a version, picking the object type to work on and parsing keys typed on the
//! command line (by the key codec, [`hollow::key`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use hollow::lifecycle::{load_version, Timeline};
use hollow::store::{open_store, BlobStore};
use hollow::{FieldKind, MemoryMode, ReadState, TypeSchema, Value};

use crate::cli::Cli;
use crate::fail::{fail, lib, Failure};

pub(crate) fn root(cli: &Cli) -> Result<Arc<dyn BlobStore>, Failure> {
    // open_store creates a missing folder; an explorer must not (a typo would make one).
    if !cli.store.contains("://") || cli.store.starts_with("file://") {
        let path = cli.store.strip_prefix("file://").unwrap_or(&cli.store);
        if !std::path::Path::new(path).is_dir() {
            return fail(4, format!("store {path:?} is not a folder"));
        }
    }
    open_store(&cli.store).map_err(|e| Failure(4, format!("opening the store: {e}")))
}

/// The URL of a dataset's own store.
pub(crate) fn dataset_url(cli: &Cli, dataset: &str) -> Result<String, Failure> {
    if dataset.is_empty() || dataset.contains(['/', '\\']) || dataset.starts_with('.') {
        return fail(2, format!("{dataset:?} is not a dataset name"));
    }
    Ok(format!("{}/{dataset}", cli.store.trim_end_matches('/')))
}

/// The dataset's timeline; not found (3) when the store holds no version of it.
pub(crate) fn timeline(cli: &Cli, dataset: &str) -> Result<Timeline, Failure> {
    let names = dataset_names(&*root(cli)?)?;
    if !names.contains(dataset) {
        return fail(
            3,
            format!(
                "no dataset {dataset:?} in {} (datasets: {})",
                cli.store,
                names.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    let store = open_store(&dataset_url(cli, dataset)?)
        .map_err(|e| Failure(4, format!("opening dataset {dataset:?}: {e}")))?;
    Ok(Timeline::new(store))
}

pub(crate) fn known_version(t: &Timeline, dataset: &str, v: u64) -> Result<(), Failure> {
    let versions = t.index().map_err(lib("listing versions"))?.versions();
    if !versions.contains(&v) {
        return fail(
            3,
            format!(
                "dataset {dataset:?} has no version {v} (it has {})",
                range(&versions)
            ),
        );
    }
    Ok(())
}

pub(crate) fn range(vs: &BTreeSet<u64>) -> String {
    match (vs.first(), vs.last()) {
        (Some(a), Some(b)) => format!("{} versions, {a}..={b}", vs.len()),
        _ => "no versions".to_owned(),
    }
}

/// Loads a version (default: pinned, else announced) of a dataset.
pub(crate) fn load(
    cli: &Cli,
    dataset: &str,
    v: Option<u64>,
) -> Result<(Timeline, u64, ReadState), Failure> {
    let t = timeline(cli, dataset)?;
    let v = match v {
        Some(v) => v,
        None => match t.target().map_err(lib("reading the announcement"))? {
            Some(v) => v,
            None => return fail(3, format!("dataset {dataset:?} has no announced version")),
        },
    };
    known_version(&t, dataset, v)?;
    let state = load_version(t.store().clone(), v, MemoryMode::Heap)
        .map_err(lib(&format!("loading version {v} of {dataset:?}")))?;
    Ok((t, v, state))
}

/// Datasets: the first key segments under which a `meta/`, `snapshot/` or `announced` key is.
pub(crate) fn dataset_names(store: &dyn BlobStore) -> Result<BTreeSet<String>, Failure> {
    let keys = store
        .list("")
        .map_err(|e| Failure(4, format!("listing the store: {e}")))?;
    Ok(keys
        .iter()
        .filter_map(|k| {
            let (ds, rest) = k.split_once('/')?;
            (rest == "announced" || rest.starts_with("snapshot/")).then(|| ds.to_owned())
        })
        .collect())
}

/// The object type to work on: the given one, else the first with a primary key.
pub(crate) fn pick_type(state: &ReadState, t: Option<&str>) -> Result<String, Failure> {
    let objects: Vec<&hollow::ObjectSchema> = state
        .schema()
        .types()
        .iter()
        .filter_map(|t| match t {
            TypeSchema::Object(o) => Some(o),
            _ => None,
        })
        .collect();
    match t {
        Some(t) => match objects.iter().find(|o| o.name == t) {
            Some(o) => Ok(o.name.clone()),
            None => fail(
                3,
                format!(
                    "no object type {t:?} (types: {})",
                    objects
                        .iter()
                        .map(|o| o.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        },
        None => objects
            .iter()
            .find(|o| o.primary_key.is_some())
            .or(objects.first())
            .map(|o| o.name.clone())
            .ok_or_else(|| Failure(3, "the dataset has no object type".to_owned())),
    }
}

/// One key value typed on the command line, by the key codec's rules ([`hollow::key`]).
pub(crate) fn parse_key_value(kind: &FieldKind, s: &str) -> Result<Value<'static>, Failure> {
    hollow::key::parse_part(kind, s).map_err(|e| Failure(2, e.to_string()))
}

/// The values of a key given on the command line for the key fields `fields` (names or
/// dotted paths) of `type_name`: one part per field, joined by `|` ([`hollow::key`]).
pub(crate) fn parse_key(
    state: &ReadState,
    type_name: &str,
    fields: &[String],
    key: &str,
) -> Result<Vec<Value<'static>>, Failure> {
    let kinds = fields
        .iter()
        .map(|f| {
            let (_, kind) = state
                .schema()
                .resolve_path(type_name, f)
                .map_err(lib("reading the key"))?;
            Ok(kind)
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    hollow::key::parse(&kinds, key).map_err(|e| {
        Failure(
            2,
            format!("{e} (key fields, joined by '|': {})", fields.join(", ")),
        )
    })
}
