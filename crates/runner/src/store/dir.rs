//! The store in a folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use fuelbench_llm::ServerKey;
use fuelbench_perf::LoadHead;

use super::cache::FileCache;
use super::{
    Listed, MAX_EVENTS_BYTES, MAX_RUN_STATE_BYTES, Published, Store, is_name, relative,
    relative_event, relative_text,
};
use crate::jobs::RunStatus;
use crate::leaderboard::{self, Board, Row, Serving};
use crate::{Error, Result, ResultsFile, ResultsHead, RunEvent};

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
        // Two publishers never write over each other, and a reader never
        // sees half a file.
        match fuelbench_stdx::create_durably(&path, bytes) {
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

    fn load_runs(&self) -> Result<Vec<(String, std::result::Result<LoadHead, String>)>> {
        Ok(fuelbench_perf::saved_runs(&self.dir.join("perf"))
            .into_iter()
            .map(|path| {
                let head = LoadHead::read(&path).map_err(|error| error.to_string());
                (self.relative(&path).display().to_string(), head)
            })
            .collect())
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

#[cfg(test)]
mod tests;
