//! The one way fuelbench replaces a file.

use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `path` so that a crash at any moment leaves the old
/// file or the new one, never a part: a temporary of its own beside it
/// (two writers never share one), flushed to disk, renamed over `path`, and
/// the folder flushed so the rename itself survives. Creates the folder.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (dir, temporary) = staged_beside(path, bytes)?;
    temporary.persist(path).map_err(|error| error.error)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Writes `bytes` to `path` as [`write_durably`] does, but only where no
/// file is: the whole file is linked into place, so of two writers of one
/// path exactly one succeeds and the other gets
/// [`std::io::ErrorKind::AlreadyExists`], and a reader never sees a part.
pub fn create_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (dir, temporary) = staged_beside(path, bytes)?;
    temporary
        .persist_noclobber(path)
        .map_err(|error| error.error)?;
    std::fs::File::open(dir)?.sync_all()
}

/// `bytes` in a temporary of its own beside `path`, flushed to disk.
fn staged_beside<'a>(
    path: &'a Path,
    bytes: &[u8],
) -> std::io::Result<(&'a Path, tempfile::NamedTempFile)> {
    let dir = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temporary = tempfile::Builder::new()
        .prefix(".fuelbench-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    Ok((dir, temporary))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_write_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("new").join("file.json");
        super::write_durably(&path, b"first").expect("written");
        super::write_durably(&path, b"second").expect("rewritten");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("a folder"))
            .expect("listed")
            .map(|entry| entry.expect("an entry").file_name())
            .collect();
        assert_eq!(names, ["file.json"]);
    }

    #[test]
    fn a_create_never_replaces_a_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("file.json");
        super::create_durably(&path, b"first").expect("created");
        let error = super::create_durably(&path, b"second").expect_err("refused");
        assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).expect("read"), b"first");
        assert_eq!(std::fs::read_dir(dir.path()).expect("listed").count(), 1);
    }
}
