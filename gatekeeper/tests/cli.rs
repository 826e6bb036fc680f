//! The `gatekeeper` command line (clap): `--help` explains the subcommands and flags, a wrong
//! flag is one clear error and exit code 2, completions and the man page are generated.

use std::process::{Command, Output};

fn gatekeeper(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatekeeper"))
        .args(args)
        .output()
        .expect("running gatekeeper")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_every_subcommand() {
    let out = gatekeeper(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for cmd in [
        "run",
        "replay",
        "diff",
        "history",
        "export",
        "publish-inputs",
        "evaluate",
        "generate",
        "completions",
        "man",
    ] {
        assert!(help.contains(cmd), "--help lacks {cmd}:\n{help}");
    }
}

#[test]
fn run_help_explains_flags_and_defaults() {
    let out = gatekeeper(&["run", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for flag in [
        "--inputs",
        "--follow",
        "--out",
        "--interval",
        "--rules",
        "--metrics-port",
        "--cycles",
        "--threads",
        "--snapshot-every",
        "--keep-versions",
        "--keep-days",
        "--health-grace",
    ] {
        assert!(help.contains(flag), "run --help lacks {flag}:\n{help}");
    }
    assert!(help.contains("[default: baseline]"), "{help}");
}

#[test]
fn a_wrong_flag_is_one_error_and_exit_2() {
    let out = gatekeeper(&["run", "--out", "x", "--inputs", "y", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: unexpected argument '--no-such-flag'"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // a bad value is also a usage error
    let out = gatekeeper(&["run", "--out", "x", "--inputs", "y", "--interval", "soon"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // `run` needs --inputs or --follow
    let out = gatekeeper(&["run", "--out", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn completions_and_man_page() {
    let out = gatekeeper(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("_gatekeeper()"));
    let out = gatekeeper(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains(".TH gatekeeper"));
}
