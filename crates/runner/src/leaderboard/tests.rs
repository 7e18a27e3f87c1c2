use super::*;

#[test]
fn quant_is_found_in_file_and_model_names() {
    assert_eq!(
        quant_of("/m/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").as_deref(),
        Some("Q4_K_M")
    );
    assert_eq!(quant_of("qwen36-27b-Q4_0").as_deref(), Some("Q4_0"));
    assert_eq!(quant_of("step37-IQ4_XS").as_deref(), Some("IQ4_XS"));
    assert_eq!(quant_of("llama3:8b-instruct-fp16").as_deref(), Some("FP16"));
    assert_eq!(
        quant_of("qwen36-27b-Q4_0_standard").as_deref(),
        Some("Q4_0")
    );
    assert_eq!(quant_of("qwen2.5-coder"), None);
}

fn key(sha: &str, build: &str, model_path: Option<&str>) -> fuelbench_llm::ServerKey {
    fuelbench_llm::ServerKey {
        base_url: "http://127.0.0.1:8080".into(),
        model: "coder".into(),
        model_path: model_path.map(str::to_owned),
        build: Some(build.into()),
        binary_sha256: Some(sha.into()),
    }
}

fn serving(tokens_per_s: f64, started_at: &str) -> Serving {
    Serving {
        output_tokens_per_s: tokens_per_s,
        request_throughput: 1.0,
        ttft_p50_ms: 50.0,
        tpot_p50_ms: 20.0,
        requests: 8,
        failed: 0,
        load: "custom, concurrency 2".into(),
        started_at: started_at.into(),
        source: "results/perf/x.json".into(),
    }
}

/// A row takes the newest load run of its own binary, build and model;
/// another build's figures, however new, are not its own.
#[test]
fn serving_figures_join_the_row_of_the_same_server_build_and_model() {
    let row: Row = serde_json::from_value(serde_json::json!({
        "model": "coder", "quant": null, "think": "default", "grammar": "none",
        "pass_at_1": 1.0, "complexity": null, "numerical": null, "refactor": null,
        "overall": 1.0, "go": null, "avg_tokens": null, "tokens_per_s": null,
        "wall_time_s": null, "progress": "1/1", "source": "r.json",
    }))
    .expect("a row");
    let mine = key("aaa", "b7000", Some("/m/coder.gguf"));
    let runs = vec![
        (mine.clone(), serving(30.0, "2026-12-01T10:00:00Z")),
        (mine.clone(), serving(31.0, "2026-12-02T10:00:00Z")),
        (
            key("bbb", "b7001", Some("/m/coder.gguf")),
            serving(99.0, "2026-12-03T10:00:00Z"),
        ),
        (
            key("aaa", "b7000", Some("/m/other.gguf")),
            serving(98.0, "2026-12-03T10:00:00Z"),
        ),
    ];
    let mut rows = vec![
        Row {
            server: Some(mine.clone()),
            ..row.clone()
        },
        row.clone(),
    ];
    attach_serving(&mut rows, &runs);
    assert_eq!(
        rows[0].serving.as_ref().map(|s| s.output_tokens_per_s),
        Some(31.0)
    );
    assert_eq!(rows[1].serving, None, "an imported row has no server");

    // Without /props, the URL and the model's name decide.
    let bare = |url: &str| fuelbench_llm::ServerKey {
        base_url: url.into(),
        model: "coder".into(),
        model_path: None,
        build: None,
        binary_sha256: None,
    };
    assert!(bare("http://a:1").same_server(&bare("http://a:1")));
    assert!(!bare("http://a:1").same_server(&bare("http://b:1")));
    assert!(!mine.same_server(&key("aaa", "b7001", Some("/m/coder.gguf"))));
}

/// A row shares the rank above when its interval overlaps that rank's
/// first row's.
#[test]
fn overlapping_intervals_share_a_rank() {
    let interval = |low: f64, high: f64| fuelbench_eval::stats::Interval {
        low,
        high,
        method: fuelbench_eval::stats::IntervalMethod::Bootstrap,
    };
    let row = |overall: f64, low: f64, high: f64| -> Row {
        let mut row: Row = serde_json::from_value(serde_json::json!({
            "model": format!("m{overall}"), "quant": null, "think": "default",
            "grammar": "none", "pass_at_1": overall, "complexity": null, "numerical": null,
            "refactor": null, "overall": overall, "go": null, "avg_tokens": null,
            "tokens_per_s": null, "wall_time_s": null, "progress": "1/1", "source": "r.json",
        }))
        .expect("a row");
        row.intervals = Some(Intervals {
            pass_at_1: interval(low, high),
            complexity: Some(interval(low, high)),
            numerical: None,
            refactor: None,
            overall: interval(low, high),
        });
        row
    };
    let labels = |rows: &[Row]| rows.iter().map(Row::rank_label).collect::<Vec<_>>();
    let mut rows = vec![row(0.5, 0.3, 0.7), row(0.9, 0.8, 1.0), row(0.75, 0.6, 0.85)];
    sort(&mut rows);
    // 0.5 overlaps 0.75, not 0.9, the first of rank 1: ties do not chain.
    assert_eq!(labels(&rows), ["1", "1=", "3"]);
    rows.push(row(0.4, 0.35, 0.6));
    sort(&mut rows);
    assert_eq!(labels(&rows), ["1", "1=", "3", "3="]);
    // A filtered board keeps the ranks the whole board gave.
    assert_eq!(labels(&rows[2..]), ["3", "3="]);
}

#[test]
fn a_suites_row_joins_its_models_row_as_a_column_or_stands_last_unranked() {
    let row = |model: &str, overall: f64, suite: Option<&str>| -> Row {
        let mut row: Row = serde_json::from_value(serde_json::json!({
            "model": model, "quant": null, "think": "default",
            "grammar": "none", "pass_at_1": overall, "complexity": null, "numerical": null,
            "refactor": null, "overall": overall, "go": null, "avg_tokens": null,
            "tokens_per_s": null, "wall_time_s": null, "progress": "3/3",
            "source": format!("{model}-{suite:?}.json"), "problem_set_sha256": "h",
        }))
        .expect("a row");
        row.suite = suite.map(str::to_owned);
        row
    };
    let mut rows = join_suites(vec![
        row("a", 0.9, Some("humaneval")),
        row("b", 0.2, None),
        row("a", 0.4, None),
        row("c", 0.99, Some("humaneval")),
    ]);
    sort(&mut rows);
    let shown: Vec<(&str, Option<usize>, usize)> = rows
        .iter()
        .map(|row| (row.model.as_str(), row.rank, row.suites.len()))
        .collect();
    // c answered only the suite: last, however high, and unranked.
    assert_eq!(
        shown,
        [("a", Some(1), 1), ("b", Some(2), 0), ("c", None, 1)]
    );
    let column = &rows[0].suites[0];
    assert_eq!(
        (column.suite.as_str(), column.pass_at_1),
        ("humaneval", 0.9)
    );
    assert_eq!(rows[0].overall, 0.4, "the row's own scores stay ours");
}

#[test]
fn a_suite_column_counts_as_the_suites_only_from_its_pinned_file_whole() {
    use crate::suite::{HUMANEVAL_SHA256, HUMANEVAL_TASKS};
    let suite_row = |model: &str, sha256: &str, tasks: usize, progress: &str| -> Row {
        let mut row: Row = serde_json::from_value(serde_json::json!({
            "model": model, "quant": null, "think": "default", "grammar": "none",
            "pass_at_1": 0.5, "complexity": null, "numerical": null, "refactor": null,
            "overall": 0.5, "go": null, "avg_tokens": null, "tokens_per_s": null,
            "wall_time_s": null, "progress": progress, "source": format!("{model}.json"),
            "problem_set_sha256": "tasks", "python_wasm_sha256": "py",
        }))
        .expect("a row");
        row.suite = Some("humaneval".into());
        row.suite_sha256 = Some(sha256.into());
        row.problem_ids = (0..tasks).map(|i| format!("HumanEval/{i}")).collect();
        row
    };
    let whole = HUMANEVAL_TASKS;
    let rows = join_suites(vec![
        suite_row("pinned", HUMANEVAL_SHA256, whole, "164/164"),
        suite_row("easy", &"0".repeat(64), whole, "164/164"),
        suite_row("cut", HUMANEVAL_SHA256, 1, "1/1"),
        suite_row("partial", HUMANEVAL_SHA256, whole, "80/164"),
    ]);
    let flagged = flag(rows, &[], "py");
    let differences: Vec<(&str, bool, &[String])> = flagged
        .iter()
        .map(|f| {
            (
                f.row.model.as_str(),
                f.comparable,
                &f.row.suites[0].differences[..],
            )
        })
        .collect();
    assert_eq!(differences[0], ("pinned", true, &[][..]));
    for (model, comparable, why) in &differences[1..] {
        assert!(!comparable, "{model}");
        assert_eq!(why.len(), 1, "{model}: {why:?}");
    }
    assert!(differences[1].2[0].contains("another file"));
    assert!(differences[2].2[0].contains("1 of its 164"));
    assert!(differences[3].2[0].contains("not finished"));
    // Another interpreter's column is flagged too.
    let other = flag(
        join_suites(vec![suite_row("m", HUMANEVAL_SHA256, whole, "164/164")]),
        &[],
        "another",
    );
    assert_eq!(
        other[0].row.suites[0].differences,
        ["humaneval scored by another interpreter build"]
    );
}
