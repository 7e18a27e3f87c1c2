//! The run queue: runs added by any replica, claimed by the workers of
//! their model server, and every write fenced by the claim that made it.

use std::time::Duration;

use serde_json::Value;
use sqlx::{Postgres, Transaction};

use crate::{CHANNEL, Cluster, Error, QUEUE_CHANNEL, Result};

/// The most events [`Cluster::events_after`] returns at once.
pub const EVENTS_AT_ONCE: i64 = 1000;

/// The longest run id: an event's announcement names it, and Postgres
/// refuses an announcement of 8,000 bytes or more.
pub const MAX_ID_BYTES: usize = 200;

/// What a run measures, which decides what happens when its worker is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// A benchmark run: taken over, it goes on from its last finished
    /// problem.
    Quality,
    /// A serving benchmark: taken over, it starts again, since a load run
    /// half measured by another worker would mislead.
    Serving,
}

impl RunKind {
    fn as_str(self) -> &'static str {
        match self {
            RunKind::Quality => "quality",
            RunKind::Serving => "serving",
        }
    }

    fn parse(text: &str) -> RunKind {
        match text {
            "serving" => RunKind::Serving,
            _ => RunKind::Quality,
        }
    }
}

impl From<String> for RunKind {
    fn from(text: String) -> RunKind {
        RunKind::parse(&text)
    }
}

/// A run to add to the queue.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Its id, unique across the queue.
    pub id: String,
    /// The model server it runs on.
    pub endpoint: String,
    /// What it measures.
    pub kind: RunKind,
    /// What was asked, for the worker that claims it.
    pub request: Value,
    /// Its state before any worker has it, as the queue shows it.
    pub status: Value,
}

/// A run a worker holds: every write it makes names this.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The run.
    pub run: String,
    /// The claim number: one more than the run's last.
    pub number: i64,
    /// What the run measures.
    pub kind: RunKind,
    /// What was asked.
    pub request: Value,
    /// Whether another worker held it before (its lease ran out, or it
    /// gave the run back as it stopped): a quality run goes on from its
    /// finished problems, a serving run starts again.
    pub taken_over: bool,
    /// The run's state as its last writer folded it.
    pub status: Value,
    /// Whether someone asked the run to stop before this claim: its worker
    /// ends it at once, as cancelled.
    pub cancel: bool,
    /// How many of the run's workers stopped holding it without letting it
    /// go (their lease ran out), this claim's predecessor among them.
    pub lapses: i64,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It ran to its end.
    Finished,
    /// It could not go on.
    Failed,
    /// Someone asked it to stop.
    Cancelled,
}

impl Ended {
    fn as_str(self) -> &'static str {
        match self {
            Ended::Finished => "finished",
            Ended::Failed => "failed",
            Ended::Cancelled => "cancelled",
        }
    }
}

/// A run as the queue has it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RunRow {
    /// Its id.
    pub id: String,
    /// Its model server.
    pub endpoint: String,
    /// What it measures.
    #[sqlx(try_from = "String")]
    pub kind: RunKind,
    /// `queued`, `running`, `finished`, `failed` or `cancelled`.
    pub state: String,
    /// Its last claim number; 0 before the first.
    pub claim: i64,
    /// The worker that made the last claim.
    pub worker: Option<String>,
    /// Whether someone asked it to stop.
    pub cancel: bool,
    /// Its state as its last writer folded it.
    pub status: Option<Value>,
    /// Whether a worker's lease on it is live now.
    pub lease_live: bool,
}

/// A run waiting for, or holding, its model server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The run.
    pub id: String,
    /// `queued` or `running`.
    pub state: String,
    /// How many runs on its server are ahead of it: 0 for the one running.
    pub ahead: i64,
}

impl Cluster {
    /// Adds a run to the queue of its model server.
    pub async fn enqueue(&self, run: &NewRun) -> Result<()> {
        if run.id.is_empty() || run.id.len() > MAX_ID_BYTES || run.id.contains('\0') {
            return Err(Error::BadId(run.id.chars().take(40).collect()));
        }
        // Added and announced at once, so an idle worker claims it now.
        let added: Option<String> = sqlx::query_scalar(
            "WITH added AS (
                 INSERT INTO runs (id, endpoint, kind, request, status)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO NOTHING
                 RETURNING endpoint
             )
             SELECT endpoint FROM added, pg_notify($6, endpoint)",
        )
        .bind(&run.id)
        .bind(&run.endpoint)
        .bind(run.kind.as_str())
        .bind(storable(&run.request))
        .bind(storable(&run.status))
        .bind(QUEUE_CHANNEL)
        .fetch_optional(&self.pool)
        .await?;
        if added.is_none() {
            return Err(Error::Exists(run.id.clone()));
        }
        Ok(())
    }

    /// Claims a run for `endpoint`, for `lease`: the run on the server
    /// whose worker's lease ran out, else the oldest queued. `None` while a
    /// run's lease on the server is live, or when nothing waits.
    pub async fn claim(
        &self,
        worker: &str,
        endpoint: &str,
        lease: Duration,
    ) -> Result<Option<Claim>> {
        let mut tx = self.pool.begin().await?;
        // Claims for one server, one at a time: without it, two workers
        // could each see the server free and claim two runs on it.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(endpoint)
            .execute(&mut *tx)
            .await?;
        // Every run on the server, waited for and never skipped: one whose
        // row a writer holds is still on the server, lease or no lease.
        let running: Vec<(String, bool)> = sqlx::query_as(
            "SELECT id, lease_until >= clock_timestamp() FROM runs
             WHERE endpoint = $1 AND state = 'running'
             ORDER BY created_at, id
             FOR UPDATE",
        )
        .bind(endpoint)
        .fetch_all(&mut *tx)
        .await?;
        if running.iter().any(|(_, live)| *live) {
            return Ok(None);
        }
        let next = match running.into_iter().next() {
            Some((lapsed, _)) => Some((lapsed, true)),
            None => sqlx::query_scalar(
                "SELECT id FROM runs WHERE endpoint = $1 AND state = 'queued'
                 ORDER BY created_at, id
                 LIMIT 1
                 FOR UPDATE SKIP LOCKED",
            )
            .bind(endpoint)
            .fetch_optional(&mut *tx)
            .await?
            .map(|queued: String| (queued, false)),
        };
        let Some((id, lapsed)) = next else {
            return Ok(None);
        };
        let (run, number, kind, request, cancel, status, lapses): ClaimedRow = sqlx::query_as(
            "UPDATE runs SET state = 'running', claim = claim + 1, worker = $2,
                             lease_until = clock_timestamp() + $3 * interval '1 second',
                             lapses = lapses + CASE WHEN $4 THEN 1 ELSE 0 END
             WHERE id = $1
             RETURNING id, claim, kind, request, cancel, coalesce(status, 'null'), lapses::bigint",
        )
        .bind(&id)
        .bind(worker)
        .bind(lease.as_secs_f64())
        .bind(lapsed)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(Claim {
            run,
            number,
            kind: RunKind::parse(&kind),
            request,
            // A queued run claimed before was given back by its worker.
            taken_over: lapsed || number > 1,
            cancel,
            status,
            lapses,
        }))
    }

    /// Holds `claim`'s lease for `lease` more from now; whether someone
    /// asked the run to stop. [`Error::Lost`] once another claim holds it.
    pub async fn renew(&self, claim: &Claim, lease: Duration) -> Result<bool> {
        let cancel: Option<bool> = sqlx::query_scalar(
            "UPDATE runs SET lease_until = clock_timestamp() + $3 * interval '1 second'
             WHERE id = $1 AND claim = $2 AND state = 'running'
             RETURNING cancel",
        )
        .bind(&claim.run)
        .bind(claim.number)
        .bind(lease.as_secs_f64())
        .fetch_optional(&self.pool)
        .await?;
        match cancel {
            Some(cancel) => Ok(cancel),
            None => Err(self.lost(claim).await),
        }
    }

    /// Adds the run's event `seq`, which must be the next, announced on
    /// [`crate::CHANNEL`]; with `status`, the run's state with the event
    /// folded in, kept beside it. Adding an event this claim added already
    /// (its commit's answer was lost) is no change: a retry never numbers
    /// one event twice.
    pub async fn append_event(
        &self,
        claim: &Claim,
        seq: i64,
        event: &Value,
        status: Option<&Value>,
    ) -> Result<()> {
        let mut tx = self.fenced(claim).await?;
        // Both by the primary key: the newest number, and this one's row.
        let (next, mine): (i64, bool) = sqlx::query_as(
            "SELECT coalesce((SELECT max(seq) FROM run_events WHERE run_id = $1), 0) + 1,
                    EXISTS (SELECT 1 FROM run_events WHERE run_id = $1 AND seq = $2 AND claim = $3)",
        )
        .bind(&claim.run)
        .bind(seq)
        .bind(claim.number)
        .fetch_one(&mut *tx)
        .await?;
        if mine && seq < next {
            return Ok(());
        }
        if seq != next {
            return Err(Error::OutOfTurn {
                run: claim.run.clone(),
                expected: next,
                given: seq,
            });
        }
        sqlx::query("INSERT INTO run_events (run_id, seq, claim, event) VALUES ($1, $2, $3, $4)")
            .bind(&claim.run)
            .bind(seq)
            .bind(claim.number)
            .bind(storable(event))
            .execute(&mut *tx)
            .await?;
        if let Some(status) = status {
            sqlx::query("UPDATE runs SET status = $2 WHERE id = $1")
                .bind(&claim.run)
                .bind(storable(status))
                .execute(&mut *tx)
                .await?;
        }
        announce(&mut tx, &claim.run, seq).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps what one problem's answer came to, once: the checkpoint a run
    /// taken over goes on from. A problem kept already keeps its first
    /// record.
    pub async fn record_problem(
        &self,
        claim: &Claim,
        file: &str,
        problem: &str,
        sample: u32,
        record: &Value,
    ) -> Result<()> {
        let mut tx = self.fenced(claim).await?;
        sqlx::query(
            "INSERT INTO run_problems (run_id, file, problem, sample, claim, record)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT DO NOTHING",
        )
        .bind(&claim.run)
        .bind(file)
        .bind(problem)
        .bind(i32::try_from(sample).unwrap_or(i32::MAX))
        .bind(claim.number)
        .bind(storable(record))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Each finished problem of a run, as `(file, problem, sample, record)`,
    /// in the order they finished.
    pub async fn finished_problems(&self, run: &str) -> Result<Vec<(String, String, u32, Value)>> {
        let rows: Vec<(String, String, i32, Value)> = sqlx::query_as(
            "SELECT file, problem, sample, record FROM run_problems WHERE run_id = $1
             ORDER BY recorded_at, problem, sample",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(file, problem, sample, record)| {
                (file, problem, u32::try_from(sample).unwrap_or(0), record)
            })
            .collect())
    }

    /// Ends the run `claim` holds, with its folded state; the next run on
    /// its server may be claimed at once.
    pub async fn finish(&self, claim: &Claim, ended: Ended, status: &Value) -> Result<()> {
        self.let_go(claim, ended.as_str(), status).await
    }

    /// Gives the run `claim` holds back to the queue, first in line, as a
    /// worker that is stopping does: the next claim goes on from its
    /// finished problems.
    pub async fn release(&self, claim: &Claim, status: &Value) -> Result<()> {
        self.let_go(claim, "queued", status).await
    }

    async fn let_go(&self, claim: &Claim, state: &str, status: &Value) -> Result<()> {
        let done: Option<String> = sqlx::query_scalar(
            "WITH done AS (
                 UPDATE runs SET state = $3, status = $4, lease_until = NULL,
                                 finished_at = CASE WHEN $3 = 'queued' THEN NULL
                                                    ELSE clock_timestamp() END
                 WHERE id = $1 AND claim = $2 AND state = 'running'
                 RETURNING endpoint
             )
             SELECT endpoint FROM done, pg_notify($5, endpoint)",
        )
        .bind(&claim.run)
        .bind(claim.number)
        .bind(state)
        .bind(storable(status))
        .bind(QUEUE_CHANNEL)
        .fetch_optional(&self.pool)
        .await?;
        if done.is_none() {
            return Err(self.lost(claim).await);
        }
        Ok(())
    }

    /// Asks a run to stop. A running one's worker hears it at its next
    /// renewal (and a worker that claims it next, at its first). A queued
    /// one, or one whose worker's lease ran out, ends now, cancelled: its
    /// last event and state are what `end` makes of its state as stored
    /// and the number the event will have, in the same transaction; `end`
    /// gives nothing when that state says the run has ended already (its
    /// worker stopped after its last event), and the run is left for the
    /// next claim to end. The run as it is then; [`Error::Ended`] when it
    /// had ended already.
    pub async fn cancel(
        &self,
        run: &str,
        end: impl FnOnce(Option<&Value>, i64) -> Option<(Value, Value)>,
    ) -> Result<RunRow> {
        let mut tx = self.pool.begin().await?;
        let row: Option<(String, i64, bool, Option<Value>)> = sqlx::query_as(
            "SELECT state, claim, coalesce(lease_until >= clock_timestamp(), false), status
             FROM runs WHERE id = $1 FOR UPDATE",
        )
        .bind(run)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((state, claim, live, status)) = row else {
            return Err(Error::NotFound(run.to_owned()));
        };
        if !matches!(state.as_str(), "queued" | "running") {
            return Err(Error::Ended {
                run: run.to_owned(),
                state,
            });
        }
        if state == "running" && live {
            sqlx::query("UPDATE runs SET cancel = true WHERE id = $1")
                .bind(run)
                .execute(&mut *tx)
                .await?;
        } else {
            let seq: i64 = sqlx::query_scalar(
                "SELECT coalesce(max(seq), 0) + 1 FROM run_events WHERE run_id = $1",
            )
            .bind(run)
            .fetch_one(&mut *tx)
            .await?;
            let Some((event, status)) = end(status.as_ref(), seq) else {
                return Err(Error::Ended {
                    run: run.to_owned(),
                    state: "over by its last event".to_owned(),
                });
            };
            sqlx::query(
                "INSERT INTO run_events (run_id, seq, claim, event) VALUES ($1, $2, $3, $4)",
            )
            .bind(run)
            .bind(seq)
            .bind(claim)
            .bind(storable(&event))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE runs SET cancel = true, state = 'cancelled', status = $2,
                                 lease_until = NULL, finished_at = clock_timestamp()
                 WHERE id = $1",
            )
            .bind(run)
            .bind(storable(&status))
            .execute(&mut *tx)
            .await?;
            announce(&mut tx, run, seq).await?;
        }
        tx.commit().await?;
        self.run(run)
            .await?
            .ok_or_else(|| Error::NotFound(run.to_owned()))
    }

    /// Notes that `worker` serves `endpoint` now: what tells a run waiting
    /// with nobody to claim it.
    pub async fn seen(&self, worker: &str, endpoint: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO workers (name, endpoint) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET endpoint = $2, seen_at = clock_timestamp()",
        )
        .bind(worker)
        .bind(endpoint)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The 32-byte secret called `name` every replica shares, made at
    /// random by the first to ask.
    pub async fn secret(&self, name: &str) -> Result<[u8; 32]> {
        sqlx::query(
            "INSERT INTO secrets (name, value)
             VALUES ($1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text,
                                        '-', ''), 'hex'))
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .execute(&self.pool)
        .await?;
        let value: Vec<u8> = sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        let mut secret = [0; 32];
        secret.copy_from_slice(&value);
        Ok(secret)
    }

    /// How many workers serving `endpoint` were seen within `within`.
    pub async fn workers(&self, endpoint: &str, within: Duration) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM workers
             WHERE endpoint = $1 AND seen_at >= clock_timestamp() - $2 * interval '1 second'",
        )
        .bind(endpoint)
        .bind(within.as_secs_f64())
        .fetch_one(&self.pool)
        .await?)
    }

    /// One run, as the queue has it.
    pub async fn run(&self, id: &str) -> Result<Option<RunRow>> {
        Ok(sqlx::query_as(
            "SELECT id, endpoint, kind, state, claim, worker, cancel, status,
                    coalesce(lease_until >= clock_timestamp(), false) AS lease_live
             FROM runs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A run's state alone (`queued`, `running`, ...), without the rest of
    /// its row: what a stream asks at every step.
    pub async fn state(&self, id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT state FROM runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The newest `limit` runs, newest first.
    pub async fn runs(&self, limit: i64) -> Result<Vec<RunRow>> {
        Ok(sqlx::query_as(
            "SELECT id, endpoint, kind, state, claim, worker, cancel, status,
                    coalesce(lease_until >= clock_timestamp(), false) AS lease_live
             FROM runs ORDER BY created_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The runs waiting for `endpoint`, or holding it, in the order they
    /// will run.
    pub async fn waiting(&self, endpoint: &str) -> Result<Vec<Waiting>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, state,
                    row_number() OVER (ORDER BY state = 'running' DESC, created_at, id) - 1
             FROM runs WHERE endpoint = $1 AND state IN ('queued', 'running')
             ORDER BY 3",
        )
        .bind(endpoint)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, state, ahead)| Waiting { id, state, ahead })
            .collect())
    }

    /// A run's events numbered after `after`, in order, as `(number, event)`:
    /// at most [`EVENTS_AT_ONCE`]; ask again after the last for more.
    pub async fn events_after(&self, run: &str, after: i64) -> Result<Vec<(i64, Value)>> {
        Ok(sqlx::query_as(
            "SELECT seq, event FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq
             LIMIT $3",
        )
        .bind(run)
        .bind(after)
        .bind(EVENTS_AT_ONCE)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A transaction holding the run's row, begun only while `claim` is
    /// still the run's: what every fenced write is made in.
    async fn fenced(&self, claim: &Claim) -> Result<Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await?;
        let now: Option<(i64, String)> =
            sqlx::query_as("SELECT claim, state FROM runs WHERE id = $1 FOR UPDATE")
                .bind(&claim.run)
                .fetch_optional(&mut *tx)
                .await?;
        match now {
            Some((number, state)) if number == claim.number && state == "running" => Ok(tx),
            Some((number, state)) => Err(lost(claim, number, &state)),
            None => Err(Error::NotFound(claim.run.clone())),
        }
    }

    /// Why `claim` may no longer write.
    async fn lost(&self, claim: &Claim) -> Error {
        match self.run(&claim.run).await {
            Ok(Some(row)) => lost(claim, row.claim, &row.state),
            Ok(None) => Error::NotFound(claim.run.clone()),
            Err(error) => error,
        }
    }
}

/// Announces run `run`'s event `seq` on [`CHANNEL`] when `tx` commits.
async fn announce(tx: &mut Transaction<'static, Postgres>, run: &str, seq: i64) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(format!("{run} {seq}"))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// `value` as Postgres keeps it: `jsonb` refuses the NUL character, which
/// a model's answer or a request may hold, so each becomes U+FFFD.
fn storable(value: &Value) -> std::borrow::Cow<'_, Value> {
    fn has_nul(value: &Value) -> bool {
        match value {
            Value::String(text) => text.contains('\0'),
            Value::Array(items) => items.iter().any(has_nul),
            Value::Object(fields) => fields
                .iter()
                .any(|(key, value)| key.contains('\0') || has_nul(value)),
            _ => false,
        }
    }
    fn replace(value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(text.replace('\0', "\u{fffd}")),
            Value::Array(items) => Value::Array(items.iter().map(replace).collect()),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(key, value)| (key.replace('\0', "\u{fffd}"), replace(value)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    if has_nul(value) {
        std::borrow::Cow::Owned(replace(value))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// What a claim returns: id, number, kind, request, cancel, status, lapses.
type ClaimedRow = (String, i64, String, Value, bool, Value, i64);

fn lost(claim: &Claim, number: i64, state: &str) -> Error {
    let now = if number != claim.number {
        format!("claim {number} took it over ({state})")
    } else {
        format!("it is {state}")
    };
    Error::Lost {
        run: claim.run.clone(),
        claim: claim.number,
        now,
    }
}
