//! Judging code: `evaluate`, `evaluate/batch` and `run`; and what a client
//! needs to know first: `info` and the public part of the problems.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fuelbench_eval::{Answer, EvalConfig, Report};
use fuelbench_problems::{Kind, Problem};
use fuelbench_sandbox::{Limits, Program};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{find_problem, guard};
use crate::{ApiError, ApiJson, AppState};

/// Versions and hashes that make a fuel figure mean something, and every
/// limit's default and maximum.
pub(super) async fn info(State(state): State<AppState>) -> Response {
    let evaluator = &state.inner.evaluator;
    let interpreter = evaluator.sandbox().interpreter();
    let config = state.config();
    let eval = evaluator.config();
    let run = Limits::default();
    axum::Json(json!({
        "fuelbench_version": env!("CARGO_PKG_VERSION"),
        "wasmtime_version": fuelbench_sandbox::WASMTIME_VERSION,
        "cpython_version": interpreter.cpython_version,
        "python_wasm_sha256": interpreter.python_wasm_sha256,
        "snapshot_sha256": interpreter.snapshot_sha256,
        "problem_set_sha256": state.inner.problem_set_sha256,
        "problems": state.inner.problems.len(),
        "limits": {
            "run": {
                "fuel": { "default": run.fuel, "max": run.fuel },
                "memory_mib": { "default": run.memory_bytes >> 20, "max": run.memory_bytes >> 20 },
                "wall_ms": { "default": run.wall.as_millis(), "max": run.wall.as_millis() },
                "stdout_bytes": run.stdout_bytes,
                "stderr_bytes": run.stderr_bytes,
            },
            "evaluate": {
                "case_fuel": { "default": eval.case_fuel, "max": eval.case_fuel },
                "measure_fuel": { "default": eval.measure_fuel, "max": eval.measure_fuel },
                "memory_mib": { "default": eval.memory_bytes >> 20, "max": eval.memory_bytes >> 20 },
                "wall_ms": { "default": eval.wall.as_millis(), "max": eval.wall.as_millis() },
            },
            "code_bytes": config.max_code_bytes,
            "body_bytes": config.max_body_bytes,
            "batch_items": config.max_batch,
            "request_deadline_ms": config.request_deadline.as_millis(),
            "header_read_timeout_ms": config.header_read_timeout.as_millis(),
            "write_timeout_ms": config.write_timeout.as_millis(),
            "event_streams": config.max_event_streams,
            "connections": config.max_connections,
        },
        "slots": config.slots,
        "queue": config.queue,
        "admitted": state.admitted(),
        "endpoints": state.inner.jobs.endpoints(),
    }))
    .into_response()
}

/// What a client may see of a problem: never its cases or its reference.
fn public(problem: &Problem) -> Value {
    json!({
        "id": problem.id,
        "title": problem.title,
        "difficulty": problem.difficulty,
        "category": problem.category,
        "entry_point": problem.entry_point,
        "kind": match problem.kind { Kind::Function => "function", Kind::Class => "class" },
        "prompt": problem.prompt,
        "refactor_request": problem.refactor_request,
        "expected_complexity": problem.complexity.expected,
        "numerical_cases": problem.numerical.len(),
    })
}

pub(super) async fn problems(State(state): State<AppState>) -> Response {
    let list: Vec<Value> = state.inner.problems.iter().map(public).collect();
    axum::Json(json!({ "problems": list })).into_response()
}

pub(super) async fn problem(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match find_problem(&state, &id) {
        Ok(problem) => axum::Json(public(problem)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// One solution to score: `code`, or a model's whole `reply`, and an
/// optional `refactored` version in the same form.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvaluateRequest {
    /// A problem id, as `GET /api/v1/problems` lists them.
    problem: String,
    /// The solution's source.
    code: Option<String>,
    /// A model's whole reply, to extract the code from.
    reply: Option<String>,
    /// The refactored version, in the same form as the first.
    refactored: Option<String>,
    /// Limits lower than the published maxima.
    #[serde(default)]
    limits: EvaluateLimits,
    /// The secret the generated cases, the complexity inputs and the
    /// candidate's `random` are drawn from: give an earlier report's
    /// `reproducibility.seed` to repeat its tests exactly. Without it each
    /// request draws a fresh one, so resubmitting learns nothing of the
    /// tests to come.
    seed: Option<u64>,
}

/// Each at most its maximum at `GET /api/v1/info`.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvaluateLimits {
    case_fuel: Option<u64>,
    measure_fuel: Option<u64>,
    memory_mib: Option<u64>,
    wall_ms: Option<u64>,
}

/// A checked request, ready for the sandbox.
struct Evaluation {
    problem: Problem,
    text: String,
    is_reply: bool,
    refactored: Option<String>,
    /// The evaluator's limits, lower where the request asked, and this
    /// evaluation's seed.
    config: EvalConfig,
}

fn check_evaluation(state: &AppState, request: EvaluateRequest) -> Result<Evaluation, ApiError> {
    let problem = find_problem(state, &request.problem)?.clone();
    let (text, is_reply) = match (request.code, request.reply) {
        (Some(code), None) => (code, false),
        (None, Some(reply)) => (reply, true),
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "code",
                "give `code` or `reply`, not both",
            ));
        }
        (None, None) => return Err(ApiError::invalid("code", "give `code` or `reply`")),
    };
    let field = if is_reply { "reply" } else { "code" };
    check_code(state, field, &text)?;
    if let Some(refactored) = &request.refactored {
        check_code(state, "refactored", refactored)?;
    }
    Ok(Evaluation {
        problem,
        text,
        is_reply,
        refactored: request.refactored,
        config: EvalConfig {
            seed: EvalConfig::seed_or_fresh(request.seed).map_err(ApiError::host)?,
            ..evaluate_limits(state, &request.limits)?
        },
    })
}

/// The evaluator's limits, lowered where the request asks.
fn evaluate_limits(state: &AppState, requested: &EvaluateLimits) -> Result<EvalConfig, ApiError> {
    let EvaluateLimits {
        case_fuel,
        measure_fuel,
        memory_mib,
        wall_ms,
    } = *requested;
    let max = state.inner.evaluator.config();
    if [case_fuel, measure_fuel, memory_mib, wall_ms]
        .iter()
        .all(Option::is_none)
    {
        return Ok(max.clone());
    }
    let memory_mib = at_most("limits.memory_mib", memory_mib, max.memory_bytes >> 20)?;
    check_memory_floor(state, memory_mib)?;
    Ok(EvalConfig {
        case_fuel: at_most("limits.case_fuel", case_fuel, max.case_fuel)?,
        measure_fuel: at_most("limits.measure_fuel", measure_fuel, max.measure_fuel)?,
        memory_bytes: memory_mib << 20,
        wall: std::time::Duration::from_millis(at_most(
            "limits.wall_ms",
            wall_ms,
            max.wall.as_millis() as u64,
        )?),
        ..max.clone()
    })
}

/// The interpreter alone needs this much memory; less is refused.
fn check_memory_floor(state: &AppState, memory_mib: u64) -> Result<(), ApiError> {
    let floor = state
        .inner
        .evaluator
        .sandbox()
        .min_memory_bytes()
        .div_ceil(1 << 20);
    if memory_mib < floor {
        return Err(ApiError::invalid(
            "limits.memory_mib",
            format!("the interpreter alone needs {floor} MiB; ask for at least that"),
        ));
    }
    Ok(())
}

fn check_code(state: &AppState, field: &str, text: &str) -> Result<(), ApiError> {
    let max = state.config().max_code_bytes;
    if text.trim().is_empty() {
        return Err(ApiError::invalid(field, format!("`{field}` is empty")));
    }
    if text.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "code_too_large",
            format!("`{field}` is {} bytes; the maximum is {max}", text.len()),
        ));
    }
    Ok(())
}

fn score(evaluator: &fuelbench_eval::Evaluator, job: &Evaluation) -> Result<Report, ApiError> {
    let answer = if job.is_reply {
        Answer::Reply(&job.text)
    } else {
        Answer::Code(&job.text)
    };
    evaluator
        .with_limits(job.config.clone())
        .evaluate_answer(&job.problem, answer, job.refactored.as_deref())
        .map_err(ApiError::from)
}

/// The report as `fuelbench evaluate --json` prints it, byte for byte.
fn report_body(report: &Report) -> Response {
    let mut text = serde_json::to_string_pretty(report).expect("reports serialise");
    text.push('\n');
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

pub(super) async fn evaluate(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<EvaluateRequest>,
) -> Result<Response, ApiError> {
    guard(&state, &headers)?;
    let job = check_evaluation(&state, request)?;
    let report = state
        .sandboxed(move |evaluator| score(evaluator, &job))
        .await??;
    state.inner.metrics.evaluated(report.passed);
    Ok(report_body(&report))
}

#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchRequest {
    items: Vec<EvaluateRequest>,
}

/// Up to [`crate::Config::max_batch`] solutions, one result or one error
/// each, in order; spread over the sandbox slots. A 503 when no item got
/// a slot; an item that alone got none says `busy`.
pub(super) async fn evaluate_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<BatchRequest>,
) -> Result<Response, ApiError> {
    guard(&state, &headers)?;
    let max = state.config().max_batch;
    if request.items.is_empty() || request.items.len() > max {
        return Err(ApiError::invalid(
            "items",
            format!("give 1 to {max} items, not {}", request.items.len()),
        ));
    }
    let jobs: Vec<Result<Evaluation, ApiError>> = request
        .items
        .into_iter()
        .map(|item| check_evaluation(&state, item))
        .collect();
    // Each item in a slot of its own, as many at once as there are slots,
    // in order.
    let results: Vec<Result<Report, ApiError>> = futures_util::stream::iter(jobs)
        .map(|job| {
            let state = state.clone();
            async move {
                let job = job?;
                state
                    .sandboxed(move |evaluator| score(evaluator, &job))
                    .await?
            }
        })
        .buffered(state.config().slots.max(1))
        .collect()
        .await;
    if let Some(Err(busy)) = results.first()
        && busy.code == "busy"
        && results
            .iter()
            .all(|result| result.as_ref().is_err_and(|error| error.code == "busy"))
    {
        return Err(busy.clone());
    }
    let results: Vec<Value> = results
        .into_iter()
        .map(|result| match result {
            Ok(report) => {
                state.inner.metrics.evaluated(report.passed);
                json!({ "report": report })
            }
            Err(error) => json!({ "error": error.code, "message": error.message }),
        })
        .collect();
    Ok(axum::Json(json!({ "results": results })).into_response())
}

/// A program, its stdin, its seed, and limits no higher than the published
/// maxima.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunRequest {
    code: String,
    #[serde(default)]
    stdin: String,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    limits: RunLimits,
}

#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunLimits {
    fuel: Option<u64>,
    memory_mib: Option<u64>,
    wall_ms: Option<u64>,
}

pub(super) async fn run(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RunRequest>,
) -> Result<Response, ApiError> {
    guard(&state, &headers)?;
    check_code(&state, "code", &request.code)?;
    let limits = run_limits(&state, &request.limits)?;
    let outcome = state
        .sandboxed(move |evaluator| {
            let program = Program::new(&request.code)
                .stdin(request.stdin.as_bytes())
                .seed(request.seed);
            evaluator.sandbox().run(&program, &limits)
        })
        .await??;
    state.inner.metrics.sandbox_run(outcome.status.as_str());
    Ok(axum::Json(outcome.to_json()).into_response())
}

/// The defaults, lowered where the request asks; asking for more than a
/// maximum is refused, naming it.
fn run_limits(state: &AppState, requested: &RunLimits) -> Result<Limits, ApiError> {
    let max = Limits::default();
    let fuel = at_most("limits.fuel", requested.fuel, max.fuel)?;
    let memory_mib = at_most(
        "limits.memory_mib",
        requested.memory_mib,
        max.memory_bytes >> 20,
    )?;
    let wall_ms = at_most(
        "limits.wall_ms",
        requested.wall_ms,
        max.wall.as_millis() as u64,
    )?;
    check_memory_floor(state, memory_mib)?;
    Ok(Limits {
        fuel,
        memory_bytes: memory_mib << 20,
        wall: std::time::Duration::from_millis(wall_ms),
        ..max
    })
}

fn at_most(field: &str, requested: Option<u64>, max: u64) -> Result<u64, ApiError> {
    match requested {
        None => Ok(max),
        Some(0) => Err(ApiError::invalid(
            field,
            format!("`{field}` must be above 0"),
        )),
        Some(value) if value > max => Err(ApiError::invalid(
            field,
            format!("`{field}` is {value}; the maximum is {max}"),
        )),
        Some(value) => Ok(value),
    }
}
