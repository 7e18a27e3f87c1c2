//! Benchmarking a model: every problem solved, refactored and scored, the
//! results file rewritten after each one, and `--resume` to finish a run a
//! crash interrupted.
//!
//! [`run_variant`] runs one model in one variant (thinking, grammar) into
//! one results file. [`Benchmark::run`] runs several models and variants one
//! model at a time through a [`Manager`]: unload, load, run every variant,
//! unload. The model server is only ever asked through `fuelbench-llm`.
//!
//! After the run, [`rescore`] scores saved answers again offline, and
//! [`leaderboard`] builds leaderboards, comparisons and imports. The service
//! drives runs as [`jobs`] over a [`Store`], and every front end starts a
//! run the same way ([`preflight`], [`Target`]).

mod error;
mod events;
pub mod jobs;
pub mod leaderboard;
mod plan;
pub mod render;
mod results;
mod start;
pub mod store;

use std::path::{Path, PathBuf};
use std::time::Instant;

use fuelbench_llm::{ChatClient, ChatRequest, Manager, Message};
use fuelbench_problems::Problem;
use serde_json::Value;
use sha2::{Digest, Sha256};
pub use tokio_util::sync::CancellationToken;

pub use self::error::{Error, Result};
pub use self::events::{
    ComplexityVerdict, EventSink, ProblemOutcome, RunEvent, RunProgress, event_schema,
};
pub use self::plan::{Plan, parse_extra_body, select_problems};
pub use self::results::{
    Exchange, FORMAT, Grammar, MAX_RESULTS_BYTES, ProblemFailure, ProblemRecord, RequestFailure,
    ResultsFile, ResultsHead, RunConfig, SCHEMA_VERSION, Summary, Think, now, results_path, schema,
    slug,
};
pub use self::start::{Endpoint, Target, preflight};
pub use self::store::{DirStore, Store};
use fuelbench_eval::{Evaluator, RefactorReport, Report, Reproducibility};

/// Sent before every prompt. The prompts themselves say what to write; this
/// says how to answer so the code can be found.
pub const SYSTEM_PROMPT: &str = "You are an expert Python programmer. Answer with the complete \
solution in a single ```python fenced code block, with any imports it needs. Do not include tests, \
example usage or input handling.";

/// What every problem of a run shares.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub client: ChatClient,
    pub evaluator: Evaluator,
    /// Cancelled, the run stops before the next problem, and a request in
    /// flight is dropped; the problem it was for is asked again on resume.
    pub cancel: CancellationToken,
}

impl RunContext {
    pub fn new(client: ChatClient, evaluator: Evaluator) -> RunContext {
        RunContext {
            client,
            evaluator,
            cancel: CancellationToken::new(),
        }
    }
}

/// sha256 over the problems' ids, prompts, refactor requests and cases, in
/// order: [`RunConfig::problem_set_sha256`].
pub fn problem_set_sha256(problems: &[Problem]) -> String {
    let mut hasher = Sha256::new();
    for problem in problems {
        let cases = serde_json::to_string(&(
            &problem.small,
            &problem.edge,
            &problem.numerical,
            &problem.complexity,
            &problem.compare,
        ))
        .expect("cases serialise");
        for part in [
            &problem.id,
            &problem.prompt,
            &problem.refactor_request,
            &cases,
        ] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    format!("{:x}", hasher.finalize())
}

/// Runs one model in one variant into `path`, which must not exist unless
/// `resume`; with `resume`, problems already in the file are kept and only
/// the rest are asked. The file is rewritten after every problem.
pub async fn run_variant(
    context: &RunContext,
    config: RunConfig,
    problems: &[Problem],
    server: Option<fuelbench_llm::ServerIdentity>,
    path: &Path,
    resume: bool,
    events: EventSink<'_>,
) -> Result<ResultsFile> {
    let mut evaluator = context.evaluator.clone();
    let mut file = if path.exists() {
        if !resume {
            return Err(Error::Exists {
                path: path.to_owned(),
            });
        }
        let mut file = ResultsFile::read(path)?;
        // A resumed variant keeps the tests it started with: its own seed.
        evaluator = context.evaluator.with_seed(file.reproducibility.seed);
        let reproducibility = evaluator.reproducibility();
        let mut changes = config_changes(&file.config, &config);
        if file.reproducibility != reproducibility {
            changes.push(format!(
                "the scorer's reproducibility key changed ({}); `fuelbench rescore` re-scores saved answers",
                reproducibility_changes(&file.reproducibility, &reproducibility).join(", ")
            ));
        }
        if !changes.is_empty() {
            return Err(Error::ConfigChanged {
                path: path.to_owned(),
                changes,
            });
        }
        file.sessions += 1;
        file.problems
            .retain(|record| config.problems.contains(&record.id));
        file
    } else {
        ResultsFile::new(config, evaluator.reproducibility())
    };
    if server.is_some() {
        file.server = server;
    }
    file.refresh();
    file.write_atomic(path)?;
    events(RunEvent::variant_started(path, &file));

    let total = file.config.problems.len();
    let todo: Vec<&Problem> = file
        .config
        .problems
        .iter()
        .filter(|id| !file.problems.iter().any(|record| &&record.id == id))
        .map(|id| {
            problems
                .iter()
                .find(|problem| &problem.id == id)
                .ok_or_else(|| Error::UnknownProblem {
                    id: id.clone(),
                    path: path.to_owned(),
                })
        })
        .collect::<Result<_>>()?;
    let (model, variant) = (file.config.model.clone(), file.config.variant());
    for problem in todo {
        if context.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        events(RunEvent::ProblemStarted {
            model: model.clone(),
            variant: variant.clone(),
            problem: problem.id.clone(),
            title: problem.title.clone(),
            index: file.problems.len(),
            total,
        });
        let record = solve_problem(context, &evaluator, &file.config, problem).await?;
        file.problems.push(record);
        file.refresh();
        file.write_atomic(path)?;
        events(RunEvent::ProblemDone {
            model: model.clone(),
            variant: variant.clone(),
            outcome: ProblemOutcome::of(file.problems.last().expect("just pushed")),
            progress: file.progress.clone(),
        });
    }
    events(RunEvent::VariantDone {
        file: path.to_owned(),
        model,
        variant,
        summary: file.summary.clone(),
    });
    Ok(file)
}

/// Solve, score, refactor, score: one problem's record. Request failures are
/// recorded, never raised; only the host failing to score is an error.
async fn solve_problem(
    context: &RunContext,
    evaluator: &Evaluator,
    config: &RunConfig,
    problem: &Problem,
) -> Result<ProblemRecord> {
    let started = Instant::now();
    let mut messages = vec![
        Message::system(&config.system_prompt),
        Message::user(&problem.prompt),
    ];
    let solve_result = context
        .cancel
        .run_until_cancelled(context.client.chat(&request(config, messages.clone())))
        .await
        .ok_or(Error::Cancelled)?;
    let solve_time_s = started.elapsed().as_secs_f64();
    let solve = Exchange::from_result(&solve_result);

    let scoring_started = Instant::now();
    let mut report = score_answer(evaluator, problem, solve.answer()).await?;
    let mut scoring_time_s = scoring_started.elapsed().as_secs_f64();

    let mut refactor = None;
    let mut refactor_report = None;
    let mut refactor_time_s = None;
    let code = report
        .extraction
        .as_ref()
        .and_then(|extraction| extraction.code.clone());
    if config.refactor {
        let refactored = match code {
            Some(code) => {
                messages.push(Message::assistant(format!("```python\n{code}\n```")));
                messages.push(Message::user(format!(
                    "{}\n\nAnswer with the complete refactored code in a single ```python fenced \
                     code block.",
                    problem.refactor_request
                )));
                let refactor_started = Instant::now();
                let result = context
                    .cancel
                    .run_until_cancelled(context.client.chat(&request(config, messages)))
                    .await
                    .ok_or(Error::Cancelled)?;
                refactor_time_s = Some(refactor_started.elapsed().as_secs_f64());
                let exchange = Exchange::from_result(&result);
                let scoring_started = Instant::now();
                let refactored = score_answer(evaluator, problem, exchange.answer()).await?;
                scoring_time_s += scoring_started.elapsed().as_secs_f64();
                refactor = Some(exchange);
                refactored
            }
            // Nothing to refactor: the refactor counts as failed, unasked.
            None => score_answer(evaluator, problem, "").await?,
        };
        report.refactor = Some(RefactorReport::new(&report, &refactored));
        refactor_report = Some(refactored);
    }

    let failure_class = failure_of(Some(&solve), &report);
    let refactor_failure_class = refactor_report
        .as_ref()
        .and_then(|refactored| failure_of(refactor.as_ref(), refactored));
    let solve_tokens = solve.tokens();
    let refactor_tokens = refactor.as_ref().map(Exchange::tokens);
    let tokens_per_s = generation_speed(std::iter::once(&solve).chain(&refactor));
    Ok(ProblemRecord {
        id: problem.id.clone(),
        title: problem.title.clone(),
        solve,
        refactor,
        report,
        refactor_report,
        solve_time_s,
        refactor_time_s,
        scoring_time_s,
        total_time_s: started.elapsed().as_secs_f64(),
        solve_tokens,
        refactor_tokens,
        tokens_per_s,
        failure_class,
        refactor_failure_class,
        finished_at: results::now(),
    })
}

/// Why a request and its scored answer fell short: the request's own
/// failure first, else the report's.
fn failure_of(exchange: Option<&Exchange>, report: &Report) -> Option<ProblemFailure> {
    exchange
        .and_then(|exchange| exchange.failure_class(report.passed))
        .map(ProblemFailure::Request)
        .or_else(|| report.failure_class.map(ProblemFailure::Verdict))
}

/// Generated tokens over generation time, each request's time being its
/// tokens at its measured speed; `None` when no request has a speed.
pub(crate) fn generation_speed<'a>(exchanges: impl Iterator<Item = &'a Exchange>) -> Option<f64> {
    let (tokens, seconds) = exchanges
        .filter_map(|exchange| Some((exchange.tokens(), exchange.tokens_per_second()?)))
        .filter(|(tokens, tps)| *tokens > 0 && *tps > 0.0)
        .fold((0u64, 0.0f64), |(tokens, seconds), (n, tps)| {
            (tokens + n, seconds + n as f64 / tps)
        });
    (seconds > 0.0).then(|| tokens as f64 / seconds)
}

fn request(config: &RunConfig, messages: Vec<Message>) -> ChatRequest {
    let mut request = ChatRequest::new(&config.model, messages);
    request.max_tokens = config.max_tokens;
    request.temperature = config.temperature;
    request.grammar = config.grammar.as_ref().map(|g| g.text.clone());
    request.chat_template_kwargs = match config.think {
        Think::Default => None,
        Think::On => Some(serde_json::json!({ "enable_thinking": true })),
        Think::Off => Some(serde_json::json!({ "enable_thinking": false })),
    };
    request.extra = config.extra_body.clone();
    request
}

/// Scores a reply off the async runtime: the sandbox is synchronous and
/// spreads cases over the cores itself.
async fn score_answer(evaluator: &Evaluator, problem: &Problem, answer: &str) -> Result<Report> {
    let evaluator = evaluator.clone();
    let problem_owned = problem.clone();
    let answer = answer.to_owned();
    let scored =
        tokio::task::spawn_blocking(move || evaluator.evaluate_reply(&problem_owned, &answer))
            .await
            // A panic in scoring is a bug; it fails this run with what it said
            // rather than take down whoever drives it (and the lock it holds).
            .unwrap_or_else(|panicked| {
                Err(fuelbench_eval::Error::Harness(format!(
                    "scoring failed: {panicked}"
                )))
            });
    scored.map_err(|source| Error::Score {
        problem: problem.id.clone(),
        source,
    })
}

/// Scores every saved answer again with this scorer, on the tests the run
/// drew (its recorded seed), and recomputes the summary; times and tokens
/// are kept as recorded.
pub fn rescore(
    file: &mut ResultsFile,
    evaluator: &Evaluator,
    problems: &[Problem],
    path: &Path,
) -> Result<Vec<Rescored>> {
    let evaluator = &evaluator.with_seed(file.reproducibility.seed);
    let mut changed = Vec::new();
    for record in &mut file.problems {
        let problem = problems
            .iter()
            .find(|problem| problem.id == record.id)
            .ok_or_else(|| Error::UnknownProblem {
                id: record.id.clone(),
                path: path.to_owned(),
            })?;
        let score = |answer: &str| {
            evaluator
                .evaluate_reply(problem, answer)
                .map_err(|source| Error::Score {
                    problem: problem.id.clone(),
                    source,
                })
        };
        let mut report = score(record.solve.answer())?;
        let old_refactor = record.refactor_report.clone();
        if record.refactor_report.is_some() {
            let refactored = match &record.refactor {
                Some(exchange) => score(exchange.answer())?,
                None => score("")?,
            };
            report.refactor = Some(RefactorReport::new(&report, &refactored));
            record.refactor_failure_class = failure_of(record.refactor.as_ref(), &refactored);
            record.refactor_report = Some(refactored);
        }
        record.failure_class = failure_of(Some(&record.solve), &report);
        let mut changes = report.changes_since(&record.report);
        if let (Some(old), Some(new)) = (&old_refactor, &record.refactor_report) {
            changes.extend(
                new.changes_since(old)
                    .into_iter()
                    .map(|change| format!("refactor {change}")),
            );
        }
        if !changes.is_empty() {
            changed.push(Rescored {
                problem: record.id.clone(),
                changes,
            });
        }
        record.report = report;
    }
    file.reproducibility = evaluator.reproducibility();
    file.refresh();
    Ok(changed)
}

/// A problem whose verdict a rescore changed, and what changed, a line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rescored {
    pub problem: String,
    pub changes: Vec<String>,
}

/// What differs between two scorers' reproducibility keys, one line each.
pub fn reproducibility_changes(saved: &Reproducibility, now: &Reproducibility) -> Vec<String> {
    let saved = serde_json::to_value(saved).expect("serialises");
    let now = serde_json::to_value(now).expect("serialises");
    value_changes(&saved, &now, "")
}

/// What differs between a saved configuration and this run's, one line each.
pub fn config_changes(saved: &RunConfig, now: &RunConfig) -> Vec<String> {
    let saved = serde_json::to_value(saved).expect("serialises");
    let now = serde_json::to_value(now).expect("serialises");
    value_changes(&saved, &now, "")
}

fn value_changes(saved: &Value, now: &Value, prefix: &str) -> Vec<String> {
    match (saved, now) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|key| {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    value_changes(
                        a.get(key).unwrap_or(&Value::Null),
                        b.get(key).unwrap_or(&Value::Null),
                        &path,
                    )
                })
                .collect()
        }
        (a, b) if a == b => Vec::new(),
        (a, b) => vec![format!(
            "{prefix}: was {}, now {}",
            fuelbench_llm::clip(&a.to_string(), 80),
            fuelbench_llm::clip(&b.to_string(), 80)
        )],
    }
}

/// One model in several variants, or several models: the runner's plan.
#[derive(Debug, Clone)]
pub struct Benchmark {
    /// One configuration per model and variant; grouped by model in order.
    pub configs: Vec<RunConfig>,
    pub out_dir: PathBuf,
    pub resume: bool,
}

impl Benchmark {
    /// Runs every configuration, one model at a time: for each model, unload
    /// the others, load it, run each of its variants, unload it. A model
    /// that cannot be loaded is reported and the next one is tried; the
    /// error comes back at the end. Every step goes to `events`, ending with
    /// `run_finished`, `run_failed` or `run_cancelled`.
    pub async fn run(
        &self,
        context: &RunContext,
        manager: &Manager,
        problems: &[Problem],
        events: EventSink<'_>,
    ) -> Result<Vec<(PathBuf, ResultsFile)>> {
        let mut models: Vec<String> = Vec::new();
        let mut variants: Vec<String> = Vec::new();
        for config in &self.configs {
            if !models.contains(&config.model) {
                models.push(config.model.clone());
            }
            if !variants.contains(&config.variant()) {
                variants.push(config.variant());
            }
        }
        events(RunEvent::RunStarted {
            server_kind: manager.kind(),
            models: models.clone(),
            variants,
            problems: self
                .configs
                .first()
                .map_or(0, |config| config.problems.len()),
        });
        let outcome = self
            .run_models(context, manager, problems, &models, events)
            .await;
        events(match &outcome {
            Ok(done) => RunEvent::RunFinished {
                files: done.iter().map(|(path, _)| path.clone()).collect(),
            },
            Err(Error::Cancelled) => RunEvent::RunCancelled,
            Err(error) => RunEvent::RunFailed {
                error: fuelbench_stdx::error_chain(error),
            },
        });
        outcome
    }

    async fn run_models(
        &self,
        context: &RunContext,
        manager: &Manager,
        problems: &[Problem],
        models: &[String],
        events: EventSink<'_>,
    ) -> Result<Vec<(PathBuf, ResultsFile)>> {
        let mut done = Vec::new();
        let mut first_error = None;
        for model in models {
            if context.cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            // A model whose every variant is already finished is not loaded
            // again just to find nothing to do.
            let finished: Option<Vec<(PathBuf, ResultsFile)>> = self
                .configs
                .iter()
                .filter(|c| &c.model == model)
                .map(|config| {
                    let path = results_path(&self.out_dir, config);
                    let file = ResultsFile::read(&path).ok()?;
                    (self.resume
                        && file.complete
                        && config_changes(&file.config, config).is_empty())
                    .then_some((path, file))
                })
                .collect();
            if let Some(finished) = finished {
                for (path, file) in finished {
                    events(RunEvent::VariantComplete {
                        file: path.clone(),
                        model: model.clone(),
                        variant: file.config.variant(),
                    });
                    done.push((path, file));
                }
                continue;
            }
            let mut variants = ModelTurn {
                benchmark: self,
                context,
                manager,
                problems,
                events: &mut *events,
                done: Vec::new(),
                loaded: false,
            };
            match manager
                .with_model(model, &mut variants, &context.cancel)
                .await
            {
                Ok(outcome) => {
                    done.append(&mut variants.done);
                    outcome?;
                    events(RunEvent::ModelDone {
                        model: model.clone(),
                    });
                }
                Err(fuelbench_llm::Error::Cancelled) => return Err(Error::Cancelled),
                // Unloading failed, or memory never came back: loading the
                // next model now could starve it, so the run stops here.
                Err(error) if variants.loaded => return Err(Error::Server(error)),
                Err(error) => {
                    events(RunEvent::ModelSkipped {
                        model: model.clone(),
                        error: fuelbench_stdx::error_chain(&error),
                    });
                    first_error.get_or_insert(Error::Server(error));
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(done),
        }
    }
}

/// One model's turn on the server: its variants, run while it is loaded.
struct ModelTurn<'b, 'e> {
    benchmark: &'b Benchmark,
    context: &'b RunContext,
    manager: &'b Manager,
    problems: &'b [Problem],
    events: EventSink<'e>,
    done: Vec<(PathBuf, ResultsFile)>,
    /// The model was loaded and the variants ran.
    loaded: bool,
}

impl fuelbench_llm::Workload for ModelTurn<'_, '_> {
    type Output = Result<()>;

    fn step(&mut self, model: &str, step: fuelbench_llm::ModelStep) {
        (self.events)(RunEvent::Model {
            model: model.to_owned(),
            step,
        });
    }

    async fn run(&mut self, model: &str) -> Result<()> {
        self.loaded = true;
        let identity = self.manager.identity(model).await;
        for config in self.benchmark.configs.iter().filter(|c| c.model == model) {
            let path = results_path(&self.benchmark.out_dir, config);
            let file = run_variant(
                self.context,
                config.clone(),
                self.problems,
                Some(identity.clone()),
                &path,
                self.benchmark.resume,
                &mut *self.events,
            )
            .await?;
            self.done.push((path, file));
        }
        Ok(())
    }
}
