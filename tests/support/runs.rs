//! Driving the runner library against scripted servers: a run's context and
//! configuration, its events, and one variant run to its results file.

use std::path::Path;
use std::time::Duration;

use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_llm::{ChatClient, ManageConfig, Manager, ServerKind};
use fuelbench_problems::Problem;
use fuelbench_runner::{
    self as run, EventSink, ProblemRecord, ResultsFile, RunConfig, RunContext, RunEvent, Think,
};

use crate::support::fake_server::{FakeServer, Request};
use crate::support::sandbox;
use crate::support::scripted::client;

pub(crate) fn context(base_url: &str) -> RunContext {
    RunContext::new(
        client(base_url),
        Evaluator::new(sandbox().clone(), EvalConfig::default()),
    )
}

pub(crate) fn config(model: &str, problems: &[Problem], refactor: bool) -> RunConfig {
    RunConfig {
        model: model.to_owned(),
        think: Think::Default,
        grammar: None,
        refactor,
        problems: problems.iter().map(|p| p.id.clone()).collect(),
        problem_set_sha256: run::problem_set_sha256(problems),
        max_tokens: 8192,
        temperature: 0.0,
        extra_body: serde_json::Map::new(),
        system_prompt: run::SYSTEM_PROMPT.to_owned(),
        samples: 1,
        suite: None,
    }
}

/// Every event a run sent, in order.
#[derive(Default)]
pub(crate) struct Record {
    pub events: Vec<RunEvent>,
}

impl Record {
    pub(crate) fn sink(&mut self) -> impl FnMut(RunEvent) + Send + '_ {
        |event| self.events.push(event)
    }

    /// `problem progress` of each problem_done event.
    pub(crate) fn done(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|event| match event {
                RunEvent::ProblemDone {
                    outcome, progress, ..
                } => Some(format!("{} {progress}", outcome.problem)),
                _ => None,
            })
            .collect()
    }
}

pub(crate) fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// One variant against `server`, into `path`.
pub(crate) fn run_once(
    server: &FakeServer,
    config: RunConfig,
    problems: &[Problem],
    path: &Path,
    resume: bool,
    events: EventSink<'_>,
) -> run::Result<ResultsFile> {
    block_on(run::run_variant(
        &context(&server.base_url),
        config,
        problems,
        &[],
        None,
        path,
        resume,
        events,
    ))
}

pub(crate) fn reference(problems: &[Problem], request: &Request) -> String {
    request
        .problem(problems)
        .expect("every chat is about a problem")
        .reference
        .clone()
}

pub(crate) fn by_id<'a>(file: &'a ResultsFile, id: &str) -> &'a ProblemRecord {
    file.problems
        .iter()
        .find(|r| r.id.starts_with(id))
        .unwrap_or_else(|| panic!("{id} has a record"))
}

/// A manager that waits seconds, not minutes, for what never comes.
pub(crate) fn quick_manager(client: ChatClient, kind: ServerKind) -> Manager {
    let config = ManageConfig {
        ready_timeout: Duration::from_secs(10),
        poll: Duration::from_millis(50),
        unload_timeout: Duration::from_secs(5),
        memory_timeout: Duration::from_secs(2),
        ..ManageConfig::default()
    };
    Manager::new(client, kind, config)
}
