//! Reading the results store: the leaderboard, one results file, one
//! problem's record, and two runs compared.

use std::cmp::Ordering;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fuelbench_eval::score::Verdict;
use fuelbench_runner::leaderboard::{self, BoardRow, Row};
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// `GET /api/v1/leaderboard`'s query: sort, filters and format.
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BoardQuery {
    /// A row field (`overall`, `pass_at_1`, `tokens_per_s`, `model`, ...);
    /// best first by overall score when absent.
    pub(crate) sort: Option<String>,
    /// `asc` or `desc` (the default).
    pub(crate) order: Option<String>,
    /// Rows whose model contains this, ignoring case.
    pub(crate) model: Option<String>,
    /// `default`, `on` or `off`.
    pub(crate) think: Option<String>,
    pub(crate) grammar: Option<String>,
    /// `go` or `no_go`.
    pub(crate) verdict: Option<String>,
    /// `verified`, `differs`, `unverifiable` or `pending`: what scoring the
    /// row's results file again here found.
    pub(crate) verification: Option<String>,
    /// Rows whose provenance contains this, ignoring case: the host that
    /// ran them, the model server's URL, build or binary hash.
    pub(crate) provenance: Option<String>,
    /// `json` (the default) or `csv`.
    pub(crate) format: Option<String>,
}

pub(super) async fn leaderboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::invalid("query", rejection.body_text()))?;
    let (rows, notes) = select_rows(&state, &query).await?;
    match query.format.as_deref() {
        None | Some("json") => {}
        Some("csv") => {
            let rows: Vec<Row> = rows.into_iter().map(|flagged| flagged.row).collect();
            let csv = fuelbench_runner::render::csv(&rows).into_bytes();
            return Ok(tagged(&headers, "text/csv; charset=utf-8", csv));
        }
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("`format` is `json` or `csv`, not {other:?}"),
            ));
        }
    }
    let interpreter = state.inner.evaluator.sandbox().interpreter();
    let board = json!({
        "problem_set_sha256": state.inner.problem_set_sha256,
        "python_wasm_sha256": interpreter.python_wasm_sha256,
        "rows": rows,
        "notes": notes,
    });
    let body = serde_json::to_vec(&board).map_err(ApiError::host)?;
    Ok(tagged(&headers, "application/json", body))
}

/// `body` with an `ETag` of its bytes alone, so every replica over one
/// store tags one board alike; `304 Not Modified` when the client's
/// `If-None-Match` holds it already.
fn tagged(headers: &HeaderMap, content_type: &'static str, body: Vec<u8>) -> Response {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(&body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"{hex}\"");
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::ETAG, etag.as_str()),
        ],
        body,
    )
        .into_response()
}

/// The store's rows that `query` keeps, in its order, each flagged and
/// with what verifying its file found, and the notes on files passed over.
pub(crate) async fn select_rows(
    state: &AppState,
    query: &BoardQuery,
) -> Result<(Vec<BoardRow>, Vec<String>), ApiError> {
    if let Some(verdict) = non_empty(&query.verdict)
        && !matches!(verdict, "go" | "no_go" | "undecided")
    {
        return Err(ApiError::invalid(
            "verdict",
            "`verdict` is `go`, `no_go` or `undecided`",
        ));
    }
    if let Some(verification) = non_empty(&query.verification)
        && !matches!(
            verification,
            "verified" | "differs" | "unverifiable" | "pending"
        )
    {
        return Err(ApiError::invalid(
            "verification",
            "`verification` is `verified`, `differs`, `unverifiable` or `pending`",
        ));
    }
    let descending = match non_empty(&query.order) {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(other) => {
            return Err(ApiError::invalid(
                "order",
                format!("`order` is `asc` or `desc`, not {other:?}"),
            ));
        }
    };
    let board = state.inner.store.board().await?;
    // Listed after the board was read: a file changed in between shows
    // as changed since it was checked, never as verified.
    let versions: HashMap<String, String> = if state.config().verify {
        state
            .inner
            .store
            .listing()
            .await?
            .into_iter()
            .map(|listed| (listed.name, listed.version))
            .collect()
    } else {
        HashMap::new()
    };
    let mut rows: Vec<Row> = board
        .rows
        .into_iter()
        .filter(|row| matches_query(row, query))
        .collect();
    if let Some(key) = non_empty(&query.sort) {
        sort_by(&mut rows, key, descending)?;
    } else if !descending {
        rows.reverse();
    }
    let mut rows = flag_rows(state, rows, &versions);
    if let Some(wanted) = non_empty(&query.verification) {
        rows.retain(|row| {
            row.verification
                .as_ref()
                .is_some_and(|verification| verification.state.name() == wanted)
        });
    }
    Ok((rows, board.notes))
}

/// Each row with what keeps it from being compared with this server's own
/// scores (the runner's rule, which `fuelbench leaderboard` follows too),
/// and, when the service verifies, what scoring its file again found.
pub(crate) fn flag_rows(
    state: &AppState,
    rows: Vec<Row>,
    versions: &HashMap<String, String>,
) -> Vec<BoardRow> {
    let interpreter = state.inner.evaluator.sandbox().interpreter();
    let mut rows = leaderboard::flag(rows, &state.inner.problems, &interpreter.python_wasm_sha256);
    if state.config().verify {
        let verifications = &state.inner.verifications;
        for flagged in &mut rows {
            // Imported rows are another harness's: nothing to score again.
            if flagged.row.problem_set_sha256.is_none() {
                continue;
            }
            let name = crate::ui::file_name(&flagged.row.source);
            let version = versions.get(&name).map_or("", String::as_str);
            flagged.verification = Some(verifications.verification(&name, version));
        }
    }
    rows
}

fn matches_query(row: &Row, query: &BoardQuery) -> bool {
    let contains = |text: &str, part: &str| text.to_lowercase().contains(&part.to_lowercase());
    non_empty(&query.model).is_none_or(|m| contains(&row.model, m))
        && non_empty(&query.provenance)
            .is_none_or(|p| row.provenance().iter().any(|text| contains(text, p)))
        && non_empty(&query.think).is_none_or(|t| row.think == t)
        && non_empty(&query.grammar).is_none_or(|g| row.grammar == g)
        && non_empty(&query.verdict).is_none_or(|v| match v {
            "go" => row
                .verdict
                .map_or(row.go == Some(true), |v| v == Verdict::Go),
            "no_go" => row
                .verdict
                .map_or(row.go == Some(false), |v| v == Verdict::NoGo),
            "undecided" => row.verdict == Some(Verdict::Undecided),
            _ => true,
        })
}

/// A query parameter's value; an empty one (a form's blank field) is none.
pub(crate) fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|text| !text.is_empty())
}

/// The serving figures a leaderboard sorts by, as `serving.<field>`.
pub(crate) const SERVING_SORT_KEYS: [&str; 4] = [
    "serving.output_tokens_per_s",
    "serving.request_throughput",
    "serving.ttft_p50_ms",
    "serving.tpot_p50_ms",
];

/// Sorts by one of the row's fields, or a serving figure; rows without a
/// value go last either way.
fn sort_by(rows: &mut [Row], key: &str, descending: bool) -> Result<(), ApiError> {
    let values: Vec<Value> = rows
        .iter()
        .map(|row| serde_json::to_value(row).expect("rows serialise"))
        .collect();
    let Some(Value::Object(first)) = values.first() else {
        return Ok(());
    };
    let not_sortable = ["source", "server", "serving", "failures", "problem_ids"];
    let known = (first.contains_key(key) && !not_sortable.contains(&key))
        || SERVING_SORT_KEYS.contains(&key);
    if !known {
        let mut keys: Vec<&str> = first
            .keys()
            .map(String::as_str)
            .filter(|k| !not_sortable.contains(k))
            .chain(SERVING_SORT_KEYS)
            .collect();
        keys.sort();
        return Err(ApiError::invalid(
            "sort",
            format!("cannot sort by {key:?}; sort by one of {}", keys.join(", ")),
        ));
    }
    let pointer = format!("/{}", key.replace('.', "/"));
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        let value = |i: usize| values[i].pointer(&pointer).unwrap_or(&Value::Null);
        let (x, y) = (value(a), value(b));
        match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                let ordering = match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    _ => x.to_string().cmp(&y.to_string()),
                };
                if descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            }
        }
    });
    let sorted: Vec<Row> = order.iter().map(|&i| rows[i].clone()).collect();
    rows.clone_from_slice(&sorted);
    Ok(())
}

/// Every results file in the store, newest first, with its progress and
/// scores.
pub(super) async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let files: Vec<Value> = state
        .inner
        .store
        .heads()
        .await?
        .into_iter()
        .map(|(name, head)| {
            json!({
                "name": name,
                "model": head.config.model,
                "variant": head.config.variant(),
                "progress": head.progress,
                "complete": head.complete,
                "updated_at": head.updated_at,
                "scores": head.summary.as_ref().map(|summary| &summary.scores),
            })
        })
        .collect();
    Ok(axum::Json(json!({ "results": files })).into_response())
}

pub(super) async fn file(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.inner.store.results(&name).await?).into_response())
}

/// What scoring the results file `name` again on this service found, on
/// which scorer, for which version of the file.
pub(super) async fn verification(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let stem = name.strip_suffix(".json").unwrap_or(&name).to_owned();
    let listing = state.inner.store.listing().await?;
    let Some(listed) = listing.into_iter().find(|listed| listed.name == stem) else {
        return Err(ApiError::not_found(
            "unknown_results",
            format!("no results file {stem:?} in the store; GET /api/v1/results lists them"),
        ));
    };
    if !state.config().verify {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "verification_off",
            "this service does not verify results files (it was started with --no-verify)",
        ));
    }
    let verifications = &state.inner.verifications;
    let verification = verifications.verification(&stem, &listed.version);
    let checked_at = verifications
        .get(&stem)
        .filter(|checked| checked.version == listed.version)
        .map(|checked| checked.checked_at);
    let mut scorer = serde_json::to_value(state.inner.evaluator.reproducibility())
        .expect("a reproducibility key serialises");
    if let Some(scorer) = scorer.as_object_mut() {
        // Each file is scored again on its own recorded seed.
        scorer.remove("seed");
    }
    Ok(axum::Json(json!({
        "name": stem,
        "version": listed.version,
        "checked_at": checked_at,
        "scorer": scorer,
        "verification": verification,
    }))
    .into_response())
}

/// One problem's record: the answers, the extraction, every case, the fuel
/// series, the refactor.
pub(super) async fn record(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let file = state.inner.store.results(&name).await?;
    let record = file
        .problems
        .into_iter()
        .find(|record| record.id == id)
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_problem",
                format!("{name} has no record of problem {id:?}"),
            )
        })?;
    Ok(axum::Json(record).into_response())
}

#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompareQuery {
    /// A results file's name.
    a: String,
    b: String,
}

/// B measured against A: deltas, the problems whose outcome differs, the
/// pass/fail agreement, and fuel ratios on the problems both pass.
pub(super) async fn compare(
    State(state): State<AppState>,
    query: Result<Query<CompareQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::invalid(
            "query",
            format!("give ?a=NAME&b=NAME: {}", rejection.body_text()),
        )
    })?;
    let store = &state.inner.store;
    let (a, b) = (
        store.results(&query.a).await?,
        store.results(&query.b).await?,
    );
    if let Some(why) = leaderboard::suites_differ(&a, &b) {
        return Err(ApiError::invalid("b", why));
    }
    let mut comparison = serde_json::to_value(leaderboard::compare(&a, &b)).expect("serialises");
    comparison["comparable"] = json!(
        a.config.problem_set_sha256 == b.config.problem_set_sha256
            && a.reproducibility.python_wasm_sha256 == b.reproducibility.python_wasm_sha256
            && a.reproducibility.seed == b.reproducibility.seed
    );
    Ok(axum::Json(comparison).into_response())
}
