//! Serving figures beside the quality scores: each row gets the newest load
//! run on its server, build and model.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Row;

/// A load run's headline figures, shown beside the quality scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Serving {
    /// Output tokens per second over the whole run, from the server's usage.
    pub output_tokens_per_s: f64,
    /// Successful requests a second over the whole run.
    pub request_throughput: f64,
    /// TTFT (first reasoning or content token) median, ms.
    pub ttft_p50_ms: f64,
    /// TPOT median, ms: `(E2E - TTFT) / (output tokens - 1)`.
    pub tpot_p50_ms: f64,
    /// Requests in the run, failed ones included.
    pub requests: usize,
    /// Requests that failed or produced no text.
    pub failed: usize,
    /// The load's profile and concurrency, e.g. `short, concurrency 2`.
    pub load: String,
    /// When the load run started, RFC 3339: the newest run is the one shown.
    pub started_at: String,
    /// The saved load run's file; a store names it by its place in
    /// the store.
    pub source: PathBuf,
}

impl Serving {
    /// The figures of the load run `head`, saved at `source`.
    pub fn of(head: &fuelbench_perf::LoadHead, source: &Path) -> Serving {
        let summary = &head.summary;
        let concurrency = head
            .plan
            .get("max_concurrency")
            .and_then(Value::as_u64)
            .map_or("unlimited".into(), |c| c.to_string());
        Serving {
            output_tokens_per_s: summary.output_tokens_per_s,
            request_throughput: summary.request_throughput,
            ttft_p50_ms: summary.ttft_ms.median,
            tpot_p50_ms: summary.tpot_ms.median,
            requests: summary.requests,
            failed: summary.failed,
            load: format!("{}, concurrency {concurrency}", head.profile),
            started_at: head.started_at.clone(),
            source: source.to_owned(),
        }
    }
}

/// The load runs saved under `dir/perf/`, each with the server it measured;
/// runs where every request failed are left out.
pub fn serving_runs(dir: &Path) -> Vec<(fuelbench_llm::ServerKey, Serving)> {
    fuelbench_perf::saved_runs(&dir.join("perf"))
        .iter()
        .filter_map(|path| serving_run(path))
        .collect()
}

/// One saved load run, or `None` when it is not one or measured nothing.
pub fn serving_run(path: &Path) -> Option<(fuelbench_llm::ServerKey, Serving)> {
    serving_of(fuelbench_perf::LoadHead::read(path).ok()?, path)
}

/// [`serving_run`] of a saved run's text; `path` is its name in the store.
pub fn serving_run_text(path: &Path, text: &str) -> Option<(fuelbench_llm::ServerKey, Serving)> {
    serving_of(fuelbench_perf::LoadHead::from_text(text).ok()?, path)
}

fn serving_of(
    head: fuelbench_perf::LoadHead,
    path: &Path,
) -> Option<(fuelbench_llm::ServerKey, Serving)> {
    (head.summary.succeeded > 0).then(|| (head.server_key(), Serving::of(&head, path)))
}

/// Gives each row the newest load run on its server, build and model.
pub fn attach_serving(rows: &mut [Row], runs: &[(fuelbench_llm::ServerKey, Serving)]) {
    for row in rows {
        let Some(server) = &row.server else {
            continue;
        };
        row.serving = runs
            .iter()
            .filter(|(key, _)| key.same_server(server))
            .max_by(|(_, a), (_, b)| a.started_at.cmp(&b.started_at))
            .map(|(_, serving)| serving.clone());
    }
}
