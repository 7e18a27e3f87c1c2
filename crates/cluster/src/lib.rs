//! The service's state shared by every replica and worker, in Postgres.
//!
//! Runs wait in a queue, the `runs` table, for a worker serving their model
//! server to claim them. A claim raises the run's claim number by one and
//! holds a lease the worker renews; when a lease runs out, another worker
//! may claim the run again. Every row a worker writes (an event, a finished
//! problem, the end of the run) carries the claim number it holds and is
//! refused unless that is still the run's: a worker that was paused,
//! partitioned or killed can never overwrite the one that took over
//! (the number is a fencing token).
//!
//! At most one run holds a live claim on a model server: claims for one
//! server are serialised by a lock on its name, and a claim is given only
//! when no other run's lease on it is live.
//!
//! A run's events are numbered 1, 2, 3, ... with no gap, across claims,
//! and each is announced on [`CHANNEL`] as `"<run> <number>"` in the
//! transaction that adds it. A [`Feed`] hears the announcements; what it
//! missed while its connection was down is in the table.
//!
//! Time is the database's: leases are measured by its clock, never a
//! worker's.

mod queue;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};

pub use crate::queue::{
    Claim, EVENTS_AT_ONCE, Ended, MAX_ID_BYTES, NewRun, RunKind, RunRow, Waiting,
};

/// The channel every event is announced on.
pub const CHANNEL: &str = "fuelbench_events";

/// The channel a model server's name is announced on when a run for it is
/// queued, or the run holding it lets go: its idle workers claim at once.
pub const QUEUE_CHANNEL: &str = "fuelbench_queue";

/// How long connecting may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The migrations this build knows, embedded at build time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// What can go wrong with the shared state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Nothing answered, or it refused the connection.
    #[error("cannot reach the database at {at}")]
    Unreachable {
        /// The database, without its credentials.
        at: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// The database was migrated by a newer fuelbench.
    #[error(
        "the database at {at} is at migration {applied}, newer than this fuelbench knows \
         (up to {known}): run the fuelbench that migrated it, or a newer one"
    )]
    TooNew {
        /// The database, without its credentials.
        at: String,
        /// The newest migration applied to it.
        applied: i64,
        /// The newest this build has.
        known: i64,
    },
    /// A migration failed.
    #[error("failed to migrate the database at {at}")]
    Migrate {
        /// The database, without its credentials.
        at: String,
        /// Why.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A write by a claim the run no longer has.
    #[error("run {run} is no longer held by claim {claim}: {now}")]
    Lost {
        /// The run.
        run: String,
        /// The claim the writer held.
        claim: i64,
        /// What holds it now, for a human.
        now: String,
    },
    /// No run has the id.
    #[error("no run {0} is in the queue")]
    NotFound(String),
    /// The run has ended: nothing more is done to it.
    #[error("run {run} is {state}")]
    Ended {
        /// The run.
        run: String,
        /// `finished`, `failed` or `cancelled`.
        state: String,
    },
    /// An event numbered out of turn: the writer's count of the run's
    /// events is not the table's.
    #[error("run {run}'s next event is {expected}, not {given}")]
    OutOfTurn {
        /// The run.
        run: String,
        /// The number the table would give.
        expected: i64,
        /// The number the writer gave.
        given: i64,
    },
    /// A run id that is empty or too long to announce.
    #[error("a run id must be 1 to {max} bytes: {0:?}...", max = crate::MAX_ID_BYTES)]
    BadId(String),
    /// A run with the id is queued already.
    #[error("a run {0} is in the queue already")]
    Exists(String),
    /// Anything else the database said.
    #[error("the database failed")]
    Database(#[from] sqlx::Error),
}

impl Error {
    /// Whether trying again later may work: the database was unreachable,
    /// restarting, or shed the work. A refusal of the data itself, or of
    /// a claim that was lost, never passes.
    pub fn is_transient(&self) -> bool {
        let source = match self {
            Error::Unreachable { .. } => return true,
            Error::Database(source) => source,
            _ => return false,
        };
        match source {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_) => true,
            sqlx::Error::Database(error) => error.code().is_some_and(|code| {
                // Connection exceptions; shutting down, or not yet up;
                // too many connections; serialisation failures and
                // deadlocks, which a retry resolves.
                code.starts_with("08")
                    || ["57P01", "57P02", "57P03", "53300", "40001", "40P01"]
                        .contains(&code.as_ref())
            }),
            _ => false,
        }
    }
}

/// The result of everything here.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A connection pool to the shared state, its schema migrated.
#[derive(Clone)]
pub struct Cluster {
    pool: PgPool,
    /// How to connect, for each feed's own connection. Holds the password:
    /// never printed.
    options: PgConnectOptions,
    /// The database, without its credentials.
    at: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Connects to the database at `url` (`postgres://user:password@host/db`)
    /// and brings its schema up to this build's, refusing a database a newer
    /// build migrated. Replicas starting at once migrate one at a time.
    pub async fn connect(url: &str) -> Result<Cluster> {
        let at = without_credentials(url);
        let unreachable = |source| Error::Unreachable {
            at: at.clone(),
            source,
        };
        let options: PgConnectOptions = url.parse().map_err(unreachable)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(unreachable)?;
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let applied = newest_applied(&pool).await?;
        if applied > known {
            return Err(Error::TooNew { at, applied, known });
        }
        MIGRATOR.run(&pool).await.map_err(|source| match source {
            sqlx::migrate::MigrateError::VersionMissing(applied) => Error::TooNew {
                at: at.clone(),
                applied,
                known,
            },
            source => Error::Migrate {
                at: at.clone(),
                source,
            },
        })?;
        Ok(Cluster { pool, options, at })
    }

    /// The newest migration this build knows, which a connected database is at.
    pub fn migration() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The pool, for what this crate does not wrap.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A feed of the events and queue changes announced from now on, on a
    /// connection of its own, outside the pool that claims and writes
    /// use. A process needs one, fanned out to its watchers.
    pub async fn feed(&self) -> Result<Feed> {
        self.listen(&[CHANNEL, QUEUE_CHANNEL]).await
    }

    /// A feed of the queue's changes alone ([`Heard::Queued`]), for a
    /// worker waiting for a run.
    pub async fn queue_feed(&self) -> Result<Feed> {
        self.listen(&[QUEUE_CHANNEL]).await
    }

    async fn listen(&self, channels: &[&str]) -> Result<Feed> {
        let own = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_lazy_with(self.options.clone());
        let mut listener = PgListener::connect_with(&own).await?;
        listener.listen_all(channels.iter().copied()).await?;
        Ok(Feed { listener })
    }
}

/// The events announced on [`CHANNEL`], as they are.
#[derive(Debug)]
pub struct Feed {
    listener: PgListener,
}

/// What a [`Feed`] heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A run for `endpoint` was queued, or the run holding it let go.
    Queued {
        /// The model server.
        endpoint: String,
    },
    /// Run `run`'s event `seq` was added.
    Event {
        /// The run.
        run: String,
        /// The event's number.
        seq: i64,
    },
    /// The connection was lost and made again: events added meanwhile were
    /// not announced here, and are read from the table.
    Reconnected,
}

impl Feed {
    /// The next announcement, waiting for it.
    pub async fn next(&mut self) -> Result<Heard> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(Heard::Reconnected);
            };
            if notification.channel() == QUEUE_CHANNEL {
                return Ok(Heard::Queued {
                    endpoint: notification.payload().to_owned(),
                });
            }
            // Anything else on the channel is not ours to read.
            if let Some((run, seq)) = notification.payload().rsplit_once(' ')
                && let Ok(seq) = seq.parse()
            {
                return Ok(Heard::Event {
                    run: run.to_owned(),
                    seq,
                });
            }
        }
    }
}

/// The newest migration applied to the database, 0 before the first.
async fn newest_applied(pool: &PgPool) -> Result<i64> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(0);
    }
    let newest: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await?;
    Ok(newest.unwrap_or(0))
}

/// `url` with no user or password, for messages: `postgres://host:5432/db`.
/// Whatever is before the last `@` is dropped (a password may hold `/`,
/// `?` or `#` unencoded), then any query; a key/value connection string,
/// which may hold a password anywhere, is not shown at all.
pub fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "the database (a key/value connection string, not shown)".to_owned();
    };
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    format!("{scheme}://{}", rest.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_database_is_named_without_its_credentials() {
        assert_eq!(
            super::without_credentials(
                "postgres://fb:s3cret@db.internal:5432/fuelbench?sslmode=require"
            ),
            "postgres://db.internal:5432/fuelbench"
        );
        assert_eq!(
            super::without_credentials("postgresql://a@b@127.0.0.1"),
            "postgresql://127.0.0.1"
        );
        assert_eq!(
            super::without_credentials("postgres://host/db"),
            "postgres://host/db"
        );
    }
}
