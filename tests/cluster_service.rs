//! The service on Postgres, for real: `fuelbench serve` replicas behind
//! haproxy (deploy/haproxy.cfg), `fuelbench worker`s for scripted model
//! servers, and a private Postgres cluster, all on loopback. Every test
//! goes through the processes a user starts, and every process is
//! stopped by its PID.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use fuelbench_cluster::{Claim, Cluster, Error, RunKind};
use serde_json::{Value, json};

use crate::support::fake_server::FakeServer;
use crate::support::fleet::{
    EventStream, Proc, get, get_json, haproxy, replica, request, request_with, start_run,
    wait_over, worker,
};
use crate::support::postgres::Postgres;
use crate::support::scripted::{problems, scripted_with};

/// A lease short enough that a killed worker's run is taken over soon.
const SHORT_LEASE: Duration = Duration::from_secs(2);

/// The lease of workers no test kills.
const LEASE: Duration = Duration::from_secs(15);

/// A model server answering every problem with its reference after a
/// pause of about `gap` per answer.
fn model_server(gap: Duration) -> FakeServer {
    scripted_with(problems(), gap, |_, _| false)
}

/// The first `n` problem ids.
fn first_problems(n: usize) -> Vec<String> {
    problems().into_iter().take(n).map(|p| p.id).collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// `SELECT` through psql, one row per line, `|` between fields.
fn rows(postgres: &Postgres, database: &str, sql: &str) -> Vec<String> {
    postgres
        .psql(database, sql)
        .lines()
        .map(str::to_owned)
        .filter(|line| !line.is_empty())
        .collect()
}

/// Waits, at most two minutes, until run `id` has `count` problems kept.
fn wait_kept(postgres: &Postgres, database: &str, id: &str, count: usize) {
    let sql = format!("SELECT count(*) FROM run_problems WHERE run_id = '{id}'");
    let deadline = Instant::now() + Duration::from_secs(120);
    while rows(postgres, database, &sql)
        .first()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0)
        < count
    {
        assert!(
            Instant::now() < deadline,
            "{count} problems not kept in time"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The models whose chats a server saw, in order, each run of them once:
/// runs that never overlapped leave each model's chats together.
fn model_turns(server: &FakeServer) -> Vec<String> {
    let mut turns: Vec<String> = Vec::new();
    for chat in server.chats() {
        let model = chat.body["model"].as_str().unwrap_or_default().to_owned();
        if turns.last() != Some(&model) {
            turns.push(model);
        }
    }
    turns
}

#[test]
fn twenty_runs_through_haproxy_complete_exactly_once_on_two_model_hosts() {
    let postgres = Postgres::start();
    let database = postgres.database("fleet");
    let results = tempfile::tempdir().expect("a results folder");
    let servers = [model_server(Duration::ZERO), model_server(Duration::ZERO)];
    let endpoints: Vec<&str> = servers.iter().map(|s| s.base_url.as_str()).collect();
    let replicas: Vec<Proc> = (0..3)
        .map(|_| replica(&database, results.path(), &endpoints))
        .collect();
    let proxy = haproxy(&replicas.iter().map(|r| r.addr.as_str()).collect::<Vec<_>>());
    let _workers: Vec<Proc> = endpoints
        .iter()
        .enumerate()
        .map(|(n, endpoint)| {
            worker(
                &database,
                results.path(),
                endpoint,
                &format!("host{n}"),
                LEASE,
            )
        })
        .collect();

    let ids: Vec<String> = (0..20)
        .map(|n| {
            start_run(
                &proxy.addr,
                &json!({
                    "endpoint": endpoints[n % 2],
                    "models": [format!("model-{n:02}")],
                    "problems": ["p03"],
                    "refactor": false,
                }),
            )
        })
        .collect();
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 20);
    for id in &ids {
        let run = wait_over(&proxy.addr, id, Duration::from_secs(300));
        assert_eq!(run["state"], "finished", "{run}");
        assert_eq!(run["problems_done"], 1, "{run}");
    }

    // Once: one claim each, one row per problem, one end in its events.
    let claims = rows(
        &postgres,
        "fleet",
        "SELECT claim, count(*) FROM runs GROUP BY claim",
    );
    assert_eq!(claims, ["1|20"]);
    let problems = rows(
        &postgres,
        "fleet",
        "SELECT count(*), count(DISTINCT run_id) FROM run_problems",
    );
    assert_eq!(problems, ["20|20"]);
    let ends = rows(
        &postgres,
        "fleet",
        "SELECT run_id, count(*) FROM run_events
         WHERE event->>'event' IN ('run_finished', 'run_failed', 'run_cancelled')
         GROUP BY run_id HAVING count(*) <> 1",
    );
    assert!(ends.is_empty(), "{ends:?}");
    // Each model server ran its ten runs one after another, never two at
    // once, and asked each problem once.
    for server in &servers {
        let turns = model_turns(server);
        assert_eq!(turns.len(), 10, "{turns:?}");
        assert_eq!(turns.iter().collect::<BTreeSet<_>>().len(), 10, "{turns:?}");
        assert_eq!(server.chats().len(), 10);
    }

    // Every replica answers with the same board, to the byte and the ETag.
    let boards: Vec<(u16, Option<String>, String)> = replicas
        .iter()
        .map(|replica| {
            let (status, headers, body) =
                request(&replica.addr, "GET", "/api/v1/leaderboard", None);
            let etag = headers
                .into_iter()
                .find(|(name, _)| name == "etag")
                .map(|(_, value)| value);
            (status, etag, body)
        })
        .collect();
    assert_eq!(boards[0].0, 200);
    assert!(boards[0].1.is_some(), "an ETag");
    assert!(boards.iter().all(|board| *board == boards[0]));
    let board: Value = serde_json::from_str(&boards[0].2).expect("JSON");
    assert_eq!(board["rows"].as_array().map(Vec::len), Some(20), "{board}");
    // And the same runs.
    let listed: Vec<Value> = replicas
        .iter()
        .map(|replica| get_json(&replica.addr, "/api/v1/runs")["runs"].clone())
        .collect();
    assert!(listed.iter().all(|runs| *runs == listed[0]));
}

#[test]
fn a_killed_workers_run_is_taken_over_and_goes_on_from_its_finished_problems() {
    let postgres = Postgres::start();
    let database = postgres.database("failover");
    let results = tempfile::tempdir().expect("a results folder");
    let server = model_server(Duration::from_millis(300));
    let endpoint = server.base_url.as_str();
    let service = replica(&database, results.path(), &[endpoint]);
    let mut first = worker(&database, results.path(), endpoint, "first", SHORT_LEASE);
    let ids = first_problems(6);
    let id = start_run(
        &service.addr,
        &json!({ "models": ["coder"], "problems": ids, "refactor": false }),
    );

    // Killed once two problems are kept.
    let kept = |postgres: &Postgres| -> Vec<String> {
        rows(
            postgres,
            "failover",
            &format!("SELECT problem FROM run_problems WHERE run_id = '{id}' ORDER BY problem"),
        )
    };
    wait_kept(&postgres, "failover", &id, 2);
    first.kill();
    let before = kept(&postgres);
    let asked_before = server.chats().len();
    let killed_at = Instant::now();

    let _second = worker(&database, results.path(), endpoint, "second", SHORT_LEASE);
    let run = wait_over(&service.addr, &id, Duration::from_secs(180));
    assert_eq!(run["state"], "finished", "{run}");
    assert_eq!(run["problems_done"], 6, "{run}");
    let taken = rows(
        &postgres,
        "failover",
        &format!("SELECT claim, worker LIKE 'second:%', lapses FROM runs WHERE id = '{id}'"),
    );
    assert_eq!(taken, ["2|t|1"]);
    assert!(
        killed_at.elapsed() >= SHORT_LEASE,
        "taken before the lease ran out"
    );

    // Every problem kept once; those kept before the kill never asked again.
    assert_eq!(kept(&postgres), ids);
    let asked_after: Vec<String> = server.chats()[asked_before..]
        .iter()
        .filter_map(|chat| chat.problem(&problems()).map(|p| p.id.clone()))
        .collect();
    for problem in &before {
        assert!(!asked_after.contains(problem), "{problem} asked again");
    }
    let file = std::fs::read_dir(results.path())
        .expect("the store")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|x| x == "json"))
        .expect("a results file");
    let file = std::fs::read_to_string(file).expect("the results file");
    let file: Value = serde_json::from_str(&file).expect("JSON");
    assert_eq!(file["problems"].as_array().map(Vec::len), Some(6));

    // The events went on from where the dead claim left them.
    let numbers = rows(
        &postgres,
        "failover",
        &format!("SELECT seq FROM run_events WHERE run_id = '{id}' ORDER BY seq"),
    );
    let expected: Vec<String> = (1..=numbers.len()).map(|n| n.to_string()).collect();
    assert_eq!(numbers, expected);

    // A run whose last event was written but whose end was not (its
    // worker died between the two) is ended by the next claim, not run
    // again.
    let asked = server.chats().len();
    postgres.psql(
        "failover",
        &format!(
            "UPDATE runs SET state = 'running', lease_until = clock_timestamp() - interval '1 second'
             WHERE id = '{id}'"
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while rows(
        &postgres,
        "failover",
        &format!("SELECT state, claim FROM runs WHERE id = '{id}'"),
    ) != ["finished|3"]
    {
        assert!(Instant::now() < deadline, "the run was not ended again");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(server.chats().len(), asked, "nothing asked again");
    let ends = rows(
        &postgres,
        "failover",
        &format!(
            "SELECT count(*) FROM run_events
             WHERE run_id = '{id}' AND event->>'event' = 'run_finished'"
        ),
    );
    assert_eq!(ends, ["1"]);

    // A write from the dead claim is refused.
    runtime().block_on(async {
        let cluster = Cluster::connect(&database).await.expect("the database");
        let dead = Claim {
            run: id.clone(),
            number: 1,
            kind: RunKind::Quality,
            request: json!({}),
            taken_over: false,
            cancel: false,
            status: json!({}),
            lapses: 0,
        };
        let refused = cluster
            .append_event(
                &dead,
                numbers.len() as i64 + 1,
                &json!({ "event": "warning", "message": "late" }),
                Some(&json!({})),
            )
            .await
            .expect_err("a write from a dead claim");
        assert!(matches!(refused, Error::Lost { claim: 1, .. }), "{refused}");
    });
}

#[test]
fn a_worker_told_to_stop_gives_its_run_back_for_the_next_to_finish() {
    let postgres = Postgres::start();
    let database = postgres.database("handover");
    let results = tempfile::tempdir().expect("a results folder");
    let server = model_server(Duration::from_millis(300));
    let endpoint = server.base_url.as_str();
    let service = replica(&database, results.path(), &[endpoint]);
    let mut first = worker(&database, results.path(), endpoint, "first", LEASE);
    let id = start_run(
        &service.addr,
        &json!({ "models": ["coder"], "problems": first_problems(4), "refactor": false }),
    );
    wait_kept(&postgres, "handover", &id, 1);
    let _second = worker(&database, results.path(), endpoint, "second", LEASE);
    let stopped_at = Instant::now();
    assert_eq!(
        first.terminate(Duration::from_secs(60)),
        Some(0),
        "a clean exit"
    );
    // Handed over at once, not when the lease ran out.
    let claim = || {
        rows(
            &postgres,
            "handover",
            &format!("SELECT claim FROM runs WHERE id = '{id}'"),
        )
    };
    while claim() != ["2"] {
        assert!(
            stopped_at.elapsed() < LEASE / 2,
            "not handed over before the lease would have run out"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let run = wait_over(&service.addr, &id, Duration::from_secs(120));
    assert_eq!(run["state"], "finished", "{run}");
    assert_eq!(run["problems_done"], 4, "{run}");
    let taken = rows(
        &postgres,
        "handover",
        &format!("SELECT claim, worker LIKE 'second:%', lapses FROM runs WHERE id = '{id}'"),
    );
    assert_eq!(taken, ["2|t|0"], "a run handed back is no lapse");
    let cancelled = rows(
        &postgres,
        "handover",
        &format!(
            "SELECT count(*) FROM run_events
             WHERE run_id = '{id}' AND event->>'event' = 'run_cancelled'"
        ),
    );
    assert_eq!(cancelled, ["0"], "a run given back is not cancelled");
}

#[test]
fn an_event_stream_resumes_on_another_replica_with_nothing_lost_or_twice() {
    let postgres = Postgres::start();
    let database = postgres.database("events");
    let results = tempfile::tempdir().expect("a results folder");
    let server = model_server(Duration::from_millis(200));
    let endpoint = server.base_url.as_str();
    let mut replicas: Vec<Proc> = (0..3)
        .map(|_| replica(&database, results.path(), &[endpoint]))
        .collect();
    let proxy = haproxy(&replicas.iter().map(|r| r.addr.as_str()).collect::<Vec<_>>());
    let _worker = worker(&database, results.path(), endpoint, "host", LEASE);
    let id = start_run(
        &proxy.addr,
        &json!({ "models": ["coder"], "problems": first_problems(4), "refactor": false }),
    );

    // Watched on replica A, directly, for a few events.
    let mut seen: Vec<u64> = Vec::new();
    let mut stream = EventStream::open(&replicas[0].addr, &id, None);
    let snapshot = stream.next().expect("the snapshot");
    assert_eq!(snapshot.id, None);
    assert_eq!(snapshot.data["event"], "snapshot");
    let from = snapshot.data["run"]["last_event"]
        .as_u64()
        .expect("a number");
    while seen.len() < 3 {
        let event = stream.next().expect("an event");
        seen.push(event.id.expect("numbered"));
    }
    // Replica A dies mid-stream; the browser reconnects through the
    // balancer with the last id it saw.
    replicas[0].kill();
    drop(stream);
    let last = *seen.last().expect("some");
    let mut stream = EventStream::open(&proxy.addr, &id, Some(last));
    assert_eq!(stream.next().expect("a snapshot").id, None);
    let mut end = None;
    while let Some(event) = stream.next() {
        seen.push(event.id.expect("numbered"));
        end = Some(event.data["event"].clone());
    }
    assert_eq!(end, Some(json!("run_finished")));
    let expected: Vec<u64> = (from + 1..=from + seen.len() as u64).collect();
    assert_eq!(seen, expected, "contiguous, no gap, nothing twice");
    let stored = rows(
        &postgres,
        "events",
        &format!("SELECT max(seq) FROM run_events WHERE run_id = '{id}'"),
    );
    assert_eq!(stored, [seen.last().expect("some").to_string()]);
}

#[test]
fn a_second_run_for_one_model_server_waits_its_turn_in_the_queue() {
    let postgres = Postgres::start();
    let database = postgres.database("queue");
    let results = tempfile::tempdir().expect("a results folder");
    let server = model_server(Duration::from_millis(300));
    let endpoint = server.base_url.as_str();
    let service = replica(&database, results.path(), &[endpoint]);
    let _workers = [
        worker(&database, results.path(), endpoint, "one", LEASE),
        worker(&database, results.path(), endpoint, "two", LEASE),
    ];
    let body = |model: &str| json!({ "models": [model], "problems": first_problems(3), "refactor": false });
    let first = start_run(&service.addr, &body("first"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while get_json(&service.addr, &format!("/api/v1/runs/{first}"))["state"] != "running" {
        assert!(Instant::now() < deadline, "the first run never ran");
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = start_run(&service.addr, &body("second"));
    let waiting = get_json(&service.addr, &format!("/api/v1/runs/{second}"));
    assert_eq!(waiting["state"], "queued", "{waiting}");
    assert_eq!(waiting["queue_position"], 1, "{waiting}");
    let listed = get_json(&service.addr, "/api/v1/runs");
    let row = listed["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .find(|run| run["id"] == second)
        .expect("listed");
    assert_eq!(row["queue_position"], 1, "{row}");

    // A third, cancelled while it waits: it ends at once, with its last
    // event, and never runs.
    let third = start_run(&service.addr, &body("third"));
    let mut stream = EventStream::open(&service.addr, &third, None);
    assert_eq!(
        stream.next().expect("a snapshot").data["run"]["state"],
        "queued"
    );
    let (status, _, answer) = request(
        &service.addr,
        "POST",
        &format!("/api/v1/runs/{third}/cancel"),
        Some(&json!({})),
    );
    assert_eq!(status, 202, "{answer}");
    let ended = stream.next().expect("the last event");
    assert_eq!(ended.data["event"], "run_cancelled");
    assert_eq!(stream.next(), None, "the stream ends with the run");
    let cancelled = get_json(&service.addr, &format!("/api/v1/runs/{third}"));
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    assert_eq!(
        cancelled["last_event"],
        ended.id.expect("numbered"),
        "{cancelled}"
    );
    let (status, _, _) = request(
        &service.addr,
        "POST",
        &format!("/api/v1/runs/{third}/cancel"),
        Some(&json!({})),
    );
    assert_eq!(status, 409, "nothing to cancel twice");

    let runs: Vec<Value> = [&first, &second]
        .iter()
        .map(|id| wait_over(&service.addr, id, Duration::from_secs(180)))
        .collect();
    assert!(
        runs.iter().all(|run| run["state"] == "finished"),
        "{runs:?}"
    );
    assert_eq!(model_turns(&server), ["first", "second"]);
    assert!(
        runs[1]["started_at"].as_str() >= runs[0]["ended_at"].as_str(),
        "{runs:?}"
    );
}

#[test]
fn a_postgres_restart_mid_run_loses_nothing() {
    let postgres = Postgres::start();
    let database = postgres.database("restart");
    let results = tempfile::tempdir().expect("a results folder");
    let server = model_server(Duration::from_millis(300));
    let endpoint = server.base_url.as_str();
    let service = replica(&database, results.path(), &[endpoint]);
    let _worker = worker(&database, results.path(), endpoint, "host", LEASE);
    let id = start_run(
        &service.addr,
        &json!({ "models": ["coder"], "problems": first_problems(5), "refactor": false }),
    );
    let mut stream = EventStream::open(&service.addr, &id, None);
    let from = stream.next().expect("the snapshot").data["run"]["last_event"]
        .as_u64()
        .expect("a number");
    let mut seen = Vec::new();
    while seen.len() < 4 {
        seen.push(stream.next().expect("an event").id.expect("numbered"));
    }

    postgres.crash();
    std::thread::sleep(Duration::from_secs(2));
    let (status, _) = get(&service.addr, &format!("/api/v1/runs/{id}"));
    assert_eq!(status, 503, "the database is away");
    postgres.start_again();

    while let Some(event) = stream.next() {
        seen.push(event.id.expect("numbered"));
    }
    let expected: Vec<u64> = (from + 1..=from + seen.len() as u64).collect();
    assert_eq!(seen, expected, "contiguous across the restart");
    let run = wait_over(&service.addr, &id, Duration::from_secs(120));
    assert_eq!(run["state"], "finished", "{run}");
    assert_eq!(run["problems_done"], 5, "{run}");
    assert_eq!(
        rows(
            &postgres,
            "restart",
            &format!("SELECT count(*), max(claim) FROM run_problems WHERE run_id = '{id}'"),
        ),
        ["5|1"]
    );
    let numbers = rows(
        &postgres,
        "restart",
        &format!("SELECT count(*) = max(seq) FROM run_events WHERE run_id = '{id}'"),
    );
    assert_eq!(numbers, ["t"]);
}

#[test]
fn a_worker_cut_off_past_its_lease_stops_its_run_and_the_run_goes_on() {
    let postgres = Postgres::start();
    let database = postgres.database("cutoff");
    let results = tempfile::tempdir().expect("a results folder");
    let server = model_server(Duration::from_millis(300));
    let endpoint = server.base_url.as_str();
    let service = replica(&database, results.path(), &[endpoint]);
    let _worker = worker(&database, results.path(), endpoint, "host", SHORT_LEASE);
    let id = start_run(
        &service.addr,
        &json!({ "models": ["coder"], "problems": first_problems(5), "refactor": false }),
    );
    wait_kept(&postgres, "cutoff", &id, 1);
    // Longer than the lease: the worker must stop driving the server,
    // since another worker could hold the run by now.
    postgres.crash();
    std::thread::sleep(SHORT_LEASE * 3);
    let asked = server.chats().len();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        server.chats().len(),
        asked,
        "a cut-off worker went on asking"
    );
    postgres.start_again();

    let run = wait_over(&service.addr, &id, Duration::from_secs(120));
    assert_eq!(run["state"], "finished", "{run}");
    assert_eq!(run["problems_done"], 5, "{run}");
    assert_eq!(
        rows(
            &postgres,
            "cutoff",
            &format!("SELECT claim, lapses FROM runs WHERE id = '{id}'"),
        ),
        ["2|1"]
    );
}

#[test]
fn a_run_nobody_serves_says_so_and_odd_ids_are_unknown() {
    let postgres = Postgres::start();
    let database = postgres.database("odd");
    let results = tempfile::tempdir().expect("a results folder");
    let service = replica(&database, results.path(), &["http://127.0.0.1:9"]);
    let other = replica(&database, results.path(), &["http://127.0.0.1:9"]);
    let id = start_run(
        &service.addr,
        &json!({ "models": ["nul\u{0}model"], "problems": first_problems(1) }),
    );
    let run = get_json(&service.addr, &format!("/api/v1/runs/{id}"));
    assert_eq!(run["state"], "queued", "{run}");
    assert_eq!(run["queue_position"], 0, "{run}");
    let warnings = run["warnings"].to_string();
    assert!(
        warnings.contains("no worker has served http://127.0.0.1:9"),
        "{run}"
    );
    for odd in ["%00", "a%00b", &"x".repeat(300), "..%2F..%2Fetc"] {
        let (status, body) = get(&service.addr, &format!("/api/v1/runs/{odd}"));
        assert_eq!(status, 404, "{odd}: {body}");
        let (status, _, body) = request(
            &service.addr,
            "POST",
            &format!("/api/v1/runs/{odd}/cancel"),
            Some(&json!({})),
        );
        assert_eq!(status, 404, "{odd}: {body}");
    }
    let (status, _) = get(&service.addr, "/api/v1/runs");
    assert_eq!(status, 200);

    // A form one replica rendered is taken by another: the key its token
    // is made with is the database's.
    let (status, headers, page) =
        request_with(&service.addr, "GET", &format!("/runs/{id}"), &[], "");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("1 ahead") || page.contains("queued"),
        "{page}"
    );
    let cookie = headers
        .iter()
        .find(|(name, _)| name == "set-cookie")
        .map(|(_, value)| value.split(';').next().expect("a pair").to_owned())
        .expect("a session cookie");
    let at = page.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    let csrf = page[at..].split('"').next().expect("a value");
    let (status, headers, page) = request_with(
        &other.addr,
        "POST",
        &format!("/runs/{id}/cancel"),
        &[
            ("cookie", &cookie),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        &format!("csrf={csrf}"),
    );
    assert_eq!(status, 303, "{page}");
    assert!(
        headers
            .iter()
            .any(|(name, value)| name == "location" && value == &format!("/runs/{id}")),
        "{headers:?}"
    );
    let run = get_json(&other.addr, &format!("/api/v1/runs/{id}"));
    assert_eq!(run["state"], "cancelled", "{run}");
}

#[test]
fn an_unreachable_or_newer_database_is_refused_at_start() {
    for command in [
        &["serve", "--addr", "127.0.0.1:0"][..],
        &["worker", "--endpoint", "http://127.0.0.1:9"],
    ] {
        let mut args: Vec<&str> = command.to_vec();
        args.extend(["--database-url", "postgres://fb:pw@127.0.0.1:1/none"]);
        let output = crate::support::fuelbench(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("cannot reach the database at postgres://127.0.0.1:1/none"),
            "{stderr}"
        );
        assert!(!stderr.contains("pw"), "{stderr}");
    }

    let postgres = Postgres::start();
    let database = postgres.database("newer");
    runtime().block_on(async {
        Cluster::connect(&database).await.expect("migrated");
    });
    postgres.psql(
        "newer",
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99991231000000, 'from the future', true, '\\x00', 0)",
    );
    for command in [
        &["serve", "--addr", "127.0.0.1:0"][..],
        &["worker", "--endpoint", "http://127.0.0.1:9"],
    ] {
        let mut args: Vec<&str> = command.to_vec();
        args.extend(["--database-url", &database]);
        let output = crate::support::fuelbench(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("is at migration 99991231000000, newer than this fuelbench knows"),
            "{stderr}"
        );
    }
}
