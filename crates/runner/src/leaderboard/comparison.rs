//! The delta table between two runs, B measured against A, and whether the
//! difference in what they pass is more than the model's noise.

use std::collections::BTreeMap;

use fuelbench_eval::stats;

use crate::{ProblemRecord, ResultsFile, Summary};

/// The seed of the sign-flip test's random flips: fixed, so that the same
/// two files always give the same p-value.
const FLIP_SEED: u64 = 0xc0_3a5e;

/// The significance level every comparison is judged at.
pub const ALPHA: f64 = 0.05;

/// The delta table between two runs: B measured against A.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    /// Run A, the baseline: its model and variant, e.g.
    /// `qwen3 think-off__grammar-none`.
    pub a: String,
    /// Run B, measured against A: its model and variant.
    pub b: String,
    /// Change in generated tokens per problem from A to B, in percent; `None`
    /// when either has no summary or A's is 0.
    pub token_delta_pct: Option<f64>,
    /// Change in wall time from A to B, in percent; `None` when either has no
    /// summary or A's is 0.
    pub wall_delta_pct: Option<f64>,
    /// Change in generation speed from A to B, in percent; `None` when either
    /// lacks a speed or A's is 0.
    pub tps_delta_pct: Option<f64>,
    /// B's pass@1 less A's; a run without a summary counts as 0.
    pub pass_at_1_delta: f64,
    /// B's overall score less A's; a run without a summary counts as 0.
    pub score_delta: f64,
    /// Problems whose outcome differs: passed, failure class, refactor.
    pub problems: Vec<ProblemDelta>,
    /// Pass and fail agreement over the problems both ran.
    pub agreement: Agreement,
    /// Fuel of B over A, only on problems both pass: a cheaper answer to a
    /// problem one side fails says nothing.
    pub fuel: Vec<FuelRatio>,
    /// The geometric mean of the `fuel` ratios; `None` when no problem
    /// passes in both.
    pub fuel_ratio_geomean: Option<f64>,
    /// Whether B's pass rate differs from A's by more than chance, on the
    /// problems both attempted.
    pub test: PairedTest,
}

/// A paired test of pass rates over the problems both runs attempted.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct PairedTest {
    /// `mcnemar_exact` when both runs have one sample of each problem,
    /// `sign_flip` (a paired permutation test on per-problem pass rates)
    /// when either has more.
    pub method: String,
    /// Problems both runs attempted.
    pub problems: usize,
    /// B's mean pass rate less A's, over those problems.
    pub difference: f64,
    /// The two-sided p-value.
    pub p_value: f64,
    /// Whether `p_value` is below [`ALPHA`].
    pub significant: bool,
    /// The verdict as a sentence.
    pub sentence: String,
}

/// The 2×2 of pass and fail over the problems both runs have a record of.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub struct Agreement {
    /// Problems both runs pass.
    pub both_pass: usize,
    /// Problems A passes and B fails.
    pub only_a_passes: usize,
    /// Problems B passes and A fails.
    pub only_b_passes: usize,
    /// Problems both runs fail.
    pub both_fail: usize,
    /// Problems only one of the runs reached.
    pub unpaired: usize,
}

/// One problem both runs pass: what its solutions cost.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct FuelRatio {
    /// The problem's id.
    pub id: String,
    /// Fuel of the test cases, A and B.
    pub tests_a: u64,
    /// Fuel of B's test cases.
    pub tests_b: u64,
    /// `tests_b / tests_a`.
    pub tests_ratio: Option<f64>,
    /// The largest complexity size both measured, and its call's fuel.
    pub largest_n: Option<u64>,
    /// Fuel of A's call at `largest_n`.
    pub largest_n_a: Option<f64>,
    /// Fuel of B's call at `largest_n`.
    pub largest_n_b: Option<f64>,
    /// `largest_n_b / largest_n_a`: the figure that says which scales better.
    pub largest_n_ratio: Option<f64>,
}

/// One problem whose outcome differs between the runs, as each saw it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ProblemDelta {
    /// The problem's id.
    pub id: String,
    /// How run A did; `None` when A has no record of the problem.
    pub a: Option<Side>,
    /// How run B did; `None` when B has no record of the problem.
    pub b: Option<Side>,
}

/// How one run did on one problem, by its first sample.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Side {
    /// The solution passed every test.
    pub passed: bool,
    /// Why it fell short: a request failure or the verdict's class; `None` when
    /// it passed.
    pub failure_class: Option<crate::ProblemFailure>,
    /// Both the solution and its refactor pass; `None` without a refactor.
    pub refactor_stable: Option<bool>,
    /// Tokens generated for the solve and the refactor together.
    pub tokens: u64,
    /// Seconds for the whole problem: both requests and their scoring.
    pub time_s: f64,
}

/// Why `a` and `b` cannot be compared at all: they answer different suites
/// (our problems, HumanEval), so not one task is common to both.
pub fn suites_differ(a: &ResultsFile, b: &ResultsFile) -> Option<String> {
    let (sa, sb) = (a.config.suite_name(), b.config.suite_name());
    (sa != sb)
        .then(|| format!("A answers {sa} and B answers {sb}: compare two runs of the same suite"))
}

/// The delta table between `a` and `b`, B measured against A, with the paired
/// test of their pass rates.
pub fn compare(a: &ResultsFile, b: &ResultsFile) -> Comparison {
    let label = |file: &ResultsFile| format!("{} {}", file.config.model, file.config.variant());
    let pct = |from: f64, to: f64| (from != 0.0).then(|| (to - from) / from * 100.0);
    let summary = |file: &ResultsFile| file.summary.clone();
    let (sa, sb) = (summary(a), summary(b));
    let get = |s: &Option<Summary>, f: fn(&Summary) -> Option<f64>| s.as_ref().and_then(f);
    let side = |file: &ResultsFile, id: &str| {
        first_samples(file).find(|r| r.id == id).map(|record| Side {
            passed: record.passed(),
            failure_class: record.failure_class,
            refactor_stable: record.report.refactor.as_ref().map(|r| r.stable),
            tokens: record.total_tokens(),
            time_s: record.total_time_s,
        })
    };
    let mut ids: Vec<&String> = a.config.problems.iter().chain(&b.config.problems).collect();
    ids.dedup();
    let mut seen = std::collections::HashSet::new();
    let problems = ids
        .into_iter()
        .filter(|id| seen.insert(id.as_str()))
        .filter_map(|id| {
            let (left, right) = (side(a, id), side(b, id));
            let same = match (&left, &right) {
                (Some(l), Some(r)) => {
                    l.passed == r.passed
                        && l.failure_class == r.failure_class
                        && l.refactor_stable == r.refactor_stable
                }
                (None, None) => true,
                _ => false,
            };
            (!same).then(|| ProblemDelta {
                id: id.clone(),
                a: left,
                b: right,
            })
        })
        .collect();
    let (agreement, fuel) = agreement_and_fuel(a, b);
    let ratios: Vec<f64> = fuel
        .iter()
        .filter_map(|f| f.largest_n_ratio.or(f.tests_ratio))
        .filter(|r| *r > 0.0 && r.is_finite())
        .collect();
    let fuel_ratio_geomean = (!ratios.is_empty())
        .then(|| (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp());
    let delta = |f: fn(&Summary) -> Option<f64>| match (get(&sa, f), get(&sb, f)) {
        (Some(x), Some(y)) => pct(x, y),
        _ => None,
    };
    Comparison {
        a: label(a),
        b: label(b),
        token_delta_pct: delta(|s| Some(s.avg_tokens)),
        wall_delta_pct: delta(|s| Some(s.wall_time_s)),
        tps_delta_pct: delta(|s| s.avg_tps),
        pass_at_1_delta: get(&sb, |s| Some(s.scores.pass_at_1)).unwrap_or(0.0)
            - get(&sa, |s| Some(s.scores.pass_at_1)).unwrap_or(0.0),
        score_delta: get(&sb, |s| Some(s.scores.overall_score)).unwrap_or(0.0)
            - get(&sa, |s| Some(s.scores.overall_score)).unwrap_or(0.0),
        problems,
        agreement,
        fuel,
        fuel_ratio_geomean,
        test: paired_test(a, b),
    }
}

/// Each problem's first sample: the outcome tables and fuel ratios compare
/// one answer with one answer.
fn first_samples(file: &ResultsFile) -> impl Iterator<Item = &ProblemRecord> {
    file.problems.iter().filter(|record| record.sample == 0)
}

/// Each problem's samples' pass rate, and how many samples it has.
fn pass_rates(file: &ResultsFile) -> BTreeMap<&str, (f64, usize)> {
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for record in &file.problems {
        let entry = counts.entry(record.id.as_str()).or_default();
        entry.0 += usize::from(record.passed());
        entry.1 += 1;
    }
    counts
        .into_iter()
        .map(|(id, (passed, n))| (id, (passed as f64 / n as f64, n)))
        .collect()
}

/// McNemar's exact test on one sample each, else a sign-flip test on the
/// per-problem differences of pass rates; and what it means, in a sentence.
fn paired_test(a: &ResultsFile, b: &ResultsFile) -> PairedTest {
    let (rates_a, rates_b) = (pass_rates(a), pass_rates(b));
    let paired: Vec<((f64, usize), (f64, usize))> = rates_a
        .iter()
        .filter_map(|(id, left)| Some((*left, *rates_b.get(id)?)))
        .collect();
    let problems = paired.len();
    let single = paired.iter().all(|((_, na), (_, nb))| *na == 1 && *nb == 1);
    let differences: Vec<f64> = paired.iter().map(|((ra, _), (rb, _))| rb - ra).collect();
    let difference = if problems == 0 {
        0.0
    } else {
        differences.iter().sum::<f64>() / problems as f64
    };
    let (method, p_value) = if single {
        let only_a = differences.iter().filter(|d| **d < 0.0).count();
        let only_b = differences.iter().filter(|d| **d > 0.0).count();
        ("mcnemar_exact", stats::mcnemar(only_a, only_b))
    } else {
        ("sign_flip", stats::sign_flip(&differences, FLIP_SEED))
    };
    let significant = problems > 0 && p_value < ALPHA;
    PairedTest {
        method: method.into(),
        problems,
        difference,
        p_value,
        significant,
        sentence: sentence(single, problems, difference, p_value, significant),
    }
}

fn sentence(single: bool, problems: usize, difference: f64, p: f64, significant: bool) -> String {
    if problems == 0 {
        return "the runs share no problem, so nothing can be said of which passes more".into();
    }
    let what = if single {
        let count = (difference * problems as f64).round() as i64;
        match count {
            0 => format!("A and B pass as many of the {problems} problems both ran"),
            n if n > 0 => format!("B passes {n} more of the {problems} problems both ran"),
            n => format!("A passes {} more of the {problems} problems both ran", -n),
        }
    } else if difference == 0.0 {
        format!("A and B have the same mean pass rate on the {problems} problems both ran")
    } else {
        let (who, by) = if difference > 0.0 {
            ("B", difference)
        } else {
            ("A", -difference)
        };
        format!("{who}'s mean pass rate is {by:.2} higher on the {problems} problems both ran")
    };
    let level = (ALPHA * 100.0).round();
    let p = if p < 0.001 {
        "p < 0.001".to_owned()
    } else {
        format!("p = {p:.3}")
    };
    if significant {
        format!("{what}; that difference is significant at {level}% ({p})")
    } else if single {
        format!(
            "{what}; that difference is not significant at {level}% ({p}); run with \
             --samples 5 or more problems to decide"
        )
    } else {
        format!(
            "{what}; that difference is not significant at {level}% ({p}); more samples \
             or more problems would decide"
        )
    }
}

fn agreement_and_fuel(a: &ResultsFile, b: &ResultsFile) -> (Agreement, Vec<FuelRatio>) {
    let mut agreement = Agreement::default();
    let mut fuel = Vec::new();
    let ratio = |x: f64, y: f64| (x > 0.0).then(|| y / x);
    for left in first_samples(a) {
        let Some(right) = first_samples(b).find(|r| r.id == left.id) else {
            agreement.unpaired += 1;
            continue;
        };
        match (left.passed(), right.passed()) {
            (true, true) => agreement.both_pass += 1,
            (true, false) => agreement.only_a_passes += 1,
            (false, true) => agreement.only_b_passes += 1,
            (false, false) => agreement.both_fail += 1,
        }
        if !(left.passed() && right.passed()) {
            continue;
        }
        let samples = |record: &crate::ProblemRecord| {
            record
                .report
                .complexity
                .as_ref()
                .map(|c| c.samples.clone())
                .unwrap_or_default()
        };
        let (samples_a, samples_b) = (samples(left), samples(right));
        let largest = samples_a
            .iter()
            .rev()
            .find_map(|sa| Some((sa, samples_b.iter().find(|sb| sb.n == sa.n)?)));
        let (tests_a, tests_b) = (left.report.fuel_used, right.report.fuel_used);
        fuel.push(FuelRatio {
            id: left.id.clone(),
            tests_a,
            tests_b,
            tests_ratio: ratio(tests_a as f64, tests_b as f64),
            largest_n: largest.map(|(sa, _)| sa.n),
            largest_n_a: largest.map(|(sa, _)| sa.cost),
            largest_n_b: largest.map(|(_, sb)| sb.cost),
            largest_n_ratio: largest.and_then(|(sa, sb)| ratio(sa.cost, sb.cost)),
        });
    }
    agreement.unpaired += first_samples(b)
        .filter(|r| !first_samples(a).any(|l| l.id == r.id))
        .count();
    (agreement, fuel)
}

/// How many samples, or problems, would tell this run's model apart from
/// one whose pass@1 differs by `delta`, at 5% and 80% power.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SamplePlan {
    /// The difference in pass@1 to detect.
    pub delta: f64,
    /// Problems in the run.
    pub problems: usize,
    /// The fewest samples any problem has.
    pub samples: usize,
    /// The run's mean pass rate.
    pub pass_rate: f64,
    /// Samples per problem for a paired comparison on these problems;
    /// `None` when no problem's pass rate is between 0 and 1 (one sample
    /// each says nothing of the model's noise on a problem).
    pub samples_needed: Option<usize>,
    /// Problems, one sample each, for an unpaired comparison near this
    /// pass rate; `None` at a pass rate of 0 or 1.
    pub problems_needed: Option<usize>,
    /// What to do, as a sentence.
    pub sentence: String,
}

/// The sample plan for `file`'s per-problem pass rates ([`stats::samples_needed`],
/// [`stats::problems_needed`]).
pub fn plan_samples(file: &ResultsFile, delta: f64) -> SamplePlan {
    let rates = pass_rates(file);
    let values: Vec<f64> = rates.values().map(|(rate, _)| *rate).collect();
    let samples = rates.values().map(|(_, n)| *n).min().unwrap_or(0);
    let pass_rate = if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    };
    let samples_needed = stats::samples_needed(&values, delta);
    let problems_needed = stats::problems_needed(pass_rate, delta);
    let by_problems = problems_needed.map_or(String::new(), |m| {
        format!("; with one sample each, about {m} problems would")
    });
    let sentence = match samples_needed {
        Some(n) if n > crate::MAX_SAMPLES as usize => format!(
            "Telling this model from one {delta:.2} better or worse on these {} problems would \
             take {n} samples of each, past the {} a run may ask: more problems are needed{by_problems}",
            values.len(),
            crate::MAX_SAMPLES
        ),
        Some(n) => format!(
            "To tell this model from one {delta:.2} better or worse on these {} problems, run \
             {n} samples of each (--samples {n}){by_problems}",
            values.len()
        ),
        None if samples <= 1 => format!(
            "One sample of each problem shows no problem's noise: run with --samples 3 or more \
             to plan from it{by_problems}"
        ),
        None => format!(
            "Every problem passed always or never over {samples} samples: no noise to plan \
             against{by_problems}"
        ),
    };
    // A sign-flip test over m problems can reach no p below 2 / 2^m.
    let sentence = if values.len() <= 5 {
        format!(
            "{sentence}. With {} problems no paired test can reach 5% (its least p is {:.3}), \
             whatever the samples",
            values.len(),
            2.0 / f64::from(1u32 << values.len())
        )
    } else {
        sentence
    };
    SamplePlan {
        delta,
        problems: values.len(),
        samples,
        pass_rate,
        samples_needed,
        problems_needed,
        sentence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentence_says_how_many_more_and_whether_it_counts() {
        assert_eq!(
            sentence(true, 15, 3.0 / 15.0, 0.25, false),
            "B passes 3 more of the 15 problems both ran; that difference is not significant at \
             5% (p = 0.250); run with --samples 5 or more problems to decide"
        );
        assert_eq!(
            sentence(true, 15, -9.0 / 15.0, 0.0039, true),
            "A passes 9 more of the 15 problems both ran; that difference is significant at 5% \
             (p = 0.004)"
        );
        assert!(sentence(false, 15, 0.2, 0.01, true).starts_with("B's mean pass rate is 0.20"));
        assert!(sentence(true, 0, 0.0, 1.0, false).contains("share no problem"));
    }
}
