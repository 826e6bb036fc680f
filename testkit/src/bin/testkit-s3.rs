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

fn run() -> Result<(), String> {
    let mut listen = "127.0.0.1:0".to_owned();
    let mut root: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs ADDR")?,
            "--root" => root = Some(args.next().ok_or("--root needs DIR")?.into()),
            "-h" | "--help" => {
                println!("usage: testkit-s3 [--listen 127.0.0.1:PORT] --root DIR");
                return Ok(());
            }
            other => return Err(format!("unexpected argument {other:?} (try --help)")),
        }
    }
    let root = root.ok_or("--root DIR is required")?;
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
