//! The results file: one per model and variant, rewritten whole after every
//! problem. Its JSON Schema is committed as `schema/results.schema.json`
//! (see [`schema`]); field names are stable once published.

mod read;
mod summary;

use std::path::{Path, PathBuf};

use fuelbench_llm::{ChatFailure, Completion, FailureClass, ServerIdentity};
use serde_json::{Map, Value};

use fuelbench_eval::{Evaluator, Report, Reproducibility, SuiteSource};
use fuelbench_problems::Failure;

use super::{Error, Result};

pub use read::{MAX_RESULTS_BYTES, ResultsHead};
pub(crate) use read::{current_head, head_of_prefix, read_text, read_text_versioned};
pub use summary::Summary;

/// The `format` of every results file.
pub const FORMAT: &str = "fuelbench-results";

/// The `schema_version` this version writes. 2: request and verdict failures
/// have distinct names (`request_timeout`, `wall_clock`). 3: samples (the
/// configuration's `samples`, each record's `sample` and `request_seed`) and
/// the summary's intervals and pass@k. 4: files of public suites (the
/// configuration's and the reproducibility key's `suite`), whose summaries
/// have no complexity. Files of schema 1 (`"format": "fuelbench-results/1"`)
/// to 3 are read and upgraded: one sample each, the summary computed again.
pub const SCHEMA_VERSION: u32 = 4;

/// `format` of the files schema 1 wrote.
pub(crate) const FORMAT_1: &str = "fuelbench-results/1";

/// One model in one variant: its configuration, every finished problem and
/// sample, and their summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ResultsFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The shape of this file: [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Answers finished of those planned (problems times samples), e.g.
    /// `"8/15"`.
    pub progress: String,
    /// Every planned problem and sample has a record.
    pub complete: bool,
    /// What the run asks and how it is scored; `--resume` refuses a file whose
    /// configuration differs.
    pub config: RunConfig,
    /// The server as it described itself when this file was last run.
    pub server: Option<ServerIdentity>,
    /// The name of the machine that last ran it, as it calls itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// What must be equal for scores to be comparable.
    pub reproducibility: Reproducibility,
    /// RFC 3339, with the local offset.
    pub started_at: String,
    /// When the file was last rewritten: RFC 3339, with the local offset.
    pub updated_at: String,
    /// How many times the run was started: 1, plus one per `--resume`.
    pub sessions: u32,
    /// Computed from `problems` alone; `None` until one has finished.
    /// Written before them, so a file's head (all a leaderboard row needs)
    /// is its first few KiB: a board reads a bucket's objects by that much.
    pub summary: Option<Summary>,
    /// One per finished problem and sample, in the order they finished.
    pub problems: Vec<ProblemRecord>,
}

/// Everything that decides what a run asks and how it is scored. `--resume`
/// refuses a file whose configuration differs. Where the server listens is
/// not part of it (a server fuelbench starts gets a new port each time); the
/// file's `server` records it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RunConfig {
    /// The model's name as the server lists it.
    pub model: String,
    /// Whether the model is asked to think.
    pub think: Think,
    /// The grammar sent with every request; `None` sends none.
    pub grammar: Option<Grammar>,
    /// Whether each solve is followed by a refactor request.
    pub refactor: bool,
    /// Problem ids, in the order they are run.
    pub problems: Vec<String>,
    /// sha256 over every planned problem's prompt, refactor request and
    /// cases: a changed problem set changes it.
    pub problem_set_sha256: String,
    /// The most tokens each request may generate; a reply cut off there is a
    /// `token_limit` failure when its code does not pass.
    pub max_tokens: u32,
    /// The sampling temperature sent with every request; 0 is greedy.
    pub temperature: f64,
    /// Extra top-level request fields (`--extra-body`).
    pub extra_body: Map<String, Value>,
    /// The system message sent before every prompt.
    pub system_prompt: String,
    /// Answers asked per problem, each scored and kept (`--samples`).
    #[serde(default = "one_sample")]
    pub samples: u32,
    /// The public suite whose tasks `problems` names (`--suite humaneval`);
    /// `None` for our own problems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<SuiteSource>,
}

fn one_sample() -> u32 {
    1
}

impl RunConfig {
    /// Every (problem, sample) this configuration plans, in the order they
    /// are asked: each problem's samples together.
    pub fn planned(&self) -> impl Iterator<Item = (&str, u32)> {
        self.problems
            .iter()
            .flat_map(|id| (0..self.samples.max(1)).map(move |sample| (id.as_str(), sample)))
    }

    /// What `evaluator` scores this configuration's answers under: its key,
    /// with the suite when the answers are to a public suite's tasks.
    pub fn scorer_key(&self, evaluator: &Evaluator) -> Reproducibility {
        Reproducibility {
            suite: self.suite.clone(),
            ..evaluator.reproducibility()
        }
    }

    /// The suite's name for a public suite's file, `ours` for our problems.
    pub fn suite_name(&self) -> &str {
        self.suite
            .as_ref()
            .map_or(crate::suite::OURS, |suite| suite.name.as_str())
    }

    /// `think-off__grammar-none`: the variant part of labels and file names.
    pub fn variant(&self) -> String {
        let grammar = self.grammar.as_ref().map_or("none", |g| g.name.as_str());
        format!("think-{}__grammar-{grammar}", self.think.name())
    }
}

/// Thinking, as asked of the chat template.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Think {
    /// Send nothing: the model's own default.
    Default,
    /// `chat_template_kwargs: {"enable_thinking": true}`.
    On,
    /// `chat_template_kwargs: {"enable_thinking": false}`.
    Off,
}

impl Think {
    /// The name the variant label uses: `default`, `on` or `off`.
    pub fn name(self) -> &'static str {
        match self {
            Think::Default => "default",
            Think::On => "on",
            Think::Off => "off",
        }
    }
}

/// A GBNF grammar sent with every request.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Grammar {
    /// The file's stem, e.g. `compact` for `compact.gbnf`.
    pub name: String,
    /// sha256 of `text`, hex: a changed grammar changes it.
    pub sha256: String,
    /// The grammar itself, GBNF, as sent.
    pub text: String,
}

/// One problem, solved and (unless skipped) refactored, with everything
/// needed to score it again offline.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ProblemRecord {
    /// The problem's id.
    pub id: String,
    /// Which of the problem's samples this is, from 0.
    #[serde(default)]
    pub sample: u32,
    /// The `seed` the requests carried, when the run asked for samples.
    #[serde(default)]
    pub request_seed: Option<u64>,
    /// The problem's title.
    pub title: String,
    /// The request for a solution and what came back.
    pub solve: Exchange,
    /// `None` with `--skip-refactor`, or when the solve had no code.
    pub refactor: Option<Exchange>,
    /// The solve's report; its `refactor` field judges the refactor.
    pub report: Report,
    /// The refactored code's own report.
    pub refactor_report: Option<Report>,
    /// Seconds the solve request took, wall clock.
    pub solve_time_s: f64,
    /// Seconds the refactor request took, wall clock; `None` when it was not
    /// asked.
    pub refactor_time_s: Option<f64>,
    /// Sandbox time, both versions.
    pub scoring_time_s: f64,
    /// Seconds for the whole problem: both requests and their scoring.
    pub total_time_s: f64,
    /// Tokens the model generated for the solve.
    pub solve_tokens: u64,
    /// Tokens the model generated for the refactor; `None` when it was not
    /// asked.
    pub refactor_tokens: Option<u64>,
    /// Generation speed over both requests.
    pub tokens_per_s: Option<f64>,
    /// Why the problem fell short: the request's failure class when the
    /// request failed (or ran into `max_tokens` and did not pass), else the
    /// report's. `None` when it passed every check.
    pub failure_class: Option<ProblemFailure>,
    /// The refactor's request failure class, or its report's.
    pub refactor_failure_class: Option<ProblemFailure>,
    /// When the problem finished: RFC 3339, with the local offset.
    pub finished_at: String,
}

impl ProblemRecord {
    /// Whether the solve passed every test: pass@1 for this problem and sample.
    pub fn passed(&self) -> bool {
        self.report.passed
    }

    /// Tokens generated for the solve and the refactor together.
    pub fn total_tokens(&self) -> u64 {
        self.solve_tokens + self.refactor_tokens.unwrap_or(0)
    }
}

/// One request and what came back, failed or not: the completion (partial
/// when the request failed) and the failure.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Exchange {
    /// Everything the server sent, `content` verbatim for re-scoring.
    #[serde(flatten)]
    pub completion: Completion,
    /// Why the request failed; `None` when it succeeded. The completion holds
    /// what arrived before the failure.
    pub failure: Option<RequestFailure>,
}

/// How a request to the model server failed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RequestFailure {
    /// The failure's class, e.g. `request_timeout`.
    pub class: FailureClass,
    /// What happened, in words: the transport error, the deadline missed, or
    /// the server's own message (clipped).
    pub message: String,
    /// The HTTP status, when the server answered with one.
    pub status: Option<u16>,
}

impl Exchange {
    /// The record of one chat request: the completion, or a failure with the
    /// partial completion that arrived before it.
    pub fn from_result(result: &Result<Completion, ChatFailure>) -> Exchange {
        match result {
            Ok(completion) => Exchange {
                completion: completion.clone(),
                failure: None,
            },
            Err(failure) => Exchange {
                completion: Completion {
                    attempts: failure.attempts,
                    ..failure.partial.as_deref().cloned().unwrap_or_default()
                },
                failure: Some(RequestFailure {
                    class: failure.class,
                    message: failure.message.clone(),
                    status: failure.status,
                }),
            },
        }
    }

    /// The text code is extracted from. A failed request's partial text is
    /// not scored: a cut-off stream is not the model's answer.
    pub fn answer(&self) -> &str {
        if self.failure.is_some() {
            ""
        } else {
            self.completion.answer()
        }
    }

    /// Tokens the model generated, from the server's usage report when it gave
    /// one.
    pub fn tokens(&self) -> u64 {
        self.completion.completion_tokens()
    }

    /// Generation speed in tokens a second; `None` when it cannot be measured.
    pub fn tokens_per_second(&self) -> Option<f64> {
        self.completion.tokens_per_second()
    }

    /// Why this request fell short, if it did: its failure, or the token
    /// limit when the code it produced did not pass.
    pub(crate) fn failure_class(&self, report_passed: bool) -> Option<FailureClass> {
        if let Some(failure) = &self.failure {
            return Some(failure.class);
        }
        (!report_passed && self.completion.hit_token_limit()).then_some(FailureClass::TokenLimit)
    }
}

/// Why a problem fell short: its request failed (or stopped at the token
/// limit and did not pass), or the verdict on its answer. Written as the
/// class's name; the two vocabularies share none, so a name says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemFailure {
    /// The request failed, or stopped at the token limit with code that did not
    /// pass.
    Request(FailureClass),
    /// The answer was scored and fell short.
    Verdict(Failure),
}

impl ProblemFailure {
    /// The class's name, as results files write it.
    pub fn name(self) -> &'static str {
        match self {
            ProblemFailure::Request(class) => class.name(),
            ProblemFailure::Verdict(failure) => failure.name(),
        }
    }

    /// The class a name written by [`ProblemFailure::name`] stands for; `None`
    /// for an unknown name.
    pub fn parse(text: &str) -> Option<ProblemFailure> {
        let request = FailureClass::ALL
            .into_iter()
            .find(|class| class.name() == text)
            .map(ProblemFailure::Request);
        request.or_else(|| Failure::parse(text).map(ProblemFailure::Verdict))
    }

    fn names() -> Vec<&'static str> {
        let request = FailureClass::ALL.into_iter().map(FailureClass::name);
        request
            .chain(Failure::ALL.into_iter().map(Failure::name))
            .collect()
    }
}

impl std::fmt::Display for ProblemFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for ProblemFailure {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for ProblemFailure {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ProblemFailure::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown failure class {text:?}; expected one of {}",
                ProblemFailure::names().join(", ")
            ))
        })
    }
}

impl schemars::JsonSchema for ProblemFailure {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ProblemFailure".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names = ProblemFailure::names();
        schemars::json_schema!({
            "description": "A request failure class or a verdict failure class.",
            "type": "string",
            "enum": names,
        })
    }
}

impl ResultsFile {
    /// A file for `config` with no problem done yet, started now.
    pub fn new(config: RunConfig, reproducibility: Reproducibility) -> ResultsFile {
        ResultsFile {
            format: FORMAT.to_owned(),
            schema_version: SCHEMA_VERSION,
            progress: String::new(),
            complete: false,
            config,
            server: None,
            host: None,
            reproducibility,
            started_at: now(),
            updated_at: String::new(),
            sessions: 1,
            problems: Vec::new(),
            summary: None,
        }
    }

    /// Each record's failure classes and the summary, from the typed
    /// exchanges and reports the records hold.
    fn derive_failures(&mut self) {
        for record in &mut self.problems {
            record.failure_class = super::failure_of(Some(&record.solve), &record.report);
            record.refactor_failure_class = record
                .refactor_report
                .as_ref()
                .and_then(|refactored| super::failure_of(record.refactor.as_ref(), refactored));
        }
        self.summary = Summary::of(&self.problems);
    }

    /// The record of `problem`'s `sample`, when it has finished.
    pub fn record(&self, problem: &str, sample: u32) -> Option<&ProblemRecord> {
        self.problems
            .iter()
            .find(|record| record.id == problem && record.sample == sample)
    }

    /// Recomputes progress and summary from the records.
    pub fn refresh(&mut self) {
        let done = self.problems.len();
        let total = self.config.planned().count();
        self.progress = format!("{done}/{total}");
        self.complete = self
            .config
            .planned()
            .all(|(id, sample)| self.record(id, sample).is_some());
        self.summary = Summary::of(&self.problems);
        self.updated_at = now();
    }

    /// Replaces the file whole: a temporary beside it, flushed to disk, then
    /// renamed over it, and the folder synced. A crash at any moment leaves
    /// either the old file or the new one.
    pub fn write_atomic(&self, path: &Path) -> Result<()> {
        let mut json = serde_json::to_vec_pretty(self).expect("results always serialise");
        json.push(b'\n');
        fuelbench_stdx::write_durably(path, &json).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })
    }
}

/// The JSON Schema of a results file, as committed in
/// `schema/results.schema.json`.
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(ResultsFile)).expect("a schema is JSON")
}

/// This machine's name, as it calls itself; `None` where it has none.
pub(crate) fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())?;
    let name = name.trim();
    (!name.is_empty()).then(|| fuelbench_llm::clip(name, 253))
}

/// Now, local time, as results files and run records write it.
pub fn now() -> String {
    jiff::Zoned::now()
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// `Qwen2.5-Coder 0.5B/Q4_K_M` -> `qwen2.5-coder_0.5b_q4_k_m`: safe in a file name.
pub fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            slug.push(c);
        } else if !slug.ends_with('_') {
            slug.push('_');
        }
    }
    slug.trim_matches('_').to_owned()
}

/// `DIR/<model>__think-off__grammar-none.json`, and
/// `DIR/<model>__think-off__grammar-none__humaneval.json` for a suite's.
pub fn results_path(dir: &Path, config: &RunConfig) -> PathBuf {
    let suite = config
        .suite
        .as_ref()
        .map_or(String::new(), |suite| format!("__{}", slug(&suite.name)));
    dir.join(format!(
        "{}__{}{suite}.json",
        slug(&config.model),
        config.variant()
    ))
}
