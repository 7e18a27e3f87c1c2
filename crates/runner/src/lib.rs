//! Benchmarking a model: every problem solved, refactored and scored, the
//! results file rewritten after each one, and `--resume` to finish a run a
//! crash interrupted.
//!
//! [`run_variant`] runs one model in one variant (thinking, grammar) into
//! one results file. [`Benchmark::run`] runs several models and variants one
//! model at a time through a [`Manager`]: unload, load, run every variant,
//! unload. The model server is only ever asked through `fuelbench-llm`.
//!
//! After the run, [`rescore`] scores saved answers again offline, [`verify`]
//! checks a file someone else's scorer wrote against this one, and
//! [`leaderboard`] builds leaderboards, comparisons and imports. The service
//! drives runs as [`jobs`] over a [`Store`], and every front end starts a
//! run the same way ([`preflight`], [`Target`]).

mod benchmark;
mod error;
mod events;
pub mod jobs;
pub mod leaderboard;
mod plan;
pub mod render;
mod rescore;
mod results;
mod start;
pub mod store;
pub mod suite;
mod variant;
mod verify;
pub mod worker;

use fuelbench_llm::ChatClient;
use fuelbench_problems::Problem;
use sha2::{Digest, Sha256};
pub use tokio_util::sync::CancellationToken;

pub use self::benchmark::Benchmark;
pub use self::error::{Error, Result};
pub use self::events::{
    ComplexityVerdict, EventSink, ProblemOutcome, RunEvent, RunProgress, event_schema,
};
pub use self::plan::{MAX_SAMPLES, Plan, parse_extra_body, select_problems};
pub use self::rescore::{Rescored, config_changes, reproducibility_changes, rescore};
pub use self::results::{
    Exchange, FORMAT, Grammar, MAX_RESULTS_BYTES, ProblemFailure, ProblemRecord, RequestFailure,
    ResultsFile, ResultsHead, RunConfig, SCHEMA_VERSION, Summary, Think, now, results_path, schema,
    slug,
};
pub use self::start::{Endpoint, Target, preflight};
pub use self::store::{DirStore, Store};
pub use self::suite::Suite;
pub use self::variant::run_variant;
pub(crate) use self::variant::{failure_of, generation_speed};
pub use self::verify::{Verification, VerificationState, verify};
use fuelbench_eval::Evaluator;

/// Sent before every prompt. The prompts themselves say what to write; this
/// says how to answer so the code can be found.
pub const SYSTEM_PROMPT: &str = "You are an expert Python programmer. Answer with the complete \
solution in a single ```python fenced code block, with any imports it needs. Do not include tests, \
example usage or input handling.";

/// What every problem of a run shares.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Asks the model server for every answer.
    pub client: ChatClient,
    /// Scores every answer in the sandbox.
    pub evaluator: Evaluator,
    /// Cancelled, the run stops before the next problem, and a request in
    /// flight is dropped; the problem it was for is asked again on resume.
    pub cancel: CancellationToken,
    /// The store each results file is sent to after it is written, when
    /// the run writes into a bucket's local copy; `None` for a folder.
    pub store: Option<std::sync::Arc<dyn Store>>,
}

impl RunContext {
    /// A context for `client` and `evaluator`, with a cancellation token of its
    /// own that nothing has cancelled.
    pub fn new(client: ChatClient, evaluator: Evaluator) -> RunContext {
        RunContext {
            client,
            evaluator,
            cancel: CancellationToken::new(),
            store: None,
        }
    }

    /// Writes `file` at `path`, then sends it to the store.
    pub(crate) async fn save(&self, file: &ResultsFile, path: &std::path::Path) -> Result<()> {
        file.write_atomic(path)?;
        let Some(store) = &self.store else {
            return Ok(());
        };
        let (store, path) = (std::sync::Arc::clone(store), path.to_owned());
        tokio::task::spawn_blocking(move || store.checkpoint(&path))
            .await
            .expect("sending a results file does not panic")
    }
}

/// [`problem_set_sha256`] of those of `problems` whose id is among `ids`,
/// in the problem set's order: what a run of those problems records.
pub fn subset_sha256(problems: &[Problem], ids: &[String]) -> String {
    let chosen: Vec<Problem> = problems
        .iter()
        .filter(|problem| ids.contains(&problem.id))
        .cloned()
        .collect();
    problem_set_sha256(&chosen)
}

/// sha256 over the problems' ids, prompts, refactor requests and cases, in
/// order: [`RunConfig::problem_set_sha256`].
pub fn problem_set_sha256(problems: &[Problem]) -> String {
    let mut hasher = Sha256::new();
    for problem in problems {
        let cases = serde_json::to_string(&(
            &problem.small,
            &problem.edge,
            &problem.numerical,
            &problem.complexity,
            &problem.compare,
        ))
        .expect("cases serialise");
        for part in [
            &problem.id,
            &problem.prompt,
            &problem.refactor_request,
            &cases,
        ] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    format!("{:x}", hasher.finalize())
}
