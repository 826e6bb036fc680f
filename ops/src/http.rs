//! A tiny background HTTP/1.1 server for a service's Prometheus metrics: `GET /metrics`
//! answers with the text a callback renders, `GET /healthz` (and `/`) with the service's
//! health (200 and `ok`, or what a [`HealthCheck`] says: 200 with a line per dependency, or
//! 503 naming the dependency that is down), other paths with 404 and other methods with 405. One request per connection (`Connection: close`),
//! bounded request reads and 5 s socket timeouts, so a misbehaving client costs at most the
//! timeouts and never the service. The server stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// What the server calls to render the metrics text for each `GET /metrics`.
pub type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// What the server calls for each `GET /healthz`: whether the service is healthy (200, else
/// 503) and the body (see [`crate::health::Health::check`]).
pub type HealthCheck = Arc<dyn Fn() -> (bool, String) + Send + Sync>;

/// A background metrics server; stops when dropped.
pub struct MetricsHttp {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MetricsHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsHttp")
            .field("addr", &self.addr)
            .finish()
    }
}

impl MetricsHttp {
    /// Binds `addr` (port 0: any free port) and serves `render()` from a background thread
    /// named `thread_name`.
    pub fn start(
        addr: SocketAddr,
        thread_name: &str,
        render: Render,
    ) -> std::io::Result<MetricsHttp> {
        Self::start_with_health(
            addr,
            thread_name,
            render,
            Arc::new(|| (true, "ok\n".to_owned())),
        )
    }

    /// Like [`MetricsHttp::start`], with `GET /healthz` answered by `health`.
    pub fn start_with_health(
        addr: SocketAddr,
        thread_name: &str,
        render: Render,
        health: HealthCheck,
    ) -> std::io::Result<MetricsHttp> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if flag.load(Ordering::Acquire) {
                        break;
                    }
                    if let Ok(stream) = conn {
                        if let Err(e) = serve(stream, &*render, &*health) {
                            log::debug!("metrics request failed: {e}");
                        }
                    }
                }
            })?;
        Ok(MetricsHttp {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsHttp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // wake the accept loop
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers one request.
fn serve(
    stream: TcpStream,
    render: &(dyn Fn() -> String + Send + Sync),
    health: &(dyn Fn() -> (bool, String) + Send + Sync),
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.by_ref().take(8192).read_line(&mut request_line)?;
    // drain the headers (bounded)
    let mut line = String::new();
    for _ in 0..100 {
        line.clear();
        if reader.by_ref().take(8192).read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, ctype, body) = match (method, path) {
        ("GET", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            render(),
        ),
        ("GET", "/healthz") | ("GET", "/") => match health() {
            (true, body) => ("200 OK", "text/plain; charset=utf-8", body),
            (false, body) => ("503 Service Unavailable", "text/plain; charset=utf-8", body),
        },
        ("GET", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found\n".to_owned(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "method not allowed\n".to_owned(),
        ),
    };
    let mut w = stream;
    write!(w, "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())?;
    w.flush()
}

/// Fetches `http://addr/metrics` (for tests and tools): the body of a 200 answer.
pub fn scrape(addr: SocketAddr) -> std::io::Result<String> {
    get(addr, "/metrics")
}

/// Fetches `http://addr{path}`: the body of a 200 answer, an error otherwise.
pub fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    match get_status(addr, path)? {
        (200, body) => Ok(body),
        (status, body) => Err(std::io::Error::other(format!(
            "unexpected answer: HTTP {status}: {}",
            body.lines().next().unwrap_or("")
        ))),
    }
}

/// Fetches `http://addr{path}`: the status code and the body, whatever the status.
pub fn get_status(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let bad = || {
        std::io::Error::other(format!(
            "not an HTTP answer: {:?}",
            text.lines().next().unwrap_or("")
        ))
    };
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .ok_or_else(bad)?;
    Ok((status, body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn serves_metrics_health_and_errors() {
        let n = Arc::new(AtomicU64::new(0));
        let m = n.clone();
        let server = MetricsHttp::start(
            "127.0.0.1:0".parse().unwrap(),
            "test-metrics",
            Arc::new(move || format!("requests {}\n", m.fetch_add(1, Ordering::Relaxed) + 1)),
        )
        .unwrap();
        let addr = server.local_addr();
        assert_eq!(scrape(addr).unwrap(), "requests 1\n");
        assert_eq!(scrape(addr).unwrap(), "requests 2\n");
        assert_eq!(get(addr, "/healthz").unwrap(), "ok\n");
        assert!(get(addr, "/nope").unwrap_err().to_string().contains("404"));
        // a client that sends garbage and hangs up does not stop the server
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"\x00\xff garbage").unwrap();
        drop(s);
        assert_eq!(scrape(addr).unwrap(), "requests 3\n");
        drop(server);
        assert!(scrape(addr).is_err(), "stopped when dropped");
    }

    #[test]
    fn healthz_answers_503_when_unhealthy() {
        let up = Arc::new(AtomicBool::new(true));
        let flag = up.clone();
        let check: HealthCheck = Arc::new(move || {
            if flag.load(Ordering::Relaxed) {
                (true, "store: ok\n".into())
            } else {
                (false, "store: DOWN since x\n".into())
            }
        });
        let server = MetricsHttp::start_with_health(
            "127.0.0.1:0".parse().unwrap(),
            "test-health",
            Arc::new(String::new),
            check,
        )
        .unwrap();
        assert_eq!(
            get_status(server.local_addr(), "/healthz").unwrap(),
            (200, "store: ok\n".to_owned())
        );
        up.store(false, Ordering::Relaxed);
        assert_eq!(
            get_status(server.local_addr(), "/healthz").unwrap(),
            (503, "store: DOWN since x\n".to_owned())
        );
        assert!(get(server.local_addr(), "/healthz")
            .unwrap_err()
            .to_string()
            .contains("503"));
    }
}
