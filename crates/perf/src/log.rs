//! The raw event log: one record per request, with when it was scheduled,
//! admitted and sent, and when each of its stream events arrived. Every
//! figure in a summary is computed from these records and nothing else, so
//! a saved log can be summarised again under other definitions.

use std::time::Duration;

use fuelbench_llm::{Chunk, StreamEvent};

/// What one stream event carried. A chunk may carry several kinds; it is
/// logged as the first of: reasoning, content, role, usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// `role` and no text: not a token.
    Role,
    /// Reasoning text: output that TTFT counts and first content does not.
    Reasoning,
    /// Content text: the reply itself.
    Content,
    /// `usage` (or llama-server's `timings`) and no text.
    Usage,
    /// `[DONE]`.
    Done,
    /// Anything else: a chunk with only a finish reason, say.
    Other,
}

impl EventKind {
    /// Text the model produced: what TTFT and ITL count.
    pub fn is_text(self) -> bool {
        matches!(self, EventKind::Reasoning | EventKind::Content)
    }
}

/// One stream event, as it arrived.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoggedEvent {
    /// Seconds since the request was sent, on a monotonic clock.
    pub at_s: f64,
    /// What it carried (see [`EventKind`]).
    pub kind: EventKind,
    /// Bytes of UTF-8 text it carried.
    pub chars: usize,
}

impl LoggedEvent {
    /// `event` as logged: its arrival in seconds, its kind, and the length of
    /// its text.
    pub fn of(event: &StreamEvent) -> LoggedEvent {
        let (kind, chars) = match &event.chunk {
            None => (EventKind::Done, 0),
            Some(chunk) => (kind_of(chunk), chunk.content.len() + chunk.reasoning.len()),
        };
        LoggedEvent {
            at_s: event.at.as_secs_f64(),
            kind,
            chars,
        }
    }
}

fn kind_of(chunk: &Chunk) -> EventKind {
    if !chunk.reasoning.is_empty() {
        EventKind::Reasoning
    } else if !chunk.content.is_empty() {
        EventKind::Content
    } else if chunk.role.is_some() {
        EventKind::Role
    } else if chunk.usage.is_some() || chunk.timings.is_some() {
        EventKind::Usage
    } else {
        EventKind::Other
    }
}

/// One request of a run, from its schedule to its last event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RequestLog {
    /// The request's place in the run, from 0.
    pub index: usize,
    /// When the arrival process meant to send it, in seconds since the run
    /// began.
    pub scheduled_s: f64,
    /// When the generator got to it: later than scheduled by its own lag.
    pub woke_s: f64,
    /// When it was sent, once it held a concurrency slot.
    pub sent_s: f64,
    /// Requested lengths: the input length drawn, in the plan's unit; the
    /// prompt's words; and its tokens as the server's `/tokenize` counted
    /// them when it was fitted to a length in tokens.
    #[serde(default)]
    pub input_len: usize,
    /// The prompt's length in words, as the generator built it.
    pub input_words: usize,
    /// The prompt's tokens as `/tokenize` counted them; `None` unless fitted to
    /// a length in tokens.
    #[serde(default)]
    pub input_tokens: Option<u64>,
    /// The `max_tokens` the request asked for.
    pub max_tokens: u32,
    /// Every stream event, in the order it arrived.
    pub events: Vec<LoggedEvent>,
    /// From the server's usage, when it sent one.
    pub prompt_tokens: Option<u64>,
    /// Output tokens, from the server's usage.
    pub completion_tokens: Option<u64>,
    /// Prompt tokens taken from the server's cache, from its usage.
    pub cached_tokens: Option<u64>,
    /// llama-server's own `timings`, when it sent them: tokens generated,
    /// prompt tokens processed and taken from the cache, and their times.
    pub predicted_n: Option<u64>,
    /// Milliseconds llama-server spent generating `predicted_n` tokens.
    #[serde(default)]
    pub predicted_ms: Option<f64>,
    /// Prompt tokens llama-server processed, not taking them from its cache.
    #[serde(default)]
    pub prompt_n: Option<u64>,
    /// Milliseconds llama-server spent processing `prompt_n` prompt tokens.
    #[serde(default)]
    pub prompt_ms: Option<f64>,
    /// Prompt tokens llama-server took from its cache.
    #[serde(default)]
    pub cache_n: Option<u64>,
    /// The failure class and message, when the request failed.
    pub failure: Option<String>,
}

impl RequestLog {
    /// A request scheduled `scheduled` after the run began, with no events yet;
    /// until set, its woken and sent times are its schedule and its `input_len`
    /// is `input_words`.
    pub fn new(
        index: usize,
        scheduled: Duration,
        input_words: usize,
        max_tokens: u32,
    ) -> RequestLog {
        RequestLog {
            index,
            scheduled_s: scheduled.as_secs_f64(),
            woke_s: scheduled.as_secs_f64(),
            sent_s: scheduled.as_secs_f64(),
            input_len: input_words,
            input_words,
            input_tokens: None,
            max_tokens,
            events: Vec::new(),
            prompt_tokens: None,
            completion_tokens: None,
            cached_tokens: None,
            predicted_n: None,
            predicted_ms: None,
            prompt_n: None,
            prompt_ms: None,
            cache_n: None,
            failure: None,
        }
    }

    /// Logs one stream event, and the counts it carries.
    pub fn record(&mut self, event: &StreamEvent) {
        self.events.push(LoggedEvent::of(event));
        if let Some(chunk) = &event.chunk {
            if let Some(usage) = &chunk.usage {
                self.prompt_tokens = usage.prompt_tokens.or(self.prompt_tokens);
                self.completion_tokens = usage.completion_tokens.or(self.completion_tokens);
                self.cached_tokens = usage.cached_tokens.or(self.cached_tokens);
            }
            if let Some(timings) = &chunk.timings {
                self.predicted_n = timings.predicted_n.or(self.predicted_n);
                self.predicted_ms = timings.predicted_ms.or(self.predicted_ms);
                self.prompt_n = timings.prompt_n.or(self.prompt_n);
                self.prompt_ms = timings.prompt_ms.or(self.prompt_ms);
                self.cache_n = timings.cache_n.or(self.cache_n);
            }
        }
    }

    /// Records how the request failed, as `class: message`.
    pub fn fail(&mut self, failure: &fuelbench_llm::ChatFailure) {
        self.failure = Some(format!("{}: {}", failure.class.name(), failure.message));
    }

    /// Seconds from sending to the first reasoning or content text; never a
    /// role-only chunk.
    pub fn ttft_s(&self) -> Option<f64> {
        self.events
            .iter()
            .find(|event| event.kind.is_text())
            .map(|event| event.at_s)
    }

    /// Seconds from sending to the first content text (reasoning excluded).
    pub fn first_content_s(&self) -> Option<f64> {
        self.events
            .iter()
            .find(|event| event.kind == EventKind::Content)
            .map(|event| event.at_s)
    }

    /// Seconds from sending to the last event.
    pub fn e2e_s(&self) -> Option<f64> {
        self.events.last().map(|event| event.at_s)
    }

    /// Gaps between successive text events: per-chunk inter-token latency.
    pub fn chunk_gaps_s(&self) -> Vec<f64> {
        let times: Vec<f64> = self
            .events
            .iter()
            .filter(|event| event.kind.is_text())
            .map(|event| event.at_s)
            .collect();
        times.windows(2).map(|pair| pair[1] - pair[0]).collect()
    }

    /// How many events carried text (reasoning or content): chunks, not tokens.
    pub fn text_events(&self) -> usize {
        self.events
            .iter()
            .filter(|event| event.kind.is_text())
            .count()
    }

    /// Output tokens and where the figure came from: the server's usage,
    /// else llama-server's timings, else the text chunks (labelled as
    /// such). Never the requested length.
    pub fn output_tokens(&self) -> (u64, TokenSource) {
        match (self.completion_tokens, self.predicted_n) {
            (Some(n), _) => (n, TokenSource::Usage),
            (None, Some(n)) => (n, TokenSource::Timings),
            (None, None) => (self.text_events() as u64, TokenSource::Chunks),
        }
    }

    /// Prompt tokens the server took from its cache, by either count.
    pub fn cached(&self) -> u64 {
        self.cached_tokens.or(self.cache_n).unwrap_or(0)
    }

    /// Prompt tokens of its own text the server took from its cache: those
    /// beyond what the chat template adds (the template's opening is the
    /// same for every prompt, and any server may keep it), where the prompt
    /// was fitted to a length in tokens; every cached token otherwise.
    pub fn cached_text(&self) -> u64 {
        let cached = self.cached();
        match (self.input_tokens, self.prompt_tokens) {
            (Some(text), Some(prompt)) => cached.saturating_sub(prompt.saturating_sub(text)),
            _ => cached,
        }
    }

    /// Whether it ended without a failure and produced text.
    pub fn succeeded(&self) -> bool {
        self.failure.is_none() && self.ttft_s().is_some()
    }
}

/// Where an output token count came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// The server's usage (`completion_tokens`).
    Usage,
    /// llama-server's `timings` (`predicted_n`), where no usage came.
    Timings,
    /// Text chunks counted: an undercount where a chunk holds several.
    Chunks,
}
