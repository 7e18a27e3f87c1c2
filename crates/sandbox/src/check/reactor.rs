//! The host's side of the reactor's exports: preparing the inputs, reading
//! an encoded outcome back, and what a stop means at each stage.

use crate::error::{Error, Result};
use crate::instance::{Guest, Stop};
use crate::outcome::Status;
use crate::value::{Outcome, Raised, Value, decode_outcome};

use super::{Ending, HARNESS_FUEL, Stage};

pub(super) enum Prepared {
    /// Our Python raised: the payload's inputs are malformed.
    Refused(String),
    Stopped(Stop),
}

/// Runs `fuelbench_prepare` on `payload` under the harness's fuel.
pub(super) fn prepare(
    guest: &mut Guest,
    payload: &serde_json::Value,
) -> Result<Result<(), Prepared>> {
    let Some((pointer, length)) = guest.write(payload.to_string().as_bytes())? else {
        return Ok(Err(Prepared::Stopped(memory_stop(guest))));
    };
    guest.set_fuel(HARNESS_FUEL)?;
    match guest.call::<(u32, u32), i32>("fuelbench_prepare", (pointer, length))? {
        Ok(0) => Ok(Ok(())),
        Ok(_) => Ok(Err(match read_outcome(guest)? {
            Ok(Outcome::Raised(raised)) => Prepared::Refused(raised.describe()),
            Ok(Outcome::Returned(value)) => {
                Prepared::Refused(format!("prepare failed with {value}"))
            }
            Ok(Outcome::Batch(_)) => Prepared::Refused("prepare failed with a batch".into()),
            Err(stop) => Prepared::Stopped(stop),
        })),
        Err(stop) => Ok(Err(Prepared::Stopped(stop))),
    }
}

/// The reactor's encoding of the last outcome, under the harness's fuel.
pub(super) fn read_outcome(guest: &mut Guest) -> Result<Result<Outcome, Stop>> {
    read_encoding(guest, "fuelbench_result")
}

/// What `export` encodes (the last outcome, or the inputs), under the
/// harness's fuel.
pub(super) fn read_encoding(guest: &mut Guest, export: &str) -> Result<Result<Outcome, Stop>> {
    guest.set_fuel(HARNESS_FUEL)?;
    let pointer = match guest.call::<(), u32>(export, ())? {
        Ok(0) => return Ok(Err(memory_stop(guest))),
        Ok(pointer) => pointer,
        Err(stop) => return Ok(Err(stop)),
    };
    let header = guest.read(pointer, 4)?;
    let length = u32::from_le_bytes(header.try_into().expect("read four bytes"));
    let bytes = guest.read(pointer + 4, length)?;
    Ok(decode_outcome(&bytes).map_err(|error| Stop {
        status: Status::Trapped,
        exit_code: None,
        detail: Some(format!("the result could not be decoded: {}", error.0)),
    }))
}

/// The exception the last step raised, as `ending`.
pub(super) fn read_raised(
    guest: &mut Guest,
    stage: Stage,
    ending: fn(Raised) -> Ending,
) -> Result<Ending> {
    Ok(match read_outcome(guest)? {
        Ok(Outcome::Raised(raised)) => ending(raised),
        // An exception past the encoding's cap (its `args` alone can be
        // 16 MiB) comes back as an unrepresentable value: still the
        // candidate's exception, of no class a verdict may name.
        Ok(Outcome::Returned(Value::Unrepresentable(why))) => ending(Raised {
            builtin_classes: Vec::new(),
            type_name: why.replace("a result", "an exception"),
            args: Value::Tuple(Vec::new()),
        }),
        Ok(Outcome::Returned(value)) => {
            return Err(Error::host(format!(
                "a failed step encoded as returning {value}"
            )));
        }
        Ok(Outcome::Batch(_)) => {
            return Err(Error::host("a failed step encoded as a batch".to_owned()));
        }
        Err(stop) => cut_off(stage, stop),
    })
}

pub(super) fn memory_stop(guest: &Guest) -> Stop {
    Stop {
        status: Status::MemoryExceeded,
        exit_code: None,
        detail: Some(guest.memory_detail()),
    }
}

pub(super) fn cut_off(stage: Stage, stop: Stop) -> Ending {
    let detail = match (stop.status, stop.exit_code) {
        (Status::Exited, Some(code)) => {
            format!("the candidate ended the process with status {code}")
        }
        (status, _) => stop.detail.unwrap_or_else(|| status.to_string()),
    };
    Ending::CutOff {
        stage,
        status: stop.status,
        exit_code: stop.exit_code,
        detail,
    }
}
