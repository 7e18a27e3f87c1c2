//! Two runs side by side (`/compare?a=&b=`), and one problem's two answers
//! (`/compare/problem?a=&b=&id=`).

use axum::extract::{Query, State};
use fuelbench_runner::leaderboard;
use fuelbench_runner::{ProblemRecord, ResultsFile};
use maud::{Markup, html};

use super::{Page, count, outcome, query, seconds};
use crate::AppState;

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(super) struct CompareQuery {
    #[serde(default)]
    a: String,
    #[serde(default)]
    b: String,
    #[serde(default)]
    id: String,
}

/// Two selects over the store's results files.
async fn chooser(state: &AppState, a: &str, b: &str) -> Markup {
    let names = state.inner.store.names().await.unwrap_or_default();
    html! {
        form.filters method="get" action="/compare" {
            @for (field, chosen) in [("a", a), ("b", b)] {
                label { (field.to_uppercase()) " "
                    select name=(field) {
                        @for name in &names { option value=(name) selected[name == chosen] { (name) } }
                    }
                }
            }
            button type="submit" { "Compare" }
        }
    }
}

fn label(file: &ResultsFile) -> String {
    format!("{} {}", file.config.model, file.config.variant())
}

fn side(record: Option<&ProblemRecord>) -> Markup {
    match record {
        Some(record) => {
            html! { (outcome(record.passed(), record.failure_class.map(|f| f.name()))) }
        }
        None => html! { span.badge.muted { "not run" } },
    }
}

pub(super) async fn compare(State(state): State<AppState>, Query(q): Query<CompareQuery>) -> Page {
    let chooser = chooser(&state, &q.a, &q.b).await;
    if q.a.is_empty() || q.b.is_empty() {
        return Page::new(
            "Compare",
            html! {
                h1 { "Compare two runs" }
                p.lead { "Pick two results files: the problems where they disagree, and fuel only where both pass." }
                (chooser)
            },
        );
    }
    let store = &state.inner.store;
    let (a, b) = match (store.results(&q.a).await, store.results(&q.b).await) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(error), _) | (_, Err(error)) => return error.into(),
    };
    if let Some(why) = leaderboard::suites_differ(&a, &b) {
        return Page::new(
            "Compare",
            html! { h1 { "Compare" } (chooser) p.error { "These two runs cannot be compared: " (why) "." } },
        );
    }
    let comparison = leaderboard::compare(&a, &b);
    let agreement = comparison.agreement;
    let mut ids: Vec<&String> = a.config.problems.iter().collect();
    for id in &b.config.problems {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let pct = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:+.1}%"));
    let body = html! {
        h1 { "Compare" }
        (chooser)
        dl.scores {
            div { dt { "A" } dd { (label(&a)) } }
            div { dt { "B" } dd { (label(&b)) } }
            div { dt { "pass@1 B−A" } dd { (format!("{:+.2}", comparison.pass_at_1_delta)) } }
            div { dt { "overall B−A" } dd { (format!("{:+.3}", comparison.score_delta)) } }
            div { dt { "tokens" } dd { (pct(comparison.token_delta_pct)) } }
            div { dt { "tok/s" } dd { (pct(comparison.tps_delta_pct)) } }
            div { dt { "fuel B/A" } dd { (comparison.fuel_ratio_geomean.map_or("–".into(), |r| format!("{r:.2}×"))) } }
        }
        @let test = &comparison.test;
        p.verdict class=(if test.significant { "significant" } else { "not-significant" }) {
            @if test.significant { (super::badge("pass", "significant")) } @else { (super::badge("muted", "not significant")) }
            " " (test.sentence) "."
            small { " (" (test.method.replace('_', " ")) " test on " (test.problems) " paired problems)" }
        }
        h2 { "Agreement" }
        table.agreement {
            thead { tr { th {} th scope="col" { "B passes" } th scope="col" { "B fails" } } }
            tbody {
                tr { th scope="row" { "A passes" } td.num { (agreement.both_pass) } td.num { (agreement.only_a_passes) } }
                tr { th scope="row" { "A fails" } td.num { (agreement.only_b_passes) } td.num { (agreement.both_fail) } }
            }
        }
        @if agreement.unpaired > 0 { p.note { (agreement.unpaired) " problem(s) were run by only one of them." } }
        h2 { "Problem by problem" }
        div.scroll {
            table.grid {
                thead { tr {
                    th scope="col" { "Problem" } th scope="col" { "A" } th scope="col" { "B" }
                    th scope="col" { "Tokens A / B" } th scope="col" { "Time A / B" } th scope="col" { "Fuel B/A" }
                } }
                tbody {
                    @for id in ids {
                        @let (left, right) = (a.problems.iter().find(|r| &r.id == id), b.problems.iter().find(|r| &r.id == id));
                        @let ratio = comparison.fuel.iter().find(|f| &f.id == id);
                        tr {
                            th scope="row" { a href={"/compare/problem?" (query(&[("a", &q.a), ("b", &q.b), ("id", id)]))} { (id) } }
                            td { (side(left)) }
                            td { (side(right)) }
                            td.num { (left.map_or("–".into(), |r| r.total_tokens().to_string())) " / " (right.map_or("–".into(), |r| r.total_tokens().to_string())) }
                            td.num { (left.map_or("–".into(), |r| seconds(r.total_time_s))) " / " (right.map_or("–".into(), |r| seconds(r.total_time_s))) }
                            td.num title="only where both pass" {
                                @match ratio.and_then(|f| f.largest_n_ratio.or(f.tests_ratio)) {
                                    Some(r) => (format!("{r:.2}×")),
                                    None => "–",
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Page::new("Compare", body)
}

/// Both answers to one problem, side by side.
pub(super) async fn problem(State(state): State<AppState>, Query(q): Query<CompareQuery>) -> Page {
    let store = &state.inner.store;
    let (a, b) = match (store.results(&q.a).await, store.results(&q.b).await) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(error), _) | (_, Err(error)) => return error.into(),
    };
    let column = |file: &ResultsFile| {
        let record = file.problems.iter().find(|r| r.id == q.id);
        html! {
            div.column {
                h2 { (label(file)) }
                (side(record))
                @if let Some(record) = record {
                    p { (record.total_tokens()) " tokens · " (seconds(record.total_time_s)) " · fuel " (count(record.report.fuel_used as f64)) }
                    @match record.report.extraction.as_ref().and_then(|e| e.code.as_deref()) {
                        Some(code) => pre.code.extracted { code { (code) } },
                        None => p.empty { "No code." },
                    }
                }
            }
        }
    };
    let body = html! {
        p.crumbs { a href={"/compare?" (query(&[("a", &q.a), ("b", &q.b)]))} { "Compare" } " › " (q.id) }
        h1 { (q.id) }
        div.columns { (column(&a)) (column(&b)) }
    };
    Page::new(format!("{} compared", q.id), body)
}
