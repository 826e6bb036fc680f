//! The tansu Kafka-protocol broker for real-broker tests: the one `.ci/run` started
//! (`HOLLOW_TEST_KAFKA_BOOTSTRAP`), or one this test process starts from the `tansu` binary
//! (`HOLLOW_TANSU`, else `tansu` on `PATH`, else `~/.cargo/bin/tansu`) on a free 127.0.0.1
//! port with in-memory storage. A broker the tests start runs under a small shell watchdog
//! that stops it when the test process exits, even by `kill -9`.

use std::io;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming a running broker to use instead of starting one.
pub const TANSU_ENV: &str = "HOLLOW_TEST_KAFKA_BOOTSTRAP";

/// A tansu broker for a test: stopped on drop if this process started it.
pub struct Tansu {
    bootstrap: String,
    describe: String,
    child: Option<Child>,
}

/// The tansu binary to start: `HOLLOW_TANSU` (if it names a file), `tansu` on `PATH`, or
/// `~/.cargo/bin/tansu`.
pub fn tansu_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HOLLOW_TANSU").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("tansu"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".cargo/bin/tansu"))
            .filter(|p| p.is_file())
    })
}

fn version_of(binary: &PathBuf) -> String {
    Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "tansu (version unknown)".to_owned())
}

fn answers(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300)).is_ok()
}

impl Tansu {
    /// The broker of `HOLLOW_TEST_KAFKA_BOOTSTRAP`, or a fresh one from the tansu binary.
    /// `Err` says what is missing and how to install it.
    pub fn start() -> Result<Tansu, String> {
        if let Some(bootstrap) = std::env::var(TANSU_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
        {
            let describe = format!(
                "{} at {bootstrap} (from {TANSU_ENV})",
                tansu_binary()
                    .map(|b| version_of(&b))
                    .unwrap_or_else(|| "tansu".into())
            );
            return Ok(Tansu {
                bootstrap,
                describe,
                child: None,
            });
        }
        let binary =
            tansu_binary().ok_or_else(|| format!("no tansu broker: set {TANSU_ENV}, or install one with `cargo install tansu --locked --features dynostore` (~15 min)"))?;
        let port = crate::net::free_port().map_err(|e| e.to_string())?;
        let child = Self::spawn_process(&binary, port)
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let mut tansu = Tansu {
            bootstrap: format!("127.0.0.1:{port}"),
            describe: format!(
                "{} at 127.0.0.1:{port} (started by the test)",
                version_of(&binary)
            ),
            child: Some(child),
        };
        let started = Instant::now();
        while !answers(port) {
            if let Some(Ok(Some(status))) = tansu.child.as_mut().map(Child::try_wait) {
                return Err(format!(
                    "tansu exited with {status} before answering on port {port}"
                ));
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!(
                    "tansu did not answer on 127.0.0.1:{port} within 30 s"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(tansu)
    }

    /// Starts `binary` as a broker on `127.0.0.1:port` under a watchdog shell: the broker is
    /// killed when the returned child's standard input closes (the caller drops it or exits),
    /// and the shell exits when the broker does (so a broker that dies is seen at once).
    /// Killing the returned child (the shell) with SIGKILL leaves the broker running until then.
    pub fn spawn_process(binary: &PathBuf, port: u16) -> io::Result<Child> {
        let listener = format!("tcp://127.0.0.1:{port}");
        Command::new("bash")
            .args(["-c", r#"exec 3<&0; "$@" >/dev/null 2>&1 & pid=$!; { read -r _ <&3; kill "$pid" 2>/dev/null; } & wait "$pid""#, "tansu-watchdog"])
            .arg(binary)
            .args(["broker", "--listener-url", &listener, "--advertised-listener-url", &listener, "--storage-engine", "memory://tansu/"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    }

    /// `127.0.0.1:PORT`.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// What it is, for [`crate::report_server`].
    pub fn describe(&self) -> &str {
        &self.describe
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
