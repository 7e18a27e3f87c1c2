//! `fuelbench bench soak`: one `fuelbench serve`, as a person starts it,
//! under minutes of mixed traffic with a share of hostile requests, and
//! its resident memory, open descriptors, threads and latency minute by
//! minute. A service left running for months must show them flat.
//!
//! The server and a stub model server run as child processes, so what is
//! measured is the server's alone. Every client stops at the deadline.

use std::process::{Command, ExitCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use fuelbench_eval::{EvalConfig, Evaluator};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;

use crate::GlobalArgs;
use crate::bench::{median, millis, percentile};
use crate::bench_perf::{Spawned, Stub};
use crate::bench_serve::{request, seed_store};
use crate::problems::ProblemsArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct SoakBenchArgs {
    #[command(flatten)]
    problems: ProblemsArgs,
    /// How long the traffic runs
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Clients sending at once, each on its own connections
    #[arg(long, default_value_t = 8)]
    clients: usize,
}

/// What the targets allow: RSS growth from the first minute to the last,
/// and the last minute's p99 over the first's.
const MAX_RSS_GROWTH_MIB: f64 = 32.0;
const MAX_P99_RATIO: f64 = 1.5;

/// The requests one client sends, in turn; every seventh is hostile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Evaluate,
    Batch,
    Board,
    BoardJson,
    Results,
    ResultsPage,
    Watch,
    StartAndCancel,
    Hostile(Hostile),
}

/// What an attacker sends; the server must answer each with a 4xx (or a
/// verdict), keep no resource, and stay fast for everyone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hostile {
    /// A header byte now and then, never finished.
    Slowloris,
    /// A connection that sends nothing, left for the server to close.
    Idle,
    /// A body over the limit.
    Oversized,
    /// JSON nested thousands deep.
    Deep,
    /// A method HTTP does not define.
    MadeUpMethod,
    /// A name that climbs out of the store.
    Traversal,
    /// A program that sleeps past its wall clock.
    Sleeper,
    /// An evaluation whose client leaves after a moment.
    Leaver,
    /// A `Last-Event-ID` that is not a number.
    BadEventId,
    /// A form with no session token.
    Forged,
}

const CYCLE: [Action; 24] = [
    Action::Evaluate,
    Action::Board,
    Action::Evaluate,
    Action::BoardJson,
    Action::Hostile(Hostile::Slowloris),
    Action::Results,
    Action::Evaluate,
    Action::Batch,
    Action::Hostile(Hostile::Oversized),
    Action::ResultsPage,
    Action::Watch,
    Action::Evaluate,
    Action::Hostile(Hostile::Deep),
    Action::StartAndCancel,
    Action::Board,
    Action::Hostile(Hostile::MadeUpMethod),
    Action::Evaluate,
    Action::Hostile(Hostile::Traversal),
    Action::Hostile(Hostile::Sleeper),
    Action::BoardJson,
    Action::Hostile(Hostile::Leaver),
    Action::Hostile(Hostile::BadEventId),
    Action::Hostile(Hostile::Forged),
    Action::Hostile(Hostile::Idle),
];

/// One minute's answers.
#[derive(Debug, Default)]
struct Minute {
    /// Latencies of the ordinary requests and responses, in ms.
    latencies_ms: Vec<f64>,
    /// Event streams followed and runs started and cancelled: their time
    /// is the stream's or the run's, not a latency.
    long: usize,
    ok: usize,
    client_errors: usize,
    server_errors: Vec<String>,
    hostile: usize,
}

/// What a request was, for the counts.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// With its latency in ms.
    Ordinary(f64),
    Long,
    Hostile,
}

struct Traffic {
    started: Instant,
    minutes: Mutex<Vec<Minute>>,
}

impl Traffic {
    fn new() -> Traffic {
        Traffic {
            started: Instant::now(),
            minutes: Mutex::new(Vec::new()),
        }
    }

    fn minute(&self) -> usize {
        (self.started.elapsed().as_secs() / 60) as usize
    }

    fn record(&self, what: &str, status: u16, kind: Kind) {
        let index = self.minute();
        let mut minutes = fuelbench_stdx::lock(&self.minutes);
        if minutes.len() <= index {
            minutes.resize_with(index + 1, Minute::default);
        }
        let minute = &mut minutes[index];
        match status {
            // A hostile client that sent no whole request: no answer.
            0 => {}
            500.. => minute.server_errors.push(format!("{what}: {status}")),
            400..=499 => minute.client_errors += 1,
            _ => minute.ok += 1,
        }
        match kind {
            Kind::Ordinary(ms) => minute.latencies_ms.push(ms),
            Kind::Long => minute.long += 1,
            Kind::Hostile => minute.hostile += 1,
        }
    }
}

/// A `fuelbench serve` child, ended by its PID when dropped.
struct Server {
    process: Spawned,
    addr: String,
}

impl Server {
    fn start(
        global: &GlobalArgs,
        store: &std::path::Path,
        endpoint: &str,
    ) -> anyhow::Result<Server> {
        let mut command = Command::new(std::env::current_exe().context("this binary")?);
        if let Some(dir) = &global.cache_dir {
            command.arg("--cache-dir").arg(dir);
        }
        if let Some(dir) = &global.interpreter {
            command.arg("--interpreter").arg(dir);
        }
        command
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--endpoint",
                endpoint,
                "--results",
            ])
            .arg(store);
        let process = Spawned::start(&mut command, "-TERM", "fuelbench serve")?;
        let addr = process
            .first_line
            .trim()
            .rsplit("http://")
            .next()
            .filter(|addr| !addr.is_empty())
            .context("the server's address")?
            .to_owned();
        Ok(Server { process, addr })
    }

    /// Resident memory in MiB, open descriptors, threads.
    fn gauges(&self) -> (f64, usize, usize) {
        let pid = self.process.pid();
        let rss = fuelbench_llm::rss_bytes(pid).map_or(f64::NAN, |b| b as f64 / (1 << 20) as f64);
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
        let threads = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix("Threads:"))
                    .and_then(|count| count.trim().parse().ok())
            })
            .unwrap_or(0);
        (rss, fds, threads)
    }
}

pub(crate) fn run(global: &GlobalArgs, args: &SoakBenchArgs) -> anyhow::Result<ExitCode> {
    ensure!(args.minutes > 0.0, "--minutes must be above 0");
    ensure!(args.clients > 0, "--clients must be above 0");
    let problems = args.problems.load()?;
    let problem = problems.first().context("no problems")?.clone();
    let store = tempfile::tempdir().context("failed to make a results store")?;
    let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
    seed_store(&evaluator, &problems, store.path(), 20)?;
    // A file whose every text is hostile, and one past the size cap.
    std::fs::write(
        store.path().join("hostile.json"),
        json!({ "format": "fuelbench-results", "schema_version": 2,
                "updated_at": "é".repeat(40), "config": { "model": "=1+1" } })
        .to_string(),
    )?;
    std::fs::File::create(store.path().join("huge.json"))?
        .set_len(fuelbench_runner::MAX_RESULTS_BYTES + 1)?;
    let name = std::fs::read_dir(store.path())?
        .filter_map(|entry| entry.ok()?.path().file_stem()?.to_str().map(str::to_owned))
        .find(|name| name.starts_with("model-"))
        .context("a seeded results file")?;

    let stub = Stub::start(20, 2000.0, 8)?;
    let server = Server::start(global, store.path(), &stub.url)?;
    let bodies = Arc::new(Bodies::new(&problem, &name));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    // One of each ordinary request first, so the pools and caches a
    // server makes on first use are in the baseline.
    runtime.block_on(async {
        for action in [
            Action::Evaluate,
            Action::Batch,
            Action::Board,
            Action::Results,
        ] {
            act(&server.addr, action, &bodies, &Traffic::new()).await;
        }
    });
    std::thread::sleep(Duration::from_secs(15));
    let baseline = server.gauges();
    eprintln!(
        "bench soak: serving on {} for {} min with {} clients; baseline RSS {:.1} MiB, {} fds, {} threads",
        server.addr, args.minutes, args.clients, baseline.0, baseline.1, baseline.2
    );

    let traffic = Arc::new(Traffic::new());
    let deadline = Duration::from_secs_f64(args.minutes * 60.0);
    let mut gauges = Vec::new();
    runtime.block_on(async {
        let count = args.clients;
        let clients: Vec<_> = (0..count)
            .map(|client| {
                let (traffic, bodies, addr) = (
                    Arc::clone(&traffic),
                    Arc::clone(&bodies),
                    server.addr.clone(),
                );
                tokio::spawn(async move {
                    let mut step = client * CYCLE.len() / count;
                    while traffic.started.elapsed() < deadline {
                        let action = CYCLE[step % CYCLE.len()];
                        step += 1;
                        act(&addr, action, &bodies, &traffic).await;
                    }
                })
            })
            .collect();
        // A sample at the end of each minute, while the traffic runs.
        let mut minute = 1;
        while traffic.started.elapsed() < deadline {
            let next = Duration::from_secs(60 * minute).min(deadline);
            tokio::time::sleep(next.saturating_sub(traffic.started.elapsed())).await;
            gauges.push(server.gauges());
            minute += 1;
        }
        for client in clients {
            let _ = client.await;
        }
    });
    // Past the idle time-out, so every connection the traffic left is gone
    // and the blocking pool's spare threads have ended.
    std::thread::sleep(Duration::from_secs(25));
    let after = server.gauges();

    let minutes = std::mem::take(&mut *fuelbench_stdx::lock(&traffic.minutes));
    let mut rows = Vec::new();
    for (index, (minute, gauge)) in minutes.iter().zip(&gauges).enumerate() {
        rows.push(json!({
            "minute": index + 1,
            "requests": minute.latencies_ms.len(),
            "hostile": minute.hostile,
            "streams_and_runs": minute.long,
            "ok": minute.ok,
            "4xx": minute.client_errors,
            "5xx": minute.server_errors.len(),
            "p50_ms": median(&minute.latencies_ms),
            "p99_ms": percentile(&minute.latencies_ms, 0.99),
            "rss_mib": gauge.0,
            "fds": gauge.1,
            "threads": gauge.2,
        }));
    }
    let server_errors: Vec<&String> = minutes.iter().flat_map(|m| &m.server_errors).collect();
    let first = rows.first().context("no minute was measured")?;
    let last = rows.last().context("no minute was measured")?;
    let number = |row: &Value, key: &str| row[key].as_f64().unwrap_or(f64::NAN);
    let rss_growth = number(last, "rss_mib") - number(first, "rss_mib");
    let p99_ratio = number(last, "p99_ms") / number(first, "p99_ms");
    let flat = rss_growth <= MAX_RSS_GROWTH_MIB
        && p99_ratio <= MAX_P99_RATIO
        && after.1 <= baseline.1
        && after.2 <= baseline.2
        && server_errors.is_empty();
    let figures = json!({
        "percentiles": fuelbench_perf::PERCENTILE_METHOD,
        "minutes": rows,
        "clients": args.clients,
        "mix": CYCLE.iter().map(|action| format!("{action:?}")).collect::<Vec<_>>(),
        "baseline": { "rss_mib": baseline.0, "fds": baseline.1, "threads": baseline.2 },
        "after_idle": { "rss_mib": after.0, "fds": after.1, "threads": after.2 },
        "rss_growth_mib": rss_growth,
        "p99_last_over_first": p99_ratio,
        "server_errors": server_errors,
        "flat": flat,
    });
    println!("{}", serde_json::to_string_pretty(&figures)?);
    drop(server);
    drop(stub);
    Ok(if flat {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The request bodies, made once.
struct Bodies {
    evaluate: String,
    batch: String,
    start: String,
    oversized: String,
    deep: String,
    sleeper: String,
    leaver: String,
    results_name: String,
}

impl Bodies {
    fn new(problem: &fuelbench_problems::Problem, results_name: &str) -> Bodies {
        let item = json!({ "problem": problem.id, "code": problem.reference });
        let slow = format!("import time\ntime.sleep(2)\n{}", problem.reference);
        Bodies {
            evaluate: item.to_string(),
            batch: json!({ "items": [item, item] }).to_string(),
            start: json!({ "models": ["stub"], "problems": [problem.id], "max_tokens": 64 })
                .to_string(),
            oversized: format!("{{\"code\": \"{}\"}}", "x".repeat(13 << 20)),
            deep: format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)),
            sleeper: json!({ "code": "import time\ntime.sleep(3)", "limits": { "wall_ms": 300 } })
                .to_string(),
            leaver: json!({ "problem": problem.id, "code": slow }).to_string(),
            results_name: results_name.to_owned(),
        }
    }
}

async fn act(addr: &str, action: Action, bodies: &Bodies, traffic: &Traffic) {
    let sent = Instant::now();
    let (what, outcome) = match action {
        Action::Evaluate => (
            "evaluate",
            fresh(addr, "POST", "/api/v1/evaluate", &bodies.evaluate).await,
        ),
        Action::Batch => (
            "batch",
            fresh(addr, "POST", "/api/v1/evaluate/batch", &bodies.batch).await,
        ),
        Action::Board => ("board", fresh(addr, "GET", "/", "").await),
        Action::BoardJson => (
            "leaderboard",
            fresh(addr, "GET", "/api/v1/leaderboard", "").await,
        ),
        Action::Results => {
            let path = format!("/api/v1/results/{}", bodies.results_name);
            ("results", fresh(addr, "GET", &path, "").await)
        }
        Action::ResultsPage => {
            let path = format!("/results/{}", bodies.results_name);
            ("results page", fresh(addr, "GET", &path, "").await)
        }
        Action::Watch => {
            let outcome = watch(addr).await;
            return long(traffic, "watch", outcome);
        }
        Action::StartAndCancel => {
            let outcome = start_and_cancel(addr, &bodies.start).await;
            return long(traffic, "start and cancel", outcome);
        }
        Action::Hostile(hostile) => {
            // A refused connection or a reset is the server defending itself.
            if let Ok(status) = attack(addr, hostile, bodies).await {
                traffic.record(&format!("{hostile:?}"), status, Kind::Hostile);
            }
            return;
        }
    };
    match outcome {
        Ok(status) => traffic.record(what, status, Kind::Ordinary(millis(sent.elapsed()))),
        Err(error) => traffic.record(&format!("{what}: {error:#}"), 599, Kind::Long),
    }
}

fn long(traffic: &Traffic, what: &str, outcome: anyhow::Result<u16>) {
    match outcome {
        Ok(status) => traffic.record(what, status, Kind::Long),
        Err(error) => traffic.record(&format!("{what}: {error:#}"), 599, Kind::Long),
    }
}

/// One request on a connection of its own.
async fn fresh(addr: &str, method: &str, path: &str, body: &str) -> anyhow::Result<u16> {
    let mut connection = BufStream::new(TcpStream::connect(addr).await?);
    request(&mut connection, addr, method, path, body).await
}

/// The newest run's events for a second, as a browser follows them.
async fn watch(addr: &str) -> anyhow::Result<u16> {
    let mut connection = BufStream::new(TcpStream::connect(addr).await?);
    let head = format!("GET /api/v1/runs HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    connection.write_all(head.as_bytes()).await?;
    connection.flush().await?;
    let mut text = String::new();
    connection.read_to_string(&mut text).await?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let runs: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let Some(id) = runs["runs"][0]["id"].as_str() else {
        return Ok(200);
    };
    let mut stream = BufStream::new(TcpStream::connect(addr).await?);
    let head = format!("GET /api/v1/runs/{id}/events HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.flush().await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status = status_of(&line)?;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut sink = vec![0; 4096];
        while stream.read(&mut sink).await.is_ok_and(|read| read > 0) {}
    })
    .await;
    Ok(status)
}

/// A run against the stub, cancelled a moment later; a 409 when another
/// client's run holds the model server is an answer too.
async fn start_and_cancel(addr: &str, body: &str) -> anyhow::Result<u16> {
    let mut connection = BufStream::new(TcpStream::connect(addr).await?);
    let head = format!(
        "POST /api/v1/runs HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    connection.write_all(head.as_bytes()).await?;
    connection.flush().await?;
    let mut text = String::new();
    connection.read_to_string(&mut text).await?;
    let status = status_of(&text)?;
    let answer = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    if status != 202 {
        return Ok(status);
    }
    let id = serde_json::from_str::<Value>(answer)?["id"]
        .as_str()
        .context("a run id")?
        .to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    fresh(addr, "POST", &format!("/api/v1/runs/{id}/cancel"), "{}").await
}

async fn attack(addr: &str, hostile: Hostile, bodies: &Bodies) -> anyhow::Result<u16> {
    match hostile {
        Hostile::Slowloris => {
            let mut stream = TcpStream::connect(addr).await?;
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .await?;
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if stream.write_all(b"a").await.is_err() {
                    break;
                }
            }
            Ok(0)
        }
        Hostile::Idle => {
            // Left open, for the server's idle time-out to close.
            let stream = TcpStream::connect(addr).await?;
            tokio::spawn(async move {
                let mut stream = stream;
                let mut sink = [0; 64];
                let _ = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut sink)).await;
            });
            Ok(0)
        }
        Hostile::Oversized => {
            let mut connection = BufStream::new(TcpStream::connect(addr).await?);
            let head = format!(
                "POST /api/v1/run HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n",
                bodies.oversized.len()
            );
            connection.write_all(head.as_bytes()).await?;
            // The server may answer and close before the body is all sent.
            let _ = connection.write_all(bodies.oversized.as_bytes()).await;
            let _ = connection.flush().await;
            let mut line = String::new();
            connection.read_line(&mut line).await?;
            status_of(&line)
        }
        Hostile::Deep => fresh(addr, "POST", "/api/v1/evaluate", &bodies.deep).await,
        Hostile::MadeUpMethod => {
            let method = format!("X{}", "Y".repeat(2000));
            fresh(addr, &method, "/api/v1/info", "").await
        }
        Hostile::Traversal => {
            fresh(
                addr,
                "GET",
                "/api/v1/results/..%2F..%2F..%2Fetc%2Fpasswd",
                "",
            )
            .await
        }
        Hostile::Sleeper => fresh(addr, "POST", "/api/v1/run", &bodies.sleeper).await,
        Hostile::Leaver => {
            let mut stream = TcpStream::connect(addr).await?;
            let head = format!(
                "POST /api/v1/evaluate HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{}",
                bodies.leaver.len(),
                bodies.leaver
            );
            stream.write_all(head.as_bytes()).await?;
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(0)
        }
        Hostile::BadEventId => {
            let mut connection = BufStream::new(TcpStream::connect(addr).await?);
            let head = format!(
                "GET /api/v1/runs/x/events HTTP/1.1\r\nHost: {addr}\r\nLast-Event-ID: é\u{202e}-1\r\n\r\n"
            );
            connection.write_all(head.as_bytes()).await?;
            connection.flush().await?;
            let mut line = String::new();
            connection.read_line(&mut line).await?;
            status_of(&line)
        }
        Hostile::Forged => fresh(addr, "POST", "/runs/new", "models=stub&problem=p01").await,
    }
}

fn status_of(line: &str) -> anyhow::Result<u16> {
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP status line: {line:?}"))
}
