use axum::Router;
use axum::http::StatusCode;
use fuelbench_server::Config;
use serde_json::json;

use crate::support::fuelbench;
use crate::support::service::{Answer, JSON, app, runtime, send};

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
