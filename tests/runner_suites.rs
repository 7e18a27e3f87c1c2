use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_problems::Problem;
use fuelbench_runner::{self as run, RunConfig};

use crate::support::fake_server::{FakeServer, Reply};
use crate::support::runs::{block_on, by_id, context};
use crate::support::sandbox;
use crate::support::scripted::problems;

/// A three-task suite in HumanEval's format: the second task's test fails
/// the answer the scripted server gives, and the third's answer leaves out
/// an import its prompt has.
fn small_suite(dir: &std::path::Path) -> run::Suite {
    let tasks = [
        (
            "T/0",
            "def add(a, b):\n    \"\"\"a plus b\"\"\"\n",
            "add",
            "assert candidate(2, 3) == 5",
        ),
        (
            "T/1",
            "def double(x):\n    \"\"\"twice x\"\"\"\n",
            "double",
            "assert candidate(4) == 8",
        ),
        (
            "T/2",
            "from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    \"\"\"the sum\"\"\"\n",
            "total",
            "assert candidate([1, 2, 3]) == 6",
        ),
    ];
    let lines: Vec<String> = tasks
        .iter()
        .map(|(id, prompt, entry, assertion)| {
            serde_json::json!({
                "task_id": id,
                "prompt": prompt,
                "canonical_solution": "    pass\n",
                "test": format!("def check(candidate):\n    {assertion}\n"),
                "entry_point": entry,
            })
            .to_string()
        })
        .collect();
    let path = dir.join("suite.jsonl");
    std::fs::write(&path, lines.join("\n")).expect("the suite is written");
    run::Suite::humaneval(&path).expect("the suite loads")
}

/// The answers the scripted server gives the small suite's tasks.
fn suite_answer(prompt: &str) -> String {
    // Indented as a whole, with a future import that must come first.
    let code = if prompt.contains("`add`") {
        "    from __future__ import annotations\n\n    def add(a: int, b: int) -> int:\n        return a + b"
    } else if prompt.contains("`double`") {
        "def double(x):\n    return x + 2"
    } else {
        "def total(xs: List[int]) -> int:\n    return sum(xs)"
    };
    format!("```python\n{code}\n```")
}

#[test]
fn a_public_suite_runs_through_the_same_runner_into_a_file_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let suite = small_suite(dir.path());
    let server = FakeServer::start(|request| {
        Reply::answer(suite_answer(request.prompt().expect("a user message")))
    });
    let plan = run::Plan {
        models: vec!["fake".into()],
        suites: vec!["ours".into(), "humaneval".into()],
        samples: 2,
        temperature: 0.5,
        ..run::Plan::default()
    };
    let chosen: Vec<Problem> = problems()[..1].to_vec();
    let configs = plan.configs(&chosen, std::slice::from_ref(&suite)).unwrap();
    assert_eq!(configs.len(), 2, "ours, then the suite");
    let config = configs[1].clone();
    assert_eq!(config.suite.as_ref(), Some(&suite.source));
    assert!(!config.refactor, "a suite has no refactor requests");
    assert_eq!(config.problems, ["T/0", "T/1", "T/2"]);
    let path = run::results_path(dir.path(), &config);
    assert!(path.ends_with("fake__think-default__grammar-none__humaneval.json"));
    assert_ne!(path, run::results_path(dir.path(), &configs[0]));

    let suites = std::slice::from_ref(&suite);
    let context = context(&server.base_url);
    let run_it = |config: RunConfig, resume: bool| {
        block_on(run::run_variant(
            &context,
            config,
            &chosen,
            suites,
            None,
            &path,
            resume,
            &mut |_| {},
        ))
    };
    let file = run_it(config.clone(), false).unwrap();
    assert_eq!(file.progress, "6/6");
    assert_eq!(server.chats().len(), 6, "one request per task and sample");
    assert!(server.chats().iter().all(|chat| !chat.is_refactor()));
    let passed: Vec<bool> = ["T/0", "T/1", "T/2"]
        .iter()
        .map(|id| by_id(&file, id).passed())
        .collect();
    assert_eq!(
        passed,
        [true, false, true],
        "an indented reply with a future import loads; the prompt's import is there"
    );
    let wrong = by_id(&file, "T/1");
    assert_eq!(wrong.failure_class.map(|f| f.name()), Some("wrong_answer"));
    assert_eq!(wrong.report.cases[0].name, "check");
    assert_eq!(file.reproducibility.suite.as_ref(), Some(&suite.source));

    let scores = &file.summary.as_ref().unwrap().scores;
    assert!((scores.pass_at_1 - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(
        scores.complexity_match_rate, None,
        "a suite has no complexity"
    );
    assert_eq!(scores.refactor_stability, None);
    assert_eq!(scores.overall_score, scores.pass_at_1);
    assert_eq!(scores.verdicts.complexity, None);

    // Scored again offline, the same; without the suite, a clear refusal.
    let mut rescored = file.clone();
    let evaluator = Evaluator::new(sandbox().clone(), EvalConfig::default());
    run::rescore(&mut rescored, &evaluator, &chosen, suites, &path).unwrap();
    assert_eq!(rescored.problems, file.problems);
    let error = run::rescore(&mut file.clone(), &evaluator, &chosen, &[], &path)
        .unwrap_err()
        .to_string();
    assert!(error.contains("suite humaneval"), "{error}");

    // A resume against another file of the suite is refused.
    let mut other = config.clone();
    other.suite.as_mut().unwrap().sha256 = "0".repeat(64);
    let error = run_it(other, true).unwrap_err().to_string();
    assert!(error.contains("suite.sha256"), "{error}");
    // The same file moved elsewhere resumes.
    let mut moved = config.clone();
    moved.suite.as_mut().unwrap().origin = "/elsewhere/HumanEval.jsonl".into();
    assert_eq!(run_it(moved, true).unwrap().problems, file.problems);
}

#[test]
fn a_plan_names_only_suites_it_has() {
    let chosen: Vec<Problem> = problems()[..1].to_vec();
    let plan = |suites: &[&str]| run::Plan {
        models: vec!["m".into()],
        suites: suites.iter().map(|s| s.to_string()).collect(),
        ..run::Plan::default()
    };
    for (suites, want) in [
        (&["humaneval"][..], "not here"),
        (&["mbpp"][..], "no suite \"mbpp\""),
        (&["ours", "OURS"][..], "named twice"),
        (&[][..], "at least one suite"),
    ] {
        let error = plan(suites).configs(&chosen, &[]).unwrap_err().to_string();
        assert!(error.contains(want), "{suites:?}: {error}");
    }
    let limited = run::Plan {
        suite_limit: Some(3),
        ..plan(&["ours"])
    };
    let error = limited.configs(&chosen, &[]).unwrap_err().to_string();
    assert!(error.contains("asks none"), "{error}");
    assert_eq!(plan(&["ours"]).configs(&chosen, &[]).unwrap().len(), 1);
}
