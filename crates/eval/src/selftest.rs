//! Whether the benchmark itself works: every reference, and every other
//! correct solution under `right/`, scores 1.0 on every metric that applies,
//! and every planted wrong solution is caught with the failure it declares. `fuelbench selftest` prints it; `fuelbench bench eval`
//! times it.

use fuelbench_problems::{Failure, Problem};
use rayon::prelude::*;

use crate::score::{ProblemResult, score};
use crate::{Evaluator, Report};

/// One selftest check: a solution and what its report must say.
#[derive(Debug, Clone)]
pub struct SelftestCheck<'a> {
    pub problem: &'a Problem,
    /// `reference`, `right/<name>` or `wrong/<name>`.
    pub label: String,
    pub source: &'a str,
    /// `None`: a correct solution, which must pass everything that applies.
    pub expect: Option<Failure>,
}

/// Every reference, right and planted wrong solution of `problems`, checked
/// on every core; the checks and their verdicts, in order.
pub fn run_selftest<'a>(
    evaluator: &Evaluator,
    problems: &'a [Problem],
) -> (Vec<SelftestCheck<'a>>, Vec<Result<(), String>>) {
    let checks: Vec<SelftestCheck<'a>> = problems
        .iter()
        .flat_map(|problem| {
            let reference = SelftestCheck {
                problem,
                label: "reference".into(),
                source: &problem.reference,
                expect: None,
            };
            let right = problem.right.iter().map(move |right| SelftestCheck {
                problem,
                label: format!("right/{}", right.name),
                source: &right.source,
                expect: None,
            });
            let wrong = problem.wrong.iter().map(move |wrong| SelftestCheck {
                problem,
                label: format!("wrong/{}", wrong.name),
                source: &wrong.source,
                expect: Some(wrong.expect),
            });
            std::iter::once(reference).chain(right).chain(wrong)
        })
        .collect();
    let verdicts = checks
        .par_iter()
        .map(|check| run_check(evaluator, check))
        .collect();
    (checks, verdicts)
}

fn run_check(evaluator: &Evaluator, check: &SelftestCheck<'_>) -> Result<(), String> {
    let report = evaluator
        .evaluate(check.problem, check.source)
        .map_err(|error| format!("{error:#}"))?;
    match check.expect {
        None => {
            // A correct solution, refactored into itself, must score 1.0 on
            // every metric that applies.
            let result = ProblemResult {
                solve: &report,
                refactor: Some(&report),
            };
            let scores = score(&[result]).expect("one result");
            if scores.overall_score == 1.0 && report.failure_class.is_none() {
                Ok(())
            } else {
                Err(format!(
                    "a correct solution scores {:.3}, not 1.0: {}",
                    scores.overall_score,
                    summary(&report)
                ))
            }
        }
        Some(expected) if report.failure_class == Some(expected) => Ok(()),
        Some(expected) => Err(format!("expected {expected}, got {}", summary(&report))),
    }
}

/// A report in one line, for a check that fell short.
pub fn summary(report: &Report) -> String {
    let mut parts = vec![
        report
            .failure_class
            .map_or("no failure".to_owned(), |failure| failure.to_string()),
        format!("tests {}/{}", report.tests_passed, report.tests_total),
    ];
    if let Some(case) = report.cases.iter().find(|case| case.detail.is_some()) {
        parts.push(format!(
            "{}: {}",
            case.name,
            case.detail.as_deref().unwrap_or("")
        ));
    }
    if let Some(complexity) = &report.complexity {
        parts.push(format!(
            "complexity expected {} fitted {}{}",
            complexity.expected,
            complexity
                .fitted
                .map_or("none".to_owned(), |class| class.to_string()),
            complexity
                .note
                .as_ref()
                .map_or(String::new(), |note| format!(" ({note})"))
        ));
    }
    if let Some(numerical) = &report.numerical {
        parts.push(format!(
            "numerical {}/{}",
            numerical.passed, numerical.total
        ));
    }
    parts.join("; ")
}
