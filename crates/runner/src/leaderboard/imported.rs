//! Rows from other harnesses' result files, as `fuelbench import` writes
//! them for the leaderboard to pick up.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{IMPORTED_FORMAT, Row, quant_of};
use crate::{Error, Result};

/// Rows read from another harness's results, as `fuelbench import` writes
/// them for `leaderboard` to pick up.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Imported {
    /// Always [`IMPORTED_FORMAT`](super::IMPORTED_FORMAT).
    pub format: String,
    /// The other harness's results file the rows were read from.
    pub source: PathBuf,
    /// One row per model and variant the file holds.
    pub rows: Vec<Row>,
}

/// Reads an older harness's results: either a nested `summary.<label>` per
/// model and variant, or a flat `summary` with a `problems` list whose
/// `solve_tokens` / `solve_time_s` give tokens and speed.
pub fn import(path: &Path) -> Result<Imported> {
    let bad = |detail: String| Error::Format {
        path: path.to_owned(),
        detail,
    };
    let text = crate::results::read_text(path)?;
    let value: Value = serde_json::from_str(&text).map_err(|source| Error::Json {
        path: path.to_owned(),
        source,
    })?;
    let summary = value
        .get("summary")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            bad("no `summary` object: neither a nested nor a flat result file".into())
        })?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = value
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| stem.strip_prefix("results_").unwrap_or(&stem).to_owned());
    let mut rows = Vec::new();
    if summary.contains_key("pass_at_1") {
        let problems = value.get("problems").and_then(Value::as_array);
        let (tokens, seconds, count) =
            problems
                .into_iter()
                .flatten()
                .fold((0.0, 0.0, 0usize), |(t, s, n), p| {
                    (
                        t + p.get("solve_tokens").and_then(Value::as_f64).unwrap_or(0.0),
                        s + p.get("solve_time_s").and_then(Value::as_f64).unwrap_or(0.0),
                        n + 1,
                    )
                });
        let mut row = imported_row(&name, &Value::Object(summary.clone()), path).map_err(bad)?;
        if row.avg_tokens.is_none() && count > 0 {
            row.avg_tokens = Some(tokens / count as f64);
        }
        if row.tokens_per_s.is_none() && seconds > 0.0 {
            row.tokens_per_s = Some(tokens / seconds);
        }
        if row.wall_time_s.is_none() && seconds > 0.0 {
            row.wall_time_s = Some(seconds);
        }
        row.progress = value
            .get("progress")
            .and_then(Value::as_str)
            .map_or_else(|| format!("{count}/{count}"), str::to_owned);
        rows.push(row);
    } else {
        for (label, entry) in summary {
            if !entry.is_object() {
                continue;
            }
            let row = imported_row(label, entry, path)
                .map_err(|detail| bad(format!("summary.{label}: {detail}")))?;
            rows.push(row);
        }
        if rows.is_empty() {
            return Err(bad(
                "`summary` has neither `pass_at_1` nor per-label objects".into(),
            ));
        }
    }
    Ok(Imported {
        format: IMPORTED_FORMAT.to_owned(),
        source: path.to_owned(),
        rows,
    })
}

fn imported_row(label: &str, summary: &Value, path: &Path) -> Result<Row, String> {
    let number = |key: &str| summary.get(key).and_then(Value::as_f64);
    let pass_at_1 = number("pass_at_1").ok_or("no numeric `pass_at_1`")?;
    let overall = number("overall_score").ok_or("no numeric `overall_score`")?;
    let think = summary
        .get("think")
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_bool().map(|b| if b { "on" } else { "off" }.into()))
        })
        .unwrap_or_else(|| "-".into());
    let grammar = summary
        .get("grammar")
        .and_then(Value::as_str)
        .unwrap_or("-")
        .to_owned();
    Ok(Row {
        model: summary
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(label)
            .to_owned(),
        quant: quant_of(label),
        think,
        grammar,
        pass_at_1,
        complexity: number("complexity_match_rate"),
        numerical: number("numerical_stability"),
        refactor: number("refactor_stability"),
        overall,
        go: None,
        verdict: None,
        intervals: None,
        samples: None,
        pass_at_k: Vec::new(),
        tied_with_above: false,
        rank: None,
        suite: None,
        suite_sha256: None,
        suites: Vec::new(),
        avg_tokens: number("avg_tokens"),
        tokens_per_s: number("avg_tps"),
        wall_time_s: number("wall_time_s"),
        progress: summary
            .get("progress")
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_owned(),
        failures: Default::default(),
        source: path.to_owned(),
        updated_at: None,
        problem_set_sha256: None,
        problem_ids: Vec::new(),
        python_wasm_sha256: None,
        seed: None,
        fuelbench_version: None,
        wasmtime_version: None,
        server: None,
        host: None,
        serving: None,
    })
}
