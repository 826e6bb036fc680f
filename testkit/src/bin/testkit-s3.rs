//! `testkit-s3 --listen 127.0.0.1:PORT --root DIR`: the test S3 server as its own process, so
//! that a harness can kill it (connections refused) or freeze it with SIGSTOP (connections
//! accepted, never answered). Prints `endpoint http://ADDR` as its first line of output and
//! serves until killed. Access key and secret `test`/`test`, region `us-east-1`.
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;

fn main() {
    if let Err(e) = run() {
        eprintln!("testkit-s3: {e}");
        std::process::exit(2);
    }
}

/// The test S3 server as its own process (killable, freezable with SIGSTOP). Prints
/// `endpoint http://ADDR` first, then serves until killed; access key and secret
/// `test`/`test`, region `us-east-1`.
#[derive(Debug, clap::Parser)]
#[command(name = "testkit-s3", version)]
struct Args {
    /// Address to listen on: a loopback address only (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Folder that holds the buckets (one subfolder each); created if missing.
    #[arg(long)]
    root: PathBuf,
}

fn run() -> Result<(), String> {
    let Args { listen, root } = <Args as clap::Parser>::parse();
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let listener =
        std::net::TcpListener::bind(&listen).map_err(|e| format!("listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "refusing to listen on {addr}: loopback addresses only"
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    println!("endpoint http://{addr}");
    let _ = std::io::stdout().flush();
    runtime
        .block_on(testkit::serve_s3(listener, &root, std::future::pending()))
        .map_err(|e| e.to_string())
}
