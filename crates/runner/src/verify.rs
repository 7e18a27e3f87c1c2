//! Verification on ingest: a results file's saved answers scored again by
//! this scorer, and the file's verdicts, fuel and scores held against what
//! came out. Scoring is deterministic, so a file this scorer's build wrote
//! reproduces bit for bit; a hand-edited score or report never does.
//!
//! What it cannot tell: that the model wrote the saved answers. A file
//! whose answers were swapped for better ones, and rescored, verifies:
//! verification proves the scores follow from the answers, on this scorer.

use std::path::Path;

use serde_json::Value;

use fuelbench_eval::Evaluator;
use fuelbench_problems::Problem;

use crate::{ResultsFile, Suite, reproducibility_changes, subset_sha256};

/// What checking one results file found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Verification {
    /// The verdict.
    pub state: VerificationState,
    /// What was checked, or why the file differs or could not be checked,
    /// a line each.
    pub reasons: Vec<String>,
    /// The answers whose re-scored record differs, as `id #sample`.
    pub problems: Vec<String>,
    /// Answers scored again.
    pub answers: usize,
}

/// Whether a results file reproduces on this scorer.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VerificationState {
    /// Every answer scored again gave the same record, and the summary is
    /// what those records give.
    Verified,
    /// Something the scorer derives is not what it gives now; `problems`
    /// and `reasons` say what.
    Differs,
    /// This scorer cannot check it: another interpreter, fuel limits,
    /// fuelbench or problem set, or a suite it does not have.
    Unverifiable,
    /// Not checked yet: its run is unfinished, or the checker has not come
    /// to it. [`verify`] never says this.
    Pending,
}

impl VerificationState {
    /// Its name, as the API writes it.
    pub fn name(self) -> &'static str {
        match self {
            VerificationState::Verified => "verified",
            VerificationState::Differs => "differs",
            VerificationState::Unverifiable => "unverifiable",
            VerificationState::Pending => "pending",
        }
    }
}

/// The most lines of differences a verification keeps.
const MAX_REASONS: usize = 20;

/// Scores `file`'s saved answers again with `evaluator` on the tests the run
/// drew (its recorded seed) and says whether everything the scorer derives
/// (each record's reports and failure classes, the summary, progress)
/// is what the file holds. `path` names the file in errors.
pub fn verify(
    file: &ResultsFile,
    evaluator: &Evaluator,
    problems: &[Problem],
    suites: &[Suite],
    path: &Path,
) -> Verification {
    let unverifiable = |reasons: Vec<String>| Verification {
        state: VerificationState::Unverifiable,
        reasons,
        problems: Vec::new(),
        answers: 0,
    };
    let evaluator = evaluator.with_seed(file.reproducibility.seed);
    let key = file.config.scorer_key(&evaluator);
    let changes = reproducibility_changes(&file.reproducibility, &key);
    if !changes.is_empty() {
        let mut reasons = vec!["scored by another scorer than this one:".to_owned()];
        reasons.extend(changes);
        return unverifiable(reasons);
    }
    if file.config.suite.is_none() {
        let ours = subset_sha256(problems, &file.config.problems);
        if file.config.problem_set_sha256 != ours {
            return unverifiable(vec![format!(
                "scored on other problems (sha256 {}); this scorer's of the same ids is {ours}",
                file.config.problem_set_sha256
            )]);
        }
    }
    let mut rescored = file.clone();
    if let Err(error) = crate::rescore(&mut rescored, &evaluator, problems, suites, path) {
        return unverifiable(vec![fuelbench_stdx::error_chain(&error)]);
    }

    let mut differing = Vec::new();
    let mut reasons = Vec::new();
    for (saved, now) in file.problems.iter().zip(&rescored.problems) {
        let lines = value_changes(&json(saved), &json(now), "");
        if !lines.is_empty() {
            let answer = format!("{} #{}", saved.id, saved.sample + 1);
            reasons.extend(lines.into_iter().map(|line| format!("{answer}: {line}")));
            differing.push(answer);
        }
    }
    for (what, saved, now) in [
        ("summary", json(&file.summary), json(&rescored.summary)),
        ("progress", json(&file.progress), json(&rescored.progress)),
        ("complete", json(&file.complete), json(&rescored.complete)),
    ] {
        reasons.extend(value_changes(&saved, &now, what));
    }
    let answers = file.problems.len();
    if reasons.is_empty() {
        return Verification {
            state: VerificationState::Verified,
            reasons: vec![format!(
                "{answers} answers scored again: the same verdicts, fuel and scores on fuelbench \
                 {}, python.wasm {}",
                key.fuelbench_version,
                short(&key.python_wasm_sha256)
            )],
            problems: Vec::new(),
            answers,
        };
    }
    if reasons.len() > MAX_REASONS {
        let more = reasons.len() - MAX_REASONS;
        reasons.truncate(MAX_REASONS);
        reasons.push(format!("and {more} more"));
    }
    Verification {
        state: VerificationState::Differs,
        reasons,
        problems: differing,
        answers,
    }
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("results serialise")
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Each leaf where `saved` and `now` differ: `path: was X, now Y`.
pub(crate) fn value_changes(saved: &Value, now: &Value, prefix: &str) -> Vec<String> {
    let at = |key: &dyn std::fmt::Display| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match (saved, now) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|key| {
                    value_changes(
                        a.get(key).unwrap_or(&Value::Null),
                        b.get(key).unwrap_or(&Value::Null),
                        &at(key),
                    )
                })
                .collect()
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .flat_map(|(index, (a, b))| value_changes(a, b, &at(&index)))
            .collect(),
        (a, b) if a == b => Vec::new(),
        (a, b) => vec![format!(
            "{prefix}: was {}, now {}",
            fuelbench_llm::clip(&a.to_string(), 80),
            fuelbench_llm::clip(&b.to_string(), 80)
        )],
    }
}
