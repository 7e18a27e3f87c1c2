//! What can go wrong in a run, a store or a job, as one type. Each variant
//! says whose fault it is, so a front end maps it once: the CLI prints the
//! chain, the service turns it into a status and a stable code in one
//! table (`fuelbench_server`'s `From<Error> for ApiError`).

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("access {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("read {} as JSON", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("read {}: {detail}", path.display())]
    Format { path: PathBuf, detail: String },
    #[error(
        "start {}: it exists; pass --resume to continue it, or remove it to start again",
        path.display()
    )]
    Exists { path: PathBuf },
    #[error(
        "resume {}: its configuration differs from this run's:\n  {}\nrun with the same options, \
         or write to another --out folder",
        path.display(), changes.join("\n  ")
    )]
    ConfigChanged { path: PathBuf, changes: Vec<String> },
    #[error("score {problem}")]
    Score {
        problem: String,
        #[source]
        source: fuelbench_eval::Error,
    },
    #[error("find problem {id:?} of {}: it is not in the problem set", path.display())]
    UnknownProblem { id: String, path: PathBuf },
    #[error("manage the model server")]
    Server(#[from] fuelbench_llm::Error),
    #[error(
        "finish the run: it was cancelled; every results file is whole, and resuming finishes it"
    )]
    Cancelled,
    #[error("plan the run: {0}")]
    Plan(String),
    /// A job, a results file or another thing asked for by name is not
    /// there. `code` is stable, for programs to match on.
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// The request is sound but the state forbids it now (a job that has
    /// not ended, results that exist). `code` is stable.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// One field of a request is wrong.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Nothing new is taken now (shutting down); later may work.
    #[error("{0}")]
    Busy(String),
    /// A stored file is there but cannot be read, and why, naming it by
    /// its place in the store.
    #[error("{0}")]
    Unreadable(String),
}
