//! The engine, the prepared interpreter, and one run.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Engine, InstancePre, Linker, Module};

use crate::cache::{Cache, sha256_file_hex, sha256_hex};
use crate::error::{Error, Result};
use crate::guest::GuestState;
use crate::instance::{Guest, HOST_STACK_BYTES, WASM_STACK_BYTES, with_wasm_stack};
use crate::interrupt::Interrupt;
use crate::limits::Limits;
use crate::outcome::{RunOutcome, Status};
use crate::pins::{Pins, RUNNER_PY};
use crate::sleep;
use crate::slots::{Pool, Slots};
use crate::snapshot;

/// How often the epoch advances; the wall-clock backstop's resolution.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Fuel for instantiation and for copying the program in, before the real
/// budget is set, so the budget counts only the program's own work.
pub(crate) const SETUP_FUEL: u64 = 100_000_000;

/// Bump this when the way a snapshot is taken changes without any of its
/// hashed inputs changing.
const SNAPSHOT_FORMAT: &str = "fuelbench-snapshot-1";

/// One program to run: its source, its stdin, and the seed of `random`.
#[derive(Debug, Clone, Copy)]
pub struct Program<'a> {
    /// The Python source, run as the main program.
    pub source: &'a str,
    /// What the program reads from its standard input.
    pub stdin: &'a [u8],
    /// Seeds Python's `random` module before the program starts, and the
    /// guest's WASI random source (`os.urandom`).
    pub seed: u64,
}

impl<'a> Program<'a> {
    /// `source` with an empty stdin and seed 0.
    pub fn new(source: &'a str) -> Program<'a> {
        Program {
            source,
            stdin: b"",
            seed: 0,
        }
    }

    /// The same program, reading `stdin` from its standard input.
    pub fn stdin(self, stdin: &'a [u8]) -> Program<'a> {
        Program { stdin, ..self }
    }

    /// The same program, seeded with `seed`.
    pub fn seed(self, seed: u64) -> Program<'a> {
        Program { seed, ..self }
    }
}

/// What a sandbox runs, for reproducibility keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The folder holding `python.wasm` and `lib/`.
    pub dir: PathBuf,
    /// sha256 of the reactor module built by python-wasm/build.sh.
    pub python_wasm_sha256: String,
    /// sha256 of the snapshot every run starts from (reactor + runner).
    pub snapshot_sha256: String,
    /// The CPython version `python-wasm/pins.toml` names, whichever interpreter
    /// runs: it is not read from a module given by
    /// [`SandboxBuilder::interpreter_dir`].
    pub cpython_version: String,
}

/// Builds a [`Sandbox`]: finds the interpreter, takes or loads its snapshot,
/// and loads or compiles its machine code.
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    cache_dir: PathBuf,
    interpreter_dir: Option<PathBuf>,
    pool: Pool,
}

impl SandboxBuilder {
    /// `cache_dir` holds the interpreter build (`python-wasm/<sha256>/`, put
    /// there by python-wasm/build.sh) and what the sandbox derives from it.
    pub fn new(cache_dir: impl Into<PathBuf>) -> SandboxBuilder {
        let parallelism = std::thread::available_parallelism().map_or(1, usize::from);
        SandboxBuilder {
            cache_dir: cache_dir.into(),
            interpreter_dir: None,
            pool: Pool::for_parallelism(parallelism),
        }
    }

    /// Use the interpreter in `dir` instead of the pinned one in the cache.
    pub fn interpreter_dir(self, dir: impl Into<PathBuf>) -> SandboxBuilder {
        SandboxBuilder {
            interpreter_dir: Some(dir.into()),
            ..self
        }
    }

    /// How many instances may be alive at once: a run that finds them all
    /// taken waits for one to end. Each is a warm slot of the pooling
    /// allocator, 4 GiB of address space that holds memory only once used.
    /// Default: four per core, at least 16.
    pub fn slots(mut self, slots: usize) -> SandboxBuilder {
        self.pool.slots = slots.max(1);
        self
    }

    /// Bytes at the start of each slot's memory kept resident between
    /// instances and reset by copying rather than by the kernel. A
    /// tuning knob for `fuelbench bench sandbox`; the default is measured.
    pub fn keep_resident_bytes(mut self, bytes: usize) -> SandboxBuilder {
        self.pool.keep_resident_bytes = bytes;
        self
    }

    /// Build every instance afresh with wasmtime's default allocator instead
    /// of in a warm slot: slower, and here only to measure what the pool
    /// saves (`fuelbench bench sandbox`).
    pub fn without_pool(mut self) -> SandboxBuilder {
        self.pool.pooled = false;
        self
    }

    /// Finds the interpreter, then takes its snapshot and compiles it where the
    /// cache lacks them; [`Error::InterpreterMissing`] when the interpreter is
    /// not built.
    pub fn build(self) -> Result<Sandbox> {
        let pins = Pins::compiled_in();
        let interpreter_dir = self.interpreter_dir.unwrap_or_else(|| {
            self.cache_dir
                .join("python-wasm")
                .join(&pins.python_wasm_sha256)
        });
        let python_wasm_path = interpreter_dir.join("python.wasm");
        let stdlib_dir = interpreter_dir.join("lib");
        if !python_wasm_path.is_file() || !stdlib_dir.is_dir() {
            return Err(Error::InterpreterMissing {
                dir: interpreter_dir,
            });
        }
        let python_wasm =
            fs::read(&python_wasm_path).map_err(|e| Error::io(&python_wasm_path, e))?;
        let python_wasm_sha256 = sha256_file_hex(&python_wasm);

        let cache = Cache::new(&self.cache_dir);
        let snapshot_key = sha256_hex(&[
            SNAPSHOT_FORMAT.as_bytes(),
            python_wasm_sha256.as_bytes(),
            RUNNER_PY.as_bytes(),
            crate::WASMTIME_VERSION.as_bytes(),
        ]);
        let engine = Engine::new(&engine_config(self.pool)).map_err(Error::setup)?;
        let compiled_path = cache.path(
            "modules",
            &format!("{snapshot_key}-{:016x}.cwasm", compatibility_hash(&engine)),
        );
        let snapshot_path = cache.path("snapshots", &format!("{snapshot_key}.wasm"));
        let snapshot_sha_path = cache.path("snapshots", &format!("{snapshot_key}.sha256"));

        let module = cache.locked(|| {
            if !snapshot_path.is_file() || !snapshot_sha_path.is_file() {
                let snapshot = snapshot::take(&python_wasm, &stdlib_dir, RUNNER_PY)?;
                Cache::write_atomic(&snapshot_path, &snapshot)?;
                Cache::write_atomic(&snapshot_sha_path, sha256_file_hex(&snapshot).as_bytes())?;
            }
            if let Some(module) = deserialize(&engine, &compiled_path) {
                return Ok(module);
            }
            let module =
                Module::from_file(&engine, &snapshot_path).map_err(|e| Error::Compile {
                    message: format!("{e:#}"),
                })?;
            let compiled = module.serialize().map_err(|e| Error::Compile {
                message: format!("{e:#}"),
            })?;
            Cache::write_atomic(&compiled_path, &compiled)?;
            Ok(module)
        })?;
        let snapshot_sha256 = fs::read_to_string(&snapshot_sha_path)
            .map_err(|e| Error::io(&snapshot_sha_path, e))?
            .trim()
            .to_owned();

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |state: &mut GuestState| {
            &mut state.wasi
        })
        .map_err(Error::setup)?;
        sleep::add_to_linker(&mut linker).map_err(Error::setup)?;
        let pre = linker.instantiate_pre(&module).map_err(Error::setup)?;
        let min_memory_bytes = module
            .exports()
            .find_map(|export| {
                export
                    .ty()
                    .memory()
                    .map(|memory| memory.minimum() * memory.page_size())
            })
            .ok_or_else(|| Error::Setup {
                message: "the snapshot exports no memory".into(),
            })?;

        let ticker = Ticker::start(engine.clone());
        Ok(Sandbox {
            inner: Arc::new(Inner {
                engine,
                pre,
                stdlib_dir,
                min_memory_bytes,
                slots: Slots::new(self.pool.slots),
                pool: self.pool,
                interpreter: Interpreter {
                    dir: interpreter_dir,
                    python_wasm_sha256,
                    snapshot_sha256,
                    cpython_version: pins.cpython_version,
                },
                _ticker: ticker,
            }),
            interrupt: None,
        })
    }
}

/// A prepared interpreter that runs programs, each in a fresh instance.
///
/// Cheap to clone and safe to share between threads: runs share the compiled
/// code and nothing else.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub(crate) inner: Arc<Inner>,
    /// Raised from outside to stop this handle's runs (see [`Interrupt`]).
    pub(crate) interrupt: Option<Interrupt>,
}

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) pre: InstancePre<GuestState>,
    pub(crate) stdlib_dir: PathBuf,
    pub(crate) min_memory_bytes: u64,
    /// Free slots of the pool; every [`Guest`] holds one.
    pub(crate) slots: Slots,
    pool: Pool,
    interpreter: Interpreter,
    _ticker: Ticker,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("interpreter", &self.interpreter)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// The same sandbox, whose runs stop with [`Error::Interrupted`] once
    /// `interrupt` is raised.
    pub fn interruptible(&self, interrupt: &Interrupt) -> Sandbox {
        Sandbox {
            inner: Arc::clone(&self.inner),
            interrupt: Some(interrupt.clone()),
        }
    }

    /// The interrupt this sandbox's runs answer to, if any.
    pub fn interrupt(&self) -> Option<&Interrupt> {
        self.interrupt.as_ref()
    }

    /// What this sandbox runs, for reproducibility keys.
    pub fn interpreter(&self) -> &Interpreter {
        &self.inner.interpreter
    }

    /// How many instances may be alive at once (see
    /// [`SandboxBuilder::slots`]).
    pub fn slots(&self) -> usize {
        self.inner.pool.slots
    }

    /// Bytes of each slot's memory kept resident between instances (see
    /// [`SandboxBuilder::keep_resident_bytes`]).
    pub fn keep_resident_bytes(&self) -> usize {
        self.inner.pool.keep_resident_bytes
    }

    /// Memory the interpreter occupies before a program runs; a
    /// [`Limits::memory_bytes`] below this is refused.
    pub fn min_memory_bytes(&self) -> u64 {
        self.inner.min_memory_bytes
    }

    /// Runs `program` in a fresh instance under `limits`. `Err` means the host
    /// failed; everything the program does is in the [`RunOutcome`].
    pub fn run(&self, program: &Program<'_>, limits: &Limits) -> Result<RunOutcome> {
        with_wasm_stack(|| self.run_here(program, limits))
    }

    fn run_here(&self, program: &Program<'_>, limits: &Limits) -> Result<RunOutcome> {
        let mut guest = Guest::start(self, program.stdin, program.seed, limits)?;
        let Some((pointer, length)) = guest.write(program.source.as_bytes())? else {
            let (stdout, stderr) = guest.output();
            return Ok(RunOutcome {
                status: Status::MemoryExceeded,
                exit_code: None,
                fuel_used: None,
                stdout,
                stderr,
                wall_time: guest.started.elapsed(),
                detail: Some("the program's source does not fit in the memory limit".into()),
            });
        };
        guest.set_fuel(limits.fuel)?;
        // Reinterpreting the seed's bits; the guest reads it back as unsigned.
        let result = guest.call::<(u32, u32, i64), i32>(
            "fuelbench_run",
            (pointer, length, program.seed as i64),
        )?;
        let fuel_used = limits.fuel - guest.fuel_left()?;
        let mut outcome = RunOutcome {
            status: Status::Exited,
            exit_code: None,
            fuel_used: Some(fuel_used),
            stdout: Vec::new(),
            stderr: Vec::new(),
            wall_time: Duration::ZERO,
            detail: None,
        };
        match result {
            Ok(code) => outcome.exit_code = Some(code),
            Err(stop) => {
                outcome.status = stop.status;
                outcome.exit_code = stop.exit_code;
                outcome.detail = stop.detail;
            }
        }
        // A refused memory.grow surfaces in the guest as a MemoryError (or,
        // deep in C, an abort); when the run then failed, that is why.
        let failed = !matches!(outcome.exit_code, Some(0))
            && matches!(outcome.status, Status::Exited | Status::Trapped);
        if guest.memory_denied() && failed {
            outcome.status = Status::MemoryExceeded;
            outcome.detail = Some(guest.memory_detail());
        }
        if outcome.status == Status::WallClockExceeded {
            outcome.fuel_used = None;
        }
        (outcome.stdout, outcome.stderr) = guest.output();
        outcome.wall_time = guest.started.elapsed();
        Ok(outcome)
    }
}

fn engine_config(pool: Pool) -> Config {
    let mut config = Config::new();
    config.max_wasm_stack(WASM_STACK_BYTES);
    // Only checked against the wasm stack: no guest runs on a fiber.
    config.async_stack_size(WASM_STACK_BYTES + HOST_STACK_BYTES);
    config.consume_fuel(true);
    config.epoch_interruption(true);
    config.allocation_strategy(pool.strategy());
    config
}

/// What decides whether a compiled artifact fits this engine: wasmtime's
/// version and every setting that changes the machine code.
fn compatibility_hash(engine: &Engine) -> u64 {
    use std::hash::{Hash, Hasher};
    // DefaultHasher::new() has fixed keys; a Rust upgrade that changes it only
    // costs one recompilation.
    let mut hasher = std::hash::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.finish()
}

/// Loads a compiled module from the cache, or `None` when it is missing or
/// does not fit this engine (then it is compiled again and overwritten).
fn deserialize(engine: &Engine, path: &Path) -> Option<Module> {
    if !path.is_file() {
        return None;
    }
    // SAFETY: the file was written by `Module::serialize` for an engine with
    // the same compatibility hash (it is in the file name), renamed into place
    // whole, and lives in the user's own cache; wasmtime checks the header and
    // refuses an artifact from another version or configuration.
    unsafe { Module::deserialize_file(engine, path) }.ok()
}

pub(crate) fn epoch_ticks(wall: Duration) -> u64 {
    // +1: the tick under way when the run starts is already partly spent.
    let ticks = wall.as_nanos().div_ceil(EPOCH_TICK.as_nanos()) + 1;
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: Engine) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("fuelbench-epoch".into())
            .spawn({
                let stop = Arc::clone(&stop);
                move || {
                    while !stop.load(Ordering::Acquire) {
                        std::thread::park_timeout(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                }
            })
            .expect("spawning one thread at start-up");
        Ticker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests;
