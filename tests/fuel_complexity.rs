use fuelbench_complexity::{Class, Sample, analyse};
use fuelbench_sandbox::{Limits, Program};

use crate::support::sandbox;

/// Fuel of `setup` followed by `work`, less the fuel of `setup` alone, for
/// each size: the cost of the work and nothing else.
fn fuel_series(setup: &str, work: &str, sizes: &[u64]) -> Vec<Sample> {
    let fuel = |source: String| {
        let outcome = sandbox()
            .run(&Program::new(&source), &Limits::default())
            .expect("host ok");
        assert!(
            outcome.succeeded(),
            "{source}\n{outcome:?} {}",
            outcome.stderr_lossy()
        );
        outcome.fuel_used.expect("exited runs report fuel")
    };
    sizes
        .iter()
        .map(|n| {
            let setup = format!("n = {n}\n{setup}\n");
            let with_work = fuel(format!("{setup}{work}\n"));
            let without = fuel(setup);
            Sample {
                n: *n,
                cost: with_work.saturating_sub(without) as f64,
            }
        })
        .collect()
}

/// Two decades, as the problem set's series span.
const SIZES: [u64; 8] = [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000];

const RANDOM_FLOATS: &str =
    "import random\nrandom.seed(1)\ndata = [random.random() for _ in range(n)]";

#[test]
fn a_python_loop_fits_linear() {
    let samples = fuel_series(
        RANDOM_FLOATS,
        "total = 0\nfor x in data:\n    total += x",
        &SIZES,
    );
    let analysis = analyse(&samples).expect("valid series");
    assert_eq!(analysis.class, Class::Linear, "{analysis:#?}");
    assert!(
        (0.9..1.1).contains(&analysis.log_log_slope),
        "{analysis:#?}"
    );
}

#[test]
fn sorting_fits_n_log_n() {
    let samples = fuel_series(RANDOM_FLOATS, "ordered = sorted(data)", &SIZES);
    let analysis = analyse(&samples).expect("valid series");
    assert_eq!(analysis.class, Class::NLogN, "{analysis:#?}");
}

#[test]
fn a_nested_loop_fits_quadratic() {
    let work = "pairs = 0\nfor i in range(n):\n    for j in range(i):\n        pairs += 1";
    let samples = fuel_series("", work, &[16, 32, 64, 128, 256, 512, 1_024, 2_048]);
    let analysis = analyse(&samples).expect("valid series");
    assert_eq!(analysis.class, Class::Quadratic, "{analysis:#?}");
    assert!(
        (1.8..2.1).contains(&analysis.log_log_slope),
        "{analysis:#?}"
    );
}

#[test]
fn a_dict_lookup_fits_constant() {
    let setup = "table = {i: i * i for i in range(n)}";
    let samples = fuel_series(setup, "value = table[n // 2]", &SIZES);
    let analysis = analyse(&samples).expect("valid series");
    assert_eq!(analysis.class, Class::Constant, "{analysis:#?}");
}
