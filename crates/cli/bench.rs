//! `fuelbench bench sandbox`: the sandbox's own figures, measured in one run
//! and printed as JSON, so targets are checked by a command rather than by
//! timed tests.

use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Subcommand;
use fuelbench_eval::score::{ProblemResult, score};
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_problems::SampleCode;
use fuelbench_sandbox::{Limits, Program, Sandbox};

use crate::GlobalArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Start-up, CPU speed against native CPython, throughput, determinism
    Sandbox(SandboxBenchArgs),
    /// selftest and evaluate wall time, HumanEval, determinism of reports
    Eval(EvalBenchArgs),
    /// The HTTP service over loopback: /run and /evaluate throughput and
    /// latency, beside the sandbox alone, and overload
    Serve(crate::bench_serve::ServeBenchArgs),
    /// The serving load generator against a stub: its token ceiling, the
    /// TTFT and ITL it adds, its schedule lag and CPU time
    Perf(crate::bench_perf::PerfBenchArgs),
    /// One `fuelbench serve` under minutes of mixed and hostile traffic:
    /// its RSS, descriptors, threads and p99 minute by minute, which must
    /// stay flat
    Soak(crate::bench_soak::SoakBenchArgs),
    /// The results store: the board over many results objects on a folder
    /// and a bucket, first load and warm; publishing; verification's cost
    /// and the board beside it
    Store(crate::bench_store::StoreBenchArgs),
    /// The service as replicas and workers on one Postgres database behind
    /// haproxy: evaluate throughput beside one replica, claim latency,
    /// event fan-out across replicas, and a killed worker's failover
    Cluster(crate::bench_cluster::ClusterBenchArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct EvalBenchArgs {
    #[command(flatten)]
    problems: crate::problems::ProblemsArgs,
    /// The problem whose reference is evaluated repeatedly
    #[arg(long, default_value = "p01_merge_intervals")]
    problem: String,
    /// Evaluations timed, and compared for determinism with a busy core
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// A HumanEval suite to time [default: the one in the cache, if there]
    #[arg(long)]
    suite: Option<std::path::PathBuf>,
    /// Build every instance afresh, without the pool's warm slots: the
    /// figures as they were before the pool
    #[arg(long)]
    without_pool: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SandboxBenchArgs {
    /// Fresh sandboxes started for the start-up figures
    #[arg(long, default_value_t = 500)]
    starts: usize,
    /// Native `python3 -S -I -c pass` processes started for comparison
    #[arg(long, default_value_t = 30)]
    native_starts: usize,
    /// Runs of the CPU loop on each side (guest, native), interleaved
    #[arg(long, default_value_t = 5)]
    loop_repeats: usize,
    /// How long both threads run sandboxes for the throughput figure
    #[arg(long, default_value_t = 3.0)]
    throughput_seconds: f64,
    /// Runs of one program whose fuel must be identical, with a busy core
    #[arg(long, default_value_t = 20)]
    fuel_repeats: usize,
    /// The native interpreter to compare against
    #[arg(long, default_value = "python3")]
    native_python: String,
    /// Sizes of each warm slot's resident memory to time start-up with, in
    /// MiB (the pool's `linear_memory_keep_resident`)
    #[arg(long, value_delimiter = ',', default_value = "0,1,4,16,64")]
    keep_resident_mib: Vec<usize>,
}

/// A pure-Python CPU loop: integer arithmetic, a branch, a list and a dict,
/// timed inside the interpreter so that start-up is not part of it. The same
/// text runs in the guest and natively.
const LOOP_PROGRAM: &str = r#"
import time

def work(n):
    total = 0
    seen = {}
    items = []
    for i in range(n):
        value = (i * i + 7) % 1013
        if value & 1:
            total += value
        else:
            total -= value // 3
        seen[value] = i
        if len(items) < 64:
            items.append(value)
    return total + len(seen) + sum(items)

start = time.perf_counter()
work(1_500_000)
print(time.perf_counter() - start)
"#;

/// A small function of the kind a test calls, for the throughput figure.
const SMALL_PROGRAM: &str = r#"
def rotate(items, k):
    if not items:
        return []
    k %= len(items)
    return items[-k:] + items[:-k]

assert rotate([1, 2, 3, 4, 5], 2) == [4, 5, 1, 2, 3]
print(sum(rotate(list(range(100)), 7)))
"#;

/// A program whose fuel must not move between runs: hashing, sorting,
/// dictionaries and `random`, all of which could leak nondeterminism.
const DETERMINISM_PROGRAM: &str = r#"
import random
words = {f"w{i}": random.random() for i in range(2000)}
ordered = sorted(words.items(), key=lambda item: (item[1], item[0]))
print(len({hash(key) % 97 for key, _ in ordered}), ordered[0][0])
"#;

pub(crate) fn run(global: &GlobalArgs, command: &BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Sandbox(args) => bench_sandbox(global, args),
        BenchCommand::Eval(args) => bench_eval(global, args),
        BenchCommand::Serve(args) => crate::bench_serve::run(global, args),
        BenchCommand::Perf(args) => crate::bench_perf::run(args),
        BenchCommand::Soak(args) => crate::bench_soak::run(global, args),
        BenchCommand::Store(args) => crate::bench_store::run(global, args),
        BenchCommand::Cluster(args) => crate::bench_cluster::run(global, args),
    }
}

fn bench_sandbox(global: &GlobalArgs, args: &SandboxBenchArgs) -> anyhow::Result<ExitCode> {
    ensure!(
        args.starts > 0 && args.native_starts > 0 && args.fuel_repeats > 0 && args.loop_repeats > 0,
        "counts must be at least 1"
    );
    // The first build may take the snapshot and compile it; measure a second
    // one, which is what every later process pays.
    drop(global.sandbox()?);
    let load_started = Instant::now();
    let sandbox = global.sandbox()?;
    let module_load_ms = millis(load_started.elapsed());

    let (start_times, start_fuel) = fresh_starts(&sandbox, args.starts)?;
    // What the warm slots save, and how much of each to keep resident:
    // the same start-up on sandboxes built otherwise, in this same run.
    let unpooled = global.sandbox_pooled(false)?;
    let (unpooled_start_times, _) = fresh_starts(&unpooled, args.starts)?;
    let mut keep_resident_sweep = serde_json::Map::new();
    for &mib in &args.keep_resident_mib {
        let swept = global
            .sandbox_builder()?
            .keep_resident_bytes(mib << 20)
            .build()?;
        let (times, _) = fresh_starts(&swept, args.starts)?;
        keep_resident_sweep.insert(
            mib.to_string(),
            serde_json::json!({ "median_ms": median(&times), "p99_ms": percentile(&times, 0.99) }),
        );
    }

    let native_python = resolve_python(&args.native_python)?;
    let native_times = native_starts(&native_python.executable, args.native_starts)?;
    // Interleaved, so that a noisy neighbour slows both sides alike.
    let mut guest_loops = Vec::with_capacity(args.loop_repeats);
    let mut native_loops = Vec::with_capacity(args.loop_repeats);
    for _ in 0..args.loop_repeats {
        guest_loops.push(guest_loop_seconds(&sandbox)?);
        native_loops.push(native_loop_seconds(&native_python.executable)?);
    }
    let duration = Duration::from_secs_f64(args.throughput_seconds);
    let runs_per_second_1 = throughput(&sandbox, SMALL_PROGRAM, 1, duration)?;
    let runs_per_second = throughput(&sandbox, SMALL_PROGRAM, 2, duration)?;
    let unpooled_runs_per_second = throughput(&unpooled, SMALL_PROGRAM, 2, duration)?;
    drop(unpooled);
    let distinct_fuel = fuel_under_load(&sandbox, args.fuel_repeats)?;

    let interpreter = sandbox.interpreter();
    let report = serde_json::json!({
        "percentiles": fuelbench_perf::PERCENTILE_METHOD,
        "fresh_start_ms_median": median(&start_times),
        "fresh_start_ms_p99": percentile(&start_times, 0.99),
        "fresh_start_ms_median_without_pool": median(&unpooled_start_times),
        "fresh_start_ms_p99_without_pool": percentile(&unpooled_start_times, 0.99),
        "keep_resident_mib": sandbox.keep_resident_bytes() >> 20,
        "keep_resident_sweep": keep_resident_sweep,
        "slots": sandbox.slots(),
        "start_fuel": start_fuel,
        "native_python_start_ms_median": median(&native_times),
        "native_start_over_fresh_start": median(&native_times) / median(&start_times),
        "loop_ratio_vs_native": median(&guest_loops) / median(&native_loops),
        "loop_ratio_vs_native_best": min(&guest_loops) / min(&native_loops),
        "loop_guest_s_median": median(&guest_loops),
        "loop_native_s_median": median(&native_loops),
        "native_python": native_python.executable,
        "native_python_version": native_python.version,
        "module_load_ms": module_load_ms,
        "runs_per_second_1_thread": runs_per_second_1,
        "runs_per_second_2_threads": runs_per_second,
        "runs_per_second_2_over_1": runs_per_second / runs_per_second_1,
        "runs_per_second_2_threads_without_pool": unpooled_runs_per_second,
        "fuel_repeat_runs": args.fuel_repeats,
        "fuel_distinct_values": distinct_fuel,
        "python_wasm_sha256": interpreter.python_wasm_sha256,
        "snapshot_sha256": interpreter.snapshot_sha256,
        "wasmtime_version": fuelbench_sandbox::WASMTIME_VERSION,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// Times `starts` runs of `pass`, each a fresh instance; with its fuel.
fn fresh_starts(sandbox: &Sandbox, starts: usize) -> anyhow::Result<(Vec<f64>, Option<u64>)> {
    let limits = Limits::default();
    let pass = Program::new("pass");
    let mut times = Vec::with_capacity(starts);
    let mut fuel = None;
    for _ in 0..starts {
        let started = Instant::now();
        let outcome = sandbox.run(&pass, &limits)?;
        times.push(millis(started.elapsed()));
        ensure!(outcome.succeeded(), "`pass` did not succeed: {outcome:?}");
        fuel = outcome.fuel_used;
    }
    Ok((times, fuel))
}

struct NativePython {
    executable: String,
    version: String,
}

/// The interpreter behind `python`: on machines where `python3` is a shim
/// script (pyenv), timing the shim would flatter the sandbox.
fn resolve_python(python: &str) -> anyhow::Result<NativePython> {
    let text = run_native(
        python,
        "import sys; print(sys.executable); print(sys.version.split()[0])",
    )?;
    let mut lines = text.lines();
    match (lines.next(), lines.next()) {
        (Some(executable), Some(version)) if !executable.is_empty() => Ok(NativePython {
            executable: executable.to_owned(),
            version: version.to_owned(),
        }),
        _ => bail!("{python} did not say where it lives: {text:?}"),
    }
}

fn native_starts(python: &str, count: usize) -> anyhow::Result<Vec<f64>> {
    (0..count)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(python)
                .args(["-S", "-I", "-c", "pass"])
                .status()
                .with_context(|| format!("failed to start {python}"))?;
            ensure!(status.success(), "{python} -S -I -c pass failed: {status}");
            Ok(millis(started.elapsed()))
        })
        .collect()
}

fn guest_loop_seconds(sandbox: &Sandbox) -> anyhow::Result<f64> {
    let limits = Limits {
        fuel: u64::MAX / 2,
        wall: Duration::from_secs(300),
        ..Limits::default()
    };
    let outcome = sandbox.run(&Program::new(LOOP_PROGRAM), &limits)?;
    ensure!(
        outcome.succeeded(),
        "the loop failed in the sandbox: {outcome:?}"
    );
    parse_seconds(&outcome.stdout_lossy())
}

fn native_loop_seconds(python: &str) -> anyhow::Result<f64> {
    parse_seconds(&run_native(python, LOOP_PROGRAM)?)
}

/// Runs `code` with the native `python -S -I -c` and returns its stdout.
fn run_native(python: &str, code: &str) -> anyhow::Result<String> {
    let output = Command::new(python)
        .args(["-S", "-I", "-c", code])
        .output()
        .with_context(|| format!("failed to start {python}"))?;
    ensure!(
        output.status.success(),
        "{python} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn parse_seconds(text: &str) -> anyhow::Result<f64> {
    text.trim()
        .parse()
        .with_context(|| format!("the loop printed {text:?}, not a number of seconds"))
}

/// Both cores run fresh sandboxes for `duration`; returns runs per second.
/// Runs of `source` a second, `threads` threads at once for `duration`.
pub(crate) fn throughput(
    sandbox: &Sandbox,
    source: &str,
    threads: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let counts = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<u64> {
                    let program = Program::new(source);
                    let limits = Limits::default();
                    let mut runs = 0;
                    while started.elapsed() < duration {
                        let outcome = sandbox.run(&program, &limits)?;
                        ensure!(outcome.succeeded(), "the program failed: {outcome:?}");
                        runs += 1;
                    }
                    Ok(runs)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a bench worker panicked"))
            .collect::<anyhow::Result<Vec<u64>>>()
    })?;
    Ok(counts.iter().sum::<u64>() as f64 / started.elapsed().as_secs_f64())
}

/// Runs one program `repeats` times while another thread keeps the second
/// core busy; returns how many different fuel figures came out (1 is right).
fn fuel_under_load(sandbox: &Sandbox, repeats: usize) -> anyhow::Result<usize> {
    let busy = BusyCore::start();
    let program = Program::new(DETERMINISM_PROGRAM).seed(7);
    let mut fuels = Vec::with_capacity(repeats);
    let mut failure = None;
    for _ in 0..repeats {
        match sandbox.run(&program, &Limits::default()) {
            Ok(outcome) if outcome.succeeded() => fuels.push(outcome.fuel_used),
            Ok(outcome) => {
                failure = Some(format!("the determinism program failed: {outcome:?}"));
                break;
            }
            Err(error) => {
                failure = Some(format!("{error:#}"));
                break;
            }
        }
    }
    drop(busy);
    if let Some(failure) = failure {
        bail!(failure);
    }
    fuels.sort_unstable();
    fuels.dedup();
    Ok(fuels.len())
}

/// Keeps one core busy with integer arithmetic until dropped, so that a
/// determinism check runs beside a noisy neighbour.
pub(crate) struct BusyCore {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BusyCore {
    pub(crate) fn start() -> BusyCore {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = Arc::clone(&stop);
            move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
        });
        BusyCore {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BusyCore {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

pub(crate) fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

pub(crate) fn median(values: &[f64]) -> f64 {
    percentile(values, 0.5)
}

/// [`fuelbench_perf::percentile`] of unsorted `values`: one definition of
/// a percentile for every figure, named in each report.
pub(crate) fn percentile(values: &[f64], fraction: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    fuelbench_perf::percentile(&sorted, fraction)
}

fn bench_eval(global: &GlobalArgs, args: &EvalBenchArgs) -> anyhow::Result<ExitCode> {
    ensure!(args.repeats > 0, "--repeats must be at least 1");
    let problems = args.problems.load()?;
    let evaluator = Evaluator::new(
        global.sandbox_pooled(!args.without_pool)?,
        EvalConfig::default(),
    );
    let problem = problems
        .iter()
        .find(|problem| problem.id == args.problem)
        .with_context(|| format!("no problem {:?}", args.problem))?;

    let started = Instant::now();
    let (checks, verdicts) = fuelbench_eval::selftest::run_selftest(&evaluator, &problems);
    let selftest_s = started.elapsed().as_secs_f64();
    let selftest_failed = verdicts.iter().filter(|verdict| verdict.is_err()).count();

    let mut evaluate_ms = Vec::with_capacity(args.repeats);
    for _ in 0..args.repeats {
        let started = Instant::now();
        evaluator.evaluate(problem, &problem.reference)?;
        evaluate_ms.push(millis(started.elapsed()));
    }
    // A correct solution other than the reference, each time on a fresh
    // seed as the evaluate endpoint draws one: its generated cases, and the
    // reference's batch and series for that seed, are all new work.
    let other = problem
        .right
        .first()
        .with_context(|| format!("{} has no right/ solution", problem.id))?;
    let mut nonref_ms = Vec::with_capacity(args.repeats);
    for _ in 0..args.repeats {
        let fresh = evaluator.with_seed(EvalConfig::seed_or_fresh(None)?);
        let started = Instant::now();
        let report = fresh.evaluate(problem, &other.source)?;
        nonref_ms.push(millis(started.elapsed()));
        ensure!(
            report.failure_class.is_none(),
            "right/{} failed: {:?}",
            other.name,
            report.failure_class
        );
    }
    let generated: Vec<f64> = problems
        .iter()
        .map(|problem| problem.generated.as_ref().map_or(0.0, |g| g.count as f64))
        .collect();

    // Fuel, fitted class and overall score of every evaluation, with the
    // other core busy: one distinct triple is the target.
    let busy = BusyCore::start();
    let mut outcomes = Vec::with_capacity(args.repeats);
    for _ in 0..args.repeats {
        let report = evaluator.evaluate(problem, &problem.reference)?;
        let result = ProblemResult {
            solve: &report,
            refactor: Some(&report),
        };
        let overall = score(&[result]).map(|scores| scores.overall_score.to_bits());
        let fitted = report
            .complexity
            .as_ref()
            .and_then(|complexity| complexity.fitted);
        let samples: Vec<u64> = report
            .complexity
            .iter()
            .flat_map(|complexity| {
                complexity
                    .samples
                    .iter()
                    .map(|sample| sample.cost.to_bits())
            })
            .collect();
        outcomes.push((report.fuel_used, samples, fitted, overall));
    }
    drop(busy);
    outcomes.sort();
    outcomes.dedup();

    let suite = args.suite.clone().or_else(|| {
        let cached = global.cache_dir().ok()?.join("suites/HumanEval.jsonl.gz");
        cached.is_file().then_some(cached)
    });
    let humaneval = match suite {
        Some(path) => {
            let tasks = fuelbench_problems::load_suite(&path)?;
            let pairs: Vec<_> = tasks
                .iter()
                .map(|task| {
                    (
                        task,
                        SampleCode::Completion(task.canonical_solution.clone()),
                    )
                })
                .collect();
            let started = Instant::now();
            let results = evaluator.check_suite(&pairs)?;
            serde_json::json!({
                "tasks": results.len(),
                "canonical_passed": results.iter().filter(|result| result.passed).count(),
                "wall_s": started.elapsed().as_secs_f64(),
            })
        }
        None => serde_json::Value::Null,
    };

    let report = serde_json::json!({
        "percentiles": fuelbench_perf::PERCENTILE_METHOD,
        "selftest_s": selftest_s,
        "selftest_checks": checks.len(),
        "selftest_failed": selftest_failed,
        "evaluate_problem": problem.id,
        "evaluate_ms_median": median(&evaluate_ms),
        "evaluate_ms_p99": percentile(&evaluate_ms, 0.99),
        "evaluate_nonref_solution": format!("right/{}", other.name),
        "evaluate_nonref_ms_median": median(&nonref_ms),
        "generated_cases_per_problem": generated.iter().sum::<f64>() / generated.len().max(1) as f64,
        "determinism_runs": args.repeats,
        "determinism_distinct_outcomes": outcomes.len(),
        "humaneval": humaneval,
    });
    let mut report = report;
    // `evaluate_p01_nonref_p99_ms`: a correct non-reference solution on a
    // fresh seed each time, the figure the endpoint's users see.
    let short_id = problem.id.split('_').next().unwrap_or(&problem.id);
    report[format!("evaluate_{short_id}_nonref_p99_ms")] =
        serde_json::json!(percentile(&nonref_ms, 0.99));
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_closest_ranks_of_unsorted_values() {
        let mut values: Vec<f64> = (1..=100).map(f64::from).collect();
        values.reverse();
        assert!((percentile(&values, 0.99) - 99.01).abs() < 1e-9);
        assert_eq!(percentile(&values, 0.5), 50.5);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(percentile(&[5.0], 0.99), 5.0);
    }
}
