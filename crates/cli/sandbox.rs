//! `fuelbench sandbox ...`: run one file, or prepare the interpreter.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use fuelbench_sandbox::{Limits, Program};

use crate::GlobalArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum SandboxCommand {
    /// Run a Python file and print the outcome as JSON
    Run(RunArgs),
    /// Take the interpreter snapshot and compile it now, rather than on
    /// first use, and print what was prepared
    Prepare,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Fuel budget (about one unit per wasm instruction)
    #[arg(long, default_value_t = Limits::default().fuel)]
    fuel: u64,
    /// Memory cap in MiB
    #[arg(long, default_value_t = Limits::default().memory_bytes >> 20)]
    memory_mib: u64,
    /// Wall-clock backstop in milliseconds
    #[arg(long, default_value_t = Limits::default().wall.as_millis() as u64)]
    wall_ms: u64,
    /// Bytes of stdout kept before the run ends as output_overflow
    #[arg(long, default_value_t = Limits::default().stdout_bytes)]
    stdout_bytes: usize,
    /// Bytes of stderr kept before the run ends as output_overflow
    #[arg(long, default_value_t = Limits::default().stderr_bytes)]
    stderr_bytes: usize,
    /// A file whose bytes are the program's stdin
    #[arg(long)]
    stdin: Option<PathBuf>,
    /// Seed for Python's `random` and the guest's random source
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The Python file to run
    file: PathBuf,
}

pub(crate) fn run(global: &GlobalArgs, command: &SandboxCommand) -> anyhow::Result<ExitCode> {
    match command {
        SandboxCommand::Run(args) => run_file(global, args),
        SandboxCommand::Prepare => prepare(global),
    }
}

fn run_file(global: &GlobalArgs, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let source = std::fs::read_to_string(&args.file)
        .with_context(|| format!("failed to read {} as UTF-8 text", args.file.display()))?;
    let stdin = match &args.stdin {
        Some(path) => {
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?
        }
        None => Vec::new(),
    };
    let limits = Limits {
        fuel: args.fuel,
        memory_bytes: args
            .memory_mib
            .checked_mul(1 << 20)
            .context("--memory-mib is too large")?,
        wall: Duration::from_millis(args.wall_ms),
        stdout_bytes: args.stdout_bytes,
        stderr_bytes: args.stderr_bytes,
    };
    let sandbox = global.sandbox()?;
    let program = Program::new(&source).stdin(&stdin).seed(args.seed);
    let outcome = sandbox
        .run(&program, &limits)
        .context("failed to run the program")?;
    println!("{}", outcome.to_json());
    Ok(ExitCode::SUCCESS)
}

fn prepare(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let sandbox = global.sandbox()?;
    let interpreter = sandbox.interpreter();
    let report = serde_json::json!({
        "interpreter_dir": interpreter.dir,
        "python_wasm_sha256": interpreter.python_wasm_sha256,
        "snapshot_sha256": interpreter.snapshot_sha256,
        "cpython_version": interpreter.cpython_version,
        "wasmtime_version": fuelbench_sandbox::WASMTIME_VERSION,
        "min_memory_bytes": sandbox.min_memory_bytes(),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
