//! `fuelbench publish`: finished runs from a folder into a store, for a
//! host that ran offline. Nothing in the store is written over: a file the
//! store holds already is left as it is, and said to be the same or not.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use fuelbench_runner::ResultsFile;
use fuelbench_runner::store::Published;

use crate::GlobalArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct PublishArgs {
    /// The folder `fuelbench run --out` wrote: its finished results files,
    /// and the load runs saved under its `perf/`
    dir: PathBuf,
    /// The store to copy them into: a folder, or a bucket's URL (s3://,
    /// az://, gs://)
    #[arg(long)]
    to: String,
}

pub(crate) fn publish(global: &GlobalArgs, args: &PublishArgs) -> anyhow::Result<ExitCode> {
    let store = global.store(&args.to)?;
    let mut files: Vec<(String, PathBuf)> = fuelbench_runner::leaderboard::json_files(&args.dir)
        .with_context(|| format!("failed to list {}", args.dir.display()))?
        .into_iter()
        .filter_map(|path| Some((path.file_name()?.to_str()?.to_owned(), path)))
        .collect();
    for path in fuelbench_perf::saved_runs(&args.dir.join("perf")) {
        if let Ok(relative) = path.strip_prefix(&args.dir) {
            files.push((relative.to_string_lossy().into_owned(), path.clone()));
        }
    }
    let (mut published, mut same, mut refused, mut skipped) = (0, 0, 0, 0);
    for (relative, path) in &files {
        if let Err(why) = publishable(relative, path) {
            eprintln!("skipped {relative}: {why}");
            skipped += 1;
            continue;
        }
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        let to = format!("{}/{relative}", store.location());
        match store
            .put_new(relative, &bytes)
            .with_context(|| format!("failed to publish {relative}"))?
        {
            Published::Created => {
                println!("published {to}");
                published += 1;
            }
            Published::Same => {
                println!("already there: {to}");
                same += 1;
            }
            Published::Differs => {
                eprintln!(
                    "refused {relative}: {to} holds other contents; nothing was written over. \
                     Publish a run under a name of its own"
                );
                refused += 1;
            }
        }
    }
    println!("{published} published, {same} already there, {refused} refused, {skipped} skipped");
    Ok(if refused > 0 {
        ExitCode::from(crate::exit::ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// Why the file at `path` is not a finished run to publish, if it is not.
fn publishable(relative: &str, path: &Path) -> Result<(), String> {
    if relative.starts_with("perf/") {
        return fuelbench_perf::LoadHead::read(path)
            .map(drop)
            .map_err(|error| error.to_string());
    }
    let file = ResultsFile::read(path).map_err(|error| fuelbench_stdx::error_chain(&error))?;
    if !file.complete {
        return Err(format!(
            "its run is unfinished ({}); finish it with `fuelbench run --resume` first",
            file.progress
        ));
    }
    Ok(())
}
