use std::path::PathBuf;

use crate::support::{cache_dir, fuelbench};

/// The suite as scripts/fetch-humaneval.sh leaves it (the README's test
/// command runs that script); without it these tests fail, loudly.
fn suite() -> PathBuf {
    let path = cache_dir().join("suites/HumanEval.jsonl.gz");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-humaneval.sh",
        path.display()
    );
    path
}

#[test]
fn all_164_canonical_solutions_pass_in_the_sandbox() {
    let suite = suite();
    let output = fuelbench(&["selftest", "--suite", suite.to_str().expect("utf-8")]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.lines().last(),
        Some("164 passed, 0 failed"),
        "{stdout}"
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn samples_are_scored_with_pass_at_1_and_a_result_per_sample() {
    let suite = suite();
    let dir = tempfile::tempdir().expect("temp dir");
    let samples = dir.path().join("samples.jsonl");
    // Two samples for HumanEval/0 (one right, one wrong) and a whole-program
    // solution for HumanEval/23 (strlen).
    let lines = [
        serde_json::json!({"task_id": "HumanEval/0", "completion": "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n"}),
        serde_json::json!({"task_id": "HumanEval/0", "completion": "    return False\n"}),
        serde_json::json!({"task_id": "HumanEval/23", "solution": "def strlen(string: str) -> int:\n    return len(string)\n"}),
    ];
    let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
    std::fs::write(&samples, text).expect("write samples");
    let out = dir.path().join("results.jsonl");
    let output = fuelbench(&[
        "evaluate-samples",
        "--suite",
        suite.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        samples.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(summary["tasks"], 2);
    assert_eq!(summary["samples"], 3);
    // HumanEval/0: 1 of 2 passes (0.5); HumanEval/23: 1 of 1 (1.0).
    assert_eq!(summary["pass@1"], 0.75);
    let results: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .expect("results written")
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["result"], "passed");
    assert_eq!(results[1]["passed"], false);
    assert!(
        results[1]["result"]
            .as_str()
            .is_some_and(|result| result.starts_with("failed: AssertionError")),
        "{}",
        results[1]
    );
    assert!(results[2]["solution"].is_string());
}

#[test]
fn a_sample_for_an_unknown_task_is_refused() {
    let suite = suite();
    let dir = tempfile::tempdir().expect("temp dir");
    let samples = dir.path().join("samples.jsonl");
    std::fs::write(
        &samples,
        "{\"task_id\": \"HumanEval/9999\", \"completion\": \"pass\"}\n",
    )
    .expect("write");
    let output = fuelbench(&[
        "evaluate-samples",
        "--suite",
        suite.to_str().expect("utf-8"),
        samples.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("HumanEval/9999"));
}
