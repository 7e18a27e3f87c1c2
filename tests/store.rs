use std::path::Path;
use std::sync::Arc;

use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_problems::Problem;
use fuelbench_runner::store::{BucketStore, Published};
use fuelbench_runner::{DirStore, Error, ResultsFile, Store, VerificationState, verify};
use object_store::ObjectStore;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;

use crate::support::runs::{config, run_once};
use crate::support::sandbox;
use crate::support::scripted::{problems, scripted};

/// A finished run of the first three problems, as its file's bytes and
/// as read back.
fn finished_run() -> (Vec<u8>, ResultsFile, Vec<Problem>) {
    let chosen: Vec<Problem> = problems()[..3].to_vec();
    let server = scripted(chosen.clone());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("run.json");
    run_once(
        &server,
        config("m", &chosen, true),
        &chosen,
        &path,
        false,
        &mut |_| {},
    )
    .expect("the run finishes");
    let bytes = std::fs::read(&path).expect("the file is there");
    let file = ResultsFile::read(&path).expect("it reads back");
    assert!(file.complete);
    (bytes, file, chosen)
}

fn evaluator() -> Evaluator {
    Evaluator::new(sandbox().clone(), EvalConfig::default())
}

/// What every store does the same, wherever it keeps its files: `plant`
/// puts raw bytes at a place in the store, as another writer (or a hand)
/// would.
fn conformance(store: &dyn Store, plant: &dyn Fn(&str, &[u8]), settle: std::time::Duration) {
    let location = store.location();
    assert!(store.listing().expect("an empty store lists").is_empty());
    assert!(store.board().expect("an empty board").rows.is_empty());

    // Publishing never writes over what is there.
    let (bytes, file, _) = finished_run();
    let name = "m__think-default__grammar-none.json";
    assert_eq!(
        store.put_new(name, &bytes).expect("put"),
        Published::Created
    );
    assert_eq!(store.put_new(name, &bytes).expect("put"), Published::Same);
    assert_eq!(store.put_new(name, b"{}").expect("put"), Published::Differs);
    assert_eq!(store.results(name).expect("it reads"), file);
    for bad in ["../x.json", "a/../../b.json", ".hidden.json", ""] {
        let error = store
            .put_new(bad, b"{}")
            .expect_err("not a place in the store");
        assert!(matches!(error, Error::Invalid { .. }), "{bad:?}: {error}");
    }

    let listing = store.listing().expect("a listing");
    assert_eq!(listing.len(), 1, "{listing:?}");
    assert_eq!(listing[0].name, "m__think-default__grammar-none");
    assert!(!listing[0].version.is_empty());
    let board = store.board().expect("a board");
    assert_eq!(board.rows.len(), 1, "{:?}", board.notes);
    assert_eq!(board.rows[0].model, "m");
    assert!(board.notes.is_empty(), "{:?}", board.notes);
    assert_eq!(store.board().expect("a warm board").rows, board.rows);
    assert_eq!(store.heads().expect("heads").len(), 1);

    // Bad objects are named in the notes; the rest of the board is served.
    let truncated = &bytes[..100];
    let mut future: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    future["schema_version"] = 99.into();
    let future = serde_json::to_vec(&future).expect("JSON");
    plant("truncated.json", truncated);
    plant("foreign.json", br#"{"hello": "world"}"#);
    plant("future.json", &future);
    plant("binary.json", &[0xff, 0xfe, 0x00, 0x81]);
    // Cut after its head: a bucket's board reads the head alone, and shows
    // its row; reading it whole names it.
    plant("cut.json", &bytes[..bytes.len() / 2]);
    // Another writer's objects show once the store lists again.
    std::thread::sleep(settle);
    let board = store.board().expect("a board with bad objects");
    let cut_noted = board.notes.iter().any(|note| note.contains("cut.json"));
    let expected = if cut_noted { 1 } else { 2 };
    assert_eq!(board.rows.len(), expected, "{:?}", board.notes);
    for bad in [
        "truncated.json",
        "foreign.json",
        "future.json",
        "binary.json",
    ] {
        assert!(
            board.notes.iter().any(|note| note.contains(bad)),
            "{bad} is not named: {:?}",
            board.notes
        );
    }
    assert!(
        board
            .notes
            .iter()
            .any(|note| note.contains("schema_version 99")),
        "{:?}",
        board.notes
    );
    for bad in ["truncated", "cut", "future", "binary"] {
        let error = store.results(bad).expect_err("unreadable");
        assert!(matches!(error, Error::Unreadable(_)), "{bad}: {error}");
        assert!(error.to_string().contains(bad), "{error}");
    }
    let error = store.results("missing").expect_err("not there");
    assert!(matches!(error, Error::NotFound { .. }), "{error}");

    // A run writes through the store's local copy, then the store.
    let fresh = "fresh__think-default__grammar-none.json".to_owned();
    store
        .stage(std::slice::from_ref(&fresh), false)
        .expect("nothing there yet");
    let local = store.results_dir().join(&fresh);
    std::fs::write(&local, &bytes).expect("written locally");
    store.checkpoint(&local).expect("sent");
    std::fs::write(&local, &bytes[..]).expect("written again");
    store
        .checkpoint(&local)
        .expect("sent again, by its one writer");
    assert_eq!(store.results(&fresh).expect("it reads"), file);
    let error = store
        .stage(std::slice::from_ref(&fresh), false)
        .expect_err("a new run never writes over results");
    assert!(matches!(error, Error::Exists { .. }), "{error}");
    store
        .stage(std::slice::from_ref(&fresh), true)
        .expect("a resume continues it");

    // Jobs: their state and events, in order.
    let mut status: fuelbench_runner::jobs::RunStatus =
        serde_json::from_value(run_state("abc")).expect("a run state");
    store.save_run(&status).expect("saved");
    status.progress.problems_total = 2;
    store.save_run(&status).expect("saved again");
    assert_eq!(store.run("abc").expect("read back"), status);
    assert_eq!(store.runs().len(), 1);
    for _ in 0..3 {
        store
            .append_event("abc", &fuelbench_runner::RunEvent::RunCancelled)
            .expect("appended");
    }
    assert_eq!(store.events("abc").len(), 3);
    let error = store.save_run(&serde_json::from_value(run_state("../x")).expect("a state"));
    assert!(error.is_err(), "{location}: an id that is a path was saved");
}

/// A run's state as the service writes it.
fn run_state(id: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "state": "running", "endpoint": "http://127.0.0.1:1",
        "server_kind": null, "models": ["m"], "variants": [], "problems": [],
        "resume": false, "created_at": "2026-12-05T10:00:00Z", "started_at": null,
        "ended_at": null, "problems_done": 0, "problems_total": 1, "model": null,
        "model_step": null, "variant": null, "problem": null, "outcomes": [],
        "summaries": [], "files": [], "skipped": [], "warnings": [], "error": null,
        "last_event": 0, "owner": "nowhere:1",
        "request": { "endpoint": null, "models": ["m"], "max_tokens": null,
                     "temperature": null, "extra_body": null, "server_kind": null },
    })
}

#[test]
fn a_folder_keeps_the_store_contract() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = DirStore::open(dir.path()).expect("the store opens");
    conformance(
        &store,
        &|relative, bytes| {
            std::fs::write(dir.path().join(relative), bytes).expect("planted");
        },
        std::time::Duration::ZERO,
    );
}

/// The bucket store's own logic, on `object_store`'s in-memory and
/// local-folder backends: the same layout, listing and conditional writes
/// the emulators are run through in `scripts/test.sh`.
#[test]
fn an_object_store_keeps_the_store_contract() {
    let folder = tempfile::tempdir().expect("a temporary directory");
    let local = object_store::local::LocalFileSystem::new_with_prefix(folder.path())
        .expect("a local object store");
    let backends: [(&str, Arc<dyn ObjectStore>); 2] = [
        ("memory://test", Arc::new(InMemory::new())),
        ("file-objects://test", Arc::new(local)),
    ];
    for (url, objects) in backends {
        let staging = tempfile::tempdir().expect("a temporary directory");
        let prefix = ObjectPath::from("team/runs");
        let store = BucketStore::new(
            url,
            Arc::clone(&objects),
            prefix.clone(),
            staging.path().to_owned(),
        )
        .expect("the store opens");
        conformance(
            &store,
            &|relative, bytes| {
                planted(&objects, &prefix, relative, bytes);
            },
            fuelbench_runner::store::LISTING_TTL,
        );
    }
}

/// Two runs that write one results object: the second is refused, never
/// written over the first (where the backend can put on a condition).
#[test]
fn a_second_writer_of_one_results_object_is_refused() {
    let objects: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let stagings = [tempfile::tempdir(), tempfile::tempdir()].map(|dir| dir.expect("a folder"));
    let stores = [0, 1].map(|index| {
        BucketStore::new(
            "memory://race",
            Arc::clone(&objects),
            ObjectPath::from("p"),
            stagings[index].path().to_owned(),
        )
        .expect("opens")
    });
    second_writer_refused([&stores[0], &stores[1]]);
}

/// Both runs' stores over one bucket: the second writer of an object is
/// refused, and so is a writer whose object another has since written.
fn second_writer_refused(stores: [&dyn Store; 2]) {
    let (bytes, _, _) = finished_run();
    let name = "m__think-default__grammar-none.json".to_owned();
    for store in stores {
        store
            .stage(std::slice::from_ref(&name), false)
            .expect("nothing there yet");
    }
    // Each write holds other bytes, as a run's do after every problem (an
    // object of the same bytes has the same ETag on S3: writing it again
    // changes nothing).
    let writes = std::cell::Cell::new(0);
    let write = |store: &dyn Store| {
        let local = store.results_dir().join(&name);
        writes.set(writes.get() + 1);
        let mut text = bytes.clone();
        text.extend(std::iter::repeat_n(b' ', writes.get()));
        std::fs::write(&local, &text).expect("written locally");
        store.checkpoint(&local)
    };
    write(stores[0]).expect("the first writer creates it");
    let error = write(stores[1]).expect_err("the second is refused");
    assert!(
        error.to_string().contains("written by another run first"),
        "{error}"
    );
    // The second resumes, taking the object as it is, and writes on: the
    // first's object is no longer the one it wrote.
    stores[1]
        .stage(std::slice::from_ref(&name), true)
        .expect("a resume takes the object as it is");
    write(stores[1]).expect("the resumed writer goes on");
    let error = write(stores[0]).expect_err("the first, now stale, is refused");
    assert!(
        error
            .to_string()
            .contains("changed since this run last wrote it"),
        "{error}"
    );
}

fn planted(objects: &Arc<dyn ObjectStore>, prefix: &ObjectPath, relative: &str, bytes: &[u8]) {
    use object_store::ObjectStoreExt as _;
    let location = prefix.clone().join(relative);
    let objects = Arc::clone(objects);
    let bytes = bytes.to_vec();
    crate::support::runs::block_on(async move { objects.put(&location, bytes.into()).await })
        .expect("planted");
}

#[test]
fn a_file_this_scorer_wrote_verifies_and_an_edited_one_never_does() {
    let (_, file, chosen) = finished_run();
    let evaluator = evaluator();
    let path = Path::new("run.json");
    let verified = verify(&file, &evaluator, &chosen, &[], path);
    assert_eq!(verified.state, VerificationState::Verified, "{verified:?}");
    assert_eq!(verified.answers, 3);

    // A score raised by hand.
    let mut raised = file.clone();
    let summary = raised.summary.as_mut().expect("a summary");
    summary.scores.pass_at_1 = 1.0;
    let found = verify(&raised, &evaluator, &chosen, &[], path);
    assert_eq!(found.state, VerificationState::Differs, "{found:?}");
    assert!(
        found
            .reasons
            .iter()
            .any(|r| r.contains("summary.pass_at_1")),
        "{found:?}"
    );

    // A failed verdict turned into a pass, the summary made to match.
    let failed = file
        .problems
        .iter()
        .position(|record| !record.report.passed)
        .expect("the script plants a wrong answer");
    let mut forged = file.clone();
    forged.problems[failed].report.passed = true;
    forged.problems[failed].report.failure_class = None;
    forged.problems[failed].failure_class = None;
    forged.refresh();
    let found = verify(&forged, &evaluator, &chosen, &[], path);
    assert_eq!(found.state, VerificationState::Differs, "{found:?}");
    assert_eq!(found.problems, [format!("{} #1", file.problems[failed].id)]);

    // Fuel, which no score shows.
    let mut fueled = file.clone();
    fueled.problems[0].report.fuel_used += 1;
    let found = verify(&fueled, &evaluator, &chosen, &[], path);
    assert_eq!(found.state, VerificationState::Differs, "{found:?}");
    assert!(
        found.reasons.iter().any(|r| r.contains("fuel_used")),
        "{found:?}"
    );

    // Another interpreter, or another seed than the tests were drawn from.
    let mut other = file.clone();
    other.reproducibility.python_wasm_sha256 = "0".repeat(64);
    let found = verify(&other, &evaluator, &chosen, &[], path);
    assert_eq!(found.state, VerificationState::Unverifiable, "{found:?}");
    assert!(
        found
            .reasons
            .iter()
            .any(|r| r.contains("python_wasm_sha256")),
        "{found:?}"
    );
    let mut reseeded = file.clone();
    reseeded.reproducibility.seed ^= 1;
    let found = verify(&reseeded, &evaluator, &chosen, &[], path);
    assert_ne!(found.state, VerificationState::Verified, "{found:?}");

    // Another problem set: one of its problems changed.
    let mut changed = chosen.clone();
    changed[1].prompt.push_str("\nAnd say why.");
    let found = verify(&file, &evaluator, &changed, &[], path);
    assert_eq!(found.state, VerificationState::Unverifiable, "{found:?}");
}

/// The service verifies what it reads: a file its scorer wrote shows as
/// verified, the same file with a score raised by hand as differs, and the
/// board filters by it; verification says what it checked.
#[test]
fn the_service_marks_each_row_verified_or_not() {
    use crate::support::service::{runtime, send, state};
    let (bytes, _, _) = finished_run();
    let (state, dir) = state(fuelbench_server::Config::default());
    let results = dir.path().join("results");
    std::fs::write(results.join("honest.json"), &bytes).expect("written");
    let mut raised: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    raised["config"]["model"] = "raised".into();
    raised["summary"]["pass_at_1"] = 0.99.into();
    std::fs::write(results.join("raised.json"), raised.to_string()).expect("written");
    // Another harness's row, naming the honest file as its source and this
    // scorer's keys: it must borrow neither the file's mark nor its keys.
    let honest: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    let imported = serde_json::json!({
        "format": "fuelbench-imported/1", "source": "elsewhere",
        "rows": [{
            "model": "borrowed", "quant": null, "think": "default", "grammar": "none",
            "pass_at_1": 0.99, "complexity": null, "numerical": null, "refactor": null,
            "overall": 0.99, "go": true, "avg_tokens": null, "tokens_per_s": null,
            "wall_time_s": null, "progress": "3/3", "source": "honest.json",
            "problem_set_sha256": honest["config"]["problem_set_sha256"],
            "python_wasm_sha256": honest["reproducibility"]["python_wasm_sha256"],
        }],
    });
    std::fs::write(results.join("imported.json"), imported.to_string()).expect("written");
    let app = fuelbench_server::router(state.clone());
    runtime().block_on(async {
        let stop = fuelbench_runner::CancellationToken::new();
        tokio::spawn(state.verify_store(stop.clone()));
        let mut answers = Vec::new();
        for name in ["honest", "raised"] {
            let path = format!("/api/v1/results/{name}/verification");
            let answer = loop {
                let answer = send(&app, "GET", &path, &[], Vec::new()).await;
                assert_eq!(
                    answer.status,
                    200,
                    "{}",
                    String::from_utf8_lossy(&answer.body)
                );
                let json = answer.json();
                if json["verification"]["state"] != "pending" {
                    break json;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            };
            answers.push(answer);
        }
        stop.cancel();
        assert_eq!(
            answers[0]["verification"]["state"], "verified",
            "{}",
            answers[0]
        );
        assert_eq!(
            answers[1]["verification"]["state"], "differs",
            "{}",
            answers[1]
        );
        assert!(
            answers[0]["scorer"]["python_wasm_sha256"].is_string(),
            "{}",
            answers[0]
        );
        assert!(answers[0]["scorer"].get("seed").is_none(), "{}", answers[0]);
        assert!(answers[0]["checked_at"].is_string(), "{}", answers[0]);

        let board = send(&app, "GET", "/api/v1/leaderboard", &[], Vec::new())
            .await
            .json();
        let state_of = |model: &str| {
            board["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|row| row["model"] == model)
                .map(|row| row["verification"]["state"].clone())
        };
        assert_eq!(state_of("m"), Some("verified".into()), "{board}");
        assert_eq!(state_of("raised"), Some("differs".into()), "{board}");
        assert_eq!(
            state_of("borrowed"),
            Some(serde_json::Value::Null),
            "{board}"
        );
        let differs = send(
            &app,
            "GET",
            "/api/v1/leaderboard?verification=differs",
            &[],
            Vec::new(),
        )
        .await
        .json();
        assert_eq!(
            differs["rows"].as_array().map(Vec::len),
            Some(1),
            "{differs}"
        );
        let bad = send(
            &app,
            "GET",
            "/api/v1/leaderboard?verification=maybe",
            &[],
            Vec::new(),
        )
        .await;
        assert_eq!(bad.status, 422);
        let missing = send(
            &app,
            "GET",
            "/api/v1/results/nothing/verification",
            &[],
            Vec::new(),
        )
        .await;
        assert_eq!(missing.status, 404);

        // Edited after it was checked: never shown verified again.
        std::fs::write(results.join("honest.json"), raised.to_string()).expect("written");
        let answer = send(
            &app,
            "GET",
            "/api/v1/results/honest/verification",
            &[],
            Vec::new(),
        )
        .await
        .json();
        assert_ne!(answer["verification"]["state"], "verified", "{answer}");
    });
}

/// A bucket URL on an emulator `scripts/test.sh` started: `variable`
/// (`FUELBENCH_TEST_S3`, `FUELBENCH_TEST_AZURE`) names it, and the
/// credentials are in the environment as each cloud's own tools read them.
/// Each test writes under a prefix of its own.
#[cfg(feature = "external-tests")]
fn emulated(variable: &str, what: &str) -> String {
    let base = std::env::var(variable).unwrap_or_else(|_| {
        panic!("{variable} is not set: scripts/test.sh starts the emulators and sets it")
    });
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    format!("{base}/{what}-{}-{nanos}", std::process::id())
}

#[cfg(feature = "external-tests")]
#[test]
fn buckets_on_the_s3_and_azure_emulators_keep_the_store_contract() {
    for variable in ["FUELBENCH_TEST_S3", "FUELBENCH_TEST_AZURE"] {
        let url = emulated(variable, "contract");
        let cache = tempfile::tempdir().expect("a temporary directory");
        let store = fuelbench_runner::store::open(&url, cache.path(), None)
            .unwrap_or_else(|error| panic!("{url}: {error}"));
        conformance(
            &*store,
            &|relative, bytes| {
                store.put_new(relative, bytes).expect("planted");
            },
            std::time::Duration::ZERO,
        );
    }
}

/// The conditional writes, on the emulators' own answers to them.
#[cfg(feature = "external-tests")]
#[test]
fn a_second_writer_is_refused_by_the_s3_and_azure_emulators() {
    for variable in ["FUELBENCH_TEST_S3", "FUELBENCH_TEST_AZURE"] {
        let url = emulated(variable, "race");
        let caches = [tempfile::tempdir(), tempfile::tempdir()].map(|dir| dir.expect("a folder"));
        let stores = [0, 1].map(|index| {
            fuelbench_runner::store::open(&url, caches[index].path(), None)
                .unwrap_or_else(|error| panic!("{url}: {error}"))
        });
        second_writer_refused([&*stores[0], &*stores[1]]);
    }
}

/// What a user meets pointing `--results` at a bucket that is not there,
/// or at an endpoint nothing answers: a clear error naming it, nothing
/// written. (A wrong key: `tls.rs`, against Azurite, which checks keys.)
#[cfg(feature = "external-tests")]
#[test]
fn a_missing_or_unreachable_bucket_is_named() {
    let cache = tempfile::tempdir().expect("a temporary directory");
    let url = emulated("FUELBENCH_TEST_S3", "missing");
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let missing = format!("{scheme}://no-such-bucket-{}/x", std::process::id());
    let store = fuelbench_runner::store::open(&missing, cache.path(), None).expect("opens lazily");
    let error = store.board().expect_err("no bucket").to_string();
    assert!(error.contains("no-such-bucket"), "{error}");

    let output = crate::support::fuelbench(&["leaderboard", &missing]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-bucket"), "{stderr}");

    let unreachable = std::process::Command::new(env!("CARGO_BIN_EXE_fuelbench"))
        .args(["leaderboard", &format!("{scheme}://{rest}")])
        .env("AWS_ENDPOINT", "http://127.0.0.1:9")
        .env("AWS_MAX_RETRIES", "0")
        .env("FUELBENCH_CACHE", crate::support::cache_dir())
        .output()
        .expect("fuelbench starts");
    assert_eq!(unreachable.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert!(
        stderr.contains("127.0.0.1:9") || stderr.contains("connect"),
        "{stderr}"
    );
}

/// The same run, pointed at the S3 emulator, shows on a board a second
/// process serves from the bucket, verified; the object edited by hand
/// then shows as differs.
#[cfg(feature = "external-tests")]
#[test]
fn a_run_into_a_bucket_is_verified_by_a_service_in_another_process() {
    use crate::support::service::{http, spawn_serve};
    let url = emulated("FUELBENCH_TEST_S3", "run");
    let chosen: Vec<Problem> = problems()[..2].to_vec();
    let server = scripted(chosen);
    let output = crate::support::fuelbench(&[
        "run",
        "--endpoint",
        &server.base_url,
        "--model",
        "m",
        "--problems",
        "p01,p02",
        "--out",
        &url,
        "--seed",
        "5",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let name = "m__think-default__grammar-none";
    assert!(
        stdout.contains(&format!("results: {url}/{name}.json")),
        "{stdout}"
    );

    let (serve, addr) = spawn_serve(&[std::ffi::OsStr::new("--results"), url.as_ref()]);
    // Stopped by its PID however the test ends.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _serve = Stop(serve);
    let verification = |wanted: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
        loop {
            let (status, body) = http(
                &addr,
                "GET",
                &format!("/api/v1/results/{name}/verification"),
                "",
            );
            assert_eq!(status, 200, "{body}");
            let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            if json["verification"]["state"] == wanted {
                return json;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "never {wanted}: {json}"
            );
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    };
    verification("verified");
    let (status, board) = http(&addr, "GET", "/api/v1/leaderboard", "");
    assert_eq!(status, 200, "{board}");
    assert!(board.contains("\"model\":\"m\""), "{board}");

    // A score raised by hand, written over the object.
    let objects = object_store::aws::AmazonS3Builder::from_env()
        .with_url(&url)
        .build()
        .expect("the emulator's bucket");
    let prefix = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, p)| p)
        .expect("a prefix");
    let location = ObjectPath::from(format!("{prefix}/{name}.json"));
    crate::support::runs::block_on(async {
        use object_store::ObjectStoreExt as _;
        let bytes = objects
            .get(&location)
            .await
            .expect("read")
            .bytes()
            .await
            .expect("bytes");
        let mut file: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        file["summary"]["overall_score"] = 0.99.into();
        objects
            .put(&location, serde_json::to_vec(&file).expect("JSON").into())
            .await
            .expect("written over");
    });
    let found = verification("differs");
    assert!(found.to_string().contains("overall_score"), "{found}");
}

/// A field given twice is read one way by one reader and another way by
/// another: a results file of this schema with one is refused, whole or by
/// its head, wherever it is kept.
#[test]
fn a_results_file_with_a_field_given_twice_is_refused() {
    let (bytes, _, _) = finished_run();
    let text = String::from_utf8(bytes).expect("UTF-8");
    // A second schema_version and a second summary, after the records.
    let doubled = format!(
        "{},\n  \"schema_version\": {},\n  \"summary\": null\n}}\n",
        text.trim_end().trim_end_matches('}').trim_end(),
        fuelbench_runner::SCHEMA_VERSION
    );
    let error =
        ResultsFile::from_text(Path::new("doubled.json"), doubled.clone()).expect_err("refused");
    assert!(error.to_string().contains("doubled.json"), "{error}");

    let objects: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let staging = tempfile::tempdir().expect("a temporary directory");
    let store = BucketStore::new(
        "memory://doubled",
        Arc::clone(&objects),
        ObjectPath::from("p"),
        staging.path().to_owned(),
    )
    .expect("opens");
    store
        .put_new("doubled.json", doubled.as_bytes())
        .expect("put");
    let error = store.results("doubled").expect_err("refused whole");
    assert!(matches!(error, Error::Unreadable(_)), "{error}");
    let verification = verify_read(&store, "doubled");
    assert!(
        verification.is_err(),
        "a file that does not read is never verified"
    );
}

fn verify_read(store: &dyn Store, name: &str) -> Result<VerificationState, Error> {
    let (_, _, chosen) = finished_run();
    let (file, _) = store.results_versioned(name)?;
    Ok(verify(&file, &evaluator(), &chosen, &[], Path::new(name)).state)
}
