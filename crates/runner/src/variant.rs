//! One model in one variant: every problem asked, refactored and scored,
//! the results file rewritten after each.

use std::path::Path;
use std::time::Instant;

use fuelbench_llm::{ChatRequest, Message};
use fuelbench_problems::{Problem, SuiteTask};

use fuelbench_eval::{Evaluator, RefactorReport, Report, SuiteSource};

use crate::{
    Error, EventSink, Exchange, ProblemFailure, ProblemOutcome, ProblemRecord, Result, ResultsFile,
    RunConfig, RunContext, RunEvent, Suite, Think, config_changes, now, reproducibility_changes,
};

/// Runs one model in one variant into `path`, which must not exist unless
/// `resume`; with `resume`, problems already in the file are kept and only
/// the rest are asked. The file is rewritten after every problem. A
/// configuration of a public suite ([`RunConfig::suite`]) asks that suite's
/// tasks, found among `suites`.
#[expect(clippy::too_many_arguments, reason = "each is one thing the run needs")]
pub async fn run_variant(
    context: &RunContext,
    config: RunConfig,
    problems: &[Problem],
    suites: &[Suite],
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
        let reproducibility = config.scorer_key(&evaluator);
        let mut changes = config_changes(&file.config, &config);
        let key_changes = reproducibility_changes(&file.reproducibility, &reproducibility);
        if !key_changes.is_empty() {
            changes.push(format!(
                "the scorer's reproducibility key changed ({}); `fuelbench rescore` re-scores saved answers",
                key_changes.join(", ")
            ));
        }
        if !changes.is_empty() {
            return Err(Error::ConfigChanged {
                path: path.to_owned(),
                changes,
            });
        }
        file.sessions += 1;
        // A record of a problem or sample not planned, or a second record of
        // one (id, sample), is not one of this run's answers.
        let mut seen = std::collections::HashSet::new();
        file.problems.retain(|record| {
            config.problems.contains(&record.id)
                && record.sample < config.samples.max(1)
                && seen.insert((record.id.clone(), record.sample))
        });
        file
    } else {
        let key = config.scorer_key(&evaluator);
        ResultsFile::new(config, key)
    };
    if server.is_some() {
        file.server = server;
    }
    file.host = crate::results::host_name();
    file.refresh();
    context.save(&file, path).await?;
    events(RunEvent::variant_started(path, &file));

    let total = file.config.planned().count();
    let suite = match &file.config.suite {
        Some(source) => Some(crate::suite::find(suites, source, path)?),
        None => None,
    };
    let todo: Vec<(Asked<'_>, u32)> = file
        .config
        .planned()
        .filter(|(id, sample)| file.record(id, *sample).is_none())
        .map(|(id, sample)| {
            let unknown = || Error::UnknownProblem {
                id: id.to_owned(),
                path: path.to_owned(),
            };
            let asked = match suite {
                Some(suite) => Asked::Task(suite.task(id).ok_or_else(unknown)?, &suite.source),
                None => Asked::Problem(
                    problems
                        .iter()
                        .find(|problem| problem.id == id)
                        .ok_or_else(unknown)?,
                ),
            };
            Ok((asked, sample))
        })
        .collect::<Result<_>>()?;
    let (model, variant) = (file.config.model.clone(), file.config.variant());
    for (asked, sample) in todo {
        if context.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        events(RunEvent::ProblemStarted {
            model: model.clone(),
            variant: variant.clone(),
            problem: asked.id().to_owned(),
            sample,
            title: asked.title().to_owned(),
            index: file.problems.len(),
            total,
        });
        let seed = request_seed(&file, asked.id(), sample);
        let record = match asked {
            Asked::Problem(problem) => {
                solve_problem(context, &evaluator, &file.config, problem, sample, seed).await?
            }
            Asked::Task(task, source) => {
                solve_task(
                    context,
                    &evaluator,
                    &file.config,
                    task,
                    source,
                    sample,
                    seed,
                )
                .await?
            }
        };
        file.problems.push(record);
        file.refresh();
        context.save(&file, path).await?;
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
        summary: file.summary.clone().map(Box::new),
    });
    Ok(file)
}

/// What one record answers: one of our problems, or a public suite's task.
#[derive(Clone, Copy)]
pub(crate) enum Asked<'a> {
    Problem(&'a Problem),
    Task(&'a SuiteTask, &'a SuiteSource),
}

impl Asked<'_> {
    fn id(&self) -> &str {
        match self {
            Asked::Problem(problem) => &problem.id,
            Asked::Task(task, _) => &task.task_id,
        }
    }

    fn title(&self) -> &str {
        match self {
            Asked::Problem(problem) => &problem.title,
            Asked::Task(task, _) => &task.task_id,
        }
    }

    /// Scores `answer`, a whole reply, in the sandbox.
    pub(crate) fn score(
        &self,
        evaluator: &Evaluator,
        answer: &str,
    ) -> fuelbench_eval::Result<Report> {
        match self {
            Asked::Problem(problem) => evaluator.evaluate_reply(problem, answer),
            Asked::Task(task, source) => evaluator.evaluate_task_reply(task, answer, source),
        }
    }
}

/// Solve, score, refactor, score: one problem's record. Request failures are
/// recorded, never raised; only the host failing to score is an error.
async fn solve_problem(
    context: &RunContext,
    evaluator: &Evaluator,
    config: &RunConfig,
    problem: &Problem,
    sample: u32,
    seed: Option<u64>,
) -> Result<ProblemRecord> {
    let started = Instant::now();
    let request = |messages| seeded_request(config, messages, seed);
    let mut messages = vec![
        Message::system(&config.system_prompt),
        Message::user(&problem.prompt),
    ];
    let solve_result = context
        .cancel
        .run_until_cancelled(context.client.chat(&request(messages.clone())))
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
                    .run_until_cancelled(context.client.chat(&request(messages)))
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
        sample,
        request_seed: seed,
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
        finished_at: now(),
    })
}

/// A suite's task: asked once, its reply scored by the suite's test. No
/// refactor is asked: a suite has no refactor requests.
async fn solve_task(
    context: &RunContext,
    evaluator: &Evaluator,
    config: &RunConfig,
    task: &SuiteTask,
    source: &SuiteSource,
    sample: u32,
    seed: Option<u64>,
) -> Result<ProblemRecord> {
    let started = Instant::now();
    let messages = vec![
        Message::system(&config.system_prompt),
        Message::user(crate::suite::task_prompt(task)),
    ];
    let result = context
        .cancel
        .run_until_cancelled(context.client.chat(&seeded_request(config, messages, seed)))
        .await
        .ok_or(Error::Cancelled)?;
    let solve_time_s = started.elapsed().as_secs_f64();
    let solve = Exchange::from_result(&result);
    let scoring_started = Instant::now();
    let report = {
        let (evaluator, task, source) = (evaluator.clone(), task.clone(), source.clone());
        let answer = solve.answer().to_owned();
        off_runtime(&task.task_id.clone(), move || {
            evaluator.evaluate_task_reply(&task, &answer, &source)
        })
        .await?
    };
    let scoring_time_s = scoring_started.elapsed().as_secs_f64();
    let failure_class = failure_of(Some(&solve), &report);
    let solve_tokens = solve.tokens();
    let tokens_per_s = generation_speed(std::iter::once(&solve));
    Ok(ProblemRecord {
        id: task.task_id.clone(),
        sample,
        request_seed: seed,
        title: task.task_id.clone(),
        solve,
        refactor: None,
        report,
        refactor_report: None,
        solve_time_s,
        refactor_time_s: None,
        scoring_time_s,
        total_time_s: started.elapsed().as_secs_f64(),
        solve_tokens,
        refactor_tokens: None,
        tokens_per_s,
        failure_class,
        refactor_failure_class: None,
        finished_at: now(),
    })
}

/// The `seed` a sample's requests carry, so that samples differ from one
/// another and a repeated run asks the same: derived from the run's seed,
/// the problem (or task) and the sample. `None` for a run of one sample, or
/// when `--extra-body` sets its own seed.
fn request_seed(file: &ResultsFile, id: &str, sample: u32) -> Option<u64> {
    if file.config.samples <= 1 || file.config.extra_body.contains_key("seed") {
        return None;
    }
    let purpose = format!("request:{id}:{sample}");
    // The server's seed is a signed 32-bit integer in llama-server.
    Some(fuelbench_eval::derived_seed(file.reproducibility.seed, &purpose) & 0x7fff_ffff)
}

/// Why a request and its scored answer fell short: the request's own
/// failure first, else the report's.
pub(crate) fn failure_of(exchange: Option<&Exchange>, report: &Report) -> Option<ProblemFailure> {
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

/// [`request`], carrying the sample's `seed` when it has one.
fn seeded_request(config: &RunConfig, messages: Vec<Message>, seed: Option<u64>) -> ChatRequest {
    let mut request = request(config, messages);
    if let Some(seed) = seed {
        request.extra.insert("seed".into(), seed.into());
    }
    request
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
    off_runtime(&problem.id, move || {
        evaluator.evaluate_reply(&problem_owned, &answer)
    })
    .await
}

/// Runs `score`, a sandbox evaluation of `problem`'s answer, on a blocking
/// thread.
async fn off_runtime(
    problem: &str,
    score: impl FnOnce() -> fuelbench_eval::Result<Report> + Send + 'static,
) -> Result<Report> {
    let scored = tokio::task::spawn_blocking(score)
        .await
        // A panic in scoring is a bug; it fails this run with what it said
        // rather than take down whoever drives it (and the lock it holds).
        .unwrap_or_else(|panicked| {
            Err(fuelbench_eval::Error::Harness(format!(
                "scoring failed: {panicked}"
            )))
        });
    scored.map_err(|source| Error::Score {
        problem: problem.to_owned(),
        source,
    })
}
