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
    ChatClient, ChatFailure, ChatRequest, ChatStream, Chunk, ClientConfig, Completion,
    FailureClass, Message, RetryPolicy, StreamEvent, Timeouts, Timings, Usage, clip,
    normalize_base_url,
};
pub use crate::lock::ServerLock;
pub use crate::manage::{
    ManageConfig, Manager, MemoryBaseline, ModelStep, ServerIdentity, ServerKey, ServerKind,
    Workload, apply_template, is_local, mem_available, tokenize,
};
pub use crate::process::{LocalProcess, MemoryReading, local_process, rss_bytes};
pub use crate::serve::{LocalServer, LocalServerConfig};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}")]
    Request {
        what: String,
        #[source]
        failure: ChatFailure,
    },
    #[error("{what}: HTTP {status}: {body}")]
    Status {
        what: String,
        status: u16,
        body: String,
    },
    #[error("{0}")]
    Protocol(String),
    #[error("find model {model:?} on the server; it has: {}", available.join(", "))]
    UnknownModel {
        model: String,
        available: Vec<String>,
    },
    #[error("get an answer from {model}: {detail}")]
    NotReady { model: String, detail: String },
    /// The run was cancelled while its model was being readied.
    #[error("ready the model: the run was cancelled")]
    Cancelled,
    #[error("unload {}: still loaded after {waited:?}", models.join(", "))]
    StillLoaded {
        models: Vec<String>,
        waited: Duration,
    },
    #[error(
        "see memory come back after unloading: MemAvailable is {:.2} GiB after {waited:?}, \
         {:.2} GiB before loading; something still holds the model's memory (check `ps` and `dmesg`)",
        *now as f64 / 1073741824.0, *before as f64 / 1073741824.0
    )]
    MemoryNotBack {
        before: u64,
        now: u64,
        waited: Duration,
    },
    #[error(
        "lock {base_url}: another fuelbench run holds it ({holder}); two runs on one server \
         spoil each other's timings (lock file {})", lock.display()
    )]
    Busy {
        base_url: String,
        holder: String,
        lock: PathBuf,
    },
    #[error("start llama-server: {0}")]
    Start(String),
    #[error("access {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
