use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_llm::{ChatRequest, FailureClass, Message, ServerKind};
use fuelbench_problems::Problem;
use fuelbench_runner::{self as run, Benchmark, ProblemFailure, ResultsFile, RunConfig, RunEvent};

use crate::support::fake_server::{End, FakeServer, Reply};
use crate::support::runs::{Record, block_on, by_id, config, context, quick_manager, run_once};
use crate::support::sandbox;
use crate::support::scripted::{client, problems, scripted, scripted_with};

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
    run::rescore(&mut rescored, &evaluator, &chosen, &[], &path).unwrap();
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
            run::run_variant(
                &context,
                config,
                &chosen,
                &[],
                None,
                &path,
                false,
                &mut sink,
            )
            .await
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
        suites: Vec::new(),
    };
    let mut sink = |_: RunEvent| {};
    spawnable(&benchmark.run(&context, &manager, &chosen, &mut sink));
    let path = std::env::temp_dir().join("never-written.json");
    spawnable(&run::run_variant(
        &context,
        config("m", &chosen, false),
        &chosen,
        &[],
        None,
        &path,
        false,
        &mut sink,
    ));
    let request = ChatRequest::new("m", vec![Message::user("hi")]);
    spawnable(&context.client.stream(&request));
    spawnable(&context.client.chat(&request));
}

/// Three samples a problem: each is asked with a seed of its own, scored and
/// kept; a run killed between samples resumes with only the missing ones;
/// pass@1 is the mean pass rate, pass@k is reported up to 3, and every score
/// has a bootstrap interval.
#[test]
fn samples_are_asked_with_their_own_seeds_kept_and_resumed_one_by_one() {
    let chosen: Vec<Problem> = problems()[..2].to_vec();
    // A sample fails when its request's seed is odd: some pass, some fail.
    let server = scripted_with(chosen.clone(), Duration::ZERO, |request, _| {
        request.body["seed"]
            .as_u64()
            .is_some_and(|seed| seed % 2 == 1)
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    let mut sampled = config("fake", &chosen, false);
    sampled.samples = 3;
    sampled.temperature = 0.8;
    let mut record = Record::default();
    let full = run_once(
        &server,
        sampled.clone(),
        &chosen,
        &path,
        false,
        &mut record.sink(),
    )
    .unwrap();
    assert_eq!(full.problems.len(), 6);
    assert_eq!(full.progress, "6/6");
    assert!(full.complete);
    let seeds: Vec<u64> = server
        .chats()
        .iter()
        .map(|chat| {
            chat.body["seed"]
                .as_u64()
                .expect("every sample carries a seed")
        })
        .collect();
    let mut distinct = seeds.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 6, "each sample its own seed: {seeds:?}");
    let recorded: Vec<Option<u64>> = full.problems.iter().map(|r| r.request_seed).collect();
    assert_eq!(recorded, seeds.iter().map(|s| Some(*s)).collect::<Vec<_>>());
    assert_eq!(record.done().len(), 6);

    let summary = full.summary.as_ref().unwrap();
    let scores = &summary.scores;
    assert_eq!((scores.problems, scores.samples), (2, 3));
    let rate = |id: &str| {
        let records: Vec<_> = full.problems.iter().filter(|r| r.id == id).collect();
        records.iter().filter(|r| r.passed()).count() as f64 / records.len() as f64
    };
    let mean = (rate(&chosen[0].id) + rate(&chosen[1].id)) / 2.0;
    assert!(
        (scores.pass_at_1 - mean).abs() < 1e-12,
        "{} vs {mean}",
        scores.pass_at_1
    );
    let ks: Vec<usize> = scores.pass_at_k.iter().map(|p| p.k).collect();
    assert_eq!(ks, [1, 2, 3]);
    let intervals = scores.intervals.as_ref().unwrap();
    assert_eq!(
        intervals.pass_at_1.method,
        fuelbench_eval::stats::IntervalMethod::Bootstrap
    );

    // As if killed after the second sample of the first problem.
    let mut partial = full.clone();
    partial.problems.truncate(2);
    partial.refresh();
    partial.write_atomic(&path).unwrap();
    let before = server.chats().len();
    let resumed = run_once(&server, sampled, &chosen, &path, true, &mut |_| {}).unwrap();
    assert_eq!(server.chats().len() - before, 4, "only the missing samples");
    assert_eq!(resumed.problems[..2], full.problems[..2]);
    assert_eq!(resumed.summary.as_ref().unwrap().scores, *scores);
}
