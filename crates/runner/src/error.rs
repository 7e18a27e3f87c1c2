//! What can go wrong in a run, a store or a job, as one type. Each variant
//! says whose fault it is, so a front end maps it once: the CLI prints the
//! chain, the service turns it into a status and a stable code in one
//! table (`fuelbench_server`'s `From<Error> for ApiError`).

use std::path::PathBuf;

/// The crate's `Result`, whose error is [`Error`] unless given.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a run, a store or a job failed on the host. A model that answers badly
/// is a recorded verdict, never this. Messages read after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read, written or listed.
    #[error("access {}", path.display())]
    Io {
        /// The file or folder it failed on.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A file is not JSON, or its JSON does not fit the types it is read into.
    #[error("read {} as JSON", path.display())]
    Json {
        /// The file that was read.
        path: PathBuf,
        /// Where and why the JSON was refused.
        #[source]
        source: serde_json::Error,
    },
    /// A file is JSON but not one this fuelbench reads: another format, a
    /// schema version from a newer fuelbench, a required field missing.
    #[error("read {}: {detail}", path.display())]
    Format {
        /// The file that was read.
        path: PathBuf,
        /// What is wrong with it, for a human.
        detail: String,
    },
    /// A new run would overwrite a results file that exists; `--resume`
    /// continues it instead.
    #[error(
        "start {}: it exists; pass --resume to continue it, or remove it to start again",
        path.display()
    )]
    Exists {
        /// The results file that exists.
        path: PathBuf,
    },
    /// A resumed run asks what its results file did not: another model, problem
    /// set, grammar or setting.
    #[error(
        "resume {}: its configuration differs from this run's:\n  {}\nrun with the same options, \
         or write to another --out folder",
        path.display(), changes.join("\n  ")
    )]
    ConfigChanged {
        /// The results file being resumed.
        path: PathBuf,
        /// Each difference between the file's configuration and this run's, for
        /// a human.
        changes: Vec<String>,
    },
    /// Scoring an answer failed on the host (the sandbox, not the answer).
    #[error("score {problem}")]
    Score {
        /// The id of the problem whose answer was being scored.
        problem: String,
        /// Why the evaluator failed.
        #[source]
        source: fuelbench_eval::Error,
    },
    /// A results file names a problem the problem set lacks.
    #[error("find problem {id:?} of {}: it is not in the problem set", path.display())]
    UnknownProblem {
        /// The problem id the results file names.
        id: String,
        /// The results file.
        path: PathBuf,
    },
    /// A results file answers a public suite that is not loaded, or a suite
    /// file of another hash.
    #[error(
        "find the suite {name} (sha256 {sha256}) for {}: it is not loaded; fetch it with \
         scripts/fetch-humaneval.sh or give its file",
        path.display()
    )]
    UnknownSuite {
        /// The suite's name.
        name: String,
        /// The hash of the suite file the results were answered on.
        sha256: String,
        /// The results file.
        path: PathBuf,
    },
    /// Managing the model server (listing, loading, unloading models) failed.
    #[error("manage the model server")]
    Server(#[from] fuelbench_llm::Error),
    /// The run was cancelled; every results file is whole, and resuming
    /// finishes it.
    #[error(
        "finish the run: it was cancelled; every results file is whole, and resuming finishes it"
    )]
    Cancelled,
    /// The run's options make no plan (no model, an unknown problem, samples
    /// out of range); the message says which.
    #[error("plan the run: {0}")]
    Plan(String),
    /// A job, a results file or another thing asked for by name is not
    /// there. `code` is stable, for programs to match on.
    #[error("{message}")]
    NotFound {
        /// Stable, for programs to match on, e.g. `unknown_run`.
        code: &'static str,
        /// What is missing, for a human.
        message: String,
    },
    /// The request is sound but the state forbids it now (a job that has
    /// not ended, results that exist). `code` is stable.
    #[error("{message}")]
    Conflict {
        /// Stable, for programs to match on, e.g. `run_not_running`.
        code: &'static str,
        /// What the state forbids and why, for a human.
        message: String,
    },
    /// One field of a request is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field that is wrong, as the request names it.
        field: &'static str,
        /// What is wrong with it, for a human.
        message: String,
    },
    /// Nothing new is taken now (shutting down); later may work.
    #[error("{0}")]
    Busy(String),
    /// A stored file is there but cannot be read, and why, naming it by
    /// its place in the store.
    #[error("{0}")]
    Unreadable(String),
    /// The database replicas and workers share failed, or refused a write
    /// from a claim the run no longer has.
    #[error(transparent)]
    Shared(#[from] fuelbench_cluster::Error),
    /// A bucket could not be reached, listed, read or written: the network,
    /// credentials, a missing bucket, or another writer first.
    #[error("{action} {object}")]
    Store {
        /// What was being done: `list`, `read`, `write`.
        action: &'static str,
        /// The object or prefix, as a URL.
        object: String,
        /// What the store said.
        #[source]
        source: object_store::Error,
    },
}
