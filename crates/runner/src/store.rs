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
mod dir;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::jobs::RunStatus;
use fuelbench_perf::LoadHead;

use crate::leaderboard::Board;
use crate::{Error, Result, ResultsFile, ResultsHead, RunEvent};

pub use self::bucket::{BucketStore, LISTING_TTL};
pub use self::dir::DirStore;

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

    /// The load runs saved under `perf/`, by their place in the store
    /// (`perf/<server>/<profile>-<time>.json`), oldest name first: each
    /// one's head, or why it could not be read.
    fn load_runs(&self) -> Result<Vec<(String, std::result::Result<LoadHead, String>)>>;

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

/// The most a job's state file may hold; a larger one is passed over.
const MAX_RUN_STATE_BYTES: u64 = 1 << 20;

/// The most a job's events file may hold: a run of every problem on many
/// models writes well under a MiB.
const MAX_EVENTS_BYTES: u64 = 16 << 20;

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
    fn names_never_leave_the_store() {
        for bad in ["", "..", "../x", "a/b", ".hidden", "a b", "x\0"] {
            assert!(!is_name(bad), "{bad:?}");
        }
        for good in ["qwen2.5-coder__think-on", "20261128-2040-ab12"] {
            assert!(is_name(good), "{good:?}");
        }
    }
}
