use std::io::{BufRead, BufReader, Read, Write};
use std::process::Command;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use fuelbench_server::Config;
use serde_json::{Value, json};

use crate::support::service::{Answer, JSON, app, http, post, runtime, send, spawn_serve};
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

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process is alive");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc")
}

/// `fuelbench serve` as a user starts it, over a real socket: overloaded,
/// then stopped by SIGTERM in the middle of a run it is streaming.
#[test]
fn serve_over_a_real_socket_survives_overload_and_stops_on_sigterm_mid_run() {
    let problems: Vec<fuelbench_problems::Problem> =
        crate::support::scripted::problems()[..3].to_vec();
    let model_server = crate::support::scripted::scripted_with(
        problems.clone(),
        Duration::from_millis(100),
        |_, _| false,
    );
    let store = tempfile::tempdir().unwrap();
    let (mut child, addr) = spawn_serve(&[
        "--slots".as_ref(),
        "1".as_ref(),
        "--results".as_ref(),
        store.path().as_os_str(),
        "--endpoint".as_ref(),
        model_server.base_url.as_ref(),
    ]);

    let program = r#"{"code": "print(sum(range(10)))"}"#;
    let (status, body) = http(&addr, "POST", "/api/v1/run", program);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""stdout":"45\n""#), "{body}");
    for _ in 0..20 {
        http(&addr, "POST", "/api/v1/run", program);
    }
    let before = rss_kib(child.id());

    // 64 clients at once on one slot and a queue of 32.
    let busy = r#"{"code": "x = 0\nfor i in range(200000): x += i\nprint(x)"}"#;
    let clients: Vec<_> = (0..64)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || http(&addr, "POST", "/api/v1/run", busy).0)
        })
        .collect();
    let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(statuses.contains(&503), "{statuses:?}");
    let (status, _) = http(&addr, "GET", "/healthz", "");
    assert_eq!(status, 200);
    let after = rss_kib(child.id());
    eprintln!("serve RSS: {before} KiB before the overload, {after} KiB after");
    assert!(after < before + 32 * 1024, "{before} KiB -> {after} KiB");
    let (_, metrics) = http(&addr, "GET", "/metrics", "");
    assert!(metrics.contains("fuelbench_rejections_total"), "{metrics}");
    assert!(
        metrics.contains(
            r#"fuelbench_http_requests_total{route="/api/v1/run",method="POST",status="503"}"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"fuelbench_sandbox_runs_total{status="exited"}"#),
        "{metrics}"
    );

    // A run, watched; SIGTERM while it is in flight.
    let ids: Vec<&str> = problems.iter().map(|p| p.id.as_str()).collect();
    let start = json!({ "models": ["fake"], "problems": ids, "refactor": false }).to_string();
    let (status, body) = http(&addr, "POST", "/api/v1/runs", &start);
    assert_eq!(status, 202, "{body}");
    let run: Value = serde_json::from_str(&body).unwrap();
    let id = run["id"].as_str().unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /api/v1/runs/{id}/events HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut events = BufReader::new(stream);
    let mut seen = String::new();
    while !seen.contains("problem_started") {
        let mut line = String::new();
        assert!(
            events.read_line(&mut line).unwrap() > 0,
            "the stream ended early: {seen}"
        );
        seen.push_str(&line);
    }
    // The child is ours: end it by its PID.
    let pid = child.id().to_string();
    let signalled = std::time::Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut rest = String::new();
    events
        .read_to_string(&mut rest)
        .expect("the stream ends, not times out");
    assert!(rest.contains("run_cancelled"), "{rest}");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(15),
        "{:?}",
        signalled.elapsed()
    );

    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(store.path().join("runs").join(format!("{id}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(saved["state"], "cancelled");
    let file = saved["files"][0].as_str().unwrap();
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(store.path().join(format!("{file}.json"))).unwrap(),
    )
    .expect("the results file is whole");
    assert_eq!(results["complete"], false);
}

#[test]
fn serve_refuses_a_public_address_without_a_token() {
    let output = fuelbench(&["serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without a token"), "{stderr}");
}

/// A new browser session: its cookie pair and its forms' token.
async fn ui_session(app: &Router) -> (String, String) {
    let page = send(app, "GET", "/evaluate", &[], Vec::new()).await;
    let cookie = page.headers["set-cookie"]
        .to_str()
        .expect("text")
        .to_owned();
    let session = cookie.split(';').next().expect("a pair").to_owned();
    (session, csrf_field(&String::from_utf8_lossy(&page.body)))
}

/// The hidden `csrf` field of the first form on a page.
fn csrf_field(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    html[at..].split('"').next().expect("a value").to_owned()
}

/// A UI form is taken only with its browser session's token, which a page
/// on another site can neither read nor make; and whatever the UI refuses
/// comes back as a page, never as plain text.
#[test]
fn ui_forms_need_their_sessions_token_and_ui_errors_are_pages() {
    let app = app(Config::default());
    runtime().block_on(async {
        let page = send(&app, "GET", "/evaluate", &[], Vec::new()).await;
        let cookie = page.headers["set-cookie"]
            .to_str()
            .expect("text")
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let session = cookie.split(';').next().expect("a pair").to_owned();
        let token = csrf_field(&String::from_utf8_lossy(&page.body));
        let again = send(
            &app,
            "GET",
            "/evaluate",
            &[("cookie", &session)],
            Vec::new(),
        )
        .await;
        assert!(!again.headers.contains_key("set-cookie"), "one session");
        assert_eq!(csrf_field(&String::from_utf8_lossy(&again.body)), token);

        let form = ("content-type", "application/x-www-form-urlencoded");
        let body = |csrf: &str| {
            format!(
                "problem=p01_merge_intervals&form=code&text=def+merge_intervals%28x%29%3A+return+x\
                 &csrf={csrf}"
            )
            .into_bytes()
        };
        let other = send(&app, "GET", "/evaluate", &[], Vec::new()).await;
        let other_token = csrf_field(&String::from_utf8_lossy(&other.body));
        for (cookie, csrf) in [
            (session.as_str(), ""),
            (session.as_str(), other_token.as_str()),
            ("", token.as_str()),
        ] {
            let refused = send(
                &app,
                "POST",
                "/evaluate",
                &[form, ("cookie", cookie)],
                body(csrf),
            )
            .await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{cookie} {csrf}");
            assert!(String::from_utf8_lossy(&refused.body).contains("reload the page"));
        }
        let judged = send(
            &app,
            "POST",
            "/evaluate",
            &[form, ("cookie", &session)],
            body(&token),
        )
        .await;
        assert_eq!(judged.status, StatusCode::OK);
        assert!(String::from_utf8_lossy(&judged.body).contains("Report: p01_merge_intervals"));

        // axum's own refusals, as pages.
        let html = |answer: &Answer| {
            answer.headers["content-type"]
                .to_str()
                .is_ok_and(|value| value.starts_with("text/html"))
        };
        let missing = send(
            &app,
            "POST",
            "/evaluate",
            &[form, ("cookie", &session)],
            b"form=code".to_vec(),
        )
        .await;
        assert!(
            missing.status.is_client_error() && html(&missing),
            "{}",
            missing.status
        );
        assert!(String::from_utf8_lossy(&missing.body).contains("problem"));
        let wrong_method = send(&app, "DELETE", "/runs/new", &[], Vec::new()).await;
        assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(html(&wrong_method));
        let nowhere = send(&app, "GET", "/no/such/page", &[], Vec::new()).await;
        assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
        assert!(html(&nowhere));
        let no_route = send(&app, "GET", "/api/v1/no-such-route", &[], Vec::new()).await;
        assert_eq!(no_route.json()["error"], "no_route", "the API answers JSON");
    });
}

/// The run form's seed is a whole number or nothing; anything else is
/// refused with the reason, on the form's page, before a run is started.
#[test]
fn the_run_form_refuses_a_seed_that_is_not_a_number() {
    let app = app(Config::default());
    runtime().block_on(async {
        let (session, token) = ui_session(&app).await;
        let form = ("content-type", "application/x-www-form-urlencoded");
        for seed in ["-1", "12abc", "18446744073709551616"] {
            let body = format!(
                "model=m&problem=p01_merge_intervals&think=default&seed={seed}&csrf={token}"
            );
            let refused = send(
                &app,
                "POST",
                "/runs/new",
                &[form, ("cookie", &session)],
                body.into_bytes(),
            )
            .await;
            let text = String::from_utf8_lossy(&refused.body);
            assert!(
                refused.status.is_client_error(),
                "{seed}: {}",
                refused.status
            );
            assert!(text.contains("is not a seed"), "{seed}: {text}");
        }
    });
}

/// A route that changes something takes JSON only, which no page can send
/// to another origin unasked, even where it reads no body; and a request
/// from another port of the same host (the same site) is refused too.
#[test]
fn state_changing_api_calls_take_only_json_from_this_origin() {
    let app = app(Config::default());
    runtime().block_on(async {
        let form = ("content-type", "application/x-www-form-urlencoded");
        let refused = send(&app, "POST", "/api/v1/runs/x/cancel", &[form], Vec::new()).await;
        assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let refused = send(&app, "POST", "/api/v1/runs/x/resume", &[], Vec::new()).await;
        assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let same_site = send(
            &app,
            "POST",
            "/api/v1/run",
            &[JSON, ("sec-fetch-site", "same-site")],
            br#"{"code": "print(1)"}"#.to_vec(),
        )
        .await;
        assert_eq!(same_site.status, StatusCode::FORBIDDEN);
        let json = send(
            &app,
            "POST",
            "/api/v1/runs/x/cancel",
            &[JSON],
            b"{}".to_vec(),
        )
        .await;
        assert_eq!(
            json.status,
            StatusCode::NOT_FOUND,
            "past the guard, to the run"
        );
    });
}
