use std::time::Duration;

use fuelbench_llm::{ChatClient, ClientConfig, StreamEvent};
use fuelbench_perf::stub::StubConfig;
use fuelbench_perf::{LoadPlan, RequestLog, Summary};
use serde_json::Value;

use crate::support::fake_server::{End, FakeServer, Reply};
use crate::support::{fuelbench, repo_path};

fn plan(requests: usize, output: u32, concurrency: usize) -> LoadPlan {
    LoadPlan {
        max_concurrency: Some(concurrency),
        ..LoadPlan::fixed("stub", requests, 8, output)
    }
}

fn client(url: &str) -> ChatClient {
    let mut config = ClientConfig::new(url);
    config.retry.attempts = 1;
    ChatClient::new(config)
}

/// The generator measures the stub's configured timings back. The
/// tolerance is wide (a busy CI machine shares its cores with both); what
/// must hold exactly are the counts.
#[test]
fn the_generator_measures_the_stubs_timings_back() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let summary = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let config = StubConfig {
            ttft: Duration::from_millis(40),
            tokens_per_s: 200.0,
            tokens_per_chunk: 2,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stub = tokio::spawn(fuelbench_perf::stub::serve(listener, config, async {
            let _ = stopped.await;
        }));
        let logs = fuelbench_perf::load::run(&client(&url), &plan(12, 20, 4)).await;
        let _ = stop.send(());
        let _ = stub.await;
        Summary::of(&logs)
    });
    assert_eq!((summary.succeeded, summary.failed), (12, 0));
    // Exact: usage says 20 tokens each; the stub sends two a chunk.
    assert_eq!(summary.output_tokens, 240);
    assert_eq!(summary.output_token_sources["usage"], 12);
    assert_eq!(summary.itl_chunk_gap_ms.count, 12 * 9);
    // The role-only chunk comes at once and is not the first token.
    assert_eq!(summary.role_only_first_chunks, 12);
    let within = |value: f64, low: f64, high: f64, what: &str| {
        assert!((low..=high).contains(&value), "{what} = {value}");
    };
    within(summary.ttft_ms.median, 40.0, 55.0, "TTFT median");
    // A chunk of two tokens every 10 ms: ITL (per chunk) 10 ms, TPOT 5 ms.
    within(summary.itl_chunk_gap_ms.median, 8.0, 14.0, "ITL median");
    within(summary.tpot_ms.median, 4.0, 7.0, "TPOT median");
    // Three waves of four, each about 40 + 90 ms.
    within(summary.duration_s, 0.35, 1.5, "duration");
}

/// A server that fails every request: each failure is classed, nothing is
/// retried away, and the command exits 1 (the run was made, and fell short).
#[test]
fn a_load_run_where_every_request_fails_exits_non_zero() {
    let failing = FakeServer::start(|_| Reply::error(500, "out of memory"));
    let out = tempfile::tempdir().expect("a folder");
    let output = fuelbench(&[
        "perf",
        "load",
        "--endpoint",
        &failing.base_url,
        "--model",
        "m",
        "--num-prompts",
        "4",
        "--input-len",
        "4",
        "--output-len",
        "4",
        "--out",
        out.path().to_str().expect("UTF-8"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("every request failed"), "{stderr}");
    assert!(stderr.contains("http_status"), "{stderr}");
    assert_eq!(failing.chats().len(), 4, "one attempt each");

    // Streams cut mid-body are counted as such; the rest still measured.
    let dropping = FakeServer::start(|request| {
        if request.body["messages"][0]["content"]
            .as_str()
            .is_some_and(|prompt| prompt.starts_with("Request 0 of run "))
        {
            Reply::Stream {
                text: "partial answer".into(),
                reasoning: false,
                gap: Duration::ZERO,
                end: End::Drop,
            }
        } else {
            Reply::answer("a whole answer")
        }
    });
    let output = fuelbench(&[
        "perf",
        "load",
        "--endpoint",
        &dropping.base_url,
        "--model",
        "m",
        "--num-prompts",
        "3",
        "--input-len",
        "4",
        "--output-len",
        "4",
        "--json",
        "--out",
        out.path().to_str().expect("UTF-8"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).expect("a JSON summary");
    assert_eq!(summary["succeeded"], 2);
    assert_eq!(summary["failures"]["stream_dropped"], 1, "{summary}");
    // Each run is saved whole, with its raw log.
    let saved: Vec<_> = walk(out.path());
    assert_eq!(saved.len(), 2, "{saved:?}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved[0]).expect("saved")).expect("JSON");
    assert_eq!(report["format"], "fuelbench-perf-load/1");
    assert!(report["requests"][0]["events"].is_array());
}

/// `--results` names a store: the run goes under its `perf/`, where
/// `perf compare --results` finds it; a store that cannot be opened is
/// said before any request is sent.
#[test]
fn a_load_run_is_saved_into_a_store_and_compared_from_it() {
    let server = FakeServer::start(|_| Reply::answer("an answer"));
    let store = tempfile::tempdir().expect("a folder");
    let store_arg = store.path().to_str().expect("UTF-8");
    let load = |results: &str| {
        fuelbench(&[
            "perf",
            "load",
            "--endpoint",
            &server.base_url,
            "--model",
            "m",
            "--num-prompts",
            "2",
            "--input-len",
            "4",
            "--output-len",
            "4",
            "--results",
            results,
        ])
    };
    let output = load(store_arg);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let saved = walk(&store.path().join("perf"));
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(stdout.contains(&saved[0].display().to_string()), "{stdout}");

    let output = fuelbench(&["perf", "compare", "--results", store_arg, "--json"]);
    assert!(output.status.success());
    let rows: Value = serde_json::from_slice(&output.stdout).expect("JSON rows");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows[0]["model"], "m");
    assert!(
        rows[0]["path"]
            .as_str()
            .is_some_and(|path| path.starts_with("perf/")),
        "{rows}"
    );

    let sent = server.chats().len();
    let output = load("gopher://nowhere/x");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("gopher://"), "{stderr}");
    assert_eq!(server.chats().len(), sent, "no request after a bad store");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// A stream recorded from the real llama-server here (b0 build of the
/// pinned source; `Count from one to five in words.`, 12 tokens at most),
/// replayed: every event is read, classed and counted exactly.
#[test]
fn a_recorded_llama_server_stream_is_measured_exactly() {
    let recorded = std::fs::read_to_string(repo_path("tests/data/streams/llama-server.sse"))
        .expect("the recording is committed");
    let replay = recorded.clone();
    let server = FakeServer::start(move |_| Reply::Recorded(replay.clone()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let logs = runtime.block_on(fuelbench_perf::load::run(
        &client(&server.base_url),
        &plan(1, 12, 1),
    ));
    let log = &logs[0];
    assert_eq!(log.failure, None);
    let kinds: Vec<fuelbench_perf::EventKind> = log.events.iter().map(|e| e.kind).collect();
    use fuelbench_perf::EventKind::{Content, Done, Other, Role, Usage};
    // llama-server: a role chunk with null content, then one content chunk
    // per token, an empty delta with the finish reason, usage with timings
    // on a chunk of its own, then [DONE].
    let texts = recorded.matches("\"content\":\"").count();
    let mut expected = vec![Role];
    expected.extend(std::iter::repeat_n(Content, texts));
    expected.extend([Other, Usage, Done]);
    assert_eq!(kinds, expected);
    // Nine text chunks carried ten tokens: chunks are not tokens, and the
    // count comes from the server's usage.
    assert_eq!(texts, 9);
    assert_eq!(
        log.output_tokens(),
        (10, fuelbench_perf::TokenSource::Usage)
    );
    assert_eq!((log.prompt_tokens, log.cached_tokens), (Some(37), Some(0)));
    assert_eq!(
        (log.prompt_n, log.predicted_n, log.cache_n),
        (Some(37), Some(10), Some(0))
    );
    assert_eq!(log.predicted_ms, Some(315.031));
    let summary = Summary::of(&logs);
    assert_eq!(summary.role_only_first_chunks, 1);
    assert_eq!(summary.itl_chunk_gap_ms.count, texts - 1);
}

/// A committed stream: its offline replay, each event at the arrival time
/// its `: at_ms=` comment gives, as the load generator would log it.
fn replay_offline(name: &str) -> (String, RequestLog) {
    let path = repo_path(&format!("tests/data/streams/{name}"));
    let text = std::fs::read_to_string(&path).expect("the stream is committed");
    let mut log = RequestLog::new(0, Duration::ZERO, 0, 0);
    for block in text.split("\n\n") {
        let at = block
            .lines()
            .find_map(|line| line.strip_prefix(": at_ms="))
            .map(|ms| Duration::from_millis(ms.parse().expect("whole milliseconds")));
        let data: Vec<&str> = block
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .collect();
        let (Some(at), false) = (at, data.is_empty()) else {
            continue;
        };
        match StreamEvent::from_data(&data.join("\n"), at) {
            None => {}
            Some(Ok(event)) => log.record(&event),
            Some(Err(failure)) => {
                log.fail(&failure);
                break;
            }
        }
    }
    (text, log)
}

/// The same stream sent over HTTP at once: the kinds the client logs.
fn replay_live(text: &str) -> RequestLog {
    let replay = text.to_owned();
    let server = FakeServer::start(move |_| Reply::Recorded(replay.clone()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut logs = runtime.block_on(fuelbench_perf::load::run(
        &client(&server.base_url),
        &plan(1, 32, 1),
    ));
    logs.remove(0)
}

/// The shapes other servers stream, each replayed at known arrival times:
/// every figure comes out exactly, whatever carries the role, the thinking
/// or the usage. Sent live, the client logs the same kinds.
#[test]
fn the_stream_shapes_of_other_servers_are_measured_exactly() {
    use fuelbench_perf::EventKind::{Content, Done, Other, Reasoning, Role, Usage};
    struct Golden {
        file: &'static str,
        kinds: Vec<fuelbench_perf::EventKind>,
        ttft_ms: f64,
        first_content_ms: f64,
        itl_ms: Vec<f64>,
        e2e_ms: f64,
        tokens: u64,
        role_only_first: usize,
        cached: u64,
    }
    let goldens = [
        // Reasoning counts for TTFT; the finish chunk repeats the role.
        Golden {
            file: "ollama.sse",
            kinds: vec![
                Reasoning, Reasoning, Reasoning, Content, Content, Role, Usage, Done,
            ],
            ttft_ms: 80.0,
            first_content_ms: 140.0,
            itl_ms: vec![20.0; 4],
            e2e_ms: 177.0,
            tokens: 9,
            role_only_first: 0,
            cached: 0,
        },
        // The role-only chunk at 30 ms is not the first token.
        Golden {
            file: "vllm.sse",
            kinds: vec![
                Role, Reasoning, Reasoning, Content, Content, Other, Usage, Done,
            ],
            ttft_ms: 90.0,
            first_content_ms: 150.0,
            itl_ms: vec![20.0, 40.0, 40.0],
            e2e_ms: 202.0,
            tokens: 21,
            role_only_first: 1,
            cached: 16,
        },
        // Three chunks carried twelve tokens: chunks are not tokens.
        Golden {
            file: "sglang.sse",
            kinds: vec![Role, Content, Content, Content, Other, Usage, Done],
            ttft_ms: 60.0,
            first_content_ms: 60.0,
            itl_ms: vec![12.0, 12.0],
            e2e_ms: 87.0,
            tokens: 12,
            role_only_first: 1,
            cached: 0,
        },
    ];
    let close = |a: f64, b: f64, what: &str| assert!((a - b).abs() < 1e-9, "{what}: {a} != {b}");
    for golden in goldens {
        let file = golden.file;
        let (text, log) = replay_offline(file);
        assert_eq!(log.failure, None, "{file}");
        let kinds: Vec<_> = log.events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, golden.kinds, "{file}");
        assert_eq!(
            log.output_tokens(),
            (golden.tokens, fuelbench_perf::TokenSource::Usage),
            "{file}"
        );
        assert_eq!(log.cached(), golden.cached, "{file}");
        let summary = Summary::of(std::slice::from_ref(&log));
        assert_eq!(summary.succeeded, 1, "{file}");
        assert_eq!(
            summary.role_only_first_chunks, golden.role_only_first,
            "{file}"
        );
        close(summary.ttft_ms.mean, golden.ttft_ms, file);
        close(summary.first_content_ms.mean, golden.first_content_ms, file);
        close(summary.e2e_ms.mean, golden.e2e_ms, file);
        let gaps: Vec<f64> = log.chunk_gaps_s().iter().map(|s| s * 1000.0).collect();
        assert_eq!(gaps.len(), golden.itl_ms.len(), "{file}");
        for (gap, expected) in gaps.iter().zip(&golden.itl_ms) {
            close(*gap, *expected, file);
        }
        // TPOT = (E2E - TTFT) / (tokens - 1), with tokens from usage.
        let tpot = (golden.e2e_ms - golden.ttft_ms) / (golden.tokens - 1) as f64;
        close(summary.tpot_ms.mean, tpot, file);

        let live = replay_live(&text);
        assert_eq!(live.failure, None, "{file}");
        let live_kinds: Vec<_> = live.events.iter().map(|e| e.kind).collect();
        assert_eq!(live_kinds, golden.kinds, "{file} over HTTP");
        assert_eq!(live.output_tokens(), log.output_tokens(), "{file}");
    }
}

/// An error event mid-stream, in either shape, fails the request as the
/// server's error; the text before it is not a success.
#[test]
fn error_events_mid_stream_fail_the_request() {
    for (file, message) in [
        ("vllm-error.sse", "the engine died"),
        ("sglang-error.sse", "longer than the context"),
    ] {
        let (text, log) = replay_offline(file);
        let live = replay_live(&text);
        for log in [&log, &live] {
            let failure = log.failure.as_deref().unwrap_or("");
            assert!(failure.starts_with("http_status: "), "{file}: {failure}");
            assert!(failure.contains(message), "{file}: {failure}");
            assert!(!log.succeeded(), "{file}");
        }
        let summary = Summary::of(&[live]);
        assert_eq!(summary.failures["http_status"], 1, "{file}");
    }
}

/// The fake's tokenizer: a word of up to six letters is one token, a
/// longer one two.
fn fake_tokens(text: &str) -> usize {
    text.split_whitespace()
        .map(|word| if word.len() <= 6 { 1 } else { 2 })
        .sum()
}

/// Prompts are fitted to their drawn lengths through the server's
/// `/tokenize` before the run starts: each is exactly as long as drawn, by
/// the server's own count, whatever the words around the drawn ones cost.
#[test]
fn prompts_are_fitted_to_exact_token_lengths_through_tokenize() {
    let server = FakeServer::start(|request| {
        if request.path == "/tokenize" {
            let text = request.body["content"].as_str().unwrap_or("");
            return Reply::Json(
                200,
                serde_json::json!({ "tokens": vec![0; fake_tokens(text)] }),
            );
        }
        Reply::answer("A short story.")
    });
    let plan = LoadPlan {
        input_len: 40,
        range_ratio: 0.5,
        input_unit: fuelbench_perf::InputUnit::Tokens,
        ..plan(12, 8, 4)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let logs = runtime.block_on(fuelbench_perf::load::run(&client(&server.base_url), &plan));
    assert_eq!(logs.len(), 12);
    let lengths: std::collections::BTreeSet<usize> = logs.iter().map(|l| l.input_len).collect();
    assert!(
        lengths.len() > 3,
        "lengths are drawn from [20, 40]: {lengths:?}"
    );
    for log in &logs {
        assert!((20..=40).contains(&log.input_len), "{}", log.input_len);
        assert_eq!(log.input_tokens, Some(log.input_len as u64), "{log:?}");
    }
    let mut sent: Vec<usize> = server
        .chats()
        .iter()
        .map(|chat| fake_tokens(chat.prompt().expect("a prompt")))
        .collect();
    let mut drawn: Vec<usize> = logs.iter().map(|l| l.input_len).collect();
    sent.sort();
    drawn.sort();
    assert_eq!(sent, drawn, "what was sent is what was counted");
}
