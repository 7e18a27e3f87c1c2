use std::path::Path;
use std::sync::Arc;

use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_runner::store::BucketStore;
use fuelbench_runner::{DirStore, Error, ResultsFile, Store, VerificationState, verify};
use object_store::ObjectStore;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;

use crate::support::sandbox;
use crate::support::store::{conformance, finished_run, second_writer_refused};

fn evaluator() -> Evaluator {
    Evaluator::new(sandbox().clone(), EvalConfig::default())
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

/// A second process over the same bucket and cache shows an unchanged
/// object's rows as the first kept them, reading nothing of it; a changed
/// object is read again, and the rows of its old version are forgotten.
#[test]
fn rows_are_kept_between_processes_by_object_and_version() {
    let objects: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let staging = tempfile::tempdir().expect("a temporary directory");
    let prefix = ObjectPath::from("runs");
    let open = || {
        BucketStore::new(
            "memory://kept",
            Arc::clone(&objects),
            prefix.clone(),
            staging.path().to_owned(),
        )
        .expect("the store opens")
    };
    let kept = || -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(staging.path().join(".board"))
            .expect("rows are kept")
            .map(|entry| entry.expect("an entry").path())
            .collect();
        files.sort();
        files
    };
    let (bytes, _, _) = finished_run();
    let name = "m__think-default__grammar-none.json";
    planted(&objects, &prefix, name, &bytes);
    assert_eq!(open().board().expect("a board").rows.len(), 1);
    let [file] = kept().try_into().expect("one object's rows kept");

    // Proof that the second process read the kept rows, not the object:
    // the model named in them, changed here, is what its board shows.
    let mut rows: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("kept rows")).expect("JSON");
    rows["Ok"][0]["model"] = "kept".into();
    std::fs::write(&file, rows.to_string()).expect("written");
    let board = open().board().expect("a board");
    assert_eq!(board.rows[0].model, "kept");

    // The object written again (one more space: a new version).
    let mut edited = bytes.clone();
    edited.push(b' ');
    planted(&objects, &prefix, name, &edited);
    let board = open().board().expect("a board");
    assert_eq!(board.rows[0].model, "m");
    let [now] = kept().try_into().expect("the old version's rows forgotten");
    assert_ne!(now, file);
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

/// A read that failed stands for a while: pages after it say why without
/// asking the store again, the rest of the board is served, and what the
/// store's error named (its endpoint, say) is never shown.
#[test]
fn a_failed_read_stands_and_never_shows_the_stores_error() {
    let objects = Arc::new(Refusing::default());
    let shared: Arc<dyn ObjectStore> = Arc::clone(&objects) as Arc<dyn ObjectStore>;
    let staging = tempfile::tempdir().expect("a temporary directory");
    let prefix = ObjectPath::from("runs");
    let (bytes, _, _) = finished_run();
    planted(&shared, &prefix, "good.json", &bytes);
    planted(&shared, &prefix, "refused.json", &bytes);
    *objects.refuse.lock().expect("not poisoned") = Some("refused".to_owned());
    let store = BucketStore::new(
        "memory://refusing",
        Arc::clone(&shared),
        prefix.clone(),
        staging.path().to_owned(),
    )
    .expect("the store opens");

    let board = store.board().expect("a board");
    assert_eq!(board.rows.len(), 1, "{:?}", board.notes);
    let [note] = &board.notes[..] else {
        panic!("one note: {:?}", board.notes)
    };
    assert!(note.contains("refused.json"), "{note}");
    assert!(!note.contains("secret-endpoint"), "{note}");
    let asked = objects.refused_reads();
    assert!(asked >= 1);
    for _ in 0..3 {
        assert_eq!(store.board().expect("a board").notes, board.notes);
    }
    assert_eq!(
        objects.refused_reads(),
        asked,
        "a failed read was asked again at once"
    );

    // The object written again is a new version, read as soon as listed.
    *objects.refuse.lock().expect("not poisoned") = None;
    let mut edited = bytes.clone();
    edited.push(b' ');
    planted(&shared, &prefix, "refused.json", &edited);
    std::thread::sleep(fuelbench_runner::store::LISTING_TTL);
    let board = store.board().expect("a board");
    assert_eq!(
        (board.rows.len(), board.notes.len()),
        (2, 0),
        "{:?}",
        board.notes
    );
}

/// An in-memory bucket whose reads of objects named with `refuse` fail,
/// with an error that names an endpoint, and are counted.
#[derive(Debug, Default)]
struct Refusing {
    inner: InMemory,
    refuse: std::sync::Mutex<Option<String>>,
    refused: std::sync::atomic::AtomicUsize,
}

impl Refusing {
    fn refused_reads(&self) -> usize {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl std::fmt::Display for Refusing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Refusing({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for Refusing {
    async fn put_opts(
        &self,
        location: &ObjectPath,
        payload: object_store::PutPayload,
        options: object_store::PutOptions,
    ) -> object_store::Result<object_store::PutResult> {
        self.inner.put_opts(location, payload, options).await
    }

    async fn put_multipart_opts(
        &self,
        location: &ObjectPath,
        options: object_store::PutMultipartOptions,
    ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
        self.inner.put_multipart_opts(location, options).await
    }

    async fn get_opts(
        &self,
        location: &ObjectPath,
        options: object_store::GetOptions,
    ) -> object_store::Result<object_store::GetResult> {
        let refused = self
            .refuse
            .lock()
            .expect("not poisoned")
            .as_ref()
            .is_some_and(|marker| location.as_ref().contains(marker.as_str()));
        if refused {
            self.refused
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err(object_store::Error::Generic {
                store: "S3",
                source: format!("GET https://secret-endpoint.internal/{location}: 403").into(),
            });
        }
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: futures_util::stream::BoxStream<'static, object_store::Result<ObjectPath>>,
    ) -> futures_util::stream::BoxStream<'static, object_store::Result<ObjectPath>> {
        self.inner.delete_stream(locations)
    }

    fn list(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> futures_util::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>>
    {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> object_store::Result<object_store::ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &ObjectPath,
        to: &ObjectPath,
        options: object_store::CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
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
