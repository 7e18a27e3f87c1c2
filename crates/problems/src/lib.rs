//! Loads and validates the problem set in `problems/`.
//!
//! A problem is one folder:
//!
//! ```text
//! problems/<id>/
//!   problem.toml   metadata, tests, complexity and numerical specs, the refactor request
//!   prompt.md      what the model sees: the signature and the contract
//!   reference.py   a correct solution; scores 1.0 on every metric that applies
//!   wrong/*.py     planted wrong solutions, each opening with `# expect: <failure>`
//!   right/*.py     correct solutions written unlike the reference; each must
//!                  score 1.0 as it does, so no correct answer is failed
//! ```
//!
//! Test inputs and expected values are Python literals kept as strings
//! (`args = "([3, 1, 2], 2)"`): they are evaluated inside the sandbox, never on
//! the host. Everything else is checked here, on load, and a malformed problem
//! is rejected with the file, the field and the reason.
//!
//! It also reads public suites in HumanEval's JSONL format ([`load_suite`]) and
//! samples to score against them ([`load_samples`]).
//!
//! This crate reads files and nothing else; running a problem is `eval`'s job.

mod load;
mod suite;

use std::path::PathBuf;

pub use fuelbench_complexity::Class;

pub use crate::load::{COMPLEXITY, FORBIDDEN, GENERATED, GENERATED_NUMERICAL, load, load_dir};
pub use crate::suite::{SampleCode, SuiteSample, SuiteTask, load_samples, load_suite};

/// One problem, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The folder name, e.g. `p04_lru_cache`.
    pub id: String,
    pub title: String,
    /// 1 (warm-up) to 4 (separates strong models from weak ones).
    pub difficulty: u8,
    pub category: String,
    /// The function or class the tests call.
    pub entry_point: String,
    pub kind: Kind,
    /// The statement the model is given.
    pub prompt: String,
    /// Sent after a solve, with the model's own code.
    pub refactor_request: String,
    /// How results are compared unless a case says otherwise.
    pub compare: Compare,
    pub small: Vec<Case>,
    pub edge: Vec<Case>,
    pub complexity: ComplexitySpec,
    /// Cases built to break naive floating point; empty where none apply.
    pub numerical: Vec<Case>,
    /// Inputs drawn afresh from each evaluation's secret seed, on which the
    /// candidate must agree with the reference: the test [`GENERATED`].
    pub generated: Option<Generator>,
    /// Numerical cases drawn the same way, with expected values the
    /// generator computes exactly: [`GENERATED_NUMERICAL`], beside
    /// `numerical`.
    pub generated_numerical: Option<Generator>,
    /// What the prompt demands, each with the cases that check it.
    pub requirements: Vec<Requirement>,
    /// Names the prompt forbids the solution to use (`eval`, `ast`), checked
    /// on its syntax tree as the extra test [`FORBIDDEN`].
    pub forbidden: Vec<String>,
    pub reference: String,
    pub wrong: Vec<WrongSolution>,
    /// Correct solutions other than the reference: another algorithm, style
    /// or class, each of which must score 1.0.
    pub right: Vec<RightSolution>,
    pub dir: PathBuf,
}

impl Problem {
    /// Small and edge cases, in that order: what pass@1 is judged on.
    pub fn tests(&self) -> impl Iterator<Item = &Case> {
        self.small.iter().chain(&self.edge)
    }

    /// How many tests a report counts: the cases, the generated cases as
    /// one, and the forbidden-names check where the problem forbids any.
    pub fn test_count(&self) -> usize {
        self.small.len()
            + self.edge.len()
            + usize::from(self.generated.is_some())
            + usize::from(!self.forbidden.is_empty())
    }

    /// How many numerical checks a report counts: the fixed cases, and the
    /// generated ones as one.
    pub fn numerical_count(&self) -> usize {
        self.numerical.len() + usize::from(self.generated_numerical.is_some())
    }
}

/// What the tests call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `entry_point(*args)`.
    Function,
    /// `entry_point(*init_args)`, then a list of method calls on the instance.
    Class,
}

/// How a result is compared with the expected value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    #[serde(default)]
    pub mode: CompareMode,
    /// Floats match when `math.isclose(got, want, rel_tol, abs_tol)`.
    #[serde(default = "default_tolerance")]
    pub rel_tol: f64,
    #[serde(default = "default_tolerance")]
    pub abs_tol: f64,
}

fn default_tolerance() -> f64 {
    1e-9
}

impl Default for Compare {
    fn default() -> Self {
        Compare {
            mode: CompareMode::Exact,
            rel_tol: default_tolerance(),
            abs_tol: default_tolerance(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareMode {
    /// `==`, except that floats anywhere inside use the tolerances.
    #[default]
    Exact,
    /// Like `exact`, but the outer sequence's order does not matter.
    Unordered,
}

/// One test case.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Case {
    /// Names the case in reports: `small[2]`, or the name given in the file.
    pub name: String,
    pub input: Input,
    pub expect: Expect,
    pub compare: Compare,
    /// The call must leave its arguments as they were.
    pub unchanged_inputs: bool,
}

/// One behaviour a prompt demands, from the requirements audit in
/// `problem.toml`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Requirement {
    /// The behaviour, in a line.
    pub text: String,
    /// The cases that fail a solution breaking it alone: case names, or
    /// [`COMPLEXITY`] for the complexity series.
    pub cases: Vec<String>,
    /// The planted solution under `wrong/` that breaks only this, by name:
    /// selftest proves one of `cases` catches it.
    pub plant: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// A Python literal tuple of positional arguments.
    Args(String),
    /// A Python literal list of `(method, args_tuple)`; the first is
    /// `("__init__", (...))`, and the result is the list of return values.
    Calls(String),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// A Python literal.
    Value(String),
    /// The name of the exception the call must raise (a subclass will do).
    Raises(String),
}

/// How growing inputs are built, and the class a good solution is in.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ComplexitySpec {
    pub expected: Class,
    /// At least six, increasing, spanning at least 30x.
    pub sizes: Vec<u64>,
    /// Python that, given `n` and a seeded `random`, binds `args` (a tuple)
    /// or, for a class, `calls`. Its cost is measured alone and subtracted.
    pub setup: String,
}

/// A problem's generator of inputs (`[generated]` or
/// `[numerical_generated]` in `problem.toml`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Generator {
    /// Inputs per evaluation.
    pub count: usize,
    /// Python run before the candidate loads, with `rng` (a `random.Random`
    /// of its own, seeded from the evaluation's secret seed) and `count`: it
    /// binds `inputs`, and for numerical cases `expected`, computed exactly.
    pub code: String,
    /// How answers are compared.
    pub compare: Compare,
}

/// A correct solution written unlike the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct RightSolution {
    /// File name without `.py`.
    pub name: String,
    pub source: String,
}

/// A planted wrong solution and how it must be caught.
#[derive(Debug, Clone, PartialEq)]
pub struct WrongSolution {
    /// File name without `.py`.
    pub name: String,
    pub source: String,
    pub expect: Failure,
    /// For a complexity mismatch, the class the plant is in: the fit must
    /// say so, not only the budget.
    pub class: Option<Class>,
}

/// How a candidate falls short. The test-level classes are what pass@1 reports;
/// the last two are caught by the complexity and numerical checks while the
/// tests pass.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    NoCode,
    SyntaxError,
    WrongAnswer,
    Exception,
    // The candidate ended the interpreter (`os._exit`) instead of returning
    // or raising. (A plain comment: a doc comment would split the enum's
    // JSON Schema.)
    Exited,
    OutOfFuel,
    // The wall-clock backstop fired. `timeout` in results files before
    // schema 2.
    #[serde(alias = "timeout")]
    WallClock,
    Memory,
    ComplexityMismatch,
    NumericalInstability,
}

impl Failure {
    pub const ALL: [Failure; 10] = [
        Failure::NoCode,
        Failure::SyntaxError,
        Failure::WrongAnswer,
        Failure::Exception,
        Failure::Exited,
        Failure::OutOfFuel,
        Failure::WallClock,
        Failure::Memory,
        Failure::ComplexityMismatch,
        Failure::NumericalInstability,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Failure::NoCode => "no_code",
            Failure::SyntaxError => "syntax_error",
            Failure::WrongAnswer => "wrong_answer",
            Failure::Exception => "exception",
            Failure::Exited => "exited",
            Failure::OutOfFuel => "out_of_fuel",
            Failure::WallClock => "wall_clock",
            Failure::Memory => "memory",
            Failure::ComplexityMismatch => "complexity_mismatch",
            Failure::NumericalInstability => "numerical_instability",
        }
    }

    pub fn parse(text: &str) -> Option<Failure> {
        Failure::ALL
            .into_iter()
            .find(|failure| failure.name() == text)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parse {file}")]
    Toml {
        file: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("load {file}: field `{field}`: {reason}")]
    Invalid {
        file: PathBuf,
        field: String,
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `name` and serde must publish the same names.
    #[test]
    fn failure_names_match_their_serialisation() {
        for failure in Failure::ALL {
            let json = serde_json::to_value(failure).expect("serialisable");
            assert_eq!(json, failure.name());
            assert_eq!(Failure::parse(failure.name()), Some(failure));
        }
    }
}
