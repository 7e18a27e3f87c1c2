//! Whether the benchmark itself works: every reference, and every other
//! correct solution under `right/`, scores 1.0 on every metric that applies,
//! and every planted wrong solution is caught with the failure it declares. `fuelbench selftest` prints it; `fuelbench bench eval`
//! times it.

use fuelbench_complexity::Class;
use fuelbench_problems::{
    COMPLEXITY, FORBIDDEN, Failure, GENERATED, GENERATED_NUMERICAL, Problem, Requirement,
};
use rayon::prelude::*;

use crate::report::Mismatch;
use crate::score::{ProblemResult, score};
use crate::{Evaluator, Report};

/// The least separation margin a problem may have (see [`Separation`]): the
/// cheapest plant of the next class up must cost at least this many times
/// the reference at the largest size, or the sizes are too small to tell the
/// two classes apart with room to spare.
pub const MIN_SEPARATION: f64 = 4.0;

/// One selftest check: a solution and what its report must say.
#[derive(Debug, Clone)]
pub struct SelftestCheck<'a> {
    /// The problem the solution is for.
    pub problem: &'a Problem,
    /// `reference`, `right/<name>`, `wrong/<name>`, or `separation` (the
    /// problem's margin, from the others' reports).
    pub label: String,
    /// The solution's code, run as it is.
    pub source: &'a str,
    /// `None`: a correct solution, which must pass everything that applies.
    pub expect: Option<Failure>,
    /// A plant's declared class, for a complexity mismatch.
    pub class: Option<Class>,
    /// The requirements a plant breaks, whose cases must catch it.
    pub requirements: Vec<&'a Requirement>,
}

/// How far a problem's sizes set its expected class apart from the next one
/// up: at the largest size, the cost of the cheapest plant of the next class
/// up over the reference's.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Separation {
    /// The cheapest class above the expected one that a plant is in.
    pub next_class: Class,
    /// That class's cheapest plant, by name.
    pub plant: String,
    /// The size the ratio is taken at: the largest, or the one where the
    /// plant ran out of its budget.
    pub n: u64,
    /// The plant's fuel over the reference's at `n`; the problem fails the
    /// selftest below [`MIN_SEPARATION`].
    pub ratio: f64,
    /// The plant ran out of its budget at `n`, so `ratio` is the budget's
    /// over the reference's: the real margin is larger.
    pub at_least: bool,
}

/// Every reference, right and planted wrong solution of `problems`, checked
/// on every core, then each problem's separation margin from their reports;
/// the checks and their verdicts, in order.
pub fn run_selftest<'a>(
    evaluator: &Evaluator,
    problems: &'a [Problem],
) -> (Vec<SelftestCheck<'a>>, Vec<Result<(), String>>) {
    let mut checks: Vec<SelftestCheck<'a>> = problems.iter().flat_map(solution_checks).collect();
    let reports: Vec<Result<Report, String>> = checks
        .par_iter()
        .map(|check| {
            evaluator
                .evaluate(check.problem, check.source)
                .map_err(|error| format!("{error:#}"))
        })
        .collect();
    let mut verdicts: Vec<Result<(), String>> = checks
        .iter()
        .zip(&reports)
        .map(|(check, report)| match report {
            Ok(report) => judge(check, report),
            Err(error) => Err(error.clone()),
        })
        .collect();
    for problem in problems {
        let of_problem = || {
            checks
                .iter()
                .zip(&reports)
                .filter(move |(check, _)| std::ptr::eq(check.problem, problem))
        };
        let reference = of_problem().find(|(check, _)| check.label == "reference");
        let plants: Vec<(&str, Class, &Report)> = of_problem()
            .filter_map(|(check, report)| {
                let name = check.label.strip_prefix("wrong/")?;
                Some((name, check.class?, report.as_ref().ok()?))
            })
            .collect();
        let verdict = match reference {
            Some((_, Ok(reference))) => match separation(problem, reference, &plants) {
                Some(found) if found.ratio >= MIN_SEPARATION => Ok(()),
                Some(found) => Err(format!(
                    "wrong/{} ({}) costs only {:.1}x the reference at n = {}; \
                     at least {MIN_SEPARATION}x is needed to tell the classes apart",
                    found.plant, found.next_class, found.ratio, found.n
                )),
                None => Ok(()),
            },
            _ => Err("the reference's report is missing".to_owned()),
        };
        checks.push(SelftestCheck {
            problem,
            label: "separation".into(),
            source: "",
            expect: None,
            class: None,
            requirements: Vec::new(),
        });
        verdicts.push(verdict);
    }
    (checks, verdicts)
}

/// The reference, right and wrong solutions of one problem as checks.
fn solution_checks(problem: &Problem) -> impl Iterator<Item = SelftestCheck<'_>> {
    let reference = SelftestCheck {
        problem,
        label: "reference".into(),
        source: &problem.reference,
        expect: None,
        class: None,
        requirements: Vec::new(),
    };
    let right = problem.right.iter().map(move |right| SelftestCheck {
        problem,
        label: format!("right/{}", right.name),
        source: &right.source,
        expect: None,
        class: None,
        requirements: Vec::new(),
    });
    let wrong = problem.wrong.iter().map(move |wrong| SelftestCheck {
        problem,
        label: format!("wrong/{}", wrong.name),
        source: &wrong.source,
        expect: Some(wrong.expect),
        class: wrong.class,
        requirements: problem
            .requirements
            .iter()
            .filter(|requirement| requirement.plant == wrong.name)
            .collect(),
    });
    std::iter::once(reference).chain(right).chain(wrong)
}

/// The separation margin of `problem` (see [`Separation`]), from the
/// reference's report and the plants' (name, declared class, report); `None`
/// when no plant is in a class above the expected one.
pub fn separation(
    problem: &Problem,
    reference: &Report,
    plants: &[(&str, Class, &Report)],
) -> Option<Separation> {
    let next_class = next_class(problem)?;
    let reference = &reference.complexity.as_ref()?.samples;
    plants
        .iter()
        .filter(|(_, class, _)| *class == next_class)
        .filter_map(|(name, _, report)| {
            let complexity = report.complexity.as_ref()?;
            // Past its budget, the plant cost more than the budget there.
            let (n, cost, at_least) = match &complexity.stopped {
                Some(Mismatch::OverBudget { n, budget, .. }) => (*n, *budget as f64, true),
                _ => {
                    let last = complexity.samples.last()?;
                    (last.n, last.cost, false)
                }
            };
            let base = reference.iter().find(|sample| sample.n == n)?.cost.max(1.0);
            Some(Separation {
                next_class,
                plant: (*name).to_owned(),
                n,
                ratio: cost / base,
                at_least,
            })
        })
        .min_by(|a, b| a.ratio.total_cmp(&b.ratio))
}

/// The cheapest class above the expected one that a plant of `problem` is in.
fn next_class(problem: &Problem) -> Option<Class> {
    problem
        .wrong
        .iter()
        .filter_map(|wrong| wrong.class)
        .filter(|class| *class > problem.complexity.expected)
        .min()
}

/// Runs the reference and the plants of the next class up of `problem`, for
/// its separation margin alone (what `fuelbench problems --json` shows).
pub fn measure_separation(
    evaluator: &Evaluator,
    problem: &Problem,
) -> crate::Result<Option<Separation>> {
    let Some(next_class) = next_class(problem) else {
        return Ok(None);
    };
    let reference = evaluator.evaluate(problem, &problem.reference)?;
    let reports = problem
        .wrong
        .par_iter()
        .filter(|wrong| wrong.class == Some(next_class))
        .map(|wrong| Ok((wrong, evaluator.evaluate(problem, &wrong.source)?)))
        .collect::<crate::Result<Vec<_>>>()?;
    let plants: Vec<(&str, Class, &Report)> = reports
        .iter()
        .map(|(wrong, report)| (wrong.name.as_str(), next_class, report))
        .collect();
    Ok(separation(problem, &reference, &plants))
}

fn judge(check: &SelftestCheck<'_>, report: &Report) -> Result<(), String> {
    let Some(expected) = check.expect else {
        // A correct solution, refactored into itself, must score 1.0 on
        // every metric that applies.
        let result = ProblemResult {
            solve: report,
            refactor: Some(report),
        };
        let scores = score(&[result]).expect("one result");
        return if scores.overall_score == 1.0 && report.failure_class.is_none() {
            Ok(())
        } else {
            Err(format!(
                "a correct solution scores {:.3}, not 1.0: {}",
                scores.overall_score,
                summary(report)
            ))
        };
    };
    if report.failure_class != Some(expected) {
        return Err(format!("expected {expected}, got {}", summary(report)));
    }
    if let Some(class) = check.class {
        let complexity = report.complexity.as_ref();
        let fitted = complexity.and_then(|complexity| complexity.fitted);
        // Exponential work outruns any budget within a few sizes: that is
        // how it shows, so running out is its declared class.
        let outran = class == Class::Exponential
            && complexity.is_some_and(|complexity| {
                matches!(complexity.stopped, Some(Mismatch::OverBudget { .. }))
            });
        if fitted != Some(class) && !outran {
            return Err(format!(
                "declared {class}, but the fit says {}: {}",
                fitted.map_or("nothing".to_owned(), |fitted| fitted.to_string()),
                summary(report)
            ));
        }
    }
    for requirement in &check.requirements {
        if !bites(requirement, report) {
            return Err(format!(
                "breaks \"{}\", but none of its cases ({}) fails it: {}",
                requirement.text,
                requirement.cases.join(", "),
                summary(report)
            ));
        }
    }
    // The secret tests must catch every plant the public ones do, not only
    // the plants they were written for: a wrong answer or an exception by
    // the generated cases, a numerical failure by the generated numerical
    // ones. A plant about a forbidden name alone is the names check's.
    let forbidden_only = !check.requirements.is_empty()
        && check
            .requirements
            .iter()
            .all(|requirement| requirement.cases.iter().all(|case| case == FORBIDDEN));
    let generated = match expected {
        Failure::WrongAnswer | Failure::Exception if !forbidden_only => {
            check.problem.generated.as_ref().map(|_| GENERATED)
        }
        Failure::NumericalInstability => check
            .problem
            .generated_numerical
            .as_ref()
            .map(|_| GENERATED_NUMERICAL),
        _ => None,
    };
    if let Some(name) = generated {
        let numerical = report
            .numerical
            .iter()
            .flat_map(|numerical| &numerical.cases);
        let caught = report
            .cases
            .iter()
            .chain(numerical)
            .any(|case| case.name == name && case.outcome != crate::CaseOutcome::Pass);
        if !caught {
            return Err(format!(
                "the public cases catch it, but the {name} cases do not: {}",
                summary(report)
            ));
        }
    }
    Ok(())
}

/// Whether one of `requirement`'s cases fails in `report`.
fn bites(requirement: &Requirement, report: &Report) -> bool {
    let numerical = report
        .numerical
        .iter()
        .flat_map(|numerical| &numerical.cases);
    requirement.cases.iter().any(|name| {
        if name == COMPLEXITY {
            return report
                .complexity
                .as_ref()
                .is_some_and(|complexity| !complexity.matched);
        }
        report
            .cases
            .iter()
            .chain(numerical.clone())
            .any(|case| case.name == *name && case.outcome != crate::CaseOutcome::Pass)
    })
}

/// A report in one line, for a check that fell short.
pub fn summary(report: &Report) -> String {
    let mut parts = vec![
        report
            .failure_class
            .map_or("no failure".to_owned(), |failure| failure.to_string()),
        format!("tests {}/{}", report.tests_passed, report.tests_total),
    ];
    if let Some(case) = report.cases.iter().find(|case| case.detail.is_some()) {
        parts.push(format!(
            "{}: {}",
            case.name,
            case.detail.as_deref().unwrap_or("")
        ));
    }
    if let Some(complexity) = &report.complexity {
        parts.push(format!(
            "complexity expected {} fitted {}{}",
            complexity.expected,
            complexity
                .fitted
                .map_or("none".to_owned(), |class| class.to_string()),
            complexity
                .note
                .as_ref()
                .map_or(String::new(), |note| format!(" ({note})"))
        ));
    }
    if let Some(numerical) = &report.numerical {
        parts.push(format!(
            "numerical {}/{}",
            numerical.passed, numerical.total
        ));
    }
    parts.join("; ")
}
