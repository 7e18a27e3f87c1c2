//! One chat completion over `/v1/chat/completions`, streamed, with timeouts
//! that follow the work and a failure class for every way it can go wrong.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

/// How a request failed. Stable snake_case names: they are written to
/// results files.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The server could not be reached (after the bounded retries).
    Connect,
    /// The server answered with a non-success status, or sent an error
    /// object in the stream.
    HttpStatus,
    // No first byte, no chunk for the idle timeout, or the overall budget
    // ran out. `timeout` in results files before schema 2. (Plain comments:
    // a doc comment would split the enum's JSON Schema.)
    #[serde(alias = "timeout")]
    RequestTimeout,
    /// The stream ended before the server said it was done.
    StreamDropped,
    /// A chunk or body that is not the JSON the API promises, or a body over
    /// the size cap.
    BadJson,
    /// The server finished but there is no text, in content or reasoning.
    EmptyAnswer,
    /// Generation stopped at `max_tokens`; the text is kept but cut off.
    TokenLimit,
}

impl FailureClass {
    pub const ALL: [FailureClass; 7] = [
        FailureClass::Connect,
        FailureClass::HttpStatus,
        FailureClass::RequestTimeout,
        FailureClass::StreamDropped,
        FailureClass::BadJson,
        FailureClass::EmptyAnswer,
        FailureClass::TokenLimit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FailureClass::Connect => "connect",
            FailureClass::HttpStatus => "http_status",
            FailureClass::RequestTimeout => "request_timeout",
            FailureClass::StreamDropped => "stream_dropped",
            FailureClass::BadJson => "bad_json",
            FailureClass::EmptyAnswer => "empty_answer",
            FailureClass::TokenLimit => "token_limit",
        }
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A request that did not produce a usable completion.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{class}: {message}")]
pub struct ChatFailure {
    pub class: FailureClass,
    pub message: String,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// What arrived before the failure, for the record.
    pub partial: Option<Box<Completion>>,
    /// Requests sent, retries included.
    pub attempts: u32,
}

impl ChatFailure {
    fn new(class: FailureClass, message: impl Into<String>) -> ChatFailure {
        ChatFailure {
            class,
            message: message.into(),
            status: None,
            partial: None,
            attempts: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message {
            role: "system".to_owned(),
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: "user".to_owned(),
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: "assistant".to_owned(),
            content: content.into(),
        }
    }
}

/// One request, as llama-server, vLLM, SGLang and Ollama accept it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    pub max_tokens: u32,
    pub temperature: f64,
    /// A GBNF grammar (llama-server's `grammar` field).
    pub grammar: Option<String>,
    /// Passed to the chat template, e.g. `{"enable_thinking": false}`.
    pub chat_template_kwargs: Option<Value>,
    /// Any other top-level fields, e.g. `reasoning_format` or
    /// `reasoning_effort`; they override nothing above.
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            messages,
            max_tokens: 8192,
            temperature: 0.0,
            grammar: None,
            chat_template_kwargs: None,
            extra: Map::new(),
        }
    }

    fn body(&self) -> Value {
        let mut body = self.extra.clone();
        body.insert("model".into(), json!(self.model));
        body.insert("messages".into(), json!(self.messages));
        body.insert("max_tokens".into(), json!(self.max_tokens));
        body.insert("temperature".into(), json!(self.temperature));
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({ "include_usage": true }));
        if let Some(grammar) = &self.grammar {
            body.insert("grammar".into(), json!(grammar));
        }
        if let Some(kwargs) = &self.chat_template_kwargs {
            body.insert("chat_template_kwargs".into(), kwargs.clone());
        }
        Value::Object(body)
    }

    /// A rough count for deriving the first-byte deadline: four characters
    /// a token is close enough for English and code.
    fn prompt_tokens_estimate(&self) -> f64 {
        let chars: usize = self.messages.iter().map(|m| m.content.len()).sum();
        chars as f64 / 4.0
    }
}

/// Token counts as the server reports them in `usage`.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Usage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub total_tokens: Option<u64>,
    /// `usage.prompt_tokens_details.cached_tokens`.
    pub cached_tokens: Option<u64>,
}

/// llama-server's own `timings` object, when it sends one.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Timings {
    pub prompt_n: Option<u64>,
    pub prompt_ms: Option<f64>,
    pub predicted_n: Option<u64>,
    pub predicted_ms: Option<f64>,
    pub predicted_per_second: Option<f64>,
    pub cache_n: Option<u64>,
}

/// What the server sent back. Fields absent from a saved copy read as their
/// defaults.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default)]
pub struct Completion {
    /// `content`, concatenated over the stream.
    pub content: String,
    /// `reasoning_content` (or `reasoning`), concatenated.
    pub reasoning: String,
    /// `content` was empty and the answer was taken from `reasoning`.
    pub answer_from_reasoning: bool,
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
    pub timings: Option<Timings>,
    /// The model the server says answered.
    pub model: Option<String>,
    /// From sending the request to the first content or reasoning text.
    pub first_token_s: Option<f64>,
    /// From sending the request to the end of the stream.
    pub elapsed_s: f64,
    /// Stream events that carried text.
    pub text_chunks: u64,
    /// Requests sent, retries included.
    pub attempts: u32,
}

impl Completion {
    /// The text to extract code from: `content`, or `reasoning` when the
    /// server put everything there.
    pub fn answer(&self) -> &str {
        if self.answer_from_reasoning {
            &self.reasoning
        } else {
            &self.content
        }
    }

    /// Tokens generated, from `usage`, else `timings`, else one a chunk.
    pub fn completion_tokens(&self) -> u64 {
        self.usage
            .as_ref()
            .and_then(|usage| usage.completion_tokens)
            .or_else(|| self.timings.as_ref().and_then(|t| t.predicted_n))
            .unwrap_or(self.text_chunks)
    }

    /// Generation speed: the server's own figure when it gives one (it
    /// excludes prompt processing and network), else tokens over the time
    /// after the first token.
    pub fn tokens_per_second(&self) -> Option<f64> {
        if let Some(tps) = self.timings.as_ref().and_then(|t| t.predicted_per_second)
            && tps.is_finite()
            && tps > 0.0
        {
            return Some(tps);
        }
        let generating = self.elapsed_s - self.first_token_s?;
        let tokens = self.completion_tokens();
        (generating > 0.0 && tokens > 1).then(|| (tokens - 1) as f64 / generating)
    }

    /// Generation ran into `max_tokens`.
    pub fn hit_token_limit(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }
}

/// Timeouts that follow the work rather than one fixed number.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeouts {
    /// To open the TCP connection.
    pub connect: Duration,
    /// To the first streamed event, before prompt processing is counted:
    /// a server that accepted the request but never starts is a stall.
    pub first_byte: Duration,
    /// The slowest prompt processing still called live, in tokens a second;
    /// the first-byte deadline grows by the prompt's length at this speed.
    pub min_prompt_tps: f64,
    /// Between two events once the stream has started. Servers stream every
    /// token, reasoning included, so a gap this long is a stall, not thought.
    pub idle: Duration,
    /// Generation speed assumed before one has been measured, in tokens a
    /// second; the overall budget is `max_tokens` at a quarter of the
    /// measured speed.
    pub min_generation_tps: f64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(60),
            min_prompt_tps: 10.0,
            idle: Duration::from_secs(30),
            min_generation_tps: 1.0,
        }
    }
}

/// Retries only for failures that cost the server nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Requests in all, the first included.
    pub attempts: u32,
    /// Wait before the first retry; doubles each time, up to 8x.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            backoff: Duration::from_secs(1),
        }
    }
}

#[derive(Clone, PartialEq)]
pub struct ClientConfig {
    /// The server's root, e.g. `http://127.0.0.1:8080` (a trailing `/v1`
    /// is accepted and dropped).
    pub base_url: String,
    /// Sent as a bearer token; never printed or written anywhere.
    pub api_key: Option<String>,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    /// Cap on one response, stream included. Replies of 8192 tokens are well
    /// under 1 MiB even with per-token JSON framing; 32 MiB only stops a
    /// broken server from filling memory.
    pub max_body_bytes: usize,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

impl ClientConfig {
    pub fn new(base_url: &str) -> ClientConfig {
        ClientConfig {
            base_url: normalize_base_url(base_url),
            api_key: None,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            max_body_bytes: 32 << 20,
        }
    }
}

/// `http://host:port/v1/` -> `http://host:port`.
pub fn normalize_base_url(url: &str) -> String {
    let trimmed = url.trim().trim_end_matches('/');
    trimmed.strip_suffix("/v1").unwrap_or(trimmed).to_owned()
}

/// A chat client for one server. Cheap to clone; clones share the measured
/// generation speed that sizes the overall budget.
#[derive(Debug, Clone)]
pub struct ChatClient {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    measured_tps: Arc<Mutex<Option<f64>>>,
}

impl ChatClient {
    pub fn new(config: ClientConfig) -> ChatClient {
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeouts.connect)
            .no_proxy()
            .build()
            .expect("a client without TLS or proxies has nothing to fail on");
        ChatClient {
            http,
            config: Arc::new(config),
            measured_tps: Arc::new(Mutex::new(None)),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url)
    }

    pub(crate) fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.config.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// The generation speed measured so far, if any.
    pub fn measured_tps(&self) -> Option<f64> {
        *self
            .measured_tps
            .lock()
            .expect("never poisoned: no panics inside")
    }

    /// The deadlines for `request`: first event, and the whole response.
    pub fn budget(&self, request: &ChatRequest) -> (Duration, Duration) {
        let timeouts = &self.config.timeouts;
        let first_byte = timeouts.first_byte
            + Duration::from_secs_f64(
                request.prompt_tokens_estimate() / timeouts.min_prompt_tps.max(0.01),
            );
        // A quarter of the measured speed: generation slows as the context
        // fills (a 0.5B on one CPU thread falls from 27 to 6 tok/s by 8k
        // tokens), and a live server must never be cut off.
        let speed = self
            .measured_tps()
            .map_or(timeouts.min_generation_tps, |tps| {
                (tps / 4.0).max(timeouts.min_generation_tps)
            });
        let generation = Duration::from_secs_f64(f64::from(request.max_tokens) / speed);
        (first_byte, first_byte + generation + timeouts.idle)
    }

    /// Sends `request` and reads the streamed reply. Connection refused and
    /// 503 (a model still loading) are retried with backoff; nothing else
    /// is, since anything else may have cost the server a generation.
    pub async fn chat(&self, request: &ChatRequest) -> Result<Completion, ChatFailure> {
        let retry = &self.config.retry;
        let mut backoff = retry.backoff;
        let mut attempt = 1;
        loop {
            match self.chat_once(request).await {
                Ok(mut completion) => {
                    completion.attempts = attempt;
                    if let Some(tps) = completion.tokens_per_second() {
                        *self.measured_tps.lock().expect("never poisoned") = Some(tps);
                    }
                    if completion.answer().trim().is_empty() {
                        return Err(ChatFailure {
                            attempts: attempt,
                            partial: Some(Box::new(completion)),
                            ..ChatFailure::new(
                                FailureClass::EmptyAnswer,
                                "the server finished with no content and no reasoning",
                            )
                        });
                    }
                    return Ok(completion);
                }
                Err(mut failure) => {
                    failure.attempts = attempt;
                    let free =
                        failure.class == FailureClass::Connect || failure.status == Some(503);
                    if !free || attempt >= retry.attempts {
                        return Err(failure);
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(retry.backoff * 8);
                    attempt += 1;
                }
            }
        }
    }

    async fn chat_once(&self, request: &ChatRequest) -> Result<Completion, ChatFailure> {
        let (first_byte, overall) = self.budget(request);
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + overall;
        let body = serde_json::to_vec(&request.body()).expect("a JSON value always serialises");
        let send = self
            .authorized(self.http.post(self.url("/v1/chat/completions")))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .body(body)
            .send();
        let response = match tokio::time::timeout(first_byte, send).await {
            Err(_) => {
                return Err(ChatFailure::new(
                    FailureClass::RequestTimeout,
                    format!("no response within {first_byte:.0?}"),
                ));
            }
            Ok(Err(error)) => return Err(transport_failure(&error)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !status.is_success() {
            let text = read_capped(response, 64 << 10).await.unwrap_or_default();
            return Err(ChatFailure {
                status: Some(status.as_u16()),
                ..ChatFailure::new(
                    FailureClass::HttpStatus,
                    format!("HTTP {status}: {}", error_text(&text)),
                )
            });
        }
        let is_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        let mut reader = StreamReader::new(started);
        if !is_stream {
            // A server that ignores `stream` sends one JSON body.
            let text = read_capped(response, self.config.max_body_bytes)
                .await
                .map_err(|failure| reader.fail(failure))?;
            let value: Value = serde_json::from_str(&text).map_err(|error| {
                reader.fail(ChatFailure::new(
                    FailureClass::BadJson,
                    format!("response body is not JSON: {error}"),
                ))
            })?;
            reader.absorb(&value, true).map_err(|f| reader.fail(f))?;
            reader.done = true;
            return Ok(reader.finish());
        }

        let max_body = self.config.max_body_bytes;
        let mut received = 0usize;
        let bytes = response.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(StreamError::Transport)?;
            received += chunk.len();
            if received > max_body {
                return Err(StreamError::TooLarge(max_body));
            }
            Ok(chunk)
        });
        let mut events = std::pin::pin!(bytes.eventsource());
        let idle = self.config.timeouts.idle;
        loop {
            let wait = if reader.events == 0 {
                first_byte.saturating_sub(started.elapsed())
            } else {
                idle
            };
            let next = tokio::time::timeout_at(
                deadline.min(tokio::time::Instant::now() + wait),
                events.next(),
            )
            .await;
            let event = match next {
                Err(_) => {
                    let what = if tokio::time::Instant::now() >= deadline {
                        format!("the overall budget of {overall:.0?} ran out")
                    } else if reader.events == 0 {
                        format!("no first event within {first_byte:.0?}")
                    } else {
                        format!("no data for {idle:.0?} mid-stream")
                    };
                    return Err(reader.fail(ChatFailure::new(FailureClass::RequestTimeout, what)));
                }
                Ok(None) => break,
                Ok(Some(Err(error))) => {
                    let failure = match error {
                        eventsource_stream::EventStreamError::Transport(StreamError::TooLarge(
                            cap,
                        )) => ChatFailure::new(
                            FailureClass::BadJson,
                            format!("the response exceeded the {cap}-byte cap"),
                        ),
                        eventsource_stream::EventStreamError::Transport(
                            StreamError::Transport(error),
                        ) => ChatFailure::new(
                            FailureClass::StreamDropped,
                            format!("the stream broke: {}", error_chain(&error)),
                        ),
                        other => ChatFailure::new(
                            FailureClass::BadJson,
                            format!("malformed event stream: {other}"),
                        ),
                    };
                    return Err(reader.fail(failure));
                }
                Ok(Some(Ok(event))) => event,
            };
            reader.events += 1;
            let data = event.data.trim();
            if data == "[DONE]" {
                reader.done = true;
                break;
            }
            if data.is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(data).map_err(|error| {
                reader.fail(ChatFailure::new(
                    FailureClass::BadJson,
                    format!("a stream chunk is not JSON ({error}): {}", clip(data, 200)),
                ))
            })?;
            reader.absorb(&value, false).map_err(|f| reader.fail(f))?;
        }
        if !reader.done && reader.completion.finish_reason.is_none() {
            return Err(reader.fail(ChatFailure::new(
                FailureClass::StreamDropped,
                "the stream ended before the server finished",
            )));
        }
        Ok(reader.finish())
    }
}

#[derive(Debug)]
enum StreamError {
    Transport(reqwest::Error),
    TooLarge(usize),
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Transport(error) => write!(f, "{}", error_chain(error)),
            StreamError::TooLarge(cap) => write!(f, "over the {cap}-byte cap"),
        }
    }
}

/// Accumulates a completion from stream chunks (or one whole body).
struct StreamReader {
    started: Instant,
    completion: Completion,
    events: u64,
    done: bool,
}

impl StreamReader {
    fn new(started: Instant) -> StreamReader {
        StreamReader {
            started,
            completion: Completion::default(),
            events: 0,
            done: false,
        }
    }

    /// One chunk (`delta`) or a whole response (`message`).
    fn absorb(&mut self, value: &Value, whole: bool) -> Result<(), ChatFailure> {
        if let Some(error) = value.get("error") {
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
        if let Some(model) = object.get("model").and_then(Value::as_str) {
            self.completion.model = Some(model.to_owned());
        }
        if let Some(usage) = object.get("usage").filter(|u| u.is_object()) {
            self.completion.usage = Some(parse_usage(usage));
        }
        if let Some(timings) = object.get("timings").filter(|t| t.is_object()) {
            self.completion.timings = serde_json::from_value(timings.clone()).ok();
        }
        let choices = object.get("choices").and_then(Value::as_array);
        for choice in choices.into_iter().flatten() {
            let part = choice.get(if whole { "message" } else { "delta" });
            if let Some(part) = part {
                let content = part.get("content").and_then(Value::as_str).unwrap_or("");
                let reasoning = part
                    .get("reasoning_content")
                    .or_else(|| part.get("reasoning"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !content.is_empty() || !reasoning.is_empty() {
                    self.completion.text_chunks += 1;
                    if self.completion.first_token_s.is_none() {
                        self.completion.first_token_s = Some(self.started.elapsed().as_secs_f64());
                    }
                }
                self.completion.content.push_str(content);
                self.completion.reasoning.push_str(reasoning);
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.completion.finish_reason = Some(reason.to_owned());
            }
        }
        Ok(())
    }

    fn fail(&self, mut failure: ChatFailure) -> ChatFailure {
        if failure.partial.is_none() && self.events > 0 {
            let mut partial = self.completion.clone();
            partial.elapsed_s = self.started.elapsed().as_secs_f64();
            failure.partial = Some(Box::new(partial));
        }
        failure
    }

    fn finish(mut self) -> Completion {
        self.completion.elapsed_s = self.started.elapsed().as_secs_f64();
        self.completion.answer_from_reasoning = self.completion.content.trim().is_empty()
            && !self.completion.reasoning.trim().is_empty();
        self.completion
    }
}

fn parse_usage(usage: &Value) -> Usage {
    let field = |name: &str| usage.get(name).and_then(Value::as_u64);
    Usage {
        prompt_tokens: field("prompt_tokens"),
        completion_tokens: field("completion_tokens"),
        total_tokens: field("total_tokens"),
        cached_tokens: usage
            .get("prompt_tokens_details")
            .and_then(|details| details.get("cached_tokens"))
            .and_then(Value::as_u64),
    }
}

pub(crate) fn transport_failure(error: &reqwest::Error) -> ChatFailure {
    let class = if error.is_connect() {
        FailureClass::Connect
    } else if error.is_timeout() {
        FailureClass::RequestTimeout
    } else {
        FailureClass::StreamDropped
    };
    ChatFailure::new(class, error_chain(error))
}

/// An error and its causes on one line: reqwest's top-level message is
/// generic, and the cause says what happened.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Reads a whole body, refusing more than `cap` bytes.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<String, ChatFailure> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err(ChatFailure::new(
                        FailureClass::BadJson,
                        format!("the response exceeded the {cap}-byte cap"),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(error) => {
                return Err(ChatFailure::new(
                    FailureClass::StreamDropped,
                    format!("the body broke: {}", error_chain(&error)),
                ));
            }
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The `message` of an OpenAI-style error body, else the body, clipped.
fn error_text(body: &str) -> String {
    let message = serde_json::from_str::<Value>(body).ok().and_then(|value| {
        let error = value.get("error").unwrap_or(&value);
        error
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| error.as_str().map(str::to_owned))
    });
    clip(message.as_deref().unwrap_or(body).trim(), 300)
}

fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_drops_v1_and_slashes() {
        assert_eq!(normalize_base_url("http://h:1/v1/"), "http://h:1");
        assert_eq!(normalize_base_url("http://h:1"), "http://h:1");
        assert_eq!(normalize_base_url(" http://h:1/ "), "http://h:1");
    }

    #[test]
    fn api_key_is_redacted_in_debug() {
        let mut config = ClientConfig::new("http://127.0.0.1:1");
        config.api_key = Some("sk-secret-value".into());
        let text = format!("{config:?}");
        assert!(!text.contains("sk-secret-value"), "{text}");
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn body_carries_the_per_request_controls() {
        let mut request = ChatRequest::new("m", vec![Message::user("hi")]);
        request.grammar = Some("root ::= \"x\"".into());
        request.chat_template_kwargs = Some(json!({ "enable_thinking": false }));
        request
            .extra
            .insert("reasoning_format".into(), json!("deepseek"));
        request.extra.insert("max_tokens".into(), json!(1));
        let body = request.body();
        assert_eq!(body["max_tokens"], 8192, "typed fields win over extra");
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["grammar"], "root ::= \"x\"");
        assert_eq!(body["chat_template_kwargs"]["enable_thinking"], false);
        assert_eq!(body["reasoning_format"], "deepseek");
    }

    #[test]
    fn budget_grows_with_prompt_and_shrinks_with_measured_speed() {
        let client = ChatClient::new(ClientConfig::new("http://127.0.0.1:1"));
        let short = ChatRequest::new("m", vec![Message::user("x")]);
        let long = ChatRequest::new("m", vec![Message::user("x".repeat(40_000))]);
        let (first_short, overall_unknown) = client.budget(&short);
        let (first_long, _) = client.budget(&long);
        assert!(first_long > first_short + Duration::from_secs(900));
        // 8192 tokens at the 1 tok/s floor, then at a quarter of 40 tok/s.
        assert!(overall_unknown > Duration::from_secs(8192));
        *client.measured_tps.lock().unwrap() = Some(40.0);
        let (_, overall_measured) = client.budget(&short);
        assert!(overall_measured < Duration::from_secs(1000));
        assert!(overall_measured > Duration::from_secs(819));
    }

    #[test]
    fn reasoning_fills_in_for_empty_content() {
        let mut reader = StreamReader::new(Instant::now());
        let chunk = json!({"choices": [{"delta": {"reasoning_content": "def f(): pass"}}]});
        reader.absorb(&chunk, false).unwrap();
        let chunk = json!({"choices": [{"delta": {"content": ""}, "finish_reason": "stop"}],
                           "usage": {"completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 3}}});
        reader.absorb(&chunk, false).unwrap();
        let completion = reader.finish();
        assert!(completion.answer_from_reasoning);
        assert_eq!(completion.answer(), "def f(): pass");
        assert_eq!(completion.completion_tokens(), 7);
        assert_eq!(completion.usage.unwrap().cached_tokens, Some(3));
    }

    #[test]
    fn error_body_message_is_extracted() {
        assert_eq!(
            error_text(r#"{"error":{"code":500,"message":"boom","type":"server_error"}}"#),
            "boom"
        );
        assert_eq!(error_text("plain text"), "plain text");
    }
}
