//! The process behind a local server's port, read from `/proc`: which
//! binary it runs (so a speed figure and a quality score can be tied to the
//! same build) and how much memory it holds.

use std::path::PathBuf;

/// A process on this machine listening on a server's port.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct LocalProcess {
    /// The listening process's PID.
    pub pid: u32,
    /// What `/proc/<pid>/exe` points at.
    pub binary: PathBuf,
    /// The binary's sha256; `None` when it could not be read.
    pub binary_sha256: Option<String>,
}

/// Memory as it stood at one moment: the server's own resident set where
/// it is a local process, the machine's `MemAvailable`, and each GPU's
/// used memory where `nvidia-smi` answers.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MemoryReading {
    /// The server process's resident set, in bytes; `None` when it is not local or
    /// cannot be read.
    pub server_rss_bytes: Option<u64>,
    /// The machine's `MemAvailable`, in bytes; `None` when `/proc/meminfo` cannot be
    /// read.
    pub mem_available_bytes: Option<u64>,
    /// MiB used on each GPU, in `nvidia-smi`'s order; absent without one.
    pub gpu_used_mib: Option<Vec<u64>>,
}

impl MemoryReading {
    /// Reads it now; `pid` is the server's, when it is local.
    pub fn now(pid: Option<u32>) -> MemoryReading {
        MemoryReading {
            server_rss_bytes: pid.and_then(rss_bytes),
            mem_available_bytes: crate::mem_available().ok(),
            gpu_used_mib: gpu_used_mib(),
        }
    }
}

/// The process listening on `base_url`'s port, when the URL names this
/// machine and the process is visible to this user.
pub fn local_process(base_url: &str) -> Option<LocalProcess> {
    if !crate::is_local(base_url) {
        return None;
    }
    let port = reqwest::Url::parse(base_url)
        .ok()?
        .port_or_known_default()?;
    let pid = listening_pid(port)?;
    let binary = procfs::process::Process::new(pid as i32).ok()?.exe().ok()?;
    let binary_sha256 = std::fs::read(&binary)
        .ok()
        .map(|bytes| format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&bytes)));
    Some(LocalProcess {
        pid,
        binary,
        binary_sha256,
    })
}

/// The process holding a listening TCP socket on `port`, over IPv4 or IPv6.
fn listening_pid(port: u16) -> Option<u32> {
    use procfs::net::TcpState;
    let sockets = procfs::net::tcp()
        .into_iter()
        .chain(procfs::net::tcp6())
        .flatten();
    let inodes: Vec<u64> = sockets
        .filter(|entry| entry.state == TcpState::Listen && entry.local_address.port() == port)
        .map(|entry| entry.inode)
        .collect();
    if inodes.is_empty() {
        return None;
    }
    procfs::process::all_processes()
        .ok()?
        .flatten()
        .find(|process| {
            process.fd().is_ok_and(|fds| {
                fds.flatten().any(|fd| {
                    matches!(fd.target, procfs::process::FDTarget::Socket(inode)
                        if inodes.contains(&inode))
                })
            })
        })
        .map(|process| process.pid as u32)
}

/// A process's resident set, in bytes.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = procfs::process::Process::new(pid as i32)
        .ok()?
        .status()
        .ok()?;
    status.vmrss.map(|kib| kib * 1024)
}

/// Used memory on each GPU, from `nvidia-smi`; `None` where there is none.
fn gpu_used_mib() -> Option<Vec<u64>> {
    let output = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=memory.used", "--format=csv,noheader,nounits"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.trim().parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket this test listens on is found to be this process's.
    #[test]
    fn the_listening_process_is_found_by_its_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("bound").port();
        let found = local_process(&format!("http://127.0.0.1:{port}")).expect("found");
        assert_eq!(found.pid, std::process::id());
        assert_eq!(
            found.binary,
            std::env::current_exe().expect("this test's binary")
        );
        assert_eq!(found.binary_sha256.as_ref().map(String::len), Some(64));
        assert!(rss_bytes(found.pid).is_some_and(|rss| rss > 0));
        drop(listener);
        assert_eq!(local_process(&format!("http://127.0.0.1:{port}")), None);
        assert_eq!(local_process("http://example.invalid:8080"), None);
    }
}
