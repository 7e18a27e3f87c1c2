//! A `llama-server` that fuelbench starts itself: on 127.0.0.1, on a free
//! port, with its log in a file, and stopped by its own PID when dropped.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// How to start a [`LocalServer`]: the binary, the model and the few settings
/// fuelbench chooses.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalServerConfig {
    /// The `llama-server` binary.
    pub binary: PathBuf,
    /// A GGUF file.
    pub model: PathBuf,
    /// The name the server answers to (`--alias`).
    pub alias: String,
    /// Generation threads. One is fastest on a busy 2-core machine: with two,
    /// anything else running makes generation collapse to a few tokens a
    /// second.
    pub threads: u32,
    /// Context length; a solve plus a refactor of the longest problem fits
    /// in 16k with an 8k answer.
    pub ctx_size: u32,
    /// Where the server's output goes.
    pub log: PathBuf,
    /// Extra arguments, appended as given.
    pub extra_args: Vec<String>,
    /// For `/health` to answer after the start (mapping the model).
    pub start_timeout: Duration,
}

impl LocalServerConfig {
    /// The defaults around the given paths and alias: one thread, a 16384-token
    /// context, no extra arguments, and five minutes to start.
    pub fn new(binary: PathBuf, model: PathBuf, alias: String, log: PathBuf) -> LocalServerConfig {
        LocalServerConfig {
            binary,
            model,
            alias,
            threads: 1,
            ctx_size: 16384,
            log,
            extra_args: Vec::new(),
            start_timeout: Duration::from_secs(300),
        }
    }
}

/// A running server; dropping it stops it.
#[derive(Debug)]
pub struct LocalServer {
    child: Child,
    base_url: String,
    log: PathBuf,
    /// The binary and every argument it was started with.
    argv: Vec<String>,
}

impl LocalServer {
    /// Starts the server and waits until `/health` says it is ready. The
    /// kernel stops the server when the *thread* that started it ends, so
    /// start it from one that outlives it (the main thread, or a dedicated
    /// one), not from a pooled worker.
    pub fn start(config: &LocalServerConfig) -> Result<LocalServer> {
        for path in [&config.binary, &config.model] {
            if !path.is_file() {
                return Err(Error::Start(format!("{} does not exist", path.display())));
            }
        }
        let port = free_port()?;
        let log = File::create(&config.log).map_err(|source| Error::Io {
            path: config.log.clone(),
            source,
        })?;
        let log_err = log.try_clone().map_err(|source| Error::Io {
            path: config.log.clone(),
            source,
        })?;
        let mut args: Vec<String> = vec![
            "--model".into(),
            config.model.display().to_string(),
            "--alias".into(),
            config.alias.clone(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--threads".into(),
            config.threads.to_string(),
            "--ctx-size".into(),
            config.ctx_size.to_string(),
            "--parallel".into(),
            "1".into(),
            "--no-webui".into(),
            "--metrics".into(),
        ];
        args.extend(config.extra_args.iter().cloned());
        let mut command = Command::new(&config.binary);
        // If fuelbench dies, even by SIGKILL, the kernel sends the server
        // SIGTERM: no orphaned server keeps the port and the memory.
        // SAFETY: the closure makes one async-signal-safe call (prctl) and
        // touches no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                rustix::process::set_parent_process_death_signal(Some(
                    rustix::process::Signal::TERM,
                ))
                .map_err(std::io::Error::from)
            });
        }
        let child = command
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|error| Error::Start(format!("run {}: {error}", config.binary.display())))?;
        let mut argv = vec![config.binary.display().to_string()];
        argv.extend(args);
        let mut server = LocalServer {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log: config.log.clone(),
            argv,
        };
        server.wait_healthy(config.start_timeout)?;
        Ok(server)
    }

    /// Where it listens: `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The server process's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exact command line it was started with.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The file its stdout and stderr go to.
    pub fn log(&self) -> &std::path::Path {
        &self.log
    }

    fn wait_healthy(&mut self, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        let address = self.base_url.trim_start_matches("http://").to_owned();
        while started.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error::Start(format!(
                    "it exited with {status} before it was ready; its log: {}\n{}",
                    self.log.display(),
                    tail(&self.log, 20)
                )));
            }
            if health_ok(&address) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(Error::Start(format!(
            "/health did not answer 200 within {timeout:?}; its log: {}",
            self.log.display()
        )))
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        // Our own child, by its PID: SIGTERM so it can close cleanly, SIGKILL
        // if it has not gone within five seconds.
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now. The server binds it a moment later; a
/// clash is possible but rare, and shows as a start failure naming the log.
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| Error::Io {
        path: "127.0.0.1:0".into(),
        source,
    })?;
    let port = listener
        .local_addr()
        .map_err(|source| Error::Io {
            path: "127.0.0.1:0".into(),
            source,
        })?
        .port();
    Ok(port)
}

/// A blocking `GET /health` over a plain socket: the start-up wait needs no
/// runtime.
fn health_ok(address: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

fn tail(path: &std::path::Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
