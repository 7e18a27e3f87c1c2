//! `fuelbench problems`, and the problem set every command loads.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use fuelbench_eval::selftest::{MIN_SEPARATION, measure_separation};
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_problems::{Problem, SuiteTask};
use rayon::prelude::*;

use crate::GlobalArgs;
use fuelbench_runner::Suite;

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

/// Where public suites are read from.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SuitesArgs {
    /// HumanEval's JSONL, gzipped or not, for `--suite humaneval` [default:
    /// the one scripts/fetch-humaneval.sh puts in the cache, when it is there]
    #[arg(long, value_name = "FILE")]
    humaneval: Option<PathBuf>,
}

impl SuitesArgs {
    /// The public suites there are: the one named, or the cache's.
    pub(crate) fn load(&self, global: &GlobalArgs) -> anyhow::Result<Vec<Suite>> {
        let path = match &self.humaneval {
            Some(path) => path.clone(),
            None => {
                let cached = global.cache_dir()?.join("suites/HumanEval.jsonl.gz");
                if !cached.is_file() {
                    return Ok(Vec::new());
                }
                cached
            }
        };
        let suite = Suite::humaneval(&path)
            .with_context(|| format!("failed to load the HumanEval suite {}", path.display()))?;
        Ok(vec![suite])
    }
}

pub(crate) fn list(global: &GlobalArgs, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let problems = args.problems.load()?;
    if args.json {
        // Each problem's separation margin runs its reference and the plants
        // of the next class up: seconds, on every core.
        let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
        let separations = problems
            .par_iter()
            .map(|problem| {
                measure_separation(&evaluator, problem)
                    .with_context(|| format!("failed to measure {}'s separation", problem.id))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let rows: Vec<_> = problems
            .iter()
            .zip(separations)
            .map(|(problem, separation)| {
                serde_json::json!({
                    "id": problem.id,
                    "title": problem.title,
                    "difficulty": problem.difficulty,
                    "category": problem.category,
                    "tests": problem.test_count(),
                    "forbidden": problem.forbidden,
                    "complexity": problem.complexity.expected,
                    "numerical": !problem.numerical.is_empty(),
                    "refactor": true,
                    "right": problem.right.iter().map(|r| &r.name).collect::<Vec<_>>(),
                    "wrong": problem.wrong.iter().map(|w| {
                        serde_json::json!({
                            "name": w.name,
                            "expect": w.expect.name(),
                            "class": w.class,
                        })
                    }).collect::<Vec<_>>(),
                    "requirements": problem.requirements,
                    "separation": separation,
                    "min_separation": MIN_SEPARATION,
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
                problem.test_count(),
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

pub(crate) fn load_suite(path: &Path) -> anyhow::Result<Vec<SuiteTask>> {
    fuelbench_problems::load_suite(path)
        .with_context(|| format!("failed to load the suite {}", path.display()))
}
