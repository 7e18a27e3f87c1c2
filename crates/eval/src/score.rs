//! From per-problem reports to the four metrics, the overall score and the
//! GO / NO-GO verdicts.
//!
//! Per problem: pass@1 is 1 when every small and edge case passed; complexity
//! is 1 when the fitted class is the expected one or cheaper (0 when the tests
//! failed and it was not measured); numerical is the fraction of numerical
//! cases within tolerance (0 when the tests failed; absent for problems that
//! have none); refactor is 1 when both the original and the refactored code
//! pass (absent when no refactor was asked for). Each metric is the mean over
//! the problems it applies to, and overall is their weighted sum. When a
//! metric applies to no problem at all (a run with `--skip-refactor`), its
//! weight is shared out over the others, and [`Scores::weights`] says so.

use crate::Report;

/// Weights of pass@1, complexity, numerical and refactor in the overall score.
pub const WEIGHTS: Weights = Weights {
    pass_at_1: 0.45,
    complexity: 0.20,
    numerical: 0.15,
    refactor: 0.20,
};

/// A metric is GO at or above its threshold.
pub const THRESHOLDS: Thresholds = Thresholds {
    pass_at_1: 0.80,
    complexity: 0.70,
    numerical: 0.67,
    refactor: 0.70,
    overall: 0.75,
};

#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Weights {
    pub pass_at_1: f64,
    pub complexity: f64,
    pub numerical: f64,
    pub refactor: f64,
}

#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Thresholds {
    pub pass_at_1: f64,
    pub complexity: f64,
    pub numerical: f64,
    pub refactor: f64,
    pub overall: f64,
}

/// One problem's results: the solve, and the refactor when one was asked for.
#[derive(Debug, Clone, Copy)]
pub struct ProblemResult<'a> {
    pub solve: &'a Report,
    pub refactor: Option<&'a Report>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Go,
    NoGo,
}

impl Verdict {
    fn of(value: f64, threshold: f64) -> Verdict {
        if value >= threshold {
            Verdict::Go
        } else {
            Verdict::NoGo
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Scores {
    pub problems: usize,
    pub pass_at_1: f64,
    pub complexity_match_rate: f64,
    /// `None` when no problem has numerical cases.
    pub numerical_stability: Option<f64>,
    /// `None` when no refactor was run.
    pub refactor_stability: Option<f64>,
    pub overall_score: f64,
    /// The weights actually applied, after sharing out absent metrics.
    pub weights: Weights,
    pub verdicts: Verdicts,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Verdicts {
    pub pass_at_1: Verdict,
    pub complexity: Verdict,
    pub numerical: Option<Verdict>,
    pub refactor: Option<Verdict>,
    pub overall: Verdict,
}

/// True when a refactor kept the code correct: both versions pass.
pub fn refactor_stable(original: &Report, refactored: &Report) -> bool {
    original.passed && refactored.passed
}

/// Scores a set of problems; `None` for an empty set.
pub fn score(results: &[ProblemResult<'_>]) -> Option<Scores> {
    if results.is_empty() {
        return None;
    }
    let indicator = |yes: bool| if yes { 1.0 } else { 0.0 };
    let pass_at_1 = mean(results.iter().map(|result| indicator(result.solve.passed)))?;
    let complexity = mean(results.iter().map(|result| {
        indicator(
            result
                .solve
                .complexity
                .as_ref()
                .is_some_and(|complexity| complexity.matched),
        )
    }))?;
    let numerical = mean(
        results
            .iter()
            .filter(|result| applies_numerical(result.solve))
            .map(|result| match &result.solve.numerical {
                Some(numerical) if numerical.total > 0 => {
                    numerical.passed as f64 / numerical.total as f64
                }
                _ => 0.0,
            }),
    );
    let refactor = mean(results.iter().filter_map(|result| {
        result
            .refactor
            .map(|refactored| indicator(refactor_stable(result.solve, refactored)))
    }));

    let present = WEIGHTS.pass_at_1
        + WEIGHTS.complexity
        + numerical.map_or(0.0, |_| WEIGHTS.numerical)
        + refactor.map_or(0.0, |_| WEIGHTS.refactor);
    let weights = Weights {
        pass_at_1: WEIGHTS.pass_at_1 / present,
        complexity: WEIGHTS.complexity / present,
        numerical: numerical.map_or(0.0, |_| WEIGHTS.numerical / present),
        refactor: refactor.map_or(0.0, |_| WEIGHTS.refactor / present),
    };
    let overall_score = weights.pass_at_1 * pass_at_1
        + weights.complexity * complexity
        + weights.numerical * numerical.unwrap_or(0.0)
        + weights.refactor * refactor.unwrap_or(0.0);

    Some(Scores {
        problems: results.len(),
        pass_at_1,
        complexity_match_rate: complexity,
        numerical_stability: numerical,
        refactor_stability: refactor,
        overall_score,
        weights,
        verdicts: Verdicts {
            pass_at_1: Verdict::of(pass_at_1, THRESHOLDS.pass_at_1),
            complexity: Verdict::of(complexity, THRESHOLDS.complexity),
            numerical: numerical.map(|value| Verdict::of(value, THRESHOLDS.numerical)),
            refactor: refactor.map(|value| Verdict::of(value, THRESHOLDS.refactor)),
            overall: Verdict::of(overall_score, THRESHOLDS.overall),
        },
    })
}

/// A problem counts for the numerical metric when it has numerical cases,
/// measured (tests passed) or not (tests failed, which scores 0).
fn applies_numerical(report: &Report) -> bool {
    report.numerical_cases > 0
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), value| {
        (sum + value, count + 1)
    });
    (count > 0).then(|| sum / count as f64)
}

#[cfg(test)]
mod tests;
