//! What the external tier's tests need from outside the repository: a real
//! llama-server, a real small model, Chromium and its driver. Each test
//! asks here; a missing one fails the test, saying what is missing and
//! what installs it. These tests never skip: without the programs, leave
//! the `external-tests` feature off and they are not built.

use std::path::PathBuf;
use std::process::Command;

/// The llama-server binary `scripts/setup-external.sh` built.
pub(crate) fn llama_server() -> PathBuf {
    installed("FUELBENCH_LLAMA_SERVER", "a llama-server binary")
}

/// The GGUF model `scripts/setup-external.sh` joined.
pub(crate) fn model() -> PathBuf {
    installed("FUELBENCH_MODEL", "a GGUF model")
}

/// chromedriver, for driving Debian's Chromium.
pub(crate) fn chromedriver() -> &'static str {
    ["chromedriver", "/usr/bin/chromedriver"]
        .into_iter()
        .find(|path| Command::new(path).arg("--version").output().is_ok())
        .unwrap_or_else(|| {
            panic!(
                "chromedriver is not installed: this test drives the web UI in Debian's chromium \
                 over chromium-driver. Run scripts/setup-external.sh, which installs both \
                 (scripts/test.sh does)"
            )
        })
}

fn installed(variable: &str, what: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "{variable} is not set: this test needs {what}. Run scripts/setup-external.sh \
                 and set {variable} to the path it prints (scripts/test.sh does both)"
            )
        });
    assert!(
        path.is_file(),
        "{variable}={} is not a file: this test needs {what} there",
        path.display()
    );
    path
}

/// Debian's haproxy, the path `scripts/setup-external.sh` prints.
pub(crate) fn haproxy() -> PathBuf {
    let path = std::env::var_os("FUELBENCH_HAPROXY")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "FUELBENCH_HAPROXY is not set: this test puts haproxy in front of several \
                 replicas. Run scripts/setup-external.sh, which installs Debian's haproxy, and set \
                 it to the path it prints (scripts/test.sh does both)"
            )
        });
    assert!(
        path.is_file(),
        "FUELBENCH_HAPROXY={} is no file",
        path.display()
    );
    path
}

/// Debian's Postgres server programs (`initdb`, `pg_ctl`, `postgres`),
/// the folder `scripts/setup-external.sh` prints.
pub(crate) fn postgres_bin() -> PathBuf {
    let dir = std::env::var_os("FUELBENCH_POSTGRES_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "FUELBENCH_POSTGRES_BIN is not set: this test starts a private Postgres cluster. \
                 Run scripts/setup-external.sh, which installs Debian's postgresql, and set it to \
                 the folder it prints (scripts/test.sh does both)"
            )
        });
    assert!(
        dir.join("initdb").is_file() && dir.join("pg_ctl").is_file(),
        "FUELBENCH_POSTGRES_BIN={} holds no initdb and pg_ctl",
        dir.display()
    );
    dir
}
