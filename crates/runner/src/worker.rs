//! A worker: claims the queued runs of one model server from the shared
//! database and drives them, one at a time.
//!
//! Every event the run sends is a row numbered by the worker and written
//! with its claim number; the run's folded state is written beside an
//! event at least once a second and at every step that matters, and every
//! finished problem's record is kept, as the checkpoint a later claim goes
//! on from. A heartbeat renews the lease from the claim until the run is
//! let go, and hears a request to cancel. When the claim is lost (the
//! worker was paused or cut off and another claimed the run), the
//! database refuses every write this worker still tries, and it stops the
//! run. A worker asked to stop gives its run back to the queue, first in
//! line, for the next claim to finish.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fuelbench_cluster::{Claim, Cluster, Ended, Heard};
use fuelbench_eval::Evaluator;
use fuelbench_llm::ClientConfig;
use fuelbench_problems::Problem;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::jobs::{Prepared, RunState, RunStatus, StartRun, Work, file_name};
use crate::start::{Endpoint, Target};
use crate::store::Store;
use crate::{
    Benchmark, CancellationToken, Error, Result, ResultsFile, RunConfig, RunEvent, Suite,
    results_path,
};

/// How long a worker waits for an announcement before it looks at the
/// queue anyway: a run whose worker's lease ran out is announced by
/// nobody.
const LOOK_AGAIN: Duration = Duration::from_millis(500);

/// How often an idle worker says it is there.
const SEEN_EVERY: Duration = Duration::from_secs(5);

/// The longest pause between tries of a write the database did not take.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How long writes may keep failing before the worker counts its claim
/// as lost: the lease ran out long before.
const GIVE_UP: Duration = Duration::from_secs(300);

/// The most a run's state waits to be written after it changed.
const STATE_EVERY: Duration = Duration::from_secs(1);

/// How many of a run's workers may stop holding it without letting it go
/// before it is failed rather than claimed again: something in it stops
/// them. A run handed back on purpose is never counted.
const MAX_LAPSES: i64 = 5;

/// The longest one try of a write may take: a database that went silent
/// (packets dropped, not refused) is tried again, not waited on.
const ATTEMPT: Duration = Duration::from_secs(30);

/// How long a worker waits after giving a run back because the model
/// server was held or the database away.
const BACK_OFF: Duration = Duration::from_secs(5);

/// What a worker needs besides the database and the store.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The model server whose runs it claims, as its root URL.
    pub endpoint: String,
    /// Names the worker in the queue and in logs: `host:pid`.
    pub name: String,
    /// How long a claim holds without a heartbeat; renewed every third of
    /// it.
    pub lease: Duration,
    /// Sent to the model server as a bearer token.
    pub api_key: Option<String>,
    /// Certificate authorities trusted beside the system's.
    pub ca_certificates: fuelbench_llm::CaCertificates,
    /// Where the per-server locks live, shared with `fuelbench run`.
    pub locks_dir: PathBuf,
}

/// Claims and drives runs for one model server.
#[derive(Debug)]
pub struct Worker {
    cluster: Cluster,
    store: Arc<dyn Store>,
    evaluator: Evaluator,
    problems: Vec<Problem>,
    suites: Vec<Suite>,
    config: WorkerConfig,
    owner: String,
}

impl Worker {
    /// A worker for `config.endpoint`, writing results files into `store`.
    pub fn new(
        cluster: Cluster,
        store: Arc<dyn Store>,
        evaluator: Evaluator,
        problems: Vec<Problem>,
        suites: Vec<Suite>,
        mut config: WorkerConfig,
    ) -> Worker {
        config.endpoint = ClientConfig::new(&config.endpoint).base_url;
        let (_, owner) = crate::jobs::this_process();
        Worker {
            cluster,
            store,
            evaluator,
            problems,
            suites,
            config,
            owner,
        }
    }

    /// Claims and drives runs until `stop`; a run in flight then is given
    /// back to the queue once its problem in flight is dropped.
    pub async fn run(&self, stop: CancellationToken) {
        let mut feed = None;
        let mut seen: Option<Instant> = None;
        while !stop.is_cancelled() {
            if seen.is_none_or(|at| at.elapsed() >= SEEN_EVERY)
                && self
                    .cluster
                    .seen(&self.config.name, &self.config.endpoint)
                    .await
                    .is_ok()
            {
                seen = Some(Instant::now());
            }
            match self
                .cluster
                .claim(&self.config.name, &self.config.endpoint, self.config.lease)
                .await
            {
                Ok(Some(claim)) => {
                    if self.drive(claim, &stop).await == Driven::BackOff {
                        tokio::select! {
                            () = tokio::time::sleep(BACK_OFF) => {}
                            () = stop.cancelled() => {}
                        }
                    }
                    continue;
                }
                Ok(None) => {}
                Err(error) => self.log(&format!(
                    "could not look at the queue: {}",
                    fuelbench_stdx::error_chain(&error)
                )),
            }
            if feed.is_none() {
                let connect =
                    tokio::time::timeout(Duration::from_secs(5), self.cluster.queue_feed());
                feed = connect.await.ok().and_then(std::result::Result::ok);
            }
            // Until a run for this server is queued or let go, a while
            // has passed, or stop.
            let wait = async {
                let Some(feed) = &mut feed else {
                    return Ok(());
                };
                loop {
                    if let Heard::Queued { endpoint } = feed.next().await?
                        && endpoint == self.config.endpoint
                    {
                        return Ok::<_, fuelbench_cluster::Error>(());
                    }
                }
            };
            tokio::select! {
                heard = wait => {
                    if heard.is_err() {
                        feed = None;
                    }
                }
                () = tokio::time::sleep(LOOK_AGAIN) => {}
                () = stop.cancelled() => {}
            }
        }
    }

    fn log(&self, message: &str) {
        eprintln!("fuelbench worker {}: {message}", self.config.name);
    }

    /// Drives the run `claim` holds to its end, or gives it back; its
    /// lease renewed all the while.
    async fn drive(&self, claim: Claim, stop: &CancellationToken) -> Driven {
        self.log(&format!(
            "claimed run {} (claim {}{})",
            claim.run,
            claim.number,
            if claim.taken_over { ", taken over" } else { "" }
        ));
        let work = CancellationToken::new();
        let user_cancel = CancellationToken::new();
        let lost = CancellationToken::new();
        if claim.cancel {
            user_cancel.cancel();
        }
        let heartbeat = tokio::spawn(heartbeat(
            self.cluster.clone(),
            claim.clone(),
            self.config.clone(),
            work.clone(),
            user_cancel.clone(),
            lost.clone(),
        ));
        let stopping = {
            let (stop, work) = (stop.clone(), work.clone());
            tokio::spawn(async move {
                stop.cancelled().await;
                work.cancel();
            })
        };
        let driven = self
            .drive_held(&claim, stop, &work, &user_cancel, &lost)
            .await;
        heartbeat.abort();
        stopping.abort();
        driven
    }

    async fn drive_held(
        &self,
        claim: &Claim,
        stop: &CancellationToken,
        work: &CancellationToken,
        user_cancel: &CancellationToken,
        lost: &CancellationToken,
    ) -> Driven {
        let mut status = match self.status_of(claim).await {
            Ok(status) => status,
            Err(error) => {
                // Queued or written by a fuelbench this one cannot read:
                // nothing can be run, and the run ends with what it had.
                let why = fuelbench_stdx::error_chain(&error);
                self.log(&format!("run {}'s state is unreadable: {why}", claim.run));
                if gives_back(&error) {
                    self.let_go(claim, None, &claim.status).await;
                } else {
                    self.let_go(claim, Some(Ended::Failed), &claim.status).await;
                }
                return Driven::BackOff;
            }
        };
        if status.state.is_over() {
            // Its last event was written, and its worker stopped before it
            // said so in the queue.
            let ended = ended(status.state);
            let value = serde_json::to_value(&status).expect("a state serialises");
            self.let_go(claim, Some(ended), &value).await;
            return Driven::Done;
        }
        let (writes, written) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_all(
            self.cluster.clone(),
            claim.clone(),
            written,
            work.clone(),
            lost.clone(),
        ));
        let mut recorder = Recorder {
            store: Arc::clone(&self.store),
            status: status.clone(),
            writes,
            file: None,
            state_written: Instant::now(),
            stop: stop.clone(),
            user_cancel: user_cancel.clone(),
            given_back: false,
        };
        let mut driven = Driven::Done;
        if user_cancel.is_cancelled() {
            recorder.record(RunEvent::RunCancelled);
        } else if claim.lapses > MAX_LAPSES {
            recorder.record(RunEvent::RunFailed {
                error: format!(
                    "{} of its workers stopped before it ended, each losing its lease; \
                     something in the run stops them. Its results files are whole, and \
                     resuming it goes on from them",
                    claim.lapses
                ),
            });
        } else {
            match self.prepare(claim).await {
                Ok((job, target)) => {
                    if claim.taken_over {
                        recorder.record(RunEvent::Warning {
                            message: format!(
                                "the worker that had this run stopped before it ended; worker \
                                 {} goes on from its finished problems",
                                self.config.name
                            ),
                        });
                    }
                    let mut sink = |event: RunEvent| recorder.record(event);
                    job.run(work, &self.store, &mut sink).await;
                    drop(target);
                }
                // Held by another run on this host, or the database away: the
                // run goes back, first in line, for this worker or another.
                Err(error) if gives_back(&error) => {
                    self.log(&format!(
                        "cannot start run {} now: {}",
                        claim.run,
                        fuelbench_stdx::error_chain(&error)
                    ));
                    recorder.given_back = true;
                    driven = Driven::BackOff;
                }
                Err(error) => recorder.record(RunEvent::RunFailed {
                    error: fuelbench_stdx::error_chain(&error),
                }),
            }
        }
        let Recorder {
            status: folded,
            writes,
            given_back,
            ..
        } = recorder;
        status = folded;
        drop(writes);
        let written = writer.await.unwrap_or_else(|_| Written {
            broken: Some("the writer panicked".into()),
            state: None,
        });
        if lost.is_cancelled() {
            self.log(&format!(
                "run {} is no longer this worker's: its late writes were refused",
                claim.run
            ));
            return Driven::Done;
        }
        if let Some(why) = written.broken {
            // Ended from the last state the database took, so it claims no
            // event the table lacks.
            if let Some(stored) = written
                .state
                .and_then(|state| serde_json::from_value::<RunStatus>(state).ok())
            {
                status = stored;
            } else if let Ok(first) = serde_json::from_value::<RunStatus>(claim.status.clone()) {
                status = first;
            }
            status.end(
                RunState::Failed,
                Some(format!("the database refused the run's records: {why}")),
            );
        }
        let ended = (!given_back || status.state.is_over()).then(|| ended(status.state));
        let value = serde_json::to_value(&status).expect("a state serialises");
        self.let_go(claim, ended, &value).await;
        driven
    }

    /// The run's state as stored, with the events written after it folded
    /// in.
    async fn status_of(&self, claim: &Claim) -> Result<RunStatus> {
        let status: RunStatus = serde_json::from_value(claim.status.clone())
            .map_err(|error| Error::Unreadable(error.to_string()))?;
        let mut status = crate::jobs::catch_up(&self.cluster, &claim.run, status).await?;
        status.owner.clone_from(&self.owner);
        status.queue_position = None;
        Ok(status)
    }

    /// Ends the run `claim` holds as `ended`, or gives it back (`None`),
    /// trying again while the database is away.
    async fn let_go(&self, claim: &Claim, ended: Option<Ended>, status: &Value) {
        let outcome = retry(claim, || async {
            match ended {
                Some(ended) => self.cluster.finish(claim, ended, status).await,
                None => self.cluster.release(claim, status).await,
            }
        })
        .await;
        match outcome {
            Ok(()) if ended.is_none() => self.log(&format!("gave run {} back", claim.run)),
            Ok(()) => self.log(&format!("run {} ended", claim.run)),
            Err(why) => self.log(&format!("could not let run {} go: {why}", claim.run)),
        }
    }

    /// The run's work and its hold on the model server, with its results
    /// files ready: when taken over, made whole from the checkpoint.
    async fn prepare(&self, claim: &Claim) -> Result<(Work, Target)> {
        let request: StartRun =
            serde_json::from_value(claim.request.clone()).map_err(|error| Error::Invalid {
                field: "request",
                message: format!("the queued request cannot be read: {error}"),
            })?;
        let resume = request.resume || claim.taken_over;
        let seed = request.seed.unwrap_or_default();
        let request = StartRun {
            endpoint: Some(self.config.endpoint.clone()),
            ..request
        };
        let Prepared {
            request,
            problems,
            configs,
            ..
        } = Prepared::new(request, &self.problems, &self.suites, &self.owner)?;
        let evaluator = self.evaluator.with_seed(seed);
        let (store, checked) = (Arc::clone(&self.store), configs.clone());
        tokio::task::spawn_blocking(move || crate::preflight(&*store, &checked, resume))
            .await
            .expect("staging does not panic")?;
        if claim.taken_over {
            self.restore(claim, &configs, &evaluator).await?;
        }
        let mut settings = ClientConfig::new(&self.config.endpoint);
        settings.api_key = self.config.api_key.clone();
        settings.ca_certificates = self.config.ca_certificates.clone();
        let target = Target::open(
            Endpoint::Url(self.config.endpoint.clone()),
            settings,
            &self.config.locks_dir,
        )?;
        let work = Work {
            client: target.client().clone(),
            kind: request.server_kind,
            benchmark: Benchmark {
                configs,
                out_dir: self.store.results_dir().to_owned(),
                resume,
                suites: self.suites.clone(),
            },
            problems,
            evaluator,
        };
        Ok((work, target))
    }

    /// Makes the run's results files and its checkpoint agree: a file the
    /// store lacks is written from the checkpoint's records, and a record
    /// a file has that the checkpoint lacks (the last worker stopped
    /// between the two) is added to it.
    async fn restore(
        &self,
        claim: &Claim,
        configs: &[RunConfig],
        evaluator: &Evaluator,
    ) -> Result<()> {
        let rows = self.cluster.finished_problems(&claim.run).await?;
        let (store, configs, evaluator) =
            (Arc::clone(&self.store), configs.to_vec(), evaluator.clone());
        let missing = tokio::task::spawn_blocking(move || {
            restore_files(&*store, &configs, &evaluator, &rows)
        })
        .await
        .expect("restoring does not panic")?;
        for (file, problem, sample, record) in missing {
            self.cluster
                .record_problem(claim, &file, &problem, sample, &record)
                .await?;
        }
        Ok(())
    }
}

/// A finished problem, as the checkpoint keeps it: results file, problem,
/// sample, record.
type Row = (String, String, u32, Value);

/// For each of `configs`, writes the results file from `rows` when the
/// store has none; the records files have that `rows` lack.
fn restore_files(
    store: &dyn Store,
    configs: &[RunConfig],
    evaluator: &Evaluator,
    rows: &[Row],
) -> Result<Vec<Row>> {
    let mut missing = Vec::new();
    for config in configs {
        let path = results_path(store.results_dir(), config);
        let name = file_name(&path);
        let kept: Vec<&Row> = rows.iter().filter(|row| row.0 == name).collect();
        if path.exists() {
            let file = ResultsFile::read(&path)?;
            for record in &file.problems {
                let known = kept
                    .iter()
                    .any(|row| row.1 == record.id && row.2 == record.sample);
                if !known {
                    let value = serde_json::to_value(record).expect("a record serialises");
                    missing.push((name.clone(), record.id.clone(), record.sample, value));
                }
            }
        } else if !kept.is_empty() {
            let mut file = ResultsFile::new(config.clone(), config.scorer_key(evaluator));
            for row in kept {
                let record = serde_json::from_value(row.3.clone()).map_err(|error| {
                    Error::Unreadable(format!(
                        "the checkpoint of {name}'s {} (sample {}): {error}",
                        row.1, row.2
                    ))
                })?;
                file.problems.push(record);
            }
            file.refresh();
            file.write_atomic(&path)?;
            store.checkpoint(&path)?;
        }
    }
    Ok(missing)
}

/// What driving a claim came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driven {
    /// The run ended, or is another's now.
    Done,
    /// The run went back to the queue for a reason that may pass: wait a
    /// while before the next claim.
    BackOff,
}

fn ended(state: RunState) -> Ended {
    match state {
        RunState::Finished => Ended::Finished,
        RunState::Cancelled => Ended::Cancelled,
        _ => Ended::Failed,
    }
}

/// Whether starting a run failed for a reason that passes: the model
/// server held by a run on this host, or the database away.
fn gives_back(error: &Error) -> bool {
    match error {
        Error::Server(fuelbench_llm::Error::Busy { .. }) => true,
        Error::Shared(error) => error.is_transient(),
        _ => false,
    }
}

/// Folds a run's events into its state and hands each to the writer.
struct Recorder {
    store: Arc<dyn Store>,
    status: RunStatus,
    writes: mpsc::UnboundedSender<Write>,
    /// The results file the run writes now.
    file: Option<PathBuf>,
    /// When the state was last handed to the writer.
    state_written: Instant,
    stop: CancellationToken,
    /// Someone asked the run to stop.
    user_cancel: CancellationToken,
    /// The worker is stopping and the run goes back to the queue, not to
    /// its end.
    given_back: bool,
}

/// One event to write, numbered, with the state it leaves the run in when
/// that is due, and the problem it finished.
struct Write {
    seq: i64,
    event: Value,
    status: Option<Value>,
    finished: Option<Finished>,
}

/// A finished problem: its record is read from its results file.
struct Finished {
    path: PathBuf,
    problem: String,
    sample: u32,
}

impl Recorder {
    fn record(&mut self, event: RunEvent) {
        if matches!(event, RunEvent::RunCancelled)
            && self.stop.is_cancelled()
            && !self.user_cancel.is_cancelled()
        {
            // Stopped by its worker's stopping, not by anyone's asking:
            // the next claim finishes it.
            self.given_back = true;
            return;
        }
        let finished = match &event {
            RunEvent::VariantStarted { file, .. } => {
                self.file = Some(file.clone());
                None
            }
            RunEvent::ProblemDone { outcome, .. } => self.file.clone().map(|path| Finished {
                path,
                problem: outcome.problem.clone(),
                sample: outcome.sample,
            }),
            _ => None,
        };
        let event = self.store.relative_event(event);
        self.status.apply(&event);
        // Every step a person follows the run by carries the state; the
        // rest, once a second: a stream opened between them gets the
        // events since.
        let due = !matches!(
            event,
            RunEvent::ProblemStarted { .. } | RunEvent::ProblemDone { .. } | RunEvent::Model { .. }
        ) || self.state_written.elapsed() >= STATE_EVERY;
        if due {
            self.state_written = Instant::now();
        }
        let write = Write {
            seq: i64::try_from(self.status.last_event).unwrap_or(i64::MAX),
            event: serde_json::to_value(&event).expect("events serialise"),
            status: due.then(|| serde_json::to_value(&self.status).expect("a state serialises")),
            finished,
        };
        // The writer ends only after the last sender is dropped.
        let _ = self.writes.send(write);
    }
}

/// Writes every event and finished problem in order, each with the claim,
/// trying again while the database is away. Once the claim is lost, the
/// rest is dropped and `lost` cancelled; once the database refuses the
/// data itself, the rest is dropped too, and why is returned. Either
/// stops the work.
async fn write_all(
    cluster: Cluster,
    claim: Claim,
    mut writes: mpsc::UnboundedReceiver<Write>,
    work: CancellationToken,
    lost: CancellationToken,
) -> Written {
    let mut broken = None;
    let mut state = None;
    while let Some(write) = writes.recv().await {
        if lost.is_cancelled() || broken.is_some() {
            continue;
        }
        let appended = retry(&claim, || {
            cluster.append_event(&claim, write.seq, &write.event, write.status.as_ref())
        })
        .await;
        if appended.is_ok() && write.status.is_some() {
            state = write.status;
        }
        let recorded = match (appended, write.finished) {
            (Ok(()), Some(finished)) => record(&cluster, &claim, finished).await,
            (appended, _) => appended,
        };
        match recorded {
            Ok(()) => {}
            Err(Failed::Lost) => {
                lost.cancel();
                work.cancel();
            }
            Err(Failed::Refused(why)) => {
                broken = Some(why);
                work.cancel();
            }
        }
    }
    Written { broken, state }
}

/// What the writer came to.
struct Written {
    /// Why the database refused the run's records, when it did.
    broken: Option<String>,
    /// The last state the database took.
    state: Option<Value>,
}

/// Keeps a finished problem's record, read from its results file.
async fn record(
    cluster: &Cluster,
    claim: &Claim,
    finished: Finished,
) -> std::result::Result<(), Failed> {
    let path = finished.path.clone();
    let problem = finished.problem.clone();
    let read = tokio::task::spawn_blocking(move || {
        let file = ResultsFile::read(&path)?;
        Ok::<_, Error>(
            file.record(&problem, finished.sample)
                .map(|record| serde_json::to_value(record).expect("a record serialises")),
        )
    })
    .await
    .expect("reading does not panic");
    let Ok(Some(record)) = read else {
        // The next claim adds it from the file, which has it.
        return Ok(());
    };
    let name = file_name(&finished.path);
    retry(claim, || {
        cluster.record_problem(claim, &name, &finished.problem, finished.sample, &record)
    })
    .await
}

/// Why a write did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failed {
    /// The claim is another's, or the run is gone or over.
    Lost,
    /// The database refused the data, or a count went wrong.
    Refused(String),
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Lost => f.write_str("the claim was lost"),
            Failed::Refused(why) => f.write_str(why),
        }
    }
}

/// `write` until it is done, refused, or the claim lost, trying again
/// while the database is away; after [`GIVE_UP`] of that, the claim
/// counts as lost, its lease long run out.
async fn retry<T, F: Future<Output = fuelbench_cluster::Result<T>>>(
    claim: &Claim,
    mut write: impl FnMut() -> F,
) -> std::result::Result<T, Failed> {
    use fuelbench_cluster::Error as Db;
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        let Ok(attempt) = tokio::time::timeout(ATTEMPT, write()).await else {
            if started.elapsed() >= GIVE_UP {
                eprintln!(
                    "fuelbench worker: gave up writing run {}: no answer",
                    claim.run
                );
                return Err(Failed::Lost);
            }
            continue;
        };
        match attempt {
            Ok(done) => return Ok(done),
            Err(Db::Lost { .. } | Db::NotFound(_) | Db::Ended { .. }) => return Err(Failed::Lost),
            Err(error) if !error.is_transient() => {
                return Err(Failed::Refused(fuelbench_stdx::error_chain(&error)));
            }
            Err(error) if started.elapsed() >= GIVE_UP => {
                eprintln!(
                    "fuelbench worker: gave up writing run {}: {}",
                    claim.run,
                    fuelbench_stdx::error_chain(&error)
                );
                return Err(Failed::Lost);
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Renews the lease every third of it, and says the worker is there;
/// stops the work when someone asks for it (`user_cancel` too) or the
/// claim is lost (`lost` too). A lease not renewed for as long as it lasts
/// counts as lost here too: another worker may hold the run by now, and
/// two must never drive one model server.
async fn heartbeat(
    cluster: Cluster,
    claim: Claim,
    config: WorkerConfig,
    work: CancellationToken,
    user_cancel: CancellationToken,
    lost: CancellationToken,
) {
    let beat = config.lease / 3;
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(beat).await;
        let renew = async {
            let _ = cluster.seen(&config.name, &config.endpoint).await;
            cluster.renew(&claim, config.lease).await
        };
        match tokio::time::timeout(beat, renew).await {
            Ok(Ok(cancel)) => {
                renewed = Instant::now();
                if cancel {
                    user_cancel.cancel();
                    work.cancel();
                }
            }
            // The database is away or silent: the lease holds a while yet.
            Ok(Err(error)) if error.is_transient() => {}
            Err(_) => {}
            Ok(Err(_)) => {
                lost.cancel();
                work.cancel();
                return;
            }
        }
        if renewed.elapsed() >= config.lease {
            eprintln!(
                "fuelbench worker {}: no renewal of run {}'s lease for {:?}: stopping it",
                config.name, claim.run, config.lease
            );
            lost.cancel();
            work.cancel();
            return;
        }
    }
}
