//! One streamed completion, event by event, each stamped on arrival.
//!
//! [`ChatStream`] is the only SSE reader: [`ChatClient::chat`] folds it into
//! a [`Completion`], and a load generator can read it directly for
//! time-to-first-token and inter-token gaps. Its deadlines (first event,
//! idle gap, overall budget) are fixed when the request is sent and belong
//! to it alone.
//!
//! [`ChatClient::chat`]: super::ChatClient::chat

use std::fmt;
use std::pin::Pin;
use std::time::{Duration, Instant};

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use serde_json::Value;

use super::client::read_capped;
use fuelbench_stdx::error_chain;

use super::failure::{clip, error_text};
use super::wire::parse_usage;
use super::{ChatFailure, FailureClass, Timings, Usage};

/// One server-sent event, as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    /// Since the request was sent, on a monotonic clock.
    pub at: Duration,
    /// The parsed chunk; `None` for the `[DONE]` marker.
    pub chunk: Option<Chunk>,
}

/// What one chunk carried. A role-only chunk has `role` and no text; a
/// usage-only chunk has `usage` and no choices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk {
    /// The `role` delta, usually `assistant` on the first chunk.
    pub role: Option<String>,
    /// The `content` delta.
    pub content: String,
    /// The `reasoning_content` (or `reasoning`) delta.
    pub reasoning: String,
    /// Why generation stopped (`stop`, or `length` at `max_tokens`), on the chunk that ends it.
    pub finish_reason: Option<String>,
    /// The server's token counts, usually on a chunk of their own at the end.
    pub usage: Option<Usage>,
    /// llama-server's `timings`, usually on the last chunk.
    pub timings: Option<Timings>,
    /// The model the server says is answering.
    pub model: Option<String>,
}

impl Chunk {
    /// Whether it carried content or reasoning text: what time to first
    /// token counts from, never a role-only chunk.
    pub fn has_text(&self) -> bool {
        !self.content.is_empty() || !self.reasoning.is_empty()
    }

    /// One chunk (`delta`), or a whole response (`message`) from a server
    /// that ignored `stream`. An error object is the server's failure.
    pub(crate) fn parse(value: &Value, whole: bool) -> Result<Chunk, ChatFailure> {
        // `{"error": {...}}`, or vLLM's older bare `{"object": "error", ...}`.
        let error = value.get("error").or_else(|| {
            (value.get("object").and_then(Value::as_str) == Some("error")).then_some(value)
        });
        if let Some(error) = error {
            let status = error
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|code| u16::try_from(code).ok());
            return Err(ChatFailure {
                status,
                ..ChatFailure::new(
                    FailureClass::HttpStatus,
                    format!(
                        "the server reported an error: {}",
                        error_text(&error.to_string())
                    ),
                )
            });
        }
        let Some(object) = value.as_object() else {
            return Err(ChatFailure::new(
                FailureClass::BadJson,
                format!(
                    "a chunk is not a JSON object: {}",
                    clip(&value.to_string(), 200)
                ),
            ));
        };
        let mut chunk = Chunk {
            model: object
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_owned),
            usage: object
                .get("usage")
                .filter(|usage| usage.is_object())
                .map(parse_usage),
            timings: object
                .get("timings")
                .filter(|timings| timings.is_object())
                .and_then(|timings| serde_json::from_value(timings.clone()).ok()),
            ..Chunk::default()
        };
        let choices = object.get("choices").and_then(Value::as_array);
        for choice in choices.into_iter().flatten() {
            if let Some(part) = choice.get(if whole { "message" } else { "delta" }) {
                let text = |name: &str| part.get(name).and_then(Value::as_str).unwrap_or("");
                chunk.content.push_str(text("content"));
                let reasoning = match text("reasoning_content") {
                    "" => text("reasoning"),
                    reasoning => reasoning,
                };
                chunk.reasoning.push_str(reasoning);
                if let Some(role) = part.get("role").and_then(Value::as_str) {
                    chunk.role = Some(role.to_owned());
                }
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                chunk.finish_reason = Some(reason.to_owned());
            }
        }
        Ok(chunk)
    }
}

type Events = Pin<Box<dyn Stream<Item = Result<Event, EventStreamError<BodyError>>> + Send>>;

/// A response being read: its events, and the deadlines of its request.
pub struct ChatStream {
    body: Body,
    sent: Instant,
    first_byte: Duration,
    idle: Duration,
    overall: Duration,
    deadline: tokio::time::Instant,
    /// Server-sent events read so far, empty ones included.
    events: u64,
    ended: bool,
}

enum Body {
    Events(Events),
    /// A server that ignored `stream` sent one JSON body; it is read as one
    /// chunk, then `[DONE]`.
    Whole(Option<Value>),
}

impl fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatStream")
            .field("first_byte", &self.first_byte)
            .field("idle", &self.idle)
            .field("overall", &self.overall)
            .field("events", &self.events)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// The per-request deadlines, fixed when the request is sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    pub(crate) first_byte: Duration,
    pub(crate) idle: Duration,
    pub(crate) overall: Duration,
}

impl ChatStream {
    /// Reads `response` as server-sent events, at most `max_body` bytes.
    pub(crate) fn events(
        response: reqwest::Response,
        sent: Instant,
        deadlines: Deadlines,
        max_body: usize,
    ) -> ChatStream {
        let mut received = 0usize;
        let bytes = response.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(BodyError::Transport)?;
            received += chunk.len();
            if received > max_body {
                return Err(BodyError::TooLarge(max_body));
            }
            Ok(chunk)
        });
        ChatStream::new(Body::Events(Box::pin(bytes.eventsource())), sent, deadlines)
    }

    /// A response that came as one JSON body.
    pub(crate) async fn whole(
        response: reqwest::Response,
        sent: Instant,
        deadlines: Deadlines,
        max_body: usize,
    ) -> Result<ChatStream, ChatFailure> {
        let text = read_capped(response, max_body).await?;
        let value: Value = serde_json::from_str(&text).map_err(|error| {
            ChatFailure::new(
                FailureClass::BadJson,
                format!("response body is not JSON: {error}"),
            )
        })?;
        Ok(ChatStream::new(Body::Whole(Some(value)), sent, deadlines))
    }

    fn new(body: Body, sent: Instant, deadlines: Deadlines) -> ChatStream {
        ChatStream {
            body,
            sent,
            first_byte: deadlines.first_byte,
            idle: deadlines.idle,
            overall: deadlines.overall,
            deadline: tokio::time::Instant::from_std(sent) + deadlines.overall,
            events: 0,
            ended: false,
        }
    }

    /// Since the request was sent.
    pub fn elapsed(&self) -> Duration {
        self.sent.elapsed()
    }

    /// Events read so far, empty keep-alives included.
    pub fn events_read(&self) -> u64 {
        self.events
    }

    /// The next event; `None` once the stream has ended (after `[DONE]`, or
    /// when the server closed it). A failure ends the stream too. Empty
    /// keep-alive events are read but not returned.
    pub async fn next(&mut self) -> Option<Result<StreamEvent, ChatFailure>> {
        if self.ended {
            return None;
        }
        let result = self.read().await;
        if !matches!(result, Some(Ok(StreamEvent { chunk: Some(_), .. }))) {
            self.ended = true;
        }
        result
    }

    async fn read(&mut self) -> Option<Result<StreamEvent, ChatFailure>> {
        let events = match &mut self.body {
            Body::Whole(value) => {
                let value = value.take()?;
                self.events += 1;
                let at = self.sent.elapsed();
                return Some(Chunk::parse(&value, true).map(|chunk| StreamEvent {
                    at,
                    chunk: Some(chunk),
                }));
            }
            Body::Events(events) => events,
        };
        loop {
            let wait = if self.events == 0 {
                self.first_byte.saturating_sub(self.sent.elapsed())
            } else {
                self.idle
            };
            let next = tokio::time::timeout_at(
                self.deadline.min(tokio::time::Instant::now() + wait),
                events.next(),
            )
            .await;
            let event = match next {
                Err(_) => {
                    let what = if tokio::time::Instant::now() >= self.deadline {
                        format!("the overall budget of {:.0?} ran out", self.overall)
                    } else if self.events == 0 {
                        format!("no first event within {:.0?}", self.first_byte)
                    } else {
                        format!("no data for {:.0?} mid-stream", self.idle)
                    };
                    return Some(Err(ChatFailure::new(FailureClass::RequestTimeout, what)));
                }
                Ok(None) => return None,
                Ok(Some(Err(error))) => return Some(Err(stream_failure(error))),
                Ok(Some(Ok(event))) => event,
            };
            let at = self.sent.elapsed();
            self.events += 1;
            if let Some(parsed) = StreamEvent::from_data(&event.data, at) {
                return Some(parsed);
            }
        }
    }
}

impl StreamEvent {
    /// One event's `data`, arrived `at` after sending: a chunk, `[DONE]`, or
    /// the server's error; `None` for an empty keep-alive. The stream reader
    /// and offline replays of recorded streams share it.
    pub fn from_data(data: &str, at: Duration) -> Option<Result<StreamEvent, ChatFailure>> {
        let data = data.trim();
        if data == "[DONE]" {
            return Some(Ok(StreamEvent { at, chunk: None }));
        }
        if data.is_empty() {
            return None;
        }
        let value: Value = match serde_json::from_str(data) {
            Ok(value) => value,
            Err(error) => {
                return Some(Err(ChatFailure::new(
                    FailureClass::BadJson,
                    format!("a stream chunk is not JSON ({error}): {}", clip(data, 200)),
                )));
            }
        };
        Some(Chunk::parse(&value, false).map(|chunk| StreamEvent {
            at,
            chunk: Some(chunk),
        }))
    }
}

#[derive(Debug)]
pub(crate) enum BodyError {
    Transport(reqwest::Error),
    TooLarge(usize),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Transport(error) => write!(f, "{}", error_chain(error)),
            BodyError::TooLarge(cap) => write!(f, "over the {cap}-byte cap"),
        }
    }
}

fn stream_failure(error: EventStreamError<BodyError>) -> ChatFailure {
    match error {
        EventStreamError::Transport(BodyError::TooLarge(cap)) => ChatFailure::new(
            FailureClass::BadJson,
            format!("the response exceeded the {cap}-byte cap"),
        ),
        EventStreamError::Transport(BodyError::Transport(error)) => ChatFailure::new(
            FailureClass::StreamDropped,
            format!("the stream broke: {}", error_chain(&error)),
        ),
        other => ChatFailure::new(
            FailureClass::BadJson,
            format!("malformed event stream: {other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn chunks_of_every_shape_parse() {
        let role = Chunk::parse(
            &json!({"choices": [{"delta": {"role": "assistant"}}]}),
            false,
        )
        .unwrap();
        assert_eq!(role.role.as_deref(), Some("assistant"));
        assert!(!role.has_text(), "a role-only chunk is not a first token");
        let reasoning = Chunk::parse(
            &json!({"choices": [{"delta": {"reasoning_content": "hm"}}]}),
            false,
        )
        .unwrap();
        assert!(reasoning.has_text(), "reasoning counts as output");
        let usage = Chunk::parse(
            &json!({"choices": [], "usage": {"completion_tokens": 9}, "timings": {"predicted_n": 9}}),
            false,
        )
        .unwrap();
        assert_eq!(usage.usage.unwrap().completion_tokens, Some(9));
        assert_eq!(usage.timings.unwrap().predicted_n, Some(9));
        let error = Chunk::parse(
            &json!({"error": {"code": 503, "message": "loading"}}),
            false,
        )
        .unwrap_err();
        assert_eq!(error.class, FailureClass::HttpStatus);
        assert_eq!(error.status, Some(503));
        assert!(Chunk::parse(&json!([1]), false).is_err());
    }
}
