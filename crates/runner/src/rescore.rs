//! Scoring saved answers again, offline, and what changed since they were
//! scored.

use std::path::Path;

use fuelbench_eval::{Evaluator, RefactorReport, Reproducibility};
use fuelbench_problems::Problem;

use crate::variant::Asked;
use crate::{Error, Result, ResultsFile, RunConfig, Suite, failure_of};

/// Scores every saved answer again with this scorer, on the tests the run
/// drew (its recorded seed), and recomputes the summary; times and tokens
/// are kept as recorded. A public suite's file needs its suite among
/// `suites`.
pub fn rescore(
    file: &mut ResultsFile,
    evaluator: &Evaluator,
    problems: &[Problem],
    suites: &[Suite],
    path: &Path,
) -> Result<Vec<Rescored>> {
    let evaluator = &evaluator.with_seed(file.reproducibility.seed);
    let suite = match &file.config.suite {
        Some(source) => Some(crate::suite::find(suites, source, path)?),
        None => None,
    };
    let mut changed = Vec::new();
    for record in &mut file.problems {
        let unknown = || Error::UnknownProblem {
            id: record.id.clone(),
            path: path.to_owned(),
        };
        let asked = match suite {
            Some(suite) => Asked::Task(suite.task(&record.id).ok_or_else(unknown)?, &suite.source),
            None => Asked::Problem(
                problems
                    .iter()
                    .find(|problem| problem.id == record.id)
                    .ok_or_else(unknown)?,
            ),
        };
        let score = |answer: &str| {
            asked
                .score(evaluator, answer)
                .map_err(|source| Error::Score {
                    problem: record.id.clone(),
                    source,
                })
        };
        let mut report = score(record.solve.answer())?;
        let old_refactor = record.refactor_report.clone();
        if record.refactor_report.is_some() {
            let refactored = match &record.refactor {
                Some(exchange) => score(exchange.answer())?,
                None => score("")?,
            };
            report.refactor = Some(RefactorReport::new(&report, &refactored));
            record.refactor_failure_class = failure_of(record.refactor.as_ref(), &refactored);
            record.refactor_report = Some(refactored);
        }
        record.failure_class = failure_of(Some(&record.solve), &report);
        let mut changes = report.changes_since(&record.report);
        if let (Some(old), Some(new)) = (&old_refactor, &record.refactor_report) {
            changes.extend(
                new.changes_since(old)
                    .into_iter()
                    .map(|change| format!("refactor {change}")),
            );
        }
        if !changes.is_empty() {
            changed.push(Rescored {
                problem: record.id.clone(),
                changes,
            });
        }
        record.report = report;
    }
    file.reproducibility = file.config.scorer_key(evaluator);
    file.refresh();
    Ok(changed)
}

/// A problem whose verdict a rescore changed, and what changed, a line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rescored {
    /// The problem's id.
    pub problem: String,
    /// What changed in its reports, for a human; the refactor's lines start
    /// with `refactor`.
    pub changes: Vec<String>,
}

/// What differs between two scorers' reproducibility keys, one line each.
pub fn reproducibility_changes(saved: &Reproducibility, now: &Reproducibility) -> Vec<String> {
    changes(saved, now)
}

/// What differs between a saved configuration and this run's, one line each.
pub fn config_changes(saved: &RunConfig, now: &RunConfig) -> Vec<String> {
    changes(saved, now)
}

/// What differs between `saved` and `now`, one line per field. A suite file
/// is the same by its sha256 wherever it lies now, so its origin (a path,
/// for a file of one's own) may move.
fn changes<T: serde::Serialize>(saved: &T, now: &T) -> Vec<String> {
    let saved = serde_json::to_value(saved).expect("serialises");
    let now = serde_json::to_value(now).expect("serialises");
    crate::verify::value_changes(&saved, &now, "")
        .into_iter()
        .filter(|change| !change.starts_with("suite.origin:"))
        .collect()
}
