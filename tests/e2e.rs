use std::process::Command;

use fuelbench_runner::ResultsFile;
use serde_json::Value;

use crate::support::{cache_dir, external, fuelbench};

#[test]
fn a_real_model_on_a_real_llama_server_solves_refactors_and_resumes() {
    let server = external::llama_server();
    let model = external::model();
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

/// A real llama-server in router mode, stopped by its PID (SIGTERM first,
/// so it stops the model instances it started).
struct Router {
    child: std::process::Child,
    base_url: String,
}

impl Router {
    fn start(
        binary: &std::path::Path,
        models_dir: &std::path::Path,
        log: &std::path::Path,
    ) -> Router {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port on 127.0.0.1")
            .port();
        let child = Command::new(binary)
            .arg("--models-dir")
            .arg(models_dir)
            .args([
                "--models-max",
                "1",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .args(["--threads", "1", "--no-webui"])
            .stdout(std::fs::File::create(log).expect("the log file is writable"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("llama-server starts");
        let router = Router {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
        };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed().as_secs() < 60,
                "the router did not listen within 60 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        router
    }
}

impl Router {
    /// A router in `dir` whose models folder holds the installed model as
    /// `coder-0.5b-Q4_K_M`.
    fn serving_the_model(dir: &std::path::Path) -> Router {
        let server = external::llama_server();
        let model = external::model();
        let models = dir.join("models");
        std::fs::create_dir(&models).expect("a models folder");
        std::os::unix::fs::symlink(&model, models.join("coder-0.5b-Q4_K_M.gguf"))
            .expect("the model linked in");
        Router::start(&server, &models, &dir.join("router.log"))
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_real_llama_router_loads_the_model_for_the_run_and_unloads_it_after() {
    let dir = tempfile::tempdir().unwrap();
    let router = Router::serving_the_model(dir.path());
    let out = dir.path().join("results");
    let output = fuelbench(&[
        "run",
        "--endpoint",
        &router.base_url,
        "--model",
        "coder-0.5b-Q4_K_M",
        "--problems",
        "p14",
        "--skip-refactor",
        "--max-tokens",
        "512",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for step in [
        "loading coder-0.5b-Q4_K_M",
        "answers (ready after",
        "unloading coder-0.5b-Q4_K_M",
        "memory available",
    ] {
        assert!(stdout.contains(step), "{step:?} missing from:\n{stdout}");
    }
    let file = ResultsFile::read(&out.join("coder-0.5b-q4_k_m__think-default__grammar-none.json"))
        .unwrap();
    assert_eq!(file.progress, "1/1");
    assert_eq!(
        file.server.as_ref().unwrap().kind,
        fuelbench_llm::ServerKind::Router
    );
    // Nothing is left loaded on the router.
    let manager = fuelbench_llm::Manager::new(
        fuelbench_llm::ChatClient::new(fuelbench_llm::ClientConfig::new(&router.base_url)),
        fuelbench_llm::ServerKind::Router,
        fuelbench_llm::ManageConfig::default(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(
        runtime.block_on(manager.loaded()).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        runtime.block_on(manager.available()).unwrap(),
        ["coder-0.5b-Q4_K_M"]
    );
}

/// The service as a person drives it from a browser: it lists what the
/// real router offers, starts a run on it, streams the model being loaded,
/// the problem and the unload, and the leaderboard shows the result.
#[test]
fn the_service_runs_a_real_router_and_streams_every_step() {
    use std::io::{Read, Write};

    let dir = tempfile::tempdir().unwrap();
    let router = Router::serving_the_model(dir.path());
    let store = dir.path().join("store");
    let (mut serve, addr) = crate::support::service::spawn_serve(&[
        "--results".as_ref(),
        store.as_os_str(),
        "--endpoint".as_ref(),
        router.base_url.as_ref(),
    ]);

    let (status, body) = crate::support::service::http(&addr, "GET", "/api/v1/endpoints", "");
    assert_eq!(status, 200, "{body}");
    let endpoints: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(endpoints["endpoints"][0]["kind"], "router", "{body}");
    assert_eq!(endpoints["endpoints"][0]["models"][0], "coder-0.5b-Q4_K_M");

    let start = r#"{"models": ["coder-0.5b-Q4_K_M"], "problems": ["p14"], "refactor": false, "max_tokens": 512}"#;
    let (status, body) = crate::support::service::http(&addr, "POST", "/api/v1/runs", start);
    assert_eq!(status, 202, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /api/v1/runs/{id}/events HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(300)))
        .unwrap();
    let mut events = String::new();
    stream.read_to_string(&mut events).unwrap();
    for step in [
        r#""event":"snapshot""#,
        r#""kind":"loading""#,
        r#""kind":"ready""#,
        r#""event":"problem_done""#,
        r#""kind":"unloading""#,
        r#""kind":"memory_back""#,
        r#""event":"run_finished""#,
    ] {
        assert!(events.contains(step), "{step} missing from:\n{events}");
    }

    let (_, board) = crate::support::service::http(&addr, "GET", "/api/v1/leaderboard", "");
    let board: Value = serde_json::from_str(&board).unwrap();
    assert_eq!(board["rows"][0]["model"], "coder-0.5b-Q4_K_M", "{board}");
    assert_eq!(board["rows"][0]["progress"], "1/1");
    // The child is ours: end it by its PID.
    let pid = serve.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(serve.wait().unwrap().success());
}

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
