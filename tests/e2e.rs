use std::path::PathBuf;
use std::process::Command;

use fuelbench_eval::run::ResultsFile;
use serde_json::Value;

use crate::util::{cache_dir, fuelbench};

/// The llama-server and model scripts/setup-llama.sh installs; scripts/test.sh
/// runs it and passes both paths on.
fn installed(variable: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "{variable} is not set: this test runs a real llama-server with a real model. \
             Run `scripts/setup-llama.sh --install-deps` and set FUELBENCH_LLAMA_SERVER and \
             FUELBENCH_MODEL to the paths it prints (scripts/test.sh does both)"
            )
        });
    assert!(
        path.is_file(),
        "{variable}={} does not exist",
        path.display()
    );
    path
}

#[test]
fn a_real_model_on_a_real_llama_server_solves_refactors_and_resumes() {
    let server = installed("FUELBENCH_LLAMA_SERVER");
    let model = installed("FUELBENCH_MODEL");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let run = |resume: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fuelbench"));
        command
            .arg("run")
            .arg("--serve-model")
            .arg(&model)
            .arg("--llama-server")
            .arg(&server)
            .args(["--model", "qwen2.5-coder-0.5b", "--problems", "p01,p04,p10"])
            // The 0.5B answers in 200-600 tokens but now and then loops to
            // the cap, slowing as its context fills: keep CI bounded.
            .args(["--max-tokens", "1024"])
            .arg("--out")
            .arg(&out)
            .env("FUELBENCH_CACHE", cache_dir())
            .env_remove("FUELBENCH_PROBLEMS")
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if resume {
            command.arg("--resume");
        }
        let output = command.output().expect("fuelbench starts");
        assert!(
            output.status.success(),
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };

    let stdout = run(false);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("[wall ")).count(),
        3,
        "{stdout}"
    );
    let path = out.join("qwen2.5-coder-0.5b__think-default__grammar-none.json");
    let file = ResultsFile::read(&path).unwrap();
    assert_eq!(file.progress, "3/3");
    for record in &file.problems {
        assert!(
            record.solve.failure.is_none(),
            "{}: {:?}",
            record.id,
            record.solve.failure
        );
        assert!(!record.solve.completion.content.is_empty(), "{}", record.id);
        assert!(record.solve_tokens > 0 && record.tokens_per_s.is_some_and(|tps| tps > 0.0));
        assert!(
            record.solve.completion.timings.is_some(),
            "llama-server sends timings"
        );
        assert!(record.report.tests_total >= 10);
        // The 0.5B always writes code; each solve is followed by a refactor.
        assert!(
            record.refactor.is_some() && record.refactor_report.is_some(),
            "{}",
            record.id
        );
        assert!(record.report.refactor.is_some());
    }
    let summary = file.summary.as_ref().unwrap();
    assert_eq!(summary.scores.problems, 3);
    assert!(summary.scores.refactor_stability.is_some());
    let props = file
        .server
        .as_ref()
        .and_then(|s| s.props.as_ref())
        .expect("/props is recorded");
    assert!(
        props["model_path"]
            .as_str()
            .is_some_and(|p| p.ends_with(".gguf")),
        "{props}"
    );

    // As if killed after the first problem: resume asks the last two again.
    let mut partial = file.clone();
    partial.problems.truncate(1);
    partial.refresh();
    partial.write_atomic(&path).unwrap();
    run(true);
    let resumed = ResultsFile::read(&path).unwrap();
    assert_eq!(resumed.progress, "3/3");
    assert_eq!(resumed.sessions, 2);
    assert_eq!(resumed.problems[0], file.problems[0]);

    let output = fuelbench(&["leaderboard", out.to_str().unwrap(), "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["model"], "qwen2.5-coder-0.5b");
    assert_eq!(rows[0]["quant"], "Q4_K_M");
    let table = String::from_utf8_lossy(&fuelbench(&["leaderboard", out.to_str().unwrap()]).stdout)
        .into_owned();
    println!("{table}");
}
