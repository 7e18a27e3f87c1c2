//! Which rows of a board can be compared with this scorer's own: the same
//! problems, the same interpreter, the same generated tests. The web board
//! and `fuelbench leaderboard` flag rows by this one rule.

use std::collections::HashMap;

use fuelbench_problems::Problem;

use super::{Row, SuiteColumn};
use crate::suite::{HUMANEVAL, HUMANEVAL_SHA256, HUMANEVAL_TASKS};

/// A row and what keeps its scores from being compared with this scorer's.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct BoardRow {
    /// The row itself, its fields written at the top level.
    #[serde(flatten)]
    pub row: Row,
    /// Scored on this problem set and interpreter, on the tests most rows faced.
    pub comparable: bool,
    /// What differs, when it is not.
    pub differences: Vec<String>,
    /// Whether the row's results file reproduced on the service's scorer
    /// ([`crate::verify`]); `None` where nothing checked it (the terminal,
    /// a service that does not verify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<crate::Verification>,
}

/// Each row with what differs from a scorer of `problems` on the
/// interpreter `python_wasm_sha256`: other problems (a row run on some of
/// them is compared with the same ones of this set), another interpreter
/// build, another harness, or other generated tests than most rows faced.
///
/// Each public suite's column is flagged too ([`SuiteColumn::differences`]):
/// a HumanEval pass@1 counts as HumanEval's only from the pinned file, over
/// all its tasks, on this interpreter. A row that answered only a suite is
/// comparable when its column is.
pub fn flag(rows: Vec<Row>, problems: &[Problem], python_wasm_sha256: &str) -> Vec<BoardRow> {
    let mut subsets: HashMap<Vec<String>, String> = HashMap::new();
    let mut subset_hash = |ids: &[String]| {
        subsets
            .entry(ids.to_vec())
            .or_insert_with(|| crate::subset_sha256(problems, ids))
            .clone()
    };
    let mut seeds: HashMap<u64, usize> = HashMap::new();
    for seed in rows.iter().filter_map(|row| row.seed) {
        *seeds.entry(seed).or_default() += 1;
    }
    let common_seed = seeds
        .into_iter()
        .max_by_key(|&(seed, count)| (count, std::cmp::Reverse(seed)))
        .map(|(seed, _)| seed);
    rows.into_iter()
        .map(|mut row| {
            for column in &mut row.suites {
                column.differences = suite_differences(column, python_wasm_sha256);
            }
            let mut differences = Vec::new();
            if let (Some(seed), Some(common)) = (row.seed, common_seed)
                && seed != common
            {
                differences.push(format!(
                    "judged on other generated tests (seed {seed}) than most rows (seed {common})"
                ));
            }
            match &row.problem_set_sha256 {
                // A suite's own row: its tasks are the suite's, judged by its column.
                Some(_) if row.suite.is_some() => {
                    let own = row
                        .suites
                        .iter()
                        .find(|c| Some(&c.suite) == row.suite.as_ref());
                    differences.extend(own.iter().flat_map(|c| c.differences.iter().cloned()));
                }
                Some(hash) if *hash != subset_hash(&row.problem_ids) => {
                    differences.push("scored on other problems than this problem set".to_owned());
                }
                None => differences.push("imported from another harness".to_owned()),
                Some(_) => {}
            }
            if row.suite.is_none()
                && row
                    .python_wasm_sha256
                    .as_deref()
                    .is_some_and(|hash| hash != python_wasm_sha256)
            {
                differences.push("scored by another interpreter build".to_owned());
            }
            BoardRow {
                comparable: differences.is_empty(),
                differences,
                row,
                verification: None,
            }
        })
        .collect()
}

/// What keeps a suite's column from being that suite's pass@1 as this
/// scorer judges it.
fn suite_differences(column: &SuiteColumn, python_wasm_sha256: &str) -> Vec<String> {
    let mut differences = Vec::new();
    if column.suite == HUMANEVAL {
        if column.sha256.as_deref() != Some(HUMANEVAL_SHA256) {
            differences.push(format!(
                "HumanEval from another file than the pinned one (sha256 {})",
                column.sha256.as_deref().unwrap_or("unknown")
            ));
        }
        if column.tasks < HUMANEVAL_TASKS {
            differences.push(format!(
                "HumanEval over {} of its {HUMANEVAL_TASKS} tasks",
                column.tasks
            ));
        }
    }
    if let Some((done, planned)) = column.progress.split_once('/')
        && done != planned
    {
        differences.push(format!(
            "{} not finished ({} answers)",
            column.suite, column.progress
        ));
    }
    if column
        .python_wasm_sha256
        .as_deref()
        .is_some_and(|hash| hash != python_wasm_sha256)
    {
        differences.push(format!(
            "{} scored by another interpreter build",
            column.suite
        ));
    }
    differences
}
