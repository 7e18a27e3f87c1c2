use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fuelbench_runner::{ResultsFile, Summary};
use serde_json::Value;

use crate::support::scripted::{problems, scripted_with};
use crate::support::{cache_dir, fuelbench};

const FIVE: &str = "p01,p02,p03,p04,p05";

fn run_command(endpoint: &str, out: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fuelbench"));
    command
        .args([
            "run",
            "--endpoint",
            endpoint,
            "--model",
            "fake",
            "--problems",
            FIVE,
        ])
        .arg("--out")
        .arg(out)
        .args(["--idle-timeout", "5", "--first-byte-timeout", "5"])
        // One seed for every run here, so runs can be compared with each
        // other; a resumed file keeps its own whatever this says.
        .args(["--seed", "7"])
        .args(extra)
        .env("FUELBENCH_CACHE", cache_dir())
        .env_remove("FUELBENCH_PROBLEMS")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn results_file(out: &Path) -> PathBuf {
    out.join("fake__think-default__grammar-none.json")
}

/// The summary without the one figure that is wall-clock time.
fn comparable(summary: &Summary) -> Summary {
    Summary {
        wall_time_s: 0.0,
        ..summary.clone()
    }
}

fn wait_for(child: &mut Child, what: &str, until: impl Fn() -> bool) {
    let started = Instant::now();
    while !until() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the run ended ({status}) before {what}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn progress(path: &Path) -> Option<String> {
    // A reader may race the rename; the file is always whole JSON.
    let text = std::fs::read_to_string(path).ok()?;
    let value: Value = serde_json::from_str(&text).expect("the results file is always whole JSON");
    value["progress"].as_str().map(str::to_owned)
}

#[test]
fn sigkill_at_any_point_then_resume_gives_the_uninterrupted_summary() {
    // 8 chunks 60 ms apart: about half a second a request, so a kill can
    // land mid-request.
    let server = scripted_with(problems(), Duration::from_millis(60), |_, n| n % 2 == 1);
    let dir = tempfile::tempdir().unwrap();

    let straight = dir.path().join("straight");
    let output = run_command(&server.base_url, &straight, &[])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = ResultsFile::read(&results_file(&straight)).unwrap();
    assert_eq!(expected.progress, "5/5");

    let crashed = dir.path().join("crashed");
    let path = results_file(&crashed);
    // Kill points: before any problem finished (mid-request), right as the
    // second finished, and mid-way through the fourth.
    type Until<'a> = Box<dyn Fn() -> bool + 'a>;
    let kill_points: [(&str, Until, Duration); 3] = [
        (
            "the file is created",
            Box::new(|| progress(&path).is_some()),
            Duration::from_millis(250),
        ),
        (
            "two problems finished",
            Box::new(|| progress(&path).as_deref() == Some("2/5")),
            Duration::ZERO,
        ),
        (
            "three problems finished",
            Box::new(|| progress(&path).as_deref() == Some("3/5")),
            Duration::from_millis(400),
        ),
    ];
    let mut finished_before_kill = Vec::new();
    for (index, (what, until, after)) in kill_points.iter().enumerate() {
        let resume: &[&str] = if index == 0 { &[] } else { &["--resume"] };
        let mut child = run_command(&server.base_url, &crashed, resume)
            .spawn()
            .unwrap();
        wait_for(&mut child, what, until);
        if index == 0 {
            // While this run holds the server, a second one is refused.
            let other = dir.path().join("other");
            let output = run_command(&server.base_url, &other, &[]).output().unwrap();
            assert_eq!(output.status.code(), Some(2));
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains("another fuelbench run holds it"),
                "{stderr}"
            );
        }
        std::thread::sleep(*after);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let saved = ResultsFile::read(&path).expect("a killed run leaves a readable file");
        assert_eq!(saved.reproducibility.seed, 7, "the run's seed is recorded");
        // What was saved is a prefix of the straight run, answer for answer.
        for (record, reference) in saved.problems.iter().zip(&expected.problems) {
            assert_eq!(record.id, reference.id);
            assert_eq!(record.report, reference.report);
        }
        finished_before_kill.push(saved.problems.len());
    }
    assert!(
        finished_before_kill.windows(2).all(|w| w[0] <= w[1]),
        "{finished_before_kill:?}"
    );
    assert!(
        finished_before_kill[2] >= 3 && finished_before_kill[2] < 5,
        "{finished_before_kill:?}"
    );

    let output = run_command(&server.base_url, &crashed, &["--resume"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let resumed = ResultsFile::read(&path).unwrap();
    assert_eq!(resumed.progress, "5/5");
    assert!(resumed.complete);
    assert_eq!(resumed.sessions, 4);
    assert_eq!(
        comparable(resumed.summary.as_ref().unwrap()),
        comparable(expected.summary.as_ref().unwrap())
    );
    println!(
        "crash: problems saved at the three kills {finished_before_kill:?}; finished in {} sessions; \
         summary equal to the straight run's (overall {:.3})",
        resumed.sessions,
        resumed.summary.as_ref().unwrap().scores.overall_score
    );
    // Re-scoring the resumed file changes nothing either.
    let output = fuelbench(&["rescore", "--dry-run", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("(unchanged)"), "{stdout}");
}

#[test]
fn variants_run_side_by_side_then_leaderboard_compare_and_import() {
    // Thinking on gets the planted wrong answers for odd problems; off gets
    // every reference.
    let server = scripted_with(problems(), Duration::ZERO, |request, n| {
        request.body["chat_template_kwargs"]["enable_thinking"] == true && n % 2 == 1
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = run_command(
        &server.base_url,
        &out,
        &["--think", "both", "--skip-refactor"],
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Plain lines when not on a terminal, one per problem.
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("[wall ")).count(),
        10,
        "{stdout}"
    );
    assert!(
        stdout.contains("p01 merge_intervals  FAIL wrong_answer"),
        "{stdout}"
    );
    assert!(
        stdout.contains("p02 lru_cache  PASS  complexity O(n) ok"),
        "{stdout}"
    );
    let on = out.join("fake__think-on__grammar-none.json");
    let off = out.join("fake__think-off__grammar-none.json");
    let requests = server.requests();
    let kwargs: Vec<&Value> = requests
        .iter()
        .filter(|r| r.is_chat() && !r.is_probe())
        .map(|r| &r.body["chat_template_kwargs"]["enable_thinking"])
        .collect();
    assert_eq!(kwargs.iter().filter(|v| ***v == true).count(), 5);
    assert_eq!(kwargs.iter().filter(|v| ***v == false).count(), 5);

    // Older harnesses' files: nested per label, and flat with problems.
    let nested = dir.path().join("results_coding_grammar.json");
    std::fs::write(
        &nested,
        r#"{"summary": {"qwen36-27b-Q4_0_standard": {"pass_at_1": 0.857, "overall_score": 0.8524,
             "avg_tokens": 634.1, "avg_tps": 12.1, "refactor_stability": 0.833},
           "qwen36-27b-Q4_0_compact": {"pass_at_1": 0.8, "overall_score": 0.81, "avg_tokens": 400, "avg_tps": 12.5}}}"#,
    )
    .unwrap();
    let flat = dir.path().join("results_qwopus35_27b.json");
    std::fs::write(
        &flat,
        r#"{"summary": {"pass_at_1": 0.9333, "overall_score": 0.87, "complexity_match_rate": 0.79},
            "problems": [{"solve_tokens": 2000, "solve_time_s": 100.0}, {"solve_tokens": 2087, "solve_time_s": 250.0}]}"#,
    )
    .unwrap();
    let output = fuelbench(&[
        "import",
        nested.to_str().unwrap(),
        flat.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = fuelbench(&["leaderboard", out.to_str().unwrap(), "--format", "json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let models: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["model"].as_str().unwrap(), r["think"].as_str().unwrap()))
        .collect();
    assert_eq!(
        models,
        [
            ("fake", "off"),
            ("qwopus35_27b", "-"),
            ("qwen36-27b-Q4_0_standard", "-"),
            ("qwen36-27b-Q4_0_compact", "-"),
            ("fake", "on"),
        ]
    );
    let flat_row = &rows[1];
    assert_eq!(flat_row["avg_tokens"], 2043.5);
    assert!((flat_row["tokens_per_s"].as_f64().unwrap() - 4087.0 / 350.0).abs() < 1e-9);
    assert_eq!(rows[2]["quant"], "Q4_0");
    assert_eq!(rows[0]["pass_at_1"], 1.0);
    // Every problem passed, but a handful of problems cannot show pass@1 of
    // 0.80 or more at 95%: the threshold lies inside the interval.
    assert_eq!(rows[0]["go"], false);
    assert_eq!(rows[0]["verdict"], "undecided");
    let interval = &rows[0]["intervals"]["pass_at_1"];
    assert_eq!(interval["method"], "wilson");
    assert_eq!(interval["high"], 1.0);
    assert!(interval["low"].as_f64().unwrap() < 0.8, "{interval}");
    assert_eq!(rows[4]["pass_at_1"], 0.4);

    let output = fuelbench(&["leaderboard", out.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.starts_with("| rank | model | quant | think | grammar | pass@1 |"),
        "{table}"
    );
    assert!(
        table.contains("| 1 | fake | - | off | none | 1.00 (0.57-1.00) |"),
        "{table}"
    );
    let output = fuelbench(&["leaderboard", out.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 6);

    let output = fuelbench(&["compare", off.to_str().unwrap(), on.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{table}");
    assert!(
        table.contains("| -0.60 |"),
        "pass@1 falls from 1.0 to 0.4: {table}"
    );
    // Three problems more of five fail with B, each one way: McNemar's exact
    // p = 2 * (1/2)^3 = 0.25, not significant.
    assert!(
        table.contains(
            "A passes 3 more of the 5 problems both ran; that difference is not significant at \
             5% (p = 0.250); run with --samples 5 or more problems to decide (mcnemar exact)."
        ),
        "{table}"
    );
    let plan = fuelbench(&["plan-samples", "--results", on.to_str().unwrap(), "--json"]);
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(plan["samples"], 1);
    assert_eq!(
        plan["samples_needed"],
        Value::Null,
        "one sample shows no noise"
    );
    assert!(plan["problems_needed"].as_u64().unwrap() > 100, "{plan}");
    for id in [
        "p01_merge_intervals",
        "p03_mean_variance",
        "p05_top_k_frequent",
    ] {
        assert!(table.contains(&format!("| {id} | PASS")), "{id}: {table}");
    }
    assert!(
        !table.contains("p02_lru_cache"),
        "same outcome, not listed: {table}"
    );
}

#[test]
fn bad_run_arguments_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let check = |args: &[&str], expected: &str| {
        let output = fuelbench(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    };
    let endpoint = "http://127.0.0.1:9";
    check(
        &[
            "run",
            "--endpoint",
            endpoint,
            "--model",
            "m",
            "--problems",
            "p99",
            "--out",
            out,
        ],
        "no problem \"p99\"",
    );
    check(
        &[
            "run",
            "--endpoint",
            endpoint,
            "--model",
            "m",
            "--grammar",
            "both",
            "--out",
            out,
        ],
        "--grammar both needs --grammar-file",
    );
    check(
        &[
            "run",
            "--endpoint",
            endpoint,
            "--model",
            "m",
            "--extra-body",
            "[1]",
            "--out",
            out,
        ],
        "failed to read --extra-body: plan the run: the extra body must be a JSON object",
    );
    check(
        &["run", "--endpoint", endpoint, "--model", "m", "--out", out],
        "failed to reach the model server at http://127.0.0.1:9",
    );
    check(
        &["compare", "/nonexistent/a.json", "/nonexistent/b.json"],
        "failed to read /nonexistent/a.json",
    );
    let not_results = dir.path().join("x.json");
    std::fs::write(&not_results, "{\"summary\": 1}").unwrap();
    check(
        &["rescore", not_results.to_str().unwrap()],
        "not a fuelbench results file",
    );
}

#[test]
fn a_grammar_file_goes_with_every_request_and_json_mode_prints_only_events() {
    let server = scripted_with(problems(), Duration::ZERO, |_, _| false);
    let dir = tempfile::tempdir().unwrap();
    let grammar = dir.path().join("compact.gbnf");
    std::fs::write(&grammar, "root ::= \"```python\\n\" [^`]* \"```\"\n").unwrap();
    let out = dir.path().join("results");
    let output = run_command(
        &server.base_url,
        &out,
        &[
            "--grammar",
            grammar.to_str().unwrap(),
            "--json",
            "--extra-body",
            r#"{"reasoning_format":"none"}"#,
        ],
    )
    .output()
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("every stdout line is a JSON event"))
        .collect();
    let done: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "problem_done")
        .collect();
    assert_eq!(done.len(), 5);
    assert_eq!(done[4]["progress"], "5/5");
    assert!(done.iter().all(|e| e["passed"] == true));
    for request in server.chats() {
        assert_eq!(
            request.body["grammar"],
            "root ::= \"```python\\n\" [^`]* \"```\"\n"
        );
        assert_eq!(request.body["reasoning_format"], "none");
        assert_eq!(request.body["stream"], true);
    }
    let file = ResultsFile::read(&out.join("fake__think-default__grammar-compact.json")).unwrap();
    let recorded = file
        .config
        .grammar
        .as_ref()
        .expect("the grammar is part of the configuration");
    assert_eq!(recorded.name, "compact");
    assert_eq!(recorded.sha256.len(), 64);
}

/// A results file written before the problem set grew stricter: rescoring it
/// says, problem by problem, what changed and why, and leaves the file
/// alone under `--dry-run`.
#[test]
fn rescore_of_an_older_file_says_what_changed_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("older.json");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/results-schema-1.json"),
        &path,
    )
    .unwrap();
    let before = std::fs::read(&path).unwrap();
    let output = fuelbench(&["rescore", "--dry-run", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The saved p01 answer sorts its input in place: the new check on the
    // input after the call catches it before its crash on an empty list.
    assert!(stdout.contains("  p01_merge_intervals:"), "{stdout}");
    assert!(
        stdout.contains("verdict: exception -> wrong_answer"),
        "{stdout}"
    );
    assert!(stdout.contains("changed its input"), "{stdout}");
    // Why the scorer differs is said once, from the reproducibility keys.
    assert!(stdout.contains("the scorer changed:"), "{stdout}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// `rescore --results` scores a store's results files again, by name or
/// every one, and writes each back through the store; a name the store
/// does not hold is refused before any scoring.
#[test]
fn rescore_of_a_store_rewrites_its_files_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("older.json");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/results-schema-1.json"),
        &path,
    )
    .unwrap();
    let before = std::fs::read(&path).unwrap();
    let store = dir.path().to_str().unwrap();

    let output = fuelbench(&["rescore", "--results", store, "nothing-here"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no results file \"nothing-here\""),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let output = fuelbench(&["rescore", "--results", store]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("older.json: overall"), "{stdout}");
    assert!(
        stdout.contains("verdict: exception -> wrong_answer"),
        "{stdout}"
    );
    let rescored = ResultsFile::read(&path).unwrap();
    assert_ne!(std::fs::read(&path).unwrap(), before);

    // Named, it is scored again, and now nothing changes.
    let output = fuelbench(&["rescore", "--results", store, "older"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("(unchanged)"), "{stdout}");
    assert_eq!(ResultsFile::read(&path).unwrap().summary, rescored.summary);
}
