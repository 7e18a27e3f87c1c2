//! Checking a candidate: the host drives every step and reads every figure.
//!
//! A plain [`Sandbox::run`] hands a whole program to the guest and gets back
//! an exit code and output. A check must not trust anything the candidate can
//! reach, so here the host calls the reactor's exports one at a time, in a
//! fresh instance:
//!
//! 1. `fuelbench_prepare`, before any candidate code: our Python reads the
//!    inputs (a case's literal, or a complexity set-up) and keeps them.
//! 2. `fuelbench_load`: the candidate's source becomes the module `solution`.
//! 3. `fuelbench_invoke`, twice: once dry, once calling the entry point from
//!    C. The fuel of the call is read by the host around the second, less the
//!    first: no fuel counter exists inside the guest.
//! 4. `fuelbench_result`: the reactor encodes what came back from exact
//!    built-in types only, and the host decodes it into a [`Value`] or a
//!    [`Raised`].
//!
//! Expected values never enter the guest: comparing is the caller's job.
//! A suite task ([`SuiteCheck`]) runs its own test code against the candidate
//! behind a proxy instead of step 3, and the host learns pass or fail from the
//! export's result.

mod reactor;

use std::time::Duration;

use serde_json::json;

use crate::error::{Error, Result};
use crate::instance::{Guest, with_wasm_stack};
use crate::limits::Limits;
use crate::outcome::Status;
use crate::sandbox::Sandbox;
use crate::value::{Outcome, Raised, Value};

use reactor::{Prepared, cut_off, memory_stop, prepare, read_encoding, read_outcome, read_raised};

/// Fuel for the harness's own steps (reading inputs, running a complexity
/// set-up, encoding a result), apart from the candidate's budget. The largest
/// set-up in the problem set takes about 60 million; encoding a result at the
/// reactor's 16 MiB cap about a billion.
const HARNESS_FUEL: u64 = 4_000_000_000;

/// What a check calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// `entry_point(*args)`.
    Function,
    /// `entry_point(*init_args)`, then each `(method, args)` on the instance;
    /// the result is the list of return values, `None` first.
    Class,
}

/// The candidate's inputs, built in the guest before the candidate loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inputs<'a> {
    /// A Python literal (arithmetic allowed): the argument tuple, or a class
    /// case's list of `(method, args)`.
    Literal(&'a str),
    /// Python that, given `n` and a `random` of its own seeded from the
    /// check's seed, binds `args` (or `calls`): one complexity input.
    Setup {
        /// The set-up's Python source.
        code: &'a str,
        /// The input size the set-up builds for.
        n: u64,
    },
    /// A problem's generator: Python that, given `rng` (a `random.Random`
    /// of its own, seeded from the check's seed) and `count`, binds
    /// `inputs`, `count` argument tuples (or class calls). The candidate is
    /// called on each in turn, in one instance, and the check ends in
    /// [`Ending::Batch`].
    Generated {
        /// The generator's Python source.
        code: &'a str,
        /// How many inputs it binds: how many calls the candidate gets.
        count: usize,
    },
}

/// One call of a candidate on one input.
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    /// The candidate's whole source.
    pub candidate: &'a str,
    /// The name of the function or class to call, as the candidate defines it.
    pub entry_point: &'a str,
    /// Whether `entry_point` is a function or a class.
    pub kind: CallKind,
    /// What the call is given, built in the guest before the candidate loads.
    pub inputs: Inputs<'a>,
    /// The check's secret: the module-level `random` the candidate sees,
    /// the generators that build its inputs and the guest's WASI random
    /// source are each seeded from it apart ([`derived_seed`]), so that
    /// nothing the candidate can read tells it the inputs' seed.
    pub seed: u64,
    /// Fuel for the call alone, apart from loading. `None`: loading and the
    /// call share `Limits::fuel`. With a budget, `Limits::fuel` is loading's
    /// and the call runs out of fuel exactly when it costs more than this.
    pub call_budget: Option<u64>,
    /// Read the inputs as built, and again after the call, into
    /// [`CheckOutcome::inputs`]: whether the call changed its arguments.
    pub watch_inputs: bool,
    /// Refuse, while the entry point runs, to compile or run any Python
    /// code (`compile`, `exec`, `eval`, `ast`, an import not yet loaded):
    /// for a problem whose prompt forbids evaluating code.
    pub forbid_compiling: bool,
}

/// A public suite's task (HumanEval's format) checked by its own test code.
#[derive(Debug, Clone, Copy)]
pub struct SuiteCheck<'a> {
    /// The suite's prompt, run alone before the candidate loads for the names
    /// its test may use (helpers, imports).
    pub prompt: &'a str,
    /// The candidate's whole module: the prompt and its completion, or a
    /// full solution.
    pub candidate: &'a str,
    /// The suite's test code, which defines `check(candidate)`.
    pub test: &'a str,
    /// The name of the function the test's `check` is given, behind a proxy.
    pub entry_point: &'a str,
    /// The check's secret, as [`Check::seed`]: the `random` the candidate sees
    /// and the guest's WASI random source are each seeded from it apart.
    pub seed: u64,
}

/// Where a check stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Loading the candidate: compiling and running its module.
    Load,
    /// Calling the entry point, or running a suite's test.
    Call,
    /// Encoding what the call returned.
    Result,
}

/// How a check ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// The entry point returned; `Value::Unrepresentable` somewhere inside
    /// when it was not made of exact built-in types.
    Returned(Value),
    /// A batch ([`Inputs::Generated`]) ran to its end: each input's ending,
    /// in order, `Returned` or `Raised`.
    Batch(Vec<Ending>),
    /// The entry point, or a suite's test, raised.
    Raised(Raised),
    /// A suite's test ran to its end.
    Passed,
    /// The candidate's source does not compile.
    SyntaxError(Raised),
    /// Running the candidate's module raised.
    LoadRaised(Raised),
    /// The module defines no such entry point.
    NoEntryPoint,
    /// A limit, a trap, or the candidate ending the process (`os._exit`:
    /// `Status::Exited` with its code). `detail` says what, for a human.
    CutOff {
        /// Where the check stopped.
        stage: Stage,
        /// What stopped it: a limit, a trap, or the candidate exiting.
        status: Status,
        /// The status the candidate ended the process with, for
        /// `Status::Exited`; `None` when a limit or trap stopped it.
        exit_code: Option<i32>,
        /// What stopped it, for a human.
        detail: String,
    },
    /// The inputs are malformed: our Python refused them before any
    /// candidate code ran. The problem's fault, not the candidate's.
    BadInput(String),
}

/// Everything a check produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    /// How the check ended.
    pub ending: Ending,
    /// Fuel of the call alone, read by the host just before and just after
    /// it, less the same reading around an empty call. `None` unless the call
    /// returned or raised.
    pub call_fuel: Option<u64>,
    /// Fuel the candidate used: loading and calling. `None` after the
    /// wall-clock backstop fired, or when it never loaded.
    pub fuel_used: Option<u64>,
    /// From a fresh store to the end of the check.
    pub wall_time: Duration,
    /// The inputs before the candidate loaded and after its call, when the
    /// check watched them and the call returned or raised.
    pub inputs: Option<InputsSeen>,
}

/// A call's inputs as the reactor encoded them, before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct InputsSeen {
    /// The inputs as built, before the candidate loaded.
    pub before: Value,
    /// The inputs after the call; a part the candidate replaced with its own
    /// objects is `Value::Unrepresentable`.
    pub after: Value,
}

impl Sandbox {
    /// Loads `check.candidate` in a fresh instance and calls it once on
    /// `check.inputs`. The candidate gets `limits.fuel` for loading and the
    /// call together; the harness's own steps are budgeted apart. `Err` means
    /// the host failed; everything the candidate does is in the outcome.
    pub fn check(&self, check: &Check<'_>, limits: &Limits) -> Result<CheckOutcome> {
        let kind = match check.kind {
            CallKind::Function => "function",
            CallKind::Class => "class",
        };
        let mut payload = match check.inputs {
            Inputs::Literal(input) => json!({ "mode": "case", "input": input }),
            Inputs::Setup { code, n } => json!({ "mode": "measure", "setup": code, "n": n }),
            Inputs::Generated { code, count } => {
                json!({ "mode": "generated", "code": code, "count": count })
            }
        };
        payload["kind"] = kind.into();
        payload["entry_point"] = check.entry_point.into();
        payload["forbid_compiling"] = check.forbid_compiling.into();
        seed_payload(&mut payload, check.seed);
        self.drive(
            &payload,
            check.candidate,
            check.seed,
            limits,
            Step::Invoke {
                budget: check.call_budget,
                watch_inputs: check.watch_inputs,
            },
        )
    }

    /// Runs a suite task's test against the candidate, which the test sees
    /// only through a proxy that lets plain built-in values through.
    pub fn check_suite(&self, task: &SuiteCheck<'_>, limits: &Limits) -> Result<CheckOutcome> {
        let mut payload = json!({
            "mode": "suite", "prompt": task.prompt, "test": task.test,
            "entry_point": task.entry_point,
        });
        seed_payload(&mut payload, task.seed);
        self.drive(&payload, task.candidate, task.seed, limits, Step::Suite)
    }

    /// Evaluates Python literals (arithmetic allowed) in an instance that
    /// never holds candidate code: how the host learns a problem's expected
    /// values with Python's own semantics. `Ok(Err(why))` when one is
    /// malformed.
    pub fn literals(
        &self,
        literals: &[&str],
        limits: &Limits,
    ) -> Result<Result<Vec<Value>, String>> {
        let payload = json!({ "mode": "literals", "literals": literals, "seed": 0 });
        self.harness_list(&payload, limits, "evaluating literals")
    }

    /// The `expected` values a problem's numerical generator binds beside
    /// its `inputs` under `seed` (see [`Inputs::Generated`]), computed in an
    /// instance that never holds candidate code. `Ok(Err(why))` when the
    /// generator failed: the problem's fault.
    pub fn generated_expected(
        &self,
        code: &str,
        count: usize,
        seed: u64,
        limits: &Limits,
    ) -> Result<Result<Vec<Value>, String>> {
        let mut payload = json!({ "mode": "expected", "code": code, "count": count });
        seed_payload(&mut payload, seed);
        self.harness_list(&payload, limits, "generating expected values")
    }

    /// Which of `names` the candidate's source uses (as a name it does not
    /// bind itself, an attribute, an imported module, or a string that is
    /// exactly one), read from its syntax tree in an instance that parses it
    /// and never runs it, as the loader reads it (its encoding cookie, no NUL).
    /// `Ok(Err(why))` when the source could not be read that far, by a
    /// parse error, nesting or its size: the check fails closed.
    pub fn names_used(
        &self,
        source: &str,
        names: &[&str],
        limits: &Limits,
    ) -> Result<Result<Vec<String>, String>> {
        let payload = json!({ "mode": "names", "source": source, "names": names, "seed": 0 });
        let mut guest = Guest::start(self, b"", 0, limits)?;
        let stop = match prepare(&mut guest, &payload)? {
            Ok(()) => match read_outcome(&mut guest)? {
                Ok(Outcome::Returned(Value::List(values))) => {
                    return values
                        .into_iter()
                        .map(|name| match name {
                            Value::Str(name) => Ok(name),
                            other => Err(Error::host(format!("a name came back as {other}"))),
                        })
                        .collect::<Result<_>>()
                        .map(Ok);
                }
                Ok(other) => {
                    return Err(Error::host(format!(
                        "reading the names a solution uses came back as {other:?}"
                    )));
                }
                Err(stop) => stop,
            },
            Err(Prepared::Refused(why)) => return Ok(Err(why)),
            Err(Prepared::Stopped(stop)) => stop,
        };
        Ok(Err(stop.detail.unwrap_or_else(|| stop.status.to_string())))
    }

    /// Runs `prepare` alone on a data `payload`, in an instance that never
    /// holds candidate code, and decodes the list it returns; `Ok(Err(why))`
    /// when our Python refused the payload. `what` names the work in errors.
    fn harness_list(
        &self,
        payload: &serde_json::Value,
        limits: &Limits,
        what: &str,
    ) -> Result<Result<Vec<Value>, String>> {
        let mut guest = Guest::start(self, b"", 0, limits)?;
        let stop = match prepare(&mut guest, payload)? {
            Ok(()) => match read_outcome(&mut guest)? {
                Ok(Outcome::Returned(Value::List(values))) => return Ok(Ok(values)),
                Ok(Outcome::Raised(raised)) => return Ok(Err(raised.describe())),
                Ok(Outcome::Returned(other)) => {
                    return Err(Error::host(format!("{what} came back as {other}")));
                }
                Ok(Outcome::Batch(_)) => {
                    return Err(Error::host(format!("{what} came back as a batch")));
                }
                Err(stop) => stop,
            },
            Err(Prepared::Refused(why)) => return Ok(Err(why)),
            Err(Prepared::Stopped(stop)) => stop,
        };
        Err(Error::host(format!(
            "{what} stopped: {}",
            stop.detail.unwrap_or_else(|| stop.status.to_string())
        )))
    }

    /// A whole check on a stack with room for the guest's (see
    /// [`with_wasm_stack`]).
    fn drive(
        &self,
        payload: &serde_json::Value,
        candidate: &str,
        seed: u64,
        limits: &Limits,
        step: Step,
    ) -> Result<CheckOutcome> {
        with_wasm_stack(|| self.drive_here(payload, candidate, seed, limits, step))
    }

    fn drive_here(
        &self,
        payload: &serde_json::Value,
        candidate: &str,
        seed: u64,
        limits: &Limits,
        step: Step,
    ) -> Result<CheckOutcome> {
        let mut guest = Guest::start(self, b"", derived_seed(seed, "wasi"), limits)?;
        let mut call_fuel = None;
        let mut fuel_used = None;
        let mut inputs_before = None;
        let ending = 'ending: {
            match prepare(&mut guest, payload)? {
                Ok(()) => {}
                Err(Prepared::Refused(why)) => break 'ending Ending::BadInput(why),
                Err(Prepared::Stopped(stop)) => {
                    break 'ending Ending::BadInput(format!(
                        "building the inputs stopped: {}",
                        stop.detail.unwrap_or_else(|| stop.status.to_string())
                    ));
                }
            }
            if let Step::Invoke {
                watch_inputs: true, ..
            } = step
            {
                match read_encoding(&mut guest, "fuelbench_inputs")? {
                    Ok(Outcome::Returned(value)) => inputs_before = Some(value),
                    Ok(other) => {
                        return Err(Error::host(format!("the inputs encoded as {other:?}")));
                    }
                    Err(stop) => {
                        break 'ending Ending::BadInput(format!(
                            "reading the inputs stopped: {}",
                            stop.detail.unwrap_or_else(|| stop.status.to_string())
                        ));
                    }
                }
            }
            let Some((pointer, length)) = guest.write(candidate.as_bytes())? else {
                break 'ending cut_off(Stage::Load, memory_stop(&guest));
            };
            guest.set_fuel(limits.fuel)?;
            let loaded = guest.call::<(u32, u32), i32>("fuelbench_load", (pointer, length))?;
            fuel_used = Some(limits.fuel - guest.fuel_left()?);
            match loaded {
                Ok(0) => {}
                Ok(1) => break 'ending read_raised(&mut guest, Stage::Load, Ending::SyntaxError)?,
                Ok(2) => break 'ending read_raised(&mut guest, Stage::Load, Ending::LoadRaised)?,
                Ok(3) => break 'ending Ending::NoEntryPoint,
                Ok(code) => return Err(Error::host(format!("fuelbench_load answered {code}"))),
                Err(stop) => break 'ending cut_off(Stage::Load, stop),
            }
            let called = match step {
                Step::Invoke { budget, .. } => {
                    let before = guest.fuel_left()?;
                    let loading = limits.fuel - before;
                    if let Err(stop) = guest.call::<i32, i32>("fuelbench_invoke", 1)? {
                        break 'ending cut_off(Stage::Call, stop);
                    }
                    let after_empty_call = guest.fuel_left()?;
                    let empty_call = before - after_empty_call;
                    // The call's own budget, topped up by what the harness's
                    // part of it costs (the empty call), so that the call
                    // runs out exactly past `budget`.
                    let start = match budget {
                        Some(budget) => {
                            let start = budget.saturating_add(empty_call);
                            guest.set_fuel(start)?;
                            start
                        }
                        None => after_empty_call,
                    };
                    let called = guest.call::<i32, i32>("fuelbench_invoke", 0)?;
                    let spent = start - guest.fuel_left()?;
                    fuel_used = Some(match budget {
                        Some(_) => loading + empty_call + spent,
                        None => limits.fuel - guest.fuel_left()?,
                    });
                    if called.is_ok() {
                        call_fuel = Some(spent.saturating_sub(empty_call));
                    }
                    called
                }
                Step::Suite => {
                    let called = guest.call::<(), i32>("fuelbench_check_suite", ())?;
                    fuel_used = Some(limits.fuel - guest.fuel_left()?);
                    called
                }
            };
            match called {
                Ok(0) if matches!(step, Step::Suite) => Ending::Passed,
                Ok(0) => match read_outcome(&mut guest)? {
                    Ok(Outcome::Returned(value)) => Ending::Returned(value),
                    Ok(Outcome::Batch(outcomes)) => Ending::Batch(
                        outcomes
                            .into_iter()
                            .map(|outcome| match outcome {
                                Outcome::Returned(value) => Ending::Returned(value),
                                Outcome::Raised(raised) => Ending::Raised(raised),
                                Outcome::Batch(_) => {
                                    unreachable!("the decoder reads no batch inside a batch")
                                }
                            })
                            .collect(),
                    ),
                    Ok(Outcome::Raised(raised)) => {
                        return Err(Error::host(format!(
                            "a call that returned encoded as raised {}",
                            raised.describe()
                        )));
                    }
                    Err(stop) => cut_off(Stage::Result, stop),
                },
                Ok(1) => read_raised(&mut guest, Stage::Call, Ending::Raised)?,
                Ok(code) => return Err(Error::host(format!("the call answered {code}"))),
                Err(stop) => cut_off(Stage::Call, stop),
            }
        };
        let ending = match ending {
            // A refused memory.grow surfaces in the guest as a MemoryError
            // (or, deep in C, an abort); when the candidate then failed,
            // that is why.
            Ending::Raised(_)
            | Ending::LoadRaised(_)
            | Ending::CutOff {
                status: Status::Trapped | Status::Exited,
                ..
            } if guest.memory_denied() => {
                let stage = match &ending {
                    Ending::LoadRaised(_) => Stage::Load,
                    Ending::CutOff { stage, .. } => *stage,
                    _ => Stage::Call,
                };
                cut_off(stage, memory_stop(&guest))
            }
            Ending::Batch(ref endings)
                if guest.memory_denied()
                    && endings
                        .iter()
                        .any(|ending| matches!(ending, Ending::Raised(_))) =>
            {
                cut_off(Stage::Call, memory_stop(&guest))
            }
            ending => ending,
        };
        if matches!(
            ending,
            Ending::CutOff {
                status: Status::WallClockExceeded,
                ..
            }
        ) {
            fuel_used = None;
        }
        let inputs = match (inputs_before, &ending) {
            (Some(before), Ending::Returned(_) | Ending::Raised(_) | Ending::Batch(_)) => {
                // The candidate's own objects may sit in them now; the
                // encoder names those unrepresentable, so they differ.
                let after = match read_encoding(&mut guest, "fuelbench_inputs")? {
                    Ok(Outcome::Returned(value)) => value,
                    Ok(Outcome::Raised(raised)) => Value::Unrepresentable(raised.describe()),
                    Ok(Outcome::Batch(_)) => Value::Unrepresentable("a batch".into()),
                    Err(stop) => Value::Unrepresentable(
                        stop.detail.unwrap_or_else(|| stop.status.to_string()),
                    ),
                };
                Some(InputsSeen { before, after })
            }
            _ => None,
        };
        Ok(CheckOutcome {
            ending,
            call_fuel,
            fuel_used,
            wall_time: guest.started.elapsed(),
            inputs,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Call the entry point, with the call's own budget if any.
    Invoke {
        budget: Option<u64>,
        watch_inputs: bool,
    },
    Suite,
}

/// The seed `purpose` gets from a check's `seed`: the first eight bytes of
/// SHA-256 over both. The candidate can read the module-level `random` and
/// the WASI random source; neither tells it the seed of its inputs. The
/// host draws its own secrets the same way (the evaluator's probe size).
pub fn derived_seed(seed: u64, purpose: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(seed.to_le_bytes())
        .chain_update(purpose.as_bytes())
        .finalize();
    u64::from_le_bytes(
        digest[..8]
            .try_into()
            .expect("a SHA-256 digest has 32 bytes"),
    )
}

/// Puts the seeds a payload's Python reads into it: `seed` for the
/// module-level `random`, `input_seed` for the generators of inputs.
fn seed_payload(payload: &mut serde_json::Value, seed: u64) {
    payload["seed"] = derived_seed(seed, "module").into();
    payload["input_seed"] = derived_seed(seed, "inputs").into();
}
