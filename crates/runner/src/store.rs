//! The results store: where benchmark runs write their results files, the
//! leaderboard reads them, and the service keeps its jobs. [`Store`] is
//! what every reader and writer asks; [`DirStore`], its first backing, is
//! the folder `fuelbench run --out` writes: results files at its top, one
//! per model and variant, saved load runs under `perf/`, and `runs/` with
//! each job the service started (`{id}.json`, its state;
//! `{id}.events.jsonl`, its numbered events, one a line).
//!
//! [`BucketStore`] keeps the same layout as objects in a bucket (S3, Azure
//! Blob, GCS, through `object_store`); [`open`] picks one from what
//! `--results` says. Every object has one writer: a run writes its own
//! results files and events, and the leaderboard is derived from a listing.
//!
//! Everything a store hands out names files by their place in the store,
//! never by where the store is on this machine: it is served to anyone who
//! may read the store.

mod bucket;
mod cache;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use fuelbench_llm::ServerKey;

use self::cache::FileCache;
use crate::jobs::RunStatus;
use crate::leaderboard::{self, Board, Row, Serving};
use crate::{Error, Result, ResultsFile, ResultsHead, RunEvent};

pub use self::bucket::{BucketStore, LISTING_TTL};

/// Where results and jobs live. Reads may block (files, or a network): an
/// async caller runs them off its workers.
pub trait Store: std::fmt::Debug + Send + Sync {
    /// Where the store is, for a human: a folder, or a bucket's URL.
    fn location(&self) -> String;

    /// Where a benchmark run writes its results files: they are written
    /// whole after every problem by [`crate::Benchmark`], then sent on by
    /// [`Store::checkpoint`]. A folder's own path; a bucket's local copy.
    fn results_dir(&self) -> &Path;

    /// Makes ready the results files a run is about to write, by file
    /// name: one the store has is refused unless `resume`, and with
    /// `resume` the store's copy is what the run continues.
    fn stage(&self, names: &[String], resume: bool) -> Result<()> {
        let _ = (names, resume);
        Ok(())
    }

    /// Sends the results file a run has just written at `path`, in
    /// [`Store::results_dir`], to the store. A folder has it already.
    fn checkpoint(&self, path: &Path) -> Result<()> {
        let _ = path;
        Ok(())
    }

    /// Puts `bytes` at `relative` (`name.json`, or `perf/server/run.json`)
    /// only if nothing is there; what is there already is never written
    /// over, and is told apart by whether it holds the same bytes.
    fn put_new(&self, relative: &str, bytes: &[u8]) -> Result<Published>;

    /// Every results file's name and version (what changes whenever its
    /// contents do: an ETag, or a length and modification time), newest
    /// first.
    fn listing(&self) -> Result<Vec<Listed>>;

    /// Every row, best first, each with the serving figures of its server;
    /// files passed over are named in the notes.
    fn board(&self) -> Result<Board>;

    /// The results files by name, newest first.
    fn names(&self) -> Result<Vec<String>> {
        Ok(self
            .listing()?
            .into_iter()
            .map(|listed| listed.name)
            .collect())
    }

    /// Every results file's head, newest first, by name; files that cannot
    /// be read are left out.
    fn heads(&self) -> Result<Vec<(String, ResultsHead)>>;

    /// One results file, by name (its file stem, or its file name):
    /// [`Error::NotFound`] when there is none, [`Error::Unreadable`] when it
    /// cannot be read.
    fn results(&self, name: &str) -> Result<ResultsFile> {
        self.results_versioned(name).map(|(file, _)| file)
    }

    /// [`Store::results`], with the version of what was read (as
    /// [`Store::listing`] gives it), taken from the same read.
    fn results_versioned(&self, name: &str) -> Result<(ResultsFile, String)>;

    /// Writes a job's state, whole or not at all.
    fn save_run(&self, status: &RunStatus) -> Result<()>;

    /// Appends a job's next event; its place in the list is its number.
    fn append_event(&self, id: &str, event: &RunEvent) -> Result<()>;

    /// Every stored job's state, newest first; unreadable ones are passed over.
    fn runs(&self) -> Vec<RunStatus>;

    /// One stored job's state.
    fn run(&self, id: &str) -> Option<RunStatus>;

    /// A stored job's events, in order, as their JSON lines.
    fn events(&self, id: &str) -> Vec<String>;

    /// `event` naming files by their place in the store.
    fn relative_event(&self, event: RunEvent) -> RunEvent;
}

/// What [`Store::put_new`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// It was not there, and now is.
    Created,
    /// The same bytes were there already.
    Same,
    /// Other bytes are there; they were left as they are.
    Differs,
}

/// A results file in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its name: the file stem.
    pub name: String,
    /// What changes whenever its contents do.
    pub version: String,
}

/// The store `--results` names: a path or `file://` URL is a folder;
/// `s3://`, `az://` (or `abfs://`, `azure://`) and `gs://` a bucket and a
/// prefix in it, with credentials from the environment as each cloud's own
/// tools read them (`AWS_*`, `AZURE_*`, `GOOGLE_*`). `ca_cert` adds a
/// private certificate authority to the system's for a bucket over HTTPS.
/// A bucket's local copy, which runs write through, goes under `cache`.
pub fn open(spec: &str, cache: &Path, ca_cert: Option<&Path>) -> Result<Arc<dyn Store>> {
    match spec.split_once("://") {
        None => Ok(Arc::new(DirStore::open(Path::new(spec))?)),
        Some(("file", path)) => Ok(Arc::new(DirStore::open(Path::new(path))?)),
        Some((scheme, _)) if Backend::of(scheme).is_some() => {
            Ok(Arc::new(BucketStore::open(spec, cache, ca_cert)?))
        }
        Some((scheme, _)) => Err(Error::Invalid {
            field: "results",
            message: format!(
                "{spec}: {scheme}:// is not a store fuelbench knows; give a folder, file://, \
                 s3://, az:// or gs://"
            ),
        }),
    }
}

/// Whether `spec` names a bucket, not a folder.
pub fn is_bucket(spec: &str) -> bool {
    spec.split_once("://")
        .is_some_and(|(scheme, _)| Backend::of(scheme).is_some())
}

/// The clouds a bucket may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    S3,
    Azure,
    Gcs,
}

impl Backend {
    /// The cloud a URL's scheme names, as `object_store` reads them.
    fn of(scheme: &str) -> Option<Backend> {
        match scheme {
            "s3" | "s3a" => Some(Backend::S3),
            "az" | "abfs" | "abfss" | "azure" | "adl" => Some(Backend::Azure),
            "gs" => Some(Backend::Gcs),
            _ => None,
        }
    }
}

/// The store in a folder.
#[derive(Debug, Clone)]
pub struct DirStore {
    dir: PathBuf,
    /// Rows by results file, and serving figures by saved load run, each
    /// kept while its file's length and modification time stay the same:
    /// the leaderboard parses only what changed.
    rows: Arc<FileCache<Result<Vec<Row>, String>>>,
    serving: Arc<FileCache<Option<(ServerKey, Serving)>>>,
}

/// The most a job's state file may hold; a larger one is passed over.
const MAX_RUN_STATE_BYTES: u64 = 1 << 20;

/// The most a job's events file may hold: a run of every problem on many
/// models writes well under a MiB.
const MAX_EVENTS_BYTES: u64 = 16 << 20;

impl DirStore {
    /// The store in `dir`, created if missing.
    pub fn open(dir: &Path) -> Result<DirStore> {
        let runs = dir.join("runs");
        std::fs::create_dir_all(&runs).map_err(|source| Error::Io { path: runs, source })?;
        Ok(DirStore {
            dir: dir.to_owned(),
            rows: Arc::new(FileCache::new()),
            serving: Arc::new(FileCache::new()),
        })
    }

    fn relative(&self, path: &Path) -> PathBuf {
        relative(&self.dir, path)
    }

    fn relative_text(&self, text: &str) -> String {
        relative_text(&self.dir, text)
    }

    fn results_path(&self, name: &str) -> Result<PathBuf> {
        let stem = name.strip_suffix(".json").unwrap_or(name);
        if !is_name(stem) {
            return Err(Error::NotFound {
                code: "unknown_results",
                message: format!("{name:?} is not a results file's name"),
            });
        }
        let path = self.dir.join(format!("{stem}.json"));
        if !path.is_file() {
            return Err(Error::NotFound {
                code: "unknown_results",
                message: format!(
                    "no results file {stem:?} in the store; GET /api/v1/results lists them"
                ),
            });
        }
        Ok(path)
    }

    /// Where a job's `suffix` file lives; an id that is not a plain name
    /// (one read from a state file, say) is refused, so nothing is ever
    /// written or read outside `runs/`.
    fn run_path(&self, id: &str, suffix: &str) -> Result<PathBuf> {
        if !is_name(id) {
            return Err(Error::Invalid {
                field: "id",
                message: format!("{id:?} is not a run id"),
            });
        }
        Ok(self.dir.join("runs").join(format!("{id}{suffix}")))
    }
}

impl Store for DirStore {
    fn location(&self) -> String {
        self.dir.display().to_string()
    }

    fn results_dir(&self) -> &Path {
        &self.dir
    }

    /// A folder is written in place: only a new run over a file that is
    /// there is refused.
    fn stage(&self, names: &[String], resume: bool) -> Result<()> {
        match names
            .iter()
            .map(|name| self.dir.join(name))
            .find(|path| path.exists())
        {
            Some(path) if !resume => Err(Error::Exists { path }),
            _ => Ok(()),
        }
    }

    fn put_new(&self, relative: &str, bytes: &[u8]) -> Result<Published> {
        let parts: Vec<&str> = relative.split('/').collect();
        if !parts.iter().all(|part| is_name(part)) {
            return Err(Error::Invalid {
                field: "name",
                message: format!("{relative:?} is not a place in the store"),
            });
        }
        let path = parts
            .iter()
            .fold(self.dir.clone(), |path, part| path.join(part));
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        // Written whole beside it, then linked into place: a link is made
        // only where nothing is, so two publishers never write over each
        // other, and a reader never sees half a file.
        let staged = path.with_extension(format!("json.{}.part", std::process::id()));
        fuelbench_stdx::write_durably(&staged, bytes).map_err(io)?;
        let linked = std::fs::hard_link(&staged, &path);
        let _ = std::fs::remove_file(&staged);
        match linked {
            Ok(()) => Ok(Published::Created),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                // Only a regular file of the same length is read to compare.
                let meta = std::fs::metadata(&path).map_err(io)?;
                if !meta.is_file() || meta.len() != bytes.len() as u64 {
                    return Ok(Published::Differs);
                }
                let there = std::fs::read(&path).map_err(io)?;
                Ok(if there == bytes {
                    Published::Same
                } else {
                    Published::Differs
                })
            }
            Err(error) => Err(io(error)),
        }
    }

    fn listing(&self) -> Result<Vec<Listed>> {
        let mut files: Vec<(SystemTime, Listed)> = leaderboard::json_files(&self.dir)?
            .into_iter()
            .filter_map(|path| {
                let meta = std::fs::metadata(&path).ok()?;
                let modified = meta.modified().ok()?;
                let name = path.file_stem()?.to_str()?.to_owned();
                let version = file_version(&meta)?;
                Some((modified, Listed { name, version }))
            })
            .collect();
        files.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.name.cmp(&a.1.name)));
        Ok(files.into_iter().map(|(_, listed)| listed).collect())
    }

    fn board(&self) -> Result<Board> {
        let paths = leaderboard::json_files(&self.dir)?;
        let files = self.rows.read_all(&paths, leaderboard::rows_of);
        let runs = fuelbench_perf::saved_runs(&self.dir.join("perf"));
        let serving: Vec<(ServerKey, Serving)> = self
            .serving
            .read_all(&runs, leaderboard::serving_run)
            .into_iter()
            .flatten()
            .collect();
        let mut board = Board::assemble(files, &serving);
        for note in &mut board.notes {
            *note = self.relative_text(note);
        }
        for row in &mut board.rows {
            row.source = self.relative(&row.source);
            if let Some(serving) = &mut row.serving {
                serving.source = self.relative(&serving.source);
            }
        }
        Ok(board)
    }

    fn heads(&self) -> Result<Vec<(String, ResultsHead)>> {
        Ok(self
            .names()?
            .into_iter()
            .filter_map(|name| {
                let head = ResultsFile::read_head(&self.results_path(&name).ok()?).ok()?;
                Some((name, head))
            })
            .collect())
    }

    fn results_versioned(&self, name: &str) -> Result<(ResultsFile, String)> {
        let path = self.results_path(name)?;
        crate::results::read_text_versioned(&path)
            .and_then(|(text, meta)| {
                let version = file_version(&meta).unwrap_or_default();
                Ok((ResultsFile::from_text(&path, text)?, version))
            })
            .map_err(|error| {
                Error::Unreadable(self.relative_text(&fuelbench_stdx::error_chain(&error)))
            })
    }

    fn save_run(&self, status: &RunStatus) -> Result<()> {
        let path = self.run_path(&status.id, ".json")?;
        let mut text = serde_json::to_vec_pretty(status).expect("a job's state serialises");
        text.push(b'\n');
        fuelbench_stdx::write_durably(&path, &text).map_err(|source| Error::Io { path, source })
    }

    fn append_event(&self, id: &str, event: &RunEvent) -> Result<()> {
        use std::io::Write as _;
        let path = self.run_path(id, ".events.jsonl")?;
        let mut line = serde_json::to_string(event).expect("events serialise");
        line.push('\n');
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(line.as_bytes()))
            .map_err(|source| Error::Io { path, source })
    }

    fn runs(&self) -> Vec<RunStatus> {
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

    /// A file whose `id` is not its own name is passed over: it would make
    /// the service act on, and write to, another job's files.
    fn run(&self, id: &str) -> Option<RunStatus> {
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

    /// Each line naming files by their place in the store (older servers
    /// wrote paths).
    fn events(&self, id: &str) -> Vec<String> {
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

    fn relative_event(&self, event: RunEvent) -> RunEvent {
        relative_event(&self.dir, event)
    }
}

/// What changes whenever a file's contents do: its modification and
/// change times (the second no one can set back) and its length.
fn file_version(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let modified = meta.modified().ok()?;
    let since = modified.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    Some(format!(
        "{}-{}.{}-{}",
        since.as_nanos(),
        meta.ctime(),
        meta.ctime_nsec(),
        meta.len()
    ))
}

/// `path` as a place in the store in `dir`.
fn relative(dir: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(dir).unwrap_or(path).to_owned()
}

/// `text` with `dir`, the store's own location, taken out of every path in
/// it.
fn relative_text(dir: &Path, text: &str) -> String {
    let mut dir = dir.display().to_string();
    if !dir.ends_with('/') {
        dir.push('/');
    }
    text.replace(&dir, "")
}

/// `event` naming files by their place in the store in `dir`.
fn relative_event(dir: &Path, mut event: RunEvent) -> RunEvent {
    match &mut event {
        RunEvent::VariantComplete { file, .. }
        | RunEvent::VariantStarted { file, .. }
        | RunEvent::VariantDone { file, .. } => *file = relative(dir, file),
        RunEvent::RunFinished { files } => {
            for file in files {
                *file = relative(dir, file);
            }
        }
        RunEvent::ModelSkipped { error, .. } | RunEvent::RunFailed { error } => {
            *error = relative_text(dir, error);
        }
        RunEvent::Warning { message } => *message = relative_text(dir, message),
        _ => {}
    }
    event
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
