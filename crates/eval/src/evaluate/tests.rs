use fuelbench_complexity::Class;
use fuelbench_problems::ComplexitySpec;

use super::series::probe_size;

fn spec(expected: Class) -> ComplexitySpec {
    ComplexitySpec {
        expected,
        sizes: vec![30, 60, 125, 250, 500, 1000, 2000, 4000],
        setup: String::new(),
    }
}

/// The probe lies past the largest size, by a secret factor between 2 and 3
/// for a linear problem that differs from seed to seed and is the same for
/// one seed.
#[test]
fn the_probe_is_past_the_sizes_and_drawn_from_the_seed() {
    let linear = spec(Class::Linear);
    let probes: Vec<u64> = (0..200)
        .map(|seed| probe_size(&linear, seed).expect("linear problems have a probe"))
        .collect();
    assert!(
        probes.iter().all(|&n| (8000..12000).contains(&n)),
        "{probes:?}"
    );
    let mut distinct = probes.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 150, "{} distinct probes", distinct.len());
    assert!(probes.iter().any(|&n| n < 9000) && probes.iter().any(|&n| n > 11000));
    assert_eq!(probe_size(&linear, 7), probe_size(&linear, 7));
}

/// A dearer class than log or constant reads the whole input, which at the
/// largest size is past any budget already: no probe.
#[test]
fn constant_and_log_problems_have_no_probe() {
    assert_eq!(probe_size(&spec(Class::Log), 1), None);
    assert_eq!(probe_size(&spec(Class::Constant), 1), None);
    let quadratic = probe_size(&spec(Class::Quadratic), 1).expect("a probe");
    assert!((6000..8000).contains(&quadratic), "{quadratic}");
}
