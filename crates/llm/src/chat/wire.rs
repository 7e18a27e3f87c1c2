//! What goes over the wire: the request, and the completion folded from
//! what came back.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::Chunk;

/// One chat message, as the OpenAI API has it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Message {
    /// Who speaks: `system`, `user` or `assistant`.
    pub role: String,
    /// The message's text.
    pub content: String,
}

impl Message {
    /// A `system` message: instructions ahead of the conversation.
    pub fn system(content: impl Into<String>) -> Message {
        Message {
            role: "system".to_owned(),
            content: content.into(),
        }
    }

    /// A `user` message: what the model is asked.
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: "user".to_owned(),
            content: content.into(),
        }
    }

    /// An `assistant` message: one of the model's earlier answers, sent back as history.
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
    /// The model's name as the server lists it.
    pub model: String,
    /// The conversation so far, oldest first.
    pub messages: Vec<Message>,
    /// The most tokens to generate; it also sizes the request's overall deadline.
    pub max_tokens: u32,
    /// Sampling temperature; 0 is greedy.
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
    /// A request with the defaults: 8192 tokens at most, temperature 0, and no
    /// grammar, chat-template arguments or extra fields.
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

    pub(crate) fn body(&self) -> Value {
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
    pub(crate) fn prompt_tokens_estimate(&self) -> f64 {
        let chars: usize = self.messages.iter().map(|m| m.content.len()).sum();
        chars as f64 / 4.0
    }
}

/// Token counts as the server reports them in `usage`.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: Option<u64>,
    /// Tokens generated, reasoning included.
    pub completion_tokens: Option<u64>,
    /// Prompt and completion tokens together.
    pub total_tokens: Option<u64>,
    /// `usage.prompt_tokens_details.cached_tokens`.
    pub cached_tokens: Option<u64>,
}

/// llama-server's own `timings` object, when it sends one.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Timings {
    /// Prompt tokens evaluated, not counting those reused from the cache.
    pub prompt_n: Option<u64>,
    /// Time spent evaluating them, in milliseconds.
    pub prompt_ms: Option<f64>,
    /// Tokens generated.
    pub predicted_n: Option<u64>,
    /// Time spent generating them, in milliseconds.
    pub predicted_ms: Option<f64>,
    /// Generation speed, in tokens a second, prompt processing excluded.
    pub predicted_per_second: Option<f64>,
    /// Prompt tokens reused from the server's cache.
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
    /// Why generation stopped, as the server said: `stop`, or `length` at `max_tokens`.
    pub finish_reason: Option<String>,
    /// The server's token counts, from the last chunk that carried them.
    pub usage: Option<Usage>,
    /// llama-server's `timings`, from the last chunk that carried them.
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

impl Completion {
    /// Adds one chunk that arrived `at` after the request was sent.
    pub(crate) fn absorb(&mut self, chunk: &Chunk, at: Duration) {
        if let Some(model) = &chunk.model {
            self.model = Some(model.clone());
        }
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
        }
        if let Some(timings) = &chunk.timings {
            self.timings = Some(timings.clone());
        }
        if chunk.has_text() {
            self.text_chunks += 1;
            if self.first_token_s.is_none() {
                self.first_token_s = Some(at.as_secs_f64());
            }
        }
        self.content.push_str(&chunk.content);
        self.reasoning.push_str(&chunk.reasoning);
        if let Some(reason) = &chunk.finish_reason {
            self.finish_reason = Some(reason.clone());
        }
    }

    /// The end of the stream, `elapsed` after the request was sent.
    pub(crate) fn finish(&mut self, elapsed: Duration) {
        self.elapsed_s = elapsed.as_secs_f64();
        self.answer_from_reasoning =
            self.content.trim().is_empty() && !self.reasoning.trim().is_empty();
    }
}

pub(crate) fn parse_usage(usage: &Value) -> Usage {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn reasoning_fills_in_for_empty_content() {
        let mut completion = Completion::default();
        let chunk = json!({"choices": [{"delta": {"reasoning_content": "def f(): pass"}}]});
        completion.absorb(
            &Chunk::parse(&chunk, false).unwrap(),
            Duration::from_millis(5),
        );
        let chunk = json!({"choices": [{"delta": {"content": ""}, "finish_reason": "stop"}],
                           "usage": {"completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 3}}});
        completion.absorb(
            &Chunk::parse(&chunk, false).unwrap(),
            Duration::from_millis(9),
        );
        completion.finish(Duration::from_millis(10));
        assert!(completion.answer_from_reasoning);
        assert_eq!(completion.answer(), "def f(): pass");
        assert_eq!(completion.completion_tokens(), 7);
        assert_eq!(completion.first_token_s, Some(0.005));
        assert_eq!(completion.usage.unwrap().cached_tokens, Some(3));
    }
}
