//! A run's figures, computed from its records alone.

use std::collections::BTreeMap;

use fuelbench_eval::score::{ProblemResult, Scores, score};

use super::ProblemRecord;

/// The run's figures, computed from its records alone: a resumed run and an
/// uninterrupted one over the same answers have equal summaries.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// The scores with their intervals and verdicts, written at the
    /// summary's top level.
    #[serde(flatten)]
    pub scores: Scores,
    /// Generated tokens per problem, solve and refactor together.
    pub avg_tokens: f64,
    /// Generated tokens over generation time, all requests together.
    pub avg_tps: Option<f64>,
    /// Time spent on the problems, summed: waits between sessions excluded.
    pub wall_time_s: f64,
    /// How many problems fell short, by class.
    pub failures: BTreeMap<String, usize>,
}

impl Summary {
    /// The summary of `records`; `None` when there are none.
    pub fn of(records: &[ProblemRecord]) -> Option<Summary> {
        let results: Vec<ProblemResult<'_>> = records
            .iter()
            .map(|record| ProblemResult {
                solve: &record.report,
                refactor: record.refactor_report.as_ref(),
            })
            .collect();
        let scores = score(&results)?;
        let total_tokens: u64 = records.iter().map(ProblemRecord::total_tokens).sum();
        let avg_tps = crate::generation_speed(
            records
                .iter()
                .flat_map(|record| std::iter::once(&record.solve).chain(&record.refactor)),
        );
        let mut failures = BTreeMap::new();
        for class in records.iter().filter_map(|r| r.failure_class) {
            *failures.entry(class.name().to_owned()).or_insert(0) += 1;
        }
        Some(Summary {
            scores,
            avg_tokens: total_tokens as f64 / records.len() as f64,
            avg_tps,
            wall_time_s: records.iter().map(|r| r.total_time_s).sum(),
            failures,
        })
    }
}
