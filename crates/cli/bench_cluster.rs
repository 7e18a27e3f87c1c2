//! `fuelbench bench cluster`: the service as several processes on one
//! Postgres database, on loopback. Replicas and workers are this binary,
//! started as a user starts them; haproxy runs deploy/haproxy.cfg; the
//! model server is the serving stub, in this process. Every child is
//! stopped by its PID when the bench ends, however it ends.
//!
//! - `evaluate_rps`: evaluations a second through haproxy in front of two
//!   replicas of one slot each, beside one replica of two slots.
//! - `claim_latency_ms`: from a run's `202 Accepted` to an idle worker's
//!   claim of it, seen in the queue.
//! - `event_fanout_ms`: from a worker's event being announced (heard by a
//!   listener of this process's own) to its arrival over SSE at a watcher
//!   on another replica.
//! - `failover_s`: from a worker's SIGKILL mid-run to another worker's
//!   claim of its run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use fuelbench_cluster::{Cluster, Heard, RunRow};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpStream;

use crate::GlobalArgs;
use crate::bench::{median, percentile};
use crate::bench_serve::{Until, load};
use crate::problems::ProblemsArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct ClusterBenchArgs {
    #[command(flatten)]
    problems: ProblemsArgs,
    /// An empty database the bench may fill with its runs:
    /// postgres://user:password@host:5432/name (scripts/bench-cluster.sh
    /// starts a private one)
    #[arg(long, env = "FUELBENCH_DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// haproxy, as a path or a name on PATH
    #[arg(long, default_value = "haproxy")]
    haproxy: PathBuf,
    /// The haproxy configuration the replicas run behind
    #[arg(long, default_value = "deploy/haproxy.cfg")]
    haproxy_config: PathBuf,
    /// How long each evaluate load runs
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// The problem whose reference is evaluated
    #[arg(long, default_value = "p01_merge_intervals")]
    problem: String,
    /// Runs timed for the claim latency, and events for the fan-out
    #[arg(long, default_value_t = 20)]
    samples: usize,
    /// Workers' lease, in seconds: a killed worker's run is taken over
    /// this long after its last heartbeat
    #[arg(long, default_value_t = 3.0)]
    lease: f64,
}

/// The children of the bench, each killed by its PID when dropped.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Children {
    /// Starts `command`, waiting for the stdout line holding `mark`; that
    /// line, and the child's place here.
    fn start(&mut self, mut command: Command, mark: &str) -> anyhow::Result<(String, usize)> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("failed to start a child")?;
        let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        self.0.push(child);
        let line = loop {
            match lines.next() {
                Some(Ok(line)) if line.contains(mark) => break line,
                Some(Ok(_)) => {}
                _ => bail!("a child ended before saying {mark:?}"),
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Ok((line, self.0.len() - 1))
    }

    /// Kills every child.
    fn stop_all(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.0.clear();
    }

    /// SIGKILL to the child at `place`.
    fn kill(&mut self, place: usize) {
        let _ = self.0[place].kill();
        let _ = self.0[place].wait();
    }

    /// `fuelbench serve` with `slots`; its address.
    fn replica(
        &mut self,
        args: &ClusterBenchArgs,
        slots: usize,
        endpoint: &str,
        results: &Path,
    ) -> anyhow::Result<String> {
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--no-verify"])
            .args(["--slots", &slots.to_string(), "--endpoint", endpoint])
            .args(["--database-url", &args.database_url, "--results"])
            .arg(results);
        let (line, _) = self.start(command, "listening on http://")?;
        Ok(line
            .rsplit("http://")
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned())
    }

    /// `fuelbench worker` for `endpoint`; its place here.
    fn worker(
        &mut self,
        args: &ClusterBenchArgs,
        endpoint: &str,
        tag: &str,
        results: &Path,
    ) -> anyhow::Result<usize> {
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["worker", "--endpoint", endpoint, "--tag", tag])
            .args(["--lease", &args.lease.to_string()])
            .args(["--database-url", &args.database_url, "--results"])
            .arg(results);
        Ok(self.start(command, "claiming runs")?.1)
    }

    /// haproxy in front of `replicas`, with the configuration's servers
    /// past them left out; its address once it answers.
    fn haproxy(
        &mut self,
        args: &ClusterBenchArgs,
        replicas: &[&str],
        dir: &Path,
    ) -> anyhow::Result<String> {
        let text = std::fs::read_to_string(&args.haproxy_config)
            .with_context(|| format!("failed to read {}", args.haproxy_config.display()))?;
        let kept: Vec<&str> = text
            .lines()
            .filter(|line| {
                let server = line.trim_start().strip_prefix("server replica");
                server.is_none_or(|rest| {
                    rest.split_whitespace()
                        .next()
                        .and_then(|n| n.parse::<usize>().ok())
                        .is_some_and(|n| n <= replicas.len())
                })
            })
            .collect();
        let config = dir.join("haproxy.cfg");
        std::fs::write(&config, kept.join("\n") + "\n")?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        drop(listener);
        let mut command = Command::new(&args.haproxy);
        command
            .args(["-db", "-f"])
            .arg(&config)
            .env("FUELBENCH_LISTEN", &addr);
        for (n, replica) in replicas.iter().enumerate() {
            command.env(format!("FUELBENCH_REPLICA_{}", n + 1), replica);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("failed to start {}", args.haproxy.display()))?;
        self.0.push(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&addr).is_err() {
            ensure!(
                Instant::now() < deadline,
                "haproxy did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Every replica checked healthy once, at a check a second.
        std::thread::sleep(Duration::from_millis(1500));
        Ok(addr)
    }
}

pub(crate) fn run(global: &GlobalArgs, args: &ClusterBenchArgs) -> anyhow::Result<ExitCode> {
    ensure!(args.seconds > 0.0, "--seconds must be above 0");
    ensure!(args.samples > 0, "--samples must be above 0");
    ensure!(
        (1.0..=60.0).contains(&args.lease),
        "--lease must be 1 to 60 s"
    );
    let problems = args.problems.load()?;
    let problem = problems
        .iter()
        .find(|problem| problem.id == args.problem)
        .with_context(|| format!("no problem {:?}", args.problem))?;
    // The children read the interpreter from the same cache.
    global.sandbox()?;
    let dir = tempfile::tempdir().context("failed to make a folder")?;
    let results = dir.path().join("results");
    std::fs::create_dir_all(&results)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let cluster = runtime.block_on(Cluster::connect(&args.database_url))?;
    // The model server: the serving stub, quick, answering without code.
    let stub = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let endpoint = format!("http://{}", stub.local_addr()?);
    runtime.spawn(fuelbench_perf::stub::serve(
        stub,
        fuelbench_perf::stub::StubConfig {
            ttft: Duration::from_millis(20),
            tokens_per_s: 2000.0,
            tokens_per_chunk: 4,
        },
        std::future::pending(),
    ));
    let mut children = Children(Vec::new());
    let evaluate_body =
        Arc::new(json!({ "problem": problem.id, "code": problem.reference }).to_string());
    let duration = Duration::from_secs_f64(args.seconds);

    // One replica of two slots, then two of one behind haproxy; both
    // loaded by four connections.
    let single = children.replica(args, 2, &endpoint, &results)?;
    let alone = runtime.block_on(load(
        &single,
        "/api/v1/evaluate",
        &evaluate_body,
        4,
        Until::Elapsed(duration),
    ))?;
    children.stop_all();
    let pair = [
        children.replica(args, 1, &endpoint, &results)?,
        children.replica(args, 1, &endpoint, &results)?,
    ];
    let proxy = children.haproxy(args, &[&pair[0], &pair[1]], dir.path())?;
    let balanced = runtime.block_on(load(
        &proxy,
        "/api/v1/evaluate",
        &evaluate_body,
        4,
        Until::Elapsed(duration),
    ))?;
    ensure!(
        alone.failed + balanced.failed == 0,
        "evaluate requests failed"
    );

    // Two idle workers for the stub; runs started on one replica and
    // watched on the other.
    let workers = [
        (
            "bench-a",
            children.worker(args, &endpoint, "bench-a", &results)?,
        ),
        (
            "bench-b",
            children.worker(args, &endpoint, "bench-b", &results)?,
        ),
    ];
    let ids: Vec<String> = problems.iter().map(|p| p.id.clone()).collect();
    let (claim_ms, fanout_ms, failover) = runtime.block_on(async {
        let run = |model: &str, problems: &[String], max_tokens: u32| {
            json!({
                "models": [model],
                "problems": problems,
                "refactor": false,
                "max_tokens": max_tokens,
            })
        };
        let mut claim_ms = Vec::new();
        for n in 0..args.samples {
            let sent = Instant::now();
            let id = start_run(&pair[0], &run(&format!("claim-{n:03}"), &ids[..1], 16)).await?;
            until(&cluster, &id, |row| row.claim >= 1).await?;
            claim_ms.push(millis(sent.elapsed()));
            until(&cluster, &id, is_over).await?;
        }

        let mut feed = cluster.feed().await?;
        let id = start_run(&pair[0], &run("fanout", &ids, 16)).await?;
        let mut watcher = Watcher::open(&pair[1], &id).await?;
        let heard = tokio::spawn({
            let id = id.clone();
            async move {
                let mut heard = std::collections::HashMap::new();
                let deadline = Instant::now() + Duration::from_secs(120);
                while Instant::now() < deadline {
                    let next = tokio::time::timeout(Duration::from_secs(5), feed.next()).await;
                    match next {
                        Ok(Ok(Heard::Event { run, seq })) if run == id => {
                            heard.insert(seq, Instant::now());
                        }
                        Ok(Ok(_)) => {}
                        Ok(Err(_)) => break,
                        Err(_) if !heard.is_empty() => break,
                        Err(_) => {}
                    }
                }
                heard
            }
        });
        let mut arrived = Vec::new();
        while let Some((seq, data)) = watcher.next().await? {
            arrived.push((seq, Instant::now()));
            if matches!(
                data["event"].as_str(),
                Some("run_finished" | "run_failed" | "run_cancelled")
            ) {
                break;
            }
        }
        let heard = heard.await.context("the listener failed")?;
        let fanout_ms: Vec<f64> = arrived
            .iter()
            .filter_map(|(seq, at)| {
                let heard = heard.get(&i64::try_from(*seq).ok()?)?;
                Some(millis(at.saturating_duration_since(*heard)))
            })
            .collect();
        ensure!(!fanout_ms.is_empty(), "no event was both heard and watched");

        // A long run; its worker killed once a problem is kept.
        let id = start_run(&pair[0], &run("failover", &ids, 1000)).await?;
        let row = until(&cluster, &id, |row| row.claim >= 1).await?;
        let holder = row.worker.unwrap_or_default();
        until_kept(&cluster, &id).await?;
        let (_, place) = workers
            .iter()
            .find(|(tag, _)| holder.starts_with(&format!("{tag}:")))
            .context("the run's worker is not one of ours")?;
        children.kill(*place);
        let killed = Instant::now();
        until(&cluster, &id, |row| row.claim >= 2).await?;
        let failover = killed.elapsed().as_secs_f64();
        let row = until(&cluster, &id, is_over).await?;
        ensure!(
            row.state == "finished",
            "the failover run ended {}",
            row.state
        );
        anyhow::Ok((claim_ms, fanout_ms, failover))
    })?;
    let summary = |values: &[f64]| {
        json!({
            "p50": median(values),
            "p99": percentile(values, 0.99),
            "max": values.iter().copied().fold(0.0, f64::max),
            "samples": values.len(),
        })
    };
    let figures = json!({
        "percentiles": fuelbench_perf::PERCENTILE_METHOD,
        "evaluate_problem": problem.id,
        "evaluate_seconds": args.seconds,
        "evaluate_rps_one_replica_two_slots": alone.rps(),
        "evaluate_rps": balanced.rps(),
        "evaluate_rps_over_one_replica": balanced.rps() / alone.rps(),
        "evaluate_p99_ms": percentile(&balanced.latencies_ms, 0.99),
        "claim_latency_ms": summary(&claim_ms),
        "event_fanout_ms": summary(&fanout_ms),
        "lease_s": args.lease,
        "failover_s": failover,
        "failover_within_s": args.lease + 2.0,
    });
    println!("{}", serde_json::to_string_pretty(&figures)?);
    Ok(ExitCode::SUCCESS)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn is_over(row: &RunRow) -> bool {
    matches!(row.state.as_str(), "finished" | "failed" | "cancelled")
}

/// Polls the queue every millisecond, at most a minute, until `done`
/// holds for run `id`; the row then.
async fn until(
    cluster: &Cluster,
    id: &str,
    done: impl Fn(&RunRow) -> bool,
) -> anyhow::Result<RunRow> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(row) = cluster.run(id).await?
            && done(&row)
        {
            return Ok(row);
        }
        ensure!(
            Instant::now() < deadline,
            "run {id} did not get there in a minute"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits until run `id` has a finished problem kept.
async fn until_kept(cluster: &Cluster, id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while cluster.finished_problems(id).await?.is_empty() {
        ensure!(
            Instant::now() < deadline,
            "run {id} kept no problem in a minute"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// POSTs a run to the replica at `addr`; its id.
async fn start_run(addr: &str, body: &Value) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let body = body.to_string();
    let head = format!(
        "POST /api/v1/runs HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut answer).await?;
    ensure!(
        answer.starts_with("HTTP/1.1 202"),
        "a run was refused: {answer}"
    );
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let answer: Value = serde_json::from_str(body).context("the answer is not JSON")?;
    Ok(answer["id"].as_str().context("no id")?.to_owned())
}

/// A run's event stream, read as a browser reads it.
struct Watcher {
    reader: AsyncBufReader<TcpStream>,
    text: String,
}

impl Watcher {
    async fn open(addr: &str, id: &str) -> anyhow::Result<Watcher> {
        let mut stream = TcpStream::connect(addr).await?;
        let head = format!(
            "GET /api/v1/runs/{id}/events HTTP/1.1\r\nHost: {addr}\r\n\
             Accept: text/event-stream\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await?;
        let mut reader = AsyncBufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        ensure!(line.contains(" 200 "), "events refused: {line}");
        loop {
            line.clear();
            reader.read_line(&mut line).await?;
            if line.trim().is_empty() {
                break;
            }
        }
        Ok(Watcher {
            reader,
            text: String::new(),
        })
    }

    /// The next numbered event and its data; `None` at the stream's end.
    async fn next(&mut self) -> anyhow::Result<Option<(u64, Value)>> {
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let frame: String = self.text.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        id = value.trim().parse().ok();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if let Some(id) = id {
                    return Ok(Some((id, serde_json::from_str(&data)?)));
                }
                continue;
            }
            // One chunk of the body.
            let mut size = String::new();
            if self.reader.read_line(&mut size).await? == 0 {
                return Ok(None);
            }
            let size = usize::from_str_radix(size.trim(), 16).context("a chunk's size")?;
            if size == 0 {
                return Ok(None);
            }
            let mut bytes = vec![0; size + 2];
            tokio::io::AsyncReadExt::read_exact(&mut self.reader, &mut bytes).await?;
            bytes.truncate(size);
            self.text
                .push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n"));
        }
    }
}
