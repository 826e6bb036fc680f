//! Test support shared by every test crate of the workspace: real servers that the test suite
//! starts and controls itself, and the rule that no test skips silently.
//!
//! * [`S3Server`]: a real S3 server (the `s3s` protocol crate over the `s3s-fs` file-system
//!   backend) inside the test process, on a free `127.0.0.1` port. The same server runs as a
//!   separate process with the `testkit-s3` binary, for harnesses that kill or freeze it.
//! * [`Tansu`]: the tansu Kafka-protocol broker, either the one named by
//!   `HOLLOW_TEST_KAFKA_BOOTSTRAP` or one started from the `tansu` binary on a free port.
//! * [`need`]: what a test does when a server it needs is missing. Under `CI=true` the test
//!   fails; otherwise the skip is printed straight to the terminal (libtest does not capture
//!   it) and appended to `target/test-skips.txt`, which `.ci/run` prints at the end.
//! * [`report_server`]: records which real server a group of tests ran against
//!   (`target/test-servers.txt`, also printed by `.ci/run`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod kafka;
mod net;
mod s3;

use std::io::Write;
use std::path::PathBuf;

pub use kafka::{tansu_binary, Tansu, TANSU_ENV};
pub use net::free_port;
pub use s3::{serve_s3, S3Server, S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY};

/// Whether the tests run in CI (`CI=true`), where a missing server fails its test.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The cargo target folder of the running test binary (`target/<profile>/deps/<test>` → `target`).
pub fn target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    let dir = if deps.file_name()? == "deps" {
        deps.parent()?.parent()?
    } else {
        deps.parent()?
    };
    Some(dir.to_path_buf())
}

/// Appends one line to `target/<file>`; best effort (a read-only target folder only loses the record).
fn append_line(file: &str, line: &str) {
    if let Some(dir) = target_dir() {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(file))
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// Writes to the process's real standard error, which libtest does not capture.
fn tell(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// A server that `test` needs is missing for `reason`. Under `CI=true` this panics (the test
/// fails and says what to install); otherwise it reports the skip where a person sees it and
/// returns, and the caller returns from the test.
#[track_caller]
pub fn need(test: &str, reason: &str) {
    if in_ci() {
        panic!(
            "{test}: {reason} (CI=true: a missing server fails the test instead of skipping it)"
        );
    }
    let line = format!("SKIPPED {test}: {reason}");
    tell(&format!("\n*** {line} ***"));
    append_line("test-skips.txt", &line);
}

/// Records that the tests of `group` ran against `server` (e.g. `tansu 0.6.0 at 127.0.0.1:9092`).
pub fn report_server(group: &str, server: &str) {
    append_line("test-servers.txt", &format!("{group}: {server}"));
}
