//! Helpers every test module may use; no test module imports another.
//! The cache, one shared sandbox, the binary, and:

/// What the external tier needs from outside: llama-server, a model, Chromium.
#[cfg(feature = "external-tests")]
pub(crate) mod external;
/// A scripted HTTP server for fault injection.
pub(crate) mod fake_server;
/// Replicas, workers and haproxy on loopback, each stopped by its PID.
#[cfg(feature = "external-tests")]
pub(crate) mod fleet;
/// A private Postgres cluster for one test, stopped by its PID.
#[cfg(feature = "external-tests")]
pub(crate) mod postgres;
/// The runner library driven against scripted servers.
pub(crate) mod runs;
/// Model servers that answer from a script, with known verdicts.
pub(crate) mod scripted;
/// The service's router over a store of its own, and `fuelbench serve`.
pub(crate) mod service;
/// The contract every results store keeps, and a finished run to put in one.
pub(crate) mod store;

use std::path::PathBuf;

use serde_json::Value;
use std::process::{Command, Output};
use std::sync::OnceLock;

use fuelbench_sandbox::{Sandbox, SandboxBuilder};

/// The cache the README's commands fill: FUELBENCH_CACHE, else
/// ~/.cache/fuelbench. Tests need the pinned interpreter built there
/// (python-wasm/build.sh) and fail loudly when it is not.
pub(crate) fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FUELBENCH_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache")
        });
    base.join("fuelbench")
}

/// One sandbox for the whole test binary, as a long-running service holds.
pub(crate) fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        SandboxBuilder::new(cache_dir())
            .build()
            .unwrap_or_else(|error| panic!("the sandbox must build for these tests: {error}"))
    })
}

pub(crate) fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Runs the built `fuelbench` binary with the test cache.
pub(crate) fn fuelbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fuelbench"))
        .args(args)
        .env("FUELBENCH_CACHE", cache_dir())
        .env_remove("FUELBENCH_INTERPRETER")
        .env_remove("FUELBENCH_PROBLEMS")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the fuelbench binary starts")
}

/// Fails when the committed JSON at `path` differs from `current`, saying
/// which `command` writes it afresh.
pub(crate) fn check_committed(path: &str, command: &str, current: Value) {
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path(path))
            .unwrap_or_else(|error| panic!("{path} is committed: {error}")),
    )
    .unwrap_or_else(|error| panic!("{path} is JSON: {error}"));
    assert!(
        committed == current,
        "{path} is stale: regenerate it with `{command} > {path}`"
    );
}

/// A port free on 127.0.0.1 now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("an address")
        .port()
}
