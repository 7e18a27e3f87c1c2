//! The results store: where the leaderboard reads results and where runs
//! live. It is a directory, the one `fuelbench run --out` writes: results
//! files at its top, one per model and variant, and `runs/` with each run
//! the service started (`{id}.json`, its state; `{id}.events.jsonl`, its
//! numbered events, one a line).
//!
//! Every route that reads results goes through [`Store`], so another
//! backing (an object store shared by replicas) replaces this file alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use axum::http::StatusCode;
use fuelbench_llm::ServerKey;
use fuelbench_runner::leaderboard::{self, Row, Serving};
use fuelbench_runner::{ResultsFile, ResultsHead, RunEvent};

use tokio::sync::Semaphore;

use crate::ApiError;
use crate::runs::RunStatus;

#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    /// Rows by results file, and serving figures by saved load run (under
    /// `perf/`), each kept while its file's length and modification time
    /// stay the same: the leaderboard parses only what changed.
    rows: Arc<FileCache<Result<Vec<Row>, String>>>,
    serving: Arc<FileCache<Option<(ServerKey, Serving)>>>,
    /// Reads of results files at once, each on tokio's blocking pool, so
    /// neither the async workers nor memory wait on many large parses.
    readers: Arc<Semaphore>,
}

/// Results-file reads at once: one per core of a small machine.
const READERS: usize = 2;

/// The most a run's state file may hold; a larger one is passed over.
const MAX_RUN_STATE_BYTES: u64 = 1 << 20;

/// The most a run's events file may hold: a run of every problem on many
/// models writes well under a MiB.
const MAX_EVENTS_BYTES: u64 = 16 << 20;

/// What was read from each file, by path, with the file's length and
/// modification time then.
#[derive(Debug)]
struct FileCache<T> {
    entries: Mutex<HashMap<PathBuf, Cached<T>>>,
}

#[derive(Debug)]
struct Cached<T> {
    modified: SystemTime,
    len: u64,
    value: T,
}

impl<T: Clone> FileCache<T> {
    fn new() -> FileCache<T> {
        FileCache {
            entries: Mutex::default(),
        }
    }

    /// What `read` makes of each of `paths`, reading only files that are
    /// new or changed; files no longer listed are forgotten. The lock is
    /// never held while a file is read or parsed.
    fn read_all(&self, paths: &[PathBuf], read: impl Fn(&Path) -> T) -> Vec<T> {
        let lock = || self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let mut values = Vec::with_capacity(paths.len());
        for path in paths {
            let Ok(meta) = std::fs::metadata(path) else {
                continue;
            };
            let (modified, len) = (
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                meta.len(),
            );
            let cached = lock()
                .get(path)
                .filter(|cached| cached.modified == modified && cached.len == len)
                .map(|cached| cached.value.clone());
            let value = cached.unwrap_or_else(|| {
                let value = read(path);
                lock().insert(
                    path.clone(),
                    Cached {
                        modified,
                        len,
                        value: value.clone(),
                    },
                );
                value
            });
            values.push(value);
        }
        lock().retain(|path, _| paths.contains(path));
        values
    }
}

/// Every row in the store and the files passed over, and why.
#[derive(Debug, Clone)]
pub struct Board {
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Store {
    /// The store in `dir`, created if missing.
    pub fn open(dir: &Path) -> std::io::Result<Store> {
        std::fs::create_dir_all(dir.join("runs"))?;
        Ok(Store {
            dir: dir.to_owned(),
            rows: Arc::new(FileCache::new()),
            serving: Arc::new(FileCache::new()),
            readers: Arc::new(Semaphore::new(READERS)),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `read` on tokio's blocking pool once a reader's place is free.
    async fn off_thread<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.clone();
        crate::off_workers(&self.readers, move || read(&store)).await?
    }

    /// Every row, best first, each with the serving figures of its server.
    /// Sources and notes name files by their place in the store, never by
    /// where the store is on this machine.
    pub async fn board(&self) -> Result<Board, ApiError> {
        self.off_thread(Store::read_board).await
    }

    fn read_board(&self) -> Result<Board, ApiError> {
        let paths = leaderboard::json_files(&self.dir).map_err(ApiError::host)?;
        let mut board = Board {
            rows: Vec::new(),
            notes: Vec::new(),
        };
        for rows in self.rows.read_all(&paths, leaderboard::rows_of) {
            match rows {
                Ok(rows) => board.rows.extend(rows),
                Err(note) => board.notes.push(self.relative_text(&note)),
            }
        }
        let runs = fuelbench_perf::saved_runs(&self.dir.join("perf"));
        let serving: Vec<(ServerKey, Serving)> = self
            .serving
            .read_all(&runs, leaderboard::serving_run)
            .into_iter()
            .flatten()
            .collect();
        leaderboard::attach_serving(&mut board.rows, &serving);
        leaderboard::sort(&mut board.rows);
        for row in &mut board.rows {
            row.source = self.relative(&row.source);
            if let Some(serving) = &mut row.serving {
                serving.source = self.relative(&serving.source);
            }
        }
        Ok(board)
    }

    /// `path` as a place in the store.
    fn relative(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.dir).unwrap_or(path).to_owned()
    }

    /// `text` with the store's own location taken out of every path in it.
    fn relative_text(&self, text: &str) -> String {
        let mut dir = self.dir.display().to_string();
        if !dir.ends_with('/') {
            dir.push('/');
        }
        text.replace(&dir, "")
    }

    /// `event` with every path and message naming files by their place in
    /// the store: events are served to anyone who may read the store.
    pub fn relative_event(&self, mut event: RunEvent) -> RunEvent {
        match &mut event {
            RunEvent::VariantComplete { file, .. }
            | RunEvent::VariantStarted { file, .. }
            | RunEvent::VariantDone { file, .. } => *file = self.relative(file),
            RunEvent::RunFinished { files } => {
                for file in files {
                    *file = self.relative(file);
                }
            }
            RunEvent::ModelSkipped { error, .. } | RunEvent::RunFailed { error } => {
                *error = self.relative_text(error);
            }
            RunEvent::Warning { message } => *message = self.relative_text(message),
            _ => {}
        }
        event
    }

    /// Every results file's head, newest first, by name; files that cannot
    /// be read are left out.
    pub async fn heads(&self) -> Result<Vec<(String, ResultsHead)>, ApiError> {
        self.off_thread(|store| {
            Ok(store
                .read_names()?
                .into_iter()
                .filter_map(|name| {
                    let head = ResultsFile::read_head(&store.results_path(&name).ok()?).ok()?;
                    Some((name, head))
                })
                .collect())
        })
        .await
    }

    /// The results files by name (their file stem), newest first.
    pub async fn names(&self) -> Result<Vec<String>, ApiError> {
        self.off_thread(Store::read_names).await
    }

    fn read_names(&self) -> Result<Vec<String>, ApiError> {
        let mut files: Vec<(SystemTime, String)> = leaderboard::json_files(&self.dir)
            .map_err(ApiError::host)?
            .into_iter()
            .filter_map(|path| {
                let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
                Some((modified, path.file_stem()?.to_str()?.to_owned()))
            })
            .collect();
        files.sort_by(|a, b| b.cmp(a));
        Ok(files.into_iter().map(|(_, name)| name).collect())
    }

    /// One results file, by name: its file stem, or its file name.
    pub async fn results(&self, name: &str) -> Result<ResultsFile, ApiError> {
        let name = name.to_owned();
        self.off_thread(move |store| {
            ResultsFile::read(&store.results_path(&name)?).map_err(|error| store.unreadable(&error))
        })
        .await
    }

    /// 422: a results file that is there but cannot be read, saying why,
    /// by its name in the store.
    fn unreadable(&self, error: &fuelbench_runner::Error) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unreadable_results",
            self.relative_text(&fuelbench_stdx::error_chain(error)),
        )
    }

    fn results_path(&self, name: &str) -> Result<PathBuf, ApiError> {
        let stem = name.strip_suffix(".json").unwrap_or(name);
        if !is_name(stem) {
            return Err(ApiError::not_found(
                "unknown_results",
                format!("{name:?} is not a results file's name"),
            ));
        }
        let path = self.dir.join(format!("{stem}.json"));
        if !path.is_file() {
            return Err(ApiError::not_found(
                "unknown_results",
                format!("no results file {stem:?} in the store; GET /api/v1/results lists them"),
            ));
        }
        Ok(path)
    }

    /// Where a run's `suffix` file lives; an id that is not a plain name
    /// (one read from a run-state file, say) is refused, so nothing is ever
    /// written or read outside `runs/`.
    fn run_path(&self, id: &str, suffix: &str) -> std::io::Result<PathBuf> {
        if !is_name(id) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{id:?} is not a run id"),
            ));
        }
        Ok(self.dir.join("runs").join(format!("{id}{suffix}")))
    }

    /// Writes a run's state, whole or not at all.
    pub fn save_run(&self, status: &RunStatus) -> std::io::Result<()> {
        let path = self.run_path(&status.id, ".json")?;
        let mut text = serde_json::to_vec_pretty(status).map_err(std::io::Error::other)?;
        text.push(b'\n');
        fuelbench_stdx::write_durably(&path, &text)
    }

    /// Appends a run's next event; its line number is its id.
    pub fn append_event(&self, id: &str, event: &RunEvent) -> std::io::Result<()> {
        use std::io::Write as _;
        let mut line = serde_json::to_string(event).map_err(std::io::Error::other)?;
        line.push('\n');
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.run_path(id, ".events.jsonl")?)?
            .write_all(line.as_bytes())
    }

    /// Every stored run's state, newest first; unreadable ones are passed over.
    pub fn runs(&self) -> Vec<RunStatus> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("runs")) else {
            return Vec::new();
        };
        let mut runs: Vec<RunStatus> = entries
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let name = path.file_name()?.to_str()?;
                let id = name.strip_suffix(".json")?;
                self.run(id)
            })
            .collect();
        runs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        runs
    }

    /// One stored run's state. A file whose `id` is not its own name is
    /// passed over: it would make the server act on, and write to, another
    /// run's files.
    pub fn run(&self, id: &str) -> Option<RunStatus> {
        let text = read_capped(&self.run_path(id, ".json").ok()?, MAX_RUN_STATE_BYTES).ok()?;
        let mut status: RunStatus = serde_json::from_str(&text).ok()?;
        // Older servers wrote paths on this machine into these.
        status.error = status.error.map(|error| self.relative_text(&error));
        for warning in &mut status.warnings {
            *warning = self.relative_text(warning);
        }
        for skipped in &mut status.skipped {
            skipped.error = self.relative_text(&skipped.error);
        }
        (status.id == id).then_some(status)
    }

    /// A stored run's events, in order, as their JSON lines, each naming
    /// files by their place in the store (older servers wrote paths).
    pub fn events(&self, id: &str) -> Vec<String> {
        let Ok(path) = self.run_path(id, ".events.jsonl") else {
            return Vec::new();
        };
        let Ok(text) = read_capped(&path, MAX_EVENTS_BYTES) else {
            return Vec::new();
        };
        text.lines()
            .map(|line| {
                serde_json::from_str::<RunEvent>(line)
                    .ok()
                    .and_then(|event| serde_json::to_string(&self.relative_event(event)).ok())
                    .unwrap_or_else(|| line.to_owned())
            })
            .collect()
    }
}

/// A regular file's text, refused past `cap` bytes. Anything else (a
/// directory, a FIFO that would block the reader, a device) is refused
/// before it is opened.
fn read_capped(path: &Path, cap: u64) -> std::io::Result<String> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() || meta.len() > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not a regular file of at most {cap} bytes"),
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(cap + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("over {cap} bytes"),
        ));
    }
    Ok(text)
}

/// A file stem or run id: letters, digits, `.`, `_`, `-`, and no leading
/// dot, so it never leaves the store.
fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 200
        && !text.starts_with('.')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A running run's state as the service writes it, with `id`.
    pub(crate) fn run_state(id: &str) -> RunStatus {
        serde_json::from_value(serde_json::json!({
            "id": id, "state": "running", "endpoint": "http://127.0.0.1:1",
            "server_kind": null, "models": ["m"], "variants": [], "problems": [],
            "resume": false, "created_at": "2026-12-03T10:00:00Z", "started_at": null,
            "ended_at": null, "problems_done": 0, "problems_total": 1, "model": null,
            "model_step": null, "variant": null, "problem": null, "outcomes": [],
            "summaries": [], "files": [], "skipped": [], "warnings": [], "error": null,
            "last_event": 0, "owner": "nowhere:1",
            "request": { "endpoint": null, "models": ["m"], "max_tokens": null,
                         "temperature": null, "extra_body": null, "server_kind": null },
        }))
        .expect("a run state")
    }

    #[test]
    fn a_run_state_is_never_written_outside_the_store() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let dir = root.path().join("a").join("store");
        let store = Store::open(&dir).expect("the store opens");
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
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(!root.path().join("a").join("x.json").exists());
        assert!(store.events("../../x").is_empty());
        store.save_run(&run_state("abc")).expect("a plain id saves");
        assert_eq!(store.run("abc").map(|run| run.id), Some("abc".to_owned()));
    }

    /// A results file past the cap is refused with its size and its name
    /// in the store, never its place on this machine, and is never read:
    /// the file here is sparse, and reading it would take a second.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_oversized_file_is_refused_by_name_and_never_read() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let dir = root.path().join("store");
        let store = Store::open(&dir).expect("the store opens");
        std::fs::File::create(dir.join("huge.json"))
            .and_then(|file| file.set_len(fuelbench_runner::MAX_RESULTS_BYTES + 1))
            .expect("a sparse file");
        let machine_path = root.path().display().to_string();

        let error = store.results("huge").await.expect_err("refused");
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            error.message.contains("over the 64 MiB"),
            "{}",
            error.message
        );
        assert!(error.message.contains("huge.json"), "{}", error.message);
        assert!(!error.message.contains(&machine_path), "{}", error.message);

        let board = store.board().await.expect("a board");
        assert!(board.rows.is_empty());
        let [note] = board.notes.as_slice() else {
            panic!("one note: {:?}", board.notes)
        };
        assert!(
            note.contains("huge.json") && note.contains("64 MiB"),
            "{note}"
        );
        assert!(!note.contains(&machine_path), "{note}");
        assert!(store.heads().await.expect("heads").is_empty());

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
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_regular_files_are_read() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let dir = root.path().join("store");
        let store = Store::open(&dir).expect("the store opens");
        for fifo in [dir.join("fifo.json"), dir.join("runs").join("fifo.json")] {
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .expect("mkfifo runs");
            assert!(made.success());
        }
        std::os::unix::fs::symlink("/dev/zero", dir.join("runs").join("zero.events.jsonl"))
            .expect("a link");
        let error = store.results("fifo").await.expect_err("refused");
        assert_eq!(error.status, StatusCode::NOT_FOUND, "{}", error.message);
        assert!(store.board().await.expect("a board").rows.is_empty());
        assert!(store.run("fifo").is_none());
        assert!(store.runs().is_empty());
        assert!(store.events("zero").is_empty());
    }

    /// Parsing happens outside the cache's lock, so one slow file never
    /// holds up a reader of another.
    #[test]
    fn the_file_cache_reads_without_holding_its_lock() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let path = root.path().join("a.json");
        std::fs::write(&path, "{}").expect("written");
        let cache: FileCache<bool> = FileCache::new();
        let free = |_: &Path| cache.entries.try_lock().is_ok();
        assert_eq!(cache.read_all(std::slice::from_ref(&path), free), [true]);
        assert_eq!(
            cache.read_all(std::slice::from_ref(&path), |_| false),
            [true],
            "an unchanged file is not read again"
        );
    }

    #[test]
    fn names_never_leave_the_store() {
        for bad in ["", "..", "../x", "a/b", ".hidden", "a b", "x\0"] {
            assert!(!is_name(bad), "{bad:?}");
        }
        for good in ["qwen2.5-coder__think-on", "20261128-2040-ab12"] {
            assert!(is_name(good), "{good:?}");
        }
    }
}
