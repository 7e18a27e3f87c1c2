//! Talking to local model servers.
//!
//! - [`ChatClient`]: OpenAI-compatible `/v1/chat/completions`, always
//!   streamed, with per-request grammar, chat-template arguments and any
//!   other controls a server accepts. Timeouts follow the work: a connect
//!   timeout, a first-event deadline that grows with the prompt, an idle
//!   timeout between events, and an overall budget sized from `max_tokens`
//!   and the speed measured so far. Every failure has a [`FailureClass`].
//!   [`ChatClient::stream`] gives the response as [`StreamEvent`]s, each
//!   stamped on arrival; [`ChatClient::chat`] folds the same stream.
//! - [`Manager`]: one model at a time on a llama.cpp router, Ollama or a
//!   single-model server: unload, wait for memory, load, wait until it
//!   answers; afterwards unload and check memory came back.
//! - [`ServerLock`]: one fuelbench run per server.
//! - [`LocalServer`]: a `llama-server` that fuelbench starts on 127.0.0.1
//!   and stops by its PID.
//! - [`local_process`] and [`MemoryReading`]: the process behind a local
//!   server's port, its binary's hash, and memory before and after.
//!
//! This crate knows nothing of problems, scores or terminals.

mod chat;
mod lock;
mod manage;
mod process;
mod serve;

use std::path::PathBuf;
use std::time::Duration;

pub use crate::chat::{
    CaCertificates, ChatClient, ChatFailure, ChatRequest, ChatStream, Chunk, ClientConfig,
    Completion, FailureClass, Message, RetryPolicy, StreamEvent, Timeouts, Timings, Usage, clip,
    normalize_base_url,
};
pub use crate::lock::ServerLock;
pub use crate::manage::{
    ManageConfig, Manager, MemoryBaseline, ModelStep, ServerIdentity, ServerKey, ServerKind,
    Workload, apply_template, is_local, mem_available, tokenize,
};
pub use crate::process::{LocalProcess, MemoryReading, local_process, rss_bytes};
pub use crate::serve::{LocalServer, LocalServerConfig};

/// A result whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why managing, locking or starting a server failed. A chat request that fails
/// is a [`ChatFailure`] instead, wrapped here only for management calls.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A management call got no answer, or its body broke or ran over the cap.
    #[error("{what}")]
    Request {
        /// The call, e.g. `call http://127.0.0.1:8080/models`.
        what: String,
        /// How it failed, classed as a chat request's failure would be.
        #[source]
        failure: ChatFailure,
    },
    /// A management call was answered with a non-success status.
    #[error("{what}: HTTP {status}: {body}")]
    Status {
        /// The call, e.g. `call http://127.0.0.1:8080/models/load`.
        what: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body, at most 300 characters.
        body: String,
    },
    /// A server's answer, or `/proc/meminfo`, is not what it must be (not JSON, a
    /// field missing); or a management call took over its minute.
    #[error("{0}")]
    Protocol(String),
    /// The server cannot serve the model asked for.
    #[error("find model {model:?} on the server; it has: {}", available.join(", "))]
    UnknownModel {
        /// The model's name as asked for.
        model: String,
        /// The models the server can serve.
        available: Vec<String>,
    },
    /// The model did not answer a one-token request within the ready timeout, or the
    /// router reports that it failed to load.
    #[error("get an answer from {model}: {detail}")]
    NotReady {
        /// The model's name as the server lists it.
        model: String,
        /// Why: the router's report, or the last failure seen while waiting.
        detail: String,
    },
    /// The run was cancelled while its model was being readied.
    #[error("ready the model: the run was cancelled")]
    Cancelled,
    /// Models were still listed as loaded (or loading) when the unload timeout ran out.
    #[error("unload {}: still loaded after {waited:?}", models.join(", "))]
    StillLoaded {
        /// The models still listed.
        models: Vec<String>,
        /// How long the unload was waited for: [`ManageConfig::unload_timeout`].
        waited: Duration,
    },
    /// `MemAvailable` stayed more than the tolerance below its level before loading
    /// until the memory timeout ran out.
    #[error(
        "see memory come back after unloading: MemAvailable is {:.2} GiB after {waited:?}, \
         {:.2} GiB before loading; something still holds the model's memory (check `ps` and `dmesg`)",
        *now as f64 / 1073741824.0, *before as f64 / 1073741824.0
    )]
    MemoryNotBack {
        /// `MemAvailable` before loading, in bytes.
        before: u64,
        /// `MemAvailable` at the last reading, in bytes.
        now: u64,
        /// How long it was waited for: [`ManageConfig::memory_timeout`].
        waited: Duration,
    },
    /// Another fuelbench run holds the server's lock file.
    #[error(
        "lock {base_url}: another fuelbench run holds it ({holder}); two runs on one server \
         spoil each other's timings (lock file {})", lock.display()
    )]
    Busy {
        /// The server's base URL.
        base_url: String,
        /// What the holder wrote in the lock file: `pid <n>`.
        holder: String,
        /// The lock file's path.
        lock: PathBuf,
    },
    /// A [`LocalServer`] did not start: a file missing, the spawn failed, it exited
    /// early, or `/health` did not answer 200 in time.
    #[error("start llama-server: {0}")]
    Start(String),
    /// A file, directory or socket operation failed.
    #[error("access {}", path.display())]
    Io {
        /// The file or directory, or the address for a socket.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}
