//! Sleeping that the wall-clock backstop can cut short.
//!
//! Epoch interruption only fires while wasm code runs. A guest blocked in a
//! host call, such as `time.sleep(3600)` (WASI `poll_oneoff` on a clock),
//! would hold its thread for an hour. So the sandbox shadows `poll_oneoff`
//! with this one: it sleeps no further than the run's wall deadline and then
//! traps with [`Trap::Interrupt`], the same trap the epoch gives, so the run
//! ends as `wall_clock_exceeded`. A raised [`Interrupt`](crate::Interrupt)
//! wakes it too.
//!
//! Only clocks ever wait. The guest's file descriptors are in-memory pipes
//! and read-only regular files, which are always ready, so a subscription on
//! one completes at once, as wasmtime-wasi reports regular files too.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wasmtime::{Caller, Extern, Linker, Trap};

use crate::guest::GuestState;
use crate::interrupt::Interrupted;

/// How often a sleeping guest looks at its interrupt: the epoch's tick.
const INTERRUPT_POLL: Duration = Duration::from_millis(10);

// WASI preview 1's ABI: sizes, offsets and codes from its witx.
const SUBSCRIPTION_SIZE: usize = 48;
const EVENT_SIZE: usize = 32;
const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const CLOCKID_REALTIME: u32 = 0;
const SUBCLOCKFLAGS_ABSTIME: u16 = 1;
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;

pub(crate) fn add_to_linker(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap("wasi_snapshot_preview1", "poll_oneoff", poll_oneoff)?;
    linker.allow_shadowing(false);
    Ok(())
}

enum Subscription {
    /// Fires after this long.
    Clock {
        userdata: u64,
        after: Duration,
    },
    Fd {
        userdata: u64,
        event_type: u8,
    },
}

fn poll_oneoff(
    mut caller: Caller<'_, GuestState>,
    subscriptions_ptr: u32,
    events_ptr: u32,
    count: u32,
    count_out_ptr: u32,
) -> wasmtime::Result<i32> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Ok(ERRNO_FAULT);
    };
    if count == 0 {
        return Ok(ERRNO_INVAL);
    }
    let count = count as usize;
    let mut raw = vec![0u8; count * SUBSCRIPTION_SIZE];
    if memory
        .read(&caller, subscriptions_ptr as usize, &mut raw)
        .is_err()
    {
        return Ok(ERRNO_FAULT);
    }
    let clock = caller.data().clock;
    let mut subscriptions = Vec::with_capacity(count);
    for chunk in raw.chunks_exact(SUBSCRIPTION_SIZE) {
        let userdata = u64::from_le_bytes(chunk[0..8].try_into().expect("8 bytes"));
        match chunk[8] {
            EVENTTYPE_CLOCK => {
                let clock_id = u32::from_le_bytes(chunk[16..20].try_into().expect("4 bytes"));
                let timeout = u64::from_le_bytes(chunk[24..32].try_into().expect("8 bytes"));
                let flags = u16::from_le_bytes(chunk[40..42].try_into().expect("2 bytes"));
                let now = if clock_id == CLOCKID_REALTIME {
                    realtime_nanos()
                } else {
                    clock.nanos()
                };
                let after = if flags & SUBCLOCKFLAGS_ABSTIME != 0 {
                    timeout.saturating_sub(now)
                } else {
                    timeout
                };
                subscriptions.push(Subscription::Clock {
                    userdata,
                    after: Duration::from_nanos(after),
                });
            }
            event_type @ (EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE) => {
                subscriptions.push(Subscription::Fd {
                    userdata,
                    event_type,
                });
            }
            _ => return Ok(ERRNO_INVAL),
        }
    }

    let any_fd = subscriptions
        .iter()
        .any(|subscription| matches!(subscription, Subscription::Fd { .. }));
    let wait = if any_fd {
        Duration::ZERO
    } else {
        subscriptions
            .iter()
            .filter_map(|subscription| match subscription {
                Subscription::Clock { after, .. } => Some(*after),
                Subscription::Fd { .. } => None,
            })
            .min()
            .expect("count > 0 and no fd subscriptions, so there is a clock")
    };
    let now = Instant::now();
    let wake = now.checked_add(wait);
    match caller.data().wall_deadline {
        Some(deadline) if wake.is_none_or(|wake| wake > deadline) => {
            sleep_until(caller.data(), deadline)?;
            return Err(Trap::Interrupt.into());
        }
        _ => sleep_until(
            caller.data(),
            wake.unwrap_or(now + Duration::from_secs(86_400)),
        )?,
    }

    let mut events = Vec::with_capacity(count * EVENT_SIZE);
    let mut fired = 0u32;
    for subscription in &subscriptions {
        let (userdata, event_type) = match *subscription {
            Subscription::Clock { userdata, after } if after <= wait => (userdata, EVENTTYPE_CLOCK),
            Subscription::Clock { .. } => continue,
            Subscription::Fd {
                userdata,
                event_type,
            } => (userdata, event_type),
        };
        let mut event = [0u8; EVENT_SIZE];
        event[0..8].copy_from_slice(&userdata.to_le_bytes());
        event[10] = event_type;
        events.extend_from_slice(&event);
        fired += 1;
    }
    if memory
        .write(&mut caller, events_ptr as usize, &events)
        .is_err()
        || memory
            .write(&mut caller, count_out_ptr as usize, &fired.to_le_bytes())
            .is_err()
    {
        return Ok(ERRNO_FAULT);
    }
    Ok(ERRNO_SUCCESS)
}

/// Sleeps until `wake`; with an interrupt, in steps of [`INTERRUPT_POLL`],
/// so a raised one ends the sleep (and the run) within a step.
fn sleep_until(state: &GuestState, wake: Instant) -> wasmtime::Result<()> {
    loop {
        if state.interrupted() {
            return Err(wasmtime::Error::new(Interrupted));
        }
        let left = wake.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        let step = if state.interrupt.is_some() {
            left.min(INTERRUPT_POLL)
        } else {
            left
        };
        std::thread::sleep(step);
    }
}

fn realtime_nanos() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX)
}
