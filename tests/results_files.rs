use fuelbench_llm::FailureClass;
use fuelbench_problems::Failure;
use fuelbench_runner::{self as run, ProblemFailure, ResultsFile};
use serde_json::{Value, json};

use crate::support::{check_committed, repo_path};

/// `schema/<name>.schema.json` must be what `fuelbench <name>-schema` prints.
#[test]
fn results_schema_is_committed_and_current() {
    check_committed(
        "schema/results.schema.json",
        "fuelbench results-schema",
        run::schema(),
    );
}

#[test]
fn events_schema_is_committed_and_current() {
    check_committed(
        "schema/events.schema.json",
        "fuelbench events-schema",
        run::event_schema(),
    );
}

/// A results file written before schema 2 (a real run of the 0.5B model on
/// llama-server, by the fuelbench of that day), committed as it was.
const SCHEMA_1_FILE: &str = "tests/data/results-schema-1.json";

#[test]
fn a_schema_1_results_file_loads_upgraded_with_its_scores_unchanged() {
    let text = std::fs::read_to_string(repo_path(SCHEMA_1_FILE)).unwrap();
    let old: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(old["format"], "fuelbench-results/1");
    let file = ResultsFile::read(&repo_path(SCHEMA_1_FILE)).expect("schema 1 still loads");
    assert_eq!(file.format, "fuelbench-results");
    assert_eq!(file.schema_version, run::SCHEMA_VERSION);
    let names: Vec<Option<&str>> = file
        .problems
        .iter()
        .map(|record| record.failure_class.map(ProblemFailure::name))
        .collect();
    let old_names: Vec<Option<&str>> = old["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["failure_class"].as_str())
        .collect();
    assert_eq!(names, old_names);
    // Every score is as it was; what schema 3 added is there, and a verdict
    // now rests on its interval, so one the point cleared may be undecided.
    let mut summary = serde_json::to_value(file.summary.as_ref().unwrap()).unwrap();
    let summary = summary.as_object_mut().unwrap();
    let mut was = old["summary"].as_object().unwrap().clone();
    let verdicts = summary.remove("verdicts").unwrap();
    let old_verdicts = was.remove("verdicts").unwrap();
    for added in ["intervals", "pass_at_k", "samples"] {
        assert!(summary.remove(added).is_some(), "no {added}");
    }
    assert_eq!(summary, &was);
    for (metric, verdict) in old_verdicts.as_object().unwrap() {
        let now = &verdicts[metric];
        assert!(
            now == verdict || now == "undecided",
            "{metric}: {verdict} became {now}"
        );
    }
}

/// Found by `fuzz::results_files_of_any_shape_never_fail_a_route`: the
/// upgrade indexed each record as an object, and a record that was a
/// number panicked the leaderboard's reader. It is refused with a reason.
#[test]
fn a_schema_1_file_of_the_wrong_shape_is_refused_not_a_panic() {
    let mut old: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_path(SCHEMA_1_FILE)).unwrap()).unwrap();
    old["problems"][0] = json!(110112173);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.json");
    std::fs::write(&path, old.to_string()).unwrap();
    let error = ResultsFile::read(&path).expect_err("a record that is a number");
    assert!(
        fuelbench_stdx::error_chain(&error).contains("odd.json"),
        "{error}"
    );
    std::fs::write(&path, "[1, 2]").unwrap();
    assert!(ResultsFile::read(&path).is_err());
}

/// Schema 1 named both a request that timed out and a run that hit the wall
/// clock `timeout`; each reads back under its own name.
#[test]
fn schema_1_timeouts_split_into_request_timeout_and_wall_clock() {
    let mut old: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_path(SCHEMA_1_FILE)).unwrap()).unwrap();
    let records = old["problems"].as_array_mut().unwrap();
    // A request that timed out: its exchange failed, nothing was scored.
    records[1]["solve"]["failure"] =
        json!({"class": "timeout", "message": "no chunk for 30 s", "status": null});
    records[1]["failure_class"] = json!("timeout");
    // A solution that ran into the wall clock in one case.
    let report = &mut records[3]["report"];
    report["passed"] = json!(false);
    report["failure_class"] = json!("timeout");
    report["cases"][0]["outcome"] = json!("timeout");
    records[3]["failure_class"] = json!("timeout");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.json");
    std::fs::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();

    let file = ResultsFile::read(&path).expect("schema 1 loads");
    assert_eq!(
        file.problems[1].failure_class,
        Some(ProblemFailure::Request(FailureClass::RequestTimeout))
    );
    assert_eq!(
        file.problems[3].failure_class,
        Some(ProblemFailure::Verdict(Failure::WallClock))
    );
    assert_eq!(
        file.problems[3].report.cases[0].outcome,
        fuelbench_eval::CaseOutcome::WallClock
    );
    let failures = &file.summary.as_ref().unwrap().failures;
    assert_eq!(failures.get("request_timeout"), Some(&1));
    assert_eq!(failures.get("wall_clock"), Some(&1));
    assert_eq!(failures.get("timeout"), None);

    // Written again, it is schema 2, and reads back the same.
    file.write_atomic(&path).unwrap();
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(written["schema_version"], run::SCHEMA_VERSION);
    assert_eq!(written["problems"][1]["failure_class"], "request_timeout");
    assert_eq!(ResultsFile::read(&path).unwrap(), file);
}

#[test]
fn a_results_file_from_a_newer_fuelbench_is_refused_with_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.json");
    std::fs::write(
        &path,
        r#"{"format": "fuelbench-results", "schema_version": 99}"#,
    )
    .unwrap();
    let error = ResultsFile::read(&path).unwrap_err();
    assert!(error.to_string().contains("schema_version 99"), "{error}");
}
