//! One fuelbench run per server: an advisory lock file per base URL, so a
//! second run against the same server stops at once instead of sharing it
//! and corrupting both runs' timings and answers.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Held for the whole run; dropping it releases the server.
#[derive(Debug)]
pub struct ServerLock {
    file: File,
    path: PathBuf,
}

impl ServerLock {
    /// Takes the lock for `base_url` in `dir`, or says who holds it.
    pub fn acquire(dir: &Path, base_url: &str) -> Result<ServerLock> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(format!("{}.lock", file_name(base_url)));
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(Error::Busy {
                    base_url: base_url.to_owned(),
                    holder: holder.trim().to_owned(),
                    lock: path,
                });
            }
            Err(std::fs::TryLockError::Error(source)) => return Err(io(source)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "pid {}", std::process::id()).map_err(io)?;
        Ok(ServerLock { file, path })
    }

    /// The lock file: `<dir>/<base URL made a file name>.lock`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ServerLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// `http://127.0.0.1:8080` -> `http_127.0.0.1_8080`.
fn file_name(base_url: &str) -> String {
    base_url
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_matches('_')
        .replace("___", "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_one_server_is_refused_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = ServerLock::acquire(dir.path(), "http://127.0.0.1:8080").unwrap();
        let error = ServerLock::acquire(dir.path(), "http://127.0.0.1:8080").unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        // Another server is another lock.
        let _other = ServerLock::acquire(dir.path(), "http://127.0.0.1:8081").unwrap();
        drop(first);
        ServerLock::acquire(dir.path(), "http://127.0.0.1:8080").unwrap();
    }
}
