//! Following a job's events: those it has sent, then each as it comes,
//! until it ends or the service shuts down.

use std::sync::Arc;
use std::time::Duration;

use fuelbench_stdx::lock;
use tokio::sync::watch;

use super::LiveJob;
use crate::CancellationToken;

/// One event of a job's stream, as JSON: numbered from 1 in the order the
/// runner sent them, or unnumbered for the snapshot of its state that opens
/// every stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEvent {
    /// The event's number, from 1; `None` for the opening snapshot. An SSE
    /// stream sends it as the event's `id`, for `Last-Event-ID`.
    pub number: Option<u64>,
    /// The event as one line of JSON.
    pub data: Arc<str>,
}

/// Where a watcher reads events from.
pub(crate) enum Source {
    Live {
        live: Arc<LiveJob>,
        receiver: watch::Receiver<u64>,
    },
    /// A run no process here drives: its stored events, all of them.
    Stored(Vec<Arc<str>>),
}

pub(crate) struct Watch {
    pub(crate) source: Source,
    /// The number of the last event sent.
    pub(crate) cursor: u64,
    pub(crate) shutdown: CancellationToken,
    /// When the stream ends at the latest, once shutdown began.
    pub(crate) closing: Option<tokio::time::Instant>,
}

/// How long a stream waits, after shutdown began, for its run's last
/// events.
const SHUTDOWN_LINGER: Duration = Duration::from_secs(5);

impl Watch {
    pub(crate) async fn next(mut self) -> Option<(JobEvent, Watch)> {
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
                let event = JobEvent {
                    number: Some(self.cursor),
                    data,
                };
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
