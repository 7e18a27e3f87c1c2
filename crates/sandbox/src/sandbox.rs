//! The engine, the prepared interpreter, and one run.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::{
    Config, Engine, Instance, InstancePre, Linker, Module, Store, Trap, UpdateDeadline,
};
use wasmtime_wasi::I32Exit;

use crate::cache::{Cache, sha256_file_hex, sha256_hex};
use crate::error::{Error, Result};
use crate::guest::{GuestClock, GuestState, MemoryLimiter, guest_wasi, write_guest_bytes};
use crate::interrupt::{Interrupt, Interrupted};
use crate::limits::Limits;
use crate::outcome::{RunOutcome, Status};
use crate::pins::{Pins, RUNNER_PY};
use crate::pipe::CappedPipe;
use crate::sleep;
use crate::slots::{Pool, SlotPermit, Slots};
use crate::snapshot;

/// How often the epoch advances; the wall-clock backstop's resolution.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Fuel for instantiation and for copying the program in, before the real
/// budget is set, so the budget counts only the program's own work.
const SETUP_FUEL: u64 = 100_000_000;

/// Bump this when the way a snapshot is taken changes without any of its
/// hashed inputs changing.
const SNAPSHOT_FORMAT: &str = "fuelbench-snapshot-1";

/// One program to run: its source, its stdin, and the seed of `random`.
#[derive(Debug, Clone, Copy)]
pub struct Program<'a> {
    pub source: &'a str,
    pub stdin: &'a [u8],
    /// Seeds Python's `random` module before the program starts, and the
    /// guest's WASI random source (`os.urandom`).
    pub seed: u64,
}

impl<'a> Program<'a> {
    pub fn new(source: &'a str) -> Program<'a> {
        Program {
            source,
            stdin: b"",
            seed: 0,
        }
    }

    pub fn stdin(self, stdin: &'a [u8]) -> Program<'a> {
        Program { stdin, ..self }
    }

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
    engine: Engine,
    pre: InstancePre<GuestState>,
    stdlib_dir: PathBuf,
    min_memory_bytes: u64,
    /// Free slots of the pool; every [`Guest`] holds one.
    slots: Slots,
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

/// How an export call stopped short of returning: a limit, a trap, or the
/// guest ending the process (`os._exit`, `sys.exit` in a plain program).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stop {
    pub(crate) status: Status,
    /// The process status, when the guest exited.
    pub(crate) exit_code: Option<i32>,
    pub(crate) detail: Option<String>,
}

/// One fresh instance of the snapshot in a fresh store, driven export by
/// export. Fuel is set by the caller before each step it wants to budget.
pub(crate) struct Guest<'a> {
    store: Store<GuestState>,
    instance: Instance,
    stdout: CappedPipe,
    stderr: CappedPipe,
    memory_bytes: u64,
    pub(crate) started: Instant,
    /// Declared after the store, so the instance is back in the pool
    /// before its slot is counted free.
    _slot: SlotPermit<'a>,
}

impl<'a> Guest<'a> {
    pub(crate) fn start(
        sandbox: &'a Sandbox,
        stdin: &[u8],
        seed: u64,
        limits: &Limits,
    ) -> Result<Guest<'a>> {
        let inner = &*sandbox.inner;
        if limits.memory_bytes < inner.min_memory_bytes {
            return Err(Error::Setup {
                message: format!(
                    "a memory limit of {} bytes is below the {} bytes the interpreter starts with",
                    limits.memory_bytes, inner.min_memory_bytes
                ),
            });
        }
        let slot = inner.slots.take();
        if sandbox.interrupt.as_ref().is_some_and(Interrupt::is_raised) {
            return Err(Error::Interrupted);
        }
        let started = Instant::now();
        let stdout = CappedPipe::new(limits.stdout_bytes);
        let stderr = CappedPipe::new(limits.stderr_bytes);
        let clock = GuestClock::new();
        let wasi = guest_wasi(
            &inner.stdlib_dir,
            stdin,
            seed,
            clock,
            stdout.clone(),
            stderr.clone(),
        )?;
        let state = GuestState {
            wasi,
            limiter: MemoryLimiter {
                memory_bytes: limits.memory_bytes,
                memory_denied: false,
            },
            clock,
            wall_deadline: started.checked_add(limits.wall),
            interrupt: sandbox.interrupt.clone(),
        };
        let mut store = Store::new(&inner.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_fuel(SETUP_FUEL).map_err(Error::host)?;
        if sandbox.interrupt.is_some() {
            // Look at the flag every tick; the wall clock's trap is the
            // same as without an interrupt.
            store.epoch_deadline_callback(|store| {
                let state = store.data();
                if state.interrupted() {
                    return Err(wasmtime::Error::new(Interrupted));
                }
                if state
                    .wall_deadline
                    .is_some_and(|deadline| Instant::now() >= deadline)
                {
                    return Ok(UpdateDeadline::Interrupt);
                }
                Ok(UpdateDeadline::Continue(1))
            });
            store.set_epoch_deadline(1);
        } else {
            store.set_epoch_deadline(epoch_ticks(limits.wall));
        }
        let instance = inner.pre.instantiate(&mut store).map_err(Error::host)?;
        Ok(Guest {
            store,
            instance,
            stdout,
            stderr,
            memory_bytes: limits.memory_bytes,
            started,
            _slot: slot,
        })
    }

    pub(crate) fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.store.set_fuel(fuel).map_err(Error::host)
    }

    pub(crate) fn fuel_left(&self) -> Result<u64> {
        self.store.get_fuel().map_err(Error::host)
    }

    /// Copies `bytes` into guest memory (see [`write_guest_bytes`]) under
    /// set-up fuel; `None` when the guest's allocator refused.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<Option<(u32, u32)>> {
        self.set_fuel(SETUP_FUEL)?;
        write_guest_bytes(&self.instance, &mut self.store, bytes).map_err(Error::host)
    }

    /// Calls an export. `Err` is a host failure; `Ok(Err(stop))` is the guest
    /// stopping short, which is a result.
    pub(crate) fn call<P, R>(&mut self, name: &str, params: P) -> Result<Result<R, Stop>>
    where
        P: wasmtime::WasmParams,
        R: wasmtime::WasmResults,
    {
        let export = self
            .instance
            .get_typed_func::<P, R>(&mut self.store, name)
            .map_err(Error::host)?;
        let called = with_wasm_stack(|| export.call(&mut self.store, params));
        match called {
            Ok(result) => Ok(Ok(result)),
            Err(error) => self.stop(error).map(Err),
        }
    }

    fn stop(&self, error: wasmtime::Error) -> Result<Stop> {
        if error.downcast_ref::<Interrupted>().is_some() {
            return Err(Error::Interrupted);
        }
        if let Some(exit) = error.downcast_ref::<I32Exit>() {
            return Ok(Stop {
                status: Status::Exited,
                exit_code: Some(exit.0),
                detail: None,
            });
        }
        if self.stdout.overflowed() || self.stderr.overflowed() {
            let stream = if self.stdout.overflowed() {
                "stdout"
            } else {
                "stderr"
            };
            return Ok(Stop {
                status: Status::OutputOverflow,
                exit_code: None,
                detail: Some(format!("{stream} passed its cap")),
            });
        }
        if let Some(trap) = error.downcast_ref::<Trap>() {
            let status = match trap {
                Trap::OutOfFuel => Status::OutOfFuel,
                Trap::Interrupt => Status::WallClockExceeded,
                _ => Status::Trapped,
            };
            return Ok(Stop {
                status,
                exit_code: None,
                detail: Some(trap.to_string()),
            });
        }
        Err(Error::host(error))
    }

    /// `length` bytes of guest memory at `pointer`.
    pub(crate) fn read(&mut self, pointer: u32, length: u32) -> Result<Vec<u8>> {
        let memory = self
            .instance
            .get_memory(&mut self.store, "memory")
            .ok_or_else(|| Error::host("python.wasm exports no memory"))?;
        let mut bytes = vec![0; length as usize];
        memory
            .read(&self.store, pointer as usize, &mut bytes)
            .map_err(Error::host)?;
        Ok(bytes)
    }

    /// Whether the memory cap refused the guest at some point.
    pub(crate) fn memory_denied(&self) -> bool {
        self.store.data().limiter.memory_denied
    }

    pub(crate) fn memory_detail(&self) -> String {
        format!(
            "the guest asked for more than {} bytes of memory",
            self.memory_bytes
        )
    }

    /// What the guest wrote to stdout and stderr so far.
    pub(crate) fn output(&self) -> (Vec<u8>, Vec<u8>) {
        (self.stdout.take(), self.stderr.take())
    }

    /// The guest's whole linear memory, as it is now.
    #[cfg(test)]
    fn memory(&mut self) -> Vec<u8> {
        let memory = self
            .instance
            .get_memory(&mut self.store, "memory")
            .expect("python.wasm exports its memory");
        memory.data(&self.store).to_vec()
    }
}

/// The native stack a guest may use. Python calls through C (a function
/// under `functools.lru_cache`, `sorted` with a key, `__eq__`) take about
/// 2 KiB of it a level, so wasmtime's default 512 KiB ends such a recursion
/// near 250 levels; this lets it reach CPython's recursion limit of 1000,
/// as it does natively. [`Guest::call`] makes sure the calling thread has
/// the room, whatever its own stack.
const WASM_STACK_BYTES: usize = 4 << 20;
/// Room for the host's own frames around a call into the guest.
const HOST_STACK_BYTES: usize = 1 << 20;

/// Runs `work`, which calls into a guest, where the stack has room for
/// [`WASM_STACK_BYTES`] and the host's frames: on this thread's own stack
/// when it has that much left (a check does this once, so that its calls
/// find the room), else on a stack allocated for it. A guest that recursed
/// past the thread's real stack would crash the process, not trap.
pub(crate) fn with_wasm_stack<R>(work: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(
        WASM_STACK_BYTES + HOST_STACK_BYTES,
        WASM_STACK_BYTES + 2 * HOST_STACK_BYTES,
        work,
    )
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

fn epoch_ticks(wall: Duration) -> u64 {
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
mod tests {
    use super::*;

    /// The cache the README's commands fill, as the integration tests find
    /// it; these tests need the pinned interpreter built there.
    fn cache_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("FUELBENCH_CACHE") {
            return PathBuf::from(dir);
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache")
            });
        base.join("fuelbench")
    }

    fn one_slot_sandbox() -> Sandbox {
        SandboxBuilder::new(cache_dir())
            .slots(1)
            .build()
            .unwrap_or_else(|error| panic!("the sandbox must build for these tests: {error}"))
    }

    /// What an instance leaves behind in every place it can write: its heap
    /// (grown well past the snapshot), module and builtin state, `random`,
    /// and an open file. The marker is assembled at run time, so the source
    /// text the host copies in never holds it whole.
    const DIRTY: &str = r#"
import builtins, random, sys
marker = ("fuelbench" + "-leak-") * 4
kept = [bytearray(marker.encode() * 65536) for _ in range(4)]
builtins.fuelbench_leak = marker
sys.modules["fuelbench_leak"] = sys
random.seed(12345)
held = open("/usr/local/lib/python3.11/os.py")
print(held.fileno())
"#;

    const MARKER: &[u8] = b"fuelbench-leak-fuelbench-leak-fuelbench-leak-";

    #[test]
    fn a_reused_slot_starts_from_the_snapshots_exact_bytes() {
        let reused = one_slot_sandbox();
        let fresh = one_slot_sandbox();
        let limits = Limits::default();
        let dirty = reused
            .run(&Program::new(DIRTY), &limits)
            .expect("the host runs it");
        assert!(dirty.succeeded(), "{dirty:?} {}", dirty.stderr_lossy());
        let descriptor: i32 = dirty.stdout_lossy().trim().parse().expect("a descriptor");

        // With one slot, this instance is in the slot the last one used.
        let mut next = Guest::start(&reused, b"", 0, &limits).expect("an instance");
        let reused_memory = next.memory();
        drop(next);
        let mut never_used = Guest::start(&fresh, b"", 0, &limits).expect("an instance");
        let pristine = never_used.memory();
        drop(never_used);
        assert_eq!(reused_memory.len() as u64, reused.min_memory_bytes());
        assert!(
            !reused_memory
                .windows(MARKER.len())
                .any(|window| window == MARKER),
            "the last instance's heap is visible in the slot"
        );
        assert!(
            reused_memory == pristine,
            "a reused slot's memory differs from a never-used slot's"
        );

        let check = format!(
            r#"
import builtins, os, random, sys
assert not hasattr(builtins, "fuelbench_leak"), "a builtin survived"
assert "fuelbench_leak" not in sys.modules, "a module survived"
try:
    os.fstat({descriptor})
except OSError:
    pass
else:
    raise AssertionError("the last instance's open file is open here")
random.seed(0)
print(random.random())
"#
        );
        let after = reused
            .run(&Program::new(&check), &limits)
            .expect("the host runs it");
        assert!(after.succeeded(), "{after:?} {}", after.stderr_lossy());
        let in_fresh = fresh
            .run(&Program::new(&check), &limits)
            .expect("the host runs it");
        assert_eq!(after.stdout, in_fresh.stdout);
        assert_eq!(
            after.fuel_used, in_fresh.fuel_used,
            "fuel differs in a reused slot"
        );
    }

    #[test]
    fn wall_limit_rounds_up_to_whole_ticks() {
        assert_eq!(epoch_ticks(Duration::from_millis(10)), 2);
        assert_eq!(epoch_ticks(Duration::from_millis(11)), 3);
        assert_eq!(epoch_ticks(Duration::ZERO), 1);
        assert_eq!(epoch_ticks(Duration::MAX), u64::MAX);
    }
    /// A raised interrupt stops a guest that computes, one that sleeps,
    /// and any run started after it, with an error rather than a verdict;
    /// without one raised, an interruptible sandbox judges as any other.
    #[test]
    fn an_interrupt_stops_running_sleeping_and_later_runs() {
        let sandbox = one_slot_sandbox();
        let limits = Limits::default();
        let interrupt = Interrupt::new();
        let interruptible = sandbox.interruptible(&interrupt);
        let plain = sandbox.run(&Program::new("print(sum(range(1000)))"), &limits);
        let same = interruptible.run(&Program::new("print(sum(range(1000)))"), &limits);
        assert_eq!(
            plain.expect("runs").fuel_used,
            same.expect("runs").fuel_used,
            "the flag costs no fuel"
        );

        for source in ["while True: pass", "import time\ntime.sleep(60)"] {
            let interrupt = Interrupt::new();
            let interruptible = sandbox.interruptible(&interrupt);
            let raiser = interrupt.clone();
            let started = Instant::now();
            let raising = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                raiser.raise();
            });
            let stopped = interruptible.run(&Program::new(source), &limits);
            raising.join().expect("no panic");
            assert!(
                matches!(stopped, Err(Error::Interrupted)),
                "{source}: {stopped:?}"
            );
            assert!(started.elapsed() < Duration::from_secs(5), "{source}");
        }

        let short = Limits {
            wall: Duration::from_millis(200),
            ..Limits::default()
        };
        for source in ["import time\ntime.sleep(60)", "while True: time = 1"] {
            let timed_out = interruptible
                .run(&Program::new(source), &short)
                .expect("runs");
            let expected = sandbox.run(&Program::new(source), &short).expect("runs");
            assert_eq!(timed_out.status, expected.status, "{source}");
        }

        interrupt.raise();
        let later = interruptible.run(&Program::new("print(1)"), &limits);
        assert!(matches!(later, Err(Error::Interrupted)), "{later:?}");
    }
}
