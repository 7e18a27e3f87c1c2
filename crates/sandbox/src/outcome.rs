//! How a run ended.

use std::time::Duration;

/// How a run ended. Serialises in snake_case (`out_of_fuel`), the names the
/// CLI and the reports use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The program finished, normally or through `sys.exit`, `os._exit` or an
    /// uncaught exception; [`RunOutcome::exit_code`] says which.
    Exited,
    /// The fuel budget ran out.
    OutOfFuel,
    /// The wall-clock backstop fired before the fuel ran out.
    WallClockExceeded,
    /// The guest asked for memory past its cap and failed because of it
    /// (usually a `MemoryError`).
    MemoryExceeded,
    /// The guest wrote more to stdout or stderr than the cap allows.
    OutputOverflow,
    /// The guest trapped for another reason (stack exhaustion, a fault in the
    /// interpreter); [`RunOutcome::detail`] says which.
    Trapped,
}

impl Status {
    /// Every status, in declaration order.
    pub const ALL: [Status; 6] = [
        Status::Exited,
        Status::OutOfFuel,
        Status::WallClockExceeded,
        Status::MemoryExceeded,
        Status::OutputOverflow,
        Status::Trapped,
    ];

    /// The status's snake_case name, the same as its serde name
    /// (`out_of_fuel`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Exited => "exited",
            Status::OutOfFuel => "out_of_fuel",
            Status::WallClockExceeded => "wall_clock_exceeded",
            Status::MemoryExceeded => "memory_exceeded",
            Status::OutputOverflow => "output_overflow",
            Status::Trapped => "trapped",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// How the run ended.
    pub status: Status,
    /// The process status, for [`Status::Exited`] and for
    /// [`Status::MemoryExceeded`] when the guest exited after its
    /// `MemoryError`; `None` when the run was cut off.
    pub exit_code: Option<i32>,
    /// Fuel the guest consumed. `None` after the wall-clock backstop fired,
    /// when the figure depends on timing and means nothing.
    pub fuel_used: Option<u64>,
    /// Captured stdout, at most [`Limits::stdout_bytes`](crate::Limits).
    pub stdout: Vec<u8>,
    /// Captured stderr, at most [`Limits::stderr_bytes`](crate::Limits).
    pub stderr: Vec<u8>,
    /// From a fresh store to the end of the run.
    pub wall_time: Duration,
    /// The host's account of a trap or cut-off, for the human reading it.
    pub detail: Option<String>,
}

impl RunOutcome {
    /// `stdout` as text, with invalid UTF-8 replaced by U+FFFD.
    pub fn stdout_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }

    /// `stderr` as text, with invalid UTF-8 replaced by U+FFFD.
    pub fn stderr_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }

    /// The outcome as `fuelbench sandbox run` prints it and the service
    /// answers it; field names are stable once published.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "status": self.status,
            "exit_code": self.exit_code,
            "fuel_used": self.fuel_used,
            "stdout": self.stdout_lossy(),
            "stderr": self.stderr_lossy(),
            "wall_ms": self.wall_time.as_secs_f64() * 1000.0,
            "detail": self.detail,
        })
    }

    /// True when the program ran to its end with status 0.
    pub fn succeeded(&self) -> bool {
        self.status == Status::Exited && self.exit_code == Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `as_str` and serde must publish the same names.
    #[test]
    fn status_names_match_their_serialisation() {
        for status in [
            Status::Exited,
            Status::OutOfFuel,
            Status::WallClockExceeded,
            Status::MemoryExceeded,
            Status::OutputOverflow,
            Status::Trapped,
        ] {
            let json = serde_json::to_value(status).expect("serialisable");
            assert_eq!(json, status.as_str());
        }
    }
}
