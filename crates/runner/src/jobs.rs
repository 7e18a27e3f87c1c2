//! Benchmark runs as jobs: started by the service, driven by the runner on
//! a task of their own, watched by state or by a numbered event stream,
//! cancelled on request or when the service shuts down.
//!
//! A job's events are numbered from 1 in the order the runner sent them,
//! and each is appended to the store before a watcher sees it; its state is
//! the fold of its events ([`RunStatus::apply`]), saved beside them. So a
//! job outlives the process that drove it: its state, its events and its
//! results files stay in the store, and resuming it finishes its files.

mod owner;
mod shared;
mod status;
mod watch;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_llm::{ChatClient, ClientConfig, Manager, ServerKind};
use fuelbench_problems::Problem;
use fuelbench_stdx::lock;
use futures_util::{Stream, StreamExt};
use tokio::sync::watch as channel;
use tokio_util::task::TaskTracker;

use self::owner::owner_alive;
pub(crate) use self::owner::this_process;
pub(crate) use self::shared::catch_up;
pub(crate) use self::status::file_name;
use self::status::state_name;
pub use self::status::{
    GrammarText, Outcome, RunState, RunStatus, Skipped, StartRun, VariantSummary,
};
pub use self::watch::JobEvent;
use self::watch::{Source, Watch};
use crate::start::{Endpoint, Target};
use crate::store::Store;
use crate::{
    Benchmark, CancellationToken, Error, EventSink, Result, RunConfig, RunContext, RunEvent,
    RunProgress, Suite,
};

/// The service's jobs: those this process drives, and the store's.
#[derive(Debug)]
pub struct Jobs {
    store: Arc<dyn Store>,
    endpoints: Vec<String>,
    api_key: Option<String>,
    ca_certificates: fuelbench_llm::CaCertificates,
    locks_dir: std::path::PathBuf,
    owner: String,
    /// This machine's name, as owners name it.
    host: String,
    live: Mutex<HashMap<String, Arc<LiveJob>>>,
    tasks: TaskTracker,
    /// Cancelled on shutdown: every run stops and every stream ends.
    shutdown: CancellationToken,
    /// The database replicas and workers share, when there is one: runs
    /// are queued there for workers, and read from there.
    shared: Option<shared::Shared>,
}

/// One job this process drives.
#[derive(Debug)]
pub(crate) struct LiveJob {
    pub(crate) log: Mutex<JobLog>,
    /// The number of the last event, for watchers to wait on.
    pub(crate) changed: channel::Sender<u64>,
    cancel: CancellationToken,
    /// The endpoint is this run's until it ends; released before anyone
    /// hears that it ended, so a watcher may start the next run at once.
    target: Mutex<Option<Target>>,
}

/// A live job's state and every event it sent.
#[derive(Debug)]
pub(crate) struct JobLog {
    pub(crate) status: RunStatus,
    /// Event `n` is `events[n - 1]`, as JSON.
    pub(crate) events: Vec<Arc<str>>,
}

impl LiveJob {
    fn status(&self) -> RunStatus {
        lock(&self.log).status.clone()
    }
}

/// What the service needs to start jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsConfig {
    /// The model servers runs may target, as their root URLs.
    pub endpoints: Vec<String>,
    /// Sent to them as a bearer token.
    pub api_key: Option<String>,
    /// Where the per-server locks live, shared with `fuelbench run`.
    pub locks_dir: std::path::PathBuf,
    /// Certificate authorities trusted beside the system's, for model
    /// servers behind HTTPS.
    pub ca_certificates: fuelbench_llm::CaCertificates,
}

impl Jobs {
    /// The jobs over `store`: a job a dead process on this host left
    /// unfinished is settled as failed now.
    pub fn new(store: Arc<dyn Store>, config: JobsConfig) -> Jobs {
        let runs = Jobs::over(store, config, CancellationToken::new(), None);
        runs.settle_orphans();
        runs
    }

    /// The jobs of one replica of many sharing `cluster`: runs are queued
    /// there for the workers of their endpoints, and their state and
    /// events read from there. `store` is where the workers write results
    /// files, which the replica reads. Follows the database's
    /// announcements on `handle`.
    pub fn shared(
        store: Arc<dyn Store>,
        config: JobsConfig,
        cluster: fuelbench_cluster::Cluster,
        handle: tokio::runtime::Handle,
    ) -> Jobs {
        let shutdown = CancellationToken::new();
        let shared = shared::Shared::new(cluster, handle, shutdown.clone());
        Jobs::over(store, config, shutdown, Some(shared))
    }

    fn over(
        store: Arc<dyn Store>,
        config: JobsConfig,
        shutdown: CancellationToken,
        shared: Option<shared::Shared>,
    ) -> Jobs {
        let (host, owner) = owner::this_process();
        Jobs {
            store,
            endpoints: config
                .endpoints
                .iter()
                .map(|url| ClientConfig::new(url).base_url)
                .collect(),
            api_key: config.api_key,
            ca_certificates: config.ca_certificates,
            locks_dir: config.locks_dir,
            owner,
            host,
            live: Mutex::default(),
            tasks: TaskTracker::new(),
            shutdown,
            shared,
        }
    }

    /// The model servers jobs may target.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Each endpoint, asked now what it is and which models it offers:
    /// `url`, `kind`, `models` (or null) and `error` when it could not say.
    /// Each answers within 5 s or is reported silent.
    pub async fn ask_endpoints(&self) -> Vec<serde_json::Value> {
        use serde_json::json;
        let asks = self.endpoints.iter().map(|url| async move {
            let mut config = ClientConfig::new(url);
            config.api_key = self.api_key.clone();
            config.ca_certificates = self.ca_certificates.clone();
            let ask = async {
                let manager = Manager::connect(ChatClient::new(config), None).await?;
                let models = manager.available().await;
                Ok::<_, fuelbench_llm::Error>((manager.kind(), models))
            };
            let error = |error: &fuelbench_llm::Error| fuelbench_stdx::error_chain(error);
            match tokio::time::timeout(Duration::from_secs(5), ask).await {
                Ok(Ok((kind, Ok(models)))) => json!({ "url": url, "kind": kind, "models": models }),
                Ok(Ok((kind, Err(failure)))) => json!({
                    "url": url,
                    "kind": kind,
                    "models": null,
                    "error": format!("it does not list its models: {}", error(&failure)),
                }),
                Ok(Err(failure)) => json!({ "url": url, "models": null, "error": error(&failure) }),
                Err(_) => json!({ "url": url, "models": null, "error": "no answer within 5 s" }),
            }
        });
        futures_util::future::join_all(asks).await
    }

    /// Cancelled when the service shuts down: every job stops and every
    /// stream ends. [`Jobs::shut_down`] cancels it.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
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
                "fuelbench serve: could not settle run {}: {}",
                status.id,
                fuelbench_stdx::error_chain(&error)
            );
        }
        status
    }

    /// Checks `request`, takes its endpoint, and starts the run on a task of
    /// its own; on a shared database, queues it for a worker of its
    /// endpoint instead.
    pub fn start(
        self: &Arc<Self>,
        mut request: StartRun,
        evaluator: &Evaluator,
        all_problems: &[Problem],
        suites: &[Suite],
    ) -> Result<RunStatus> {
        let seed = EvalConfig::seed_or_fresh(request.seed).map_err(|source| Error::Io {
            path: "/dev/urandom".into(),
            source,
        })?;
        request.seed = Some(seed);
        if self.shutdown.is_cancelled() {
            return Err(Error::Busy("the server is shutting down".into()));
        }
        request.endpoint = Some(self.endpoint(request.endpoint.as_deref())?);
        let prepared = Prepared::new(request, all_problems, suites, &self.owner)?;
        crate::preflight(&*self.store, &prepared.configs, prepared.request.resume)?;
        if let Some(shared) = &self.shared {
            return shared.start(prepared);
        }
        let Prepared {
            request,
            problems,
            configs,
            status,
        } = prepared;
        let mut settings = ClientConfig::new(&status.endpoint);
        settings.api_key = self.api_key.clone();
        settings.ca_certificates = self.ca_certificates.clone();
        let target = Target::open(
            Endpoint::Url(status.endpoint.clone()),
            settings,
            &self.locks_dir,
        )?;
        let client = target.client().clone();
        self.store.save_run(&status)?;
        let live = Arc::new(LiveJob {
            log: Mutex::new(JobLog {
                status: status.clone(),
                events: Vec::new(),
            }),
            changed: channel::Sender::new(0),
            cancel: self.shutdown.child_token(),
            target: Mutex::new(Some(target)),
        });
        lock(&self.live).insert(status.id.clone(), Arc::clone(&live));

        let job = Work {
            client,
            kind: request.server_kind,
            benchmark: Benchmark {
                configs,
                out_dir: self.store.results_dir().to_owned(),
                resume: request.resume,
                suites: suites.to_vec(),
            },
            problems,
            evaluator: evaluator.with_seed(seed),
        };
        let runs = Arc::clone(self);
        self.tasks.spawn(async move { runs.drive(live, job).await });
        Ok(status)
    }

    fn endpoint(&self, asked: Option<&str>) -> Result<String> {
        if self.endpoints.is_empty() {
            return Err(Error::Conflict {
                code: "no_endpoint",
                message: "this server has no model server to run against; start it with \
                          --endpoint URL"
                    .into(),
            });
        }
        let Some(asked) = asked else {
            return Ok(self.endpoints[0].clone());
        };
        let invalid = |message: String| Error::Invalid {
            field: "endpoint",
            message,
        };
        if let Ok(index) = asked.parse::<usize>() {
            return self.endpoints.get(index).cloned().ok_or_else(|| {
                invalid(format!(
                    "there are {} endpoints; {index} is not one",
                    self.endpoints.len()
                ))
            });
        }
        let wanted = ClientConfig::new(asked).base_url;
        self.endpoints
            .iter()
            .find(|endpoint| **endpoint == wanted)
            .cloned()
            .ok_or_else(|| {
                invalid(format!(
                    "{asked:?} is not a configured endpoint; runs may target {}",
                    self.endpoints.join(", ")
                ))
            })
    }

    async fn drive(&self, live: Arc<LiveJob>, job: Work) {
        let mut sink = |event: RunEvent| self.record(&live, event);
        job.run(&live.cancel, &self.store, &mut sink).await;
        lock(&self.live).remove(&lock(&live.log).status.id);
    }

    /// Numbers an event, stores it, folds it into the state, and wakes the
    /// watchers.
    fn record(&self, live: &LiveJob, event: RunEvent) {
        let event = self.store.relative_event(event);
        let json: Arc<str> = serde_json::to_string(&event)
            .expect("events serialise")
            .into();
        if matches!(
            event,
            RunEvent::RunFinished { .. } | RunEvent::RunFailed { .. } | RunEvent::RunCancelled
        ) && let Some(target) = lock(&live.target).as_mut()
        {
            target.release();
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
            eprintln!(
                "fuelbench serve: could not store run {id}'s event: {}",
                fuelbench_stdx::error_chain(&error)
            );
        }
        live.changed.send_replace(log.status.last_event);
    }

    /// Runs this process drives now.
    pub fn active(&self) -> usize {
        lock(&self.live).len()
    }

    /// Every run, live or stored, newest first.
    pub fn list(&self) -> Result<Vec<RunStatus>> {
        if let Some(shared) = &self.shared {
            return shared.list();
        }
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
        Ok(all)
    }

    /// One job, live or stored.
    pub fn get(&self, id: &str) -> Result<RunStatus> {
        if let Some(shared) = &self.shared {
            return shared.get(id);
        }
        if let Some(live) = lock(&self.live).get(id) {
            return Ok(live.status());
        }
        let stored = self.store.run(id).ok_or_else(|| unknown_run(id))?;
        Ok(self.settle_if_orphaned(stored))
    }

    /// A new run with an ended run's request, continuing its results files.
    pub fn resume(
        self: &Arc<Self>,
        id: &str,
        evaluator: &Evaluator,
        all_problems: &[Problem],
        suites: &[Suite],
    ) -> Result<RunStatus> {
        let old = self.get(id)?;
        if !old.state.is_over() {
            return Err(Error::Conflict {
                code: "run_not_over",
                message: format!("run {id} has not ended; cancel it first, or watch it"),
            });
        }
        let request = StartRun {
            resume: true,
            endpoint: Some(old.endpoint.clone()),
            ..old.request
        };
        self.start(request, evaluator, all_problems, suites)
    }

    /// Asks a run to stop: it ends `cancelled`, its files whole.
    pub fn cancel(&self, id: &str) -> Result<RunStatus> {
        if let Some(shared) = &self.shared {
            return shared.cancel(id);
        }
        let Some(live) = lock(&self.live).get(id).cloned() else {
            return Err(nothing_to_cancel(&self.get(id)?));
        };
        let acknowledged = {
            let mut log = lock(&live.log);
            if log.status.state.is_over() {
                return Err(nothing_to_cancel(&log.status));
            }
            log.status.state = RunState::Cancelling;
            if let Err(error) = self.store.save_run(&log.status) {
                eprintln!(
                    "fuelbench serve: could not store run {id}'s state: {}",
                    fuelbench_stdx::error_chain(&error)
                );
            }
            log.status.clone()
        };
        live.cancel.cancel();
        Ok(acknowledged)
    }

    /// The job's events: a snapshot of its state first (unnumbered), then
    /// every event after `after` (or after the snapshot), numbered, until
    /// the job ends or the service shuts down.
    pub fn events(
        &self,
        id: &str,
        after: Option<u64>,
    ) -> Result<std::pin::Pin<Box<dyn Stream<Item = JobEvent> + Send>>> {
        if let Some(shared) = &self.shared {
            let status = shared.get(id)?;
            let cursor = after.unwrap_or(status.last_event);
            let first = snapshot(status);
            let rest = shared.events(id, cursor, self.shutdown.clone());
            return Ok(Box::pin(
                futures_util::stream::once(async move { first }).chain(rest),
            ));
        }
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
        let first = snapshot(status);
        let state = Watch {
            source,
            cursor,
            shutdown: self.shutdown.clone(),
            closing: None,
        };
        let rest = futures_util::stream::unfold(state, Watch::next);
        Ok(Box::pin(
            futures_util::stream::once(async move { first }).chain(rest),
        ))
    }

    /// Stops every run (each checkpoints: its file is whole and resumable)
    /// and waits for them, at most `grace`.
    pub async fn shut_down(&self, grace: Duration) {
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

/// The unnumbered event that opens every stream: the run's state now.
fn snapshot(status: RunStatus) -> JobEvent {
    let snapshot = serde_json::json!({ "event": "snapshot", "run": status.public() });
    JobEvent {
        number: None,
        data: snapshot.to_string().into(),
    }
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

/// What a job's task owns.
pub(crate) struct Work {
    pub(crate) client: ChatClient,
    pub(crate) kind: Option<ServerKind>,
    pub(crate) benchmark: Benchmark,
    pub(crate) problems: Vec<Problem>,
    pub(crate) evaluator: Evaluator,
}

impl Work {
    /// Connects to the model server and runs the benchmark, every step to
    /// `sink`, ending with `run_finished`, `run_failed` or `run_cancelled`.
    pub(crate) async fn run(
        self,
        cancel: &CancellationToken,
        store: &Arc<dyn Store>,
        sink: EventSink<'_>,
    ) {
        let Work {
            client,
            kind,
            benchmark,
            problems,
            evaluator,
        } = self;
        let manager = tokio::select! {
            manager = Manager::connect(client.clone(), kind) => manager,
            () = cancel.cancelled() => {
                sink(RunEvent::RunCancelled);
                return;
            }
        };
        match manager {
            Ok(manager) => {
                let context = RunContext {
                    client,
                    evaluator,
                    cancel: cancel.clone(),
                    store: Some(Arc::clone(store)),
                };
                // The outcome is in the events the run sent.
                let _ = benchmark.run(&context, &manager, &problems, sink).await;
            }
            Err(error) => sink(RunEvent::RunFailed {
                error: format!(
                    "reach the model server: {}",
                    fuelbench_stdx::error_chain(&error)
                ),
            }),
        }
    }
}

/// A run request checked and planned, with the state it starts in.
pub(crate) struct Prepared {
    /// What was asked, its endpoint and seed filled in.
    pub(crate) request: StartRun,
    /// The problems it asks, in order.
    pub(crate) problems: Vec<Problem>,
    /// One per model and variant.
    pub(crate) configs: Vec<RunConfig>,
    /// Queued, nothing done.
    pub(crate) status: RunStatus,
}

impl Prepared {
    /// Checks and plans `request`, whose endpoint is set, for `owner`.
    pub(crate) fn new(
        request: StartRun,
        all_problems: &[Problem],
        suites: &[Suite],
        owner: &str,
    ) -> Result<Prepared> {
        let plan = request.plan()?;
        let problems = plan
            .select(all_problems.to_vec())
            .map_err(|error| Error::Invalid {
                field: "problems",
                message: fuelbench_stdx::error_chain(&error),
            })?;
        plan.suites(suites).map_err(|error| Error::Invalid {
            field: "suites",
            message: fuelbench_stdx::error_chain(&error),
        })?;
        let configs = plan
            .configs(&problems, suites)
            .map_err(|error| Error::Invalid {
                field: "models",
                message: fuelbench_stdx::error_chain(&error),
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
            endpoint: request.endpoint.clone().unwrap_or_default(),
            server_kind: request.server_kind,
            models: plan.models.clone(),
            variants,
            problems: problems.iter().map(|p| p.id.clone()).collect(),
            resume: request.resume,
            created_at: crate::now(),
            started_at: None,
            ended_at: None,
            progress: RunProgress::new(configs.iter().map(|c| c.planned().count()).sum()),
            outcomes: Vec::new(),
            summaries: Vec::new(),
            files: Vec::new(),
            skipped: Vec::new(),
            warnings: plan.notes(),
            error: None,
            last_event: 0,
            owner: owner.to_owned(),
            queue_position: None,
            request: request.clone(),
        };
        Ok(Prepared {
            request,
            problems,
            configs,
            status,
        })
    }
}

fn unknown_run(id: &str) -> Error {
    Error::NotFound {
        code: "unknown_run",
        message: format!("no run {id:?}; GET /api/v1/runs lists them"),
    }
}

fn nothing_to_cancel(status: &RunStatus) -> Error {
    Error::Conflict {
        code: "run_not_running",
        message: format!(
            "run {} is {}; there is nothing to cancel",
            status.id,
            state_name(status.state)
        ),
    }
}

#[cfg(test)]
mod tests;
