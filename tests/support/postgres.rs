//! A private Postgres cluster for one test, never the system's: made by
//! `initdb` as the `postgres` user in a temporary folder, listening on a
//! free port on 127.0.0.1 only, and stopped by its postmaster's PID when
//! dropped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::external::postgres_bin;
use crate::support::free_port;

/// How long the cluster may take to start or stop.
const PATIENCE: Duration = Duration::from_secs(30);

/// A running private cluster.
#[derive(Debug)]
pub(crate) struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Postgres {
    /// A new cluster, started; trusted connections from loopback only.
    /// Without fsync (the machine does not crash in a test) but with every
    /// commit written: [`Postgres::crash`] loses nothing committed.
    pub(crate) fn start() -> Postgres {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().expect("a temporary directory");
        as_postgres(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()),
        );
        let data = dir.path().join("data");
        as_postgres(
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(bin.join("initdb"))
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
                .arg(&data),
        );
        let cluster = Postgres {
            bin,
            dir,
            port: free_port(),
        };
        cluster.start_again();
        cluster
    }

    /// The URL of a new, empty database in the cluster.
    pub(crate) fn database(&self, name: &str) -> String {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs `sql` in `database` as the superuser, through psql; what it
    /// printed.
    pub(crate) fn psql(&self, database: &str, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-U",
                "postgres",
                "-p",
                &self.port.to_string(),
                "-d",
                database,
                "-c",
                sql,
            ])
            .output()
            .expect("psql runs");
        assert!(
            output.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Starts psql running `sql` in `database`, and leaves it running.
    pub(crate) fn psql_child(&self, database: &str, sql: &str) -> std::process::Child {
        Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
            ])
            .args(["-p", &self.port.to_string(), "-d", database, "-c", sql])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("psql starts")
    }

    /// Stops the cluster at once, as a crash would (SIGQUIT to its
    /// postmaster), and waits until it is gone.
    pub(crate) fn crash(&self) {
        let pid = self.pid().expect("the cluster is running");
        signal(pid, "QUIT");
        let deadline = Instant::now() + PATIENCE;
        while self.data().join("postmaster.pid").exists() || alive(pid) {
            assert!(Instant::now() < deadline, "postgres did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the stopped cluster on its port again, and waits until it
    /// takes connections.
    pub(crate) fn start_again(&self) {
        let socket_dir = self.dir.path().to_str().expect("a UTF-8 path");
        let options = format!(
            "-p {} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c max_connections=200",
            self.port
        );
        as_postgres(
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.data())
                .args(["-l"])
                .arg(self.dir.path().join("log"))
                .args(["-o", &options, "-w", "-t", "30", "start"]),
        );
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The postmaster's PID, from its PID file.
    fn pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // A fast shutdown (SIGINT): connections are cut, and the cluster
        // is gone before its folder is removed.
        if let Some(pid) = self.pid() {
            signal(pid, "INT");
            let deadline = Instant::now() + PATIENCE;
            while alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Whether the postmaster runs; pg_ctl detached it, so it is never our
/// zombie.
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Sends the postmaster `name` (`INT`, `QUIT`).
fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status();
}

fn as_postgres(command: &mut Command) {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
