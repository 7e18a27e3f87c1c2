//! The delta table between two runs, B measured against A.

use crate::{ResultsFile, Summary};

/// The delta table between two runs: B measured against A.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub token_delta_pct: Option<f64>,
    pub wall_delta_pct: Option<f64>,
    pub tps_delta_pct: Option<f64>,
    pub pass_at_1_delta: f64,
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
    pub both_pass: usize,
    pub only_a_passes: usize,
    pub only_b_passes: usize,
    pub both_fail: usize,
    /// Problems only one of the runs reached.
    pub unpaired: usize,
}

/// One problem both runs pass: what its solutions cost.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct FuelRatio {
    pub id: String,
    /// Fuel of the test cases, A and B.
    pub tests_a: u64,
    pub tests_b: u64,
    /// `tests_b / tests_a`.
    pub tests_ratio: Option<f64>,
    /// The largest complexity size both measured, and its call's fuel.
    pub largest_n: Option<u64>,
    pub largest_n_a: Option<f64>,
    pub largest_n_b: Option<f64>,
    /// `largest_n_b / largest_n_a`: the figure that says which scales better.
    pub largest_n_ratio: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ProblemDelta {
    pub id: String,
    pub a: Option<Side>,
    pub b: Option<Side>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Side {
    pub passed: bool,
    pub failure_class: Option<crate::ProblemFailure>,
    pub refactor_stable: Option<bool>,
    pub tokens: u64,
    pub time_s: f64,
}

pub fn compare(a: &ResultsFile, b: &ResultsFile) -> Comparison {
    let label = |file: &ResultsFile| format!("{} {}", file.config.model, file.config.variant());
    let pct = |from: f64, to: f64| (from != 0.0).then(|| (to - from) / from * 100.0);
    let summary = |file: &ResultsFile| file.summary.clone();
    let (sa, sb) = (summary(a), summary(b));
    let get = |s: &Option<Summary>, f: fn(&Summary) -> Option<f64>| s.as_ref().and_then(f);
    let side = |file: &ResultsFile, id: &str| {
        file.problems
            .iter()
            .find(|r| r.id == id)
            .map(|record| Side {
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
    }
}

fn agreement_and_fuel(a: &ResultsFile, b: &ResultsFile) -> (Agreement, Vec<FuelRatio>) {
    let mut agreement = Agreement::default();
    let mut fuel = Vec::new();
    let ratio = |x: f64, y: f64| (x > 0.0).then(|| y / x);
    for left in &a.problems {
        let Some(right) = b.problems.iter().find(|r| r.id == left.id) else {
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
    agreement.unpaired += b
        .problems
        .iter()
        .filter(|r| !a.problems.iter().any(|l| l.id == r.id))
        .count();
    (agreement, fuel)
}
