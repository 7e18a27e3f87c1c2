//! Which process drives a job, and whether it still lives: a job whose
//! driver died is settled as failed, never left running for ever.

/// Which run of process `pid` this is: when it started, in clock ticks since
/// boot (`/proc/PID/stat`'s 22nd field), and which boot that was, so that a
/// PID given to another process, even after a restart, reads as another
/// process. `None` when there is no such process, or it is a zombie.
pub(crate) fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces, parentheses and
    // bytes that are not UTF-8.
    let stat = String::from_utf8_lossy(&stat);
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    let state = fields.next()?;
    if matches!(state, "Z" | "X" | "x") {
        return None;
    }
    // Fields 4 to 22 follow the state; the start time is the last of them.
    let ticks: u64 = fields.nth(18)?.parse().ok()?;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(format!("{ticks}@{}", boot.trim()))
}

/// Whether the process an `owner` names is still the one that took the run:
/// `None` when it is on another host, which cannot be asked.
pub(crate) fn owner_alive(owner: &str, host: &str) -> Option<bool> {
    let mut parts = owner.rsplitn(3, ':');
    let (last, middle, first) = (parts.next()?, parts.next()?, parts.next());
    // `host:pid:start`, or `host:pid` from before start times were kept.
    let (owner_host, pid, start) = match first {
        Some(owner_host) if middle.parse::<u32>().is_ok() => (owner_host, middle, Some(last)),
        _ => (
            owner
                .rsplit_once(':')
                .map_or(owner, |(owner_host, _)| owner_host),
            last,
            None,
        ),
    };
    if owner_host != host {
        return None;
    }
    let Ok(pid) = pid.parse::<u32>() else {
        return Some(false);
    };
    Some(match (process_start(pid), start) {
        (None, _) => false,
        (Some(now), Some(then)) => then == now,
        // An owner from before start times: the PID alone, unless it is ours.
        (Some(_), None) => pid != std::process::id(),
    })
}

/// This machine's name, as owners name it, and this process as an owner:
/// `host:pid:start` ([`process_start`]), or `host:pid` where the start time
/// cannot be read (other drivers then judge by the PID alone).
pub(crate) fn this_process() -> (String, String) {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    let pid = std::process::id();
    let owner = match process_start(pid) {
        Some(started) => format!("{host}:{pid}:{started}"),
        None => format!("{host}:{pid}"),
    };
    (host, owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reads_as_alive_and_a_zombie_free_start_time() {
        let own = std::process::id();
        let start = process_start(own).expect("this process has a start time");
        assert_eq!(owner_alive(&format!("h:{own}:{start}"), "h"), Some(true));
        assert_eq!(owner_alive(&format!("h:{own}:{start}x"), "h"), Some(false));
        assert!(start.contains('@') && !start.contains(':'), "{start}");
        assert_eq!(owner_alive("other:1:0", "h"), None);
        assert_eq!(
            owner_alive("h:1", "h"),
            Some(true),
            "the old form, PID alone"
        );
        assert_eq!(owner_alive(&format!("h:{own}"), "h"), Some(false));
        assert_eq!(
            owner_alive("h:not-a-pid:3", "h"),
            None,
            "malformed: not ours to settle"
        );
    }
}
