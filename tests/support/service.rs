//! The service under test: its router over a store of its own, driven
//! with `oneshot`, and `fuelbench serve` as a user starts it.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_problems::load_dir;
use fuelbench_server::{AppState, Config, router};
use serde_json::Value;
use tower::ServiceExt;

use super::{cache_dir, repo_path, sandbox};

/// The service's router over a results store of its own, which lives as
/// long as it does.
#[derive(Clone)]
pub(crate) struct App {
    router: Router,
    /// Removed when the last clone goes.
    store: std::sync::Arc<tempfile::TempDir>,
}

impl std::ops::Deref for App {
    type Target = Router;

    fn deref(&self) -> &Router {
        &self.router
    }
}

impl App {
    /// Where the results files are.
    pub(crate) fn store_dir(&self) -> std::path::PathBuf {
        self.store.path().join("results")
    }
}

/// `config` with a fresh store and locks of its own.
pub(crate) fn app(config: Config) -> App {
    let (state, store) = state(config);
    App {
        router: router(state),
        store: std::sync::Arc::new(store),
    }
}

/// The service's state for `config`, over a fresh store and locks of its
/// own in the directory returned.
pub(crate) fn state(config: Config) -> (AppState, tempfile::TempDir) {
    let store = tempfile::tempdir().expect("a store");
    let problems = load_dir(&repo_path("problems")).expect("the checked-in set loads");
    let evaluator = Evaluator::new(sandbox().clone(), EvalConfig::default());
    let config = Config {
        jobs: fuelbench_server::JobsConfig {
            locks_dir: store.path().join("locks"),
            ..config.jobs
        },
        ..config
    };
    let results =
        fuelbench_runner::DirStore::open(&store.path().join("results")).expect("the store opens");
    let state = AppState::new(
        evaluator,
        problems,
        Vec::new(),
        std::sync::Arc::new(results),
        config,
    )
    .expect("the service starts");
    (state, store)
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&self.body)))
    }
}

pub(crate) async fn send(
    app: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).expect("a request"))
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body")
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

pub(crate) const JSON: (&str, &str) = ("content-type", "application/json");

pub(crate) async fn post(app: &Router, path: &str, body: &Value) -> Answer {
    send(app, "POST", path, &[JSON], body.to_string().into_bytes()).await
}

/// One request over a fresh connection: the status and the body.
pub(crate) fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("the server accepts");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("the request is sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the response is read");
    let status = response[9..12].parse().expect("a status line");
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    (status, body)
}

/// `fuelbench serve` on a free loopback port with `args` (`--results` and
/// so on), as a user starts it; the child and the address it listens on.
pub(crate) fn spawn_serve(args: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fuelbench"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .env("FUELBENCH_CACHE", cache_dir())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("fuelbench serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("the listening line");
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .expect("an address")
        .to_owned();
    (child, addr)
}
