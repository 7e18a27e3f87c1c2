//! From per-problem reports to the four metrics, the overall score and the
//! GO / NO-GO verdicts.
//!
//! Per problem: pass@1 is 1 when every small and edge case passed; complexity
//! is 1 when the fitted class is the expected one or cheaper (0 when the tests
//! failed and it was not measured; absent for a public suite's task, which
//! has no complexity target); numerical is the fraction of numerical
//! cases within tolerance (0 when the tests failed; absent for problems that
//! have none); refactor is 1 when both the original and the refactored code
//! pass (absent when no refactor was asked for). Each metric is the mean over
//! the problems it applies to, and overall is their weighted sum. When a
//! metric applies to no problem at all (a run with `--skip-refactor`), its
//! weight is shared out over the others, and [`Scores::weights`] says so.
//!
//! A problem answered more than once (samples) counts once: its value for
//! each metric is the mean over its samples, so pass@1 is the mean pass
//! rate, and pass@k is the unbiased estimator over each problem's samples.
//! Every score carries a 95% interval ([`crate::stats`]), and a verdict is
//! GO only when the whole interval clears its threshold.

use std::collections::HashMap;

use crate::Report;
use crate::stats::{self, Interval};

/// The bootstrap's seed: fixed, so that the same results always give the
/// same intervals.
const BOOTSTRAP_SEED: u64 = 0x5eed_f0e1;

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

/// How much each metric counts in the overall score; they sum to 1.
#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Weights {
    /// Of pass@1.
    pub pass_at_1: f64,
    /// Of the complexity match rate.
    pub complexity: f64,
    /// Of numerical stability.
    pub numerical: f64,
    /// Of refactor stability.
    pub refactor: f64,
}

/// The least score of each metric, and of overall, that is GO.
#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Thresholds {
    /// Of pass@1.
    pub pass_at_1: f64,
    /// Of the complexity match rate.
    pub complexity: f64,
    /// Of numerical stability.
    pub numerical: f64,
    /// Of refactor stability.
    pub refactor: f64,
    /// Of the overall score.
    pub overall: f64,
}

/// One answer's results: the solve, and the refactor when one was asked
/// for. Answers to the same problem (by [`Report::problem`]) are its samples.
#[derive(Debug, Clone, Copy)]
pub struct ProblemResult<'a> {
    /// The answer's report.
    pub solve: &'a Report,
    /// The report of its refactor, when one was asked for.
    pub refactor: Option<&'a Report>,
}

/// Whether a score clears its threshold across its whole interval.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The interval's lower end is at or above the threshold.
    Go,
    /// The interval's upper end is below the threshold.
    NoGo,
    /// The threshold lies inside the interval: more samples or problems
    /// would decide.
    Undecided,
}

impl Verdict {
    /// The verdict on `value` with its `interval` against `threshold`;
    /// without an interval, on the value alone.
    pub fn of(value: f64, interval: Option<&Interval>, threshold: f64) -> Verdict {
        let (low, high) = interval.map_or((value, value), |i| (i.low, i.high));
        if low >= threshold {
            Verdict::Go
        } else if high < threshold {
            Verdict::NoGo
        } else {
            Verdict::Undecided
        }
    }

    /// As it is shown: `GO`, `NO-GO` or `undecided`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Go => "GO",
            Verdict::NoGo => "NO-GO",
            Verdict::Undecided => "undecided",
        }
    }
}

/// A set of answers' scores, each with its interval and verdict.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Scores {
    /// How many problems were answered.
    pub problems: usize,
    /// The fewest answers any problem has: 1 for a run without samples.
    #[serde(default = "one")]
    pub samples: usize,
    /// The mean pass rate over problems.
    pub pass_at_1: f64,
    /// The mean complexity match over problems; `None` when no problem has
    /// a complexity target (a public suite's tasks).
    pub complexity_match_rate: Option<f64>,
    /// `None` when no problem has numerical cases.
    pub numerical_stability: Option<f64>,
    /// `None` when no refactor was run.
    pub refactor_stability: Option<f64>,
    /// The weighted sum of the metrics.
    pub overall_score: f64,
    /// The weights actually applied, after sharing out absent metrics.
    pub weights: Weights,
    /// 95% intervals; absent from results files written before they were.
    #[serde(default)]
    pub intervals: Option<Intervals>,
    /// pass@k for each k up to [`Scores::samples`] (k = 1 is pass@1).
    #[serde(default)]
    pub pass_at_k: Vec<PassAtK>,
    /// Each metric's verdict against [`THRESHOLDS`] across its interval.
    pub verdicts: Verdicts,
}

fn one() -> usize {
    1
}

/// pass@k for one k.
#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct PassAtK {
    /// How many answers may be tried.
    pub k: usize,
    /// The unbiased estimate, averaged over problems.
    pub value: f64,
}

/// A 95% interval on each score.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Intervals {
    /// On pass@1.
    pub pass_at_1: Interval,
    /// On the complexity match rate, where it applies.
    pub complexity: Option<Interval>,
    /// On numerical stability, where it applies.
    pub numerical: Option<Interval>,
    /// On refactor stability, where it applies.
    pub refactor: Option<Interval>,
    /// On the overall score.
    pub overall: Interval,
}

/// Each metric's verdict; `None` where the metric does not apply.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Verdicts {
    /// Of pass@1.
    pub pass_at_1: Verdict,
    /// Of the complexity match rate.
    pub complexity: Option<Verdict>,
    /// Of numerical stability.
    pub numerical: Option<Verdict>,
    /// Of refactor stability.
    pub refactor: Option<Verdict>,
    /// Of the overall score.
    pub overall: Verdict,
}

/// True when a refactor kept the code correct: both versions pass.
pub fn refactor_stable(original: &Report, refactored: &Report) -> bool {
    original.passed && refactored.passed
}

/// One answer's value for each metric.
#[derive(Debug, Clone, Copy)]
struct Values {
    pass: f64,
    complexity: Option<f64>,
    numerical: Option<f64>,
    refactor: Option<f64>,
}

impl Values {
    fn of(result: &ProblemResult<'_>) -> Values {
        let indicator = |yes: bool| if yes { 1.0 } else { 0.0 };
        let solve = result.solve;
        Values {
            pass: indicator(solve.passed),
            complexity: applies_complexity(solve)
                .then(|| indicator(solve.complexity.as_ref().is_some_and(|c| c.matched))),
            numerical: applies_numerical(solve).then(|| match &solve.numerical {
                Some(numerical) if numerical.total > 0 => {
                    numerical.passed as f64 / numerical.total as f64
                }
                _ => 0.0,
            }),
            refactor: result
                .refactor
                .map(|refactored| indicator(refactor_stable(solve, refactored))),
        }
    }
}

/// A metric over problems: each problem's mean over its samples where the
/// metric applies, then the mean over the problems where it applies to any.
fn metric(problems: &[Vec<Values>], value: impl Fn(&Values) -> Option<f64>) -> Option<f64> {
    mean(
        problems
            .iter()
            .filter_map(|samples| mean(samples.iter().filter_map(&value))),
    )
}

/// The four metrics and overall of `problems` under `weights`.
fn overall(problems: &[Vec<Values>], weights: &Weights) -> Option<f64> {
    let pass = metric(problems, |v| Some(v.pass))?;
    let complexity = metric(problems, |v| v.complexity);
    let numerical = metric(problems, |v| v.numerical);
    let refactor = metric(problems, |v| v.refactor);
    // A resample that lost every problem a weighted metric applies to has no
    // overall under these weights.
    if (weights.complexity > 0.0 && complexity.is_none())
        || (weights.numerical > 0.0 && numerical.is_none())
        || (weights.refactor > 0.0 && refactor.is_none())
    {
        return None;
    }
    Some(
        weights.pass_at_1 * pass
            + weights.complexity * complexity.unwrap_or(0.0)
            + weights.numerical * numerical.unwrap_or(0.0)
            + weights.refactor * refactor.unwrap_or(0.0),
    )
}

/// The interval of a metric: Wilson's when every problem's value is 0 or 1
/// from a single sample, else the nested bootstrap.
fn interval(problems: &[Vec<Values>], value: impl Fn(&Values) -> Option<f64>) -> Option<Interval> {
    let values: Vec<Vec<f64>> = problems
        .iter()
        .map(|samples| samples.iter().filter_map(&value).collect::<Vec<f64>>())
        .filter(|values| !values.is_empty())
        .collect();
    if values.is_empty() {
        return None;
    }
    let proportion = values
        .iter()
        .all(|values| values.len() == 1 && (values[0] == 0.0 || values[0] == 1.0));
    if proportion {
        let successes = values.iter().filter(|values| values[0] == 1.0).count();
        return stats::wilson(successes, values.len());
    }
    let statistic = |groups: &[Vec<f64>]| {
        mean(
            groups
                .iter()
                .filter_map(|samples| mean(samples.iter().copied())),
        )
    };
    let bootstrapped = stats::bootstrap(&values, statistic, BOOTSTRAP_SEED)?;
    at_least_wilsons(bootstrapped, statistic(&values)?, values.len())
}

/// The bootstrap's interval, widened to hold Wilson's over the problems
/// (each problem one trial whose value is its mean): a percentile bootstrap
/// over 15 problems runs narrow near 0 and 1, and without this a model that
/// fails one problem's samples could show a tighter interval, and a better
/// verdict, than one that passes every sample. Wilson's is conservative for
/// any values in [0, 1], whose variance is at most `p (1 - p)`.
fn at_least_wilsons(interval: Interval, value: f64, problems: usize) -> Option<Interval> {
    let wilson = stats::wilson_mean(value.clamp(0.0, 1.0), problems)?;
    if wilson.low >= interval.low && wilson.high <= interval.high {
        return Some(interval);
    }
    Some(Interval {
        low: interval.low.min(wilson.low),
        high: interval.high.max(wilson.high),
        method: interval.method,
    })
}

/// Scores a set of answers; `None` for an empty set.
pub fn score(results: &[ProblemResult<'_>]) -> Option<Scores> {
    if results.is_empty() {
        return None;
    }
    // Samples grouped by problem, problems in the order first answered.
    let mut order: HashMap<&str, usize> = HashMap::new();
    let mut problems: Vec<Vec<Values>> = Vec::new();
    for result in results {
        let next = problems.len();
        let index = *order.entry(result.solve.problem.as_str()).or_insert(next);
        if index == next {
            problems.push(Vec::new());
        }
        problems[index].push(Values::of(result));
    }
    let pass_at_1 = metric(&problems, |v| Some(v.pass))?;
    let complexity = metric(&problems, |v| v.complexity);
    let numerical = metric(&problems, |v| v.numerical);
    let refactor = metric(&problems, |v| v.refactor);

    let present = WEIGHTS.pass_at_1
        + complexity.map_or(0.0, |_| WEIGHTS.complexity)
        + numerical.map_or(0.0, |_| WEIGHTS.numerical)
        + refactor.map_or(0.0, |_| WEIGHTS.refactor);
    let weights = Weights {
        pass_at_1: WEIGHTS.pass_at_1 / present,
        complexity: complexity.map_or(0.0, |_| WEIGHTS.complexity / present),
        numerical: numerical.map_or(0.0, |_| WEIGHTS.numerical / present),
        refactor: refactor.map_or(0.0, |_| WEIGHTS.refactor / present),
    };
    let overall_score = overall(&problems, &weights)?;

    let intervals = Intervals {
        pass_at_1: interval(&problems, |v| Some(v.pass))?,
        complexity: interval(&problems, |v| v.complexity),
        numerical: interval(&problems, |v| v.numerical),
        refactor: interval(&problems, |v| v.refactor),
        overall: at_least_wilsons(
            stats::bootstrap(
                &problems,
                |groups| overall(groups, &weights),
                BOOTSTRAP_SEED,
            )?,
            overall_score,
            problems.len(),
        )?,
    };
    let samples = problems.iter().map(Vec::len).min().unwrap_or(1);
    let pass_at_k = (1..=samples)
        .map(|k| PassAtK {
            k,
            value: mean(problems.iter().map(|samples| {
                let passed = samples.iter().filter(|v| v.pass == 1.0).count();
                stats::pass_at_k(samples.len(), passed, k)
            }))
            .unwrap_or(0.0),
        })
        .collect();
    let verdicts = Verdicts {
        pass_at_1: Verdict::of(pass_at_1, Some(&intervals.pass_at_1), THRESHOLDS.pass_at_1),
        complexity: complexity
            .map(|value| Verdict::of(value, intervals.complexity.as_ref(), THRESHOLDS.complexity)),
        numerical: numerical
            .map(|value| Verdict::of(value, intervals.numerical.as_ref(), THRESHOLDS.numerical)),
        refactor: refactor
            .map(|value| Verdict::of(value, intervals.refactor.as_ref(), THRESHOLDS.refactor)),
        overall: Verdict::of(overall_score, Some(&intervals.overall), THRESHOLDS.overall),
    };
    Some(Scores {
        problems: problems.len(),
        samples,
        pass_at_1,
        complexity_match_rate: complexity,
        numerical_stability: numerical,
        refactor_stability: refactor,
        overall_score,
        weights,
        intervals: Some(intervals),
        pass_at_k,
        verdicts,
    })
}

/// A problem counts for the complexity metric unless it is a public
/// suite's task, which has no complexity target.
fn applies_complexity(report: &Report) -> bool {
    report.reproducibility.suite.is_none()
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
