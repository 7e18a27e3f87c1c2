//! Comparing llama-server builds on a latency suite: the saved report
//! (`fuelbench-perf-latency/1`), the figures builds are compared by, and
//! the A/B verdict rule. The CLI runs the builds and renders; the rules
//! live here, beside the suite that measures them.

use std::path::PathBuf;

use super::{Estimate, SuiteRun};

/// The `format` of a saved comparison report.
pub const FORMAT: &str = "fuelbench-perf-latency/1";

/// The figures builds are compared by: each name, and whether higher is
/// better.
pub const COMPARED: [(&str, bool); 4] = [
    ("completion tokens/s", true),
    ("processed prompt tokens/s", true),
    ("latency mean ms", false),
    ("TTFT mean ms", false),
];

/// One build's runs of the suite.
#[derive(Debug, serde::Serialize)]
pub struct Build {
    /// The path of the llama-server binary.
    pub binary: PathBuf,
    /// SHA-256 of the binary, in hex.
    pub sha256: String,
    /// The line of its `--version` output that mentions `version`; empty when
    /// there is none.
    pub version: String,
    /// Each repeat's run, in order.
    pub runs: Vec<BuildRun>,
}

/// One run of the suite on a fresh server of a build.
#[derive(Debug, serde::Serialize)]
pub struct BuildRun {
    /// The command line the server was started with.
    pub argv: Vec<String>,
    /// Where the server's own log was written.
    pub log: PathBuf,
    /// The server's `/props`, as it described itself.
    pub props: Option<serde_json::Value>,
    /// Memory just before the suite ran: the server's resident set, the
    /// machine's available memory, each GPU's use.
    pub memory_before: fuelbench_llm::MemoryReading,
    /// The same reading just after the suite ended.
    pub memory_after: fuelbench_llm::MemoryReading,
    /// The suite's requests and figures.
    pub run: SuiteRun,
}

/// A run's [`COMPARED`] figures, in order; NaN where it has none.
pub fn figures(run: &SuiteRun) -> [f64; 4] {
    let s = &run.summary;
    [
        s.completion_tokens_per_s.unwrap_or(f64::NAN),
        s.processed_prompt_tokens_per_s.unwrap_or(f64::NAN),
        s.latency_ms.mean,
        s.ttft_ms.mean,
    ]
}

/// Each build's estimate of each [`COMPARED`] figure over its runs.
pub fn estimates(builds: &[Build]) -> Vec<Vec<Option<Estimate>>> {
    builds
        .iter()
        .map(|build| {
            (0..COMPARED.len())
                .map(|figure| {
                    let values: Vec<f64> = build
                        .runs
                        .iter()
                        .map(|run| figures(&run.run)[figure])
                        .collect();
                    Estimate::of(&values)
                })
                .collect()
        })
        .collect()
}

/// One figure of build `b` against the first build, A.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Delta {
    /// Which build is B, by its place in the report.
    pub b: usize,
    /// The figure's name, as [`COMPARED`] gives it.
    pub figure: &'static str,
    /// B's change from A, `+3.1%`; `-` without both means, or from a zero.
    pub delta: String,
    /// `B better`, `B worse`, or `no verdict: ` and why there is none.
    pub verdict: &'static str,
}

/// Every later build against the first, figure by figure. A verdict only
/// where the two 95% intervals do not overlap; with one run each there is
/// no interval, and so no verdict.
pub fn deltas(estimates: &[Vec<Option<Estimate>>], repeats: usize) -> Vec<Delta> {
    let mut deltas = Vec::new();
    let Some(first) = estimates.first() else {
        return deltas;
    };
    for (b, figures) in estimates.iter().enumerate().skip(1) {
        for (f, (figure, higher_is_better)) in COMPARED.iter().enumerate() {
            let (a, other) = (&first[f], &figures[f]);
            let delta = match (a, other) {
                (Some(a), Some(other)) if a.mean != 0.0 => {
                    format!("{:+.1}%", (other.mean - a.mean) / a.mean * 100.0)
                }
                _ => "-".into(),
            };
            let verdict = match (a, other) {
                (Some(a), Some(other)) if a.separates(other) => {
                    if (other.mean > a.mean) == *higher_is_better {
                        "B better"
                    } else {
                        "B worse"
                    }
                }
                (Some(_), Some(_)) if repeats < 2 => "no verdict: one run each (--repeat)",
                _ => "no verdict: the intervals overlap",
            };
            deltas.push(Delta {
                b,
                figure,
                delta,
                verdict,
            });
        }
    }
    deltas
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(mean: f64, half_width: Option<f64>) -> Option<Estimate> {
        Some(Estimate {
            mean,
            half_width,
            n: 3,
        })
    }

    #[test]
    fn a_verdict_needs_intervals_apart_and_reads_each_figure_its_way() {
        let a = vec![
            estimate(100.0, Some(2.0)),
            estimate(100.0, Some(2.0)),
            estimate(50.0, Some(1.0)),
            None,
        ];
        let b = vec![
            estimate(110.0, Some(2.0)),
            estimate(101.0, Some(2.0)),
            estimate(60.0, Some(1.0)),
            estimate(5.0, None),
        ];
        let deltas = deltas(&[a, b], 3);
        let verdicts: Vec<(&str, &str)> = deltas
            .iter()
            .map(|delta| (delta.delta.as_str(), delta.verdict))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("+10.0%", "B better"),
                ("+1.0%", "no verdict: the intervals overlap"),
                ("+20.0%", "B worse"),
                ("-", "no verdict: the intervals overlap"),
            ]
        );
        let one_run = deltas_of_one_run();
        assert_eq!(one_run[0].verdict, "no verdict: one run each (--repeat)");
    }

    fn deltas_of_one_run() -> Vec<Delta> {
        let a = vec![estimate(100.0, None); 4];
        let b = vec![estimate(120.0, None); 4];
        deltas(&[a, b], 1)
    }
}
