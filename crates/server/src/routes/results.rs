//! Reading the results store: the leaderboard, one results file, one
//! problem's record, and two runs compared.

use std::cmp::Ordering;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fuelbench_problems::Problem;
use fuelbench_runner::leaderboard::{self, Row};
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// `GET /api/v1/leaderboard`'s query: sort, filters and format.
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BoardQuery {
    /// A row field (`overall`, `pass_at_1`, `tokens_per_s`, `model`, ...);
    /// best first by overall score when absent.
    sort: Option<String>,
    /// `asc` or `desc` (the default).
    order: Option<String>,
    /// Rows whose model contains this, ignoring case.
    model: Option<String>,
    /// `default`, `on` or `off`.
    think: Option<String>,
    grammar: Option<String>,
    /// `go` or `no_go`.
    verdict: Option<String>,
    /// `json` (the default) or `csv`.
    format: Option<String>,
}

/// What makes a row's scores comparable with this server's.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct BoardRow {
    #[serde(flatten)]
    row: Row,
    /// Scored on this server's problem set and interpreter.
    comparable: bool,
    /// What differs, when it is not.
    differences: Vec<String>,
}

pub(super) async fn leaderboard(
    State(state): State<AppState>,
    query: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::invalid("query", rejection.body_text()))?;
    let board = state.inner.store.board()?;
    let mut rows: Vec<Row> = board
        .rows
        .into_iter()
        .filter(|row| keep(row, &query))
        .collect();
    if let Some(verdict) = &query.verdict
        && !matches!(verdict.as_str(), "go" | "no_go")
    {
        return Err(ApiError::invalid("verdict", "`verdict` is `go` or `no_go`"));
    }
    let descending = match query.order.as_deref() {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(other) => {
            return Err(ApiError::invalid(
                "order",
                format!("`order` is `asc` or `desc`, not {other:?}"),
            ));
        }
    };
    if let Some(key) = &query.sort {
        sort_by(&mut rows, key, descending)?;
    } else if !descending {
        rows.reverse();
    }
    match query.format.as_deref() {
        None | Some("json") => {}
        Some("csv") => {
            return Ok((
                [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
                fuelbench_runner::render::csv(&rows),
            )
                .into_response());
        }
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("`format` is `json` or `csv`, not {other:?}"),
            ));
        }
    }
    let interpreter = state.inner.evaluator.sandbox().interpreter();
    let here = (
        state.inner.problem_set_sha256.as_str(),
        interpreter.python_wasm_sha256.as_str(),
    );
    // A row run on some of the problems is compared with the same problems
    // of this server's set.
    let mut subsets: HashMap<Vec<String>, String> = HashMap::new();
    let mut subset_hash = |ids: &[String]| {
        subsets
            .entry(ids.to_vec())
            .or_insert_with(|| {
                let chosen: Vec<Problem> = state
                    .inner
                    .problems
                    .iter()
                    .filter(|problem| ids.contains(&problem.id))
                    .cloned()
                    .collect();
                fuelbench_runner::problem_set_sha256(&chosen)
            })
            .clone()
    };
    let rows: Vec<BoardRow> = rows
        .into_iter()
        .map(|row| {
            let mut differences = Vec::new();
            match &row.problem_set_sha256 {
                Some(hash) if *hash != subset_hash(&row.problem_ids) => {
                    differences.push("scored on other problems than this server's".to_owned());
                }
                None => differences.push("imported from another harness".to_owned()),
                Some(_) => {}
            }
            if row
                .python_wasm_sha256
                .as_deref()
                .is_some_and(|hash| hash != here.1)
            {
                differences.push("scored by another interpreter build".to_owned());
            }
            BoardRow {
                comparable: differences.is_empty(),
                differences,
                row,
            }
        })
        .collect();
    Ok(axum::Json(json!({
        "problem_set_sha256": here.0,
        "python_wasm_sha256": here.1,
        "rows": rows,
        "notes": board.notes,
    }))
    .into_response())
}

fn keep(row: &Row, query: &BoardQuery) -> bool {
    let contains = |text: &str, part: &str| text.to_lowercase().contains(&part.to_lowercase());
    query
        .model
        .as_deref()
        .is_none_or(|m| contains(&row.model, m))
        && query.think.as_deref().is_none_or(|t| row.think == t)
        && query.grammar.as_deref().is_none_or(|g| row.grammar == g)
        && query.verdict.as_deref().is_none_or(|v| match v {
            "go" => row.go == Some(true),
            "no_go" => row.go == Some(false),
            _ => true,
        })
}

/// Sorts by one of the row's fields; rows without a value go last either
/// way.
fn sort_by(rows: &mut [Row], key: &str, descending: bool) -> Result<(), ApiError> {
    let values: Vec<Value> = rows
        .iter()
        .map(|row| serde_json::to_value(row).expect("rows serialise"))
        .collect();
    let Some(Value::Object(first)) = values.first() else {
        return Ok(());
    };
    if !first.contains_key(key) || key == "source" {
        let mut keys: Vec<&String> = first.keys().filter(|k| *k != "source").collect();
        keys.sort();
        return Err(ApiError::invalid(
            "sort",
            format!(
                "cannot sort by {key:?}; sort by one of {}",
                keys.iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&values[a][key], &values[b][key]);
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
    let store = &state.inner.store;
    let files: Vec<Value> = store
        .names()?
        .into_iter()
        .filter_map(|name| {
            let file = store.results(&name).ok()?;
            Some(json!({
                "name": name,
                "model": file.config.model,
                "variant": file.config.variant(),
                "progress": file.progress,
                "complete": file.complete,
                "updated_at": file.updated_at,
                "scores": file.summary.as_ref().map(|summary| &summary.scores),
            }))
        })
        .collect();
    Ok(axum::Json(json!({ "results": files })).into_response())
}

pub(super) async fn file(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.inner.store.results(&name)?).into_response())
}

/// One problem's record: the answers, the extraction, every case, the fuel
/// series, the refactor.
pub(super) async fn record(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let file = state.inner.store.results(&name)?;
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
    let (a, b) = (store.results(&query.a)?, store.results(&query.b)?);
    let mut comparison = serde_json::to_value(leaderboard::compare(&a, &b)).expect("serialises");
    comparison["comparable"] = json!(
        a.config.problem_set_sha256 == b.config.problem_set_sha256
            && a.reproducibility.python_wasm_sha256 == b.reproducibility.python_wasm_sha256
    );
    Ok(axum::Json(comparison).into_response())
}
