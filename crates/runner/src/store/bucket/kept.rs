//! The board's rows kept on this machine between processes, by object and
//! version: a service started again over a bucket it has read lists the
//! bucket and reads no object that is unchanged. Each kept file holds the
//! rows made here from the object with that version; one that does not
//! read back is as good as absent, and the object is read again.

use std::collections::HashSet;
use std::path::PathBuf;

use object_store::ObjectMeta;

use super::BucketStore;
use super::read::version_of;
use crate::leaderboard::Row;

/// The folder, in the store's local copy, the rows are kept in.
const KEPT: &str = ".board";

/// What a results object's rows are kept as.
type Rows = Result<Vec<Row>, String>;

impl BucketStore {
    fn kept_dir(&self) -> PathBuf {
        self.staging.join(KEPT)
    }

    /// Gives the row cache, for each listed object it has no rows of, the
    /// rows an earlier process kept for the object's version.
    pub(super) fn rows_from_disk(&self, listed: &[ObjectMeta]) {
        let todo: Vec<(String, String)> = {
            let cached = fuelbench_stdx::lock(&self.rows);
            listed
                .iter()
                .map(|meta| (self.relative(&meta.location), version_of(meta)))
                .filter(|(relative, version)| {
                    cached
                        .held
                        .get(relative)
                        .is_none_or(|(had, _)| had != version)
                })
                .collect()
        };
        if todo.is_empty() {
            return;
        }
        let dir = self.kept_dir();
        let found: Vec<(String, String, String, Rows)> = todo
            .into_iter()
            .filter_map(|(relative, version)| {
                let name = kept_name(&relative, &version);
                let bytes = std::fs::read(dir.join(&name)).ok()?;
                let rows: Rows = serde_json::from_slice(&bytes).ok()?;
                Some((relative, version, name, rows))
            })
            .collect();
        let mut cached = fuelbench_stdx::lock(&self.rows);
        let mut kept = fuelbench_stdx::lock(&self.kept);
        for (relative, version, name, rows) in found {
            cached.held.insert(relative, (version, rows));
            kept.insert(name);
        }
    }

    /// Keeps the rows of each listed object not kept yet, and forgets the
    /// kept rows of objects, or versions, no longer listed. Keeping is a
    /// saving, never a duty: a file that cannot be written is left out.
    pub(super) fn rows_to_disk(&self, listed: &[ObjectMeta]) {
        let todo: Vec<(String, Vec<u8>)> = {
            let cached = fuelbench_stdx::lock(&self.rows);
            let kept = fuelbench_stdx::lock(&self.kept);
            listed
                .iter()
                .filter_map(|meta| {
                    let relative = self.relative(&meta.location);
                    let version = version_of(meta);
                    let name = kept_name(&relative, &version);
                    if kept.contains(&name) {
                        return None;
                    }
                    let (had, rows) = cached.held.get(&relative)?;
                    (*had == version).then(|| (name, serde_json::to_vec(rows).ok()))
                })
                .filter_map(|(name, bytes)| Some((name, bytes?)))
                .collect()
        };
        if todo.is_empty() {
            return;
        }
        let dir = self.kept_dir();
        if std::fs::create_dir_all(&dir).is_err() {
            return;
        }
        let mut written = Vec::with_capacity(todo.len());
        for (name, bytes) in todo {
            // Written whole under another name, then renamed: a reader in
            // another process sees all of it or none.
            let part = dir.join(format!("{name}.{}.part", std::process::id()));
            if std::fs::write(&part, &bytes).is_ok()
                && std::fs::rename(&part, dir.join(&name)).is_ok()
            {
                written.push(name);
            } else {
                let _ = std::fs::remove_file(&part);
            }
        }
        let live: HashSet<String> = listed
            .iter()
            .map(|meta| kept_name(&self.relative(&meta.location), &version_of(meta)))
            .collect();
        let mut kept = fuelbench_stdx::lock(&self.kept);
        kept.extend(written);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !live.contains(&name) && !name.ends_with(".part") {
                let _ = std::fs::remove_file(entry.path());
                kept.remove(&name);
            }
        }
    }
}

/// What the kept rows were made by: rows this build did not make are made
/// again from the object, never shown as an older build derived them.
const MADE_BY: &str = concat!("fuelbench ", env!("CARGO_PKG_VERSION"), ", rows 1");

/// The file an object's rows, at `version`, are kept in.
fn kept_name(relative: &str, version: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::new()
        .chain_update(MADE_BY.as_bytes())
        .chain_update([0])
        .chain_update(relative.as_bytes())
        .chain_update([0])
        .chain_update(version.as_bytes())
        .finalize();
    format!("{:x}.json", digest)
}
