//! The guest's side of a store: its WASI context, its memory cap, its clock.
//!
//! Everything a fresh instance is given lives here, so that the sandbox (one
//! run), the snapshot step and `poll_oneoff` each depend on this module and
//! not on one another.

use std::path::Path;
use std::time::Instant;

use rand::SeedableRng;
use wasmtime::{Instance, ResourceLimiter, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::{FsPerms, HostMonotonicClock, WasiCtxBuilder};

use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::pipe::CappedPipe;
use crate::slots::MAX_TABLE_ELEMENTS;

/// Where the guest sees the standard library. It must be the same path, and
/// the same preopen order, as when the snapshot was taken: wasi-libc keeps
/// its table of preopened directories in the snapshotted memory.
const GUEST_STDLIB: &str = "/usr/local/lib";

/// The monotonic clock the guest reads, shared with `poll_oneoff` so an
/// absolute deadline on it can be turned back into a duration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuestClock {
    origin: Instant,
}

impl GuestClock {
    pub(crate) fn new() -> GuestClock {
        GuestClock {
            origin: Instant::now(),
        }
    }

    pub(crate) fn nanos(self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

impl HostMonotonicClock for GuestClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.nanos()
    }
}

/// The guest's whole view of the host: the read-only stdlib, its stdin,
/// captured stdout and stderr, a seeded random source; no environment, no
/// arguments, no network, no other files.
pub(crate) fn guest_wasi(
    stdlib_dir: &Path,
    stdin: &[u8],
    seed: u64,
    clock: GuestClock,
    stdout: CappedPipe,
    stderr: CappedPipe,
) -> Result<WasiP1Ctx> {
    let mut builder = WasiCtxBuilder::new();
    builder
        .stdin(MemoryInputPipe::new(stdin.to_vec()))
        .stdout(stdout)
        .stderr(stderr)
        .secure_random(rand::rngs::StdRng::seed_from_u64(seed))
        .insecure_random(rand::rngs::StdRng::seed_from_u64(seed))
        .insecure_random_seed(u128::from(seed))
        .monotonic_clock(clock);
    builder
        .preopened_dir(stdlib_dir, GUEST_STDLIB, FsPerms::ReadOnly)
        .map_err(Error::setup)?;
    Ok(builder.build_p1())
}

/// Copies `bytes` into memory the guest allocated for them, with a NUL byte
/// after them for exports that want a C string; `None` when the guest's
/// allocator refused (the memory limit).
pub(crate) fn write_guest_bytes(
    instance: &Instance,
    store: &mut Store<GuestState>,
    bytes: &[u8],
) -> wasmtime::Result<Option<(u32, u32)>> {
    let length = u32::try_from(bytes.len())?;
    let alloc = instance.get_typed_func::<u32, u32>(&mut *store, "fuelbench_alloc")?;
    let pointer = alloc.call(&mut *store, length.saturating_add(1))?;
    if pointer == 0 {
        return Ok(None);
    }
    let memory = instance
        .get_memory(&mut *store, "memory")
        .ok_or_else(|| wasmtime::format_err!("python.wasm exports no memory"))?;
    memory.write(&mut *store, pointer as usize, bytes)?;
    memory.write(&mut *store, pointer as usize + bytes.len(), &[0])?;
    Ok(Some((pointer, length)))
}

/// Per-store state: the WASI context, the memory cap, the guest's clock,
/// the wall deadline that a sleeping guest must not sleep past, and the
/// interrupt that stops it from outside.
pub(crate) struct GuestState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) clock: GuestClock,
    pub(crate) wall_deadline: Option<Instant>,
    pub(crate) interrupt: Option<Interrupt>,
}

impl GuestState {
    /// For taking the snapshot: no caps, no deadline.
    pub(crate) fn unlimited(wasi: WasiP1Ctx, clock: GuestClock) -> GuestState {
        GuestState {
            wasi,
            limiter: MemoryLimiter {
                memory_bytes: u64::MAX,
                memory_denied: false,
            },
            clock,
            wall_deadline: None,
            interrupt: None,
        }
    }

    pub(crate) fn interrupted(&self) -> bool {
        self.interrupt.as_ref().is_some_and(Interrupt::is_raised)
    }
}

/// Like wasmtime's `StoreLimits`, but it remembers that it said no, which is
/// how a `MemoryError` is told apart from any other failing program.
pub(crate) struct MemoryLimiter {
    pub(crate) memory_bytes: u64,
    pub(crate) memory_denied: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = u64::try_from(desired).is_ok_and(|desired| desired <= self.memory_bytes);
        if !allowed {
            self.memory_denied = true;
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
