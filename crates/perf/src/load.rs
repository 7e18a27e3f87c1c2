//! Open- and closed-loop load against any OpenAI-compatible server.
//!
//! Every send time is drawn before the run starts (Poisson, constant, or
//! all at once), so a slow server cannot slow the arrivals: a request whose
//! time has come but finds every concurrency slot taken waits, and that
//! wait is recorded as queue time, never hidden. Lengths follow SGLang's
//! `--random-range-ratio` convention: each is drawn from `[r·L, L]`.
//! Input lengths are tokens where the server has `/tokenize` (each prompt
//! is fitted to its length before the run starts), words where it has not.
//! A run is bounded by its request count and a deadline, and stops by
//! itself.

use std::sync::Arc;
use std::time::Duration;

use fuelbench_llm::{ChatClient, ChatRequest, Message};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::log::RequestLog;

/// When requests are sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// All at once (`inf`).
    Burst,
    /// Exponential gaps with this mean rate, per second.
    Poisson(f64),
    /// Equal gaps at this rate, per second.
    Constant(f64),
}

impl std::str::FromStr for Rate {
    type Err = String;

    /// `inf`, `N` (Poisson at N/s), or `constant:N`.
    fn from_str(text: &str) -> Result<Rate, String> {
        let positive = |text: &str| match text.parse::<f64>() {
            Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
            _ => Err(format!(
                "{text:?} is not a rate: give inf, N (Poisson per second) or constant:N"
            )),
        };
        match text {
            "inf" => Ok(Rate::Burst),
            _ => match text.strip_prefix("constant:") {
                Some(rate) => positive(rate).map(Rate::Constant),
                None => positive(text).map(Rate::Poisson),
            },
        }
    }
}

/// What a plan's input length counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputUnit {
    /// Tokens of the prompt's text, as the server's `/tokenize` counts
    /// them; the chat template adds its own, which the server's usage
    /// includes.
    Tokens,
    /// Words of the prompt: for servers without `/tokenize`.
    Words,
}

/// A load run: how many requests, of what lengths, how they arrive.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPlan {
    /// The model's name as each request sends it.
    pub model: String,
    /// How many requests to send.
    pub requests: usize,
    /// Input length, in `input_unit`s.
    pub input_len: usize,
    /// What `input_len` counts: tokens, or words.
    pub input_unit: InputUnit,
    /// Output length, as `max_tokens`.
    pub output_len: u32,
    /// Each length is drawn from `[ratio·L, L]` (SGLang's convention); 1
    /// keeps them fixed.
    pub range_ratio: f64,
    /// When the requests are sent: all at once, or at Poisson or constant
    /// arrivals.
    pub rate: Rate,
    /// Requests in flight at most; `None` for no limit.
    pub max_concurrency: Option<usize>,
    /// The run stops here, whatever is left; requests in flight are cut.
    pub deadline: Duration,
    /// Seeds the arrival times, the lengths and the prompts' words, so a plan
    /// repeats exactly.
    pub seed: u64,
    /// In every prompt, before the seed: a word of this run alone (its
    /// start time, say), so no prefix cache holds a prompt from an earlier
    /// run of the same seed. Empty repeats the seed's prompts exactly.
    pub tag: String,
    /// Extra request fields (`ignore_eos`, `cache_prompt`...).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl LoadPlan {
    /// `requests` of fixed lengths, all at once, with no concurrency limit,
    /// a minute at most: a start to adjust with struct update syntax.
    pub fn fixed(model: &str, requests: usize, input_len: usize, output_len: u32) -> LoadPlan {
        LoadPlan {
            model: model.to_owned(),
            requests,
            input_len,
            input_unit: InputUnit::Words,
            output_len,
            range_ratio: 1.0,
            rate: Rate::Burst,
            max_concurrency: None,
            deadline: Duration::from_secs(60),
            seed: 1,
            tag: String::new(),
            extra: serde_json::Map::new(),
        }
    }
}

/// One request's shape, drawn before the run.
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    at: Duration,
    /// Its index, the run's tag and seed, and the request; then `words`.
    head: String,
    words: Vec<&'static str>,
    prompt: String,
    /// The drawn input length, in the plan's unit.
    input_len: usize,
    /// The prompt's tokens as the server counted them, once fitted.
    input_tokens: Option<u64>,
    max_tokens: u32,
}

/// The prompt of `head` and the first `words` of `all`. The words come
/// last, so each one adds its own tokens and nothing merges across the
/// seam (a tokenizer may read `:` and a newline after it as one token).
fn prompt_of(head: &str, all: &[&str], words: usize) -> String {
    let mut prompt = head.to_owned();
    for word in &all[..words.min(all.len())] {
        prompt.push(' ');
        prompt.push_str(word);
    }
    prompt
}

/// The prompts' words. Each prompt starts with its own index, then the
/// run's tag and seed, so no prefix cache serves one from another.
const WORDS: [&str; 24] = [
    "amber", "basil", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
    "kestrel", "lagoon", "marble", "nectar", "opal", "prairie", "quartz", "raven", "sierra",
    "tundra", "umber", "violet", "willow", "zephyr",
];

fn plan_requests(plan: &LoadPlan) -> Vec<Planned> {
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let ratio = plan.range_ratio.clamp(0.0, 1.0);
    let draw = |rng: &mut StdRng, length: usize| -> usize {
        let low = ((length as f64 * ratio).round() as usize).clamp(1, length.max(1));
        rng.random_range(low..=length.max(1))
    };
    let mut at = 0.0f64;
    (0..plan.requests)
        .map(|index| {
            match plan.rate {
                Rate::Burst => {}
                Rate::Constant(rate) => at = index as f64 / rate,
                Rate::Poisson(rate) => {
                    if index > 0 {
                        let uniform: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
                        at += -uniform.ln() / rate;
                    }
                }
            }
            let input_len = draw(&mut rng, plan.input_len);
            let max_tokens = draw(&mut rng, plan.output_len as usize) as u32;
            let words: Vec<&'static str> = (0..input_len)
                .map(|_| WORDS[rng.random_range(0..WORDS.len())])
                .collect();
            let head = format!(
                "Request {index} of run {}{}. Write a long story that uses these words:",
                plan.tag, plan.seed
            );
            Planned {
                at: Duration::from_secs_f64(at),
                prompt: prompt_of(&head, &words, words.len()),
                head,
                words,
                input_len,
                input_tokens: None,
                max_tokens,
            }
        })
        .collect()
}

/// Runs `plan` with `client`; every request's log, in index order.
///
/// A thread of its own keeps the schedule: it sleeps with the operating
/// system's fine-grained timer (tokio's wheel ticks in milliseconds) and
/// hands each request to the runtime when its time comes.
pub async fn run(client: &ChatClient, plan: &LoadPlan) -> Vec<RequestLog> {
    let mut planned = plan_requests(plan);
    if plan.input_unit == InputUnit::Tokens {
        fit_to_tokens(client, &mut planned).await;
    }
    let slots = plan
        .max_concurrency
        .map(|limit| Arc::new(Semaphore::new(limit.max(1))));
    let started = std::time::Instant::now();
    let deadline = Instant::from_std(started + plan.deadline);
    let (due, mut arrivals) = tokio::sync::mpsc::unbounded_channel();
    let times: Vec<Duration> = planned.iter().map(|request| request.at).collect();
    let pacer = std::thread::spawn(move || {
        for (index, at) in times.into_iter().enumerate() {
            let now = started.elapsed();
            if at > now {
                std::thread::sleep(at - now);
            }
            if due.send(index).is_err() {
                return;
            }
        }
    });
    let mut planned: Vec<Option<Planned>> = planned.into_iter().map(Some).collect();
    let mut tasks = tokio::task::JoinSet::new();
    while let Some(index) = arrivals.recv().await {
        let Some(request) = planned[index].take() else {
            continue;
        };
        let woke = started.elapsed();
        let (client, slots, plan) = (client.clone(), slots.clone(), plan.clone());
        tasks.spawn(async move {
            let mut log =
                RequestLog::new(index, request.at, request.words.len(), request.max_tokens);
            log.input_len = request.input_len;
            log.input_tokens = request.input_tokens;
            log.woke_s = woke.as_secs_f64();
            let _permit = match &slots {
                Some(slots) => {
                    match tokio::time::timeout_at(deadline, Arc::clone(slots).acquire_owned()).await
                    {
                        Ok(Ok(permit)) => Some(permit),
                        _ => {
                            log.failure = Some("deadline: never got a concurrency slot".into());
                            return log;
                        }
                    }
                }
                None => None,
            };
            let mut chat = ChatRequest::new(&plan.model, vec![Message::user(&request.prompt)]);
            chat.max_tokens = request.max_tokens;
            chat.temperature = 0.0;
            chat.extra = plan.extra.clone();
            log.sent_s = started.elapsed().as_secs_f64();
            stream_into(&client, &chat, &mut log, deadline).await;
            log
        });
    }
    let _ = pacer.join();
    let mut logs = Vec::with_capacity(plan.requests);
    while let Some(joined) = tasks.join_next().await {
        if let Ok(log) = joined {
            logs.push(log);
        }
    }
    logs.sort_by_key(|log| log.index);
    logs
}

/// Fits each prompt to its drawn length in tokens, as the server's
/// `/tokenize` counts them: words that are one token each are chosen
/// first, then each prompt's word count is corrected by what the server
/// counted until it is exact. A prompt the server could not count keeps
/// its words and no token count.
async fn fit_to_tokens(client: &ChatClient, planned: &mut [Planned]) {
    use futures_util::StreamExt;
    let single = single_token_words(client).await;
    if single.len() >= 4 {
        for word in planned
            .iter_mut()
            .flat_map(|request| request.words.iter_mut())
        {
            let drawn = WORDS.iter().position(|w| w == word).unwrap_or(0);
            *word = single[drawn % single.len()];
        }
    }
    let fitted: Vec<Option<(usize, u64)>> = futures_util::stream::iter(planned.iter())
        .map(|request| fit_one(client, request))
        .buffered(8)
        .collect()
        .await;
    for (request, fitted) in planned.iter_mut().zip(fitted) {
        if let Some((words, tokens)) = fitted {
            request.words.truncate(words);
            request.prompt = prompt_of(&request.head, &request.words, words);
            request.input_tokens = Some(tokens);
        }
    }
}

/// The words the server's tokenizer reads as one token after a space.
async fn single_token_words(client: &ChatClient) -> Vec<&'static str> {
    let mut single = Vec::new();
    for word in WORDS {
        if fuelbench_llm::tokenize(client, &format!(" {word}"))
            .await
            .ok()
            == Some(1)
        {
            single.push(word);
        }
    }
    single
}

/// The most words of `request` whose prompt is at most its length in
/// tokens, and that count: a few corrections, each by the difference the
/// server counted.
async fn fit_one(client: &ChatClient, request: &Planned) -> Option<(usize, u64)> {
    let target = request.input_len;
    let count = |words: usize| async move {
        fuelbench_llm::tokenize(client, &prompt_of(&request.head, &request.words, words))
            .await
            .ok()
    };
    let mut words = request.words.len();
    let mut tokens = count(words).await?;
    for _ in 0..8 {
        if tokens == target {
            break;
        }
        let next = (words as i64 + target as i64 - tokens as i64)
            .clamp(0, request.words.len() as i64) as usize;
        if next == words {
            break;
        }
        words = next;
        tokens = count(words).await?;
    }
    // Words of several tokens can overshoot: step back under the target.
    while tokens > target && words > 0 {
        words -= 1;
        tokens = count(words).await?;
    }
    Some((words, tokens as u64))
}

/// Sends `chat` and logs every event of its stream into `log`, or how it
/// failed; a stream still open at `deadline` is cut and said to be.
pub async fn stream_into(
    client: &ChatClient,
    chat: &ChatRequest,
    log: &mut RequestLog,
    deadline: Instant,
) {
    stream_logged(client, chat, log, deadline, None).await;
}

/// [`stream_into`], keeping the reply's content: what a conversation sends
/// back as the assistant's turn.
pub async fn stream_text_into(
    client: &ChatClient,
    chat: &ChatRequest,
    log: &mut RequestLog,
    deadline: Instant,
) -> String {
    let mut text = String::new();
    stream_logged(client, chat, log, deadline, Some(&mut text)).await;
    text
}

/// The one stream loop: every event logged, the content kept only where
/// asked (a load run keeps none of it).
async fn stream_logged(
    client: &ChatClient,
    chat: &ChatRequest,
    log: &mut RequestLog,
    deadline: Instant,
    mut text: Option<&mut String>,
) {
    let streamed = tokio::time::timeout_at(deadline, async {
        let mut stream = client.stream(chat).await?;
        while let Some(event) = stream.next().await {
            let event = event?;
            if let (Some(text), Some(chunk)) = (text.as_deref_mut(), &event.chunk) {
                text.push_str(&chunk.content);
            }
            log.record(&event);
        }
        Ok::<(), fuelbench_llm::ChatFailure>(())
    })
    .await;
    match streamed {
        Ok(Ok(())) => {}
        Ok(Err(failure)) => log.fail(&failure),
        Err(_) => log.failure = Some("deadline: cut off at the run's deadline".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(rate: Rate) -> LoadPlan {
        LoadPlan {
            model: "m".into(),
            requests: 2000,
            input_len: 100,
            input_unit: InputUnit::Words,
            output_len: 50,
            range_ratio: 0.5,
            rate,
            max_concurrency: None,
            deadline: Duration::from_secs(1),
            seed: 7,
            tag: String::new(),
            extra: serde_json::Map::new(),
        }
    }

    #[test]
    fn lengths_follow_sglangs_range_and_arrivals_their_rate() {
        let planned = plan_requests(&plan(Rate::Poisson(100.0)));
        assert!(planned.iter().all(|p| (50..=100).contains(&p.input_len)));
        assert!(planned.iter().all(|p| p.words.len() == p.input_len));
        assert!(planned.iter().all(|p| (25..=50).contains(&p.max_tokens)));
        // 2000 arrivals at 100/s take about 20 s.
        let last = planned.last().expect("planned").at.as_secs_f64();
        assert!((17.0..23.0).contains(&last), "{last}");
        let constant = plan_requests(&plan(Rate::Constant(10.0)));
        assert_eq!(constant[10].at, Duration::from_secs(1));
        assert!(
            plan_requests(&plan(Rate::Burst))
                .iter()
                .all(|p| p.at.is_zero())
        );
        // The same seed, the same run; prompts share no prefix past the run.
        assert_eq!(
            plan_requests(&plan(Rate::Burst)),
            plan_requests(&plan(Rate::Burst))
        );
        assert!(planned[1].prompt.starts_with("Request 1 of run 7. "));
    }

    #[test]
    fn rates_parse_or_say_what_they_take() {
        assert_eq!("inf".parse(), Ok(Rate::Burst));
        assert_eq!("2.5".parse(), Ok(Rate::Poisson(2.5)));
        assert_eq!("constant:4".parse(), Ok(Rate::Constant(4.0)));
        for bad in ["0", "-1", "fast", "constant:x", "NaN"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }
}
