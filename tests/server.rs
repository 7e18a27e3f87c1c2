use axum::http::StatusCode;
use fuelbench_server::Config;
use serde_json::{Value, json};

use crate::support::service::{JSON, app, post, runtime, send};
use crate::support::{fuelbench, repo_path};

#[test]
fn made_up_methods_add_no_metric_series() {
    let app = app(Config::default());
    runtime().block_on(async {
        for index in 0..50 {
            let method = format!("BREW{index}{}", "X".repeat(2000));
            send(&app, &method, "/api/v1/info", &[], Vec::new()).await;
        }
        let metrics = send(&app, "GET", "/metrics", &[], Vec::new()).await;
        let text = String::from_utf8_lossy(&metrics.body);
        assert!(!text.contains("BREW"), "a made-up method became a label");
        assert!(text.contains(r#"method="other""#), "{text}");
        assert!(
            text.len() < 64 << 10,
            "/metrics grew to {} bytes",
            text.len()
        );
    });
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
            &json!({ "problem": problem, "code": code, "seed": 7 }),
        ));
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "a verdict is a 200, pass or fail"
        );
        let cli = fuelbench(&[
            "evaluate",
            "--problem",
            problem,
            "--code",
            file,
            "--json",
            "--seed",
            "7",
        ]);
        assert_eq!(
            String::from_utf8_lossy(&answer.body),
            String::from_utf8_lossy(&cli.stdout),
            "{problem}"
        );
    }
}

/// Lower limits judge the candidate under them and say so in the report;
/// the problem's own expected values and reference keep theirs. Higher
/// ones are refused, naming the maximum.
#[test]
fn lowered_evaluate_limits_bind_the_candidate_alone() {
    let app = app(Config::default());
    let code =
        std::fs::read_to_string(repo_path("problems/p01_merge_intervals/reference.py")).unwrap();
    let evaluate = |limits: Value| {
        let body = json!({ "problem": "p01_merge_intervals", "code": code, "limits": limits });
        runtime().block_on(post(&app, "/api/v1/evaluate", &body))
    };
    // Too little fuel for any case, asked first, so the caches fill under it.
    let starved = evaluate(json!({ "case_fuel": 1000 }));
    assert_eq!(starved.status, StatusCode::OK);
    let starved = starved.json();
    assert_eq!(starved["passed"], false);
    assert_eq!(starved["reproducibility"]["case_fuel"], 1000);
    assert_eq!(starved["cases"][0]["outcome"], "out_of_fuel");
    let whole = evaluate(json!({})).json();
    assert_eq!(
        whole["passed"], true,
        "the expected values were not spoiled"
    );
    assert_eq!(whole["reproducibility"]["case_fuel"], 100_000_000u64);
    let narrow = evaluate(json!({ "measure_fuel": 5_000_000 })).json();
    assert_eq!(narrow["passed"], true);
    assert_eq!(
        narrow["complexity"]["match"], false,
        "the series is cut short"
    );

    for (limits, field) in [
        (json!({ "case_fuel": 100_000_001u64 }), "limits.case_fuel"),
        (json!({ "wall_ms": 0 }), "limits.wall_ms"),
        (json!({ "memory_mib": 1 }), "limits.memory_mib"),
        (json!({ "memory_mib": 1 << 20 }), "limits.memory_mib"),
    ] {
        let answer = evaluate(limits.clone());
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{limits}");
        assert!(
            answer.json()["fields"][field].is_string(),
            "{limits}: {}",
            answer.json()
        );
    }
    let refused = evaluate(json!({ "case_fuel": 100_000_001u64 })).json();
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("the maximum is 100000000"),
        "{refused}"
    );
}

/// On loopback, a page that rebound its own name to 127.0.0.1 is refused.
#[test]
fn a_request_naming_another_host_is_refused_on_loopback() {
    let local = app(Config::default());
    runtime().block_on(async {
        let evil = send(
            &local,
            "GET",
            "/api/v1/info",
            &[("host", "evil.example:8080")],
            Vec::new(),
        )
        .await;
        assert_eq!(evil.status, StatusCode::MISDIRECTED_REQUEST);
        assert_eq!(evil.json()["error"], "not_loopback");
        for host in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080"] {
            let ok = send(&local, "GET", "/api/v1/info", &[("host", host)], Vec::new()).await;
            assert_eq!(ok.status, StatusCode::OK, "{host}");
        }
    });
    let public = app(Config {
        loopback_only: false,
        ..Config::default()
    });
    let answer = runtime().block_on(send(
        &public,
        "GET",
        "/healthz",
        &[("host", "fuelbench.example")],
        Vec::new(),
    ));
    assert_eq!(answer.status, StatusCode::OK);
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

/// Each request draws its own tests, so resubmitting learns nothing of the
/// next; `seed` repeats an earlier report's exactly.
#[test]
fn each_evaluation_draws_a_fresh_seed_and_seed_repeats_one() {
    let app = app(Config::default());
    let code = std::fs::read_to_string(repo_path(
        "problems/p04_search_range/right/bisect_module.py",
    ))
    .unwrap();
    runtime().block_on(async {
        let evaluate = |seed: Option<u64>| {
            let mut body = json!({ "problem": "p04_search_range", "code": code });
            if let Some(seed) = seed {
                body["seed"] = json!(seed);
            }
            let app = &app;
            async move { post(app, "/api/v1/evaluate", &body).await.json() }
        };
        let first = evaluate(None).await;
        let second = evaluate(None).await;
        assert_eq!(first["passed"], true, "{first}");
        let seed = |report: &serde_json::Value| report["reproducibility"]["seed"].as_u64().unwrap();
        assert_ne!(seed(&first), seed(&second));
        assert_eq!(evaluate(Some(seed(&first))).await, first);
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
