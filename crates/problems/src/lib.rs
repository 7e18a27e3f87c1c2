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
    /// A short human name, e.g. "Merge intervals"; never empty.
    pub title: String,
    /// 1 (warm-up) to 4 (separates strong models from weak ones).
    pub difficulty: u8,
    /// A free-text grouping, e.g. "data structures"; never empty.
    pub category: String,
    /// The function or class the tests call.
    pub entry_point: String,
    /// Whether the tests call a function or drive a class.
    pub kind: Kind,
    /// The statement the model is given.
    pub prompt: String,
    /// Sent after a solve, with the model's own code.
    pub refactor_request: String,
    /// How results are compared unless a case says otherwise.
    pub compare: Compare,
    /// Ordinary cases, at least five; with `edge`, what pass@1 is judged on.
    pub small: Vec<Case>,
    /// Boundary cases (empty, huge or repeated inputs), at least five.
    pub edge: Vec<Case>,
    /// How the complexity series is built, and the class it must show.
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
    /// `reference.py`: a correct solution, scoring 1.0 on every metric that applies.
    pub reference: String,
    /// The planted wrong solutions in `wrong/`, each with how it must be caught.
    pub wrong: Vec<WrongSolution>,
    /// Correct solutions other than the reference: another algorithm, style
    /// or class, each of which must score 1.0.
    pub right: Vec<RightSolution>,
    /// The folder it was loaded from.
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
    /// Whether order matters; exact by default.
    #[serde(default)]
    pub mode: CompareMode,
    /// Floats match when `math.isclose(got, want, rel_tol, abs_tol)`.
    #[serde(default = "default_tolerance")]
    pub rel_tol: f64,
    /// The absolute tolerance in that check. Both are 1e-9 unless given, and must be
    /// finite and not negative.
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

/// Whether a result's outer sequence must be in the expected order.
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
    /// What the entry point is called with.
    pub input: Input,
    /// The value it must return, or the exception it must raise.
    pub expect: Expect,
    /// How the result is compared: the case's own setting, else the problem's.
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

/// A case's input, by the problem's [`Kind`]: arguments for a function,
/// calls for a class.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// A Python literal tuple of positional arguments.
    Args(String),
    /// A Python literal list of `(method, args_tuple)`; the first is
    /// `("__init__", (...))`, and the result is the list of return values.
    Calls(String),
}

/// What a case's call must do.
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
    /// The class a good solution is in; a cheaper one passes too.
    pub expected: Class,
    /// At least six, increasing, spanning at least 100x.
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
    /// The file's Python source.
    pub source: String,
}

/// A planted wrong solution and how it must be caught.
#[derive(Debug, Clone, PartialEq)]
pub struct WrongSolution {
    /// File name without `.py`.
    pub name: String,
    /// The file's Python source.
    pub source: String,
    /// The failure it must be caught with, from its `# expect:` first line.
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
#[expect(
    missing_docs,
    reason = "a doc comment on a unit variant would split the enum's JSON Schema into a oneOf"
)]
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
    /// Every failure, in declaration order: for reading a name back and listing them all.
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

    /// The stable snake_case name that serde writes, as results files and `# expect:`
    /// lines spell it.
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

    /// The failure whose [`Failure::name`] is `text`; `None` for anything else.
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

/// A result whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a problem or a suite could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("read {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A `problem.toml` does not parse: bad TOML, or a field missing, unknown or of
    /// the wrong type.
    #[error("parse {file}")]
    Toml {
        /// The `problem.toml` at fault.
        file: PathBuf,
        /// The parser's account of where and what.
        #[source]
        source: toml::de::Error,
    },
    /// A file parses but breaks a rule of the problem set or of the suite format.
    #[error("load {file}: field `{field}`: {reason}")]
    Invalid {
        /// The file at fault.
        file: PathBuf,
        /// The field, case or line at fault, e.g. `small[2].args` or `line 7`.
        field: String,
        /// What is wrong with it, read after the field: `is empty`.
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
