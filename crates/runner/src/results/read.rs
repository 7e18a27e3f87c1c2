//! Reading results files: bounded in size, a file of this schema straight
//! into its types, an older one upgraded on the way, and only the head where
//! that is all a leaderboard row needs.

use std::path::Path;

use fuelbench_eval::Reproducibility;
use fuelbench_llm::ServerIdentity;
use serde_json::Value;

use crate::{Error, Result};

use super::{FORMAT, FORMAT_1, ResultsFile, RunConfig, SCHEMA_VERSION, Summary};

impl ResultsFile {
    /// Reads and checks a results file.
    pub fn read(path: &Path) -> Result<ResultsFile> {
        // A file of this schema is read straight into its types; only an
        // older one goes through a JSON tree to be upgraded.
        let text = match read_current(path)? {
            Current::Is(file) => return Ok(file),
            Current::Not(text) => text,
        };
        let mut value: Value = serde_json::from_str(&text).map_err(|source| Error::Json {
            path: path.to_owned(),
            source,
        })?;
        let format_error = |detail: String| Error::Format {
            path: path.to_owned(),
            detail,
        };
        let version = value.get("schema_version").and_then(Value::as_u64);
        let from = match value.get("format").and_then(Value::as_str) {
            Some(FORMAT_1) => 1,
            Some(FORMAT) => match version {
                Some(version @ 2..) if version <= u64::from(SCHEMA_VERSION) => version,
                Some(version) => {
                    return Err(format_error(format!(
                        "schema_version {version}: written by another fuelbench; this one reads \
                         1 to {SCHEMA_VERSION}"
                    )));
                }
                None => return Err(format_error("no `schema_version` field".into())),
            },
            Some(other) => {
                return Err(format_error(format!(
                    "format {other:?}; this fuelbench reads {FORMAT:?}"
                )));
            }
            None => {
                return Err(format_error(
                    "no `format` field: not a fuelbench results file (see `fuelbench import`)"
                        .into(),
                ));
            }
        };
        if from == 1 {
            upgrade_from_1(&mut value);
        }
        if let Some(file) = value.as_object_mut() {
            file.insert("schema_version".into(), Value::from(SCHEMA_VERSION));
        }
        let mut file: ResultsFile =
            serde_json::from_value(value).map_err(|source| Error::Json {
                path: path.to_owned(),
                source,
            })?;
        if from == 1 {
            file.derive_failures();
        }
        // Scores older than schema 3 carry no intervals, and their verdicts
        // rest on the point alone: computed again from the records.
        if from < u64::from(SCHEMA_VERSION) {
            file.summary = Summary::of(&file.problems);
        }
        Ok(file)
    }

    /// What a leaderboard row needs of the file at `path`; a file of this
    /// schema is read without building its records.
    pub fn read_head(path: &Path) -> Result<ResultsHead> {
        if let Current::Is(head) = read_current(path)? {
            return Ok(head);
        }
        let file = ResultsFile::read(path)?;
        Ok(ResultsHead {
            config: file.config,
            server: file.server,
            reproducibility: file.reproducibility,
            progress: file.progress,
            complete: file.complete,
            updated_at: file.updated_at,
            summary: file.summary,
        })
    }
}

/// The parts of a results file a leaderboard row is made of.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ResultsHead {
    /// The file's configuration, as [`ResultsFile::config`].
    pub config: RunConfig,
    /// The server as it described itself when the file was last run.
    pub server: Option<ServerIdentity>,
    /// What must be equal for scores to be comparable.
    pub reproducibility: Reproducibility,
    /// Answers finished of those planned, e.g. `"8/15"`.
    pub progress: String,
    /// Every planned problem and sample has a record.
    pub complete: bool,
    /// When the file was last rewritten: RFC 3339, with the local offset.
    pub updated_at: String,
    /// The run's figures; `None` until a problem has finished.
    pub summary: Option<Summary>,
}

/// A file read as `T` when it is of this schema, or its text when not.
enum Current<T> {
    Is(T),
    Not(String),
}

/// Reads `path`, and when it is a results file of this schema (found
/// without building the rest of it), reads it as `T` straight from its text.
fn read_current<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Current<T>> {
    #[derive(serde::Deserialize)]
    struct Probe {
        format: Option<String>,
        schema_version: Option<u32>,
    }
    let text = read_text(path)?;
    let current = serde_json::from_str::<Probe>(&text).is_ok_and(|probe| {
        probe.format.as_deref() == Some(FORMAT) && probe.schema_version == Some(SCHEMA_VERSION)
    });
    if !current {
        return Ok(Current::Not(text));
    }
    serde_json::from_str(&text)
        .map(Current::Is)
        .map_err(|source| Error::Json {
            path: path.to_owned(),
            source,
        })
}

/// The most a results file may hold. A run of every problem with long
/// answers is a few MiB; one far larger is not a results file, and parsing
/// it would cost memory many times its size.
pub const MAX_RESULTS_BYTES: u64 = 64 << 20;

/// A results file's text, refused past [`MAX_RESULTS_BYTES`] before any of
/// it is read.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    use std::io::Read as _;
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    // A FIFO would block the reader, a device never end: only a regular
    // file is opened.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file",
        )));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let too_large = |len: u64| {
        io(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "it is {} MiB, over the {} MiB a results file may be",
                len.div_ceil(1 << 20),
                MAX_RESULTS_BYTES >> 20
            ),
        ))
    };
    if len > MAX_RESULTS_BYTES {
        return Err(too_large(len));
    }
    let mut text = String::with_capacity(usize::try_from(len).unwrap_or(0));
    // It may have grown since: never read past the cap.
    file.take(MAX_RESULTS_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_RESULTS_BYTES {
        return Err(too_large(text.len() as u64));
    }
    Ok(text)
}

/// Schema 1 to 2, on the JSON before it is typed (2 to 3 needs nothing but
/// the version: what 3 added reads as one sample). Exchanges and reports read
/// as they are (their old `timeout` is an alias of `request_timeout` and of
/// `wall_clock` respectively); a record's `failure_class` said `timeout` for
/// either, so it is dropped here and derived again from those.
/// Any part of the wrong shape is left as it is, for the typed read to
/// refuse with its reason: indexing JSON of the wrong type would panic.
fn upgrade_from_1(value: &mut Value) {
    let Some(file) = value.as_object_mut() else {
        return;
    };
    file.insert("format".into(), Value::from(FORMAT));
    file.insert("schema_version".into(), Value::from(SCHEMA_VERSION));
    if let Some(records) = file.get_mut("problems").and_then(Value::as_array_mut) {
        for record in records.iter_mut().filter_map(Value::as_object_mut) {
            record.insert("failure_class".into(), Value::Null);
            record.insert("refactor_failure_class".into(), Value::Null);
        }
    }
}
