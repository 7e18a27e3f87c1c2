//! What an evaluation found. Serialises to the JSON `fuelbench evaluate
//! --json` prints; field names are stable once published.

use fuelbench_complexity::{Class, ClassFit, Sample};
use fuelbench_problems::Failure;

use crate::Extraction;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub problem: String,
    /// Every small and edge case passed: pass@1 for this problem.
    pub passed: bool,
    pub tests_passed: usize,
    pub tests_total: usize,
    /// Why the candidate fell short, the first of: a test failure, a
    /// complexity mismatch, a numerical failure. `None` when it did not.
    pub failure_class: Option<Failure>,
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
    pub reproducibility: Reproducibility,
}

/// How a refactored version fared beside the original.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RefactorReport {
    /// Both versions pass every test: refactor stability 1 for this problem.
    pub stable: bool,
    pub passed: bool,
    pub tests_passed: usize,
    pub tests_total: usize,
    pub failure_class: Option<Failure>,
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

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CaseResult {
    pub name: String,
    pub outcome: CaseOutcome,
    /// What went wrong, for a human: the exception, or got-versus-want.
    pub detail: Option<String>,
    /// `None` after a wall-clock cut-off.
    pub fuel_used: Option<u64>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
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

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ComplexityReport {
    pub expected: Class,
    /// `None` when too few sizes ran to fit (see `note`).
    pub fitted: Option<Class>,
    #[serde(rename = "match")]
    pub matched: bool,
    pub log_log_slope: Option<f64>,
    /// Fuel of the call alone, per size.
    pub samples: Vec<Sample>,
    pub fits: Vec<ClassFit>,
    /// Why the series stopped early or could not be fitted.
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct NumericalReport {
    pub passed: usize,
    pub total: usize,
    pub cases: Vec<CaseResult>,
}

/// Everything that must be equal for two reports to be comparable.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Reproducibility {
    pub fuelbench_version: String,
    pub wasmtime_version: String,
    pub python_wasm_sha256: String,
    pub snapshot_sha256: String,
    pub case_fuel: u64,
    pub measure_fuel: u64,
    pub suite_fuel: u64,
    pub seed: u64,
}
