use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fuelbench_problems::Problem;
use fuelbench_server::{Config, JobsConfig};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::check_committed;
use crate::support::scripted::{problems, scripted, scripted_with};
use crate::support::service::{App, JSON, app, post, runtime, send};

/// A service whose runs may target `endpoint`.
fn service(endpoint: &str) -> App {
    app(Config {
        jobs: JobsConfig {
            endpoints: vec![endpoint.to_owned()],
            ..Config::default().jobs
        },
        ..Config::default()
    })
}

/// One server-sent event: its number (none for the snapshot) and its data.
#[derive(Debug, Clone, PartialEq)]
struct Sent {
    id: Option<u64>,
    data: Value,
}

/// A run's event stream, read as a browser's `EventSource` would.
struct Watcher {
    body: axum::body::BodyDataStream,
    buffer: String,
}

impl Watcher {
    async fn open(app: &App, run: &str, last_event_id: Option<u64>) -> Watcher {
        let mut request = Request::builder()
            .method("GET")
            .uri(format!("/api/v1/runs/{run}/events"));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = app
            .router_clone()
            .oneshot(request.body(Body::empty()).expect("a request"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Watcher {
            body: response.into_body().into_data_stream(),
            buffer: String::new(),
        }
    }

    /// The next event, skipping keep-alive comments; `None` once the
    /// stream has ended.
    async fn next(&mut self) -> Option<Sent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        id = Some(value.trim().parse().expect("a numeric id"));
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data).expect("event data is JSON");
                return Some(Sent { id, data });
            }
            let chunk = tokio::time::timeout(Duration::from_secs(30), self.body.next())
                .await
                .expect("the stream moves within 30 s")?
                .expect("the stream reads");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("events are UTF-8"));
        }
    }

    /// Every event until the stream ends.
    async fn rest(&mut self) -> Vec<Sent> {
        let mut all = Vec::new();
        while let Some(sent) = self.next().await {
            all.push(sent);
        }
        all
    }
}

impl App {
    fn router_clone(&self) -> axum::Router {
        (**self).clone()
    }
}

fn chosen(count: usize) -> Vec<Problem> {
    problems()[..count].to_vec()
}

fn ids(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(|problem| problem.id.clone()).collect()
}

async fn get(app: &App, path: &str) -> crate::support::service::Answer {
    send(app, "GET", path, &[], Vec::new()).await
}

async fn start(app: &App, body: Value) -> crate::support::service::Answer {
    post(app, "/api/v1/runs", &body).await
}

fn kinds(events: &[Sent]) -> Vec<String> {
    events
        .iter()
        .map(|sent| {
            sent.data["event"]
                .as_str()
                .expect("a tagged event")
                .to_owned()
        })
        .collect()
}

#[test]
fn a_run_is_started_watched_over_sse_and_lands_in_the_leaderboard() {
    let problems = chosen(3);
    let server = scripted(problems.clone());
    let app = service(&server.base_url);
    runtime().block_on(async {
        let started = start(
            &app,
            json!({ "models": ["fake"], "problems": ids(&problems), "seed": 7 }),
        )
        .await;
        assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.json());
        let run = started.json();
        assert_eq!(run["request"]["seed"], 7, "{run}");
        let id = run["id"].as_str().unwrap().to_owned();
        assert_eq!(started.headers["location"], format!("/api/v1/runs/{id}"));
        assert_eq!(run["problems_total"], 3);

        let mut watcher = Watcher::open(&app, &id, None).await;
        let snapshot = watcher.next().await.unwrap();
        assert_eq!(snapshot.id, None, "the snapshot is not numbered");
        assert_eq!(snapshot.data["event"], "snapshot");
        assert_eq!(snapshot.data["run"]["id"], id.as_str());
        let after_snapshot = snapshot.data["run"]["last_event"].as_u64().unwrap();
        let events = watcher.rest().await;
        let numbers: Vec<u64> = events.iter().map(|sent| sent.id.unwrap()).collect();
        let expected: Vec<u64> =
            (after_snapshot + 1..=after_snapshot + events.len() as u64).collect();
        assert_eq!(numbers, expected, "numbered in order, none missing");

        // The whole stream, from a watcher that has seen nothing.
        let mut all = Watcher::open(&app, &id, Some(0)).await;
        assert_eq!(all.next().await.unwrap().data["event"], "snapshot");
        let all = all.rest().await;
        assert_eq!(
            kinds(&all),
            [
                "run_started",
                "model",
                "variant_started",
                "problem_started",
                "problem_done",
                "problem_started",
                "problem_done",
                "problem_started",
                "problem_done",
                "variant_done",
                "model_done",
                "run_finished",
            ]
        );
        assert_eq!(all[1].data["step"]["kind"], "ready");
        // Files are named by their place in the store, not on this machine.
        let machine_path = app.store_dir().display().to_string();
        for sent in &all {
            assert!(!sent.data.to_string().contains(&machine_path), "{sent:?}");
        }
        assert_eq!(all[2].data["file"], all[9].data["file"]);
        assert!(
            app.store_dir()
                .join(all[2].data["file"].as_str().expect("a file"))
                .is_file()
        );
        // Resuming after event 4 gives exactly what followed it.
        let mut resumed = Watcher::open(&app, &id, Some(4)).await;
        assert_eq!(resumed.next().await.unwrap().data["event"], "snapshot");
        assert_eq!(resumed.rest().await, all[4..].to_vec());

        let status = get(&app, &format!("/api/v1/runs/{id}")).await.json();
        assert_eq!(status["state"], "finished");
        assert_eq!(status["problems_done"], 3);
        assert_eq!(status["outcomes"].as_array().unwrap().len(), 3);
        assert_eq!(status["last_event"], 12);
        let name = status["files"][0].as_str().unwrap().to_owned();
        let listed = get(&app, "/api/v1/runs").await.json();
        assert_eq!(listed["runs"][0]["id"], id.as_str());

        // The results are in the store, for the leaderboard and the drill-down.
        let answer = get(&app, "/api/v1/leaderboard").await;
        let etag = answer.headers["etag"].to_str().unwrap().to_owned();
        let again = send(
            &app,
            "GET",
            "/api/v1/leaderboard",
            &[("if-none-match", &etag)],
            Vec::new(),
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
        let stale_tag = send(
            &app,
            "GET",
            "/api/v1/leaderboard",
            &[("if-none-match", "\"0\"")],
            Vec::new(),
        )
        .await;
        assert_eq!(
            (stale_tag.status, stale_tag.body),
            (StatusCode::OK, answer.body.clone())
        );
        let board = answer.json();
        let rows = board["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["model"], "fake");
        assert_eq!(rows[0]["progress"], "3/3");
        assert_eq!(rows[0]["comparable"], true, "{}", rows[0]);
        assert!(!board.to_string().contains(&machine_path), "{board}");
        // A row scored on other problems is flagged, never mixed in silently.
        let mut stale: Value = get(&app, &format!("/api/v1/results/{name}")).await.json();
        stale["config"]["model"] = json!("stale");
        stale["config"]["problem_set_sha256"] = json!("0".repeat(64));
        std::fs::write(app.store_dir().join("stale.json"), stale.to_string()).unwrap();
        let board = get(&app, "/api/v1/leaderboard?sort=model&order=asc")
            .await
            .json();
        let rows = board["rows"].as_array().unwrap();
        assert_eq!(
            (rows[0]["model"].as_str(), rows[1]["model"].as_str()),
            (Some("fake"), Some("stale"))
        );
        assert_eq!(rows[1]["comparable"], false);
        assert_eq!(
            rows[1]["differences"][0],
            "scored on other problems than this problem set"
        );
        std::fs::remove_file(app.store_dir().join("stale.json")).unwrap();
        let csv = get(&app, "/api/v1/leaderboard?format=csv").await;
        assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
        let csv = String::from_utf8(csv.body).unwrap();
        assert_eq!(csv.lines().count(), 2, "{csv}");
        assert!(csv.starts_with("rank,model,quant,think"), "{csv}");
        let filtered = get(&app, "/api/v1/leaderboard?model=nothing-like-it")
            .await
            .json();
        assert_eq!(filtered["rows"].as_array().unwrap().len(), 0);
        let sorted = get(&app, "/api/v1/leaderboard?sort=tokens_per_s&order=asc").await;
        assert_eq!(sorted.status, StatusCode::OK);
        let bad = get(&app, "/api/v1/leaderboard?sort=nonsense").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.json()["message"]
                .as_str()
                .unwrap()
                .contains("pass_at_1")
        );

        let file = get(&app, &format!("/api/v1/results/{name}")).await.json();
        assert_eq!(file["progress"], "3/3");
        let listed = get(&app, "/api/v1/results").await.json();
        assert_eq!(listed["results"][0]["name"], name.as_str());
        assert_eq!(listed["results"][0]["complete"], true);
        assert_eq!(listed["results"][0]["scores"]["problems"], 3);
        let record = get(
            &app,
            &format!("/api/v1/results/{name}/problems/{}", problems[0].id),
        )
        .await;
        assert_eq!(record.status, StatusCode::OK);
        assert!(
            record.json()["solve"]["content"]
                .as_str()
                .unwrap()
                .contains("```python")
        );
        let missing = get(&app, &format!("/api/v1/results/{name}/problems/p99")).await;
        assert_eq!(missing.json()["error"], "unknown_problem");
        for bad in ["..%2Fetc%2Fpasswd", "nothing", ".hidden"] {
            let answer = get(&app, &format!("/api/v1/results/{bad}")).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{bad}");
        }

        // The same run again would overwrite its results: refused.
        let again = start(
            &app,
            json!({ "models": ["fake"], "problems": ids(&problems) }),
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.json()["error"], "results_exist");

        // A second variant, then the two compared.
        let other = start(
            &app,
            json!({ "models": ["fake"], "problems": ids(&problems), "think": ["off"], "seed": 7 }),
        )
        .await;
        assert_eq!(other.status, StatusCode::ACCEPTED, "{}", other.json());
        let other_id = other.json()["id"].as_str().unwrap().to_owned();
        Watcher::open(&app, &other_id, None).await.rest().await;
        let other_name = get(&app, &format!("/api/v1/runs/{other_id}")).await.json()["files"][0]
            .as_str()
            .unwrap()
            .to_owned();
        let compared = get(&app, &format!("/api/v1/compare?a={name}&b={other_name}")).await;
        assert_eq!(compared.status, StatusCode::OK);
        let compared = compared.json();
        // The scripted server plants a wrong answer for odd-numbered problems.
        assert_eq!(compared["agreement"]["both_pass"], 1);
        assert_eq!(compared["agreement"]["both_fail"], 2);
        assert_eq!(
            compared["fuel"].as_array().unwrap().len(),
            1,
            "only where both pass"
        );
        assert_eq!(compared["fuel"][0]["largest_n_ratio"], 1.0);
        assert_eq!(compared["fuel_ratio_geomean"], 1.0);
        let missing = get(&app, "/api/v1/compare?a=nothing").await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    });
}

#[test]
fn a_second_run_on_the_same_server_is_a_409_and_a_cancelled_run_resumes() {
    let problems = chosen(4);
    // Eight chunks 50 ms apart: every request is in flight for about 0.35 s.
    let server = scripted_with(problems.clone(), Duration::from_millis(50), |_, n| {
        n % 2 == 1
    });
    let app = service(&server.base_url);
    runtime().block_on(async {
        let body = json!({ "models": ["fake"], "problems": ids(&problems), "refactor": false });
        let first = start(&app, body.clone()).await;
        assert_eq!(first.status, StatusCode::ACCEPTED);
        let id = first.json()["id"].as_str().unwrap().to_owned();
        let second = start(
            &app,
            json!({ "models": ["other"], "problems": ids(&problems) }),
        )
        .await;
        assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.json());
        assert_eq!(second.json()["error"], "server_busy");
        let refusal = second.json()["message"]
            .as_str()
            .expect("a message")
            .to_owned();
        assert!(
            !refusal.contains("pid") && !refusal.contains(".lock"),
            "who holds the lock is not the client's to know: {refusal}"
        );

        let mut watcher = Watcher::open(&app, &id, None).await;
        let mut second_watcher = Watcher::open(&app, &id, None).await;
        loop {
            let sent = watcher.next().await.expect("the run goes on");
            if sent.data["event"] == "problem_started" && sent.data["index"] == 1 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let cancelled = post(&app, &format!("/api/v1/runs/{id}/cancel"), &json!({})).await;
        assert_eq!(cancelled.status, StatusCode::ACCEPTED);
        assert_eq!(cancelled.json()["state"], "cancelling");
        let rest = watcher.rest().await;
        assert_eq!(kinds(&rest).last().unwrap(), "run_cancelled", "{rest:?}");
        // Every watcher sees the same end.
        let other = second_watcher.rest().await;
        assert_eq!(other.last(), rest.last());

        let status = get(&app, &format!("/api/v1/runs/{id}")).await.json();
        assert_eq!(status["state"], "cancelled");
        assert_eq!(status["problems_done"], 1);
        let name = status["files"][0].as_str().unwrap().to_owned();
        let file = get(&app, &format!("/api/v1/results/{name}")).await.json();
        assert_eq!(
            (file["progress"].as_str(), file["complete"].as_bool()),
            (Some("1/4"), Some(false))
        );
        let again = post(&app, &format!("/api/v1/runs/{id}/cancel"), &json!({})).await;
        assert_eq!(again.json()["error"], "run_not_running");

        // The endpoint is free again; resuming finishes the same file.
        let resumed = post(&app, &format!("/api/v1/runs/{id}/resume"), &json!({})).await;
        assert_eq!(resumed.status, StatusCode::ACCEPTED, "{}", resumed.json());
        let resumed_id = resumed.json()["id"].as_str().unwrap().to_owned();
        assert_ne!(resumed_id, id);
        let events = Watcher::open(&app, &resumed_id, Some(0)).await.rest().await;
        assert_eq!(kinds(&events).last().unwrap(), "run_finished");
        let started = events
            .iter()
            .find(|s| s.data["event"] == "variant_started")
            .unwrap();
        assert_eq!(
            (
                started.data["done"].as_u64(),
                started.data["sessions"].as_u64()
            ),
            (Some(1), Some(2))
        );
        let status = get(&app, &format!("/api/v1/runs/{resumed_id}"))
            .await
            .json();
        assert_eq!(
            (
                status["problems_done"].as_u64(),
                status["problems_total"].as_u64()
            ),
            (Some(4), Some(4))
        );
        let file = get(&app, &format!("/api/v1/results/{name}")).await.json();
        assert_eq!(file["progress"], "4/4");
        assert_eq!(file["sessions"], 2);
    });
}

#[test]
fn runs_target_only_configured_endpoints_and_bad_plans_are_422s() {
    let problems = chosen(1);
    let server = scripted(problems.clone());
    let unconfigured = app(Config::default());
    let app = service(&server.base_url);
    runtime().block_on(async {
        let answer = start(&unconfigured, json!({ "models": ["fake"] })).await;
        assert_eq!(answer.status, StatusCode::CONFLICT);
        assert_eq!(answer.json()["error"], "no_endpoint");

        let cases = [
            (
                json!({ "models": ["fake"], "endpoint": "http://10.1.2.3:80" }),
                "endpoint",
            ),
            (json!({ "models": ["fake"], "endpoint": "7" }), "endpoint"),
            (json!({ "models": [] }), "models"),
            (
                json!({ "models": ["fake"], "problems": ["p99"] }),
                "problems",
            ),
            (
                json!({ "models": ["fake"], "temperature": 9.0 }),
                "temperature",
            ),
            (json!({ "models": ["fake"], "max_tokens": 0 }), "max_tokens"),
            (
                json!({ "models": ["fake"], "without_grammar": false }),
                "models",
            ),
            (
                json!({ "models": ["fake"], "grammars": [{ "name": "g", "text": " " }] }),
                "grammars",
            ),
        ];
        for (body, field) in cases {
            let answer = start(&app, body.clone()).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert!(
                answer.json()["fields"][field].is_string(),
                "{body}: {}",
                answer.json()
            );
        }
        for body in [
            json!({ "models": ["fake"], "think": ["maybe"] }),
            json!({ "model": "fake" }),
        ] {
            let answer = start(&app, body.clone()).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(answer.json()["error"], "invalid_body");
        }
        let missing = get(&app, "/api/v1/runs/no-such-run").await;
        assert_eq!(missing.json()["error"], "unknown_run");
        let missing = get(&app, "/api/v1/runs/..%2F..%2Fx/events").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let bad = send(
            &app,
            "GET",
            "/api/v1/runs/x/events",
            &[("last-event-id", "soon")],
            Vec::new(),
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);

        let endpoints = get(&app, "/api/v1/endpoints").await.json();
        assert_eq!(endpoints["endpoints"][0]["url"], server.base_url.as_str());
        assert_eq!(endpoints["endpoints"][0]["kind"], "single");
    });
}

#[test]
fn the_openapi_document_is_committed_current_and_every_route_in_it_is_served() {
    let document = fuelbench_server::openapi();
    check_committed("schema/openapi.json", "fuelbench openapi", document.clone());
    let app = app(Config::default());
    runtime().block_on(async {
        for (path, operations) in document["paths"].as_object().unwrap() {
            for method in operations.as_object().unwrap().keys() {
                let concrete = path.replace("{id}", "x").replace("{name}", "x");
                let answer = send(
                    &app,
                    &method.to_uppercase(),
                    &concrete,
                    &[JSON],
                    b"{}".to_vec(),
                )
                .await;
                assert_ne!(
                    answer.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}"
                );
                if answer.status == StatusCode::NOT_FOUND {
                    assert_ne!(answer.json()["error"], "no_route", "{method} {path}");
                }
            }
        }
        let unknown = get(&app, "/api/v1/nothing").await;
        assert_eq!(unknown.json()["error"], "no_route");
    });
}
