//! What the store has read, kept while each file stays as it was.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// What was read from each file, by path, with the file's length and
/// modification time then.
#[derive(Debug)]
pub(crate) struct FileCache<T> {
    entries: Mutex<HashMap<PathBuf, Cached<T>>>,
}

#[derive(Debug)]
struct Cached<T> {
    modified: SystemTime,
    len: u64,
    value: T,
}

impl<T: Clone> FileCache<T> {
    pub(crate) fn new() -> FileCache<T> {
        FileCache {
            entries: Mutex::default(),
        }
    }

    /// What `read` makes of each of `paths`, reading only files that are
    /// new or changed; files no longer listed are forgotten. The lock is
    /// never held while a file is read or parsed.
    pub(crate) fn read_all(&self, paths: &[PathBuf], read: impl Fn(&Path) -> T) -> Vec<T> {
        let lock = || fuelbench_stdx::lock(&self.entries);
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
        let listed: std::collections::HashSet<&PathBuf> = paths.iter().collect();
        lock().retain(|path, _| listed.contains(path));
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
