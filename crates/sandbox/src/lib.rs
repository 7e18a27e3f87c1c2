//! Runs untrusted Python source inside CPython built for WASI, under wasmtime.
//!
//! This is the only crate that names `wasmtime` or `wasmtime_wasi`; everything
//! it exposes is ours: a [`Sandbox`] that runs a [`Program`] under [`Limits`]
//! and answers with a [`RunOutcome`].
//!
//! # How a run starts in under a millisecond
//!
//! `python-wasm/build.sh` builds the interpreter as a *reactor* module
//! (`python.wasm`) plus its standard library. The first time a [`Sandbox`] is
//! built for that interpreter, it instantiates the module once, initialises
//! CPython and imports our in-guest runner (`python-wasm/runner.py`, compiled
//! into this crate) with the common standard library, and snapshots the
//! resulting memory with Wizer ([`snapshot`]). The snapshot is compiled by
//! cranelift and the machine code cached on disk ([`cache`]), so later
//! processes only map it in. Every run is a fresh instance of that snapshot in
//! a fresh `Store`: copy-on-write memory, no interpreter start-up, and no state
//! shared with any other run. Instances live in the warm slots of wasmtime's
//! pooling allocator ([`slots`](crate::slots)), which keep the snapshot mapped
//! and copy it back when an instance ends, so starting one takes no system
//! call.
//!
//! # What a guest can do
//!
//! Read the standard library (read-only), its given stdin, and nothing else:
//! no network, no environment variables, no other host files. Its stdout and
//! stderr are captured up to a cap. Its cost is counted in wasmtime *fuel*,
//! which is deterministic: the same program with the same input uses the same
//! fuel on every machine and under any load. Wall-clock time only serves as a
//! backstop against hangs (epoch interruption), and memory is capped per run.
//!
//! Broken guest code is a result, not an error: [`RunOutcome::status`] says
//! how the run ended. [`Error`] is for failures of the host.
//!
//! # Checking a candidate
//!
//! [`Sandbox::check`] does not hand the candidate a program to run: the host
//! drives the reactor export by export, the entry point is called from C,
//! the result comes back as data ([`Value`], [`Raised`]) decoded here from
//! exact built-in types, and the fuel of the call is read by the host. So a
//! verdict built from a [`CheckOutcome`] depends on nothing the candidate can
//! reach. See [`check`](crate::check) for the steps.

mod cache;
mod check;
mod error;
mod guest;
mod instance;
mod interrupt;
mod limits;
mod outcome;
mod pins;
mod pipe;
mod sandbox;
mod sleep;
mod slots;
mod snapshot;
mod value;

pub use crate::check::{
    CallKind, Check, CheckOutcome, Ending, Inputs, InputsSeen, Stage, SuiteCheck, derived_seed,
};
pub use crate::error::{Error, Result};
pub use crate::interrupt::Interrupt;
pub use crate::limits::Limits;
pub use crate::outcome::{RunOutcome, Status};
pub use crate::pins::Pins;
pub use crate::sandbox::{Interpreter, Program, Sandbox, SandboxBuilder};
pub use crate::value::{Raised, Value, clipped};

/// The wasmtime version this crate is built against, for reproducibility keys.
pub const WASMTIME_VERSION: &str = "48.0.8";
