//! A real S3 server for tests: `s3s` (the S3 protocol: routing, SigV4 authentication, XML)
//! over `s3s-fs` (objects as files), served by hyper on `127.0.0.1`.
//!
//! `s3s-fs` differs from S3 in two ways that [`Backend`] fixes, and it forwards the operations
//! the project's S3 store uses (every other operation answers `NotImplemented`):
//! * it keeps a key `a/b` as the file `a/b`, so a key that names a "directory" (`a` when
//!   `a/b` exists) read as an internal error instead of S3's `NoSuchKey`;
//! * an object's body and its checksums live in two files renamed one after the other, so a
//!   read racing an overwrite could pair the new body with the old checksum. S3 replaces an
//!   object atomically; here writes take a lock that reads share, and a read collects its
//!   body while holding it.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::thread::JoinHandle;

use std::path::PathBuf;

use futures::TryStreamExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::dto::*;
use s3s::service::S3ServiceBuilder;
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};
use tokio::sync::oneshot;

/// The access key the test server accepts.
pub const S3_ACCESS_KEY: &str = "test";
/// The secret key the test server accepts.
pub const S3_SECRET_KEY: &str = "test";
/// The region clients sign for.
pub const S3_REGION: &str = "us-east-1";

/// Serves S3 on `listener` with objects under `root` until `stop` resolves.
pub async fn serve_s3(
    listener: std::net::TcpListener,
    root: &Path,
    stop: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    let fs = s3s_fs::FileSystem::new(root)
        .map_err(|e| io::Error::other(format!("s3s-fs at {}: {e:?}", root.display())))?;
    let mut builder = S3ServiceBuilder::new(Backend {
        fs,
        root: root.canonicalize()?,
        lock: tokio::sync::RwLock::new(()),
    });
    builder.set_auth(SimpleAuth::from_single(S3_ACCESS_KEY, S3_SECRET_KEY));
    let service = builder.build();
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let http = ConnBuilder::new(TokioExecutor::new());
    let mut stop = std::pin::pin!(stop);
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(_) => continue,
            },
            () = &mut stop => return Ok(()),
        };
        let conn = http
            .serve_connection(TokioIo::new(socket), service.clone())
            .into_owned();
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
}

/// The S3 operations the project uses, over `s3s-fs`, with S3's answer for keys that are
/// folders on disk.
struct Backend {
    fs: s3s_fs::FileSystem,
    root: PathBuf,
    /// Writers exclusive, readers shared: every object changes atomically.
    lock: tokio::sync::RwLock<()>,
}

impl Backend {
    /// S3's `NoSuchBucket` when `bucket` was never created (s3s-fs says `NoSuchKey` for reads).
    fn bucket_exists(&self, bucket: &str) -> S3Result<()> {
        if bucket.is_empty()
            || bucket.contains('/')
            || bucket.contains("..")
            || !self.root.join(bucket).is_dir()
        {
            return Err(s3_error!(NoSuchBucket));
        }
        Ok(())
    }

    /// Whether `bucket`/`key` is a folder on disk (a prefix of other keys, not an object).
    fn is_folder(&self, bucket: &str, key: &str) -> bool {
        !key.is_empty() && !key.contains("..") && self.root.join(bucket).join(key).is_dir()
    }
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").field("root", &self.root).finish()
    }
}

#[async_trait::async_trait]
impl S3 for Backend {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.fs.create_bucket(req).await
    }
    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }
    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.fs.list_buckets(req).await
    }
    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let _guard = self.lock.write().await;
        self.fs.put_object(req).await
    }
    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.bucket_exists(&req.input.bucket)?;
        if self.is_folder(&req.input.bucket, &req.input.key) {
            return Err(s3_error!(NoSuchKey));
        }
        let _guard = self.lock.read().await;
        let mut response = self.fs.get_object(req).await?;
        if let Some(body) = response.output.body.take() {
            let chunks: Vec<bytes::Bytes> = body
                .try_collect()
                .await
                .map_err(|e| s3_error!(InternalError, "reading the object: {e}"))?;
            response.output.body = Some(StreamingBlob::from(s3s::Body::from(chunks.concat())));
        }
        Ok(response)
    }
    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.bucket_exists(&req.input.bucket)?;
        if self.is_folder(&req.input.bucket, &req.input.key) {
            return Err(s3_error!(NoSuchKey));
        }
        let _guard = self.lock.read().await;
        self.fs.head_object(req).await
    }
    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        if self.is_folder(&req.input.bucket, &req.input.key) {
            return Ok(S3Response::new(DeleteObjectOutput::default()));
        }
        let _guard = self.lock.write().await;
        self.fs.delete_object(req).await
    }
    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let _guard = self.lock.write().await;
        self.fs.delete_objects(req).await
    }
    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.bucket_exists(&req.input.bucket)?;
        let _guard = self.lock.read().await;
        self.fs.list_objects_v2(req).await
    }
    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.fs.create_multipart_upload(req).await
    }
    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.fs.upload_part(req).await
    }
    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let _guard = self.lock.write().await;
        self.fs.complete_multipart_upload(req).await
    }
    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.fs.abort_multipart_upload(req).await
    }
}

/// An S3 server inside this process, on a free `127.0.0.1` port, storing its objects in a
/// temporary folder; stopped (and its folder removed) on drop.
pub struct S3Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<()>>>,
    _root: tempfile::TempDir,
}

impl S3Server {
    /// Starts a server; it answers as soon as this returns.
    pub fn start() -> io::Result<S3Server> {
        let root = tempfile::tempdir()?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let dir = root.path().to_path_buf();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("testkit-s3".into())
            .spawn(move || {
                runtime.block_on(serve_s3(listener, &dir, async move {
                    let _ = stopped.await;
                }))
            })?;
        Ok(S3Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
            _root: root,
        })
    }

    /// Creates a bucket (a folder of the backend; for clients without an S3 SDK at hand).
    pub fn create_bucket(&self, name: &str) -> io::Result<()> {
        if name.is_empty() || name.contains('/') || name.contains("..") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad bucket name {name:?}"),
            ));
        }
        std::fs::create_dir_all(self._root.path().join(name))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// What it is, for [`crate::report_server`].
    pub fn describe(&self) -> String {
        format!("s3s-fs 0.14 in-process at {}", self.addr)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
