//! A job's state: what was asked ([`StartRun`]), where it is in its life
//! ([`RunState`]), and the fold of its events ([`RunStatus::apply`]).

use fuelbench_llm::ServerKind;
use serde_json::{Map, Value};

use crate::{Error, Grammar, Plan, ProblemOutcome, Result, RunEvent, RunProgress, Summary, Think};

/// Where a run is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Accepted; connecting to the model server.
    Queued,
    /// Started: models are being loaded, asked and scored.
    Running,
    /// Cancel was asked; the problem in flight is being dropped.
    Cancelling,
    /// Every model and variant ran; their results files are written.
    Finished,
    /// Stopped on an error, said in the status's `error`; the results files are
    /// whole.
    Failed,
    /// Stopped on request or by shutdown; its results files are whole and a
    /// resume finishes them.
    Cancelled,
}

impl RunState {
    /// Whether the run has ended: finished, failed or cancelled.
    pub fn is_over(self) -> bool {
        matches!(
            self,
            RunState::Finished | RunState::Failed | RunState::Cancelled
        )
    }
}

/// What `POST /api/v1/runs` takes: models, variants and problems, against
/// one of the server's configured endpoints.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// One of the configured endpoints, by URL or by index; the first when
    /// absent. A run can target no other server.
    pub endpoint: Option<String>,
    /// Models as the server names them, in the order they run.
    pub models: Vec<String>,
    /// Thinking modes, each a variant; `["default"]` when absent.
    #[serde(default)]
    pub think: Vec<Think>,
    /// GBNF grammars, each a variant beside the run without one (when
    /// `without_grammar` is true, the default).
    #[serde(default)]
    pub grammars: Vec<GrammarText>,
    /// Also run each model and thinking mode without a grammar; true when
    /// absent.
    #[serde(default = "yes")]
    pub without_grammar: bool,
    /// Problem ids or unique prefixes; all of them when empty.
    #[serde(default)]
    pub problems: Vec<String>,
    /// Follow each solve with a request to refactor its code; true when absent.
    #[serde(default = "yes")]
    pub refactor: bool,
    /// The most tokens each request may generate, above 0; 8192 when absent.
    pub max_tokens: Option<u32>,
    /// The sampling temperature of every request, 0 to 2; 0 (greedy) when
    /// absent.
    pub temperature: Option<f64>,
    /// Extra top-level fields for every chat request.
    pub extra_body: Option<Map<String, Value>>,
    /// Continue the results files already in the store.
    #[serde(default)]
    pub resume: bool,
    /// What kind of server the endpoint is; detected when absent.
    pub server_kind: Option<ServerKind>,
    /// The seed every model and variant of the run draws its generated
    /// cases and complexity inputs from: a results file's
    /// `reproducibility.seed` repeats its tests. A fresh one when absent,
    /// recorded here and in every results file. A resumed file keeps its
    /// own.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Answers asked per problem, each scored and kept: 1 when absent, at
    /// most 100.
    #[serde(default)]
    pub samples: Option<u32>,
    /// What to answer: `ours` (our problems) and `humaneval` (when the
    /// service has it), each into results files of its own; `["ours"]` when
    /// absent.
    #[serde(default)]
    pub suites: Vec<String>,
    /// Ask only each public suite's first tasks, this many.
    #[serde(default)]
    pub suite_limit: Option<usize>,
}

fn yes() -> bool {
    true
}

/// A GBNF grammar sent inline with a run request.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrammarText {
    /// Names the variant, e.g. `compact`; made safe for file names, and
    /// `custom` when nothing of it is left or it is `none`.
    pub name: String,
    /// The grammar itself, GBNF; must not be empty.
    pub text: String,
}

/// A run's state and progress: the fold of its events so far.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RunStatus {
    /// The run's id, e.g. `20261128-204512-3fa9c1`: its start time, then a
    /// random tail.
    pub id: String,
    /// Where the run is in its life.
    pub state: RunState,
    /// The model server the run targets: one of the configured endpoints, as
    /// its root URL.
    pub endpoint: String,
    /// What kind of server the endpoint is: as asked, else as detected once the
    /// run starts.
    pub server_kind: Option<ServerKind>,
    /// The models as the server names them, in the order they run.
    pub models: Vec<String>,
    /// Every variant label each model runs, e.g. `think-off__grammar-none`.
    pub variants: Vec<String>,
    /// The ids of the problems the run asks, in order.
    pub problems: Vec<String>,
    /// The run continues results files already in the store.
    pub resume: bool,
    /// RFC 3339.
    pub created_at: String,
    /// When the run began to ask the server (RFC 3339); `None` while queued.
    pub started_at: Option<String>,
    /// When the run ended (RFC 3339); `None` until it has.
    pub ended_at: Option<String>,
    /// How far it has got.
    #[serde(flatten)]
    pub progress: RunProgress,
    /// Each problem's outcome, in the order they finished.
    pub outcomes: Vec<Outcome>,
    /// Each variant's summary once its problems are done.
    pub summaries: Vec<VariantSummary>,
    /// Results files written, by name in the store.
    pub files: Vec<String>,
    /// Models that could not be loaded, and why; the run went on without them.
    pub skipped: Vec<Skipped>,
    /// What a person should know that is not a failure, e.g. samples at
    /// temperature 0.
    pub warnings: Vec<String>,
    /// Why the run failed, the error and its causes in one line; `None` unless
    /// it failed.
    pub error: Option<String>,
    /// The number of the last event folded in.
    pub last_event: u64,
    /// Which server process drives it: `host:pid:start`, where `start` is
    /// when that process started (`/proc/PID/stat`'s clock ticks since
    /// boot, and the boot's id), so a PID the kernel gave to another process
    /// does not keep the run alive. Files written before it say `host:pid`.
    /// The API shows a digest of it ([`RunStatus::public`]): which process
    /// is its own, not the host's name or a PID.
    pub owner: String,
    /// While queued behind other runs on its model server (on a shared
    /// database, where runs wait their turn): how many are ahead of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u64>,
    /// What was asked, so the run can be resumed as it was.
    pub request: StartRun,
}

impl RunStatus {
    /// This state as the API shows it: `owner` as a digest, which tells
    /// runs of one process from another's without naming a host or a PID.
    pub fn public(mut self) -> RunStatus {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.owner.as_bytes());
        self.owner = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        self
    }
}

/// One problem's outcome in a run, with the model and variant it was asked of.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Outcome {
    /// The model's name as the server lists it.
    pub model: String,
    /// The variant's label, e.g. `think-off__grammar-none`.
    pub variant: String,
    /// How the answer fared, its fields written at the top level.
    #[serde(flatten)]
    pub outcome: ProblemOutcome,
}

/// One model and variant's figures, once all its problems are done.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct VariantSummary {
    /// The model's name as the server lists it.
    pub model: String,
    /// The variant's label, e.g. `think-off__grammar-none`.
    pub variant: String,
    /// The variant's results file, by name in the store (its stem).
    pub file: String,
    /// The variant's figures, as in its results file; `None` when no problem
    /// finished.
    pub summary: Option<Summary>,
}

/// A model a run passed over because it could not be loaded.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Skipped {
    /// The model's name as asked for.
    pub model: String,
    /// Why it could not be loaded: the error and its causes, in one line.
    pub error: String,
}

impl RunStatus {
    /// Folds the next event in.
    pub fn apply(&mut self, event: &RunEvent) {
        self.last_event += 1;
        self.progress.apply(event);
        match event {
            RunEvent::RunStarted { server_kind, .. } => {
                self.server_kind = Some(*server_kind);
                self.started_at = Some(crate::now());
                if self.state == RunState::Queued {
                    self.state = RunState::Running;
                }
            }
            RunEvent::ModelSkipped { model, error } => self.skipped.push(Skipped {
                model: model.clone(),
                error: error.clone(),
            }),
            RunEvent::VariantComplete { file, .. } | RunEvent::VariantStarted { file, .. } => {
                self.add_file(file);
            }
            RunEvent::ProblemDone {
                model,
                variant,
                outcome,
                ..
            } => self.outcomes.push(Outcome {
                model: model.clone(),
                variant: variant.clone(),
                outcome: outcome.clone(),
            }),
            RunEvent::VariantDone {
                file,
                model,
                variant,
                summary,
            } => self.summaries.push(VariantSummary {
                model: model.clone(),
                variant: variant.clone(),
                file: file_name(file),
                summary: summary.as_deref().cloned(),
            }),
            RunEvent::Warning { message } => self.warnings.push(message.clone()),
            RunEvent::RunFinished { .. } => self.end(RunState::Finished, None),
            RunEvent::RunFailed { error } => self.end(RunState::Failed, Some(error.clone())),
            RunEvent::RunCancelled => self.end(RunState::Cancelled, None),
            RunEvent::Model { .. }
            | RunEvent::ModelDone { .. }
            | RunEvent::ProblemStarted { .. } => {}
        }
    }

    fn add_file(&mut self, path: &std::path::Path) {
        let name = file_name(path);
        if !self.files.contains(&name) {
            self.files.push(name);
        }
    }

    pub(crate) fn end(&mut self, state: RunState, error: Option<String>) {
        self.state = state;
        self.error = error.or(self.error.take());
        self.ended_at = Some(crate::now());
        self.progress.problem = None;
        self.progress.model_step = None;
    }
}

/// A results file's name in the store: its stem.
pub(crate) fn file_name(path: &std::path::Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl StartRun {
    /// The run's plan, or which field is wrong.
    pub fn plan(&self) -> Result<Plan> {
        let request = self;
        let mut grammars: Vec<Option<Grammar>> = Vec::new();
        if request.without_grammar {
            grammars.push(None);
        }
        for grammar in &request.grammars {
            let grammar =
                Grammar::from_text(&grammar.name, grammar.text.clone()).map_err(|error| {
                    Error::Invalid {
                        field: "grammars",
                        message: fuelbench_stdx::error_chain(&error),
                    }
                })?;
            grammars.push(Some(grammar));
        }
        let defaults = Plan::default();
        if let Some(temperature) = request.temperature
            && !(0.0..=2.0).contains(&temperature)
        {
            return Err(Error::Invalid {
                field: "temperature",
                message: format!("`temperature` is {temperature}; give 0 to 2"),
            });
        }
        if request.max_tokens == Some(0) {
            return Err(Error::Invalid {
                field: "max_tokens",
                message: "`max_tokens` must be above 0".into(),
            });
        }
        Ok(Plan {
            models: request.models.clone(),
            thinks: if request.think.is_empty() {
                vec![Think::Default]
            } else {
                request.think.clone()
            },
            grammars,
            refactor: request.refactor,
            problems: request.problems.clone(),
            max_tokens: request.max_tokens.unwrap_or(defaults.max_tokens),
            temperature: request.temperature.unwrap_or(defaults.temperature),
            extra_body: request.extra_body.clone().unwrap_or_default(),
            samples: request.samples.unwrap_or(defaults.samples),
            suites: if request.suites.is_empty() {
                defaults.suites
            } else {
                request.suites.clone()
            },
            suite_limit: request.suite_limit,
        })
    }
}

pub(crate) fn state_name(state: RunState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
