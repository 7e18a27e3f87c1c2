use super::*;
use crate::store::tests::run_state;

#[test]
fn a_run_state_is_never_written_outside_the_store() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = root.path().join("a").join("store");
    let store = DirStore::open(&dir).expect("the store opens");
    // A file whose contents name another run, one outside the store.
    let planted = serde_json::to_string(&run_state("../../x")).expect("JSON");
    std::fs::write(dir.join("runs").join("abc.json"), planted).expect("written");
    assert!(
        store.runs().is_empty(),
        "a state naming another id was read"
    );
    assert!(store.run("abc").is_none());
    let error = store
        .save_run(&run_state("../../x"))
        .expect_err("an id that is a path is refused");
    assert!(
        matches!(error, Error::Invalid { field: "id", .. }),
        "{error}"
    );
    assert!(!root.path().join("a").join("x.json").exists());
    assert!(store.events("../../x").is_empty());
    store.save_run(&run_state("abc")).expect("a plain id saves");
    assert_eq!(store.run("abc").map(|run| run.id), Some("abc".to_owned()));
}

/// A results file past the cap is refused with its size and its name
/// in the store, never its place on this machine, and is never read:
/// the file here is sparse, and reading it would take a second.
#[test]
fn an_oversized_file_is_refused_by_name_and_never_read() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = root.path().join("store");
    let store = DirStore::open(&dir).expect("the store opens");
    std::fs::File::create(dir.join("huge.json"))
        .and_then(|file| file.set_len(crate::MAX_RESULTS_BYTES + 1))
        .expect("a sparse file");
    let machine_path = root.path().display().to_string();

    let Err(Error::Unreadable(message)) = store.results("huge") else {
        panic!("an oversized file is unreadable");
    };
    assert!(message.contains("over the 64 MiB"), "{message}");
    assert!(message.contains("huge.json"), "{message}");
    assert!(!message.contains(&machine_path), "{message}");

    let board = store.board().expect("a board");
    assert!(board.rows.is_empty());
    let [note] = board.notes.as_slice() else {
        panic!("one note: {:?}", board.notes)
    };
    assert!(
        note.contains("huge.json") && note.contains("64 MiB"),
        "{note}"
    );
    assert!(!note.contains(&machine_path), "{note}");
    assert!(store.heads().expect("heads").is_empty());

    let planted = serde_json::to_string(&run_state("big")).expect("JSON");
    let padded = format!("{planted}{}", " ".repeat(MAX_RUN_STATE_BYTES as usize));
    std::fs::write(dir.join("runs").join("big.json"), padded).expect("written");
    assert!(
        store.run("big").is_none(),
        "an oversized state is passed over"
    );
}

/// A FIFO would block its reader for ever and a device never end: a
/// results file, a run's state or its events that is not a regular file
/// is refused before it is opened.
#[test]
fn only_regular_files_are_read() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = root.path().join("store");
    let store = DirStore::open(&dir).expect("the store opens");
    for fifo in [dir.join("fifo.json"), dir.join("runs").join("fifo.json")] {
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
    }
    std::os::unix::fs::symlink("/dev/zero", dir.join("runs").join("zero.events.jsonl"))
        .expect("a link");
    let error = store.results("fifo").expect_err("refused");
    assert!(matches!(error, Error::NotFound { .. }), "{error}");
    assert!(store.board().expect("a board").rows.is_empty());
    assert!(store.run("fifo").is_none());
    assert!(store.runs().is_empty());
    assert!(store.events("zero").is_empty());
}
