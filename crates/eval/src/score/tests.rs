use super::*;
use crate::report::{ComplexityReport, NumericalReport, Reproducibility};
use fuelbench_complexity::Class;

/// A report with the given outcome: tests passed, complexity matched,
/// numerical (passed, total) or None, and the problem's numerical case count.
fn report(
    passed: bool,
    complexity: bool,
    numerical: Option<(usize, usize)>,
    numerical_cases: usize,
) -> Report {
    Report {
        problem: "p".into(),
        passed,
        tests_passed: if passed { 10 } else { 3 },
        tests_total: 10,
        failure_class: None,
        cases: Vec::new(),
        complexity: passed.then(|| ComplexityReport {
            expected: Class::Linear,
            fitted: Some(if complexity {
                Class::Linear
            } else {
                Class::Quadratic
            }),
            matched: complexity,
            log_log_slope: Some(1.0),
            samples: Vec::new(),
            fits: Vec::new(),
            note: None,
            mismatch: (!complexity).then_some(crate::Mismatch::Class {
                fitted: Class::Quadratic,
            }),
            stopped: None,
            reference: Vec::new(),
            reference_ratio: None,
            probe: None,
            ratio_slope: None,
            budgets: Vec::new(),
            budget_factor: 30,
        }),
        numerical: numerical.map(|(passed, total)| NumericalReport {
            passed,
            total,
            cases: Vec::new(),
        }),
        numerical_cases,
        fuel_used: 1,
        extraction: None,
        refactor: None,
        reproducibility: Reproducibility {
            fuelbench_version: "0".into(),
            wasmtime_version: "48.0.8".into(),
            python_wasm_sha256: String::new(),
            snapshot_sha256: String::new(),
            case_fuel: 1,
            measure_fuel: 1,
            budget_factor: 1,
            suite_fuel: 1,
            seed: 0,
        },
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn a_perfect_set_scores_one_and_is_go() {
    let good = report(true, true, Some((3, 3)), 3);
    let plain = report(true, true, None, 0);
    let results = [
        ProblemResult {
            solve: &good,
            refactor: Some(&good),
        },
        ProblemResult {
            solve: &plain,
            refactor: Some(&plain),
        },
    ];
    let scores = score(&results).expect("non-empty");
    assert!(close(scores.overall_score, 1.0), "{scores:?}");
    assert_eq!(scores.numerical_stability, Some(1.0));
    assert_eq!(scores.verdicts.overall, Verdict::Go);
    assert_eq!(scores.weights, WEIGHTS);
}

#[test]
fn overall_is_the_weighted_sum() {
    // pass@1 1/2, complexity 1/2, numerical (2/4 + 0) / 2, refactor 1/2.
    let passing = report(true, true, Some((2, 4)), 4);
    let failing = report(false, false, None, 2);
    let results = [
        ProblemResult {
            solve: &passing,
            refactor: Some(&passing),
        },
        ProblemResult {
            solve: &failing,
            refactor: Some(&passing),
        },
    ];
    let scores = score(&results).expect("non-empty");
    assert!(close(scores.pass_at_1, 0.5));
    assert!(close(scores.complexity_match_rate, 0.5));
    assert!(close(scores.numerical_stability.expect("applies"), 0.25));
    assert!(close(scores.refactor_stability.expect("ran"), 0.5));
    let expected = 0.45 * 0.5 + 0.20 * 0.5 + 0.15 * 0.25 + 0.20 * 0.5;
    assert!(
        close(scores.overall_score, expected),
        "{} vs {expected}",
        scores.overall_score
    );
    assert_eq!(scores.verdicts.pass_at_1, Verdict::NoGo);
    assert_eq!(scores.verdicts.overall, Verdict::NoGo);
}

#[test]
fn absent_metrics_share_their_weight() {
    let good = report(true, true, None, 0);
    let scores = score(&[ProblemResult {
        solve: &good,
        refactor: None,
    }])
    .expect("non-empty");
    assert_eq!(scores.numerical_stability, None);
    assert_eq!(scores.refactor_stability, None);
    assert!(close(scores.weights.pass_at_1, 0.45 / 0.65));
    assert!(close(scores.weights.complexity, 0.20 / 0.65));
    assert!(close(scores.overall_score, 1.0));
    assert_eq!(scores.verdicts.numerical, None);
}

#[test]
fn thresholds_are_inclusive() {
    assert_eq!(Verdict::of(0.80, THRESHOLDS.pass_at_1), Verdict::Go);
    assert_eq!(Verdict::of(0.7999, THRESHOLDS.pass_at_1), Verdict::NoGo);
}

#[test]
fn a_refactor_is_stable_only_when_both_pass() {
    let pass = report(true, true, None, 0);
    let fail = report(false, false, None, 0);
    assert!(refactor_stable(&pass, &pass));
    assert!(!refactor_stable(&pass, &fail));
    assert!(!refactor_stable(&fail, &pass));
}

#[test]
fn an_empty_set_has_no_score() {
    assert_eq!(score(&[]), None);
}
