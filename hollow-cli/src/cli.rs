//! The command line: the global flags ([`Cli`]), the subcommands ([`Cmd`]) and the export
//! formats, parsed with clap (derive). `main.rs` dispatches each subcommand to its module.

use clap::{Parser, Subcommand, ValueEnum};

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
pub(crate) struct Cli {
    /// The store: a folder (or file:///dir) or s3://bucket/prefix; each dataset is a
    /// sub-folder / sub-prefix of it.
    #[arg(long, global = true, env = "HOLLOW_STORE", default_value = ".")]
    pub(crate) store: String,
    /// Print JSON for scripts instead of tables.
    #[arg(long, global = true, default_value_t = false)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) cmd: Cmd,
}

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Cmd {
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
