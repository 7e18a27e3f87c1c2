//! The on-disk cache of derived artifacts: interpreter snapshots and their
//! compiled machine code.
//!
//! Every entry is named by the hash of everything that went into it, written
//! to a temporary file, synced and renamed into place, so a reader sees a
//! whole entry or none, and a changed input simply misses. An advisory lock
//! keeps two processes (parallel test binaries, say) from doing the same
//! multi-second work at once.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub(crate) fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
    }

    pub(crate) fn path(&self, kind: &str, name: &str) -> PathBuf {
        self.dir.join(kind).join(name)
    }

    /// Runs `work` with the cache's lock held, so a second process waits and
    /// then finds the entry made.
    pub(crate) fn locked<T>(&self, work: impl FnOnce() -> Result<T>) -> Result<T> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let lock_path = self.dir.join("sandbox.lock");
        let lock = File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
        lock.lock().map_err(|e| Error::io(&lock_path, e))?;
        let result = work();
        // Dropping the file releases the lock too; unlocking first keeps the
        // order obvious.
        let _ = lock.unlock();
        result
    }

    /// Writes `bytes` to `path` so that it appears whole or not at all.
    pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
        fuelbench_stdx::write_durably(path, bytes).map_err(|e| Error::io(path, e))
    }
}

pub(crate) fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

pub(crate) fn sha256_file_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_parts_are_length_prefixed() {
        assert_ne!(sha256_hex(&[b"ab", b"c"]), sha256_hex(&[b"a", b"bc"]));
    }

    #[test]
    fn file_hash_is_plain_sha256() {
        assert_eq!(
            sha256_file_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
