//! Every way a request can fail, named.

use std::fmt;

use serde_json::Value;

use super::Completion;

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
#[expect(
    missing_docs,
    reason = "a doc comment on a unit variant would split the enum's JSON Schema into a oneOf"
)]
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
    /// Every class, in declaration order: for reading a name back and listing them all.
    pub const ALL: [FailureClass; 7] = [
        FailureClass::Connect,
        FailureClass::HttpStatus,
        FailureClass::RequestTimeout,
        FailureClass::StreamDropped,
        FailureClass::BadJson,
        FailureClass::EmptyAnswer,
        FailureClass::TokenLimit,
    ];

    /// The stable snake_case name that serde writes to results files.
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
    /// How it failed, as results files record it.
    pub class: FailureClass,
    /// What happened, in words: the transport error, the deadline missed, what was
    /// malformed, or the server's own message (clipped).
    pub message: String,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// What arrived before the failure, for the record.
    pub partial: Option<Box<Completion>>,
    /// Requests sent, retries included.
    pub attempts: u32,
}

impl ChatFailure {
    pub(crate) fn new(class: FailureClass, message: impl Into<String>) -> ChatFailure {
        ChatFailure {
            class,
            message: message.into(),
            status: None,
            partial: None,
            attempts: 1,
        }
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
    ChatFailure::new(class, fuelbench_stdx::error_chain(error))
}

/// The `message` of an OpenAI-style error body, else the body, clipped.
pub(crate) fn error_text(body: &str) -> String {
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

/// At most `max_chars` characters of `text`, with `...` when cut.
pub fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_message_is_extracted() {
        assert_eq!(
            error_text(r#"{"error":{"code":500,"message":"boom","type":"server_error"}}"#),
            "boom"
        );
        assert_eq!(error_text("plain text"), "plain text");
    }
}
