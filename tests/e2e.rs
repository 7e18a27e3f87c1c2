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
