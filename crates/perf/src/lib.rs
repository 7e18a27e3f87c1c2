//! Serving benchmarks: how fast a model server answers, measured so that
//! the measurement can be trusted.
//!
//! - [`load`] drives open- and closed-loop load through `fuelbench-llm`'s
//!   streaming client, with arrival times fixed before the run.
//! - [`log`] is the raw record: per request, its scheduled, woken and sent
//!   times and every stream event's arrival and kind.
//! - [`metrics`] computes every figure from that log alone, each named by
//!   the definition it follows.
//! - [`measure`] is a whole load run as it is filed: the plan fitted to
//!   what the server counts, its identity and memory, the saved report.
//! - [`latency`] runs sequential suites on a server the caller started,
//!   and compares builds by their confidence intervals.
//! - [`stub`] is a streaming server with known timings, to measure the
//!   generator; it never stands in for a real server in the end-to-end test.

pub mod latency;
pub mod load;
pub mod log;
mod measure;
pub mod metrics;
pub mod stub;

use std::path::{Path, PathBuf};

pub use crate::load::{InputUnit, LoadPlan, Rate};
pub use crate::log::{EventKind, LoggedEvent, RequestLog, TokenSource};
pub use crate::measure::{LoadRun, measure};
pub use crate::metrics::{Distribution, PERCENTILE_METHOD, Summary, percentile};

/// The `format` of a saved load run.
pub const FORMAT: &str = "fuelbench-perf-load/1";

/// A named load profile, after the SGLang load-test runbook's; `scale`
/// shrinks lengths and counts for a small machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Random 1024 in, 1024 out, range ratio 0.5, 3000 prompts.
    Random,
    /// 256 in, 256 out, 3000 prompts.
    Short,
    /// 4096 in, 1024 out, 1000 prompts.
    Long,
}

impl Profile {
    /// The profile's own name, `random`, `short` or `long`: what a run of it,
    /// unchanged and unscaled, is filed under.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Random => "random",
            Profile::Short => "short",
            Profile::Long => "long",
        }
    }

    /// Input and output tokens, range ratio and prompts, scaled.
    pub fn shape(self, scale: f64) -> (usize, u32, f64, usize) {
        let (input, output, ratio, prompts) = match self {
            Profile::Random => (1024.0, 1024.0, 0.5, 3000.0),
            Profile::Short => (256.0, 256.0, 1.0, 3000.0),
            Profile::Long => (4096.0, 1024.0, 1.0, 1000.0),
        };
        let scaled = |value: f64| (value * scale).round().max(1.0);
        (
            scaled(input) as usize,
            scaled(output) as u32,
            ratio,
            scaled(prompts) as usize,
        )
    }
}

/// A load run as saved: what was asked, of which server, the raw log and
/// its summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoadReport {
    /// Everything but the raw log, flattened into the same JSON object.
    #[serde(flatten)]
    pub head: LoadHead,
    /// Every request's raw log, in index order.
    pub requests: Vec<RequestLog>,
}

/// A saved load run without its raw log: what a listing or a leaderboard
/// reads.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoadHead {
    /// Always [`FORMAT`]; [`LoadHead::read`] refuses any other.
    pub format: String,
    /// The server's base URL, as the client was given it.
    pub server: String,
    /// The model's name as each request sent it.
    pub model: String,
    /// The profile the run is filed and compared under (see
    /// [`Profile::filed_name`]).
    pub profile: String,
    /// When the run started, RFC 3339.
    pub started_at: String,
    /// The plan, as given.
    pub plan: serde_json::Value,
    /// The server as it described itself before the run (`/props`), and the
    /// local process behind its port.
    #[serde(default)]
    pub server_identity: Option<fuelbench_llm::ServerIdentity>,
    /// Memory just before the first request and just after the last.
    #[serde(default)]
    pub memory_before: Option<fuelbench_llm::MemoryReading>,
    /// The same reading just after the last request.
    #[serde(default)]
    pub memory_after: Option<fuelbench_llm::MemoryReading>,
    /// The figures computed from `requests` alone (see [`Summary::of`]).
    pub summary: Summary,
}

/// The most a saved load run may hold, its raw log included: a few
/// thousand requests' events are tens of MiB.
pub const MAX_SAVED_RUN_BYTES: u64 = 256 << 20;

impl LoadHead {
    /// Reads a saved run's head; the raw log is skipped, not kept.
    /// Only a regular file of at most [`MAX_SAVED_RUN_BYTES`] is read.
    pub fn read(path: &Path) -> std::io::Result<LoadHead> {
        use std::io::Read as _;
        let meta = std::fs::metadata(path)?;
        if !meta.is_file() || meta.len() > MAX_SAVED_RUN_BYTES {
            return Err(std::io::Error::other(format!(
                "not a regular file of at most {} MiB",
                MAX_SAVED_RUN_BYTES >> 20
            )));
        }
        let mut text = String::new();
        std::fs::File::open(path)?
            .take(MAX_SAVED_RUN_BYTES)
            .read_to_string(&mut text)?;
        LoadHead::from_text(&text)
    }

    /// A saved run's head from its text.
    pub fn from_text(text: &str) -> std::io::Result<LoadHead> {
        let head: LoadHead = serde_json::from_str(text).map_err(std::io::Error::other)?;
        if head.format != FORMAT {
            return Err(std::io::Error::other(format!(
                "not a load run (format {:?}, not {FORMAT:?})",
                head.format
            )));
        }
        Ok(head)
    }

    /// Which server, build and model it measured.
    pub fn server_key(&self) -> fuelbench_llm::ServerKey {
        match &self.server_identity {
            Some(identity) => identity.key(&self.model),
            None => fuelbench_llm::ServerKey {
                base_url: self.server.clone(),
                model: self.model.clone(),
                model_path: None,
                build: None,
                binary_sha256: None,
            },
        }
    }
}

/// The saved load runs under `dir` (`<server>/<profile>-<time>.json`), by
/// path; a file that is not one is skipped.
pub fn saved_runs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(servers) = std::fs::read_dir(dir) else {
        return found;
    };
    for server in servers.flatten().map(|entry| entry.path()) {
        let Ok(files) = std::fs::read_dir(&server) else {
            continue;
        };
        found.extend(
            files
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "json") && path.is_file()),
        );
    }
    found.sort();
    found
}

impl LoadReport {
    /// Writes it as `dir/<server>/<profile>-<time>.json` (the first of
    /// [`LoadReport::places`] that nothing holds); the path.
    pub fn save(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let bytes = self.to_bytes()?;
        for place in self.places() {
            let path = dir.join(place);
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            match fuelbench_stdx::create_durably(&path, &bytes) {
                Ok(()) => return Ok(path),
                // Taken by another run: the next place. Anything else
                // (a file where the folder should be) is an error.
                Err(error)
                    if error.kind() == std::io::ErrorKind::AlreadyExists && path.exists() =>
                {
                    continue;
                }
                Err(error) => return Err(error),
            }
        }
        unreachable!("the places never run out")
    }

    /// The run as it is saved: pretty JSON, a line.
    pub fn to_bytes(&self) -> std::io::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Where it may be saved, under a folder of saved runs, in the order to
    /// try them: `<server>/<profile>-<time>.json`, then `-2`, `-3`, ...
    /// after the time, so two runs of one profile in one second each keep
    /// a file of their own.
    pub fn places(&self) -> impl Iterator<Item = String> + '_ {
        let head = &self.head;
        let server: String = head
            .server
            .split_once("://")
            .map_or(head.server.as_str(), |(_, rest)| rest)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let stamp: String = head
            .started_at
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(14)
            .collect();
        let folder = match server.trim_matches('_') {
            "" => "server".to_owned(),
            folder => folder.to_owned(),
        };
        (1u64..).map(move |n| match n {
            1 => format!("{folder}/{}-{stamp}.json", head.profile),
            n => format!("{folder}/{}-{stamp}-{n}.json", head.profile),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_runs_saved_in_one_second_keep_a_file_each() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let report = |model: &str| LoadReport {
            head: LoadHead {
                format: FORMAT.to_string(),
                server: "http://127.0.0.1:8080".to_string(),
                model: model.to_string(),
                profile: "short".to_string(),
                started_at: "2026-12-05T16:30:00Z".to_string(),
                plan: serde_json::Value::Null,
                server_identity: None,
                memory_before: None,
                memory_after: None,
                summary: Summary::of(&[]),
            },
            requests: Vec::new(),
        };
        let first = report("a").save(dir.path()).expect("saved");
        let second = report("b").save(dir.path()).expect("saved");
        assert_ne!(first, second);
        assert_eq!(LoadHead::read(&first).expect("read").model, "a");
        assert_eq!(LoadHead::read(&second).expect("read").model, "b");
        assert_eq!(saved_runs(dir.path()).len(), 2);
    }
}
