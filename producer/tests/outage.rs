//! An S3 outage seen by the service: the store freezes (a proxy in front of the test S3 server
//! accepts connections and holds every byte, as a SIGSTOPped server does), cycles fail within
//! the store's time limits instead of blocking, nothing is announced, `/healthz` turns 503
//! naming the store and its metrics gauge drops to 0; when the store thaws, the next cycle
//! publishes every message since the last announced state and `/healthz` is 200 again.
//! Runs on the embedded broker (the broker outages are the chaos harness's,
//! `benches/benches/chaos_outage.rs`).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use producer::DatasetOutcome;
use serde_json::json;

/// A TCP proxy to `upstream` that can freeze: while frozen it still accepts connections but
/// forwards nothing, in either direction, until thawed.
struct FreezingProxy {
    addr: SocketAddr,
    frozen: Arc<AtomicBool>,
}

impl FreezingProxy {
    fn start(upstream: SocketAddr) -> FreezingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let frozen = Arc::new(AtomicBool::new(false));
        let f = frozen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let Ok(up) = TcpStream::connect(upstream) else {
                    continue;
                };
                for (from, to) in [
                    (conn.try_clone().unwrap(), up.try_clone().unwrap()),
                    (up, conn),
                ] {
                    let f = f.clone();
                    std::thread::spawn(move || pump(from, to, &f));
                }
            }
        });
        FreezingProxy { addr, frozen }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn freeze(&self, frozen: bool) {
        self.frozen.store(frozen, Ordering::SeqCst);
    }
}

/// Copies `from` to `to`, holding the bytes while `frozen`.
fn pump(mut from: TcpStream, mut to: TcpStream, frozen: &AtomicBool) {
    let mut buf = [0u8; 64 * 1024];
    loop {
        while frozen.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while frozen.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

fn title(id: i64, name: &str) -> String {
    json!({"id": id, "kind": "MOVIE", "name": name, "original_language": "en", "release_year": 2020,
           "genres": ["Dramas"], "cast": ["A B"], "directors": []})
    .to_string()
}

fn healthz(service: &producer::Service) -> (u16, String) {
    ops::http::get_status(service.metrics_addr().unwrap(), "/healthz").unwrap()
}

#[test]
fn s3_freeze_flips_healthz_to_503_and_back() {
    let s3 = testkit::S3Server::start().unwrap();
    testkit::report_server("producer outage test", &s3.describe());
    s3.create_bucket("outage").unwrap();
    let proxy = FreezingProxy::start(s3.endpoint().trim_start_matches("http://").parse().unwrap());
    // the only test of this binary: the stores it opens by URL read these
    for (k, v) in [
        ("HOLLOW_S3_ENDPOINT", proxy.endpoint().as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("HOLLOW_S3_ATTEMPT_TIMEOUT", "500ms"),
        ("HOLLOW_S3_OPERATION_TIMEOUT", "1s"),
        ("HOLLOW_S3_MAX_ATTEMPTS", "2"),
    ] {
        std::env::set_var(k, v);
    }

    let kafka = Kafka::start();
    let dir = tempdir();
    let mut config = kafka.config(dir.path(), &["titles"]);
    config.store = "s3://outage/p".into();
    config.health_grace = Some(Duration::from_millis(500));
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    config.read_timeout = Duration::from_secs(2);
    let mut service = kafka.service(config.clone());
    let topic = kafka.topic("titles");
    let mut tx = kafka.sender();
    let send = |tx: &mut producer::Sender, id: i64, name: &str| {
        send_now(tx, &topic, Some(&id.to_string()), Some(&title(id, name)))
    };

    for id in 1..=3 {
        send(&mut tx, id, "before");
    }
    assert_eq!(
        service
            .run_cycle()
            .unwrap()
            .dataset("titles")
            .unwrap()
            .published(),
        Some(1)
    );
    let (status, body) = healthz(&service);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("broker: ok\n") && body.contains("store: ok\n"),
        "{body}"
    );

    // frozen: each cycle fails within the limits (2 attempts of 0.5 s in 1 s per operation)
    proxy.freeze(true);
    send(&mut tx, 2, "during");
    send(&mut tx, 4, "during");
    for round in 0..2 {
        let started = Instant::now();
        let result = service.run_cycle();
        let took = started.elapsed();
        println!("frozen cycle {round}: {took:?}: {result:?}");
        assert!(
            took < Duration::from_secs(5),
            "a cycle against a frozen store took {took:?}"
        );
        let err = result.expect_err("a cycle whose blobs cannot be stored fails");
        assert!(err.to_string().contains("did not answer in time"), "{err}");
        assert_eq!(service.version("titles"), Some(1), "nothing announced");
        let (status, body) = healthz(&service);
        assert_eq!(status, 503, "{body}");
        assert!(
            body.contains("store: DOWN since") && body.contains("broker: ok"),
            "{body}"
        );
        let metrics = producer::metrics::scrape(service.metrics_addr().unwrap()).unwrap();
        assert!(
            metrics
                .lines()
                .any(|l| l == "hollow_producer_dependency_up{dependency=\"store\"} 0"),
            "{metrics}"
        );
        assert!(
            metrics
                .lines()
                .any(|l| l == "hollow_producer_dependency_down{dependency=\"store\"} 1"),
            "{metrics}"
        );
    }
    // the server itself still announces version 1
    let direct = |url: &str| {
        let mut c = hollow::store::S3Config::parse_url(url).unwrap();
        c.endpoint = Some(s3.endpoint());
        c.force_path_style = true;
        c.region = Some("us-east-1".into());
        c.credentials = Some(hollow::store::S3Credentials {
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            session_token: None,
        });
        let store: Arc<dyn hollow::store::BlobStore> =
            Arc::new(hollow::store::S3Store::new(c).unwrap());
        store
    };
    let store = direct(&config.store_url("titles"));
    assert_eq!(
        producer::state::announced_version(store.clone()).unwrap(),
        Some(1)
    );

    // thawed: the next cycle publishes everything since version 1; healthy again. It is
    // version 4: the two frozen attempts used 2 and 3, whose puts may still land (a
    // timed-out write is not known to be lost), so their numbers are never reused
    proxy.freeze(false);
    let report = service.run_cycle().unwrap();
    let d = report.dataset("titles").unwrap();
    assert!(
        matches!(d.outcome, DatasetOutcome::Published { version: 4, .. }),
        "{d}"
    );
    assert_eq!(d.read, 2);
    let (status, body) = healthz(&service);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, "broker: ok\nstore: ok\n");
    let state = producer::state::load_published(store, &schema("titles"))
        .unwrap()
        .unwrap();
    assert_eq!(state.version, 4);
    assert_eq!(
        fold(&schema("titles"), &kafka.read_all(&topic), None),
        state.records,
        "every message folded exactly once"
    );
    let metrics = producer::metrics::scrape(service.metrics_addr().unwrap()).unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "hollow_producer_dependency_outages_total{dependency=\"store\"} 1"),
        "{metrics}"
    );
}
