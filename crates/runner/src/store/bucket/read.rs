//! Reading for the board: the listing, made again at most every
//! [`LISTING_TTL`], and many objects at once, each only when its version is
//! new and a results file's head before its whole.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use object_store::{GetOptions, ObjectMeta};

use super::{BucketStore, LISTING_TTL, is_name};
use crate::{MAX_RESULTS_BYTES, Result, ResultsHead};

/// How many objects a board reads at once when many are new.
const READS_AT_ONCE: usize = 32;

/// How long a read that failed stands before the object is read again:
/// an object that can never be read (archived, or encrypted with a key the
/// store does not have) costs a request this often, not on every page.
const RETRY_FAILED_READ: Duration = Duration::from_secs(30);

/// How much of a results object a board reads first: its head, all a row
/// needs, is far less unless a server described itself at great length.
const HEAD_BYTES: u64 = 64 << 10;

/// What was read of each object of one kind, by its place in the store.
#[derive(Debug)]
pub(super) struct Cache<T> {
    /// What each object held, by the version it held it at.
    pub(super) held: HashMap<String, (String, T)>,
    /// Each object whose last read failed: its version, when, and why.
    failed: HashMap<String, (String, Instant, String)>,
}

impl<T> Default for Cache<T> {
    fn default() -> Cache<T> {
        Cache {
            held: HashMap::new(),
            failed: HashMap::new(),
        }
    }
}

/// Which objects a [`BucketStore::read_all`] reads.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    /// Results files: a head first, the whole only when it is not there.
    Results,
    /// Saved load runs, whole.
    LoadRuns,
}

impl Kind {
    /// The most an object of the kind may hold.
    fn cap(self) -> u64 {
        match self {
            Kind::Results => MAX_RESULTS_BYTES,
            Kind::LoadRuns => fuelbench_perf::MAX_SAVED_RUN_BYTES,
        }
    }
}

/// What was read of an object: a results file's head alone, or its whole
/// text (or why it could not be read).
pub(super) enum Fetched {
    Head(Box<ResultsHead>),
    Text(std::result::Result<String, String>),
}

/// A listing of the results objects and the saved load runs, and when
/// it was made.
#[derive(Debug, Clone)]
pub(super) struct Listing {
    pub(super) at: std::time::Instant,
    pub(super) results: Vec<ObjectMeta>,
    pub(super) perf: Vec<ObjectMeta>,
}

impl BucketStore {
    /// The results objects at the top of the store, newest first, and the
    /// saved load runs under `perf/`: listed at most [`LISTING_TTL`] ago.
    pub(super) fn listing_now(&self) -> Result<Listing> {
        if let Some(listing) = fuelbench_stdx::lock(&self.listed)
            .as_ref()
            .filter(|listing| listing.at.elapsed() < LISTING_TTL)
        {
            return Ok(listing.clone());
        }
        let listing = Listing {
            at: std::time::Instant::now(),
            results: self.results_objects()?,
            perf: self
                .list_all("perf")?
                .into_iter()
                .filter(|meta| meta.location.as_ref().ends_with(".json"))
                .collect(),
        };
        *fuelbench_stdx::lock(&self.listed) = Some(listing.clone());
        Ok(listing)
    }

    /// Forgets the last listing: this process has written a results object.
    pub(super) fn relist(&self) {
        *fuelbench_stdx::lock(&self.listed) = None;
    }

    /// The results objects at the top of the store, newest first.
    fn results_objects(&self) -> Result<Vec<ObjectMeta>> {
        let mut listed: Vec<ObjectMeta> = self
            .list("")?
            .into_iter()
            .filter(|meta| {
                meta.location
                    .filename()
                    .and_then(|name| name.strip_suffix(".json"))
                    .is_some_and(is_name)
            })
            .collect();
        listed.sort_by(|a, b| {
            b.last_modified
                .cmp(&a.last_modified)
                .then(b.location.cmp(&a.location))
        });
        Ok(listed)
    }

    /// What `parse` makes of each `*.json` object in `listed`, reading only
    /// objects whose version is new since the last call; objects no longer
    /// listed are forgotten. Reads many at once. What an object holds is
    /// kept by its version; a read that failed is tried again after
    /// [`RETRY_FAILED_READ`].
    pub(super) fn read_all<T: Clone + Send + 'static>(
        &self,
        cache: &Mutex<Cache<T>>,
        listed: &[ObjectMeta],
        kind: Kind,
        parse: fn(&Path, Fetched) -> T,
    ) -> Vec<T> {
        let relative = |meta: &ObjectMeta| self.relative(&meta.location);
        let mut values: Vec<Option<T>> = Vec::with_capacity(listed.len());
        let mut todo = Vec::new();
        {
            let cache = fuelbench_stdx::lock(cache);
            for (index, meta) in listed.iter().enumerate() {
                let place = relative(meta);
                match (cache.held.get(&place), cache.failed.get(&place)) {
                    (Some((version, value)), _) if *version == version_of(meta) => {
                        values.push(Some(value.clone()));
                    }
                    // A read of this version failed a moment ago: what it
                    // said stands until it is time to try again.
                    (_, Some((version, at, why)))
                        if *version == version_of(meta) && at.elapsed() < RETRY_FAILED_READ =>
                    {
                        let why = Fetched::Text(Err(why.clone()));
                        values.push(Some(parse(Path::new(&place), why)));
                    }
                    _ => {
                        values.push(None);
                        todo.push((index, meta.clone()));
                    }
                }
            }
        }
        let objects = Arc::clone(&self.objects);
        let fetched: Vec<(usize, ObjectMeta, Fetched, bool)> = self.io.wait(async move {
            futures_util::stream::iter(todo)
                .map(|(index, meta)| {
                    let objects = Arc::clone(&objects);
                    async move {
                        // Read only the version listed, whose rows the cache
                        // keeps under it: an object written again since is
                        // read at the next listing, never kept as this one.
                        let options = |range: Option<std::ops::Range<u64>>| GetOptions {
                            if_match: meta.e_tag.clone(),
                            range: range.map(Into::into),
                            ..GetOptions::default()
                        };
                        // A results file's head is its first few KiB: read
                        // that much, and the whole only when it is not there.
                        if matches!(kind, Kind::Results) && meta.size > HEAD_BYTES {
                            let prefix = match objects
                                .get_opts(&meta.location, options(Some(0..HEAD_BYTES)))
                                .await
                            {
                                Ok(got) => got.bytes().await.ok(),
                                Err(_) => None,
                            };
                            let head =
                                prefix.and_then(|prefix| crate::results::head_of_prefix(&prefix));
                            if let Some(head) = head {
                                return (index, meta, Fetched::Head(Box::new(head)), true);
                            }
                        }
                        let (text, keep) = if meta.size > kind.cap() {
                            (Err(too_large(meta.size, kind.cap())), true)
                        } else {
                            match objects.get_opts(&meta.location, options(None)).await {
                                Ok(got) => match got.bytes().await {
                                    Ok(bytes) => (text_of(bytes, kind.cap()), true),
                                    Err(error) => (Err(unread(&meta, &error)), false),
                                },
                                Err(error) => (Err(unread(&meta, &error)), false),
                            }
                        };
                        (index, meta, Fetched::Text(text), keep)
                    }
                })
                .buffer_unordered(READS_AT_ONCE)
                .collect()
                .await
        });
        let mut cache = fuelbench_stdx::lock(cache);
        for (index, meta, text, keep) in fetched {
            let place = relative(&meta);
            let why = match &text {
                Fetched::Text(Err(why)) if !keep => Some(why.clone()),
                _ => None,
            };
            let value = parse(Path::new(&place), text);
            match why {
                None => {
                    cache.failed.remove(&place);
                    cache.held.insert(place, (version_of(&meta), value.clone()));
                }
                Some(why) => {
                    cache.held.remove(&place);
                    cache
                        .failed
                        .insert(place, (version_of(&meta), Instant::now(), why));
                }
            }
            values[index] = Some(value);
        }
        let keep: std::collections::HashSet<String> = listed.iter().map(relative).collect();
        cache.held.retain(|key, _| keep.contains(key));
        cache.failed.retain(|key, _| keep.contains(key));
        values.into_iter().flatten().collect()
    }
}

/// What a read of an object deleted since the listing says.
pub(super) const GONE: &str = "it was deleted after it was listed";

/// Why an object could not be read, for the board, which anyone who may
/// read the store is shown: never the endpoint or credentials a backend's
/// error may name. The whole error goes to the operator's log.
fn unread(meta: &ObjectMeta, error: &object_store::Error) -> String {
    match error {
        object_store::Error::NotFound { .. } => GONE.to_owned(),
        object_store::Error::Precondition { .. } | object_store::Error::NotModified { .. } => {
            "it was written again after it was listed".to_owned()
        }
        _ => {
            eprintln!(
                "fuelbench: failed to read {}: {}",
                meta.location,
                fuelbench_stdx::error_chain(error)
            );
            "the store refused or failed the read (the service's log says why)".to_owned()
        }
    }
}

/// What changes whenever an object's contents do.
pub(super) fn version_of(meta: &ObjectMeta) -> String {
    match &meta.e_tag {
        Some(e_tag) => e_tag.clone(),
        None => format!("{}-{}", meta.last_modified.timestamp_micros(), meta.size),
    }
}

pub(super) fn too_large(size: u64, cap: u64) -> String {
    format!(
        "it is {} MiB, over the {} MiB it may be",
        size.div_ceil(1 << 20),
        cap >> 20
    )
}

/// An object's bytes as text, refused past `cap` (it may have grown since
/// it was listed) or when not UTF-8.
pub(super) fn text_of(bytes: bytes::Bytes, cap: u64) -> std::result::Result<String, String> {
    if bytes.len() as u64 > cap {
        return Err(too_large(bytes.len() as u64, cap));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| "it is not UTF-8 text".to_owned())
}
