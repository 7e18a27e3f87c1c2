//! Sequential latency suites, one request at a time, on a server fuelbench
//! starts and stops around each run (the caller does that; this module
//! asks the questions and sums up the answers).
//!
//! - `base`: one tiny prompt, asked `requests` times.
//! - `multi`: a few short prompts in turn, `requests` of them or for a
//!   duration.
//! - `long`: one prompt calibrated to a target token count through the
//!   server's own `/tokenize`, on the text as its chat template renders it
//!   (`/apply-template`) where the server offers that.
//! - `medium-turns`: one conversation that grows by a calibrated chunk of
//!   about `turn_tokens` each turn, the model's own replies kept, until the
//!   prompt reaches `target_tokens`; the prompt cache is on, and every turn
//!   after the first must take the conversation so far from it.
//!
//! Elsewhere the prompt cache is off (`cache_prompt: false`), and each
//! request's cached-token count is checked: a run meant to be cold that hit
//! the cache says so. Warm-up prompts, by count or for a duration, share no
//! prefix with the measured ones.

use std::time::{Duration, Instant};

pub mod compare;

use fuelbench_llm::{ChatClient, ChatRequest, Message};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::load::stream_text_into;
use crate::log::RequestLog;
use crate::metrics::Distribution;

/// Which sequential latency suite to run (see the module's docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suite {
    /// One tiny prompt, asked `requests` times.
    Base,
    /// A few short prompts in turn, `requests` of them or for `duration`.
    Multi,
    /// One filler prompt calibrated to `target_tokens` through the server's
    /// `/tokenize`.
    Long,
    /// One conversation that grows by about `turn_tokens` a turn until its
    /// prompt reaches `target_tokens`, with the prompt cache on.
    MediumTurns,
}

impl Suite {
    /// The suite's name as the CLI prints it and names its output folder:
    /// `medium-turns`, where serde writes `medium_turns`.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Base => "base",
            Suite::Multi => "multi",
            Suite::Long => "long",
            Suite::MediumTurns => "medium-turns",
        }
    }
}

/// How to run one suite: what to ask, how many times, and each request's
/// limits.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteConfig {
    /// Which suite to run.
    pub suite: Suite,
    /// The model's name as each request sends it.
    pub model: String,
    /// Unmeasured requests first: this many, or for this long.
    pub warmup: usize,
    /// Warm up for this long instead of with `warmup` requests, when given.
    pub warmup_for: Option<Duration>,
    /// Measured requests; `multi` with `duration` asks until it is up
    /// instead, and `medium-turns` until its conversation is long enough.
    pub requests: usize,
    /// For `multi`: ask for this long instead of `requests` times; ignored by
    /// the other suites.
    pub duration: Option<Duration>,
    /// Each request's `max_tokens`: the most tokens a reply may have.
    pub max_tokens: u32,
    /// Prompt tokens for `long`; the conversation's length at which
    /// `medium-turns` stops.
    pub target_tokens: usize,
    /// Tokens each `medium-turns` turn adds.
    pub turn_tokens: usize,
    /// Each request's limit.
    pub timeout: Duration,
}

/// One suite run: every measured request and what was found on the way.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SuiteRun {
    /// Every measured request's log, in order; warm-up requests are not kept.
    pub requests: Vec<RequestLog>,
    /// For `long`: the prompt's length in tokens, as the server counted it;
    /// for `medium-turns`, each turn's new text.
    pub calibrated_prompt_tokens: Option<usize>,
    /// What went wrong without stopping the run: a failed warm-up, a cold
    /// request that hit the prompt cache, a turn whose conversation the cache
    /// did not keep.
    pub warnings: Vec<String>,
    /// The figures over `requests`.
    pub summary: SuiteSummary,
}

/// A suite run's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SuiteSummary {
    /// Measured requests, failed ones included.
    pub requests: usize,
    /// Requests that failed, or produced no text.
    pub failed: usize,
    /// Prompt tokens the server processed (not taken from its cache) per
    /// second of prompt processing: llama-server's `timings` where sent,
    /// else over TTFT.
    pub processed_prompt_tokens_per_s: Option<f64>,
    /// Generated tokens per second of generation, by the same rule.
    pub completion_tokens_per_s: Option<f64>,
    /// E2E latency (sending to the last event) of the successful requests, in
    /// ms.
    pub latency_ms: Distribution,
    /// TTFT (sending to the first reasoning or content text) of the successful
    /// requests, in ms.
    pub ttft_ms: Distribution,
    /// The longest prompt of a successful request, in tokens as the server
    /// counted them (its usage, else its `timings`); 0 when it never said.
    pub max_prompt_tokens: u64,
    /// Requests that took prompt tokens from the cache.
    pub cache_hits: usize,
}

impl SuiteSummary {
    /// The figures of `requests`; rates and latencies count successful requests
    /// only.
    pub fn of(requests: &[RequestLog]) -> SuiteSummary {
        let ok: Vec<&RequestLog> = requests.iter().filter(|r| r.succeeded()).collect();
        let (mut prompt_tokens, mut prompt_s, mut out_tokens, mut out_s) = (0.0, 0.0, 0.0, 0.0);
        for log in &ok {
            match (log.prompt_n, log.prompt_ms) {
                (Some(n), Some(ms)) => {
                    prompt_tokens += n as f64;
                    prompt_s += ms / 1000.0;
                }
                _ => {
                    let processed = log.prompt_tokens.unwrap_or(0).saturating_sub(log.cached());
                    prompt_tokens += processed as f64;
                    prompt_s += log.ttft_s().unwrap_or(0.0);
                }
            }
            match (log.predicted_n, log.predicted_ms) {
                (Some(n), Some(ms)) => {
                    out_tokens += n as f64;
                    out_s += ms / 1000.0;
                }
                _ => {
                    out_tokens += log.output_tokens().0 as f64;
                    out_s += log.e2e_s().unwrap_or(0.0) - log.ttft_s().unwrap_or(0.0);
                }
            }
        }
        let rate = |tokens: f64, seconds: f64| (seconds > 0.0).then(|| tokens / seconds);
        SuiteSummary {
            requests: requests.len(),
            failed: requests.len() - ok.len(),
            processed_prompt_tokens_per_s: rate(prompt_tokens, prompt_s),
            completion_tokens_per_s: rate(out_tokens, out_s),
            latency_ms: Distribution::of_seconds(
                &ok.iter().filter_map(|r| r.e2e_s()).collect::<Vec<_>>(),
            ),
            ttft_ms: Distribution::of_seconds(
                &ok.iter().filter_map(|r| r.ttft_s()).collect::<Vec<_>>(),
            ),
            max_prompt_tokens: ok
                .iter()
                .filter_map(|r| r.prompt_tokens.or(r.prompt_n))
                .max()
                .unwrap_or(0),
            cache_hits: ok.iter().filter(|r| r.cached() > 0).count(),
        }
    }
}

const SHORT_PROMPTS: [&str; 4] = [
    "Name three primary colours.",
    "What is the capital of Norway? Answer in one word.",
    "Write a haiku about rivers.",
    "List the first five prime numbers.",
];

/// `words` words of filler, the same for the same count.
fn filler(words: usize) -> String {
    filler_from("Summarise this list in one sentence:", words)
}

/// `head`, then `words` words of filler.
fn filler_from(head: &str, words: usize) -> String {
    const WORDS: [&str; 8] = [
        "lantern", "meadow", "copper", "thistle", "harbour", "pebble", "orchard", "falcon",
    ];
    let mut text = String::from(head);
    for index in 0..words {
        text.push(' ');
        text.push_str(WORDS[(index * 7 + index / 8) % WORDS.len()]);
    }
    text
}

/// Tokens `prompt` becomes as a chat message to this server.
async fn prompt_tokens(client: &ChatClient, prompt: &str) -> Result<usize, fuelbench_llm::Error> {
    let messages = [Message::user(prompt)];
    let text = fuelbench_llm::apply_template(client, &messages)
        .await
        .unwrap_or_else(|| prompt.to_owned());
    fuelbench_llm::tokenize(client, &text).await
}

/// The longest filler prompt at most `target` tokens long, by binary
/// search over its word count; the prompt and its count.
pub async fn calibrate(
    client: &ChatClient,
    target: usize,
) -> Result<(String, usize), fuelbench_llm::Error> {
    let (words, tokens) = most_words_within(target, |words| async move {
        prompt_tokens(client, &filler(words)).await
    })
    .await?;
    Ok((filler(words), tokens))
}

/// The words of filler whose raw text (no chat template: it is one turn of
/// a longer conversation) comes closest to `target` tokens without passing
/// it; the word count and its tokens.
async fn calibrate_turn(
    client: &ChatClient,
    target: usize,
) -> Result<(usize, usize), fuelbench_llm::Error> {
    most_words_within(target, |words| async move {
        fuelbench_llm::tokenize(client, &filler_from("", words)).await
    })
    .await
}

/// The most words whose text `count` makes at most `target` tokens, by
/// binary search (one word when even that is over); the words and their
/// tokens.
async fn most_words_within<F, Counted>(
    target: usize,
    count: F,
) -> Result<(usize, usize), fuelbench_llm::Error>
where
    F: Fn(usize) -> Counted,
    Counted: std::future::Future<Output = Result<usize, fuelbench_llm::Error>>,
{
    let (mut low, mut high) = (1usize, target.max(2));
    let mut best = (1, count(1).await?);
    while low <= high {
        let middle = low + (high - low) / 2;
        let tokens = count(middle).await?;
        if tokens <= target {
            best = (middle, tokens);
            low = middle + 1;
        } else {
            high = middle - 1;
        }
    }
    Ok(best)
}

/// Asks once and streams the answer into a log; the reply's text.
async fn ask(
    client: &ChatClient,
    config: &SuiteConfig,
    index: usize,
    messages: Vec<Message>,
    cache: bool,
) -> (RequestLog, String) {
    let words = messages
        .iter()
        .map(|m| m.content.split_whitespace().count())
        .sum();
    let mut chat = ChatRequest::new(&config.model, messages);
    chat.max_tokens = config.max_tokens;
    chat.extra.insert("cache_prompt".into(), cache.into());
    let mut log = RequestLog::new(index, Duration::ZERO, words, config.max_tokens);
    let deadline = tokio::time::Instant::now() + config.timeout;
    let reply = stream_text_into(client, &chat, &mut log, deadline).await;
    (log, reply)
}

/// Runs one suite: warm-up, then the measured requests one at a time.
pub async fn run(
    client: &ChatClient,
    config: &SuiteConfig,
) -> Result<SuiteRun, fuelbench_llm::Error> {
    let mut warnings = Vec::new();
    let mut calibrated = None;
    // Calibration first: the warm-up then runs right before the measured
    // requests.
    let long = match config.suite {
        Suite::Long => {
            let (prompt, tokens) = calibrate(client, config.target_tokens).await?;
            calibrated = Some(tokens);
            Some(prompt)
        }
        _ => None,
    };
    let turn = match config.suite {
        Suite::MediumTurns => {
            let (words, tokens) = calibrate_turn(client, config.turn_tokens).await?;
            calibrated = Some(tokens);
            Some(words)
        }
        _ => None,
    };
    warm_up(client, config, &mut warnings).await;
    let requests = match (config.suite, long, turn) {
        (Suite::MediumTurns, _, Some(words)) => {
            conversation(client, config, words, &mut warnings).await
        }
        (suite, long, _) => {
            let prompt = |index: usize| match suite {
                Suite::Multi => SHORT_PROMPTS[index % SHORT_PROMPTS.len()].to_owned(),
                Suite::Long => long.clone().unwrap_or_default(),
                _ => "Say hello.".to_owned(),
            };
            let until = config
                .duration
                .filter(|_| suite == Suite::Multi)
                .map(|duration| Instant::now() + duration);
            let mut requests = Vec::new();
            while match until {
                Some(until) => Instant::now() < until,
                None => requests.len() < config.requests,
            } {
                let index = requests.len();
                let (log, _) = ask(
                    client,
                    config,
                    index,
                    vec![Message::user(prompt(index))],
                    false,
                )
                .await;
                if log.cached() > 0 {
                    warnings.push(format!(
                        "request {index} took {} prompt tokens from the cache, though this suite runs cold",
                        log.cached()
                    ));
                }
                requests.push(log);
            }
            requests
        }
    };
    let summary = SuiteSummary::of(&requests);
    Ok(SuiteRun {
        requests,
        calibrated_prompt_tokens: calibrated,
        warnings,
        summary,
    })
}

/// Unmeasured requests that share no prefix with any measured prompt, by
/// count or for a duration.
async fn warm_up(client: &ChatClient, config: &SuiteConfig, warnings: &mut Vec<String>) {
    let until = config.warmup_for.map(|duration| Instant::now() + duration);
    let mut index = 0;
    while match until {
        Some(until) => Instant::now() < until,
        None => index < config.warmup,
    } {
        let warm = format!("Warm-up {index}: count from one to five.");
        let (log, _) = ask(client, config, index, vec![Message::user(warm)], false).await;
        if let Some(failure) = log.failure {
            warnings.push(format!("warm-up {index} failed: {failure}"));
            if until.is_some() {
                // A duration of failures is not a warm-up.
                break;
            }
        }
        index += 1;
    }
}

/// `medium-turns`: each turn adds `words` words of filler (the calibrated
/// chunk) after the replies so far, until the server counts
/// `target_tokens` of prompt, or a turn fails.
async fn conversation(
    client: &ChatClient,
    config: &SuiteConfig,
    words: usize,
    warnings: &mut Vec<String>,
) -> Vec<RequestLog> {
    let mut messages: Vec<Message> = Vec::new();
    let mut requests: Vec<RequestLog> = Vec::new();
    // Bounded even if the server never says how long the prompt was.
    let most = config.target_tokens / config.turn_tokens.max(1) + 2;
    let mut sent_before = 0;
    for index in 0..most {
        let head = format!(
            "Part {} of my notes. Reply with one short sentence.",
            index + 1
        );
        messages.push(Message::user(filler_from(&head, words)));
        let (log, reply) = ask(client, config, index, messages.clone(), true).await;
        let failed = log.failure.is_some();
        if index > 0 && !failed && log.cached() < sent_before {
            warnings.push(format!(
                "turn {} took {} prompt tokens from the cache, fewer than the {sent_before} sent \
                 the turn before: the prompt cache is on, but did not keep the conversation",
                index + 1,
                log.cached()
            ));
        }
        let reached = log.prompt_tokens.or(log.prompt_n).unwrap_or(0);
        sent_before = reached;
        requests.push(log);
        if failed || reached as usize >= config.target_tokens {
            break;
        }
        messages.push(Message::assistant(reply));
    }
    requests
}

/// A figure over repeats: the mean and its 95% confidence interval's half
/// width (Student's t); no interval from one repeat.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Estimate {
    /// The mean of the finite values.
    pub mean: f64,
    /// Half the width of the 95% confidence interval (Student's t); `None` from
    /// one value.
    pub half_width: Option<f64>,
    /// How many finite values it is over.
    pub n: usize,
}

impl Estimate {
    /// The estimate over the finite `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let half_width = (n > 1).then(|| {
            let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
                .map_or(f64::NAN, |dist| dist.inverse_cdf(0.975));
            t * (variance / n as f64).sqrt()
        });
        Some(Estimate {
            mean,
            half_width,
            n,
        })
    }

    /// Whether the two intervals do not overlap.
    pub fn separates(&self, other: &Estimate) -> bool {
        match (self.half_width, other.half_width) {
            (Some(a), Some(b)) => (self.mean - other.mean).abs() > a + b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_separate_only_when_they_do_not_overlap() {
        let a = Estimate::of(&[10.0, 10.2, 9.8, 10.1]).expect("an estimate");
        let b = Estimate::of(&[12.0, 12.1, 11.9, 12.2]).expect("an estimate");
        let c = Estimate::of(&[10.1, 9.9, 10.3, 10.0]).expect("an estimate");
        assert!(a.separates(&b) && b.separates(&a));
        assert!(!a.separates(&c));
        let one = Estimate::of(&[5.0]).expect("an estimate");
        assert_eq!(one.half_width, None);
        assert!(!one.separates(&a), "one repeat gives no verdict");
        // t(0.975, 3) = 3.182: the half width of 4 values with sd 0.1708.
        let half = a.half_width.expect("an interval");
        assert!((half - 3.182 * 0.170783 / 2.0).abs() < 1e-3, "{half}");
    }

    #[test]
    fn filler_grows_word_by_word() {
        assert_eq!(filler(3).split_whitespace().count(), 6 + 3);
        assert!(filler(10).starts_with(&filler(9)));
    }
}
