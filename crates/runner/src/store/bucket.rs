//! The store in a bucket: the folder's layout as objects, read and written
//! through `object_store`.
//!
//! A run writes its results files into a local copy of the store (under the
//! cache) and sends each to the bucket after every problem: the first write
//! of an object only if none is there, each later one only if the object is
//! still the one this run last wrote (where the backend can put on a
//! condition). So a second writer of the same run is refused, never
//! silently overwritten. A job's state and events have one writer, the
//! service that runs it, and are written whole.
//!
//! The leaderboard is derived from one listing; an object is read only
//! when its ETag (or, without one, its size and time) is new, so a warm
//! board costs a listing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt as _;
use object_store::path::Path as ObjectPath;
use object_store::{
    ObjectMeta, ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, UpdateVersion,
};

use fuelbench_llm::ServerKey;
use fuelbench_perf::LoadHead;

mod cloud;
mod io;
mod kept;
mod read;

use self::io::Io;
use self::read::{Cache, Fetched, Kind, Listing, text_of, too_large, version_of};

use super::{Listed, MAX_EVENTS_BYTES, MAX_RUN_STATE_BYTES, Published, Store, is_name};
use crate::jobs::RunStatus;
use crate::leaderboard::{self, Board, Row, Serving};
use crate::{Error, MAX_RESULTS_BYTES, Result, ResultsFile, ResultsHead, RunEvent};

/// How long one listing of the bucket serves the board before the next
/// read lists it again: a listing of a thousand objects is a round trip or
/// two of ~100 ms, and a board is read far more often than runs finish.
/// This process's own writes list it again at once.
pub const LISTING_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// The store under a prefix of a bucket.
#[derive(Debug)]
pub struct BucketStore {
    /// The store's URL, as given, without a trailing `/`.
    url: String,
    objects: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    /// The local copy runs write through.
    staging: PathBuf,
    io: Io,
    /// What each object held, by its place and version.
    rows: Mutex<Cache<Result<Vec<Row>, String>>>,
    heads: Mutex<Cache<Option<ResultsHead>>>,
    serving: Mutex<Cache<Option<(ServerKey, Serving)>>>,
    load_runs: Mutex<Cache<std::result::Result<LoadHead, String>>>,
    /// Each results object this process writes: the ETag and version of
    /// its last write (GCS needs the version, S3 and Azure the ETag), no
    /// entry before the first. Without either the next write overwrites.
    written: Mutex<HashMap<String, UpdateVersion>>,
    /// Each job's event lines, as this process last wrote them.
    events: Mutex<HashMap<String, Vec<String>>>,
    /// The last listing of the results and load runs, and when it was made.
    listed: Mutex<Option<Listing>>,
    /// The files of rows kept on disk this process knows are there.
    kept: Mutex<std::collections::HashSet<String>>,
}

impl BucketStore {
    /// The store at `url` (`s3://bucket/prefix`, `az://container/prefix`,
    /// `gs://bucket/prefix`), its local copy under `cache`.
    pub fn open(url: &str, cache: &Path, ca_cert: Option<&Path>) -> Result<BucketStore> {
        let objects = cloud::connect(url, ca_cert)?;
        let (_, rest) = url.split_once("://").unwrap_or(("", url));
        // The bucket or container is the URL's host; the prefix follows it.
        let prefix = rest.split_once('/').map_or("", |(_, prefix)| prefix);
        let prefix = ObjectPath::parse(prefix).map_err(|source| Error::Invalid {
            field: "results",
            message: format!("{url}: {source}"),
        })?;
        use sha2::Digest as _;
        let hash = format!("{:x}", sha2::Sha256::digest(url.as_bytes()));
        let staging = cache.join("stores").join(&hash[..16]);
        BucketStore::new(url, objects, prefix, staging)
    }

    /// The store under `prefix` of `objects`, named `url` in messages,
    /// runs writing through `staging`.
    pub fn new(
        url: &str,
        objects: Arc<dyn ObjectStore>,
        prefix: ObjectPath,
        staging: PathBuf,
    ) -> Result<BucketStore> {
        std::fs::create_dir_all(&staging).map_err(|source| Error::Io {
            path: staging.clone(),
            source,
        })?;
        Ok(BucketStore {
            url: url.trim_end_matches('/').to_owned(),
            objects,
            prefix,
            staging,
            io: Io::start().map_err(|source| Error::Io {
                path: PathBuf::from("the store's runtime"),
                source,
            })?,
            rows: Mutex::default(),
            heads: Mutex::default(),
            serving: Mutex::default(),
            load_runs: Mutex::default(),
            written: Mutex::default(),
            events: Mutex::default(),
            listed: Mutex::default(),
            kept: Mutex::default(),
        })
    }

    /// `relative`'s object, under the prefix.
    fn object(&self, relative: &str) -> ObjectPath {
        relative
            .split('/')
            .fold(self.prefix.clone(), |path, part| path.join(part))
    }

    /// `location` as a URL, for messages.
    fn url_of(&self, location: &ObjectPath) -> String {
        let relative = location
            .as_ref()
            .strip_prefix(self.prefix.as_ref())
            .unwrap_or(location.as_ref())
            .trim_start_matches('/');
        format!("{}/{relative}", self.url)
    }

    fn failed(
        &self,
        action: &'static str,
        location: &ObjectPath,
        source: object_store::Error,
    ) -> Error {
        Error::Store {
            action,
            object: self.url_of(location),
            source,
        }
    }

    /// The objects directly under `relative` (the prefix itself for `""`).
    fn list(&self, relative: &str) -> Result<Vec<ObjectMeta>> {
        let location = if relative.is_empty() {
            self.prefix.clone()
        } else {
            self.object(relative)
        };
        let objects = Arc::clone(&self.objects);
        let at = location.clone();
        self.io
            .wait(async move { objects.list_with_delimiter(Some(&at)).await })
            .map(|listing| listing.objects)
            .map_err(|source| self.failed("list", &location, source))
    }

    /// The objects anywhere under `relative`.
    fn list_all(&self, relative: &str) -> Result<Vec<ObjectMeta>> {
        let location = self.object(relative);
        let objects = Arc::clone(&self.objects);
        let at = location.clone();
        self.io
            .wait(async move { objects.list(Some(&at)).try_collect::<Vec<_>>().await })
            .map_err(|source| self.failed("list", &location, source))
    }

    /// The text of `location`, refused past `cap` bytes before it is read,
    /// or when it is not UTF-8. `Ok(None)` when there is no such object.
    fn read(&self, location: &ObjectPath, cap: u64) -> Result<Option<(String, String)>> {
        let objects = Arc::clone(&self.objects);
        let at = location.clone();
        // The size is the answer's own, checked before its body is read:
        // whatever the object is by then, no more than `cap` is taken.
        let read = self.io.wait(async move {
            let got = objects.get(&at).await?;
            if got.meta.size > cap {
                return Ok(Err(got.meta.size));
            }
            let version = version_of(&got.meta);
            got.bytes().await.map(|bytes| Ok((bytes, version)))
        });
        let name = self.relative(location);
        match read {
            Ok(Ok((bytes, version))) => text_of(bytes, cap)
                .map(|text| Some((text, version)))
                .map_err(|why| Error::Unreadable(format!("{name}: {why}"))),
            Ok(Err(size)) => Err(Error::Unreadable(format!(
                "{name}: {}",
                too_large(size, cap)
            ))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(source) => Err(self.failed("read", location, source)),
        }
    }

    /// Puts `bytes` at `relative`, whatever is there.
    fn overwrite(&self, relative: &str, bytes: Vec<u8>) -> Result<()> {
        let location = self.object(relative);
        let objects = Arc::clone(&self.objects);
        let at = location.clone();
        self.io
            .wait(async move { objects.put(&at, bytes.into()).await })
            .map(drop)
            .map_err(|source| self.failed("write", &location, source))
    }

    /// `location` relative to the prefix: its place in the store.
    fn relative(&self, location: &ObjectPath) -> String {
        location
            .as_ref()
            .strip_prefix(self.prefix.as_ref())
            .unwrap_or(location.as_ref())
            .trim_start_matches('/')
            .to_owned()
    }

    fn results_name(&self, name: &str) -> Result<String> {
        let stem = name.strip_suffix(".json").unwrap_or(name);
        if !is_name(stem) {
            return Err(Error::NotFound {
                code: "unknown_results",
                message: format!("{name:?} is not a results file's name"),
            });
        }
        Ok(format!("{stem}.json"))
    }

    fn run_object(&self, id: &str, suffix: &str) -> Result<ObjectPath> {
        if !is_name(id) {
            return Err(Error::Invalid {
                field: "id",
                message: format!("{id:?} is not a run id"),
            });
        }
        Ok(self.object(&format!("runs/{id}{suffix}")))
    }
}

impl Store for BucketStore {
    fn location(&self) -> String {
        self.url.clone()
    }

    fn results_dir(&self) -> &Path {
        &self.staging
    }

    fn stage(&self, names: &[String], resume: bool) -> Result<()> {
        for name in names {
            let location = self.object(name);
            let local = self.staging.join(name);
            let objects = Arc::clone(&self.objects);
            let at = location.clone();
            let found = self.io.wait(async move {
                match objects.get(&at).await {
                    // Only a resume reads what is there, and no more than
                    // a results file may hold.
                    Ok(got) if !resume || got.meta.size > MAX_RESULTS_BYTES => Ok(Some((
                        bytes::Bytes::new(),
                        written_as(got.meta.e_tag.clone(), got.meta.version.clone()),
                        got.meta.size,
                    ))),
                    Ok(got) => {
                        let written = written_as(got.meta.e_tag.clone(), got.meta.version.clone());
                        let size = got.meta.size;
                        got.bytes().await.map(|bytes| Some((bytes, written, size)))
                    }
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(error) => Err(error),
                }
            });
            match found.map_err(|source| self.failed("read", &location, source))? {
                Some(_) if !resume => {
                    return Err(Error::Exists {
                        path: PathBuf::from(self.url_of(&location)),
                    });
                }
                Some((_, _, size)) if size > MAX_RESULTS_BYTES => {
                    return Err(Error::Unreadable(format!(
                        "{name}: {}",
                        too_large(size, MAX_RESULTS_BYTES)
                    )));
                }
                Some((bytes, e_tag, _)) => {
                    fuelbench_stdx::write_durably(&local, &bytes).map_err(|source| Error::Io {
                        path: local.clone(),
                        source,
                    })?;
                    fuelbench_stdx::lock(&self.written).insert(name.clone(), e_tag);
                }
                None => {
                    // The bucket is what counts: a local copy it does not
                    // have is an earlier run's that never reached it.
                    if !resume {
                        let _ = std::fs::remove_file(&local);
                    }
                    fuelbench_stdx::lock(&self.written).remove(name);
                }
            }
        }
        Ok(())
    }

    fn checkpoint(&self, path: &Path) -> Result<()> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| io(std::io::Error::other("not a results file's name")))?
            .to_owned();
        let bytes = std::fs::read(path).map_err(io)?;
        let location = self.object(&name);
        let mode = match fuelbench_stdx::lock(&self.written).get(&name) {
            None => PutMode::Create,
            Some(UpdateVersion {
                e_tag: None,
                version: None,
            }) => PutMode::Overwrite,
            Some(written) => PutMode::Update(written.clone()),
        };
        let put = |mode: PutMode| {
            let objects = Arc::clone(&self.objects);
            let (at, bytes) = (location.clone(), bytes.clone());
            self.io.wait(async move {
                let options = PutOptions {
                    mode,
                    ..PutOptions::default()
                };
                objects.put_opts(&at, bytes.into(), options).await
            })
        };
        let result = match put(mode) {
            // A backend that cannot put on a condition (a local folder) is
            // written over: one writer per run is then the runs' to keep.
            Err(object_store::Error::NotImplemented { .. }) => put(PutMode::Overwrite),
            other => other,
        };
        match result {
            Ok(put) => {
                self.relist();
                fuelbench_stdx::lock(&self.written)
                    .insert(name, written_as(put.e_tag, put.version));
                Ok(())
            }
            Err(object_store::Error::AlreadyExists { .. }) => Err(Error::Conflict {
                code: "results_exist",
                message: format!(
                    "{} was written by another run first; two runs never write one results \
                     file. Resume it with --resume, or run into another store",
                    self.url_of(&location)
                ),
            }),
            Err(object_store::Error::Precondition { .. }) => Err(Error::Conflict {
                code: "results_changed",
                message: format!(
                    "{} changed since this run last wrote it: another run writes it too. This \
                     run stops rather than overwrite it; its local copy is {}",
                    self.url_of(&location),
                    path.display()
                ),
            }),
            Err(source) => Err(self.failed("write", &location, source)),
        }
    }

    fn put_new(&self, relative: &str, bytes: &[u8]) -> Result<Published> {
        if !relative.split('/').all(is_name) {
            return Err(Error::Invalid {
                field: "name",
                message: format!("{relative:?} is not a place in the store"),
            });
        }
        let location = self.object(relative);
        let objects = Arc::clone(&self.objects);
        let (at, payload) = (location.clone(), bytes.to_vec());
        let put = self.io.wait(async move {
            let options = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            objects.put_opts(&at, payload.into(), options).await
        });
        match put {
            Ok(_) => {
                self.relist();
                Ok(Published::Created)
            }
            Err(object_store::Error::AlreadyExists { .. }) => {
                let objects = Arc::clone(&self.objects);
                let at = location.clone();
                let size = bytes.len() as u64;
                // Another size differs without a read.
                let there = self
                    .io
                    .wait(async move {
                        let got = objects.get(&at).await?;
                        if got.meta.size != size {
                            return Ok(None);
                        }
                        got.bytes().await.map(Some)
                    })
                    .map_err(|source| self.failed("read", &location, source))?;
                Ok(if there.is_some_and(|there| there.as_ref() == bytes) {
                    Published::Same
                } else {
                    Published::Differs
                })
            }
            Err(source) => Err(self.failed("write", &location, source)),
        }
    }

    fn listing(&self) -> Result<Vec<Listed>> {
        Ok(self
            .listing_now()?
            .results
            .iter()
            .filter_map(|meta| {
                let name = meta.location.filename()?.strip_suffix(".json")?.to_owned();
                Some(Listed {
                    name,
                    version: version_of(meta),
                })
            })
            .collect())
    }

    fn board(&self) -> Result<Board> {
        let Listing {
            results: mut listed,
            perf,
            ..
        } = self.listing_now()?;
        listed.sort_by(|a, b| a.location.cmp(&b.location));
        self.rows_from_disk(&listed);
        let files = self.read_all(
            &self.rows,
            &listed,
            Kind::Results,
            |path, fetched| match fetched {
                Fetched::Head(head) => leaderboard::rows_of_head(path, &head),
                Fetched::Text(text) => text
                    .map_err(|why| format!("skipped {}: {why}", path.display()))
                    .and_then(|text| leaderboard::rows_of_text(path, text)),
            },
        );
        self.rows_to_disk(&listed);
        let serving: Vec<(ServerKey, Serving)> = self
            .read_all(
                &self.serving,
                &perf,
                Kind::LoadRuns,
                |path, fetched| match fetched {
                    Fetched::Text(Ok(text)) => leaderboard::serving_run_text(path, &text),
                    _ => None,
                },
            )
            .into_iter()
            .flatten()
            .collect();
        Ok(Board::assemble(files, &serving))
    }

    fn load_runs(&self) -> Result<Vec<(String, std::result::Result<LoadHead, String>)>> {
        let listed = self.listing_now()?.perf;
        let heads =
            self.read_all(
                &self.load_runs,
                &listed,
                Kind::LoadRuns,
                |_, fetched| match fetched {
                    Fetched::Text(text) => {
                        LoadHead::from_text(&text?).map_err(|error| error.to_string())
                    }
                    Fetched::Head(_) => Err("not a load run".to_owned()),
                },
            );
        let mut runs: Vec<_> = listed
            .iter()
            .map(|meta| self.relative(&meta.location))
            .zip(heads)
            // Deleted since the listing: not a run any more.
            .filter(|(_, head)| head.as_ref().err().is_none_or(|why| why != read::GONE))
            .collect();
        runs.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(runs)
    }

    fn heads(&self) -> Result<Vec<(String, ResultsHead)>> {
        let listed = self.listing_now()?.results;
        let heads = self.read_all(
            &self.heads,
            &listed,
            Kind::Results,
            |path, fetched| match fetched {
                Fetched::Head(head) => Some(*head),
                Fetched::Text(text) => ResultsHead::from_text(path, text.ok()?).ok(),
            },
        );
        Ok(listed
            .iter()
            .zip(heads)
            .filter_map(|(meta, head)| {
                let name = meta.location.filename()?.strip_suffix(".json")?.to_owned();
                Some((name, head?))
            })
            .collect())
    }

    fn results_versioned(&self, name: &str) -> Result<(ResultsFile, String)> {
        let file = self.results_name(name)?;
        let location = self.object(&file);
        let (text, version) =
            self.read(&location, MAX_RESULTS_BYTES)?
                .ok_or_else(|| Error::NotFound {
                    code: "unknown_results",
                    message: format!(
                        "no results file {file:?} in the store; GET /api/v1/results lists them"
                    ),
                })?;
        ResultsFile::from_text(Path::new(&file), text)
            .map(|read| (read, version))
            .map_err(|error| Error::Unreadable(fuelbench_stdx::error_chain(&error)))
    }

    fn save_run(&self, status: &RunStatus) -> Result<()> {
        self.run_object(&status.id, ".json")?;
        let mut text = serde_json::to_vec_pretty(status).expect("a job's state serialises");
        text.push(b'\n');
        self.overwrite(&format!("runs/{}.json", status.id), text)
    }

    fn append_event(&self, id: &str, event: &RunEvent) -> Result<()> {
        let location = self.run_object(id, ".events.jsonl")?;
        let mut lines = fuelbench_stdx::lock(&self.events).remove(id);
        if lines.is_none() {
            lines = Some(self.events(id));
        }
        let mut lines = lines.unwrap_or_default();
        lines.push(serde_json::to_string(event).expect("events serialise"));
        let mut text = lines.join("\n");
        text.push('\n');
        let written = self.overwrite(&self.relative(&location), text.into_bytes());
        fuelbench_stdx::lock(&self.events).insert(id.to_owned(), lines);
        written
    }

    fn runs(&self) -> Vec<RunStatus> {
        let Ok(listed) = self.list("runs") else {
            return Vec::new();
        };
        let mut runs: Vec<RunStatus> = listed
            .iter()
            .filter_map(|meta| {
                let id = meta.location.filename()?.strip_suffix(".json")?;
                self.run(id)
            })
            .collect();
        runs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        runs
    }

    fn run(&self, id: &str) -> Option<RunStatus> {
        let location = self.run_object(id, ".json").ok()?;
        let (text, _) = self.read(&location, MAX_RUN_STATE_BYTES).ok()??;
        let status: RunStatus = serde_json::from_str(&text).ok()?;
        (status.id == id).then_some(status)
    }

    fn events(&self, id: &str) -> Vec<String> {
        if let Some(lines) = fuelbench_stdx::lock(&self.events).get(id) {
            return lines.clone();
        }
        let Ok(location) = self.run_object(id, ".events.jsonl") else {
            return Vec::new();
        };
        match self.read(&location, MAX_EVENTS_BYTES) {
            Ok(Some((text, _))) => text.lines().map(str::to_owned).collect(),
            _ => Vec::new(),
        }
    }

    fn relative_event(&self, event: RunEvent) -> RunEvent {
        super::relative_event(&self.staging, event)
    }
}

/// What a conditional write of an object last read or written as
/// `e_tag` and `version` is conditioned on.
fn written_as(e_tag: Option<String>, version: Option<String>) -> UpdateVersion {
    UpdateVersion { e_tag, version }
}
