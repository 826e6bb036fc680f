//! [`S3Store`]: a blob store in an S3 bucket under a key prefix, through `aws-sdk-s3`.
//!
//! Works with AWS S3 and S3-compatible servers (moto, MinIO, s3s, Ceph, ...). The store owns
//! a small tokio runtime (one worker thread) and blocks on it, so its methods are plain
//! synchronous calls. They may also be called from inside another tokio runtime: the call
//! then runs on a short-lived helper thread, which blocks the calling task (so prefer
//! `tokio::task::spawn_blocking` there).
//!
//! Every request is bounded: a connect timeout (2 s by default), an attempt timeout (5 s), an
//! operation timeout over all attempts (15 s) and at most 3 attempts with exponential backoff
//! (200 ms, at most 2 s). The attempt and operation timeouts of uploads, and the time allowed
//! to read a downloaded body, grow with the size of the blob (by one second per
//! [`S3Config::min_throughput`] bytes, 1 MiB/s by default), so big blobs do not time out on
//! a slow link while a frozen server (one that accepts connections and never answers, or
//! stops mid-transfer) makes a call fail within the bound instead of hanging. A refused
//! connection gives [`StoreError::Unreachable`], a server that does not answer in time
//! [`StoreError::Timeout`]. Blobs larger than 16 MiB are uploaded in 8 MiB parts (multipart
//! upload); a reader sees an object only once its upload completes.
//!
//! The limits are fields of [`S3Config`]; [`S3Config::from_url`] also reads them from
//! `HOLLOW_S3_ATTEMPT_TIMEOUT`, `HOLLOW_S3_OPERATION_TIMEOUT` (`5s`, `500ms`, or plain
//! seconds) and `HOLLOW_S3_MAX_ATTEMPTS`, so services that open stores by URL can be tuned
//! without code.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;

use super::api::{validate_key, validate_prefix, BlobStore, StoreError};

/// Environment variable naming an S3 endpoint (such as `http://127.0.0.1:9000`) that
/// overrides AWS's; takes precedence over `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL`.
pub const S3_ENDPOINT_ENV: &str = "HOLLOW_S3_ENDPOINT";

/// Environment variable overriding [`S3Config::attempt_timeout`] in [`S3Config::from_url`].
pub const ATTEMPT_TIMEOUT_ENV: &str = "HOLLOW_S3_ATTEMPT_TIMEOUT";

/// Environment variable overriding [`S3Config::timeout`] in [`S3Config::from_url`].
pub const OPERATION_TIMEOUT_ENV: &str = "HOLLOW_S3_OPERATION_TIMEOUT";

/// Environment variable overriding [`S3Config::max_attempts`] in [`S3Config::from_url`].
pub const MAX_ATTEMPTS_ENV: &str = "HOLLOW_S3_MAX_ATTEMPTS";

/// S3's smallest part size for all parts of a multipart upload but the last.
const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// Static S3 credentials. `Debug` hides the secret.
#[derive(Clone)]
pub struct S3Credentials {
    /// The access key id (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: String,
    /// The secret access key (`AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: String,
    /// An optional session token for temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// How to reach an S3 bucket. Start from [`S3Config::new`] or [`S3Config::from_url`] and
/// adjust the fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct S3Config {
    /// The bucket name.
    pub bucket: String,
    /// The key prefix inside the bucket: empty, or ending with `/` (normalized by
    /// [`S3Store::new`]).
    pub prefix: String,
    /// An endpoint URL overriding AWS's, for S3-compatible servers.
    pub endpoint: Option<String>,
    /// The region; `None` uses the standard AWS chain (`AWS_REGION`, profile, ...), and
    /// then `us-east-1` if an endpoint override is set.
    pub region: Option<String>,
    /// Address buckets as `endpoint/bucket` rather than `bucket.endpoint` (needed by most
    /// S3-compatible servers).
    pub force_path_style: bool,
    /// Static credentials; `None` uses the standard AWS chain (environment, profile, web
    /// identity, container and instance metadata).
    pub credentials: Option<S3Credentials>,
    /// Limit on establishing a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Limit on one attempt of a request until its response arrives (for uploads, plus one
    /// second per [`min_throughput`](S3Config::min_throughput) bytes of the body).
    pub attempt_timeout: Duration,
    /// Limit on one whole operation (all attempts and backoffs) until the response arrives
    /// (for uploads, plus the body's allowance for each attempt).
    pub timeout: Duration,
    /// Attempts per request, including the first (at least 1).
    pub max_attempts: u32,
    /// The first retry's backoff; each further one doubles it (with jitter).
    pub initial_backoff: Duration,
    /// The longest backoff between two attempts.
    pub max_backoff: Duration,
    /// The slowest transfer rate, in bytes per second, that the limits allow for a body:
    /// uploads and body downloads get one extra second per this many bytes (at least 1).
    pub min_throughput: u64,
    /// Blobs larger than this are uploaded with a multipart upload.
    pub multipart_threshold: usize,
    /// Part size of multipart uploads (at least 5 MiB).
    pub part_size: usize,
    /// Keys per `ListObjectsV2` page; `None` lets the server choose (1000 on AWS).
    pub list_page_size: Option<i32>,
}

impl S3Config {
    /// A configuration for `bucket` and `prefix` with the defaults: AWS's endpoint and
    /// credential chain, 2 s connect timeout, 5 s attempt timeout, 15 s operation timeout, 3
    /// attempts with backoff from 200 ms to 2 s, bodies allowed 1 MiB/s, multipart above 16
    /// MiB in 8 MiB parts.
    pub fn new(bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            prefix: prefix.into(),
            endpoint: None,
            region: None,
            force_path_style: false,
            credentials: None,
            connect_timeout: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            min_throughput: 1024 * 1024,
            multipart_threshold: 16 * 1024 * 1024,
            part_size: 8 * 1024 * 1024,
            list_page_size: None,
        }
    }

    /// Parses `s3://bucket` or `s3://bucket/prefix` and applies the environment: the
    /// endpoint comes from `HOLLOW_S3_ENDPOINT`, else `AWS_ENDPOINT_URL_S3`, else
    /// `AWS_ENDPOINT_URL`, and any endpoint override turns on path-style addressing; the
    /// limits from `HOLLOW_S3_ATTEMPT_TIMEOUT`, `HOLLOW_S3_OPERATION_TIMEOUT` and
    /// `HOLLOW_S3_MAX_ATTEMPTS` when set. Region and credentials are left to the standard
    /// AWS chain.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let mut config = Self::parse_url(url)?;
        let env = |var: &str| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
        config.endpoint = [S3_ENDPOINT_ENV, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .find_map(|var| env(var));
        config.force_path_style = config.endpoint.is_some();
        if let Some(text) = env(ATTEMPT_TIMEOUT_ENV) {
            config.attempt_timeout = parse_env_duration(ATTEMPT_TIMEOUT_ENV, &text)?;
        }
        if let Some(text) = env(OPERATION_TIMEOUT_ENV) {
            config.timeout = parse_env_duration(OPERATION_TIMEOUT_ENV, &text)?;
        }
        if let Some(text) = env(MAX_ATTEMPTS_ENV) {
            config.max_attempts = text.trim().parse().map_err(|_| StoreError::Config {
                detail: format!("{MAX_ATTEMPTS_ENV}={text:?} is not a number of attempts"),
            })?;
        }
        Ok(config)
    }

    /// Parses `s3://bucket` or `s3://bucket/prefix` into a configuration with the defaults
    /// of [`S3Config::new`], without reading the environment.
    pub fn parse_url(url: &str) -> Result<Self, StoreError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| StoreError::Config {
                detail: format!("{url:?} is not an s3:// URL"),
            })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(StoreError::Config {
                detail: format!("S3 URL {url:?} has no bucket (expected s3://bucket/prefix)"),
            });
        }
        if rest.contains(['?', '#']) {
            return Err(StoreError::Config {
                detail: format!("S3 URL {url:?} may not have a query or fragment"),
            });
        }
        Ok(Self::new(bucket, prefix))
    }
}

/// A [`BlobStore`] in an S3 bucket under a key prefix (store key `k` is object
/// `prefix/k`).
///
/// The store owns a tokio runtime with one worker thread and blocks on it. Calling it from
/// inside another tokio runtime works (the call runs on a helper thread) but blocks that
/// runtime's thread, so use `spawn_blocking` there. Requests have a connect timeout, an
/// attempt timeout, an operation timeout and a bounded number of attempts with backoff (see
/// [`S3Config`]), so a refused connection gives [`StoreError::Unreachable`] and a server that
/// never answers [`StoreError::Timeout`], both within seconds. Blobs above
/// [`S3Config::multipart_threshold`] are uploaded in parts; readers see an object only
/// once its upload completes.
pub struct S3Store {
    /// The SDK client, configured with timeouts and retries.
    client: Client,
    /// The bucket name.
    bucket: String,
    /// Empty, or a valid prefix ending with `/`.
    prefix: String,
    /// The endpoint override, for error messages.
    endpoint: Option<String>,
    /// Multipart threshold in bytes.
    multipart_threshold: usize,
    /// Multipart part size in bytes.
    part_size: usize,
    /// `ListObjectsV2` page size.
    list_page_size: Option<i32>,
    /// The time limits, for size-scaled overrides and error messages.
    limits: Limits,
    /// Drives the SDK; `Option` only so that `Drop` can shut it down without blocking.
    runtime: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside an async context; this does not.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl S3Store {
    /// Opens `url` (`s3://bucket/prefix`) as configured by [`S3Config::from_url`].
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        Self::new(S3Config::from_url(url)?)
    }

    /// Builds a store from `config`. Makes no request: a wrong bucket or endpoint shows up
    /// on the first operation.
    pub fn new(config: S3Config) -> Result<Self, StoreError> {
        let config_err = |detail: String| Err(StoreError::Config { detail });
        if config.bucket.is_empty() {
            return config_err("S3 bucket name is empty".to_owned());
        }
        let prefix = match config.prefix.trim_matches('/') {
            "" => String::new(),
            p => format!("{p}/"),
        };
        if let Err(StoreError::InvalidKey { reason, .. }) = validate_prefix(&prefix) {
            return config_err(format!("invalid S3 prefix {:?}: {reason}", config.prefix));
        }
        if config.part_size < MIN_PART_SIZE {
            return config_err(format!(
                "S3 part size {} is below S3's minimum of 5 MiB",
                config.part_size
            ));
        }
        if config.max_attempts == 0 {
            return config_err("S3 max_attempts must be at least 1".to_owned());
        }
        if config.attempt_timeout.is_zero()
            || config.timeout.is_zero()
            || config.connect_timeout.is_zero()
        {
            return config_err("S3 timeouts must be positive".to_owned());
        }
        if config.min_throughput == 0 {
            return config_err("S3 min_throughput must be at least 1 byte per second".to_owned());
        }
        let limits = Limits {
            connect: config.connect_timeout,
            attempt: config.attempt_timeout,
            operation: config.timeout,
            attempts: config.max_attempts,
            min_throughput: config.min_throughput,
        };
        if config.list_page_size.is_some_and(|n| n <= 0) {
            return config_err("S3 list_page_size must be positive".to_owned());
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("hollow-s3")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Config {
                detail: format!("cannot start the S3 client's tokio runtime: {e}"),
            })?;

        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(limits.timeouts(0))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(config.max_attempts)
                    .with_initial_backoff(config.initial_backoff)
                    .with_max_backoff(config.max_backoff),
            );
        if let Some(endpoint) = &config.endpoint {
            loader = loader.endpoint_url(endpoint.clone());
        }
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(c) = &config.credentials {
            loader = loader.credentials_provider(Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.clone(),
                c.session_token.clone(),
                None,
                "hollow-static",
            ));
        }
        let sdk_config = match on_runtime(&runtime, loader.load()) {
            Ok(sdk_config) => sdk_config,
            Err(e) => {
                // Dropping a runtime inside an async context would panic.
                runtime.shutdown_background();
                return Err(e);
            }
        };
        let mut s3_config = aws_sdk_s3::config::Builder::from(&sdk_config)
            .force_path_style(config.force_path_style);
        if sdk_config.region().is_none() && config.endpoint.is_some() {
            // S3-compatible servers rarely care, but the SDK refuses to sign without one.
            s3_config = s3_config.region(Region::from_static("us-east-1"));
        }
        let s3_config = s3_config.build();
        Ok(Self {
            client: Client::from_conf(s3_config),
            bucket: config.bucket,
            prefix,
            endpoint: config.endpoint,
            multipart_threshold: config.multipart_threshold,
            part_size: config.part_size,
            list_page_size: config.list_page_size,
            limits,
            runtime: Some(runtime),
        })
    }

    /// The SDK client, for operations this store does not offer (such as creating the
    /// bucket). Its futures need a tokio runtime.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key prefix: empty, or ending with `/`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Runs `fut` to completion on the store's runtime.
    fn block_on<T: Send>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>> + Send,
    ) -> Result<T, StoreError> {
        match &self.runtime {
            Some(runtime) => on_runtime(runtime, fut)?,
            None => Err(StoreError::Config {
                detail: "S3 store runtime is shut down".to_owned(),
            }),
        }
    }

    /// The object key for a store key.
    fn object_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The store and endpoint, for [`StoreError::Unreachable`].
    fn where_(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("{} (endpoint {endpoint})", self.describe()),
            None => self.describe(),
        }
    }

    /// Per-request configuration for a request with a body of `bytes` bytes: the limits
    /// grown by the body's allowance.
    fn sized(&self, bytes: usize) -> aws_sdk_s3::config::Builder {
        aws_sdk_s3::config::Builder::default().timeout_config(self.limits.timeouts(bytes))
    }

    /// A [`StoreError::Timeout`] for `op` of `key` after `after`.
    fn timeout_err(
        &self,
        op: &'static str,
        key: &str,
        after: Duration,
        detail: String,
    ) -> StoreError {
        StoreError::Timeout {
            store: self.where_(),
            op,
            key: self.object_key(key),
            after,
            detail: detail.into_boxed_str(),
        }
    }

    /// Turns an SDK error into a [`StoreError`]: a missing key into `NotFound`, a request
    /// that got no answer in time into `Timeout`, connection failures into `Unreachable`,
    /// the rest into `S3`. `bytes` is the size of the request's body (for the limits it had).
    fn map_err<E>(&self, op: &'static str, key: &str, bytes: usize, err: SdkError<E>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let object_key = self.object_key(key);
        match &err {
            SdkError::TimeoutError(_) => {
                let l = &self.limits;
                let t = l.timeouts(bytes);
                let (attempt, operation) = (
                    t.operation_attempt_timeout().unwrap_or(l.attempt),
                    t.operation_timeout().unwrap_or(l.operation),
                );
                let detail = format!("attempt timeout {attempt:?}, up to {} attempts, operation timeout {operation:?}, connect timeout {:?}", l.attempts, l.connect);
                return self.timeout_err(op, key, operation, detail);
            }
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                let detail = format!(
                    "connect timeout {:?}: {}",
                    self.limits.connect,
                    error_chain(&err)
                );
                return StoreError::Unreachable {
                    store: self.where_(),
                    detail: format!("{op} of {object_key:?}: {detail}"),
                };
            }
            SdkError::DispatchFailure(failure) if !failure.is_user() => {
                return StoreError::Unreachable {
                    store: self.where_(),
                    detail: format!("{op} of {object_key:?}: {}", error_chain(&err)),
                }
            }
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let e = service.err();
                let code = e.code();
                if matches!(code, Some("NoSuchKey" | "NotFound"))
                    || (code.is_none() && status == 404)
                {
                    return StoreError::NotFound {
                        key: key.to_owned(),
                    };
                }
                let detail = match code {
                    Some(code) => format!(
                        "{code}: {} (HTTP {status})",
                        e.message().unwrap_or("no message")
                    ),
                    None => format!("HTTP {status}: {}", error_chain(&err)),
                };
                return StoreError::S3 {
                    op,
                    key: object_key,
                    detail,
                };
            }
            _ => {}
        }
        StoreError::S3 {
            op,
            key: object_key,
            detail: error_chain(&err),
        }
    }

    /// Uploads `data` to `object_key` with a multipart upload, aborting it on failure.
    async fn put_multipart(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        let object_key = self.object_key(key);
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&object_key)
            .send()
            .await
            .map_err(|e| self.map_err("put (create multipart upload)", key, 0, e))?;
        let upload_id = created.upload_id().ok_or_else(|| StoreError::S3 {
            op: "put (create multipart upload)",
            key: object_key.clone(),
            detail: "the response has no upload id".to_owned(),
        })?;
        let result = self.upload_parts(key, &object_key, upload_id, data).await;
        if result.is_err() {
            // Best effort: the original error matters more than a failed abort.
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&object_key)
                .upload_id(upload_id)
                .send()
                .await;
        }
        result
    }

    /// Uploads the parts of a multipart upload and completes it.
    async fn upload_parts(
        &self,
        key: &str,
        object_key: &str,
        upload_id: &str,
        data: &[u8],
    ) -> Result<(), StoreError> {
        let mut parts = Vec::with_capacity(data.len().div_ceil(self.part_size));
        for (i, chunk) in data.chunks(self.part_size).enumerate() {
            let part_number = i32::try_from(i + 1).map_err(|_| StoreError::S3 {
                op: "put (upload part)",
                key: object_key.to_owned(),
                detail: "too many parts".to_owned(),
            })?;
            let uploaded = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(object_key)
                .upload_id(upload_id)
                .part_number(part_number)
                .body(ByteStream::from(chunk.to_vec()))
                .customize()
                .config_override(self.sized(chunk.len()))
                .send()
                .await
                .map_err(|e| self.map_err("put (upload part)", key, chunk.len(), e))?;
            let mut part = CompletedPart::builder().part_number(part_number);
            if let Some(e_tag) = uploaded.e_tag() {
                part = part.e_tag(e_tag);
            }
            parts.push(part.build());
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(object_key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.map_err("put (complete multipart upload)", key, 0, e))?;
        Ok(())
    }
}

/// The time limits of a store's requests.
#[derive(Debug, Clone, Copy)]
struct Limits {
    connect: Duration,
    attempt: Duration,
    operation: Duration,
    attempts: u32,
    min_throughput: u64,
}

impl Limits {
    /// The time allowed to move a body of `bytes` bytes at the slowest accepted rate.
    fn allowance(&self, bytes: usize) -> Duration {
        Duration::from_secs_f64(bytes as f64 / self.min_throughput as f64)
    }

    /// The timeouts of a request with a body of `bytes` bytes: each attempt gets the body's
    /// allowance on top, and so does the operation for each attempt.
    fn timeouts(&self, bytes: usize) -> TimeoutConfig {
        let extra = self.allowance(bytes);
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt + extra)
            .operation_timeout(self.operation + extra * self.attempts)
            .build()
    }

    /// The time allowed to read a downloaded body of `bytes` bytes.
    fn body(&self, bytes: usize) -> Duration {
        self.attempt + self.allowance(bytes)
    }
}

/// Parses a duration from an environment variable: `5s`, `500ms`, `1.5` (seconds).
fn parse_env_duration(var: &str, text: &str) -> Result<Duration, StoreError> {
    let t = text.trim();
    let (number, scale) = match t.strip_suffix("ms") {
        Some(n) => (n, 1e-3),
        None => (t.strip_suffix('s').unwrap_or(t), 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && (n * scale) < 1e9 => Ok(Duration::from_secs_f64(n * scale)),
        _ => Err(StoreError::Config {
            detail: format!("{var}={text:?} is not a positive duration (such as 5s, 500ms or 1.5)"),
        }),
    }
}

/// `err` and its sources joined with `: `, skipping repeats: the SDK's errors say little
/// at the top and the cause (such as "Connection refused") at the bottom.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut last = text.clone();
    let mut source = err.source();
    while let Some(e) = source {
        let message = e.to_string();
        if !message.is_empty() && message != last {
            text.push_str(": ");
            text.push_str(&message);
        }
        last = message;
        source = e.source();
    }
    text
}

/// Runs `fut` on `runtime`, from a helper thread when the caller is itself inside a tokio
/// runtime (where blocking on another runtime would panic).
fn on_runtime<T: Send>(
    runtime: &tokio::runtime::Runtime,
    fut: impl Future<Output = T> + Send,
) -> Result<T, StoreError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(runtime.block_on(fut));
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("hollow-s3-call".to_owned())
            .spawn_scoped(scope, || runtime.block_on(fut))
            .map_err(|e| StoreError::Config {
                detail: format!("cannot start a thread for an S3 call: {e}"),
            })?
            .join()
            .map_err(|_| StoreError::Config {
                detail: "the S3 call's helper thread panicked".to_owned(),
            })
    })
}

impl BlobStore for S3Store {
    fn put(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        validate_key(key)?;
        self.block_on(async {
            if data.len() > self.multipart_threshold {
                return self.put_multipart(key, data).await;
            }
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(self.object_key(key))
                .body(ByteStream::from(data.to_vec()))
                .customize()
                .config_override(self.sized(data.len()))
                .send()
                .await
                .map_err(|e| self.map_err("put", key, data.len(), e))?;
            Ok(())
        })
    }

    fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        validate_key(key)?;
        self.block_on(async {
            let output = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(self.object_key(key))
                .send()
                .await
                .map_err(|e| self.map_err("get", key, 0, e))?;
            let expected = output.content_length();
            // The operation timeout ends with the response's head; the body gets its own
            // limit, so a server that stops mid-transfer cannot hang the call.
            let allowed = self
                .limits
                .body(expected.and_then(|n| usize::try_from(n).ok()).unwrap_or(0));
            let data = tokio::time::timeout(allowed, output.body.collect())
                .await
                .map_err(|_| {
                    self.timeout_err(
                        "get",
                        key,
                        allowed,
                        format!(
                            "the body ({} bytes) did not arrive in time",
                            expected.map_or("?".to_owned(), |n| n.to_string())
                        ),
                    )
                })?
                .map_err(|e| StoreError::S3 {
                    op: "get",
                    key: self.object_key(key),
                    detail: format!("reading the body failed: {}", error_chain(&e)),
                })?
                .to_vec();
            match expected {
                Some(len) if u64::try_from(len).ok() != Some(data.len() as u64) => {
                    Err(StoreError::S3 {
                        op: "get",
                        key: self.object_key(key),
                        detail: format!("body has {} bytes, expected {len}", data.len()),
                    })
                }
                _ => Ok(data),
            }
        })
    }

    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        validate_key(key)?;
        self.block_on(async {
            let result = self
                .client
                .head_object()
                .bucket(&self.bucket)
                .key(self.object_key(key))
                .send()
                .await;
            match result {
                Ok(_) => Ok(true),
                Err(e) => match self.map_err("exists", key, 0, e) {
                    StoreError::NotFound { .. } => Ok(false),
                    other => Err(other),
                },
            }
        })
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        validate_prefix(prefix)?;
        self.block_on(async {
            let full_prefix = self.object_key(prefix);
            let mut keys = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .client
                    .list_objects_v2()
                    .bucket(&self.bucket)
                    .prefix(&full_prefix)
                    .set_max_keys(self.list_page_size)
                    .set_continuation_token(token.take())
                    .send()
                    .await
                    .map_err(|e| self.map_err("list", prefix, 0, e))?;
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|object| object.key()?.strip_prefix(&self.prefix))
                        // Objects written by other tools may not be valid keys.
                        .filter(|key| validate_key(key).is_ok())
                        .map(str::to_owned),
                );
                match page.next_continuation_token() {
                    Some(next) if page.is_truncated() == Some(true) => {
                        token = Some(next.to_owned());
                    }
                    _ => break,
                }
            }
            keys.sort_unstable();
            keys.dedup();
            Ok(keys)
        })
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        validate_key(key)?;
        self.block_on(async {
            match self
                .client
                .delete_object()
                .bucket(&self.bucket)
                .key(self.object_key(key))
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) => match self.map_err("delete", key, 0, e) {
                    StoreError::NotFound { .. } => Ok(()),
                    other => Err(other),
                },
            }
        })
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_url() {
        let c = S3Config::parse_url("s3://bucket/some/prefix").unwrap();
        assert_eq!(
            (c.bucket.as_str(), c.prefix.as_str()),
            ("bucket", "some/prefix")
        );
        let c = S3Config::parse_url("s3://bucket").unwrap();
        assert_eq!((c.bucket.as_str(), c.prefix.as_str()), ("bucket", ""));
        for bad in ["s3://", "s3:///x", "file:///x", "s3://b/p?x=1"] {
            assert!(
                matches!(S3Config::parse_url(bad), Err(StoreError::Config { .. })),
                "{bad:?}"
            );
        }
    }

    fn offline(prefix: &str) -> S3Config {
        let mut c = S3Config::new("bucket", prefix);
        c.endpoint = Some("http://127.0.0.1:9".to_owned());
        c.region = Some("us-east-1".to_owned());
        c.force_path_style = true;
        c.credentials = Some(S3Credentials {
            access_key_id: "test".to_owned(),
            secret_access_key: "s3cr3t-value".to_owned(),
            session_token: None,
        });
        c
    }

    #[test]
    fn prefix_normalized_and_validated() {
        let s = S3Store::new(offline("/a/b/")).unwrap();
        assert_eq!(s.prefix(), "a/b/");
        assert_eq!(s.describe(), "s3://bucket/a/b/");
        assert_eq!(
            S3Store::new(offline("")).unwrap().describe(),
            "s3://bucket/"
        );
        assert!(matches!(
            S3Store::new(offline("a/../b")),
            Err(StoreError::Config { .. })
        ));
        let mut c = offline("p");
        c.part_size = 1024;
        assert!(matches!(S3Store::new(c), Err(StoreError::Config { .. })));
    }

    #[test]
    fn debug_hides_secret() {
        let c = offline("p");
        let text = format!("{c:?}");
        assert!(!text.contains("s3cr3t-value"), "{text}");
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn invalid_key_makes_no_request() {
        let s = S3Store::new(offline("p")).unwrap();
        assert!(matches!(s.get("../x"), Err(StoreError::InvalidKey { .. })));
        assert!(matches!(s.put("", b""), Err(StoreError::InvalidKey { .. })));
        assert!(s.local_path("k").is_none());
    }
}
