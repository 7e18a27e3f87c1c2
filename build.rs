//! Says, when the external tier is left out of a build, how many tests that
//! leaves out: `cargo test` without `--features external-tests` must not
//! look like the whole suite.

use std::path::Path;

/// The modules of tests/tests.rs built only with `external-tests`.
const EXTERNAL: [&str; 2] = ["tests/e2e.rs", "tests/browser.rs"];

fn main() {
    for path in EXTERNAL {
        println!("cargo:rerun-if-changed={path}");
    }
    if std::env::var_os("CARGO_FEATURE_EXTERNAL_TESTS").is_some() {
        return;
    }
    let tests: usize = EXTERNAL
        .iter()
        .filter_map(|path| std::fs::read_to_string(Path::new(path)).ok())
        .map(|text| {
            text.lines()
                .filter(|line| {
                    let line = line.trim();
                    line == "#[test]" || line.starts_with("#[tokio::test")
                })
                .count()
        })
        .sum();
    println!(
        "cargo:warning=the external tier is off: {tests} tests that need llama-server, a model or \
         Chromium are not built. scripts/test.sh runs them (--features fuelbench/external-tests); \
         tests/README.md says what each tier needs"
    );
}
