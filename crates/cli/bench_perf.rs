//! `fuelbench bench perf`: the load generator measured against the stub, so
//! its figures can be trusted. The stub runs as a child process (`fuelbench
//! perf stub`), so this process's CPU time is the generator's alone; the two
//! share the machine's cores, as they would with a real server.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use fuelbench_llm::{ChatClient, ClientConfig};
use fuelbench_perf::{LoadPlan, Rate, RequestLog, Summary};
use serde_json::json;

#[derive(Debug, clap::Args)]
pub(crate) struct PerfBenchArgs {
    /// Requests per connection at each concurrency of the throughput phase
    #[arg(long, default_value_t = 8)]
    rounds: usize,
}

/// A child process of this binary, started with `command` and its first
/// line of output read (where it says its address); ended by its PID with
/// `signal` when dropped.
pub(crate) struct Spawned {
    child: Child,
    signal: &'static str,
    pub(crate) first_line: String,
}

impl Spawned {
    pub(crate) fn start(
        command: &mut Command,
        signal: &'static str,
        what: &str,
    ) -> anyhow::Result<Spawned> {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("failed to start {what}"))?;
        let mut first_line = String::new();
        BufReader::new(child.stdout.take().context("piped")?).read_line(&mut first_line)?;
        Ok(Spawned {
            child,
            signal,
            first_line,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args([self.signal, &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// A stub child process, ended by its PID when dropped.
pub(crate) struct Stub {
    _process: Spawned,
    pub(crate) url: String,
}

impl Stub {
    pub(crate) fn start(ttft_ms: u64, rate: f64, tokens_per_chunk: u32) -> anyhow::Result<Stub> {
        let process = Spawned::start(
            Command::new(std::env::current_exe().context("this binary")?)
                .args(["perf", "stub", "--addr", "127.0.0.1:0"])
                .args(["--ttft-ms", &ttft_ms.to_string()])
                .args(["--rate", &rate.to_string()])
                .args(["--tokens-per-chunk", &tokens_per_chunk.to_string()]),
            "-INT",
            "the stub",
        )?;
        let url = process
            .first_line
            .trim()
            .rsplit(' ')
            .next()
            .context("the stub's address")?
            .to_owned();
        Ok(Stub {
            _process: process,
            url,
        })
    }
}

fn client(url: &str) -> ChatClient {
    let mut config = ClientConfig::new(url);
    config.retry.attempts = 1;
    ChatClient::new(config)
}

fn plan(requests: usize, output: u32, rate: Rate, concurrency: Option<usize>) -> LoadPlan {
    LoadPlan {
        rate,
        max_concurrency: concurrency,
        deadline: Duration::from_secs(120),
        ..LoadPlan::fixed("stub", requests, 8, output)
    }
}

/// This process's user and system CPU time.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are
    // the 14th and 15th of the whole line, in clock ticks (100 a second).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

fn check(logs: &[RequestLog], what: &str) -> anyhow::Result<Summary> {
    let summary = Summary::of(logs);
    ensure!(
        summary.failed == 0,
        "{what}: {} requests failed: {:?}",
        summary.failed,
        summary.failures
    );
    Ok(summary)
}

/// How far the measured timings are from the stub's (TTFT 20 ms, a token
/// every `gap` seconds), and how many requests were in flight on average.
struct Accuracy {
    added: fuelbench_perf::Distribution,
    itl_error: fuelbench_perf::Distribution,
    in_flight: f64,
}

fn accuracy(logs: &[RequestLog], gap: f64) -> anyhow::Result<Accuracy> {
    let summary = check(logs, "accuracy")?;
    let added: Vec<f64> = logs
        .iter()
        .filter_map(|log| Some(log.ttft_s()? - 0.020))
        .collect();
    let itl_error: Vec<f64> = logs
        .iter()
        .flat_map(|log| log.chunk_gaps_s())
        .map(|measured| (measured - gap).abs())
        .collect();
    // Little's law: time spent in flight over the run's length.
    let busy: f64 = logs.iter().filter_map(|log| log.e2e_s()).sum();
    Ok(Accuracy {
        added: fuelbench_perf::Distribution::of_seconds(&added),
        itl_error: fuelbench_perf::Distribution::of_seconds(&itl_error),
        in_flight: busy / summary.duration_s,
    })
}

pub(crate) fn run(args: &PerfBenchArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let figures = runtime.block_on(async {
        // The ceiling: a stub as fast as it can stream, one token a chunk.
        let stub = Stub::start(0, 1e9, 1)?;
        let fast = client(&stub.url);
        let mut ceiling = serde_json::Map::new();
        for concurrency in [1usize, 64, 256] {
            let requests = concurrency * args.rounds.max(1);
            let logs = fuelbench_perf::load::run(
                &fast,
                &plan(requests, 256, Rate::Burst, Some(concurrency)),
            )
            .await;
            let summary = check(&logs, "throughput")?;
            ceiling.insert(concurrency.to_string(), json!(summary.output_tokens_per_s));
        }
        // CPU per 1000 requests, from the same kind of run.
        let cpu_before = cpu_time();
        let logs = fuelbench_perf::load::run(&fast, &plan(1000, 16, Rate::Burst, Some(64))).await;
        let cpu = cpu_time().saturating_sub(cpu_before);
        check(&logs, "cpu")?;
        drop(stub);

        // Accuracy at concurrency 64: TTFT 20 ms, on connections already
        // open (a first request also pays for its connection). At steady
        // state, a token every 10 ms, 6,400 tokens a second in all (more
        // than a real server on these cores streams): constant arrivals
        // that keep 64 in flight (each takes 20 + 31 * 10 = 330 ms, so
        // 64 / 0.33 s = 194 a second), capped at 64. Under stress, a token
        // every 2 ms (32,000 a second) and all 64 at once, their first
        // tokens due at the same instant: the worst case for timestamping
        // on two cores shared with the stub.
        let stub = Stub::start(20, 100.0, 1)?;
        let timed = client(&stub.url);
        fuelbench_perf::load::run(&timed, &plan(64, 2, Rate::Burst, Some(64))).await;
        let steady = accuracy(
            &fuelbench_perf::load::run(&timed, &plan(512, 32, Rate::Constant(194.0), Some(64)))
                .await,
            0.010,
        )?;
        drop(stub);
        let stub = Stub::start(20, 500.0, 1)?;
        let timed = client(&stub.url);
        fuelbench_perf::load::run(&timed, &plan(64, 2, Rate::Burst, Some(64))).await;
        let stress = accuracy(
            &fuelbench_perf::load::run(&timed, &plan(256, 32, Rate::Burst, Some(64))).await,
            0.002,
        )?;
        drop(stub);

        // The schedule: Poisson arrivals at 500 a second.
        let stub = Stub::start(1, 10_000.0, 1)?;
        let paced = client(&stub.url);
        let started = Instant::now();
        let logs =
            fuelbench_perf::load::run(&paced, &plan(1500, 4, Rate::Poisson(500.0), None)).await;
        let lag = check(&logs, "schedule")?.schedule_lag_ms;
        eprintln!(
            "bench perf: 1500 Poisson arrivals at 500/s took {:.1}s",
            started.elapsed().as_secs_f64()
        );
        drop(stub);

        anyhow::Ok(json!({
            "percentiles": fuelbench_perf::PERCENTILE_METHOD,
            "generator_tokens_per_s": ceiling,
            "ttft_added_p50_ms_c64": steady.added.median,
            "ttft_added_p99_ms_c64": steady.added.p99,
            "itl_error_p99_ms_c64": steady.itl_error.p99,
            "in_flight_mean_c64": steady.in_flight,
            "stress_c64_lockstep_2ms_itl": {
                "ttft_added_p50_ms": stress.added.median,
                "ttft_added_p99_ms": stress.added.p99,
                "itl_error_p99_ms": stress.itl_error.p99,
                "in_flight_mean": stress.in_flight,
            },
            "schedule_lag_p99_ms_500rps": lag.p99,
            "client_cpu_ms_per_1000_requests": cpu.as_secs_f64() * 1000.0,
            "stub": "a child process on the same cores",
        }))
    })?;
    println!("{}", serde_json::to_string_pretty(&figures)?);
    Ok(ExitCode::SUCCESS)
}
