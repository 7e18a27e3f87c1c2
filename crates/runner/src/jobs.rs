//! Benchmark runs as jobs: started by `POST /api/v1/runs`, driven by the
//! runner on a task of their own, watched by state or by a numbered event
//! stream, cancelled on request or when the server shuts down.
//!
//! A run's events are numbered from 1 in the order the runner sent them, and
//! each is appended to the store before a watcher sees it; its state is the
//! fold of its events ([`RunStatus::apply`]), saved beside them. So a run
//! outlives the process that drove it: its state, its events and its results
//! files stay in the store, and resuming it finishes its files.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::sse::Event;
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_llm::{ChatClient, ClientConfig, Manager, ModelStep, ServerKind, ServerLock};
use fuelbench_problems::Problem;
use fuelbench_runner::{
    Benchmark, CancellationToken, Grammar, Plan, ProblemOutcome, ResultsFile, RunContext, RunEvent,
    Summary, Think, config_changes, results_path,
};
use futures_util::{Stream, StreamExt};
use serde_json::{Map, Value};
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use crate::ApiError;
use crate::store::Store;

/// Where a run is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Accepted; connecting to the model server.
    Queued,
    Running,
    /// Cancel was asked; the problem in flight is being dropped.
    Cancelling,
    Finished,
    Failed,
    /// Stopped on request or by shutdown; its results files are whole and a
    /// resume finishes them.
    Cancelled,
}

impl RunState {
    pub fn is_over(self) -> bool {
        matches!(
            self,
            RunState::Finished | RunState::Failed | RunState::Cancelled
        )
    }
}

/// What `POST /api/v1/runs` takes: models, variants and problems, against
/// one of the server's configured endpoints.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// One of the configured endpoints, by URL or by index; the first when
    /// absent. A run can target no other server.
    pub endpoint: Option<String>,
    /// Models as the server names them, in the order they run.
    pub models: Vec<String>,
    /// Thinking modes, each a variant; `["default"]` when absent.
    #[serde(default)]
    pub think: Vec<Think>,
    /// GBNF grammars, each a variant beside the run without one (when
    /// `without_grammar` is true, the default).
    #[serde(default)]
    pub grammars: Vec<GrammarText>,
    #[serde(default = "yes")]
    pub without_grammar: bool,
    /// Problem ids or unique prefixes; all of them when empty.
    #[serde(default)]
    pub problems: Vec<String>,
    #[serde(default = "yes")]
    pub refactor: bool,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    /// Extra top-level fields for every chat request.
    pub extra_body: Option<Map<String, Value>>,
    /// Continue the results files already in the store.
    #[serde(default)]
    pub resume: bool,
    /// What kind of server the endpoint is; detected when absent.
    pub server_kind: Option<ServerKind>,
    /// The seed every model and variant of the run draws its generated
    /// cases and complexity inputs from: a results file's
    /// `reproducibility.seed` repeats its tests. A fresh one when absent,
    /// recorded here and in every results file. A resumed file keeps its
    /// own.
    #[serde(default)]
    pub seed: Option<u64>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrammarText {
    pub name: String,
    pub text: String,
}

/// A run's state and progress: the fold of its events so far.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RunStatus {
    pub id: String,
    pub state: RunState,
    pub endpoint: String,
    pub server_kind: Option<ServerKind>,
    pub models: Vec<String>,
    pub variants: Vec<String>,
    pub problems: Vec<String>,
    pub resume: bool,
    /// RFC 3339.
    pub created_at: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// Problems done, counting those already in resumed files.
    pub problems_done: usize,
    /// Every model's every variant's problems.
    pub problems_total: usize,
    /// The model being worked with, and its last step.
    pub model: Option<String>,
    pub model_step: Option<ModelStep>,
    pub variant: Option<String>,
    /// The problem in flight.
    pub problem: Option<String>,
    /// Each problem's outcome, in the order they finished.
    pub outcomes: Vec<Outcome>,
    /// Each variant's summary once its problems are done.
    pub summaries: Vec<VariantSummary>,
    /// Results files written, by name in the store.
    pub files: Vec<String>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
    pub error: Option<String>,
    /// The number of the last event folded in.
    pub last_event: u64,
    /// Which server process drives it: `host:pid:start`, where `start` is
    /// when that process started (`/proc/PID/stat`'s clock ticks since
    /// boot, and the boot's id), so a PID the kernel gave to another process
    /// does not keep the run alive. Files written before it say `host:pid`.
    /// The API shows a digest of it ([`RunStatus::public`]): which process
    /// is its own, not the host's name or a PID.
    pub owner: String,
    /// What was asked, so the run can be resumed as it was.
    pub request: StartRun,
}

impl RunStatus {
    /// This state as the API shows it: `owner` as a digest, which tells
    /// runs of one process from another's without naming a host or a PID.
    pub fn public(mut self) -> RunStatus {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.owner.as_bytes());
        self.owner = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        self
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Outcome {
    pub model: String,
    pub variant: String,
    #[serde(flatten)]
    pub outcome: ProblemOutcome,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct VariantSummary {
    pub model: String,
    pub variant: String,
    pub file: String,
    pub summary: Option<Summary>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Skipped {
    pub model: String,
    pub error: String,
}

impl RunStatus {
    /// Folds the next event in.
    pub fn apply(&mut self, event: &RunEvent) {
        self.last_event += 1;
        let per_model = self.variants.len() * self.problems.len();
        match event {
            RunEvent::RunStarted { server_kind, .. } => {
                self.server_kind = Some(*server_kind);
                self.started_at = Some(fuelbench_runner::now());
                if self.state == RunState::Queued {
                    self.state = RunState::Running;
                }
            }
            RunEvent::Model { model, step } => {
                self.model = Some(model.clone());
                self.model_step = Some(step.clone());
            }
            RunEvent::ModelSkipped { model, error } => {
                self.skipped.push(Skipped {
                    model: model.clone(),
                    error: error.clone(),
                });
                self.problems_total = self.problems_total.saturating_sub(per_model);
            }
            RunEvent::ModelDone { .. } => {
                self.variant = None;
                self.problem = None;
            }
            RunEvent::VariantComplete { file, .. } => {
                self.problems_done += self.problems.len();
                self.add_file(file);
            }
            RunEvent::VariantStarted {
                file,
                variant,
                done,
                ..
            } => {
                self.problems_done += done;
                self.variant = Some(variant.clone());
                self.add_file(file);
            }
            RunEvent::ProblemStarted { problem, .. } => self.problem = Some(problem.clone()),
            RunEvent::ProblemDone {
                model,
                variant,
                outcome,
                ..
            } => {
                self.problems_done += 1;
                self.problem = None;
                self.outcomes.push(Outcome {
                    model: model.clone(),
                    variant: variant.clone(),
                    outcome: outcome.clone(),
                });
            }
            RunEvent::VariantDone {
                file,
                model,
                variant,
                summary,
            } => self.summaries.push(VariantSummary {
                model: model.clone(),
                variant: variant.clone(),
                file: file_name(file),
                summary: summary.clone(),
            }),
            RunEvent::Warning { message } => self.warnings.push(message.clone()),
            RunEvent::RunFinished { .. } => self.end(RunState::Finished, None),
            RunEvent::RunFailed { error } => self.end(RunState::Failed, Some(error.clone())),
            RunEvent::RunCancelled => self.end(RunState::Cancelled, None),
        }
    }

    fn add_file(&mut self, path: &std::path::Path) {
        let name = file_name(path);
        if !self.files.contains(&name) {
            self.files.push(name);
        }
    }

    fn end(&mut self, state: RunState, error: Option<String>) {
        self.state = state;
        self.error = error.or(self.error.take());
        self.ended_at = Some(fuelbench_runner::now());
        self.problem = None;
        self.model_step = None;
    }
}

/// A results file's name in the store: its stem.
fn file_name(path: &std::path::Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The service's runs: those this process drives, and the store's.
#[derive(Debug)]
pub(crate) struct Runs {
    store: Store,
    endpoints: Vec<String>,
    api_key: Option<String>,
    locks_dir: std::path::PathBuf,
    owner: String,
    /// This machine's name, as owners name it.
    host: String,
    live: Mutex<HashMap<String, Arc<Live>>>,
    tasks: TaskTracker,
    /// Cancelled on shutdown: every run stops and every stream ends.
    pub(crate) shutdown: CancellationToken,
}

/// One run this process drives.
#[derive(Debug)]
struct Live {
    log: Mutex<Log>,
    /// The number of the last event, for watchers to wait on.
    changed: watch::Sender<u64>,
    cancel: CancellationToken,
    /// The endpoint is this run's until it ends; released before anyone
    /// hears that it ended, so a watcher may start the next run at once.
    server_lock: Mutex<Option<ServerLock>>,
}

#[derive(Debug)]
struct Log {
    status: RunStatus,
    /// Event `n` is `events[n - 1]`, as JSON.
    events: Vec<Arc<str>>,
}

impl Live {
    fn status(&self) -> RunStatus {
        lock(&self.log).status.clone()
    }
}

/// Which run of process `pid` this is: when it started, in clock ticks since
/// boot (`/proc/PID/stat`'s 22nd field), and which boot that was, so that a
/// PID given to another process, even after a restart, reads as another
/// process. `None` when there is no such process, or it is a zombie.
fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces, parentheses and
    // bytes that are not UTF-8.
    let stat = String::from_utf8_lossy(&stat);
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    let state = fields.next()?;
    if matches!(state, "Z" | "X" | "x") {
        return None;
    }
    // Fields 4 to 22 follow the state; the start time is the last of them.
    let ticks: u64 = fields.nth(18)?.parse().ok()?;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(format!("{ticks}@{}", boot.trim()))
}

/// Whether the process an `owner` names is still the one that took the run:
/// `None` when it is on another host, which cannot be asked.
fn owner_alive(owner: &str, host: &str) -> Option<bool> {
    let mut parts = owner.rsplitn(3, ':');
    let (last, middle, first) = (parts.next()?, parts.next()?, parts.next());
    // `host:pid:start`, or `host:pid` from before start times were kept.
    let (owner_host, pid, start) = match first {
        Some(owner_host) if middle.parse::<u32>().is_ok() => (owner_host, middle, Some(last)),
        _ => (
            owner
                .rsplit_once(':')
                .map_or(owner, |(owner_host, _)| owner_host),
            last,
            None,
        ),
    };
    if owner_host != host {
        return None;
    }
    let Ok(pid) = pid.parse::<u32>() else {
        return Some(false);
    };
    Some(match (process_start(pid), start) {
        (None, _) => false,
        (Some(now), Some(then)) => then == now,
        // An owner from before start times: the PID alone, unless it is ours.
        (Some(_), None) => pid != std::process::id(),
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the service needs to start runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunsConfig {
    /// The model servers runs may target, as their root URLs.
    pub endpoints: Vec<String>,
    /// Sent to them as a bearer token.
    pub api_key: Option<String>,
    /// Where the per-server locks live, shared with `fuelbench run`.
    pub locks_dir: std::path::PathBuf,
}

impl Runs {
    pub(crate) fn new(store: Store, config: RunsConfig) -> Runs {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .unwrap_or_else(|_| "localhost".into());
        let pid = std::process::id();
        // Without a start time, other servers judge by the PID alone.
        let owner = match process_start(pid) {
            Some(started) => format!("{host}:{pid}:{started}"),
            None => format!("{host}:{pid}"),
        };
        let runs = Runs {
            store,
            endpoints: config
                .endpoints
                .iter()
                .map(|url| ClientConfig::new(url).base_url)
                .collect(),
            api_key: config.api_key,
            locks_dir: config.locks_dir,
            owner,
            host,
            live: Mutex::default(),
            tasks: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        };
        runs.settle_orphans();
        runs
    }

    pub(crate) fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Runs a process on this host left unfinished when it died: failed,
    /// their files whole.
    fn settle_orphans(&self) {
        for status in self.store.runs() {
            self.settle_if_orphaned(status);
        }
    }

    /// `status`, or, when its run has not ended but the process on this host
    /// that drove it is gone (exited, a zombie, or its PID now another
    /// process's), the run ended as failed and stored so. A run owned by
    /// another host is left for its owner.
    fn settle_if_orphaned(&self, mut status: RunStatus) -> RunStatus {
        if status.state.is_over() || status.owner == self.owner {
            return status;
        }
        if owner_alive(&status.owner, &self.host) != Some(false) {
            return status;
        }
        status.end(
            RunState::Failed,
            Some(
                "the server driving this run stopped before it ended; its results files are \
                 whole, and resuming it finishes them"
                    .into(),
            ),
        );
        if let Err(error) = self.store.save_run(&status) {
            eprintln!(
                "fuelbench serve: could not settle run {}: {error}",
                status.id
            );
        }
        status
    }

    /// Checks `request`, takes its endpoint, and starts the run on a task of
    /// its own.
    pub(crate) fn start(
        self: &Arc<Self>,
        mut request: StartRun,
        evaluator: &Evaluator,
        all_problems: &[Problem],
    ) -> Result<RunStatus, ApiError> {
        let seed = EvalConfig::seed_or_fresh(request.seed).map_err(ApiError::host)?;
        request.seed = Some(seed);
        if self.shutdown.is_cancelled() {
            return Err(ApiError::busy("the server is shutting down"));
        }
        let endpoint = self.endpoint(request.endpoint.as_deref())?;
        let plan = plan_of(&request)?;
        let problems = plan
            .select(all_problems.to_vec())
            .map_err(|error| ApiError::invalid("problems", fuelbench_stdx::error_chain(&error)))?;
        let configs = plan
            .configs(&problems)
            .map_err(|error| ApiError::invalid("models", fuelbench_stdx::error_chain(&error)))?;
        self.check_files(&configs, request.resume)?;
        let server_lock =
            ServerLock::acquire(&self.locks_dir, &endpoint).map_err(|error| match error {
                // Which process holds it, and where its lock file is, are
                // the operator's to know, not the client's.
                fuelbench_llm::Error::Busy { ref base_url, .. } => {
                    eprintln!(
                        "fuelbench serve: a run was refused: {}",
                        fuelbench_stdx::error_chain(&error)
                    );
                    ApiError::new(
                        StatusCode::CONFLICT,
                        "server_busy",
                        format!(
                            "another fuelbench run holds {base_url}; a second run would spoil                              both runs' timings. Wait for it to end, or cancel it"
                        ),
                    )
                }
                other => ApiError::host(fuelbench_stdx::error_chain(&other)),
            })?;

        let mut variants = Vec::new();
        for config in &configs {
            if !variants.contains(&config.variant()) {
                variants.push(config.variant());
            }
        }
        let status = RunStatus {
            id: new_id(),
            state: RunState::Queued,
            endpoint: endpoint.clone(),
            server_kind: request.server_kind,
            problems_total: configs.len() * problems.len(),
            models: plan.models.clone(),
            variants,
            problems: problems.iter().map(|p| p.id.clone()).collect(),
            resume: request.resume,
            created_at: fuelbench_runner::now(),
            started_at: None,
            ended_at: None,
            problems_done: 0,
            model: None,
            model_step: None,
            variant: None,
            problem: None,
            outcomes: Vec::new(),
            summaries: Vec::new(),
            files: Vec::new(),
            skipped: Vec::new(),
            warnings: Vec::new(),
            error: None,
            last_event: 0,
            owner: self.owner.clone(),
            request: request.clone(),
        };
        self.store.save_run(&status).map_err(ApiError::host)?;
        let live = Arc::new(Live {
            log: Mutex::new(Log {
                status: status.clone(),
                events: Vec::new(),
            }),
            changed: watch::Sender::new(0),
            cancel: self.shutdown.child_token(),
            server_lock: Mutex::new(Some(server_lock)),
        });
        lock(&self.live).insert(status.id.clone(), Arc::clone(&live));

        let mut client_config = ClientConfig::new(&endpoint);
        client_config.api_key = self.api_key.clone();
        let job = Job {
            client: ChatClient::new(client_config),
            kind: request.server_kind,
            benchmark: Benchmark {
                configs,
                out_dir: self.store.dir().to_owned(),
                resume: request.resume,
            },
            problems,
            evaluator: evaluator.with_seed(seed),
        };
        let runs = Arc::clone(self);
        self.tasks.spawn(async move { runs.drive(live, job).await });
        Ok(status)
    }

    fn endpoint(&self, asked: Option<&str>) -> Result<String, ApiError> {
        if self.endpoints.is_empty() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "no_endpoint",
                "this server has no model server to run against; start it with --endpoint URL",
            ));
        }
        let Some(asked) = asked else {
            return Ok(self.endpoints[0].clone());
        };
        if let Ok(index) = asked.parse::<usize>() {
            return self.endpoints.get(index).cloned().ok_or_else(|| {
                ApiError::invalid(
                    "endpoint",
                    format!(
                        "there are {} endpoints; {index} is not one",
                        self.endpoints.len()
                    ),
                )
            });
        }
        let wanted = ClientConfig::new(asked).base_url;
        self.endpoints
            .iter()
            .find(|endpoint| **endpoint == wanted)
            .cloned()
            .ok_or_else(|| {
                ApiError::invalid(
                    "endpoint",
                    format!(
                        "{asked:?} is not a configured endpoint; runs may target {}",
                        self.endpoints.join(", ")
                    ),
                )
            })
    }

    /// A new run must not overwrite results; a resumed one must ask what
    /// its files asked.
    fn check_files(
        &self,
        configs: &[fuelbench_runner::RunConfig],
        resume: bool,
    ) -> Result<(), ApiError> {
        for config in configs {
            let path = results_path(self.store.dir(), config);
            if !path.exists() {
                continue;
            }
            let name = file_name(&path);
            if !resume {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "results_exist",
                    format!(
                        "the store already has results for {} {} ({name}); ask with \"resume\": \
                         true to continue them",
                        config.model,
                        config.variant()
                    ),
                ));
            }
            if let Ok(saved) = ResultsFile::read(&path) {
                let changes = config_changes(&saved.config, config);
                if !changes.is_empty() {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "config_changed",
                        format!("{name} was run with other settings: {}", changes.join("; ")),
                    ));
                }
            }
        }
        Ok(())
    }

    async fn drive(&self, live: Arc<Live>, job: Job) {
        let Job {
            client,
            kind,
            benchmark,
            problems,
            evaluator,
        } = job;
        let mut sink = |event: RunEvent| self.record(&live, event);
        let manager = tokio::select! {
            manager = Manager::connect(client.clone(), kind) => manager,
            () = live.cancel.cancelled() => {
                sink(RunEvent::RunCancelled);
                return;
            }
        };
        match manager {
            Ok(manager) => {
                let context = RunContext {
                    client,
                    evaluator,
                    cancel: live.cancel.clone(),
                };
                // The outcome is in the events the run sent.
                let _ = benchmark
                    .run(&context, &manager, &problems, &mut sink)
                    .await;
            }
            Err(error) => sink(RunEvent::RunFailed {
                error: format!(
                    "reach the model server: {}",
                    fuelbench_stdx::error_chain(&error)
                ),
            }),
        }
        lock(&self.live).remove(&lock(&live.log).status.id);
    }

    /// Numbers an event, stores it, folds it into the state, and wakes the
    /// watchers.
    fn record(&self, live: &Live, event: RunEvent) {
        let event = self.store.relative_event(event);
        let json: Arc<str> = serde_json::to_string(&event)
            .expect("events serialise")
            .into();
        if matches!(
            event,
            RunEvent::RunFinished { .. } | RunEvent::RunFailed { .. } | RunEvent::RunCancelled
        ) {
            drop(lock(&live.server_lock).take());
        }
        let mut log = lock(&live.log);
        log.status.apply(&event);
        log.events.push(json);
        let id = log.status.id.clone();
        if let Err(error) = self
            .store
            .append_event(&id, &event)
            .and_then(|()| self.store.save_run(&log.status))
        {
            eprintln!("fuelbench serve: could not store run {id}'s event: {error}");
        }
        live.changed.send_replace(log.status.last_event);
    }

    /// Runs this process drives now.
    pub(crate) fn active(&self) -> usize {
        lock(&self.live).len()
    }

    /// Every run, live or stored, newest first.
    pub(crate) fn list(&self) -> Vec<RunStatus> {
        let mut all: Vec<RunStatus> = lock(&self.live).values().map(|l| l.status()).collect();
        let stored: Vec<RunStatus> = self
            .store
            .runs()
            .into_iter()
            .filter(|stored| !all.iter().any(|live| live.id == stored.id))
            .map(|stored| self.settle_if_orphaned(stored))
            .collect();
        all.extend(stored);
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        all
    }

    pub(crate) fn get(&self, id: &str) -> Result<RunStatus, ApiError> {
        if let Some(live) = lock(&self.live).get(id) {
            return Ok(live.status());
        }
        let stored = self.store.run(id).ok_or_else(|| unknown_run(id))?;
        Ok(self.settle_if_orphaned(stored))
    }

    /// A new run with an ended run's request, continuing its results files.
    pub(crate) fn resume(
        self: &Arc<Self>,
        id: &str,
        evaluator: &Evaluator,
        all_problems: &[Problem],
    ) -> Result<RunStatus, ApiError> {
        let old = self.get(id)?;
        if !old.state.is_over() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "run_not_over",
                format!("run {id} has not ended; cancel it first, or watch it"),
            ));
        }
        let request = StartRun {
            resume: true,
            endpoint: Some(old.endpoint.clone()),
            ..old.request
        };
        self.start(request, evaluator, all_problems)
    }

    /// Asks a run to stop: it ends `cancelled`, its files whole.
    pub(crate) fn cancel(&self, id: &str) -> Result<RunStatus, ApiError> {
        let Some(live) = lock(&self.live).get(id).cloned() else {
            let status = self.get(id)?;
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "run_not_running",
                format!(
                    "run {id} is {}; there is nothing to cancel",
                    state_name(status.state)
                ),
            ));
        };
        let acknowledged = {
            let mut log = lock(&live.log);
            if log.status.state.is_over() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "run_not_running",
                    format!(
                        "run {id} is {}; there is nothing to cancel",
                        state_name(log.status.state)
                    ),
                ));
            }
            log.status.state = RunState::Cancelling;
            if let Err(error) = self.store.save_run(&log.status) {
                eprintln!("fuelbench serve: could not store run {id}'s state: {error}");
            }
            log.status.clone()
        };
        live.cancel.cancel();
        Ok(acknowledged)
    }

    /// The run's events as SSE: a snapshot of its state first (unnumbered),
    /// then every event after `after` (or after the snapshot), numbered,
    /// until the run ends or the server shuts down.
    pub(crate) fn events(
        &self,
        id: &str,
        after: Option<u64>,
    ) -> Result<impl Stream<Item = Result<Event, std::convert::Infallible>> + use<>, ApiError> {
        let live = lock(&self.live).get(id).cloned();
        let (status, source) = match live {
            Some(live) => {
                let status = live.status();
                let receiver = live.changed.subscribe();
                (status, Source::Live { live, receiver })
            }
            None => {
                let status = self.store.run(id).ok_or_else(|| unknown_run(id))?;
                let events = self.store.events(id).into_iter().map(Arc::from).collect();
                (status, Source::Stored(events))
            }
        };
        let cursor = after.unwrap_or(status.last_event);
        let snapshot = serde_json::json!({ "event": "snapshot", "run": status.clone().public() });
        let first = Event::default().data(snapshot.to_string());
        let state = Watch {
            source,
            cursor,
            shutdown: self.shutdown.clone(),
            closing: None,
        };
        let rest = futures_util::stream::unfold(state, Watch::next);
        Ok(futures_util::stream::once(async move { first })
            .chain(rest)
            .map(Ok))
    }

    /// Stops every run (each checkpoints: its file is whole and resumable)
    /// and waits for them, at most `grace`.
    pub(crate) async fn shut_down(&self, grace: Duration) {
        self.shutdown.cancel();
        self.tasks.close();
        if tokio::time::timeout(grace, self.tasks.wait())
            .await
            .is_err()
        {
            eprintln!("fuelbench serve: runs did not stop within {grace:?}");
        }
    }
}

fn unknown_run(id: &str) -> ApiError {
    ApiError::not_found(
        "unknown_run",
        format!("no run {id:?}; GET /api/v1/runs lists them"),
    )
}

fn state_name(state: RunState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `20261128-204512-3fa9`: sortable by time, unique by its tail.
fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let time = jiff::Zoned::now().strftime("%Y%m%d-%H%M%S").to_string();
    format!("{time}-{:06x}", hasher.finish() & 0xff_ffff)
}

fn plan_of(request: &StartRun) -> Result<Plan, ApiError> {
    let mut grammars: Vec<Option<Grammar>> = Vec::new();
    if request.without_grammar {
        grammars.push(None);
    }
    for grammar in &request.grammars {
        let grammar = Grammar::from_text(&grammar.name, grammar.text.clone())
            .map_err(|error| ApiError::invalid("grammars", fuelbench_stdx::error_chain(&error)))?;
        grammars.push(Some(grammar));
    }
    let defaults = Plan::default();
    if let Some(temperature) = request.temperature
        && !(0.0..=2.0).contains(&temperature)
    {
        return Err(ApiError::invalid(
            "temperature",
            format!("`temperature` is {temperature}; give 0 to 2"),
        ));
    }
    if request.max_tokens == Some(0) {
        return Err(ApiError::invalid(
            "max_tokens",
            "`max_tokens` must be above 0",
        ));
    }
    Ok(Plan {
        models: request.models.clone(),
        thinks: if request.think.is_empty() {
            vec![Think::Default]
        } else {
            request.think.clone()
        },
        grammars,
        refactor: request.refactor,
        problems: request.problems.clone(),
        max_tokens: request.max_tokens.unwrap_or(defaults.max_tokens),
        temperature: request.temperature.unwrap_or(defaults.temperature),
        extra_body: request.extra_body.clone().unwrap_or_default(),
    })
}

/// What a run's task owns.
struct Job {
    client: ChatClient,
    kind: Option<ServerKind>,
    benchmark: Benchmark,
    problems: Vec<Problem>,
    evaluator: Evaluator,
}

/// Where a watcher reads events from.
enum Source {
    Live {
        live: Arc<Live>,
        receiver: watch::Receiver<u64>,
    },
    /// A run no process here drives: its stored events, all of them.
    Stored(Vec<Arc<str>>),
}

struct Watch {
    source: Source,
    /// The number of the last event sent.
    cursor: u64,
    shutdown: CancellationToken,
    /// When the stream ends at the latest, once shutdown began.
    closing: Option<tokio::time::Instant>,
}

/// How long a stream waits, after shutdown began, for its run's last
/// events.
const SHUTDOWN_LINGER: Duration = Duration::from_secs(5);

impl Watch {
    async fn next(mut self) -> Option<(Event, Watch)> {
        loop {
            let (next, over) = match &self.source {
                Source::Live { live, .. } => {
                    let log = lock(&live.log);
                    (
                        log.events.get(self.cursor as usize).cloned(),
                        log.status.state.is_over(),
                    )
                }
                Source::Stored(events) => (events.get(self.cursor as usize).cloned(), true),
            };
            if let Some(data) = next {
                self.cursor += 1;
                let event = Event::default().id(self.cursor.to_string()).data(&*data);
                return Some((event, self));
            }
            if over {
                return None;
            }
            let Source::Live { receiver, .. } = &mut self.source else {
                return None;
            };
            // On shutdown the run is being cancelled: its last events are
            // sent if they come soon, and the stream ends either way.
            if self.shutdown.is_cancelled() {
                let deadline = *self
                    .closing
                    .get_or_insert_with(|| tokio::time::Instant::now() + SHUTDOWN_LINGER);
                match tokio::time::timeout_at(deadline, receiver.changed()).await {
                    Ok(Ok(())) => continue,
                    _ => return None,
                }
            }
            tokio::select! {
                changed = receiver.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                () = self.shutdown.cancelled() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::run_state;

    fn runs_over(dir: &std::path::Path) -> Runs {
        Runs::new(
            Store::open(dir).expect("the store opens"),
            RunsConfig {
                endpoints: Vec::new(),
                api_key: None,
                locks_dir: dir.join("locks"),
            },
        )
    }

    #[test]
    fn a_run_whose_driver_is_gone_is_settled_even_when_its_pid_lives_on() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(dir.path()).expect("the store opens");
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .unwrap_or_else(|_| "localhost".into());
        // PID 1 always exists; it is not the process that took these runs.
        let reused = RunStatus {
            owner: format!("{host}:1:987654321"),
            ..run_state("reused")
        };
        let elsewhere = RunStatus {
            owner: "another-host:1:5".into(),
            ..run_state("elsewhere")
        };
        store.save_run(&reused).expect("saved");
        store.save_run(&elsewhere).expect("saved");
        let runs = runs_over(dir.path());
        assert_eq!(
            store.run("reused").map(|run| run.state),
            Some(RunState::Failed)
        );
        assert_eq!(
            store.run("elsewhere").map(|run| run.state),
            Some(RunState::Running),
            "another host's run is its owner's to settle"
        );

        // A run that dies while the server is up is settled when asked for.
        let gone = RunStatus {
            owner: format!("{host}:{}:1", std::process::id()),
            ..run_state("gone")
        };
        store.save_run(&gone).expect("saved");
        assert_eq!(
            runs.get("gone").map(|run| run.state).ok(),
            Some(RunState::Failed)
        );
        let error = runs.cancel("gone").expect_err("nothing runs");
        assert!(error.message.contains("failed"), "{}", error.message);
    }

    #[test]
    fn this_process_reads_as_alive_and_a_zombie_free_start_time() {
        let own = std::process::id();
        let start = process_start(own).expect("this process has a start time");
        assert_eq!(owner_alive(&format!("h:{own}:{start}"), "h"), Some(true));
        assert_eq!(owner_alive(&format!("h:{own}:{start}x"), "h"), Some(false));
        assert!(start.contains('@') && !start.contains(':'), "{start}");
        assert_eq!(owner_alive("other:1:0", "h"), None);
        assert_eq!(
            owner_alive("h:1", "h"),
            Some(true),
            "the old form, PID alone"
        );
        assert_eq!(owner_alive(&format!("h:{own}"), "h"), Some(false));
        assert_eq!(
            owner_alive("h:not-a-pid:3", "h"),
            None,
            "malformed: not ours to settle"
        );
    }
}
