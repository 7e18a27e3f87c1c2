//! The machine's memory around a model: the baseline before it loads, and
//! waiting for it to come back after it unloads.

use std::time::Instant;

use super::Manager;
use crate::{Error, Result};

impl Manager {
    /// Polls `MemAvailable` until two readings a poll apart agree within
    /// the tolerance: the kernel has finished handing back the last model.
    pub(super) async fn wait_memory_settled(&self) -> Result<u64> {
        let started = Instant::now();
        let mut previous = mem_available()?;
        loop {
            tokio::time::sleep(self.config.poll).await;
            let now = mem_available()?;
            if now.abs_diff(previous) <= self.config.memory_tolerance_bytes / 4
                || started.elapsed() >= self.config.memory_timeout
            {
                return Ok(now);
            }
            previous = now;
        }
    }

    pub(super) async fn wait_memory_back(&self, before: u64) -> Result<u64> {
        let started = Instant::now();
        loop {
            let now = mem_available()?;
            if memory_back(before, now, self.config.memory_tolerance_bytes) {
                return Ok(now);
            }
            if started.elapsed() >= self.config.memory_timeout {
                return Err(Error::MemoryNotBack {
                    before,
                    now,
                    waited: self.config.memory_timeout,
                });
            }
            tokio::time::sleep(self.config.poll).await;
        }
    }
}

/// Memory before a model was loaded, to check it comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBaseline {
    /// `MemAvailable` once settled before loading, in bytes; `None` where memory is
    /// not checked (a remote or single-model server).
    pub mem_available_before: Option<u64>,
}

/// Memory counts as back when `MemAvailable` is within `tolerance` of where
/// it was before the model was loaded, or above it.
pub(super) fn memory_back(before: u64, now: u64, tolerance: u64) -> bool {
    now.saturating_add(tolerance) >= before
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
pub fn mem_available() -> Result<u64> {
    let path = "/proc/meminfo";
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })?;
    parse_mem_available(&text)
        .ok_or_else(|| Error::Protocol(format!("{path} has no readable MemAvailable line")))
}

pub(super) fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find(|line| line.starts_with("MemAvailable:"))?;
    let mut words = line.split_whitespace().skip(1);
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => Some(value * 1024),
        Some(_) => None,
    }
}
