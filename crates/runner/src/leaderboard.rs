//! After the run: the leaderboard (one row per model and variant), the
//! delta table between two runs, and rows imported from other harnesses'
//! result files.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Error, Result, ResultsFile, Summary};
use fuelbench_eval::score::{Intervals, PassAtK, Verdict};

mod comparison;
mod flag;
mod imported;
mod serving;

pub use self::comparison::{
    ALPHA, Agreement, Comparison, FuelRatio, PairedTest, ProblemDelta, SamplePlan, Side, compare,
    plan_samples, suites_differ,
};
pub use self::flag::{BoardRow, flag};
pub use self::imported::{Imported, import};
pub use self::serving::{Serving, attach_serving, serving_run, serving_run_text, serving_runs};

/// The `format` of a file `fuelbench import` writes.
pub const IMPORTED_FORMAT: &str = "fuelbench-imported/1";

/// One leaderboard row: a model in one variant, from a results file or an
/// imported one, with its scores, speed and what it was scored on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Row {
    /// The model's name as the server lists it.
    pub model: String,
    /// From the server's model path, else from the model's name.
    pub quant: Option<String>,
    /// The thinking mode: `default`, `on` or `off`; `-` when an imported file
    /// does not say.
    pub think: String,
    /// The grammar's name, `none` without one; `-` when an imported file does
    /// not say.
    pub grammar: String,
    /// The mean pass rate over problems, 0 to 1.
    pub pass_at_1: f64,
    /// The complexity match rate, 0 to 1; `None` when an imported file lacks
    /// it.
    pub complexity: Option<f64>,
    /// Numerical stability, 0 to 1; `None` when no problem had numerical cases.
    pub numerical: Option<f64>,
    /// Refactor stability, 0 to 1; `None` when no refactor was asked.
    pub refactor: Option<f64>,
    /// The weighted overall score, 0 to 1: what rows are ranked by.
    pub overall: f64,
    /// Every metric that applies, and overall, at or above its threshold
    /// across its whole interval.
    pub go: Option<bool>,
    /// GO when every metric is GO, NO-GO when any is, else undecided (a
    /// threshold lies inside an interval); `None` for imported rows.
    #[serde(default)]
    pub verdict: Option<Verdict>,
    /// A 95% interval on each score; `None` for imported rows.
    #[serde(default)]
    pub intervals: Option<Intervals>,
    /// Answers per problem (the fewest any problem has).
    #[serde(default)]
    pub samples: Option<usize>,
    /// pass@k for each k up to the samples.
    #[serde(default)]
    pub pass_at_k: Vec<PassAtK>,
    /// Whether this row shares the rank above it: its overall interval
    /// overlaps that of the first row of that rank, so nothing says they
    /// differ.
    #[serde(default)]
    pub tied_with_above: bool,
    /// The row's rank, best first, set by [`sort`] once over the whole board
    /// (a filtered or re-sorted board keeps it); tied rows share one.
    #[serde(default)]
    pub rank: Option<usize>,
    /// The public suite this row's own scores are on (`humaneval`); `None`
    /// for our problem set.
    #[serde(default)]
    pub suite: Option<String>,
    /// sha256 of the suite's file, with `suite`.
    #[serde(default)]
    pub suite_sha256: Option<String>,
    /// pass@1 on each public suite the model answered in this variant: a
    /// column per suite, joined from that suite's results file
    /// ([`join_suites`]).
    #[serde(default)]
    pub suites: Vec<SuiteColumn>,
    /// Generated tokens per problem, solve and refactor together.
    pub avg_tokens: Option<f64>,
    /// Generation speed over every request, in tokens a second.
    pub tokens_per_s: Option<f64>,
    /// Seconds spent on the problems, summed over sessions.
    pub wall_time_s: Option<f64>,
    /// `"15/15"`; a partial run shows how far it got.
    pub progress: String,
    /// Problems that fell short, by failure class.
    #[serde(default)]
    pub failures: std::collections::BTreeMap<String, usize>,
    /// The file the row came from; a store names it by its place in
    /// the store.
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
    /// sha256 of the interpreter the answers were scored on, hex; `None` for
    /// imported rows.
    #[serde(default)]
    pub python_wasm_sha256: Option<String>,
    /// The seed the row's generated cases and complexity inputs were drawn
    /// from: rows judged on other seeds faced other tests.
    #[serde(default)]
    pub seed: Option<u64>,
    /// The fuelbench version that scored the answers; `None` for imported rows.
    #[serde(default)]
    pub fuelbench_version: Option<String>,
    /// The wasmtime version the sandbox ran on; `None` for imported rows.
    #[serde(default)]
    pub wasmtime_version: Option<String>,
    /// The server, build and model the row was scored on; `None` for
    /// imported rows.
    #[serde(default)]
    pub server: Option<fuelbench_llm::ServerKey>,
    /// The machine that ran it, as it calls itself; `None` for files
    /// written before it was recorded and for imported rows.
    #[serde(default)]
    pub host: Option<String>,
    /// Serving figures of the same server binary, build and model: the
    /// newest `fuelbench perf load` run saved under `<results>/perf/`.
    #[serde(default)]
    pub serving: Option<Serving>,
}

/// A model's pass@1 on one public suite, beside its scores on ours.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SuiteColumn {
    /// The suite's name: `humaneval`.
    pub suite: String,
    /// The mean pass rate over the suite's tasks answered.
    pub pass_at_1: f64,
    /// Its 95% interval.
    pub interval: Option<fuelbench_eval::stats::Interval>,
    /// Answers per task (the fewest any task has).
    pub samples: usize,
    /// `"164/164"`; a partial run shows how far it got.
    pub progress: String,
    /// The suite's results file.
    pub source: PathBuf,
    /// sha256 of the suite's file the tasks came from.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The tasks answered.
    #[serde(default)]
    pub tasks: usize,
    /// sha256 of the interpreter the answers were scored on.
    #[serde(default)]
    pub python_wasm_sha256: Option<String>,
    /// What keeps this pass@1 from being the suite's as this scorer would
    /// judge it ([`flag`]): another suite file, tasks left out, another
    /// interpreter build.
    #[serde(default)]
    pub differences: Vec<String>,
}

impl SuiteColumn {
    /// The column of a suite's own row.
    fn of(row: &Row, suite: &str) -> SuiteColumn {
        SuiteColumn {
            suite: suite.to_owned(),
            pass_at_1: row.pass_at_1,
            interval: row.intervals.as_ref().map(|i| i.pass_at_1),
            samples: row.samples.unwrap_or(1),
            progress: row.progress.clone(),
            source: row.source.clone(),
            sha256: row.suite_sha256.clone(),
            tasks: row.problem_ids.len(),
            python_wasm_sha256: row.python_wasm_sha256.clone(),
            differences: Vec::new(),
        }
    }
}

/// Joins each public suite's row into the row of the same model, variant
/// and server on our problems, as a column: one row per model and variant,
/// a column per suite. A suite's row with no such row on ours stays a row
/// of its own (ranked by its pass@1), its column beside it.
pub fn join_suites(rows: Vec<Row>) -> Vec<Row> {
    let (suite_rows, mut joined): (Vec<Row>, Vec<Row>) =
        rows.into_iter().partition(|row| row.suite.is_some());
    for mut row in suite_rows {
        let suite = row.suite.clone().unwrap_or_default();
        let column = SuiteColumn::of(&row, &suite);
        let same = |other: &Row| {
            // Imported rows (no problem-set hash) take no column.
            other.suite.is_none()
                && other.problem_set_sha256.is_some()
                && other.model == row.model
                && other.quant == row.quant
                && other.think == row.think
                && other.grammar == row.grammar
                && match (&other.server, &row.server) {
                    (Some(a), Some(b)) => a.same_server(b),
                    _ => true,
                }
        };
        match joined.iter_mut().find(|other| same(other)) {
            Some(ours) => ours.suites.push(column),
            None => {
                row.suites.push(column);
                joined.push(row);
            }
        }
    }
    joined
}

impl Row {
    /// The row of a results file, scored as `summary` says.
    pub fn from_results(file: &ResultsFile, summary: &Summary, source: &Path) -> Row {
        let head = super::ResultsHead {
            config: file.config.clone(),
            server: file.server.clone(),
            host: file.host.clone(),
            reproducibility: file.reproducibility.clone(),
            progress: file.progress.clone(),
            complete: file.complete,
            updated_at: file.updated_at.clone(),
            summary: None,
        };
        Row::from_head(&head, summary, source)
    }

    /// The row of a results file read without its records
    /// ([`ResultsFile::read_head`]), scored as `summary` says.
    pub fn from_head(file: &super::ResultsHead, summary: &Summary, source: &Path) -> Row {
        let model_path = file
            .server
            .as_ref()
            .and_then(|server| server.props.as_ref())
            .and_then(|props| props.get("model_path"))
            .and_then(Value::as_str);
        let scores = &summary.scores;
        let verdicts = &scores.verdicts;
        let all: Vec<Verdict> = [
            Some(verdicts.pass_at_1),
            verdicts.complexity,
            verdicts.numerical,
            verdicts.refactor,
            Some(verdicts.overall),
        ]
        .into_iter()
        .flatten()
        .collect();
        let go = all.iter().all(|verdict| *verdict == Verdict::Go);
        let verdict = if go {
            Verdict::Go
        } else if all.contains(&Verdict::NoGo) {
            Verdict::NoGo
        } else {
            Verdict::Undecided
        };
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
            complexity: scores.complexity_match_rate,
            numerical: scores.numerical_stability,
            refactor: scores.refactor_stability,
            overall: scores.overall_score,
            go: Some(go),
            verdict: Some(verdict),
            intervals: scores.intervals.clone(),
            samples: Some(scores.samples),
            pass_at_k: scores.pass_at_k.clone(),
            tied_with_above: false,
            rank: None,
            suite: file.config.suite.as_ref().map(|suite| suite.name.clone()),
            suite_sha256: file.config.suite.as_ref().map(|suite| suite.sha256.clone()),
            suites: Vec::new(),
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
            host: file.host.clone(),
            serving: None,
        }
    }

    /// Where the row came from, what is known of it: the host that ran
    /// it, the model server's URL, its build, and its binary's hash.
    pub fn provenance(&self) -> Vec<String> {
        let mut parts: Vec<String> = self.host.iter().cloned().collect();
        if let Some(server) = &self.server {
            parts.push(server.base_url.clone());
            parts.extend(server.build.iter().map(|build| format!("build {build}")));
            parts.extend(
                server
                    .binary_sha256
                    .iter()
                    .map(|hash| format!("binary {}", hash.get(..12).unwrap_or(hash))),
            );
        }
        parts
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

/// Every row of a store, best first, and the files passed over, and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    /// Every row, best first.
    pub rows: Vec<Row>,
    /// One line per file passed over, saying which and why.
    pub notes: Vec<String>,
}

impl Board {
    /// The board of what each file held ([`rows_of`]: its rows, or why it
    /// holds none), each row with the newest serving figures of its
    /// server, best first. One bad file never hides the others.
    pub fn assemble(
        files: impl IntoIterator<Item = Result<Vec<Row>, String>>,
        serving: &[(fuelbench_llm::ServerKey, Serving)],
    ) -> Board {
        let mut board = Board::default();
        for file in files {
            match file {
                Ok(rows) => board.rows.extend(rows),
                Err(note) => board.notes.push(note),
            }
        }
        board.rows = join_suites(std::mem::take(&mut board.rows));
        attach_serving(&mut board.rows, serving);
        sort(&mut board.rows);
        board
    }
}

/// Every row in `dir`: results files and imported files, best first, with
/// a note for each file passed over.
pub fn collect(dir: &Path) -> Result<Board> {
    let files = json_files(dir)?
        .iter()
        .map(|path| rows_of(path))
        .collect::<Vec<_>>();
    Ok(Board::assemble(files, &serving_runs(dir)))
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
    let text = super::results::read_text(path).map_err(|error| {
        format!(
            "skipped {}: {}",
            path.display(),
            fuelbench_stdx::error_chain(&error)
        )
    })?;
    rows_of_text(path, text)
}

/// The row of a results file's head: none until a problem has finished.
pub fn rows_of_head(path: &Path, head: &super::ResultsHead) -> Result<Vec<Row>, String> {
    match &head.summary {
        Some(summary) => Ok(vec![Row::from_head(head, summary, path)]),
        None => Err(format!(
            "skipped {}: no problem finished yet",
            path.display()
        )),
    }
}

/// [`rows_of`] the text of a file or object; `path` is its name in the
/// notes and its rows' source.
pub fn rows_of_text(path: &Path, text: String) -> Result<Vec<Row>, String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        format: Option<String>,
    }
    let skipped = |why: &dyn std::fmt::Display| format!("skipped {}: {why}", path.display());
    let row = |head: super::ResultsHead| rows_of_head(path, &head);
    // Most files are results files of this schema: read in one pass.
    let text = match super::results::current_head(path, text) {
        Ok(Ok(head)) => return row(head),
        Ok(Err(text)) => text,
        Err(error) => return Err(skipped(&fuelbench_stdx::error_chain(&error))),
    };
    let Ok(probe) = serde_json::from_str::<Probe>(&text) else {
        return Err(skipped(&"not a JSON object"));
    };
    match probe.format.as_deref() {
        Some(super::FORMAT | super::results::FORMAT_1) => {
            let head = super::ResultsHead::from_text(path, text)
                .map_err(|error| skipped(&fuelbench_stdx::error_chain(&error)))?;
            row(head)
        }
        // Another harness's rows are never a public suite's, nor this
        // scorer's: only a results file this scorer wrote names a suite or
        // the keys it scored on, and each row's source is the file it is
        // in, so it can borrow no other file's column or verification.
        Some(IMPORTED_FORMAT) => serde_json::from_str::<Imported>(&text)
            .map(|imported| {
                let mut rows = imported.rows;
                for row in &mut rows {
                    row.suite = None;
                    row.suite_sha256 = None;
                    row.suites.clear();
                    row.source = path.to_owned();
                    row.problem_set_sha256 = None;
                    row.python_wasm_sha256 = None;
                    row.fuelbench_version = None;
                    row.seed = None;
                }
                rows
            })
            .map_err(|error| skipped(&error)),
        _ => Err(skipped(
            &"not a fuelbench results file (convert it with `fuelbench import`)",
        )),
    }
}

/// Best first: by overall score, then pass@1, then speed; then each row
/// whose overall interval overlaps the row above's is marked tied with it.
/// Rows of a public suite alone (no row on our problems to join,
/// [`join_suites`]) come last, by their pass@1, and are not ranked: their
/// scores are on other tasks.
pub fn sort(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        a.suite
            .is_some()
            .cmp(&b.suite.is_some())
            .then(b.overall.total_cmp(&a.overall))
            .then(b.pass_at_1.total_cmp(&a.pass_at_1))
            .then(
                b.tokens_per_s
                    .unwrap_or(0.0)
                    .total_cmp(&a.tokens_per_s.unwrap_or(0.0)),
            )
            .then(a.model.cmp(&b.model))
    });
    // Each rank's first row, and its interval.
    let mut head: Option<(usize, Option<fuelbench_eval::stats::Interval>)> = None;
    for (index, row) in rows.iter_mut().enumerate() {
        if row.suite.is_some() {
            row.tied_with_above = false;
            row.rank = None;
            continue;
        }
        let here = row.intervals.as_ref().map(|i| i.overall);
        let tied = matches!(
            (&head, here),
            (Some((_, Some(first))), Some(here)) if first.overlaps(&here)
        );
        if !tied {
            head = Some((index + 1, here));
        }
        row.tied_with_above = tied;
        row.rank = head.as_ref().map(|(rank, _)| *rank);
    }
}

impl Row {
    /// The rank as shown: `3`, or `2=` for a row that shares rank 2; `-`
    /// for a row never ranked.
    pub fn rank_label(&self) -> String {
        match (self.rank, self.tied_with_above) {
            (Some(rank), true) => format!("{rank}="),
            (Some(rank), false) => rank.to_string(),
            (None, _) => "-".into(),
        }
    }
}

#[cfg(test)]
mod tests;
