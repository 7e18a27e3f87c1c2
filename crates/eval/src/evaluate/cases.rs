//! The fixed cases: each in a sandbox of its own, judged against the
//! problem's expected values.

use std::sync::Arc;

use fuelbench_problems::{Case, Expect, Failure, Input, Kind, Problem};
use fuelbench_sandbox::{
    CallKind, Check, CheckOutcome, Ending, Inputs, Stage, Status, Value, clipped,
};
use fuelbench_stdx::lock;
use rayon::prelude::*;

use super::{Evaluator, limits_of};
use crate::report::{CaseOutcome, CaseResult};
use crate::{Error, Result, compare};

impl Evaluator {
    /// The expected values of every case of `problem` that expects one, in
    /// the order of `problem.tests()` then `problem.numerical`.
    ///
    /// They are Python literals, evaluated with Python's own semantics in a
    /// sandbox of their own that never holds candidate code, once per
    /// process: the candidate's sandbox never sees them.
    pub(super) fn expected_values(&self, problem: &Problem) -> Result<Arc<Vec<Value>>> {
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
    pub(super) fn run_cases(
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

    pub(super) fn run_case(
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
}

/// Inputs after the call must equal them before it exactly; NaN stays NaN.
pub(super) const UNCHANGED: fuelbench_problems::Compare = fuelbench_problems::Compare {
    mode: fuelbench_problems::CompareMode::Exact,
    rel_tol: 0.0,
    abs_tol: 0.0,
};

/// How much of a value or an exception a case's detail keeps, in characters.
pub(super) const DETAIL_CHARS: usize = 300;

pub(super) type Paired<'a> = Vec<(&'a Case, Option<&'a Value>)>;

/// The tests and the numerical cases, each with its expected value when it
/// expects one; `expected` is in the order [`Evaluator::expected_values`]
/// gives.
pub(super) fn pair_expected<'a>(
    problem: &'a Problem,
    expected: &'a [Value],
) -> (Paired<'a>, Paired<'a>) {
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

pub(super) fn call_kind(kind: Kind) -> CallKind {
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
pub(super) fn ending_failure(ending: &Ending, entry_point: &str) -> (CaseOutcome, String) {
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
pub(super) fn clip(text: &str) -> String {
    match text.char_indices().nth(DETAIL_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// The class of a failed test run: a candidate that does not load fails
/// every case the same way; otherwise a wrong answer outranks an exception,
/// which outranks running out of a budget.
pub(super) fn test_failure(cases: &[CaseResult]) -> Option<Failure> {
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
