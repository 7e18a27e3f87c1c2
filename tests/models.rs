use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fuelbench_llm::{ManageConfig, Manager, ModelStep, ServerKind};
use fuelbench_problems::Problem;
use fuelbench_runner::{self as run, Benchmark, ProblemFailure, ResultsFile, RunEvent};
use serde_json::json;

use crate::support::fake_server::{FakeServer, Reply};
use crate::support::runs::{Record, block_on, config, context, quick_manager, reference};
use crate::support::scripted::{client, problems};

/// A llama.cpp router with two models, one of which is loaded when the run
/// starts, and which loses our model after `unload_after` solves.
fn router(problems: Vec<Problem>, unload_after: usize) -> (FakeServer, Arc<Mutex<Vec<String>>>) {
    let loaded = Arc::new(Mutex::new(vec!["other".to_owned()]));
    let state = Arc::clone(&loaded);
    let solves = AtomicUsize::new(0);
    let server = FakeServer::start(move |request| {
        let mut loaded = state.lock().expect("not poisoned");
        let model = request.body["model"].as_str().unwrap_or("").to_owned();
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/models") => {
                let entry = |id: &str| {
                    let status = if loaded.iter().any(|m| m == id) {
                        "loaded"
                    } else {
                        "unloaded"
                    };
                    json!({ "id": id, "status": { "value": status } })
                };
                Reply::Json(
                    200,
                    json!({ "object": "list", "data": [entry("fake"), entry("other")] }),
                )
            }
            ("POST", "/models/load") => {
                loaded.push(model);
                Reply::Json(200, json!({ "success": true }))
            }
            ("POST", "/models/unload") if loaded.contains(&model) => {
                loaded.retain(|m| *m != model);
                Reply::Json(200, json!({ "success": true }))
            }
            ("POST", "/models/unload") => Reply::error(400, "model is not running"),
            ("GET", path) if path.starts_with("/props") => {
                Reply::Json(200, json!({ "model_path": "/models/fake-Q4_K_M.gguf" }))
            }
            ("GET", "/v1/models") => Reply::Json(200, json!({ "data": [{ "id": "fake" }] })),
            ("POST", "/v1/chat/completions") if !loaded.contains(&model) => {
                Reply::error(500, "model is not loaded")
            }
            ("POST", "/v1/chat/completions") if request.is_probe() => Reply::answer("OK"),
            ("POST", "/v1/chat/completions") => {
                if !request.is_refactor()
                    && solves.fetch_add(1, Ordering::SeqCst) + 1 == unload_after
                {
                    // Gone right after answering this one.
                    loaded.retain(|m| m != "fake");
                }
                Reply::code(&reference(&problems, request))
            }
            _ => Reply::error(404, "no such route"),
        }
    });
    (server, loaded)
}

#[test]
fn router_models_are_swapped_one_at_a_time_and_a_lost_model_fails_only_what_follows() {
    let chosen: Vec<Problem> = problems()[..4].to_vec();
    let (server, loaded) = router(chosen.clone(), 2);
    let client = client(&server.base_url);
    assert_eq!(
        block_on(Manager::detect(&client)).unwrap(),
        ServerKind::Router
    );
    let manager = quick_manager(client, ServerKind::Router);
    let dir = tempfile::tempdir().unwrap();
    let config = config("fake", &chosen, false);
    let benchmark = Benchmark {
        configs: vec![config],
        out_dir: dir.path().to_owned(),
        resume: false,
        suites: Vec::new(),
    };
    let mut observer = Record::default();
    let files = block_on(benchmark.run(
        &context(&server.base_url),
        &manager,
        &chosen,
        &mut observer.sink(),
    ))
    .expect("the run completes though the model went away");
    let (path, file) = &files[0];
    let classes: Vec<Option<&str>> = file
        .problems
        .iter()
        .map(|r| r.failure_class.map(ProblemFailure::name))
        .collect();
    assert_eq!(
        classes,
        [None, None, Some("http_status"), Some("http_status")]
    );
    assert_eq!(ResultsFile::read(path).unwrap().progress, "4/4");
    assert!(loaded.lock().unwrap().is_empty(), "nothing is left loaded");
    let server_identity = file.server.as_ref().unwrap();
    assert_eq!(server_identity.kind, ServerKind::Router);
    assert_eq!(board_quant(file, path), Some("Q4_K_M".to_owned()));

    // The sequence: the other model unloaded before ours was loaded, and ours
    // never unloaded by us mid-run.
    let calls: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/models/"))
        .map(|r| format!("{} {}", r.path, r.body["model"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(calls, ["/models/unload other", "/models/load fake"]);

    // Resuming a finished run loads nothing.
    let before = server.requests().len();
    let resume = Benchmark {
        resume: true,
        ..benchmark
    };
    let files = block_on(resume.run(
        &context(&server.base_url),
        &manager,
        &chosen,
        &mut observer.sink(),
    ))
    .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(
        server.requests().len(),
        before,
        "not one request to the server"
    );
    assert!(
        observer.events.iter().any(|event| matches!(
            event,
            RunEvent::Model {
                step: ModelStep::NoLongerLoaded,
                ..
            }
        )),
        "{:?}",
        observer.events
    );
}

fn board_quant(file: &ResultsFile, path: &Path) -> Option<String> {
    let summary = file.summary.as_ref().expect("a finished problem");
    fuelbench_runner::leaderboard::Row::from_results(file, summary, path).quant
}

#[test]
fn ollama_models_are_unloaded_with_keep_alive_zero() {
    let loaded = Arc::new(Mutex::new(vec!["other:7b".to_owned()]));
    let state = Arc::clone(&loaded);
    let server = FakeServer::start(move |request| {
        let mut loaded = state.lock().unwrap();
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/models") => Reply::error(404, "not found"),
            ("GET", "/api/tags") => Reply::Json(
                200,
                json!({ "models": [{ "name": "other:7b" }, { "name": "coder:1b" }] }),
            ),
            ("GET", "/api/ps") => Reply::Json(
                200,
                json!({ "models": loaded.iter().map(|m| json!({ "name": m })).collect::<Vec<_>>() }),
            ),
            ("POST", "/api/generate") => {
                let model = request.body["model"].as_str().unwrap().to_owned();
                if request.body["keep_alive"] == 0 {
                    loaded.retain(|m| *m != model);
                } else {
                    loaded.push(model);
                }
                Reply::Json(200, json!({ "done": true }))
            }
            ("POST", "/v1/chat/completions") => Reply::answer("OK"),
            _ => Reply::error(404, "no such route"),
        }
    });
    let client = client(&server.base_url);
    assert_eq!(
        block_on(Manager::detect(&client)).unwrap(),
        ServerKind::Ollama
    );
    let manager = quick_manager(client, ServerKind::Ollama);
    let mut steps = Vec::new();
    let session = block_on(manager.begin("coder:1b", &mut |step| steps.push(step))).unwrap();
    assert_eq!(*loaded.lock().unwrap(), ["coder:1b"]);
    assert!(session.mem_available_before.is_some());
    block_on(manager.end("coder:1b", session, &mut |step| steps.push(step))).unwrap();
    assert!(loaded.lock().unwrap().is_empty());
    let kinds: Vec<String> = steps
        .iter()
        .map(|step| match step {
            ModelStep::MemorySettled { .. } => "memory_settled".to_owned(),
            ModelStep::Loading => "loading".to_owned(),
            ModelStep::Ready { .. } => "ready".to_owned(),
            ModelStep::Unloading { model } => format!("unloading {model}"),
            ModelStep::MemoryBack { .. } => "memory_back".to_owned(),
            other => panic!("unexpected step {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "unloading other:7b",
            "memory_settled",
            "loading",
            "ready",
            "unloading coder:1b",
            "memory_back"
        ]
    );
    let error = block_on(manager.begin("missing:3b", &mut |_| {})).unwrap_err();
    assert!(error.to_string().contains("other:7b, coder:1b"), "{error}");
}

#[test]
fn a_model_the_router_lacks_is_skipped_and_the_next_one_still_runs() {
    let chosen: Vec<Problem> = problems()[..2].to_vec();
    let (server, loaded) = router(chosen.clone(), 0);
    let manager = quick_manager(client(&server.base_url), ServerKind::Router);
    let dir = tempfile::tempdir().unwrap();
    let benchmark = Benchmark {
        configs: vec![
            config("missing", &chosen, false),
            config("fake", &chosen, false),
        ],
        out_dir: dir.path().to_owned(),
        resume: false,
        suites: Vec::new(),
    };
    let mut observer = Record::default();
    let error = block_on(benchmark.run(
        &context(&server.base_url),
        &manager,
        &chosen,
        &mut observer.sink(),
    ))
    .expect_err("the missing model is reported");
    assert!(
        format!("{error:#}").contains("manage the model server"),
        "{error:#}"
    );
    assert!(
        observer.events.iter().any(|event| matches!(
            event,
            RunEvent::ModelSkipped { model, error }
                if model == "missing" && error.starts_with("find model \"missing\"")
        )),
        "{:?}",
        observer.events
    );
    let file =
        ResultsFile::read(&dir.path().join("fake__think-default__grammar-none.json")).unwrap();
    assert_eq!(file.progress, "2/2");
    assert!(loaded.lock().unwrap().is_empty());
}

/// A model server that never becomes ready: the run waits for it (up to ten
/// minutes) until it is cancelled, and then ends `Cancelled` at once rather
/// than holding the server until the wait runs out; a router is asked to
/// unload the model it was asked to load.
#[test]
fn a_run_waiting_for_its_model_server_ends_when_cancelled() {
    for kind in [ServerKind::Single, ServerKind::Router] {
        let loaded = Arc::new(Mutex::new(Vec::<String>::new()));
        let server = FakeServer::start({
            let loaded = Arc::clone(&loaded);
            move |request| {
                let model = request.body["model"].as_str().unwrap_or("").to_owned();
                let mut loaded = loaded.lock().expect("not poisoned");
                match (request.method.as_str(), request.path.as_str()) {
                    ("GET", "/models") => Reply::Json(
                        200,
                        json!({ "object": "list", "data": [{ "id": "fake", "status": {
                            "value": if loaded.is_empty() { "unloaded" } else { "loading" } } }] }),
                    ),
                    ("POST", "/models/load") => {
                        loaded.push(model);
                        Reply::Json(200, json!({ "success": true }))
                    }
                    ("POST", "/models/unload") => {
                        loaded.retain(|m| *m != model);
                        Reply::Json(200, json!({ "success": true }))
                    }
                    _ => Reply::error(503, "loading model"),
                }
            }
        });
        let chosen: Vec<Problem> = problems()[..1].to_vec();
        let dir = tempfile::tempdir().unwrap();
        let context = context(&server.base_url);
        let cancel = context.cancel.clone();
        let manager = Manager::new(
            client(&server.base_url),
            kind,
            ManageConfig {
                ready_timeout: Duration::from_secs(600),
                poll: Duration::from_millis(50),
                check_memory: false,
                ..ManageConfig::default()
            },
        );
        let benchmark = Benchmark {
            configs: vec![config("fake", &chosen, false)],
            out_dir: dir.path().to_owned(),
            resume: false,
            suites: Vec::new(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let task = runtime.spawn(async move {
            let mut sink = move |event: RunEvent| {
                let _ = sender.send(event);
            };
            benchmark.run(&context, &manager, &chosen, &mut sink).await
        });
        for event in &receiver {
            if matches!(event, RunEvent::RunStarted { .. }) {
                // Inside the readiness wait: the server has answered 503 a few times.
                std::thread::sleep(Duration::from_millis(300));
                cancel.cancel();
                break;
            }
        }
        // Only a guard against hanging for the ten minutes of the wait.
        let outcome = runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(120), task).await })
            .expect("the cancelled run ends before its readiness wait")
            .expect("the run does not panic");
        assert!(
            matches!(outcome, Err(run::Error::Cancelled)),
            "{kind:?}: {outcome:?}"
        );
        assert!(
            receiver
                .try_iter()
                .any(|event| matches!(event, RunEvent::RunCancelled)),
            "{kind:?}: no run_cancelled event"
        );
        assert!(
            loaded.lock().expect("not poisoned").is_empty(),
            "{kind:?}: the model it was loading is still loaded"
        );
    }
}
