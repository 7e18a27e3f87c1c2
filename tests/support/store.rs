//! The contract every results store keeps, asserted on any of them, and a
//! finished run to put in one.

use fuelbench_problems::Problem;
use fuelbench_runner::store::Published;
use fuelbench_runner::{Error, ResultsFile, Store};

use super::runs::{config, run_once};
use super::scripted::{problems, scripted};

/// A finished run of the first three problems, as its file's bytes and
/// as read back.
pub(crate) fn finished_run() -> (Vec<u8>, ResultsFile, Vec<Problem>) {
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

/// What every store does the same, wherever it keeps its files: `plant`
/// puts raw bytes at a place in the store, as another writer (or a hand)
/// would.
pub(crate) fn conformance(
    store: &dyn Store,
    plant: &dyn Fn(&str, &[u8]),
    settle: std::time::Duration,
) {
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

/// Both runs' stores over one bucket: the second writer of an object is
/// refused, and so is a writer whose object another has since written.
pub(crate) fn second_writer_refused(stores: [&dyn Store; 2]) {
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
