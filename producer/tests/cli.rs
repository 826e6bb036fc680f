//! The `producer` command line (clap): `--help` explains the subcommands and flags, a wrong
//! flag is one clear error and exit code 2, completions and the man page are generated.

use std::process::{Command, Output};

fn producer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_producer"))
        .args(args)
        .output()
        .expect("running producer")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_every_subcommand() {
    let out = producer(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for cmd in ["run", "sweep", "simulate", "completions", "man"] {
        assert!(help.contains(cmd), "--help lacks {cmd}:\n{help}");
    }
}

#[test]
fn run_help_explains_flags_and_defaults() {
    let out = producer(&["run", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for flag in [
        "--cycles",
        "--once",
        "--simulate",
        "--bootstrap",
        "--store",
        "--store-for",
        "--cycle-interval",
        "--metrics-port",
        "--kafka",
        "PRODUCER_CYCLE_INTERVAL",
    ] {
        assert!(help.contains(flag), "run --help lacks {flag}:\n{help}");
    }
    assert!(help.contains("[default: 10]"), "{help}");
}

#[test]
fn a_wrong_flag_is_one_error_and_exit_2() {
    let out = producer(&["run", "--once", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: unexpected argument '--no-such-flag'"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // a bad value is also a usage error
    let out = producer(&["simulate", "--duration", "soon"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // `sweep` needs --source
    let out = producer(&["sweep"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn completions_and_man_page() {
    let out = producer(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("_producer()"));
    let out = producer(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains(".TH producer"));
}
