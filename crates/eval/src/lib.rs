//! From a problem and a piece of code to a [`Report`] a user can trust.
//!
//! [`Evaluator::evaluate`] runs the candidate in the sandbox three ways:
//!
//! 1. **Tests.** Every small and edge case in a fresh sandbox of its own, so
//!    one case that hangs or corrupts global state cannot touch another. The
//!    in-guest harness (`python-wasm/runner.py`) loads the candidate as the
//!    module `solution`, calls it, compares as the case says and reports.
//! 2. **Complexity**, when the tests pass. For each size, one run builds the
//!    input with the problem's set-up code, then reads the guest's fuel
//!    counter (`_fuelbench.fuel()`, a host import) just before and just after
//!    the call: the candidate's cost at that size, exactly, whatever the
//!    machine is doing, with neither loading nor set-up in it. The series is
//!    fitted by `fuelbench-complexity`. A size that runs out of its fuel
//!    budget ends the series: solutions in a worse class than expected are
//!    caught as a mismatch rather than run for minutes.
//! 3. **Numerical stability**, when the tests pass and the problem has
//!    numerical cases: the fraction of them within tolerance.
//!
//! A model's whole reply goes through [`extract`] first ([`Evaluator::evaluate_reply`]);
//! a reply without code is a `no_code` failure, not an error.
//!
//! This crate knows nothing of HTTP, clap or terminals.

mod evaluate;
mod extract;
mod report;
pub mod run;
pub mod score;
pub mod suite;

pub use crate::evaluate::{EvalConfig, Evaluator};
pub use crate::extract::{Extraction, extract};
pub use crate::report::{
    CaseOutcome, CaseResult, ComplexityReport, NumericalReport, RefactorReport, Report,
    Reproducibility,
};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("run the candidate")]
    Sandbox(#[from] fuelbench_sandbox::Error),
    #[error("read the harness's report: {0}")]
    Harness(String),
}
