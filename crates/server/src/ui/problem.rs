//! Why a model scored what it scored on one problem
//! (`/results/{name}/problems/{id}`), and the evaluate playground
//! (`/evaluate`), which shows a report the same way.

use axum::Form;
use axum::extract::{Extension, Path, State};
use axum::http::HeaderMap;
use fuelbench_eval::{Answer, CaseOutcome, CaseResult, ComplexityReport, EvalConfig, Report};
use fuelbench_problems::{Case, Expect, Input, Problem};
use maud::{Markup, html};

use super::plot::FuelPlot;
use super::{Page, Session, badge, count, outcome, seconds};
use crate::AppState;
use crate::routes::{find_problem, guard_form};

fn outcome_name(outcome: CaseOutcome) -> String {
    serde_json::to_value(outcome)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
        .replace('_', " ")
}

/// The problem's prompt, folded.
fn prompt(problem: &Problem) -> Markup {
    html! {
        details.prompt {
            summary { "Prompt: " (problem.title) }
            pre { (problem.prompt) }
        }
    }
}

/// A reply with its `<think>` part folded away; all of it escaped.
fn reply(text: &str, reasoning: &str) -> Markup {
    let (thinking, answer) = match (text.find("<think>"), text.find("</think>")) {
        (Some(open), Some(close)) if open < close => (
            Some(&text[open + "<think>".len()..close]),
            format!("{}{}", &text[..open], &text[close + "</think>".len()..]),
        ),
        _ => (None, text.to_owned()),
    };
    html! {
        @if !reasoning.is_empty() {
            details.thinking { summary { "Reasoning (" (reasoning.len()) " characters)" } pre { (reasoning) } }
        }
        @if let Some(thinking) = thinking {
            details.thinking { summary { "Thinking (" (thinking.len()) " characters)" } pre { (thinking) } }
        }
        pre.reply { (answer.trim()) }
    }
}

fn code_block(label: &str, code: Option<&str>) -> Markup {
    html! {
        @match code {
            Some(code) => { h3 { (label) } pre.code.extracted { code { (code) } } },
            None => p.empty { "No code was found in the reply." },
        }
    }
}

/// Each case: failing ones first, with the input and what was expected.
fn cases(problem: &Problem, results: &[CaseResult], numerical: bool) -> Markup {
    let defined: Vec<&Case> = if numerical {
        problem.numerical.iter().collect()
    } else {
        problem.tests().collect()
    };
    let mut ordered: Vec<&CaseResult> = results.iter().collect();
    ordered.sort_by_key(|case| case.outcome == CaseOutcome::Pass);
    html! {
        div.scroll {
            table.cases {
                thead { tr {
                    th scope="col" { "Case" } th scope="col" { "Outcome" } th scope="col" { "Input" }
                    th scope="col" { "Expected" } th scope="col" { "Got / why" } th scope="col" { "Fuel" }
                } }
                tbody {
                    @for case in ordered {
                        @let definition = defined.iter().find(|d| d.name == case.name);
                        tr class=[(case.outcome != CaseOutcome::Pass).then_some("failing")] {
                            th scope="row" { (case.name) }
                            td { @if case.outcome == CaseOutcome::Pass { (badge("pass", "pass")) } @else { (badge("fail", &outcome_name(case.outcome))) } }
                            td { code { @match definition.map(|d| &d.input) {
                                Some(Input::Args(args)) | Some(Input::Calls(args)) => (args),
                                None => "–",
                            } } }
                            td { code { @match definition.map(|d| &d.expect) {
                                Some(Expect::Value(value)) => (value),
                                Some(Expect::Raises(name)) => { "raises " (name) },
                                None => "–",
                            } } }
                            td.detail { @if let Some(detail) = &case.detail { pre { (detail) } } @else { "–" } }
                            td.num { (case.fuel_used.map_or("–".into(), |f| count(f as f64))) }
                        }
                    }
                }
            }
        }
    }
}

/// A report: verdict, cases, the fuel plot, numerical cases.
pub(super) fn report(problem: &Problem, report: &Report) -> Markup {
    html! {
        p { (outcome(report.passed, report.failure_class.map(|f| f.name()))) " "
            (report.tests_passed) " of " (report.tests_total) " tests pass · fuel of the tests " (count(report.fuel_used as f64)) }
        h3 { "Test cases" }
        @if report.cases.is_empty() { p.empty { "No case ran." } } @else { (cases(problem, &report.cases, false)) }
        h3 { "Complexity" }
        @match &report.complexity {
            Some(complexity) => {
                @let fit = complexity.fitted.and_then(|class| complexity.fits.iter().find(|f| f.class == class));
                p { "Fitted " strong { (complexity.fitted.map_or("nothing", |c| c.notation())) }
                    ", expected " strong { (complexity.expected.notation()) } " "
                    @if complexity.matched { (badge("pass", "match")) } @else { (badge("fail", "mismatch")) }
                    @if let Some(slope) = complexity.log_log_slope { " · log-log slope " (format!("{slope:.2}")) } }
                @if let Some(note) = &complexity.note { p.note { (note) } }
                @else if let Some(mismatch) = &complexity.mismatch { p.note { "Mismatch: " (mismatch.to_string()) } }
                @match (FuelPlot { samples: &complexity.samples, fitted: fit, expected: complexity.expected }).svg() {
                    Some(svg) => figure.plot { (maud::PreEscaped(svg)) },
                    None => p.empty { "No size finished: nothing to plot." },
                }
                @if !complexity.reference.is_empty() { (sizes(complexity)) }
            },
            None => p.empty { "Not measured: the tests did not all pass." },
        }
        @if let Some(numerical) = &report.numerical {
            h3 { "Numerical stability: " (numerical.passed) " of " (numerical.total) }
            (cases(problem, &numerical.cases, true))
        }
    }
}

/// Each size's fuel beside the reference's and the budget derived from it.
fn sizes(complexity: &ComplexityReport) -> Markup {
    html! {
        div.scroll.fit {
            table.sizes {
                caption { "Fuel of the call at each size; the budget is "
                    (complexity.budget_factor) "x the reference's cost, or its expected class's growth from the smallest size, whichever is more."
                    @if let Some(probe) = &complexity.probe {
                        " The probe, a size drawn from the secret seed past the fitted ones, may cost " (fuelbench_eval::PROBE_SLACK) "x what the candidate's own cost at n = "
                        (probe.from_n) " predicts there (" (count(probe.predicted)) "); it cost " (format!("{:.2}", probe.over())) "x." } }
                thead { tr {
                    th scope="col" { "n" } th scope="col" { "Fuel" } th scope="col" { "Reference" }
                    th scope="col" { "x reference" } th scope="col" { "Budget" }
                } }
                tbody {
                    @for (index, reference) in complexity.reference.iter().enumerate() {
                        @let own = complexity.samples.iter().find(|sample| sample.n == reference.n);
                        tr class=[own.is_none().then_some("failing")] {
                            th scope="row" { (reference.n) }
                            td.num { (own.map_or("stopped".into(), |own| count(own.cost))) }
                            td.num { (count(reference.cost)) }
                            td.num { (own.map_or("–".into(), |own| format!("{:.1}", own.cost / reference.cost.max(1.0)))) }
                            td.num { (complexity.budgets.get(index).map_or("–".into(), |budget| count(*budget as f64))) }
                        }
                    }
                    @if let Some(probe) = &complexity.probe {
                        tr class=[(probe.over() > fuelbench_eval::PROBE_SLACK).then_some("failing")] {
                            th scope="row" { (probe.n) " (probe)" }
                            td.num { (probe.cost.map_or("over budget".into(), count)) }
                            td.num { (count(probe.reference_cost)) }
                            td.num { (probe.cost.map_or("–".into(), |cost| format!("{:.1}", cost / probe.reference_cost.max(1.0)))) }
                            td.num { (count(probe.budget as f64)) }
                        }
                    }
                }
            }
        }
    }
}

/// The refactor beside the original, line by line.
fn diff(original: &str, refactored: &str) -> Markup {
    let diff = similar::TextDiff::from_lines(original, refactored);
    html! {
        pre.diff {
            @for change in diff.iter_all_changes() {
                @match change.tag() {
                    similar::ChangeTag::Delete => del { "- " (change.value()) },
                    similar::ChangeTag::Insert => ins { "+ " (change.value()) },
                    similar::ChangeTag::Equal => span { "  " (change.value()) },
                }
            }
        }
    }
}

pub(super) async fn record(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
) -> Page {
    let file = match state.inner.store.results(&name).await {
        Ok(file) => file,
        Err(error) => return error.into(),
    };
    let Some(record) = file.problems.iter().find(|record| record.id == id) else {
        return crate::ApiError::not_found(
            "unknown_problem",
            format!("{name} has no record of {id:?}"),
        )
        .into();
    };
    if let Some(suite) = &file.config.suite {
        return suite_record(&state, &name, &file, suite, record);
    }
    let problem = match find_problem(&state, &id) {
        Ok(problem) => problem,
        Err(error) => return error.into(),
    };
    let original = record
        .report
        .extraction
        .as_ref()
        .and_then(|e| e.code.as_deref());
    let refactored = record
        .refactor_report
        .as_ref()
        .and_then(|r| r.extraction.as_ref())
        .and_then(|e| e.code.as_deref());
    let title = format!("{} · {}", problem.id, file.config.model);
    let body = html! {
        p.crumbs { a href="/" { "Leaderboard" } " › " a href={"/results/" (name)} { (file.config.model) " " (file.config.variant()) } " › " (problem.id) }
        h1 { (problem.title) " " small { (file.config.model) } }
        p { (outcome(record.passed(), record.failure_class.map(|f| f.name())))
            " · " (record.total_tokens()) " tokens · " (seconds(record.total_time_s))
            @if let Some(tps) = record.tokens_per_s { " · " (format!("{tps:.1}")) " tok/s" } }
        (prompt(problem))
        section {
            h2 { "The answer" }
            @if let Some(failure) = &record.solve.failure { p.error { "The request failed: " (failure.class.name()) ": " (failure.message) } }
            details { summary { "The model's whole reply" } (reply(&record.solve.completion.content, &record.solve.completion.reasoning)) }
            (code_block("The code that was run", original))
        }
        section {
            h2 { "Verdict" }
            (report(problem, &record.report))
        }
        @if let Some(refactor) = &record.refactor_report {
            section {
                h2 { "Refactor" }
                p { (problem.refactor_request) }
                p { @if record.report.refactor.as_ref().is_some_and(|r| r.stable) { (badge("pass", "stable: both versions pass")) } @else { (badge("fail", "not stable")) }
                    " " (refactor.tests_passed) " of " (refactor.tests_total) " tests pass after it" }
                @match (original, refactored) {
                    (Some(original), Some(refactored)) => (diff(original, refactored)),
                    (_, Some(refactored)) => (code_block("The refactored code", Some(refactored))),
                    _ => p.empty { "No refactored code was found." },
                }
                @if let Some(exchange) = &record.refactor {
                    details { summary { "The model's whole refactor reply" } (reply(&exchange.completion.content, &exchange.completion.reasoning)) }
                }
            }
        }
    };
    Page::new(title, body)
}

/// A public suite's task in one model's run: the task's prompt (when this
/// service has the suite the run answered), the reply, the code that ran and
/// the suite's test's verdict.
fn suite_record(
    state: &AppState,
    name: &str,
    file: &fuelbench_runner::ResultsFile,
    suite: &fuelbench_eval::SuiteSource,
    record: &fuelbench_runner::ProblemRecord,
) -> Page {
    let task = state
        .inner
        .suites
        .iter()
        .find(|loaded| loaded.source.name == suite.name && loaded.source.sha256 == suite.sha256)
        .and_then(|loaded| loaded.task(&record.id));
    let code = record
        .report
        .extraction
        .as_ref()
        .and_then(|e| e.code.as_deref());
    let samples: Vec<_> = file.problems.iter().filter(|r| r.id == record.id).collect();
    let title = format!("{} · {}", record.id, file.config.model);
    let body = html! {
        p.crumbs { a href="/" { "Leaderboard" } " › " a href={"/results/" (name)} { (file.config.model) " " (file.config.variant()) " " (suite.name) } " › " (record.id) }
        h1 { (record.id) " " small { (file.config.model) } }
        p { (outcome(record.passed(), record.failure_class.map(|f| f.name())))
            " · " (record.total_tokens()) " tokens · " (seconds(record.total_time_s))
            @if let Some(tps) = record.tokens_per_s { " · " (format!("{tps:.1}")) " tok/s" }
            @if samples.len() > 1 { " · the first of " (samples.len()) " samples; " (samples.iter().filter(|r| r.passed()).count()) " pass" } }
        @match task {
            Some(task) => details.prompt { summary { "Prompt: " (task.task_id) } pre { (task.prompt) } },
            None => p.empty { "This service has not loaded the suite this run answered (" (suite.origin) ", sha256 " (suite.sha256) "), so its prompt is not shown." },
        }
        section {
            h2 { "The answer" }
            @if let Some(failure) = &record.solve.failure { p.error { "The request failed: " (failure.class.name()) ": " (failure.message) } }
            details { summary { "The model's whole reply" } (reply(&record.solve.completion.content, &record.solve.completion.reasoning)) }
            (code_block("The code found in the reply, run with the task's prompt", code))
        }
        section {
            h2 { "Verdict" }
            p { "The suite's own test, " code { "check(" (task.map_or("the entry point", |t| t.entry_point.as_str())) ")" } ", ran in the sandbox under the suite's fuel." }
            @for case in &record.report.cases {
                @let failed = (case.outcome != CaseOutcome::Pass).then(|| outcome_name(case.outcome));
                p { (outcome(failed.is_none(), failed.as_deref()))
                    @if let Some(detail) = &case.detail { " " code { (detail) } }
                    @if let Some(fuel) = case.fuel_used { " · " (count(fuel as f64)) " fuel" } }
            }
            @if record.report.cases.is_empty() { p.empty { "No code was found in the reply, so nothing ran." } }
        }
    };
    Page::new(title, body)
}

/// What the playground's form sends.
#[derive(Debug, Clone, serde::Deserialize)]
pub(super) struct PlaygroundForm {
    problem: String,
    text: String,
    /// `code` or `reply`.
    #[serde(default)]
    form: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

fn playground_form(
    state: &AppState,
    session: &Session,
    chosen: &str,
    text: &str,
    reply_form: bool,
) -> Markup {
    html! {
        form.playground method="post" action="/evaluate" {
            (session.field())
            label { "Problem "
                select name="problem" {
                    @for problem in state.inner.problems.iter() {
                        option value=(problem.id) selected[problem.id == chosen] { (problem.id) " · " (problem.title) }
                    }
                }
            }
            fieldset {
                legend { "What you paste" }
                label { input type="radio" name="form" value="code" checked[!reply_form]; " code" }
                label { input type="radio" name="form" value="reply" checked[reply_form]; " a whole model reply" }
            }
            label.block { "Code or reply" textarea name="text" rows="14" spellcheck="false" required { (text) } }
            @if state.config().token.is_some() {
                label { "Token " input type="password" name="token" autocomplete="off"; }
            }
            button type="submit" { "Evaluate" }
        }
    }
}

pub(super) async fn playground(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Page {
    let first = state.inner.problems.first().map_or("", |p| p.id.as_str());
    Page::new(
        "Evaluate",
        html! {
            h1 { "Evaluate" }
            p.lead { "Judge any code against a problem, in the same sandbox and with the same report as a run." }
            (playground_form(&state, &session, first, "", false))
        },
    )
}

pub(super) async fn evaluate(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<PlaygroundForm>,
) -> Page {
    if let Err(error) = session
        .check(&form.csrf)
        .and_then(|()| guard_form(&state, &headers, &form.token))
    {
        return error.into();
    }
    let problem = match find_problem(&state, &form.problem) {
        Ok(problem) => problem.clone(),
        Err(error) => return error.into(),
    };
    let is_reply = form.form == "reply";
    let text = form.text.clone();
    if text.trim().is_empty() || text.len() > state.config().max_code_bytes {
        return crate::ApiError::invalid("text", "paste some code, at most the published maximum")
            .into();
    }
    let judged = problem.clone();
    let seed = match EvalConfig::seed_or_fresh(None) {
        Ok(seed) => seed,
        Err(error) => return crate::ApiError::host(error).into(),
    };
    let outcome = state
        .sandboxed(move |evaluator| {
            let answer = if is_reply {
                Answer::Reply(&text)
            } else {
                Answer::Code(&text)
            };
            evaluator
                .with_seed(seed)
                .evaluate_answer(&judged, answer, None)
        })
        .await;
    let report_view = match outcome {
        Ok(Ok(judged_report)) => {
            state.inner.metrics.evaluated(judged_report.passed);
            report(&problem, &judged_report)
        }
        Ok(Err(error)) => return crate::ApiError::from(error).into(),
        Err(error) => return error.into(),
    };
    Page::new(
        "Evaluate",
        html! {
            h1 { "Evaluate" }
            (playground_form(&state, &session, &problem.id, &form.text, is_reply))
            section.result { h2 { "Report: " (problem.id) } (report_view) }
        },
    )
}
