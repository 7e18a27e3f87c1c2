use super::*;
use crate::report::{ComplexityReport, NumericalReport, Reproducibility};
use crate::stats;
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
            suite: None,
        },
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// Each report as an answer with no refactor.
fn solves(reports: &[Report]) -> Vec<ProblemResult<'_>> {
    reports
        .iter()
        .map(|solve| ProblemResult {
            solve,
            refactor: None,
        })
        .collect()
}

/// `report` as an answer to `problem`.
fn on(problem: &str, mut report: Report) -> Report {
    report.problem = problem.into();
    report
}

#[test]
fn a_perfect_set_scores_one_and_its_verdict_rests_on_its_interval() {
    let good = on("a", report(true, true, Some((3, 3)), 3));
    let plain = on("b", report(true, true, None, 0));
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
    assert_eq!(scores.weights, WEIGHTS);
    // Two problems cannot show pass@1 >= 0.80: Wilson's 2 of 2 is [0.34, 1].
    let intervals = scores.intervals.expect("intervals");
    assert_eq!(intervals.pass_at_1.method, stats::IntervalMethod::Wilson);
    assert!(close(intervals.pass_at_1.high, 1.0));
    assert!(
        (0.34..0.35).contains(&intervals.pass_at_1.low),
        "{intervals:?}"
    );
    assert_eq!(scores.verdicts.pass_at_1, Verdict::Undecided);
    assert_eq!(scores.verdicts.overall, Verdict::Undecided);
}

#[test]
fn fifteen_of_fifteen_is_go_only_where_the_threshold_is_below_wilsons_bound() {
    let reports: Vec<Report> = (0..15)
        .map(|i| on(&format!("p{i:02}"), report(true, true, None, 0)))
        .collect();
    let results = solves(&reports);
    let scores = score(&results).expect("non-empty");
    let intervals = scores.intervals.expect("intervals");
    // [0.796, 1]: pass@1's threshold 0.80 lies inside; overall's 0.75 below.
    assert!((0.79..0.80).contains(&intervals.pass_at_1.low));
    assert_eq!(scores.verdicts.pass_at_1, Verdict::Undecided);
    assert_eq!(scores.verdicts.complexity, Some(Verdict::Go));
    assert_eq!(scores.verdicts.overall, Verdict::Go);
}

#[test]
fn samples_of_a_problem_count_once_and_give_pass_at_k() {
    // Problem a: 1 of 3 samples pass; problem b: 3 of 3.
    let pass_a = on("a", report(true, true, None, 0));
    let fail_a = on("a", report(false, false, None, 0));
    let pass_b = on("b", report(true, true, None, 0));
    let answers = [
        pass_a,
        fail_a.clone(),
        fail_a,
        pass_b.clone(),
        pass_b.clone(),
        pass_b,
    ];
    let results = solves(&answers);
    let scores = score(&results).expect("non-empty");
    assert_eq!(scores.problems, 2);
    assert_eq!(scores.samples, 3);
    assert!(close(scores.pass_at_1, (1.0 / 3.0 + 1.0) / 2.0));
    let ks: Vec<usize> = scores.pass_at_k.iter().map(|p| p.k).collect();
    assert_eq!(ks, [1, 2, 3]);
    // pass@2 of a: 1 - C(2,2)/C(3,2) = 2/3; of b: 1.
    assert!(close(scores.pass_at_k[1].value, (2.0 / 3.0 + 1.0) / 2.0));
    assert!(close(scores.pass_at_k[2].value, 1.0));
    let interval = scores.intervals.expect("intervals").pass_at_1;
    assert_eq!(interval.method, stats::IntervalMethod::Bootstrap);
    assert!(interval.low <= scores.pass_at_1 && scores.pass_at_1 <= interval.high);
}

#[test]
fn overall_is_the_weighted_sum() {
    // pass@1 1/2, complexity 1/2, numerical (2/4 + 0) / 2, refactor 1/2.
    let passing = on("a", report(true, true, Some((2, 4)), 4));
    let failing = on("b", report(false, false, None, 2));
    let refactored = on("b", report(true, true, Some((2, 4)), 4));
    let results = [
        ProblemResult {
            solve: &passing,
            refactor: Some(&passing),
        },
        ProblemResult {
            solve: &failing,
            refactor: Some(&refactored),
        },
    ];
    let scores = score(&results).expect("non-empty");
    assert!(close(scores.pass_at_1, 0.5));
    assert!(close(scores.complexity_match_rate.unwrap(), 0.5));
    assert!(close(scores.numerical_stability.expect("applies"), 0.25));
    assert!(close(scores.refactor_stability.expect("ran"), 0.5));
    let expected = 0.45 * 0.5 + 0.20 * 0.5 + 0.15 * 0.25 + 0.20 * 0.5;
    assert!(
        close(scores.overall_score, expected),
        "{} vs {expected}",
        scores.overall_score
    );
    // 1 of 2 passing: Wilson's [0.09, 0.91] holds 0.80.
    assert_eq!(scores.verdicts.pass_at_1, Verdict::Undecided);
    assert_eq!(scores.verdicts.overall, Verdict::Undecided);
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
fn thresholds_are_inclusive_and_an_interval_across_one_is_undecided() {
    assert_eq!(Verdict::of(0.80, None, THRESHOLDS.pass_at_1), Verdict::Go);
    assert_eq!(
        Verdict::of(0.7999, None, THRESHOLDS.pass_at_1),
        Verdict::NoGo
    );
    let across = stats::Interval {
        low: 0.7,
        high: 0.9,
        method: stats::IntervalMethod::Wilson,
    };
    assert_eq!(
        Verdict::of(0.85, Some(&across), THRESHOLDS.pass_at_1),
        Verdict::Undecided
    );
    let below = stats::Interval {
        high: 0.79,
        ..across
    };
    assert_eq!(
        Verdict::of(0.75, Some(&below), THRESHOLDS.pass_at_1),
        Verdict::NoGo
    );
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

/// Samples never make a worse run look surer than a perfect one: with one
/// problem failing a sample, pass@1's interval still holds what Wilson's over
/// 15 problems allows, so the verdict cannot turn GO where a perfect run's is
/// undecided.
#[test]
fn a_failed_sample_never_earns_a_better_verdict_than_a_perfect_run() {
    let mut reports = Vec::new();
    for problem in 0..15 {
        for sample in 0..5 {
            let passed = !(problem == 0 && sample == 0);
            reports.push(on(
                &format!("p{problem:02}"),
                report(passed, passed, None, 0),
            ));
        }
    }
    let results = solves(&reports);
    let scores = score(&results).expect("non-empty");
    assert_eq!(scores.samples, 5);
    let interval = scores.intervals.expect("intervals").pass_at_1;
    assert!(interval.low < 0.80, "{interval:?}");
    assert_eq!(scores.verdicts.pass_at_1, Verdict::Undecided);
}
