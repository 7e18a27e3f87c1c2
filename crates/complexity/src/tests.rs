use super::*;

/// Eight sizes spanning two decades, the shape the problem specs use.
const SIZES: [u64; 8] = [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000];

fn series(sizes: &[u64], cost: impl Fn(f64) -> f64) -> Vec<Sample> {
    sizes
        .iter()
        .map(|&n| Sample {
            n,
            cost: cost(n as f64),
        })
        .collect()
}

/// Fits the series and checks the chosen class.
fn check(samples: &[Sample], expected: Class) -> Analysis {
    let analysis = analyse(samples).expect("a valid series");
    assert_eq!(analysis.class, expected, "{analysis:#?}");
    analysis
}

#[test]
fn constant_series_fits_constant() {
    check(&series(&SIZES, |_| 12_345.0), Class::Constant);
}

#[test]
fn all_harness_series_fits_constant() {
    check(&series(&SIZES, |_| 0.0), Class::Constant);
}

#[test]
fn logarithmic_series_fits_log() {
    check(&series(&SIZES, |n| 400.0 * n.ln() + 50.0), Class::Log);
}

#[test]
fn linear_series_with_setup_fits_linear() {
    let analysis = check(&series(&SIZES, |n| 50.0 * n + 20_000.0), Class::Linear);
    assert!((analysis.best_fit().coefficient - 50.0).abs() < 1e-6);
    assert!((analysis.best_fit().intercept - 20_000.0).abs() < 1e-3);
}

#[test]
fn sort_like_series_fits_n_log_n() {
    check(
        &series(&SIZES, |n| 30.0 * n * n.ln() + 1_000.0),
        Class::NLogN,
    );
}

#[test]
fn quadratic_series_with_linear_term_fits_n_squared() {
    check(
        &series(&SIZES, |n| 3.0 * n * n + 200.0 * n),
        Class::Quadratic,
    );
}

/// A quadratic part done in C (copying a string per token) is cheap per
/// element, so over these sizes the plain slope stays well below 2: the
/// curve, not the slope, gives it away.
#[test]
fn a_small_quadratic_term_under_a_large_linear_one_fits_n_squared() {
    let samples = series(&SIZES, |n| 50_000.0 * n + 5.0 * n * n);
    let analysis = check(&samples, Class::Quadratic);
    assert!(analysis.log_log_slope < 1.6, "{}", analysis.log_log_slope);
}

/// A cost that settles into its class after a costlier start (a table that
/// fills up in the first sizes) is in that class: the bounded negative
/// constant lets the fit say so.
#[test]
fn a_linear_cost_after_a_costly_start_fits_linear() {
    check(&series(&SIZES, |n| 470.0 * n - 60_000.0), Class::Linear);
}

/// The constant is bounded by the smallest cost: it cannot hide the class.
#[test]
fn the_intercept_never_exceeds_the_smallest_cost() {
    let samples = series(&SIZES, |n| 3.0 * n * n + 200.0 * n + 1e6);
    let analysis = analyse(&samples).expect("valid");
    let smallest = samples[0].cost;
    for fit in &analysis.fits {
        if fit.class != Class::Constant {
            assert!(fit.intercept.abs() <= smallest * (1.0 + 1e-9), "{fit:?}");
        }
    }
}

#[test]
fn cubic_series_fits_n_cubed() {
    check(
        &series(&[20, 40, 80, 160, 320, 640], |n| {
            2.0 * n.powi(3) + 10.0 * n * n
        }),
        Class::Cubic,
    );
}

#[test]
fn exponential_series_fits_two_to_the_n() {
    check(
        &series(&[8, 10, 12, 14, 16, 18, 20], |n| 40.0 * n.exp2()),
        Class::Exponential,
    );
}

#[test]
fn exponential_is_skipped_where_two_to_the_n_overflows() {
    let analysis = check(&series(&[1_000, 2_000, 4_000], |n| 5.0 * n), Class::Linear);
    assert!(
        analysis
            .fits
            .iter()
            .all(|fit| fit.class != Class::Exponential)
    );
}

#[test]
fn log_log_slope_reads_the_power() {
    let linear = analyse(&series(&SIZES, |n| 7.0 * n)).expect("valid");
    let quadratic = analyse(&series(&SIZES, |n| 7.0 * n * n)).expect("valid");
    assert!(
        (linear.log_log_slope - 1.0).abs() < 0.01,
        "{}",
        linear.log_log_slope
    );
    assert!(
        (quadratic.log_log_slope - 2.0).abs() < 0.01,
        "{}",
        quadratic.log_log_slope
    );
}

#[test]
fn a_cheaper_class_matches_a_dearer_expectation() {
    let analysis = check(&series(&SIZES, |n| 9.0 * n), Class::Linear);
    assert!(analysis.matches(Class::NLogN));
    assert!(analysis.matches(Class::Linear));
    assert!(!analysis.matches(Class::Log));
}

#[test]
fn the_same_series_gives_the_same_analysis() {
    let samples = series(&SIZES, |n| 30.0 * n * n.ln() + 1_000.0);
    assert_eq!(analyse(&samples), analyse(&samples));
}

#[test]
fn degenerate_series_are_errors_not_panics() {
    let two_sizes = series(&[10, 20, 20, 10], |n| n);
    assert_eq!(analyse(&two_sizes), Err(Error::TooFewSizes { distinct: 2 }));
    assert_eq!(analyse(&[]), Err(Error::TooFewSizes { distinct: 0 }));
    let zero_size = series(&[0, 1, 2], |n| n);
    assert_eq!(analyse(&zero_size), Err(Error::ZeroSize { index: 0 }));
    let mut bad_cost = series(&SIZES, |n| n);
    bad_cost[2].cost = f64::NAN;
    assert!(matches!(
        analyse(&bad_cost),
        Err(Error::InvalidCost { index: 2, .. })
    ));
    bad_cost[2].cost = -1.0;
    assert!(matches!(
        analyse(&bad_cost),
        Err(Error::InvalidCost { index: 2, .. })
    ));
}

#[test]
fn classes_parse_from_name_and_notation() {
    for class in Class::ALL {
        assert_eq!(Class::parse(class.name()), Some(class));
        assert_eq!(Class::parse(class.notation()), Some(class));
    }
    assert_eq!(Class::parse("o(N LOG N)"), Some(Class::NLogN));
    assert_eq!(Class::parse("O(n!)"), None);
}

#[test]
fn class_names_match_their_serialisation() {
    for class in Class::ALL {
        let json = serde_json::to_value(class).expect("serialisable");
        assert_eq!(json, class.name());
    }
}

#[test]
fn analysis_serialises_with_snake_case_classes() {
    let analysis = analyse(&series(&SIZES, |n| 30.0 * n * n.ln())).expect("valid");
    let json = serde_json::to_value(&analysis).expect("serialisable");
    assert_eq!(json["class"], "n_log_n");
    assert_eq!(json["samples"].as_array().map(Vec::len), Some(SIZES.len()));
}

/// A sliver of a dearer class that never dominates is not that class.
#[test]
fn a_dearer_term_that_never_dominates_is_the_class_below() {
    let samples = series(&[10, 20, 40, 80, 160, 320, 640, 1280], |n| {
        1_300.0 * n * n + 0.2 * n.powi(3) + 70_000.0
    });
    let analysis = check(&samples, Class::Quadratic);
    let cubic = analysis
        .fits
        .iter()
        .find(|fit| fit.class == Class::Cubic)
        .expect("cubic fits");
    assert!(cubic.own_share(1280.0) < DOMINANCE, "{cubic:?}");
}

/// A quadratic burning `c * log(size)` idle turns per operation, so that its
/// quadratic term is a quarter of its cost at the largest size, is
/// quadratic: the term is there, whatever its share of the cost.
#[test]
fn a_quadratic_term_padded_below_half_is_still_quadratic() {
    let sizes = [30, 60, 125, 250, 500, 1000, 2000, 4000];
    check(
        &series(&sizes, |n| 29_000.0 * n * n.ln() + 23.0 * n * n + 400_000.0),
        Class::Quadratic,
    );
}

/// A quadratic sliver under [`QUADRATIC_PRESENCE`] of an n log n series,
/// as large as any correct solution in the gallery shows, is not the class.
#[test]
fn a_quadratic_sliver_under_its_presence_is_n_log_n() {
    let sizes = [30, 60, 125, 250, 500, 1000, 2000, 4000];
    let analysis = check(
        &series(&sizes, |n| 29_000.0 * n * n.ln() + 5.0 * n * n + 400_000.0),
        Class::NLogN,
    );
    let quadratic = analysis
        .fits
        .iter()
        .find(|fit| fit.class == Class::Quadratic)
        .expect("quadratic fits");
    assert!(
        quadratic.own_share(4000.0) < QUADRATIC_PRESENCE,
        "{quadratic:?}"
    );
}

/// A quadratic under a large linear part (idle turns burnt on every call)
/// is seen by the quadratic fit, term by term: its linear term keeps the
/// n log n term from absorbing the curve. (Whether it is chosen is the tie
/// rule's: within [`TIE_EPSILON`] of n log n, it is not.)
#[test]
fn the_quadratic_fit_separates_a_linear_pad_from_its_quadratic_term() {
    let sizes = [30, 60, 125, 250, 500, 1000, 2000, 4000];
    let samples = series(&sizes, |n| {
        40_000.0 * n + 2_000.0 * n * n.ln() + 3.0 * n * n + 300_000.0
    });
    let analysis = analyse(&samples).expect("a valid series");
    let quadratic = analysis
        .fits
        .iter()
        .find(|fit| fit.class == Class::Quadratic)
        .expect("quadratic fits");
    assert!((quadratic.coefficient - 3.0).abs() < 1e-6, "{quadratic:?}");
    assert!(
        (quadratic.linear_coefficient - 40_000.0).abs() < 1e-3,
        "{quadratic:?}"
    );
}
