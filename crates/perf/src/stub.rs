//! `fuelbench perf stub`: an OpenAI-compatible streaming server with known
//! timings, to measure the load generator itself. It answers every chat
//! with a role-only chunk at once, the first token after `ttft`, then
//! `tokens_per_chunk` tokens a chunk at `tokens_per_s`, `max_tokens` in
//! all, then usage and `[DONE]`. Every send time is fixed from the request's
//! arrival, so the stub's own delays do not accumulate. It speaks plain
//! HTTP/1.1 with keep-alive and chunked bodies, and nothing more.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// The stub's timings, the same for every chat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StubConfig {
    /// From a request's arrival to its first content chunk; the role-only chunk
    /// goes at once.
    pub ttft: Duration,
    /// Output tokens per second after the first chunk; must be positive, or
    /// [`StubConfig::chunk_gap`] panics.
    pub tokens_per_s: f64,
    /// Tokens in each content chunk (0 counts as 1); the last may hold fewer.
    pub tokens_per_chunk: u32,
}

impl StubConfig {
    /// The gap between chunks.
    pub fn chunk_gap(&self) -> Duration {
        Duration::from_secs_f64(f64::from(self.tokens_per_chunk.max(1)) / self.tokens_per_s)
    }
}

/// Serves the stub on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    config: StubConfig,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection(stream, config));
                }
            }
            () = &mut shutdown => return,
        }
    }
}

/// Requests on one keep-alive connection, one after another.
async fn connection(stream: TcpStream, config: StubConfig) -> std::io::Result<()> {
    let mut stream = BufStream::new(stream);
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        let mut length = 0usize;
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await?;
        let arrived = Instant::now();
        match (method.as_str(), path.as_str()) {
            ("POST", "/v1/chat/completions") => {
                let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let tokens = request["max_tokens"].as_u64().unwrap_or(16).max(1);
                chat(&mut stream, config, tokens, arrived).await?;
            }
            ("GET", "/v1/models") => {
                let body =
                    json!({ "object": "list", "data": [{ "id": "stub", "object": "model" }] });
                whole(&mut stream, 200, &body.to_string()).await?;
            }
            _ => {
                whole(
                    &mut stream,
                    404,
                    r#"{"error":{"code":404,"message":"no such route"}}"#,
                )
                .await?
            }
        }
    }
}

async fn whole(stream: &mut BufStream<TcpStream>, status: u16, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.flush().await
}

/// One SSE event as one chunk of a chunked body, sent now.
async fn event(stream: &mut BufStream<TcpStream>, data: &str) -> std::io::Result<()> {
    let text = format!("data: {data}\n\n");
    let chunk = format!("{:x}\r\n{text}\r\n", text.len());
    stream.write_all(chunk.as_bytes()).await?;
    stream.flush().await
}

/// Waits until `due` to well under a millisecond: tokio's timer wakes on
/// its next millisecond tick, which would add up to a millisecond to the
/// stub's TTFT and be charged to the client it measures. The last stretch
/// yields to the other streams instead of sleeping.
async fn until_exactly(due: Instant) {
    let coarse = due.checked_sub(Duration::from_millis(1)).unwrap_or(due);
    tokio::time::sleep_until(coarse).await;
    while Instant::now() < due {
        tokio::task::yield_now().await;
    }
}

async fn chat(
    stream: &mut BufStream<TcpStream>,
    config: StubConfig,
    tokens: u64,
    arrived: Instant,
) -> std::io::Result<()> {
    stream
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await?;
    let delta = |delta: Value, finish: Value| {
        json!({ "object": "chat.completion.chunk", "model": "stub",
                "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] })
        .to_string()
    };
    event(stream, &delta(json!({ "role": "assistant" }), Value::Null)).await?;
    let per_chunk = u64::from(config.tokens_per_chunk.max(1));
    let gap = config.chunk_gap();
    let mut sent = 0u64;
    let mut index = 0u32;
    while sent < tokens {
        let count = per_chunk.min(tokens - sent);
        let due = arrived + config.ttft + gap * index;
        if index == 0 {
            until_exactly(due).await;
        } else {
            tokio::time::sleep_until(due).await;
        }
        let text = " tok".repeat(count as usize);
        event(stream, &delta(json!({ "content": text }), Value::Null)).await?;
        sent += count;
        index += 1;
    }
    event(stream, &delta(json!({}), json!("length"))).await?;
    let usage = json!({ "object": "chat.completion.chunk", "model": "stub", "choices": [],
        "usage": { "prompt_tokens": 8, "completion_tokens": tokens, "total_tokens": tokens + 8 } });
    event(stream, &usage.to_string()).await?;
    event(stream, "[DONE]").await?;
    stream.write_all(b"0\r\n\r\n").await?;
    stream.flush().await
}
