//! From a problem and a piece of code to a [`Report`] a user can trust.
//!
//! [`Evaluator::evaluate`] runs the candidate in the sandbox three ways:
//!
//! 1. **Tests.** Every small and edge case in a fresh sandbox of its own, so
//!    one case that hangs or corrupts global state cannot touch another. The
//!    sandbox builds the case's inputs, loads the candidate as the module
//!    `solution`, calls it from C and hands back what it returned or raised
//!    as data ([`fuelbench_sandbox::Sandbox::check`]); [`compare`] judges it
//!    here, on the host, against the expected value, which was evaluated in
//!    a sandbox of its own and never enters the candidate's.
//! 2. **Complexity**, when the tests pass. For each size, the sandbox builds
//!    the input with the problem's set-up code before the candidate loads,
//!    and the host reads the store's fuel just before and just after the
//!    call: the candidate's cost at that size, exactly, whatever the machine
//!    is doing, with neither loading nor set-up in it. The series is fitted
//!    by `fuelbench-complexity`. A size that runs out of its fuel budget ends
//!    the series: solutions in a worse class than expected are caught as a
//!    mismatch rather than run for minutes. So does an answer that differs
//!    from the reference's at that size: fuel alone would reward a candidate
//!    that is right on the small cases and cheaply wrong on large inputs.
//! 3. **Numerical stability**, when the tests pass and the problem has
//!    numerical cases: the fraction of them within tolerance.
//!
//! A model's whole reply goes through [`extract`] first ([`Evaluator::evaluate_reply`]);
//! a reply without code is a `no_code` failure, not an error.
//!
//! A verdict depends only on data the host decoded and fuel the host read:
//! no code of the candidate's takes part in judging it.
//!
//! This crate knows nothing of HTTP, clap or terminals.

pub mod compare;
mod evaluate;
mod extract;
mod report;
pub mod score;
pub mod selftest;
pub mod stats;
pub mod suite;

pub use crate::evaluate::{Answer, EvalConfig, Evaluator, PROBE_SLACK};
pub use crate::extract::{Extraction, extract, extract_completion};
pub use crate::report::{
    CaseOutcome, CaseResult, ComplexityReport, Mismatch, NumericalReport, ProbeReport,
    RefactorReport, Report, Reproducibility, SuiteSource,
};
/// How every seed of a run is split from the run's own, for the runner's
/// requests as for the sandbox's inputs.
pub use fuelbench_sandbox::derived_seed;

/// The crate's `Result`, whose error is [`Error`] unless given.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an evaluation failed on the host; never a verdict on the candidate,
/// which is a [`Report`]. Messages read after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The sandbox could not prepare or run a guest.
    #[error("run the candidate")]
    Sandbox(#[from] fuelbench_sandbox::Error),
    /// The problem, not the candidate, is broken: a malformed case or expected
    /// value, a complexity set-up that fails, a suite check that answers
    /// neither pass nor fail.
    #[error("read the harness's report: {0}")]
    Harness(String),
}
