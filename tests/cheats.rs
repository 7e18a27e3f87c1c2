use fuelbench_eval::{EvalConfig, Evaluator, Report};
use fuelbench_problems::{Problem, SampleCode, load_dir, load_suite};

use crate::support::{cache_dir, repo_path, sandbox};

/// Evaluates `tests/cheats/<name>.py` and checks it against its header:
///
/// ```text
/// # problem: ID          one of ours, or
/// # suite: TASK_ID       a HumanEval task, with the file as the whole solution
/// # expect: CLASS        the failure class it deserves (`failed` for a suite)
/// # detail: TEXT         found in a case's detail, the complexity note, or
/// #                      the suite's result
/// ```
///
/// Every cheat must fail, with exactly its class: never pass, never become
/// a host error.
fn check(name: &str, problems: &[Problem], evaluator: &Evaluator) -> Result<(), String> {
    let path = repo_path(&format!("tests/cheats/{name}.py"));
    let source = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let header = |key: &str| {
        source
            .lines()
            .find_map(|line| line.strip_prefix(&format!("# {key}: ")))
            .map(str::trim)
            .ok_or_else(|| format!("{name}: no `# {key}:` line"))
    };
    let expect = header("expect")?;
    let detail = header("detail")?;
    if let Ok(task_id) = header("suite") {
        let suite = load_suite(&cache_dir().join("suites/HumanEval.jsonl.gz"))
            .map_err(|e| format!("{name}: the HumanEval suite must be fetched: {e}"))?;
        let task = suite
            .iter()
            .find(|task| task.task_id == task_id)
            .ok_or_else(|| format!("{name}: no task {task_id}"))?;
        let outcome = evaluator
            .check_task(task, &SampleCode::Solution(source.clone()))
            .map_err(|e| format!("{name}: the host failed: {e:#}"))?;
        if outcome.passed || expect != "failed" || !outcome.result.contains(detail) {
            return Err(format!(
                "{name}: want {expect} with {detail:?}, got {outcome:?}"
            ));
        }
        return Ok(());
    }
    let id = header("problem")?;
    let problem = problems
        .iter()
        .find(|problem| problem.id == id)
        .ok_or_else(|| format!("{name}: no problem {id}"))?;
    let report = evaluator
        .evaluate(problem, &source)
        .map_err(|e| format!("{name}: the host failed: {e:#}"))?;
    let class = report
        .failure_class
        .map_or("pass", |failure| failure.name());
    let details = details(&report);
    if class != expect || !details.iter().any(|text| text.contains(detail)) {
        return Err(format!(
            "{name}: want {expect} with {detail:?}, got {class}: {details:#?}"
        ));
    }
    Ok(())
}

fn details(report: &Report) -> Vec<String> {
    let cases = report.cases.iter().chain(
        report
            .numerical
            .iter()
            .flat_map(|numerical| &numerical.cases),
    );
    let mut details: Vec<String> = cases.filter_map(|case| case.detail.clone()).collect();
    if let Some(complexity) = &report.complexity {
        details.extend(complexity.note.clone());
        details.extend(complexity.mismatch.as_ref().map(ToString::to_string));
        details.extend(complexity.fitted.map(|class| class.to_string()));
    }
    details
}

#[test]
fn every_cheat_fails_with_the_class_it_deserves() {
    let problems = load_dir(&repo_path("problems")).expect("the checked-in set loads");
    let evaluator = Evaluator::new(sandbox().clone(), EvalConfig::default());
    let mut names: Vec<String> = std::fs::read_dir(repo_path("tests/cheats"))
        .expect("tests/cheats exists")
        .filter_map(|entry| {
            let path = entry.expect("a directory entry").path();
            (path.extension()? == "py").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    assert!(names.len() >= 15, "only {} cheats", names.len());
    let failures: Vec<String> = names
        .iter()
        .filter_map(|name| check(name, &problems, &evaluator).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
