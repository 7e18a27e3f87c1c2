//! The client: configuration, retries, and the request that opens a
//! [`ChatStream`].

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fuelbench_stdx::error_chain;

use super::failure::{error_text, transport_failure};
use super::stream::Deadlines;
use super::{ChatFailure, ChatRequest, ChatStream, Completion, FailureClass};

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

/// How to reach one server, and the bounds every request to it keeps to.
#[derive(Clone, PartialEq)]
pub struct ClientConfig {
    /// The server's root, e.g. `http://127.0.0.1:8080` (a trailing `/v1`
    /// is accepted and dropped).
    pub base_url: String,
    /// Sent as a bearer token; never printed or written anywhere.
    pub api_key: Option<String>,
    /// How long each phase of a request may take.
    pub timeouts: Timeouts,
    /// How often, and after what wait, a failure that cost the server nothing is retried.
    pub retry: RetryPolicy,
    /// Cap on one response, stream included. Replies of 8192 tokens are well
    /// under 1 MiB even with per-token JSON framing; 32 MiB only stops a
    /// broken server from filling memory.
    pub max_body_bytes: usize,
    /// Certificate authorities trusted beside the system's, for a server
    /// behind HTTPS with a private CA (`--ca-cert`).
    pub ca_certificates: CaCertificates,
}

/// Certificate authorities to trust beside the system's, read from a PEM
/// file; two are equal when read from the same text.
#[derive(Clone, Default)]
pub struct CaCertificates {
    pem: Arc<[u8]>,
    certificates: Vec<reqwest::Certificate>,
}

impl PartialEq for CaCertificates {
    fn eq(&self, other: &CaCertificates) -> bool {
        self.pem == other.pem
    }
}

impl Eq for CaCertificates {}

impl fmt::Debug for CaCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaCertificates({})", self.certificates.len())
    }
}

impl CaCertificates {
    /// The certificates in the PEM file at `path`: at least one, each one
    /// a client can trust.
    pub fn read(path: &std::path::Path) -> std::io::Result<CaCertificates> {
        let pem = std::fs::read(path)?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))?;
        if certificates.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "no PEM certificate in it",
            ));
        }
        let certificates = CaCertificates {
            pem: pem.into(),
            certificates,
        };
        // Whatever would keep a client from being built with them shows
        // here, where the file is named, not when a run starts.
        certificates
            .builder()
            .build()
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))?;
        Ok(certificates)
    }

    /// A client builder that trusts them beside the system's authorities.
    fn builder(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder();
        if self.certificates.is_empty() {
            builder
        } else {
            builder.tls_certs_merge(self.certificates.iter().cloned())
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("ca_certificates", &self.ca_certificates)
            .finish()
    }
}

impl ClientConfig {
    /// The defaults for the server at `base_url` (normalised): no API key, the
    /// default timeouts and retries, and a 32 MiB cap on a response.
    pub fn new(base_url: &str) -> ClientConfig {
        ClientConfig {
            base_url: normalize_base_url(base_url),
            api_key: None,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            max_body_bytes: 32 << 20,
            ca_certificates: CaCertificates::default(),
        }
    }
}

/// `http://host:port/v1/` -> `http://host:port`.
pub fn normalize_base_url(url: &str) -> String {
    let trimmed = url.trim().trim_end_matches('/');
    trimmed.strip_suffix("/v1").unwrap_or(trimmed).to_owned()
}

/// A chat client for one server. Cheap to clone; each clone keeps its own
/// measured generation speed, which sizes the overall budget of its next
/// requests (a request's deadlines are fixed when it is sent).
#[derive(Debug)]
pub struct ChatClient {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    measured_tps: Mutex<Option<f64>>,
}

impl Clone for ChatClient {
    fn clone(&self) -> ChatClient {
        ChatClient {
            http: self.http.clone(),
            config: Arc::clone(&self.config),
            measured_tps: Mutex::new(self.measured_tps()),
        }
    }
}

impl ChatClient {
    /// A client for the server `config` names, over HTTP or HTTPS (the
    /// system's certificate authorities, and the config's own), with no
    /// speed measured yet. Proxy settings in the environment are ignored.
    pub fn new(config: ClientConfig) -> ChatClient {
        let http = config
            .ca_certificates
            .builder()
            .connect_timeout(config.timeouts.connect)
            .no_proxy()
            .build()
            .expect("a client's certificates were checked when they were read");
        ChatClient {
            http,
            config: Arc::new(config),
            measured_tps: Mutex::new(None),
        }
    }

    /// The configuration it was made with.
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
        *fuelbench_stdx::lock(&self.measured_tps)
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
                        *fuelbench_stdx::lock(&self.measured_tps) = Some(tps);
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

    /// Sends `request` and returns its response as a stream of timed
    /// events, once the server has answered with a success status. No
    /// retries: [`ChatClient::chat`] retries.
    pub async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, ChatFailure> {
        let (first_byte, overall) = self.budget(request);
        let deadlines = Deadlines {
            first_byte,
            idle: self.config.timeouts.idle,
            overall,
        };
        let sent = Instant::now();
        let body = serde_json::to_vec(&request.body()).expect("a JSON value always serialises");
        let send = || {
            self.authorized(self.http.post(self.url("/v1/chat/completions")))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::ACCEPT, "text/event-stream")
                .body(body.clone())
                .send()
        };
        let mut sent_once = tokio::time::timeout(first_byte, send()).await;
        // A pooled connection the server closed as the request went out:
        // the server never read it, so sending it again on a new connection
        // asks nothing twice. (llama-server closes keep-alive connections
        // on its own schedule; without this, a load run loses a request now
        // and then to a "dropped stream" that never started.)
        if let Ok(Err(error)) = &sent_once
            && is_stale_connection(error)
        {
            let left = first_byte.saturating_sub(sent.elapsed());
            sent_once = tokio::time::timeout(left, send()).await;
        }
        let response = match sent_once {
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
        let max_body = self.config.max_body_bytes;
        if is_stream {
            Ok(ChatStream::events(response, sent, deadlines, max_body))
        } else {
            ChatStream::whole(response, sent, deadlines, max_body).await
        }
    }

    /// One request, its stream folded into a completion. A failure keeps
    /// what arrived before it.
    async fn chat_once(&self, request: &ChatRequest) -> Result<Completion, ChatFailure> {
        let mut stream = self.stream(request).await?;
        let mut completion = Completion::default();
        let mut done = false;
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => match &event.chunk {
                    Some(chunk) => completion.absorb(chunk, event.at),
                    None => done = true,
                },
                Err(mut failure) => {
                    if stream.events_read() > 0 {
                        completion.finish(stream.elapsed());
                        failure.partial = Some(Box::new(completion));
                    }
                    return Err(failure);
                }
            }
        }
        completion.finish(stream.elapsed());
        // A server that sent one JSON body has said all it will.
        if !done && completion.finish_reason.is_none() {
            return Err(ChatFailure {
                partial: Some(Box::new(completion)),
                ..ChatFailure::new(
                    FailureClass::StreamDropped,
                    "the stream ended before the server finished",
                )
            });
        }
        Ok(completion)
    }
}

/// The send failed because the pooled connection it went out on was closed
/// by the server before any answer: hyper's own words for that case.
fn is_stale_connection(error: &reqwest::Error) -> bool {
    error.is_request() && error_chain(error).contains("connection closed before message completed")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

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
        // A clone keeps the speed it was cloned with, and its own after.
        let clone = client.clone();
        *client.measured_tps.lock().unwrap() = Some(4000.0);
        assert_eq!(clone.measured_tps(), Some(40.0));
    }
}
