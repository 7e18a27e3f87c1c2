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
//! `cost = a + b * g(n)` by least squares with `a, b >= 0` (the intercept
//! absorbs constant set-up work, such as building the input). Then score each
//! fit on log-log axes, as the sum of squared differences between the log of
//! the measured and of the fitted cost, so that the small sizes weigh as much
//! as the large ones. The best score wins, except that a simpler class whose
//! score is within [`TIE_TOLERANCE`] of the best is preferred: on a clean
//! linear series the quadratic model with a tiny coefficient fits about as
//! well, and the simpler explanation is the right one.
//!
//! The plain log-log slope (a linear regression of `ln cost` on `ln n`) is
//! reported too: it is what a plot shows, and a slope near 1 or 2 is a quick
//! check on the chosen class.
//!
//! This crate does no I/O and never panics on data: degenerate series are an
//! [`Error`].

use statrs::statistics::Statistics;

/// A simpler class wins when its log-space score is within this factor of
/// the best one (plus [`TIE_EPSILON`] for scores that are all near zero).
pub const TIE_TOLERANCE: f64 = 1.25;

/// Absolute slack for scores of near-perfect fits; fuel series of a single
/// class often fit to within rounding.
pub const TIE_EPSILON: f64 = 1e-3;

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
    pub n: u64,
    /// Fuel, with the harness's own cost subtracted; may be zero.
    pub cost: f64,
}

/// How well one class explains the series.
#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct ClassFit {
    pub class: Class,
    /// `a` in `cost = a + b * g(n)`.
    pub intercept: f64,
    /// `b` in `cost = a + b * g(n)`.
    pub coefficient: f64,
    /// Sum of squared log-space residuals; lower is better.
    pub log_residual: f64,
}

impl ClassFit {
    /// The fitted cost at `n`: `a + b * g(n)`.
    pub fn predict(&self, n: f64) -> Option<f64> {
        Some(self.intercept + self.coefficient * self.class.growth(n)?)
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

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("fit a series of {distinct} distinct sizes; at least {MIN_DISTINCT_SIZES} are needed")]
    TooFewSizes { distinct: usize },
    #[error("fit sample {index}: a size must be at least 1")]
    ZeroSize { index: usize },
    #[error("fit sample {index}: cost {cost} is not a finite, non-negative number")]
    InvalidCost { index: usize, cost: f64 },
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
    let class = fits
        .iter()
        .find(|fit| fit.log_residual <= best_score * TIE_TOLERANCE + TIE_EPSILON)
        .map(|fit| fit.class)
        .expect("the constant class always fits, so there is a best score");

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
    (cost + 1.0).ln()
}

fn fit_class(class: Class, samples: &[Sample]) -> Option<ClassFit> {
    let growth: Vec<f64> = samples
        .iter()
        .map(|sample| class.growth(sample.n as f64))
        .collect::<Option<_>>()?;
    let costs: Vec<f64> = samples.iter().map(|sample| sample.cost).collect();
    let (intercept, coefficient) = least_squares_non_negative(&growth, &costs);
    let log_residual = growth
        .iter()
        .zip(&costs)
        .map(|(g, cost)| {
            let fitted = (intercept + coefficient * g).max(0.0);
            (log_cost(*cost) - log_cost(fitted)).powi(2)
        })
        .sum();
    Some(ClassFit {
        class,
        intercept,
        coefficient,
        log_residual,
    })
}

/// Least squares for `y = a + b x` with `a, b >= 0`: the unconstrained fit
/// when it is feasible, else the best fit on the boundary.
fn least_squares_non_negative(x: &[f64], y: &[f64]) -> (f64, f64) {
    let variance = x.variance();
    if variance.is_finite() && variance > 0.0 {
        let slope = x.covariance(y) / variance;
        let intercept = y.mean() - slope * x.mean();
        if slope >= 0.0 && intercept >= 0.0 {
            return (intercept, slope);
        }
        if slope > 0.0 {
            // Through the origin: b = sum(x y) / sum(x^2).
            let numerator: f64 = x.iter().zip(y).map(|(x, y)| x * y).sum();
            let denominator: f64 = x.iter().map(|x| x * x).sum();
            if denominator > 0.0 {
                return (0.0, (numerator / denominator).max(0.0));
            }
        }
    }
    (y.mean().max(0.0), 0.0)
}

fn log_log_slope(samples: &[Sample]) -> f64 {
    let log_n: Vec<f64> = samples
        .iter()
        .map(|sample| (sample.n as f64).ln())
        .collect();
    let log_cost: Vec<f64> = samples.iter().map(|sample| log_cost(sample.cost)).collect();
    let (log_n, log_cost) = (log_n.as_slice(), log_cost.as_slice());
    let variance = log_n.variance();
    if variance > 0.0 {
        log_n.covariance(log_cost) / variance
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests;
