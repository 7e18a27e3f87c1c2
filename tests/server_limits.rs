use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use fuelbench_server::{Config, JobsConfig};
use serde_json::{Value, json};

use crate::support::fake_server::FakeServer;
use crate::support::service::{JSON, app, http, runtime, send, spawn_serve, state};

/// `fuelbench_server::serve` on a loopback port of its own, in this
/// process, until dropped.
struct Served {
    addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _runtime: tokio::runtime::Runtime,
    store: tempfile::TempDir,
}

fn served(config: Config) -> Served {
    let (state, store) = state(config);
    let runtime = crate::support::service::runtime();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a port");
    let addr = listener.local_addr().expect("bound").to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    runtime.spawn(fuelbench_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Served {
        addr,
        stop: Some(stop),
        _runtime: runtime,
        store,
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A server with `config` whose runs may target a scripted model server
/// that answers every 300 ms, and a run of three problems started on it
/// (its state as the API answered).
fn served_with_a_slow_run(config: Config) -> (Served, FakeServer, serde_json::Value) {
    let problems: Vec<_> = crate::support::scripted::problems()[..3].to_vec();
    let model_server = crate::support::scripted::scripted_with(
        problems.clone(),
        Duration::from_millis(300),
        |_, _| false,
    );
    let server = served(Config {
        jobs: JobsConfig {
            endpoints: vec![model_server.base_url.clone()],
            ..Config::default().jobs
        },
        ..config
    });
    let plan = serde_json::json!({
        "models": ["fake"],
        "problems": problems.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
    });
    let (status, body) = http(&server.addr, "POST", "/api/v1/runs", &plan.to_string());
    assert_eq!(status, 202, "{body}");
    let run = serde_json::from_str(&body).expect("JSON");
    (server, model_server, run)
}

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("the server accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read time-out");
    stream
}

/// Reads until the server closes the connection; what it sent.
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut text = Vec::new();
    let _ = stream.read_to_end(&mut text);
    String::from_utf8_lossy(&text).into_owned()
}

/// Connections that never send a request, or send it a byte at a time,
/// are closed after the header-read time-out; past the connection cap a
/// new one is told 503 at once; and the server answers again as soon as
/// the idle ones are gone.
#[test]
fn idle_and_slow_connections_are_closed_and_the_cap_answers_503() {
    let timeout = Duration::from_millis(400);
    let server = served(Config {
        header_read_timeout: timeout,
        max_connections: 3,
        ..Config::default()
    });

    let started = Instant::now();
    let mut idle: Vec<TcpStream> = (0..3).map(|_| connect(&server.addr)).collect();
    // Give the accept loop time to take all three.
    std::thread::sleep(Duration::from_millis(100));
    let mut refused = connect(&server.addr);
    let answer = read_to_close(&mut refused);
    assert!(
        answer.starts_with("HTTP/1.1 503"),
        "past the cap, a 503: {answer}"
    );
    assert!(answer.contains("retry-after: 1"), "{answer}");
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let body: serde_json::Value = serde_json::from_str(body).expect("the API's error shape");
    assert_eq!(body["error"], "busy");

    for stream in &mut idle {
        assert_eq!(read_to_close(stream), "", "an idle connection is closed");
    }
    let closed_after = started.elapsed();
    assert!(
        closed_after >= timeout && closed_after < timeout * 5,
        "closed after {closed_after:?}"
    );

    // A header byte every 100 ms: still closed at the time-out, with the
    // request never finished.
    let mut slow = connect(&server.addr);
    let started = Instant::now();
    let request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
    for byte in request {
        if slow.write_all(&[*byte]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        if started.elapsed() > timeout * 4 {
            break;
        }
    }
    let answer = read_to_close(&mut slow);
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(
        started.elapsed() < timeout * 5,
        "a slow client is cut off near the time-out, not served: {:?}",
        started.elapsed()
    );

    let (status, body) = http(&server.addr, "GET", "/healthz", "");
    assert_eq!(status, 200, "{body}");
}

/// A run's event stream is a response in progress, so the idle time-out
/// never cuts it: it lasts as long as its run, many time-outs over.
#[test]
fn an_event_stream_outlives_the_idle_time_out() {
    let timeout = Duration::from_millis(200);
    let (server, _model_server, run) = served_with_a_slow_run(Config {
        header_read_timeout: timeout,
        ..Config::default()
    });
    let id = run["id"].as_str().expect("an id");

    let started = Instant::now();
    let mut stream = connect(&server.addr);
    write!(
        stream,
        "GET /api/v1/runs/{id}/events HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.addr
    )
    .expect("the request is sent");
    let events = read_to_close(&mut stream);
    assert!(events.contains("run_finished"), "{events}");
    assert!(
        started.elapsed() > timeout * 3,
        "the stream lasted {:?}",
        started.elapsed()
    );
}

/// A program that sleeps far past any deadline here.
const SLEEPER: &str = r#"{"code": "import time\ntime.sleep(25)"}"#;
const QUICK: &str = r#"{"code": "print(6 * 7)"}"#;

/// One slot, so a slot still held shows as a 503 for the next request.
fn one_slot(request_deadline: Duration) -> Config {
    Config {
        slots: 1,
        queue_wait: Duration::from_millis(500),
        request_deadline,
        ..Config::default()
    }
}

/// Past its deadline a request is a 504, and the sandbox work behind it
/// stops with it: the next request gets the slot at once.
#[test]
fn a_request_past_its_deadline_is_a_504_and_frees_its_slot() {
    let deadline = Duration::from_secs(1);
    let server = served(one_slot(deadline));
    let started = Instant::now();
    let (status, body) = http(&server.addr, "POST", "/api/v1/run", SLEEPER);
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("deadline_exceeded"), "{body}");
    assert!(started.elapsed() < deadline * 3, "{:?}", started.elapsed());
    let (status, body) = http(&server.addr, "POST", "/api/v1/run", QUICK);
    assert_eq!(status, 200, "the slot is free again: {body}");
    assert!(body.contains(r#""stdout":"42\n""#), "{body}");

    let (_, info) = http(&server.addr, "GET", "/api/v1/info", "");
    let info: serde_json::Value = serde_json::from_str(&info).expect("JSON");
    assert_eq!(info["limits"]["request_deadline_ms"], 1000);
}

/// A client that gives up takes its sandbox work with it.
#[test]
fn a_client_that_leaves_frees_its_slot() {
    let server = served(one_slot(Duration::from_secs(60)));
    let mut leaving = connect(&server.addr);
    write!(
        leaving,
        "POST /api/v1/run HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{SLEEPER}",
        server.addr,
        SLEEPER.len()
    )
    .expect("the request is sent");
    std::thread::sleep(Duration::from_millis(500));
    drop(leaving);
    std::thread::sleep(Duration::from_millis(100));
    let (status, body) = http(&server.addr, "POST", "/api/v1/run", QUICK);
    assert_eq!(status, 200, "the slot is free again: {body}");
}

/// A batch's items run in as many slots as the server has, not one after
/// another in one.
#[test]
fn a_batch_is_spread_over_the_slots() {
    let server = served(Config {
        slots: 2,
        request_deadline: Duration::from_secs(3),
        ..Config::default()
    });
    let sleeper = "import time\ntime.sleep(8)\ndef merge_intervals(intervals):\n    return []\n";
    let item = serde_json::json!({ "problem": "p01_merge_intervals", "code": sleeper });
    let batch = serde_json::json!({ "items": [item, item] }).to_string();
    let addr = server.addr.clone();
    let request = std::thread::spawn(move || http(&addr, "POST", "/api/v1/evaluate/batch", &batch));
    let mut most = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        let (_, info) = http(&server.addr, "GET", "/api/v1/info", "");
        let info: serde_json::Value = serde_json::from_str(&info).expect("JSON");
        most = most.max(info["admitted"].as_u64().expect("a count"));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(most, 2, "both items in a slot at once");
    let (status, body) = request.join().expect("no panic");
    assert_eq!(status, 504, "{body}");
    let (_, info) = http(&server.addr, "GET", "/api/v1/info", "");
    let info: serde_json::Value = serde_json::from_str(&info).expect("JSON");
    assert_eq!(info["admitted"], 0, "every place was given back");
}

/// A client that asks for a large response and never reads it holds its
/// connection only until the write time-out: here, the only connection
/// the server takes is free again soon after.
#[test]
fn a_client_that_stops_reading_is_cut_off() {
    let server = served(Config {
        max_connections: 1,
        write_timeout: Duration::from_millis(500),
        ..Config::default()
    });
    // A results file of 56 MiB, more than loopback sockets buffer (up to
    // 32 MiB received and 4 MiB sent here).
    let mut file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::support::repo_path(
            "tests/data/results-schema-1.json",
        ))
        .expect("the fixture"),
    )
    .expect("JSON");
    file["problems"][0]["solve"]["content"] = serde_json::Value::String("x".repeat(56 << 20));
    std::fs::write(
        server.store.path().join("results").join("big.json"),
        file.to_string(),
    )
    .expect("written");

    let mut stalled = connect(&server.addr);
    write!(
        stalled,
        "GET /api/v1/results/big HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.addr
    )
    .expect("sent");
    // Read the head only, then nothing more.
    let mut head = [0u8; 64];
    stalled.read_exact(&mut head).expect("the response starts");
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );

    // While it holds the only connection, others are refused (and may be
    // reset); once it is cut off, they are served.
    let healthy = |addr: &str| -> std::io::Result<String> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(
            stream,
            "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    };
    let started = Instant::now();
    let answer = loop {
        let answer = healthy(&server.addr).unwrap_or_default();
        if answer.starts_with("HTTP/1.1 200") || started.elapsed() > Duration::from_secs(10) {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the stalled connection was let go: {answer}"
    );
    drop(stalled);
}

/// A body is read only with a place among the slots and the queue: a
/// client that sends half a body holds one place, and the next request
/// past them is told 503 at once, its body never read.
#[test]
fn bodies_wait_for_a_place_before_they_are_read() {
    let server = served(Config {
        slots: 1,
        queue: 0,
        ..Config::default()
    });
    let mut half = connect(&server.addr);
    write!(
        half,
        "POST /api/v1/run HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{\"code\": \"",
        server.addr
    )
    .expect("sent");
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let (status, body) = http(&server.addr, "POST", "/api/v1/run", QUICK);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("busy"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // Run control needs no place: a flood of evaluations cannot keep
    // anyone from cancelling a run.
    let (status, body) = http(&server.addr, "POST", "/api/v1/runs/none/cancel", "{}");
    assert_eq!(status, 404, "{body}");
    drop(half);
    std::thread::sleep(Duration::from_millis(200));
    let (status, body) = http(&server.addr, "POST", "/api/v1/run", QUICK);
    assert_eq!(status, 200, "{body}");
}

/// Event streams are capped like connections: past the cap, a 503.
#[test]
fn event_streams_past_the_cap_are_refused() {
    let (server, _model_server, run) = served_with_a_slow_run(Config {
        max_event_streams: 1,
        ..Config::default()
    });
    let id = run["id"].as_str().expect("an id").to_owned();
    let owner = run["owner"].as_str().expect("an owner");
    assert!(
        owner.len() == 16 && owner.bytes().all(|b| b.is_ascii_hexdigit()),
        "the API shows a digest, not a host and a PID: {owner}"
    );

    let mut first = connect(&server.addr);
    write!(
        first,
        "GET /api/v1/runs/{id}/events HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.addr
    )
    .expect("sent");
    let mut head = [0u8; 12];
    first.read_exact(&mut head).expect("the stream starts");
    assert_eq!(&head, b"HTTP/1.1 200");
    let (status, body) = http(
        &server.addr,
        "GET",
        &format!("/api/v1/runs/{id}/events"),
        "",
    );
    assert_eq!(status, 503, "{body}");
    drop(first);
}

/// Far more concurrent requests than slots: each is a 200 or a quick 503
/// with `Retry-After`, never a host error, and the server is healthy after.
#[test]
fn overload_sees_only_200s_and_503s() {
    let app = app(Config {
        slots: 1,
        queue: 2,
        queue_wait: Duration::from_millis(500),
        ..Config::default()
    });
    // About 0.1 s of work each.
    let body = json!({ "code": "x = 0\nfor i in range(300000): x += i\nprint(x)" }).to_string();
    let statuses = runtime().block_on(async {
        let requests = (0..24).map(|_| {
            let app = app.clone();
            let body = body.clone().into_bytes();
            tokio::spawn(async move { send(&app, "POST", "/api/v1/run", &[JSON], body).await })
        });
        let mut statuses = Vec::new();
        for request in requests.collect::<Vec<_>>() {
            let answer = request.await.expect("no panic");
            if answer.status == StatusCode::SERVICE_UNAVAILABLE {
                assert_eq!(answer.headers["retry-after"], "1");
                assert_eq!(answer.json()["error"], "busy");
            }
            statuses.push(answer.status);
        }
        let health = send(&app, "GET", "/api/v1/info", &[], Vec::new()).await;
        assert_eq!(health.json()["admitted"], 0, "every place was given back");
        statuses
    });
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert!(
        statuses.contains(&StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process is alive");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc")
}

/// `fuelbench serve` as a user starts it, over a real socket: overloaded,
/// then stopped by SIGTERM in the middle of a run it is streaming.
#[test]
fn serve_over_a_real_socket_survives_overload_and_stops_on_sigterm_mid_run() {
    let problems: Vec<fuelbench_problems::Problem> =
        crate::support::scripted::problems()[..3].to_vec();
    let model_server = crate::support::scripted::scripted_with(
        problems.clone(),
        Duration::from_millis(100),
        |_, _| false,
    );
    let store = tempfile::tempdir().unwrap();
    let (mut child, addr) = spawn_serve(&[
        "--slots".as_ref(),
        "1".as_ref(),
        "--results".as_ref(),
        store.path().as_os_str(),
        "--endpoint".as_ref(),
        model_server.base_url.as_ref(),
    ]);

    let program = r#"{"code": "print(sum(range(10)))"}"#;
    let (status, body) = http(&addr, "POST", "/api/v1/run", program);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""stdout":"45\n""#), "{body}");
    for _ in 0..20 {
        http(&addr, "POST", "/api/v1/run", program);
    }
    let before = rss_kib(child.id());

    // 64 clients at once on one slot and a queue of 32.
    let busy = r#"{"code": "x = 0\nfor i in range(200000): x += i\nprint(x)"}"#;
    let clients: Vec<_> = (0..64)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || http(&addr, "POST", "/api/v1/run", busy).0)
        })
        .collect();
    let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(statuses.contains(&503), "{statuses:?}");
    let (status, _) = http(&addr, "GET", "/healthz", "");
    assert_eq!(status, 200);
    let after = rss_kib(child.id());
    eprintln!("serve RSS: {before} KiB before the overload, {after} KiB after");
    assert!(after < before + 32 * 1024, "{before} KiB -> {after} KiB");
    let (_, metrics) = http(&addr, "GET", "/metrics", "");
    assert!(metrics.contains("fuelbench_rejections_total"), "{metrics}");
    assert!(
        metrics.contains(
            r#"fuelbench_http_requests_total{route="/api/v1/run",method="POST",status="503"}"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"fuelbench_sandbox_runs_total{status="exited"}"#),
        "{metrics}"
    );

    // A run, watched; SIGTERM while it is in flight.
    let ids: Vec<&str> = problems.iter().map(|p| p.id.as_str()).collect();
    let start = json!({ "models": ["fake"], "problems": ids, "refactor": false }).to_string();
    let (status, body) = http(&addr, "POST", "/api/v1/runs", &start);
    assert_eq!(status, 202, "{body}");
    let run: Value = serde_json::from_str(&body).unwrap();
    let id = run["id"].as_str().unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /api/v1/runs/{id}/events HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut events = BufReader::new(stream);
    let mut seen = String::new();
    while !seen.contains("problem_started") {
        let mut line = String::new();
        assert!(
            events.read_line(&mut line).unwrap() > 0,
            "the stream ended early: {seen}"
        );
        seen.push_str(&line);
    }
    // The child is ours: end it by its PID.
    let pid = child.id().to_string();
    let signalled = std::time::Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut rest = String::new();
    events
        .read_to_string(&mut rest)
        .expect("the stream ends, not times out");
    assert!(rest.contains("run_cancelled"), "{rest}");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(15),
        "{:?}",
        signalled.elapsed()
    );

    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(store.path().join("runs").join(format!("{id}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(saved["state"], "cancelled");
    let file = saved["files"][0].as_str().unwrap();
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(store.path().join(format!("{file}.json"))).unwrap(),
    )
    .expect("the results file is whole");
    assert_eq!(results["complete"], false);
}
