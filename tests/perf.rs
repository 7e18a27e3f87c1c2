use std::time::Duration;

use fuelbench_llm::{ChatClient, ClientConfig};
use fuelbench_perf::stub::StubConfig;
use fuelbench_perf::{LoadPlan, Summary};
use serde_json::Value;

use crate::fake_server::{End, FakeServer, Reply};
use crate::util::{fuelbench, repo_path};

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
/// retried away, and the command exits 2.
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
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("every request failed"), "{stderr}");
    assert!(stderr.contains("http_status"), "{stderr}");
    assert_eq!(failing.chats().len(), 4, "one attempt each");

    // Streams cut mid-body are counted as such; the rest still measured.
    let dropping = FakeServer::start(|request| {
        if request.body["messages"][0]["content"]
            .as_str()
            .is_some_and(|prompt| prompt.starts_with("Run 1 request 0:"))
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
