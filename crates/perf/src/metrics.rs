//! Figures computed from the raw event log, each under a name that says
//! which definition it follows (DESIGN.md section 5):
//! - TTFT: sending to the first reasoning or content text, never a
//!   role-only chunk; `first_content` excludes reasoning.
//! - ITL (SGLang, vLLM): the gaps between successive text chunks.
//! - TPOT (SGLang, vLLM), which AIPerf and GuideLLM call ITL:
//!   `(E2E - TTFT) / (output tokens - 1)`.
//! - E2E: sending to the last event.
//!
//! Latency is also counted from the scheduled send time, and the schedule
//! lag (late start) and queue time (waiting for a concurrency slot) are
//! reported on their own, so no queueing hides in the figures.

use crate::log::{RequestLog, TokenSource};

/// Mean, median, tail percentiles and spread of one figure, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Distribution {
    /// How many finite values it is over; with 0, every figure is 0.
    pub count: usize,
    /// The arithmetic mean, in ms.
    pub mean: f64,
    /// The 50th percentile by [`PERCENTILE_METHOD`], in ms.
    pub median: f64,
    /// The 90th percentile by [`PERCENTILE_METHOD`], in ms.
    pub p90: f64,
    /// The 95th percentile by [`PERCENTILE_METHOD`], in ms.
    pub p95: f64,
    /// The 99th percentile by [`PERCENTILE_METHOD`], in ms.
    pub p99: f64,
    /// The largest value, in ms.
    pub max: f64,
    /// The population standard deviation (over `count`, not `count - 1`), in
    /// ms.
    pub std: f64,
}

impl Distribution {
    /// Of `values` in seconds, reported in milliseconds; empty gives zeros
    /// with count 0.
    pub fn of_seconds(values: &[f64]) -> Distribution {
        let mut ms: Vec<f64> = values
            .iter()
            .filter(|v| v.is_finite())
            .map(|v| v * 1000.0)
            .collect();
        if ms.is_empty() {
            return Distribution::default();
        }
        ms.sort_by(f64::total_cmp);
        let count = ms.len();
        let mean = ms.iter().sum::<f64>() / count as f64;
        let variance = ms.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count as f64;
        Distribution {
            count,
            mean,
            median: percentile(&ms, 0.5),
            p90: percentile(&ms, 0.9),
            p95: percentile(&ms, 0.95),
            p99: percentile(&ms, 0.99),
            max: ms[count - 1],
            std: variance.sqrt(),
        }
    }
}

/// How every percentile fuelbench prints is computed, as its reports say.
pub const PERCENTILE_METHOD: &str = "linear interpolation between closest ranks";

/// The `q` quantile of `sorted` (ascending) by [`PERCENTILE_METHOD`]: the
/// one definition every figure and report uses. NaN when empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

/// A run's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Requests in the run, failed ones included.
    pub requests: usize,
    /// Requests that ended without a failure and produced text.
    pub succeeded: usize,
    /// Requests that failed, or produced no text (`no_text` in `failures`).
    pub failed: usize,
    /// Failures by class.
    pub failures: std::collections::BTreeMap<String, usize>,
    /// From the first scheduled send to the last event, seconds.
    pub duration_s: f64,
    /// Successful requests per second of `duration_s`.
    pub request_throughput: f64,
    /// Prompt tokens of the successful requests, as the server's usage counted
    /// them.
    pub input_tokens: u64,
    /// Output tokens of the successful requests, each from its best source (see
    /// `output_token_sources`).
    pub output_tokens: u64,
    /// `input_tokens` per second of `duration_s`.
    pub input_tokens_per_s: f64,
    /// `output_tokens` per second of `duration_s`.
    pub output_tokens_per_s: f64,
    /// The most output tokens in any one-second window.
    pub peak_output_tokens_per_s: f64,
    /// Where the output token counts came from, by source.
    pub output_token_sources: std::collections::BTreeMap<String, usize>,
    /// Requests whose first text chunk came after a role-only chunk.
    pub role_only_first_chunks: usize,
    /// Requests that took text of their prompt from the server's cache
    /// (beyond the chat template's shared opening), and every cached prompt
    /// token: a warm cache shortens TTFT, so a cold run should have no hits.
    #[serde(default)]
    pub cache_hits: usize,
    /// Prompt tokens the successful requests took from the cache, the
    /// template's opening included.
    #[serde(default)]
    pub cached_prompt_tokens: u64,
    /// TTFT: sending to the first reasoning or content text, never a role-only
    /// chunk.
    pub ttft_ms: Distribution,
    /// Sending to the first content text, reasoning excluded.
    pub first_content_ms: Distribution,
    /// ITL as SGLang and vLLM define it: per-chunk gaps.
    pub itl_chunk_gap_ms: Distribution,
    /// TPOT as SGLang and vLLM define it; AIPerf and GuideLLM call this ITL.
    pub tpot_ms: Distribution,
    /// E2E: sending to the last event.
    pub e2e_ms: Distribution,
    /// E2E counted from the scheduled send time.
    pub e2e_from_schedule_ms: Distribution,
    /// Sent later than scheduled for want of a concurrency slot.
    pub queue_ms: Distribution,
    /// Admitted later than scheduled by the generator itself.
    pub schedule_lag_ms: Distribution,
}

impl Summary {
    /// The figures of `logs`, from them alone; latencies and token counts are
    /// over successful requests.
    pub fn of(logs: &[RequestLog]) -> Summary {
        let ok: Vec<&RequestLog> = logs.iter().filter(|log| log.succeeded()).collect();
        let mut failures = std::collections::BTreeMap::new();
        for log in logs.iter().filter(|log| !log.succeeded()) {
            let class = log
                .failure
                .as_deref()
                .and_then(|failure| failure.split(':').next())
                .unwrap_or("no_text");
            *failures.entry(class.to_owned()).or_insert(0) += 1;
        }
        let start = logs
            .iter()
            .map(|log| log.scheduled_s)
            .fold(f64::INFINITY, f64::min);
        let end = logs
            .iter()
            .filter_map(|log| Some(log.sent_s + log.e2e_s()?))
            .fold(start, f64::max);
        let duration_s = if start.is_finite() { end - start } else { 0.0 };
        let per_s = |value: f64| {
            if duration_s > 0.0 {
                value / duration_s
            } else {
                0.0
            }
        };

        let mut sources = std::collections::BTreeMap::new();
        let mut output_tokens = 0;
        let mut input_tokens = 0;
        let mut tpot = Vec::new();
        // Output tokens by one-second window, each request's spread evenly
        // over its text events.
        let mut windows: Vec<f64> = vec![0.0; duration_s.ceil().max(1.0) as usize + 1];
        for log in &ok {
            let (tokens, source) = log.output_tokens();
            output_tokens += tokens;
            input_tokens += log.prompt_tokens.unwrap_or(0);
            let name = match source {
                TokenSource::Usage => "usage",
                TokenSource::Timings => "timings",
                TokenSource::Chunks => "chunks",
            };
            *sources.entry(name.to_owned()).or_insert(0) += 1;
            if let (Some(ttft), Some(e2e)) = (log.ttft_s(), log.e2e_s())
                && tokens > 1
            {
                tpot.push((e2e - ttft) / (tokens - 1) as f64);
            }
            let texts: Vec<f64> = log
                .events
                .iter()
                .filter(|event| event.kind.is_text())
                .map(|event| log.sent_s + event.at_s - start)
                .collect();
            if !texts.is_empty() {
                let share = tokens as f64 / texts.len() as f64;
                for at in texts {
                    let window = (at.max(0.0) as usize).min(windows.len() - 1);
                    windows[window] += share;
                }
            }
        }
        let role_only_first_chunks = ok
            .iter()
            .filter(|log| {
                log.events
                    .iter()
                    .find(|event| event.kind != crate::log::EventKind::Usage)
                    .is_some_and(|event| event.kind == crate::log::EventKind::Role)
            })
            .count();
        let seconds = |f: &dyn Fn(&RequestLog) -> Option<f64>| -> Vec<f64> {
            ok.iter().filter_map(|log| f(log)).collect()
        };
        Summary {
            requests: logs.len(),
            succeeded: ok.len(),
            failed: logs.len() - ok.len(),
            failures,
            duration_s,
            request_throughput: per_s(ok.len() as f64),
            input_tokens,
            output_tokens,
            input_tokens_per_s: per_s(input_tokens as f64),
            output_tokens_per_s: per_s(output_tokens as f64),
            peak_output_tokens_per_s: windows.iter().copied().fold(0.0, f64::max),
            output_token_sources: sources,
            role_only_first_chunks,
            cache_hits: ok.iter().filter(|log| log.cached_text() > 0).count(),
            cached_prompt_tokens: ok.iter().map(|log| log.cached()).sum(),
            ttft_ms: Distribution::of_seconds(&seconds(&RequestLog::ttft_s)),
            first_content_ms: Distribution::of_seconds(&seconds(&RequestLog::first_content_s)),
            itl_chunk_gap_ms: Distribution::of_seconds(
                &ok.iter()
                    .flat_map(|log| log.chunk_gaps_s())
                    .collect::<Vec<_>>(),
            ),
            tpot_ms: Distribution::of_seconds(&tpot),
            e2e_ms: Distribution::of_seconds(&seconds(&RequestLog::e2e_s)),
            e2e_from_schedule_ms: Distribution::of_seconds(&seconds(&|log| {
                Some(log.sent_s - log.scheduled_s + log.e2e_s()?)
            })),
            queue_ms: Distribution::of_seconds(&seconds(&|log| {
                Some((log.sent_s - log.woke_s).max(0.0))
            })),
            schedule_lag_ms: Distribution::of_seconds(&seconds(&|log| {
                Some((log.woke_s - log.scheduled_s).max(0.0))
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use fuelbench_llm::{Chunk, StreamEvent, Usage};

    use super::*;

    fn at(ms: u64, chunk: Option<Chunk>) -> StreamEvent {
        StreamEvent {
            at: Duration::from_millis(ms),
            chunk,
        }
    }

    fn text(content: &str) -> Option<Chunk> {
        Some(Chunk {
            content: content.into(),
            ..Chunk::default()
        })
    }

    fn usage(completion: u64) -> Option<Chunk> {
        Some(Chunk {
            usage: Some(Usage {
                prompt_tokens: Some(12),
                completion_tokens: Some(completion),
                total_tokens: Some(12 + completion),
                cached_tokens: None,
            }),
            ..Chunk::default()
        })
    }

    fn log(events: &[StreamEvent]) -> RequestLog {
        let mut log = RequestLog::new(0, Duration::ZERO, 10, 16);
        for event in events {
            log.record(event);
        }
        log
    }

    /// vLLM's shape: a role-only first chunk, one token a chunk, usage last.
    #[test]
    fn a_role_only_chunk_is_not_the_first_token() {
        let role = Some(Chunk {
            role: Some("assistant".into()),
            ..Chunk::default()
        });
        let request = log(&[
            at(5, role),
            at(40, text("a")),
            at(50, text("b")),
            at(70, text("c")),
            at(71, usage(3)),
            at(72, None),
        ]);
        assert_eq!(request.ttft_s(), Some(0.040));
        assert_eq!(request.output_tokens(), (3, TokenSource::Usage));
        let summary = Summary::of(&[request]);
        assert_eq!(summary.role_only_first_chunks, 1);
        assert!((summary.ttft_ms.median - 40.0).abs() < 1e-9);
        // Chunk gaps 10 and 20 ms; TPOT (72 - 40) / (3 - 1) = 16 ms.
        assert!((summary.itl_chunk_gap_ms.mean - 15.0).abs() < 1e-9);
        assert!((summary.tpot_ms.mean - 16.0).abs() < 1e-9);
        assert!((summary.e2e_ms.max - 72.0).abs() < 1e-9);
        assert_eq!(summary.input_tokens, 12);
    }

    /// The chat template's opening, the same for every prompt, may come
    /// from any server's cache; text of the prompt itself from the cache is
    /// a warm run.
    #[test]
    fn cache_hits_count_only_the_prompts_own_text() {
        let cached = |tokens: u64| {
            Some(Chunk {
                usage: Some(Usage {
                    prompt_tokens: Some(12),
                    completion_tokens: Some(1),
                    total_tokens: Some(13),
                    cached_tokens: Some(tokens),
                }),
                ..Chunk::default()
            })
        };
        // 10 tokens of text in a 12-token prompt: the template adds 2.
        let fitted = |tokens: u64| {
            let mut request = log(&[at(10, text("a")), at(11, cached(tokens)), at(12, None)]);
            request.input_tokens = Some(10);
            request
        };
        let (template, warm) = (fitted(2), fitted(9));
        assert_eq!((template.cached_text(), warm.cached_text()), (0, 7));
        let mut unfitted = fitted(2);
        unfitted.input_tokens = None;
        assert_eq!(unfitted.cached_text(), 2, "without a count, any hit counts");
        let summary = Summary::of(&[template, warm, unfitted]);
        assert_eq!(summary.cache_hits, 2);
        assert_eq!(summary.cached_prompt_tokens, 13);
    }

    /// SGLang with a reasoning parser: reasoning deltas first, several
    /// tokens a chunk; TTFT counts reasoning, first content does not.
    #[test]
    fn reasoning_is_output_and_multi_token_chunks_are_counted_by_usage() {
        let reasoning = Some(Chunk {
            reasoning: "thinking hard".into(),
            ..Chunk::default()
        });
        let request = log(&[
            at(30, reasoning),
            at(60, text("four tokens at once")),
            at(61, usage(9)),
            at(62, None),
        ]);
        assert_eq!(request.ttft_s(), Some(0.030));
        assert_eq!(request.first_content_s(), Some(0.060));
        let summary = Summary::of(&[request]);
        // One gap between two chunks, though nine tokens came: chunks are
        // not tokens, and TPOT says so.
        assert_eq!(summary.itl_chunk_gap_ms.count, 1);
        assert!((summary.tpot_ms.mean - 32.0 / 8.0).abs() < 1e-9);
        assert_eq!(summary.output_tokens, 9);
    }

    /// Without usage, chunks are counted and labelled so; a request with no
    /// text, or a failure, is failed and counted by class.
    #[test]
    fn missing_usage_is_labelled_and_failures_are_counted() {
        let counted = log(&[at(10, text("x")), at(20, text("y")), at(21, None)]);
        assert_eq!(counted.output_tokens(), (2, TokenSource::Chunks));
        let mut failed = log(&[at(5, None)]);
        failed.failure = Some("stream_dropped: the connection closed".into());
        let empty = log(&[at(5, None)]);
        let summary = Summary::of(&[counted, failed, empty]);
        assert_eq!((summary.succeeded, summary.failed), (1, 2));
        assert_eq!(summary.failures["stream_dropped"], 1);
        assert_eq!(summary.failures["no_text"], 1);
        assert_eq!(summary.output_token_sources["chunks"], 1);
    }

    #[test]
    fn queue_time_and_schedule_lag_are_apart() {
        let mut request = log(&[at(10, text("x")), at(11, None)]);
        request.scheduled_s = 1.0;
        request.woke_s = 1.002;
        request.sent_s = 1.5;
        let summary = Summary::of(&[request]);
        assert!((summary.schedule_lag_ms.max - 2.0).abs() < 1e-6);
        assert!((summary.queue_ms.max - 498.0).abs() < 1e-6);
        assert!((summary.e2e_from_schedule_ms.max - 511.0).abs() < 1e-6);
    }

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let values = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&values, 0.5), 2.5);
        assert_eq!(percentile(&values, 1.0), 4.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
