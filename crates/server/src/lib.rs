//! fuelbench as an HTTP service.
//!
//! [`router`] serves a JSON API under `/api/v1` that judges code for other
//! programs: `evaluate` (one solution, or a model's whole reply, to the same
//! `Report` that `fuelbench evaluate --json` prints), `evaluate/batch`, and
//! `run` (any program, to the sandbox's outcome). Evaluation is stateless:
//! every answer depends only on the request, the problem set and the pinned
//! interpreter, so replicas behind any load balancer share the work.
//!
//! Sandbox work runs on tokio's blocking pool, a bounded number of jobs at a
//! time ([`Config::slots`]); past a bounded queue, the answer is 503 with
//! `Retry-After`, at once. A guest's failure is a 200 with its verdict; a
//! 4xx is the request's fault, a 5xx the host's ([`ApiError`]).
//!
//! This crate is the only one that knows axum, and it knows nothing of how
//! runs are stored or driven: jobs and the store are the runner's
//! ([`fuelbench_runner::jobs`], [`fuelbench_runner::Store`]); here are
//! routes, pages, OpenAPI, metrics, the sandbox slots and SSE. Tests drive
//! [`router`] with `oneshot`, without a socket.

mod error;
mod listen;
mod metrics;
mod openapi;
mod recover;
mod routes;
mod store;
mod ui;
mod verify;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use fuelbench_eval::Evaluator;
use fuelbench_problems::Problem;
use fuelbench_runner::Store;
use fuelbench_runner::Suite;
use fuelbench_runner::jobs::Jobs;
use fuelbench_sandbox::Interrupt;
use tokio::sync::Semaphore;

use crate::store::StoreReader;

pub use crate::error::{ApiError, ApiJson};
pub use crate::listen::{default_max_connections, raise_open_files_limit};
pub use crate::openapi::openapi;
pub use fuelbench_runner::jobs::{JobsConfig, RunState, RunStatus, StartRun};

/// The service's policy. Every maximum is published at `/api/v1/info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Sandbox jobs at once: one per core, since each keeps a core busy.
    pub slots: usize,
    /// Requests that may wait for a slot beyond those running; one more is
    /// a 503 at once, so no request waits without limit. 32 a slot lets 64
    /// clients on 2 cores wait their turn rather than spin on 503s; each
    /// holds at most one body and waits at most `queue_wait`.
    pub queue: usize,
    /// How long a queued request waits for a slot before its 503.
    pub queue_wait: Duration,
    /// A request body: 12 MiB leaves room for `max_code_bytes` of code
    /// escaped in JSON.
    pub max_body_bytes: usize,
    /// One program or solution: far more than any answer a model writes.
    pub max_code_bytes: usize,
    /// Items in one `evaluate/batch`.
    pub max_batch: usize,
    /// When set, routes that evaluate or run anything need
    /// `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Listening on loopback: a request must name a loopback host, so a
    /// web page cannot reach the service by rebinding its own name.
    pub loopback_only: bool,
    /// The model servers runs may target, and how to reach them.
    pub jobs: JobsConfig,
    /// How long shutdown waits for running runs to checkpoint.
    pub shutdown_grace: Duration,
    /// How long a connection may take to send a request's head, and how
    /// long it may sit idle between requests; then it is closed.
    pub header_read_timeout: Duration,
    /// Connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// How long a response may wait for its client to read it; then the
    /// connection is closed.
    pub write_timeout: Duration,
    /// Event streams open at once, over every run; one more is a 503.
    pub max_event_streams: usize,
    /// Everything a request may cost: reading its body, waiting for a
    /// slot, and the sandbox work, which stops when this passes or the
    /// client goes away. An event stream is bounded by its run instead.
    pub request_deadline: Duration,
    /// Score every finished results file in the store again in the
    /// background, on one slot at a time, and mark its row verified, differs
    /// or unverifiable (`verify`).
    pub verify: bool,
}

impl Default for Config {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Config {
            slots: cores,
            queue: 32 * cores,
            queue_wait: Duration::from_secs(10),
            max_body_bytes: 12 << 20,
            max_code_bytes: 1 << 20,
            max_batch: 20,
            token: None,
            loopback_only: true,
            jobs: JobsConfig {
                endpoints: Vec::new(),
                api_key: None,
                locks_dir: std::env::temp_dir().join("fuelbench-locks"),
                ca_certificates: Default::default(),
            },
            shutdown_grace: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(15),
            max_connections: 1024,
            write_timeout: Duration::from_secs(30),
            max_event_streams: 256,
            request_deadline: Duration::from_secs(120),
            verify: true,
        }
    }
}

/// What a replica on a shared database needs of it.
#[derive(Debug)]
pub struct Database {
    /// The database.
    pub cluster: fuelbench_cluster::Cluster,
    /// The runtime the service runs on, which follows the database's
    /// announcements.
    pub runtime: tokio::runtime::Handle,
    /// The key every replica makes UI form tokens with
    /// ([`fuelbench_cluster::Cluster::secret`]).
    pub session_secret: [u8; 32],
}

/// What every handler shares; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    evaluator: Evaluator,
    problems: Vec<Problem>,
    /// The public suites runs may answer, and whose records pages show.
    suites: Vec<Suite>,
    problem_set_sha256: String,
    config: Config,
    slots: Arc<Semaphore>,
    /// Requests holding or waiting for a slot.
    admitted: AtomicUsize,
    store: StoreReader,
    jobs: Arc<Jobs>,
    metrics: metrics::Metrics,
    sessions: ui::Sessions,
    /// What scoring each results file again found.
    verifications: Arc<verify::Verifications>,
    /// Places for [`AppState::blocking`] work.
    blocking: Arc<Semaphore>,
    /// Places for requests with a body (`routes::admit_bodies`): the slots
    /// and the queue, so that bodies held in memory are bounded by what
    /// the server will ever work on, not by the connections.
    bodies: Arc<Semaphore>,
    /// Event streams open at once (`Config::max_event_streams`).
    event_streams: Arc<Semaphore>,
    /// The model servers' own lists, when last asked (`routes::endpoint_models`).
    endpoint_models: tokio::sync::Mutex<Option<(std::time::Instant, Vec<serde_json::Value>)>>,
}

impl AppState {
    /// The service's state over `store`: its results, and the runs the
    /// service starts on `problems` and the public `suites`.
    pub fn new(
        evaluator: Evaluator,
        problems: Vec<Problem>,
        suites: Vec<Suite>,
        store: Arc<dyn Store>,
        config: Config,
    ) -> std::io::Result<AppState> {
        let jobs = Jobs::new(Arc::clone(&store), config.jobs.clone());
        let sessions = ui::Sessions::new()?;
        AppState::with_jobs(evaluator, problems, suites, store, config, jobs, sessions)
    }

    /// As [`AppState::new`], for one replica of many sharing a database:
    /// runs are queued there for `fuelbench worker`s, and read from there.
    /// `store` must be the one the workers write into.
    pub fn shared(
        evaluator: Evaluator,
        problems: Vec<Problem>,
        suites: Vec<Suite>,
        store: Arc<dyn Store>,
        config: Config,
        database: Database,
    ) -> std::io::Result<AppState> {
        let Database {
            cluster,
            runtime,
            session_secret,
        } = database;
        let jobs = Jobs::shared(Arc::clone(&store), config.jobs.clone(), cluster, runtime);
        let sessions = ui::Sessions::with_secret(session_secret);
        AppState::with_jobs(evaluator, problems, suites, store, config, jobs, sessions)
    }

    fn with_jobs(
        evaluator: Evaluator,
        problems: Vec<Problem>,
        suites: Vec<Suite>,
        store: Arc<dyn Store>,
        config: Config,
        jobs: Jobs,
        sessions: ui::Sessions,
    ) -> std::io::Result<AppState> {
        let jobs = Arc::new(jobs);
        let bodies = config.slots.max(1) + config.queue;
        let event_streams = config.max_event_streams.max(1);
        Ok(AppState {
            inner: Arc::new(Shared {
                problem_set_sha256: fuelbench_runner::problem_set_sha256(&problems),
                evaluator,
                problems,
                suites,
                slots: Arc::new(Semaphore::new(config.slots.max(1))),
                admitted: AtomicUsize::new(0),
                config,
                store: StoreReader::new(store),
                jobs,
                metrics: metrics::Metrics::new(),
                sessions,
                verifications: Arc::default(),
                blocking: Arc::new(Semaphore::new(4)),
                bodies: Arc::new(Semaphore::new(bodies)),
                event_streams: Arc::new(Semaphore::new(event_streams)),
                endpoint_models: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// The policy the service was started with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Runs `work` on the blocking pool once a slot is free: 503 at once past
    /// the queue, or after [`Config::queue_wait`] without a slot.
    pub(crate) async fn sandboxed<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Evaluator) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let inner = &self.inner;
        let limit = inner.config.slots.max(1) + inner.config.queue;
        let admitted = Admitted::enter(&inner.admitted);
        if admitted.position >= limit {
            inner.metrics.rejected();
            return Err(ApiError::busy(format!(
                "all {} sandbox slots are busy and {} requests wait; try again shortly",
                inner.config.slots, inner.config.queue
            )));
        }
        let permit = tokio::time::timeout(
            inner.config.queue_wait,
            Arc::clone(&inner.slots).acquire_owned(),
        )
        .await
        .map_err(|_| {
            inner.metrics.rejected();
            ApiError::busy("no sandbox slot came free in time; try again shortly")
        })?
        .map_err(ApiError::host)?;
        // Raised when this future ends for any reason, the client having
        // gone or the deadline passed among them, so the sandbox stops
        // work nobody will read.
        let interrupt = Interrupt::new();
        let _raise = RaiseOnDrop(interrupt.clone());
        let evaluator = inner.evaluator.interruptible(&interrupt);
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(&evaluator)
        })
        .await
        .map_err(ApiError::host)?;
        drop(admitted);
        Ok(result)
    }

    /// Runs `work` on the blocking pool, a few at a time: reads of run
    /// states and events, which are files however small.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&AppState) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        off_workers(&self.inner.blocking, move || work(&state)).await
    }

    /// Scores every finished results file in the store again, in the
    /// background, as each appears or changes, until `stop` is cancelled;
    /// [`serve`] runs it when [`Config::verify`] is on.
    pub fn verify_store(
        &self,
        stop: tokio_util::sync::CancellationToken,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        verify::verify_store(self.clone(), stop)
    }

    /// Gauges for `/api/v1/info`: requests in the sandbox or waiting.
    pub fn admitted(&self) -> usize {
        self.inner.admitted.load(Ordering::Relaxed)
    }
}

/// Runs `work` on tokio's blocking pool once one of `places` is free. The
/// place goes with the work, not with the request: a client that leaves
/// does not free it while the work goes on.
pub(crate) async fn off_workers<T: Send + 'static>(
    places: &Arc<Semaphore>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let place = Arc::clone(places)
        .acquire_owned()
        .await
        .map_err(ApiError::host)?;
    tokio::task::spawn_blocking(move || {
        let _place = place;
        work()
    })
    .await
    .map_err(ApiError::host)
}

/// Raises its interrupt when dropped.
struct RaiseOnDrop(Interrupt);

impl Drop for RaiseOnDrop {
    fn drop(&mut self) {
        self.0.raise();
    }
}

/// A place among the requests holding or waiting for a slot; given back on
/// drop, whatever happens to the request.
struct Admitted<'a> {
    counter: &'a AtomicUsize,
    position: usize,
}

impl<'a> Admitted<'a> {
    fn enter(counter: &'a AtomicUsize) -> Admitted<'a> {
        let position = counter.fetch_add(1, Ordering::AcqRel);
        Admitted { counter, position }
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The service's routes, ready to serve or to drive with `oneshot`.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config().max_body_bytes;
    routes::routes(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::check_host,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::admit_bodies,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(state, metrics::track))
        .layer(axum::middleware::from_fn(recover::guard_requests))
        .layer(DefaultBodyLimit::max(body_limit))
}

/// Serves `router(state)` on `listener` until `shutdown` resolves. Then it
/// stops taking requests, cancels every run (each results file stays whole
/// and resumable), ends every event stream, finishes the requests in
/// flight, and waits for the runs to checkpoint, at most
/// [`Config::shutdown_grace`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let jobs = Arc::clone(&state.inner.jobs);
    let token = jobs.shutdown_token();
    let signal = async move {
        shutdown.await;
        token.cancel();
    };
    let config = state.config().clone();
    let stop = jobs.shutdown_token();
    tokio::spawn(signal);
    if config.verify {
        tokio::spawn(state.verify_store(stop.clone()));
    }
    listen::serve_connections(listener, router(state), &config, stop).await;
    jobs.shut_down(config.shutdown_grace).await;
    Ok(())
}
