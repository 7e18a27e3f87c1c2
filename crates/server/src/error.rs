//! One error shape for every route: `{"error": code, "message": text,
//! "fields": {...}?}`, with the status that says whose fault it is. A
//! guest's failure is never one of these: it is the body of a 200.
//!
//! The libraries' errors become these in one place each: the `From` impls
//! below, the runner's as one table. What the operator should see and the
//! client should not (a host fault's cause, which process holds a model
//! server) travels as [`HostDetail`] on the response, for the request
//! guard to log once (`recover::guard_requests`); nothing here prints.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// An answer that is not the verdict: bad input, a full server, a host
/// fault.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status: 4xx for the request's fault, 5xx for the host's.
    pub status: StatusCode,
    /// Stable, snake_case: what a program matches on.
    pub code: &'static str,
    /// For the person reading it.
    pub message: String,
    /// Per-field messages, for a body whose shape is wrong.
    pub fields: Option<Map<String, Value>>,
    /// Seconds to wait before trying again (503).
    pub retry_after: Option<u32>,
    /// For the server's log, never for the client.
    pub detail: Option<String>,
}

/// What the server's log says about a response: the detail of an
/// [`ApiError`] the client is not shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostDetail(pub String);

impl ApiError {
    /// An error of `status` and `code` saying `message`, with no fields, no
    /// `Retry-After` and nothing for the log.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: None,
            retry_after: None,
            detail: None,
        }
    }

    /// 422: the body parsed, but a field is wrong.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        let mut fields = Map::new();
        fields.insert(field.to_owned(), Value::String(message.clone()));
        ApiError {
            fields: Some(fields),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
        }
    }

    /// 404: no route, problem, run or results file by that name; `code` says
    /// which.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 503 with `Retry-After`: every sandbox slot is busy and the queue is
    /// full, or the wait for a slot ran out.
    pub fn busy(message: impl Into<String>) -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
        }
    }

    /// 500. The detail goes to the server's log, not to the client.
    pub fn host(detail: impl std::fmt::Display) -> ApiError {
        ApiError {
            detail: Some(format!("host error: {detail:#}")),
            ..ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "host_error",
                "the server failed; the request may be tried again",
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.code, "message": self.message });
        if let Some(fields) = self.fields {
            body["fields"] = Value::Object(fields);
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(detail) = self.detail {
            response.extensions_mut().insert(HostDetail(detail));
        }
        response
    }
}

/// A run stopped from outside (its client gone, its deadline passed) is
/// not the host failing: nobody reads the answer, and nothing is logged.
impl From<fuelbench_sandbox::Error> for ApiError {
    fn from(error: fuelbench_sandbox::Error) -> ApiError {
        match error {
            fuelbench_sandbox::Error::Interrupted => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "interrupted",
                "the request's sandbox work was stopped before it finished",
            ),
            other => ApiError::host(other),
        }
    }
}

/// The runner's errors (jobs, the store, starting a run), each to its
/// status and code. The API names results files by their stem, never by a
/// path on this machine.
impl From<fuelbench_runner::Error> for ApiError {
    fn from(error: fuelbench_runner::Error) -> ApiError {
        use fuelbench_runner::Error;
        let stem = |path: &std::path::Path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        match error {
            Error::NotFound { code, message } => ApiError::not_found(code, message),
            Error::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            Error::Invalid { field, message } => ApiError::invalid(field, message),
            Error::Busy(message) => ApiError::busy(message),
            Error::Unreadable(message) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unreadable_results",
                message,
            ),
            Error::Exists { path } => ApiError::new(
                StatusCode::CONFLICT,
                "results_exist",
                format!(
                    "the store already has results {}; ask with \"resume\": true to continue them",
                    stem(&path)
                ),
            ),
            Error::ConfigChanged { path, changes } => ApiError::new(
                StatusCode::CONFLICT,
                "config_changed",
                format!(
                    "{} was run with other settings: {}",
                    stem(&path),
                    changes.join("; ")
                ),
            ),
            // The store is behind this service, as a model server is
            // behind a proxy: its failure is a bad gateway, and may pass.
            // Which bucket, and what it said, are the operator's to know:
            // the server's log has them.
            Error::Store { action, .. } => ApiError {
                detail: Some(format!(
                    "the results store failed: {}",
                    fuelbench_stdx::error_chain(&error)
                )),
                ..ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "store_unavailable",
                    format!(
                        "the results store could not be {}; try again shortly",
                        match action {
                            "list" => "listed",
                            "write" => "written",
                            _ => "read",
                        }
                    ),
                )
            },
            // Which process holds it, and where its lock file is, are the
            // operator's to know, not the client's.
            Error::Server(fuelbench_llm::Error::Busy { ref base_url, .. }) => ApiError {
                detail: Some(format!(
                    "a run was refused: {}",
                    fuelbench_stdx::error_chain(&error)
                )),
                ..ApiError::new(
                    StatusCode::CONFLICT,
                    "server_busy",
                    format!(
                        "another fuelbench run holds {base_url}; a second run would spoil both \
                         runs' timings. Wait for it to end, or cancel it"
                    ),
                )
            },
            Error::Shared(fuelbench_cluster::Error::NotFound(id)) => ApiError::not_found(
                "unknown_run",
                format!("no run {id:?}; GET /api/v1/runs lists them"),
            ),
            Error::Shared(fuelbench_cluster::Error::Exists(id)) => ApiError::new(
                StatusCode::CONFLICT,
                "run_exists",
                format!("a run {id:?} is queued already"),
            ),
            // The database is behind every replica; while it is away,
            // nothing can be queued or read, and it may well come back.
            Error::Shared(ref shared) if shared.is_transient() => ApiError {
                detail: Some(format!(
                    "the shared database failed: {}",
                    fuelbench_stdx::error_chain(&error)
                )),
                ..ApiError::busy("the service's database cannot be reached now; try again shortly")
            },
            other => ApiError::host(fuelbench_stdx::error_chain(&other)),
        }
    }
}

impl From<fuelbench_eval::Error> for ApiError {
    fn from(error: fuelbench_eval::Error) -> ApiError {
        match error {
            fuelbench_eval::Error::Sandbox(error) => error.into(),
            other => ApiError::host(other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        let text = rejection.body_text();
        match rejection {
            JsonRejection::JsonDataError(_) => ApiError {
                fields: None,
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", text)
            },
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", text)
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON, with Content-Type: application/json",
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", text)
            }
            other => ApiError::new(other.status(), "bad_request", text),
        }
    }
}

/// `Json<T>` whose rejections speak the API's error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
}
