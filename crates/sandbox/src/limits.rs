//! What one run may consume.

use std::time::Duration;

/// Caps for one run. Exceeding any of them ends the run with the matching
/// [`Status`](crate::Status); none of them is a host error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// wasmtime fuel: roughly one unit per wasm instruction executed by the
    /// guest after start-up. A `pass` program costs about half a million; a
    /// pure-Python loop of a million iterations costs a few hundred million.
    /// Ten billion is several seconds of work on this kind of machine.
    pub fuel: u64,
    /// Bytes of linear memory the guest may grow to. The snapshot itself
    /// already takes a few tens of MiB of this; 512 MiB leaves room for any
    /// reasonable solution and keeps two parallel runs well inside a small
    /// machine.
    pub memory_bytes: u64,
    /// Wall-clock backstop, checked every 10 ms by epoch interruption. Fuel is
    /// the real budget; this only catches a guest that blocks without burning
    /// fuel, or a fuel budget set absurdly high.
    pub wall: Duration,
    /// Bytes of stdout kept; writing more ends the run as `output_overflow`.
    pub stdout_bytes: usize,
    /// Bytes of stderr kept; a traceback rarely needs more than a few KiB.
    pub stderr_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 10_000_000_000,
            memory_bytes: 512 << 20,
            wall: Duration::from_secs(30),
            stdout_bytes: 1 << 20,
            stderr_bytes: 256 << 10,
        }
    }
}
