use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use fuelbench_server::{Config, RunsConfig};

use crate::server::{http, state};

/// `fuelbench_server::serve` on a loopback port of its own, in this
/// process, until dropped.
struct Served {
    addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _runtime: tokio::runtime::Runtime,
    _store: tempfile::TempDir,
}

fn served(config: Config) -> Served {
    let (state, store) = state(config);
    let runtime = crate::server::runtime();
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
        _store: store,
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
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
    let problems: Vec<_> = crate::runner::problems()[..3].to_vec();
    let model_server =
        crate::runner::scripted_with(problems.clone(), Duration::from_millis(300), |_, _| false);
    let timeout = Duration::from_millis(200);
    let server = served(Config {
        header_read_timeout: timeout,
        runs: RunsConfig {
            endpoints: vec![model_server.base_url.clone()],
            ..Config::default().runs
        },
        ..Config::default()
    });
    let plan = serde_json::json!({
        "models": ["fake"],
        "problems": problems.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
    });
    let (status, body) = http(&server.addr, "POST", "/api/v1/runs", &plan.to_string());
    assert_eq!(status, 202, "{body}");
    let run: serde_json::Value = serde_json::from_str(&body).expect("JSON");
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
