use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_problems::load_dir;
use fuelbench_server::{AppState, Config, router};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::util::{cache_dir, fuelbench, repo_path, sandbox};

/// The service's router over a results store of its own, which lives as
/// long as it does.
#[derive(Clone)]
pub struct App {
    router: Router,
    /// Removed when the last clone goes.
    _store: std::sync::Arc<tempfile::TempDir>,
}

impl std::ops::Deref for App {
    type Target = Router;

    fn deref(&self) -> &Router {
        &self.router
    }
}

/// `config` with a fresh store and locks of its own.
pub fn app(config: Config) -> App {
    let store = tempfile::tempdir().expect("a store");
    let problems = load_dir(&repo_path("problems")).expect("the checked-in set loads");
    let evaluator = Evaluator::new(sandbox().clone(), EvalConfig::default());
    let config = Config {
        results_dir: store.path().join("results"),
        runs: fuelbench_server::RunsConfig {
            locks_dir: store.path().join("locks"),
            ..config.runs
        },
        ..config
    };
    let state = AppState::new(evaluator, problems, config).expect("the store opens");
    App {
        router: router(state),
        _store: std::sync::Arc::new(store),
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&self.body)))
    }
}

pub async fn send(
    app: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).expect("a request"))
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body")
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

pub const JSON: (&str, &str) = ("content-type", "application/json");

pub async fn post(app: &Router, path: &str, body: &Value) -> Answer {
    send(app, "POST", path, &[JSON], body.to_string().into_bytes()).await
}

#[test]
fn the_read_only_routes_publish_versions_limits_and_only_public_problem_data() {
    let app = app(Config::default());
    runtime().block_on(async {
        let health = send(&app, "GET", "/healthz", &[], Vec::new()).await;
        assert_eq!(
            (health.status, health.body.as_slice()),
            (StatusCode::OK, &b"ok\n"[..])
        );

        let info = send(&app, "GET", "/api/v1/info", &[], Vec::new())
            .await
            .json();
        assert_eq!(info["wasmtime_version"], "48.0.8");
        assert_eq!(info["python_wasm_sha256"].as_str().unwrap().len(), 64);
        assert_eq!(info["problem_set_sha256"].as_str().unwrap().len(), 64);
        assert_eq!(info["limits"]["run"]["fuel"]["max"], 10_000_000_000u64);
        assert_eq!(info["limits"]["batch_items"], 20);

        let list = send(&app, "GET", "/api/v1/problems", &[], Vec::new())
            .await
            .json();
        let problems = list["problems"].as_array().unwrap();
        assert_eq!(problems.len(), 15);
        let text = list.to_string();
        for hidden in [
            "\"small\"",
            "\"edge\"",
            "\"reference\"",
            "\"wrong\"",
            "\"setup\"",
        ] {
            assert!(!text.contains(hidden), "{hidden} leaked");
        }
        let one = send(
            &app,
            "GET",
            "/api/v1/problems/p04_search_range",
            &[],
            Vec::new(),
        )
        .await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(one.json()["entry_point"], "search_range");
        let missing = send(&app, "GET", "/api/v1/problems/p99", &[], Vec::new()).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.json()["error"], "unknown_problem");
    });
}

/// The endpoint and `fuelbench evaluate --json` give the same bytes.
#[test]
fn evaluate_answers_the_report_evaluate_json_prints_byte_for_byte() {
    let app = app(Config::default());
    for (problem, file) in [
        (
            "p01_merge_intervals",
            "problems/p01_merge_intervals/reference.py",
        ),
        (
            "p02_lru_cache",
            "problems/p02_lru_cache/wrong/list_recency.py",
        ),
    ] {
        let code = std::fs::read_to_string(repo_path(file)).unwrap();
        let answer = runtime().block_on(post(
            &app,
            "/api/v1/evaluate",
            &json!({ "problem": problem, "code": code }),
        ));
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "a verdict is a 200, pass or fail"
        );
        let cli = fuelbench(&["evaluate", "--problem", problem, "--code", file, "--json"]);
        assert_eq!(
            String::from_utf8_lossy(&answer.body),
            String::from_utf8_lossy(&cli.stdout),
            "{problem}"
        );
    }
}

#[test]
fn a_reply_a_refactor_a_batch_and_a_program_are_judged() {
    let app = app(Config::default());
    let reference =
        std::fs::read_to_string(repo_path("problems/p04_search_range/reference.py")).unwrap();
    runtime().block_on(async {
        let reply = format!("Here:\n\n```python\n{reference}\n```\n");
        let report = post(
            &app,
            "/api/v1/evaluate",
            &json!({ "problem": "p04", "reply": reply }),
        )
        .await;
        assert_eq!(
            report.json()["error"],
            "unknown_problem",
            "ids are exact here"
        );
        let report = post(
            &app,
            "/api/v1/evaluate",
            &json!({ "problem": "p04_search_range", "reply": reply, "refactored": reply }),
        )
        .await
        .json();
        assert_eq!(report["passed"], true);
        assert_eq!(report["refactor"]["stable"], true);
        assert!(report["extraction"].is_object());

        let batch = post(
            &app,
            "/api/v1/evaluate/batch",
            &json!({ "items": [
                { "problem": "p04_search_range", "code": reference },
                { "problem": "nope", "code": "x = 1" },
                { "problem": "p04_search_range", "code": "def search_range(a, t): return [0, 0]" },
            ]}),
        )
        .await
        .json();
        let results = batch["results"].as_array().unwrap();
        assert_eq!(results[0]["report"]["passed"], true);
        assert_eq!(results[1]["error"], "unknown_problem");
        assert_eq!(results[2]["report"]["failure_class"], "wrong_answer");

        let run = post(
            &app,
            "/api/v1/run",
            &json!({ "code": "import sys\nprint(sys.stdin.read().upper(), flush=True)\nwhile True: pass",
                     "stdin": "hi", "limits": { "fuel": 50000000 } }),
        )
        .await;
        assert_eq!(
            run.status,
            StatusCode::OK,
            "running out of fuel is a result"
        );
        let outcome = run.json();
        assert_eq!(outcome["status"], "out_of_fuel");
        assert_eq!(outcome["stdout"], "HI\n");
    });
}

/// A request the API must refuse, and how.
struct Bad {
    name: &'static str,
    path: &'static str,
    json: bool,
    body: Vec<u8>,
    status: StatusCode,
    code: &'static str,
}

/// Malformed, truncated and non-UTF-8 bodies, wrong types, huge numbers,
/// unknown problems, empty code, 10 MB of code, deep nesting, the wrong
/// content type: each a 4xx with the error shape and a useful message.
#[test]
fn bad_input_gets_a_4xx_with_a_useful_message() {
    let app = app(Config::default());
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let big = "x = 1\n".repeat((10 << 20) / 6);
    let bad = |name, path, body: &[u8], status, code| Bad {
        name,
        path,
        json: true,
        body: body.to_vec(),
        status,
        code,
    };
    let (malformed, unprocessable) = (StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY);
    let cases = [
        bad(
            "malformed",
            "/api/v1/evaluate",
            b"{\"problem\": ",
            malformed,
            "malformed_json",
        ),
        bad(
            "truncated",
            "/api/v1/run",
            b"{\"code\": \"print(1)",
            malformed,
            "malformed_json",
        ),
        bad(
            "not utf-8",
            "/api/v1/run",
            b"{\"code\": \"\xff\xfe\"}",
            malformed,
            "malformed_json",
        ),
        bad(
            "wrong type",
            "/api/v1/run",
            br#"{"code": 42}"#,
            unprocessable,
            "invalid_body",
        ),
        bad(
            "unknown field",
            "/api/v1/run",
            br#"{"code": "1", "fuel": 5}"#,
            unprocessable,
            "invalid_body",
        ),
        bad(
            "huge number",
            "/api/v1/run",
            br#"{"code": "1", "limits": {"fuel": 1e400}}"#,
            malformed,
            "malformed_json",
        ),
        bad(
            "number past u64",
            "/api/v1/run",
            br#"{"code": "1", "seed": 99999999999999999999999}"#,
            unprocessable,
            "invalid_body",
        ),
        bad(
            "over the maximum",
            "/api/v1/run",
            br#"{"code": "1", "limits": {"wall_ms": 999999}}"#,
            unprocessable,
            "invalid_field",
        ),
        bad(
            "below the interpreter",
            "/api/v1/run",
            br#"{"code": "1", "limits": {"memory_mib": 1}}"#,
            unprocessable,
            "invalid_field",
        ),
        bad(
            "unknown problem",
            "/api/v1/evaluate",
            br#"{"problem": "p99", "code": "x"}"#,
            StatusCode::NOT_FOUND,
            "unknown_problem",
        ),
        bad(
            "empty code",
            "/api/v1/evaluate",
            br#"{"problem": "p01_merge_intervals", "code": "  "}"#,
            unprocessable,
            "invalid_field",
        ),
        bad(
            "code and reply",
            "/api/v1/evaluate",
            br#"{"problem": "p01_merge_intervals", "code": "a", "reply": "b"}"#,
            unprocessable,
            "invalid_field",
        ),
        bad(
            "10 MB of code",
            "/api/v1/run",
            json!({ "code": big }).to_string().as_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "code_too_large",
        ),
        bad(
            "deeply nested",
            "/api/v1/run",
            format!("{{\"code\": {deep}}}").as_bytes(),
            unprocessable,
            "invalid_body",
        ),
        bad(
            "deeply nested batch",
            "/api/v1/evaluate/batch",
            format!("{{\"items\": {deep}}}").as_bytes(),
            unprocessable,
            "invalid_body",
        ),
        bad(
            "empty batch",
            "/api/v1/evaluate/batch",
            br#"{"items": []}"#,
            unprocessable,
            "invalid_field",
        ),
        Bad {
            json: false,
            ..bad(
                "no content type",
                "/api/v1/run",
                br#"{"code": "1"}"#,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            )
        },
    ];
    runtime().block_on(async {
        for Bad {
            name,
            path,
            json,
            body,
            status,
            code,
        } in cases
        {
            let headers: &[(&str, &str)] = if json { &[JSON] } else { &[] };
            let answer = send(&app, "POST", path, headers, body).await;
            assert_eq!(
                answer.status,
                status,
                "{name}: {}",
                String::from_utf8_lossy(&answer.body)
            );
            let error = answer.json();
            assert_eq!(error["error"], code, "{name}: {error}");
            let message = error["message"].as_str().unwrap_or("");
            assert!(message.len() > 10, "{name}: {error}");
        }
        // Past the body cap.
        let answer = send(&app, "POST", "/api/v1/run", &[JSON], vec![b' '; 13 << 20]).await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(answer.json()["error"], "body_too_large");
    });
}

#[test]
fn cross_site_posts_are_refused_and_a_configured_token_is_required() {
    let open = app(Config::default());
    let locked = app(Config {
        token: Some("a-long-enough-secret-token".into()),
        ..Config::default()
    });
    let body = json!({ "code": "print(1)" }).to_string().into_bytes();
    runtime().block_on(async {
        let answer = send(
            &open,
            "POST",
            "/api/v1/run",
            &[JSON, ("sec-fetch-site", "cross-site")],
            body.clone(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        let answer = send(
            &open,
            "POST",
            "/api/v1/run",
            &[
                JSON,
                ("origin", "http://evil.example"),
                ("host", "127.0.0.1:8080"),
            ],
            body.clone(),
        )
        .await;
        assert_eq!(answer.json()["error"], "cross_site");
        let same = send(
            &open,
            "POST",
            "/api/v1/run",
            &[
                JSON,
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080"),
            ],
            body.clone(),
        )
        .await;
        assert_eq!(same.status, StatusCode::OK);

        let answer = send(&locked, "POST", "/api/v1/run", &[JSON], body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        let answer = send(
            &locked,
            "POST",
            "/api/v1/run",
            &[JSON, ("authorization", "Bearer wrong")],
            body.clone(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        let answer = send(
            &locked,
            "POST",
            "/api/v1/run",
            &[JSON, ("authorization", "Bearer a-long-enough-secret-token")],
            body,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
        let health = send(&locked, "GET", "/healthz", &[], Vec::new()).await;
        assert_eq!(health.status, StatusCode::OK, "reading needs no token");
    });
}

/// Far more concurrent requests than slots: each is a 200 or a quick 503
/// with `Retry-After`, never a host error, and the server is healthy after.
#[test]
fn overload_sees_only_200s_and_503s() {
    let app = app(Config {
        slots: 1,
        queue: 2,
        queue_wait: Duration::from_millis(500),
        ..Config::default()
    });
    // About 0.1 s of work each.
    let body = json!({ "code": "x = 0\nfor i in range(300000): x += i\nprint(x)" }).to_string();
    let statuses = runtime().block_on(async {
        let requests = (0..24).map(|_| {
            let app = app.clone();
            let body = body.clone().into_bytes();
            tokio::spawn(async move { send(&app, "POST", "/api/v1/run", &[JSON], body).await })
        });
        let mut statuses = Vec::new();
        for request in requests.collect::<Vec<_>>() {
            let answer = request.await.expect("no panic");
            if answer.status == StatusCode::SERVICE_UNAVAILABLE {
                assert_eq!(answer.headers["retry-after"], "1");
                assert_eq!(answer.json()["error"], "busy");
            }
            statuses.push(answer.status);
        }
        let health = send(&app, "GET", "/api/v1/info", &[], Vec::new()).await;
        assert_eq!(health.json()["admitted"], 0, "every place was given back");
        statuses
    });
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert!(
        statuses.contains(&StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
}

/// `fuelbench serve` as a user starts it: over a real socket, then SIGTERM.
#[test]
fn serve_answers_over_a_real_socket_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fuelbench"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("FUELBENCH_CACHE", cache_dir())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fuelbench serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_owned();
    let body = r#"{"code": "print(sum(range(10)))"}"#;
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "POST /api/v1/run HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""stdout":"45\n""#), "{response}");
    // The child is ours: end it by its PID.
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn serve_refuses_a_public_address_without_a_token() {
    let output = fuelbench(&["serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without a token"), "{stderr}");
}
