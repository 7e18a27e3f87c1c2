//! The crate's one error type: host failures only. A guest that misbehaves is
//! reported in a [`RunOutcome`](crate::RunOutcome), never here.

use std::path::PathBuf;

/// The crate's `Result`, whose error is [`Error`] unless given.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How the host failed to prepare or run a guest; never a verdict on the guest.
/// Messages read after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The interpreter folder lacks `python.wasm` or its `lib/`.
    #[error(
        "find the interpreter: no python.wasm in {dir}; build it with python-wasm/build.sh \
         (it needs Debian's clang-16 toolchain; --install-deps installs it)"
    )]
    InterpreterMissing {
        /// The folder that was looked in.
        dir: PathBuf,
    },

    /// A file or folder of the interpreter or the cache could not be read,
    /// written or locked.
    #[error("use {path}")]
    Io {
        /// The file or folder it failed on.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// Initialising CPython with the runner and snapshotting its memory (the
    /// Wizer step) failed.
    #[error("take the interpreter snapshot: {message}")]
    Snapshot {
        /// What failed, for a human: wasmtime's error chain, or what the
        /// interpreter printed.
        message: String,
    },

    /// wasmtime could not compile the snapshot into machine code.
    #[error("compile the interpreter: {message}")]
    Compile {
        /// wasmtime's error chain, as text.
        message: String,
    },

    /// The engine, the linker or an instance's store could not be set up.
    #[error("set up the sandbox: {message}")]
    Setup {
        /// What failed, for a human (wasmtime's error chain, where it had one).
        message: String,
    },

    /// A guest call failed in the host, or the reactor answered outside its
    /// protocol.
    #[error("run the guest: {message}")]
    Host {
        /// What failed, for a human (wasmtime's error chain, where it had one).
        message: String,
    },

    /// The run's [`Interrupt`](crate::Interrupt) was raised: its result is
    /// not wanted, and there is none.
    #[error("the run was stopped from outside before it finished")]
    Interrupted,
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// wasmtime's errors are its own type at 48; keep the whole chain as text
    /// rather than leak the type.
    pub(crate) fn setup(error: impl std::fmt::Display) -> Self {
        Error::Setup {
            message: format!("{error:#}"),
        }
    }

    pub(crate) fn host(error: impl std::fmt::Display) -> Self {
        Error::Host {
            message: format!("{error:#}"),
        }
    }
}
