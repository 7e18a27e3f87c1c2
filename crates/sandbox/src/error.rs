//! The crate's one error type: host failures only. A guest that misbehaves is
//! reported in a [`RunOutcome`](crate::RunOutcome), never here.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "find the interpreter: no python.wasm in {dir}; build it with python-wasm/build.sh \
         (it needs Debian's clang-16 toolchain; --install-deps installs it)"
    )]
    InterpreterMissing { dir: PathBuf },

    #[error("read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("take the interpreter snapshot: {message}")]
    Snapshot { message: String },

    #[error("compile the interpreter: {message}")]
    Compile { message: String },

    #[error("set up the sandbox: {message}")]
    Setup { message: String },

    #[error("run the guest: {message}")]
    Host { message: String },

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
