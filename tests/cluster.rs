//! The queue replicas and workers share, on a private Postgres cluster
//! each test starts: claims that race, leases that run out, writes from a
//! claim that lost its run, one run per model server, events announced to
//! another connection, the database restarted under a claim, and the
//! databases `connect` must refuse.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fuelbench_cluster::{Claim, Cluster, Ended, Error, Heard, NewRun, RunKind};
use serde_json::json;

use crate::support::postgres::Postgres;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn quality(id: &str, endpoint: &str) -> NewRun {
    NewRun {
        id: id.to_owned(),
        endpoint: endpoint.to_owned(),
        kind: RunKind::Quality,
        request: json!({ "model": "coder", "id": id }),
        status: json!({ "state": "queued" }),
    }
}

const LEASE: Duration = Duration::from_secs(30);

/// 20 runs on 4 model servers, 8 workers racing for them: each run is
/// claimed once and finished once, its events are 1, 2, 3, each of its
/// problems is kept once, and no server ever runs two at a time.
#[test]
fn twenty_runs_claimed_by_racing_workers_run_exactly_once() {
    let postgres = Postgres::start();
    let url = postgres.database("race");
    runtime().block_on(async move {
        let cluster = Cluster::connect(&url).await.expect("connects");
        let endpoints: Vec<String> = (0..4)
            .map(|n| format!("http://127.0.0.1:{}", 9000 + n))
            .collect();
        for n in 0..20 {
            cluster
                .enqueue(&quality(&format!("run-{n:02}"), &endpoints[n % 4]))
                .await
                .expect("queued");
        }
        let running: Arc<HashMap<String, AtomicUsize>> = Arc::new(
            endpoints
                .iter()
                .map(|e| (e.clone(), AtomicUsize::new(0)))
                .collect(),
        );
        let mut workers = Vec::new();
        for w in 0..8 {
            // Each worker a replica of its own: its own pool.
            let cluster = Cluster::connect(&url).await.expect("connects");
            let endpoint = endpoints[w % 4].clone();
            let running = Arc::clone(&running);
            workers.push(tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(60);
                let mut done = Vec::new();
                while Instant::now() < deadline {
                    let Some(claim) = cluster
                        .claim(&format!("worker-{w}"), &endpoint, LEASE)
                        .await
                        .expect("a claim")
                    else {
                        if cluster
                            .waiting(&endpoint)
                            .await
                            .expect("the queue")
                            .is_empty()
                        {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    let before = running[&endpoint].fetch_add(1, Ordering::SeqCst);
                    assert_eq!(before, 0, "two runs at once on {endpoint}");
                    for step in 1..=3 {
                        cluster
                            .append_event(&claim, step, &json!({ "step": step }), Some(&json!({})))
                            .await
                            .expect("an event");
                    }
                    for problem in ["p01", "p02"] {
                        cluster
                            .record_problem(
                                &claim,
                                "coder.json",
                                problem,
                                0,
                                &json!({ "ok": true }),
                            )
                            .await
                            .expect("a problem");
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    running[&endpoint].fetch_sub(1, Ordering::SeqCst);
                    cluster
                        .finish(&claim, Ended::Finished, &json!({ "state": "finished" }))
                        .await
                        .expect("finished");
                    done.push(claim.run);
                }
                done
            }));
        }
        let mut finished = Vec::new();
        for worker in workers {
            finished.extend(worker.await.expect("the worker ends"));
        }
        finished.sort();
        let expected: Vec<String> = (0..20).map(|n| format!("run-{n:02}")).collect();
        assert_eq!(
            finished, expected,
            "each run finished by exactly one worker"
        );
        for id in &expected {
            let row = cluster.run(id).await.expect("read").expect("there");
            assert_eq!((row.state.as_str(), row.claim), ("finished", 1), "{id}");
            let events = cluster.events_after(id, 0).await.expect("events");
            let numbers: Vec<i64> = events.iter().map(|(seq, _)| *seq).collect();
            assert_eq!(numbers, [1, 2, 3], "{id}");
            assert_eq!(
                cluster.finished_problems(id).await.expect("problems").len(),
                2
            );
        }
    });
}

/// A worker that stops renewing (killed, paused, cut off): its run waits
/// out the lease, then another worker takes it over with the next claim
/// number and the problems already finished, and every write the first
/// one tries after that is refused, naming the claim that holds the run.
#[test]
fn a_lost_workers_run_is_taken_over_and_its_late_writes_refused() {
    let postgres = Postgres::start();
    let url = postgres.database("takeover");
    runtime().block_on(async move {
        let cluster = Cluster::connect(&url).await.expect("connects");
        let endpoint = "http://127.0.0.1:9100";
        cluster
            .enqueue(&quality("q", endpoint))
            .await
            .expect("queued");
        let first = cluster
            .claim("a", endpoint, LEASE)
            .await
            .expect("claim")
            .expect("a run");
        assert_eq!((first.number, first.taken_over), (1, false));
        cluster
            .append_event(&first, 1, &json!({ "n": 1 }), None)
            .await
            .expect("an event");
        // Told again, as after a commit whose answer was lost: no change.
        cluster
            .append_event(&first, 1, &json!({ "n": 1 }), None)
            .await
            .expect("the same event, once");
        let skipped = cluster
            .append_event(&first, 3, &json!({ "n": 3 }), None)
            .await
            .expect_err("a number out of turn");
        assert!(
            matches!(
                skipped,
                Error::OutOfTurn {
                    expected: 2,
                    given: 3,
                    ..
                }
            ),
            "{skipped}"
        );
        cluster
            .record_problem(&first, "coder.json", "p01", 0, &json!({ "by": "a" }))
            .await
            .expect("a problem");
        assert_eq!(
            cluster.claim("b", endpoint, LEASE).await.expect("claim"),
            None,
            "leased"
        );

        lapse(&postgres, "takeover", "q");
        let second = cluster
            .claim("b", endpoint, LEASE)
            .await
            .expect("claim")
            .expect("taken over");
        assert_eq!(
            (
                second.run.as_str(),
                second.number,
                second.taken_over,
                second.lapses
            ),
            ("q", 2, true, 1)
        );
        let kept = cluster.finished_problems("q").await.expect("problems");
        assert_eq!(kept.len(), 1);
        assert_eq!(
            (kept[0].1.as_str(), &kept[0].3),
            ("p01", &json!({ "by": "a" }))
        );

        let late = [
            cluster
                .append_event(&first, 2, &json!({ "n": "late" }), None)
                .await,
            cluster
                .record_problem(&first, "coder.json", "p02", 0, &json!({ "by": "a" }))
                .await,
            cluster.renew(&first, LEASE).await.map(|_| ()),
            cluster.finish(&first, Ended::Finished, &json!({})).await,
        ];
        for refused in late {
            let error = refused.expect_err("a write from a lost claim");
            assert!(matches!(error, Error::Lost { claim: 1, .. }), "{error}");
            assert!(
                error.to_string().contains("claim 2 took it over"),
                "{error}"
            );
        }
        cluster
            .append_event(
                &second,
                2,
                &json!({ "n": 2 }),
                Some(&json!({ "nul": "a\u{0}b" })),
            )
            .await
            .expect("event");
        // jsonb holds no NUL: it is kept as U+FFFD.
        assert_eq!(
            cluster.run("q").await.expect("read").expect("there").status,
            Some(json!({ "nul": "a\u{fffd}b" }))
        );
        cluster
            .finish(&second, Ended::Finished, &json!({}))
            .await
            .expect("finished");
        let events = cluster.events_after("q", 0).await.expect("events");
        assert_eq!(events, [(1, json!({ "n": 1 })), (2, json!({ "n": 2 }))]);

        // A serving run says it was taken over, so its worker starts it
        // again; here its lease runs out by the clock.
        let short = Duration::from_secs(1);
        cluster
            .enqueue(&NewRun {
                kind: RunKind::Serving,
                ..quality("s", endpoint)
            })
            .await
            .expect("queued");
        let held = cluster
            .claim("a", endpoint, short)
            .await
            .expect("claim")
            .expect("a run");
        assert_eq!((held.kind, held.taken_over), (RunKind::Serving, false));
        tokio::time::sleep(short + Duration::from_millis(300)).await;
        let again: Claim = cluster
            .claim("b", endpoint, LEASE)
            .await
            .expect("claim")
            .expect("a run");
        assert_eq!(
            (again.kind, again.number, again.taken_over),
            (RunKind::Serving, 2, true)
        );
    });
}

/// A run whose lease ran out but whose row a writer still holds (its
/// worker is alive, mid-write) keeps its server: a claim waits for the row
/// and takes that run over, never the queued run behind it. A run asked to
/// stop and then taken over tells its new worker so.
#[test]
fn a_lapsed_run_held_by_a_writer_keeps_its_server() {
    let postgres = Postgres::start();
    let url = postgres.database("held");
    runtime().block_on(async {
        let cluster = Cluster::connect(&url).await.expect("connects");
        let endpoint = "http://127.0.0.1:9150";
        for id in ["first", "behind"] {
            cluster
                .enqueue(&quality(id, endpoint))
                .await
                .expect("queued");
        }
        let held = cluster
            .claim("a", endpoint, LEASE)
            .await
            .expect("claim")
            .expect("a run");
        assert_eq!(held.run, "first");
        lapse(&postgres, "held", "first");
        // A writer in another session holds the row for a second.
        let mut writer = postgres.psql_child(
            "held",
            "BEGIN; SELECT id FROM runs WHERE id = 'first' FOR UPDATE; \
             SELECT pg_sleep(1); COMMIT;",
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        let next = cluster
            .claim("b", endpoint, LEASE)
            .await
            .expect("claim")
            .expect("a run");
        assert!(writer.wait().expect("psql ends").success());
        assert_eq!(
            (next.run.as_str(), next.number, next.taken_over),
            ("first", 2, true),
            "the queued run must wait while the lapsed one is on the server"
        );

        // Asked to stop while held, then its worker lost: the next claim
        // says so.
        let asked = cluster.cancel("first", cancelled).await.expect("asked");
        assert_eq!((asked.state.as_str(), asked.cancel), ("running", true));
        lapse(&postgres, "held", "first");
        let row = cluster.run("first").await.expect("read").expect("there");
        assert_eq!(row.state, "running");
        let again = cluster
            .claim("c", endpoint, LEASE)
            .await
            .expect("claim")
            .expect("a run");
        assert_eq!((again.run.as_str(), again.cancel), ("first", true));
    });
}

/// What a run cancelled at once ends with: its last event and state.
fn cancelled(
    _: Option<&serde_json::Value>,
    seq: i64,
) -> Option<(serde_json::Value, serde_json::Value)> {
    Some((
        json!({ "event": "run_cancelled" }),
        json!({ "last_event": seq }),
    ))
}

/// Ends the lease on `run` now, as the clock would.
fn lapse(postgres: &Postgres, database: &str, run: &str) {
    postgres.psql(
        database,
        &format!(
            "UPDATE runs SET lease_until = clock_timestamp() - interval '1 second' \
             WHERE id = '{run}'"
        ),
    );
}

/// Two runs for one model server: the second waits, visible with its
/// place, until the first ends; a queued run cancelled is never claimed.
#[test]
fn a_second_run_for_one_server_waits_its_turn() {
    let postgres = Postgres::start();
    let url = postgres.database("turns");
    runtime().block_on(async move {
        let cluster = Cluster::connect(&url).await.expect("connects");
        let endpoint = "http://127.0.0.1:9200";
        for id in ["one", "two", "three"] {
            cluster
                .enqueue(&quality(id, endpoint))
                .await
                .expect("queued");
        }
        let error = cluster
            .enqueue(&quality("one", endpoint))
            .await
            .expect_err("a second one");
        assert!(matches!(error, Error::Exists(_)), "{error}");
        let first = cluster
            .claim("w1", endpoint, LEASE)
            .await
            .expect("claim")
            .expect("a run");
        assert_eq!(first.run, "one");
        assert_eq!(
            cluster.claim("w2", endpoint, LEASE).await.expect("claim"),
            None
        );
        // Another server's runs are not held up.
        cluster
            .enqueue(&quality("elsewhere", "http://127.0.0.1:9201"))
            .await
            .expect("queued");
        let other = cluster
            .claim("w3", "http://127.0.0.1:9201", LEASE)
            .await
            .expect("claim");
        assert_eq!(other.map(|claim| claim.run).as_deref(), Some("elsewhere"));

        let places: Vec<(String, String, i64)> = cluster
            .waiting(endpoint)
            .await
            .expect("the queue")
            .into_iter()
            .map(|w| (w.id, w.state, w.ahead))
            .collect();
        assert_eq!(
            places,
            [
                ("one".to_owned(), "running".to_owned(), 0),
                ("two".to_owned(), "queued".to_owned(), 1),
                ("three".to_owned(), "queued".to_owned(), 2),
            ]
        );
        assert_eq!(
            cluster
                .cancel("two", cancelled)
                .await
                .expect("cancelled")
                .state,
            "cancelled"
        );
        // A running run hears it at its next renewal.
        let asked = cluster.cancel("one", cancelled).await.expect("asked");
        assert_eq!((asked.state.as_str(), asked.cancel), ("running", true));
        assert!(
            cluster.renew(&first, LEASE).await.expect("renewed"),
            "told to stop"
        );
        cluster
            .finish(&first, Ended::Cancelled, &json!({}))
            .await
            .expect("ended");

        let next = cluster
            .claim("w2", endpoint, LEASE)
            .await
            .expect("claim")
            .expect("a run");
        assert_eq!(next.run, "three", "the cancelled run is passed over");
    });
}

/// Each event is announced to a feed on another pool (another replica)
/// as it is added; a feed whose connection is cut says so, then hears
/// again once the database is back, and a claim goes on writing through
/// the restart with nothing lost.
#[test]
fn events_reach_another_replica_and_survive_a_database_restart() {
    let postgres = Postgres::start();
    let url = postgres.database("events");
    runtime().block_on(async {
        let worker = Cluster::connect(&url).await.expect("connects");
        let replica = Cluster::connect(&url).await.expect("connects");
        let mut feed = replica.feed().await.expect("a feed");
        let endpoint = "http://127.0.0.1:9300";
        worker
            .enqueue(&quality("e", endpoint))
            .await
            .expect("queued");
        let claim = worker
            .claim("w", endpoint, LEASE)
            .await
            .expect("claim")
            .expect("a run");
        worker
            .append_event(&claim, 1, &json!({ "n": 1 }), None)
            .await
            .expect("an event");
        assert_eq!(
            heard(&mut feed).await,
            Heard::Event {
                run: "e".to_owned(),
                seq: 1
            }
        );

        postgres.crash();
        postgres.start_again();
        assert_eq!(heard(&mut feed).await, Heard::Reconnected);
        // The pool's connections died with the server; new ones are made.
        let mut written = None;
        for _ in 0..50 {
            match worker
                .append_event(&claim, 2, &json!({ "n": 2 }), None)
                .await
            {
                Ok(()) => {
                    written = Some(2);
                    break;
                }
                Err(error) => {
                    eprintln!("after the restart: {}", fuelbench_stdx::error_chain(&error));
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
            }
        }
        assert_eq!(written, Some(2), "the claim writes again after the restart");
        let mut next = heard(&mut feed).await;
        if next == Heard::Reconnected {
            next = heard(&mut feed).await;
        }
        assert_eq!(
            next,
            Heard::Event {
                run: "e".to_owned(),
                seq: 2
            }
        );
        worker.renew(&claim, LEASE).await.expect("renewed");
        let numbers: Vec<i64> = replica
            .events_after("e", 0)
            .await
            .expect("events")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(numbers, [1, 2]);
    });
}

/// A database a newer fuelbench migrated is refused, naming the migration;
/// one nothing answers is named without its password.
#[test]
fn a_newer_or_unreachable_database_is_refused_and_named() {
    let postgres = Postgres::start();
    let url = postgres.database("future");
    runtime().block_on(async {
        let cluster = Cluster::connect(&url).await.expect("connects");
        // Twice is fine: the second finds nothing to do.
        Cluster::connect(&url).await.expect("connects again");
        drop(cluster);
        postgres.psql(
            "future",
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (9999, 'from the future', true, '\\x00', 0)",
        );
        let error = Cluster::connect(&url).await.expect_err("refused");
        assert!(
            matches!(error, Error::TooNew { applied: 9999, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("migration 9999"), "{error}");

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a port")
            .local_addr()
            .expect("an address")
            .port();
        let nowhere = format!("postgres://fb:s3cret@127.0.0.1:{port}/fuelbench");
        let started = Instant::now();
        let error = Cluster::connect(&nowhere).await.expect_err("unreachable");
        let text = fuelbench_stdx::error_chain(&error);
        assert!(matches!(error, Error::Unreachable { .. }), "{text}");
        assert!(
            text.contains(&format!("127.0.0.1:{port}/fuelbench")),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");
        assert!(started.elapsed() < Duration::from_secs(30));
    });
}

/// `fuelbench database migrate` from the outside: a fresh database brought
/// up to date, and one nothing answers an error (exit 2) naming it.
#[test]
fn database_migrate_names_the_database_and_exits_two_when_it_cannot() {
    let postgres = Postgres::start();
    let url = postgres.database("cli");
    let output = crate::support::fuelbench(&["database", "migrate", "--database-url", &url]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("/cli is at migration 2"), "{stdout}");
    assert_eq!(
        postgres.psql("cli", "SELECT max(version) FROM _sqlx_migrations"),
        "2"
    );

    let output = crate::support::fuelbench(&[
        "database",
        "migrate",
        "--database-url",
        "postgres://u:pw@127.0.0.1:1/none",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot reach the database at postgres://127.0.0.1:1/none"),
        "{stderr}"
    );
    assert!(!stderr.contains("pw@"), "{stderr}");
}

/// The next event or reconnection `feed` hears, within 10 s.
async fn heard(feed: &mut fuelbench_cluster::Feed) -> Heard {
    loop {
        let heard = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("heard in time")
            .expect("a feed");
        if !matches!(heard, Heard::Queued { .. }) {
            return heard;
        }
    }
}
