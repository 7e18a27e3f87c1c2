//! `GET /api/v1/openapi.json`: the API as an OpenAPI 3.1 document. Request
//! and response bodies are the handlers' own types, through schemars (JSON
//! Schema 2020-12 is OpenAPI 3.1's dialect), so a changed type changes the
//! document; `schema/openapi.json` is the committed copy, and a test fails
//! when the two differ or when a documented route is not served.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use fuelbench_runner::jobs::{RunStatus, StartRun};
use fuelbench_runner::leaderboard::BoardRow;

use crate::routes::{
    BatchRequest, BoardQuery, CompareQuery, EvaluateRequest, EventsQuery, RunRequest,
};

/// One operation: its method and path, what it takes and what it answers.
struct Operation {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    /// Checked with the token, when one is configured.
    guarded: bool,
    body: Option<Schema>,
    query: Option<Schema>,
    /// The success status and its body (`None`: text).
    ok: (u16, Option<Schema>),
    /// The error statuses it can answer besides 500.
    errors: &'static [u16],
}

/// The OpenAPI document of every route.
pub fn openapi() -> Value {
    let settings = SchemaSettings::draft2020_12().with(|settings| {
        settings.definitions_path = "#/components/schemas/".into();
    });
    let mut generator = settings.into_generator();
    let operations = operations(&mut generator);
    let mut paths = Map::new();
    for operation in operations {
        let entry = paths
            .entry(operation.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[operation.method] = describe(&operation);
    }
    let mut schemas = generator.take_definitions(true);
    schemas.insert("Error".into(), error_schema());
    schemas.insert("SandboxOutcome".into(), sandbox_outcome_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "fuelbench",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Judges Python code in a fuel-metered WebAssembly sandbox, and runs \
                benchmarks of local models. A guest's failure is a 200 with its verdict; a 4xx \
                is the request's fault, a 5xx the host's.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
        },
    })
}

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Option<Schema> {
    Some(generator.subschema_for::<T>())
}

fn reference(name: &str) -> Option<Schema> {
    Some(Schema::from(
        json!({ "$ref": format!("#/components/schemas/{name}") })
            .as_object()
            .cloned()
            .expect("an object"),
    ))
}

fn object(properties: Value) -> Option<Schema> {
    Some(Schema::from(
        json!({ "type": "object", "properties": properties })
            .as_object()
            .cloned()
            .expect("an object"),
    ))
}

fn operations(generator: &mut SchemaGenerator) -> Vec<Operation> {
    let plain = |method, path, summary, ok| Operation {
        method,
        path,
        summary,
        guarded: false,
        body: None,
        query: None,
        ok,
        errors: &[],
    };
    let run_status = schema::<RunStatus>(generator);
    let rows = schema::<Vec<BoardRow>>(generator);
    vec![
        plain("get", "/healthz", "Alive: `ok`.", (200, None)),
        plain(
            "get",
            "/metrics",
            "Requests by route and status, evaluations, sandbox runs by status, queue depth, \
             rejections and latency histograms, as Prometheus text.",
            (200, None),
        ),
        plain(
            "get",
            "/api/v1/openapi.json",
            "This document.",
            (200, object(json!({}))),
        ),
        plain(
            "get",
            "/api/v1/info",
            "Versions and hashes of fuelbench, wasmtime, the interpreter and the problem set; \
             every limit's default and maximum; slots and queue.",
            (200, object(json!({}))),
        ),
        plain(
            "get",
            "/api/v1/problems",
            "The public part of every problem: prompt, signature, expected class.",
            (200, object(json!({ "problems": { "type": "array" } }))),
        ),
        Operation {
            errors: &[404],
            ..plain(
                "get",
                "/api/v1/problems/{id}",
                "The public part of one problem.",
                (200, object(json!({}))),
            )
        },
        Operation {
            guarded: true,
            body: schema::<EvaluateRequest>(generator),
            errors: &[400, 401, 403, 404, 408, 413, 415, 422, 503, 504],
            ..plain(
                "post",
                "/api/v1/evaluate",
                "Judges one solution: the report `fuelbench evaluate --json` prints, byte for \
                 byte.",
                (200, schema::<fuelbench_eval::Report>(generator)),
            )
        },
        Operation {
            guarded: true,
            body: schema::<BatchRequest>(generator),
            errors: &[400, 401, 403, 408, 413, 415, 422, 503, 504],
            ..plain(
                "post",
                "/api/v1/evaluate/batch",
                "Judges up to `batch_items` solutions: one report or one error each, in order.",
                (200, object(json!({ "results": { "type": "array" } }))),
            )
        },
        Operation {
            guarded: true,
            body: schema::<RunRequest>(generator),
            errors: &[400, 401, 403, 408, 413, 415, 422, 503, 504],
            ..plain(
                "post",
                "/api/v1/run",
                "Runs any program with stdin and limits: the sandbox's outcome.",
                (200, reference("SandboxOutcome")),
            )
        },
        Operation {
            query: schema::<BoardQuery>(generator),
            errors: &[422],
            ..plain(
                "get",
                "/api/v1/leaderboard",
                "One row per model and variant in the results store, sortable and filtered; \
                 `format=csv` for CSV. Rows scored on another problem set or interpreter are \
                 flagged; each says what verifying its file found, and where it came from. \
                 Its `ETag` is a digest of its bytes, alike from every replica over one store; \
                 `If-None-Match` with it answers 304 while the board is unchanged.",
                (200, object(json!({ "rows": rows }))),
            )
        },
        plain(
            "get",
            "/api/v1/results",
            "The results files in the store, newest first.",
            (200, object(json!({ "results": { "type": "array" } }))),
        ),
        Operation {
            errors: &[404, 422, 502],
            ..plain(
                "get",
                "/api/v1/results/{name}",
                "One results file.",
                (200, schema::<fuelbench_runner::ResultsFile>(generator)),
            )
        },
        Operation {
            errors: &[404, 409, 502],
            ..plain(
                "get",
                "/api/v1/results/{name}/verification",
                "What scoring the file's saved answers again on this service found: `verified` \
                 (the same verdicts, fuel and scores), `differs` (and where), `unverifiable` \
                 (another scorer or problem set, and which) or `pending`; the scorer's key and \
                 the file version checked.",
                (
                    200,
                    object(json!({
                        "name": { "type": "string" },
                        "version": { "type": "string" },
                        "checked_at": { "type": ["string", "null"] },
                        "scorer": { "type": "object" },
                        "verification": schema::<fuelbench_runner::Verification>(generator),
                    })),
                ),
            )
        },
        Operation {
            errors: &[404, 422],
            ..plain(
                "get",
                "/api/v1/results/{name}/problems/{id}",
                "One problem's record: answers, extraction, cases, fuel series, refactor.",
                (200, schema::<fuelbench_runner::ProblemRecord>(generator)),
            )
        },
        Operation {
            query: schema::<CompareQuery>(generator),
            errors: &[404, 422],
            ..plain(
                "get",
                "/api/v1/compare",
                "Results file B against A: deltas, differing problems, pass/fail agreement, fuel \
                 ratios on problems both pass.",
                (
                    200,
                    schema::<fuelbench_runner::leaderboard::Comparison>(generator),
                ),
            )
        },
        plain(
            "get",
            "/api/v1/endpoints",
            "The model servers runs may target, each with the models it offers.",
            (200, object(json!({ "endpoints": { "type": "array" } }))),
        ),
        Operation {
            guarded: true,
            body: schema::<StartRun>(generator),
            errors: &[400, 401, 403, 409, 415, 422, 503],
            ..plain(
                "post",
                "/api/v1/runs",
                "Starts a benchmark run against a configured endpoint: 202, with the run's \
                 state. A second run on the same model server is a 409.",
                (202, run_status.clone()),
            )
        },
        plain(
            "get",
            "/api/v1/runs",
            "Every run, newest first.",
            (
                200,
                object(json!({ "runs": { "type": "array", "items": run_status.clone() } })),
            ),
        ),
        Operation {
            errors: &[404],
            ..plain(
                "get",
                "/api/v1/runs/{id}",
                "A run's state and progress.",
                (200, run_status.clone()),
            )
        },
        Operation {
            errors: &[400, 404, 422, 503],
            query: schema::<EventsQuery>(generator),
            ..plain(
                "get",
                "/api/v1/runs/{id}/events",
                "Server-sent events: a snapshot of the state first (unnumbered; its data's \
                 `event` is `snapshot`), then the runner's events numbered from 1. `Last-Event-ID` resumes \
                 after the event it names. The stream ends with the run, or when the server \
                 shuts down.",
                (200, None),
            )
        },
        Operation {
            guarded: true,
            body: schema::<NoFields>(generator),
            errors: &[401, 403, 404, 409, 415],
            ..plain(
                "post",
                "/api/v1/runs/{id}/cancel",
                "Cancels a run; its results files stay whole and resumable.",
                (202, run_status.clone()),
            )
        },
        Operation {
            guarded: true,
            body: schema::<NoFields>(generator),
            errors: &[401, 403, 404, 409, 415],
            ..plain(
                "post",
                "/api/v1/runs/{id}/resume",
                "Starts a new run with an ended run's request, continuing its results files.",
                (202, run_status),
            )
        },
    ]
}

fn describe(operation: &Operation) -> Value {
    let mut described = json!({ "summary": operation.summary });
    let mut parameters: Vec<Value> = operation
        .path
        .split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
        })
        .collect();
    if let Some(query) = &operation.query {
        let properties = query
            .as_object()
            .and_then(|schema| schema.get("properties"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required: Vec<&str> = query
            .as_object()
            .and_then(|schema| schema.get("required"))
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, schema) in properties {
            parameters.push(json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": schema,
            }));
        }
    }
    if !parameters.is_empty() {
        described["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = &operation.body {
        described["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": body } },
        });
    }
    if operation.guarded {
        // Open when no token is configured; the bearer token when one is.
        described["security"] = json!([{}, { "bearer": [] }]);
    }
    let mut responses = Map::new();
    let (status, body) = &operation.ok;
    responses.insert(
        status.to_string(),
        match body {
            Some(schema) => json!({
                "description": "OK",
                "content": { "application/json": { "schema": schema } },
            }),
            None => json!({ "description": "OK" }),
        },
    );
    for status in operation.errors.iter().chain(&[500]) {
        responses.insert(
            status.to_string(),
            json!({
                "description": error_description(*status),
                "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/Error" },
                } },
            }),
        );
    }
    described["responses"] = Value::Object(responses);
    described
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Malformed JSON, query or header",
        401 => "The configured token is missing or wrong",
        403 => "A request from another site, or from another port of this host",
        404 => "No such item",
        409 => "In conflict with what is running or stored",
        408 => "The body did not arrive in time",
        413 => "The body or the code is too large",
        415 => "The body is not JSON",
        422 => "A field is wrong; `fields` says which",
        503 => {
            "Every sandbox slot is busy and the queue is full, or every event stream is \
                taken: retry after `Retry-After`"
        }
        502 => "The results store (a bucket) could not be reached or read; try again",
        504 => "The request passed its deadline (`/api/v1/info`), and its work was stopped",
        _ => "The host failed; the request may be tried again",
    }
}

/// The body of a route that reads nothing: `{}`. It must still be sent as
/// JSON, which no page of another origin can send unasked.
#[derive(schemars::JsonSchema)]
struct NoFields {}

/// The one error shape of every route.
fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": { "type": "string", "description": "Stable, snake_case: what a program matches on" },
            "message": { "type": "string", "description": "For the person reading it" },
            "fields": {
                "type": "object",
                "additionalProperties": { "type": "string" },
                "description": "Per-field messages, for a body whose shape is wrong",
            },
        },
    })
}

/// What `POST /api/v1/run` answers: `fuelbench sandbox run --json`'s object.
fn sandbox_outcome_schema() -> Value {
    json!({
        "type": "object",
        "required": ["status", "exit_code", "fuel_used", "stdout", "stderr", "wall_ms", "detail"],
        "properties": {
            "status": {
                "type": "string",
                "enum": fuelbench_sandbox::Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            },
            "exit_code": { "type": ["integer", "null"] },
            "fuel_used": { "type": ["integer", "null"], "minimum": 0 },
            "stdout": { "type": "string" },
            "stderr": { "type": "string" },
            "wall_ms": { "type": "number" },
            "detail": { "type": ["string", "null"] },
        },
    })
}
