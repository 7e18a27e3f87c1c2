//! Generated cases: inputs the problem's generator draws from the
//! evaluation's secret seed, run through the reference and the candidate as
//! one batch each, and compared here, input by input.
//!
//! The candidate cannot learn the inputs ahead of its call (the generator
//! runs with a `random.Random` of its own, seeded apart from everything it
//! can read, and is thrown away before it loads), and a fresh evaluation
//! draws fresh ones, so neither memorising the public cases nor probing by
//! resubmission helps. The expected outcomes are the reference's, or for
//! numerical cases the values the generator computed exactly.

mod shrink;

use std::sync::Arc;

use fuelbench_problems::{GENERATED, GENERATED_NUMERICAL, Generator, Problem};
use fuelbench_sandbox::{Check, CheckOutcome, Ending, Inputs, Raised, Value, clipped};

use super::{
    BUDGET_FLOOR, DETAIL_CHARS, Evaluator, UNCHANGED, call_kind, clip, ending_failure, limits_of,
};
use crate::report::{CaseOutcome, CaseResult};
use crate::{Error, Result, compare};

use shrink::Failing;

/// What one generated input must end in.
#[derive(Debug, Clone)]
pub(super) enum Expected {
    Value(Value),
    /// The reference raised: the candidate must raise an exception derived
    /// from every built-in class the reference's did.
    Raises(Raised),
}

/// The reference's batch under one seed: each input's expected ending and
/// the fuel of the whole batch's call, which sets the candidate's budget.
#[derive(Debug)]
pub(super) struct ReferenceBatch {
    expected: Vec<Expected>,
    call_fuel: u64,
}

impl Evaluator {
    /// The [`GENERATED`] test, when the problem has a generator.
    pub(super) fn run_generated(
        &self,
        problem: &Problem,
        code: &str,
    ) -> Result<Option<CaseResult>> {
        let Some(generator) = &problem.generated else {
            return Ok(None);
        };
        let reference = self.reference_batch(problem, generator)?;
        let watch = problem.tests().all(|case| case.unchanged_inputs);
        let budget = (reference.call_fuel as f64 * self.config.budget_factor as f64) as u64;
        let budget = budget
            .saturating_add(BUDGET_FLOOR)
            .min(self.config.measure_fuel);
        let outcome = self.run_batch(
            problem,
            &generator.code,
            generator.count,
            code,
            Some(budget),
        )?;
        let (mut result, smallest) = judge_batch(
            GENERATED,
            &outcome,
            &reference.expected,
            generator,
            watch,
            &problem.entry_point,
        );
        if let Some((index, class)) = smallest
            && let Some(input) = input_at(&outcome, index)
            && let Some((shrunk, detail)) = self.shrink(
                problem,
                generator,
                code,
                Failing {
                    input,
                    expected: &reference.expected[index],
                    class,
                },
                budget,
            )?
            && let Some(said) = &mut result.detail
        {
            said.push_str(&format!(
                "; with items deleted, it still fails on {}{}: {detail}",
                problem.entry_point,
                clipped(&shrunk, DETAIL_CHARS)
            ));
        }
        Ok(Some(result))
    }

    /// The [`GENERATED_NUMERICAL`] check, when the problem has one.
    pub(super) fn run_generated_numerical(
        &self,
        problem: &Problem,
        code: &str,
    ) -> Result<Option<CaseResult>> {
        let Some(generator) = &problem.generated_numerical else {
            return Ok(None);
        };
        let expected = self.numerical_expected(problem, generator)?;
        let outcome = self.run_batch(problem, &generator.code, generator.count, code, None)?;
        let (result, _) = judge_batch(
            GENERATED_NUMERICAL,
            &outcome,
            &expected,
            generator,
            false,
            &problem.entry_point,
        );
        Ok(Some(result))
    }

    /// `code` called on every one of the `count` inputs `generator` (a
    /// generator's Python) draws under this evaluation's seed, in one
    /// instance; the inputs are always read back, so that a failure can show
    /// the one it failed on.
    fn run_batch(
        &self,
        problem: &Problem,
        generator: &str,
        count: usize,
        code: &str,
        call_budget: Option<u64>,
    ) -> Result<CheckOutcome> {
        let check = Check {
            candidate: code,
            entry_point: &problem.entry_point,
            kind: call_kind(problem.kind),
            inputs: Inputs::Generated {
                code: generator,
                count,
            },
            seed: self.config.seed,
            call_budget,
            watch_inputs: true,
            forbid_compiling: !problem.forbidden.is_empty(),
        };
        Ok(self
            .sandbox
            .check(&check, &self.limits(self.config.case_fuel))?)
    }

    /// The reference's outcome on every generated input, once per problem
    /// and seed, under the harness's limits.
    fn reference_batch(
        &self,
        problem: &Problem,
        generator: &Generator,
    ) -> Result<Arc<ReferenceBatch>> {
        let key = (
            problem.id.clone(),
            problem.reference.clone(),
            self.config.seed,
        );
        self.reference_batches.get_or_compute(key, || {
            self.reference_endings(problem, &generator.code, generator.count)
                .map(Arc::new)
        })
    }

    /// The reference's ending on each of the `count` inputs `generator`
    /// draws, under the harness's limits; a failure as [`SeededCache`]
    /// keeps it (its message, and whether it came of the host).
    fn reference_endings(
        &self,
        problem: &Problem,
        generator: &str,
        count: usize,
    ) -> Result<ReferenceBatch, (String, bool)> {
        let check = Check {
            candidate: &problem.reference,
            entry_point: &problem.entry_point,
            kind: call_kind(problem.kind),
            inputs: Inputs::Generated {
                code: generator,
                count,
            },
            seed: self.config.seed,
            call_budget: None,
            watch_inputs: false,
            forbid_compiling: false,
        };
        let limits = limits_of(&self.harness, self.harness.measure_fuel);
        let outcome = self
            .harness_sandbox
            .check(&check, &limits)
            .map_err(|error| (format!("{:#}", Error::from(error)), true))?;
        let endings = match outcome.ending {
            Ending::Batch(endings) => endings,
            Ending::BadInput(why) => {
                return Err((format!("the problem's generator failed: {why}"), false));
            }
            ending => {
                let wall_clock = matches!(
                    ending,
                    Ending::CutOff {
                        status: fuelbench_sandbox::Status::WallClockExceeded,
                        ..
                    }
                );
                let (_, why) = ending_failure(&ending, &problem.entry_point);
                return Err((
                    format!("the problem's reference fails on its generated inputs: {why}"),
                    wall_clock,
                ));
            }
        };
        let expected = endings
            .into_iter()
            .map(|ending| match ending {
                Ending::Returned(value) => Expected::Value(value),
                Ending::Raised(raised) => Expected::Raises(raised),
                other => unreachable!("a batch holds only returns and raises, not {other:?}"),
            })
            .collect();
        Ok(ReferenceBatch {
            expected,
            call_fuel: outcome.call_fuel.unwrap_or(0),
        })
    }

    /// The exact expected values the numerical generator computes, once per
    /// problem and seed, in an instance that never holds candidate code.
    fn numerical_expected(
        &self,
        problem: &Problem,
        generator: &Generator,
    ) -> Result<Arc<Vec<Expected>>> {
        let key = (problem.id.clone(), generator.code.clone(), self.config.seed);
        self.numerical_expected.get_or_compute(key, || {
            let limits = limits_of(&self.harness, self.harness.measure_fuel);
            let values = self
                .harness_sandbox
                .generated_expected(&generator.code, generator.count, self.config.seed, &limits)
                .map_err(|error| (format!("{:#}", Error::from(error)), true))?
                .map_err(|why| {
                    (
                        format!("the problem's numerical generator failed: {why}"),
                        false,
                    )
                })?;
            Ok(Arc::new(values.into_iter().map(Expected::Value).collect()))
        })
    }
}

/// One test's verdict on a whole batch: it passes when every input ended as
/// expected (and, with `watch`, no input was changed). A failure names how
/// many inputs failed and shows the smallest of them, whose index and class
/// come back beside the verdict.
fn judge_batch(
    name: &str,
    outcome: &CheckOutcome,
    expected: &[Expected],
    generator: &Generator,
    watch: bool,
    entry_point: &str,
) -> (CaseResult, Option<(usize, CaseOutcome)>) {
    let result = |outcome_class, detail| CaseResult {
        name: name.to_owned(),
        outcome: outcome_class,
        detail,
        fuel_used: outcome.fuel_used,
    };
    let endings = match &outcome.ending {
        Ending::Batch(endings) if endings.len() == expected.len() => endings,
        Ending::Batch(endings) => {
            return (
                result(
                    CaseOutcome::Exception,
                    Some(format!(
                        "answered {} of {} generated inputs",
                        endings.len(),
                        expected.len()
                    )),
                ),
                None,
            );
        }
        Ending::Returned(value) => {
            // The reactor could not encode the whole batch.
            return (
                result(
                    CaseOutcome::WrongAnswer,
                    Some(format!(
                        "the answers to the generated inputs are {}",
                        clipped(value, DETAIL_CHARS)
                    )),
                ),
                None,
            );
        }
        ending => {
            let (class, why) = ending_failure(ending, entry_point);
            return (
                result(class, Some(format!("{why} on the generated inputs"))),
                None,
            );
        }
    };
    let inputs = match &outcome.inputs {
        Some(seen) => match &seen.before {
            Value::Tuple(items) if items.len() == expected.len() => Some(items.as_slice()),
            _ => None,
        },
        None => None,
    };
    if watch
        && let Some(seen) = &outcome.inputs
        && !compare::matches(&seen.after, &seen.before, &UNCHANGED)
    {
        return (
            result(
                CaseOutcome::WrongAnswer,
                Some(format!(
                    "changed its input on a generated case, which the prompt forbids ({} inputs)",
                    expected.len()
                )),
            ),
            None,
        );
    }
    // (index, class, got-versus-want), for every input that failed.
    let failures: Vec<(usize, CaseOutcome, String)> = endings
        .iter()
        .zip(expected)
        .enumerate()
        .filter_map(|(index, (ending, want))| {
            let (class, detail) = judge_input(ending, want, generator, entry_point)?;
            Some((index, class, detail))
        })
        .collect();
    if failures.is_empty() {
        return (result(CaseOutcome::Pass, None), None);
    }
    // A wrong answer outranks an exception, as among the fixed cases.
    let class = if failures
        .iter()
        .any(|(_, class, _)| *class == CaseOutcome::WrongAnswer)
    {
        CaseOutcome::WrongAnswer
    } else {
        failures[0].1
    };
    let size = |index: usize| {
        inputs.map_or(usize::MAX, |items| {
            clipped(&items[index], 10 * DETAIL_CHARS).chars().count()
        })
    };
    let (index, _, detail) = failures
        .iter()
        .filter(|(_, failed, _)| *failed == class)
        .min_by_key(|(index, _, _)| (size(*index), *index))
        .expect("the class was taken from the failures");
    let input = inputs.map_or_else(
        || format!("#{index}"),
        |items| clipped(&items[*index], DETAIL_CHARS),
    );
    let verdict = result(
        class,
        Some(format!(
            "failed {} of {} generated inputs; the smallest: {entry_point}{input}: {detail}",
            failures.len(),
            expected.len()
        )),
    );
    (verdict, Some((*index, class)))
}

/// How one generated input failed, if it did: its class and got-versus-want.
fn judge_input(
    ending: &Ending,
    want: &Expected,
    generator: &Generator,
    entry_point: &str,
) -> Option<(CaseOutcome, String)> {
    match (ending, want) {
        (Ending::Returned(got), Expected::Value(want)) => {
            (!compare::matches(got, want, &generator.compare)).then(|| {
                (
                    CaseOutcome::WrongAnswer,
                    format!(
                        "got {}, want {}",
                        clipped(got, DETAIL_CHARS),
                        clipped(want, DETAIL_CHARS)
                    ),
                )
            })
        }
        (Ending::Raised(got), Expected::Raises(want)) => {
            (!want.builtin_classes.iter().all(|class| got.is_a(class))).then(|| {
                // As among the fixed cases: the wrong exception is an
                // exception, not a wrong answer.
                (
                    CaseOutcome::Exception,
                    format!("raised {}, want {}", clip(&got.describe()), want.type_name),
                )
            })
        }
        (Ending::Returned(got), Expected::Raises(want)) => Some((
            CaseOutcome::WrongAnswer,
            format!(
                "returned {} instead of raising {}",
                clipped(got, DETAIL_CHARS),
                want.type_name
            ),
        )),
        (Ending::Raised(got), Expected::Value(want)) => Some((
            CaseOutcome::Exception,
            format!(
                "raised {}; want {}",
                clip(&got.describe()),
                clipped(want, DETAIL_CHARS)
            ),
        )),
        (other, _) => Some(ending_failure(other, entry_point)),
    }
}

/// The `index`th input the candidate was called on, as read back.
fn input_at(outcome: &CheckOutcome, index: usize) -> Option<&Value> {
    match &outcome.inputs.as_ref()?.before {
        Value::Tuple(items) => items.get(index),
        _ => None,
    }
}

/// Whether the reference ended two inputs alike: both returned, or both
/// raised the same type.
fn same_kind(one: &Expected, other: &Expected) -> bool {
    match (one, other) {
        (Expected::Value(_), Expected::Value(_)) => true,
        (Expected::Raises(one), Expected::Raises(other)) => one.type_name == other.type_name,
        _ => false,
    }
}
