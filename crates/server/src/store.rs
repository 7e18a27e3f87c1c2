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
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::http::StatusCode;
use fuelbench_llm::ServerKey;
use fuelbench_runner::leaderboard::{self, Row, Serving};
use fuelbench_runner::{ResultsFile, ResultsHead, RunEvent};

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
}

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
    /// new or changed; files no longer listed are forgotten.
    fn read_all(&self, paths: &[PathBuf], read: impl Fn(&Path) -> T) -> Vec<T> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|path, _| paths.contains(path));
        let mut values = Vec::with_capacity(paths.len());
        for path in paths {
            let Ok(meta) = std::fs::metadata(path) else {
                continue;
            };
            let (modified, len) = (
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                meta.len(),
            );
            let fresh = entries
                .get(path)
                .is_some_and(|cached| cached.modified == modified && cached.len == len);
            if !fresh {
                let value = read(path);
                entries.insert(
                    path.clone(),
                    Cached {
                        modified,
                        len,
                        value,
                    },
                );
            }
            values.push(entries[path].value.clone());
        }
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
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every row, best first, each with the serving figures of its server.
    pub fn board(&self) -> Result<Board, ApiError> {
        let paths = leaderboard::json_files(&self.dir).map_err(ApiError::host)?;
        let mut board = Board {
            rows: Vec::new(),
            notes: Vec::new(),
        };
        for rows in self.rows.read_all(&paths, leaderboard::rows_of) {
            match rows {
                Ok(rows) => board.rows.extend(rows),
                Err(note) => board.notes.push(note),
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
        Ok(board)
    }

    /// The results files by name (their file stem), newest first.
    pub fn names(&self) -> Result<Vec<String>, ApiError> {
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
    pub fn results(&self, name: &str) -> Result<ResultsFile, ApiError> {
        ResultsFile::read(&self.results_path(name)?).map_err(unreadable)
    }

    /// What a listing needs of one results file; its records are skipped.
    pub fn head(&self, name: &str) -> Result<ResultsHead, ApiError> {
        ResultsFile::read_head(&self.results_path(name)?).map_err(unreadable)
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
        let mut text = serde_json::to_string_pretty(status).map_err(std::io::Error::other)?;
        text.push('\n');
        // A name of its own per write: two requests may settle the same run
        // at once, and a shared temporary would be renamed half-written.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = path.with_extension(format!("json.{}-{write}.tmp", std::process::id()));
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, &path)
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
        let text = std::fs::read_to_string(self.run_path(id, ".json").ok()?).ok()?;
        let status: RunStatus = serde_json::from_str(&text).ok()?;
        (status.id == id).then_some(status)
    }

    /// A stored run's events, in order, as their JSON lines.
    pub fn events(&self, id: &str) -> Vec<String> {
        let Ok(path) = self.run_path(id, ".events.jsonl") else {
            return Vec::new();
        };
        std::fs::read_to_string(path)
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

fn unreadable(error: fuelbench_runner::Error) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "unreadable_results",
        fuelbench_runner::error_text(&error),
    )
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
