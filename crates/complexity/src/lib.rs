//! Fits how a solution's cost grows with its input to a complexity class.
//!
//! The input is a series of [`Sample`]s: an input size `n` and the cost of
//! solving that input, in wasmtime fuel with the harness's own cost already
//! taken off. Fuel is deterministic, so unlike wall-clock timings the series
//! needs no repeats, no outlier rejection and no quiet machine: the same code
//! gives the same samples, and this crate gives the same class, every time.
//!
//! # How a class is chosen
//!
//! For every candidate [`Class`] with growth function `g(n)`, fit
//!
//! ```text
//! cost = a + c * g(n)                  constant, log, linear
//! cost = a + b * g'(n) + c * g(n)      n log n and up; g' is the class below
//! cost = a + d * n + b * n log n + c * n^2     quadratic
//! ```
//!
//! with `b, c >= 0` and `|a| <= ` the smallest cost in the series: the
//! constant term is bounded by the smallest sizes, so it can neither hide a
//! dearer class behind a large set-up cost nor stop a cost that settles into
//! its class after a costlier start (a negative `a`) from fitting. The lower
//! term lets a class explain a series where a cheaper class dominates the
//! small sizes and its own takes over at the large ones, as it does for a
//! quadratic solution whose quadratic part is copying done in C: the fit
//! tells such a series from the class below by its curve, not by its plain
//! slope, which stays between the two over any range that is cheap to run.
//! The quadratic model has a linear term as well: without it, a quadratic
//! under a large linear part (idle turns burnt per call) fits best as
//! n log n, whose curve absorbs the quadratic's, and the quadratic fit
//! reports no quadratic term at all.
//!
//! Each fit is by least squares on relative errors (every size weighs the
//! same), then scored on log-log axes as the sum of squared differences
//! between the log of the measured and of the fitted cost. The best score
//! wins, except that a simpler class whose score is within
//! [`TIE_TOLERANCE`] times the best plus [`TIE_EPSILON`] is preferred: a
//! dearer model with a tiny coefficient fits a clean series about as well,
//! and the simpler explanation is the right one. Last, a class whose own
//! term is less than its [`Class::presence`] share of its fitted cost at the
//! largest size is reported as the class below it.
//!
//! The plain log-log slope (a linear regression of `ln cost` on `ln n`) is
//! reported too: it is what a plot shows, and a slope near 1 or 2 is a quick
//! check on the chosen class.
//!
//! This crate does no I/O and never panics on data: degenerate series are an
//! [`Error`].

use nalgebra::{DMatrix, DVector};
use statrs::statistics::Statistics;

/// A simpler class wins when its log-space score is within this factor of
/// the best one (plus [`TIE_EPSILON`] for scores that are all near zero).
pub const TIE_TOLERANCE: f64 = 1.25;

/// Absolute slack on scores: a simpler class within this of the best is
/// preferred even when the best fits far better in ratio, since every good
/// fit is near zero. 0.02 is an error of about 5% at each of eight sizes: a
/// correct solution's fuel wanders that much (a dict resizing at one size
/// and not the next), a dearer class's curve over two decades does not.
pub const TIE_EPSILON: f64 = 0.02;

/// A class whose fit needs its lower term is that class only where its own
/// term is at least this share of the fitted cost at the largest size;
/// below it the class beneath dominates every size measured, and is the
/// verdict. (A textbook table whose allocator adds a sliver of cubic work,
/// 17% of it, is quadratic here.) Quadratic has a share of its own:
/// [`QUADRATIC_PRESENCE`].
pub const DOMINANCE: f64 = 0.5;

/// The share a quadratic term needs over an n log n one. No correct n log n
/// solution in the problem set's gallery has one chosen at all (its largest
/// share in a quadratic fit is 8%), while a quadratic solution that burns
/// `c * log(size)` idle turns per operation, so that its quadratic term
/// stays under half its cost, has 27%: a term that is there at all is the
/// class, not only one that dominates.
pub const QUADRATIC_PRESENCE: f64 = 0.15;

/// The fewest distinct sizes a series may have.
pub const MIN_DISTINCT_SIZES: usize = 3;

/// A complexity class, ordered from cheapest to dearest.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[expect(
    missing_docs,
    reason = "a doc comment on a unit variant would split the enum's JSON Schema into a oneOf"
)]
pub enum Class {
    Constant,
    Log,
    Linear,
    NLogN,
    Quadratic,
    Cubic,
    Exponential,
}

impl Class {
    /// Every class, cheapest first: the order [`analyse`] fits them in, so a near-tie
    /// goes to the cheaper.
    pub const ALL: [Class; 7] = [
        Class::Constant,
        Class::Log,
        Class::Linear,
        Class::NLogN,
        Class::Quadratic,
        Class::Cubic,
        Class::Exponential,
    ];

    /// The usual notation: `O(n log n)`.
    pub fn notation(self) -> &'static str {
        match self {
            Class::Constant => "O(1)",
            Class::Log => "O(log n)",
            Class::Linear => "O(n)",
            Class::NLogN => "O(n log n)",
            Class::Quadratic => "O(n^2)",
            Class::Cubic => "O(n^3)",
            Class::Exponential => "O(2^n)",
        }
    }

    /// Parses the serialised name (`n_log_n`) or the notation (`O(n log n)`).
    pub fn parse(text: &str) -> Option<Class> {
        let wanted = text.trim();
        Class::ALL
            .into_iter()
            .find(|class| class.notation().eq_ignore_ascii_case(wanted) || class.name() == wanted)
    }

    /// The serialised name: `n_log_n`.
    pub fn name(self) -> &'static str {
        match self {
            Class::Constant => "constant",
            Class::Log => "log",
            Class::Linear => "linear",
            Class::NLogN => "n_log_n",
            Class::Quadratic => "quadratic",
            Class::Cubic => "cubic",
            Class::Exponential => "exponential",
        }
    }

    /// The class whose term a fit of this one adds below its own: the next
    /// cheaper, from n log n up.
    pub fn lower(self) -> Option<Class> {
        match self {
            Class::Constant | Class::Log | Class::Linear => None,
            Class::NLogN => Some(Class::Linear),
            Class::Quadratic => Some(Class::NLogN),
            Class::Cubic => Some(Class::Quadratic),
            Class::Exponential => Some(Class::Cubic),
        }
    }

    /// The share of the fitted cost at the largest size this class's own
    /// term must have, in a fit with the class below, for the series to be
    /// this class: [`QUADRATIC_PRESENCE`] for quadratic, [`DOMINANCE`] for
    /// the rest.
    pub fn presence(self) -> f64 {
        match self {
            Class::Quadratic => QUADRATIC_PRESENCE,
            _ => DOMINANCE,
        }
    }

    /// The growth function `g(n)`; `None` where it does not fit in an `f64`.
    pub fn growth(self, n: f64) -> Option<f64> {
        let value = match self {
            Class::Constant => 1.0,
            Class::Log => n.ln(),
            Class::Linear => n,
            Class::NLogN => n * n.ln(),
            Class::Quadratic => n * n,
            Class::Cubic => n * n * n,
            Class::Exponential => n.exp2(),
        };
        value.is_finite().then_some(value)
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.notation())
    }
}

/// One measurement: the cost of solving an input of size `n`.
#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Sample {
    /// The input size; at least 1.
    pub n: u64,
    /// Fuel, with the harness's own cost subtracted; may be zero.
    pub cost: f64,
}

/// How well one class explains the series.
#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct ClassFit {
    /// The class fitted, whose growth function is `g(n)` below.
    pub class: Class,
    /// `a` in `cost = a + b * g'(n) + c * g(n)`; may be negative, never
    /// beyond the smallest cost.
    pub intercept: f64,
    /// `c`: the class's own term.
    pub coefficient: f64,
    /// `b`: the class below's term; 0 for constant, log and linear.
    #[serde(default)]
    pub lower_coefficient: f64,
    /// `d`: the linear term of the quadratic fit; 0 for every other class.
    #[serde(default)]
    pub linear_coefficient: f64,
    /// Sum of squared log-space residuals; lower is better.
    pub log_residual: f64,
}

impl ClassFit {
    /// The share of the fitted cost at `n` that is the class's own term;
    /// 1 where the fit is not positive there.
    pub fn own_share(&self, n: f64) -> f64 {
        match (self.class.growth(n), self.predict(n)) {
            (Some(growth), Some(total)) if total > 0.0 => self.coefficient * growth / total,
            _ => 1.0,
        }
    }

    /// The fitted cost at `n`: `a + b * g'(n) + c * g(n)`.
    pub fn predict(&self, n: f64) -> Option<f64> {
        let lower = match self.class.lower() {
            Some(lower) if self.lower_coefficient != 0.0 => {
                self.lower_coefficient * lower.growth(n)?
            }
            _ => 0.0,
        };
        let linear = self.linear_coefficient * n;
        Some(self.intercept + linear + lower + self.coefficient * self.class.growth(n)?)
    }
}

/// The verdict on a series, with everything needed to plot it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Analysis {
    /// The chosen class.
    pub class: Class,
    /// Slope of `ln cost` against `ln n`.
    pub log_log_slope: f64,
    /// Every class that could be fitted, in [`Class`] order.
    pub fits: Vec<ClassFit>,
    /// The series as given, in its order.
    pub samples: Vec<Sample>,
}

impl Analysis {
    /// The fit of the chosen class.
    pub fn best_fit(&self) -> &ClassFit {
        self.fits
            .iter()
            .find(|fit| fit.class == self.class)
            .expect("the chosen class is always among the fits")
    }

    /// A solution matches when it is in the expected class or a cheaper one.
    pub fn matches(&self, expected: Class) -> bool {
        self.class <= expected
    }
}

/// A result whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a series cannot be fitted: each is found before any fit is tried.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The series has fewer than [`MIN_DISTINCT_SIZES`] distinct sizes.
    #[error("fit a series of {distinct} distinct sizes; at least {MIN_DISTINCT_SIZES} are needed")]
    TooFewSizes {
        /// How many distinct sizes the series has.
        distinct: usize,
    },
    /// A sample has size 0, which has no logarithm to fit on.
    #[error("fit sample {index}: a size must be at least 1")]
    ZeroSize {
        /// The sample's position in the series, from 0.
        index: usize,
    },
    /// A sample's cost is negative, NaN or infinite.
    #[error("fit sample {index}: cost {cost} is not a finite, non-negative number")]
    InvalidCost {
        /// The sample's position in the series, from 0.
        index: usize,
        /// The cost as given, in fuel.
        cost: f64,
    },
}

/// Fits `samples` to every class and picks one (see the crate docs).
pub fn analyse(samples: &[Sample]) -> Result<Analysis> {
    for (index, sample) in samples.iter().enumerate() {
        if sample.n == 0 {
            return Err(Error::ZeroSize { index });
        }
        if !sample.cost.is_finite() || sample.cost < 0.0 {
            return Err(Error::InvalidCost {
                index,
                cost: sample.cost,
            });
        }
    }
    let mut sizes: Vec<u64> = samples.iter().map(|sample| sample.n).collect();
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.len() < MIN_DISTINCT_SIZES {
        return Err(Error::TooFewSizes {
            distinct: sizes.len(),
        });
    }

    let fits: Vec<ClassFit> = Class::ALL
        .into_iter()
        .filter_map(|class| fit_class(class, samples))
        .collect();
    let best_score = fits
        .iter()
        .map(|fit| fit.log_residual)
        .fold(f64::INFINITY, f64::min);
    let chosen = fits
        .iter()
        .find(|fit| fit.log_residual <= best_score * TIE_TOLERANCE + TIE_EPSILON)
        .expect("the constant class always fits, so there is a best score");
    let largest = sizes[sizes.len() - 1] as f64;
    let class = match chosen.class.lower() {
        Some(lower) if chosen.own_share(largest) < chosen.class.presence() => lower,
        _ => chosen.class,
    };

    Ok(Analysis {
        class,
        log_log_slope: log_log_slope(samples),
        fits,
        samples: samples.to_vec(),
    })
}

/// Costs enter the logs plus one unit of fuel, so that a solution whose cost
/// is all harness (zero after subtraction) is finite on log axes.
fn log_cost(cost: f64) -> f64 {
    (cost.max(0.0) + 1.0).ln()
}

fn fit_class(class: Class, samples: &[Sample]) -> Option<ClassFit> {
    let column = |class: Class| -> Option<Vec<f64>> {
        samples
            .iter()
            .map(|sample| class.growth(sample.n as f64))
            .collect()
    };
    let own = column(class)?;
    let lower = match class.lower() {
        Some(lower) => Some(column(lower)?),
        None => None,
    };
    let costs: Vec<f64> = samples.iter().map(|sample| sample.cost).collect();
    let smallest = costs.iter().copied().fold(f64::INFINITY, f64::min);
    // A constant is the whole cost; any other class's constant is bounded by
    // the smallest sizes.
    let bound = if class == Class::Constant {
        f64::INFINITY
    } else {
        smallest
    };
    let mut terms = vec![own];
    terms.extend(lower);
    if class == Class::Quadratic {
        terms.push(column(Class::Linear)?);
    }
    let (intercept, coefficients) = bounded_least_squares(&costs, &terms, bound)?;
    let mut fit = ClassFit {
        class,
        intercept,
        coefficient: coefficients[0],
        lower_coefficient: coefficients.get(1).copied().unwrap_or(0.0),
        linear_coefficient: coefficients.get(2).copied().unwrap_or(0.0),
        log_residual: 0.0,
    };
    fit.log_residual = samples
        .iter()
        .map(|sample| {
            let fitted = fit.predict(sample.n as f64).unwrap_or(f64::INFINITY);
            (log_cost(sample.cost) - log_cost(fitted)).powi(2)
        })
        .sum();
    fit.log_residual.is_finite().then_some(fit)
}

/// Least squares on relative errors for `y = a + sum(c_j * x_j)`, with every
/// `c_j >= 0` and `|a| <= bound`: the best over the active sets (each
/// coefficient free or held at zero, the intercept free or held at a bound),
/// each solved exactly. With at most four unknowns that is at most 32 small
/// systems. `None` when no active set gives a finite fit.
fn bounded_least_squares(y: &[f64], terms: &[Vec<f64>], bound: f64) -> Option<(f64, Vec<f64>)> {
    // Row i divided by y_i: the residuals are relative errors. A cost of
    // zero weighs as a cost of one.
    let weight: Vec<f64> = y.iter().map(|y| 1.0 / y.max(1.0)).collect();
    let intercepts: Vec<Option<f64>> = if bound.is_finite() {
        vec![None, Some(0.0), Some(bound), Some(-bound)]
    } else {
        vec![None, Some(0.0)]
    };
    let mut best: Option<(f64, f64, Vec<f64>)> = None;
    for held in intercepts {
        for mask in 0u32..(1 << terms.len()) {
            let free: Vec<usize> = (0..terms.len()).filter(|j| mask & (1 << j) != 0).collect();
            let Some((intercept, coefficients)) = solve_active(y, terms, &weight, held, &free)
            else {
                continue;
            };
            if intercept.abs() > bound * (1.0 + 1e-9) || coefficients.iter().any(|c| *c < 0.0) {
                continue;
            }
            let error: f64 = (0..y.len())
                .map(|i| {
                    let fitted = intercept
                        + terms
                            .iter()
                            .zip(&coefficients)
                            .map(|(term, c)| c * term[i])
                            .sum::<f64>();
                    ((fitted - y[i]) * weight[i]).powi(2)
                })
                .sum();
            if error.is_finite() && best.as_ref().is_none_or(|(least, ..)| error < *least) {
                best = Some((error, intercept, coefficients));
            }
        }
    }
    best.map(|(_, intercept, coefficients)| (intercept, coefficients))
}

/// One active set: the intercept held at `held` (or free) and the terms in
/// `free` fitted, the others zero; the weighted normal equations solved by
/// LU. `None` when they are singular or not finite.
fn solve_active(
    y: &[f64],
    terms: &[Vec<f64>],
    weight: &[f64],
    held: Option<f64>,
    free: &[usize],
) -> Option<(f64, Vec<f64>)> {
    let intercept_free = held.is_none();
    let unknowns = free.len() + usize::from(intercept_free);
    let mut coefficients = vec![0.0; terms.len()];
    if unknowns == 0 {
        return Some((held.unwrap_or(0.0), coefficients));
    }
    let rows = y.len();
    let design = DMatrix::from_fn(rows, unknowns, |i, j| {
        let value = match (intercept_free, j) {
            (true, 0) => 1.0,
            (true, j) => terms[free[j - 1]][i],
            (false, j) => terms[free[j]][i],
        };
        value * weight[i]
    });
    let target = DVector::from_fn(rows, |i, _| (y[i] - held.unwrap_or(0.0)) * weight[i]);
    let normal = design.transpose() * &design;
    let right = design.transpose() * target;
    let solution = normal.lu().solve(&right)?;
    if solution.iter().any(|value| !value.is_finite()) {
        return None;
    }
    let intercept = if intercept_free {
        solution[0]
    } else {
        held.unwrap_or(0.0)
    };
    let offset = usize::from(intercept_free);
    for (k, &j) in free.iter().enumerate() {
        coefficients[j] = solution[offset + k];
    }
    Some((intercept, coefficients))
}

fn log_log_slope(samples: &[Sample]) -> f64 {
    let log_n: Vec<f64> = samples
        .iter()
        .map(|sample| (sample.n as f64).ln())
        .collect();
    let log_cost: Vec<f64> = samples.iter().map(|sample| log_cost(sample.cost)).collect();
    slope(&log_n, &log_cost)
}

/// The least-squares log-log slope of `samples`' cost over `reference`'s,
/// size by size: 0 when the two grow alike, about 0.15 for an extra log
/// factor over two decades of sizes, 1 for an extra factor of n. `None` with
/// fewer than three sizes of positive cost.
pub fn ratio_slope(samples: &[Sample], reference: &[Sample]) -> Option<f64> {
    let (log_n, log_ratio): (Vec<f64>, Vec<f64>) = samples
        .iter()
        .zip(reference)
        .filter(|(sample, reference)| {
            sample.n == reference.n && sample.cost > 0.0 && reference.cost > 0.0
        })
        .map(|(sample, reference)| ((sample.n as f64).ln(), (sample.cost / reference.cost).ln()))
        .unzip();
    (log_n.len() >= 3).then(|| slope(&log_n, &log_ratio))
}

/// The least-squares slope of `ys` on `xs`; 0 when `xs` do not vary.
fn slope(xs: &[f64], ys: &[f64]) -> f64 {
    let variance = xs.variance();
    if variance > 0.0 {
        xs.covariance(ys) / variance
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests;
