//! `hollow`: an explorer for the datasets of a hollow blob store (a folder or
//! `s3://bucket/prefix` whose sub-folders or sub-prefixes are datasets, as the producer and
//! the gatekeeper write them): versions, schema, statistics, records by key or by field,
//! streaming export (JSON lines, CSV), diffs, record history, retention, pin, unpin,
//! announce and verification of checksums and of the delta chain.
//!
//! One module per family of subcommands; `cli` holds the command line, `fail` the exit
//! codes, `dataset` and `render` what the subcommands share; this file dispatches.

mod browse;
mod changes;
mod cli;
mod dataset;
mod export;
mod fail;
mod query;
mod render;
mod retention;
mod stats;
mod ui;
mod verify;

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use serde_json::json;

use crate::cli::{Cli, Cmd};
use crate::dataset::{known_version, load, pick_type, timeline};
use crate::fail::{io_fail, lib, Failure};
use crate::ui::say;

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
