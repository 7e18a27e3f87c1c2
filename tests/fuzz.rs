use axum::Router;
use axum::http::StatusCode;
use fuelbench_runner::ResultsFile;
use fuelbench_server::{Config, router};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use serde_json::{Value, json};

use crate::support::repo_path;
use crate::support::service::{Answer, runtime, send, state};

/// Cases per target: `FUELBENCH_FUZZ_CASES` (scripts/test.sh sets it), or
/// `default`. A failure proptest finds is saved under
/// `tests/proptest-regressions/` and replayed first on every later run.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("FUELBENCH_FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "tests/proptest-regressions/fuzz.txt",
            ),
        )),
        ..ProptestConfig::with_cases(cases)
    }
}

/// The service over a store of its own; the store's directory.
fn service() -> (Router, tempfile::TempDir) {
    let (state, store) = state(Config::default());
    (router(state), store)
}

/// Nothing the network or the store sends may make the server fail: a
/// 5xx other than a full server (503) or a deadline (504) is a bug.
fn no_host_error(answer: &Answer, what: &str) -> Result<(), TestCaseError> {
    let status = answer.status;
    prop_assert!(
        !status.is_server_error()
            || status == StatusCode::SERVICE_UNAVAILABLE
            || status == StatusCode::GATEWAY_TIMEOUT,
        "{what}: {status} {}",
        String::from_utf8_lossy(&answer.body)
    );
    Ok(())
}

/// A JSON leaf of the kinds that break parsers and pages: text with any
/// characters (formulas, markup, right-to-left marks), numbers at the
/// edges, and the wrong types.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[=+@<>&\"'\\-\\t\\r\\u{202e}é😀]{0,12}".prop_map(Value::String),
        Just(json!([])),
        Just(json!({})),
    ]
}

/// JSON with keys the routes know, so bodies get past the first check.
fn body_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("code"),
        Just("problem"),
        Just("reply"),
        Just("refactored"),
        Just("items"),
        Just("limits"),
        Just("fuel"),
        Just("wall_ms"),
        Just("memory_mib"),
        Just("stdin"),
        Just("seed"),
        Just("models"),
        Just("problems"),
        Just("think"),
        Just("endpoint"),
        Just("resume"),
        Just("max_tokens"),
        Just("extra_body"),
        Just("text"),
        Just("x"),
    ];
    let problem = prop_oneof![
        Just(json!("p01_merge_intervals")),
        Just(json!("p99_none")),
        Just(json!("../p01")),
    ];
    let leaf = prop_oneof![4 => leaf(), 1 => problem];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..5).prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(key, value)| (key.to_owned(), value))
                        .collect(),
                )
            }),
        ]
    })
}

/// Every place in `value`, as JSON pointers.
fn pointers(value: &Value, at: String, all: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                pointers(child, child_at, all);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{index}"), all);
            }
        }
        _ => {}
    }
    all.push(at);
}

/// `document` with some of its places replaced by `leaf()`s or removed.
fn mutate(document: &Value, edits: &[(prop::sample::Index, Option<Value>)]) -> Value {
    let mut document = document.clone();
    for (index, replacement) in edits {
        let mut places = Vec::new();
        pointers(&document, String::new(), &mut places);
        let place = index.get(&places).clone();
        match replacement {
            Some(value) => {
                if let Some(slot) = document.pointer_mut(&place) {
                    *slot = value.clone();
                }
            }
            None => {
                if let Some((parent, key)) = place.rsplit_once('/')
                    && let Some(Value::Object(map)) = document.pointer_mut(parent)
                {
                    map.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
            }
        }
    }
    document
}

fn edits() -> impl Strategy<Value = Vec<(prop::sample::Index, Option<Value>)>> {
    proptest::collection::vec(
        (any::<prop::sample::Index>(), proptest::option::of(leaf())),
        1..6,
    )
}

/// Results files of every schema version, with any field replaced or
/// removed: every route and page that reads them answers without failing.
#[test]
fn results_files_of_any_shape_never_fail_a_route() {
    let schema_1: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("tests/data/results-schema-1.json")).expect("fixture"),
    )
    .expect("JSON");
    let current = serde_json::to_value(
        ResultsFile::read(&repo_path("tests/data/results-schema-1.json")).expect("it upgrades"),
    )
    .expect("JSON");
    let (app, store) = service();
    let path = store.path().join("results").join("fuzzed.json");
    let rt = runtime();
    let mut runner = TestRunner::new(config(1000));
    runner
        .run(&(any::<bool>(), edits()), |(newest, edits)| {
            let base = if newest { &current } else { &schema_1 };
            std::fs::write(&path, mutate(base, &edits).to_string()).expect("written");
            rt.block_on(async {
                for route in [
                    "/",
                    "/api/v1/leaderboard",
                    "/api/v1/leaderboard?format=csv",
                    "/api/v1/results",
                    "/api/v1/results/fuzzed",
                    "/api/v1/results/fuzzed/problems/p01_merge_intervals",
                    "/results/fuzzed",
                    "/results/fuzzed/problems/p01_merge_intervals",
                    "/compare?a=fuzzed&b=fuzzed",
                    "/compare/problem?a=fuzzed&b=fuzzed&id=p01_merge_intervals",
                    "/api/v1/compare?a=fuzzed&b=fuzzed",
                ] {
                    let answer = send(&app, "GET", route, &[], Vec::new()).await;
                    no_host_error(&answer, route)?;
                }
                Ok(())
            })
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}

/// A run's state and events files with any field replaced or removed, and
/// any `Last-Event-ID`: the runs' routes and pages answer without failing.
#[test]
fn run_state_files_and_event_ids_of_any_shape_never_fail_a_route() {
    let state = json!({
        "id": "fuzzrun", "state": "running", "endpoint": "http://127.0.0.1:1",
        "server_kind": null, "models": ["m"], "variants": ["default"],
        "problems": ["p01_merge_intervals"], "resume": false,
        "created_at": "2026-12-03T10:00:00Z", "started_at": "2026-12-03T10:00:01Z",
        "ended_at": null, "problems_done": 0, "problems_total": 1, "model": "m",
        "model_step": null, "variant": "default", "problem": "p01_merge_intervals",
        "outcomes": [], "summaries": [], "files": ["m__default"], "skipped": [],
        "warnings": ["w"], "error": null, "last_event": 2, "owner": "nowhere:1:2@x",
        "request": { "endpoint": null, "models": ["m"], "max_tokens": null,
                     "temperature": null, "extra_body": null, "server_kind": null },
    });
    let (app, store) = service();
    let runs = store.path().join("results").join("runs");
    let rt = runtime();
    let mut runner = TestRunner::new(config(1000));
    let last_event_id = proptest::collection::vec(any::<u8>(), 0..24);
    let event_lines = proptest::collection::vec(body_json(), 0..4);
    runner
        .run(
            &(edits(), last_event_id, event_lines),
            |(edits, id, lines)| {
                std::fs::write(
                    runs.join("fuzzrun.json"),
                    mutate(&state, &edits).to_string(),
                )
                .expect("written");
                let lines: Vec<String> = lines.iter().map(Value::to_string).collect();
                std::fs::write(runs.join("fuzzrun.events.jsonl"), lines.join("\n"))
                    .expect("written");
                rt.block_on(async {
                    for route in [
                        "/api/v1/runs",
                        "/api/v1/runs/fuzzrun",
                        "/runs",
                        "/runs/fuzzrun",
                    ] {
                        no_host_error(&send(&app, "GET", route, &[], Vec::new()).await, route)?;
                    }
                    if let Ok(id) = axum::http::HeaderValue::from_bytes(&id) {
                        let request = axum::http::Request::get("/api/v1/runs/fuzzrun/events")
                            .header("last-event-id", id)
                            .body(axum::body::Body::empty())
                            .expect("a request");
                        let response = tower::ServiceExt::oneshot(app.clone(), request)
                            .await
                            .expect("an answer");
                        prop_assert!(
                            !response.status().is_server_error(),
                            "{}",
                            response.status()
                        );
                    }
                    Ok(())
                })
            },
        )
        .unwrap_or_else(|failure| panic!("{failure}"));
}

/// Any body, of any type, to every route that takes one; any query string
/// and any path name on the routes that read them.
#[test]
fn request_bodies_queries_and_names_of_any_shape_never_fail_a_route() {
    let (app, _store) = service();
    let rt = runtime();
    let posts = [
        "/api/v1/evaluate",
        "/api/v1/evaluate/batch",
        "/api/v1/run",
        "/api/v1/runs",
        "/api/v1/runs/x/cancel",
        "/api/v1/runs/x/resume",
        "/evaluate",
        "/runs/new",
        "/runs/x/cancel",
        "/runs/x/resume",
    ];
    let content_type = prop_oneof![
        Just("application/json"),
        Just("application/x-www-form-urlencoded"),
        Just("text/plain"),
    ];
    let body = prop_oneof![
        body_json().prop_map(|value| value.to_string().into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..64),
        "[a-z_]{1,8}=[^&]{0,12}(&[a-z_]{1,8}=[^&]{0,12}){0,4}".prop_map(String::into_bytes),
    ];
    let text = proptest::collection::vec(any::<u8>(), 0..32).prop_map(|bytes| {
        bytes
            .iter()
            .map(|byte| format!("%{byte:02X}"))
            .collect::<String>()
    });
    let mut runner = TestRunner::new(config(1000));
    runner
        .run(
            &(
                prop::sample::select(posts.to_vec()),
                content_type,
                body,
                text.clone(),
                text,
            ),
            |(route, content_type, body, query, name)| {
                rt.block_on(async {
                    let answer =
                        send(&app, "POST", route, &[("content-type", content_type)], body).await;
                    no_host_error(&answer, route)?;
                    for get in [
                        format!("/?{query}"),
                        format!("/api/v1/leaderboard?{query}"),
                        format!("/compare?{query}"),
                        format!("/api/v1/compare?{query}"),
                        format!("/compare/problem?{query}"),
                        format!("/api/v1/runs/x/events?{query}"),
                        format!("/api/v1/results/{name}"),
                        format!("/results/{name}/problems/{name}"),
                        format!("/api/v1/problems/{name}"),
                        format!("/runs/{name}"),
                        format!("/api/v1/runs/{name}"),
                    ] {
                        let answer = send(&app, "GET", &get, &[], Vec::new()).await;
                        no_host_error(&answer, &get)?;
                    }
                    Ok(())
                })
            },
        )
        .unwrap_or_else(|failure| panic!("{failure}"));
}
