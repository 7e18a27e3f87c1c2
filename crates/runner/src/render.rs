//! Leaderboards and comparisons as text: Markdown and CSV, for the terminal
//! and for `GET /api/v1/leaderboard?format=csv` alike.
//! The runner gives the rows; front ends choose how they look.

use std::fmt::Write as _;

use fuelbench_eval::stats::Interval;

use crate::leaderboard::{Comparison, Row, Side};

const HEADER: [&str; 18] = [
    "rank",
    "model",
    "quant",
    "think",
    "grammar",
    "pass@1",
    "complexity",
    "numerical",
    "refactor",
    "overall",
    "GO",
    "suites pass@1",
    "avg tokens",
    "tok/s",
    "wall",
    "serving tok/s",
    "TTFT p50 ms",
    "progress",
];

/// A score with its 95% interval when it has one: `0.80 (0.55-0.93)`.
pub fn with_interval(value: f64, interval: Option<&Interval>, places: usize) -> String {
    match interval {
        Some(i) => format!("{value:.places$} ({:.places$}-{:.places$})", i.low, i.high),
        None => format!("{value:.places$}"),
    }
}

fn cells(row: &Row) -> [String; 18] {
    let intervals = row.intervals.as_ref();
    let metric = |value: Option<f64>, interval: Option<&Interval>| {
        value.map_or("-".into(), |v| with_interval(v, interval, 2))
    };
    [
        row.rank_label(),
        row.model.clone(),
        row.quant.clone().unwrap_or_else(|| "-".into()),
        row.think.clone(),
        row.grammar.clone(),
        with_interval(row.pass_at_1, intervals.map(|i| &i.pass_at_1), 2),
        metric(
            row.complexity,
            intervals.and_then(|i| i.complexity.as_ref()),
        ),
        metric(row.numerical, intervals.and_then(|i| i.numerical.as_ref())),
        metric(row.refactor, intervals.and_then(|i| i.refactor.as_ref())),
        with_interval(row.overall, intervals.map(|i| &i.overall), 3),
        match (row.verdict, row.go) {
            (Some(verdict), _) => verdict.label().into(),
            (None, Some(go)) => if go { "GO" } else { "NO-GO" }.into(),
            (None, None) => "-".into(),
        },
        suites(row),
        row.avg_tokens.map_or("-".into(), |v| format!("{v:.0}")),
        row.tokens_per_s.map_or("-".into(), |v| format!("{v:.1}")),
        row.wall_time_s.map_or("-".into(), duration),
        row.serving
            .as_ref()
            .map_or("-".into(), |s| format!("{:.1}", s.output_tokens_per_s)),
        row.serving
            .as_ref()
            .map_or("-".into(), |s| format!("{:.0}", s.ttft_p50_ms)),
        row.progress.clone(),
    ]
}

/// Each public suite's pass@1 with its interval, `humaneval 0.12
/// (0.08-0.17)`; `-` without one.
pub fn suites(row: &Row) -> String {
    if row.suites.is_empty() {
        return "-".into();
    }
    row.suites
        .iter()
        .map(|column| {
            format!(
                "{} {}",
                column.suite,
                with_interval(column.pass_at_1, column.interval.as_ref(), 2)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` with its first letter in capitals.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// `75.3s`, `12m05s`, `2h03m`.
pub fn duration(seconds: f64) -> String {
    let whole = seconds.round() as u64;
    if seconds < 100.0 {
        format!("{seconds:.1}s")
    } else if whole < 3600 {
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        format!("{}h{:02}m", whole / 3600, whole % 3600 / 60)
    }
}

/// A Markdown table of `rows` in their order, ranked, with each row's pass@k
/// beneath when it has samples and a note on intervals when any has them.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", HEADER.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(HEADER.len()));
    for row in rows {
        let _ = writeln!(out, "| {} |", cells(row).join(" | "));
    }
    for row in rows.iter().filter(|row| row.pass_at_k.len() > 1) {
        let figures: Vec<String> = row
            .pass_at_k
            .iter()
            .map(|p| format!("pass@{} {:.2}", p.k, p.value))
            .collect();
        let _ = writeln!(
            out,
            "\n{} think-{} grammar-{}, {} samples a problem: {}",
            row.model,
            row.think,
            row.grammar,
            row.samples.unwrap_or(1),
            figures.join(", ")
        );
    }
    if rows.iter().any(|row| row.intervals.is_some()) {
        let _ = writeln!(
            out,
            "\nScores show their 95% interval (Wilson's, or a bootstrap over problems and samples); \
             `n=` shares rank n, its overall interval overlapping that rank's first row's. GO needs the \
             whole interval at or above the threshold; undecided means the threshold lies inside."
        );
    }
    out
}

/// The table [`markdown`] shows, as CSV with a header row; a cell a spreadsheet
/// would run as a formula is prefixed with `'`.
pub fn csv(rows: &[Row]) -> String {
    let quote = |cell: &str| {
        let cell = defuse_formula(cell);
        if cell.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", cell.replace('"', "\"\""))
        } else {
            cell
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}", HEADER.map(quote).join(","));
    for row in rows {
        let _ = writeln!(out, "{}", cells(row).map(|cell| quote(&cell)).join(","));
    }
    out
}

/// A cell that a spreadsheet would run as a formula (one starting with `=`,
/// `+`, `-`, `@`, a tab or a carriage return, as OWASP lists them), with a `'`
/// before it so that it is shown as text; a plain number, and the lone `-`
/// that stands for a missing value, stay as they are.
fn defuse_formula(cell: &str) -> String {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell != "-" && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// A comparison as Markdown: the deltas, how often the two agree, the paired
/// test's verdict, fuel on the problems both pass, and each problem whose
/// outcome differs.
pub fn comparison_markdown(comparison: &Comparison) -> String {
    let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:+.1}%"));
    let mut out = String::new();
    let _ = writeln!(out, "A: {}\nB: {}\n", comparison.a, comparison.b);
    let _ = writeln!(
        out,
        "| token delta | wall delta | tok/s delta | pass@1 delta | score delta |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {:+.2} | {:+.3} |",
        pct(comparison.token_delta_pct),
        pct(comparison.wall_delta_pct),
        pct(comparison.tps_delta_pct),
        comparison.pass_at_1_delta,
        comparison.score_delta
    );
    let agreement = &comparison.agreement;
    let _ = writeln!(
        out,
        "\nBoth pass {}, only A passes {}, only B passes {}, both fail {}.",
        agreement.both_pass, agreement.only_a_passes, agreement.only_b_passes, agreement.both_fail
    );
    let _ = writeln!(
        out,
        "{} ({}).",
        capitalised(&comparison.test.sentence),
        comparison.test.method.replace('_', " ")
    );
    if let Some(ratio) = comparison.fuel_ratio_geomean {
        let _ = writeln!(
            out,
            "Fuel, B over A, on the {} problems both pass: {ratio:.2}x (geometric mean).",
            comparison.fuel.len()
        );
    }
    if comparison.problems.is_empty() {
        let _ = writeln!(out, "\nEvery problem has the same outcome in both.");
        return out;
    }
    let _ = writeln!(out, "\n| problem | A | B |\n|---|---|---|");
    let side = |side: &Option<Side>| match side {
        None => "not run".to_owned(),
        Some(side) => {
            let verdict = if side.passed {
                "PASS".to_owned()
            } else {
                format!(
                    "FAIL {}",
                    side.failure_class.map_or("", crate::ProblemFailure::name)
                )
            };
            let refactor = match side.refactor_stable {
                Some(true) => ", refactor ok",
                Some(false) => ", refactor broke",
                None => "",
            };
            format!(
                "{verdict}{refactor}, {} tok, {}",
                side.tokens,
                duration(side.time_s)
            )
        }
    };
    for delta in &comparison.problems {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            delta.id,
            side(&delta.a),
            side(&delta.b)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_never_run_as_formulas() {
        assert_eq!(defuse_formula("=1+1"), "'=1+1");
        assert_eq!(defuse_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse_formula("+cmd"), "'+cmd");
        assert_eq!(defuse_formula("\tx"), "'\tx");
        assert_eq!(defuse_formula("-0.25"), "-0.25");
        assert_eq!(defuse_formula("-"), "-", "a missing value stays a dash");
        assert_eq!(defuse_formula("-x"), "'-x");
        assert_eq!(defuse_formula("qwen=3"), "qwen=3");
        let row: Row = serde_json::from_value(serde_json::json!({
            "model": "=HYPERLINK(\"x\")", "quant": null, "think": "default", "grammar": "none",
            "pass_at_1": 1.0, "complexity": null, "numerical": null, "refactor": null,
            "overall": 1.0, "go": true, "avg_tokens": null, "tokens_per_s": null,
            "wall_time_s": null, "progress": "1/1", "source": "x.json",
        }))
        .expect("a row");
        let text = csv(&[row]);
        let line = text.lines().nth(1).expect("a data line");
        assert!(line.starts_with("-,\"'=HYPERLINK(\"\"x\"\")\","), "{line}");
        assert!(!line.contains("'-"), "a missing value was quoted: {line}");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(75.34), "75.3s");
        assert_eq!(duration(725.0), "12m05s");
        assert_eq!(duration(7380.0), "2h03m");
    }
}
