//! The complexity series: the candidate's fuel over growing sizes, judged
//! against the reference's at each size and, past them, at the probe.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use fuelbench_complexity::{Class, Sample, analyse, ratio_slope};
use fuelbench_problems::{ComplexitySpec, Problem};
use fuelbench_sandbox::{
    Check, Ending, Inputs, Interrupt, Sandbox, Stage, Status, Value, clipped, derived_seed,
};
use rayon::prelude::*;

use super::{DETAIL_CHARS, EvalConfig, Evaluator, call_kind, ending_failure, limits_of};
use crate::report::{CaseOutcome, ComplexityReport, Mismatch, ProbeReport};
use crate::{Error, Result, compare};

impl Evaluator {
    pub(super) fn measure(&self, problem: &Problem, code: &str) -> Result<ComplexityReport> {
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
    pub(super) fn reference_series(&self, problem: &Problem) -> Result<Arc<[ReferencePoint]>> {
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
pub(super) fn probe_size(spec: &ComplexitySpec, seed: u64) -> Option<u64> {
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
pub(super) struct ReferencePoint {
    n: u64,
    cost: u64,
    answer: Arc<Value>,
}

/// Fuel every size's budget gets on top of the factor's: the fixed cost of
/// any call (a few frames, a result, a class's set-up) would otherwise
/// dominate the budget of a problem whose reference is nearly free at its
/// sizes, as a binary search is.
pub(super) const BUDGET_FLOOR: u64 = 2_000_000;

/// A candidate's fuel budget at the `index`th size: `factor` times the more
/// of the reference's cost there and what the expected class predicts from
/// the reference's cost at the smallest size, plus [`BUDGET_FLOOR`]. The
/// second term keeps a correct solution of exactly the expected class within
/// budget where the reference is cheaper than its class on these inputs.
pub(super) fn budget_at(
    reference: &[ReferencePoint],
    index: usize,
    expected: Class,
    factor: u64,
) -> u64 {
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
