//! The service as several processes on loopback: `fuelbench serve`
//! replicas on one Postgres database, `fuelbench worker`s, and haproxy in
//! front with the configuration in deploy/. Each process is stopped by
//! its PID when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{cache_dir, free_port, repo_path};

/// A process of ours, and where it listens when it does.
#[derive(Debug)]
pub(crate) struct Proc {
    child: Child,
    /// `127.0.0.1:PORT`, for a replica or haproxy.
    pub(crate) addr: String,
}

impl Proc {
    /// SIGKILL, and reaped: gone with no chance to tidy up.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and waited for at most `patience`; its exit code.
    pub(crate) fn terminate(&mut self, patience: Duration) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `fuelbench serve` on the database at `database`, runs may target
/// `endpoints`, the results store `results`.
pub(crate) fn replica(database: &str, results: &Path, endpoints: &[&str]) -> Proc {
    let mut command = fuelbench();
    command
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--no-verify",
            "--slots",
            "1",
        ])
        .args(["--database-url", database, "--results"])
        .arg(results);
    for endpoint in endpoints {
        command.args(["--endpoint", endpoint]);
    }
    let (child, line) = started(command, "listening on http://");
    let addr = line
        .rsplit("http://")
        .next()
        .expect("an address")
        .to_owned();
    Proc { child, addr }
}

/// `fuelbench worker` for `endpoint`, named `tag`, with a lease of
/// `lease`.
pub(crate) fn worker(
    database: &str,
    results: &Path,
    endpoint: &str,
    tag: &str,
    lease: Duration,
) -> Proc {
    let mut command = fuelbench();
    command
        .args(["worker", "--database-url", database, "--endpoint", endpoint])
        .args(["--tag", tag, "--lease", &lease.as_secs_f64().to_string()])
        .arg("--results")
        .arg(results);
    let (child, _) = started(command, "claiming runs");
    Proc {
        child,
        addr: String::new(),
    }
}

/// haproxy with deploy/haproxy.cfg in front of `replicas` (three), once
/// it answers and sees every replica up.
pub(crate) fn haproxy(replicas: &[&str]) -> Proc {
    assert_eq!(replicas.len(), 3, "deploy/haproxy.cfg names three replicas");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut command = Command::new(super::external::haproxy());
    command
        .args(["-db", "-f"])
        .arg(repo_path("deploy/haproxy.cfg"))
        .env("FUELBENCH_LISTEN", &addr)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (n, replica) in replicas.iter().enumerate() {
        command.env(format!("FUELBENCH_REPLICA_{}", n + 1), replica);
    }
    let child = command.spawn().expect("haproxy starts");
    let proxy = Proc { child, addr };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect(&proxy.addr).is_ok() && get(&proxy.addr, "/healthz").0 == 200 {
            // Each replica checked healthy once, at one check a second.
            std::thread::sleep(Duration::from_millis(1500));
            return proxy;
        }
        assert!(Instant::now() < deadline, "haproxy did not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn fuelbench() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fuelbench"));
    command
        .env("FUELBENCH_CACHE", cache_dir())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    command
}

/// Spawns `command` and waits for the stdout line holding `mark`.
fn started(mut command: Command, mark: &str) -> (Child, String) {
    let mut child = command.spawn().expect("fuelbench starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let line = loop {
        match lines.next() {
            Some(Ok(line)) if line.contains(mark) => break line,
            Some(Ok(_)) => {}
            _ => {
                let _ = child.kill();
                let status = child.wait();
                panic!("fuelbench ended before saying {mark:?}: {status:?}");
            }
        }
    };
    // Whatever else it prints is read and dropped, so it never blocks.
    std::thread::spawn(move || for _ in lines {});
    (child, line.trim().to_owned())
}

/// One request with a JSON body, `Connection: close`: the status, the
/// headers (lowercase names) and the body. 0 when the connection failed.
pub(crate) fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Vec<(String, String)>, String) {
    let body = body.map(Value::to_string).unwrap_or_default();
    request_with(
        addr,
        method,
        path,
        &[("content-type", "application/json")],
        &body,
    )
}

/// One request with `headers` and `body`, as [`request`].
pub(crate) fn request_with(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return (0, Vec::new(), String::new());
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("a time-out");
    let headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let sent = write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut response = String::new();
    if sent.is_err() || stream.read_to_string(&mut response).is_err() || response.len() < 12 {
        return (0, Vec::new(), String::new());
    }
    let status = response[9..12].parse().unwrap_or(0);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

/// GET `path`: the status and the body.
pub(crate) fn get(addr: &str, path: &str) -> (u16, String) {
    let (status, _, body) = request(addr, "GET", path, None);
    (status, body)
}

/// GET `path` as JSON, which must answer 200.
pub(crate) fn get_json(addr: &str, path: &str) -> Value {
    let (status, body) = get(addr, path);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

/// Starts a run through `addr`; its id.
pub(crate) fn start_run(addr: &str, body: &Value) -> String {
    let (status, _, answer) = request(addr, "POST", "/api/v1/runs", Some(body));
    assert_eq!(status, 202, "start a run: {answer}");
    let answer: Value = serde_json::from_str(&answer).expect("JSON");
    answer["id"].as_str().expect("an id").to_owned()
}

/// Waits, at most `patience`, for run `id` to end; its state.
pub(crate) fn wait_over(addr: &str, id: &str, patience: Duration) -> Value {
    let deadline = Instant::now() + patience;
    loop {
        let (status, body) = get(addr, &format!("/api/v1/runs/{id}"));
        if status == 200 {
            let run: Value = serde_json::from_str(&body).expect("JSON");
            if matches!(
                run["state"].as_str(),
                Some("finished" | "failed" | "cancelled")
            ) {
                return run;
            }
        }
        assert!(
            Instant::now() < deadline,
            "run {id} did not end in {patience:?}: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// An event stream read as a browser's `EventSource` reads it, over a
/// connection of its own.
pub(crate) struct EventStream {
    reader: BufReader<TcpStream>,
    /// The body, decoded from its chunks, not yet parsed.
    text: String,
}

/// One event: its number (none for the snapshot) and its data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sent {
    pub(crate) id: Option<u64>,
    pub(crate) data: Value,
}

impl EventStream {
    /// Opens run `id`'s events at `addr`, after `last_event_id` when given.
    pub(crate) fn open(addr: &str, id: &str, last_event_id: Option<u64>) -> EventStream {
        let mut stream = TcpStream::connect(addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a time-out");
        let resume = last_event_id.map_or(String::new(), |n| format!("Last-Event-ID: {n}\r\n"));
        write!(
            stream,
            "GET /api/v1/runs/{id}/events HTTP/1.1\r\nHost: {addr}\r\n\
             Accept: text/event-stream\r\n{resume}Connection: close\r\n\r\n"
        )
        .expect("the request is sent");
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).expect("a status line");
        assert!(status.contains(" 200 "), "events: {status}");
        let mut chunked = false;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("a header");
            if line.trim().is_empty() {
                break;
            }
            chunked |= line
                .to_ascii_lowercase()
                .starts_with("transfer-encoding: chunked");
        }
        assert!(chunked, "an event stream is sent in chunks");
        EventStream {
            reader,
            text: String::new(),
        }
    }

    /// The next event; `None` when the stream ended or broke.
    pub(crate) fn next(&mut self) -> Option<Sent> {
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let frame: String = self.text.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        id = Some(value.trim().parse().expect("a numeric id"));
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if data.is_empty() {
                    // A keep-alive comment.
                    continue;
                }
                let data = serde_json::from_str(&data).expect("event data is JSON");
                return Some(Sent { id, data });
            }
            let chunk = self.chunk()?;
            self.text.push_str(&chunk);
        }
    }

    /// The next chunk of the body; `None` at its end or when the
    /// connection broke.
    fn chunk(&mut self) -> Option<String> {
        let mut size = String::new();
        if self.reader.read_line(&mut size).ok()? == 0 {
            return None;
        }
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        if size == 0 {
            return None;
        }
        let mut bytes = vec![0; size + 2];
        self.reader.read_exact(&mut bytes).ok()?;
        bytes.truncate(size);
        Some(
            String::from_utf8(bytes)
                .expect("UTF-8")
                .replace("\r\n", "\n"),
        )
    }
}
