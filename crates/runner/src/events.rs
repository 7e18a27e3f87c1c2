//! What a run reports as it goes, as typed events.
//!
//! Every front end watches a run through the same stream: the CLI renders it
//! as progress lines (or prints it as JSON lines with `run --json`), and the
//! service will number it and send it over SSE. Events go to a sink, an
//! `FnMut(RunEvent) + Send`, so a run can be spawned onto any runtime thread.
//! `schema/events.schema.json` is the stream's JSON Schema, checked for drift
//! like the results file's.

use std::path::PathBuf;

use fuelbench_llm::{ModelStep, ServerKind};
use fuelbench_problems::Class;

use crate::{ProblemFailure, ProblemRecord, ResultsFile, Summary};

/// Where a run sends its events.
pub type EventSink<'a> = &'a mut (dyn FnMut(RunEvent) + Send);

/// One thing that happened in a run. Serialised with an `event` tag in
/// snake_case (`{"event": "problem_done", ...}`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// A benchmark begins: its models in order, the variants each runs, the
    /// number of problems in each.
    RunStarted {
        /// The kind of model server the run goes through.
        server_kind: ServerKind,
        /// The models' names as the server lists them, in the order they run.
        models: Vec<String>,
        /// Every variant label each model runs, e.g. `think-off__grammar-none`.
        variants: Vec<String>,
        /// Problems in each variant.
        problems: usize,
        /// Answers asked per problem.
        #[serde(default = "one")]
        samples: usize,
    },
    /// A step of taking a model through its benchmark: unloading others,
    /// memory settling, loading, ready, unloading, memory back.
    Model {
        /// The model's name as the server lists it.
        model: String,
        /// What just happened to it.
        step: ModelStep,
    },
    /// A model could not be loaded; the run goes on with the next one.
    ModelSkipped {
        /// The model's name as the server lists it.
        model: String,
        /// Why it could not be loaded: the error and its causes, in one line.
        error: String,
    },
    /// A model's every variant is done and it was unloaded.
    ModelDone {
        /// The model's name as the server lists it.
        model: String,
    },
    /// A variant whose results file is already complete, on resume: nothing
    /// to ask.
    VariantComplete {
        /// The variant's results file.
        file: PathBuf,
        /// The model's name as the server lists it.
        model: String,
        /// The variant's label, e.g. `think-off__grammar-none`.
        variant: String,
    },
    /// A variant starts, or resumes, into its results file.
    VariantStarted {
        /// The variant's results file.
        file: PathBuf,
        /// The model's name as the server lists it.
        model: String,
        /// The variant's label, e.g. `think-off__grammar-none`.
        variant: String,
        /// Problems already in the file.
        done: usize,
        /// Answers the variant plans: problems times samples.
        total: usize,
        /// 1 for a new file; each resume adds one.
        sessions: u32,
    },
    /// A problem is about to be asked.
    ProblemStarted {
        /// The model's name as the server lists it.
        model: String,
        /// The variant's label, e.g. `think-off__grammar-none`.
        variant: String,
        /// The problem's id.
        problem: String,
        /// Which of the problem's samples, from 0.
        #[serde(default)]
        sample: u32,
        /// The problem's title.
        title: String,
        /// Answers done before this one.
        index: usize,
        /// Answers the variant plans: problems times samples.
        total: usize,
    },
    /// A problem is answered, scored and written to the results file.
    ProblemDone {
        /// The model's name as the server lists it.
        model: String,
        /// The variant's label, e.g. `think-off__grammar-none`.
        variant: String,
        /// How the answer fared, its fields written at the event's top level.
        #[serde(flatten)]
        outcome: ProblemOutcome,
        /// "done/total" after this problem.
        progress: String,
    },
    /// A variant's problems are all done; its summary, as in the file.
    VariantDone {
        /// The variant's results file.
        file: PathBuf,
        /// The model's name as the server lists it.
        model: String,
        /// The variant's label, e.g. `think-off__grammar-none`.
        variant: String,
        /// The variant's figures; `None` when no problem finished.
        summary: Option<Box<Summary>>,
    },
    /// Something a person should know that is not a failure.
    Warning {
        /// What to know, for a human.
        message: String,
    },
    /// Every model and variant ran; the results files written.
    RunFinished {
        /// Every variant's results file, in the order they ran.
        files: Vec<PathBuf>,
    },
    /// The run stopped on an error (what `Err` from the runner says).
    RunFailed {
        /// The error and its causes, in one line.
        error: String,
    },
    /// The run was cancelled; every results file is whole and resumable.
    RunCancelled,
}

/// A problem's verdict, tokens, speed and fuel, for a watcher: the record
/// without its raw answers and reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ProblemOutcome {
    /// The problem's id.
    pub problem: String,
    /// Which of the problem's samples, from 0.
    #[serde(default)]
    pub sample: u32,
    /// The problem's title.
    pub title: String,
    /// The solution passed every test: pass@1 for this answer.
    pub passed: bool,
    /// Why it fell short: a request failure or the verdict's class.
    pub failure_class: Option<ProblemFailure>,
    /// `None` when the tests failed and complexity was not measured.
    pub complexity: Option<ComplexityVerdict>,
    /// Both versions pass; `None` without a refactor.
    pub refactor_stable: Option<bool>,
    /// Why the refactor fell short, as `failure_class`; `None` when it did not
    /// or was not asked.
    pub refactor_failure_class: Option<ProblemFailure>,
    /// Seconds for the whole problem: both requests and their scoring.
    pub total_time_s: f64,
    /// Tokens generated for the solve and the refactor together.
    pub tokens: u64,
    /// Generation speed over both requests, in tokens a second; `None` when the
    /// server gave no speed.
    pub tokens_per_s: Option<f64>,
    /// Fuel of the solution's test cases.
    pub fuel_used: u64,
}

/// The complexity verdict without its samples: the class expected, the class
/// fitted, and whether they agree.
#[derive(
    Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct ComplexityVerdict {
    /// The class the problem expects a solution to have.
    pub expected: Class,
    /// The class the solution's fuel fitted; `None` when too few sizes ran to
    /// fit.
    pub fitted: Option<Class>,
    /// No complexity mismatch was found; `match` in JSON.
    #[serde(rename = "match")]
    pub matched: bool,
}

impl ProblemOutcome {
    /// The outcome `record` shows a watcher.
    pub fn of(record: &ProblemRecord) -> ProblemOutcome {
        ProblemOutcome {
            problem: record.id.clone(),
            sample: record.sample,
            title: record.title.clone(),
            passed: record.passed(),
            failure_class: record.failure_class,
            complexity: record
                .report
                .complexity
                .as_ref()
                .map(|complexity| ComplexityVerdict {
                    expected: complexity.expected,
                    fitted: complexity.fitted,
                    matched: complexity.matched,
                }),
            refactor_stable: record
                .report
                .refactor
                .as_ref()
                .map(|refactor| refactor.stable),
            refactor_failure_class: record.refactor_failure_class,
            total_time_s: record.total_time_s,
            tokens: record.total_tokens(),
            tokens_per_s: record.tokens_per_s,
            fuel_used: record.report.fuel_used,
        }
    }
}

impl RunEvent {
    pub(crate) fn variant_started(path: &std::path::Path, file: &ResultsFile) -> RunEvent {
        RunEvent::VariantStarted {
            file: path.to_owned(),
            model: file.config.model.clone(),
            variant: file.config.variant(),
            done: file.problems.len(),
            total: file.config.planned().count(),
            sessions: file.sessions,
        }
    }
}

fn one() -> usize {
    1
}

/// How far a run has got: the fold of its events, the same for every
/// watcher (a job's state in the service, the progress bar in a terminal),
/// so no front end reads numbers back out of an event's text.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct RunProgress {
    /// Answers done (a problem's every sample counts), counting those
    /// already in resumed files.
    pub problems_done: usize,
    /// Every model's every variant's answers, less a skipped model's.
    pub problems_total: usize,
    /// The model being worked with, and its last step.
    pub model: Option<String>,
    /// The last step of the model being worked with; `None` before the first
    /// and after the run ends.
    pub model_step: Option<ModelStep>,
    /// The variant in flight, e.g. `think-off__grammar-none`.
    pub variant: Option<String>,
    /// The variant in flight: problems in its results file, and how many it has.
    #[serde(default)]
    pub variant_done: usize,
    /// Answers the variant in flight plans: problems times samples.
    #[serde(default)]
    pub variant_total: usize,
    /// The problem in flight.
    pub problem: Option<String>,
    /// Problems per variant and variants per model, from `run_started`.
    #[serde(skip)]
    shape: (usize, usize),
}

impl RunProgress {
    /// Progress before any event, when the run's size is known already.
    pub fn new(problems_total: usize) -> RunProgress {
        RunProgress {
            problems_total,
            ..RunProgress::default()
        }
    }

    /// Folds the next event in.
    pub fn apply(&mut self, event: &RunEvent) {
        let (problems, variants) = self.shape;
        match event {
            RunEvent::RunStarted {
                models,
                variants,
                problems,
                samples,
                ..
            } => {
                let answers = problems * samples.max(&1);
                self.shape = (answers, variants.len());
                self.problems_total = models.len() * variants.len() * answers;
                // A run taken over starts again, and counts what its files
                // hold as they come.
                self.problems_done = 0;
            }
            RunEvent::Model { model, step } => {
                self.model = Some(model.clone());
                self.model_step = Some(step.clone());
            }
            RunEvent::ModelSkipped { .. } => {
                self.problems_total = self.problems_total.saturating_sub(problems * variants);
            }
            RunEvent::ModelDone { .. } => {
                self.variant = None;
                self.problem = None;
            }
            RunEvent::VariantComplete { .. } => self.problems_done += problems,
            RunEvent::VariantStarted {
                variant,
                done,
                total,
                ..
            } => {
                self.problems_done += done;
                self.variant = Some(variant.clone());
                self.variant_done = *done;
                self.variant_total = *total;
            }
            RunEvent::ProblemStarted { problem, .. } => self.problem = Some(problem.clone()),
            RunEvent::ProblemDone { .. } => {
                self.problems_done += 1;
                self.variant_done += 1;
                self.problem = None;
            }
            RunEvent::RunFinished { .. } | RunEvent::RunFailed { .. } | RunEvent::RunCancelled => {
                self.problem = None;
                self.model_step = None;
            }
            RunEvent::VariantDone { .. } | RunEvent::Warning { .. } => {}
        }
    }
}

/// The JSON Schema of one event, as `schema/events.schema.json` holds it.
pub fn event_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RunEvent)).expect("a schema is JSON")
}
