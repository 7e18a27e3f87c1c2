use std::collections::HashMap;

use fuelbench_problems::{COMPLEXITY, Class, Failure, load_dir};

use crate::support::repo_path;

/// What the checked-in set must plant, so that selftest proves each kind of
/// failure is caught: a wrong answer in every problem, and across the set at
/// least five complexity mismatches, three numerically naive solutions, one
/// that never ends and one that does not parse.
#[test]
fn the_set_plants_every_kind_of_failure() {
    let problems = load_dir(&repo_path("problems")).expect("the checked-in set loads");
    let mut planted: HashMap<Failure, usize> = HashMap::new();
    for problem in &problems {
        assert!(
            problem
                .wrong
                .iter()
                .any(|wrong| wrong.expect == Failure::WrongAnswer),
            "{} plants no wrong answer",
            problem.id
        );
        for wrong in &problem.wrong {
            *planted.entry(wrong.expect).or_default() += 1;
        }
    }
    let count = |failure| planted.get(&failure).copied().unwrap_or(0);
    assert!(count(Failure::ComplexityMismatch) >= 5, "{planted:?}");
    assert!(count(Failure::NumericalInstability) >= 3, "{planted:?}");
    assert!(count(Failure::OutOfFuel) >= 1, "{planted:?}");
    assert!(count(Failure::SyntaxError) >= 1, "{planted:?}");
}

/// Every problem has at least two correct solutions besides its reference,
/// written unlike it, which selftest requires to score 1.0: so the checks
/// are proven not to fail correct code, not only to catch wrong code.
#[test]
fn every_problem_has_two_other_correct_solutions() {
    let problems = load_dir(&repo_path("problems")).expect("the checked-in set loads");
    for problem in &problems {
        assert!(
            problem.right.len() >= 2,
            "{} has {} correct solutions under right/, not 2",
            problem.id,
            problem.right.len()
        );
        for right in &problem.right {
            assert_ne!(
                right.source.trim(),
                problem.reference.trim(),
                "{}",
                right.name
            );
        }
    }
}

/// At least four numerical problems, and difficulties that spread.
#[test]
fn the_set_covers_numerics_and_difficulties() {
    let problems = load_dir(&repo_path("problems")).expect("the checked-in set loads");
    assert!(
        problems
            .iter()
            .filter(|problem| !problem.numerical.is_empty())
            .count()
            >= 4
    );
    let difficulties: std::collections::BTreeSet<u8> =
        problems.iter().map(|problem| problem.difficulty).collect();
    assert!(difficulties.len() >= 2, "{difficulties:?}");
}

/// The requirements audit covers every problem: each has its list, every
/// problem that demands a time bound lists it with a plant in a dearer
/// class, and no plant stands for two requirements.
#[test]
fn every_problem_audits_its_requirements() {
    let problems = load_dir(&repo_path("problems")).expect("the checked-in set loads");
    for problem in &problems {
        assert!(
            problem.requirements.len() >= 3,
            "{} lists {} requirements",
            problem.id,
            problem.requirements.len()
        );
        let mut plants: Vec<&str> = problem
            .requirements
            .iter()
            .map(|requirement| requirement.plant.as_str())
            .collect();
        plants.sort_unstable();
        let count = plants.len();
        plants.dedup();
        assert_eq!(
            plants.len(),
            count,
            "{}: a plant stands for two",
            problem.id
        );
        if problem.complexity.expected == Class::Constant {
            continue;
        }
        let timed = problem
            .requirements
            .iter()
            .find(|requirement| requirement.cases.iter().any(|case| case == COMPLEXITY))
            .unwrap_or_else(|| panic!("{} lists no time requirement", problem.id));
        let plant = problem
            .wrong
            .iter()
            .find(|wrong| wrong.name == timed.plant)
            .expect("the loader checked the plant exists");
        assert!(
            plant
                .class
                .is_some_and(|class| class > problem.complexity.expected),
            "{}: wrong/{} is not in a dearer class than {}",
            problem.id,
            plant.name,
            problem.complexity.expected
        );
    }
}
