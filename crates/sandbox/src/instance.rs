//! One fresh instance of the snapshot, driven export by export, and the
//! stack its calls need.

use std::time::Instant;

use wasmtime::{Instance, Store, Trap, UpdateDeadline};
use wasmtime_wasi::I32Exit;

use crate::error::{Error, Result};
use crate::guest::{GuestClock, GuestState, MemoryLimiter, guest_wasi, write_guest_bytes};
use crate::interrupt::{Interrupt, Interrupted};
use crate::limits::Limits;
use crate::outcome::Status;
use crate::pipe::CappedPipe;
use crate::sandbox::{SETUP_FUEL, Sandbox, epoch_ticks};
use crate::slots::SlotPermit;

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
    pub(crate) fn memory(&mut self) -> Vec<u8> {
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
pub(super) const WASM_STACK_BYTES: usize = 4 << 20;
/// Room for the host's own frames around a call into the guest.
pub(super) const HOST_STACK_BYTES: usize = 1 << 20;

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
