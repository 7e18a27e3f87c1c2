//! `fuelbench problems`, `fuelbench evaluate` and `fuelbench selftest`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use fuelbench_eval::selftest::run_selftest;
use fuelbench_eval::suite::mean_pass_at_k;
use fuelbench_eval::{EvalConfig, Evaluator, RefactorReport, Report};
use fuelbench_problems::{Completion, Failure, Problem, SuiteTask};

use crate::GlobalArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct ProblemsArgs {
    /// The problem set's folder [default: ./problems, else the one this
    /// binary was built from]
    #[arg(long, env = "FUELBENCH_PROBLEMS")]
    problems_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    problems: ProblemsArgs,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("candidate").required(true)))]
pub(crate) struct EvaluateArgs {
    #[command(flatten)]
    problems: ProblemsArgs,
    /// The problem's id, e.g. p01_merge_intervals
    #[arg(long)]
    problem: String,
    /// A Python file with the candidate solution
    #[arg(long, group = "candidate")]
    code: Option<PathBuf>,
    /// A file with a model's whole reply; the code is extracted from it
    #[arg(long, group = "candidate")]
    response: Option<PathBuf>,
    /// The refactored version (code, or a reply with --response): the
    /// report says whether the refactor kept every test passing
    #[arg(long)]
    refactored: Option<PathBuf>,
    /// Print the whole report as JSON
    #[arg(long)]
    json: bool,
}

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
}

impl ProblemsArgs {
    fn dir(&self) -> PathBuf {
        if let Some(dir) = &self.problems_dir {
            return dir.clone();
        }
        let local = PathBuf::from("problems");
        if local.is_dir() {
            local
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("problems")
        }
    }

    pub(crate) fn load(&self) -> anyhow::Result<Vec<Problem>> {
        let dir = self.dir();
        let problems = fuelbench_problems::load_dir(&dir).with_context(|| {
            format!(
                "failed to load the problem set in {} (name another with --problems-dir or FUELBENCH_PROBLEMS)",
                dir.display()
            )
        })?;
        if problems.is_empty() {
            bail!(
                "no problems in {} (each is a folder with a problem.toml)",
                dir.display()
            );
        }
        Ok(problems)
    }
}

pub(crate) fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let problems = args.problems.load()?;
    if args.json {
        let rows: Vec<_> = problems
            .iter()
            .map(|problem| {
                serde_json::json!({
                    "id": problem.id,
                    "title": problem.title,
                    "difficulty": problem.difficulty,
                    "category": problem.category,
                    "tests": problem.tests().count(),
                    "complexity": problem.complexity.expected,
                    "numerical": !problem.numerical.is_empty(),
                    "refactor": true,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!(
            "{:<26} {:>4}  {:<20} {:>5}  {:<11} {:<9}",
            "id", "diff", "category", "tests", "complexity", "numerical"
        );
        for problem in &problems {
            println!(
                "{:<26} {:>4}  {:<20} {:>5}  {:<11} {:<9}",
                problem.id,
                problem.difficulty,
                problem.category,
                problem.tests().count(),
                problem.complexity.expected.notation(),
                if problem.numerical.is_empty() {
                    "-"
                } else {
                    "yes"
                },
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn evaluate(global: &GlobalArgs, args: &EvaluateArgs) -> anyhow::Result<ExitCode> {
    let problems = args.problems.load()?;
    let Some(problem) = problems.iter().find(|problem| problem.id == args.problem) else {
        let known: Vec<&str> = problems.iter().map(|problem| problem.id.as_str()).collect();
        bail!(
            "no problem {:?}; the set has {}",
            args.problem,
            known.join(", ")
        );
    };
    let (path, is_reply) = match (&args.code, &args.response) {
        (Some(code), _) => (code, false),
        (None, Some(response)) => (response, true),
        (None, None) => bail!("give --code FILE or --response FILE"),
    };
    let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
    let score_file = |path: &Path| -> anyhow::Result<Report> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read {}", path.display()))?;
        if is_reply {
            evaluator.evaluate_reply(problem, &text)
        } else {
            evaluator.evaluate(problem, &text)
        }
        .with_context(|| format!("failed to evaluate {}", path.display()))
    };
    let mut report = score_file(path)?;
    if let Some(refactored) = &args.refactored {
        report.refactor = Some(RefactorReport::new(&report, &score_file(refactored)?));
    }
    let refactor_ok = report
        .refactor
        .as_ref()
        .is_none_or(|refactor| refactor.stable);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(if report.failure_class.is_none() && refactor_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_report(report: &Report) {
    println!(
        "{}: {}  tests {}/{}  fuel {}",
        report.problem,
        report
            .failure_class
            .map_or("PASS".to_owned(), |failure| failure.name().to_uppercase()),
        report.tests_passed,
        report.tests_total,
        report.fuel_used
    );
    for case in report.cases.iter().filter(|case| case.detail.is_some()) {
        println!(
            "  {}: {:?}: {}",
            case.name,
            case.outcome,
            case.detail.as_deref().unwrap_or("")
        );
    }
    if let Some(complexity) = &report.complexity {
        println!(
            "  complexity: expected {}, fitted {}, {}{}",
            complexity.expected,
            complexity
                .fitted
                .map_or("none".to_owned(), |class| class.to_string()),
            if complexity.matched { "ok" } else { "MISMATCH" },
            complexity
                .note
                .as_ref()
                .map_or(String::new(), |note| format!(" ({note})")),
        );
    }
    if let Some(numerical) = &report.numerical {
        println!("  numerical: {}/{}", numerical.passed, numerical.total);
    }
    if let Some(refactor) = &report.refactor {
        println!(
            "  refactor: {} (refactored tests {}/{}{})",
            if refactor.stable {
                "stable"
            } else {
                "UNSTABLE"
            },
            refactor.tests_passed,
            refactor.tests_total,
            refactor
                .failure_class
                .map_or(String::new(), |failure| format!(", {failure}")),
        );
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct EvaluateSamplesArgs {
    /// The suite (HumanEval JSONL, optionally gzipped)
    #[arg(long)]
    suite: PathBuf,
    /// Samples: JSONL of `task_id` with `completion` or `solution`
    samples: PathBuf,
    /// Where to write one result per sample [default: SAMPLES_results.jsonl]
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) fn selftest(global: &GlobalArgs, args: &SelftestArgs) -> anyhow::Result<ExitCode> {
    if let Some(suite) = &args.suite {
        return selftest_suite(global, suite, args.json);
    }
    let problems = args.problems.load()?;
    let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
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
        println!("{} passed, {failed} failed", verdicts.len() - failed);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn load_suite(path: &Path) -> anyhow::Result<Vec<SuiteTask>> {
    fuelbench_problems::load_suite(path)
        .with_context(|| format!("failed to load the suite {}", path.display()))
}

fn selftest_suite(global: &GlobalArgs, path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let tasks = load_suite(path)?;
    let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
    let pairs: Vec<(&SuiteTask, Completion)> = tasks
        .iter()
        .map(|task| {
            (
                task,
                Completion::Completion(task.canonical_solution.clone()),
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
        ExitCode::from(1)
    })
}

pub(crate) fn evaluate_samples(
    global: &GlobalArgs,
    args: &EvaluateSamplesArgs,
) -> anyhow::Result<ExitCode> {
    let tasks = load_suite(&args.suite)?;
    let samples = fuelbench_problems::load_samples(&args.samples)
        .with_context(|| format!("failed to load the samples {}", args.samples.display()))?;
    let by_id: HashMap<&str, &SuiteTask> = tasks
        .iter()
        .map(|task| (task.task_id.as_str(), task))
        .collect();
    let pairs = samples
        .iter()
        .map(|sample| match by_id.get(sample.task_id.as_str()) {
            Some(task) => Ok((*task, sample.code.clone())),
            None => bail!(
                "sample for {:?}, which {} does not have",
                sample.task_id,
                args.suite.display()
            ),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
    let outcomes = evaluator
        .check_suite(&pairs)
        .context("failed to run the samples")?;

    let out = args.out.clone().unwrap_or_else(|| {
        let mut name = args.samples.clone().into_os_string();
        name.push("_results.jsonl");
        PathBuf::from(name)
    });
    let mut lines = String::new();
    for (sample, outcome) in samples.iter().zip(&outcomes) {
        let (key, code) = match &sample.code {
            Completion::Completion(code) => ("completion", code),
            Completion::Solution(code) => ("solution", code),
        };
        let mut row = serde_json::to_value(outcome)?;
        row[key] = serde_json::Value::String(code.clone());
        lines.push_str(&serde_json::to_string(&row)?);
        lines.push('\n');
    }
    std::fs::write(&out, lines).with_context(|| format!("failed to write {}", out.display()))?;

    let mut summary = serde_json::json!({
        "tasks": outcomes.iter().map(|o| o.task_id.as_str()).collect::<std::collections::BTreeSet<_>>().len(),
        "samples": outcomes.len(),
        "results": out,
    });
    for (k, value) in mean_pass_at_k(&outcomes) {
        summary[format!("pass@{k}")] = serde_json::json!(value);
    }
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(ExitCode::SUCCESS)
}
