use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_llm::{
    ChatClient, ChatRequest, FailureClass, ManageConfig, Manager, Message, ModelStep, ServerKind,
};
use fuelbench_problems::{Failure, Problem};
use fuelbench_runner::{
    self as run, Benchmark, EventSink, ProblemFailure, ProblemRecord, ResultsFile, RunConfig,
    RunContext, RunEvent, Think,
};
use serde_json::{Value, json};

use crate::support::fake_server::{End, FakeServer, Reply, Request};
use crate::support::scripted::{client, problems, scripted, scripted_with};
use crate::support::{check_committed, repo_path, sandbox};

fn context(base_url: &str) -> RunContext {
    RunContext::new(
        client(base_url),
        Evaluator::new(sandbox().clone(), EvalConfig::default()),
    )
}

fn config(model: &str, problems: &[Problem], refactor: bool) -> RunConfig {
    RunConfig {
        model: model.to_owned(),
        think: Think::Default,
        grammar: None,
        refactor,
        problems: problems.iter().map(|p| p.id.clone()).collect(),
        problem_set_sha256: run::problem_set_sha256(problems),
        max_tokens: 8192,
        temperature: 0.0,
        extra_body: serde_json::Map::new(),
        system_prompt: run::SYSTEM_PROMPT.to_owned(),
    }
}

/// Every event a run sent, in order.
#[derive(Default)]
struct Record {
    events: Vec<RunEvent>,
}

impl Record {
    fn sink(&mut self) -> impl FnMut(RunEvent) + Send + '_ {
        |event| self.events.push(event)
    }

    /// `problem progress` of each problem_done event.
    fn done(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|event| match event {
                RunEvent::ProblemDone {
                    outcome, progress, ..
                } => Some(format!("{} {progress}", outcome.problem)),
                _ => None,
            })
            .collect()
    }
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// One variant against `server`, into `path`.
fn run_once(
    server: &FakeServer,
    config: RunConfig,
    problems: &[Problem],
    path: &Path,
    resume: bool,
    events: EventSink<'_>,
) -> run::Result<ResultsFile> {
    block_on(run::run_variant(
        &context(&server.base_url),
        config,
        problems,
        None,
        path,
        resume,
        events,
    ))
}

fn reference(problems: &[Problem], request: &Request) -> String {
    request
        .problem(problems)
        .expect("every chat is about a problem")
        .reference
        .clone()
}

fn by_id<'a>(file: &'a ResultsFile, id: &str) -> &'a ProblemRecord {
    file.problems
        .iter()
        .find(|r| r.id.starts_with(id))
        .unwrap_or_else(|| panic!("{id} has a record"))
}

#[test]
fn every_fault_gets_its_class_and_the_run_goes_on() {
    let all = problems();
    let chosen: Vec<Problem> = all[..8].to_vec();
    let for_server = chosen.clone();
    let server = FakeServer::start(move |request| {
        let problem = request.problem(&for_server).expect("a known prompt");
        let code = problem.reference.clone();
        match &problem.id[..3] {
            "p01" => Reply::error(500, "internal error after generation"),
            "p02" => Reply::Stream {
                text: format!("```python\n{code}\n```"),
                reasoning: false,
                gap: Duration::ZERO,
                end: End::Stall(Duration::from_secs(5)),
            },
            "p03" => Reply::Stream {
                text: format!("```python\n{code}\n```"),
                reasoning: false,
                gap: Duration::ZERO,
                end: End::Drop,
            },
            "p04" => Reply::Malformed,
            "p05" => Reply::Stream {
                text: format!("```python\n{code}\n```"),
                reasoning: true,
                gap: Duration::ZERO,
                end: End::Done {
                    finish_reason: "stop",
                },
            },
            "p06" => Reply::answer(""),
            "p07" => Reply::Stream {
                text: format!("```python\n{}", &code[..code.len() / 2]),
                reasoning: false,
                gap: Duration::ZERO,
                end: End::Done {
                    finish_reason: "length",
                },
            },
            _ => Reply::code(&code),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("faults.json");
    let mut observer = Record::default();
    let file = run_once(
        &server,
        config("fake", &chosen, true),
        &chosen,
        &path,
        false,
        &mut observer.sink(),
    )
    .expect("a run with faults still completes");

    for record in &file.problems {
        println!(
            "fault: {} -> {} ({:.2}s, {} attempt(s))",
            record.id,
            record.failure_class.map_or("pass", ProblemFailure::name),
            record.solve_time_s,
            record.solve.completion.attempts
        );
    }
    let class = |id: &str| by_id(&file, id).failure_class;
    let request = |class| Some(ProblemFailure::Request(class));
    assert_eq!(class("p01"), request(FailureClass::HttpStatus));
    assert_eq!(class("p02"), request(FailureClass::RequestTimeout));
    assert_eq!(class("p03"), request(FailureClass::StreamDropped));
    assert_eq!(class("p04"), request(FailureClass::BadJson));
    assert_eq!(
        class("p05"),
        None,
        "the answer in reasoning_content is used"
    );
    assert_eq!(class("p06"), request(FailureClass::EmptyAnswer));
    assert_eq!(class("p07"), request(FailureClass::TokenLimit));
    assert_eq!(class("p08"), None);

    let p05 = by_id(&file, "p05");
    assert!(p05.solve.completion.answer_from_reasoning);
    assert!(p05.report.refactor.as_ref().unwrap().stable);
    let p01 = by_id(&file, "p01");
    assert_eq!(p01.solve.failure.as_ref().unwrap().status, Some(500));
    assert_eq!(p01.solve.completion.attempts, 1, "a 500 is not retried");
    assert!(p01.refactor.is_none(), "no code, no refactor request");
    assert!(!p01.report.refactor.as_ref().unwrap().stable);

    // Nothing finished is lost: the file on disk has every problem.
    let saved = ResultsFile::read(&path).unwrap();
    assert_eq!(saved.progress, "8/8");
    assert!(saved.complete);
    assert_eq!(saved, file);
    assert_eq!(observer.done().len(), 8);
    let summary = saved.summary.unwrap();
    assert_eq!(summary.scores.pass_at_1, 2.0 / 8.0);
    assert_eq!(summary.failures.get("request_timeout"), Some(&1));
    // Solve requests for all 8; refactors only where there was code (p05, p08,
    // and p07's truncated block).
    let chats = server.chats();
    assert_eq!(chats.iter().filter(|r| !r.is_refactor()).count(), 8);
    assert_eq!(chats.iter().filter(|r| r.is_refactor()).count(), 3);
}

#[test]
fn only_free_failures_are_retried_and_only_a_few_times() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let server = FakeServer::start(move |_| {
        if counter.fetch_add(1, Ordering::SeqCst) < 2 {
            Reply::error(503, "Loading model")
        } else {
            Reply::answer("ok")
        }
    });
    let request = ChatRequest::new("m", vec![Message::user("hi")]);
    let completion = block_on(client(&server.base_url).chat(&request)).unwrap();
    assert_eq!(
        completion.attempts, 3,
        "two 503s while loading, then the answer"
    );
    assert_eq!(completion.content, "ok");

    // Nothing listens on a port we bound and released: connect, retried,
    // then given up.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let failure = block_on(client(&format!("http://127.0.0.1:{port}")).chat(&request)).unwrap_err();
    assert_eq!(failure.class, FailureClass::Connect);
    assert_eq!(failure.attempts, 5);
}

#[test]
fn a_slow_but_live_stream_is_never_cut_off() {
    // Eight chunks 0.4 s apart: longer in all than the first-byte deadline
    // and than the idle timeout, but never silent for a whole second.
    let server = FakeServer::start(|_| Reply::Stream {
        text: "a slow answer that keeps coming".into(),
        reasoning: false,
        gap: Duration::from_millis(400),
        end: End::Done {
            finish_reason: "stop",
        },
    });
    let request = ChatRequest::new("m", vec![Message::user("hi")]);
    let completion = block_on(client(&server.base_url).chat(&request)).unwrap();
    assert_eq!(completion.content, "a slow answer that keeps coming");
    assert!(completion.elapsed_s > 2.0);
    assert_eq!(completion.usage.unwrap().completion_tokens, Some(7));
    assert_eq!(completion.timings.unwrap().predicted_per_second, Some(20.0));
}

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

fn quick_manager(client: ChatClient, kind: ServerKind) -> Manager {
    let config = ManageConfig {
        ready_timeout: Duration::from_secs(10),
        poll: Duration::from_millis(50),
        unload_timeout: Duration::from_secs(5),
        memory_timeout: Duration::from_secs(2),
        ..ManageConfig::default()
    };
    Manager::new(client, kind, config)
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
fn resume_keeps_finished_problems_and_refuses_a_changed_configuration() {
    let chosen: Vec<Problem> = problems()[..3].to_vec();
    let server = scripted(chosen.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    let run = |config: RunConfig, resume: bool| {
        run_once(&server, config, &chosen, &path, resume, &mut |_| {})
    };
    let full = run(config("fake", &chosen, true), false).unwrap();

    // As if killed after the first problem.
    let mut partial = full.clone();
    partial.problems.truncate(1);
    partial.refresh();
    partial.write_atomic(&path).unwrap();
    let before = server.chats().len();
    let resumed = run(config("fake", &chosen, true), true).unwrap();
    assert_eq!(
        resumed.problems[0], full.problems[0],
        "finished problems are kept as they were"
    );
    assert_eq!(resumed.sessions, 2);
    assert_eq!(resumed.progress, "3/3");
    assert_eq!(
        server.chats().len() - before,
        4,
        "two problems asked again, solve and refactor"
    );
    let scores = |file: &ResultsFile| file.summary.as_ref().unwrap().scores.clone();
    assert_eq!(scores(&resumed), scores(&full));

    let error = run(config("fake", &chosen, true), false).unwrap_err();
    assert!(error.to_string().contains("--resume"), "{error}");
    let mut changed = config("fake", &chosen, false);
    changed.temperature = 0.5;
    let error = run(changed, true).unwrap_err().to_string();
    assert!(error.contains("temperature: was 0.0, now 0.5"), "{error}");
    assert!(error.contains("refactor: was true, now false"), "{error}");
}

#[test]
fn rescoring_saved_answers_gives_identical_scores() {
    let chosen: Vec<Problem> = problems()[..4].to_vec();
    let server = scripted(chosen.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    let file = run_once(
        &server,
        config("fake", &chosen, true),
        &chosen,
        &path,
        false,
        &mut |_| {},
    )
    .unwrap();
    let mut rescored = file.clone();
    let evaluator = Evaluator::new(sandbox().clone(), EvalConfig::default());
    run::rescore(&mut rescored, &evaluator, &chosen, &path).unwrap();
    assert_eq!(rescored.summary, file.summary);
    for (a, b) in rescored.problems.iter().zip(&file.problems) {
        assert_eq!(a.report, b.report, "{}", a.id);
        assert_eq!(a.refactor_report, b.refactor_report, "{}", a.id);
    }
    // Half the problems get a planted wrong answer: the scores show it.
    let summary = file.summary.unwrap();
    assert_eq!(summary.scores.pass_at_1, 0.5);
    assert!(summary.avg_tps.is_some_and(|tps| (tps - 20.0).abs() < 1e-9));
}

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

#[test]
fn events_schema_is_committed_and_current() {
    check_committed(
        "schema/events.schema.json",
        "fuelbench events-schema",
        run::event_schema(),
    );
}

/// A run spawned onto a multi-threaded runtime is cancelled while a request
/// is in flight: it ends `Cancelled`, the results file holds exactly the
/// problems that finished, and resuming finishes it to the summary of a run
/// that was never interrupted.
#[test]
fn a_spawned_run_cancelled_mid_request_resumes_to_the_same_summary() {
    let chosen: Vec<Problem> = problems()[..4].to_vec();
    // Eight chunks 50 ms apart: every request is in flight for about 0.35 s.
    let server = scripted_with(chosen.clone(), Duration::from_millis(50), |_, n| n % 2 == 1);
    let dir = tempfile::tempdir().unwrap();
    let straight = run_once(
        &server,
        config("fake", &chosen, true),
        &chosen,
        &dir.path().join("straight.json"),
        false,
        &mut |_| {},
    )
    .unwrap();

    let path = dir.path().join("cancelled.json");
    let context = context(&server.base_url);
    let cancel = context.cancel.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    let task = {
        let (config, chosen, path) = (config("fake", &chosen, true), chosen.clone(), path.clone());
        runtime.spawn(async move {
            let mut sink = move |event: RunEvent| {
                let _ = sender.send(event);
            };
            run::run_variant(&context, config, &chosen, None, &path, false, &mut sink).await
        })
    };
    for event in &receiver {
        if matches!(event, RunEvent::ProblemStarted { index: 1, .. }) {
            // Well inside the second problem's solve request.
            std::thread::sleep(Duration::from_millis(150));
            cancel.cancel();
            break;
        }
    }
    let outcome = runtime.block_on(task).expect("the run does not panic");
    assert!(matches!(outcome, Err(run::Error::Cancelled)), "{outcome:?}");
    let saved = ResultsFile::read(&path).expect("the file is whole");
    assert_eq!(saved.progress, "1/4");
    assert!(!saved.complete);

    let resumed = run_once(
        &server,
        config("fake", &chosen, true),
        &chosen,
        &path,
        true,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(resumed.progress, "4/4");
    assert_eq!(resumed.sessions, 2);
    let comparable = |file: &ResultsFile| run::Summary {
        wall_time_s: 0.0,
        ..file.summary.clone().expect("a summary")
    };
    assert_eq!(comparable(&resumed), comparable(&straight));
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
    let summary = serde_json::to_value(file.summary.as_ref().unwrap()).unwrap();
    assert_eq!(summary, old["summary"]);
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

/// `ChatClient::stream` hands over every event as it arrives, stamped on a
/// monotonic clock: the role-only chunk first (not a token), then text
/// chunks spaced by the server's pauses, then usage and `[DONE]`; `chat()`
/// folds the same events into the completion.
#[test]
fn a_streamed_response_arrives_as_timed_events() {
    let server = FakeServer::start(|_| Reply::Stream {
        text: "```python\nprint('hello, timed world')\n```\n".into(),
        reasoning: false,
        gap: Duration::from_millis(40),
        end: End::Done {
            finish_reason: "stop",
        },
    });
    let client = client(&server.base_url);
    let request = ChatRequest::new("fake", vec![Message::user("hi")]);
    let events = block_on(async {
        let mut stream = client.stream(&request).await.expect("the server answers");
        let mut events = Vec::new();
        while let Some(event) = stream.next().await {
            events.push(event.expect("no failure"));
        }
        events
    });
    let first = events[0].chunk.as_ref().unwrap();
    assert_eq!(first.role.as_deref(), Some("assistant"));
    assert!(!first.has_text());
    assert_eq!(events.last().unwrap().chunk, None, "[DONE] ends the stream");
    let text: Vec<&fuelbench_llm::StreamEvent> = events
        .iter()
        .filter(|event| event.chunk.as_ref().is_some_and(|chunk| chunk.has_text()))
        .collect();
    assert!(text.len() >= 4, "{events:#?}");
    for pair in text.windows(2) {
        assert!(
            pair[1].at >= pair[0].at + Duration::from_millis(35),
            "the server pauses 40 ms between chunks: {:?} then {:?}",
            pair[0].at,
            pair[1].at
        );
    }
    let streamed: String = text
        .iter()
        .map(|event| event.chunk.as_ref().unwrap().content.as_str())
        .collect();
    let completion = block_on(client.chat(&request)).unwrap();
    assert_eq!(streamed, completion.content);
    assert_eq!(completion.text_chunks, text.len() as u64);
}

/// Every future the runner hands out can be spawned onto a multi-threaded
/// runtime: checked by the compiler, on the futures themselves.
#[test]
fn the_runners_futures_are_send() {
    fn spawnable<T: Send>(_: &T) {}
    let chosen: Vec<Problem> = problems()[..1].to_vec();
    let context = context("http://127.0.0.1:9");
    let manager = quick_manager(context.client.clone(), ServerKind::Single);
    let benchmark = Benchmark {
        configs: vec![config("m", &chosen, false)],
        out_dir: std::env::temp_dir(),
        resume: false,
    };
    let mut sink = |_: RunEvent| {};
    spawnable(&benchmark.run(&context, &manager, &chosen, &mut sink));
    let path = std::env::temp_dir().join("never-written.json");
    spawnable(&run::run_variant(
        &context,
        config("m", &chosen, false),
        &chosen,
        None,
        &path,
        false,
        &mut sink,
    ));
    let request = ChatRequest::new("m", vec![Message::user("hi")]);
    spawnable(&context.client.stream(&request));
    spawnable(&context.client.chat(&request));
}
