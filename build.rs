//! Says, when the external tier is left out of a build, how many tests that
//! leaves out: `cargo test` without `--features external-tests` must not
//! look like the whole suite.

use std::path::Path;

/// The test binary's root, whose modules under `EXTERNAL_CFG` are the
/// external tier.
const TESTS_ROOT: &str = "tests/tests.rs";
const EXTERNAL_CFG: &str = r#"#[cfg(feature = "external-tests")]"#;

/// The files of the modules `root` builds only with `external-tests`: each
/// `mod name;` right after the feature's `cfg`.
fn external_modules(root: &str) -> Vec<String> {
    let lines: Vec<&str> = root.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|pair| pair[0] == EXTERNAL_CFG)
        .filter_map(|pair| pair[1].strip_prefix("mod ")?.strip_suffix(';'))
        .map(|name| format!("tests/{name}.rs"))
        .collect()
}

fn main() {
    println!("cargo:rerun-if-changed={TESTS_ROOT}");
    let root = std::fs::read_to_string(TESTS_ROOT).unwrap_or_default();
    let external = external_modules(&root);
    for path in &external {
        println!("cargo:rerun-if-changed={path}");
    }
    if std::env::var_os("CARGO_FEATURE_EXTERNAL_TESTS").is_some() {
        return;
    }
    let tests: usize = external
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
