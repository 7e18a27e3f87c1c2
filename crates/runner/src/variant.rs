//! One model in one variant: every problem asked, refactored and scored,
//! the results file rewritten after each.

use std::path::Path;
use std::time::Instant;

use fuelbench_llm::{ChatRequest, Message};
use fuelbench_problems::Problem;

use fuelbench_eval::{Evaluator, RefactorReport, Report};

use crate::{
    Error, EventSink, Exchange, ProblemFailure, ProblemOutcome, ProblemRecord, Result, ResultsFile,
    RunConfig, RunContext, RunEvent, Think, config_changes, now, reproducibility_changes,
};

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
        ResultsFile::new(config, evaluator.reproducibility())
    };
    if server.is_some() {
        file.server = server;
    }
    file.refresh();
    file.write_atomic(path)?;
    events(RunEvent::variant_started(path, &file));

    let total = file.config.planned().count();
    let todo: Vec<(&Problem, u32)> = file
        .config
        .planned()
        .filter(|(id, sample)| file.record(id, *sample).is_none())
        .map(|(id, sample)| {
            let problem = problems
                .iter()
                .find(|problem| problem.id == id)
                .ok_or_else(|| Error::UnknownProblem {
                    id: id.to_owned(),
                    path: path.to_owned(),
                })?;
            Ok((problem, sample))
        })
        .collect::<Result<_>>()?;
    let (model, variant) = (file.config.model.clone(), file.config.variant());
    for (problem, sample) in todo {
        if context.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        events(RunEvent::ProblemStarted {
            model: model.clone(),
            variant: variant.clone(),
            problem: problem.id.clone(),
            sample,
            title: problem.title.clone(),
            index: file.problems.len(),
            total,
        });
        let seed = request_seed(&file, problem, sample);
        let record =
            solve_problem(context, &evaluator, &file.config, problem, sample, seed).await?;
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
        summary: file.summary.clone().map(Box::new),
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
    sample: u32,
    seed: Option<u64>,
) -> Result<ProblemRecord> {
    let started = Instant::now();
    let request = |messages| {
        let mut request = request(config, messages);
        if let Some(seed) = seed {
            request.extra.insert("seed".into(), seed.into());
        }
        request
    };
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

/// The `seed` a sample's requests carry, so that samples differ from one
/// another and a repeated run asks the same: derived from the run's seed,
/// the problem and the sample. `None` for a run of one sample, or when
/// `--extra-body` sets its own seed.
fn request_seed(file: &ResultsFile, problem: &Problem, sample: u32) -> Option<u64> {
    if file.config.samples <= 1 || file.config.extra_body.contains_key("seed") {
        return None;
    }
    let purpose = format!("request:{}:{sample}", problem.id);
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
