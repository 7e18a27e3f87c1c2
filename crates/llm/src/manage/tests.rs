use super::memory::{memory_back, parse_mem_available};
use super::*;

#[test]
fn mem_available_is_read_in_bytes() {
    let meminfo = "MemTotal: 100 kB\nMemFree: 10 kB\nMemAvailable:   2048 kB\n";
    assert_eq!(parse_mem_available(meminfo), Some(2048 * 1024));
    assert_eq!(parse_mem_available("MemTotal: 1 kB\n"), None);
    assert!(mem_available().unwrap() > 0);
}

#[test]
fn memory_that_never_comes_back_is_reported_with_both_figures() {
    let gib = 1u64 << 30;
    assert!(memory_back(20 * gib, 20 * gib - (256 << 20), 512 << 20));
    assert!(memory_back(20 * gib, 21 * gib, 512 << 20));
    assert!(!memory_back(20 * gib, 12 * gib, 512 << 20));
    let error = Error::MemoryNotBack {
        before: 20 * gib,
        now: 12 * gib,
        waited: Duration::from_secs(120),
    };
    let text = error.to_string();
    assert!(text.contains("12.00 GiB after 120s"), "{text}");
    assert!(text.contains("20.00 GiB before loading"), "{text}");
    assert!(
        text.contains("something still holds the model's memory"),
        "{text}"
    );
}

#[test]
fn local_hosts_are_recognised() {
    assert!(is_local("http://127.0.0.1:8080"));
    assert!(is_local("http://localhost:11434/v1"));
    assert!(is_local("http://[::1]:8080"));
    assert!(!is_local("http://10.0.0.5:8080"));
    assert!(!is_local("http://gpu-box:8080"));
}
