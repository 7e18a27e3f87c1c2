//! Benchmark runs as jobs: start, list, watch, cancel, resume; and the model
//! servers they may target.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::json;

use super::guard;
use crate::{ApiError, ApiJson, AppState};
use fuelbench_runner::jobs::{JobEvent, RunStatus, StartRun};

/// 202, the run's state, and where to watch it.
fn accepted(status: &RunStatus) -> Response {
    let location = format!("/api/v1/runs/{}", status.id);
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        axum::Json(status.clone().public()),
    )
        .into_response()
}

pub(super) async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<StartRun>,
) -> Result<Response, ApiError> {
    guard(&state, &headers)?;
    // It reads the store (results files to continue, the lock), so off
    // the async workers.
    let status = state
        .blocking(move |state| {
            state.inner.jobs.start(
                request,
                &state.inner.evaluator,
                &state.inner.problems,
                &state.inner.suites,
            )
        })
        .await??;
    Ok(accepted(&status))
}

pub(super) async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let runs = state.blocking(|state| state.inner.jobs.list()).await??;
    let runs: Vec<RunStatus> = runs.into_iter().map(RunStatus::public).collect();
    Ok(axum::Json(json!({ "runs": runs })).into_response())
}

pub(super) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let run = state
        .blocking(move |state| state.inner.jobs.get(&id))
        .await??;
    Ok(axum::Json(run.public()).into_response())
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    guard(&state, &headers)?;
    let status = state
        .blocking(move |state| state.inner.jobs.cancel(&id))
        .await??;
    Ok(accepted(&status))
}

/// A new run with the same request, continuing the same results files.
pub(super) async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    guard(&state, &headers)?;
    let status = state
        .blocking(move |state| {
            state.inner.jobs.resume(
                &id,
                &state.inner.evaluator,
                &state.inner.problems,
                &state.inner.suites,
            )
        })
        .await??;
    Ok(accepted(&status))
}

/// Server-sent events: a snapshot of the run's state first, then its
/// numbered events; `Last-Event-ID` resumes after the event it names.
/// `?after=N`: where a page rendered at event N starts its stream; a
/// reconnect's `Last-Event-ID` takes precedence.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    after: Option<u64>,
}

pub(super) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<axum::extract::Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let axum::extract::Query(query) =
        query.map_err(|rejection| ApiError::invalid("after", rejection.body_text()))?;
    let after = match headers.get("last-event-id") {
        None => query.after,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_last_event_id",
                        "`Last-Event-ID` is the number of the last event received",
                    )
                })?,
        ),
    };
    // A place among the open streams, held as long as this one is.
    let Ok(place) = Arc::clone(&state.inner.event_streams).try_acquire_owned() else {
        return Err(ApiError::busy(format!(
            "{} event streams are open, the most this server keeps; try again shortly",
            state.config().max_event_streams
        )));
    };
    let stream = state
        .blocking(move |state| state.inner.jobs.events(&id, after))
        .await??
        .map(move |event| {
            let _ = &place;
            Ok::<_, std::convert::Infallible>(sse_event(event))
        });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// A job's event as SSE: its number as the id a reconnect resumes from.
fn sse_event(event: JobEvent) -> Event {
    let sse = Event::default().data(&*event.data);
    match event.number {
        Some(number) => sse.id(number.to_string()),
        None => sse,
    }
}

/// The configured model servers, each with the models it offers (asked
/// now, briefly), for a person choosing what to run.
pub(super) async fn endpoints(State(state): State<AppState>) -> Response {
    axum::Json(json!({ "endpoints": endpoint_models(&state).await })).into_response()
}

/// How long one asking of the model servers is reused: asking opens
/// connections to each, and a page reloaded in a loop must not turn into
/// traffic against a server whose timings a run is measuring.
const ENDPOINTS_FRESH: Duration = Duration::from_secs(5);

/// Each configured endpoint: `url`, `kind`, `models` (or null) and
/// `error` when it could not say. One asking at a time; what it found is
/// reused for [`ENDPOINTS_FRESH`].
pub(crate) async fn endpoint_models(state: &AppState) -> Vec<serde_json::Value> {
    // A task of its own, so a request that goes away mid-asking still
    // leaves what was found for the next one.
    let state = state.clone();
    let asking = tokio::spawn(async move {
        let mut cached = state.inner.endpoint_models.lock().await;
        if let Some((asked, models)) = &*cached
            && asked.elapsed() < ENDPOINTS_FRESH
        {
            return models.clone();
        }
        let models = state.inner.jobs.ask_endpoints().await;
        *cached = Some((std::time::Instant::now(), models.clone()));
        models
    });
    asking.await.unwrap_or_default()
}
