//! The web UI: pages rendered on the server from the same data the API
//! serves, readable with JavaScript off. JavaScript (`web/live.js`) only
//! keeps a run's page live over its event stream. Every asset is in the
//! binary, and every page is sent with `Content-Security-Policy:
//! default-src 'self'`, so nothing loads from elsewhere and no inline
//! script runs: a model's `<script>` is text, escaped by maud.

mod board;
mod compare;
mod plot;
mod problem;
mod runs;
mod session;

pub(crate) use self::session::Sessions;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fuelbench_eval::score::Verdict;
use fuelbench_eval::stats::{Interval, IntervalMethod};
use maud::{DOCTYPE, Markup, html};

pub(crate) use self::session::Session;
use crate::error::HostDetail;
use crate::{ApiError, AppState};

const STYLE: &str = include_str!("../../../../web/style.css");
const LIVE: &str = include_str!("../../../../web/live.js");

pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(board::leaderboard))
        .route("/results/{name}", get(board::results))
        .route("/results/{name}/problems/{id}", get(problem::record))
        .route("/compare", get(compare::compare))
        .route("/compare/problem", get(compare::problem))
        .route(
            "/evaluate",
            get(problem::playground).post(problem::evaluate),
        )
        .route("/runs", get(runs::list))
        .route("/runs/new", get(runs::new).post(runs::start))
        .route("/runs/{id}", get(runs::watch))
        .route("/runs/{id}/cancel", post(runs::cancel))
        .route("/runs/{id}/resume", post(runs::resume))
        .route("/assets/style.css", get(|| asset("text/css", STYLE)))
        .route("/assets/live.js", get(|| asset("text/javascript", LIVE)))
        .layer(axum::middleware::from_fn_with_state(
            state,
            session::session,
        ))
        .layer(axum::middleware::from_fn(errors_as_pages))
}

/// Whether `path` is the UI's, so its errors are pages rather than JSON.
pub(crate) fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/") || path == "/metrics" || path == "/healthz")
}

/// An error the UI's handlers did not render themselves (a form, a query
/// or a path axum could not read, a method the route does not take) as a
/// page saying what was wrong, rather than axum's plain text.
async fn errors_as_pages(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_html {
        return response;
    }
    let detail = response.extensions().get::<HostDetail>().cloned();
    let message = match axum::body::to_bytes(response.into_body(), 64 << 10).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).into_owned(),
        _ => status
            .canonical_reason()
            .unwrap_or("the request was refused")
            .to_owned(),
    };
    let message = serde_json::from_str::<serde_json::Value>(&message)
        .ok()
        .and_then(|json| json["message"].as_str().map(str::to_owned))
        .unwrap_or(message);
    let mut page = Page::from(ApiError::new(status, "bad_request", message)).into_response();
    if let Some(detail) = detail {
        page.extensions_mut().insert(detail);
    }
    page
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// A whole page: the same header, navigation and footer around every body.
pub(crate) struct Page {
    pub status: StatusCode,
    pub title: String,
    pub body: Markup,
    /// Scripts the page needs, from `/assets`.
    pub scripts: &'static [&'static str],
    /// For the server's log: what an error page keeps from its reader.
    pub detail: Option<String>,
}

impl Page {
    pub(crate) fn new(title: impl Into<String>, body: Markup) -> Page {
        Page {
            status: StatusCode::OK,
            title: title.into(),
            body,
            scripts: &[],
            detail: None,
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let markup = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · fuelbench" }
                    link rel="stylesheet" href="/assets/style.css";
                }
                body {
                    header.top {
                        a.brand href="/" { "fuelbench" }
                        nav aria-label="Main" {
                            a href="/" { "Leaderboard" }
                            a href="/compare" { "Compare" }
                            a href="/runs" { "Runs" }
                            a href="/evaluate" { "Evaluate" }
                        }
                    }
                    main { (self.body) }
                    footer {
                        "fuelbench " (env!("CARGO_PKG_VERSION"))
                        " · wasmtime " (fuelbench_sandbox::WASMTIME_VERSION)
                        " · " a href="/api/v1/openapi.json" { "API" }
                    }
                    @for script in self.scripts {
                        script src=(script) {}
                    }
                }
            }
        };
        let mut response = (self.status, markup).into_response();
        // No page may be framed by another site (clickjacking the run
        // buttons): `frame-ancestors` for today's browsers, X-Frame-Options
        // for older ones.
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if let Some(detail) = self.detail {
            response.extensions_mut().insert(HostDetail(detail));
        }
        response
    }
}

/// An error as a page, with the status the API would give.
impl From<ApiError> for Page {
    fn from(error: ApiError) -> Page {
        Page {
            status: error.status,
            detail: error.detail,
            ..Page::new(
                "Not here",
                html! {
                    h1 { "Something is not right" }
                    p.error { (error.message) }
                    p { a href="/" { "Back to the leaderboard" } }
                },
            )
        }
    }
}

/// A score with its 95% interval drawn under it: a bar from the interval's
/// low to its high end on a 0-1 scale, a dot at the score, and a tick at the
/// threshold the verdict is judged against.
pub(crate) fn with_interval(
    value: Option<f64>,
    interval: Option<&Interval>,
    threshold: Option<f64>,
    places: usize,
) -> Markup {
    let Some(value) = value else {
        return html! { "–" };
    };
    let text = format!("{value:.places$}");
    let Some(interval) = interval else {
        return html! { (text) };
    };
    let x = |v: f64| 3.0 + v.clamp(0.0, 1.0) * 74.0;
    let title = format!(
        "{text}, 95% interval {:.places$} to {:.places$} ({})",
        interval.low,
        interval.high,
        match interval.method {
            IntervalMethod::Wilson => "Wilson",
            IntervalMethod::Bootstrap => "bootstrap over problems and samples",
        }
    );
    html! {
        span.scored title=(title) {
            (text)
            // Closed explicitly: in HTML, an SVG element written as a void
            // tag would swallow the elements after it.
            svg.interval viewBox="0 0 80 10" width="80" height="10" role="img" aria-label=(title) {
                line.axis x1="3" x2="77" y1="5" y2="5" {}
                line.range x1=(format!("{:.1}", x(interval.low))) x2=(format!("{:.1}", x(interval.high))) y1="5" y2="5" {}
                @if let Some(threshold) = threshold {
                    line.threshold x1=(format!("{:.1}", x(threshold))) x2=(format!("{:.1}", x(threshold))) y1="0" y2="10" {}
                }
                circle.point cx=(format!("{:.1}", x(value))) cy="5" r="2.5" {}
            }
        }
    }
}

/// A verdict's badge: GO, NO-GO, or undecided when a threshold lies inside
/// an interval.
pub(crate) fn verdict_badge(verdict: Verdict) -> Markup {
    match verdict {
        Verdict::Go => badge("pass", "GO"),
        Verdict::NoGo => badge("fail", "NO-GO"),
        Verdict::Undecided => badge("warn", "undecided"),
    }
}

/// `75.3 s`, `12 m 05 s`, `2 h 03 m`.
pub(crate) fn seconds(value: f64) -> String {
    fuelbench_runner::render::duration(value)
}

/// `12.3M`: fuel and other large counts, short.
pub(crate) fn count(value: f64) -> String {
    let (scaled, unit) = match value.abs() {
        v if v >= 1e9 => (value / 1e9, "G"),
        v if v >= 1e6 => (value / 1e6, "M"),
        v if v >= 1e3 => (value / 1e3, "k"),
        _ => return format!("{value:.0}"),
    };
    format!("{scaled:.1}{unit}")
}

/// A verdict as a badge: its text says it, its colour repeats it.
pub(crate) fn badge(kind: &str, text: &str) -> Markup {
    html! { span class={"badge " (kind)} { (text) } }
}

/// What a problem's outcome is called on a page, and its badge kind.
pub(crate) fn outcome(passed: bool, failure: Option<&str>) -> Markup {
    match (passed, failure) {
        (true, None) => badge("pass", "pass"),
        (true, Some(class)) => badge("warn", &class.replace('_', " ")),
        (false, Some(class)) => badge("fail", &class.replace('_', " ")),
        (false, None) => badge("fail", "fail"),
    }
}

/// The GO thresholds, for tooltips.
pub(crate) const THRESHOLDS: &str = "GO when the whole 95% interval of pass@1 is ≥ 0.80, \
complexity ≥ 0.70, numerical ≥ 0.67, refactor ≥ 0.70 and overall ≥ 0.75; NO-GO when one lies \
wholly below; undecided when a threshold lies inside an interval";

/// A results file's name in the store, from a row's source path.
pub(crate) fn file_name(path: &std::path::Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(crate) use fuelbench_stdx::percent_encoded as encoded;

/// The query string for `pairs`, percent-encoded.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", encoded(value)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_page_can_be_framed() {
        let response = Page::new("t", html! { p { "x" } }).into_response();
        let headers = response.headers();
        let policy = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        assert!(policy.contains("default-src 'self'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert_eq!(
            headers.get(header::X_FRAME_OPTIONS).map(|v| v.as_bytes()),
            Some(&b"DENY"[..])
        );
    }

    #[test]
    fn queries_are_encoded_and_blank_values_left_out() {
        assert_eq!(
            query(&[("model", "qwen 2.5&x"), ("think", ""), ("sort", "overall")]),
            "model=qwen%202.5%26x&sort=overall"
        );
        assert_eq!(count(12_345_678.0), "12.3M");
        assert_eq!(count(999.0), "999");
    }
}
