//! [`S3Store`] against a real S3 server.
//!
//! The server is `HOLLOW_TEST_S3_ENDPOINT` (such as `http://127.0.0.1:9000`) if set, else an
//! S3 server this test starts in its own process on a free 127.0.0.1 port
//! ([`testkit::S3Server`]: the `s3s` protocol crate over its file-system backend), so the
//! tests never depend on whatever S3 server happens to be installed. Credentials and region
//! come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_REGION`, defaulting to
//! `test`/`test`/`us-east-1`. The tests that need no server (unreachable and silent
//! endpoints) always run.
#![cfg(feature = "s3")]

mod store_common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hollow::store::{open_store, BlobStore, S3Config, S3Credentials, S3Store, StoreError};

/// An S3 endpoint for the tests, and the in-process server behind it if we started one.
struct Server {
    endpoint: String,
    _local: Option<testkit::S3Server>,
}

/// A port on 127.0.0.1 that nothing listened on a moment ago.
fn free_port() -> u16 {
    testkit::free_port().unwrap()
}

/// The server of `HOLLOW_TEST_S3_ENDPOINT`, or one started in this process.
fn server() -> Server {
    if let Some(endpoint) = std::env::var("HOLLOW_TEST_S3_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
    {
        testkit::report_server(
            "hollow store_s3",
            &format!("S3 at {endpoint} (HOLLOW_TEST_S3_ENDPOINT)"),
        );
        return Server {
            endpoint,
            _local: None,
        };
    }
    let local = testkit::S3Server::start().expect("starting the in-process S3 server");
    testkit::report_server("hollow store_s3", &local.describe());
    Server {
        endpoint: local.endpoint(),
        _local: Some(local),
    }
}

/// Credentials from the environment, or the test server's `test`/`test`.
fn credentials() -> S3Credentials {
    let env = |name, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    S3Credentials {
        access_key_id: env("AWS_ACCESS_KEY_ID", "test"),
        secret_access_key: env("AWS_SECRET_ACCESS_KEY", "test"),
        session_token: None,
    }
}

/// A configuration for `bucket`/`prefix` at `endpoint` that never consults AWS.
fn config(endpoint: &str, bucket: &str, prefix: &str) -> S3Config {
    let mut config = S3Config::new(bucket, prefix);
    config.endpoint = Some(endpoint.to_owned());
    config.region = Some(std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned()));
    config.force_path_style = true;
    config.credentials = Some(credentials());
    config
}

/// A bucket name no earlier run used.
fn unique_bucket() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "hollow-test-{}-{}",
        std::process::id(),
        nanos % 1_000_000_000
    )
}

/// Creates `store`'s bucket through the SDK.
fn create_bucket(store: &S3Store) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(store.client().create_bucket().bucket(store.bucket()).send())
        .expect("create bucket");
}

/// Runs `case`, printing how long it took.
fn timed(name: &str, case: impl FnOnce()) {
    let started = Instant::now();
    case();
    println!("{name}: {:?}", started.elapsed());
}

/// All server cases share one server (started once, stopped when this test ends) and one
/// bucket, each under its own prefix.
#[test]
fn s3_store_against_server() {
    let server = server();
    let endpoint = server.endpoint.as_str();
    let bucket = unique_bucket();
    let store = |prefix: &str| S3Store::new(config(endpoint, &bucket, prefix)).unwrap();
    create_bucket(&store(""));
    let started = Instant::now();

    timed("conformance", || {
        store_common::conformance(&store("conformance"));
    });

    // Test servers answer a few hundred requests/s, so instead of the >1000 keys AWS's default page size
    // needs, small page sizes drive the same continuation-token loop.
    const KEYS: usize = 300;
    timed("pagination (300 keys, pages of 7 to 300)", || {
        let s = store("pages");
        let keys: Vec<String> = (0..KEYS).map(|i| format!("k/{i:05}")).collect();
        std::thread::scope(|scope| {
            for chunk in keys.chunks(KEYS / 4) {
                let s = &s;
                scope.spawn(move || {
                    for key in chunk {
                        s.put(key, key.as_bytes()).unwrap();
                    }
                });
            }
        });
        assert_eq!(s.list("").unwrap(), keys);
        assert_eq!(s.list("k/001").unwrap(), keys[100..200]);
        for page_size in [7, 100, KEYS as i32 - 1, KEYS as i32] {
            let mut small = config(endpoint, &bucket, "pages");
            small.list_page_size = Some(page_size);
            let small = S3Store::new(small).unwrap();
            assert_eq!(small.list("").unwrap(), keys, "page size {page_size}");
            assert_eq!(
                small.list("k/002").unwrap(),
                keys[200..],
                "page size {page_size}"
            );
        }
    });

    timed("multipart put/get (20 MiB)", || {
        let s = store("multipart");
        let data: Vec<u8> = (0..20 * 1024 * 1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        s.put("snapshot/00000000000000000001", &data).unwrap();
        assert_eq!(s.get("snapshot/00000000000000000001").unwrap(), data);
        // A multipart object's ETag ends with "-<number of parts>".
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let head = runtime
            .block_on(
                s.client()
                    .head_object()
                    .bucket(&bucket)
                    .key("multipart/snapshot/00000000000000000001")
                    .send(),
            )
            .unwrap();
        let e_tag = head.e_tag().unwrap_or_default();
        assert!(e_tag.trim_matches('"').ends_with("-3"), "ETag {e_tag}");
    });

    timed("prefix isolation", || {
        let a = store("iso/a");
        let ab = store("iso/ab");
        let root = store("");
        a.put("k", b"a").unwrap();
        ab.put("k", b"ab").unwrap();
        assert_eq!(a.list("").unwrap(), ["k"]);
        assert_eq!(ab.list("").unwrap(), ["k"]);
        assert_eq!(a.get("k").unwrap(), b"a");
        assert_eq!(ab.get("k").unwrap(), b"ab");
        assert_eq!(root.list("iso/").unwrap(), ["iso/a/k", "iso/ab/k"]);
        a.delete("k").unwrap();
        assert!(a.list("").unwrap().is_empty());
        assert_eq!(ab.get("k").unwrap(), b"ab");
        assert_eq!(a.describe(), format!("s3://{bucket}/iso/a/"));
    });

    timed("missing bucket is not NotFound", || {
        let s = S3Store::new(config(endpoint, "hollow-no-such-bucket-x", "p")).unwrap();
        match s.get("k") {
            Err(StoreError::S3 {
                op: "get", detail, ..
            }) => {
                assert!(detail.contains("NoSuchBucket"), "{detail}")
            }
            other => panic!("expected an S3 error, got {other:?}"),
        }
        assert!(matches!(s.list(""), Err(StoreError::S3 { .. })));
    });

    timed("called from inside a tokio runtime", || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let s = store("async");
            s.put("k", b"from async").unwrap();
            assert_eq!(s.get("k").unwrap(), b"from async");
            s.delete("k").unwrap();
            drop(s); // must not panic inside the runtime
        });
    });

    // `open_store` reads the endpoint from the environment; only run when it points at
    // this server (as `.ci/run` arranges).
    if std::env::var("HOLLOW_S3_ENDPOINT").as_deref() == Ok(endpoint)
        && std::env::var("AWS_ACCESS_KEY_ID").is_ok()
    {
        timed("open_store(s3://...)", || {
            let s = open_store(&format!("s3://{bucket}/from-url")).unwrap();
            s.put("k", b"v").unwrap();
            assert_eq!(s.get("k").unwrap(), b"v");
            assert_eq!(store("from-url").list("").unwrap(), ["k"]);
        });
    }

    println!("all S3 server cases: {:?}", started.elapsed());
}

/// A store pointing at 127.0.0.1:`port` with an operation timeout of `timeout`.
fn dead_store(port: u16, timeout: Duration) -> S3Store {
    let mut c = config(&format!("http://127.0.0.1:{port}"), "bucket", "p");
    c.timeout = timeout;
    S3Store::new(c).unwrap()
}

/// One store operation, for tables of them.
type Op<'a> = dyn Fn() -> Result<(), StoreError> + 'a;

#[test]
fn s3_unreachable_endpoint_fails_fast() {
    // Default limits: the retries (3 attempts, with backoff) end well before the 15 s
    // operation timeout, so the error names the real cause.
    let store = dead_store(free_port(), S3Config::new("b", "p").timeout);
    let ops: [(&str, &Op); 4] = [
        ("get", &|| store.get("k").map(drop)),
        ("put", &|| store.put("k", b"v")),
        ("list", &|| store.list("").map(drop)),
        ("exists", &|| store.exists("k").map(drop)),
    ];
    for (op, run) in ops {
        let started = Instant::now();
        let result = run();
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(10), "{op} took {elapsed:?}");
        match result {
            Err(StoreError::Unreachable { store, detail }) => {
                println!("{op}: {elapsed:?}: {store}: {detail}");
                assert!(store.contains("127.0.0.1"), "{store}");
                assert!(detail.contains("Connection refused"), "{detail}");
            }
            other => panic!("{op}: expected Unreachable, got {other:?}"),
        }
    }
}

/// A store at `endpoint` with short limits: 1 s per attempt, 2 attempts, 2 s per operation.
fn impatient_store(endpoint: &str) -> S3Store {
    let mut c = config(endpoint, "bucket", "p");
    c.attempt_timeout = Duration::from_secs(1);
    c.timeout = Duration::from_secs(2);
    c.max_attempts = 2;
    c.initial_backoff = Duration::from_millis(50);
    S3Store::new(c).unwrap()
}

#[test]
fn s3_silent_endpoint_times_out() {
    // Accepts connections (the kernel completes the handshake) but never answers: what a
    // frozen (SIGSTOPped) server looks like.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let store = impatient_store(&format!(
        "http://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    ));
    let big = vec![7u8; 4 << 20];
    let ops: [(&str, &Op); 5] = [
        ("get", &|| store.get("k").map(drop)),
        ("put", &|| store.put("k", b"v")),
        ("put", &|| store.put("big", &big)),
        ("list", &|| store.list("").map(drop)),
        ("exists", &|| store.exists("k").map(drop)),
    ];
    for (op, run) in ops {
        let started = Instant::now();
        let result = run();
        let elapsed = started.elapsed();
        match &result {
            Err(StoreError::Timeout {
                store,
                op: what,
                after,
                ..
            }) => {
                assert_eq!(*what, op);
                assert!(store.contains("127.0.0.1"), "{store}");
                // the limit grows with the body: 4 MiB at 1 MiB/s is 4 s more per attempt
                let bound = if op == "put" && *after > Duration::from_secs(2) {
                    Duration::from_secs(2 + 2 * 4)
                } else {
                    Duration::from_secs(2)
                };
                assert!(*after <= bound, "{op}: limit {after:?}");
                assert!(
                    elapsed < bound + Duration::from_secs(2),
                    "{op} took {elapsed:?}"
                );
            }
            other => panic!("{op}: expected Timeout, got {other:?}"),
        }
        println!(
            "silent endpoint, {op}: {elapsed:?}: {}",
            result.unwrap_err()
        );
    }
}

#[test]
fn s3_server_freezing_mid_body_times_out() {
    // Answers a GET with the head of a 1000-byte object, sends 10 bytes and stops.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
            request.push(byte[0]);
        }
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/octet-stream\r\n\r\n0123456789");
        let _ = conn.flush();
        // hold the connection open, silent, until the test is done
        let _ = done_rx.recv_timeout(Duration::from_secs(30));
        String::from_utf8_lossy(&request).into_owned()
    });
    let store = impatient_store(&endpoint);
    let started = Instant::now();
    let result = store.get("k");
    let elapsed = started.elapsed();
    done_tx.send(()).unwrap();
    let request = server.join().unwrap();
    assert!(request.starts_with("GET /bucket/p/k"), "{request}");
    match &result {
        Err(StoreError::Timeout { op: "get", .. }) => {}
        other => panic!("expected a get Timeout, got {other:?}"),
    }
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    println!("frozen mid-body: {elapsed:?}: {}", result.unwrap_err());
}

#[test]
fn s3_limits_from_the_environment_are_checked() {
    // Only the parsing: other tests in this process do not read these variables.
    let mut c = S3Config::parse_url("s3://b/p").unwrap();
    assert_eq!(
        (c.attempt_timeout, c.timeout, c.max_attempts),
        (Duration::from_secs(5), Duration::from_secs(15), 3)
    );
    c.attempt_timeout = Duration::ZERO;
    assert!(matches!(S3Store::new(c), Err(StoreError::Config { .. })));
}
