//! After the run: the leaderboard (one row per model and variant), the
//! delta table between two runs, and rows imported from other harnesses'
//! result files.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Error, Result, ResultsFile, Summary};
use fuelbench_eval::score::Verdict;

/// The `format` of a file `fuelbench import` writes.
pub const IMPORTED_FORMAT: &str = "fuelbench-imported/1";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Row {
    pub model: String,
    /// From the server's model path, else from the model's name.
    pub quant: Option<String>,
    pub think: String,
    pub grammar: String,
    pub pass_at_1: f64,
    pub complexity: Option<f64>,
    pub numerical: Option<f64>,
    pub refactor: Option<f64>,
    pub overall: f64,
    /// Every metric that applies, and overall, at or above its threshold.
    pub go: Option<bool>,
    pub avg_tokens: Option<f64>,
    pub tokens_per_s: Option<f64>,
    pub wall_time_s: Option<f64>,
    /// `"15/15"`; a partial run shows how far it got.
    pub progress: String,
    /// Problems that fell short, by failure class.
    #[serde(default)]
    pub failures: std::collections::BTreeMap<String, usize>,
    pub source: PathBuf,
    /// When the file was last written (RFC 3339); `None` for imported rows.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// What decides whether two rows' scores are comparable; `None` for
    /// imported rows, which another harness scored.
    #[serde(default)]
    pub problem_set_sha256: Option<String>,
    /// The problems the row was run on, which that hash covers.
    #[serde(default)]
    pub problem_ids: Vec<String>,
    #[serde(default)]
    pub python_wasm_sha256: Option<String>,
    /// The seed the row's generated cases and complexity inputs were drawn
    /// from: rows judged on other seeds faced other tests.
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub fuelbench_version: Option<String>,
    #[serde(default)]
    pub wasmtime_version: Option<String>,
    /// The server, build and model the row was scored on; `None` for
    /// imported rows.
    #[serde(default)]
    pub server: Option<fuelbench_llm::ServerKey>,
    /// Serving figures of the same server binary, build and model: the
    /// newest `fuelbench perf load` run saved under `<results>/perf/`.
    #[serde(default)]
    pub serving: Option<Serving>,
}

/// A load run's headline figures, shown beside the quality scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Serving {
    /// Output tokens per second over the whole run, from the server's usage.
    pub output_tokens_per_s: f64,
    pub request_throughput: f64,
    /// TTFT (first reasoning or content token) median, ms.
    pub ttft_p50_ms: f64,
    /// TPOT median, ms: `(E2E - TTFT) / (output tokens - 1)`.
    pub tpot_p50_ms: f64,
    pub requests: usize,
    pub failed: usize,
    /// The load's profile and concurrency, e.g. `short, concurrency 2`.
    pub load: String,
    pub started_at: String,
    pub source: PathBuf,
}

impl Serving {
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
    let head = fuelbench_perf::LoadHead::read(path).ok()?;
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

impl Row {
    pub fn from_results(file: &ResultsFile, summary: &Summary, source: &Path) -> Row {
        let head = super::ResultsHead {
            config: file.config.clone(),
            server: file.server.clone(),
            reproducibility: file.reproducibility.clone(),
            progress: file.progress.clone(),
            complete: file.complete,
            updated_at: file.updated_at.clone(),
            summary: None,
        };
        Row::from_head(&head, summary, source)
    }

    pub fn from_head(file: &super::ResultsHead, summary: &Summary, source: &Path) -> Row {
        let model_path = file
            .server
            .as_ref()
            .and_then(|server| server.props.as_ref())
            .and_then(|props| props.get("model_path"))
            .and_then(Value::as_str);
        let scores = &summary.scores;
        let verdicts = &scores.verdicts;
        let go = [
            Some(verdicts.pass_at_1),
            Some(verdicts.complexity),
            verdicts.numerical,
            verdicts.refactor,
            Some(verdicts.overall),
        ]
        .into_iter()
        .flatten()
        .all(|verdict| verdict == Verdict::Go);
        Row {
            model: file.config.model.clone(),
            quant: model_path
                .and_then(quant_of)
                .or_else(|| quant_of(&file.config.model)),
            think: file.config.think.name().to_owned(),
            grammar: file
                .config
                .grammar
                .as_ref()
                .map_or("none".into(), |g| g.name.clone()),
            pass_at_1: scores.pass_at_1,
            complexity: Some(scores.complexity_match_rate),
            numerical: scores.numerical_stability,
            refactor: scores.refactor_stability,
            overall: scores.overall_score,
            go: Some(go),
            avg_tokens: Some(summary.avg_tokens),
            tokens_per_s: summary.avg_tps,
            wall_time_s: Some(summary.wall_time_s),
            progress: file.progress.clone(),
            failures: summary.failures.clone(),
            source: source.to_owned(),
            updated_at: Some(file.updated_at.clone()),
            problem_set_sha256: Some(file.config.problem_set_sha256.clone()),
            problem_ids: file.config.problems.clone(),
            python_wasm_sha256: Some(file.reproducibility.python_wasm_sha256.clone()),
            seed: Some(file.reproducibility.seed),
            fuelbench_version: Some(file.reproducibility.fuelbench_version.clone()),
            wasmtime_version: Some(file.reproducibility.wasmtime_version.clone()),
            server: file
                .server
                .as_ref()
                .map(|server| server.key(&file.config.model)),
            serving: None,
        }
    }
}

/// The quantisation named in a model file or model name, e.g. `Q4_K_M`.
pub fn quant_of(name: &str) -> Option<String> {
    let stem = name.rsplit('/').next().unwrap_or(name);
    let stem = stem.strip_suffix(".gguf").unwrap_or(stem);
    stem.split(['-', '.', ' ', ':'])
        .rev()
        .find_map(|token| quant_in(&token.to_ascii_uppercase()))
}

/// `Q4_K_M`, `IQ4_XS`, `Q8_0`, `F16`...: a quant type, then the parts that
/// belong to it (`Q4_0_STANDARD` is `Q4_0`).
fn quant_in(token: &str) -> Option<String> {
    if matches!(token, "F16" | "BF16" | "F32" | "FP16" | "FP8" | "MXFP4") {
        return Some(token.to_owned());
    }
    let mut parts = token.split('_');
    let head = parts.next()?;
    let digits = head
        .strip_prefix("IQ")
        .or_else(|| head.strip_prefix("TQ"))
        .or_else(|| head.strip_prefix('Q'))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut quant = head.to_owned();
    for part in parts {
        let belongs = part.bytes().all(|b| b.is_ascii_digit())
            || matches!(part, "K" | "S" | "M" | "L" | "XS" | "XXS" | "XL" | "NL");
        if !belongs || part.is_empty() {
            break;
        }
        quant.push('_');
        quant.push_str(part);
    }
    Some(quant)
}

/// Every row in `dir`: results files and imported files, best first. A
/// file that is not one, or cannot be read, is passed over and named in the
/// returned notes: one bad file never hides the others.
pub fn collect(dir: &Path) -> Result<(Vec<Row>, Vec<String>)> {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for path in json_files(dir)? {
        match rows_of(&path) {
            Ok(found) => rows.extend(found),
            Err(note) => notes.push(note),
        }
    }
    attach_serving(&mut rows, &serving_runs(dir));
    sort(&mut rows);
    Ok((rows, notes))
}

/// The `.json` files directly in `dir`, sorted by name.
pub fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// The rows one file holds: one for a results file with a finished
/// problem, each of an imported file's; or why it holds none.
pub fn rows_of(path: &Path) -> Result<Vec<Row>, String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        format: Option<String>,
    }
    let skipped = |why: &dyn std::fmt::Display| format!("skipped {}: {why}", path.display());
    let text =
        super::results::read_text(path).map_err(|error| skipped(&fuelbench_stdx::error_chain(&error)))?;
    let Ok(probe) = serde_json::from_str::<Probe>(&text) else {
        return Err(skipped(&"not a JSON object"));
    };
    match probe.format.as_deref() {
        Some(super::FORMAT | super::results::FORMAT_1) => {
            let head = ResultsFile::read_head(path)
                .map_err(|error| skipped(&fuelbench_stdx::error_chain(&error)))?;
            match &head.summary {
                Some(summary) => Ok(vec![Row::from_head(&head, summary, path)]),
                None => Err(skipped(&"no problem finished yet")),
            }
        }
        Some(IMPORTED_FORMAT) => serde_json::from_str::<Imported>(&text)
            .map(|imported| imported.rows)
            .map_err(|error| skipped(&error)),
        _ => Err(skipped(
            &"not a fuelbench results file (convert it with `fuelbench import`)",
        )),
    }
}

/// Best first: by overall score, then pass@1, then speed.
pub fn sort(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        b.overall
            .total_cmp(&a.overall)
            .then(b.pass_at_1.total_cmp(&a.pass_at_1))
            .then(
                b.tokens_per_s
                    .unwrap_or(0.0)
                    .total_cmp(&a.tokens_per_s.unwrap_or(0.0)),
            )
            .then(a.model.cmp(&b.model))
    });
}

/// Rows read from another harness's results, as `fuelbench import` writes
/// them for `leaderboard` to pick up.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Imported {
    pub format: String,
    pub source: PathBuf,
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
    let text = super::results::read_text(path)?;
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
        serving: None,
    })
}

/// The delta table between two runs: B measured against A.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub token_delta_pct: Option<f64>,
    pub wall_delta_pct: Option<f64>,
    pub tps_delta_pct: Option<f64>,
    pub pass_at_1_delta: f64,
    pub score_delta: f64,
    /// Problems whose outcome differs: passed, failure class, refactor.
    pub problems: Vec<ProblemDelta>,
    /// Pass and fail agreement over the problems both ran.
    pub agreement: Agreement,
    /// Fuel of B over A, only on problems both pass: a cheaper answer to a
    /// problem one side fails says nothing.
    pub fuel: Vec<FuelRatio>,
    /// The geometric mean of the `fuel` ratios; `None` when no problem
    /// passes in both.
    pub fuel_ratio_geomean: Option<f64>,
}

/// The 2×2 of pass and fail over the problems both runs have a record of.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub struct Agreement {
    pub both_pass: usize,
    pub only_a_passes: usize,
    pub only_b_passes: usize,
    pub both_fail: usize,
    /// Problems only one of the runs reached.
    pub unpaired: usize,
}

/// One problem both runs pass: what its solutions cost.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct FuelRatio {
    pub id: String,
    /// Fuel of the test cases, A and B.
    pub tests_a: u64,
    pub tests_b: u64,
    /// `tests_b / tests_a`.
    pub tests_ratio: Option<f64>,
    /// The largest complexity size both measured, and its call's fuel.
    pub largest_n: Option<u64>,
    pub largest_n_a: Option<f64>,
    pub largest_n_b: Option<f64>,
    /// `largest_n_b / largest_n_a`: the figure that says which scales better.
    pub largest_n_ratio: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ProblemDelta {
    pub id: String,
    pub a: Option<Side>,
    pub b: Option<Side>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Side {
    pub passed: bool,
    pub failure_class: Option<super::ProblemFailure>,
    pub refactor_stable: Option<bool>,
    pub tokens: u64,
    pub time_s: f64,
}

pub fn compare(a: &ResultsFile, b: &ResultsFile) -> Comparison {
    let label = |file: &ResultsFile| format!("{} {}", file.config.model, file.config.variant());
    let pct = |from: f64, to: f64| (from != 0.0).then(|| (to - from) / from * 100.0);
    let summary = |file: &ResultsFile| file.summary.clone();
    let (sa, sb) = (summary(a), summary(b));
    let get = |s: &Option<Summary>, f: fn(&Summary) -> Option<f64>| s.as_ref().and_then(f);
    let side = |file: &ResultsFile, id: &str| {
        file.problems
            .iter()
            .find(|r| r.id == id)
            .map(|record| Side {
                passed: record.passed(),
                failure_class: record.failure_class,
                refactor_stable: record.report.refactor.as_ref().map(|r| r.stable),
                tokens: record.total_tokens(),
                time_s: record.total_time_s,
            })
    };
    let mut ids: Vec<&String> = a.config.problems.iter().chain(&b.config.problems).collect();
    ids.dedup();
    let mut seen = std::collections::HashSet::new();
    let problems = ids
        .into_iter()
        .filter(|id| seen.insert(id.as_str()))
        .filter_map(|id| {
            let (left, right) = (side(a, id), side(b, id));
            let same = match (&left, &right) {
                (Some(l), Some(r)) => {
                    l.passed == r.passed
                        && l.failure_class == r.failure_class
                        && l.refactor_stable == r.refactor_stable
                }
                (None, None) => true,
                _ => false,
            };
            (!same).then(|| ProblemDelta {
                id: id.clone(),
                a: left,
                b: right,
            })
        })
        .collect();
    let (agreement, fuel) = agreement_and_fuel(a, b);
    let ratios: Vec<f64> = fuel
        .iter()
        .filter_map(|f| f.largest_n_ratio.or(f.tests_ratio))
        .filter(|r| *r > 0.0 && r.is_finite())
        .collect();
    let fuel_ratio_geomean = (!ratios.is_empty())
        .then(|| (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp());
    let delta = |f: fn(&Summary) -> Option<f64>| match (get(&sa, f), get(&sb, f)) {
        (Some(x), Some(y)) => pct(x, y),
        _ => None,
    };
    Comparison {
        a: label(a),
        b: label(b),
        token_delta_pct: delta(|s| Some(s.avg_tokens)),
        wall_delta_pct: delta(|s| Some(s.wall_time_s)),
        tps_delta_pct: delta(|s| s.avg_tps),
        pass_at_1_delta: get(&sb, |s| Some(s.scores.pass_at_1)).unwrap_or(0.0)
            - get(&sa, |s| Some(s.scores.pass_at_1)).unwrap_or(0.0),
        score_delta: get(&sb, |s| Some(s.scores.overall_score)).unwrap_or(0.0)
            - get(&sa, |s| Some(s.scores.overall_score)).unwrap_or(0.0),
        problems,
        agreement,
        fuel,
        fuel_ratio_geomean,
    }
}

fn agreement_and_fuel(a: &ResultsFile, b: &ResultsFile) -> (Agreement, Vec<FuelRatio>) {
    let mut agreement = Agreement::default();
    let mut fuel = Vec::new();
    let ratio = |x: f64, y: f64| (x > 0.0).then(|| y / x);
    for left in &a.problems {
        let Some(right) = b.problems.iter().find(|r| r.id == left.id) else {
            agreement.unpaired += 1;
            continue;
        };
        match (left.passed(), right.passed()) {
            (true, true) => agreement.both_pass += 1,
            (true, false) => agreement.only_a_passes += 1,
            (false, true) => agreement.only_b_passes += 1,
            (false, false) => agreement.both_fail += 1,
        }
        if !(left.passed() && right.passed()) {
            continue;
        }
        let samples = |record: &super::ProblemRecord| {
            record
                .report
                .complexity
                .as_ref()
                .map(|c| c.samples.clone())
                .unwrap_or_default()
        };
        let (samples_a, samples_b) = (samples(left), samples(right));
        let largest = samples_a
            .iter()
            .rev()
            .find_map(|sa| Some((sa, samples_b.iter().find(|sb| sb.n == sa.n)?)));
        let (tests_a, tests_b) = (left.report.fuel_used, right.report.fuel_used);
        fuel.push(FuelRatio {
            id: left.id.clone(),
            tests_a,
            tests_b,
            tests_ratio: ratio(tests_a as f64, tests_b as f64),
            largest_n: largest.map(|(sa, _)| sa.n),
            largest_n_a: largest.map(|(sa, _)| sa.cost),
            largest_n_b: largest.map(|(_, sb)| sb.cost),
            largest_n_ratio: largest.and_then(|(sa, sb)| ratio(sa.cost, sb.cost)),
        });
    }
    agreement.unpaired += b
        .problems
        .iter()
        .filter(|r| !a.problems.iter().any(|l| l.id == r.id))
        .count();
    (agreement, fuel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quant_is_found_in_file_and_model_names() {
        assert_eq!(
            quant_of("/m/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").as_deref(),
            Some("Q4_K_M")
        );
        assert_eq!(quant_of("qwen36-27b-Q4_0").as_deref(), Some("Q4_0"));
        assert_eq!(quant_of("step37-IQ4_XS").as_deref(), Some("IQ4_XS"));
        assert_eq!(quant_of("llama3:8b-instruct-fp16").as_deref(), Some("FP16"));
        assert_eq!(
            quant_of("qwen36-27b-Q4_0_standard").as_deref(),
            Some("Q4_0")
        );
        assert_eq!(quant_of("qwen2.5-coder"), None);
    }

    fn key(sha: &str, build: &str, model_path: Option<&str>) -> fuelbench_llm::ServerKey {
        fuelbench_llm::ServerKey {
            base_url: "http://127.0.0.1:8080".into(),
            model: "coder".into(),
            model_path: model_path.map(str::to_owned),
            build: Some(build.into()),
            binary_sha256: Some(sha.into()),
        }
    }

    fn serving(tokens_per_s: f64, started_at: &str) -> Serving {
        Serving {
            output_tokens_per_s: tokens_per_s,
            request_throughput: 1.0,
            ttft_p50_ms: 50.0,
            tpot_p50_ms: 20.0,
            requests: 8,
            failed: 0,
            load: "custom, concurrency 2".into(),
            started_at: started_at.into(),
            source: "results/perf/x.json".into(),
        }
    }

    /// A row takes the newest load run of its own binary, build and model;
    /// another build's figures, however new, are not its own.
    #[test]
    fn serving_figures_join_the_row_of_the_same_server_build_and_model() {
        let row: Row = serde_json::from_value(serde_json::json!({
            "model": "coder", "quant": null, "think": "default", "grammar": "none",
            "pass_at_1": 1.0, "complexity": null, "numerical": null, "refactor": null,
            "overall": 1.0, "go": null, "avg_tokens": null, "tokens_per_s": null,
            "wall_time_s": null, "progress": "1/1", "source": "r.json",
        }))
        .expect("a row");
        let mine = key("aaa", "b7000", Some("/m/coder.gguf"));
        let runs = vec![
            (mine.clone(), serving(30.0, "2026-12-01T10:00:00Z")),
            (mine.clone(), serving(31.0, "2026-12-02T10:00:00Z")),
            (
                key("bbb", "b7001", Some("/m/coder.gguf")),
                serving(99.0, "2026-12-03T10:00:00Z"),
            ),
            (
                key("aaa", "b7000", Some("/m/other.gguf")),
                serving(98.0, "2026-12-03T10:00:00Z"),
            ),
        ];
        let mut rows = vec![
            Row {
                server: Some(mine.clone()),
                ..row.clone()
            },
            row.clone(),
        ];
        attach_serving(&mut rows, &runs);
        assert_eq!(
            rows[0].serving.as_ref().map(|s| s.output_tokens_per_s),
            Some(31.0)
        );
        assert_eq!(rows[1].serving, None, "an imported row has no server");

        // Without /props, the URL and the model's name decide.
        let bare = |url: &str| fuelbench_llm::ServerKey {
            base_url: url.into(),
            model: "coder".into(),
            model_path: None,
            build: None,
            binary_sha256: None,
        };
        assert!(bare("http://a:1").same_server(&bare("http://a:1")));
        assert!(!bare("http://a:1").same_server(&bare("http://b:1")));
        assert!(!mine.same_server(&key("aaa", "b7001", Some("/m/coder.gguf"))));
    }
}
