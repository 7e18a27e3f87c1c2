//! The leaderboard (`/`) and one model and variant's grid of problems
//! (`/results/{name}`).

use axum::extract::{Path, Query, State};
use maud::{Markup, html};

use fuelbench_eval::score::THRESHOLDS as LIMITS;

use super::{
    Page, THRESHOLDS, badge, count, encoded, file_name, outcome, query, seconds, verdict_badge,
    with_interval,
};
use crate::AppState;
use fuelbench_runner::leaderboard::BoardRow;
use fuelbench_runner::{Verification, VerificationState};

use crate::routes::{BoardQuery, non_empty, select_rows};

/// The columns a person can sort by: label, row field, and whether the
/// best comes first when sorted descending.
const COLUMNS: [(&str, &str); 16] = [
    ("Model", "model"),
    ("Quant", "quant"),
    ("Think", "think"),
    ("Grammar", "grammar"),
    ("pass@1", "pass_at_1"),
    ("Complexity", "complexity"),
    ("Numerical", "numerical"),
    ("Refactor", "refactor"),
    ("Overall", "overall"),
    ("Verdict", "go"),
    ("Tokens", "avg_tokens"),
    ("tok/s", "tokens_per_s"),
    ("Wall", "wall_time_s"),
    ("Serving tok/s", "serving.output_tokens_per_s"),
    ("TTFT p50", "serving.ttft_p50_ms"),
    ("Date", "updated_at"),
];

/// Where in [`COLUMNS`] the suites' columns go: after the verdict.
const AFTER_VERDICT: usize = 10;

pub(super) async fn leaderboard(
    State(state): State<AppState>,
    Query(board): Query<BoardQuery>,
) -> Page {
    let (rows, notes) = match select_rows(&state, &board).await {
        Ok(selected) => selected,
        Err(error) => return error.into(),
    };
    let filters = |sort: &str, order: &str| {
        query(&[
            ("model", non_empty(&board.model).unwrap_or("")),
            ("think", non_empty(&board.think).unwrap_or("")),
            ("grammar", non_empty(&board.grammar).unwrap_or("")),
            ("verdict", non_empty(&board.verdict).unwrap_or("")),
            ("verification", non_empty(&board.verification).unwrap_or("")),
            ("provenance", non_empty(&board.provenance).unwrap_or("")),
            ("sort", sort),
            ("order", order),
        ])
    };
    let sorted = non_empty(&board.sort);
    let ascending = non_empty(&board.order) == Some("asc");
    // A column per public suite any row answered.
    let mut suites: Vec<String> = Vec::new();
    for column in rows.iter().flat_map(|row| &row.row.suites) {
        if !suites.contains(&column.suite) {
            suites.push(column.suite.clone());
        }
    }
    let body = html! {
        h1 { "Leaderboard" }
        p.lead { "One row per model and variant in the results store, best first. Follow a model to see every problem it was asked. Each score shows its 95% interval as a bar on a 0 to 1 scale, with its threshold as a tick." }
        form.filters method="get" action="/" {
            label { "Model " input type="search" name="model" value=(non_empty(&board.model).unwrap_or("")) placeholder="any"; }
            label { "Think "
                select name="think" {
                    @for (value, text) in [("", "any"), ("default", "default"), ("on", "on"), ("off", "off")] {
                        option value=(value) selected[non_empty(&board.think).unwrap_or("") == value] { (text) }
                    }
                }
            }
            label { "Grammar " input type="text" name="grammar" value=(non_empty(&board.grammar).unwrap_or("")) placeholder="any" size="8"; }
            label { "Verdict "
                select name="verdict" {
                    @for (value, text) in [("", "any"), ("go", "GO"), ("no_go", "NO-GO"), ("undecided", "undecided")] {
                        option value=(value) selected[non_empty(&board.verdict).unwrap_or("") == value] { (text) }
                    }
                }
            }
            @if state.config().verify {
                label title="what scoring each row's results file again on this service found" { "Verified "
                    select name="verification" {
                        @for (value, text) in [("", "any"), ("verified", "verified"), ("differs", "differs"), ("unverifiable", "unverifiable"), ("pending", "pending")] {
                            option value=(value) selected[non_empty(&board.verification).unwrap_or("") == value] { (text) }
                        }
                    }
                }
            }
            label title="the host that ran it, or the model server's URL, build or binary hash" { "From " input type="search" name="provenance" value=(non_empty(&board.provenance).unwrap_or("")) placeholder="any" size="12"; }
            @if let Some(sort) = sorted { input type="hidden" name="sort" value=(sort); }
            @if let Some(order) = non_empty(&board.order) { input type="hidden" name="order" value=(order); }
            button type="submit" { "Filter" }
            a.export href={"/api/v1/leaderboard?" (filters(sorted.unwrap_or(""), non_empty(&board.order).unwrap_or("")) ) "&format=csv"} { "CSV" }
            a.export href={"/api/v1/leaderboard?" (filters(sorted.unwrap_or(""), non_empty(&board.order).unwrap_or(""))) } { "JSON" }
        }
        @if rows.is_empty() {
            p.empty { "No results yet. Start a run from " a href="/runs/new" { "Runs" } ", or point " code { "--results" } " at the folder " code { "fuelbench run --out" } " wrote." }
        } @else {
            div.scroll {
                table.board {
                    thead { tr {
                        @for (index, (label, key)) in COLUMNS.into_iter().enumerate() {
                            // Each suite's column follows the verdict, where a person looking at
                            // the scores sees it without scrolling.
                            @if index == AFTER_VERDICT {
                                @for suite in &suites {
                                    th scope="col" title="pass@1 on the public suite, answered through the same runner. Its tests are Python run beside the answer, so an answer that rewrites a module the test uses can pass (README: Suites whose tests are code)" { (suite_label(suite)) " pass@1" }
                                }
                            }
                            @let (next, mark, aria) = match (sorted == Some(key), ascending) {
                                (true, false) => ("asc", " ▼", "descending"),
                                (true, true) => ("desc", " ▲", "ascending"),
                                (false, _) => ("desc", "", "none"),
                            };
                            th scope="col" aria-sort=(aria) title=[(key == "go").then_some(THRESHOLDS)] {
                                a href={"/?" (filters(key, next))} { (label) (mark) }
                            }
                        }
                        th scope="col" { "Failures" }
                    } }
                    tbody {
                        @for row in &rows { (board_row(row, &suites)) }
                    }
                }
            }
        }
        @for note in &notes { p.note { (note) } }
    };
    Page::new("Leaderboard", body)
}

/// The first `chars` characters of `text`: what a results file says may be
/// any text, and slicing it by bytes could split a character.
fn prefix(text: &str, chars: usize) -> &str {
    text.char_indices()
        .nth(chars)
        .map_or(text, |(end, _)| &text[..end])
}

/// What scoring a row's file again on this service found, as a mark whose
/// title says what was checked or what differs.
fn verification_mark(verification: &Verification) -> Markup {
    let reasons = verification.reasons.join("\n");
    let (class, text) = match verification.state {
        VerificationState::Verified => ("verified", "✓ verified".to_owned()),
        VerificationState::Differs if verification.problems.is_empty() => {
            ("differs", "≠ differs: its scores".to_owned())
        }
        VerificationState::Differs => (
            "differs",
            format!("≠ differs: {}", verification.problems.join(", ")),
        ),
        VerificationState::Unverifiable => ("unverifiable", "unverifiable".to_owned()),
        VerificationState::Pending => ("pending", "checking…".to_owned()),
    };
    html! { small class={"check " (class)} title=(reasons) { (text) } }
}

/// `HumanEval` for `humaneval`; other names as they are.
fn suite_label(name: &str) -> &str {
    match name {
        fuelbench_runner::suite::HUMANEVAL => "HumanEval",
        other => other,
    }
}

fn board_row(flagged: &BoardRow, suites: &[String]) -> Markup {
    let row = &flagged.row;
    let name = file_name(&row.source);
    let versions = format!(
        "fuelbench {} · wasmtime {} · interpreter {}",
        row.fuelbench_version.as_deref().unwrap_or("?"),
        row.wasmtime_version.as_deref().unwrap_or("?"),
        row.python_wasm_sha256
            .as_deref()
            .map_or("?", |h| prefix(h, 12)),
    );
    html! {
        tr class=[(!flagged.comparable).then_some("flagged")] {
            th scope="row" {
                @if row.problem_set_sha256.is_some() {
                    a href={"/results/" (name)} { (row.model) }
                } @else { (row.model) }
                @if let Some(suite) = &row.suite {
                    " " small.suite title="this model and variant answered only the public suite: its scores are the suite's" { (suite_label(suite)) " only" }
                }
                @if !flagged.comparable {
                    span.flag title=(flagged.differences.join("; ")) { " ⚑ " (flagged.differences.join("; ")) }
                }
                @if let Some(verification) = &flagged.verification { " " (verification_mark(verification)) }
                @let provenance = row.provenance();
                @if !provenance.is_empty() {
                    small.provenance title="where it came from: the host that ran it, the model server, its build and binary" { (provenance.join(" · ")) }
                }
            }
            td { (row.quant.as_deref().unwrap_or("–")) }
            td { (row.think) }
            td { (row.grammar) }
            @let intervals = row.intervals.as_ref();
            td.num { (with_interval(Some(row.pass_at_1), intervals.map(|i| &i.pass_at_1), Some(LIMITS.pass_at_1), 2)) }
            td.num { (with_interval(row.complexity, intervals.and_then(|i| i.complexity.as_ref()), Some(LIMITS.complexity), 2)) }
            td.num { (with_interval(row.numerical, intervals.and_then(|i| i.numerical.as_ref()), Some(LIMITS.numerical), 2)) }
            td.num { (with_interval(row.refactor, intervals.and_then(|i| i.refactor.as_ref()), Some(LIMITS.refactor), 2)) }
            td.num {
                strong { (with_interval(Some(row.overall), intervals.map(|i| &i.overall), Some(LIMITS.overall), 3)) }
                @if row.tied_with_above {
                    " " small.tied title="its overall interval overlaps that of its rank's first row: nothing says they differ" { "tied " (row.rank_label()) }
                }
            }
            td title=(THRESHOLDS) {
                @match (row.verdict, row.go) {
                    (Some(verdict), _) => (verdict_badge(verdict)),
                    (None, Some(true)) => (badge("pass", "GO")),
                    (None, Some(false)) => (badge("fail", "NO-GO")),
                    (None, None) => "–",
                }
            }
            @for suite in suites {
                @match row.suites.iter().find(|column| &column.suite == suite) {
                    Some(column) => td.num {
                        a href={"/results/" (file_name(&column.source))} {
                            (with_interval(Some(column.pass_at_1), column.interval.as_ref(), Some(LIMITS.pass_at_1), 2))
                        }
                        " " small { (column.progress) }
                        @if !column.differences.is_empty() {
                            span.flag title=(column.differences.join("; ")) { " ⚑" }
                        }
                    },
                    None => td.num { "–" },
                }
            }
            td.num { (row.avg_tokens.map_or("–".into(), |t| format!("{t:.0}"))) }
            td.num { (row.tokens_per_s.map_or("–".into(), |t| format!("{t:.1}"))) }
            td.num { (row.wall_time_s.map_or("–".into(), seconds)) }
            @match &row.serving {
                Some(serving) => {
                    @let title = format!(
                        "fuelbench perf load on the same server build and model: {}, {} requests ({} failed), TPOT p50 {:.1} ms, {:.2} req/s, {}",
                        serving.load, serving.requests, serving.failed, serving.tpot_p50_ms,
                        serving.request_throughput, serving.started_at,
                    );
                    td.num title=(title) { (format!("{:.1}", serving.output_tokens_per_s)) }
                    td.num title=(title) { (format!("{:.0} ms", serving.ttft_p50_ms)) }
                }
                None => {
                    td.num title="no fuelbench perf load run on this server build and model" { "–" }
                    td.num { "–" }
                }
            }
            td title=(versions) { (row.updated_at.as_deref().map_or("–", |d| prefix(d, 10))) " " small { (row.progress) } }
            td {
                @for (class, n) in &row.failures { span.failure { (class.replace('_', " ")) " " (n) } " " }
            }
        }
    }
}

/// One model and variant: every planned problem and what became of it.
pub(super) async fn results(State(state): State<AppState>, Path(name): Path<String>) -> Page {
    let file = match state.inner.store.results(&name).await {
        Ok(file) => file,
        Err(error) => return error.into(),
    };
    let summary = file.summary.as_ref();
    let title = format!("{} · {}", file.config.model, file.config.variant());
    let body = html! {
        p.crumbs { a href="/" { "Leaderboard" } " › " (title) }
        h1 { (file.config.model) " " small { (file.config.variant()) } }
        @if let Some(suite) = &file.config.suite {
            p { "Public suite " strong { (suite_label(&suite.name)) } ": " (file.config.problems.len()) " tasks, scored by the suite's own tests in the sandbox (" (suite.origin) ", sha256 " (prefix(&suite.sha256, 12)) ")." }
        }
        @if let Some(summary) = summary {
            dl.scores {
                @let scores = &summary.scores;
                @let intervals = scores.intervals.as_ref();
                div { dt { "pass@1" } dd { (with_interval(Some(scores.pass_at_1), intervals.map(|i| &i.pass_at_1), Some(LIMITS.pass_at_1), 2)) } }
                div { dt { "complexity" } dd { (with_interval(scores.complexity_match_rate, intervals.and_then(|i| i.complexity.as_ref()), Some(LIMITS.complexity), 2)) } }
                div { dt { "numerical" } dd { (with_interval(scores.numerical_stability, intervals.and_then(|i| i.numerical.as_ref()), Some(LIMITS.numerical), 2)) } }
                div { dt { "refactor" } dd { (with_interval(scores.refactor_stability, intervals.and_then(|i| i.refactor.as_ref()), Some(LIMITS.refactor), 2)) } }
                div { dt { "overall" } dd { (with_interval(Some(scores.overall_score), intervals.map(|i| &i.overall), Some(LIMITS.overall), 3)) } }
                div { dt { "verdict" } dd { (verdict_badge(scores.verdicts.overall)) } }
                @for pass in scores.pass_at_k.iter().filter(|p| p.k > 1) {
                    div { dt { "pass@" (pass.k) } dd { (format!("{:.2}", pass.value)) } }
                }
                div { dt { "tokens / problem" } dd { (format!("{:.0}", summary.avg_tokens)) } }
                div { dt { "tok/s" } dd { (summary.avg_tps.map_or("–".into(), |t| format!("{t:.1}"))) } }
                div { dt { "wall" } dd { (seconds(summary.wall_time_s)) } }
            }
        }
        p { "Progress " (file.progress) " · started " (file.started_at) " · updated " (file.updated_at) " · " (file.sessions) " session(s)" }
        div.scroll {
            table.grid {
                thead { tr {
                    th scope="col" { "Problem" } th scope="col" { "Verdict" } th scope="col" { "Complexity" }
                    th scope="col" { "Refactor" } th scope="col" { "Fuel (tests)" } th scope="col" { "Tokens" } th scope="col" { "Time" }
                } }
                tbody {
                    @for id in &file.config.problems {
                        @match file.problems.iter().find(|record| &record.id == id) {
                            Some(record) => tr {
                                th scope="row" { a href={"/results/" (name) "/problems/" (encoded(id))} { (id) } @if record.title != *id { " " small { (record.title) } } }
                                td {
                                    (outcome(record.passed(), record.failure_class.map(|f| f.name())))
                                    @let samples: Vec<_> = file.problems.iter().filter(|r| &r.id == id).collect();
                                    @if samples.len() > 1 {
                                        " " small title="the first sample's verdict; passes over all of this problem's samples" {
                                            (samples.iter().filter(|r| r.passed()).count()) "/" (samples.len()) " samples pass"
                                        }
                                    }
                                }
                                td { @match &record.report.complexity {
                                    Some(c) => { (c.fitted.map_or("–", |f| f.notation())) " / " (c.expected.notation()) " " @if c.matched { (badge("pass", "ok")) } @else { (badge("fail", "no")) } },
                                    None => "–",
                                } }
                                td { @match record.report.refactor.as_ref().map(|r| r.stable) {
                                    Some(true) => (badge("pass", "stable")),
                                    Some(false) => (badge("fail", "broke")),
                                    None => "–",
                                } }
                                td.num { (count(record.report.fuel_used as f64)) }
                                td.num { (record.total_tokens()) }
                                td.num { (seconds(record.total_time_s)) }
                            },
                            None => tr.unreached {
                                th scope="row" { (id) }
                                td colspan="6" { (badge("muted", "not reached")) }
                            },
                        }
                    }
                }
            }
        }
        p { a href={"/api/v1/results/" (name)} { "The whole results file (JSON)" } }
    };
    Page::new(title, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fuelbench_runner::leaderboard::Row;

    #[test]
    fn a_row_of_any_text_renders() {
        let row: Row = serde_json::from_value(serde_json::json!({
            "model": "m", "quant": null, "think": "default", "grammar": "none",
            "pass_at_1": 1.0, "complexity": null, "numerical": null, "refactor": null,
            "overall": 1.0, "go": true, "avg_tokens": null, "tokens_per_s": null,
            "wall_time_s": null, "progress": "1/1", "source": "m.json",
            "updated_at": "2026-12-0é€T10", "problem_set_sha256": "a",
            "python_wasm_sha256": "ééééééé€€€€€",
        }))
        .expect("a row");
        let markup = board_row(
            &BoardRow {
                row,
                comparable: true,
                differences: Vec::new(),
                verification: None,
            },
            &[],
        )
        .into_string();
        assert!(markup.contains("2026-12-0é"), "{markup}");
        assert!(markup.contains("ééééééé€€€€€"), "{markup}");
        assert_eq!(prefix("é€", 1), "é");
        assert_eq!(prefix("ab", 12), "ab");
    }
}
