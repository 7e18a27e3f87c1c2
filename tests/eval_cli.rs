use crate::support::{fuelbench, repo_path};

/// `fuelbench evaluate --problem PROBLEM FLAG FILE --json`, with FILE
/// relative to the repository: the exit code and the report.
fn evaluate_json(problem: &str, flag: &str, file: &str) -> (Option<i32>, serde_json::Value) {
    let path = repo_path(file);
    let output = fuelbench(&[
        "evaluate",
        "--problem",
        problem,
        flag,
        path.to_str().expect("utf-8"),
        "--json",
        // A fixed seed: these tests compare reports.
        "--seed",
        "7",
    ]);
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not a JSON report ({error}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), report)
}

/// The set must hold under every seed users draw: two seeds here, fixed so
/// that a failure can be repeated (`fuelbench selftest` alone draws a fresh
/// one each time and prints it).
#[test]
fn selftest_passes_on_the_checked_in_problem_set() {
    for seed in ["1", "18446744073709551615"] {
        let output = fuelbench(&["selftest", "--seed", seed]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let last = stdout.lines().last().expect("selftest prints a summary");
        assert!(
            last.contains(" passed, 0 failed") && last.contains(&format!("--seed {seed}")),
            "{last}"
        );
        assert!(
            stdout
                .lines()
                .filter(|line| line.starts_with("ok "))
                .count()
                >= 6,
            "{stdout}"
        );
    }
}

/// Each evaluation draws its own tests; `--seed` repeats one exactly.
#[test]
fn evaluate_draws_fresh_tests_and_repeats_them_with_seed() {
    let code = repo_path("problems/p02_lru_cache/right/dict_order.py");
    let report = |extra: &[&str]| {
        let mut args = vec![
            "evaluate",
            "--problem",
            "p02_lru_cache",
            "--code",
            code.to_str().unwrap(),
            "--json",
        ];
        args.extend(extra);
        let output = fuelbench(&args);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("a JSON report")
    };
    let (first, second) = (report(&[]), report(&[]));
    let seed = |report: &serde_json::Value| report["reproducibility"]["seed"].as_u64().unwrap();
    assert_ne!(seed(&first), seed(&second), "a fresh seed each time");
    let generated = |report: &serde_json::Value| {
        report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|case| case["name"] == "generated")
            .cloned()
            .expect("the generated cases ran")
    };
    assert_eq!(generated(&first)["outcome"], "pass");
    assert_ne!(
        first["complexity"]["samples"], second["complexity"]["samples"],
        "other seeds, other complexity inputs"
    );
    let again = report(&["--seed", &seed(&first).to_string()]);
    assert_eq!(again, first, "the same seed, the same report");
}

#[test]
fn evaluate_json_has_the_published_keys() {
    let (exit_code, report) = evaluate_json(
        "p01_merge_intervals",
        "--code",
        "problems/p01_merge_intervals/reference.py",
    );
    assert_eq!(exit_code, Some(0), "{report}");
    assert_eq!(report["problem"], "p01_merge_intervals");
    assert_eq!(report["passed"], true);
    assert_eq!(report["tests_passed"], report["tests_total"]);
    assert_eq!(report["failure_class"], serde_json::Value::Null);
    assert_eq!(report["complexity"]["expected"], "n_log_n");
    assert_eq!(report["complexity"]["fitted"], "n_log_n");
    assert_eq!(report["complexity"]["match"], true);
    assert_eq!(
        report["complexity"]["samples"].as_array().map(Vec::len),
        Some(8)
    );
    assert_eq!(report["numerical"], serde_json::Value::Null);
    assert!(report["fuel_used"].as_u64().is_some_and(|fuel| fuel > 0));
    assert_eq!(report["reproducibility"]["wasmtime_version"], "48.0.8");
}

#[test]
fn a_failing_candidate_exits_1_with_its_class() {
    let (exit_code, report) = evaluate_json(
        "p02_lru_cache",
        "--code",
        "problems/p02_lru_cache/wrong/list_recency.py",
    );
    assert_eq!(exit_code, Some(1), "{report}");
    assert_eq!(
        report["passed"], true,
        "the tests pass; only the complexity is wrong"
    );
    assert_eq!(report["failure_class"], "complexity_mismatch");
}

#[test]
fn the_same_code_gives_the_same_report() {
    let run = || {
        evaluate_json(
            "p03_mean_variance",
            "--code",
            "problems/p03_mean_variance/reference.py",
        )
    };
    assert_eq!(run(), run());
}

#[test]
fn an_unknown_problem_is_a_usage_error_listing_the_set() {
    let output = fuelbench(&["evaluate", "--problem", "p99_nope", "--code", "x.py"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("p99_nope") && stderr.contains("p01_merge_intervals"),
        "{stderr}"
    );
}

#[test]
fn problems_lists_the_set_as_json() {
    let output = fuelbench(&["problems", "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let first = &rows[0];
    assert_eq!(first["id"], "p01_merge_intervals");
    assert!(
        first["difficulty"]
            .as_u64()
            .is_some_and(|d| (1..=4).contains(&d))
    );
    assert_eq!(
        rows.as_array()
            .map(|rows| rows.iter().any(|row| row["numerical"] == true)),
        Some(true)
    );
}

#[test]
fn a_reply_is_scored_on_the_code_it_holds() {
    let (exit_code, report) = evaluate_json(
        "p02_lru_cache",
        "--response",
        "tests/replies/lru_cache_with_reasoning_and_usage.md",
    );
    assert_eq!(exit_code, Some(0), "{report}");
    assert_eq!(report["failure_class"], serde_json::Value::Null);
    assert_eq!(report["extraction"]["skipped_reasoning"], true);
    assert_eq!(report["extraction"]["python_blocks"], 2);
}

#[test]
fn a_prose_reply_is_no_code() {
    let (exit_code, report) =
        evaluate_json("p02_lru_cache", "--response", "tests/replies/prose_only.md");
    assert_eq!(exit_code, Some(1), "{report}");
    assert_eq!(report["failure_class"], "no_code");
    assert_eq!(report["tests_passed"], 0);
    // Twelve fixed cases and the generated ones.
    assert_eq!(report["tests_total"], 13);
}

#[test]
fn selftest_json_is_one_document_with_the_counts() {
    let output = fuelbench(&["selftest", "--json"]);
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(summary["failed"], 0, "{summary}");
    let checks = summary["checks"].as_array().expect("checks");
    assert_eq!(summary["passed"].as_u64(), Some(checks.len() as u64));
    assert!(checks.iter().all(|check| check["ok"] == true));
}

#[test]
fn a_refactor_that_breaks_a_test_is_unstable() {
    let reference = repo_path("problems/p02_lru_cache/reference.py");
    let broken = repo_path("problems/p02_lru_cache/wrong/evicts_newest.py");
    let run = |refactored: &std::path::Path| {
        let output = fuelbench(&[
            "evaluate",
            "--problem",
            "p02_lru_cache",
            "--code",
            reference.to_str().expect("utf-8"),
            "--refactored",
            refactored.to_str().expect("utf-8"),
            "--json",
        ]);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        (output.status.code(), report)
    };
    let (code, report) = run(&reference);
    assert_eq!(
        (code, &report["refactor"]["stable"]),
        (Some(0), &serde_json::Value::Bool(true))
    );
    let (code, report) = run(&broken);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["refactor"]["stable"], false);
    assert_eq!(report["refactor"]["failure_class"], "wrong_answer");
    assert_eq!(
        report["failure_class"],
        serde_json::Value::Null,
        "the original itself passed"
    );
}
