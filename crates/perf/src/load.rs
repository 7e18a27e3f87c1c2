//! Open- and closed-loop load against any OpenAI-compatible server.
//!
//! Every send time is drawn before the run starts (Poisson, constant, or
//! all at once), so a slow server cannot slow the arrivals: a request whose
//! time has come but finds every concurrency slot taken waits, and that
//! wait is recorded as queue time, never hidden. Lengths follow SGLang's
//! `--random-range-ratio` convention: each is drawn from `[r·L, L]`.
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

/// A load run: how many requests, of what lengths, how they arrive.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPlan {
    pub model: String,
    pub requests: usize,
    /// Input length, in words of the generated prompt.
    pub input_len: usize,
    /// Output length, as `max_tokens`.
    pub output_len: u32,
    /// Each length is drawn from `[ratio·L, L]` (SGLang's convention); 1
    /// keeps them fixed.
    pub range_ratio: f64,
    pub rate: Rate,
    /// Requests in flight at most; `None` for no limit.
    pub max_concurrency: Option<usize>,
    /// The run stops here, whatever is left; requests in flight are cut.
    pub deadline: Duration,
    pub seed: u64,
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
            output_len,
            range_ratio: 1.0,
            rate: Rate::Burst,
            max_concurrency: None,
            deadline: Duration::from_secs(60),
            seed: 1,
            extra: serde_json::Map::new(),
        }
    }
}

/// One request's shape, drawn before the run.
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    at: Duration,
    prompt: String,
    input_words: usize,
    max_tokens: u32,
}

/// Words with no shared prefix across runs: each prompt starts with the
/// run's seed and its own index, so no prefix cache serves one from another.
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
            let input_words = draw(&mut rng, plan.input_len);
            let max_tokens = draw(&mut rng, plan.output_len as usize) as u32;
            let mut prompt = format!("Run {} request {index}:", plan.seed);
            for _ in 0..input_words {
                prompt.push(' ');
                prompt.push_str(WORDS[rng.random_range(0..WORDS.len())]);
            }
            prompt.push_str("\nWrite a long story that uses these words.");
            Planned {
                at: Duration::from_secs_f64(at),
                prompt,
                input_words,
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
    let planned = plan_requests(plan);
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
                RequestLog::new(index, request.at, request.input_words, request.max_tokens);
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

/// Sends `chat` and logs every event of its stream into `log`, or how it
/// failed; a stream still open at `deadline` is cut and said to be.
pub async fn stream_into(
    client: &ChatClient,
    chat: &ChatRequest,
    log: &mut RequestLog,
    deadline: Instant,
) {
    let streamed = tokio::time::timeout_at(deadline, async {
        let mut stream = client.stream(chat).await?;
        while let Some(event) = stream.next().await {
            log.record(&event?);
        }
        Ok::<(), fuelbench_llm::ChatFailure>(())
    })
    .await;
    match streamed {
        Ok(Ok(())) => {}
        Ok(Err(failure)) => {
            log.failure = Some(format!("{}: {}", failure.class.name(), failure.message));
        }
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
            output_len: 50,
            range_ratio: 0.5,
            rate,
            max_concurrency: None,
            deadline: Duration::from_secs(1),
            seed: 7,
            extra: serde_json::Map::new(),
        }
    }

    #[test]
    fn lengths_follow_sglangs_range_and_arrivals_their_rate() {
        let planned = plan_requests(&plan(Rate::Poisson(100.0)));
        assert!(planned.iter().all(|p| (50..=100).contains(&p.input_words)));
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
        assert!(planned[1].prompt.starts_with("Run 7 request 1:"));
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
