//! `GET /metrics`: what the service did, in the Prometheus text format
//! (OpenMetrics, which Prometheus reads).

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

/// The service's counters, gauges and histograms.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    evaluations: Family<StatusLabels, Counter>,
    sandbox_runs: Family<StatusLabels, Counter>,
    rejections: Counter,
    queue_depth: Gauge<i64, std::sync::atomic::AtomicI64>,
    runs_active: Gauge<i64, std::sync::atomic::AtomicI64>,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("fuelbench");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        // 1 ms to about 33 s.
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.001, 2.0, 16))) as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route",
            latency.clone(),
        );
        let evaluations = Family::<StatusLabels, Counter>::default();
        registry.register(
            "evaluations",
            "Solutions judged, by verdict: passed, failed",
            evaluations.clone(),
        );
        let sandbox_runs = Family::<StatusLabels, Counter>::default();
        registry.register(
            "sandbox_runs",
            "Programs run through /api/v1/run, by the sandbox's status",
            sandbox_runs.clone(),
        );
        let rejections = Counter::<u64, AtomicU64>::default();
        registry.register(
            "rejections",
            "Requests refused with 503 because every slot was busy and the queue full",
            rejections.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "queue_depth",
            "Requests holding or waiting for a sandbox slot",
            queue_depth.clone(),
        );
        let runs_active = Gauge::default();
        registry.register(
            "runs_active",
            "Benchmark runs this process drives",
            runs_active.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            evaluations,
            sandbox_runs,
            rejections,
            queue_depth,
            runs_active,
        }
    }

    pub(crate) fn evaluated(&self, passed: bool) {
        let status = if passed { "passed" } else { "failed" };
        self.evaluations
            .get_or_create(&StatusLabels {
                status: status.into(),
            })
            .inc();
    }

    pub(crate) fn sandbox_run(&self, status: &str) {
        self.sandbox_runs
            .get_or_create(&StatusLabels {
                status: status.into(),
            })
            .inc();
    }

    pub(crate) fn rejected(&self) {
        self.rejections.inc();
    }

    /// The text a scrape gets; gauges are read now.
    pub(crate) fn render(&self, queue_depth: usize, runs_active: usize) -> String {
        self.queue_depth.set(queue_depth as i64);
        self.runs_active.set(runs_active as i64);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}

/// A request's method as a label: the methods HTTP defines, and `other` for
/// any name a client makes up, so no request can add a series.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Counts and times every request by its route's pattern, never by its
/// path, so ids do not make new series.
pub(crate) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method()).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = &state.inner.metrics;
    metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
