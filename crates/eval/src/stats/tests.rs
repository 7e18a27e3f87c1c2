use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

/// pass@k by brute force: the share of all k-subsets of the n samples
/// (the first c passing) that hold a passing one.
fn pass_at_k_brute(n: usize, c: usize, k: usize) -> f64 {
    let (mut hits, mut subsets) = (0u64, 0u64);
    for mask in 0u32..(1 << n) {
        if mask.count_ones() as usize != k {
            continue;
        }
        subsets += 1;
        if (0..c).any(|i| mask >> i & 1 == 1) {
            hits += 1;
        }
    }
    hits as f64 / subsets as f64
}

#[test]
fn the_unbiased_pass_at_k_equals_brute_force_on_small_samples() {
    for n in 1..=10 {
        for c in 0..=n {
            for k in 1..=n {
                let (fast, brute) = (pass_at_k(n, c, k), pass_at_k_brute(n, c, k));
                assert!(
                    close(fast, brute, 1e-12),
                    "n={n} c={c} k={k}: {fast} != {brute}"
                );
            }
        }
    }
}

/// Exact two-sided McNemar p-values, from the binomial with p = 1/2.
#[test]
fn mcnemar_matches_a_table_of_known_values() {
    let table = [
        ((0, 0), 1.0),
        ((0, 3), 0.25),
        ((3, 0), 0.25),
        ((0, 5), 0.0625),
        ((0, 6), 0.03125),
        ((1, 9), 0.021484375),
        ((2, 8), 0.109375),
        ((3, 3), 1.0),
        ((5, 15), 0.04138946533203125),
    ];
    for ((only_a, only_b), want) in table {
        let got = mcnemar(only_a, only_b);
        assert!(
            close(got, want, 1e-12),
            "({only_a}, {only_b}): {got} != {want}"
        );
    }
}

#[test]
fn wilson_matches_known_intervals_and_stays_off_the_edges() {
    let cases = [
        ((0, 10), (0.0, 0.2775)),
        ((5, 10), (0.2366, 0.7634)),
        ((15, 15), (0.7961, 1.0)),
        ((12, 15), (0.5481, 0.9295)),
    ];
    for ((successes, trials), (low, high)) in cases {
        let interval = wilson(successes, trials).expect("trials");
        assert!(
            close(interval.low, low, 5e-4) && close(interval.high, high, 5e-4),
            "{successes}/{trials}: {interval:?}"
        );
    }
    assert_eq!(wilson(0, 0), None);
}

/// The Wilson interval's exact coverage over 15 problems, summed over every
/// number of passes, for true rates 0.01 to 0.99: 95% on average (within
/// 0.94 to 0.96), and never below 0.91 for rates 0.05 to 0.95. Coverage
/// oscillates with the rate at small counts; 0.86 near the extremes is the
/// known price of any interval on 15 trials.
#[test]
fn wilson_covers_the_true_rate_95_percent_of_the_time_on_average() {
    let n = 15;
    let choose = |n: u64, k: u64| (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64);
    let coverage = |rate: f64| -> f64 {
        (0..=n)
            .filter(|k| {
                let interval = wilson(*k as usize, n as usize).expect("trials");
                interval.low <= rate && rate <= interval.high
            })
            .map(|k| choose(n, k) * rate.powi(k as i32) * (1.0 - rate).powi((n - k) as i32))
            .sum()
    };
    let rates: Vec<f64> = (1..100).map(|i| f64::from(i) / 100.0).collect();
    let covered: Vec<f64> = rates.iter().map(|rate| coverage(*rate)).collect();
    let mean = covered.iter().sum::<f64>() / covered.len() as f64;
    assert!((0.94..=0.96).contains(&mean), "{mean}");
    let inner = covered[4..95].iter().copied().fold(f64::INFINITY, f64::min);
    assert!(inner >= 0.91, "{inner}");
}

/// Problems whose pass rates are drawn from a known population, three
/// samples each: the nested bootstrap's interval on the mean holds the
/// population's mean in at least 88% of 300 runs (a percentile bootstrap
/// over 15 problems is known to run a little short of 95%) and at most 99%.
#[test]
fn the_nested_bootstrap_covers_the_population_mean() {
    let mut rng = StdRng::seed_from_u64(11);
    let population_mean = 0.55;
    let runs = 300;
    let covered = (0..runs)
        .filter(|run| {
            let groups: Vec<Vec<f64>> = (0..15)
                .map(|_| {
                    // Rates uniform on [0.1, 1.0]: mean 0.55.
                    let rate = 0.1 + 0.9 * rng.random::<f64>();
                    (0..3)
                        .map(|_| if rng.random_bool(rate) { 1.0 } else { 0.0 })
                        .collect()
                })
                .collect();
            let mean_of_means = |groups: &[Vec<f64>]| {
                let sum: f64 = groups
                    .iter()
                    .map(|samples| samples.iter().sum::<f64>() / samples.len() as f64)
                    .sum();
                Some(sum / groups.len() as f64)
            };
            let interval = bootstrap(&groups, mean_of_means, *run as u64).expect("groups");
            interval.low <= population_mean && population_mean <= interval.high
        })
        .count();
    let coverage = covered as f64 / runs as f64;
    assert!((0.88..=0.99).contains(&coverage), "{coverage}");
}

#[test]
fn a_bootstrap_is_the_same_for_the_same_seed() {
    let groups = vec![
        vec![1.0, 0.0],
        vec![1.0, 1.0],
        vec![0.0, 0.0],
        vec![1.0, 0.0],
    ];
    let mean = |groups: &[Vec<f64>]| Some(groups.iter().flatten().sum::<f64>() / 8.0);
    assert_eq!(bootstrap(&groups, mean, 3), bootstrap(&groups, mean, 3));
    assert_eq!(bootstrap::<f64>(&[], mean, 3), None);
    // A problem without samples is drawn as empty, never a panic.
    let sparse = vec![vec![1.0], Vec::new()];
    let flat = |groups: &[Vec<f64>]| {
        let values: Vec<f64> = groups.iter().flatten().copied().collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    assert!(bootstrap(&sparse, flat, 1).is_some());
}

#[test]
fn the_sign_flip_test_is_exact_on_few_problems() {
    // Three problems all one way: 2 of the 8 sign patterns are as extreme.
    assert!(close(sign_flip(&[1.0, 1.0, 1.0], 0), 0.25, 1e-12));
    // Zeros carry no information and are left out.
    assert!(close(sign_flip(&[1.0, 0.0, 1.0, 0.0, 1.0], 0), 0.25, 1e-12));
    assert_eq!(sign_flip(&[0.0, 0.0], 0), 1.0);
    // Balanced differences are no evidence at all.
    assert_eq!(sign_flip(&[0.5, -0.5], 0), 1.0);
    // Twenty problems one way: far past 5%, from random flips, never 0.
    let p = sign_flip(&[0.4; 20], 1);
    assert!(p > 0.0 && p < 0.001, "{p}");
}

#[test]
fn more_noise_or_a_smaller_difference_needs_more_samples() {
    let noisy = samples_needed(&[0.5; 15], 0.1).expect("uncertain");
    let quiet = samples_needed(&[0.9; 15], 0.1).expect("uncertain");
    let finer = samples_needed(&[0.5; 15], 0.05).expect("uncertain");
    assert!(noisy > quiet && finer > noisy, "{noisy} {quiet} {finer}");
    // 2 (1.96 + 0.8416)^2 * 15 * 0.25 / (225 * 0.01) = 26.2
    assert_eq!(noisy, 27);
    assert_eq!(samples_needed(&[1.0, 0.0], 0.1), None);
    assert_eq!(samples_needed(&[0.5], 0.0), None);
    // 2 (2.8016)^2 * 0.25 / 0.01 = 392.4
    assert_eq!(problems_needed(0.5, 0.1), Some(393));
}
