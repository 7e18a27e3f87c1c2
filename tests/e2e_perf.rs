use serde_json::Value;

use crate::support::{external, fuelbench};

/// `perf load` against a real llama-server with two slots: eight prompts
/// fitted to 32 tokens through its /tokenize, asking for 16 tokens, two at
/// a time; every figure comes from the server's own counts. Scored on the
/// same server first, the model's leaderboard row shows the load run's
/// figures beside its quality, and `perf compare` lists the run.
#[test]
fn perf_load_measures_a_real_llama_server_with_two_slots() {
    let server = external::llama_server();
    let model = external::model();
    let dir = tempfile::tempdir().unwrap();
    let mut config = fuelbench_llm::LocalServerConfig::new(
        server,
        model,
        "coder".into(),
        dir.path().join("llama-server.log"),
    );
    config.ctx_size = 4096;
    config.extra_args = vec!["--parallel".into(), "2".into()];
    let local = fuelbench_llm::LocalServer::start(&config).expect("llama-server starts");
    let results = dir.path().join("results");
    let output = fuelbench(&[
        "run",
        "--endpoint",
        local.base_url(),
        "--model",
        "coder",
        "--problems",
        "p14",
        "--skip-refactor",
        "--max-tokens",
        "512",
        "--out",
        results.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let perf = results.join("perf");
    let output = fuelbench(&[
        "perf",
        "load",
        "--endpoint",
        local.base_url(),
        "--model",
        "coder",
        "--num-prompts",
        "8",
        "--input-len",
        "32",
        "--output-len",
        "16",
        "--max-concurrency",
        "2",
        "--json",
        "--out",
        perf.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    let saved = fuelbench_perf::saved_runs(&perf);
    assert_eq!(saved.len(), 1, "{saved:?}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&saved[0]).unwrap()).unwrap();
    let requests = report["requests"].as_array().unwrap();
    if summary["succeeded"] != 8 {
        // What each failed request said, and what the server logged.
        let failures: Vec<&Value> = requests
            .iter()
            .filter(|r| !r["failure"].is_null())
            .collect();
        let log = std::fs::read_to_string(local.log()).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "{failures:#?}\nserver log, last lines first:\n{}",
            tail.join("\n")
        );
    }
    assert_eq!(summary["output_token_sources"]["usage"], 8, "{summary}");
    assert_eq!(
        summary["cache_hits"], 0,
        "no prompt's text was cached: {summary}"
    );
    for figure in ["ttft_ms", "tpot_ms", "e2e_ms"] {
        assert!(
            summary[figure]["median"].as_f64().unwrap() > 0.0,
            "{figure}: {summary}"
        );
    }
    // Every prompt is its drawn length in tokens, as the server counts
    // them; the chat template adds the same to each.
    for request in requests {
        assert_eq!(request["input_tokens"], 32, "{request}");
        let templated = request["prompt_tokens"].as_u64().unwrap();
        assert_eq!(templated, requests[0]["prompt_tokens"].as_u64().unwrap());
        assert!(templated > 32, "{request}");
    }
    // The server behind the port, its binary's hash, and its memory.
    let process = &report["server_identity"]["process"];
    assert_eq!(process["pid"], local.pid(), "{process}");
    assert_eq!(process["binary_sha256"].as_str().unwrap().len(), 64);
    assert!(
        report["memory_before"]["server_rss_bytes"]
            .as_u64()
            .unwrap()
            > 1 << 20
    );
    assert!(
        report["memory_after"]["mem_available_bytes"]
            .as_u64()
            .unwrap()
            > 0
    );

    let board = fuelbench(&["leaderboard", results.to_str().unwrap(), "--format", "json"]);
    assert!(
        board.status.success(),
        "{}",
        String::from_utf8_lossy(&board.stderr)
    );
    let rows: Value = serde_json::from_slice(&board.stdout).unwrap();
    let row = &rows[0];
    assert_eq!(
        row["server"]["binary_sha256"], process["binary_sha256"],
        "{row}"
    );
    assert_eq!(
        row["serving"]["output_tokens_per_s"], summary["output_tokens_per_s"],
        "{row}"
    );
    assert_eq!(row["serving"]["load"], "custom, concurrency 2", "{row}");

    let compared = fuelbench(&["perf", "compare", "--dir", perf.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&compared.stdout);
    assert!(
        compared.status.success(),
        "{}",
        String::from_utf8_lossy(&compared.stderr)
    );
    assert!(
        table.contains("TTFT p50 ms") && table.contains("8/8"),
        "{table}"
    );
    eprintln!(
        "{}\n{table}",
        serde_json::to_string_pretty(&summary).unwrap()
    );
}

/// `perf latency` starts the real llama-server itself for every run, twice
/// per binary, and compares a binary with itself: the A/B table, the exact
/// argv, the binary's hash; then a small `multi` suite.
#[test]
fn perf_latency_starts_real_servers_and_compares_builds() {
    let server = external::llama_server();
    let model = external::model();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("perf");
    let (server, model, out) = (
        server.to_str().unwrap(),
        model.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let output = fuelbench(&[
        "perf",
        "latency",
        "--server-bin",
        server,
        "--server-bin",
        server,
        "--model",
        model,
        "--suite",
        "base",
        "--requests",
        "2",
        "--repeat",
        "2",
        "--max-tokens",
        "8",
        "--out",
        out,
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("B = ") && stdout.contains("completion tokens/s"),
        "{stdout}"
    );
    let report = std::fs::read_dir(dir.path().join("perf").join("latency"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("report.json");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let builds = report["builds"].as_array().unwrap();
    assert_eq!(builds.len(), 2);
    assert_eq!(builds[0]["sha256"], builds[1]["sha256"]);
    assert_eq!(builds[0]["runs"].as_array().unwrap().len(), 2);
    let run = &builds[0]["runs"][0];
    assert!(run["argv"][0].as_str().unwrap().ends_with("llama-server"));
    assert_eq!(run["run"]["summary"]["requests"], 2);
    assert_eq!(
        run["run"]["summary"]["cache_hits"], 0,
        "cache_prompt is off"
    );
    assert!(
        run["run"]["summary"]["completion_tokens_per_s"]
            .as_f64()
            .unwrap()
            > 0.0
    );

    let output = fuelbench(&[
        "perf",
        "latency",
        "--server-bin",
        server,
        "--model",
        model,
        "--suite",
        "multi",
        "--requests",
        "4",
        "--max-tokens",
        "8",
        "--out",
        out,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // A conversation that grows by 128 tokens a turn to 512, the prompt
    // cache on: every turn after the first takes what came before from it.
    let output = fuelbench(&[
        "perf",
        "latency",
        "--server-bin",
        server,
        "--model",
        model,
        "--suite",
        "medium-turns",
        "--turn-tokens",
        "128",
        "--target-tokens",
        "512",
        "--max-tokens",
        "8",
        "--out",
        out,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let report = std::fs::read_dir(dir.path().join("perf").join("latency"))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.to_string_lossy().contains("medium"))
        .unwrap()
        .join("report.json");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let run = &report["builds"][0]["runs"][0];
    let turns = run["run"]["requests"].as_array().unwrap();
    assert!(turns.len() >= 4, "{}", run["run"]["summary"]);
    // Each turn takes at least the whole prompt before it from the cache.
    for pair in turns.windows(2) {
        let (before, turn) = (&pair[0], &pair[1]);
        let cached = turn["cached_tokens"].as_u64().or(turn["cache_n"].as_u64());
        assert!(
            cached.unwrap() >= before["prompt_tokens"].as_u64().unwrap(),
            "{turn}"
        );
    }
    let last = turns.last().unwrap()["prompt_tokens"].as_u64().unwrap();
    assert!(last >= 512, "{last}");
    assert!(run["memory_before"]["server_rss_bytes"].as_u64().unwrap() > 1 << 20);
}
