//! The accept loop: HTTP/1 connections with a header-read time-out, an
//! idle time-out, and a cap on how many are open at once.
//!
//! `axum::serve` sets no timer, so a client that never sends a byte (or
//! sends one a second) held its connection and a file descriptor for
//! ever. Here hyper's header-read time-out runs whenever a connection
//! waits for a request's head, the first or the next on a kept-alive
//! connection, so it is the idle time-out too. It does not run while a
//! response streams, so an event stream lives as long as its run; its
//! keep-alive comments keep proxies in front of it from closing it.
//!
//! Past [`Config::max_connections`] a new connection gets a bare 503 with
//! `Retry-After` and is closed, and the log says so (once a
//! [`REFUSAL_LOG_EVERY`], with how many were refused).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Config;

/// At most one log line this often about refused connections.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// What a refused connection reads before it is closed: the API's `busy`.
fn refusal() -> Vec<u8> {
    let body = "{\"error\":\"busy\",\"message\":\"the server has all the connections it takes; \
                try again shortly\"}\n";
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Serves `app` on `listener` until `stop` is cancelled; then every
/// connection finishes the request it is on and closes, and this returns
/// when the last has.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    app: Router,
    config: &Config,
    stop: CancellationToken,
) {
    let open = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let refusals = Refusals::new(config.max_connections);
    let connections = TaskTracker::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .keep_alive(true);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                // Out of descriptors, or a connection reset before it was
                // taken: neither ends the server. Back off a little so a
                // full descriptor table is not spun on.
                refusals.accept_failed(&error);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            refusals.refuse(stream);
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let stream = Stalling::new(stream, config.write_timeout);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let stop = stop.clone();
        connections.spawn(async move {
            let _permit = permit;
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    connections.close();
    // A connection that will not finish (a client that stopped reading
    // mid-response) does not hold shutdown past its grace.
    let _ = tokio::time::timeout(config.shutdown_grace, connections.wait()).await;
}

/// A connection whose writes must make progress: a client that stops
/// reading holds its connection, its response and its place among the
/// connections for at most `timeout`, then the write fails and the
/// connection closes. Reads pass through; the header-read time-out bounds
/// those.
struct Stalling {
    stream: TcpStream,
    timeout: Duration,
    /// Running while a write waits; reset by any progress.
    stalled: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl Stalling {
    fn new(stream: TcpStream, timeout: Duration) -> Stalling {
        Stalling {
            stream,
            timeout,
            stalled: None,
        }
    }

    /// `poll` as the stream answered, or a time-out once it has been
    /// pending for `timeout` without progress.
    fn bounded<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        poll: std::task::Poll<std::io::Result<T>>,
    ) -> std::task::Poll<std::io::Result<T>> {
        use std::future::Future as _;
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match stalled.as_mut().poll(cx) {
            std::task::Poll::Ready(()) => std::task::Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

impl tokio::io::AsyncRead for Stalling {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Stalling {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.stream).poll_write(cx, buf);
        self.bounded(cx, poll)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.bounded(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let poll = std::pin::Pin::new(&mut self.stream).poll_flush(cx);
        self.bounded(cx, poll)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let poll = std::pin::Pin::new(&mut self.stream).poll_shutdown(cx);
        self.bounded(cx, poll)
    }
}

/// Counts refused connections and says so in the log, not too often.
struct Refusals {
    max_connections: usize,
    refusal: Vec<u8>,
    refused: AtomicU64,
    last_logged: Mutex<Option<Instant>>,
}

impl Refusals {
    fn new(max_connections: usize) -> Refusals {
        Refusals {
            max_connections,
            refusal: refusal(),
            refused: AtomicU64::new(0),
            last_logged: Mutex::new(None),
        }
    }

    /// Tells the client the server is full, without waiting on it, and
    /// closes the connection.
    fn refuse(&self, stream: TcpStream) {
        let _ = stream.try_write(&self.refusal);
        drop(stream);
        self.refused.fetch_add(1, Ordering::Relaxed);
        self.log(|count| {
            format!(
                "fuelbench serve: {count} connection(s) refused: all {} are open (--max-connections)",
                self.max_connections
            )
        });
    }

    fn accept_failed(&self, error: &std::io::Error) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        self.log(|count| format!("fuelbench serve: {count} connection(s) not accepted: {error}"));
    }

    fn log(&self, line: impl FnOnce(u64) -> String) {
        let mut last = fuelbench_stdx::lock(&self.last_logged);
        if last.is_some_and(|at| at.elapsed() < REFUSAL_LOG_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let count = self.refused.swap(0, Ordering::Relaxed);
        eprintln!("{}", line(count));
    }
}

/// Raises this process's soft limit on open files to its hard limit, and
/// returns the soft limit then in force: the connection cap's default is
/// half of it, so descriptors remain for the store and the sandbox.
pub fn raise_open_files_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if let (Some(current), maximum) = (limit.current, limit.maximum)
        && maximum.is_none_or(|maximum| maximum > current)
    {
        let raised = rustix::process::Rlimit {
            current: maximum,
            maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return maximum.unwrap_or(u64::MAX);
        }
    }
    limit.current.unwrap_or(u64::MAX)
}

/// Connections to take at once when the soft limit on open files is
/// `open_files`: half of it, between 16 and 4,096.
pub fn default_max_connections(open_files: u64) -> usize {
    usize::try_from(open_files / 2)
        .unwrap_or(usize::MAX)
        .clamp(16, 4096)
}
