//! The Wizer step: turn the reactor `python.wasm` into a module whose memory
//! already holds an initialised CPython with our runner imported.
//!
//! We use wasmtime-wizer's engine-neutral halves (`instrument`, `snapshot`)
//! and make the calls in between ourselves, synchronously: the reactor needs
//! its runner source written into guest memory before `fuelbench_init`, which
//! Wizer's own `[] -> []` init function cannot express.

use std::path::Path;

use wasmtime::{Config, Engine, Instance, Linker, Module, OptLevel, Store};
use wasmtime_wizer::{SnapshotVal, ValType, Wizer};

use crate::error::{Error, Result};
use crate::guest::{GuestClock, GuestState, guest_wasi, write_guest_bytes};
use crate::pipe::CappedPipe;

/// The export that initialises CPython and imports the runner; Wizer drops it
/// from the snapshot so nothing can initialise twice.
const INIT_EXPORT: &str = "fuelbench_init";

/// What the interpreter may print while it initialises; only read on failure.
const INIT_STDERR_BYTES: usize = 64 << 10;

/// Seed of the guest's random source while the snapshot is taken: anything
/// the standard library seeds at import (`random`'s global generator) must be
/// the same in every snapshot of the same inputs.
const SNAPSHOT_SEED: u64 = 0;

pub(crate) fn take(python_wasm: &[u8], stdlib_dir: &Path, runner_source: &str) -> Result<Vec<u8>> {
    let snapshot_error = |error: wasmtime::Error| Error::Snapshot {
        message: format!("{error:#}"),
    };

    let mut wizer = Wizer::new();
    wizer.init_func(INIT_EXPORT);
    let (context, instrumented) = wizer.instrument(python_wasm).map_err(snapshot_error)?;

    // The instrumented module runs once; compiling it fast beats running it fast.
    let mut config = Config::new();
    config.cranelift_opt_level(OptLevel::None);
    let engine = Engine::new(&config).map_err(snapshot_error)?;
    let module = Module::new(&engine, &instrumented).map_err(snapshot_error)?;

    let stderr = CappedPipe::new(INIT_STDERR_BYTES);
    let clock = GuestClock::new();
    let stdout = CappedPipe::new(INIT_STDERR_BYTES);
    let wasi = guest_wasi(
        stdlib_dir,
        b"",
        SNAPSHOT_SEED,
        clock,
        stdout,
        stderr.clone(),
    )?;
    let mut store = Store::new(&engine, GuestState::unlimited(wasi, clock));
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |state: &mut GuestState| &mut state.wasi)
        .map_err(snapshot_error)?;
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(snapshot_error)?;

    let initialize = instance
        .get_typed_func::<(), ()>(&mut store, "_initialize")
        .map_err(snapshot_error)?;
    initialize.call(&mut store, ()).map_err(snapshot_error)?;
    let (pointer, length) = write_guest_bytes(&instance, &mut store, runner_source.as_bytes())
        .map_err(snapshot_error)?
        .ok_or_else(|| Error::Snapshot {
            message: "the guest could not allocate the runner's source".into(),
        })?;
    let init = instance
        .get_typed_func::<(u32, u32), i32>(&mut store, INIT_EXPORT)
        .map_err(snapshot_error)?;
    let status = init
        .call(&mut store, (pointer, length))
        .map_err(snapshot_error)?;
    if status != 0 {
        return Err(Error::Snapshot {
            message: format!(
                "{INIT_EXPORT} returned {status}; the interpreter said:\n{}",
                String::from_utf8_lossy(&stderr.take())
            ),
        });
    }

    let mut state = Initialised {
        store: &mut store,
        instance,
    };
    pollster::block_on(wizer.snapshot(&context, &mut state)).map_err(snapshot_error)
}

/// Wizer reads the initialised globals and memory through this; every answer
/// is immediate, so `pollster` drives the futures to completion in one poll.
struct Initialised<'a> {
    store: &'a mut Store<GuestState>,
    instance: Instance,
}

impl wasmtime_wizer::InstanceState for Initialised<'_> {
    async fn global_get(&mut self, name: &str, _type_hint: ValType) -> SnapshotVal {
        let global = self
            .instance
            .get_global(&mut *self.store, name)
            .expect("Wizer asks only for the globals its instrumentation exported");
        match global.get(&mut *self.store) {
            wasmtime::Val::I32(value) => SnapshotVal::I32(value),
            wasmtime::Val::I64(value) => SnapshotVal::I64(value),
            wasmtime::Val::F32(value) => SnapshotVal::F32(value),
            wasmtime::Val::F64(value) => SnapshotVal::F64(value),
            wasmtime::Val::V128(value) => SnapshotVal::V128(value.as_u128()),
            other => panic!("python.wasm has a global of a type Wizer cannot snapshot: {other:?}"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        let memory = self
            .instance
            .get_memory(&mut *self.store, name)
            .expect("Wizer asks only for the memories its instrumentation exported");
        contents(memory.data(&*self.store));
    }
}
