//! `hollow`: an explorer for the datasets of a hollow blob store (a folder or
//! `s3://bucket/prefix` whose sub-folders or sub-prefixes are datasets, as the producer and
//! the gatekeeper write them): versions, schema, statistics, records by key or by field,
//! streaming export (JSON lines, CSV), diffs, record history, retention, pin, unpin,
//! announce and verification of checksums and of the delta chain.
//!
//! One module per family of subcommands; this file holds the command line, the exit codes
//! and what they share (opening the store, loading a version, picking a type, keys).

mod browse;
mod changes;
mod export;
mod query;
mod retention;
mod stats;
mod ui;
mod verify;

use std::collections::BTreeSet;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use hollow::lifecycle::{load_version, Timeline};
use hollow::store::{open_store, BlobStore};
use hollow::{FieldKind, MemoryMode, ReadState, TypeSchema, Value};
use serde_json::{json, Map, Value as Json};

const AFTER_HELP: &str = "Exit codes:
  0  success
  1  verify found damage
  2  usage error (bad flag or argument)
  3  not found (dataset, version, type, field or key)
  4  store unreachable or unreadable
  5  other failure

Colours only when stdout is a terminal and NO_COLOR is unset; progress bars only when
stderr is a terminal.";

/// Explore the datasets of a hollow blob store.
#[derive(Parser, Debug)]
#[command(name = "hollow", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// The store: a folder (or file:///dir) or s3://bucket/prefix; each dataset is a
    /// sub-folder / sub-prefix of it.
    #[arg(long, global = true, env = "HOLLOW_STORE", default_value = ".")]
    store: String,
    /// Print JSON for scripts instead of tables.
    #[arg(long, global = true, default_value_t = false)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// List the datasets of the store.
    Datasets,
    /// List the versions of a dataset: time, blob sizes, header tags, pinned/announced.
    Versions {
        /// The dataset (a sub-folder of the store).
        dataset: String,
    },
    /// Print the schema of a dataset.
    Schema {
        /// The dataset.
        dataset: String,
        /// The version (default: the pinned, else the announced one).
        #[arg(long)]
        version: Option<u64>,
    },
    /// Records, holes and bytes per type and per field: bits per record, pool bytes, dedup.
    Stats {
        /// The dataset.
        dataset: String,
        /// The version (default: the pinned, else the announced one).
        #[arg(long)]
        version: Option<u64>,
    },
    /// Print records by primary key as JSON (composite keys joined by `|`).
    Get {
        /// The dataset.
        dataset: String,
        /// One or more primary keys.
        #[arg(required = true)]
        keys: Vec<String>,
        /// The version (default: the pinned, else the announced one).
        #[arg(long)]
        version: Option<u64>,
        /// The object type (default: the first type with a primary key).
        #[arg(long = "type")]
        type_name: Option<String>,
        /// How deep references are followed (0: print ordinals).
        #[arg(long, default_value_t = 1)]
        depth: u32,
    },
    /// Records whose fields equal values: by the primary-key index when the conditions name
    /// exactly the primary key, by a scan otherwise (the method is said on stderr / in JSON).
    Query {
        /// The dataset.
        dataset: String,
        /// FIELD=VALUE (a field name or a dotted path through references; `null` matches
        /// null); repeat for several conditions, all of which must hold.
        #[arg(long = "where", value_name = "FIELD=VALUE", required = true)]
        conditions: Vec<String>,
        /// The object type (default: the first type with a primary key).
        #[arg(long = "type")]
        type_name: Option<String>,
        /// The version (default: the pinned, else the announced one).
        #[arg(long)]
        version: Option<u64>,
        /// Print at most this many records.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Stream every record of a type (references as ordinals).
    Export {
        /// The dataset.
        dataset: String,
        /// The version (default: the pinned, else the announced one).
        #[arg(long)]
        version: Option<u64>,
        /// The object type (default: the first type with a primary key).
        #[arg(long = "type")]
        type_name: Option<String>,
        /// The output format.
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
    },
    /// The records added, removed and changed (field by field) from V1 to V2.
    Diff {
        /// The dataset.
        dataset: String,
        /// The older version.
        v1: u64,
        /// The newer version.
        v2: u64,
        /// The object type (default: the first type with a primary key).
        #[arg(long = "type")]
        type_name: Option<String>,
        /// Match records by these fields (comma-separated) instead of the primary key.
        #[arg(long, value_delimiter = ',')]
        key: Vec<String>,
    },
    /// The versions at which a record changed, with each change.
    History {
        /// The dataset.
        dataset: String,
        /// The record's primary key (composite keys joined by `|`).
        key: String,
        /// The object type (default: the first type with a primary key).
        #[arg(long = "type")]
        type_name: Option<String>,
        /// How deep references are followed in the records shown (0: print ordinals).
        #[arg(long, default_value_t = 1)]
        depth: u32,
    },
    /// Delete old versions, keeping the last N and/or those of the last D days (whichever
    /// keeps more), and always the pinned, announced and protected versions.
    #[command(group(clap::ArgGroup::new("keep_what").required(true).multiple(true).args(["keep", "keep_days"])))]
    Retention {
        /// The dataset.
        dataset: String,
        /// Keep the newest N versions.
        #[arg(long, value_name = "N")]
        keep: Option<usize>,
        /// Keep the versions published in the last D days.
        #[arg(long, value_name = "D")]
        keep_days: Option<f64>,
        /// Only show what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Pin a version: consumers use it instead of the announced one.
    Pin {
        /// The dataset.
        dataset: String,
        /// The version.
        version: u64,
    },
    /// Remove the pin.
    Unpin {
        /// The dataset.
        dataset: String,
    },
    /// Announce a version.
    Announce {
        /// The dataset.
        dataset: String,
        /// The version.
        version: u64,
    },
    /// Check the checksum of every blob and that every version can be reached; with --all
    /// also load every snapshot, apply every delta and reverse delta and compare the
    /// results with the snapshots and states they must equal.
    Verify {
        /// The dataset.
        dataset: String,
        /// Walk the whole chain (slower: loads every version).
        #[arg(long)]
        all: bool,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff).
    Man,
}

/// An error with its exit code.
struct Failure(u8, String);

fn fail<T>(code: u8, msg: impl Into<String>) -> Result<T, Failure> {
    Err(Failure(code, msg.into()))
}

/// Maps a library error to an exit code: store trouble is 4, a missing type or field 3.
/// Takes the library's error and the data layers' alike.
fn lib<E: Into<hollow::Error>>(context: &str) -> impl Fn(E) -> Failure + '_ {
    move |e| {
        let e: hollow::Error = e.into();
        let code = match &e {
            hollow::Error::Store(hollow::store::StoreError::NotFound { .. }) => 3,
            hollow::Error::Store(_) => 4,
            hollow::Error::Data(
                hollow::DataError::NoSuchType(_) | hollow::DataError::NoSuchField { .. },
            ) => 3,
            hollow::Error::Unreachable { .. } => 3,
            _ => 5,
        };
        Failure(code, format!("{context}: {e}"))
    }
}

fn main() -> ExitCode {
    // A bug must still end in one line on stderr, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("hollow: internal error: {info}");
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = run(&cli, &mut out).and_then(|code| {
        out.flush().map_err(io_fail)?;
        Ok(code)
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure(0, _)) => ExitCode::SUCCESS,
        Err(Failure(code, msg)) => {
            eprintln!("hollow: {msg}");
            ExitCode::from(code)
        }
    }
}

/// A write error: a closed pipe (`hollow export … | head`) ends quietly.
fn io_fail(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure(0, String::new())
    } else {
        Failure(5, format!("writing the output: {e}"))
    }
}

fn run(cli: &Cli, out: &mut impl Write) -> Result<u8, Failure> {
    match &cli.cmd {
        Cmd::Datasets => browse::datasets(cli, out),
        Cmd::Versions { dataset } => browse::versions(cli, dataset, out),
        Cmd::Schema { dataset, version } => {
            let (_, v, state) = load(cli, dataset, *version)?;
            browse::schema(cli, v, &state, out)
        }
        Cmd::Stats { dataset, version } => {
            let (t, v, state) = load(cli, dataset, *version)?;
            stats::stats(cli, &t, v, &state, out)
        }
        Cmd::Get {
            dataset,
            keys,
            version,
            type_name,
            depth,
        } => {
            let (_, _, state) = load(cli, dataset, *version)?;
            browse::get(&state, type_name.as_deref(), keys, *depth, out)
        }
        Cmd::Query {
            dataset,
            conditions,
            type_name,
            version,
            limit,
        } => {
            let (_, _, state) = load(cli, dataset, *version)?;
            query::query(cli, &state, type_name.as_deref(), conditions, *limit, out)
        }
        Cmd::Export {
            dataset,
            version,
            type_name,
            format,
        } => {
            let (_, _, state) = load(cli, dataset, *version)?;
            let t = pick_type(&state, type_name.as_deref())?;
            export::export(&state, &t, *format, out)?;
            Ok(0)
        }
        Cmd::Diff {
            dataset,
            v1,
            v2,
            type_name,
            key,
        } => changes::diff(cli, dataset, *v1, *v2, type_name.as_deref(), key, out),
        Cmd::History {
            dataset,
            key,
            type_name,
            depth,
        } => changes::history(cli, dataset, key, type_name.as_deref(), *depth, out),
        Cmd::Retention {
            dataset,
            keep,
            keep_days,
            dry_run,
        } => retention::retention(cli, dataset, *keep, *keep_days, *dry_run, out),
        Cmd::Pin { dataset, version } => {
            let t = timeline(cli, dataset)?;
            known_version(&t, dataset, *version)?;
            t.pin(*version).map_err(lib("pinning"))?;
            say(
                cli,
                out,
                json!({"dataset": dataset, "pinned": version}),
                || format!("{dataset}: pinned {version}"),
            )
        }
        Cmd::Unpin { dataset } => {
            let t = timeline(cli, dataset)?;
            t.unpin().map_err(lib("unpinning"))?;
            say(
                cli,
                out,
                json!({"dataset": dataset, "pinned": null}),
                || format!("{dataset}: unpinned"),
            )
        }
        Cmd::Announce { dataset, version } => {
            let t = timeline(cli, dataset)?;
            known_version(&t, dataset, *version)?;
            t.announce(*version).map_err(lib("announcing"))?;
            say(
                cli,
                out,
                json!({"dataset": dataset, "announced": version}),
                || format!("{dataset}: announced {version}"),
            )
        }
        Cmd::Verify { dataset, all } => verify::verify(cli, dataset, *all, out),
        Cmd::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "hollow", out);
            Ok(0)
        }
        Cmd::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(out)
                .map_err(io_fail)?;
            Ok(0)
        }
    }
}

fn say(cli: &Cli, out: &mut impl Write, j: Json, text: impl Fn() -> String) -> Result<u8, Failure> {
    if cli.json {
        writeln!(out, "{j}").map_err(io_fail)?;
    } else {
        writeln!(out, "{}", text()).map_err(io_fail)?;
    }
    Ok(0)
}

fn root(cli: &Cli) -> Result<Arc<dyn BlobStore>, Failure> {
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
fn dataset_url(cli: &Cli, dataset: &str) -> Result<String, Failure> {
    if dataset.is_empty() || dataset.contains(['/', '\\']) || dataset.starts_with('.') {
        return fail(2, format!("{dataset:?} is not a dataset name"));
    }
    Ok(format!("{}/{dataset}", cli.store.trim_end_matches('/')))
}

/// The dataset's timeline; not found (3) when the store holds no version of it.
fn timeline(cli: &Cli, dataset: &str) -> Result<Timeline, Failure> {
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

fn known_version(t: &Timeline, dataset: &str, v: u64) -> Result<(), Failure> {
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

fn range(vs: &BTreeSet<u64>) -> String {
    match (vs.first(), vs.last()) {
        (Some(a), Some(b)) => format!("{} versions, {a}..={b}", vs.len()),
        _ => "no versions".to_owned(),
    }
}

/// Loads a version (default: pinned, else announced) of a dataset.
fn load(cli: &Cli, dataset: &str, v: Option<u64>) -> Result<(Timeline, u64, ReadState), Failure> {
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
fn dataset_names(store: &dyn BlobStore) -> Result<BTreeSet<String>, Failure> {
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
fn pick_type(state: &ReadState, t: Option<&str>) -> Result<String, Failure> {
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
fn parse_key_value(kind: &FieldKind, s: &str) -> Result<Value<'static>, Failure> {
    hollow::key::parse_part(kind, s).map_err(|e| Failure(2, e.to_string()))
}

/// The values of a key given on the command line for the key fields `fields` (names or
/// dotted paths) of `type_name`: one part per field, joined by `|` ([`hollow::key`]).
fn parse_key(
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

/// A value for people: strings bare, null as `-`, references as `#ordinal`.
fn value_text(v: &Value<'_>) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::Str(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Ref(r) => format!("#{r}"),
        other => value_json(other).to_string(),
    }
}

/// A compact one-line rendering of a JSON value for a table cell.
fn cell_text(j: &Json) -> String {
    match j {
        Json::Null => "-".to_owned(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn value_json(v: &Value<'_>) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::I32(i) => json!(i),
        Value::I64(i) => json!(i),
        Value::F32(f) => json!(f),
        Value::F64(f) => json!(f),
        Value::Str(s) => json!(s),
        Value::Bytes(b) => json!(String::from_utf8_lossy(b)),
        Value::Ref(r) => json!(r),
    }
}

/// A record as JSON, references followed `depth` levels (a reference to a list, set or map
/// and the collection's own step to its elements count as one level together). A record
/// reached through a reference whose type has a single non-reference field (`String` of a
/// `ListOfString`) is shown as that field's value; at depth 0 references are ordinals.
fn record_json(state: &ReadState, type_name: &str, o: u32, depth: u32) -> Result<Json, Failure> {
    node_json(state, type_name, o, depth, true)
}

fn node_json(
    state: &ReadState,
    type_name: &str,
    o: u32,
    depth: u32,
    top: bool,
) -> Result<Json, Failure> {
    let Some(t) = state.schema().get(type_name) else {
        return fail(3, format!("no type {type_name:?}"));
    };
    let err = lib("reading a record");
    let follow = |target: &str, r: u32| -> Result<Json, Failure> {
        if depth == 0 {
            return Ok(json!(r));
        }
        match state.schema().get(target) {
            // a collection's elements are one level below the record that points to it
            Some(TypeSchema::Object(_)) => node_json(state, target, r, depth - 1, false),
            Some(_) => node_json(state, target, r, depth, false),
            None => fail(3, format!("no type {target:?}")),
        }
    };
    match t {
        TypeSchema::Object(schema) => {
            let view = state.object(type_name).map_err(&err)?;
            let scalar_only = !top
                && schema.fields.len() == 1
                && !matches!(schema.fields[0].kind, FieldKind::Reference(_));
            let mut m = Map::new();
            for (i, f) in schema.fields.iter().enumerate() {
                let v = view.get(o, i).map_err(&err)?;
                let j = match (&f.kind, &v) {
                    (FieldKind::Reference(target), Value::Ref(r)) => follow(target, *r)?,
                    _ => value_json(&v),
                };
                if scalar_only {
                    return Ok(j);
                }
                m.insert(f.name.clone(), j);
            }
            Ok(Json::Object(m))
        }
        TypeSchema::List { element, .. } | TypeSchema::Set { element, .. } => {
            let elements: Vec<u32> = if t.kind_name() == "list" {
                let l = state.list(type_name).map_err(&err)?;
                l.elements(o).map_err(&err)?.collect()
            } else {
                let s = state.set(type_name).map_err(&err)?;
                s.elements(o).map_err(&err)?.collect()
            };
            let mut items = Vec::with_capacity(elements.len());
            for e in elements {
                items.push(follow_element(state, element, e, depth)?);
            }
            Ok(Json::Array(items))
        }
        TypeSchema::Map { key, value, .. } => {
            let m = state.map(type_name).map_err(&err)?;
            let mut entries = Vec::new();
            for (k, v) in m.entries(o).map_err(&err)? {
                entries.push(json!({
                    "key": follow_element(state, key, k, depth)?,
                    "value": follow_element(state, value, v, depth)?,
                }));
            }
            Ok(Json::Array(entries))
        }
    }
}

/// An element of a collection reached at `depth` (the collection's own level).
fn follow_element(state: &ReadState, element: &str, e: u32, depth: u32) -> Result<Json, Failure> {
    if depth == 0 {
        Ok(json!(e))
    } else {
        node_json(state, element, e, depth - 1, false)
    }
}
