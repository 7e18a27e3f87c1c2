//! `fuelbench selftest`: the benchmark checks itself, or a public suite's
//! canonical solutions.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use fuelbench_eval::selftest::run_selftest;
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_problems::{Failure, SampleCode, SuiteTask};

use crate::GlobalArgs;
use crate::problems::{ProblemsArgs, load_suite};

#[derive(Debug, clap::Args)]
pub(crate) struct SelftestArgs {
    #[command(flatten)]
    problems: ProblemsArgs,
    /// Check a public suite's canonical solutions instead (HumanEval JSONL,
    /// optionally gzipped)
    #[arg(long)]
    suite: Option<PathBuf>,
    /// Print the checks as JSON
    #[arg(long)]
    json: bool,
    /// Draw the generated cases and complexity inputs from this seed, to
    /// repeat an earlier selftest [default: a fresh one, printed: the set
    /// must hold under every seed, as users draw theirs]
    #[arg(long)]
    seed: Option<u64>,
}

pub(crate) fn selftest(global: &GlobalArgs, args: &SelftestArgs) -> anyhow::Result<ExitCode> {
    if let Some(suite) = &args.suite {
        return selftest_suite(global, suite, args.json);
    }
    let problems = args.problems.load()?;
    let evaluator = global.evaluator(args.seed)?;
    let seed = evaluator.config().seed;
    let (checks, verdicts) = run_selftest(&evaluator, &problems);

    let failed = verdicts.iter().filter(|verdict| verdict.is_err()).count();
    if args.json {
        let rows: Vec<_> = checks
            .iter()
            .zip(&verdicts)
            .map(|(check, verdict)| {
                serde_json::json!({
                    "problem": check.problem.id,
                    "solution": check.label,
                    "expected": check.expect.map_or("pass", Failure::name),
                    "ok": verdict.is_ok(),
                    "detail": verdict.as_ref().err(),
                })
            })
            .collect();
        let summary = serde_json::json!({
            "checks": rows,
            "passed": verdicts.len() - failed,
            "failed": failed,
            "seed": seed,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        for (check, verdict) in checks.iter().zip(&verdicts) {
            let expected = check.expect.map_or("pass", Failure::name);
            match verdict {
                Ok(()) => println!("ok    {} {} ({expected})", check.problem.id, check.label),
                Err(why) => println!("FAIL  {} {}: {why}", check.problem.id, check.label),
            }
        }
        println!(
            "{} passed, {failed} failed (seed {seed}; repeat with --seed {seed})",
            verdicts.len() - failed
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::FELL_SHORT)
    })
}

fn selftest_suite(global: &GlobalArgs, path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let tasks = load_suite(path)?;
    let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
    let pairs: Vec<(&SuiteTask, SampleCode)> = tasks
        .iter()
        .map(|task| {
            (
                task,
                SampleCode::Completion(task.canonical_solution.clone()),
            )
        })
        .collect();
    let outcomes = evaluator
        .check_suite(&pairs)
        .context("failed to run the suite")?;
    let failed = outcomes.iter().filter(|outcome| !outcome.passed).count();
    if json {
        let summary = serde_json::json!({ "checks": outcomes, "passed": outcomes.len() - failed, "failed": failed });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        for outcome in &outcomes {
            let mark = if outcome.passed { "ok   " } else { "FAIL " };
            println!(
                "{mark} {} canonical solution: {}",
                outcome.task_id, outcome.result
            );
        }
        println!("{} passed, {failed} failed", outcomes.len() - failed);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::FELL_SHORT)
    })
}
