//! Statistics over scores: how sure a score is, and whether two runs differ.
//!
//! Verdicts and fuel are deterministic, so the only noise in a score is the
//! model's (which answer it gave) and the problem set's (which problems were
//! asked). Every figure here is computed from per-problem values alone, and
//! every random draw comes from a seed the caller gives, so the same results
//! always give the same intervals and p-values.
//!
//! - An interval on a score is [`wilson`]'s where every problem's value is 0
//!   or 1 (one sample each: a plain proportion), else a [`bootstrap`] over
//!   problems with each problem's samples resampled inside it. The Wilson
//!   interval stays honest at 0 and 1, where a percentile bootstrap over
//!   15 problems runs narrow or collapses to a point: 15 of 15 is
//!   `[0.796, 1]`, not `[1, 1]`; so a bootstrap's interval is widened to
//!   hold [`wilson_mean`]'s over the problems (see `score`).
//! - Two runs are compared on the problems both attempted: [`mcnemar`]'s
//!   exact test on per-problem pass and fail when each has one sample, a
//!   paired [`sign_flip`] (permutation) test on per-problem differences when
//!   either has more.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, Normal};

/// The confidence of every interval: 95%.
pub const CONFIDENCE: f64 = 0.95;

/// Resamples in a bootstrap: enough that the 2.5% and 97.5% points move by
/// less than a thousandth between seeds on a 15-problem run.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// The most values a bootstrap draws in all (resamples times values), and
/// the fewest resamples it makes when that bound lowers their number.
const BOOTSTRAP_WORK: usize = 4_000_000;
const MIN_RESAMPLES: usize = 200;

/// Past this many problems with a difference, the sign-flip test draws
/// this many random flips instead of trying all `2^n`.
const EXACT_FLIPS_UP_TO: usize = 16;
const RANDOM_FLIPS: usize = 20_000;

/// How an interval was computed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IntervalMethod {
    /// Wilson's score interval on a proportion of problems.
    Wilson,
    /// Percentile bootstrap over problems, samples resampled within each.
    Bootstrap,
}

/// A 95% interval around a score.
#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Interval {
    /// The lower end.
    pub low: f64,
    /// The upper end.
    pub high: f64,
    /// How it was computed.
    pub method: IntervalMethod,
}

impl Interval {
    /// Whether two intervals share any point.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.low <= other.high && other.low <= self.high
    }
}

/// The two-sided normal quantile for [`CONFIDENCE`].
fn z(confidence: f64) -> f64 {
    let normal = Normal::standard();
    normal.inverse_cdf(1.0 - (1.0 - confidence) / 2.0)
}

/// Wilson's score interval for `successes` of `trials`; `None` for no trials.
pub fn wilson(successes: usize, trials: usize) -> Option<Interval> {
    wilson_mean(successes as f64 / trials.max(1) as f64, trials)
}

/// Wilson's score interval for a mean `p` of `trials` values in `[0, 1]`:
/// exact in form for a proportion, and conservative for any other bounded
/// values, whose variance is at most `p (1 - p)`.
pub fn wilson_mean(p: f64, trials: usize) -> Option<Interval> {
    if trials == 0 || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let n = trials as f64;
    let z = z(CONFIDENCE);
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At 0 and at 1 the interval ends there exactly, not a rounding away.
    Some(Interval {
        low: if p <= 0.0 {
            0.0
        } else {
            (centre - half).max(0.0)
        },
        high: if p >= 1.0 {
            1.0
        } else {
            (centre + half).min(1.0)
        },
        method: IntervalMethod::Wilson,
    })
}

/// A percentile bootstrap of `statistic` over `groups` (one per problem,
/// each its samples' values): each resample draws problems with
/// replacement, then each drawn problem's samples with replacement (a
/// problem with none stays empty).
/// `None` when there are no groups or the statistic is never defined.
pub fn bootstrap<T: Clone>(
    groups: &[Vec<T>],
    statistic: impl Fn(&[Vec<T>]) -> Option<f64>,
    seed: u64,
) -> Option<Interval> {
    if groups.is_empty() {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    // The work is resamples times values: bounded, so that a results file
    // of a hundred thousand records costs a fraction of a second, not
    // minutes, on every read that scores it.
    let total: usize = groups.iter().map(Vec::len).sum::<usize>().max(1);
    let resamples = (BOOTSTRAP_WORK / total).clamp(MIN_RESAMPLES, BOOTSTRAP_RESAMPLES);
    let mut values = Vec::with_capacity(resamples);
    let mut resample = Vec::with_capacity(groups.len());
    for _ in 0..resamples {
        resample.clear();
        for _ in 0..groups.len() {
            let group = &groups[rng.random_range(0..groups.len())];
            if group.is_empty() {
                resample.push(Vec::new());
                continue;
            }
            let drawn = (0..group.len())
                .map(|_| group[rng.random_range(0..group.len())].clone())
                .collect();
            resample.push(drawn);
        }
        values.extend(statistic(&resample).filter(|value| value.is_finite()));
    }
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    Some(Interval {
        low: quantile(&values, tail),
        high: quantile(&values, 1.0 - tail),
        method: IntervalMethod::Bootstrap,
    })
}

/// The `q` quantile of sorted `values`, interpolated between ranks.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

/// The unbiased pass@k for one problem with `n` samples of which `c` pass
/// (Chen et al., 2021): `1 - C(n - c, k) / C(n, k)`, the chance that at
/// least one of `k` samples drawn without replacement passes.
pub fn pass_at_k(n: usize, c: usize, k: usize) -> f64 {
    if n < k || n - c < k {
        return if c > 0 { 1.0 } else { 0.0 };
    }
    let mut none_pass = 1.0;
    for i in (n - c + 1)..=n {
        none_pass *= 1.0 - k as f64 / i as f64;
    }
    1.0 - none_pass
}

/// The exact two-sided McNemar test: of the problems where two runs
/// disagree, `only_a` pass in the first alone and `only_b` in the second
/// alone. Under no difference each disagreement goes either way with
/// chance one half; the p-value is twice the smaller tail, at most 1.
pub fn mcnemar(only_a: usize, only_b: usize) -> f64 {
    let discordant = only_a + only_b;
    if discordant == 0 {
        return 1.0;
    }
    let binomial = Binomial::new(0.5, discordant as u64).expect("one half is a probability");
    (2.0 * binomial.cdf(only_a.min(only_b) as u64)).min(1.0)
}

/// A paired sign-flip (permutation) test of whether per-problem
/// `differences` centre on zero: the two-sided p-value of their mean, over
/// every way of flipping their signs (exactly when few differ from zero,
/// else from [`RANDOM_FLIPS`] draws of `seed`, with the observed one
/// counted, so that p is never 0).
pub fn sign_flip(differences: &[f64], seed: u64) -> f64 {
    let nonzero: Vec<f64> = differences.iter().copied().filter(|d| *d != 0.0).collect();
    if nonzero.is_empty() {
        return 1.0;
    }
    // Sums compare within a rounding error of the observed one.
    let observed = nonzero.iter().sum::<f64>().abs() - 1e-9;
    if nonzero.len() <= EXACT_FLIPS_UP_TO {
        let total = 1u64 << nonzero.len();
        let extreme = (0..total)
            .filter(|signs| {
                let sum: f64 = nonzero
                    .iter()
                    .enumerate()
                    .map(|(i, d)| if signs >> i & 1 == 1 { -d } else { *d })
                    .sum();
                sum.abs() >= observed
            })
            .count();
        return extreme as f64 / total as f64;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let extreme = (0..RANDOM_FLIPS)
        .filter(|_| {
            let sum: f64 = nonzero
                .iter()
                .map(|d| if rng.random_bool(0.5) { -d } else { *d })
                .sum();
            sum.abs() >= observed
        })
        .count();
    (extreme + 1) as f64 / (RANDOM_FLIPS + 1) as f64
}

/// How many samples per problem tell apart, at 5% two-sided and 80% power,
/// two models whose pass@1 differ by `delta` on these problems, from one
/// model's per-problem pass rates. The problems are fixed and both models
/// answer each, so only the samples' noise is left: the difference of two
/// means of `m` problems has variance `2 Σ p(1 - p) / (n m²)`. `None` when
/// no problem is uncertain (every rate 0 or 1) or `delta` is not positive.
pub fn samples_needed(pass_rates: &[f64], delta: f64) -> Option<usize> {
    let m = pass_rates.len() as f64;
    let spread: f64 = pass_rates.iter().map(|p| p * (1.0 - p)).sum();
    if delta.is_nan() || delta <= 0.0 || spread <= 0.0 || m == 0.0 {
        return None;
    }
    let z = z(CONFIDENCE) + Normal::standard().inverse_cdf(0.80);
    let n = (2.0 * z * z * spread / (m * m * delta * delta))
        .ceil()
        .max(1.0);
    n.is_finite().then_some(n as usize)
}

/// How many problems, one sample each, tell apart two models whose pass@1
/// differ by `delta` near `pass_rate`, at 5% two-sided and 80% power, when
/// the problems themselves are drawn from a larger population: each model's
/// pass@1 is then a proportion, and the difference of two has variance
/// about `2 p (1 - p) / m`. A bound for unpaired problems; pairing on the
/// same problems needs fewer.
pub fn problems_needed(pass_rate: f64, delta: f64) -> Option<usize> {
    let spread = pass_rate * (1.0 - pass_rate);
    if delta.is_nan() || delta <= 0.0 || spread <= 0.0 {
        return None;
    }
    let z = z(CONFIDENCE) + Normal::standard().inverse_cdf(0.80);
    let m = (2.0 * z * z * spread / (delta * delta)).ceil();
    m.is_finite().then_some(m as usize)
}

#[cfg(test)]
mod tests;
