//! `hollow`: an explorer for the datasets of a hollow blob store (a folder or
//! `s3://bucket/prefix` whose sub-folders or sub-prefixes are datasets, as the producer and
//! the gatekeeper write them): versions, schema, records by key, streaming export, pin,
//! unpin, announce and checksum/chain verification.

use std::collections::{BTreeSet, HashSet};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use hollow::lifecycle::timeline::{delta_key, reverse_key, snapshot_key};
use hollow::lifecycle::{load_version, Timeline};
use hollow::store::{open_store, BlobStore};
use hollow::{FieldKind, MemoryMode, ReadState, TypeSchema, Value};
use serde_json::{json, Map, Value as Json};

const AFTER_HELP: &str = "Exit codes:
  0  success
  1  verify found damage
  2  usage error (bad flag or argument)
  3  not found (dataset, version, type or key)
  4  store unreachable or unreadable
  5  other failure";

/// Explore the datasets of a hollow blob store.
#[derive(Parser, Debug)]
#[command(name = "hollow", version, about, after_help = AFTER_HELP)]
struct Cli {
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
        /// The version (default: the announced one).
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
        /// The version (default: the announced one).
        #[arg(long)]
        version: Option<u64>,
        /// The object type (default: the first type with a primary key).
        #[arg(long = "type")]
        type_name: Option<String>,
        /// How deep references are followed (0: print ordinals).
        #[arg(long, default_value_t = 1)]
        depth: u32,
    },
    /// Stream every record of a type as JSON lines (references as ordinals).
    Export {
        /// The dataset.
        dataset: String,
        /// The version (default: the announced one).
        #[arg(long)]
        version: Option<u64>,
        /// The object type (default: the first type with a primary key).
        #[arg(long = "type")]
        type_name: Option<String>,
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
    /// Check the checksum of every blob and that every version can be reached.
    Verify {
        /// The dataset.
        dataset: String,
    },
}

/// An error with its exit code.
struct Failure(u8, String);

fn fail<T>(code: u8, msg: impl Into<String>) -> Result<T, Failure> {
    Err(Failure(code, msg.into()))
}

/// Maps a library error to an exit code: store trouble is 4, a missing type or field 3.
fn lib(context: &str) -> impl Fn(hollow::Error) -> Failure + '_ {
    move |e| {
        let code = match &e {
            hollow::Error::Store(hollow::store::StoreError::NotFound { .. }) => 3,
            hollow::Error::Store(_) => 4,
            hollow::Error::NoSuchType(_) | hollow::Error::NoSuchField { .. } => 3,
            hollow::Error::Unreachable { .. } => 3,
            _ => 5,
        };
        Failure(code, format!("{context}: {e}"))
    }
}

fn main() -> ExitCode {
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
        Cmd::Datasets => datasets(cli, out),
        Cmd::Versions { dataset } => versions(cli, dataset, out),
        Cmd::Schema { dataset, version } => {
            let (_, v, state) = load(cli, dataset, *version)?;
            schema(cli, v, &state, out)
        }
        Cmd::Get {
            dataset,
            keys,
            version,
            type_name,
            depth,
        } => {
            let (_, _, state) = load(cli, dataset, *version)?;
            get(&state, type_name.as_deref(), keys, *depth, out)
        }
        Cmd::Export {
            dataset,
            version,
            type_name,
        } => {
            let (_, _, state) = load(cli, dataset, *version)?;
            export(&state, type_name.as_deref(), out)
        }
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
        Cmd::Verify { dataset } => verify(cli, dataset, out),
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

fn datasets(cli: &Cli, out: &mut impl Write) -> Result<u8, Failure> {
    let names = dataset_names(&*root(cli)?)?;
    if cli.json {
        writeln!(out, "{}", json!(names)).map_err(io_fail)?;
    } else {
        for n in names {
            writeln!(out, "{n}").map_err(io_fail)?;
        }
    }
    Ok(0)
}

fn blob_size(store: &dyn BlobStore, key: &str) -> Result<Option<u64>, Failure> {
    // The store API has no size query: read the blob (versions listings are small).
    store
        .get_opt(key)
        .map(|b| b.map(|b| b.len() as u64))
        .map_err(|e| Failure(4, format!("reading {key}: {e}")))
}

fn versions(cli: &Cli, dataset: &str, out: &mut impl Write) -> Result<u8, Failure> {
    let t = timeline(cli, dataset)?;
    let idx = t.index().map_err(lib("listing versions"))?;
    let announced = t.announced().map_err(lib("reading the announcement"))?;
    let pinned = t.pinned().map_err(lib("reading the pin"))?;
    let store = t.store().clone();
    let mut rows = Vec::new();
    for v in idx.versions() {
        let meta = t.meta(v).map_err(lib("reading metadata"))?;
        let snap = blob_size(&*store, &snapshot_key(v))?;
        let prev = meta.and_then(|m| m.1);
        let delta = match prev {
            Some(p) => blob_size(&*store, &delta_key(p, v))?,
            None => None,
        };
        let reverse = match prev {
            Some(p) => blob_size(&*store, &reverse_key(v, p))?,
            None => None,
        };
        let header = match snap {
            Some(_) => store
                .get(&snapshot_key(v))
                .ok()
                .and_then(|b| ReadState::from_vec(b).ok())
                .map(|s| s.header().clone())
                .unwrap_or_default(),
            None => Default::default(),
        };
        rows.push(json!({
            "version": v,
            "time_ms": meta.map(|m| m.0),
            "previous": prev,
            "snapshot_bytes": snap,
            "delta_bytes": delta,
            "reverse_bytes": reverse,
            "header": header,
            "announced": announced == Some(v),
            "pinned": pinned == Some(v),
        }));
    }
    if cli.json {
        writeln!(out, "{}", Json::Array(rows)).map_err(io_fail)?;
        return Ok(0);
    }
    let cell = |j: &Json| match j {
        Json::Null => "-".to_owned(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut table = vec![vec![
        "VERSION".to_owned(),
        "TIME_MS".into(),
        "SNAPSHOT".into(),
        "DELTA".into(),
        "REVERSE".into(),
        "FLAGS".into(),
        "HEADER".into(),
    ]];
    for r in &rows {
        let mut flags = Vec::new();
        if r["announced"] == true {
            flags.push("announced");
        }
        if r["pinned"] == true {
            flags.push("pinned");
        }
        let header = r["header"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", cell(v)))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        table.push(vec![
            cell(&r["version"]),
            cell(&r["time_ms"]),
            cell(&r["snapshot_bytes"]),
            cell(&r["delta_bytes"]),
            cell(&r["reverse_bytes"]),
            if flags.is_empty() {
                "-".to_owned()
            } else {
                flags.join(",")
            },
            header,
        ]);
    }
    print_table(out, &table)?;
    Ok(0)
}

fn print_table(out: &mut impl Write, rows: &[Vec<String>]) -> Result<(), Failure> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::new();
        for (c, s) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line.push_str(s);
            } else {
                line.push_str(&format!("{s:<w$}  ", w = widths[c]));
            }
        }
        writeln!(out, "{}", line.trim_end()).map_err(io_fail)?;
    }
    Ok(())
}

fn kind_text(k: &FieldKind) -> String {
    match k {
        FieldKind::Reference(t) => format!("-> {t}"),
        other => other.name().to_owned(),
    }
}

fn schema(cli: &Cli, v: u64, state: &ReadState, out: &mut impl Write) -> Result<u8, Failure> {
    let types: Vec<Json> = state
        .schema()
        .types()
        .iter()
        .map(|t| match t {
            TypeSchema::Object(o) => json!({
                "name": o.name, "kind": "object", "primary_key": o.primary_key,
                "fields": o.fields.iter().map(|f| json!({"name": f.name, "kind": kind_text(&f.kind)})).collect::<Vec<_>>(),
            }),
            other => json!({"name": other.name(), "kind": other.kind_name(), "elements": other.referenced_types()}),
        })
        .collect();
    if cli.json {
        writeln!(out, "{}", json!({"version": v, "types": types})).map_err(io_fail)?;
        return Ok(0);
    }
    for t in state.schema().types() {
        match t {
            TypeSchema::Object(o) => {
                let pk = o
                    .primary_key
                    .as_ref()
                    .map(|k| format!(" (primary key: {})", k.join(", ")))
                    .unwrap_or_default();
                writeln!(out, "object {}{pk}", o.name).map_err(io_fail)?;
                let rows: Vec<Vec<String>> = o
                    .fields
                    .iter()
                    .map(|f| vec![format!("  {}", f.name), kind_text(&f.kind)])
                    .collect();
                print_table(out, &rows)?;
            }
            other => writeln!(
                out,
                "{} {} of {}",
                other.kind_name(),
                other.name(),
                other.referenced_types().join(", ")
            )
            .map_err(io_fail)?,
        }
    }
    Ok(0)
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

fn parse_key_value(kind: &FieldKind, s: &str) -> Result<Value<'static>, Failure> {
    let bad = || Failure(2, format!("{s:?} is not a {} key value", kind.name()));
    Ok(match kind {
        FieldKind::I32 => Value::I32(s.parse().map_err(|_| bad())?),
        FieldKind::I64 => Value::I64(s.parse().map_err(|_| bad())?),
        FieldKind::Bool => Value::Bool(s.parse().map_err(|_| bad())?),
        FieldKind::F32 => Value::F32(s.parse().map_err(|_| bad())?),
        FieldKind::F64 => Value::F64(s.parse().map_err(|_| bad())?),
        FieldKind::String => Value::Str(s.to_owned().into()),
        FieldKind::Bytes => Value::Bytes(s.as_bytes().to_vec().into()),
        FieldKind::Reference(_) => return Err(bad()),
    })
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

/// A record (or list/set/map element) as JSON, references followed `depth` levels.
fn record_json(state: &ReadState, type_name: &str, o: u32, depth: u32) -> Result<Json, Failure> {
    let Some(t) = state.schema().get(type_name) else {
        return fail(3, format!("no type {type_name:?}"));
    };
    let err = lib("reading a record");
    match t {
        TypeSchema::Object(schema) => {
            let view = state.object(type_name).map_err(&err)?;
            let mut m = Map::new();
            for (i, f) in schema.fields.iter().enumerate() {
                let v = view.get(o, i).map_err(&err)?;
                let j = match (&f.kind, &v) {
                    (FieldKind::Reference(target), Value::Ref(r)) if depth > 0 => {
                        record_json(state, target, *r, depth - 1)?
                    }
                    _ => value_json(&v),
                };
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
            let mut items = Vec::new();
            for e in elements {
                items.push(if depth > 0 {
                    record_json(state, element, e, depth - 1)?
                } else {
                    json!(e)
                });
            }
            Ok(Json::Array(items))
        }
        TypeSchema::Map { .. } => Ok(json!({ "map_ordinal": o })),
    }
}

fn get(
    state: &ReadState,
    t: Option<&str>,
    keys: &[String],
    depth: u32,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let t = pick_type(state, t)?;
    let schema = state
        .schema()
        .object(&t)
        .map_err(lib("reading the schema"))?;
    let Some(pk) = schema.primary_key.clone() else {
        return fail(2, format!("type {t:?} has no primary key"));
    };
    let kinds: Vec<FieldKind> = pk
        .iter()
        .map(|p| state.schema().resolve_path(&t, p).map(|(_, k)| k))
        .collect::<Result<_, _>>()
        .map_err(lib("reading the key"))?;
    let index = hollow::index::PrimaryKeyIndex::for_primary_key(state, &t)
        .map_err(lib("indexing the primary key"))?;
    for key in keys {
        let parts: Vec<&str> = key.split('|').collect();
        if parts.len() != kinds.len() {
            return fail(
                2,
                format!("key {key:?} needs {} part(s) joined by '|'", kinds.len()),
            );
        }
        let values = parts
            .iter()
            .zip(&kinds)
            .map(|(p, k)| parse_key_value(k, p))
            .collect::<Result<Vec<_>, _>>()?;
        let Some(o) = index
            .try_get(state, &values)
            .map_err(lib("looking up the key"))?
        else {
            return fail(3, format!("no {t} with key {key:?}"));
        };
        let j = record_json(state, &t, o, depth)?;
        writeln!(out, "{j}").map_err(io_fail)?;
    }
    Ok(0)
}

fn export(state: &ReadState, t: Option<&str>, out: &mut impl Write) -> Result<u8, Failure> {
    let t = pick_type(state, t)?;
    let view = state.object(&t).map_err(lib("reading the type"))?;
    let names: Vec<String> = view
        .schema()
        .fields
        .iter()
        .map(|f| serde_json::to_string(&f.name).unwrap_or_default())
        .collect();
    let err = lib("reading a record");
    let mut line = String::new();
    for o in view.ordinals() {
        line.clear();
        line.push('{');
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(name);
            line.push(':');
            line.push_str(&value_json(&view.get(o, i).map_err(&err)?).to_string());
        }
        line.push_str("}\n");
        out.write_all(line.as_bytes()).map_err(io_fail)?;
    }
    Ok(0)
}

fn verify(cli: &Cli, dataset: &str, out: &mut impl Write) -> Result<u8, Failure> {
    let t = timeline(cli, dataset)?;
    let idx = t.index().map_err(lib("listing versions"))?;
    let store = t.store().clone();
    let mut keys = Vec::new();
    keys.extend(idx.snapshots.iter().map(|v| snapshot_key(*v)));
    for (a, bs) in &idx.deltas {
        keys.extend(bs.iter().map(|b| delta_key(*a, *b)));
    }
    for (a, bs) in &idx.reverses {
        keys.extend(bs.iter().map(|b| reverse_key(*a, *b)));
    }
    let mut broken = Vec::new();
    for k in &keys {
        let bytes = store
            .get(k)
            .map_err(|e| Failure(4, format!("reading {k}: {e}")))?;
        if let Err(e) = hollow::blob::verify_checksum(&bytes) {
            broken.push(json!({"blob": k, "problem": e.to_string()}));
        }
    }
    let bad: HashSet<hollow::lifecycle::Step> = HashSet::new();
    let mut unreachable = Vec::new();
    for v in idx.versions() {
        if idx.plan(None, v, &bad).is_none() {
            unreachable.push(v);
        }
    }
    for v in &unreachable {
        broken.push(json!({"version": v, "problem": "no path from a snapshot reaches it"}));
    }
    if cli.json {
        writeln!(
            out,
            "{}",
            json!({"dataset": dataset, "blobs": keys.len(), "broken": broken})
        )
        .map_err(io_fail)?;
    } else {
        writeln!(out, "{dataset}: {} blobs checked", keys.len()).map_err(io_fail)?;
        for b in &broken {
            let what = b
                .get("blob")
                .map(|k| k.as_str().unwrap_or_default().to_owned())
                .unwrap_or_else(|| format!("version {}", b["version"]));
            writeln!(
                out,
                "BROKEN {what}: {}",
                b["problem"].as_str().unwrap_or_default()
            )
            .map_err(io_fail)?;
        }
        if broken.is_empty() {
            writeln!(out, "ok").map_err(io_fail)?;
        }
    }
    Ok(if broken.is_empty() { 0 } else { 1 })
}
