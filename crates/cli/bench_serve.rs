//! `fuelbench bench serve`: the HTTP service measured in-process over
//! loopback, beside the same work done on the sandbox directly.
//!
//! The load comes from a small HTTP/1.1 client over keep-alive connections,
//! one task per connection, each bounded by a request count and a deadline.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_server::{AppState, Config};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;

use crate::GlobalArgs;
use crate::bench::{median, millis, percentile, throughput};
use crate::problems::ProblemsArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct ServeBenchArgs {
    #[command(flatten)]
    problems: ProblemsArgs,
    /// How long each load level runs
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// The problem whose reference is evaluated over HTTP
    #[arg(long, default_value = "p01_merge_intervals")]
    problem: String,
    /// Evaluations sent after the timed levels, for the service's resident
    /// memory after many (0: none)
    #[arg(long, default_value_t = 0)]
    evaluations: usize,
    /// Build every instance afresh, without the pool's warm slots: the
    /// figures as they were before the pool
    #[arg(long)]
    without_pool: bool,
}

/// Results files behind the leaderboard's figures.
const LEADERBOARD_FILES: usize = 200;
/// Reads of each leaderboard route.
const LEADERBOARD_REPEATS: usize = 21;

/// Answers per problem in each seeded results file: a board of runs with
/// samples reads three records a problem and bootstraps its intervals.
pub(crate) const SEEDED_SAMPLES: u32 = 3;

/// Writes `files` results files into `dir`, one model each, every record a
/// problem's reference answered and scored for real, [`SEEDED_SAMPLES`] of
/// each problem.
pub(crate) fn seed_store(
    evaluator: &Evaluator,
    problems: &[fuelbench_problems::Problem],
    dir: &std::path::Path,
    files: usize,
) -> anyhow::Result<()> {
    use fuelbench_runner::{Exchange, Plan, ProblemRecord, ResultsFile};
    let mut records = Vec::new();
    for problem in problems {
        let content = format!("```python\n{}\n```\n", problem.reference);
        let report = evaluator.evaluate_reply(problem, &content)?;
        for sample in 0..SEEDED_SAMPLES {
            records.push(ProblemRecord {
                id: problem.id.clone(),
                sample,
                request_seed: None,
                title: problem.title.clone(),
                solve: Exchange {
                    completion: fuelbench_llm::Completion {
                        content: content.clone(),
                        elapsed_s: 10.0,
                        ..Default::default()
                    },
                    failure: None,
                },
                refactor: None,
                failure_class: report
                    .failure_class
                    .map(fuelbench_runner::ProblemFailure::Verdict),
                refactor_report: None,
                solve_time_s: 10.0,
                refactor_time_s: None,
                scoring_time_s: 1.0,
                total_time_s: 11.0,
                solve_tokens: 300,
                refactor_tokens: None,
                tokens_per_s: Some(30.0),
                refactor_failure_class: None,
                finished_at: fuelbench_runner::now(),
                report: report.clone(),
            });
        }
    }
    for index in 0..files {
        let plan = Plan {
            models: vec![format!("model-{index:03}-Q4_K_M")],
            refactor: false,
            samples: SEEDED_SAMPLES,
            ..Plan::default()
        };
        let config = plan.configs(problems, &[])?.remove(0);
        let path = fuelbench_runner::results_path(dir, &config);
        let mut file = ResultsFile::new(config, evaluator.reproducibility());
        file.problems = records.clone();
        file.refresh();
        file.write_atomic(&path)?;
    }
    Ok(())
}

/// What every `/run` request executes: a tiny program.
const TINY: &str = "print(sum(range(100)))";

pub(crate) fn run(global: &GlobalArgs, args: &ServeBenchArgs) -> anyhow::Result<ExitCode> {
    ensure!(args.seconds > 0.0, "--seconds must be above 0");
    let problems = args.problems.load()?;
    let problem = problems
        .iter()
        .find(|problem| problem.id == args.problem)
        .with_context(|| format!("no problem {:?}", args.problem))?
        .clone();
    let sandbox = global.sandbox_pooled(!args.without_pool)?;
    let store = tempfile::tempdir().context("failed to make a results store")?;
    // Verifying the 200 files would hold a slot the whole run: `bench
    // store` measures it, and the board beside it.
    let config = Config {
        verify: false,
        ..Config::default()
    };
    let slots = config.slots;
    let sandbox_slots = sandbox.slots();
    let evaluator = Evaluator::new(sandbox.clone(), EvalConfig::default());
    // What a leaderboard of many runs reads: 200 results files of 15
    // problems, three samples each, every report real (the references,
    // evaluated once).
    let seed_started = Instant::now();
    seed_store(&evaluator, &problems, store.path(), LEADERBOARD_FILES)?;
    eprintln!(
        "bench serve: wrote {LEADERBOARD_FILES} results files in {:.1}s",
        seed_started.elapsed().as_secs_f64()
    );
    let results = fuelbench_runner::DirStore::open(store.path())
        .context("failed to open the results store")?;
    let state = AppState::new(
        evaluator,
        problems,
        Vec::new(),
        std::sync::Arc::new(results),
        config,
    )
    .context("failed to start the service")?;
    let duration = Duration::from_secs_f64(args.seconds);
    let evaluations = args.evaluations;

    // The same tiny program straight on the sandbox, a thread a slot.
    let same_work = throughput(&sandbox, TINY, slots, duration)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let figures = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(fuelbench_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        // The pool is reserved and the store read; nothing has run yet.
        let rss_idle = rss_mib();
        let run_body = Arc::new(json!({ "code": TINY }).to_string());
        let mut run_rps = serde_json::Map::new();
        let mut run_p50 = serde_json::Map::new();
        let mut run_p99 = serde_json::Map::new();
        for concurrency in [1, 8, 64] {
            let load = load(&addr, "/api/v1/run", &run_body, concurrency, Until::Elapsed(duration)).await?;
            ensure!(load.failed == 0, "{} run requests failed", load.failed);
            run_rps.insert(concurrency.to_string(), json!(load.rps()));
            run_p50.insert(concurrency.to_string(), json!(median(&load.latencies_ms)));
            run_p99.insert(concurrency.to_string(), json!(percentile(&load.latencies_ms, 0.99)));
        }
        let evaluate_body = Arc::new(
            json!({ "problem": problem.id, "code": problem.reference }).to_string(),
        );
        let idle = load(&addr, "/api/v1/evaluate", &evaluate_body, 1, Until::Elapsed(duration)).await?;
        let loaded = load(&addr, "/api/v1/evaluate", &evaluate_body, 2 * slots, Until::Elapsed(duration)).await?;
        ensure!(idle.failed + loaded.failed == 0, "evaluate requests failed");
        let overload = load(&addr, "/api/v1/run", &run_body, 10 * slots, Until::Elapsed(duration)).await?;
        let mut connection = BufStream::new(TcpStream::connect(&addr).await?);
        let mut board = serde_json::Map::new();
        for path in ["/", "/api/v1/leaderboard"] {
            let mut times = Vec::new();
            for _ in 0..LEADERBOARD_REPEATS {
                let sent = Instant::now();
                let status = request(&mut connection, &addr, "GET", path, "").await?;
                ensure!(status == 200, "GET {path} answered {status}");
                times.push(millis(sent.elapsed()));
            }
            // The first read parses every file; later ones reuse the rows of
            // files that did not change.
            board.insert(
                path.to_owned(),
                json!({
                    "first_ms": times[0],
                    "p50_ms": median(&times[1..]),
                    "p99_ms": percentile(&times[1..], 0.99),
                }),
            );
        }
        let rss_after_load = rss_mib();
        let many = if evaluations > 0 {
            let concurrency = 2 * slots;
            let per_connection = evaluations.div_ceil(concurrency);
            let load = load(
                &addr,
                "/api/v1/evaluate",
                &evaluate_body,
                concurrency,
                Until::Requests(per_connection),
            )
            .await?;
            ensure!(load.failed == 0, "{} of the evaluations failed", load.failed);
            json!({
                "evaluations": load.ok + load.busy,
                "rps": load.rps(),
                "rss_mib_after": rss_mib(),
            })
        } else {
            serde_json::Value::Null
        };
        let _ = stop.send(());
        server.await??;
        let idle_p99 = percentile(&idle.latencies_ms, 0.99);
        let loaded_p99 = percentile(&loaded.latencies_ms, 0.99);
        anyhow::Ok(json!({
            "percentiles": fuelbench_perf::PERCENTILE_METHOD,
            "slots": slots,
            "pool": !args.without_pool,
            "sandbox_slots": sandbox_slots,
            "rss_mib_idle": rss_idle,
            "rss_mib_after_load": rss_after_load,
            "many_evaluations": many,
            "seconds_per_level": args.seconds,
            "run_rps": run_rps,
            "run_p50_ms": run_p50,
            "run_p99_ms": run_p99,
            "sandbox_rps_same_work": same_work,
            "run_rps_64_over_sandbox": run_rps["64"].as_f64().unwrap_or(0.0) / same_work,
            "evaluate_problem": problem.id,
            "evaluate_rps": loaded.rps(),
            "evaluate_idle_p99_ms": idle_p99,
            "evaluate_loaded_p99_ms": loaded_p99,
            "evaluate_p99_loaded_over_idle": loaded_p99 / idle_p99,
            "overload_concurrency": 10 * slots,
            "overload_requests": overload.ok + overload.busy + overload.failed,
            "overload_503_ratio": overload.busy as f64 / (overload.ok + overload.busy).max(1) as f64,
            "overload_other_failures": overload.failed,
            "overload_p99_ms": percentile(&overload.all_ms, 0.99),
            "leaderboard_files": LEADERBOARD_FILES,
            "leaderboard_ms": board,
        }))
    })?;
    println!("{}", serde_json::to_string_pretty(&figures)?);
    Ok(ExitCode::SUCCESS)
}

/// This process's resident memory, in MiB.
fn rss_mib() -> Option<f64> {
    fuelbench_llm::rss_bytes(std::process::id()).map(|bytes| bytes as f64 / (1 << 20) as f64)
}

#[derive(Debug, Default)]
pub(crate) struct Load {
    ok: usize,
    busy: usize,
    pub(crate) failed: usize,
    /// Latencies of the 200s.
    pub(crate) latencies_ms: Vec<f64>,
    /// Latencies of every answer, 503s included.
    all_ms: Vec<f64>,
    elapsed: Duration,
}

impl Load {
    pub(crate) fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// When each connection of a [`load`] stops sending.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Until {
    /// Once this long has passed since the load began.
    Elapsed(Duration),
    /// After this many requests.
    Requests(usize),
}

/// `concurrency` keep-alive connections posting `body` to `path` until
/// `until`.
pub(crate) async fn load(
    addr: &str,
    path: &'static str,
    body: &Arc<String>,
    concurrency: usize,
    until: Until,
) -> anyhow::Result<Load> {
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (addr, body) = (addr.to_owned(), Arc::clone(body));
            tokio::spawn(async move {
                let mut load = Load::default();
                let mut connection = BufStream::new(TcpStream::connect(&addr).await?);
                let mut sent_count = 0;
                while match until {
                    Until::Elapsed(duration) => started.elapsed() < duration,
                    Until::Requests(count) => sent_count < count,
                } {
                    sent_count += 1;
                    let sent = Instant::now();
                    let status = request(&mut connection, &addr, "POST", path, &body).await?;
                    let ms = millis(sent.elapsed());
                    load.all_ms.push(ms);
                    match status {
                        200 => {
                            load.ok += 1;
                            load.latencies_ms.push(ms);
                        }
                        503 => load.busy += 1,
                        _ => load.failed += 1,
                    }
                }
                anyhow::Ok(load)
            })
        })
        .collect();
    let mut total = Load::default();
    for task in tasks {
        let load = task.await??;
        total.ok += load.ok;
        total.busy += load.busy;
        total.failed += load.failed;
        total.latencies_ms.extend(load.latencies_ms);
        total.all_ms.extend(load.all_ms);
    }
    total.elapsed = started.elapsed();
    ensure!(!total.all_ms.is_empty(), "no request finished");
    if total.latencies_ms.is_empty() {
        total.latencies_ms.push(f64::NAN);
    }
    Ok(total)
}

/// One request on a keep-alive connection; the status, with the body read.
pub(crate) async fn request(
    connection: &mut BufStream<TcpStream>,
    host: &str,
    method: &str,
    path: &str,
    body: &str,
) -> anyhow::Result<u16> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    connection.write_all(head.as_bytes()).await?;
    connection.write_all(body.as_bytes()).await?;
    connection.flush().await?;
    let mut line = String::new();
    connection.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP status line: {line:?}"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        connection.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().context("a bad Content-Length")?;
        }
    }
    let mut answer = vec![0; length];
    connection.read_exact(&mut answer).await?;
    Ok(status)
}
