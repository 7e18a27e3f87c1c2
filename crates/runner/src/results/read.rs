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
        ResultsFile::from_text(path, read_text(path)?)
    }

    /// Checks the text of a results file; `path` names it in errors (for
    /// an object in a bucket, its place in the store).
    pub fn from_text(path: &Path, text: String) -> Result<ResultsFile> {
        // A file of this schema is read straight into its types; only an
        // older one goes through a JSON tree to be upgraded.
        let text = match current::<ResultsFile>(path, text)? {
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
            // This schema's files are read straight into their types: one
            // that comes here does not read as one (a field twice, or of
            // the wrong type), and is refused rather than read leniently.
            Some(FORMAT) if version == Some(u64::from(SCHEMA_VERSION)) => {
                return Err(format_error(format!(
                    "it says schema_version {SCHEMA_VERSION} but does not read as one: a field \
                     given twice, or of the wrong type"
                )));
            }
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
        ResultsHead::from_text(path, read_text(path)?)
    }
}

impl ResultsHead {
    /// What a leaderboard row needs of a results file's text; `path` names
    /// it in errors.
    pub fn from_text(path: &Path, text: String) -> Result<ResultsHead> {
        let text = match current::<HeadOnDisk>(path, text)? {
            Current::Is(head) => return Ok(head.into()),
            Current::Not(text) => text,
        };
        let file = ResultsFile::from_text(path, text)?;
        Ok(ResultsHead {
            config: file.config,
            server: file.server,
            host: file.host,
            reproducibility: file.reproducibility,
            progress: file.progress,
            complete: file.complete,
            updated_at: file.updated_at,
            summary: file.summary,
        })
    }
}

/// The parts of a results file a leaderboard row is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultsHead {
    /// The file's configuration, as [`ResultsFile::config`].
    pub config: RunConfig,
    /// The server as it described itself when the file was last run.
    pub server: Option<ServerIdentity>,
    /// The machine that last ran it.
    pub host: Option<String>,
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

/// `text` as `T` (a whole results file, or its head) when it is a results
/// file of this schema, read in one pass; the text back when it is not, for
/// the caller to upgrade or refuse. A file that says it is of this schema
/// but does not read as one is refused here, with where its JSON went wrong.
fn current<T: serde::de::DeserializeOwned + Versioned>(
    path: &Path,
    text: String,
) -> Result<Current<T>> {
    #[derive(serde::Deserialize)]
    struct Probe {
        format: Option<String>,
        schema_version: Option<u32>,
    }
    let is_current = |format: Option<&str>, version: Option<u32>| {
        format == Some(FORMAT) && version == Some(SCHEMA_VERSION)
    };
    let error = match serde_json::from_str::<T>(&text) {
        Ok(read) if is_current(Some(read.format()), Some(read.schema_version())) => {
            return Ok(Current::Is(read));
        }
        Ok(_) => return Ok(Current::Not(text)),
        Err(error) => error,
    };
    match serde_json::from_str::<Probe>(&text) {
        Ok(probe) if is_current(probe.format.as_deref(), probe.schema_version) => {
            Err(Error::Json {
                path: path.to_owned(),
                source: error,
            })
        }
        _ => Ok(Current::Not(text)),
    }
}

/// The head of `text` when it is a results file of this schema, read in one
/// pass; the text back when it is of no schema this reads in one pass.
pub(crate) fn current_head(path: &Path, text: String) -> Result<Result<ResultsHead, String>> {
    Ok(match current::<HeadOnDisk>(path, text)? {
        Current::Is(head) => Ok(head.into()),
        Current::Not(text) => Err(text),
    })
}

/// The head of a results file of this schema from the first bytes of it,
/// when they hold all of it: the file's fields up to its `problems`, which
/// are not read. `None` when they do not (a file written before the summary
/// came first, a head larger than `prefix`), or when it is not of this
/// schema: read the whole file then.
pub(crate) fn head_of_prefix(prefix: &[u8]) -> Option<ResultsHead> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};

    /// Reads fields into `found` until `problems`, then stops: what
    /// follows may be cut off.
    struct Fields<'a> {
        found: &'a mut Option<HeadOnDisk>,
    }

    impl<'de> Visitor<'de> for Fields<'_> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a results file")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut head = serde_json::Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if key == "problems" {
                    break;
                }
                if HEAD_FIELDS.contains(&key.as_str()) {
                    // A field given twice is read one way here and another
                    // elsewhere: no head from this prefix.
                    if head.insert(key, map.next_value()?).is_some() {
                        return Ok(());
                    }
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            // Only a head whose summary came before the records is whole.
            if head.contains_key("summary") {
                *self.found = serde_json::from_value(serde_json::Value::Object(head)).ok();
            }
            Ok(())
        }
    }

    const HEAD_FIELDS: [&str; 10] = [
        "format",
        "schema_version",
        "config",
        "server",
        "host",
        "reproducibility",
        "progress",
        "complete",
        "updated_at",
        "summary",
    ];
    let mut found = None;
    // Stopping at `problems` leaves the object unclosed, which the reader
    // then reports: what counts is what was found before it.
    let _ =
        serde_json::Deserializer::from_slice(prefix).deserialize_map(Fields { found: &mut found });
    let head = found?;
    (head.format == FORMAT && head.schema_version == SCHEMA_VERSION).then(|| head.into())
}

/// What says which schema a file read as `Self` is of.
trait Versioned {
    fn format(&self) -> &str;
    fn schema_version(&self) -> u32;
}

impl Versioned for ResultsFile {
    fn format(&self) -> &str {
        &self.format
    }

    fn schema_version(&self) -> u32 {
        self.schema_version
    }
}

/// A results file's head with its schema, as it is on disk: its records
/// are passed over, not built.
#[derive(serde::Deserialize)]
struct HeadOnDisk {
    format: String,
    schema_version: u32,
    config: RunConfig,
    server: Option<ServerIdentity>,
    #[serde(default)]
    host: Option<String>,
    reproducibility: Reproducibility,
    progress: String,
    complete: bool,
    updated_at: String,
    summary: Option<Summary>,
}

impl Versioned for HeadOnDisk {
    fn format(&self) -> &str {
        &self.format
    }

    fn schema_version(&self) -> u32 {
        self.schema_version
    }
}

impl From<HeadOnDisk> for ResultsHead {
    fn from(head: HeadOnDisk) -> ResultsHead {
        ResultsHead {
            config: head.config,
            server: head.server,
            host: head.host,
            reproducibility: head.reproducibility,
            progress: head.progress,
            complete: head.complete,
            updated_at: head.updated_at,
            summary: head.summary,
        }
    }
}

/// The most a results file may hold. A run of every problem with long
/// answers is a few MiB; one far larger is not a results file, and parsing
/// it would cost memory many times its size.
pub const MAX_RESULTS_BYTES: u64 = 64 << 20;

/// A results file's text, refused past [`MAX_RESULTS_BYTES`] before any of
/// it is read.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    read_text_versioned(path).map(|(text, _)| text)
}

/// [`read_text`], with the metadata of the file as it was opened: what
/// was read is that file, whatever the path names by the time it is asked.
pub(crate) fn read_text_versioned(path: &Path) -> Result<(String, std::fs::Metadata)> {
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
    let opened = file.metadata().map_err(io)?;
    let len = opened.len();
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
    Ok((text, opened))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> ResultsFile {
        let problems = fuelbench_problems::load_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../problems"),
        )
        .expect("the problem set loads");
        let plan = crate::Plan {
            models: vec!["m".to_owned()],
            ..crate::Plan::default()
        };
        let config = plan.configs(&problems, &[]).expect("a plan").remove(0);
        let key: Reproducibility = serde_json::from_value(serde_json::json!({
            "fuelbench_version": "0", "wasmtime_version": "0", "python_wasm_sha256": "a",
            "snapshot_sha256": "b", "case_fuel": 1, "measure_fuel": 1, "budget_factor": 1,
            "suite_fuel": 1, "seed": 7,
        }))
        .expect("a key");
        let mut file = ResultsFile::new(config, key);
        file.refresh();
        file
    }

    /// The head is read from a prefix only when all of it is there: the
    /// summary before the records, as this fuelbench writes it.
    #[test]
    fn a_head_is_read_from_a_prefix_only_when_it_is_whole() {
        let file = file();
        let text = serde_json::to_string_pretty(&file).expect("JSON");
        // The top level's keys, two spaces in; the configuration has
        // `problems` of its own.
        let records = text.find("\n  \"problems\"").expect("records");
        let summary = text.find("\n  \"summary\"").expect("a summary");
        assert!(summary < records, "the summary is written first");

        let head = head_of_prefix(&text.as_bytes()[..records + 16]).expect("a head");
        assert_eq!(
            head,
            ResultsHead::from_text(Path::new("f"), text.clone()).expect("read")
        );
        assert!(
            head_of_prefix(&text.as_bytes()[..summary]).is_none(),
            "cut before the summary"
        );

        // Written by an older fuelbench: the summary after the records.
        let mut value = serde_json::to_value(&file).expect("JSON");
        let summary = value.as_object_mut().expect("an object").remove("summary");
        value["summary"] = summary.expect("a summary");
        let older = serde_json::to_string_pretty(&value).expect("JSON");
        let records = older.find("\n  \"problems\"").expect("records");
        assert!(head_of_prefix(&older.as_bytes()[..records + 16]).is_none());
        assert!(
            head_of_prefix(older.as_bytes()).is_none(),
            "an older file is read whole, by the slower path"
        );

        // Another schema never reads as this one's head.
        let mut future = serde_json::to_value(&file).expect("JSON");
        future["schema_version"] = 99.into();
        assert!(head_of_prefix(future.to_string().as_bytes()).is_none());
    }
}
