//! Jobs on a shared database: a replica queues the runs it is asked for,
//! and reads their state and events from the database, where the worker
//! of their model server writes them. Any replica answers for any run.
//!
//! A replica drives nothing itself. One feed per replica hears every
//! event announced and wakes the streams that follow that run; each stream
//! reads what it has not sent from the table, so an announcement missed
//! (the database restarted, a watcher lagged) loses nothing, and a stream
//! opened on another replica with `Last-Event-ID` goes on where it was.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use fuelbench_cluster::{Cluster, Heard, NewRun, RunKind, RunRow};
use futures_util::Stream;
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, broadcast};

use super::status::{RunState, RunStatus};
use super::watch::JobEvent;
use super::{Prepared, nothing_to_cancel, unknown_run};
use crate::{CancellationToken, Error, Result, RunEvent};

/// The most runs a list shows.
const LISTED: i64 = 500;

/// How long a stream waits for an announcement before it looks anyway.
const LOOK_AGAIN: Duration = Duration::from_secs(2);

/// Streams of one replica reading the database at once.
const STREAM_READS: usize = 4;

/// How long a stream or the feed waits before trying the database again.
const RETRY: Duration = Duration::from_millis(500);

/// A replica's view of the shared database.
#[derive(Debug)]
pub(crate) struct Shared {
    cluster: Cluster,
    /// Every announcement the replica's feed hears, for its streams.
    heard: broadcast::Sender<Heard>,
    /// Streams reading the database at once: however many follow a busy
    /// run, the rest of the pool stays for the API.
    reads: Arc<Semaphore>,
    /// The runtime the service runs on: the sync calls the service makes
    /// from its blocking pool wait on it.
    handle: Handle,
}

impl Shared {
    /// Follows the database's announcements on `handle` until `shutdown`.
    pub(crate) fn new(cluster: Cluster, handle: Handle, shutdown: CancellationToken) -> Shared {
        let (heard, _) = broadcast::channel(1024);
        handle.spawn(follow(cluster.clone(), heard.clone(), shutdown));
        Shared {
            cluster,
            heard,
            reads: Arc::new(Semaphore::new(STREAM_READS)),
            handle,
        }
    }

    /// Waits for `work`: only ever called on the blocking pool, never on
    /// a runtime's own thread.
    fn wait<T>(&self, work: impl Future<Output = fuelbench_cluster::Result<T>>) -> Result<T> {
        Ok(self.handle.block_on(work)?)
    }

    /// Queues a checked run for a worker of its endpoint.
    pub(crate) fn start(&self, prepared: Prepared) -> Result<RunStatus> {
        let mut status = prepared.status;
        let run = NewRun {
            id: status.id.clone(),
            endpoint: status.endpoint.clone(),
            kind: RunKind::Quality,
            request: serde_json::to_value(&prepared.request).expect("a request serialises"),
            status: serde_json::to_value(&status).expect("a state serialises"),
        };
        self.wait(self.cluster.enqueue(&run))?;
        // Queued now: a failure to say where is no failure of the run.
        status.queue_position = self.position(&status.id, &status.endpoint).unwrap_or(None);
        Ok(status)
    }

    /// Every run, newest first, each as the database has it.
    pub(crate) fn list(&self) -> Result<Vec<RunStatus>> {
        let rows = self.wait(self.cluster.runs(LISTED))?;
        let mut queues: Vec<(String, Vec<fuelbench_cluster::Waiting>)> = Vec::new();
        let mut all = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id.clone();
            let mut status = match status_of(row) {
                Ok(status) => status,
                Err(error) => {
                    // One unreadable run does not hide the others.
                    eprintln!(
                        "fuelbench serve: passed over run {id}: {}",
                        fuelbench_stdx::error_chain(&error)
                    );
                    continue;
                }
            };
            if status.state == RunState::Queued {
                let at = match queues.iter().position(|(e, _)| *e == status.endpoint) {
                    Some(at) => at,
                    None => {
                        let waiting = self.wait(self.cluster.waiting(&status.endpoint))?;
                        queues.push((status.endpoint.clone(), waiting));
                        queues.len() - 1
                    }
                };
                status.queue_position = ahead(&queues[at].1, &status.id);
            }
            all.push(status);
        }
        Ok(all)
    }

    /// One run.
    pub(crate) fn get(&self, id: &str) -> Result<RunStatus> {
        if !plausible(id) {
            return Err(unknown_run(id));
        }
        let row = self
            .wait(self.cluster.run(id))?
            .ok_or_else(|| unknown_run(id))?;
        let status = status_of(row)?;
        let mut status = self.wait(catch_up(&self.cluster, id, status))?;
        if status.state == RunState::Queued {
            status.queue_position = self.position(id, &status.endpoint)?;
            let within = Duration::from_secs(30);
            if self.wait(self.cluster.workers(&status.endpoint, within))? == 0 {
                status.warnings.push(format!(
                    "no worker has served {} in the last 30 s: the run waits until one does \
                     (fuelbench worker --endpoint {})",
                    status.endpoint, status.endpoint
                ));
            }
        }
        Ok(status)
    }

    /// Asks a run to stop: a queued one (or one whose worker is gone) is
    /// cancelled now, with its last event; a running one's worker stops it
    /// at its next heartbeat.
    pub(crate) fn cancel(&self, id: &str) -> Result<RunStatus> {
        if !plausible(id) {
            return Err(unknown_run(id));
        }
        // The run's state with every event so far, read before the
        // transaction: kept when nothing was added since, which a run with
        // no live worker never has. Otherwise the stored state is kept as
        // it is, and readers fold in what followed it, the cancel too.
        let read = self.get(id)?;
        if read.state.is_over() {
            return Err(nothing_to_cancel(&read));
        }
        let end = |stored: Option<&serde_json::Value>, seq: i64| {
            let parsed =
                stored.and_then(|stored| serde_json::from_value::<RunStatus>(stored.clone()).ok());
            if parsed.as_ref().is_some_and(|status| status.state.is_over()) {
                return None;
            }
            let event = RunEvent::RunCancelled;
            let caught_up = u64::try_from(seq - 1).is_ok_and(|last| read.last_event == last);
            let status = if caught_up {
                let mut status = read.clone();
                status.apply(&event);
                status
                    .warnings
                    .retain(|warning| !warning.starts_with("no worker has served"));
                status.queue_position = None;
                serde_json::to_value(status).expect("a state serialises")
            } else {
                stored.cloned().unwrap_or_default()
            };
            let event = serde_json::to_value(&event).expect("an event serialises");
            Some((event, status))
        };
        match self.wait(self.cluster.cancel(id, end)) {
            Ok(row) => status_of(row),
            Err(Error::Shared(fuelbench_cluster::Error::Ended { .. })) => {
                Err(nothing_to_cancel(&self.get(id)?))
            }
            Err(error) => Err(error),
        }
    }

    /// How many runs are ahead of `id` on `endpoint`.
    fn position(&self, id: &str, endpoint: &str) -> Result<Option<u64>> {
        Ok(ahead(&self.wait(self.cluster.waiting(endpoint))?, id))
    }

    /// A run's events after `cursor`, read from the database, then each as
    /// it is announced, until the run ends or `shutdown`.
    pub(crate) fn events(
        &self,
        id: &str,
        cursor: u64,
        shutdown: CancellationToken,
    ) -> impl Stream<Item = JobEvent> + use<> {
        let follow = Follow {
            cluster: self.cluster.clone(),
            reads: Arc::clone(&self.reads),
            run: id.to_owned(),
            cursor: i64::try_from(cursor).unwrap_or(i64::MAX),
            heard: self.heard.subscribe(),
            pending: VecDeque::new(),
            ended: false,
            shutdown,
        };
        futures_util::stream::unfold(follow, Follow::next)
    }
}

/// Whether `id` could name a run: what the database cannot hold (a NUL)
/// or never holds (too long) is no run, and is not asked for.
fn plausible(id: &str) -> bool {
    !id.is_empty() && id.len() <= fuelbench_cluster::MAX_ID_BYTES && !id.contains('\0')
}

/// The runs in `waiting` ahead of `id`, when it is queued there.
fn ahead(waiting: &[fuelbench_cluster::Waiting], id: &str) -> Option<u64> {
    waiting
        .iter()
        .find(|run| run.id == id && run.state == "queued")
        .and_then(|run| u64::try_from(run.ahead).ok())
}

/// A run's state as its row has it: the state its writer folded, told
/// where the queue knows better (cancelled while queued, a worker gone).
fn status_of(row: RunRow) -> Result<RunStatus> {
    let unreadable = |why: String| Error::Unreadable(format!("run {}'s state: {why}", row.id));
    let value = row
        .status
        .clone()
        .ok_or_else(|| unreadable("none is stored".into()))?;
    let mut status: RunStatus =
        serde_json::from_value(value).map_err(|error| unreadable(error.to_string()))?;
    match row.state.as_str() {
        "queued" => status.state = RunState::Queued,
        "running" if row.cancel && !status.state.is_over() => status.state = RunState::Cancelling,
        // Its worker's lease ran out: it waits for another to go on.
        "running" if !row.lease_live && !status.state.is_over() => {
            status.state = RunState::Queued;
        }
        "finished" | "failed" | "cancelled" if !status.state.is_over() => {
            let state = match row.state.as_str() {
                "finished" => RunState::Finished,
                "failed" => RunState::Failed,
                _ => RunState::Cancelled,
            };
            status.end(state, None);
        }
        _ => {}
    }
    Ok(status)
}

/// `status` with the events written after it folded in: a worker writes
/// its state at most a second after its events.
pub(crate) async fn catch_up(
    cluster: &Cluster,
    run: &str,
    mut status: RunStatus,
) -> fuelbench_cluster::Result<RunStatus> {
    loop {
        let after = i64::try_from(status.last_event).unwrap_or(i64::MAX);
        let events = cluster.events_after(run, after).await?;
        if events.is_empty() {
            return Ok(status);
        }
        for (_, event) in events {
            match serde_json::from_value::<RunEvent>(event) {
                Ok(event) => status.apply(&event),
                // A newer fuelbench's event: counted, not understood.
                Err(_) => status.last_event += 1,
            }
        }
    }
}

/// Hears every announcement and passes it on, reconnecting (and saying
/// so) whenever the database goes away, until `shutdown`.
async fn follow(cluster: Cluster, heard: broadcast::Sender<Heard>, shutdown: CancellationToken) {
    let mut feed = None;
    loop {
        let next = async {
            let feed = match &mut feed {
                Some(feed) => feed,
                None => feed.insert(cluster.feed().await?),
            };
            feed.next().await
        };
        let next = tokio::select! {
            next = next => next,
            () = shutdown.cancelled() => return,
        };
        match next {
            Ok(next) => {
                // Nobody listening is not an error.
                let _ = heard.send(next);
            }
            Err(error) => {
                if feed.take().is_some() {
                    eprintln!(
                        "fuelbench serve: lost the database's announcements: {}",
                        fuelbench_stdx::error_chain(&error)
                    );
                }
                tokio::time::sleep(RETRY).await;
                let _ = heard.send(Heard::Reconnected);
            }
        }
    }
}

/// One stream's place in a run's events.
struct Follow {
    cluster: Cluster,
    reads: Arc<Semaphore>,
    run: String,
    /// The number of the last event sent.
    cursor: i64,
    heard: broadcast::Receiver<Heard>,
    /// Read, not yet sent.
    pending: VecDeque<(i64, serde_json::Value)>,
    /// The run's last event was sent.
    ended: bool,
    shutdown: CancellationToken,
}

impl Follow {
    async fn next(mut self) -> Option<(JobEvent, Follow)> {
        loop {
            if self.ended {
                return None;
            }
            if let Some((number, event)) = self.pending.pop_front() {
                self.cursor = number;
                self.ended = matches!(
                    event["event"].as_str(),
                    Some("run_finished" | "run_failed" | "run_cancelled")
                );
                let event = JobEvent {
                    number: u64::try_from(number).ok(),
                    data: event.to_string().into(),
                };
                return Some((event, self));
            }
            if self.shutdown.is_cancelled() {
                return None;
            }
            // The run's state is read before its events: a run over then
            // has all its events in the table.
            let read = async {
                let _place = self.reads.acquire().await;
                let over = self
                    .cluster
                    .state(&self.run)
                    .await?
                    .is_none_or(|state| !matches!(state.as_str(), "queued" | "running"));
                let events = self.cluster.events_after(&self.run, self.cursor).await?;
                Ok::<_, fuelbench_cluster::Error>((over, events))
            };
            match read.await {
                Ok((_, events)) if !events.is_empty() => {
                    self.pending.extend(events);
                    continue;
                }
                Ok((true, _)) => return None,
                Ok((false, _)) => {}
                Err(_) => {
                    // The database is away: look again shortly.
                    tokio::select! {
                        () = tokio::time::sleep(RETRY) => continue,
                        () = self.shutdown.cancelled() => return None,
                    }
                }
            }
            self.wait().await;
        }
    }

    /// Until this run's next event is announced, anything may have been
    /// missed, a while has passed, or shutdown.
    async fn wait(&mut self) {
        let deadline = tokio::time::sleep(LOOK_AGAIN);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                heard = self.heard.recv() => match heard {
                    Ok(Heard::Event { run, .. }) if run != self.run => {}
                    Ok(Heard::Queued { .. }) => {}
                    // This run's event, a reconnection, a lag or the end.
                    _ => return,
                },
                () = &mut deadline => return,
                () = self.shutdown.cancelled() => return,
            }
        }
    }
}
