use std::time::Instant;

use super::*;

/// The cache the README's commands fill, as the integration tests find
/// it; these tests need the pinned interpreter built there.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FUELBENCH_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache")
        });
    base.join("fuelbench")
}

fn one_slot_sandbox() -> Sandbox {
    SandboxBuilder::new(cache_dir())
        .slots(1)
        .build()
        .unwrap_or_else(|error| panic!("the sandbox must build for these tests: {error}"))
}

/// What an instance leaves behind in every place it can write: its heap
/// (grown well past the snapshot), module and builtin state, `random`,
/// and an open file. The marker is assembled at run time, so the source
/// text the host copies in never holds it whole.
const DIRTY: &str = r#"
import builtins, random, sys
marker = ("fuelbench" + "-leak-") * 4
kept = [bytearray(marker.encode() * 65536) for _ in range(4)]
builtins.fuelbench_leak = marker
sys.modules["fuelbench_leak"] = sys
random.seed(12345)
held = open("/usr/local/lib/python3.11/os.py")
print(held.fileno())
"#;

const MARKER: &[u8] = b"fuelbench-leak-fuelbench-leak-fuelbench-leak-";

#[test]
fn a_reused_slot_starts_from_the_snapshots_exact_bytes() {
    let reused = one_slot_sandbox();
    let fresh = one_slot_sandbox();
    let limits = Limits::default();
    let dirty = reused
        .run(&Program::new(DIRTY), &limits)
        .expect("the host runs it");
    assert!(dirty.succeeded(), "{dirty:?} {}", dirty.stderr_lossy());
    let descriptor: i32 = dirty.stdout_lossy().trim().parse().expect("a descriptor");

    // With one slot, this instance is in the slot the last one used.
    let mut next = Guest::start(&reused, b"", 0, &limits).expect("an instance");
    let reused_memory = next.memory();
    drop(next);
    let mut never_used = Guest::start(&fresh, b"", 0, &limits).expect("an instance");
    let pristine = never_used.memory();
    drop(never_used);
    assert_eq!(reused_memory.len() as u64, reused.min_memory_bytes());
    assert!(
        !reused_memory
            .windows(MARKER.len())
            .any(|window| window == MARKER),
        "the last instance's heap is visible in the slot"
    );
    assert!(
        reused_memory == pristine,
        "a reused slot's memory differs from a never-used slot's"
    );

    let check = format!(
        r#"
import builtins, os, random, sys
assert not hasattr(builtins, "fuelbench_leak"), "a builtin survived"
assert "fuelbench_leak" not in sys.modules, "a module survived"
try:
    os.fstat({descriptor})
except OSError:
    pass
else:
    raise AssertionError("the last instance's open file is open here")
random.seed(0)
print(random.random())
"#
    );
    let after = reused
        .run(&Program::new(&check), &limits)
        .expect("the host runs it");
    assert!(after.succeeded(), "{after:?} {}", after.stderr_lossy());
    let in_fresh = fresh
        .run(&Program::new(&check), &limits)
        .expect("the host runs it");
    assert_eq!(after.stdout, in_fresh.stdout);
    assert_eq!(
        after.fuel_used, in_fresh.fuel_used,
        "fuel differs in a reused slot"
    );
}

#[test]
fn wall_limit_rounds_up_to_whole_ticks() {
    assert_eq!(epoch_ticks(Duration::from_millis(10)), 2);
    assert_eq!(epoch_ticks(Duration::from_millis(11)), 3);
    assert_eq!(epoch_ticks(Duration::ZERO), 1);
    assert_eq!(epoch_ticks(Duration::MAX), u64::MAX);
}
/// A raised interrupt stops a guest that computes, one that sleeps,
/// and any run started after it, with an error rather than a verdict;
/// without one raised, an interruptible sandbox judges as any other.
#[test]
fn an_interrupt_stops_running_sleeping_and_later_runs() {
    let sandbox = one_slot_sandbox();
    let limits = Limits::default();
    let interrupt = Interrupt::new();
    let interruptible = sandbox.interruptible(&interrupt);
    let plain = sandbox.run(&Program::new("print(sum(range(1000)))"), &limits);
    let same = interruptible.run(&Program::new("print(sum(range(1000)))"), &limits);
    assert_eq!(
        plain.expect("runs").fuel_used,
        same.expect("runs").fuel_used,
        "the flag costs no fuel"
    );

    for source in ["while True: pass", "import time\ntime.sleep(60)"] {
        let interrupt = Interrupt::new();
        let interruptible = sandbox.interruptible(&interrupt);
        let raiser = interrupt.clone();
        let started = Instant::now();
        let raising = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            raiser.raise();
        });
        let stopped = interruptible.run(&Program::new(source), &limits);
        raising.join().expect("no panic");
        assert!(
            matches!(stopped, Err(Error::Interrupted)),
            "{source}: {stopped:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{source}");
    }

    let short = Limits {
        wall: Duration::from_millis(200),
        ..Limits::default()
    };
    for source in ["import time\ntime.sleep(60)", "while True: time = 1"] {
        let timed_out = interruptible
            .run(&Program::new(source), &short)
            .expect("runs");
        let expected = sandbox.run(&Program::new(source), &short).expect("runs");
        assert_eq!(timed_out.status, expected.status, "{source}");
    }

    interrupt.raise();
    let later = interruptible.run(&Program::new("print(1)"), &limits);
    assert!(matches!(later, Err(Error::Interrupted)), "{later:?}");
}
