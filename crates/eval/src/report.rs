//! What an evaluation found. Serialises to the JSON `fuelbench evaluate
//! --json` prints; field names are stable once published.

use fuelbench_complexity::{Class, ClassFit, Sample};
use fuelbench_problems::Failure;

use crate::Extraction;

/// The verdict on one answer to one problem: its tests, complexity and
/// numerical cases, and what it ran under.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Report {
    /// The problem's id.
    pub problem: String,
    /// Every small and edge case passed: pass@1 for this problem.
    pub passed: bool,
    /// How many of the tests in `cases` passed.
    pub tests_passed: usize,
    /// How many tests there are: `cases`'s length, or the problem's test count
    /// when no code was found.
    pub tests_total: usize,
    /// Why the candidate fell short, the first of: a test failure, a
    /// complexity mismatch, a numerical failure. `None` when it did not.
    pub failure_class: Option<Failure>,
    /// Each test's result, in order: the fixed cases, the generated ones, then
    /// the check for forbidden names; empty when no code was found.
    pub cases: Vec<CaseResult>,
    /// `None` when the tests failed and complexity was not measured.
    pub complexity: Option<ComplexityReport>,
    /// `None` when the problem has no numerical cases or the tests failed.
    pub numerical: Option<NumericalReport>,
    /// How many numerical cases the problem has, run or not.
    pub numerical_cases: usize,
    /// Fuel of all test cases together.
    pub fuel_used: u64,
    /// How the code was found, when it came from a model's reply.
    pub extraction: Option<Extraction>,
    /// The refactored version's verdict, when one was evaluated.
    pub refactor: Option<RefactorReport>,
    /// What the evaluation ran under; reports compare only when these are
    /// equal.
    pub reproducibility: Reproducibility,
}

/// How a refactored version fared beside the original.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RefactorReport {
    /// Both versions pass every test: refactor stability 1 for this problem.
    pub stable: bool,
    /// The refactored version passed every test on its own.
    pub passed: bool,
    /// How many tests the refactored version passed.
    pub tests_passed: usize,
    /// How many tests the refactored version was run on.
    pub tests_total: usize,
    /// Why the refactored version fell short, as [`Report::failure_class`];
    /// `None` when it did not.
    pub failure_class: Option<Failure>,
    /// How the refactored version's code was found, when it came from a model's
    /// reply.
    pub extraction: Option<Extraction>,
}

impl RefactorReport {
    /// The refactored version's `refactored` report, judged beside `original`.
    pub fn new(original: &Report, refactored: &Report) -> RefactorReport {
        RefactorReport {
            stable: crate::score::refactor_stable(original, refactored),
            passed: refactored.passed,
            tests_passed: refactored.tests_passed,
            tests_total: refactored.tests_total,
            failure_class: refactored.failure_class,
            extraction: refactored.extraction.clone(),
        }
    }
}

/// How one test case went.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CaseResult {
    /// The case's name; [`Report::changes_since`] matches cases of two reports
    /// by it.
    pub name: String,
    /// How the case ended.
    pub outcome: CaseOutcome,
    /// What went wrong, for a human: the exception, or got-versus-want.
    pub detail: Option<String>,
    /// `None` after a wall-clock cut-off.
    pub fuel_used: Option<u64>,
}

/// How one test case ended: `pass`, or what made it fail.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[expect(
    missing_docs,
    reason = "a doc comment on a unit variant would split the enum's JSON Schema into a oneOf"
)]
pub enum CaseOutcome {
    Pass,
    WrongAnswer,
    Exception,
    SyntaxError,
    // The candidate ended the interpreter (`os._exit`) instead of returning.
    // (A plain comment: a doc comment would split the enum's JSON Schema.)
    Exited,
    OutOfFuel,
    // `timeout` in results files before schema 2.
    #[serde(alias = "timeout")]
    WallClock,
    Memory,
}

impl CaseOutcome {
    pub(crate) fn failure(self) -> Option<Failure> {
        match self {
            CaseOutcome::Pass => None,
            CaseOutcome::WrongAnswer => Some(Failure::WrongAnswer),
            CaseOutcome::Exception => Some(Failure::Exception),
            CaseOutcome::SyntaxError => Some(Failure::SyntaxError),
            CaseOutcome::Exited => Some(Failure::Exited),
            CaseOutcome::OutOfFuel => Some(Failure::OutOfFuel),
            CaseOutcome::WallClock => Some(Failure::WallClock),
            CaseOutcome::Memory => Some(Failure::Memory),
        }
    }
}

/// The complexity verdict: the candidate's fuel over a series of input sizes,
/// fitted to a class and set against the reference's.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ComplexityReport {
    /// The class the problem expects a solution to have.
    pub expected: Class,
    /// `None` when too few sizes ran to fit (see `note`).
    pub fitted: Option<Class>,
    /// No mismatch was found (`mismatch` is `None`); `match` in JSON.
    #[serde(rename = "match")]
    pub matched: bool,
    /// The least-squares slope of `ln fuel` against `ln n` over `samples`;
    /// `None` when too few sizes ran to fit.
    pub log_log_slope: Option<f64>,
    /// Fuel of the call alone, per size.
    pub samples: Vec<Sample>,
    /// Every class that could be fitted to `samples`, in class order; empty
    /// when none could.
    pub fits: Vec<ClassFit>,
    /// Why the series stopped early or could not be fitted.
    pub note: Option<String>,
    /// Why it does not match, when it does not.
    #[serde(default)]
    pub mismatch: Option<Mismatch>,
    /// Why the series ended before its largest size, when it did; the fit
    /// may still be the mismatch's reason.
    #[serde(default)]
    pub stopped: Option<Mismatch>,
    /// The reference's fuel at each size the candidate was run at.
    #[serde(default)]
    pub reference: Vec<Sample>,
    /// The candidate's cost over the reference's at the largest size it
    /// ran at: how much dearer it is, whatever its class.
    #[serde(default)]
    pub reference_ratio: Option<f64>,
    /// The log-log slope of that ratio over the sizes: 0 when the candidate
    /// grows exactly as the reference does, about 0.15 for an extra log
    /// factor over two decades, 1 for an extra factor of n.
    #[serde(default)]
    pub ratio_slope: Option<f64>,
    /// The run at a size past the fitted ones, drawn from the seed, when
    /// the problem has one and the series got that far.
    #[serde(default)]
    pub probe: Option<ProbeReport>,
    /// The candidate's fuel budget at each of those sizes: the reference's
    /// cost there, or what a solution of the expected class would cost if
    /// it cost what the reference does at the smallest size, whichever is
    /// more, times `budget_factor` (see `EvalConfig::budget_factor`).
    #[serde(default)]
    pub budgets: Vec<u64>,
    /// `K` in "more than K times the reference"; 0 in reports written
    /// before budgets followed the reference.
    #[serde(default)]
    pub budget_factor: u64,
}

/// The complexity run at the probe: a size past the fitted range, secret
/// until the evaluation is over, where a candidate must cost about what its
/// own curve predicts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ProbeReport {
    /// The probe's input size, drawn from the evaluation's seed.
    pub n: u64,
    /// The candidate's fuel for the call; `None` when it needed more than
    /// `budget` and was stopped there.
    pub cost: Option<f64>,
    /// The reference's fuel for the call at `n`.
    pub reference_cost: f64,
    /// The largest fitted size, which the prediction grows from.
    pub from_n: u64,
    /// The candidate's cost at `from_n` grown to `n` as its expected class
    /// grows, or as the reference does when that is more.
    pub predicted: f64,
    /// The fuel the call had: the size's usual budget, up to a cap.
    pub budget: u64,
}

impl ProbeReport {
    /// The cost over the prediction (the budget's, when it ran out): about
    /// 1 for a solution of its class, the extra growth for a dearer one.
    pub fn over(&self) -> f64 {
        self.cost.unwrap_or(self.budget as f64) / self.predicted.max(1.0)
    }
}

/// Why a complexity series does not match its expected class.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    /// The series fits a dearer class than expected.
    Class {
        /// The class the series fits.
        fitted: Class,
    },
    /// The call needed more than its budget at size `n`: more than
    /// `factor` times the reference.
    OverBudget {
        /// The input size.
        n: u64,
        /// The call's fuel budget at `n`.
        budget: u64,
        /// `budget` over the reference's fuel at `n`, rounded down.
        factor: u64,
    },
    /// The answer at size `n` differs from the reference's.
    WrongAnswer {
        /// The input size.
        n: u64,
    },
    /// The call failed at size `n` otherwise: it raised (`raised`, which
    /// fails the problem's tests too), or ran out of memory or time.
    Failed {
        /// The input size the call failed at.
        n: u64,
        /// It raised, or failed as a wrong answer does, which fails the
        /// problem's tests too; `false` when a limit or a crash stopped it, or
        /// the report predates the field.
        #[serde(default)]
        raised: bool,
    },
    /// Too few sizes ran to fit a class.
    Unfitted,
    /// At the probe, size `n`, the call cost `over` times (`at_least`:
    /// more than, when it ran out of budget) what the candidate's own curve
    /// predicts for its expected class.
    Probe {
        /// The probe's input size.
        n: u64,
        /// The call's cost over its prediction (see [`ProbeReport::over`]).
        over: f64,
        /// The call ran out of budget, so `over` is a lower bound.
        at_least: bool,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Class { fitted } => write!(f, "fits {fitted}"),
            Mismatch::OverBudget { n, budget, factor } => write!(
                f,
                "more than {factor}x the reference at n = {n} (a budget of {budget} fuel)"
            ),
            Mismatch::WrongAnswer { n } => {
                write!(f, "the answer differs from the reference's at n = {n}")
            }
            Mismatch::Failed { n, .. } => write!(f, "failed at n = {n}"),
            Mismatch::Unfitted => f.write_str("too few sizes ran to fit a class"),
            Mismatch::Probe { n, over, at_least } => write!(
                f,
                "at n = {n}, past the fitted sizes, it cost {}{over:.2}x what its own curve predicts for its class",
                if *at_least { "more than " } else { "" }
            ),
        }
    }
}

/// How the candidate fared on the problem's numerical cases, fixed and
/// generated; run only once its tests pass.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct NumericalReport {
    /// How many numerical cases passed.
    pub passed: usize,
    /// How many numerical cases ran: the fixed ones and the generated ones.
    pub total: usize,
    /// Each numerical case's result, the fixed ones first.
    pub cases: Vec<CaseResult>,
}

/// Everything that must be equal for two reports to be comparable.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Reproducibility {
    /// The version of fuelbench that evaluated.
    pub fuelbench_version: String,
    /// The version of wasmtime the sandbox ran on.
    pub wasmtime_version: String,
    /// SHA-256 of the CPython-for-WASI reactor module, in hex.
    pub python_wasm_sha256: String,
    /// SHA-256 of the interpreter snapshot every run starts from, in hex.
    pub snapshot_sha256: String,
    /// Fuel for one test case, loading included (`EvalConfig::case_fuel`).
    pub case_fuel: u64,
    /// The most fuel one complexity call may have, whatever its budget
    /// (`EvalConfig::measure_fuel`).
    pub measure_fuel: u64,
    /// 0 in reports written before budgets followed the reference.
    #[serde(default)]
    pub budget_factor: u64,
    /// Fuel for one public-suite task (`EvalConfig::suite_fuel`).
    pub suite_fuel: u64,
    /// The evaluation's secret seed, which every generated input is drawn from.
    pub seed: u64,
    /// The public suite the task came from, for a report on a suite's task;
    /// `None` for our own problems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<SuiteSource>,
}

/// A public suite (HumanEval's format) as a run answered it: which file, from
/// where. Two runs on suites of other hashes faced other tests.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct SuiteSource {
    /// The suite's short name, as `--suite` takes it: `humaneval`.
    pub name: String,
    /// Where the file came from, for a human: the package and version it
    /// ships in, or the path it was read from.
    pub origin: String,
    /// sha256 of the suite file as read (gzipped or not), hex.
    pub sha256: String,
}

impl Report {
    /// What differs between `before`, an older report of the same answer,
    /// and this one, a line each: the verdict, each case whose outcome
    /// changed (with why), cases added or dropped, the complexity verdict,
    /// the numerical count. Empty when the verdicts agree.
    pub fn changes_since(&self, before: &Report) -> Vec<String> {
        let mut lines = Vec::new();
        let failure = |report: &Report| {
            report
                .failure_class
                .map_or("pass".to_owned(), |failure| failure.to_string())
        };
        if self.failure_class != before.failure_class {
            lines.push(format!("verdict: {} -> {}", failure(before), failure(self)));
        }
        let cases = |report: &Report| {
            let numerical = report
                .numerical
                .iter()
                .flat_map(|numerical| &numerical.cases);
            report
                .cases
                .iter()
                .chain(numerical)
                .cloned()
                .collect::<Vec<_>>()
        };
        let (old, new) = (cases(before), cases(self));
        for case in &new {
            match old.iter().find(|old| old.name == case.name) {
                Some(old) if old.outcome != case.outcome => lines.push(format!(
                    "case {}: {} -> {}{}",
                    case.name,
                    outcome_name(old.outcome),
                    outcome_name(case.outcome),
                    case.detail
                        .as_ref()
                        .map_or(String::new(), |detail| format!(" ({detail})"))
                )),
                Some(_) => {}
                // Cases are only run while the tests pass: a new one in a
                // report whose tests failed before is not news.
                None if before.cases.is_empty() => {}
                None => lines.push(format!(
                    "new case {}: {}{}",
                    case.name,
                    outcome_name(case.outcome),
                    case.detail
                        .as_ref()
                        .map_or(String::new(), |detail| format!(" ({detail})"))
                )),
            }
        }
        let verdict = |report: &Report| {
            report.complexity.as_ref().map(|complexity| {
                let fitted = complexity
                    .fitted
                    .map_or("unfitted".to_owned(), |class| class.to_string());
                match &complexity.mismatch {
                    Some(mismatch) => format!("{fitted}, mismatch: {mismatch}"),
                    None if complexity.matched => format!("{fitted}, matches"),
                    None => format!(
                        "{fitted}, mismatch{}",
                        complexity
                            .note
                            .as_ref()
                            .map_or(String::new(), |note| format!(": {note}"))
                    ),
                }
            })
        };
        if let (Some(old), Some(new)) = (verdict(before), verdict(self))
            && old != new
        {
            lines.push(format!("complexity: {old} -> {new}"));
        }
        lines
    }
}

fn outcome_name(outcome: CaseOutcome) -> String {
    serde_json::to_value(outcome)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}
