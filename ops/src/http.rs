//! The services' HTTP endpoint ([`MetricsServer`], on axum and hyper): `GET /metrics` answers
//! with the Prometheus text a callback renders (content type [`crate::metrics::CONTENT_TYPE`]),
//! `GET /healthz` (and `GET /`) with what a [`HealthCheck`] says (200, or 503 naming the
//! dependency that is down), other paths with 404 and other methods with 405.
//!
//! The services are synchronous: the server runs on its own thread, on a current-thread tokio
//! runtime. The address is bound before [`MetricsServer::start`] returns, so a bind error is
//! the caller's; dropping the server stops it (connections still open are closed).
//!
//! [`scrape`], [`get`] and [`get_status`] are a tiny blocking HTTP/1.1 client for tests and
//! tools.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get as route_get;
use axum::Router;

/// What the server calls to render the metrics text for each `GET /metrics`.
pub type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// What the server calls for each `GET /healthz`: whether the service is healthy (200, else
/// 503) and the body (see [`crate::health::Health::check`]).
pub type HealthCheck = Arc<dyn Fn() -> (bool, String) + Send + Sync>;

/// A background `/metrics` and `/healthz` server; stops when dropped.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsServer")
            .field("addr", &self.addr)
            .finish()
    }
}

/// The routes: `/metrics`, `/healthz` and `/`, 404 elsewhere (axum answers 405 for a method a
/// route does not serve).
fn router(render: Render, health: HealthCheck) -> Router {
    let metrics = move || {
        let body = render();
        async move { ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], body) }
    };
    let healthz = move || {
        let (healthy, body) = health();
        async move {
            let status = if healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (status, body).into_response()
        }
    };
    Router::new()
        .route("/metrics", route_get(metrics))
        .route("/healthz", route_get(healthz.clone()))
        .route("/", route_get(healthz))
        .fallback(|| async { not_found() })
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

impl MetricsServer {
    /// Binds `addr` (port 0: any free port) and serves `render()` at `/metrics` and `health()`
    /// at `/healthz` from a background thread named `thread_name`.
    pub fn start(
        addr: SocketAddr,
        thread_name: &str,
        render: Render,
        health: HealthCheck,
    ) -> std::io::Result<MetricsServer> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(render, health);
        let thread = std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            log::error!("metrics server on {addr}: {e}");
                            return;
                        }
                    };
                    let serve = std::future::IntoFuture::into_future(axum::serve(listener, app));
                    tokio::select! {
                        result = serve => if let Err(e) = result {
                            log::error!("metrics server on {addr} stopped: {e}");
                        },
                        _ = stopped => {}
                    }
                });
                // dropping the runtime here ends the connections still open
            })?;
        Ok(MetricsServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Like [`MetricsServer::start`], with `/healthz` always answering 200 `ok`.
    pub fn start_without_health(
        addr: SocketAddr,
        thread_name: &str,
        render: Render,
    ) -> std::io::Result<MetricsServer> {
        Self::start(
            addr,
            thread_name,
            render,
            Arc::new(|| (true, "ok\n".to_owned())),
        )
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
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

/// Fetches `http://addr{path}`: the status code and the body, whatever the status (one
/// request, `Connection: close`, 5 s timeouts).
pub fn get_status(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let (head, body) = request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )?;
    Ok((status_of(&head)?, body))
}

/// Sends `raw` (a whole request) and reads the answer: its head and its body.
fn request(addr: SocketAddr, raw: &str) -> std::io::Result<(String, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(raw.as_bytes())?;
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match text.split_once("\r\n\r\n") {
        Some((head, body)) => Ok((head.to_owned(), body.to_owned())),
        None => Err(not_http(&text)),
    }
}

fn not_http(text: &str) -> std::io::Error {
    std::io::Error::other(format!(
        "not an HTTP answer: {:?}",
        text.lines().next().unwrap_or("")
    ))
}

/// The status code of an answer's head (`HTTP/1.1 200 OK`).
fn status_of(head: &str) -> std::io::Result<u16> {
    head.strip_prefix("HTTP/1.1 ")
        .or_else(|| head.strip_prefix("HTTP/1.0 "))
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| not_http(head))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    fn raw(addr: SocketAddr, req: &str) -> (u16, String, String) {
        let (head, body) = request(addr, req).unwrap();
        (status_of(&head).unwrap(), head, body)
    }

    #[test]
    fn serves_metrics_health_and_errors() {
        let n = Arc::new(AtomicU64::new(0));
        let m = n.clone();
        let server = MetricsServer::start_without_health(
            "127.0.0.1:0".parse().unwrap(),
            "test-metrics",
            Arc::new(move || format!("requests {}\n", m.fetch_add(1, Ordering::Relaxed) + 1)),
        )
        .unwrap();
        let addr = server.local_addr();
        assert_eq!(scrape(addr).unwrap(), "requests 1\n");
        assert_eq!(scrape(addr).unwrap(), "requests 2\n");
        let (status, head, _) = raw(
            addr,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(status, 200);
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: text/plain; version=0.0.4"),
            "{head}"
        );
        assert_eq!(get(addr, "/healthz").unwrap(), "ok\n");
        assert_eq!(get(addr, "/").unwrap(), "ok\n");
        assert_eq!(
            get_status(addr, "/nope").unwrap(),
            (404, "not found\n".to_owned())
        );
        let post =
            "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        assert_eq!(raw(addr, post).0, 405);
        // a client that sends garbage gets 400, and one that hangs up does not stop the server
        assert_eq!(raw(addr, "garbage\r\n\r\n").0, 400);
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"\x00\xff garbage").unwrap();
        drop(s);
        // a client that connects and says nothing does not block the others
        let _idle = TcpStream::connect(addr).unwrap();
        assert_eq!(scrape(addr).unwrap(), "requests 4\n");
        drop(server);
        assert!(scrape(addr).is_err(), "stopped when dropped");
    }

    #[test]
    fn a_taken_port_is_the_callers_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let err = MetricsServer::start_without_health(
            taken.local_addr().unwrap(),
            "test-taken",
            Arc::new(String::new),
        )
        .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
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
        let server = MetricsServer::start(
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
