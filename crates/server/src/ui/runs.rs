//! Runs in the browser: the list (`/runs`), a new run (`/runs/new`), and a
//! run watched live (`/runs/{id}`). The page is whole when it arrives, from
//! the run's state; `web/live.js` then follows the event stream from the
//! state's last event, so a page opened late or reloaded shows the right
//! state at once, and any number of tabs can watch.

use axum::Form;
use axum::extract::{Extension, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use fuelbench_llm::ModelStep;
use fuelbench_runner::Think;
use maud::{Markup, html};

use super::{Page, Session, badge, count, outcome, seconds};
use crate::routes::{endpoint_models, guard_form};
use crate::{ApiError, AppState};
use fuelbench_runner::jobs::{Outcome, RunState, RunStatus, StartRun};

/// A run's state, and its place in its server's queue while it waits.
fn run_badge(run: &RunStatus) -> Markup {
    match run.queue_position {
        Some(ahead) if run.state == RunState::Queued && ahead > 0 => html! {
            (state_badge(run.state)) " " span.muted { "(" (ahead) " ahead)" }
        },
        _ => state_badge(run.state),
    }
}

fn state_badge(state: RunState) -> Markup {
    let (kind, text) = match state {
        RunState::Queued => ("muted", "queued"),
        RunState::Running => ("info", "running"),
        RunState::Cancelling => ("warn", "cancelling"),
        RunState::Finished => ("pass", "finished"),
        RunState::Failed => ("fail", "failed"),
        RunState::Cancelled => ("warn", "cancelled"),
    };
    badge(kind, text)
}

/// A model step as a person reads it.
pub(crate) fn step_text(model: &str, step: &ModelStep) -> String {
    let gib = |bytes: u64| format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30));
    match step {
        ModelStep::NotListed { available } => {
            format!(
                "{model} is not listed; the server offers {}",
                available.join(", ")
            )
        }
        ModelStep::Unloading { model } => format!("unloading {model}"),
        ModelStep::MemorySettled {
            mem_available_bytes,
        } => format!("memory settled: {} available", gib(*mem_available_bytes)),
        ModelStep::Loading => format!("loading {model}"),
        ModelStep::Ready { waited_s } => format!("{model} is ready (after {})", seconds(*waited_s)),
        ModelStep::NoLongerLoaded => format!("{model} is no longer loaded"),
        ModelStep::MemoryBack {
            mem_available_bytes,
            before_bytes,
        } => format!(
            "memory back: {} available ({} before loading)",
            gib(*mem_available_bytes),
            gib(*before_bytes)
        ),
    }
}

pub(super) async fn list(State(state): State<AppState>) -> Page {
    let runs = match state
        .blocking(|state| state.inner.jobs.list())
        .await
        .and_then(|runs| Ok(runs?))
    {
        Ok(runs) => runs,
        Err(error) => return error.into(),
    };
    let body = html! {
        h1 { "Runs" }
        p { a.button href="/runs/new" { "Start a run" } }
        @if runs.is_empty() {
            p.empty { "No run has been started from this server yet." }
        } @else {
            div.scroll {
                table.grid {
                    thead { tr {
                        th scope="col" { "Run" } th scope="col" { "State" } th scope="col" { "Models" }
                        th scope="col" { "Variants" } th scope="col" { "Progress" } th scope="col" { "Started" }
                    } }
                    tbody {
                        @for run in &runs {
                            tr {
                                th scope="row" { a href={"/runs/" (run.id)} { (run.id) } }
                                td { (run_badge(run)) }
                                td { (run.models.join(", ")) }
                                td { (run.variants.join(", ")) }
                                td.num { (run.progress.problems_done) " / " (run.progress.problems_total) }
                                td { (run.created_at) }
                            }
                        }
                    }
                }
            }
        }
    };
    Page::new("Runs", body)
}

fn new_form(
    state: &AppState,
    session: &Session,
    endpoints: &[serde_json::Value],
    error: Option<&str>,
) -> Markup {
    html! {
        h1 { "Start a run" }
        @if let Some(error) = error { p.error role="alert" { (error) } }
        @if endpoints.is_empty() {
            p.empty { "This server has no model server to run against. Start it with " code { "--endpoint URL" } "." }
        } @else {
            form.run method="post" action="/runs/new" {
                (session.field())
                @for (index, endpoint) in endpoints.iter().enumerate() {
                    fieldset {
                        @let url = endpoint["url"].as_str().unwrap_or("");
                        legend {
                            label { input type="radio" name="endpoint" value=(url) checked[index == 0]; " " (url) }
                            @if let Some(kind) = endpoint["kind"].as_str() { " " small { (kind) } }
                        }
                        @match endpoint["models"].as_array() {
                            Some(models) => {
                                @for model in models {
                                    @let name = model.as_str().unwrap_or("");
                                    label.choice { input type="checkbox" name="model" value=(name); " " (name) }
                                }
                            },
                            None => p.error { (endpoint["error"].as_str().unwrap_or("it did not list its models")) },
                        }
                    }
                }
                fieldset {
                    legend { "Thinking (each is a variant)" }
                    @for (value, text) in [("default", "the model's default"), ("on", "on"), ("off", "off")] {
                        label.choice { input type="checkbox" name="think" value=(value) checked[value == "default"]; " " (text) }
                    }
                }
                fieldset {
                    legend { "Suites (each into results files of its own)" }
                    label.choice { input type="checkbox" name="suite" value="ours" checked; " our problems" }
                    @for suite in &state.inner.suites {
                        label.choice { input type="checkbox" name="suite" value=(suite.source.name); " " (suite.source.name) " (" (suite.tasks.len()) " tasks, " (suite.source.origin) ")" }
                    }
                }
                fieldset {
                    legend { "Problems" }
                    @for problem in state.inner.problems.iter() {
                        label.choice { input type="checkbox" name="problem" value=(problem.id) checked; " " (problem.id) }
                    }
                }
                fieldset {
                    legend { "Options" }
                    label.choice { input type="checkbox" name="refactor" value="on" checked; " ask for a refactor" }
                    label.choice { input type="checkbox" name="resume" value="on"; " continue results already in the store" }
                    label { "Max tokens " input type="number" name="max_tokens" value="8192" min="1"; }
                    label { "Samples per problem " input type="number" name="samples" value="1" min="1" max="100"; }
                    label { "Temperature " input type="number" name="temperature" value="0" min="0" max="2" step="0.05"; }
                    label { "Seed " input type="text" name="seed" inputmode="numeric" placeholder="fresh" autocomplete="off"; }
                    @if state.config().token.is_some() {
                        label { "Token " input type="password" name="token" autocomplete="off"; }
                    }
                }
                button type="submit" { "Start" }
            }
        }
    }
}

pub(super) async fn new(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Page {
    let endpoints = endpoint_models(&state).await;
    Page::new("Start a run", new_form(&state, &session, &endpoints, None))
}

/// A form's number field: nothing when left empty, refused when not a
/// number; its range is the run's plan to check.
fn optional_number<T: std::str::FromStr>(
    text: &str,
    field: &'static str,
    what: &str,
) -> Result<Option<T>, ApiError> {
    match text.trim() {
        "" => Ok(None),
        text => text
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(field, format!("{text:?} is not {what}"))),
    }
}

/// The form, as the pairs it sends: checkboxes repeat their name.
pub(super) async fn start(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let values = |key: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let one = |key: &str| values(key).into_iter().next().unwrap_or_default();
    let refused = |state: &AppState, endpoints, error: ApiError| {
        let mut page = Page::new(
            "Start a run",
            new_form(state, &session, endpoints, Some(&error.message)),
        );
        page.status = error.status;
        page.into_response()
    };
    if let Err(error) = session
        .check(&one("csrf"))
        .and_then(|()| guard_form(&state, &headers, &one("token")))
    {
        return Page::from(error).into_response();
    }
    let think: Result<Vec<Think>, ApiError> = values("think")
        .iter()
        .map(|value| match value.as_str() {
            "default" => Ok(Think::Default),
            "on" => Ok(Think::On),
            "off" => Ok(Think::Off),
            other => Err(ApiError::invalid(
                "think",
                format!("no thinking mode {other:?}"),
            )),
        })
        .collect();
    let max_tokens = one("max_tokens").trim().parse::<u32>().ok();
    // Empty for a fresh seed; an earlier run's, to repeat its tests.
    let seed = match one("seed").trim() {
        "" => Ok(None),
        text => text.parse::<u64>().map(Some).map_err(|_| {
            ApiError::invalid(
                "seed",
                format!("{text:?} is not a seed: a whole number from 0 to 18446744073709551615, or nothing for a fresh one"),
            )
        }),
    };
    let samples = optional_number(
        &one("samples"),
        "samples",
        "a number of samples from 1 to 100",
    );
    let temperature = optional_number(&one("temperature"), "temperature", "a temperature, 0 to 2");
    let request = think
        .and_then(|think| Ok((think, seed?, samples?, temperature?)))
        .map(|(think, seed, samples, temperature)| StartRun {
            endpoint: Some(one("endpoint")).filter(|e| !e.is_empty()),
            models: values("model"),
            think,
            grammars: Vec::new(),
            without_grammar: true,
            problems: values("problem"),
            refactor: one("refactor") == "on",
            max_tokens,
            temperature,
            extra_body: None,
            resume: one("resume") == "on",
            server_kind: None,
            seed,
            samples,
            suites: values("suite"),
            suite_limit: None,
        });
    let checked = request.and_then(|request| {
        if request.models.is_empty() {
            return Err(ApiError::invalid("models", "choose at least one model"));
        }
        if request.suites.is_empty() {
            return Err(ApiError::invalid("suites", "choose at least one suite"));
        }
        if request.suites.iter().any(|suite| suite == "ours") && request.problems.is_empty() {
            return Err(ApiError::invalid("problems", "choose at least one problem"));
        }
        Ok(request)
    });
    let started = match checked {
        Ok(request) => state
            .blocking(move |state| {
                state.inner.jobs.start(
                    request,
                    &state.inner.evaluator,
                    &state.inner.problems,
                    &state.inner.suites,
                )
            })
            .await
            .and_then(|started| Ok(started?)),
        Err(error) => Err(error),
    };
    match started {
        Ok(status) => Redirect::to(&format!("/runs/{}", status.id)).into_response(),
        Err(error) => refused(&state, &endpoint_models(&state).await, error),
    }
}

fn outcome_row(done: &Outcome) -> Markup {
    let o = &done.outcome;
    html! {
        tr {
            th scope="row" { (o.problem) " " small { (o.title) } }
            td { (done.model) " " small { (done.variant) } }
            td { (outcome(o.passed, o.failure_class.map(|f| f.name()))) }
            td { @match &o.complexity {
                Some(c) => { (c.fitted.map_or("–", |f| f.notation())) " / " (c.expected.notation()) },
                None => "–",
            } }
            td.num { (o.tokens) }
            td.num { (o.tokens_per_s.map_or("–".into(), |t| format!("{t:.1}"))) }
            td.num { (count(o.fuel_used as f64)) }
            td.num { (seconds(o.total_time_s)) }
        }
    }
}

/// The live part of a run's page: everything `live.js` redraws.
fn run_view(run: &RunStatus) -> Markup {
    html! {
        div #run-state data-run=(run.id) data-last-event=(run.last_event) data-over=(run.state.is_over())
            data-per-model=(run.variants.len() * run.problems.len()) {
            p {
                span #state { (run_badge(run)) }
                " against " code { (run.endpoint) }
                @if let Some(error) = &run.error { span.error { " · " (error) } }
            }
            p.progress {
                progress #progress value=(run.progress.problems_done) max=(run.progress.problems_total.max(1)) {}
                " " span #progress-text { (run.progress.problems_done) " of " (run.progress.problems_total) " problems" }
            }
            p #now {
                @if let (Some(model), Some(step)) = (&run.progress.model, &run.progress.model_step) { (step_text(model, step)) }
                @if let Some(problem) = &run.progress.problem { " · asking " strong { (problem) } }
            }
            @for skipped in &run.skipped { p.error { "Skipped " (skipped.model) ": " (skipped.error) } }
            @for warning in &run.warnings { p.note { (warning) } }
        }
    }
}

pub(super) async fn watch(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Page {
    let run = match state
        .blocking(move |state| state.inner.jobs.get(&id))
        .await
        .and_then(|run| Ok(run?))
    {
        Ok(run) => run,
        Err(error) => return error.into(),
    };
    let body = html! {
        p.crumbs { a href="/runs" { "Runs" } " › " (run.id) }
        h1 { "Run " small { (run.id) } }
        p { (run.models.join(", ")) " · " (run.variants.join(", ")) " · " (run.problems.len()) " problems" }
        (run_view(&run))
        div.actions {
            @if !run.state.is_over() {
                form method="post" action={"/runs/" (run.id) "/cancel"} {
                    (session.field())
                    @if state.config().token.is_some() { input type="password" name="token" placeholder="token" autocomplete="off"; }
                    button #cancel type="submit" { "Cancel" }
                }
            }
            @if matches!(run.state, RunState::Cancelled | RunState::Failed) {
                form method="post" action={"/runs/" (run.id) "/resume"} {
                    (session.field())
                    @if state.config().token.is_some() { input type="password" name="token" placeholder="token" autocomplete="off"; }
                    button #resume type="submit" { "Resume" }
                }
            }
        }
        h2 { "Problems done" }
        div.scroll {
            table.grid #outcomes {
                thead { tr {
                    th scope="col" { "Problem" } th scope="col" { "Model" } th scope="col" { "Verdict" } th scope="col" { "Complexity" }
                    th scope="col" { "Tokens" } th scope="col" { "tok/s" } th scope="col" { "Fuel" } th scope="col" { "Time" }
                } }
                tbody { @for done in &run.outcomes { (outcome_row(done)) } }
            }
        }
        @if !run.files.is_empty() {
            h2 { "Results" }
            ul { @for file in &run.files { li { a href={"/results/" (file)} { (file) } } } }
        }
    };
    Page {
        scripts: &["/assets/live.js"],
        ..Page::new(format!("Run {}", run.id), body)
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    run_button(&state, &session, &headers, &form, move |state| {
        match state.inner.jobs.cancel(&id) {
            // Already over: its page says so.
            Ok(_) | Err(fuelbench_runner::Error::Conflict { .. }) => Ok(id.clone()),
            Err(error) => Err(error.into()),
        }
    })
    .await
}

pub(super) async fn resume(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    run_button(&state, &session, &headers, &form, move |state| {
        state
            .inner
            .jobs
            .resume(
                &id,
                &state.inner.evaluator,
                &state.inner.problems,
                &state.inner.suites,
            )
            .map(|status| status.id)
            .map_err(ApiError::from)
    })
    .await
}

/// A run button's form: checked like any request that starts or stops
/// something, then on to the page of the run `action` names. The action
/// reads the store, so it runs off the async workers.
async fn run_button(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    form: &TokenForm,
    action: impl FnOnce(&AppState) -> Result<String, ApiError> + Send + 'static,
) -> Response {
    let checked = session
        .check(&form.csrf)
        .and_then(|()| guard_form(state, headers, &form.token));
    let acted = match checked {
        Ok(()) => state.blocking(action).await.and_then(|acted| acted),
        Err(error) => Err(error),
    };
    match acted {
        Ok(run) => Redirect::to(&format!("/runs/{run}")).into_response(),
        Err(error) => Page::from(error).into_response(),
    }
}
