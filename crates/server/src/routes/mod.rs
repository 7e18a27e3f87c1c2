//! The routes: `/healthz`, `/metrics`, and the API under `/api/v1`.

mod evaluate;
mod results;
mod runs;

pub(crate) use self::evaluate::{BatchRequest, EvaluateRequest, RunRequest};
pub(crate) use self::results::{BoardQuery, CompareQuery, non_empty, select_rows};
pub(crate) use self::runs::{EventsQuery, endpoint_models};

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fuelbench_problems::Problem;

use crate::{ApiError, AppState};

pub(crate) fn routes(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/info", get(evaluate::info))
        .route("/api/v1/problems", get(evaluate::problems))
        .route("/api/v1/problems/{id}", get(evaluate::problem))
        .route("/api/v1/evaluate", post(evaluate::evaluate))
        .route("/api/v1/evaluate/batch", post(evaluate::evaluate_batch))
        .route("/api/v1/run", post(evaluate::run))
        .route("/api/v1/leaderboard", get(results::leaderboard))
        .route("/api/v1/results", get(results::list))
        .route("/api/v1/results/{name}", get(results::file))
        .route(
            "/api/v1/results/{name}/verification",
            get(results::verification),
        )
        .route("/api/v1/results/{name}/problems/{id}", get(results::record))
        .route("/api/v1/compare", get(results::compare))
        .route("/api/v1/endpoints", get(runs::endpoints))
        .route("/api/v1/runs", get(runs::list).post(runs::start))
        .route("/api/v1/runs/{id}", get(runs::get))
        .route("/api/v1/runs/{id}/events", get(runs::events))
        .route("/api/v1/runs/{id}/cancel", post(runs::cancel))
        .route("/api/v1/runs/{id}/resume", post(runs::resume))
        .merge(crate::ui::routes(state.clone()))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if crate::ui::is_page(uri.path()) {
        return crate::ui::Page::from(ApiError::not_found(
            "no_route",
            "there is no such page here",
        ))
        .into_response();
    }
    ApiError::not_found(
        "no_route",
        "no such route; GET /api/v1/openapi.json lists them",
    )
    .into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let text = state
        .inner
        .metrics
        .render(state.admitted(), state.inner.jobs.active());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn openapi() -> Response {
    axum::Json(crate::openapi()).into_response()
}

/// On loopback, a request must name a loopback host: a web page whose own
/// name was rebound to 127.0.0.1 sends its own name, and is refused.
pub(crate) async fn check_host(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.config().loopback_only
        && let Some(host) = request.headers().get(header::HOST)
        && !host.to_str().is_ok_and(is_loopback_host)
    {
        return ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "not_loopback",
            "this server listens on loopback and answers only requests for localhost, \
             127.0.0.1 or [::1]",
        )
        .into_response();
    }
    next.run(request).await
}

/// Everything a request does before its response starts, reading its body
/// and its sandbox work among it, ends at [`Config::request_deadline`]
/// with a 504; dropping the handler stops its sandbox work (see
/// [`AppState::sandboxed`]). An event stream's response starts at once, so
/// the stream itself is not cut.
///
/// [`Config::request_deadline`]: crate::Config::request_deadline
pub(crate) async fn deadline(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let deadline = state.config().request_deadline;
    let page = crate::ui::is_page(request.uri().path());
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let error = ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "deadline_exceeded",
                format!(
                    "the request passed its deadline of {} s, and its work was stopped",
                    deadline.as_secs_f64()
                ),
            );
            if page {
                crate::ui::Page::from(error).into_response()
            } else {
                error.into_response()
            }
        }
    }
}

/// The routes whose bodies go to the sandbox.
const SANDBOX_POSTS: [&str; 4] = [
    "/api/v1/evaluate",
    "/api/v1/evaluate/batch",
    "/api/v1/run",
    "/evaluate",
];

/// How long a body that waits for the sandbox may take to arrive.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A body bound for the sandbox is read only once its request has a place
/// among the slots and the queue (past them, a 503 at once, its body
/// unread), and it must then arrive within [`BODY_READ_TIMEOUT`]: so the
/// memory bodies hold is bounded by the work the server will take, and a
/// client that sends a head and no body gives its place back soon. An API
/// request is checked (token, origin) before it takes a place. Run control
/// (start, cancel, resume) takes small bodies and needs no place, so no
/// flood of evaluations can keep anyone from cancelling a run.
pub(crate) async fn admit_bodies(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if request.method() != axum::http::Method::POST || !SANDBOX_POSTS.contains(&path) {
        return next.run(request).await;
    }
    let page = crate::ui::is_page(path);
    let refuse = |error: ApiError| {
        if page {
            crate::ui::Page::from(error).into_response()
        } else {
            error.into_response()
        }
    };
    if !page && let Err(error) = guard(&state, request.headers()) {
        return error.into_response();
    }
    let Ok(place) = Arc::clone(&state.inner.bodies).try_acquire_owned() else {
        state.inner.metrics.rejected();
        return refuse(ApiError::busy(
            "the server has all the requests it can hold; try again shortly",
        ));
    };
    let (parts, body) = request.into_parts();
    let limit = state.config().max_body_bytes;
    let bytes =
        match tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, limit)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => {
                return refuse(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("the body is over the {limit} bytes a request may send"),
                ));
            }
            Err(_) => {
                return refuse(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    format!(
                        "the body did not arrive within {} s",
                        BODY_READ_TIMEOUT.as_secs()
                    ),
                ));
            }
        };
    let response = next
        .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await;
    drop(place);
    response
}

fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(crate) fn find_problem<'a>(state: &'a AppState, id: &str) -> Result<&'a Problem, ApiError> {
    state
        .inner
        .problems
        .iter()
        .find(|problem| problem.id == id)
        .ok_or_else(|| {
            let known: Vec<&str> = state.inner.problems.iter().map(|p| p.id.as_str()).collect();
            ApiError::not_found(
                "unknown_problem",
                format!("no problem {id:?}; the set has {}", known.join(", ")),
            )
        })
}

/// Checks a request that evaluates or runs anything: the token when one is
/// configured (compared in constant time), and that a browser did not send
/// it from another site.
pub(crate) fn guard(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    guard_with(state, headers, None)
}

/// [`guard`] for a browser's form, which may carry the token as a field.
pub(crate) fn guard_form(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
) -> Result<(), ApiError> {
    guard_with(state, headers, Some(token))
}

fn guard_with(state: &AppState, headers: &HeaderMap, field: Option<&str>) -> Result<(), ApiError> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    // `same-site` too: on localhost, any other port is the same site.
    if matches!(
        text(header::HeaderName::from_static("sec-fetch-site")),
        Some("cross-site" | "same-site")
    ) {
        return Err(cross_site());
    }
    // An API call is JSON, which no page can send to another origin without
    // its consent; a form can, even to a route that reads no body (cancel,
    // resume) and even from a browser that sends no `Origin`.
    if field.is_none() && !text(header::CONTENT_TYPE).is_some_and(is_json) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the request as JSON, with Content-Type: application/json (an empty object \
             where the route reads nothing)",
        ));
    }
    if let (Some(origin), Some(host)) = (text(header::ORIGIN), text(header::HOST)) {
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if origin_host.trim_end_matches('/') != host {
            return Err(cross_site());
        }
    }
    if let Some(token) = &state.config().token {
        let non_empty = text(header::AUTHORIZATION)
            .and_then(|value| value.strip_prefix("Bearer "))
            .or(field)
            .unwrap_or("");
        if !constant_time_eq(non_empty.as_bytes(), token.as_bytes()) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this server needs `Authorization: Bearer <token>`",
            ));
        }
    }
    Ok(())
}

/// `application/json` or `application/*+json`, with any parameters and in
/// any case: what axum's `Json` takes.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence
        .strip_prefix("application/")
        .is_some_and(|subtype| subtype == "json" || subtype.ends_with("+json"))
}

fn cross_site() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_site",
        "requests from another site are refused",
    )
}

/// Equality whose time depends on the lengths only, never on where the
/// bytes differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_told_as_axum_tells_it() {
        for json in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/problem+json",
        ] {
            assert!(is_json(json), "{json}");
        }
        for other in [
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonx",
        ] {
            assert!(!is_json(other), "{other}");
        }
    }

    #[test]
    fn only_loopback_names_are_loopback_hosts() {
        for host in [
            "localhost:8080",
            "127.0.0.1:8080",
            "127.0.0.1",
            "[::1]:80",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example:8080",
            "10.0.0.1:80",
            "localhost.evil.example",
            "[::2]:80",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
