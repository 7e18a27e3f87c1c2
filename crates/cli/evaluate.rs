//! `fuelbench evaluate` and `fuelbench evaluate-samples`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use fuelbench_eval::suite::mean_pass_at_k;
use fuelbench_eval::{Answer, EvalConfig, Evaluator, Mismatch, Report};
use fuelbench_problems::{SampleCode, SuiteTask};

use crate::GlobalArgs;
use crate::problems::{ProblemsArgs, load_suite};

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
    /// Draw the generated cases, the complexity inputs and the candidate's
    /// `random` from this seed: an earlier report's to repeat its tests
    /// exactly [default: a fresh one from the system's entropy]
    #[arg(long)]
    seed: Option<u64>,
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
    let evaluator = global.evaluator(args.seed)?;
    let read = |path: &Path| {
        std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
    };
    let text = read(path)?;
    let answer = if is_reply {
        Answer::Reply(&text)
    } else {
        Answer::Code(&text)
    };
    let refactored = args.refactored.as_deref().map(read).transpose()?;
    let report = evaluator
        .evaluate_answer(problem, answer, refactored.as_deref())
        .with_context(|| format!("failed to evaluate {}", path.display()))?;
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
        ExitCode::from(crate::exit::FELL_SHORT)
    })
}

fn print_report(report: &Report) {
    println!(
        "{}: {}  tests {}/{}  fuel {}  seed {}",
        report.problem,
        report
            .failure_class
            .map_or("PASS".to_owned(), |failure| failure.name().to_uppercase()),
        report.tests_passed,
        report.tests_total,
        report.fuel_used,
        report.reproducibility.seed,
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
                .clone()
                .or_else(|| {
                    // A fitted class that is too dear is already on the line.
                    complexity
                        .mismatch
                        .as_ref()
                        .filter(|mismatch| !matches!(mismatch, Mismatch::Class { .. }))
                        .map(ToString::to_string)
                })
                .map_or(String::new(), |why| format!(" ({why})")),
        );
        if let Some(probe) = &complexity.probe {
            println!(
                "  probe: n = {}, past the fitted sizes: {}{:.2}x what its own curve predicts from n = {}",
                probe.n,
                if probe.cost.is_none() {
                    "more than "
                } else {
                    ""
                },
                probe.over(),
                probe.from_n
            );
        }
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
            SampleCode::Completion(code) => ("completion", code),
            SampleCode::Solution(code) => ("solution", code),
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
