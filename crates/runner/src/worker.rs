//! A worker: claims the queued runs of one model server from the shared
//! database and drives them, one at a time.
//!
//! Every event the run sends is a row written with the worker's claim
//! number, with the run's state folded beside it; every finished problem's
//! record is kept too, as the checkpoint a later claim goes on from. A
//! heartbeat renews the lease and hears a request to cancel. When the
//! lease is lost (the worker was paused or cut off and another claimed the
//! run), the database refuses every write this worker still tries, and it
//! stops the run. A worker asked to stop gives its run back to the queue,
//! first in line, for the next claim to finish.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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

/// The longest pause between tries of a write the database did not take.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How long writes may keep failing before the worker gives the run up to
/// the next claim.
const GIVE_UP: Duration = Duration::from_secs(300);

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
        while !stop.is_cancelled() {
            match self
                .cluster
                .claim(&self.config.name, &self.config.endpoint, self.config.lease)
                .await
            {
                Ok(Some(claim)) => {
                    self.drive(claim, &stop).await;
                    continue;
                }
                Ok(None) => {}
                Err(error) => self.log(&format!(
                    "could not look at the queue: {}",
                    fuelbench_stdx::error_chain(&error)
                )),
            }
            // Until a run for this server is queued or let go, a while
            // has passed, or stop.
            let wait = async {
                let feed = match &mut feed {
                    Some(feed) => feed,
                    None => feed.insert(self.cluster.feed().await?),
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
                        tokio::time::sleep(LOOK_AGAIN).await;
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

    /// Drives the run `claim` holds to its end, or gives it back.
    async fn drive(&self, claim: Claim, stop: &CancellationToken) {
        self.log(&format!(
            "claimed run {} (claim {}{})",
            claim.run,
            claim.number,
            if claim.taken_over { ", taken over" } else { "" }
        ));
        let status = match serde_json::from_value::<RunStatus>(claim.status.clone()) {
            Ok(mut status) => {
                status.owner.clone_from(&self.owner);
                status.queue_position = None;
                status
            }
            Err(error) => {
                // Queued by a fuelbench this one cannot read: nothing can
                // be run, and the run ends with what it had.
                self.log(&format!("run {}'s state is unreadable: {error}", claim.run));
                let _ = self
                    .cluster
                    .finish(&claim, Ended::Failed, &claim.status)
                    .await;
                return;
            }
        };
        let (writes, written) = mpsc::unbounded_channel();
        let lost = CancellationToken::new();
        let writer = tokio::spawn(write_all(
            self.cluster.clone(),
            claim.clone(),
            written,
            lost.clone(),
        ));
        let mut recorder = Recorder {
            store: Arc::clone(&self.store),
            status,
            writes,
            file: None,
            stop: stop.clone(),
            user_cancel: CancellationToken::new(),
            given_back: false,
        };
        if claim.cancel {
            recorder.user_cancel.cancel();
            recorder.record(RunEvent::RunCancelled);
        } else {
            self.start(&claim, &mut recorder, &lost).await;
        }
        let Recorder {
            status,
            writes,
            given_back,
            ..
        } = recorder;
        drop(writes);
        let _ = writer.await;
        if lost.is_cancelled() {
            self.log(&format!(
                "run {} is no longer this worker's: its late writes were refused",
                claim.run
            ));
            return;
        }
        let ended = match status.state {
            _ if given_back => None,
            RunState::Finished => Some(Ended::Finished),
            RunState::Cancelled => Some(Ended::Cancelled),
            _ => Some(Ended::Failed),
        };
        let status = serde_json::to_value(&status).expect("a state serialises");
        let outcome = match ended {
            Some(ended) => self.cluster.finish(&claim, ended, &status).await,
            None => self.cluster.release(&claim, &status).await,
        };
        match outcome {
            Ok(()) if given_back => self.log(&format!("gave run {} back", claim.run)),
            Ok(()) => self.log(&format!("run {} ended", claim.run)),
            Err(error) => self.log(&format!(
                "could not end run {}: {}",
                claim.run,
                fuelbench_stdx::error_chain(&error)
            )),
        }
    }

    /// Checks the run, goes on from its checkpoint when taken over, and
    /// runs it; every event to `recorder`.
    async fn start(&self, claim: &Claim, recorder: &mut Recorder, lost: &CancellationToken) {
        let prepared = self.prepare(claim).await;
        let (work, target) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                recorder.record(RunEvent::RunFailed {
                    error: fuelbench_stdx::error_chain(&error),
                });
                return;
            }
        };
        if claim.taken_over {
            recorder.record(RunEvent::Warning {
                message: format!(
                    "the worker that had this run stopped before it ended; worker {} goes on \
                     from its finished problems",
                    self.config.name
                ),
            });
        }
        let cancel = CancellationToken::new();
        let heartbeat = tokio::spawn(heartbeat(
            self.cluster.clone(),
            claim.clone(),
            self.config.lease,
            cancel.clone(),
            recorder.user_cancel.clone(),
            lost.clone(),
        ));
        let stopping = {
            let (stop, cancel) = (recorder.stop.clone(), cancel.clone());
            tokio::spawn(async move {
                stop.cancelled().await;
                cancel.cancel();
            })
        };
        let mut sink = |event: RunEvent| recorder.record(event);
        work.run(&cancel, &self.store, &mut sink).await;
        heartbeat.abort();
        stopping.abort();
        drop(target);
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

/// Folds a run's events into its state and hands each to the writer.
struct Recorder {
    store: Arc<dyn Store>,
    status: RunStatus,
    writes: mpsc::UnboundedSender<Write>,
    /// The results file the run writes now.
    file: Option<PathBuf>,
    stop: CancellationToken,
    /// Someone asked the run to stop.
    user_cancel: CancellationToken,
    /// The worker is stopping and the run goes back to the queue, not to
    /// its end.
    given_back: bool,
}

/// One event to write, with the state it leaves the run in, and the
/// problem it finished.
struct Write {
    event: Value,
    status: Value,
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
        let write = Write {
            event: serde_json::to_value(&event).expect("events serialise"),
            status: serde_json::to_value(&self.status).expect("a state serialises"),
            finished,
        };
        // The writer ends only after the last sender is dropped.
        let _ = self.writes.send(write);
    }
}

/// Writes every event and finished problem in order, each with the claim;
/// trying again while the database is away. Once the claim is lost, the
/// rest is dropped and `lost` cancelled.
async fn write_all(
    cluster: Cluster,
    claim: Claim,
    mut writes: mpsc::UnboundedReceiver<Write>,
    lost: CancellationToken,
) {
    while let Some(write) = writes.recv().await {
        if lost.is_cancelled() {
            continue;
        }
        let appended = retry(&claim, || {
            cluster.append_event(&claim, &write.event, &write.status)
        })
        .await;
        if appended.is_err() {
            lost.cancel();
            continue;
        }
        let Some(finished) = write.finished else {
            continue;
        };
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
        let record = match read {
            Ok(Some(record)) => record,
            // The next claim adds it from the file, which has it.
            Ok(None) | Err(_) => continue,
        };
        let name = file_name(&finished.path);
        let recorded = retry(&claim, || {
            cluster.record_problem(&claim, &name, &finished.problem, finished.sample, &record)
        })
        .await;
        if recorded.is_err() {
            lost.cancel();
        }
    }
}

/// `write` until it is done, the claim is lost, or the database has been
/// away for [`GIVE_UP`].
async fn retry<T, F: Future<Output = fuelbench_cluster::Result<T>>>(
    claim: &Claim,
    mut write: impl FnMut() -> F,
) -> std::result::Result<T, ()> {
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        match write().await {
            Ok(done) => return Ok(done),
            Err(fuelbench_cluster::Error::Lost { .. } | fuelbench_cluster::Error::NotFound(_)) => {
                return Err(());
            }
            Err(error) if started.elapsed() >= GIVE_UP => {
                eprintln!(
                    "fuelbench worker: gave up writing run {}: {}",
                    claim.run,
                    fuelbench_stdx::error_chain(&error)
                );
                return Err(());
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Renews the lease every third of it; cancels the run when someone asks
/// for it (`user_cancel` too) or the claim is lost (`lost` too).
async fn heartbeat(
    cluster: Cluster,
    claim: Claim,
    lease: Duration,
    cancel: CancellationToken,
    user_cancel: CancellationToken,
    lost: CancellationToken,
) {
    loop {
        tokio::time::sleep(lease / 3).await;
        match cluster.renew(&claim, lease).await {
            Ok(true) => {
                user_cancel.cancel();
                cancel.cancel();
            }
            Ok(false) => {}
            Err(fuelbench_cluster::Error::Lost { .. } | fuelbench_cluster::Error::NotFound(_)) => {
                lost.cancel();
                cancel.cancel();
                return;
            }
            // The database is away: the lease holds a while yet.
            Err(_) => {}
        }
    }
}
